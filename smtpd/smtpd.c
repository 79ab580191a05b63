/*
 * smtpd.c - the SMTP server: configuration, the checks and the queue hooks.
 *
 * Contract: an event server on the daemon skeleton (lib/mail/daemon.h, ops->loop).
 * Settings come from main.cf (lib/mail/params_smtpd.def). The protocol engine
 * (smtpd_proto.c) calls the hooks here: the relay rule (smtpd_check.c), the CONNEG
 * capability lookup (smtpd_capabilities_maps by address, then by domain, then for a
 * FAX= address in fax_domains the remembered remote-fax table
 * data_directory/fax_capabilities keyed by the E.164 number, then fax_capabilities;
 * else none), AUTH against smtpd_sasl_password_maps (user -> crypt(3) hash), and the
 * queue file (qw_create/qw_envelope/qw_content; the commit runs on the commit threads,
 * see smtpd_server.c). A bad setting stops the start with the parameter's name.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/time.h>

#include <openssl/ssl.h>

#include "mail/config.h"
#include "mail/daemon.h"
#include "mail/dict.h"
#include "mail/queue.h"
#ifdef HAVE_FEATURESET
#include "mail/featureset.h"
#endif
#include "smtpd.h"
#include "smtpd_spare.h"
#include "util/msg.h"
#include "util/stream.h"

smtpd_global smtpd_g;

/* --- CONNEG capabilities ------------------------------------------------------ */

/* Validate and canonicalise an RFC 2533 expression; -1 when it does not parse. */
static int caps_canonical(const char *text, buf *out, char *why, size_t whylen)
{
#ifdef HAVE_FEATURESET
	fs_expr *e = fs_parse(text, strlen(text), why, whylen);
	int rc;

	if (!e)
		return -1;
	buf_reset(out);
	rc = fs_format(e, out);
	fs_free(e);
	return rc < 0 ? -1 : 0;
#else
	(void)why;
	(void)whylen;
	buf_reset(out);
	return buf_append_str(out, text);
#endif
}

static int caps_from(const char *where, const char *key, const char *value, buf *out)
{
	char why[256] = "";

	if (!value || !*value)
		return 0;
	if (caps_canonical(value, out, why, sizeof(why)) < 0) {
		msg_warn("%s: bad RFC 2533 expression for %s: %s", where, key, why);
		buf_reset(out);
		return 0;
	}
	return 1;
}

static int hook_caps_lookup(smtpd_sess *s, const addr_path *p, buf *out)
{
	fax_addr fa;
	int is_fax;

	(void)s;
	if (smtpd_g.caps_db) {
		if (caps_from("smtpd_capabilities_maps", p->addr,
			      dict_lookup(smtpd_g.caps_db, p->addr), out))
			return 1;
		if (p->domain[0] && caps_from("smtpd_capabilities_maps", p->domain,
					      dict_lookup(smtpd_g.caps_db, p->domain), out))
			return 1;
	}
	is_fax = fax_addr_parse(p->addr, &fa) == 1;
	if (!is_fax || !smtpd_domains_match(&smtpd_g.fax_domains, p->domain))
		return 0;
	if (smtpd_g.fax_caps_db &&
	    caps_from("fax_capabilities table", fa.number,
		      dict_lookup(smtpd_g.fax_caps_db, fa.number), out))
		return 1;
	if (smtpd_g.fax_caps && *smtpd_g.fax_caps) {
		buf_reset(out);
		buf_append_str(out, smtpd_g.fax_caps);
		return 1;
	}
	return 0;
}

/* --- relay rule ------------------------------------------------------------------ */

static int hook_rcpt_check(smtpd_sess *s, const addr_path *p, buf *reply)
{
	fax_addr fa;

	if (smtpd_domains_match(&smtpd_g.fax_domains, p->domain) &&
	    strncasecmp(p->local, "FAX=", 4) == 0 && fax_addr_parse(p->addr, &fa) != 1) {
		buf_printf(reply, "553 5.1.3 <%s>: Bad fax address syntax", p->addr);
		return -1;
	}
	return smtpd_relay_check(p, &smtpd_g.local_domains, &smtpd_g.fax_domains,
				 s->client_trusted || s->auth_user != NULL, reply);
}

/* --- AUTH ------------------------------------------------------------------------ */

/* The hash is looked up here (the table is not thread-safe); crypt runs on an auth
 * thread (smtpd_auth.c), so a slow hash never stalls the other sessions. */
