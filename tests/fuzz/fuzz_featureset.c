/*
 * fuzz_featureset.c - libFuzzer harness for the RFC 2533 parser: whatever parses must
 * print, the printed text must parse and print the same, and intersection and matching
 * against a fax capability expression must terminate.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/featureset.h"

static const char *CAPS = "(& (image-coding=[MH,MR,MMR]) (| (& (dpi=204) (dpi-xyratio=[204/98,204/196]))"
			  " (& (dpi=200) (dpi-xyratio=[200/100,1]))) (paper-size=[A4,letter]))";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[128];
	fs_expr *e = fs_parse((const char *)data, size, err, sizeof(err)), *c, *x, *e2;
	buf a, b;
	int empty;

	if (!e)
		return 0;
	buf_init(&a, 0);
	buf_init(&b, 0);
	if (fs_format(e, &a) < 0)
		abort();
	if ((e2 = fs_parse(a.data, a.len, err, sizeof(err))) == NULL || fs_format(e2, &b) < 0 ||
	    a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
		abort();
	c = fs_parse(CAPS, strlen(CAPS), err, sizeof(err));
	x = fs_intersect(c, e, &empty);
	if (!x)
		abort();
	(void)fs_match(c, e);
	(void)fs_allows(e, "image-coding", "MMR");
	fs_free(x);
	fs_free(c);
	fs_free(e2);
	fs_free(e);
	buf_free(&a);
	buf_free(&b);
	return 0;
}
