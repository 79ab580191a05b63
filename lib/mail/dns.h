/*
 * dns.h - MX and address lookups for the SMTP client (libresolv).
 *
 * Contract: dns_mx_addrs() turns a destination into an ordered list of addresses to
 * try: MX records by preference (lowest first), each host's A then AAAA addresses;
 * no MX records means the domain itself (implicit MX, RFC 5321 5.1); a null MX
 * ("MX 0 .") is a permanent failure (5.1.10). dns_host_addrs() does the A/AAAA part
 * for one name (an IP literal is returned as is). The server is dns_server
 * ("addr[:port]", IPv4) when set, else /etc/resolv.conf; without dns_server, host
 * addresses come from getaddrinfo (so /etc/hosts works). At most `max` addresses.
 * Results: DNS_OK, DNS_TEMP (SERVFAIL, timeout: defer 4.4.3), DNS_PERM (NXDOMAIN:
 * 5.1.2), DNS_NULLMX (5.1.10); err says what happened in words.
 */
#ifndef FAXPOST_MAIL_DNS_H
#define FAXPOST_MAIL_DNS_H

#include <stddef.h>

#define DNS_OK		0
#define DNS_TEMP	(-1)
#define DNS_PERM	(-2)
#define DNS_NULLMX	(-3)
#define DNS_BADNAME	(-4)	/* dns_client_name: a name that does not verify */

typedef struct dns_addr {
	char host[256];		/* the MX host name (or the domain) */
	char ip[64];		/* numeric */
	int pref;		/* MX preference, 0 for implicit/literal */
} dns_addr;

/* server: "" or "addr[:port]". */
int dns_mx_addrs(const char *server, const char *domain, dns_addr *out, size_t max,
		 size_t *n, char *err, size_t errlen);
int dns_host_addrs(const char *server, const char *host, int pref, dns_addr *out, size_t max,
		   size_t *n, char *err, size_t errlen);

/* The forward-confirmed host name of a client address (what Postfix's smtpd logs):
 * the PTR name of ip (dns_server when set, else getnameinfo, so /etc/hosts counts),
 * kept only when it is a valid host name and one of its A/AAAA addresses is ip.
 * DNS_OK with name; DNS_PERM: no name; DNS_BADNAME: a malformed name, or one that
 * does not resolve back ("hostname X does not resolve to address Y" in err);
 * DNS_TEMP: try later. */
int dns_client_name(const char *server, const char *ip, char *name, size_t len,
		    char *err, size_t errlen);

#endif
