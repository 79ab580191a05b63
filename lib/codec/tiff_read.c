/*
 * tiff_read.c - read every page of a bilevel (or any) TIFF into pages (see tiff.h).
 *
 * libtiff parses the directories (it detects IFD loops and checks tag types); the strips
 * of CCITT pages are decoded by our coder from the raw strip bytes, T.85 strips by
 * jbig85, anything else by libtiff: bilevel strips with TIFFReadEncodedStrip, other
 * layouts (tiles, grey, colour, planes) through TIFFReadRGBAImageOriented and a
 * threshold. If our coder rejects a CCITT strip, libtiff gets the page (it repairs some
 * damage differently); if that fails too, the file is rejected.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/t85.h"
#include "codec/tiff.h"
#include "codec/tiffmem.h"
#include "util/msg.h"

#define RGBA_MAX_PIXELS (16u * 1024 * 1024)

unsigned tiff_snap_xres(double dpi)
{
	static const unsigned std[] = { 200, 204, 300, 400, 408 };

	for (size_t i = 0; i < sizeof(std) / sizeof(std[0]); i++)
		if (fabs(dpi - std[i]) <= std[i] * 0.01)
			return std[i];
	return dpi < 1 || dpi > 10000 ? 204 : (unsigned)(dpi + 0.5);
}

unsigned tiff_snap_yres(double dpi)
{
	static const unsigned std[] = { 98, 100, 196, 200, 300, 391, 400 };

	for (size_t i = 0; i < sizeof(std) / sizeof(std[0]); i++)
		if (fabs(dpi - std[i]) <= std[i] * 0.01)
			return std[i];
	return dpi < 1 || dpi > 10000 ? 196 : (unsigned)(dpi + 0.5);
}

typedef struct page_hdr {
	uint32_t w, h, rps;
	uint16_t bps, spp, photo, comp, fill, planar;
	uint32_t t4opts, t6opts;
	unsigned xres, yres;
	int tiled;
} page_hdr;

static void read_res(TIFF *t, page_hdr *h)
{
	float x = 0, y = 0;
	uint16_t unit = RESUNIT_INCH;

	TIFFGetField(t, TIFFTAG_XRESOLUTION, &x);
	TIFFGetField(t, TIFFTAG_YRESOLUTION, &y);
	TIFFGetFieldDefaulted(t, TIFFTAG_RESOLUTIONUNIT, &unit);
	if (unit == RESUNIT_CENTIMETER) {
		x *= 2.54f;
		y *= 2.54f;
	}
	if (x <= 0)
		x = 204;
	if (y <= 0)
		y = x > 250 ? x : 196;
	h->xres = tiff_snap_xres(x);
	h->yres = tiff_snap_yres(y);
}

static int read_hdr(TIFF *t, page_hdr *h, char *err, size_t errlen)
{
	memset(h, 0, sizeof(*h));
	if (!TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &h->w) || !TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h->h)) {
		snprintf(err, errlen, "no image size");
		return -1;
	}
	TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &h->bps);
	TIFFGetFieldDefaulted(t, TIFFTAG_SAMPLESPERPIXEL, &h->spp);
	TIFFGetFieldDefaulted(t, TIFFTAG_COMPRESSION, &h->comp);
	TIFFGetFieldDefaulted(t, TIFFTAG_FILLORDER, &h->fill);
	TIFFGetFieldDefaulted(t, TIFFTAG_PLANARCONFIG, &h->planar);
	TIFFGetFieldDefaulted(t, TIFFTAG_ROWSPERSTRIP, &h->rps);
	if (!TIFFGetField(t, TIFFTAG_PHOTOMETRIC, &h->photo))
		h->photo = PHOTOMETRIC_MINISWHITE;
	if (h->comp == COMPRESSION_CCITTFAX3)
		TIFFGetField(t, TIFFTAG_GROUP3OPTIONS, &h->t4opts);
	if (h->comp == COMPRESSION_CCITTFAX4)
		TIFFGetField(t, TIFFTAG_GROUP4OPTIONS, &h->t6opts);
	h->tiled = TIFFIsTiled(t);
	read_res(t, h);
	if (h->w == 0 || h->h == 0 || h->w > CODEC_MAX_WIDTH || h->h > CODEC_MAX_ROWS ||
	    (uint64_t)h->w * h->h > CODEC_MAX_PIXELS) {
		snprintf(err, errlen, "page size %ux%u is beyond the limits", h->w, h->h);
		return -1;
	}
	if (h->rps == 0 || h->rps > h->h)
		h->rps = h->h;
	return 0;
}

static int bilevel_strips(const page_hdr *h)
{
	return !h->tiled && h->bps == 1 && h->spp == 1 &&
	       (h->photo == PHOTOMETRIC_MINISWHITE || h->photo == PHOTOMETRIC_MINISBLACK);
}

/* A view of rows [y, y + n) of a page (shares its bits). */
static codec_page sub_page(const codec_page *pg, uint32_t y, uint32_t n)
{
	codec_page v = *pg;

	v.bits = page_row(pg, y);
	v.height = n;
	return v;
}

