# hwd: the hardware daemon (modem lines, scanner, printer). Dial rules and the AT
# response parser are a library of their own (hwdcore) so that unit tests link them.
HWD_CORE_SRCS := hwd/dialrules.c hwd/atparse.c
HWD_SRCS := $(filter-out $(HWD_CORE_SRCS),$(wildcard hwd/*.c))
HWD_LDLIBS := $(call pc_libs,sane-backends) $(call pc_libs,libtiff-4) -lcups
$(eval $(call LIBRARY,hwdcore,$(HWD_CORE_SRCS)))
$(eval $(call UNIT_TEST,test_dialrules,hwd/tests/test_dialrules.c,hwdcore,))
$(eval $(call UNIT_TEST,test_atparse,hwd/tests/test_atparse.c,hwdcore,))
$(eval $(call UNIT_TEST,test_mimepart,hwd/tests/test_mimepart.c,mail util,$(MAIL_LDLIBS) $(UTIL_LDLIBS)))
ifneq ($(HWD_SRCS),)
$(eval $(call PROGRAM,hwd,libexec,$(HWD_SRCS),hwdcore mail util,$(HWD_LDLIBS) $(MAIL_LDLIBS) $(UTIL_LDLIBS),$(call pc_cflags,sane-backends)))
endif
