/*
 * smtpd_proto_auth.c - the STARTTLS and AUTH commands of the SMTP protocol engine.
 *
 * Contract: part of smtpd_proto.c's engine (see smtpd_proto.h): STARTTLS discards
 * plaintext pipelined behind it and waits for the I/O layer's handshake; AUTH PLAIN and
 * LOGIN only inside TLS, the password check done by the hooks (possibly later, through
 * smtpd_proto_auth_done); secrets are wiped after use.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "smtpd_proto.h"
#include "smtpd_proto_int.h"
#include "util/msg.h"

/* --- STARTTLS, AUTH -------------------------------------------------------------- */

int sp_cmd_starttls(smtpd_sess *s, const char *arg)
{
	if (*arg) {
		sp_reply(s, "501 5.5.4 Syntax: STARTTLS");
		return sp_err(s);
	}
	if (s->tls) {
		sp_reply(s, "554 5.5.1 Error: TLS already active");
		return sp_err(s);
	}
	if (s->conf->tls_level == SMTPD_TLS_NONE) {
		sp_reply(s, "502 5.5.1 Error: command not implemented");
		return sp_err(s);
	}
	sp_reply(s, "220 2.0.0 Ready to start TLS");
	/* CVE-2011-0411: nothing received in plaintext may be read as if it came in TLS. */
	if (s->in.len > 0) {
		msg_info("%s: discarding %zu bytes of plaintext pipelined after STARTTLS",
			 s->client, s->in.len);
		buf_reset(&s->in);
	}
	s->state = ST_WAIT_TLS;
	return SMTPD_ACT_STARTTLS;
}

void smtpd_proto_tls_started(smtpd_sess *s, const char *info)
{
	sp_txn_reset(s);
	sp_set_str(&s->helo, NULL);
	s->esmtp = 0;
	s->tls = 1;
	str_copy(s->tls_info, sizeof(s->tls_info), info ? info : "");
	buf_reset(&s->in);
	s->state = ST_CMD;
}

/* The outcome of a credentials check (now, or later from the I/O layer). */
static int auth_finish(smtpd_sess *s, int r, const char *user, const char *mech)
{
	s->state = ST_CMD;
	s->auth_mech = AUTH_NONE;
	if (r > 0) {
		sp_set_str(&s->auth_user, user);
		str_copy(s->auth_method, sizeof(s->auth_method), mech);
		sp_reply(s, "235 2.7.0 Authentication successful");
		s->counts[SC_AUTH][0]++;
		return SMTPD_ACT_READ;
	}
	if (r < 0) {
		sp_reply(s, "454 4.7.0 Temporary authentication failure");
		return sp_err(s);
	}
	msg_warn("%s: SASL %s authentication failed", s->client, mech);
	s->errors++;
	if (++s->auth_failures >= s->conf->auth_failure_limit && s->conf->auth_failure_limit > 0)
		return sp_too_many_errors(s);
	sp_reply(s, "535 5.7.8 Error: authentication failed");
	s->pause_ms = s->conf->auth_failure_delay_ms;
	return s->pause_ms > 0 ? SMTPD_ACT_PAUSE : SMTPD_ACT_READ;
}

static int auth_result(smtpd_sess *s, const char *user, const char *pass, const char *mech)
{
	int r = s->hooks->auth_check ? s->hooks->auth_check(s, user, pass) : 0;

	if (r == SMTPD_AUTH_PENDING) {
		sp_set_str(&s->auth_login_user, user);	/* the name waits here */
		str_copy(s->auth_trying, sizeof(s->auth_trying), mech);
		s->state = ST_WAIT_AUTH;
		return SMTPD_ACT_AUTH;
	}
	return auth_finish(s, r, user, mech);
}

int smtpd_proto_auth_done(smtpd_sess *s, int result)
{
	char *user = s->auth_login_user;
	int act;

	if (s->state != ST_WAIT_AUTH)
		msg_panic("%s: auth_done without a pending check", s->client);
	s->auth_login_user = NULL;
	act = auth_finish(s, result, user ? user : "", s->auth_trying);
	free(user);
	return act;
}