static int hook_auth_check(smtpd_sess *s, const char *user, const char *pass)
{
	char key[256];
	size_t i;

	if (!smtpd_g.sasl_db)
		return -1;
	if (str_copy(key, sizeof(key), user) < 0)
		key[0] = 0;
	for (i = 0; key[i]; i++)
		key[i] = (char)tolower((unsigned char)key[i]);
	smtpd_server_auth_submit(s, pass, key[0] ? dict_lookup(smtpd_g.sasl_db, key) : NULL);
	return SMTPD_AUTH_PENDING;
}

/* --- queue file -------------------------------------------------------------- */

static int hook_msg_begin(smtpd_sess *s, buf *reply)
{
	char err[256];
	qwriter *w = spare_take(err, sizeof(err));
	qenvelope env;
	struct timeval tv;
	char name[32];
	size_t i;
	int rc = 0;

	if (!w) {
		msg_warn("%s: queue file: %s", s->client, err);
		buf_printf(reply, "451 4.3.0 Error: queue file write error");
		return -1;
	}
	str_copy(s->queue_id, sizeof(s->queue_id), qw_id(w));
	gettimeofday(&tv, NULL);
	qenv_init(&env);
	env.sender = s->sender ? s->sender : (char *)"";
	env.arrival_us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
	env.origin = (char *)"smtp";
	env.client_name = s->client_name;
	env.client_addr = s->client_addr;
	env.helo = s->helo;
	env.protocol = (char *)(!s->esmtp ? "SMTP" : s->auth_user ? (s->tls ? "ESMTPSA" : "ESMTPA")
				: s->tls ? "ESMTPS" : "ESMTP");
	env.auth_user = s->auth_user;
	env.envid = s->envid;
	env.ret = s->ret;
	env.body_8bit = s->body_8bit;
	for (i = 0; i < s->nrcpt && rc == 0; i++) {
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
	/* the strings belong to the session; only the tables are the envelope's */
	env.sender = env.origin = env.client_name = env.client_addr = env.helo = NULL;
	env.protocol = env.auth_user = env.envid = NULL;
	qenv_free(&env);
	if (rc != 0) {
		msg_warn("%s: %s: queue file envelope: %m", s->client, s->queue_id);
		qw_abort(w);
		qw_free(w);
		s->queue_id[0] = 0;
		buf_printf(reply, "451 4.3.0 Error: queue file write error");
		return -1;
	}
	s->msg = w;
	if (s->auth_user)
		msg_info("%s: client=%s, sasl_method=%s, sasl_username=%s", s->queue_id, s->client,
			 s->auth_method, s->auth_user);
	else
		msg_info("%s: client=%s", s->queue_id, s->client);
	return 0;
}

static int hook_msg_write(smtpd_sess *s, const char *p, size_t n)
{
	if (qw_content(s->msg, p, n) < 0) {
		msg_warn("%s: queue file write: %m", s->queue_id);
		return -1;
	}
	return 0;
}

static void hook_msg_abort(smtpd_sess *s)
{
	if (s->msg) {
		qw_abort(s->msg);
		qw_free(s->msg);
		s->msg = NULL;
	}
}

/* --- configuration ----------------------------------------------------------- */

static char *conf_dup_path(const char *name)
{
	const char *v = conf_str(name);

	if (strncmp(v, "hash:", 5) == 0 || strncmp(v, "btree:", 6) == 0)
		v = strchr(v, ':') + 1;
	return *v ? xstrdup(v) : NULL;
}

static dict *open_table(const char *param, const char *path, int required)
{
	char err[512];
	dict *d;

	if (!path)
		return NULL;
	d = dict_open(path, 0, err, sizeof(err));
	if (!d && required)
		msg_fatal("%s: %s", param, err);
	if (!d)
		msg_warn("%s: %s", param, err);
	return d;
}

static void list_param(const char *name, char ***items, size_t *n)
{
	size_t max = 64, got;

	*items = xcalloc(max, sizeof(char *));
	got = conf_list(name, *items, max);
	if (got > max)
		msg_fatal("%s: more than %zu items", name, max);
	*n = got;
}

static void read_lists(void)
{
	char **items, why[256];
	size_t n;

	list_param("mynetworks", &items, &n);
	if (smtpd_nets_parse(&smtpd_g.mynetworks, items, n, why, sizeof(why)) < 0)
		msg_fatal("parameter mynetworks: %s", why);
	conf_list_free(items, n);
	free(items);
	list_param("mydestination", &items, &n);
	smtpd_domains_set(&smtpd_g.local_domains, items, n);
	conf_list_free(items, n);
	free(items);
	list_param("fax_domains", &items, &n);
	smtpd_domains_set(&smtpd_g.fax_domains, items, n);
	conf_list_free(items, n);
	free(items);
}

static int clamp_int(long long v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : (int)v;
}

static void read_conf(void)
{
	smtpd_conf *c = &smtpd_g.conf;
	const char *v;
	buf caps;
	char why[256] = "";

	c->myhostname = xstrdup(conf_str("myhostname"));
	c->banner = xstrdup(conf_str("smtpd_banner"));
	c->message_size_limit = conf_size("message_size_limit");
	c->recipient_limit = (size_t)clamp_int(conf_int("smtpd_recipient_limit"), 0, 1000000);
	c->hard_error_limit = clamp_int(conf_int("smtpd_hard_error_limit"), 0, 1000000);
	c->junk_command_limit = clamp_int(conf_int("smtpd_junk_command_limit"), 0, 1000000);
	c->auth_failure_limit = clamp_int(conf_int("smtpd_sasl_failure_limit"), 0, 1000000);
	c->auth_failure_delay_ms = clamp_int(conf_time("smtpd_sasl_failure_delay") * 1000, 0,
					     600000);
	c->hopcount_limit = clamp_int(conf_int("hopcount_limit"), 0, 1000000);
	c->forbid_unauth_pipelining = conf_bool("smtpd_forbid_unauth_pipelining");
	c->conneg_enable = conf_bool("smtpd_conneg_enable");
	c->sasl_enable = conf_bool("smtpd_sasl_auth_enable");
	v = conf_str("smtpd_line_policy");
	if (strcmp(v, "normalize") == 0)
		c->line_policy = SMTPD_LINES_NORMALIZE;
	else if (strcmp(v, "reject") == 0)
		c->line_policy = SMTPD_LINES_REJECT;
	else
		msg_fatal("parameter smtpd_line_policy: \"%s\" is not normalize or reject", v);
	v = conf_str("smtpd_conneg_reply_style");
	if (strcmp(v, "rfc4141") == 0)
		c->conneg_style = SMTPD_CONNEG_RFC4141;
	else if (strcmp(v, "draft") == 0)
		c->conneg_style = SMTPD_CONNEG_DRAFT;
	else
		msg_fatal("parameter smtpd_conneg_reply_style: \"%s\" is not rfc4141 or draft", v);
	v = conf_str("smtpd_tls_security_level");
	if (strcmp(v, "none") == 0)
		c->tls_level = SMTPD_TLS_NONE;
	else if (strcmp(v, "may") == 0)
		c->tls_level = SMTPD_TLS_MAY;
	else if (strcmp(v, "encrypt") == 0)
		c->tls_level = SMTPD_TLS_ENCRYPT;
	else
		msg_fatal("parameter smtpd_tls_security_level: \"%s\" is not none, may or encrypt", v);
	buf_init(&caps, 0);
	v = conf_str("fax_capabilities");
	if (*v && caps_canonical(v, &caps, why, sizeof(why)) < 0)
		msg_fatal("parameter fax_capabilities: not an RFC 2533 expression: %s", why);
	smtpd_g.fax_caps = xstrdup(buf_str(&caps));
	buf_free(&caps);
	smtpd_g.wrappermode = conf_bool("smtpd_tls_wrappermode");
	smtpd_g.timeout_ms = clamp_int(conf_time("smtpd_timeout") * 1000, 1000, 86400000);
	smtpd_g.tls_timeout_ms = clamp_int(conf_time("smtpd_starttls_timeout") * 1000, 1000,
					   86400000);
	smtpd_g.greet_wait_ms = clamp_int(conf_time("smtpd_greet_wait") * 1000, 0, 60000);
	smtpd_g.conn_limit = clamp_int(conf_int("smtpd_connection_limit"), 1, 1000000);
	smtpd_g.client_limit = clamp_int(conf_int("smtpd_client_connection_count_limit"), 0,
					 1000000);
	smtpd_g.commit_threads = clamp_int(conf_int("smtpd_commit_threads"), 1, 64);
	smtpd_g.peername_lookup = conf_bool("smtpd_peername_lookup");
	smtpd_g.dns_server = xstrdup(conf_str("dns_server"));
	smtpd_g.queue_dir = xstrdup(conf_str("queue_directory"));
	read_lists();
}

static void load_tls(void)
{
	const char *cert = conf_str("smtpd_tls_cert_file");
	const char *key = conf_str("smtpd_tls_key_file");
	const char *v;
	char err[512];

	if (!*cert) {
		if (smtpd_g.wrappermode)
			msg_fatal("smtpd_tls_wrappermode = yes needs smtpd_tls_cert_file");
		if (smtpd_g.conf.tls_level == SMTPD_TLS_ENCRYPT)
			msg_fatal("smtpd_tls_security_level = encrypt needs smtpd_tls_cert_file");
		smtpd_g.conf.tls_level = SMTPD_TLS_NONE;
		return;
	}
	if (smtpd_g.conf.tls_level == SMTPD_TLS_NONE && !smtpd_g.wrappermode)
		return;
	smtpd_g.tls_ctx = tls_ctx_server(cert, *key ? key : cert, err, sizeof(err));
	if (!smtpd_g.tls_ctx)
		msg_fatal("smtpd_tls_cert_file %s: %s", cert, err);
	v = conf_str("smtpd_tls_protocols");
	if (strcmp(v, "TLSv1.3") == 0)
		SSL_CTX_set_min_proto_version((SSL_CTX *)smtpd_g.tls_ctx, TLS1_3_VERSION);
	else if (strcmp(v, "TLSv1.2") != 0)
		msg_fatal("parameter smtpd_tls_protocols: \"%s\" is not TLSv1.2 or TLSv1.3", v);
	if (smtpd_g.wrappermode)	/* already inside TLS: STARTTLS is not offered */
		smtpd_g.conf.tls_level = SMTPD_TLS_MAY;
}

/* Enough descriptors for many sessions (an event server holds them all). */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			msg_warn("setrlimit(RLIMIT_NOFILE): %m");
	}
}

