/*
 * tiff_write.c - TIFF-FX profile S, F and J writer (see tiff.h).
 *
 * The file is laid out page by page so that each IFD comes before the data it points
 * to (profile S, RFC 3949 section 4.3): header, then for each page its IFD, the two
 * RATIONAL values, the strip; the next IFD follows on a word boundary.
 */
#include <stdio.h>
#include <string.h>

#include "codec/t85.h"
#include "codec/tiff.h"

enum { T_SHORT = 3, T_LONG = 4, T_RATIONAL = 5 };

typedef struct ifd_entry {
	uint16_t tag, type;
	uint32_t count, value;
} ifd_entry;

static void put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v & 0xffff);
	put16(p + 2, v >> 16);
}

int tiff_combo_ok(tiff_profile p, unsigned xres, unsigned yres, uint32_t width)
{
	if (p == TIFF_PROFILE_S)
		return width == 1728 && ((xres == 204 && (yres == 98 || yres == 196)) ||
					 (xres == 200 && (yres == 100 || yres == 200)));
	if ((xres == 204 && (yres == 98 || yres == 196 || yres == 391)) ||
	    (xres == 200 && (yres == 100 || yres == 200)))
		return width == 1728 || width == 2048 || width == 2432;
	if (xres == 300 && yres == 300)
		return width == 2592 || width == 3072 || width == 3648;
	if ((xres == 400 && yres == 400) || (xres == 408 && yres == 391))
		return width == 3456 || width == 4096 || width == 4864;
	return 0;
}

static void add(ifd_entry *e, int *n, uint16_t tag, uint16_t type, uint32_t count, uint32_t v)
{
	e[*n].tag = tag;
	e[*n].type = type;
	e[*n].count = count;
	e[*n].value = v;
	(*n)++;
}

/* Append one page: IFD at the current (even) end of out. */
static int write_page(const codec_page *pg, size_t idx, size_t total, const tiff_wopts *o,
		      const buf *strip, int last, buf *out)
{
	ifd_entry e[24];
	int n = 0, comp = o->profile == TIFF_PROFILE_J ? 9 : o->coding == T4_MMR ? 4 : 3;
	size_t ifd = out->len, ifdsize, vals, data, next;
	uint8_t *p;

	ifdsize = 2 + 12 * 18 + 4;	/* at most 18 entries; unused room stays zero */
	vals = ifd + ifdsize;
	data = vals + 16;
	next = last ? 0 : (data + strip->len + 1) / 2 * 2;
	if (data + strip->len > UINT32_MAX - 8)
		return -1;
	add(e, &n, 254, T_LONG, 1, 2);					/* NewSubfileType */
	add(e, &n, 256, T_LONG, 1, pg->width);
	add(e, &n, 257, T_LONG, 1, pg->height);
	add(e, &n, 258, T_SHORT, 1, 1);					/* BitsPerSample */
	add(e, &n, 259, T_SHORT, 1, (uint32_t)comp);
	add(e, &n, 262, T_SHORT, 1, 0);					/* MinIsWhite */
	add(e, &n, 266, T_SHORT, 1, (uint32_t)o->fill_order);
	add(e, &n, 273, T_LONG, 1, (uint32_t)data);			/* StripOffsets */
	add(e, &n, 277, T_SHORT, 1, 1);					/* SamplesPerPixel */
	add(e, &n, 278, T_LONG, 1, pg->height);				/* RowsPerStrip */
	add(e, &n, 279, T_LONG, 1, (uint32_t)strip->len);		/* StripByteCounts */
	add(e, &n, 282, T_RATIONAL, 1, (uint32_t)vals);
	add(e, &n, 283, T_RATIONAL, 1, (uint32_t)vals + 8);
	if (comp == 3)
		add(e, &n, 292, T_LONG, 1, (o->coding == T4_MR ? 1u : 0u) | (o->eol_align ? 4u : 0u));
	if (comp == 4)
		add(e, &n, 293, T_LONG, 1, 0);				/* T6Options */
	add(e, &n, 296, T_SHORT, 1, 2);					/* inch */
	add(e, &n, 297, T_SHORT, 2, (uint32_t)(idx & 0xffff) | (uint32_t)(total & 0xffff) << 16);
	if (buf_reserve(out, data - ifd + strip->len + 2) < 0)
		return -1;
	p = (uint8_t *)out->data + ifd;
	memset(p, 0, data - ifd);
	/* Shrink the IFD to its real size: values and data follow the unused room. */
	put16(p, (uint32_t)n);
	for (int i = 0; i < n; i++) {
		uint8_t *q = p + 2 + 12 * i;
		put16(q, e[i].tag);
		put16(q + 2, e[i].type);
		put32(q + 4, e[i].count);
		if (e[i].type == T_SHORT && e[i].count == 1)
			put16(q + 8, e[i].value);
		else if (e[i].type == T_SHORT)
			put32(q + 8, e[i].value);	/* two SHORTs, low one first */
		else
			put32(q + 8, e[i].value);
	}
	put32(p + 2 + 12 * n, (uint32_t)next);
	put32(p + (vals - ifd), pg->xres);
	put32(p + (vals - ifd) + 4, 1);
	put32(p + (vals - ifd) + 8, pg->yres);
	put32(p + (vals - ifd) + 12, 1);
	memcpy(p + (data - ifd), strip->data, strip->len);
	out->len = data + strip->len;
	if (!last && out->len % 2)
		out->data[out->len++] = 0;
	out->data[out->len] = 0;
	return 0;
}

