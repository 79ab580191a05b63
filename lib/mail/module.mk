# lib/mail: the mail-level library (config, queue, IPC, tables, addresses, feature sets,
# daemon skeleton). Sits on lib/util.
MAIL_LDLIBS := -ldb -lcrypt
$(eval $(call LIBRARY,mail,$(wildcard lib/mail/*.c)))
