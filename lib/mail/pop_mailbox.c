/*
 * pop_mailbox.c - POP3 mailbox settings from the pop_mailboxes file and provider presets.
 *
 * Contract: see pop_mailbox.h. Both files share one INI syntax, read by ini_each().
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mail/config.h"
#include "mail/dict.h"
#include "mail/pop_mailbox.h"
#include "util/buf.h"
#include "util/msg.h"

typedef int (*ini_fn)(void *ctx, const char *section, const char *key, const char *value,
		      int line, char *err, size_t errlen);

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

/* Call fn for every "key = value" with its section; "[name]" lines open sections
 * (fn gets key NULL for them). Returns 0, or -1 with err "file:line: why". */
static int ini_each(const char *path, ini_fn fn, void *ctx, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	char line[1024], section[64] = "", why[256];
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	int lineno = 0;

	if (!fp) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), fp)) {
		char *l, *eq;

		lineno++;
		if (!strchr(line, '\n') && !feof(fp)) {
			snprintf(err, errlen, "%s:%d: line too long", base, lineno);
			goto fail;
		}
		l = trim(line);
		if (!*l || *l == '#')
			continue;
		why[0] = 0;
		if (*l == '[') {
			char *e = strchr(l, ']');

			if (!e || e[1] || e - l - 1 < 1 || str_ncopy(section, sizeof(section), l + 1,
								     (size_t)(e - l - 1)) < 0) {
				snprintf(err, errlen, "%s:%d: bad section name", base, lineno);
				goto fail;
			}
			if (fn(ctx, section, NULL, NULL, lineno, why, sizeof(why)) < 0)
				goto fn_fail;
			continue;
		}
		if (!(eq = strchr(l, '='))) {
			snprintf(err, errlen, "%s:%d: expected \"key = value\"", base, lineno);
			goto fail;
		}
		*eq = 0;
		if (!section[0]) {
			snprintf(err, errlen, "%s:%d: setting outside a [section]", base, lineno);
			goto fail;
		}
		if (fn(ctx, section, trim(l), trim(eq + 1), lineno, why, sizeof(why)) < 0)
			goto fn_fail;
	}
	fclose(fp);
	return 0;
fn_fail:
	snprintf(err, errlen, "%s:%d: %s", base, lineno, why);
fail:
	fclose(fp);
	return -1;
}

const char *mailbox_tls_name(pop3_tls_mode t)
{
	return t == POP3_TLS_IMPLICIT ? "pop3s" : t == POP3_TLS_STLS ? "stls" : "none";
}

void mailbox_defaults(mailbox *mb, const char *name)
{
	memset(mb, 0, sizeof(*mb));
	str_copy(mb->name, sizeof(mb->name), name);
	str_copy(mb->port, sizeof(mb->port), "110");
	mb->tls = POP3_TLS_STLS;
	str_copy(mb->verify, sizeof(mb->verify), conf_str("pop_tls_verify"));
	mb->interval = conf_time("pop_check_interval");
	mb->size_limit = conf_size("pop_size_limit");
	mb->connect_delay = conf_time("pop_connect_delay");
}

static int parse_bool(const char *v, int *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") ||
	    !strcasecmp(v, "on"))
		*out = 1;
	else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0") ||
		 !strcasecmp(v, "off"))
		*out = 0;
	else
		return -1;
	return 0;
}

/* "30", "30s", "5m", "2h", "1d" -> seconds; "10k", "10m", "1g" -> bytes (unit_k=1024). */
static int parse_scaled(const char *v, long long *out, int is_size)
{
	char *end;
	long long n, mul = 1;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || end == v || n < 0)
		return -1;
	if (*end) {
		int c = tolower((unsigned char)*end);

		if (end[1])
			return -1;
		if (is_size)
			mul = c == 'k' ? 1024LL : c == 'm' ? 1048576LL : c == 'g' ? 1073741824LL
			      : c == 'b' ? 1 : 0;
		else
			mul = c == 's' ? 1 : c == 'm' ? 60 : c == 'h' ? 3600 : c == 'd' ? 86400 : 0;
		if (!mul)
			return -1;
	}
	if (n > (long long)1 << 40)
		return -1;
	*out = n * mul;
	return 0;
}

static int set_str(char *dst, size_t size, const char *v, char *err, size_t errlen)
{
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			snprintf(err, errlen, "control character in value");
			return -1;
		}
	if (str_copy(dst, size, v) < 0) {
		snprintf(err, errlen, "value too long");
		return -1;
	}
	return 0;
}

static int set_port(char *dst, const char *v, char *err, size_t errlen)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (*end || end == v || n < 1 || n > 65535) {
		snprintf(err, errlen, "bad port '%.20s'", v);
		return -1;
	}
	snprintf(dst, 16, "%ld", n);
	return 0;
}

