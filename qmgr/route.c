/*
 * route.c - pure routing of recipients (see route.h).
 *
 * Order of decisions, as Postfix's trivial-rewrite with one fax rule in front:
 * FAX= addresses in a fax domain go to the fax transport; then the transport table
 * (user@domain, domain, .parent domains, "*"); then the local domains; then relayhost;
 * else direct delivery by MX to the recipient's domain.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "util/msg.h"
#include "route.h"

int route_domain_in(char **list, size_t n, const char *domain)
{
	for (size_t i = 0; i < n; i++)
		if (list[i] && strcasecmp(list[i], domain) == 0)
			return 1;
	return 0;
}

static void route_set(route *out, const char *transport, const char *nexthop)
{
	if (str_copy(out->transport, sizeof out->transport, transport) < 0 ||
	    str_copy(out->nexthop, sizeof out->nexthop, nexthop) < 0) {
		out->error = 1;
		str_copy(out->dsn, sizeof out->dsn, "5.1.3");
		str_copy(out->reason, sizeof out->reason, "bad address syntax (next hop too long)");
	}
}

static void route_fail(route *out, const char *dsn, const char *reason)
{
	out->error = 1;
	str_copy(out->dsn, sizeof out->dsn, dsn);
	str_copy(out->reason, sizeof out->reason, reason);
}

/* Split "transport[:nexthop]" (either part may be empty); *nexthop points into spec. */
static int route_split(const char *spec, char *transport, size_t size, const char **nexthop)
{
	const char *colon = strchr(spec, ':');

	*nexthop = colon ? colon + 1 : "";
	return colon ? str_ncopy(transport, size, spec, (size_t)(colon - spec))
		     : str_copy(transport, size, spec);
}

/* Route by local_transport or default_transport: as in Postfix, a next hop written in
 * the parameter ("smtp:[relay.example]", "discard:bench") wins over nexthop. */
static void route_set_default(route *out, const char *spec, const char *nexthop)
{
	char transport[ROUTE_NAME_MAX];
	const char *hop;

	if (route_split(spec, transport, sizeof transport, &hop) < 0 || transport[0] == 0) {
		route_fail(out, "5.3.5", "bad local_transport or default_transport setting");
		return;
	}
	route_set(out, transport, hop[0] ? hop : nexthop);
}

/* Apply a transport table value "transport:nexthop" (either part may be empty). */
static int route_apply_table(const route_cfg *cfg, const char *value, const char *domain,
			     int is_local, route *out)
{
	char transport[ROUTE_NAME_MAX];
	const char *nexthop, *unused;

	if (route_split(value, transport, sizeof transport, &nexthop) < 0)
		return -1;
	if (transport[0] == 0 &&
	    route_split(is_local ? cfg->local_transport : cfg->default_transport, transport,
			sizeof transport, &unused) < 0)
		return -1;
	route_set(out, transport, nexthop[0] ? nexthop : domain);
	return 0;
}

static const char *route_table_find(const route_cfg *cfg, const char *rcpt, const char *domain)
{
	const char *v;
	char key[ROUTE_HOP_MAX + 2];

	if (cfg->transport_lookup == NULL)
		return NULL;
	if ((v = cfg->transport_lookup(cfg->transport_ctx, rcpt)) != NULL)
		return v;
	if ((v = cfg->transport_lookup(cfg->transport_ctx, domain)) != NULL)
		return v;
	/* .parent entries match sub-domains, most specific first */
	for (const char *d = domain; (d = strchr(d, '.')) != NULL; d++) {
		if (snprintf(key, sizeof key, "%s", d) >= (int)sizeof key)
			continue;
		if ((v = cfg->transport_lookup(cfg->transport_ctx, key)) != NULL)
			return v;
	}
	return cfg->transport_lookup(cfg->transport_ctx, "*");
}

