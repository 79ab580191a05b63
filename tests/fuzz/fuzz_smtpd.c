/*
 * fuzz_smtpd.c - libFuzzer harness for smtpd's protocol engine (smtpd/smtpd_proto.h)
 * fed the input as client bytes, storing messages in a real queue.
 *
 * FUZZ_LIBS: smtpdproto mail util
 * FUZZ_ARGS: -max_len=40000
 *
 * Input: byte 0 picks settings (bit 0 line policy reject, bit 1 no TLS offered, bit 2
 * no AUTH, bit 3 CONNEG draft style, bit 4 trusted client, bit 5 pipelining allowed,
 * bit 6 no CONNEG, bit 7 end with a shutdown instead of a timeout), byte 1 the size
 * of the pieces the rest is fed in (1..256 bytes, so that every split of a line or of
 * <CR><LF>.<CR><LF> is tried). The engine runs as
 * smtpd's I/O layer runs it: STARTTLS and pauses succeed at once, and a message is
 * stored with the hooks of smtpd.c (qw_create/qw_envelope/qw_content) in a queue
 * under $TMPDIR, committed with qw_commit, read back with qf_open and removed.
 * AUTH PLAIN/LOGIN accepts alice/secret. Oracles besides the sanitizers
 * (security.md 3.2 item 3):
 *  - messages committed == "250 2.0.0 Ok: queued as" replies (the smuggling oracle),
 *    and never more than the lines "." ended by <CR><LF> in the input;
 *  - a committed file opens, holds the recipients accepted, and no envelope string
 *    holds CR, LF or another control character;
 *  - the stored content equals what the engine wrote, and has CR and LF only as CRLF
 *    (bare ones are normalised or the message is refused);
 *  - the engine never stalls: after it asks for input, it takes at least one byte.
 */
#include <fcntl.h>
#include <string.h>

#include "fuzz_util.h"
#include "mail/queue.h"
#include "smtpd/smtpd_check.h"
#include "smtpd/smtpd_proto.h"

static struct {
	char qdir[512];
	smtpd_domains local, fax;
	buf content;		/* what the engine wrote for the current message */
	size_t commits;
} fz;

static int fz_rcpt_check(smtpd_sess *s, const addr_path *p, buf *reply)
{
	return smtpd_relay_check(p, &fz.local, &fz.fax, s->client_trusted || s->auth_user != NULL,
				 reply);
}

static int fz_caps(smtpd_sess *s, const addr_path *p, buf *out)
{
	(void)s;
	if (strncasecmp(p->local, "FAX=", 4) != 0)
		return 0;
	buf_append_str(out, "(& (image-coding=[MH,MR,MMR]) (paper-size=A4))");
	return 1;
}

static int fz_auth(smtpd_sess *s, const char *user, const char *pass)
{
	(void)s;
	if (strcmp(user, "tempfail") == 0)
		return -1;
	return strcmp(user, "alice") == 0 && strcmp(pass, "secret") == 0;
}

/* As smtpd.c's hook_msg_begin. */
static int fz_begin(smtpd_sess *s, buf *reply)
{
	char err[256], name[32];
	qwriter *w = qw_create(fz.qdir, err, sizeof(err));
	qenvelope env;
	int rc = 0;

	if (!w)
		abort();
	str_copy(s->queue_id, sizeof(s->queue_id), qw_id(w));
	qenv_init(&env);
	env.sender = s->sender ? s->sender : (char *)"";
	env.arrival_us = 1700000000000000LL;
	env.origin = (char *)"smtp";
	env.client_name = s->client_name;
	env.client_addr = s->client_addr;
	env.helo = s->helo;
	env.protocol = (char *)(s->esmtp ? "ESMTP" : "SMTP");
	env.auth_user = s->auth_user;
	env.envid = s->envid;
	env.ret = s->ret;
	env.body_8bit = s->body_8bit;
	for (size_t i = 0; i < s->nrcpt && rc == 0; i++) {
		rc = qenv_add_rcpt(&env, s->rcpt[i].addr, s->rcpt[i].orcpt, s->rcpt[i].notify);
		if (rc == 0 && s->rcpt[i].conneg) {
			snprintf(name, sizeof(name), "conneg.%zu", i);
			rc = qenv_add_attr(&env, name, s->rcpt[i].conneg);
		}
	}
	if (rc == 0 && s->conperm)
		rc = qenv_add_attr(&env, "conperm", "yes");
	if (rc == 0)
		rc = qw_envelope(w, &env);
	env.sender = env.origin = env.client_name = env.client_addr = env.helo = NULL;
	env.protocol = env.auth_user = env.envid = NULL;
	qenv_free(&env);
	if (rc != 0) {
		qw_abort(w);
		qw_free(w);
		s->queue_id[0] = 0;
		buf_printf(reply, "451 4.3.0 Error: queue file write error");
		return -1;
	}
	s->msg = w;
	buf_reset(&fz.content);
	return 0;
}

