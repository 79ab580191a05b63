/*
 * featureset.c - RFC 2533 media feature-set expressions (parser, canonical printer,
 * matching, intersection), used with the RFC 2879 fax tags.
 *
 * Contract (see featureset.h): fs_parse() accepts the RFC 2533 filter grammar with
 * ";q=" and extension parameters and unit designators ("300dpi"); it enforces
 * FS_MAX_LEN input bytes, FS_MAX_DEPTH nesting and a node budget, and fails with a
 * reason ("offset 12: expected ')'") on anything else. Named predicates ("(dims 640 480)
 * where (dims x y) :- (& (pix-x=x) (pix-y=y)) end", top level only) are expanded at
 * parse time: formal parameters are replaced in the body's values; nesting is bounded
 * (they may not be recursive) and so is the expanded size.
 *
 * Semantics. Tags compare case-insensitively; tokens, quoted strings and booleans are
 * unordered values compared case-insensitively (the fax RFCs mix "Binary"/"binary");
 * numbers are exact reduced rationals compared by 128-bit cross multiplication; a
 * number with a unit designator belongs to a different feature (tag+unit). A token is
 * never equal to, nor ordered against, a number.
 *
 * Intersection follows RFC 2533 section 5: expand sets, push NOT inward, rewrite to the
 * primitives EQ LE GE NE NL NG, distribute into disjunctive normal form (capped at
 * FS_MAX_CONJ conjunctions), merge each conjunction per feature as an interval with
 * excluded values, drop unsatisfiable conjunctions. The surviving DNF is the result,
 * printed by fs_format() in the canonical grammar. When the DNF would be too large the
 * result is the plain conjunction (& a b) and *empty is 0: "cannot decide" is treated
 * like "may match", as RFC 4141 treats missing capability information.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/featureset.h"
#include "util/msg.h"

#define FS_MAX_NODES	2048	/* parse tree nodes per expression */
#define FS_MAX_CONJ	4096	/* DNF conjunctions during intersection */
#define FS_MAX_LITS	(1u << 18)	/* DNF literals in all */
#define FS_MAX_DIGITS	18

enum { V_NUM, V_TOK, V_STR, V_BOOL };
enum { N_AND, N_OR, N_NOT, N_SIMPLE, N_SET, N_FALSE, N_CALL /* only while parsing */ };
enum { OP_EQ, OP_LE, OP_GE };
enum { P_EQ, P_LE, P_GE, P_NE, P_NL, P_NG };

typedef struct fs_value {
	int kind;
	int64_t num, den;	/* V_NUM: reduced, den > 0 */
	char *text;		/* token/string text; V_NUM: unit designator or NULL */
} fs_value;

typedef struct fs_setent {
	fs_value lo, hi;
	int range;
} fs_setent;

struct fs_expr {
	int kind;
	int q;			/* ;q= in thousandths, -1 when absent */
	size_t n;		/* kids (AND/OR/NOT) or set entries */
	fs_expr **kids;
	char *tag;		/* SIMPLE/SET */
	int op;			/* SIMPLE */
	fs_value val;		/* SIMPLE */
	fs_setent *ent;		/* SET */
};

/* ---------------------------------------------------------------- values */

static int64_t fs_gcd(int64_t a, int64_t b)
{
	if (a < 0)
		a = -a;
	while (b) {
		int64_t t = a % b;
		a = b;
		b = t;
	}
	return a ? a : 1;
}

static int value_is_num(const fs_value *v)
{
	return v->kind == V_NUM;
}

static const char *value_unit(const fs_value *v)
{
	return v->kind == V_NUM ? v->text : NULL;
}

/* Compare two numbers: <0, 0, >0. */
static int num_cmp(const fs_value *a, const fs_value *b)
{
	__int128 l = (__int128)a->num * b->den, r = (__int128)b->num * a->den;

	return l < r ? -1 : l > r;
}

/* Equality of two values of any kind (mixed kinds are never equal). */
static int value_eq(const fs_value *a, const fs_value *b)
{
	if (value_is_num(a) != value_is_num(b))
		return 0;
	if (value_is_num(a))
		return num_cmp(a, b) == 0;
	return strcasecmp(a->text, b->text) == 0;
}

static void value_copy(fs_value *dst, const fs_value *src)
{
	*dst = *src;
	dst->text = src->text ? xstrdup(src->text) : NULL;
}

static void value_free(fs_value *v)
{
	free(v->text);
	v->text = NULL;
}

static int unit_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcasecmp(a, b) == 0;
}

/* ---------------------------------------------------------------- tree */

static fs_expr *node_new(int kind)
{
	fs_expr *e = xcalloc(1, sizeof(*e));

	e->kind = kind;
	e->q = -1;
	return e;
}

static void node_add(fs_expr *e, fs_expr *kid)
{
	e->kids = xrealloc(e->kids, (e->n + 1) * sizeof(*e->kids));
	e->kids[e->n++] = kid;
}

void fs_free(fs_expr *e)
{
	if (!e)
		return;
	if (e->kind == N_SET || e->kind == N_CALL) {
		for (size_t i = 0; i < e->n; i++) {
			value_free(&e->ent[i].lo);
			value_free(&e->ent[i].hi);
		}
		free(e->ent);
	} else {
		for (size_t i = 0; i < e->n; i++)
			fs_free(e->kids[i]);
	}
	free(e->kids);
	free(e->tag);
	value_free(&e->val);
	free(e);
}