int route_resolve(const route_cfg *cfg, const char *rcpt, route *out)
{
	char domain[ROUTE_HOP_MAX];
	const char *at = strrchr(rcpt, '@');
	const char *v;
	int is_local;

	memset(out, 0, sizeof *out);
	if (rcpt[0] == 0) {
		route_fail(out, "5.1.3", "empty recipient address");
		return 0;
	}
	if (at == NULL) {
		/* Bare user: this machine's user, as Postfix appends $myorigin. */
		route_set_default(out, cfg->local_transport, cfg->nlocal ? cfg->local_domains[0] : "");
		return 0;
	}
	if (at[1] == 0 || at == rcpt) {
		route_fail(out, "5.1.3", "bad address syntax");
		return 0;
	}
	size_t dl = strlen(at + 1);
	if (dl >= sizeof domain) {
		route_fail(out, "5.1.2", "domain name too long");
		return 0;
	}
	for (size_t i = 0; i <= dl; i++)
		domain[i] = (char)tolower((unsigned char)at[1 + i]);
	if (domain[dl - 1] == '.')
		domain[dl - 1] = 0;	/* "example.com." is example.com */

	if (strncasecmp(rcpt, "FAX=", 4) == 0 && route_domain_in(cfg->fax_domains, cfg->nfax, domain)) {
		char number[64];
		size_t n = strcspn(rcpt + 4, "/@");
		if (n == 0 || str_ncopy(number, sizeof number, rcpt + 4, n) < 0) {
			route_fail(out, "5.1.3", "bad fax number in FAX= address");
			return 0;
		}
		route_set(out, cfg->fax_transport, number);
		return 0;
	}
	is_local = route_domain_in(cfg->local_domains, cfg->nlocal, domain);
	if ((v = route_table_find(cfg, rcpt, domain)) != NULL) {
		if (route_apply_table(cfg, v, domain, is_local, out) < 0)
			route_fail(out, "5.3.5", "bad transport table entry");
		return 0;
	}
	if (is_local)
		route_set_default(out, cfg->local_transport, domain);
	else if (cfg->relayhost && cfg->relayhost[0])
		route_set_default(out, cfg->default_transport, cfg->relayhost);
	else
		route_set_default(out, cfg->default_transport, domain);
	return 0;
}

/* --- address book and aliases -------------------------------------------------- */

typedef struct rw_ctx {
	const route_cfg *cfg;
	route_lookup_fn book, alias;
	void *book_ctx, *alias_ctx;
	route_expansion *exp;
} rw_ctx;

static const char *rw_lookup(const rw_ctx *c, route_lookup_fn fn, void *ctx, const char *addr)
{
	const char *at = strrchr(addr, '@');
	const char *v;
	char local[300];

	if (fn == NULL)
		return NULL;
	if ((v = fn(ctx, addr)) != NULL)
		return v;
	if (at == NULL)
		return NULL;
	if (!route_domain_in(c->cfg->local_domains, c->cfg->nlocal, at + 1))
		return NULL;
	if (str_ncopy(local, sizeof local, addr, (size_t)(at - addr)) < 0)
		return NULL;
	return fn(ctx, local);
}

static void rw_add(rw_ctx *c, const char *addr)
{
	route_expansion *e = c->exp;

	for (size_t i = 0; i < e->n; i++)
		if (strcasecmp(e->addr[i], addr) == 0)
			return;		/* duplicates are delivered once */
	if (e->n >= ROUTE_MAX_EXPAND) {
		e->error = 1;
		str_copy(e->reason, sizeof e->reason, "alias expansion has too many members");
		return;
	}
	e->addr[e->n++] = xstrdup(addr);
}

static void rw_expand(rw_ctx *c, const char *addr, int depth);

/* Split a table value "a, b c" and expand each member. Bare names get the domain of
 * the address that was expanded (an alias of user@local means local users). */
static void rw_members(rw_ctx *c, const char *value, const char *self, int depth)
{
	const char *at = strrchr(self, '@');
	char *copy = xstrdup(value), *save = NULL;
	buf full;

	buf_init(&full, 1024);
	for (char *tok = strtok_r(copy, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		buf_reset(&full);
		if (strchr(tok, '@') == NULL && at != NULL)
			buf_printf(&full, "%s%s", tok, at);
		else
			buf_append_str(&full, tok);
		if (strcasecmp(buf_str(&full), self) == 0)
			rw_add(c, self);	/* "user: user, other": keep the mailbox */
		else
			rw_expand(c, buf_str(&full), depth + 1);
	}
	buf_free(&full);
	free(copy);
}

static void rw_expand(rw_ctx *c, const char *addr, int depth)
{
	const char *v;
	char *value;

	if (c->exp->error)
		return;
	if (depth > ROUTE_MAX_DEPTH) {
		c->exp->error = 1;
		str_copy(c->exp->reason, sizeof c->exp->reason, "alias or address book loop");
		return;
	}
	v = rw_lookup(c, c->book, c->book_ctx, addr);
	if (v == NULL)
		v = rw_lookup(c, c->alias, c->alias_ctx, addr);
	if (v == NULL) {
		rw_add(c, addr);
		return;
	}
	value = xstrdup(v);	/* the lookup buffer is reused by the recursion */
	rw_members(c, value, addr, depth);
	free(value);
}

int route_rewrite(const route_cfg *cfg, route_lookup_fn book, void *book_ctx,
		  route_lookup_fn alias, void *alias_ctx, const char *rcpt,
		  route_expansion *exp)
{
	rw_ctx c = { cfg, book, alias, book_ctx, alias_ctx, exp };

	memset(exp, 0, sizeof *exp);
	rw_expand(&c, rcpt, 0);
	if (!exp->error && exp->n == 1 && strcmp(exp->addr[0], rcpt) == 0) {
		route_expansion_free(exp);
		return 0;
	}
	return 1;
}

void route_expansion_free(route_expansion *exp)
{
	for (size_t i = 0; i < exp->n; i++)
		free(exp->addr[i]);
	exp->n = 0;
}
