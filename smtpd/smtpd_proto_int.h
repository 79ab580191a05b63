/*
 * smtpd_proto_int.h - what the files of the SMTP protocol engine share (smtpd_proto.c,
 * smtpd_proto_auth.c, smtpd_proto_data.c). Not for the rest of smtpd: the contract is
 * smtpd_proto.h.
 */
#ifndef FAXPOST_SMTPD_PROTO_INT_H
#define FAXPOST_SMTPD_PROTO_INT_H

#include "smtpd_proto.h"

enum { ST_CMD, ST_DATA, ST_AUTH, ST_WAIT_COMMIT, ST_WAIT_TLS, ST_WAIT_AUTH, ST_CLOSED };
enum { AUTH_NONE, AUTH_PLAIN, AUTH_LOGIN_USER, AUTH_LOGIN_PASS };

void sp_reply(smtpd_sess *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sp_err(smtpd_sess *s);
int sp_too_many_errors(smtpd_sess *s);
void sp_set_str(char **dst, const char *src);
void sp_txn_reset(smtpd_sess *s);

/* "ESMTP", "ESMTPSA", ... as Postfix logs proto= */
const char *sp_proto_name(const smtpd_sess *s);
/* Postfix's "NOQUEUE: reject: RCPT from host[addr]: 554 ...; from=<> to=<> ..." */
void sp_log_reject(smtpd_sess *s, const char *stage, const char *text, const char *to);

int sp_cmd_data(smtpd_sess *s, const char *arg);
/* Consume DATA text from s->in; 0 while more is wanted. */
int sp_data_run(smtpd_sess *s);
/* After CRLF.CRLF: the reply, or SMTPD_ACT_COMMIT when the message is to be queued. */
int sp_data_end(smtpd_sess *s);

int sp_cmd_starttls(smtpd_sess *s, const char *arg);
int sp_cmd_auth(smtpd_sess *s, const char *arg);
int sp_auth_continue(smtpd_sess *s, const char *line);

#endif