static int check_page(const codec_page *pg, const tiff_wopts *o, size_t i, char *err, size_t errlen)
{
	const char *name = o->profile == TIFF_PROFILE_S ? "S" : o->profile == TIFF_PROFILE_F ? "F" : "J";

	if (!tiff_combo_ok(o->profile, pg->xres, pg->yres, pg->width)) {
		snprintf(err, errlen, "page %zu: %u pixels at %ux%u dpi is not allowed in profile %s",
			 i + 1, pg->width, pg->xres, pg->yres, name);
		return -1;
	}
	if (pg->height == 0 || pg->height > 65535) {
		snprintf(err, errlen, "page %zu: %u rows", i + 1, pg->height);
		return -1;
	}
	return 0;
}

int tiff_write(const codec_doc *doc, const tiff_wopts *in, buf *out, char *err, size_t errlen)
{
	tiff_wopts o = *in;
	buf strip;
	int rc = 0;
	static const uint8_t hdr[8] = { 'I', 'I', 42, 0, 8, 0, 0, 0 };

	if (errlen)
		err[0] = 0;
	if (o.profile == TIFF_PROFILE_S) {
		o.coding = T4_MH;
		o.fill_order = 2;
	} else if (o.profile == TIFF_PROFILE_J) {
		o.fill_order = 1;
	} else if (o.fill_order != 1) {
		o.fill_order = 2;
	}
	if (doc->n == 0 || doc->n > CODEC_MAX_PAGES) {
		snprintf(err, errlen, "%zu pages", doc->n);
		return -1;
	}
	buf_reset(out);
	if (buf_append(out, hdr, sizeof(hdr)) < 0)
		return -1;
	buf_init(&strip, out->limit);
	for (size_t i = 0; i < doc->n && rc == 0; i++) {
		const codec_page *pg = doc->pages[i];
		t4_opts t = { o.coding, o.k, o.fill_order == 2, o.eol_align, o.coding == T4_MMR };

		if ((rc = check_page(pg, &o, i, err, errlen)) < 0)
			break;
		buf_reset(&strip);
		rc = o.profile == TIFF_PROFILE_J ? t85_encode(pg, &strip) : t4_encode(&t, pg, &strip);
		if (rc == 0)
			rc = write_page(pg, i, doc->n, &o, &strip, i + 1 == doc->n, out);
		if (rc < 0 && !err[0])
			snprintf(err, errlen, "output larger than allowed");
	}
	buf_free(&strip);
	return rc;
}
