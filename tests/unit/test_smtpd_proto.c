/*
 * test_smtpd_proto.c - unit tests for smtpd's protocol engine (smtpd/smtpd_proto.c),
 * its CONNEG reply lines, base64 and the relay/network checks. The engine is fed
 * bytes exactly as a client would send them; the hooks keep the "queue" in memory.
 * (Linked through UNIT_EXTRA_LIBS += smtpdproto, see smtpd/module.mk.)
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../smtpd/smtpd_check.h"
#include "../../smtpd/smtpd_proto.h"
#include "util/buf.h"

/* --- the fake world ------------------------------------------------------------- */

static smtpd_conf conf;
static smtpd_hooks hooks;
static smtpd_domains local_d, fax_d;
static buf stored;		/* content of the last message being written */
static int commits;		/* messages that reached SMTPD_ACT_COMMIT */
static int begins;
static char committed[8][1 << 16];
static const char *caps_expr = "(& (image-coding=[MH,MR,MMR]) (paper-size=A4))";

static int t_rcpt_check(smtpd_sess *s, const addr_path *p, buf *reply)
{
	return smtpd_relay_check(p, &local_d, &fax_d, s->client_trusted || s->auth_user, reply);
}

static int t_caps(smtpd_sess *s, const addr_path *p, buf *out)
{
	(void)s;
	if (strncmp(p->addr, "fax", 3) != 0 && strncmp(p->addr, "FAX=", 4) != 0)
		return 0;
	buf_append_str(out, caps_expr);
	return 1;
}

static int t_auth(smtpd_sess *s, const char *user, const char *pass)
{
	(void)s;
	if (strcmp(user, "tempfail") == 0)
		return -1;
	if (strcmp(user, "slow") == 0)
		return SMTPD_AUTH_PENDING;
	return strcmp(user, "alice") == 0 && strcmp(pass, "secret") == 0;
}

static int t_begin(smtpd_sess *s, buf *reply)
{
	(void)reply;
	begins++;
	snprintf(s->queue_id, sizeof(s->queue_id), "TESTID%06d", begins);
	s->msg = &stored;
	buf_reset(&stored);
	return 0;
}

static int t_write(smtpd_sess *s, const char *p, size_t n)
{
	(void)s;
	return buf_append(&stored, p, n);
}

static void t_abort(smtpd_sess *s)
{
	s->msg = NULL;
}

static void setup(void)
{
	static char *local[] = { "faxpost.test", "localhost" };

	memset(&conf, 0, sizeof(conf));
	conf.myhostname = "faxpost.test";
	conf.banner = "faxpost.test ESMTP faxpost";
	conf.message_size_limit = 100000;
	conf.recipient_limit = 5;
	conf.hard_error_limit = 20;
	conf.junk_command_limit = 100;
	conf.auth_failure_limit = 3;
	conf.auth_failure_delay_ms = 1000;
	conf.line_policy = SMTPD_LINES_NORMALIZE;
	conf.tls_level = SMTPD_TLS_MAY;
	conf.sasl_enable = 1;
	conf.conneg_enable = 1;
	conf.conneg_style = SMTPD_CONNEG_RFC4141;
	conf.forbid_unauth_pipelining = 1;
	conf.hopcount_limit = 50;
	hooks.rcpt_check = t_rcpt_check;
	hooks.caps_lookup = t_caps;
	hooks.auth_check = t_auth;
	hooks.msg_begin = t_begin;
	hooks.msg_write = t_write;
	hooks.msg_abort = t_abort;
	smtpd_domains_set(&local_d, local, 2);
	smtpd_domains_set(&fax_d, local, 1);
	buf_init(&stored, 0);
	commits = begins = 0;
}

static void teardown(void)
{
	smtpd_domains_free(&local_d);
	smtpd_domains_free(&fax_d);
	buf_free(&stored);
}

static int last_act;
static buf replies;

/* Feed input, run the engine as the I/O layer would (commit succeeds at once, a TLS
 * handshake succeeds at once, pauses end at once); return every reply since the last
 * call. */
static const char *talk_n(smtpd_sess *s, const char *in, size_t n)
{
	buf_reset(&replies);
	if (n)
		ck_assert_int_eq(smtpd_proto_feed(s, in, n), 0);
	for (;;) {
		last_act = smtpd_proto_run(s);
		if (last_act == SMTPD_ACT_COMMIT) {
			buf tail;

			smtpd_proto_take_content(s, &tail);
			buf_append(&stored, tail.data, tail.len);
			buf_free(&tail);
			if (commits < 8) {
				size_t k, n2 = stored.len < sizeof(committed[0]) - 1 ?
					       stored.len : sizeof(committed[0]) - 1;

				memcpy(committed[commits], stored.data, n2);
				committed[commits][n2] = 0;
				for (k = 0; k < n2; k++)	/* NUL kept by normalize: visible */
					if (committed[commits][k] == 0)
						committed[commits][k] = '0';
			}
			commits++;
			s->msg = NULL;
			smtpd_proto_commit_done(s, 1);
			continue;
		}
		if (last_act == SMTPD_ACT_STARTTLS) {
			buf_append(&replies, s->out.data, s->out.len);
			buf_reset(&s->out);
			smtpd_proto_tls_started(s, "TLSv1.3 with cipher TEST");
			continue;
		}
		if (last_act == SMTPD_ACT_PAUSE)
			continue;
		break;
	}
	buf_append(&replies, s->out.data, s->out.len);
	buf_reset(&s->out);
	return buf_str(&replies);
}

static const char *talk(smtpd_sess *s, const char *in)
{
	return talk_n(s, in, strlen(in));
}

static void open_sess(smtpd_sess *s, int trusted)
{
	buf_init(&replies, 0);
	smtpd_sess_init(s, &conf, &hooks, "client.test", "192.0.2.1", trusted);
	smtpd_proto_greet(s);
	ck_assert_str_eq(talk(s, ""), "220 faxpost.test ESMTP faxpost\r\n");
}

