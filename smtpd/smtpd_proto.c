/*
 * smtpd_proto.c - the SMTP server protocol engine (RFC 5321 + extensions).
 *
 * Contract: see smtpd_proto.h. Commands are read one line at a time from sess->in;
 * replies are appended to sess->out, so a pipelined batch gets one batched answer.
 * Rules copied from Postfix: enhanced status codes on every reply; error and junk
 * counters with a 421 at the limits; commands that must end a pipelined group (HELO,
 * EHLO, DATA, NOOP, VRFY), any command pipelined without PIPELINING, and bytes after
 * the end of data without PIPELINING are a protocol synchronization error (554 5.5.0,
 * close); plaintext pipelined behind STARTTLS is discarded; AUTH only inside TLS.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mail/addr_ext.h"
#include "mail/queue.h"
#include "smtpd_proto.h"
#include "smtpd_proto_int.h"
#include "util/msg.h"

static const char *const cmd_names[SC_NCMD] = {
	"helo", "ehlo", "starttls", "auth", "mail", "rcpt", "data", "rset",
	"noop", "vrfy", "quit", "unknown",
};

/* --- small helpers -------------------------------------------------------------- */


void sp_reply(smtpd_sess *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (buf_vprintf(&s->out, fmt, ap) < 0 || buf_append(&s->out, "\r\n", 2) < 0)
		msg_fatal("%s: reply buffer overflow", s->client);
	va_end(ap);
}

static char *dup_or_null(const char *p)
{
	return p && *p ? xstrdup(p) : NULL;
}

void sp_set_str(char **dst, const char *src)
{
	free(*dst);
	*dst = src ? xstrdup(src) : NULL;
}

void sp_txn_reset(smtpd_sess *s)
{
	size_t i;

	if (s->msg && s->hooks->msg_abort)
		s->hooks->msg_abort(s);
	s->msg = NULL;
	for (i = 0; i < s->nrcpt; i++) {
		free(s->rcpt[i].addr);
		free(s->rcpt[i].orcpt);
		free(s->rcpt[i].conneg);
	}
	s->nrcpt = 0;
	s->in_mail = 0;
	sp_set_str(&s->sender, NULL);
	sp_set_str(&s->envid, NULL);
	s->size_hint = 0;
	s->body_8bit = 0;
	s->ret = 0;
	s->conperm = 0;
	s->queue_id[0] = 0;
	s->message_id[0] = 0;
	/* idle sessions keep little memory: a big content buffer goes back */
	if (s->content.cap > 16384) {
		buf_free(&s->content);
		buf_init(&s->content, 0);
	}
	buf_reset(&s->content);
}

void smtpd_sess_init(smtpd_sess *s, const smtpd_conf *conf, const smtpd_hooks *hooks,
		     const char *name, const char *addr, int trusted)
{
	memset(s, 0, sizeof(*s));
	s->conf = conf;
	s->hooks = hooks;
	str_copy(s->client_name, sizeof(s->client_name), name && *name ? name : "unknown");
	str_copy(s->client_addr, sizeof(s->client_addr), addr ? addr : "");
	snprintf(s->client, sizeof(s->client), "%s[%s]", s->client_name, s->client_addr);
	s->client_trusted = trusted;
	buf_init(&s->in, SMTPD_IN_LIMIT);
	buf_init(&s->out, 0);
	buf_init(&s->content, 0);
	s->state = ST_CMD;
}

void smtpd_sess_set_name(smtpd_sess *s, const char *name)
{
	str_copy(s->client_name, sizeof(s->client_name), name && *name ? name : "unknown");
	snprintf(s->client, sizeof(s->client), "%s[%s]", s->client_name, s->client_addr);
}

void smtpd_sess_free(smtpd_sess *s)
{
	sp_txn_reset(s);
	free(s->rcpt);
	free(s->helo);
	free(s->auth_user);
	free(s->auth_login_user);
	buf_free(&s->in);
	buf_free(&s->out);
	buf_free(&s->content);
	s->rcpt = NULL;
	s->helo = s->auth_user = s->auth_login_user = NULL;
}

