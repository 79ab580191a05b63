/*
 * smtpd_check.h - client and recipient checks: mynetworks, domain lists, relay rule.
 *
 * Contract: smtpd_nets_parse() understands Postfix's mynetworks forms ("127.0.0.0/8",
 * "192.0.2.7", "[::1]/128", "::1"); a bad item is an error (the daemon refuses to
 * start). smtpd_relay_check() is the relay rule of Postfix's defaults
 * (permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination, with
 * allow_untrusted_routing = no): a recipient in a local or fax domain is accepted
 * from anyone, unless its local part routes further (@ % !) and the client is neither
 * trusted nor authenticated; any other recipient only from mynetworks or after AUTH;
 * all else gets "554 5.7.1 <addr>: Relay access denied".
 */
#ifndef FAXPOST_SMTPD_CHECK_H
#define FAXPOST_SMTPD_CHECK_H

#include <stddef.h>

#include "mail/addr.h"
#include "util/buf.h"

typedef struct smtpd_net {
	int family;			/* AF_INET, AF_INET6 */
	unsigned char addr[16];
	int bits;
} smtpd_net;

typedef struct smtpd_nets {
	size_t n;
	smtpd_net *net;
} smtpd_nets;

/* 0 ok; -1 with why naming the bad item. */
int smtpd_nets_parse(smtpd_nets *nets, char **items, size_t n, char *why, size_t whylen);
int smtpd_nets_match(const smtpd_nets *nets, const char *addr);	/* numeric address */
void smtpd_nets_free(smtpd_nets *nets);

typedef struct smtpd_domains {
	size_t n;
	char **name;			/* lower case */
} smtpd_domains;

void smtpd_domains_set(smtpd_domains *d, char **items, size_t n);
int smtpd_domains_match(const smtpd_domains *d, const char *domain);
void smtpd_domains_free(smtpd_domains *d);

/* 0 = accept; else the reply into reply. local/fax: the domain lists; trusted: client
 * in mynetworks or authenticated. An empty domain is a local address. */
int smtpd_relay_check(const addr_path *rcpt, const smtpd_domains *local,
		      const smtpd_domains *fax, int trusted, buf *reply);

#endif
