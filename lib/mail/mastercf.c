/*
 * mastercf.c - parse master.cf into service entries (Postfix columns and syntax).
 *
 * Contract: see mastercf.h. Logical lines are joined (a whitespace-led line continues
 * the entry), each is split into words (`{ ... }` keeps whitespace inside one word),
 * the seven columns are checked and defaulted, and -o overrides are normalised to
 * "name=value" so master can pass them on unchanged. Any error stops the parse with
 * "FILE:LINE: why"; nothing half-parsed is returned.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/mastercf.h"
#include "util/buf.h"
#include "util/msg.h"

#define MASTERCF_MAX_FILE (1024 * 1024)
#define MASTERCF_MAX_WORDS 256

typedef struct mcf_parser {
	const char *fname;
	int dpl;		/* default_process_limit */
	int line;		/* first line of the current logical line */
	char *err;
	size_t errlen;
	mastercf_entry *ent;
	size_t n, cap;
} mcf_parser;

static int mcf_error(mcf_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int mcf_error(mcf_parser *p, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%d: %s", p->fname, p->line, why);
	return -1;
}

static void mcf_entry_free(mastercf_entry *e)
{
	int i;

	free(e->service);
	free(e->type);
	for (i = 0; i < e->argc; i++)
		free(e->argv[i]);
	free(e->argv);
	for (i = 0; i < e->nopt; i++)
		free(e->opts[i]);
	free(e->opts);
	memset(e, 0, sizeof(*e));
}

void mastercf_free(mastercf_entry *entries, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		mcf_entry_free(&entries[i]);
	free(entries);
}

/* Split a logical line into words; `{ a b }` is one word "a b" (braces may nest). */
static int mcf_split(mcf_parser *p, char *s, char **words, int *nwords)
{
	int n = 0, depth;
	char *start, *end;

	for (;;) {
		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		if (n == MASTERCF_MAX_WORDS)
			return mcf_error(p, "too many words in entry");
		if (*s == '{') {
			start = ++s;
			for (depth = 1; *s && depth; s++)
				depth += (*s == '{') - (*s == '}');
			if (depth)
				return mcf_error(p, "missing '}'");
			end = s - 1;	/* the closing brace */
			if (*s && !isspace((unsigned char)*s))
				return mcf_error(p, "syntax error after '}' at \"%.20s\"", s);
			*end = 0;
			while (isspace((unsigned char)*start))
				start++;
			while (end > start && isspace((unsigned char)end[-1]))
				*--end = 0;
			words[n++] = start;
			continue;
		}
		words[n++] = s;
		while (*s && !isspace((unsigned char)*s))
			s++;
		if (*s)
			*s++ = 0;
	}
	*nwords = n;
	return 0;
}

static int mcf_bool(mcf_parser *p, const char *col, const char *v, int def, int *out)
{
	if (strcmp(v, "-") == 0)
		*out = def;
	else if (strcmp(v, "y") == 0)
		*out = 1;
	else if (strcmp(v, "n") == 0)
		*out = 0;
	else
		return mcf_error(p, "bad %s field '%s' (want y, n or -)", col, v);
	return 0;
}

static int mcf_number(mcf_parser *p, const char *col, const char *v, int allow_q,
		      int *out, int *q)
{
	char *end;
	long val;

	if (q)
		*q = 0;
	if (!isdigit((unsigned char)v[0]))
		return mcf_error(p, "bad %s field '%s'", col, v);
	errno = 0;
	val = strtol(v, &end, 10);
	if (allow_q && *end == '?' && end[1] == 0) {
		*q = 1;
		end++;
	}
	if (errno || *end || val > 1000000)
		return mcf_error(p, "bad %s field '%s'", col, v);
	*out = (int)val;
	return 0;
}

static int mcf_type_ok(const char *t)
{
	static const char *const types[] = { "inet", "unix", "unix-dgram", "fifo", "pass" };
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(t, types[i]) == 0)
			return 1;
	return 0;
}

