/*
 * smtpd_check.c - mynetworks matching, domain lists and the relay rule.
 *
 * Contract: see smtpd_check.h. Address matching works on the numeric address the
 * kernel gave (getnameinfo NI_NUMERICHOST); an IPv4-mapped IPv6 client
 * (::ffff:192.0.2.1) also matches IPv4 networks.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "smtpd_check.h"
#include "util/msg.h"

static int net_parse_one(const char *item, smtpd_net *net)
{
	char tmp[128];
	char *slash, *host = tmp, *end;
	size_t len;
	long bits;

	if (str_copy(tmp, sizeof(tmp), item) < 0)
		return -1;
	slash = strchr(tmp, '/');
	if (slash)
		*slash++ = 0;
	if (host[0] == '[') {
		len = strlen(host);
		if (len < 3 || host[len - 1] != ']')
			return -1;
		host[len - 1] = 0;
		host++;
	}
	memset(net, 0, sizeof(*net));
	if (inet_pton(AF_INET, host, net->addr) == 1) {
		net->family = AF_INET;
		net->bits = 32;
	} else if (inet_pton(AF_INET6, host, net->addr) == 1) {
		net->family = AF_INET6;
		net->bits = 128;
	} else {
		return -1;
	}
	if (slash) {
		bits = strtol(slash, &end, 10);
		if (!*slash || *end || bits < 0 || bits > net->bits)
			return -1;
		net->bits = (int)bits;
	}
	return 0;
}

int smtpd_nets_parse(smtpd_nets *nets, char **items, size_t n, char *why, size_t whylen)
{
	size_t i;

	nets->n = 0;
	nets->net = n ? xcalloc(n, sizeof(*nets->net)) : NULL;
	for (i = 0; i < n; i++) {
		if (net_parse_one(items[i], &nets->net[nets->n]) < 0) {
			snprintf(why, whylen, "bad network address in mynetworks: \"%s\"", items[i]);
			return -1;
		}
		nets->n++;
	}
	return 0;
}

static int prefix_match(const unsigned char *a, const unsigned char *b, int bits)
{
	int full = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a[full] ^ b[full]) & (0xff << (8 - rest))) == 0;
}

int smtpd_nets_match(const smtpd_nets *nets, const char *addr)
{
	unsigned char a4[4], a6[16];
	int is4 = inet_pton(AF_INET, addr, a4) == 1;
	int is6 = !is4 && inet_pton(AF_INET6, addr, a6) == 1;
	static const unsigned char mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	size_t i;

	if (is6 && memcmp(a6, mapped, 12) == 0) {
		memcpy(a4, a6 + 12, 4);
		is4 = 1;
	}
	for (i = 0; i < nets->n; i++) {
		const smtpd_net *net = &nets->net[i];

		if (net->family == AF_INET && is4 && prefix_match(a4, net->addr, net->bits))
			return 1;
		if (net->family == AF_INET6 && is6 && prefix_match(a6, net->addr, net->bits))
			return 1;
	}
	return 0;
}

void smtpd_nets_free(smtpd_nets *nets)
{
	free(nets->net);
	nets->net = NULL;
	nets->n = 0;
}

void smtpd_domains_set(smtpd_domains *d, char **items, size_t n)
{
	size_t i;

	d->n = 0;
	d->name = n ? xcalloc(n, sizeof(char *)) : NULL;
	for (i = 0; i < n; i++) {
		char *p = xstrdup(items[i]);
		char *q;

		for (q = p; *q; q++)
			*q = (char)tolower((unsigned char)*q);
		if (*p)
			d->name[d->n++] = p;
		else
			free(p);
	}
}

int smtpd_domains_match(const smtpd_domains *d, const char *domain)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strcasecmp(d->name[i], domain) == 0)
			return 1;
	return 0;
}

void smtpd_domains_free(smtpd_domains *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->name[i]);
	free(d->name);
	d->name = NULL;
	d->n = 0;
}

int smtpd_relay_check(const addr_path *rcpt, const smtpd_domains *local,
		      const smtpd_domains *fax, int trusted, buf *reply)
{
	int final = !rcpt->domain[0] || smtpd_domains_match(local, rcpt->domain) ||
		    smtpd_domains_match(fax, rcpt->domain);
	int routed = strpbrk(rcpt->local, "@%!") != NULL;

	if (trusted)
		return 0;
	if (final && !routed)
		return 0;
	buf_printf(reply, "554 5.7.1 <%s>: Relay access denied", rcpt->addr);
	return -1;
}
