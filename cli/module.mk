# cli/: the `faxpost` command (build/bin/faxpost). Every cli/*.c is compiled: the
# subcommands are listed in cli/commands.def and defined in cli/cmd_*.c by their owners.
# The codec library is linked when lib/codec/module.mk defined it (libraries come first).
CLI_LIBS := $(if $(codec_LIB),codec) mail util
$(eval $(call PROGRAM,faxpost,bin,$(wildcard cli/*.c),$(CLI_LIBS),$(CODEC_LDLIBS) $(MAIL_LDLIBS) $(UTIL_LDLIBS)))