/* PLAIN (RFC 4616): authzid NUL authcid NUL passwd. */
static int auth_plain(smtpd_sess *s, const char *b64)
{
	char dec[SMTPD_AUTH_LINE_MAX];
	const char *authz, *user, *pass, *end;
	long n = smtpd_b64_decode(b64, strlen(b64), dec, sizeof(dec) - 1);

	if (n < 0) {
		s->state = ST_CMD;
		sp_reply(s, "501 5.5.2 Cannot decode response");
		return sp_err(s);
	}
	dec[n] = 0;
	authz = dec;
	end = dec + n;
	user = memchr(authz, 0, (size_t)n);
	pass = user ? memchr(user + 1, 0, (size_t)(end - user - 1)) : NULL;
	if (!user || !pass || memchr(pass + 1, 0, (size_t)(end - pass - 1))) {
		s->state = ST_CMD;
		sp_reply(s, "501 5.5.2 Invalid authentication data");
		return sp_err(s);
	}
	user++;
	pass++;
	{
		/* an authzid other than the user cannot match any hash */
		int act = auth_result(s, user, *authz && strcmp(authz, user) != 0 ? "\001" : pass,
				      "PLAIN");

		explicit_bzero(dec, sizeof(dec));
		return act;
	}
}

static int auth_login_step(smtpd_sess *s, const char *b64)
{
	char dec[1024];
	long n = smtpd_b64_decode(b64, strlen(b64), dec, sizeof(dec) - 1);

	if (n < 0 || memchr(dec, 0, (size_t)n)) {
		s->state = ST_CMD;
		s->auth_mech = AUTH_NONE;
		sp_reply(s, "501 5.5.2 Cannot decode response");
		return sp_err(s);
	}
	dec[n] = 0;
	if (s->auth_mech == AUTH_LOGIN_USER) {
		sp_set_str(&s->auth_login_user, dec);
		s->auth_mech = AUTH_LOGIN_PASS;
		s->state = ST_AUTH;
		sp_reply(s, "334 UGFzc3dvcmQ6");
		return SMTPD_ACT_READ;
	}
	{
		char *user = s->auth_login_user ? s->auth_login_user : xstrdup("");
		int act;

		s->auth_login_user = NULL;
		act = auth_result(s, user, dec, "LOGIN");
		explicit_bzero(dec, sizeof(dec));
		free(user);
		return act;
	}
}

int sp_cmd_auth(smtpd_sess *s, const char *arg)
{
	char mech[32];
	const char *ir;
	size_t n = strcspn(arg, " ");

	if (!s->conf->sasl_enable) {
		sp_reply(s, "503 5.5.1 Error: authentication not enabled");
		return sp_err(s);
	}
	if (!s->tls) {
		sp_reply(s, "538 5.7.11 Encryption required for requested authentication mechanism");
		return sp_err(s);
	}
	if (!s->esmtp) {
		sp_reply(s, "503 5.5.1 Error: send EHLO first");
		return sp_err(s);
	}
	if (s->auth_user) {
		sp_reply(s, "503 5.5.1 Error: already authenticated");
		return sp_err(s);
	}
	if (s->in_mail) {
		sp_reply(s, "503 5.5.1 Error: MAIL transaction in progress");
		return sp_err(s);
	}
	if (n == 0 || n >= sizeof(mech)) {
		sp_reply(s, "501 5.5.4 Syntax: AUTH mechanism");
		return sp_err(s);
	}
	memcpy(mech, arg, n);
	mech[n] = 0;
	ir = arg[n] ? arg + n + 1 : NULL;
	if (strcasecmp(mech, "PLAIN") == 0) {
		if (ir)
			return auth_plain(s, strcmp(ir, "=") == 0 ? "" : ir);
		s->auth_mech = AUTH_PLAIN;
		s->state = ST_AUTH;
		sp_reply(s, "334 ");
		return SMTPD_ACT_READ;
	}
	if (strcasecmp(mech, "LOGIN") == 0) {
		s->auth_mech = AUTH_LOGIN_USER;
		if (ir)
			return auth_login_step(s, ir);
		s->state = ST_AUTH;
		sp_reply(s, "334 VXNlcm5hbWU6");
		return SMTPD_ACT_READ;
	}
	sp_reply(s, "504 5.5.4 Unsupported authentication mechanism");
	return sp_err(s);
}

int sp_auth_continue(smtpd_sess *s, const char *line)
{
	if (strcmp(line, "*") == 0) {
		s->state = ST_CMD;
		s->auth_mech = AUTH_NONE;
		sp_reply(s, "501 5.7.0 Authentication aborted");
		return sp_err(s);
	}
	if (s->auth_mech == AUTH_PLAIN)
		return auth_plain(s, line);
	return auth_login_step(s, line);
}
