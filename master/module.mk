# master/: the process manager (build/libexec/master).
$(eval $(call PROGRAM,master,libexec,$(wildcard master/*.c),mail util,$(MAIL_LDLIBS) $(UTIL_LDLIBS)))
# A minimal daemon on the skeleton, for tests/integration/test_master.py (not installed).
$(eval $(call PROGRAM,test-echod,libexec-test,master/test/echod.c,mail util,$(MAIL_LDLIBS) $(UTIL_LDLIBS)))
