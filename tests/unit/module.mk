# tests/unit: one Check program per tests/unit/test_NAME.c, linked with every library.
# A library with its own module.mk (e.g. lib/codec) adds itself with
# UNIT_EXTRA_LIBS += codec and UNIT_EXTRA_LDLIBS += -ltiff ...
UNIT_ALL_LIBS := $(UNIT_EXTRA_LIBS) mail util
UNIT_ALL_LDLIBS := $(UNIT_EXTRA_LDLIBS) $(MAIL_LDLIBS) $(UTIL_LDLIBS) -lm
$(foreach t,$(wildcard tests/unit/test_*.c),\
  $(eval $(call UNIT_TEST,$(basename $(notdir $(t))),$(t),$(UNIT_ALL_LIBS),$(UNIT_ALL_LDLIBS))))
