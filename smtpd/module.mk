# smtpd: the SMTP server (event server). The protocol engine and the checks are a
# library of their own (smtpdproto) so that tests/unit/test_smtpd_proto.c links them.
SMTPD_ENGINE_SRCS := smtpd/smtpd_proto.c smtpd/smtpd_proto_auth.c smtpd/smtpd_proto_data.c smtpd/smtpd_conneg.c smtpd/smtpd_b64.c smtpd/smtpd_check.c
SMTPD_SRCS := smtpd/smtpd.c smtpd/smtpd_server.c smtpd/smtpd_commit.c smtpd/smtpd_auth.c smtpd/smtpd_peer.c smtpd/smtpd_spare.c smtpd/smtpd_tmplock.c
SMTPD_CFLAGS := $(if $(wildcard lib/mail/featureset.c),-DHAVE_FEATURESET)
$(eval $(call LIBRARY,smtpdproto,$(SMTPD_ENGINE_SRCS)))
$(eval $(call PROGRAM,smtpd,libexec,$(SMTPD_SRCS),smtpdproto mail util,$(MAIL_LDLIBS) $(UTIL_LDLIBS) -lresolv,$(SMTPD_CFLAGS)))
UNIT_EXTRA_LIBS += smtpdproto
