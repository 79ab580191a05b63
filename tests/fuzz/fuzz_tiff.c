/*
 * fuzz_tiff.c - libFuzzer harness for the TIFF reader (all paths: our CCITT decoder,
 * T.85, libtiff strips, RGBA); whatever reads is written back as profile F and read again.
 */
#include <stdint.h>
#include <stdlib.h>

#include "codec/tiff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	codec_doc d, again;
	char err[256];
	buf out;

	if (tiff_read(data, size, 0, &d, NULL, err, sizeof(err)) < 0)
		return 0;
	buf_init(&out, 0);
	for (size_t i = 0; i < d.n; i++) {
		d.pages[i]->xres = 204;
		d.pages[i]->yres = 196;
	}
	{
		tiff_wopts o = { TIFF_PROFILE_F, T4_MMR, 2, 0, 0 };
		if (d.n && d.pages[0]->width == 1728 && tiff_write(&d, &o, &out, err, sizeof(err)) == 0) {
			if (tiff_read((uint8_t *)out.data, out.len, 0, &again, NULL, err, sizeof(err)) < 0 ||
			    again.n != d.n)
				abort();
			for (size_t i = 0; i < d.n; i++)
				if (!page_equal(d.pages[i], again.pages[i]))
					abort();
			doc_free(&again);
		}
	}
	buf_free(&out);
	doc_free(&d);
	return 0;
}