static void smtpd_pre_jail(daemon_ctx *ctx)
{
	char *path;

	char err[512];

	(void)ctx;
	read_conf();
	/* master makes them; a stand-alone smtpd (-S) may be the first to run */
	if (queue_init_dirs(smtpd_g.queue_dir, err, sizeof(err)) < 0)
		msg_fatal("queue_directory %s: %s", smtpd_g.queue_dir, err);
	load_tls();
	if (smtpd_g.conf.sasl_enable) {
		path = conf_dup_path("smtpd_sasl_password_maps");
		if (!path)
			msg_fatal("smtpd_sasl_auth_enable = yes needs smtpd_sasl_password_maps");
		smtpd_g.sasl_db = open_table("smtpd_sasl_password_maps", path, 0);
		free(path);
		if (!smtpd_g.tls_ctx)
			msg_warn("smtpd_sasl_auth_enable = yes without TLS: AUTH is never offered");
	}
	path = conf_dup_path("smtpd_capabilities_maps");
	smtpd_g.caps_db = open_table("smtpd_capabilities_maps", path, 0);
	free(path);
	raise_fd_limit();
}

static void smtpd_post_jail(daemon_ctx *ctx)
{
	char path[4096], err[512];

	(void)ctx;
	/* The remembered remote-fax capabilities (written by faxd); may not exist yet. */
	if (snprintf(path, sizeof(path), "%s/fax_capabilities", conf_str("data_directory")) <
	    (int)sizeof(path) && smtpd_g.conf.conneg_enable)
		smtpd_g.fax_caps_db = dict_open(path, 0, err, sizeof(err));
	smtpd_g.hooks.rcpt_check = hook_rcpt_check;
	smtpd_g.hooks.caps_lookup = hook_caps_lookup;
	smtpd_g.hooks.auth_check = hook_auth_check;
	smtpd_g.hooks.msg_begin = hook_msg_begin;
	smtpd_g.hooks.msg_write = hook_msg_write;
	smtpd_g.hooks.msg_abort = hook_msg_abort;
}

/* Serve until told to stop, then let go of the tables and the TLS context. */
static void smtpd_loop(daemon_ctx *ctx)
{
	smtpd_server_loop(ctx);
	if (smtpd_g.sasl_db)
		dict_close(smtpd_g.sasl_db);
	if (smtpd_g.caps_db)
		dict_close(smtpd_g.caps_db);
	if (smtpd_g.fax_caps_db)
		dict_close(smtpd_g.fax_caps_db);
	smtpd_g.sasl_db = smtpd_g.caps_db = smtpd_g.fax_caps_db = NULL;
	if (smtpd_g.tls_ctx)
		tls_ctx_free(smtpd_g.tls_ctx);
	smtpd_g.tls_ctx = NULL;
}

int main(int argc, char **argv)
{
	static const daemon_ops ops = {
		.pre_jail = smtpd_pre_jail,
		.post_jail = smtpd_post_jail,
		.loop = smtpd_loop,
	};

	return daemon_main(argc, argv, "smtpd", &ops);
}