static fs_expr *node_copy(const fs_expr *e)
{
	fs_expr *c = node_new(e->kind);

	c->q = e->q;
	c->op = e->op;
	c->tag = e->tag ? xstrdup(e->tag) : NULL;
	value_copy(&c->val, &e->val);
	if (e->kind == N_SET || e->kind == N_CALL) {
		c->ent = xcalloc(e->n, sizeof(*c->ent));
		for (size_t i = 0; i < e->n; i++) {
			value_copy(&c->ent[i].lo, &e->ent[i].lo);
			value_copy(&c->ent[i].hi, &e->ent[i].hi);
			c->ent[i].range = e->ent[i].range;
		}
		c->n = e->n;
	} else {
		for (size_t i = 0; i < e->n; i++)
			node_add(c, node_copy(e->kids[i]));
	}
	return c;
}

/* ---------------------------------------------------------------- parser */

typedef struct fs_parser {
	const char *start, *p, *end;
	char *err;
	size_t errlen;
	int depth;
	size_t nodes;
	int failed;
} fs_parser;

static void *parse_fail(fs_parser *ps, const char *what)
{
	if (!ps->failed) {
		ps->failed = 1;
		if (ps->err && ps->errlen)
			snprintf(ps->err, ps->errlen, "offset %zu: %s",
				 (size_t)(ps->p - ps->start), what);
	}
	return NULL;
}

static void skip_ws(fs_parser *ps)
{
	while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r' ||
				   *ps->p == '\n'))
		ps->p++;
}

static int peek(fs_parser *ps)
{
	skip_ws(ps);
	return ps->p < ps->end ? (unsigned char)*ps->p : -1;
}

static int accept(fs_parser *ps, char c)
{
	if (peek(ps) == c) {
		ps->p++;
		return 1;
	}
	return 0;
}

static int is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* RFC 2506 feature tags: accept [A-Za-z0-9][A-Za-z0-9.+_:/-]* (tags may be URIs). */
static int is_tagchar(int c)
{
	return is_alpha(c) || is_digit(c) || c == '.' || c == '+' || c == '_' || c == '-' ||
	       c == ':' || c == '/';
}

static char *parse_tag(fs_parser *ps)
{
	const char *s;

	skip_ws(ps);
	s = ps->p;
	if (ps->p >= ps->end || !(is_alpha(*ps->p) || is_digit(*ps->p)))
		return parse_fail(ps, "expected a feature tag");
	while (ps->p < ps->end && is_tagchar((unsigned char)*ps->p))
		ps->p++;
	return xstrndup(s, (size_t)(ps->p - s));
}

static const char *scan_token(fs_parser *ps)
{
	const char *s = ps->p;

	if (ps->p >= ps->end || !is_alpha(*ps->p))
		return NULL;
	while (ps->p < ps->end && (is_alpha(*ps->p) || is_digit(*ps->p) || *ps->p == '-'))
		ps->p++;
	return s;
}

