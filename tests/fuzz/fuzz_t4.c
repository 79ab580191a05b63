/*
 * fuzz_t4.c - libFuzzer harness for the T.4/T.6 decoder: the first byte picks coding,
 * fill order and whether the row count is known, the next two the width; the rest is
 * the coded data. Whatever decodes is re-encoded and must decode to the same page.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/t4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	t4_opts o;
	codec_page *pg = NULL, *back = NULL;
	t4_result res;
	uint32_t width, rows;
	buf out;

	if (size < 3)
		return 0;
	memset(&o, 0, sizeof(o));
	o.coding = (t4_coding)(data[0] % 3 + 1);
	o.fill_lsb = data[0] >> 2 & 1;
	o.k = 1 + (data[0] >> 4 & 3);
	rows = data[0] & 0x80 ? 0 : 64;
	width = 1 + ((uint32_t)data[1] << 8 | data[2]) % 2600;
	if (t4_decode(&o, data + 3, size - 3, width, rows, &pg, &res) == T4_OK && pg && pg->height) {
		buf_init(&out, 0);
		if (t4_encode(&o, pg, &out) == 0 &&
		    t4_decode(&o, (uint8_t *)out.data, out.len, width, pg->height, &back, &res) == T4_OK &&
		    !page_equal(pg, back))
			abort();
		buf_free(&out);
	}
	page_free(pg);
	page_free(back);
	return 0;
}
