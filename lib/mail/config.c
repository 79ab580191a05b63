/*
 * config.c - main.cf: Postfix syntax, typed parameters with defaults, lazy expansion.
 *
 * Contract: see config.h. The table conf_params[] (config_params.c) declares every
 * parameter; this file keeps, per declared parameter, the value from main.cf (with its
 * line) and an override, and expands `$name`, `${name}`, `$(name)`, `${name?text}`,
 * `${name:text}` and `$$` at lookup, recursively, with loop detection. Names that
 * main.cf defines but the table does not know are kept (a value may refer to them, as
 * in Postfix) and warned about unless some value refers to them.
 *
 * config_load() checks everything before it succeeds: syntax, loops, and that every
 * int/bool/time/size parameter parses after expansion, so a daemon that starts with a
 * loaded config never meets a bad value later ("main.cf:LINE: parameter NAME: why").
 * Strings returned by conf_str()/conf_raw() stay valid until the next config_load().
 * Overrides survive config_load() (they win over whatever the file says).
 * Lookups may run in several threads at once (a lock guards the lazy caches);
 * config_load()/config_override() are for start-up, before threads exist.
 *
 * Editing main.cf (config_edit) is in config_edit.c.
 *
 * Computed defaults: an empty myhostname is gethostname(); an empty mydomain is
 * myhostname without its first label ("localdomain" when it has no dot).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/config.h"
#include "mail/config_impl.h"
#include "util/buf.h"
#include "util/msg.h"

#define CONF_MAX_FILE (4 * 1024 * 1024)
#define CONF_MAX_VALUE (1024 * 1024)
#define CONF_MAX_DEPTH 64
#define CONF_DEFAULT_DIR "/etc/faxpost"

typedef struct conf_slot {
	const conf_param *param;	/* NULL for a name only main.cf knows */
	const char *name;
	char *file;			/* value from main.cf, or NULL */
	int line;			/* its first line */
	char *over;			/* override, or NULL */
	char *cache;			/* expanded value, or NULL */
} conf_slot;

static struct {
	conf_slot *slot;		/* declared params sorted by name, then extras */
	size_t ndeclared, n, cap;
	char *dir;
	char **old;			/* retired cache strings, freed at config_load */
	size_t nold, capold;
} cf;

/* ---- the table ---------------------------------------------------------------- */

static int conf_slot_cmp(const void *a, const void *b)
{
	return strcmp(((const conf_slot *)a)->name, ((const conf_slot *)b)->name);
}

static void conf_init(void)
{
	size_t i, n = 0;

	if (cf.slot)
		return;
	while (conf_params[n].name)
		n++;
	cf.cap = n + 16;
	cf.slot = xcalloc(cf.cap, sizeof(conf_slot));
	for (i = 0; i < n; i++) {
		cf.slot[i].param = &conf_params[i];
		cf.slot[i].name = conf_params[i].name;
	}
	qsort(cf.slot, n, sizeof(conf_slot), conf_slot_cmp);
	for (i = 1; i < n; i++)
		if (strcmp(cf.slot[i - 1].name, cf.slot[i].name) == 0)
			msg_warn("parameter %s is declared twice in the parameter table",
				 cf.slot[i].name);
	cf.ndeclared = cf.n = n;
}

