# lib/codec: the fax image codec (T.4/T.6 coder, TIFF-FX, JBIG via jbigkit, conversions,
# capability matching). Sits on lib/mail (featureset) and lib/util.
CODEC_LDLIBS := -ltiff -ljbig -lseccomp $(call pc_libs,freetype2) $(call pc_libs,poppler-glib) -lpng -ljpeg -lm
CODEC_CFLAGS := $(call pc_cflags,freetype2) $(call pc_cflags,poppler-glib)
$(eval $(call LIBRARY,codec,$(wildcard lib/codec/*.c),$(CODEC_CFLAGS)))
UNIT_EXTRA_LIBS += codec
UNIT_EXTRA_LDLIBS += $(CODEC_LDLIBS)
