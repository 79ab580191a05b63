/*
 * fuzz_addr.c - libFuzzer harness for lib/mail/addr: RFC 5321 paths, RFC 3192 fax
 * addresses and xtext (RFC 3461).
 *
 * FUZZ_LIBS: mail util
 *
 * The input is one NUL-terminated string given to addr_parse_path (and the sender and
 * recipient variants), fax_addr_parse and xtext_decode. Oracles besides the
 * sanitizers: every output is NUL-terminated within its field; a path that parses
 * gives an addr that parses again to itself (a fixed point: what smtpd writes into
 * the queue reads back the same); an xtext that decodes encodes and decodes again to
 * the same text.
 */
#include <string.h>

#include "fuzz_util.h"
#include "mail/addr.h"
#include "mail/addr_ext.h"

static void fuzz_addr_fixed_point(const addr_path *p)
{
	char text[ADDR_MAX_PATH + 8], why[256];
	addr_path again;

	if (memchr(p->addr, 0, sizeof(p->addr)) == NULL
	    || memchr(p->local, 0, sizeof(p->local)) == NULL
	    || memchr(p->domain, 0, sizeof(p->domain)) == NULL || p->nparam > ADDR_MAX_PARAMS)
		__builtin_trap();
	snprintf(text, sizeof(text), "<%s>", p->addr);
	if (addr_parse_path(text, &again, why, sizeof(why)) != 0)
		__builtin_trap();	/* what we accepted and stored does not parse */
	if (strcmp(again.addr, p->addr) != 0)
		__builtin_trap();
}

static void fuzz_addr_xtext(const char *s)
{
	char dec[1024], enc[3 * 1024 + 1], dec2[1024];

	if (xtext_decode(s, dec, sizeof(dec)) != 0)
		return;
	if (xtext_encode(dec, enc, sizeof(enc)) != 0)
		__builtin_trap();	/* 3x the decoded length always fits */
	if (xtext_decode(enc, dec2, sizeof(dec2)) != 0 || strcmp(dec, dec2) != 0)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, why[256], hop[ADDR_MAX_DOMAIN + 1], local[ADDR_MAX_LOCAL * 2 + 3];
	addr_path p;
	fax_addr fa;
	size_t i;

	if (size > 4096)
		return 0;
	fuzz_quiet("fuzz_addr");
	s = fuzz_cstr(data, size);
	if (addr_parse_path(s, &p, why, sizeof(why)) == 0) {
		fuzz_addr_fixed_point(&p);
		for (i = 0; i < p.nparam; i++)
			(void)addr_param_get(&p, p.param[i].name);
		(void)addr_param_get(&p, "SIZE");
		(void)addr_has_routing(&p);
		addr_next_hop(&p, hop, sizeof(hop));
		(void)addr_local_unquoted(&p, local, sizeof(local));
		if (p.addr[0] && fax_addr_parse(p.addr, &fa) == 1
		    && (memchr(fa.number, 0, sizeof(fa.number)) == NULL
			|| memchr(fa.subaddr, 0, sizeof(fa.subaddr)) == NULL))
			__builtin_trap();
	} else if (memchr(why, 0, sizeof(why)) == NULL) {
		__builtin_trap();
	}
	(void)addr_parse_sender(s, &p, why, sizeof(why));
	(void)addr_parse_recipient(s, &p, why, sizeof(why));
	(void)fax_addr_parse(s, &fa);
	fuzz_addr_xtext(s);
	free(s);
	return 0;
}