static conf_slot *conf_find_len(const char *name, size_t len)
{
	size_t lo = 0, hi, mid, i;
	int c;

	conf_init();
	hi = cf.ndeclared;
	while (lo < hi) {
		mid = (lo + hi) / 2;
		c = strncmp(name, cf.slot[mid].name, len);
		if (c == 0 && cf.slot[mid].name[len])
			c = -1;
		if (c == 0)
			return &cf.slot[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	for (i = cf.ndeclared; i < cf.n; i++)
		if (strncmp(cf.slot[i].name, name, len) == 0 && !cf.slot[i].name[len])
			return &cf.slot[i];
	return NULL;
}

static conf_slot *conf_find(const char *name)
{
	return conf_find_len(name, strlen(name));
}

const conf_param *conf_param_of(const char *name)
{
	const conf_slot *s = conf_find(name);

	return s ? s->param : NULL;
}

static conf_slot *conf_declared(const char *name)
{
	conf_slot *s = conf_find(name);

	if (!s || !s->param)
		msg_panic("lookup of undeclared parameter \"%s\"", name);
	return s;
}

static conf_slot *conf_add_extra(const char *name)
{
	conf_slot *s;

	if (cf.n == cf.cap) {
		cf.cap *= 2;
		cf.slot = xrealloc(cf.slot, cf.cap * sizeof(conf_slot));
	}
	s = &cf.slot[cf.n++];
	memset(s, 0, sizeof(*s));
	s->name = xstrdup(name);
	return s;
}

/* Forget every expanded value (a value changed). Keep the strings: callers may
 * still hold pointers from conf_str(). */
static void conf_flush_cache(void)
{
	size_t i;

	for (i = 0; i < cf.n; i++) {
		if (!cf.slot[i].cache)
			continue;
		if (cf.nold == cf.capold) {
			cf.capold = cf.capold ? cf.capold * 2 : 32;
			cf.old = xrealloc(cf.old, cf.capold * sizeof(char *));
		}
		cf.old[cf.nold++] = cf.slot[i].cache;
		cf.slot[i].cache = NULL;
	}
}

static void conf_clear(void)
{
	size_t i;

	conf_init();
	for (i = 0; i < cf.n; i++) {
		free(cf.slot[i].file);
		free(cf.slot[i].cache);
		if (!cf.slot[i].param)
			free((char *)cf.slot[i].name);
		cf.slot[i].file = cf.slot[i].cache = NULL;
		cf.slot[i].line = 0;
	}
	cf.n = cf.ndeclared;
	for (i = 0; i < cf.nold; i++)
		free(cf.old[i]);
	cf.nold = 0;
}

/* ---- expansion ---------------------------------------------------------------- */

typedef struct conf_stack {
	const char *name[CONF_MAX_DEPTH];
	int depth;
} conf_stack;

static const char *conf_raw_slot(const conf_slot *s)
{
	if (s->over)
		return s->over;
	if (s->file)
		return s->file;
	return s->param ? s->param->def : "";
}

static int conf_value(conf_slot *s, buf *out, conf_stack *st, char *err, size_t errlen);

int conf_is_name_char(int c)
{
	return isalnum(c) || c == '_';
}

/* Expand the value of the parameter called name[0..len) into out. */
static int conf_expand_name(const char *name, size_t len, buf *out, conf_stack *st,
			    char *err, size_t errlen)
{
	conf_slot *s = conf_find_len(name, len);

	if (!s)
		return 0;	/* undefined: empty, as Postfix */
	return conf_value(s, out, st, err, errlen);
}

/* Position of the '}' or ')' closing the group opened just before p, or NULL. */
static const char *conf_group_end(const char *p, char open, char close)
{
	int depth = 1;

	for (; *p; p++) {
		if (*p == open)
			depth++;
		else if (*p == close && --depth == 0)
			return p;
	}
	return NULL;
}

static int conf_expand(const char *raw, buf *out, conf_stack *st, char *err, size_t errlen);

/* ${name}, ${name?text}, ${name:text}, $(name): p is past the opening bracket,
 * end at the closing one. */
static int conf_expand_group(const char *p, const char *end, buf *out, conf_stack *st,
			     char *err, size_t errlen)
{
	const char *n = p;
	char *text;
	buf val;
	int rc;

	while (n < end && conf_is_name_char((unsigned char)*n))
		n++;
	if (n == p) {
		snprintf(err, errlen, "bad $ expression \"%.*s\"", (int)(end - p), p);
		return -1;
	}
	if (n == end)
		return conf_expand_name(p, (size_t)(n - p), out, st, err, errlen);
	if (*n != '?' && *n != ':') {
		snprintf(err, errlen, "bad $ expression \"%.*s\"", (int)(end - p), p);
		return -1;
	}
	buf_init(&val, CONF_MAX_VALUE);
	rc = conf_expand_name(p, (size_t)(n - p), &val, st, err, errlen);
	if (rc == 0 && ((*n == '?') == (val.len > 0))) {
		text = xstrndup(n + 1, (size_t)(end - n - 1));
		rc = conf_expand(text, out, st, err, errlen);
		free(text);
	}
	buf_free(&val);
	return rc;
}

static int conf_expand(const char *raw, buf *out, conf_stack *st, char *err, size_t errlen)
{
	const char *p = raw, *q, *end;
	char close;

	while (*p) {
		if (*p != '$') {
			q = strchr(p, '$');
			if (!q)
				q = p + strlen(p);
			if (buf_append(out, p, (size_t)(q - p)) < 0)
				goto toolong;
			p = q;
			continue;
		}
		p++;
		if (*p == '$') {
			if (buf_append_char(out, '$') < 0)
				goto toolong;
			p++;
		} else if (*p == '{' || *p == '(') {
			close = *p == '{' ? '}' : ')';
			end = conf_group_end(p + 1, *p, close);
			if (!end) {
				snprintf(err, errlen, "missing '%c' in \"%.40s\"", close, p - 1);
				return -1;
			}
			if (conf_expand_group(p + 1, end, out, st, err, errlen) < 0)
				return -1;
			p = end + 1;
		} else if (conf_is_name_char((unsigned char)*p)) {
			for (q = p; conf_is_name_char((unsigned char)*q); q++)
				;
			if (conf_expand_name(p, (size_t)(q - p), out, st, err, errlen) < 0)
				return -1;
			p = q;
		} else if (buf_append_char(out, '$') < 0) {	/* lone '$': literal */
			goto toolong;
		}
	}
	return 0;
toolong:
	snprintf(err, errlen, "value too long after expansion");
	return -1;
}

static void conf_hostname(buf *out)
{
	char host[256];

	if (gethostname(host, sizeof(host) - 1) < 0)
		str_copy(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = 0;
	buf_append_str(out, host);
}

/* The computed defaults of myhostname and mydomain, used when the value is empty. */
static int conf_computed(conf_slot *s, buf *out, conf_stack *st, char *err, size_t errlen)
{
	buf host;
	const char *dot;
	int rc = 0;

	if (strcmp(s->name, "myhostname") == 0) {
		conf_hostname(out);
	} else if (strcmp(s->name, "mydomain") == 0 && conf_find("myhostname")) {
		buf_init(&host, CONF_MAX_VALUE);
		rc = conf_expand_name("myhostname", 10, &host, st, err, errlen);
		dot = strchr(buf_str(&host), '.');
		buf_append_str(out, dot && dot[1] ? dot + 1 : "localdomain");
		buf_free(&host);
	}
	return rc;
}

/* The expanded value of slot s, appended to out. */
static int conf_value(conf_slot *s, buf *out, conf_stack *st, char *err, size_t errlen)
{
	size_t start = out->len;
	int i, rc;

	if (s->cache)
		return buf_append_str(out, s->cache) < 0 ? -1 : 0;
	for (i = 0; i < st->depth; i++)
		if (strcmp(st->name[i], s->name) == 0) {
			snprintf(err, errlen, "recursive expansion of $%s", s->name);
			return -1;
		}
	if (st->depth == CONF_MAX_DEPTH) {
		snprintf(err, errlen, "expansion nested too deep at $%s", s->name);
		return -1;
	}
	st->name[st->depth++] = s->name;
	rc = conf_expand(conf_raw_slot(s), out, st, err, errlen);
	if (rc == 0 && out->len == start && s->param)
		rc = conf_computed(s, out, st, err, errlen);
	st->depth--;
	return rc;
}

/* Expanded value of s, cached. NULL with err set on a loop. */
static const char *conf_get(conf_slot *s, char *err, size_t errlen)
{
	conf_stack st = { .depth = 0 };
	buf b;

	if (s->cache)
		return s->cache;
	buf_init(&b, CONF_MAX_VALUE);
	if (conf_value(s, &b, &st, err, errlen) < 0) {
		buf_free(&b);
		return NULL;
	}
	if (!b.data)
		buf_append(&b, "", 0);
	s->cache = b.data;
	return s->cache;
}

/* ---- typed values ------------------------------------------------------------- */

static int conf_parse_int(const char *v, long long *out, char *err, size_t errlen)
{
	char *end;

	errno = 0;
	*out = strtoll(v, &end, 10);
	if (!*v || errno || *end || isspace((unsigned char)*v)) {
		snprintf(err, errlen, "bad integer value \"%s\"", v);
		return -1;
	}
	return 0;
}

static int conf_parse_bool(const char *v, int *out, char *err, size_t errlen)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1"))
		*out = 1;
	else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0"))
		*out = 0;
	else {
		snprintf(err, errlen, "bad boolean value \"%s\" (want yes or no)", v);
		return -1;
	}
	return 0;
}

/* Digits and one optional unit letter from units (with its multiplier). */
static int conf_parse_unit(const char *v, const char *units, const long long *mult,
			   long long *out)
{
	char *end;
	const char *u;
	long long n;

	if (!isdigit((unsigned char)*v))
		return -1;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno)
		return -1;
	if (*end) {
		if (end[1] || !(u = strchr(units, tolower((unsigned char)*end))))
			return -1;
		if (n > LLONG_MAX / mult[u - units])
			return -1;
		n *= mult[u - units];
	}
	*out = n;
	return 0;
}

static int conf_parse_time(const char *v, long long *out, char *err, size_t errlen)
{
	static const long long mult[] = { 1, 60, 3600, 86400, 604800 };

	if (conf_parse_unit(v, "smhdw", mult, out) < 0) {
		snprintf(err, errlen, "bad time value \"%s\" (want e.g. 30s 5m 2h 1d 1w)", v);
		return -1;
	}
	return 0;
}

static int conf_parse_size(const char *v, long long *out, char *err, size_t errlen)
{
	static const long long mult[] = { 1024LL, 1024LL * 1024, 1024LL * 1024 * 1024 };

	if (conf_parse_unit(v, "kmg", mult, out) < 0) {
		snprintf(err, errlen, "bad size value \"%s\" (want bytes, or e.g. 10k 10m 1g)", v);
		return -1;
	}
	return 0;
}

int conf_check_typed(const conf_param *p, const char *v, char *err, size_t errlen)
{
	long long ll;
	int b;

	switch (p->type) {
	case CONF_INT:
		return conf_parse_int(v, &ll, err, errlen);
	case CONF_BOOL:
		return conf_parse_bool(v, &b, err, errlen);
	case CONF_TIME:
		return conf_parse_time(v, &ll, err, errlen);
	case CONF_SIZE:
		return conf_parse_size(v, &ll, err, errlen);
	default:
		return 0;
	}
}

/* Check that the expanded value of s fits its type. */
static int conf_check(conf_slot *s, char *err, size_t errlen)
{
	const char *v = conf_get(s, err, errlen);

	if (!v)
		return -1;
	return s->param ? conf_check_typed(s->param, v, err, errlen) : 0;
}

/* ---- main.cf reading ---------------------------------------------------------- */

int conf_read_file(const char *path, buf *text, char *err, size_t errlen)
{
	char tmp[8192];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	buf_init(text, CONF_MAX_FILE);
	while ((n = read(fd, tmp, sizeof(tmp))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || buf_append(text, tmp, (size_t)n) < 0) {
			snprintf(err, errlen, "read %s: %s", path, n < 0 ? strerror(errno) : "file too large");
			close(fd);
			buf_free(text);
			return -1;
		}
	}
	close(fd);
	if (memchr(buf_str(text), 0, text->len)) {
		snprintf(err, errlen, "%s: contains a NUL byte", path);
		buf_free(text);
		return -1;
	}
	return 0;
}

/* One logical line "name = value" (continuations already joined). */
static int conf_define(char *line, int lineno, char *err, size_t errlen)
{
	char *p = line, *name, *v, *e;
	conf_slot *s;

	name = p;
	while (conf_is_name_char((unsigned char)*p))
		p++;
	e = p;
	while (isspace((unsigned char)*p))
		p++;
	if (e == name || *p != '=') {
		snprintf(err, errlen, "main.cf:%d: bad line \"%.40s\" (want name = value)",
			 lineno, line);
		return -1;
	}
	*e = 0;
	v = p + 1;
	while (isspace((unsigned char)*v))
		v++;
	e = v + strlen(v);
	while (e > v && isspace((unsigned char)e[-1]))
		*--e = 0;
	s = conf_find(name);
	if (!s)
		s = conf_add_extra(name);
	free(s->file);
	s->file = xstrdup(v);
	s->line = lineno;
	return 0;
}

/* Split text into logical lines: blank and '#' lines are skipped anywhere, a line
 * led by whitespace continues the one before (joined with one space). */
static int conf_parse_text(const char *text, char *err, size_t errlen)
{
	const char *s = text, *nl, *c;
	buf logical;
	int lineno = 0, first = 0, rc = 0;

	buf_init(&logical, CONF_MAX_FILE);
	for (; *s && rc == 0; s = *nl ? nl + 1 : nl) {
		nl = strchr(s, '\n');
		if (!nl)
			nl = s + strlen(s);
		lineno++;
		for (c = s; c < nl && isspace((unsigned char)*c); c++)
			;
		if (c == nl || *c == '#')
			continue;
		if (c == s) {
			if (logical.len)
				rc = conf_define(logical.data, first, err, errlen);
			buf_reset(&logical);
			first = lineno;
		} else if (logical.len == 0) {
			snprintf(err, errlen, "main.cf:%d: continuation line without a parameter "
				 "before it", lineno);
			rc = -1;
			break;
		} else {
			buf_append_char(&logical, ' ');
		}
		buf_append(&logical, c, (size_t)(nl - c));
	}
	if (rc == 0 && logical.len)
		rc = conf_define(logical.data, first, err, errlen);
	buf_free(&logical);
	return rc;
}

/* Does any value refer to $name / ${name / $(name? */
static int conf_referenced(const char *name)
{
	size_t i, len = strlen(name);
	const char *v, *p;

	for (i = 0; i < cf.n; i++) {
		v = conf_raw_slot(&cf.slot[i]);
		for (p = strchr(v, '$'); p; p = strchr(p + 1, '$')) {
			const char *q = p + 1;

			if (*q == '{' || *q == '(')
				q++;
			if (strncmp(q, name, len) == 0 && !conf_is_name_char((unsigned char)q[len]))
				return 1;
		}
	}
	return 0;
}

static int conf_line_cmp(const void *a, const void *b)
{
	return (*(conf_slot *const *)a)->line - (*(conf_slot *const *)b)->line;
}

static int conf_validate_one(conf_slot *s, char *err, size_t errlen)
{
	char why[512];

	if (conf_check(s, why, sizeof(why)) == 0)
		return 0;
	if (s->file && !s->over)
		snprintf(err, errlen, "main.cf:%d: parameter %s: %s", s->line, s->name, why);
	else
		snprintf(err, errlen, "main.cf: parameter %s: %s", s->name, why);
	return -1;
}

/* What main.cf sets first, in file order (so errors carry the first bad line), then
 * the defaults of the rest. */
static int conf_validate(char *err, size_t errlen)
{
	conf_slot **set = xcalloc(cf.n, sizeof(conf_slot *));
	size_t i, nset = 0;
	int rc = 0;

	for (i = 0; i < cf.n; i++)
		if (cf.slot[i].file)
			set[nset++] = &cf.slot[i];
	qsort(set, nset, sizeof(conf_slot *), conf_line_cmp);
	for (i = 0; rc == 0 && i < nset; i++)
		rc = conf_validate_one(set[i], err, errlen);
	free(set);
	for (i = 0; rc == 0 && i < cf.ndeclared; i++)
		if (!cf.slot[i].file)
			rc = conf_validate_one(&cf.slot[i], err, errlen);
	return rc;
}

int config_load(const char *config_dir, char *err, size_t errlen)
{
	char path[PATH_MAX];
	buf text;
	size_t i;

	conf_clear();
	free(cf.dir);
	cf.dir = xstrdup(config_dir ? config_dir : CONF_DEFAULT_DIR);
	if (snprintf(path, sizeof(path), "%s/main.cf", cf.dir) >= (int)sizeof(path)) {
		snprintf(err, errlen, "config directory name too long");
		return -1;
	}
	if (conf_read_file(path, &text, err, errlen) < 0)
		return -1;
	if (conf_parse_text(buf_str(&text), err, errlen) < 0) {
		buf_free(&text);
		conf_clear();
		return -1;
	}
	buf_free(&text);
	for (i = cf.ndeclared; i < cf.n; i++)
		if (!conf_referenced(cf.slot[i].name))
			msg_warn("main.cf:%d: unknown parameter %s", cf.slot[i].line,
				 cf.slot[i].name);
	if (conf_validate(err, errlen) < 0) {
		conf_clear();
		return -1;
	}
	return 0;
}

int config_override(const char *assignment, char *err, size_t errlen)
{
	const char *eq = strchr(assignment, '='), *v, *ne;
	char name[128], why[512];
	conf_slot *s;
	char *prev;
	buf val;

	ne = eq;
	while (ne && ne > assignment && isspace((unsigned char)ne[-1]))
		ne--;
	if (!eq || ne == assignment
	    || str_ncopy(name, sizeof(name), assignment, (size_t)(ne - assignment)) < 0) {
		snprintf(err, errlen, "bad override \"%s\" (want name=value)", assignment);
		return -1;
	}
	s = conf_find(name);
	if (!s || !s->param) {
		snprintf(err, errlen, "unknown parameter %s", name);
		return -1;
	}
	for (v = eq + 1; isspace((unsigned char)*v); v++)
		;
	buf_init(&val, CONF_MAX_VALUE);
	buf_append_str(&val, v);
	while (val.len && isspace((unsigned char)val.data[val.len - 1]))
		buf_truncate(&val, val.len - 1);
	prev = s->over;
	s->over = val.data ? val.data : xstrdup("");
	conf_flush_cache();
	if (conf_check(s, why, sizeof(why)) < 0) {
		free(s->over);
		s->over = prev;
		conf_flush_cache();
		snprintf(err, errlen, "parameter %s: %s", name, why);
		return -1;
	}
	free(prev);
	return 0;
}

/* ---- lookups ------------------------------------------------------------------ */

static pthread_mutex_t conf_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *conf_lookup(const char *name, conf_slot **sp)
{
	char why[512];
	conf_slot *s;
	const char *v;

	pthread_mutex_lock(&conf_lock);
	s = conf_declared(name);
	v = conf_get(s, why, sizeof(why));
	pthread_mutex_unlock(&conf_lock);
	if (!v)
		msg_fatal("main.cf: parameter %s: %s", name, why);
	*sp = s;
	return v;
}

const char *conf_str(const char *name)
{
	conf_slot *s;

	return conf_lookup(name, &s);
}

/* A value that was fine at load time can only go bad through a later override of
 * something it refers to; that is a configuration error: die with the reason. */
static void conf_bad(const conf_slot *s, const char *why)
{
	if (s->file && !s->over)
		msg_fatal("main.cf:%d: parameter %s: %s", s->line, s->name, why);
	msg_fatal("main.cf: parameter %s: %s", s->name, why);
}

long long conf_int(const char *name)
{
	char why[256];
	conf_slot *s;
	const char *v = conf_lookup(name, &s);
	long long n;

	if (conf_parse_int(v, &n, why, sizeof(why)) < 0)
		conf_bad(s, why);
	return n;
}

int conf_bool(const char *name)
{
	char why[256];
	conf_slot *s;
	const char *v = conf_lookup(name, &s);
	int b;

	if (conf_parse_bool(v, &b, why, sizeof(why)) < 0)
		conf_bad(s, why);
	return b;
}

long long conf_time(const char *name)
{
	char why[256];
	conf_slot *s;
	const char *v = conf_lookup(name, &s);
	long long n;

	if (conf_parse_time(v, &n, why, sizeof(why)) < 0)
		conf_bad(s, why);
	return n;
}

long long conf_size(const char *name)
{
	char why[256];
	conf_slot *s;
	const char *v = conf_lookup(name, &s);
	long long n;

	if (conf_parse_size(v, &n, why, sizeof(why)) < 0)
		conf_bad(s, why);
	return n;
}

/* Items are separated by commas and/or whitespace; `{ a b }` is one item "a b". */
size_t conf_list(const char *name, char **items, size_t max)
{
	const char *p = conf_str(name), *start, *end;
	size_t count = 0;

	for (;;) {
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		if (*p == '{' && (end = conf_group_end(p + 1, '{', '}')) != NULL) {
			start = p + 1;
			p = end + 1;
			while (start < end && isspace((unsigned char)*start))
				start++;
			while (end > start && isspace((unsigned char)end[-1]))
				end--;
		} else {
			start = p;
			while (*p && *p != ',' && !isspace((unsigned char)*p))
				p++;
			end = p;
		}
		if (count < max)
			items[count] = xstrndup(start, (size_t)(end - start));
		count++;
	}
	return count;
}

void conf_list_free(char **items, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(items[i]);
		items[i] = NULL;
	}
}

int conf_is_set(const char *name)
{
	conf_slot *s;

	pthread_mutex_lock(&conf_lock);
	s = conf_declared(name);
	pthread_mutex_unlock(&conf_lock);
	return s->file != NULL || s->over != NULL;
}

const char *conf_raw(const char *name)
{
	conf_slot *s;

	pthread_mutex_lock(&conf_lock);
	s = conf_declared(name);
	pthread_mutex_unlock(&conf_lock);
	return conf_raw_slot(s);
}

const char *config_directory(void)
{
	return cf.dir ? cf.dir : CONF_DEFAULT_DIR;
}