int mailbox_set(mailbox *mb, const char *key, const char *v, char *err, size_t errlen)
{
	if (!strcmp(key, "server") || !strcmp(key, "pop_server"))
		return set_str(mb->server, sizeof(mb->server), v, err, errlen);
	if (!strcmp(key, "port") || !strcmp(key, "pop_port"))
		return set_port(mb->port, v, err, errlen);
	if (!strcmp(key, "user"))
		return set_str(mb->user, sizeof(mb->user), v, err, errlen);
	if (!strcmp(key, "address"))
		return set_str(mb->address, sizeof(mb->address), v, err, errlen);
	if (!strcmp(key, "deliver_to"))
		return set_str(mb->deliver_to, sizeof(mb->deliver_to), v, err, errlen);
	if (!strcmp(key, "tls") || !strcmp(key, "pop_tls")) {
		if (!strcasecmp(v, "pop3s") || !strcasecmp(v, "ssl") || !strcasecmp(v, "implicit"))
			mb->tls = POP3_TLS_IMPLICIT;
		else if (!strcasecmp(v, "stls") || !strcasecmp(v, "starttls"))
			mb->tls = POP3_TLS_STLS;
		else if (!strcasecmp(v, "none") || !strcasecmp(v, "no"))
			mb->tls = POP3_TLS_NONE;
		else {
			snprintf(err, errlen, "bad tls '%.20s' (want pop3s, stls or none)", v);
			return -1;
		}
		return 0;
	}
	if (!strcmp(key, "verify")) {
		if (strcmp(v, "none") && strcmp(v, "may") && strcmp(v, "verify")) {
			snprintf(err, errlen, "bad verify '%.20s' (want none, may or verify)", v);
			return -1;
		}
		return set_str(mb->verify, sizeof(mb->verify), v, err, errlen);
	}
	if (!strcmp(key, "apop") || !strcmp(key, "keep") || !strcmp(key, "allow_plaintext")) {
		int *dst = !strcmp(key, "apop") ? &mb->apop : !strcmp(key, "keep") ? &mb->keep
			   : &mb->allow_plaintext;

		if (parse_bool(v, dst) < 0) {
			snprintf(err, errlen, "bad boolean for %s: '%.20s'", key, v);
			return -1;
		}
		return 0;
	}
	if (!strcmp(key, "interval") || !strcmp(key, "connect_delay") ||
	    !strcmp(key, "size_limit")) {
		int is_size = !strcmp(key, "size_limit");
		long long *dst = is_size ? &mb->size_limit : !strcmp(key, "interval") ? &mb->interval
				 : &mb->connect_delay;

		if (parse_scaled(v, dst, is_size) < 0) {
			snprintf(err, errlen, "bad %s for %s: '%.20s'", is_size ? "size" : "time", key, v);
			return -1;
		}
		return 0;
	}
	if (!strcmp(key, "smtp_server"))
		return set_str(mb->smtp_server, sizeof(mb->smtp_server), v, err, errlen);
	if (!strcmp(key, "smtp_port"))
		return set_port(mb->smtp_port, v, err, errlen);
	if (!strcmp(key, "smtp_tls"))
		return set_str(mb->smtp_tls, sizeof(mb->smtp_tls), v, err, errlen);
	if (!strcmp(key, "name"))
		return set_str(mb->display, sizeof(mb->display), v, err, errlen);
	snprintf(err, errlen, "unknown setting '%.40s'", key);
	return -1;
}

typedef struct preset_ctx {
	const char *want;
	mailbox *mb;
	int found;
} preset_ctx;

static int preset_line(void *vctx, const char *section, const char *key, const char *value,
		       int line, char *err, size_t errlen)
{
	preset_ctx *c = vctx;

	if (strcasecmp(section, c->want) != 0 || !key)
		return 0;
	c->found = 1;
	return mailbox_set(c->mb, key, value, err, errlen);
}

int mailbox_preset(const char *providers, const char *name, mailbox *mb, char *err,
		   size_t errlen)
{
	preset_ctx c = { name, mb, 0 };

	if (ini_each(providers, preset_line, &c, err, errlen) < 0)
		return -1;
	if (!c.found) {
		snprintf(err, errlen, "no provider '%.60s' in %s", name, providers);
		return -1;
	}
	return 0;
}

typedef struct load_ctx {
	const char *providers;
	mailbox *out;
	size_t max, n;
	int started;
} load_ctx;

