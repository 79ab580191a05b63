/*
 * dns.c - MX and A/AAAA lookups with res_nquery (see dns.h).
 *
 * A private resolver state per call keeps the dns_server override local (no global
 * _res edits); answers are parsed with ns_initparse/ns_parserr, which check every
 * length against the packet.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mail/dns.h"
#include "util/buf.h"

static int dns_open(struct __res_state *st, const char *server, char *err, size_t errlen)
{
	memset(st, 0, sizeof *st);
	if (res_ninit(st) < 0) {
		snprintf(err, errlen, "resolver initialization failed");
		return -1;
	}
	st->retrans = 2;
	st->retry = 2;
	if (server && server[0]) {
		char addr[64];
		int port = 53;
		const char *colon = strrchr(server, ':');
		size_t alen = colon ? (size_t)(colon - server) : strlen(server);
		if (str_ncopy(addr, sizeof addr, server, alen) < 0) {
			snprintf(err, errlen, "bad dns_server \"%s\"", server);
			res_nclose(st);
			return -1;
		}
		if (colon)
			port = atoi(colon + 1);
		struct sockaddr_in sin;
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		sin.sin_port = htons((unsigned short)port);
		if (port <= 0 || port > 65535 || inet_pton(AF_INET, addr, &sin.sin_addr) != 1) {
			snprintf(err, errlen, "bad dns_server \"%s\" (want IPv4addr[:port])", server);
			res_nclose(st);
			return -1;
		}
		st->nscount = 1;
		st->nsaddr_list[0] = sin;
	}
	return 0;
}

/* Query; returns the answer length, 0 for "no such data", or DNS_TEMP/DNS_PERM. */
static int dns_query(struct __res_state *st, const char *name, int type, unsigned char *ans,
		     size_t anslen, char *err, size_t errlen)
{
	int len = res_nquery(st, name, ns_c_in, type, ans, (int)anslen);

	if (len >= 0)
		return len;
	const char *tname = type == ns_t_mx ? "MX" : type == ns_t_a ? "A"
			    : type == ns_t_ptr ? "PTR" : "AAAA";

	switch (st->res_h_errno) {
	case HOST_NOT_FOUND:
		snprintf(err, errlen, "Host or domain name not found. Name service error for name=%s type=%s: Host not found",
			 name, tname);
		return DNS_PERM;
	case NO_DATA:
		return 0;
	default:
		snprintf(err, errlen, "Host or domain name not found. Name service error for name=%s type=%s: Host not found, try again",
			 name, tname);
		return DNS_TEMP;
	}
}

static int dns_add(dns_addr *out, size_t max, size_t *n, const char *host, const char *ip, int pref)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp(out[i].ip, ip) == 0)
			return 0;
	if (*n >= max)
		return 0;
	str_copy(out[*n].host, sizeof out[*n].host, host);
	str_copy(out[*n].ip, sizeof out[*n].ip, ip);
	out[*n].pref = pref;
	(*n)++;
	return 1;
}

static int dns_addrs_resolver(struct __res_state *st, const char *host, int pref, dns_addr *out,
			      size_t max, size_t *n, char *err, size_t errlen)
{
	static const int types[] = { ns_t_a, ns_t_aaaa };
	unsigned char ans[4096];
	int found = 0, temp = 0, perm = 0;

	for (int t = 0; t < 2; t++) {
		int len = dns_query(st, host, types[t], ans, sizeof ans, err, errlen);
		ns_msg msg;
		if (len == DNS_TEMP)
			temp = 1;
		if (len == DNS_PERM)
			perm = 1;
		if (len <= 0 || ns_initparse(ans, len, &msg) < 0)
			continue;
		for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
			ns_rr rr;
			char ip[64];
			if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
				break;
			if (ns_rr_type(rr) == ns_t_a && ns_rr_rdlen(rr) == 4)
				inet_ntop(AF_INET, ns_rr_rdata(rr), ip, sizeof ip);
			else if (ns_rr_type(rr) == ns_t_aaaa && ns_rr_rdlen(rr) == 16)
				inet_ntop(AF_INET6, ns_rr_rdata(rr), ip, sizeof ip);
			else
				continue;
			found += dns_add(out, max, n, host, ip, pref);
		}
	}
	if (found)
		return DNS_OK;
	if (temp)
		return DNS_TEMP;
	if (!perm)
		snprintf(err, errlen, "Host or domain name not found. Name service error for name=%s type=A: Host found but no data record of requested type", host);
	return DNS_PERM;
}