static int parse_digits(fs_parser *ps, int64_t *out)
{
	int64_t v = 0;
	int n = 0;

	while (ps->p < ps->end && is_digit(*ps->p)) {
		if (++n > FS_MAX_DIGITS) {
			parse_fail(ps, "number too long");
			return -1;
		}
		v = v * 10 + (*ps->p++ - '0');
	}
	if (n == 0) {
		parse_fail(ps, "expected digits");
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_number(fs_parser *ps, fs_value *v)
{
	int neg = 0;
	int64_t num, den = 1, g;
	const char *save, *t;

	if (*ps->p == '+' || *ps->p == '-')
		neg = *ps->p++ == '-';
	if (parse_digits(ps, &num) < 0)
		return -1;
	if (ps->p < ps->end && *ps->p == '/') {
		ps->p++;
		if (parse_digits(ps, &den) < 0)
			return -1;
		if (den == 0) {
			parse_fail(ps, "zero denominator");
			return -1;
		}
	}
	g = fs_gcd(num, den);
	v->kind = V_NUM;
	v->num = (neg ? -num : num) / g;
	v->den = den / g;
	v->text = NULL;
	/* A unit designator: number *WSP token (RFC 2533 section 6.2). */
	save = ps->p;
	skip_ws(ps);
	if ((t = scan_token(ps)) != NULL)
		v->text = xstrndup(t, (size_t)(ps->p - t));
	else
		ps->p = save;
	return 0;
}

static int parse_value(fs_parser *ps, fs_value *v)
{
	int c = peek(ps);
	const char *s;

	memset(v, 0, sizeof(*v));
	if (c == '"') {
		s = ++ps->p;
		while (ps->p < ps->end && *ps->p != '"') {
			unsigned char ch = (unsigned char)*ps->p;
			if (ch < 0x20 || ch > 0x7e) {
				parse_fail(ps, "bad character in quoted string");
				return -1;
			}
			ps->p++;
		}
		if (ps->p >= ps->end) {
			parse_fail(ps, "unterminated quoted string");
			return -1;
		}
		v->kind = V_STR;
		v->text = xstrndup(s, (size_t)(ps->p - s));
		ps->p++;
		return 0;
	}
	if (c == '+' || c == '-' || is_digit(c))
		return parse_number(ps, v);
	if ((s = scan_token(ps)) != NULL) {
		size_t n = (size_t)(ps->p - s);
		v->text = xstrndup(s, n);
		v->kind = (strcasecmp(v->text, "TRUE") == 0 || strcasecmp(v->text, "FALSE") == 0)
			  ? V_BOOL : V_TOK;
		if (v->kind == V_BOOL) {
			for (char *q = v->text; *q; q++)
				*q = (char)toupper((unsigned char)*q);
		}
		return 0;
	}
	parse_fail(ps, "expected a value");
	return -1;
}

static fs_expr *parse_filter(fs_parser *ps);

static fs_expr *parse_set(fs_parser *ps, fs_expr *e)
{
	e->kind = N_SET;
	do {
		fs_setent ent;

		memset(&ent, 0, sizeof(ent));
		if (++ps->nodes > FS_MAX_NODES)
			return parse_fail(ps, "expression too large");
		if (parse_value(ps, &ent.lo) < 0)
			return NULL;
		skip_ws(ps);
		if (ps->end - ps->p >= 2 && ps->p[0] == '.' && ps->p[1] == '.') {
			ps->p += 2;
			ent.range = 1;
			if (parse_value(ps, &ent.hi) < 0) {
				value_free(&ent.lo);
				return NULL;
			}
		}
		e->ent = xrealloc(e->ent, (e->n + 1) * sizeof(*e->ent));
		e->ent[e->n++] = ent;
	} while (accept(ps, ','));
	if (!accept(ps, ']'))
		return parse_fail(ps, "expected ',' or ']' in set");
	return e;
}

/* ext-pred = fname *param: an invocation of a named predicate (RFC 2533 6.1). */
static fs_expr *parse_call(fs_parser *ps, fs_expr *e)
{
	e->kind = N_CALL;
	while (peek(ps) != ')' && peek(ps) != -1) {
		fs_setent ent;

		memset(&ent, 0, sizeof(ent));
		if (++ps->nodes > FS_MAX_NODES || e->n >= 32)
			return parse_fail(ps, "too many predicate parameters");
		if (parse_value(ps, &ent.lo) < 0)
			return NULL;
		e->ent = xrealloc(e->ent, (e->n + 1) * sizeof(*e->ent));
		e->ent[e->n++] = ent;
	}
	return e;
}

static fs_expr *parse_item(fs_parser *ps, fs_expr *e)
{
	int c;

	e->kind = N_SIMPLE;
	if ((e->tag = parse_tag(ps)) == NULL)
		return NULL;
	c = peek(ps);
	if (c == '=') {
		ps->p++;
		e->op = OP_EQ;
		if (accept(ps, '['))
			return parse_set(ps, e);
	} else if ((c == '<' || c == '>') && ps->p + 1 < ps->end && ps->p[1] == '=') {
		e->op = c == '<' ? OP_LE : OP_GE;
		ps->p += 2;
	} else if (c == ')' || c == '"' || c == '+' || c == '-' || is_digit(c) || is_alpha(c)) {
		return parse_call(ps, e);
	} else {
		return parse_fail(ps, "expected '=', '<=', '>=' or predicate parameters");
	}
	if (parse_value(ps, &e->val) < 0)
		return NULL;
	return e;
}

static fs_expr *parse_list(fs_parser *ps, fs_expr *e, int one)
{
	do {
		fs_expr *kid = parse_filter(ps);
		if (!kid)
			return NULL;
		node_add(e, kid);
	} while (!one && peek(ps) == '(');
	return e;
}

/* ";q=0.5" or ";ext-param=value": q is kept, others parsed and ignored. */
static int parse_params(fs_parser *ps, fs_expr *e)
{
	while (accept(ps, ';')) {
		const char *s;
		fs_value v;

		skip_ws(ps);
		if ((s = scan_token(ps)) == NULL) {
			parse_fail(ps, "expected a parameter name");
			return -1;
		}
		if (!accept(ps, '=')) {
			parse_fail(ps, "expected '=' after parameter name");
			return -1;
		}
		if ((size_t)(ps->p - s) == 2 && (s[0] == 'q' || s[0] == 'Q')) {
			int q = 0, scale = 1000, d = 0;
			skip_ws(ps);
			if (ps->p >= ps->end || (*ps->p != '0' && *ps->p != '1')) {
				parse_fail(ps, "bad q value");
				return -1;
			}
			q = (*ps->p++ - '0') * 1000;
			if (ps->p < ps->end && *ps->p == '.') {
				ps->p++;
				while (ps->p < ps->end && is_digit(*ps->p) && d < 3) {
					scale /= 10;
					q += (*ps->p++ - '0') * scale;
					d++;
				}
			}
			if (q > 1000 || (ps->p < ps->end && is_digit(*ps->p))) {
				parse_fail(ps, "bad q value");
				return -1;
			}
			e->q = q;
			continue;
		}
		if (parse_value(ps, &v) < 0)
			return -1;
		value_free(&v);
	}
	return 0;
}

static fs_expr *parse_filter(fs_parser *ps)
{
	fs_expr *e, *r;
	int c;

	if (!accept(ps, '('))
		return parse_fail(ps, "expected '('");
	if (++ps->depth > FS_MAX_DEPTH)
		return parse_fail(ps, "expression nested too deeply");
	if (++ps->nodes > FS_MAX_NODES)
		return parse_fail(ps, "expression too large");
	c = peek(ps);
	if (c == '&' || c == '|' || c == '!') {
		ps->p++;
		e = node_new(c == '&' ? N_AND : c == '|' ? N_OR : N_NOT);
		r = parse_list(ps, e, c == '!');
	} else {
		e = node_new(N_SIMPLE);
		r = parse_item(ps, e);
	}
	if (r && !accept(ps, ')'))
		r = parse_fail(ps, "expected ')'");
	if (r && parse_params(ps, e) < 0)
		r = NULL;
	if (!r) {
		fs_free(e);
		return NULL;
	}
	ps->depth--;
	return e;
}

/* ---------------------------------------------------------------- named predicates */

#define FS_MAX_PREDS 64
#define FS_MAX_EXPAND (4 * FS_MAX_NODES)

typedef struct fs_pred {
	char *name;
	char **params;
	size_t nparams;
	fs_expr *body;
} fs_pred;

typedef struct fs_preds {
	fs_pred p[FS_MAX_PREDS];
	size_t n;
	size_t budget;		/* nodes created by expansion */
} fs_preds;

static void preds_free(fs_preds *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->p[i].name);
		for (size_t j = 0; j < d->p[i].nparams; j++)
			free(d->p[i].params[j]);
		free(d->p[i].params);
		fs_free(d->p[i].body);
	}
	d->n = 0;
}

