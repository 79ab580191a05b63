# faxd: the fax daemon (T.30 over Class 1). The protocol engine (t30*.c, t4_util.c,
# hdlc.c) and the Class 1 driver are a library of their own so that the unit tests
# drive them without a modem (an in-memory line; a scripted DCE on a socketpair).
FAXD_ENGINE_SRCS := faxd/t30.c faxd/t30_rx.c faxd/t30_dis.c faxd/t4_util.c faxd/hdlc.c faxd/class1.c
FAXD_SRCS := $(filter-out $(FAXD_ENGINE_SRCS),$(wildcard faxd/*.c))
FAXD_LDLIBS := $(call pc_libs,libtiff-4) -ldb
$(eval $(call LIBRARY,faxt30,$(FAXD_ENGINE_SRCS)))
$(eval $(call PROGRAM,faxd,libexec,$(FAXD_SRCS),faxt30 codec mail util,$(FAXD_LDLIBS) $(CODEC_LDLIBS) $(MAIL_LDLIBS) $(UTIL_LDLIBS),$(call pc_cflags,libtiff-4)))
$(eval $(call UNIT_TEST,test_t30,faxd/tests/test_t30.c,faxt30 util,$(UTIL_LDLIBS)))
$(eval $(call UNIT_TEST,test_class1,faxd/tests/test_class1.c,faxt30 util,$(UTIL_LDLIBS)))