static int dns_addrs_gai(const char *host, int pref, dns_addr *out, size_t max, size_t *n,
			 char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res, *ai;
	int rc = getaddrinfo(host, NULL, &hints, &res), found = 0;

	if (rc != 0) {
		snprintf(err, errlen, "Host or domain name not found. Name service error for name=%s type=A: %s",
			 host, gai_strerror(rc));
		return rc == EAI_AGAIN ? DNS_TEMP : DNS_PERM;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		char ip[64];
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, ip, sizeof ip, NULL, 0, NI_NUMERICHOST) == 0)
			found += dns_add(out, max, n, host, ip, pref);
	}
	freeaddrinfo(res);
	return found ? DNS_OK : DNS_PERM;
}

static int dns_is_literal(const char *host)
{
	unsigned char a[16];

	return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

int dns_host_addrs(const char *server, const char *host, int pref, dns_addr *out, size_t max,
		   size_t *n, char *err, size_t errlen)
{
	struct __res_state st;
	int rc;

	if (dns_is_literal(host))
		return dns_add(out, max, n, host, host, pref), DNS_OK;
	if (!server || !server[0])
		return dns_addrs_gai(host, pref, out, max, n, err, errlen);
	if (dns_open(&st, server, err, errlen) < 0)
		return DNS_TEMP;
	rc = dns_addrs_resolver(&st, host, pref, out, max, n, err, errlen);
	res_nclose(&st);
	return rc;
}

typedef struct mx_rec {
	char host[NS_MAXDNAME];
	int pref;
} mx_rec;

static int mx_cmp(const void *a, const void *b)
{
	return ((const mx_rec *)a)->pref - ((const mx_rec *)b)->pref;
}

int dns_mx_addrs(const char *server, const char *domain, dns_addr *out, size_t max,
		 size_t *n, char *err, size_t errlen)
{
	struct __res_state st;
	unsigned char ans[8192];
	mx_rec mx[32];
	size_t nmx = 0;
	int len, rc = DNS_PERM, temp = 0;
	ns_msg msg;

	*n = 0;
	if (dns_is_literal(domain))
		return dns_host_addrs(server, domain, 0, out, max, n, err, errlen);
	if (dns_open(&st, server, err, errlen) < 0)
		return DNS_TEMP;
	len = dns_query(&st, domain, ns_t_mx, ans, sizeof ans, err, errlen);
	if (len < 0) {
		res_nclose(&st);
		return len;
	}
	if (len > 0 && ns_initparse(ans, len, &msg) == 0) {
		for (int i = 0; i < ns_msg_count(msg, ns_s_an) && nmx < 32; i++) {
			ns_rr rr;
			if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
				break;
			if (ns_rr_type(rr) != ns_t_mx || ns_rr_rdlen(rr) < 3)
				continue;
			mx[nmx].pref = ns_get16(ns_rr_rdata(rr));
			if (dn_expand(ns_msg_base(msg), ns_msg_end(msg), ns_rr_rdata(rr) + 2,
				      mx[nmx].host, sizeof mx[nmx].host) < 0)
				continue;
			nmx++;
		}
	}
	if (nmx == 1 && mx[0].host[0] == 0) {
		res_nclose(&st);
		snprintf(err, errlen, "Domain %s does not accept mail (nullMX)", domain);
		return DNS_NULLMX;
	}
	if (nmx == 0) {		/* implicit MX: the domain itself */
		if (server && server[0])
			rc = dns_addrs_resolver(&st, domain, 0, out, max, n, err, errlen);
		else
			rc = dns_addrs_gai(domain, 0, out, max, n, err, errlen);
		res_nclose(&st);
		return rc;
	}
	qsort(mx, nmx, sizeof mx[0], mx_cmp);
	for (size_t i = 0; i < nmx && *n < max; i++) {
		int r;
		if (server && server[0])
			r = dns_addrs_resolver(&st, mx[i].host, mx[i].pref, out, max, n, err, errlen);
		else
			r = dns_addrs_gai(mx[i].host, mx[i].pref, out, max, n, err, errlen);
		if (r == DNS_TEMP)
			temp = 1;
	}
	res_nclose(&st);
	if (*n > 0)
		return DNS_OK;
	return temp ? DNS_TEMP : DNS_PERM;
}

/* --- client names (smtpd) ------------------------------------------------------- */

/* A host name as Postfix's valid_hostname() wants it: letters, digits, '-' and '.',
 * labels of 1..63, not all numeric (a PTR of "1.2.3.4" is not a name). */
static int dns_valid_hostname(const char *name)
{
	size_t label = 0, len = strlen(name);
	int alpha = 0;

	if (len == 0 || len > 253)
		return 0;
	for (const char *p = name; *p; p++) {
		if (*p == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!(isalnum((unsigned char)*p) || *p == '-') || ++label > 63)
			return 0;
		alpha |= !isdigit((unsigned char)*p);
	}
	return label > 0 && alpha;
}

/* The PTR name of addr through server (libresolv). */
static int dns_ptr_resolver(const char *server, const struct sockaddr *sa, char *name,
			    size_t len, char *err, size_t errlen)
{
	char q[128];
	unsigned char ans[4096];
	struct __res_state st;
	ns_msg msg;
	int n, rc = DNS_PERM;

	if (sa->sa_family == AF_INET) {
		const unsigned char *b = (const unsigned char *)
					 &((const struct sockaddr_in *)sa)->sin_addr;
		snprintf(q, sizeof q, "%u.%u.%u.%u.in-addr.arpa", b[3], b[2], b[1], b[0]);
	} else {
		const unsigned char *b = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
		size_t o = 0;
		for (int i = 15; i >= 0; i--)
			o += (size_t)snprintf(q + o, sizeof q - o, "%x.%x.", b[i] & 0xF, b[i] >> 4);
		snprintf(q + o, sizeof q - o, "ip6.arpa");
	}
	if (dns_open(&st, server, err, errlen) < 0)
		return DNS_TEMP;
	n = dns_query(&st, q, ns_t_ptr, ans, sizeof ans, err, errlen);
	if (n <= 0) {
		res_nclose(&st);
		return n == 0 ? DNS_PERM : n;
	}
	if (ns_initparse(ans, n, &msg) == 0) {
		for (int i = 0; i < ns_msg_count(msg, ns_s_an); i++) {
			ns_rr rr;
			if (ns_parserr(&msg, ns_s_an, i, &rr) < 0)
				break;
			if (ns_rr_type(rr) != ns_t_ptr)
				continue;
			if (ns_name_uncompress(ns_msg_base(msg), ns_msg_end(msg), ns_rr_rdata(rr),
					       name, len) >= 0)
				rc = DNS_OK;
			break;
		}
	}
	res_nclose(&st);
	if (rc != DNS_OK)
		snprintf(err, errlen, "no PTR record for %s", q);
	return rc;
}

int dns_client_name(const char *server, const char *ip, char *name, size_t len,
		    char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t sl;
	dns_addr addrs[16];
	unsigned char want[16], got[16];
	size_t n = 0, wl;
	int rc;

	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		sl = sizeof *s4;
		memcpy(want, &s4->sin_addr, wl = 4);
	} else if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		sl = sizeof *s6;
		memcpy(want, &s6->sin6_addr, wl = 16);
	} else {
		snprintf(err, errlen, "not an address: %s", ip);
		return DNS_PERM;
	}
	if (server && server[0]) {
		if ((rc = dns_ptr_resolver(server, (struct sockaddr *)&ss, name, len, err,
					   errlen)) != DNS_OK)
			return rc;
	} else if ((rc = getnameinfo((struct sockaddr *)&ss, sl, name, (socklen_t)len, NULL, 0,
				     NI_NAMEREQD)) != 0) {
		snprintf(err, errlen, "%s: no host name (%s)", ip, gai_strerror(rc));
		return rc == EAI_AGAIN ? DNS_TEMP : DNS_PERM;
	}
	n = strlen(name);
	if (n > 0 && name[n - 1] == '.')
		name[n - 1] = 0;
	if (!dns_valid_hostname(name)) {
		snprintf(err, errlen, "%s: malformed host name in PTR record", ip);
		return DNS_BADNAME;
	}
	/* forward-confirmed: one of the name's addresses must be ip */
	n = 0;
	rc = dns_host_addrs(server, name, 0, addrs, sizeof addrs / sizeof addrs[0], &n, err, errlen);
	if (rc == DNS_TEMP)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (inet_pton(wl == 4 ? AF_INET : AF_INET6, addrs[i].ip, got) == 1 &&
		    memcmp(got, want, wl) == 0)
			return DNS_OK;
	snprintf(err, errlen, "hostname %s does not resolve to address %s", name, ip);
	return DNS_BADNAME;
}