static int keyword(fs_parser *ps, const char *kw)
{
	size_t n = strlen(kw);

	skip_ws(ps);
	if ((size_t)(ps->end - ps->p) >= n && strncasecmp(ps->p, kw, n) == 0 &&
	    ((size_t)(ps->end - ps->p) == n || !is_tagchar((unsigned char)ps->p[n]))) {
		ps->p += n;
		return 1;
	}
	return 0;
}

/* named-pred = "(" fname *pname ")" ":-" filter */
static int parse_pred(fs_parser *ps, fs_preds *d)
{
	fs_pred *p;
	const char *t;

	if (d->n >= FS_MAX_PREDS) {
		parse_fail(ps, "too many named predicates");
		return -1;
	}
	p = &d->p[d->n];
	memset(p, 0, sizeof(*p));
	if (!accept(ps, '(') || (p->name = parse_tag(ps)) == NULL) {
		free(p->name);
		parse_fail(ps, "expected '(' and a predicate name");
		return -1;
	}
	d->n++;
	while (skip_ws(ps), (t = scan_token(ps)) != NULL) {
		if (p->nparams >= 32) {
			parse_fail(ps, "too many predicate parameters");
			return -1;
		}
		p->params = xrealloc(p->params, (p->nparams + 1) * sizeof(*p->params));
		p->params[p->nparams++] = xstrndup(t, (size_t)(ps->p - t));
	}
	if (!accept(ps, ')') || (skip_ws(ps), ps->end - ps->p < 2) || ps->p[0] != ':' || ps->p[1] != '-') {
		parse_fail(ps, "expected ')' and ':-' in a named predicate");
		return -1;
	}
	ps->p += 2;
	if ((p->body = parse_filter(ps)) == NULL)
		return -1;
	return 0;
}

/* Replace formal parameter names (tokens) in values by the actual values. */
static void subst_value(fs_value *v, const fs_pred *p, const fs_expr *call)
{
	if (v->kind != V_TOK)
		return;
	for (size_t i = 0; i < p->nparams; i++) {
		if (strcasecmp(v->text, p->params[i]) == 0) {
			value_free(v);
			value_copy(v, &call->ent[i].lo);
			return;
		}
	}
}

static void subst(fs_expr *e, const fs_pred *p, const fs_expr *call)
{
	if (e->kind == N_SIMPLE) {
		subst_value(&e->val, p, call);
	} else if (e->kind == N_SET || e->kind == N_CALL) {
		for (size_t i = 0; i < e->n; i++) {
			subst_value(&e->ent[i].lo, p, call);
			if (e->kind == N_SET && e->ent[i].range)
				subst_value(&e->ent[i].hi, p, call);
		}
	} else {
		for (size_t i = 0; i < e->n; i++)
			subst(e->kids[i], p, call);
	}
}

static size_t count_nodes(const fs_expr *e)
{
	size_t n = 1;

	if (e->kind != N_SET && e->kind != N_CALL)
		for (size_t i = 0; i < e->n; i++)
			n += count_nodes(e->kids[i]);
	return n;
}

/* Expand invocations in place; depth bounds nesting (named predicates are not
 * recursive, RFC 2533 6.1.3), budget bounds the size. */
static fs_expr *expand(fs_expr *e, fs_preds *d, int depth, fs_parser *ps)
{
	if (e->kind == N_CALL) {
		const fs_pred *p = NULL;
		fs_expr *body;
		for (size_t i = 0; i < d->n && !p; i++)
			if (strcasecmp(d->p[i].name, e->tag) == 0)
				p = &d->p[i];
		if (!p) {
			fs_free(e);
			return parse_fail(ps, "unknown named predicate");
		}
		if (p->nparams != e->n) {
			fs_free(e);
			return parse_fail(ps, "wrong number of predicate parameters");
		}
		if (depth >= 8) {
			fs_free(e);
			return parse_fail(ps, "named predicates nested too deeply (recursive?)");
		}
		d->budget += count_nodes(p->body);
		if (d->budget > FS_MAX_EXPAND) {
			fs_free(e);
			return parse_fail(ps, "expression too large after expanding named predicates");
		}
		body = node_copy(p->body);
		subst(body, p, e);
		body->q = e->q;
		fs_free(e);
		return expand(body, d, depth + 1, ps);
	}
	if (e->kind == N_AND || e->kind == N_OR || e->kind == N_NOT) {
		for (size_t i = 0; i < e->n; i++) {
			if ((e->kids[i] = expand(e->kids[i], d, depth, ps)) == NULL) {
				for (size_t j = i + 1; j < e->n; j++)
					fs_free(e->kids[j]);
				e->n = i;
				fs_free(e);
				return NULL;
			}
		}
	}
	return e;
}