/* Our coder on each raw strip; -1 lets libtiff try. */
static int read_ccitt(TIFF *t, const page_hdr *h, size_t filelen, codec_page *pg)
{
	uint32_t ns = TIFFNumberOfStrips(t);
	uint64_t *cnt;
	uint8_t *raw = NULL;
	size_t cap = 0;
	int rc = 0;
	t4_opts o = { h->comp == COMPRESSION_CCITTFAX4 ? T4_MMR : (h->t4opts & 1) ? T4_MR : T4_MH,
		      0, h->fill == FILLORDER_LSB2MSB, 0, 0 };

	if (h->comp == COMPRESSION_CCITTFAX3 && (h->t4opts & GROUP3OPT_UNCOMPRESSED))
		return -1;
	if (!TIFFGetField(t, TIFFTAG_STRIPBYTECOUNTS, &cnt))
		return -1;
	for (uint32_t s = 0; s < ns && rc == 0; s++) {
		uint32_t y = s * h->rps, n = h->h - y < h->rps ? h->h - y : h->rps;
		codec_page v;
		t4_result res;

		if (y >= h->h || cnt[s] > filelen)
			return -1;
		if (cnt[s] > cap) {
			cap = cnt[s];
			raw = xrealloc(raw, cap);
		}
		if (TIFFReadRawStrip(t, s, raw, (tmsize_t)cnt[s]) != (tmsize_t)cnt[s]) {
			rc = -1;
			break;
		}
		v = sub_page(pg, y, n);
		if (t4_decode_into(&o, raw, cnt[s], &v, &res) != T4_OK)
			rc = -1;
	}
	free(raw);
	return rc;
}

/* T.85 strips: one BIE each. */
static int read_t85(TIFF *t, const page_hdr *h, size_t filelen, codec_page *pg, char *err,
		    size_t errlen)
{
	uint32_t ns = TIFFNumberOfStrips(t), y = 0;
	uint64_t *cnt;
	int rc = 0;

	if (!TIFFGetField(t, TIFFTAG_STRIPBYTECOUNTS, &cnt)) {
		snprintf(err, errlen, "no StripByteCounts");
		return -1;
	}
	for (uint32_t s = 0; s < ns && rc == 0 && y < h->h; s++) {
		uint8_t *raw;
		codec_page *part;

		if (cnt[s] > filelen || cnt[s] == 0) {
			snprintf(err, errlen, "strip %u: bad byte count", s);
			return -1;
		}
		raw = xmalloc(cnt[s]);
		if (TIFFReadRawStrip(t, s, raw, (tmsize_t)cnt[s]) != (tmsize_t)cnt[s]) {
			snprintf(err, errlen, "strip %u: cannot read", s);
			rc = -1;
		} else if ((part = t85_decode(raw, cnt[s], err, errlen)) == NULL) {
			rc = -1;
		} else {
			if (part->width != h->w) {
				snprintf(err, errlen, "JBIG width %u differs from ImageWidth %u", part->width, h->w);
				rc = -1;
			}
			for (uint32_t r = 0; rc == 0 && r < part->height && y < h->h; r++, y++)
				memcpy(page_row(pg, y), page_row(part, r), pg->stride);
			page_free(part);
		}
		free(raw);
	}
	return rc;
}

static int read_libtiff_strips(TIFF *t, const page_hdr *h, codec_page *pg, char *err, size_t errlen)
{
	uint32_t ns = TIFFNumberOfStrips(t);
	tmsize_t ss = TIFFStripSize(t);
	size_t rb = (h->w + 7) / 8;
	uint8_t *raw;

	if (ss <= 0 || (size_t)ss < rb) {
		snprintf(err, errlen, "bad strip size");
		return -1;
	}
	raw = xmalloc((size_t)ss);
	for (uint32_t s = 0; s < ns; s++) {
		uint32_t y = s * h->rps, n;
		tmsize_t got;

		if (y >= h->h)
			break;
		n = h->h - y < h->rps ? h->h - y : h->rps;
		got = TIFFReadEncodedStrip(t, s, raw, ss);
		if (got < 0 || (size_t)got < rb * n) {
			snprintf(err, errlen, "strip %u: cannot decode", s);
			free(raw);
			return -1;
		}
		for (uint32_t r = 0; r < n; r++)
			memcpy(page_row(pg, y + r), raw + (size_t)r * rb, rb);
	}
	free(raw);
	return 0;
}

/* Grey, colour, tiles, planes: libtiff's RGBA reader, then a threshold at half grey. */
static int read_rgba(TIFF *t, const page_hdr *h, codec_page *pg, char *err, size_t errlen)
{
	uint32_t *px;

	if ((uint64_t)h->w * h->h > RGBA_MAX_PIXELS) {
		snprintf(err, errlen, "page %ux%u too large for a grey/colour image", h->w, h->h);
		return -1;
	}
	px = xmalloc((size_t)h->w * h->h * sizeof(uint32_t));
	if (!TIFFReadRGBAImageOriented(t, h->w, h->h, px, ORIENTATION_TOPLEFT, 0)) {
		snprintf(err, errlen, "cannot decode the image");
		free(px);
		return -1;
	}
	for (uint32_t y = 0; y < h->h; y++) {
		uint8_t *row = page_row(pg, y);
		for (uint32_t x = 0; x < h->w; x++) {
			uint32_t p = px[(size_t)y * h->w + x];
			unsigned lum = (TIFFGetR(p) * 299 + TIFFGetG(p) * 587 + TIFFGetB(p) * 114) / 1000;
			if (lum < 128)
				row[x >> 3] |= (uint8_t)(0x80 >> (x & 7));
		}
	}
	free(px);
	return 0;
}

