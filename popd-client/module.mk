# popd-client: fetches mail from POP3 mailboxes into the queue.
$(eval $(call PROGRAM,popd-client,libexec,$(wildcard popd-client/*.c),mail util,$(MAIL_LDLIBS) $(UTIL_LDLIBS)))