fs_expr *fs_parse(const char *text, size_t len, char *err, size_t errlen)
{
	fs_parser ps = { text, text, text + len, err, errlen, 0, 0, 0 };
	fs_preds *d;
	fs_expr *e;

	if (err && errlen)
		err[0] = 0;
	if (len > FS_MAX_LEN) {
		if (err && errlen)
			snprintf(err, errlen, "expression longer than %d bytes", FS_MAX_LEN);
		return NULL;
	}
	if ((e = parse_filter(&ps)) == NULL)
		return NULL;
	d = xcalloc(1, sizeof(*d));
	if (keyword(&ps, "where")) {
		do {
			if (parse_pred(&ps, d) < 0) {
				preds_free(d);
				free(d);
				fs_free(e);
				return NULL;
			}
		} while (!keyword(&ps, "end") && peek(&ps) == '(');
		if (ps.p[-1] != 'd' && ps.p[-1] != 'D')
			parse_fail(&ps, "expected 'end' after named predicates");
	}
	skip_ws(&ps);
	if (!ps.failed && ps.p < ps.end)
		parse_fail(&ps, "trailing characters after the expression");
	if (!ps.failed)
		e = expand(e, d, 0, &ps);
	preds_free(d);
	free(d);
	if (ps.failed) {
		fs_free(e);
		return NULL;
	}
	return e;
}

/* ---------------------------------------------------------------- printer */

static int format_value(const fs_value *v, buf *out)
{
	switch (v->kind) {
	case V_NUM:
		if (buf_printf(out, "%lld", (long long)v->num) < 0)
			return -1;
		if (v->den != 1 && buf_printf(out, "/%lld", (long long)v->den) < 0)
			return -1;
		return v->text ? buf_append_str(out, v->text) : 0;
	case V_STR:
		return buf_printf(out, "\"%s\"", v->text);
	default:
		return buf_append_str(out, v->text);
	}
}

static const char *op_text(int op)
{
	return op == OP_LE ? "<=" : op == OP_GE ? ">=" : "=";
}

static int format_node(const fs_expr *e, buf *out)
{
	int rc = 0;

	switch (e->kind) {
	case N_AND:
	case N_OR:
	case N_NOT:
		rc |= buf_append_str(out, e->kind == N_AND ? "(& " : e->kind == N_OR ? "(| " : "(! ");
		for (size_t i = 0; i < e->n; i++) {
			if (i)
				rc |= buf_append_char(out, ' ');
			rc |= format_node(e->kids[i], out);
		}
		rc |= buf_append_char(out, ')');
		break;
	case N_SIMPLE:
		rc |= buf_printf(out, "(%s%s", e->tag, op_text(e->op));
		rc |= format_value(&e->val, out);
		rc |= buf_append_char(out, ')');
		break;
	case N_SET:
		rc |= buf_printf(out, "(%s=[", e->tag);
		for (size_t i = 0; i < e->n; i++) {
			if (i)
				rc |= buf_append_char(out, ',');
			rc |= format_value(&e->ent[i].lo, out);
			if (e->ent[i].range) {
				rc |= buf_append_str(out, "..");
				rc |= format_value(&e->ent[i].hi, out);
			}
		}
		rc |= buf_append_str(out, "])");
		break;
	default:
		return -1;	/* the empty set has no RFC 2533 text */
	}
	if (e->q >= 0 && e->q != 1000) {
		int q = e->q;
		char d[4] = { (char)('0' + q / 100 % 10), (char)('0' + q / 10 % 10),
			      (char)('0' + q % 10), 0 };
		int n = 3;
		while (n > 1 && d[n - 1] == '0')
			d[--n] = 0;
		rc |= buf_printf(out, ";q=0.%s", d);
	}
	return rc ? -1 : 0;
}

