/*
 * featureset_match.c - RFC 2533 matching (fs_match, fs_allows) and intersection
 * (fs_intersect) of parsed feature-set expressions.
 *
 * Intersection follows RFC 2533 section 5: expand sets, push NOT inward, rewrite to the
 * primitives EQ LE GE NE NL NG, distribute into disjunctive normal form (capped at
 * FS_MAX_CONJ conjunctions), merge each conjunction per feature as an interval with
 * excluded values, drop unsatisfiable conjunctions. The surviving DNF is the result,
 * printed by fs_format() in the canonical grammar. When the DNF would be too large the
 * result is the plain conjunction (& a b) and *empty is 0: "cannot decide" is treated
 * like "may match", as RFC 4141 treats missing capability information.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mail/featureset_impl.h"
#include "util/msg.h"

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
	return fs_value_unit(l->v);
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
	int c = g->lo ? fs_num_cmp(v, g->lo) : 1;

	if (c > 0) {
		g->lo = v;
		g->lo_open = open;
	} else if (c == 0 && open) {
		g->lo_open = 1;
	}
}

static void group_hi(fs_group *g, const fs_value *v, int open)
{
	int c = g->hi ? fs_num_cmp(v, g->hi) : -1;

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

	if (!fs_value_is_num(v)) {
		if (l->prim == P_EQ || l->prim == P_LE || l->prim == P_GE) {
			if (g->eqtok && !fs_value_eq(g->eqtok, v))
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
		if (fs_value_eq(g->ex[i], v))
			return 1;
	return 0;
}

/* Is a number inside the group's interval? */
static int group_inside(const fs_group *g, const fs_value *v)
{
	int c;

	if (g->lo && ((c = fs_num_cmp(v, g->lo)) < 0 || (c == 0 && g->lo_open)))
		return 0;
	if (g->hi && ((c = fs_num_cmp(v, g->hi)) > 0 || (c == 0 && g->hi_open)))
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
		if ((c = fs_num_cmp(g->lo, g->hi)) > 0)
			return 0;
		if (c == 0)
			return !g->lo_open && !g->hi_open && !group_excluded(g, g->lo);
	}
	return 1;		/* rationals are dense: finitely many exclusions cannot empty it */
}

static fs_expr *lit_node(const char *tag, const fs_value *v, int prim)
{
	static const int op_of[] = { OP_EQ, OP_LE, OP_GE, OP_EQ, OP_LE, OP_GE };
	fs_expr *s = fs_node_new(N_SIMPLE), *n;

	s->tag = xstrdup(tag);
	s->op = op_of[prim];
	fs_value_copy(&s->val, v);
	if (prim < P_NE)
		return s;
	n = fs_node_new(N_NOT);
	fs_node_add(n, s);
	return n;
}

/* Append the group's canonical literals to the conjunction node. */
static void group_emit(const fs_group *g, fs_expr *and)
{
	if (g->eqtok) {
		fs_node_add(and, lit_node(g->tag, g->eqtok, P_EQ));
		return;
	}
	if (g->lo && g->hi && fs_num_cmp(g->lo, g->hi) == 0) {
		fs_node_add(and, lit_node(g->tag, g->lo, P_EQ));
		return;
	}
	if (g->lo)
		fs_node_add(and, lit_node(g->tag, g->lo, g->lo_open ? P_NL : P_GE));
	if (g->hi)
		fs_node_add(and, lit_node(g->tag, g->hi, g->hi_open ? P_NG : P_LE));
	for (size_t i = 0; i < g->nex; i++) {
		const fs_value *v = g->ex[i];
		int dup = 0;
		if (fs_value_is_num(v) ? !group_inside(g, v) : g->mustnum)
			continue;	/* already outside the allowed values */
		for (size_t j = 0; j < i; j++)
			dup |= fs_value_eq(g->ex[j], v);
		if (!dup)
			fs_node_add(and, lit_node(g->tag, v, P_NE));
	}
}

/* Merge one conjunction: NULL when unsatisfiable, else an AND node. */
static fs_expr *conj_merge(fs_conj *c)
{
	fs_expr *and = fs_node_new(N_AND);
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
		return fs_node_copy(&goal);	/* undecided: the plain conjunction */
	}
	res = fs_node_new(N_OR);
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
		fs_format(m, &one);
		buf_append_char(&one, '\n');
		if (memmem(seen.data, seen.len, one.data, one.len)) {
			fs_free(m);
			continue;
		}
		buf_append(&seen, one.data + 1, one.len - 1);
		fs_node_add(res, m);
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
		if (strcasecmp(items[i].tag, tag) == 0 && fs_unit_eq(fs_value_unit(items[i].v), unit))
			return items[i].v;
	return NULL;
}

/* Three-valued: 1 true, 0 false, -1 unknown (feature absent from the document). */
static int eval_rel(const fs_item *it, size_t n, const char *tag, int op, const fs_value *v)
{
	const fs_value *x = doc_lookup(it, n, tag, fs_value_unit(v));

	if (!x)
		return -1;
	if (fs_value_is_num(x) != fs_value_is_num(v))
		return 0;
	if (!fs_value_is_num(v))
		return fs_value_eq(x, v);
	switch (op) {
	case OP_LE: return fs_num_cmp(x, v) <= 0;
	case OP_GE: return fs_num_cmp(x, v) >= 0;
	default: return fs_num_cmp(x, v) == 0;
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