static int fz_write(smtpd_sess *s, const char *p, size_t n)
{
	if (buf_append(&fz.content, p, n) < 0)
		abort();
	return qw_content(s->msg, p, n);
}

static void fz_abort(smtpd_sess *s)
{
	if (s->msg) {
		qw_abort(s->msg);
		qw_free(s->msg);
		s->msg = NULL;
	}
}

static void fz_clean_string(const char *s)
{
	for (; s && *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			__builtin_trap();	/* CR/LF/control from the client in the envelope */
}

/* Read the committed file back and check it against what the engine wrote. */
static void fz_check_queued(const smtpd_sess *s)
{
	char path[1024], err[512];
	const buf *c = &fz.content;
	qfile *qf;
	char *back;

	if (queue_path(path, sizeof(path), fz.qdir, Q_INCOMING, s->queue_id) < 0
	    || (qf = qf_open(path, O_RDONLY, err, sizeof(err))) == NULL)
		__builtin_trap();	/* 250 for a file that does not read back */
	if (qf->env.nrcpt == 0 || qf->env.nrcpt != s->nrcpt || (off_t)c->len != qf->content_len)
		__builtin_trap();
	fz_clean_string(qf->env.sender);
	fz_clean_string(qf->env.helo);
	fz_clean_string(qf->env.envid);
	fz_clean_string(qf->env.auth_user);
	for (size_t i = 0; i < qf->env.nrcpt; i++) {
		fz_clean_string(qf->env.rcpt[i].addr);
		fz_clean_string(qf->env.rcpt[i].orcpt);
	}
	back = malloc(c->len + 1);
	if (back == NULL || qf_read_content(qf, 0, back, c->len) != (ssize_t)c->len
	    || (c->len && memcmp(back, c->data, c->len) != 0))
		__builtin_trap();
	for (size_t i = 0; i < c->len; i++)
		if ((back[i] == '\r' && (i + 1 == c->len || back[i + 1] != '\n'))
		    || (back[i] == '\n' && (i == 0 || back[i - 1] != '\r')))
			__builtin_trap();	/* a bare CR or LF was stored */
	free(back);
	qf_close(qf);
	queue_remove(fz.qdir, s->queue_id, Q_INCOMING);
}

static void fz_commit(smtpd_sess *s)
{
	char err[512];
	qwriter *w = s->msg;

	if (w == NULL)
		__builtin_trap();
	if (qw_commit(w, err, sizeof(err)) != 0)
		abort();	/* the file system, not the engine */
	qw_free(w);
	s->msg = NULL;
	fz.commits++;
	fz_check_queued(s);
	smtpd_proto_commit_done(s, 1);
}

/* Count lines "250 2.0.0 Ok: queued as" in out, then forget out. With
 * FUZZ_SMTPD_TRACE set the replies go to stderr (for writing seeds). */
static size_t fz_drain(smtpd_sess *s)
{
	static const char q[] = "250 2.0.0 Ok: queued as ";
	static int trace = -1;
	size_t n = 0;

	if (trace < 0)
		trace = getenv("FUZZ_SMTPD_TRACE") != NULL;
	if (trace && s->out.len)
		fprintf(stderr, "%.*s", (int)s->out.len, s->out.data);

	for (size_t i = 0; i + sizeof(q) - 1 <= s->out.len; i++)
		if ((i == 0 || s->out.data[i - 1] == '\n') && memcmp(s->out.data + i, q, sizeof(q) - 1) == 0)
			n++;
	buf_reset(&s->out);
	return n;
}

static void fz_setup(void)
{
	static char *local[] = { "faxpost.test", "localhost" };
	static char *fax[] = { "fax.faxpost.test" };
	char err[256];

	if (fz.qdir[0])
		return;
	fuzz_quiet("fuzz_smtpd");
	snprintf(fz.qdir, sizeof(fz.qdir), "%s/queue", fuzz_tmpdir());
	if (queue_init_dirs(fz.qdir, err, sizeof(err)) < 0)
		abort();
	smtpd_domains_set(&fz.local, local, 2);
	smtpd_domains_set(&fz.fax, fax, 1);
	buf_init(&fz.content, 0);
}

/* Run the engine until it wants input or closes; returns 0 when it closed. */
static int fz_run(smtpd_sess *s, size_t *queued)
{
	for (;;) {
		int act = smtpd_proto_run(s);

		*queued += fz_drain(s);
		switch (act) {
		case SMTPD_ACT_COMMIT:
			fz_commit(s);
			continue;
		case SMTPD_ACT_STARTTLS:
			smtpd_proto_tls_started(s, "TLSv1.3 with cipher FUZZ");
			continue;
		case SMTPD_ACT_PAUSE:
			continue;
		case SMTPD_ACT_CLOSE:
			return 0;
		default:
			return 1;
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const smtpd_hooks hooks = { fz_rcpt_check, fz_caps, fz_auth, fz_begin, fz_write,
					   fz_abort };
	smtpd_conf conf = { .myhostname = "faxpost.test", .banner = "faxpost.test ESMTP faxpost",
			    .message_size_limit = 100000, .recipient_limit = 5,
			    .hard_error_limit = 20, .junk_command_limit = 100,
			    .auth_failure_limit = 3, .auth_failure_delay_ms = 1000,
			    .hopcount_limit = 50 };
	size_t piece, off, queued = 0, eods = 0;
	smtpd_sess s;
	int open = 1;

	if (size < 2 || size > 256 * 1024)
		return 0;
	fz_setup();
	conf.line_policy = data[0] & 1 ? SMTPD_LINES_REJECT : SMTPD_LINES_NORMALIZE;
	conf.tls_level = data[0] & 2 ? SMTPD_TLS_NONE : SMTPD_TLS_MAY;
	conf.sasl_enable = !(data[0] & 4);
	conf.conneg_style = data[0] & 8 ? SMTPD_CONNEG_DRAFT : SMTPD_CONNEG_RFC4141;
	conf.forbid_unauth_pipelining = !(data[0] & 32);
	conf.conneg_enable = !(data[0] & 64);
	piece = (size_t)data[1] + 1;
	/* a message ends only at a line "." ended by CRLF; the line end before it may be
	 * the DATA command's own, which may be a bare LF ("DATA\n.\r\n") */
	for (size_t i = 2; i + 4 <= size; i++)
		eods += memcmp(data + i, "\n.\r\n", 4) == 0;
	fz.commits = 0;
	smtpd_sess_init(&s, &conf, &hooks, "client.test", "192.0.2.1", (data[0] & 16) != 0);
	smtpd_proto_greet(&s);
	open = fz_run(&s, &queued);
	for (off = 2; open && off < size;) {
		size_t n = size - off < piece ? size - off : piece;

		if (smtpd_proto_feed(&s, data + off, n) < 0) {
			if (smtpd_proto_feed(&s, data + off, 1) < 0)
				__builtin_trap();	/* asked for input, takes none */
			n = 1;
		}
		off += n;
		open = fz_run(&s, &queued);
	}
	if (open && (data[0] & 128))
		smtpd_proto_shutdown(&s);	/* the server stops: 421 */
	else if (open)
		smtpd_proto_timeout(&s);	/* the client went quiet: 421 */
	fz_drain(&s);
	if (s.msg)
		fz_abort(&s);
	if (queued != fz.commits || fz.commits > eods)
		__builtin_trap();
	smtpd_sess_free(&s);
	return 0;
}