/* EHLO, then MAIL RCPT DATA pipelined. */
static void begin_data(smtpd_sess *s)
{
	talk(s, "EHLO c.test\r\n");
	ck_assert_str_eq(talk(s, "MAIL FROM:<a@b.c>\r\nRCPT TO:<x@faxpost.test>\r\nDATA\r\n"),
			 "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
}

static void close_sess(smtpd_sess *s)
{
	smtpd_sess_free(s);
	buf_free(&replies);
}

#define EXPECT_PREFIX(got, want) \
	ck_assert_msg(strncmp((got), (want), strlen(want)) == 0, "got [%s], want [%s...]", (got), (want))
#define EXPECT_HAS(got, want) \
	ck_assert_msg(strstr((got), (want)) != NULL, "got [%s], want it to contain [%s]", (got), (want))
#define EXPECT_NOT(got, want) \
	ck_assert_msg(strstr((got), (want)) == NULL, "got [%s], must not contain [%s]", (got), (want))

/* --- basic transaction ---------------------------------------------------------- */

START_TEST(test_transaction)
{
	smtpd_sess s;
	const char *r;

	open_sess(&s, 0);
	r = talk(&s, "EHLO client.test\r\n");
	ck_assert_str_eq(r, "250-faxpost.test\r\n250-PIPELINING\r\n250-SIZE 100000\r\n"
			 "250-STARTTLS\r\n250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n"
			 "250-CONPERM\r\n250 CONNEG\r\n");
	ck_assert_str_eq(talk(&s, "MAIL FROM:<a@example.org> BODY=8BITMIME\r\n"), "250 2.1.0 Ok\r\n");
	ck_assert_str_eq(talk(&s, "RCPT TO:<bob@faxpost.test>\r\n"), "250 2.1.5 Ok\r\n");
	ck_assert_str_eq(talk(&s, "DATA\r\n"), "354 End data with <CR><LF>.<CR><LF>\r\n");
	ck_assert_str_eq(talk(&s, "Subject: hi\r\nMessage-ID: <m1@x>\r\n\r\n..dot\r\nbody\r\n"), "");
	ck_assert_str_eq(talk(&s, ".\r\n"), "250 2.0.0 Ok: queued as TESTID000001\r\n");
	ck_assert_int_eq(commits, 1);
	EXPECT_PREFIX(committed[0], "Received: from client.test (client.test [192.0.2.1])\r\n"
		      "\tby faxpost.test (faxpost) with ESMTP id TESTID000001\r\n\tfor <bob@faxpost.test>;");
	EXPECT_HAS(committed[0], "\r\nSubject: hi\r\nMessage-ID: <m1@x>\r\n\r\n.dot\r\nbody\r\n");
	ck_assert_str_eq(s.message_id, "");	/* reset after the commit */
	ck_assert_str_eq(talk(&s, "QUIT\r\n"), "221 2.0.0 Bye\r\n");
	ck_assert_int_eq(last_act, SMTPD_ACT_CLOSE);
	{
		buf c;

		buf_init(&c, 0);
		smtpd_proto_counts(&s, &c);
		ck_assert_str_eq(buf_str(&c), "ehlo=1 mail=1 rcpt=1 data=1 quit=1 commands=5");
		buf_free(&c);
	}
	close_sess(&s);
}
END_TEST

START_TEST(test_sequence_errors)
{
	smtpd_sess s;

	open_sess(&s, 0);
	ck_assert_str_eq(talk(&s, "MAIL FROM:<a@b.c>\r\n"), "503 5.5.1 Error: send HELO/EHLO first\r\n");
	ck_assert_str_eq(talk(&s, "HELO\r\n"), "501 5.5.4 Syntax: HELO hostname\r\n");
	ck_assert_str_eq(talk(&s, "HELO x.test\r\n"), "250 faxpost.test\r\n");
	ck_assert_str_eq(talk(&s, "RCPT TO:<bob@faxpost.test>\r\n"), "503 5.5.1 Error: need MAIL command\r\n");
	ck_assert_str_eq(talk(&s, "DATA\r\n"), "503 5.5.1 Error: need MAIL command\r\n");
	ck_assert_str_eq(talk(&s, "MAIL FROM:<a@b.c>\r\n"), "250 2.1.0 Ok\r\n");
	ck_assert_str_eq(talk(&s, "MAIL FROM:<a@b.c>\r\n"), "503 5.5.1 Error: nested MAIL command\r\n");
	ck_assert_str_eq(talk(&s, "DATA\r\n"), "503 5.5.1 Error: need RCPT command\r\n");
	ck_assert_str_eq(talk(&s, "BDAT 10 LAST\r\n"), "502 5.5.2 Error: command not recognized\r\n");
	ck_assert_str_eq(talk(&s, "VRFY bob\r\n"), "502 5.5.1 VRFY command is disabled\r\n");
	ck_assert_str_eq(talk(&s, "RSET\r\n"), "250 2.0.0 Ok\r\n");
	ck_assert_str_eq(talk(&s, "MAIL FROM:<> FOO=bar\r\n"), "555 5.5.4 Unsupported option: FOO\r\n");
	ck_assert_str_eq(talk(&s, "GET / HTTP/1.0\r\n"), "221 2.7.0 Error: I can break rules, too. Goodbye.\r\n");
	ck_assert_int_eq(last_act, SMTPD_ACT_CLOSE);
	close_sess(&s);
}
END_TEST

/* --- smuggling ------------------------------------------------------------------ */

static const char *const smuggle[] = {
	"\n.\n", "\n.\r\n", "\r\n.\n", "\r.\r", "\r.\n", "\n.\r", "\r.\r\n", "\r\n.\r",
	"\r\n\x00.\r\n", "\r\n.\x00\r\n",
};

static void smuggle_one(int policy, size_t i)
{
	smtpd_sess s;
	buf in;
	const char *r;

	conf.line_policy = policy;
	commits = begins = 0;
	open_sess(&s, 1);
	begin_data(&s);
	buf_init(&in, 0);
	buf_append_str(&in, "Subject: s\r\n\r\nline one");
	buf_append(&in, smuggle[i], i >= 8 ? 6 : strlen(smuggle[i]));
	buf_append_str(&in, "MAIL FROM:<evil@x>\r\nRCPT TO:<v@faxpost.test>\r\nDATA\r\nsmuggled\r\n.\r\n");
	r = talk_n(&s, in.data, in.len);
	if (policy == SMTPD_LINES_NORMALIZE) {
		ck_assert_msg(commits == 1, "variant %zu: %d messages", i, commits);
		ck_assert_str_eq(r, "250 2.0.0 Ok: queued as TESTID000001\r\n");
		EXPECT_HAS(committed[0], "smuggled\r\n");
		EXPECT_HAS(committed[0], "MAIL FROM:<evil@x>");
		/* stored content has only CRLF line ends */
		{
			const char *p;

			for (p = committed[0]; (p = strchr(p, '\n')) != NULL; p++)
				ck_assert_msg(p > committed[0] && p[-1] == '\r', "bare LF stored, variant %zu", i);
			for (p = committed[0]; (p = strchr(p, '\r')) != NULL; p++)
				ck_assert_msg(p[1] == '\n', "bare CR stored, variant %zu", i);
		}
	} else {
		ck_assert_msg(commits == 0, "variant %zu: %d messages", i, commits);
		ck_assert_msg(strncmp(r, "550 5.", 6) == 0, "variant %zu: %s", i, r);
	}
	buf_free(&in);
	close_sess(&s);
}

START_TEST(test_smuggling_normalize)
{
	size_t i;

	for (i = 0; i < sizeof(smuggle) / sizeof(smuggle[0]); i++)
		smuggle_one(SMTPD_LINES_NORMALIZE, i);
}
END_TEST

START_TEST(test_smuggling_reject)
{
	size_t i;

	for (i = 0; i < sizeof(smuggle) / sizeof(smuggle[0]); i++)
		smuggle_one(SMTPD_LINES_REJECT, i);
}
END_TEST

START_TEST(test_eod_split_anywhere)
{
	/* the end of data arriving byte by byte is still found, once */
	smtpd_sess s;
	const char *msg = "Subject: x\r\n\r\nbody\r\n.\r\n";
	size_t i;
	buf all;

	open_sess(&s, 1);
	begin_data(&s);
	buf_init(&all, 0);
	for (i = 0; msg[i]; i++)
		buf_append_str(&all, talk_n(&s, msg + i, 1));
	ck_assert_str_eq(buf_str(&all), "250 2.0.0 Ok: queued as TESTID000001\r\n");
	ck_assert_int_eq(commits, 1);
	buf_free(&all);
	close_sess(&s);
}
END_TEST

START_TEST(test_long_text_line)
{
	smtpd_sess s;
	buf in;
	size_t i;

	open_sess(&s, 1);
	begin_data(&s);
	buf_init(&in, 0);
	buf_append_str(&in, "Subject: long\r\n\r\n.");
	for (i = 0; i < 60000; i++)
		buf_append_char(&in, (char)('a' + i % 26));
	buf_append_str(&in, "\r\n.\r\n");
	for (i = 0; i < in.len; i += 1000)
		talk_n(&s, in.data + i, in.len - i < 1000 ? in.len - i : 1000);
	ck_assert_int_eq(commits, 1);
	ck_assert_uint_eq(strlen(committed[0]) - (size_t)(strstr(committed[0], "Subject") - committed[0]),
			  strlen("Subject: long\r\n\r\n") + 60000 + 2);
	buf_free(&in);
	close_sess(&s);
}
END_TEST

START_TEST(test_helo_no_pipelining)
{
	smtpd_sess s;
	const char *r;

	open_sess(&s, 1);
	ck_assert_str_eq(talk(&s, "HELO c.test\r\n"), "250 faxpost.test\r\n");
	talk(&s, "MAIL FROM:<a@b.c>\r\n");
	talk(&s, "RCPT TO:<x@faxpost.test>\r\n");
	talk(&s, "DATA\r\n");
	r = talk(&s, "hello\r\n.\r\nMAIL FROM:<evil@x>\r\n");
	ck_assert_str_eq(r, "554 5.5.0 Error: SMTP protocol synchronization\r\n");
	ck_assert_int_eq(last_act, SMTPD_ACT_CLOSE);
	ck_assert_int_eq(commits, 0);
	close_sess(&s);

	open_sess(&s, 1);
	r = talk(&s, "HELO c.test\r\nMAIL FROM:<a@b.c>\r\n");
	ck_assert_str_eq(r, "554 5.5.0 Error: SMTP protocol synchronization\r\n");
	close_sess(&s);

	open_sess(&s, 1);	/* EHLO must end its group too */
	r = talk(&s, "EHLO c.test\r\nMAIL FROM:<a@b.c>\r\n");
	ck_assert_str_eq(r, "554 5.5.0 Error: SMTP protocol synchronization\r\n");
	close_sess(&s);

	open_sess(&s, 1);	/* DATA is a synchronization point */
	talk(&s, "EHLO c.test\r\n");
	r = talk(&s, "MAIL FROM:<a@b.c>\r\nRCPT TO:<x@faxpost.test>\r\nDATA\r\nSubject: early\r\n");
	ck_assert_str_eq(r, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n554 5.5.0 Error: SMTP protocol synchronization\r\n");
	close_sess(&s);

	open_sess(&s, 1);	/* with PIPELINING: MAIL RCPT DATA in one go, QUIT after the dot */
	talk(&s, "EHLO c.test\r\n");
	r = talk(&s, "MAIL FROM:<a@b.c>\r\nRCPT TO:<x@faxpost.test>\r\nRCPT TO:<y@faxpost.test>\r\nDATA\r\n");
	ck_assert_str_eq(r, "250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n");
	r = talk(&s, "x\r\n.\r\nQUIT\r\n");
	EXPECT_PREFIX(r, "250 2.0.0 Ok: queued as TESTID");
	EXPECT_HAS(r, "\r\n221 2.0.0 Bye\r\n");
	close_sess(&s);
}
END_TEST

/* --- STARTTLS and AUTH ------------------------------------------------------- */

START_TEST(test_starttls)
{
	smtpd_sess s;
	const char *r;

	open_sess(&s, 0);
	talk(&s, "EHLO c.test\r\n");
	ck_assert_str_eq(talk(&s, "STARTTLS foo\r\n"), "501 5.5.4 Syntax: STARTTLS\r\n");
	r = talk(&s, "STARTTLS\r\nRSET\r\n");
	/* the 220, then nothing for the injected RSET */
	ck_assert_str_eq(r, "220 2.0.0 Ready to start TLS\r\n");
	ck_assert_int_eq(s.tls, 1);
	ck_assert_str_eq(talk(&s, "NOOP\r\n"), "250 2.0.0 Ok\r\n");
	ck_assert_str_eq(talk(&s, "MAIL FROM:<a@b.c>\r\n"), "503 5.5.1 Error: send HELO/EHLO first\r\n");
	r = talk(&s, "EHLO c.test\r\n");
	EXPECT_NOT(r, "STARTTLS");
	EXPECT_HAS(r, "250-AUTH PLAIN LOGIN\r\n");
	ck_assert_str_eq(talk(&s, "STARTTLS\r\n"), "554 5.5.1 Error: TLS already active\r\n");
	close_sess(&s);

	conf.tls_level = SMTPD_TLS_NONE;
	open_sess(&s, 0);
	r = talk(&s, "EHLO c.test\r\n");
	EXPECT_NOT(r, "STARTTLS");
	ck_assert_str_eq(talk(&s, "STARTTLS\r\n"), "502 5.5.1 Error: command not implemented\r\n");
	close_sess(&s);

	conf.tls_level = SMTPD_TLS_ENCRYPT;
	open_sess(&s, 0);
	talk(&s, "EHLO c.test\r\n");
	ck_assert_str_eq(talk(&s, "MAIL FROM:<a@b.c>\r\n"), "530 5.7.0 Must issue a STARTTLS command first\r\n");
	close_sess(&s);
}
END_TEST

static void tls_session(smtpd_sess *s)
{
	open_sess(s, 0);
	talk(s, "EHLO c.test\r\n");
	talk(s, "STARTTLS\r\n");
	talk(s, "EHLO c.test\r\n");
}

START_TEST(test_auth)
{
	smtpd_sess s;
	char b64[256];

	open_sess(&s, 0);
	talk(&s, "EHLO c.test\r\n");
	ck_assert_str_eq(talk(&s, "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"),
			 "538 5.7.11 Encryption required for requested authentication mechanism\r\n");
	close_sess(&s);

	tls_session(&s);
	ck_assert_str_eq(talk(&s, "AUTH CRAM-MD5\r\n"), "504 5.5.4 Unsupported authentication mechanism\r\n");
	ck_assert_str_eq(talk(&s, "AUTH PLAIN !!!!\r\n"), "501 5.5.2 Cannot decode response\r\n");
	ck_assert_str_eq(talk(&s, "AUTH PLAIN\r\n"), "334 \r\n");
	ck_assert_str_eq(talk(&s, "*\r\n"), "501 5.7.0 Authentication aborted\r\n");
	/* "\0alice\0secret" */
	ck_assert_str_eq(talk(&s, "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"), "235 2.7.0 Authentication successful\r\n");
	ck_assert_str_eq(s.auth_user, "alice");
	ck_assert_str_eq(talk(&s, "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"), "503 5.5.1 Error: already authenticated\r\n");
	/* authenticated: relaying allowed */
	talk(&s, "MAIL FROM:<alice@faxpost.test>\r\n");
	ck_assert_str_eq(talk(&s, "RCPT TO:<x@elsewhere.example>\r\n"), "250 2.1.5 Ok\r\n");
	close_sess(&s);

	tls_session(&s);	/* LOGIN */
	ck_assert_str_eq(talk(&s, "AUTH LOGIN\r\n"), "334 VXNlcm5hbWU6\r\n");
	smtpd_b64_encode("alice", 5, b64, sizeof(b64));
	ck_assert_str_eq(b64, "YWxpY2U=");
	ck_assert_str_eq(talk(&s, "YWxpY2U=\r\n"), "334 UGFzc3dvcmQ6\r\n");
	ck_assert_str_eq(talk(&s, "c2VjcmV0\r\n"), "235 2.7.0 Authentication successful\r\n");
	close_sess(&s);

	tls_session(&s);	/* three failures: 535, 535, 421 */
	ck_assert_str_eq(talk(&s, "AUTH PLAIN AGFsaWNlAHdyb25n\r\n"), "535 5.7.8 Error: authentication failed\r\n");
	ck_assert_int_eq(s.pause_ms, 1000);
	ck_assert_str_eq(talk(&s, "AUTH PLAIN AGFsaWNlAHdyb25n\r\n"), "535 5.7.8 Error: authentication failed\r\n");
	ck_assert_str_eq(talk(&s, "AUTH PLAIN AGFsaWNlAHdyb25n\r\n"), "421 4.7.0 faxpost.test Error: too many errors\r\n");
	ck_assert_int_eq(last_act, SMTPD_ACT_CLOSE);
	close_sess(&s);

	tls_session(&s);	/* authzid must be the user; temporary failures; long lines */
	/* "bob\0alice\0secret" */
	ck_assert_str_eq(talk(&s, "AUTH PLAIN Ym9iAGFsaWNlAHNlY3JldA==\r\n"), "535 5.7.8 Error: authentication failed\r\n");
	/* "\0tempfail\0x" */
	ck_assert_str_eq(talk(&s, "AUTH PLAIN AHRlbXBmYWlsAHg=\r\n"), "454 4.7.0 Temporary authentication failure\r\n");
	{
		buf big;

		buf_init(&big, 0);
		buf_append_str(&big, "AUTH PLAIN ");
		while (big.len < 20000)
			buf_append_str(&big, "QUFB");
		buf_append_str(&big, "\r\n");
		ck_assert_str_eq(talk(&s, buf_str(&big)),
				 "500 5.5.6 Authentication Exchange line is too long\r\n");
		ck_assert_int_eq(last_act, SMTPD_ACT_READ);
		buf_free(&big);
	}
	close_sess(&s);

	tls_session(&s);	/* mechanism A, cancel, mechanism B, many times (CVE-2011-1720 shape) */
	{
		int i;

		for (i = 0; i < 5; i++) {
			ck_assert_str_eq(talk(&s, "AUTH LOGIN\r\n"), "334 VXNlcm5hbWU6\r\n");
			ck_assert_str_eq(talk(&s, "*\r\n"), "501 5.7.0 Authentication aborted\r\n");
			ck_assert_str_eq(talk(&s, "AUTH PLAIN\r\n"), "334 \r\n");
			ck_assert_str_eq(talk(&s, "*\r\n"), "501 5.7.0 Authentication aborted\r\n");
		}
	}
	close_sess(&s);

	tls_session(&s);	/* AUTH inside a transaction */
	talk(&s, "MAIL FROM:<a@b.c>\r\n");
	ck_assert_str_eq(talk(&s, "AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n"), "503 5.5.1 Error: MAIL transaction in progress\r\n");
	close_sess(&s);
}
END_TEST

START_TEST(test_auth_pending)
{
	smtpd_sess s;

	tls_session(&s);
	/* "\0slow\0pw": the check goes to a thread; input waits meanwhile */
	ck_assert_str_eq(talk(&s, "AUTH PLAIN AHNsb3cAcHc=\r\nNOOP\r\n"), "");
	ck_assert_int_eq(last_act, SMTPD_ACT_AUTH);
	ck_assert_str_eq(talk(&s, ""), "");
	ck_assert_int_eq(smtpd_proto_auth_done(&s, 1), SMTPD_ACT_READ);
	ck_assert_str_eq(s.auth_user, "slow");
	ck_assert_str_eq(s.auth_method, "PLAIN");
	ck_assert_str_eq(talk(&s, ""), "235 2.7.0 Authentication successful\r\n250 2.0.0 Ok\r\n");
	close_sess(&s);

	tls_session(&s);	/* LOGIN, failing later */
	talk(&s, "AUTH LOGIN c2xvdw==\r\n");
	ck_assert_str_eq(talk(&s, "cHc=\r\n"), "");
	ck_assert_int_eq(last_act, SMTPD_ACT_AUTH);
	ck_assert_int_eq(smtpd_proto_auth_done(&s, 0), SMTPD_ACT_PAUSE);
	ck_assert_str_eq(talk(&s, ""), "535 5.7.8 Error: authentication failed\r\n");
	ck_assert_ptr_null(s.auth_user);
	close_sess(&s);
}
END_TEST

START_TEST(test_b64)
{
	char out[64];

	ck_assert_int_eq(smtpd_b64_decode("", 0, out, sizeof(out)), 0);
	ck_assert_int_eq(smtpd_b64_decode("YQ==", 4, out, sizeof(out)), 1);
	ck_assert_int_eq(smtpd_b64_decode("YWI=", 4, out, sizeof(out)), 2);
	ck_assert_int_eq(smtpd_b64_decode("YWJj", 4, out, sizeof(out)), 3);
	ck_assert_int_eq(smtpd_b64_decode("=", 1, out, sizeof(out)), -1);
	ck_assert_int_eq(smtpd_b64_decode("====", 4, out, sizeof(out)), -1);
	ck_assert_int_eq(smtpd_b64_decode("a===", 4, out, sizeof(out)), -1);
	ck_assert_int_eq(smtpd_b64_decode("YQ==YQ==", 8, out, sizeof(out)), -1);
	ck_assert_int_eq(smtpd_b64_decode("Y=Q=", 4, out, sizeof(out)), -1);
	ck_assert_int_eq(smtpd_b64_decode("YW*j", 4, out, sizeof(out)), -1);
	ck_assert_int_eq(smtpd_b64_decode("YWJjYWJj", 8, out, 5), -1);
}
END_TEST

/* --- relay ---------------------------------------------------------------------- */

START_TEST(test_relay)
{
	static const char *const denied[] = {
		"relaytest@elsewhere.example", "relaytest%elsewhere.example@faxpost.test",
		"\"relaytest@elsewhere.example\"", "\"relaytest%elsewhere.example\"",
		"relaytest@elsewhere.example@faxpost.test",
		"\"relaytest@elsewhere.example\"@faxpost.test",
		"@faxpost.test:relaytest@elsewhere.example", "elsewhere.example!relaytest",
		"elsewhere.example!relaytest@faxpost.test", "relaytest@[127.0.0.1]",
		"FAX=+1555%x@faxpost.test",
	};
	smtpd_sess s;
	char cmd[512];
	size_t i;
	const char *r;

	open_sess(&s, 0);
	talk(&s, "EHLO c.test\r\n");
	talk(&s, "MAIL FROM:<antispam@[192.0.2.9]>\r\n");
	for (i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		snprintf(cmd, sizeof(cmd), "RCPT TO:<%s>\r\n", denied[i]);
		r = talk(&s, cmd);
		ck_assert_msg(strncmp(r, "554 5.7.1 ", 10) == 0 || strncmp(r, "501 5.1.3", 9) == 0 ||
			      strncmp(r, "553 5.1.3", 9) == 0, "%s: %s", denied[i], r);
	}
	ck_assert_str_eq(talk(&s, "RCPT TO:<relaytest@elsewhere.example>\r\n"),
			 "554 5.7.1 <relaytest@elsewhere.example>: Relay access denied\r\n");
	ck_assert_str_eq(talk(&s, "RCPT TO:<postmaster@faxpost.test>\r\n"), "250 2.1.5 Ok\r\n");
	close_sess(&s);

	open_sess(&s, 1);	/* mynetworks */
		talk(&s, "EHLO c.test\r\n");
	talk(&s, "MAIL FROM:<a@b.c>\r\n");
	ck_assert_str_eq(talk(&s, "RCPT TO:<x@elsewhere.example>\r\n"), "250 2.1.5 Ok\r\n");
	close_sess(&s);
}
END_TEST

START_TEST(test_nets)
{
	smtpd_nets n;
	char *items[] = { "127.0.0.0/8", "[::1]/128", "192.0.2.7", "2001:db8::/32" };
	char *bad[] = { "300.1.1.1/8" };
	char why[256];

	ck_assert_int_eq(smtpd_nets_parse(&n, items, 4, why, sizeof(why)), 0);
	ck_assert(smtpd_nets_match(&n, "127.1.2.3"));
	ck_assert(smtpd_nets_match(&n, "::1"));
	ck_assert(smtpd_nets_match(&n, "::ffff:127.0.0.1"));
	ck_assert(smtpd_nets_match(&n, "192.0.2.7"));
	ck_assert(!smtpd_nets_match(&n, "192.0.2.8"));
	ck_assert(smtpd_nets_match(&n, "2001:db8:1::5"));
	ck_assert(!smtpd_nets_match(&n, "2001:db9::5"));
	ck_assert(!smtpd_nets_match(&n, "garbage"));
	smtpd_nets_free(&n);
	ck_assert_int_eq(smtpd_nets_parse(&n, bad, 1, why, sizeof(why)), -1);
	smtpd_nets_free(&n);
}
END_TEST

/* --- CONNEG --------------------------------------------------------------------- */

START_TEST(test_conneg_reply)
{
	smtpd_sess s;
	const char *r;

	open_sess(&s, 1);
	talk(&s, "EHLO c.test\r\n");
	ck_assert_str_eq(talk(&s, "MAIL FROM:<a@b.c> CONPERM\r\n"), "250 2.1.0 Ok\r\n");
	ck_assert_int_eq(s.conperm, 1);
	r = talk(&s, "RCPT TO:<FAX=+4930123@faxpost.test> CONNEG\r\n");
	ck_assert_str_eq(r, "250-2.1.5 Ok\r\n"
			 "250 CONNEG (& (image-coding=[MH,MR,MMR]) (paper-size=A4))\r\n");
	ck_assert_str_eq(s.rcpt[0].conneg, caps_expr);
	/* no capabilities known: a plain 250 */
	ck_assert_str_eq(talk(&s, "RCPT TO:<bob@faxpost.test> CONNEG\r\n"), "250 2.1.5 Ok\r\n");
	/* CONNEG not asked: plain 250 even when known */
	ck_assert_str_eq(talk(&s, "RCPT TO:<fax2@faxpost.test>\r\n"), "250 2.1.5 Ok\r\n");
	ck_assert_str_eq(talk(&s, "RCPT TO:<fax3@faxpost.test> CONNEG=x\r\n"),
			 "501 5.5.4 Bad CONNEG parameter syntax\r\n");
	close_sess(&s);

	conf.conneg_style = SMTPD_CONNEG_DRAFT;
	open_sess(&s, 1);
		talk(&s, "EHLO c.test\r\n");
	talk(&s, "MAIL FROM:<a@b.c>\r\n");
	r = talk(&s, "RCPT TO:<fax@faxpost.test> CONNEG\r\n");
	ck_assert_str_eq(r, "250-2.1.5 Ok\r\n250 (& (image-coding=[MH,MR,MMR]) (paper-size=A4))\r\n");
	close_sess(&s);

	conf.conneg_enable = 0;
	open_sess(&s, 1);
	r = talk(&s, "EHLO c.test\r\n");
	EXPECT_NOT(r, "CONNEG");
	talk(&s, "MAIL FROM:<a@b.c>\r\n");
	ck_assert_str_eq(talk(&s, "RCPT TO:<fax@faxpost.test> CONNEG\r\n"),
			 "504 5.5.4 CONNEG parameter not supported\r\n");
	ck_assert_str_eq(talk(&s, "RSET\r\n"), "250 2.0.0 Ok\r\n");
	ck_assert_str_eq(talk(&s, "MAIL FROM:<a@b.c> CONPERM\r\n"), "504 5.5.4 CONPERM parameter not supported\r\n");
	close_sess(&s);
}
END_TEST

/* Lines of a long expression: each < 512 octets, broken only between tokens, and the
 * chunks joined with spaces give back the expression (modulo white space). */
START_TEST(test_conneg_lines)
{
	static const char *expr =
		"(& (image-file-structure=TIFF-minimal) (MRC-mode=0) (color=Binary) "
		"(| (& (dpi=204) (dpi-xyratio=[204/98,204/196])) (& (dpi=200) (dpi-xyratio=[200/100,1]))) "
		"(image-coding=[MH,MR,MMR]) (size-x<=2150/254) (paper-size=[letter,A4]) "
		"(x-quoted=\"a b c d e f g h i j k l m n o p q r s t u v w x y z 0 1 2 3 4 5 6 7 8 9 a b\") "
		"(ua-media=stationery))";
	buf out, joined;
	const char *p, *nl;
	int lines = 0, last_seen = 0;

	buf_init(&out, 0);
	buf_init(&joined, 0);
	smtpd_conneg_reply(&out, "2.1.5 Ok", expr, SMTPD_CONNEG_RFC4141);
	p = buf_str(&out);
	ck_assert(strncmp(p, "250-2.1.5 Ok\r\n", 14) == 0);
	p += 14;
	for (; *p; p = nl + 2) {
		nl = strstr(p, "\r\n");
		ck_assert_ptr_nonnull(nl);
		ck_assert_int_lt(nl - p + 2, 512);
		ck_assert(strncmp(p, "250-CONNEG ", 11) == 0 || strncmp(p, "250 CONNEG ", 11) == 0);
		ck_assert(!last_seen);
		last_seen = p[3] == ' ';
		if (joined.len)
			buf_append_char(&joined, ' ');
		buf_append(&joined, p + 11, (size_t)(nl - p - 11));
		lines++;
	}
	ck_assert(last_seen);
	ck_assert_int_gt(lines, 3);
	/* white space normalised: same tokens */
	{
		char a[2048], b[2048];
		size_t i, j;

		for (i = j = 0; expr[i]; i++)
			if (expr[i] != ' ')
				a[j++] = expr[i];
		a[j] = 0;
		for (i = j = 0; joined.data[i]; i++)
			if (joined.data[i] != ' ')
				b[j++] = joined.data[i];
		b[j] = 0;
		ck_assert_str_eq(a, b);
		/* the quoted string kept its spaces */
		ck_assert_ptr_nonnull(strstr(buf_str(&joined), "\"a b c d e f g h"));
	}
	buf_free(&out);
	buf_free(&joined);
}
END_TEST

/* --- limits --------------------------------------------------------------------- */

START_TEST(test_limits)
{
	smtpd_sess s;
	char line[4096];
	int i;

	open_sess(&s, 1);
	talk(&s, "EHLO c.test\r\n");
	/* NOOP + 506 x + CRLF = 512 octets: accepted */
	memset(line, 0, sizeof(line));
	memcpy(line, "NOOP ", 5);
	memset(line + 5, 'x', 505);
	memcpy(line + 510, "\r\n", 2);
	ck_assert_str_eq(talk(&s, line), "250 2.0.0 Ok\r\n");
	memset(line + 5, 'x', 506);
	memcpy(line + 511, "\r\n", 3);
	ck_assert_str_eq(talk(&s, line), "500 5.5.2 Error: line too long\r\n");
	/* SIZE */
	ck_assert_str_eq(talk(&s, "MAIL FROM:<a@b.c> SIZE=999999999999\r\n"),
			 "552 5.3.4 Message size exceeds fixed limit\r\n");
	ck_assert_str_eq(talk(&s, "MAIL FROM:<a@b.c> SIZE=1000\r\n"), "250 2.1.0 Ok\r\n");
	for (i = 0; i < 5; i++)
		ck_assert_str_eq(talk(&s, "RCPT TO:<x@faxpost.test>\r\n"), "250 2.1.5 Ok\r\n");
	ck_assert_str_eq(talk(&s, "RCPT TO:<x@faxpost.test>\r\n"), "452 4.5.3 Error: too many recipients\r\n");
	ck_assert_str_eq(talk(&s, "DATA\r\n"), "354 End data with <CR><LF>.<CR><LF>\r\n");
	memset(line, 'y', 998);
	memcpy(line + 998, "\r\n", 3);
	for (i = 0; i < 120; i++)
		ck_assert_str_eq(talk(&s, line), "");
	ck_assert_str_eq(talk(&s, ".\r\n"), "552 5.3.4 Error: message file too big\r\n");
	ck_assert_int_eq(commits, 0);
	/* a command line with NUL and one with a bare CR */
	ck_assert_str_eq(talk_n(&s, "NOOP a\0b\r\n", 10), "500 5.5.2 Error: bad syntax\r\n");
	ck_assert_str_eq(talk(&s, "EHLO a\rX-Injected: 1\r\n"), "500 5.5.2 Error: bad syntax\r\n");
	close_sess(&s);

	open_sess(&s, 1);	/* 1 MiB without LF: 500 and close */
	{
		static char big[1 << 20];

		memset(big, 'z', sizeof(big));
		ck_assert_int_eq(smtpd_proto_feed(&s, big, SMTPD_LINE_CAP + 100), 0);
		ck_assert_str_eq(talk(&s, ""), "500 5.5.2 Error: line too long\r\n");
		ck_assert_int_eq(last_act, SMTPD_ACT_CLOSE);
	}
	close_sess(&s);
}
END_TEST

START_TEST(test_error_limits)
{
	smtpd_sess s;
	int i;

	open_sess(&s, 1);
	for (i = 0; i < 20; i++)
		ck_assert_str_eq(talk(&s, "FOO\r\n"), "502 5.5.2 Error: command not recognized\r\n");
	ck_assert_str_eq(talk(&s, "FOO\r\n"), "421 4.7.0 faxpost.test Error: too many errors\r\n");
	ck_assert_int_eq(last_act, SMTPD_ACT_CLOSE);
	close_sess(&s);

	open_sess(&s, 1);
	talk(&s, "EHLO c.test\r\n");
	for (i = 0; i < 100; i++)
		ck_assert_str_eq(talk(&s, "NOOP\r\n"), "250 2.0.0 Ok\r\n");
	ck_assert_str_eq(talk(&s, "NOOP\r\n"), "421 4.7.0 faxpost.test Error: too many errors\r\n");
	close_sess(&s);
}
END_TEST

START_TEST(test_hops_and_headers)
{
	smtpd_sess s;
	buf in;
	int i;

	open_sess(&s, 1);
	begin_data(&s);
	buf_init(&in, 0);
	for (i = 0; i < 51; i++)
		buf_printf(&in, "Received: from h%d by h%d\r\n", i, i + 1);
	buf_append_str(&in, "\r\nbody\r\n.\r\n");
	ck_assert_str_eq(talk(&s, buf_str(&in)), "554 5.4.6 Error: too many hops\r\n");
	ck_assert_int_eq(commits, 0);
	/* 50 is fine, and "Received:" in the body does not count */
	talk(&s, "MAIL FROM:<a@b.c>\r\nRCPT TO:<x@faxpost.test>\r\nDATA\r\n");
	buf_reset(&in);
	for (i = 0; i < 50; i++)
		buf_printf(&in, "Received: from h%d by h%d\r\n", i, i + 1);
	buf_append_str(&in, "Message-ID:\r\n <folded@id>\r\n\r\nReceived: x\r\n.\r\n");
	ck_assert_str_eq(talk(&s, buf_str(&in)), "250 2.0.0 Ok: queued as TESTID000002\r\n");
	buf_free(&in);
	close_sess(&s);
}
END_TEST

START_TEST(test_address_checks)
{
	smtpd_sess s;
	const char *r;

	open_sess(&s, 1);
	talk(&s, "EHLO c.test\r\n");
	r = talk(&s, "MAIL FROM:<;sleep 66;>\r\n");
	ck_assert_msg(strncmp(r, "553 5.1.7 ", 10) == 0 || strncmp(r, "501 5.1.7 ", 10) == 0, "%s", r);
	ck_assert_str_eq(talk(&s, "MAIL FROM:<a@b.c>\r\n"), "250 2.1.0 Ok\r\n");
	ck_assert_str_eq(talk(&s, "RCPT TO:<|id@faxpost.test>\r\n"), "553 5.1.3 Bad recipient address syntax\r\n");
	ck_assert_str_eq(talk(&s, "RCPT TO:<`id`@faxpost.test>\r\n"), "553 5.1.3 Bad recipient address syntax\r\n");
	r = talk(&s, "RCPT TO:<$(id)@faxpost.test>\r\n");
	ck_assert_msg(strncmp(r, "553 5.1.3 ", 10) == 0 || strncmp(r, "501 5.1.3 ", 10) == 0, "%s", r);
	ck_assert_str_eq(talk(&s, "RCPT TO:<a@faxpost.test> NOTIFY=NEVER,SUCCESS\r\n"),
			 "501 5.5.4 Bad NOTIFY parameter syntax\r\n");
	ck_assert_str_eq(talk(&s, "RCPT TO:<a@faxpost.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a@faxpost.test\r\n"),
			 "250 2.1.5 Ok\r\n");
	ck_assert_int_eq(s.rcpt[0].notify, 2 | 4);
	ck_assert_str_eq(s.rcpt[0].orcpt, "rfc822;a@faxpost.test");
	EXPECT_PREFIX(talk(&s, "RCPT TO:<a@faxpost.test> ORCPT=rfc822;a+0D+0Ab@c\r\n"), "501 5.5.4");
	ck_assert_str_eq(talk(&s, "RSET\r\n"), "250 2.0.0 Ok\r\n");
	EXPECT_PREFIX(talk(&s, "MAIL FROM:<a@b.c> AUTH=x+0Aspoof\r\n"), "501 5.5.4");
	EXPECT_PREFIX(talk(&s, "MAIL FROM:<a@b.c> ENVID=+0A\r\n"), "501 5.5.4");
	close_sess(&s);
}
END_TEST

START_TEST(test_bare_lf_commands)
{
	smtpd_sess s;

	open_sess(&s, 1);
	ck_assert_str_eq(talk(&s, "HELO c.test\n"), "250 faxpost.test\r\n");
	close_sess(&s);
	conf.line_policy = SMTPD_LINES_REJECT;
	open_sess(&s, 1);
	ck_assert_str_eq(talk(&s, "EHLO c.test\n"), "550 5.5.2 faxpost.test Error: bare <LF> received\r\n");
	close_sess(&s);
}
END_TEST

START_TEST(test_timeout_and_shutdown)
{
	smtpd_sess s;

	open_sess(&s, 1);
		smtpd_proto_timeout(&s);
	ck_assert_str_eq(talk(&s, ""), "421 4.4.2 faxpost.test Error: timeout exceeded\r\n");
	ck_assert_int_eq(last_act, SMTPD_ACT_CLOSE);
	close_sess(&s);

	open_sess(&s, 1);	/* shutdown in the middle of a transaction */
	talk(&s, "EHLO c.test\r\n");
	talk(&s, "MAIL FROM:<a@b.c>\r\n");
	smtpd_proto_shutdown(&s);
	ck_assert_str_eq(talk(&s, "RCPT TO:<x@faxpost.test>\r\n"),
			 "421 4.3.2 faxpost.test Service shutting down, closing transmission channel\r\n");
	ck_assert_int_eq(last_act, SMTPD_ACT_CLOSE);
	close_sess(&s);

	buf_init(&replies, 0);	/* pregreet */
	smtpd_sess_init(&s, &conf, &hooks, "client.test", "192.0.2.1", 0);
	smtpd_proto_pregreet(&s);
	ck_assert_str_eq(talk(&s, "EHLO early\r\n"), "554 5.5.0 Error: SMTP protocol synchronization\r\n");
	ck_assert_int_eq(last_act, SMTPD_ACT_CLOSE);
	close_sess(&s);
}
END_TEST

static Suite *smtpd_suite(void)
{
	Suite *s = suite_create("smtpd_proto");
	TCase *tc = tcase_create("engine");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_transaction);
	tcase_add_test(tc, test_sequence_errors);
	tcase_add_test(tc, test_smuggling_normalize);
	tcase_add_test(tc, test_smuggling_reject);
	tcase_add_test(tc, test_eod_split_anywhere);
	tcase_add_test(tc, test_long_text_line);
	tcase_add_test(tc, test_helo_no_pipelining);
	tcase_add_test(tc, test_starttls);
	tcase_add_test(tc, test_auth);
	tcase_add_test(tc, test_auth_pending);
	tcase_add_test(tc, test_b64);
	tcase_add_test(tc, test_relay);
	tcase_add_test(tc, test_nets);
	tcase_add_test(tc, test_conneg_reply);
	tcase_add_test(tc, test_conneg_lines);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_error_limits);
	tcase_add_test(tc, test_hops_and_headers);
	tcase_add_test(tc, test_address_checks);
	tcase_add_test(tc, test_bare_lf_commands);
	tcase_add_test(tc, test_timeout_and_shutdown);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(smtpd_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