static int load_line(void *vctx, const char *section, const char *key, const char *value,
		     int line, char *err, size_t errlen)
{
	load_ctx *c = vctx;
	mailbox *mb;

	if (!key) {
		for (size_t i = 0; i < c->n; i++)
			if (!strcmp(c->out[i].name, section)) {
				snprintf(err, errlen, "mailbox [%s] defined twice", section);
				return -1;
			}
		if (c->n >= c->max) {
			snprintf(err, errlen, "too many mailboxes (at most %zu)", c->max);
			return -1;
		}
		mailbox_defaults(&c->out[c->n++], section);
		return 0;
	}
	mb = &c->out[c->n - 1];
	if (!strcmp(key, "provider")) {
		char why[256];

		if (mailbox_preset(c->providers, value, mb, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s", why);
			return -1;
		}
		return 0;
	}
	return mailbox_set(mb, key, value, err, errlen);
}

int mailbox_load(const char *path, const char *providers, mailbox *out, size_t max,
		 char *err, size_t errlen)
{
	load_ctx c = { providers, out, max, 0, 0 };
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

	if (ini_each(path, load_line, &c, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < c.n; i++) {
		const char *missing = !out[i].server[0] ? "server" : !out[i].user[0] ? "user"
				      : !out[i].deliver_to[0] ? "deliver_to" : NULL;

		if (missing) {
			snprintf(err, errlen, "%s: mailbox [%s]: no %s", base, out[i].name, missing);
			return -1;
		}
	}
	return (int)c.n;
}

typedef struct each_ctx {
	void (*fn)(void *ctx, const char *key, const mailbox *preset);
	void *ctx;
	mailbox mb;
	int open;
} each_ctx;

static int each_line(void *vctx, const char *section, const char *key, const char *value,
		     int line, char *err, size_t errlen)
{
	each_ctx *c = vctx;

	if (!key) {
		if (c->open)
			c->fn(c->ctx, c->mb.name, &c->mb);
		mailbox_defaults(&c->mb, section);
		c->open = 1;
		return 0;
	}
	return mailbox_set(&c->mb, key, value, err, errlen);
}

int mailbox_each_preset(const char *providers, void (*fn)(void *ctx, const char *key,
			const mailbox *preset), void *ctx, char *err, size_t errlen)
{
	each_ctx c;

	memset(&c, 0, sizeof(c));
	c.fn = fn;
	c.ctx = ctx;
	if (ini_each(providers, each_line, &c, err, errlen) < 0)
		return -1;
	if (c.open)
		fn(ctx, c.mb.name, &c.mb);
	return 0;
}

void mailbox_conf_path(char *out, size_t size, const char *param)
{
	const char *name = conf_str(param);

	if (name[0] == '/')
		snprintf(out, size, "%s", name);
	else
		snprintf(out, size, "%s/%s", config_directory(), name);
}

int mailbox_load_conf(mailbox *out, size_t max, char *err, size_t errlen)
{
	char path[4096], prov[4096];

	mailbox_conf_path(path, sizeof(path), "pop_mailboxes");
	mailbox_conf_path(prov, sizeof(prov), "pop_providers");
	if (access(path, F_OK) != 0)
		return 0;
	return mailbox_load(path, prov, out, max, err, errlen);
}

char *mailbox_password(const char *name, char *err, size_t errlen)
{
	char path[4096], db[4200], why[256];
	struct stat st;
	const char *v;
	char *pw = NULL;
	dict *d;

	mailbox_conf_path(path, sizeof(path), "pop_password_maps");
	snprintf(db, sizeof(db), "%s.db", path);
	if ((stat(path, &st) == 0 && (st.st_mode & S_IROTH)) ||
	    (stat(db, &st) == 0 && (st.st_mode & S_IROTH))) {
		snprintf(err, errlen, "%s is world-readable: refusing to use its passwords"
			 " (chmod 600 it and its .db)", path);
		return NULL;
	}
	if (!(d = dict_open(path, DICT_CASE | DICT_REQUIRED, why, sizeof(why)))) {
		snprintf(err, errlen, "no password for mailbox %s: %s", name, why);
		return NULL;
	}
	if ((v = dict_lookup(d, name)) != NULL)
		pw = xstrdup(v);
	else
		snprintf(err, errlen, "no password for mailbox %s in %s", name, path);
	dict_close(d);
	return pw;
}

void mailbox_pop3_opts(const mailbox *mb, const char *password, pop3_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->host = mb->server;
	o->port = mb->port;
	o->tls = mb->tls;
	o->verify = mb->verify;
	o->ca_file = *conf_str("pop_tls_ca_file") ? conf_str("pop_tls_ca_file") : NULL;
	o->user = mb->user;
	o->password = password;
	o->apop = mb->apop;
	o->allow_plaintext_auth = mb->allow_plaintext;
	o->timeout_ms = (int)(conf_time("pop_timeout") * 1000);
}

int pop_before_smtp(char *err, size_t errlen)
{
	static time_t last;
	const char *want = conf_str("smtp_pop_before_smtp_mailbox");
	mailbox boxes[16];
	const mailbox *mb = NULL;
	pop3_opts o;
	char *pw;
	int n, rc;

	if (last && time(NULL) - last < conf_time("smtp_pop_before_smtp_interval"))
		return 0;
	if ((n = mailbox_load_conf(boxes, 16, err, errlen)) < 0)
		return -1;
	for (int i = 0; i < n && !mb; i++)
		if (!want[0] || !strcmp(boxes[i].name, want))
			mb = &boxes[i];
	if (!mb) {
		snprintf(err, errlen, "POP-before-SMTP: no mailbox %s in pop_mailboxes",
			 want[0] ? want : "at all");
		return -1;
	}
	if (!(pw = mailbox_password(mb->name, err, errlen)))
		return -1;
	mailbox_pop3_opts(mb, pw, &o);
	rc = pop3_login_only(&o, err, errlen);
	explicit_bzero(pw, strlen(pw));
	free(pw);
	if (rc == 0) {
		last = time(NULL);
		msg_info("POP-before-SMTP: logged in to %s (mailbox %s)", mb->server, mb->name);
	}
	return rc;
}