const char *smtpd_proto_stage(const smtpd_sess *s)
{
	switch (s->state) {
	case ST_DATA: return "DATA";
	case ST_AUTH: return "AUTH";
	case ST_WAIT_TLS: return "STARTTLS";
	case ST_WAIT_COMMIT: return "END-OF-MESSAGE";
	case ST_WAIT_AUTH: return "AUTH";
	default: return s->in_mail ? (s->nrcpt ? "RCPT" : "MAIL") : "CONNECT";
	}
}

int smtpd_proto_in_data(const smtpd_sess *s)
{
	return s->state == ST_DATA;
}

const char *sp_proto_name(const smtpd_sess *s)
{
	if (!s->esmtp)
		return "SMTP";
	if (s->auth_user)
		return s->tls ? "ESMTPSA" : "ESMTPA";
	return s->tls ? "ESMTPS" : "ESMTP";
}

/* Postfix's "NOQUEUE: reject: RCPT from host[addr]: 554 ...; from=<> to=<> ..." */
void sp_log_reject(smtpd_sess *s, const char *stage, const char *text, const char *to)
{
	size_t n = strlen(text);

	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		n--;
	msg_info("%s: reject: %s from %s: %.*s; from=<%s>%s%s%s proto=%s helo=<%s>",
		 s->queue_id[0] ? s->queue_id : "NOQUEUE", stage, s->client, (int)n, text,
		 s->sender ? s->sender : "", to ? " to=<" : "", to ? to : "", to ? ">" : "",
		 sp_proto_name(s), s->helo ? s->helo : "");
}

void smtpd_proto_counts(const smtpd_sess *s, buf *out)
{
	int i, ok = 0, total = 0;

	for (i = 0; i < SC_NCMD; i++) {
		if (s->counts[i][1] == 0)
			continue;
		if (s->counts[i][0] == s->counts[i][1])
			buf_printf(out, "%s=%d ", cmd_names[i], s->counts[i][1]);
		else
			buf_printf(out, "%s=%d/%d ", cmd_names[i], s->counts[i][0], s->counts[i][1]);
		ok += s->counts[i][0];
		total += s->counts[i][1];
	}
	if (ok == total)
		buf_printf(out, "commands=%d", total);
	else
		buf_printf(out, "commands=%d/%d", ok, total);
}

/* An error reply was given: count it (the limit is checked before the next command). */
int sp_err(smtpd_sess *s)
{
	s->errors++;
	return SMTPD_ACT_READ;
}

int sp_too_many_errors(smtpd_sess *s)
{
	sp_reply(s, "421 4.7.0 %s Error: too many errors", s->conf->myhostname);
	msg_info("too many errors after %s from %s", smtpd_proto_stage(s), s->client);
	s->state = ST_CLOSED;
	return SMTPD_ACT_CLOSE;
}


/* Characters no address of ours needs and shells and pipes love (security.md 5.6
 * rows 11-12); refused even inside a quoted local part. */
static int addr_unsafe(const char *a)
{
	for (; *a; a++) {
		unsigned char c = (unsigned char)*a;

		if (c < 0x21 || c == 0x7f || strchr("`|$;\\<>", c))
			return 1;
	}
	return 0;
}

static int printable(const char *p)
{
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			return 0;
	return 1;
}

/* --- greeting, hello ------------------------------------------------------------- */

void smtpd_proto_greet(smtpd_sess *s)
{
	sp_reply(s, "220 %s", s->conf->banner);
}

void smtpd_proto_pregreet(smtpd_sess *s)
{
	msg_info("PREGREET from %s: client spoke before the greeting", s->client);
	sp_reply(s, "554 5.5.0 Error: SMTP protocol synchronization");
	s->state = ST_CLOSED;
}

