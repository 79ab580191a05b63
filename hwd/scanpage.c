/*
 * scanpage.c - scanned rows to fax-width pages and a TIFF file.
 *
 * Why 1728: every fax page is 1728 pels wide at R8; a 215 mm scan at 200 dpi is 1692
 * pels, which remote machines (and spandsp) refuse. Narrower rows are centred on white,
 * wider ones cut evenly on both sides. Pages are stored MMR (T.6) in the TIFF, the
 * smallest lossless form libtiff writes; codecd converts for the far end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>

#include "hwd.h"
#include "util/buf.h"
#include "util/msg.h"

#define ROW_BYTES (FAX_WIDTH / 8)
#define MAX_ROWS 20000		/* a very long page; more is a runaway scanner */

static int get_bit(const unsigned char *row, size_t i)
{
	return (row[i >> 3] >> (7 - (i & 7))) & 1;
}

int scanpage_add_row(scan_page *p, const unsigned char *row, size_t src_pels)
{
	unsigned char *dst;
	size_t off_dst = 0, off_src = 0, n;

	if (p->rows >= MAX_ROWS)
		return -1;
	if (p->rows == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 1024, bytes;

		if (size_mul(cap, ROW_BYTES, &bytes) < 0)
			return -1;
		p->data = xrealloc(p->data, bytes);
		p->cap = cap;
	}
	dst = p->data + p->rows * ROW_BYTES;
	memset(dst, 0, ROW_BYTES);
	if (src_pels < FAX_WIDTH)
		off_dst = (FAX_WIDTH - src_pels) / 2;
	else
		off_src = (src_pels - FAX_WIDTH) / 2;
	n = src_pels < FAX_WIDTH ? src_pels : FAX_WIDTH;
	for (size_t i = 0; i < n; i++)
		if (get_bit(row, off_src + i))
			dst[(off_dst + i) >> 3] |= (unsigned char) (0x80 >> ((off_dst + i) & 7));
	p->rows++;
	return 0;
}

void scanpage_free(scan_page *p)
{
	free(p->data);
	memset(p, 0, sizeof *p);
}

int scanpage_write_tiff(const char *path, scan_page *pages, size_t n, char *err, size_t errlen)
{
	TIFF *t = TIFFOpen(path, "w");

	if (t == NULL) {
		snprintf(err, errlen, "cannot create %s", path);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		scan_page *p = &pages[i];

		TIFFSetField(t, TIFFTAG_IMAGEWIDTH, FAX_WIDTH);
		TIFFSetField(t, TIFFTAG_IMAGELENGTH, (uint32_t) p->rows);
		TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 1);
		TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
		TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX4);
		TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
		TIFFSetField(t, TIFFTAG_FILLORDER, FILLORDER_MSB2LSB);
		TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, (uint32_t) p->rows);
		TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
		TIFFSetField(t, TIFFTAG_XRESOLUTION, (float) p->xres);
		TIFFSetField(t, TIFFTAG_YRESOLUTION, (float) p->yres);
		TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
		TIFFSetField(t, TIFFTAG_PAGENUMBER, (uint16_t) i, (uint16_t) n);
		TIFFSetField(t, TIFFTAG_SOFTWARE, "faxpost hwd");
		for (size_t r = 0; r < p->rows; r++)
			if (TIFFWriteScanline(t, p->data + r * ROW_BYTES, (uint32_t) r, 0) < 0) {
				TIFFClose(t);
				snprintf(err, errlen, "TIFF write error in %s", path);
				return -1;
			}
		if (!TIFFWriteDirectory(t)) {
			TIFFClose(t);
			snprintf(err, errlen, "TIFF directory write error in %s", path);
			return -1;
		}
	}
	TIFFClose(t);
	return 0;
}
