/*
 * tiffref.c - libtiff's CCITT coder as a per-page reference (see tiffref.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/tiffmem.h"
#include "codec/tiffref.h"
#include "util/msg.h"

static void set_tags(TIFF *t, uint32_t w, uint32_t h, int compression, uint32_t t4opts,
		     int fill, unsigned yres)
{
	TIFFSetField(t, TIFFTAG_IMAGEWIDTH, w);
	TIFFSetField(t, TIFFTAG_IMAGELENGTH, h);
	TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 1);
	TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
	TIFFSetField(t, TIFFTAG_COMPRESSION, compression);
	TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
	TIFFSetField(t, TIFFTAG_FILLORDER, fill == 2 ? FILLORDER_LSB2MSB : FILLORDER_MSB2LSB);
	TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, h);
	TIFFSetField(t, TIFFTAG_XRESOLUTION, 204.0);
	TIFFSetField(t, TIFFTAG_YRESOLUTION, (double)(yres ? yres : 196));
	TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
	if (compression == COMPRESSION_CCITTFAX3)
		TIFFSetField(t, TIFFTAG_GROUP3OPTIONS, t4opts);
}

int tiffref_encode(const codec_page *p, int compression, uint32_t t4opts, int fill, buf *strip)
{
	tiffmem m, r;
	buf file;
	TIFF *t;
	size_t rowbytes = (p->width + 7) / 8, n = rowbytes * p->height;
	uint8_t *raw = xmalloc(n ? n : 1);
	uint64_t *cnt;
	int rc = -1;

	for (uint32_t y = 0; y < p->height; y++)
		memcpy(raw + (size_t)y * rowbytes, page_row(p, y), rowbytes);
	buf_init(&file, 0);
	t = tiffmem_open_write(&m, &file);
	if (t) {
		set_tags(t, p->width, p->height, compression, t4opts, fill, p->yres);
		if (TIFFWriteEncodedStrip(t, 0, raw, (tmsize_t)n) >= 0)
			rc = 0;
		TIFFClose(t);
	}
	free(raw);
	if (rc == 0 && (t = tiffmem_open_read(&r, (uint8_t *)file.data, file.len)) != NULL) {
		rc = -1;
		if (TIFFGetField(t, TIFFTAG_STRIPBYTECOUNTS, &cnt) && cnt[0] < file.len) {
			buf_reset(strip);
			if (buf_reserve(strip, cnt[0]) == 0 &&
			    TIFFReadRawStrip(t, 0, strip->data, (tmsize_t)cnt[0]) == (tmsize_t)cnt[0]) {
				strip->len = cnt[0];
				rc = 0;
			}
		}
		TIFFClose(t);
	}
	buf_free(&file);
	return rc;
}

codec_page *tiffref_decode(const uint8_t *strip, size_t len, uint32_t width, uint32_t height,
			   int compression, uint32_t t4opts, int fill)
{
	tiffmem m, r;
	buf file;
	TIFF *t;
	codec_page *p = NULL;
	size_t rowbytes = (width + 7) / 8, n = rowbytes * height;

	buf_init(&file, 0);
	t = tiffmem_open_write(&m, &file);
	if (!t)
		return NULL;
	set_tags(t, width, height, compression, t4opts, fill, 196);
	TIFFWriteRawStrip(t, 0, (void *)strip, (tmsize_t)len);
	TIFFClose(t);
	if ((t = tiffmem_open_read(&r, (uint8_t *)file.data, file.len)) != NULL) {
		uint8_t *raw = xmalloc(n ? n : 1);
		tmsize_t got = TIFFReadEncodedStrip(t, 0, raw, (tmsize_t)n);
		if (getenv("TIFFREF_DEBUG"))
			fprintf(stderr, "tiffref: got %ld of %zu: %s\n", (long)got, n, r.err);
		if (got == (tmsize_t)n && !r.err[0] &&
		    (p = page_alloc(width, height, 204, 196)) != NULL) {
			for (uint32_t y = 0; y < height; y++)
				memcpy(page_row(p, y), raw + (size_t)y * rowbytes, rowbytes);
			page_clear_padding(p);
		}
		free(raw);
		TIFFClose(t);
	}
	buf_free(&file);
	return p;
}