int fs_format(const fs_expr *e, buf *out)
{
	size_t len = out->len;

	if (!e || format_node(e, out) < 0) {
		buf_truncate(out, len);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- DNF */

typedef struct fs_lit {
	const char *tag;
	const fs_value *v;
	int prim;
} fs_lit;

typedef struct fs_conj {
	fs_lit *l;
	size_t n;
} fs_conj;

typedef struct fs_dnf {
	fs_conj *c;
	size_t n;
} fs_dnf;

typedef struct fs_budget {
	size_t lits;
	int overflow;
} fs_budget;

static void dnf_free(fs_dnf *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->c[i].l);
	free(d->c);
	d->c = NULL;
	d->n = 0;
}

static int dnf_push(fs_dnf *d, fs_conj c, fs_budget *b)
{
	if (d->n >= FS_MAX_CONJ || b->lits + c.n > FS_MAX_LITS) {
		b->overflow = 1;
		free(c.l);
		return -1;
	}
	b->lits += c.n;
	d->c = xrealloc(d->c, (d->n + 1) * sizeof(*d->c));
	d->c[d->n++] = c;
	return 0;
}

static fs_conj conj_make(const fs_lit *a, size_t na, const fs_lit *b, size_t nb)
{
	fs_conj c = { xmalloc((na + nb + 1) * sizeof(fs_lit)), na + nb };

	if (na)
		memcpy(c.l, a, na * sizeof(*a));
	if (nb)
		memcpy(c.l + na, b, nb * sizeof(*b));
	return c;
}

/* a := a AND b (cross product). */
static int dnf_and(fs_dnf *a, fs_dnf *b, fs_budget *bud)
{
	fs_dnf r = { NULL, 0 };

	for (size_t i = 0; i < a->n && !bud->overflow; i++)
		for (size_t j = 0; j < b->n && !bud->overflow; j++)
			dnf_push(&r, conj_make(a->c[i].l, a->c[i].n, b->c[j].l, b->c[j].n), bud);
	dnf_free(a);
	dnf_free(b);
	*a = r;
	return bud->overflow ? -1 : 0;
}

/* a := a OR b (concatenation; b is consumed). */
static int dnf_or(fs_dnf *a, fs_dnf *b, fs_budget *bud)
{
	for (size_t j = 0; j < b->n; j++) {
		if (dnf_push(a, b->c[j], bud) < 0) {
			b->c[j].l = NULL;
			for (size_t k = j + 1; k < b->n; k++)
				free(b->c[k].l);
			break;
		}
	}
	free(b->c);
	b->c = NULL;
	b->n = 0;
	return bud->overflow ? -1 : 0;
}

static int dnf_lit(fs_dnf *d, const char *tag, const fs_value *v, int prim, fs_budget *b)
{
	fs_lit l = { tag, v, prim };

	return dnf_push(d, conj_make(&l, 1, NULL, 0), b);
}

static int dnf_lit2(fs_dnf *d, const char *tag, const fs_value *v1, int p1,
		    const fs_value *v2, int p2, fs_budget *b)
{
	fs_lit l[2] = { { tag, v1, p1 }, { tag, v2, p2 } };

	return dnf_push(d, conj_make(l, 2, NULL, 0), b);
}

static int dnf_build(const fs_expr *e, int neg, fs_dnf *out, fs_budget *b);

static int dnf_set(const fs_expr *e, int neg, fs_dnf *out, fs_budget *b)
{
	for (size_t i = 0; i < e->n; i++) {
		const fs_setent *s = &e->ent[i];
		fs_dnf t = { NULL, 0 };

		if (!neg && !s->range)
			dnf_lit(&t, e->tag, &s->lo, P_EQ, b);
		else if (!neg)
			dnf_lit2(&t, e->tag, &s->lo, P_GE, &s->hi, P_LE, b);
		else if (!s->range)
			dnf_lit(&t, e->tag, &s->lo, P_NE, b);
		else {
			dnf_lit(&t, e->tag, &s->lo, P_NG, b);
			dnf_lit(&t, e->tag, &s->hi, P_NL, b);
		}
		if (i == 0) {
			*out = t;
		} else if ((neg ? dnf_and(out, &t, b) : dnf_or(out, &t, b)) < 0) {
			dnf_free(&t);
			return -1;
		}
		if (b->overflow)
			return -1;
	}
	return 0;
}

static int dnf_build(const fs_expr *e, int neg, fs_dnf *out, fs_budget *b)
{
	static const int pos_prim[] = { P_EQ, P_LE, P_GE }, neg_prim[] = { P_NE, P_NL, P_NG };
	int product;

	out->c = NULL;
	out->n = 0;
	switch (e->kind) {
	case N_SIMPLE:
		return dnf_lit(out, e->tag, &e->val, neg ? neg_prim[e->op] : pos_prim[e->op], b);
	case N_SET:
		return dnf_set(e, neg, out, b);
	case N_NOT:
		return dnf_build(e->kids[0], !neg, out, b);
	case N_FALSE:
		/* FALSE: no conjunction; NOT FALSE: the one empty conjunction. */
		return neg ? dnf_push(out, conj_make(NULL, 0, NULL, 0), b) : 0;
	default:
		break;
	}
	product = (e->kind == N_AND) != neg;
	for (size_t i = 0; i < e->n; i++) {
		fs_dnf t;
		if (dnf_build(e->kids[i], neg, &t, b) < 0) {
			dnf_free(&t);
			return -1;
		}
		if (i == 0)
			*out = t;
		else if ((product ? dnf_and(out, &t, b) : dnf_or(out, &t, b)) < 0)
			return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- merging */

/* The constraints on one feature (tag + unit) within one conjunction. */
typedef struct fs_group {
	const char *tag;
	const char *unit;
	const fs_value *eqtok;		/* must equal this token/string/boolean */
	int mustnum;			/* EQ/LE/GE on a number: the value is a number */
	const fs_value *lo, *hi;
	int lo_open, hi_open;
	const fs_value **ex;		/* excluded values (numbers or tokens) */
	size_t nex;
} fs_group;

static const char *lit_unit(const fs_lit *l)
{
	return value_unit(l->v);
}

static int lit_cmp(const void *pa, const void *pb)
{
	const fs_lit *a = pa, *b = pb;
	const char *ua = lit_unit(a), *ub = lit_unit(b);
	int c = strcasecmp(a->tag, b->tag);

	if (c)
		return c;
	if (!ua || !ub)
		return (ua != NULL) - (ub != NULL);
	return strcasecmp(ua, ub);
}

static void group_lo(fs_group *g, const fs_value *v, int open)
{
	int c = g->lo ? num_cmp(v, g->lo) : 1;

	if (c > 0) {
		g->lo = v;
		g->lo_open = open;
	} else if (c == 0 && open) {
		g->lo_open = 1;
	}
}

static void group_hi(fs_group *g, const fs_value *v, int open)
{
	int c = g->hi ? num_cmp(v, g->hi) : -1;

	if (c < 0) {
		g->hi = v;
		g->hi_open = open;
	} else if (c == 0 && open) {
		g->hi_open = 1;
	}
}

/* Add one literal; 0 when the group became unsatisfiable. */
static int group_add(fs_group *g, const fs_lit *l)
{
	const fs_value *v = l->v;

	if (!value_is_num(v)) {
		if (l->prim == P_EQ || l->prim == P_LE || l->prim == P_GE) {
			if (g->eqtok && !value_eq(g->eqtok, v))
				return 0;
			if (!g->eqtok)
				g->eqtok = v;
		} else {
			g->ex = xrealloc(g->ex, (g->nex + 1) * sizeof(*g->ex));
			g->ex[g->nex++] = v;
		}
		return 1;
	}
	switch (l->prim) {
	case P_EQ: g->mustnum = 1; group_lo(g, v, 0); group_hi(g, v, 0); break;
	case P_LE: g->mustnum = 1; group_hi(g, v, 0); break;
	case P_GE: g->mustnum = 1; group_lo(g, v, 0); break;
	case P_NL: group_lo(g, v, 1); break;
	case P_NG: group_hi(g, v, 1); break;
	default:
		g->ex = xrealloc(g->ex, (g->nex + 1) * sizeof(*g->ex));
		g->ex[g->nex++] = v;
		break;
	}
	return 1;
}

static int group_excluded(const fs_group *g, const fs_value *v)
{
	for (size_t i = 0; i < g->nex; i++)
		if (value_eq(g->ex[i], v))
			return 1;
	return 0;
}

/* Is a number inside the group's interval? */
static int group_inside(const fs_group *g, const fs_value *v)
{
	int c;

	if (g->lo && ((c = num_cmp(v, g->lo)) < 0 || (c == 0 && g->lo_open)))
		return 0;
	if (g->hi && ((c = num_cmp(v, g->hi)) > 0 || (c == 0 && g->hi_open)))
		return 0;
	return 1;
}

static int group_satisfiable(const fs_group *g)
{
	int c;

	if (g->eqtok)
		return !g->mustnum && !group_excluded(g, g->eqtok);
	if (!g->mustnum)
		return 1;	/* a token, or a number in an open range, always exists */
	if (g->lo && g->hi) {
		if ((c = num_cmp(g->lo, g->hi)) > 0)
			return 0;
		if (c == 0)
			return !g->lo_open && !g->hi_open && !group_excluded(g, g->lo);
	}
	return 1;		/* rationals are dense: finitely many exclusions cannot empty it */
}

static fs_expr *lit_node(const char *tag, const fs_value *v, int prim)
{
	static const int op_of[] = { OP_EQ, OP_LE, OP_GE, OP_EQ, OP_LE, OP_GE };
	fs_expr *s = node_new(N_SIMPLE), *n;

	s->tag = xstrdup(tag);
	s->op = op_of[prim];
	value_copy(&s->val, v);
	if (prim < P_NE)
		return s;
	n = node_new(N_NOT);
	node_add(n, s);
	return n;
}

/* Append the group's canonical literals to the conjunction node. */
static void group_emit(const fs_group *g, fs_expr *and)
{
	if (g->eqtok) {
		node_add(and, lit_node(g->tag, g->eqtok, P_EQ));
		return;
	}
	if (g->lo && g->hi && num_cmp(g->lo, g->hi) == 0) {
		node_add(and, lit_node(g->tag, g->lo, P_EQ));
		return;
	}
	if (g->lo)
		node_add(and, lit_node(g->tag, g->lo, g->lo_open ? P_NL : P_GE));
	if (g->hi)
		node_add(and, lit_node(g->tag, g->hi, g->hi_open ? P_NG : P_LE));
	for (size_t i = 0; i < g->nex; i++) {
		const fs_value *v = g->ex[i];
		int dup = 0;
		if (value_is_num(v) ? !group_inside(g, v) : g->mustnum)
			continue;	/* already outside the allowed values */
		for (size_t j = 0; j < i; j++)
			dup |= value_eq(g->ex[j], v);
		if (!dup)
			node_add(and, lit_node(g->tag, v, P_NE));
	}
}

/* Merge one conjunction: NULL when unsatisfiable, else an AND node. */
static fs_expr *conj_merge(fs_conj *c)
{
	fs_expr *and = node_new(N_AND);
	size_t i = 0;

	qsort(c->l, c->n, sizeof(*c->l), lit_cmp);
	while (i < c->n) {
		fs_group g;
		int ok = 1;
		size_t j = i;

		memset(&g, 0, sizeof(g));
		g.tag = c->l[i].tag;
		g.unit = lit_unit(&c->l[i]);
		while (j < c->n && lit_cmp(&c->l[i], &c->l[j]) == 0)
			ok &= group_add(&g, &c->l[j++]);
		ok = ok && group_satisfiable(&g);
		if (ok)
			group_emit(&g, and);
		free(g.ex);
		if (!ok) {
			fs_free(and);
			return NULL;
		}
		i = j;
	}
	return and;
}

/* Canonical shape of a conjunction: a single term stays bare. */
static fs_expr *conj_simplify(fs_expr *and)
{
	fs_expr *k;

	if (and->n != 1)
		return and;
	k = and->kids[0];
	and->n = 0;
	fs_free(and);
	return k;
}

fs_expr *fs_intersect(const fs_expr *a, const fs_expr *b, int *empty)
{
	fs_expr goal = { .kind = N_AND, .q = -1, .n = 2 };
	fs_expr *kids[2] = { (fs_expr *)a, (fs_expr *)b };
	fs_budget bud = { 0, 0 };
	fs_dnf d;
	fs_expr *res;
	buf seen, one;

	goal.kids = kids;
	*empty = 0;
	if (dnf_build(&goal, 0, &d, &bud) < 0 || bud.overflow) {
		dnf_free(&d);
		return node_copy(&goal);	/* undecided: the plain conjunction */
	}
	res = node_new(N_OR);
	buf_init(&seen, 0);
	buf_init(&one, 0);
	buf_append_char(&seen, '\n');
	for (size_t i = 0; i < d.n; i++) {
		fs_expr *m = conj_merge(&d.c[i]);
		if (!m)
			continue;
		m = conj_simplify(m);
		/* Drop duplicate conjunctions: seen holds "\nC1\nC2\n..." canonical texts. */
		buf_reset(&one);
		buf_append_char(&one, '\n');
		format_node(m, &one);
		buf_append_char(&one, '\n');
		if (memmem(seen.data, seen.len, one.data, one.len)) {
			fs_free(m);
			continue;
		}
		buf_append(&seen, one.data + 1, one.len - 1);
		node_add(res, m);
	}
	buf_free(&seen);
	buf_free(&one);
	dnf_free(&d);
	if (res->n == 0) {
		res->kind = N_FALSE;
		*empty = 1;
	} else if (res->n == 1) {
		fs_expr *k = res->kids[0];
		res->n = 0;
		fs_free(res);
		res = k;
	}
	return res;
}

/* ---------------------------------------------------------------- matching */

typedef struct fs_item {
	const char *tag;
	const fs_value *v;
} fs_item;

/* The document as a list of tag=value; -1 when it is not a plain conjunction. */
static int doc_collect(const fs_expr *d, fs_item *items, size_t *n, size_t max)
{
	if (d->kind == N_AND) {
		for (size_t i = 0; i < d->n; i++)
			if (doc_collect(d->kids[i], items, n, max) < 0)
				return -1;
		return 0;
	}
	if (d->kind == N_SET && d->n == 1 && !d->ent[0].range) {
		if (*n >= max)
			return -1;
		items[*n].tag = d->tag;
		items[(*n)++].v = &d->ent[0].lo;
		return 0;
	}
	if (d->kind != N_SIMPLE || d->op != OP_EQ || *n >= max)
		return -1;
	items[*n].tag = d->tag;
	items[(*n)++].v = &d->val;
	return 0;
}

static const fs_value *doc_lookup(const fs_item *items, size_t n, const char *tag,
				  const char *unit)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(items[i].tag, tag) == 0 && unit_eq(value_unit(items[i].v), unit))
			return items[i].v;
	return NULL;
}

/* Three-valued: 1 true, 0 false, -1 unknown (feature absent from the document). */
static int eval_rel(const fs_item *it, size_t n, const char *tag, int op, const fs_value *v)
{
	const fs_value *x = doc_lookup(it, n, tag, value_unit(v));

	if (!x)
		return -1;
	if (value_is_num(x) != value_is_num(v))
		return 0;
	if (!value_is_num(v))
		return value_eq(x, v);
	switch (op) {
	case OP_LE: return num_cmp(x, v) <= 0;
	case OP_GE: return num_cmp(x, v) >= 0;
	default: return num_cmp(x, v) == 0;
	}
}

static int eval_node(const fs_expr *e, const fs_item *it, size_t n)
{
	int r, any_unknown = 0, and = e->kind == N_AND;

	switch (e->kind) {
	case N_SIMPLE:
		return eval_rel(it, n, e->tag, e->op, &e->val);
	case N_NOT:
		r = eval_node(e->kids[0], it, n);
		return r < 0 ? -1 : !r;
	case N_FALSE:
		return 0;
	case N_SET:
		for (size_t i = 0; i < e->n; i++) {
			const fs_setent *s = &e->ent[i];
			if (!s->range) {
				r = eval_rel(it, n, e->tag, OP_EQ, &s->lo);
			} else {
				int lo = eval_rel(it, n, e->tag, OP_GE, &s->lo);
				int hi = eval_rel(it, n, e->tag, OP_LE, &s->hi);
				r = (lo == 0 || hi == 0) ? 0 : (lo < 0 || hi < 0) ? -1 : 1;
			}
			if (r == 1)
				return 1;
			any_unknown |= r < 0;
		}
		return any_unknown ? -1 : 0;
	default:
		break;
	}
	for (size_t i = 0; i < e->n; i++) {
		r = eval_node(e->kids[i], it, n);
		if (r == !and)
			return r;	/* AND short-circuits on 0, OR on 1 */
		any_unknown |= r < 0;
	}
	return any_unknown ? -1 : and;
}

int fs_match(const fs_expr *caps, const fs_expr *doc)
{
	fs_item items[128];
	size_t n = 0;
	int r = -1, empty;
	fs_expr *x;

	if (!caps || !doc)
		return 0;
	if (doc_collect(doc, items, &n, sizeof(items) / sizeof(items[0])) == 0)
		r = eval_node(caps, items, n);
	if (r >= 0)
		return r;
	/* Features the document does not state: open world, decide by intersection. */
	x = fs_intersect(caps, doc, &empty);
	fs_free(x);
	return !empty;
}

int fs_allows(const fs_expr *e, const char *tag, const char *value)
{
	fs_parser ps = { value, value, value + strlen(value), NULL, 0, 0, 0, 0 };
	fs_expr *doc;
	int r;

	if (!e || !tag || !*tag)
		return 0;
	doc = node_new(N_SIMPLE);
	doc->tag = xstrdup(tag);
	doc->op = OP_EQ;
	if (parse_value(&ps, &doc->val) < 0 || (skip_ws(&ps), ps.p != ps.end)) {
		value_free(&doc->val);
		doc->val.kind = V_STR;
		doc->val.text = xstrdup(value);
	}
	r = fs_match(e, doc);
	fs_free(doc);
	return r;
}