static int hostname_ok(const char *h)
{
	size_t n = strlen(h);

	if (n == 0 || n > 255)
		return 0;
	for (; *h; h++)
		if ((unsigned char)*h <= 0x20 || (unsigned char)*h >= 0x7f)
			return 0;
	return 1;
}

static int cmd_helo(smtpd_sess *s, const char *arg, int ehlo)
{
	const smtpd_conf *c = s->conf;
	const char *kw[16];
	char size_kw[40];
	int n = 0, i;

	if (!*arg) {
		sp_reply(s, "501 5.5.4 Syntax: %s hostname", ehlo ? "EHLO" : "HELO");
		return sp_err(s);
	}
	if (!hostname_ok(arg)) {
		sp_reply(s, "501 5.5.2 Syntax: %s hostname", ehlo ? "EHLO" : "HELO");
		return sp_err(s);
	}
	sp_txn_reset(s);
	sp_set_str(&s->helo, arg);
	s->esmtp = ehlo;
	if (!ehlo) {
		sp_reply(s, "250 %s", c->myhostname);
		return SMTPD_ACT_READ;
	}
	kw[n++] = "PIPELINING";
	if (c->message_size_limit > 0)
		snprintf(size_kw, sizeof(size_kw), "SIZE %lld", c->message_size_limit);
	else
		str_copy(size_kw, sizeof(size_kw), "SIZE");
	kw[n++] = size_kw;
	if (c->tls_level != SMTPD_TLS_NONE && !s->tls)
		kw[n++] = "STARTTLS";
	if (c->sasl_enable && s->tls && !s->auth_user)
		kw[n++] = "AUTH PLAIN LOGIN";
	kw[n++] = "ENHANCEDSTATUSCODES";
	kw[n++] = "8BITMIME";
	kw[n++] = "DSN";
	if (c->conneg_enable) {
		kw[n++] = "CONPERM";
		kw[n++] = "CONNEG";
	}
	sp_reply(s, "250-%s", c->myhostname);
	for (i = 0; i < n; i++)
		sp_reply(s, "250%c%s", i == n - 1 ? ' ' : '-', kw[i]);
	return SMTPD_ACT_READ;
}

/* --- MAIL, RCPT ------------------------------------------------------------------ */

/* The reason addr_parse_sender/recipient() gave (a whole reply), as a reply with the right enhanced code. */
static void reply_addr_error(smtpd_sess *s, const char *why, int sender)
{
	const char *code = sender ? "5.1.7" : "5.1.3";
	const char *text = sender ? "Bad sender address syntax" : "Bad recipient address syntax";

	if (why && why[0] >= '4' && why[0] <= '5' && isdigit((unsigned char)why[1]) &&
	    isdigit((unsigned char)why[2]) && why[3] == ' ') {
		sp_reply(s, "%s", why);
		return;
	}
	sp_reply(s, "501 %s %s%s%s", code, text, why && *why ? ": " : "", why ? why : "");
}

static int param_printable_value(const char *v)
{
	return *v && printable(v);
}

