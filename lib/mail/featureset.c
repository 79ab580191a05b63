/*
 * featureset.c - RFC 2533 media feature-set expressions: values, parse tree, parser and
 * canonical printer (matching and intersection: featureset_match.c).
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
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/featureset_impl.h"
#include "util/msg.h"

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

int fs_value_is_num(const fs_value *v)
{
	return v->kind == V_NUM;
}

const char *fs_value_unit(const fs_value *v)
{
	return v->kind == V_NUM ? v->text : NULL;
}

/* Compare two numbers: <0, 0, >0. */
int fs_num_cmp(const fs_value *a, const fs_value *b)
{
	__int128 l = (__int128)a->num * b->den, r = (__int128)b->num * a->den;

	return l < r ? -1 : l > r;
}

/* Equality of two values of any kind (mixed kinds are never equal). */
int fs_value_eq(const fs_value *a, const fs_value *b)
{
	if (fs_value_is_num(a) != fs_value_is_num(b))
		return 0;
	if (fs_value_is_num(a))
		return fs_num_cmp(a, b) == 0;
	return strcasecmp(a->text, b->text) == 0;
}

void fs_value_copy(fs_value *dst, const fs_value *src)
{
	*dst = *src;
	dst->text = src->text ? xstrdup(src->text) : NULL;
}

void fs_value_free(fs_value *v)
{
	free(v->text);
	v->text = NULL;
}

int fs_unit_eq(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcasecmp(a, b) == 0;
}

/* ---------------------------------------------------------------- tree */

fs_expr *fs_node_new(int kind)
{
	fs_expr *e = xcalloc(1, sizeof(*e));

	e->kind = kind;
	e->q = -1;
	return e;
}

void fs_node_add(fs_expr *e, fs_expr *kid)
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
			fs_value_free(&e->ent[i].lo);
			fs_value_free(&e->ent[i].hi);
		}
		free(e->ent);
	} else {
		for (size_t i = 0; i < e->n; i++)
			fs_free(e->kids[i]);
	}
	free(e->kids);
	free(e->tag);
	fs_value_free(&e->val);
	free(e);
}

fs_expr *fs_node_copy(const fs_expr *e)
{
	fs_expr *c = fs_node_new(e->kind);

	c->q = e->q;
	c->op = e->op;
	c->tag = e->tag ? xstrdup(e->tag) : NULL;
	fs_value_copy(&c->val, &e->val);
	if (e->kind == N_SET || e->kind == N_CALL) {
		c->ent = xcalloc(e->n, sizeof(*c->ent));
		for (size_t i = 0; i < e->n; i++) {
			fs_value_copy(&c->ent[i].lo, &e->ent[i].lo);
			fs_value_copy(&c->ent[i].hi, &e->ent[i].hi);
			c->ent[i].range = e->ent[i].range;
		}
		c->n = e->n;
	} else {
		for (size_t i = 0; i < e->n; i++)
			fs_node_add(c, fs_node_copy(e->kids[i]));
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
				fs_value_free(&ent.lo);
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
		fs_node_add(e, kid);
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
		fs_value_free(&v);
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
		e = fs_node_new(c == '&' ? N_AND : c == '|' ? N_OR : N_NOT);
		r = parse_list(ps, e, c == '!');
	} else {
		e = fs_node_new(N_SIMPLE);
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
			fs_value_free(v);
			fs_value_copy(v, &call->ent[i].lo);
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
		body = fs_node_copy(p->body);
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

/* fs_allows lives here: it parses the value with the parser above, then matches. */
int fs_allows(const fs_expr *e, const char *tag, const char *value)
{
	fs_parser ps = { value, value, value + strlen(value), NULL, 0, 0, 0, 0 };
	fs_expr *doc;
	int r;

	if (!e || !tag || !*tag)
		return 0;
	doc = fs_node_new(N_SIMPLE);
	doc->tag = xstrdup(tag);
	doc->op = OP_EQ;
	if (parse_value(&ps, &doc->val) < 0 || (skip_ws(&ps), ps.p != ps.end)) {
		fs_value_free(&doc->val);
		doc->val.kind = V_STR;
		doc->val.text = xstrdup(value);
	}
	r = fs_match(e, doc);
	fs_free(doc);
	return r;
}
