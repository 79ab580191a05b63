# smtp: the SMTP client delivery agent (relayhost, direct MX, TLS, AUTH, CONNEG).
# reply.c (the reply parser, EHLO and CONNEG readers) is pure and unit-tested.
$(eval $(call PROGRAM,smtp,libexec,$(wildcard smtp/*.c),mail util,$(MAIL_LDLIBS) $(UTIL_LDLIBS) -lresolv))
$(eval $(call UNIT_TEST,test_smtp_reply,smtp/test/test_smtp_reply.c smtp/reply.c smtp/body.c smtp/convert.c,mail util,$(MAIL_LDLIBS) $(UTIL_LDLIBS)))