/* "name = value" (from { }) -> "name=value"; checks the name. */
static char *mcf_option(mcf_parser *p, const char *arg)
{
	const char *eq = strchr(arg, '='), *ne, *v;
	const char *c;
	buf b;

	if (!eq || eq == arg) {
		mcf_error(p, "bad -o argument \"%s\" (want name=value)", arg);
		return NULL;
	}
	ne = eq;
	while (ne > arg && isspace((unsigned char)ne[-1]))
		ne--;
	for (c = arg; c < ne; c++)
		if (!isalnum((unsigned char)*c) && *c != '_') {
			mcf_error(p, "bad parameter name in -o \"%s\"", arg);
			return NULL;
		}
	if (ne == arg) {
		mcf_error(p, "bad -o argument \"%s\" (want name=value)", arg);
		return NULL;
	}
	v = eq + 1;
	while (isspace((unsigned char)*v))
		v++;
	buf_init(&b, 0);
	buf_append(&b, arg, (size_t)(ne - arg));
	buf_append_char(&b, '=');
	buf_append_str(&b, v);
	return b.data;
}

static void mcf_push(char ***vec, int *n, char *s)
{
	*vec = xrealloc(*vec, (size_t)(*n + 2) * sizeof(char *));
	(*vec)[(*n)++] = s;
	(*vec)[*n] = NULL;
}

/* Build the command vector from words[7..]. */
static int mcf_command(mcf_parser *p, mastercf_entry *e, char **w, int nw)
{
	int i;
	char *opt;

	e->argv = xcalloc(1, sizeof(char *));
	e->opts = xcalloc(1, sizeof(char *));
	for (i = 0; i < nw; i++) {
		if (i > 0 && strncmp(w[i], "-o", 2) == 0) {
			const char *arg = w[i][2] ? w[i] + 2 : (i + 1 < nw ? w[++i] : NULL);

			if (!arg)
				return mcf_error(p, "-o without name=value");
			if ((opt = mcf_option(p, arg)) == NULL)
				return -1;
			mcf_push(&e->argv, &e->argc, xstrdup("-o"));
			mcf_push(&e->argv, &e->argc, opt);
			mcf_push(&e->opts, &e->nopt, xstrdup(opt));
			continue;
		}
		mcf_push(&e->argv, &e->argc, xstrdup(w[i]));
	}
	return 0;
}

static int mcf_entry(mcf_parser *p, char **w, int nw, mastercf_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->line = p->line;
	if (nw < 8)
		return mcf_error(p, "entry has %d fields, want at least 8 (service type private "
				 "unpriv chroot wakeup maxproc command)", nw);
	if (!mcf_type_ok(w[1]))
		return mcf_error(p, "bad type '%s' (want inet, unix, unix-dgram, fifo or pass)", w[1]);
	if (mcf_bool(p, "private", w[2], 1, &e->private_) < 0
	    || mcf_bool(p, "unpriv", w[3], 1, &e->unpriv) < 0
	    || mcf_bool(p, "chroot", w[4], 0, &e->chroot) < 0)
		return -1;
	if (strcmp(w[1], "inet") == 0)
		e->private_ = 0;	/* inet sockets live in no directory */
	if (strcmp(w[5], "-") != 0
	    && mcf_number(p, "wakeup", w[5], 1, &e->wakeup, &e->wakeup_used_only) < 0)
		return -1;
	if (strcmp(w[6], "-") == 0)
		e->maxproc = p->dpl;
	else if (mcf_number(p, "maxproc", w[6], 0, &e->maxproc, NULL) < 0)
		return -1;
	if (!w[0][0])
		return mcf_error(p, "empty service name");
	if (strchr(w[7], '/'))
		return mcf_error(p, "command '%s' must be a name in daemon_directory", w[7]);
	e->service = xstrdup(w[0]);
	e->type = xstrdup(w[1]);
	return mcf_command(p, e, w + 7, nw - 7);
}