static int mail_params(smtpd_sess *s, const addr_path *p)
{
	size_t i;

	for (i = 0; i < p->nparam; i++) {
		const char *name = p->param[i].name, *v = p->param[i].value;

		if (strcasecmp(name, "SIZE") == 0) {
			char *end;
			unsigned long long sz;

			errno = 0;
			sz = strtoull(v, &end, 10);
			if (!*v || *end || !isdigit((unsigned char)*v) || errno) {
				if (errno == ERANGE)
					goto too_big;
				sp_reply(s, "501 5.5.4 Bad message size syntax");
				return -1;
			}
			if (s->conf->message_size_limit > 0 &&
			    sz > (unsigned long long)s->conf->message_size_limit) {
too_big:
				sp_reply(s, "552 5.3.4 Message size exceeds fixed limit");
				sp_log_reject(s, "MAIL", "552 5.3.4 Message size exceeds fixed limit", NULL);
				return -1;
			}
			s->size_hint = (long long)sz;
		} else if (strcasecmp(name, "BODY") == 0) {
			if (strcasecmp(v, "8BITMIME") == 0)
				s->body_8bit = 1;
			else if (strcasecmp(v, "7BIT") != 0) {
				sp_reply(s, "501 5.5.4 Unsupported BODY parameter");
				return -1;
			}
		} else if (strcasecmp(name, "RET") == 0) {
			if (strcasecmp(v, "FULL") == 0)
				s->ret = DSN_RET_FULL;
			else if (strcasecmp(v, "HDRS") == 0)
				s->ret = DSN_RET_HDRS;
			else {
				sp_reply(s, "501 5.5.4 Bad RET parameter syntax");
				return -1;
			}
		} else if (strcasecmp(name, "ENVID") == 0) {
			if (!param_printable_value(v) || strlen(v) > 100) {
				sp_reply(s, "501 5.5.4 Bad ENVID parameter syntax");
				return -1;
			}
			sp_set_str(&s->envid, v);
		} else if (strcasecmp(name, "AUTH") == 0) {
			if (!param_printable_value(v)) {
				sp_reply(s, "501 5.5.4 Invalid AUTH parameter");
				return -1;
			}
		} else if (strcasecmp(name, "CONPERM") == 0 && s->conf->conneg_enable) {
			if (*v) {
				sp_reply(s, "501 5.5.4 Bad CONPERM parameter syntax");
				return -1;
			}
			s->conperm = 1;
		} else if (strcasecmp(name, "CONPERM") == 0) {
			sp_reply(s, "504 5.5.4 CONPERM parameter not supported");
			return -1;
		} else {
			sp_reply(s, "555 5.5.4 Unsupported option: %s", name);
			return -1;
		}
	}
	return 0;
}

static int cmd_mail(smtpd_sess *s, const char *arg)
{
	addr_path p;
	char why[256] = "";

	if (!s->helo) {
		sp_reply(s, "503 5.5.1 Error: send HELO/EHLO first");
		return sp_err(s);
	}
	if (s->conf->tls_level == SMTPD_TLS_ENCRYPT && !s->tls) {
		sp_reply(s, "530 5.7.0 Must issue a STARTTLS command first");
		return sp_err(s);
	}
	if (s->in_mail) {
		sp_reply(s, "503 5.5.1 Error: nested MAIL command");
		return sp_err(s);
	}
	if (strncasecmp(arg, "FROM:", 5) != 0) {
		sp_reply(s, "501 5.5.4 Syntax: MAIL FROM:<address>");
		return sp_err(s);
	}
	if (addr_parse_sender(arg + 5, &p, why, sizeof(why)) < 0) {
		reply_addr_error(s, why, 1);
		return sp_err(s);
	}
	if (addr_unsafe(p.addr)) {
		sp_reply(s, "553 5.1.7 Bad sender address syntax");
		return sp_err(s);
	}
	sp_set_str(&s->sender, p.addr);
	if (mail_params(s, &p) < 0) {
		sp_txn_reset(s);
		return sp_err(s);
	}
	s->in_mail = 1;
	s->counts[SC_MAIL][0]++;
	sp_reply(s, "250 2.1.0 Ok");
	return SMTPD_ACT_READ;
}

