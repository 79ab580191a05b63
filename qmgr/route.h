/*
 * route.h - where a recipient goes: pure routing decisions of qmgr (no I/O).
 *
 * Contract: route_resolve() takes an envelope recipient and a routing configuration
 * (local domains, fax domains, relayhost, transport names, and a transport-table
 * lookup callback) and fills a route: transport name ("local", "smtp", "fax", ...),
 * nexthop (transport-specific: a domain, "[host]:port", a FAX number) and, for a bad
 * address, a permanent error (5.1.3). route_rewrite() applies the address book and
 * aliases through a lookup callback, returning the expansion list. Neither touches
 * files or sockets; qmgr feeds them main.cf values and dict lookups, unit tests feed
 * them fixtures.
 */
#ifndef FAXPOST_QMGR_ROUTE_H
#define FAXPOST_QMGR_ROUTE_H

#include <stddef.h>

#define ROUTE_NAME_MAX 64
#define ROUTE_HOP_MAX 300
#define ROUTE_MAX_EXPAND 100
#define ROUTE_MAX_DEPTH 10

/* Lookup callback: value for key or NULL (value valid until the next call). */
typedef const char *(*route_lookup_fn)(void *ctx, const char *key);

typedef struct route_cfg {
	char **local_domains;	/* mydestination, lower-case */
	size_t nlocal;
	char **fax_domains;
	size_t nfax;
	const char *relayhost;	/* "" = direct MX */
	const char *local_transport;
	const char *default_transport;
	const char *fax_transport;
	route_lookup_fn transport_lookup;	/* may be NULL */
	void *transport_ctx;
} route_cfg;

typedef struct route {
	char transport[ROUTE_NAME_MAX];
	char nexthop[ROUTE_HOP_MAX];
	int error;		/* 1: permanent error; dsn/reason say why */
	char dsn[16];
	char reason[200];
} route;

/* 0 ok (out filled, maybe with out->error set). */
int route_resolve(const route_cfg *cfg, const char *rcpt, route *out);

/* Is domain one of the list (case-insensitive)? */
int route_domain_in(char **list, size_t n, const char *domain);

typedef struct route_expansion {
	size_t n;
	char *addr[ROUTE_MAX_EXPAND];	/* malloc'd */
	int error;			/* 1: loop or too many (reason set) */
	char reason[200];
} route_expansion;

/* Rewrite rcpt through the address book, then aliases (recursively, depth
 * ROUTE_MAX_DEPTH, duplicates dropped). Keys tried: the full address, then the local
 * part when the domain is local (or the address has no domain). Returns 1 when the
 * address was rewritten (exp filled), 0 when it stays as it is. */
int route_rewrite(const route_cfg *cfg, route_lookup_fn book, void *book_ctx,
		  route_lookup_fn alias, void *alias_ctx, const char *rcpt,
		  route_expansion *exp);
void route_expansion_free(route_expansion *exp);

#endif