/* Add e, replacing an earlier entry with the same service/type (last one wins). */
static void mcf_add(mcf_parser *p, mastercf_entry *e)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (strcmp(p->ent[i].service, e->service) == 0
		    && strcmp(p->ent[i].type, e->type) == 0) {
			msg_warn("%s:%d: duplicate master.cf entry %s/%s (also at line %d); "
				 "using this one", p->fname, e->line, e->service, e->type,
				 p->ent[i].line);
			mcf_entry_free(&p->ent[i]);
			memmove(&p->ent[i], &p->ent[i + 1], (p->n - i - 1) * sizeof(*e));
			p->n--;
			break;
		}
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->ent = xrealloc(p->ent, p->cap * sizeof(*e));
	}
	p->ent[p->n++] = *e;
}

static int mcf_logical(mcf_parser *p, buf *logical)
{
	char *words[MASTERCF_MAX_WORDS];
	int nw = 0;
	mastercf_entry e;

	if (logical->len == 0)
		return 0;
	if (mcf_split(p, logical->data, words, &nw) < 0)
		return -1;
	if (mcf_entry(p, words, nw, &e) < 0) {
		mcf_entry_free(&e);
		return -1;
	}
	mcf_add(p, &e);
	return 0;
}

int mastercf_parse(const char *text, const char *fname, int default_process_limit,
		   mastercf_entry **out, size_t *n, char *err, size_t errlen)
{
	mcf_parser p = { .fname = fname, .dpl = default_process_limit, .err = err,
			 .errlen = errlen };
	buf logical;
	const char *s = text, *nl, *c;
	int lineno = 0, rc = 0;
	size_t len;

	buf_init(&logical, 0);
	for (; *s && rc == 0; s = *nl ? nl + 1 : nl) {
		nl = strchr(s, '\n');
		if (!nl)
			nl = s + strlen(s);
		lineno++;
		len = (size_t)(nl - s);
		for (c = s; c < nl && isspace((unsigned char)*c); c++)
			;
		if (c == nl || *c == '#')
			continue;	/* blank or comment, even inside an entry */
		if (c == s) {	/* a new entry starts: finish the previous one */
			rc = mcf_logical(&p, &logical);
			buf_reset(&logical);
			p.line = lineno;
		} else if (logical.len == 0) {
			p.line = lineno;
			rc = mcf_error(&p, "continuation line without an entry before it");
			break;
		}
		buf_append_char(&logical, ' ');
		buf_append(&logical, s, len);	/* a CR is whitespace to the splitter */
	}
	if (rc == 0)
		rc = mcf_logical(&p, &logical);
	buf_free(&logical);
	if (rc < 0) {
		mastercf_free(p.ent, p.n);
		*out = NULL;
		*n = 0;
		return -1;
	}
	*out = p.ent;
	*n = p.n;
	return 0;
}

int mastercf_load(const char *path, int default_process_limit, mastercf_entry **out,
		  size_t *n, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "r");
	const char *base = strrchr(path, '/');
	char tmp[4096];
	size_t got;
	buf text;
	int rc;

	*out = NULL;
	*n = 0;
	if (!fp) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	buf_init(&text, MASTERCF_MAX_FILE);
	while ((got = fread(tmp, 1, sizeof(tmp), fp)) > 0)
		if (buf_append(&text, tmp, got) < 0) {
			snprintf(err, errlen, "%s: file too large", path);
			fclose(fp);
			buf_free(&text);
			return -1;
		}
	if (ferror(fp)) {
		snprintf(err, errlen, "read %s: %s", path, strerror(errno));
		fclose(fp);
		buf_free(&text);
		return -1;
	}
	fclose(fp);
	if (memchr(buf_str(&text), 0, text.len)) {
		snprintf(err, errlen, "%s: contains a NUL byte", path);
		buf_free(&text);
		return -1;
	}
	rc = mastercf_parse(buf_str(&text), base ? base + 1 : path, default_process_limit,
			    out, n, err, errlen);
	buf_free(&text);
	return rc;
}

const mastercf_entry *mastercf_find(const mastercf_entry *entries, size_t n,
				    const char *service, const char *type)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(entries[i].service, service) == 0
		    && (!type || strcmp(entries[i].type, type) == 0))
			return &entries[i];
	return NULL;
}
