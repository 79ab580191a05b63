# local: the local delivery agent (Maildir mailboxes of the local domains).
$(eval $(call PROGRAM,local,libexec,$(wildcard local/*.c),mail util,$(MAIL_LDLIBS) $(UTIL_LDLIBS)))
