# codecd: the conversion service (IPC_CONVERT): input parts and output as file
# descriptors, each job in a child with rlimits and seccomp (lib/codec/sandbox.c).
$(eval $(call PROGRAM,codecd,libexec,$(wildcard codecd/*.c),codec mail util,$(CODEC_LDLIBS) $(MAIL_LDLIBS) $(UTIL_LDLIBS)))
