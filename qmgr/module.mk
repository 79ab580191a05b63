# qmgr: the queue manager (one event-driven process). The routing and scheduling
# logic (route.c, sched.c, dsn.c users) is pure and unit-tested by test_qmgr_sched.
$(eval $(call PROGRAM,qmgr,libexec,$(wildcard qmgr/*.c),mail util,$(MAIL_LDLIBS) $(UTIL_LDLIBS) -lresolv))
$(eval $(call UNIT_TEST,test_qmgr_sched,qmgr/test/test_qmgr_sched.c qmgr/route.c qmgr/sched.c lib/mail/dsn.c,util,$(UTIL_LDLIBS)))