static void invert(codec_page *pg)
{
	for (uint32_t y = 0; y < pg->height; y++) {
		uint8_t *r = page_row(pg, y);
		for (size_t i = 0; i < pg->stride; i++)
			r[i] = (uint8_t)~r[i];
	}
	page_clear_padding(pg);
}

static codec_page *read_page(TIFF *t, size_t filelen, int flags, page_hdr *h, char *err,
			     size_t errlen)
{
	codec_page *pg;
	int rc = -1, ccitt;

	if (read_hdr(t, h, err, errlen) < 0)
		return NULL;
	if ((pg = page_alloc(h->w, h->h, h->xres, h->yres)) == NULL) {
		snprintf(err, errlen, "page size %ux%u is beyond the limits", h->w, h->h);
		return NULL;
	}
	ccitt = h->comp == COMPRESSION_CCITTFAX3 || h->comp == COMPRESSION_CCITTFAX4;
	if (bilevel_strips(h) && ccitt && !(flags & TIFF_READ_LIBTIFF))
		rc = read_ccitt(t, h, filelen, pg);
	if (rc == 0) {
		/* decoded by us */
	} else if (bilevel_strips(h) && h->comp == 9) {
		rc = read_t85(t, h, filelen, pg, err, errlen);
	} else if (bilevel_strips(h)) {
		memset(pg->bits, 0, pg->stride * pg->height);
		rc = read_libtiff_strips(t, h, pg, err, errlen);
	} else {
		rc = read_rgba(t, h, pg, err, errlen);
		h->photo = PHOTOMETRIC_MINISWHITE;	/* already 1 = black */
	}
	if (rc < 0) {
		page_free(pg);
		return NULL;
	}
	page_clear_padding(pg);
	if (h->photo == PHOTOMETRIC_MINISBLACK)
		invert(pg);
	return pg;
}

static int profile_s_page(const uint8_t *data, const page_hdr *h, TIFF *t)
{
	return data[0] == 'I' && h->comp == COMPRESSION_CCITTFAX3 && !(h->t4opts & 3) &&
	       h->fill == FILLORDER_LSB2MSB && h->w == 1728 && h->rps >= h->h &&
	       TIFFNumberOfStrips(t) == 1 && h->photo == PHOTOMETRIC_MINISWHITE &&
	       tiff_combo_ok(TIFF_PROFILE_S, h->xres, h->yres, h->w);
}

int tiff_read(const uint8_t *data, size_t len, int flags, codec_doc *doc, tiff_src *src,
	      char *err, size_t errlen)
{
	tiffmem m;
	TIFF *t;
	tiff_src dummy;
	int rc = 0;

	if (!src)
		src = &dummy;
	memset(src, 0, sizeof(*src));
	doc_init(doc);
	if (len < 8 || !((data[0] == 'I' && data[1] == 'I') || (data[0] == 'M' && data[1] == 'M'))) {
		snprintf(err, errlen, "not a TIFF file");
		return -1;
	}
	if ((t = tiffmem_open_read(&m, data, len)) == NULL) {
		snprintf(err, errlen, "bad TIFF: %s", m.err[0] ? m.err : "cannot open");
		return -1;
	}
	src->profile_s = 1;
	do {
		page_hdr h;
		codec_page *pg;

		if (doc->n >= CODEC_MAX_PAGES) {
			snprintf(err, errlen, "more than %d pages", CODEC_MAX_PAGES);
			rc = -1;
			break;
		}
		m.err[0] = 0;
		if ((pg = read_page(t, len, flags, &h, err, errlen)) == NULL) {
			char why[200];
			snprintf(why, sizeof(why), "%s", err);
			snprintf(err, errlen, "page %zu: %s%s%s", doc->n + 1, why, m.err[0] ? ": " : "", m.err);
			rc = -1;
			break;
		}
		if (doc->n == 0) {
			src->compression = h.comp;
			src->fill_order = h.fill;
			src->jbig = h.comp == 9;
			src->coding = h.comp == COMPRESSION_CCITTFAX4 ? T4_MMR :
				      h.comp == COMPRESSION_CCITTFAX3 ? ((h.t4opts & 1) ? T4_MR : T4_MH) : 0;
		}
		src->profile_s &= profile_s_page(data, &h, t);
		doc_add(doc, pg);
	} while (TIFFReadDirectory(t));
	if (rc == 0 && m.err[0] && strstr(m.err, "loop")) {
		snprintf(err, errlen, "bad TIFF: %s", m.err);
		rc = -1;
	}
	TIFFClose(t);
	if (rc < 0)
		doc_free(doc);
	return rc;
}
