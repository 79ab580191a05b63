# discard: the delivery agent that accepts and drops mail (Postfix's discard(8)).
$(eval $(call PROGRAM,discard,libexec,$(wildcard discard/*.c),mail util,$(MAIL_LDLIBS) $(UTIL_LDLIBS)))