/* NOTIFY=NEVER | SUCCESS,FAILURE,DELAY (RFC 3461: NEVER alone). */
static int parse_notify(const char *v)
{
	int bits = 0;
	char tmp[64];
	char *tok, *save = NULL;

	if (str_copy(tmp, sizeof(tmp), v) < 0 || !*v)
		return -1;
	for (tok = strtok_r(tmp, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (strcasecmp(tok, "NEVER") == 0)
			bits |= DSN_NOTIFY_NEVER;
		else if (strcasecmp(tok, "SUCCESS") == 0)
			bits |= DSN_NOTIFY_SUCCESS;
		else if (strcasecmp(tok, "FAILURE") == 0)
			bits |= DSN_NOTIFY_FAILURE;
		else if (strcasecmp(tok, "DELAY") == 0)
			bits |= DSN_NOTIFY_DELAY;
		else
			return -1;
	}
	if ((bits & DSN_NOTIFY_NEVER) && bits != DSN_NOTIFY_NEVER)
		return -1;
	return bits;
}

/* ORCPT=addr-type;xtext, already xtext-decoded by the address parser. */
static int orcpt_ok(const char *v)
{
	const char *semi = strchr(v, ';');
	const char *p;

	if (!semi || semi == v || !semi[1] || strlen(v) > 500 || !printable(v))
		return 0;
	for (p = v; p < semi; p++)
		if (!isalnum((unsigned char)*p) && *p != '-')
			return 0;
	return 1;
}

static int rcpt_params(smtpd_sess *s, const addr_path *p, int *notify, const char **orcpt,
		       int *conneg)
{
	size_t i;

	for (i = 0; i < p->nparam; i++) {
		const char *name = p->param[i].name, *v = p->param[i].value;

		if (strcasecmp(name, "NOTIFY") == 0) {
			if ((*notify = parse_notify(v)) < 0) {
				sp_reply(s, "501 5.5.4 Bad NOTIFY parameter syntax");
				return -1;
			}
		} else if (strcasecmp(name, "ORCPT") == 0) {
			if (!orcpt_ok(v)) {
				sp_reply(s, "501 5.5.4 Bad ORCPT parameter syntax");
				return -1;
			}
			*orcpt = v;
		} else if (strcasecmp(name, "CONNEG") == 0 && s->conf->conneg_enable) {
			if (*v) {
				sp_reply(s, "501 5.5.4 Bad CONNEG parameter syntax");
				return -1;
			}
			*conneg = 1;
		} else if (strcasecmp(name, "CONNEG") == 0) {
			sp_reply(s, "504 5.5.4 CONNEG parameter not supported");
			return -1;
		} else {
			sp_reply(s, "555 5.5.4 Unsupported option: %s", name);
			return -1;
		}
	}
	return 0;
}

static void rcpt_add(smtpd_sess *s, const char *addr, const char *orcpt, int notify,
		     const char *conneg)
{
	smtpd_rcpt *r;

	if (s->nrcpt == s->rcpt_alloc) {
		size_t n = s->rcpt_alloc ? s->rcpt_alloc * 2 : 4, bytes;

		if (size_mul(n, sizeof(*s->rcpt), &bytes) < 0)
			msg_fatal("recipient table overflow");
		s->rcpt = xrealloc(s->rcpt, bytes);
		s->rcpt_alloc = n;
	}
	r = &s->rcpt[s->nrcpt++];
	r->addr = xstrdup(addr);
	r->orcpt = dup_or_null(orcpt);
	r->notify = notify;
	r->conneg = dup_or_null(conneg);
}

static int cmd_rcpt(smtpd_sess *s, const char *arg)
{
	addr_path p;
	char why[256] = "";
	int notify = 0, conneg = 0;
	const char *orcpt = NULL;
	buf rej, caps;

	if (!s->in_mail) {
		sp_reply(s, "503 5.5.1 Error: need MAIL command");
		return sp_err(s);
	}
	if (strncasecmp(arg, "TO:", 3) != 0) {
		sp_reply(s, "501 5.5.4 Syntax: RCPT TO:<address>");
		return sp_err(s);
	}
	if (addr_parse_recipient(arg + 3, &p, why, sizeof(why)) < 0) {
		reply_addr_error(s, why, 0);
		return sp_err(s);
	}
	if (!p.addr[0] || addr_unsafe(p.addr)) {
		sp_reply(s, "553 5.1.3 Bad recipient address syntax");
		return sp_err(s);
	}
	if (rcpt_params(s, &p, &notify, &orcpt, &conneg) < 0)
		return sp_err(s);
	if (s->conf->recipient_limit > 0 && s->nrcpt >= s->conf->recipient_limit) {
		sp_reply(s, "452 4.5.3 Error: too many recipients");
		return sp_err(s);
	}
	buf_init(&rej, 1024);
	if (s->hooks->rcpt_check && s->hooks->rcpt_check(s, &p, &rej) != 0) {
		sp_reply(s, "%s", rej.len ? buf_str(&rej) : "554 5.7.1 Recipient address rejected");
		sp_log_reject(s, "RCPT", rej.len ? buf_str(&rej) : "554 5.7.1", p.addr);
		buf_free(&rej);
		return sp_err(s);
	}
	buf_free(&rej);
	buf_init(&caps, 0);
	if (conneg && s->hooks->caps_lookup && s->hooks->caps_lookup(s, &p, &caps) > 0 &&
	    caps.len > 0) {
		smtpd_conneg_reply(&s->out, "2.1.5 Ok", buf_str(&caps), s->conf->conneg_style);
		rcpt_add(s, p.addr, orcpt, notify, buf_str(&caps));
	} else {
		sp_reply(s, "250 2.1.5 Ok");
		rcpt_add(s, p.addr, orcpt, notify, NULL);
	}
	buf_free(&caps);
	s->counts[SC_RCPT][0]++;
	return SMTPD_ACT_READ;
}

/* --- command dispatch ----------------------------------------------------------- */

static int sync_error(smtpd_sess *s, const char *after)
{
	msg_info("improper command pipelining after %s from %s", after, s->client);
	sp_reply(s, "554 5.5.0 Error: SMTP protocol synchronization");
	s->state = ST_CLOSED;
	return SMTPD_ACT_CLOSE;
}

typedef struct cmd_def {
	const char *name;
	int counter;
	int last;		/* must end a pipelined group (RFC 2920) */
} cmd_def;

static const cmd_def cmd_table[] = {
	{ "HELO", SC_HELO, 1 }, { "EHLO", SC_EHLO, 1 }, { "STARTTLS", SC_STARTTLS, 0 },
	{ "AUTH", SC_AUTH, 0 }, { "MAIL", SC_MAIL, 0 }, { "RCPT", SC_RCPT, 0 },
	{ "DATA", SC_DATA, 1 }, { "RSET", SC_RSET, 0 }, { "NOOP", SC_NOOP, 1 },
	{ "VRFY", SC_VRFY, 1 }, { "QUIT", SC_QUIT, 0 }, { NULL, SC_UNKNOWN, 0 },
};

static int dispatch(smtpd_sess *s, const cmd_def *c, const char *arg)
{
	int act;

	switch (c->counter) {
	case SC_HELO: act = cmd_helo(s, arg, 0); break;
	case SC_EHLO: act = cmd_helo(s, arg, 1); break;
	case SC_STARTTLS: act = sp_cmd_starttls(s, arg); break;
	case SC_AUTH: return sp_cmd_auth(s, arg);		/* counts itself on success */
	case SC_MAIL: return cmd_mail(s, arg);
	case SC_RCPT: return cmd_rcpt(s, arg);
	case SC_DATA: return sp_cmd_data(s, arg);		/* counted when queued */
	case SC_RSET:
		if (*arg) {
			sp_reply(s, "501 5.5.4 Syntax: RSET");
			return sp_err(s);
		}
		sp_txn_reset(s);
		sp_reply(s, "250 2.0.0 Ok");
		s->counts[SC_RSET][0]++;
		return SMTPD_ACT_READ;
	case SC_NOOP:
		sp_reply(s, "250 2.0.0 Ok");
		s->counts[SC_NOOP][0]++;
		return SMTPD_ACT_READ;
	case SC_VRFY:
		sp_reply(s, "502 5.5.1 VRFY command is disabled");
		return sp_err(s);
	case SC_QUIT:
		sp_reply(s, "221 2.0.0 Bye");
		s->counts[SC_QUIT][0]++;
		s->state = ST_CLOSED;
		return SMTPD_ACT_CLOSE;
	default:
		sp_reply(s, "502 5.5.2 Error: command not recognized");
		return sp_err(s);
	}
	return act;
}

static int forbidden_command(const char *verb, size_t n)
{
	if ((n == 7 && strncasecmp(verb, "CONNECT", 7) == 0) ||
	    (n == 3 && strncasecmp(verb, "GET", 3) == 0) ||
	    (n == 4 && strncasecmp(verb, "POST", 4) == 0))
		return 1;
	return n > 1 && verb[n - 1] == ':';	/* "Host:", "User-Agent:" ... */
}

static int command(smtpd_sess *s, char *line, size_t len, int pending)
{
	size_t vlen = strcspn(line, " ");
	const char *arg = line[vlen] ? line + vlen + 1 : "";
	const cmd_def *c;
	size_t before;
	int act;

	for (c = cmd_table; c->name; c++)
		if (strlen(c->name) == vlen && strncasecmp(line, c->name, vlen) == 0)
			break;
	s->counts[c->counter][1]++;
	if (forbidden_command(line, vlen)) {
		msg_warn("non-SMTP command from %s: %.100s", s->client, line);
		sp_reply(s, "221 2.7.0 Error: I can break rules, too. Goodbye.");
		s->state = ST_CLOSED;
		return SMTPD_ACT_CLOSE;
	}
	if (len + 2 > SMTPD_CMD_MAX && c->counter != SC_AUTH) {
		sp_reply(s, "500 5.5.2 Error: line too long");
		return sp_err(s);
	}
	/* NOOP, RSET, VRFY: junk that a client may only send so often (Postfix's
	 * smtpd_junk_command_limit); the counter resets when a message is queued. */
	if ((c->counter == SC_NOOP || c->counter == SC_RSET || c->counter == SC_VRFY) &&
	    s->conf->junk_command_limit > 0 && ++s->junk > s->conf->junk_command_limit)
		return sp_too_many_errors(s);
	if (pending && s->conf->forbid_unauth_pipelining && c->counter != SC_QUIT &&
	    c->counter != SC_STARTTLS && (c->last || !s->esmtp))
		return sync_error(s, c->name ? c->name : "unknown command");
	before = s->out.len;
	act = dispatch(s, c, arg);
	/* HELO, EHLO, STARTTLS: count them as done when the reply was a success. */
	if ((c->counter == SC_HELO || c->counter == SC_EHLO || c->counter == SC_STARTTLS) &&
	    s->out.len > before && s->out.data[before] == '2')
		s->counts[c->counter][0]++;
	return act;
}

/* Take one line out of in. Returns 1 with the line, 0 need more, -1 too long. */
static int take_line(smtpd_sess *s, buf *line, int *bare_lf)
{
	const char *lf = memchr(s->in.data ? s->in.data : "", '\n', s->in.len);
	size_t n;

	if (!lf)
		return s->in.len > SMTPD_LINE_CAP ? -1 : 0;
	n = (size_t)(lf - s->in.data);
	*bare_lf = n == 0 || s->in.data[n - 1] != '\r';
	buf_reset(line);
	if (buf_append(line, s->in.data, *bare_lf ? n : n - 1) < 0)
		msg_fatal("line buffer");
	buf_consume(&s->in, n + 1);
	s->progress++;
	return 1;
}

static int command_line(smtpd_sess *s, buf *line, int bare_lf)
{
	size_t i;

	if (s->conf->hard_error_limit > 0 && s->errors >= s->conf->hard_error_limit)
		return sp_too_many_errors(s);
	if (bare_lf && s->conf->line_policy == SMTPD_LINES_REJECT) {
		sp_reply(s, "550 5.5.2 %s Error: bare <LF> received", s->conf->myhostname);
		msg_info("%s: reject: bare <LF> received from %s", "NOQUEUE", s->client);
		return sp_err(s);
	}
	for (i = 0; i < line->len; i++) {
		unsigned char c = (unsigned char)line->data[i];

		if (c < 0x20 && c != '\t') {
			if (s->state == ST_AUTH) {
				s->state = ST_CMD;
				s->auth_mech = AUTH_NONE;
			}
			sp_reply(s, "500 5.5.2 Error: bad syntax");
			return sp_err(s);
		}
	}
	if (s->state == ST_AUTH) {
		if (line->len > SMTPD_AUTH_LINE_MAX) {
			s->state = ST_CMD;
			s->auth_mech = AUTH_NONE;
			sp_reply(s, "500 5.5.6 Authentication Exchange line is too long");
			return sp_err(s);
		}
		return sp_auth_continue(s, buf_str(line));
	}
	if (line->len > SMTPD_AUTH_LINE_MAX) {
		sp_reply(s, "500 5.5.6 Authentication Exchange line is too long");
		return sp_err(s);
	}
	return command(s, line->data ? line->data : (char *)"", line->len, s->in.len > 0);
}

int smtpd_proto_feed(smtpd_sess *s, const void *p, size_t n)
{
	if (s->state == ST_CLOSED)
		return 0;
	return buf_append(&s->in, p, n);
}

int smtpd_proto_run(smtpd_sess *s)
{
	buf line;
	int act = SMTPD_ACT_READ, bare_lf = 0, r;

	buf_init(&line, SMTPD_LINE_CAP + 2);
	for (;;) {
		if (s->state == ST_CLOSED) {
			act = SMTPD_ACT_CLOSE;
			break;
		}
		if (s->state == ST_WAIT_COMMIT) {
			act = SMTPD_ACT_COMMIT;
			break;
		}
		if (s->state == ST_WAIT_TLS) {
			act = SMTPD_ACT_STARTTLS;
			break;
		}
		if (s->state == ST_WAIT_AUTH) {
			act = SMTPD_ACT_AUTH;
			break;
		}
		if (s->state == ST_DATA) {
			if (!sp_data_run(s)) {
				act = SMTPD_ACT_READ;
				break;
			}
			act = sp_data_end(s);
			if (act == SMTPD_ACT_COMMIT && s->in.len > 0 && !s->esmtp &&
			    s->conf->forbid_unauth_pipelining) {
				sp_txn_reset(s);
				act = sync_error(s, "END-OF-MESSAGE");
			}
			if (act != SMTPD_ACT_READ)
				break;
			continue;
		}
		r = take_line(s, &line, &bare_lf);
		if (r == 0) {
			act = SMTPD_ACT_READ;
			break;
		}
		if (r < 0) {
			sp_reply(s, "500 5.5.2 Error: line too long");
			msg_info("line too long from %s; closing", s->client);
			s->state = ST_CLOSED;
			act = SMTPD_ACT_CLOSE;
			break;
		}
		act = command_line(s, &line, bare_lf);
		if (act != SMTPD_ACT_READ)
			break;
	}
	buf_free(&line);
	return act;
}

void smtpd_proto_timeout(smtpd_sess *s)
{
	msg_info("timeout after %s from %s", smtpd_proto_stage(s), s->client);
	sp_reply(s, "421 4.4.2 %s Error: timeout exceeded", s->conf->myhostname);
	if (s->msg && s->state != ST_WAIT_COMMIT)
		sp_txn_reset(s);
	s->state = ST_CLOSED;
}

void smtpd_proto_shutdown(smtpd_sess *s)
{
	sp_reply(s, "421 4.3.2 %s Service shutting down, closing transmission channel",
	      s->conf->myhostname);
	if (s->msg && s->state != ST_WAIT_COMMIT)
		sp_txn_reset(s);
	s->state = ST_CLOSED;
}
