/*
 * convert.c - resolution, width and length conversions (see convert.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/convert.h"
#include "util/msg.h"

static int equivalent(unsigned a, unsigned b)
{
	unsigned lo = a < b ? a : b, hi = a < b ? b : a;

	return lo == hi || (lo == 98 && hi == 100) || (lo == 196 && hi == 200) ||
	       (lo == 200 && hi == 204) || (lo == 391 && hi == 400) || (lo == 400 && hi == 408) ||
	       (lo == 391 && hi == 408);
}

static inline int get_px(const uint8_t *row, uint32_t x)
{
	return row[x >> 3] >> (7 - (x & 7)) & 1;
}

/* OR of pixels [a, b) of a row. */
static int any_px(const uint8_t *row, uint32_t a, uint32_t b)
{
	for (uint32_t x = a; x < b; x++) {
		if ((x & 7) == 0 && x + 8 <= b) {
			if (row[x >> 3])
				return 1;
			x += 7;
			continue;
		}
		if (get_px(row, x))
			return 1;
	}
	return 0;
}

codec_page *convert_scale(const codec_page *src, uint32_t nw, uint32_t nh)
{
	codec_page *dst = page_alloc(nw, nh, src->xres, src->yres);
	uint8_t *tmp;
	uint32_t *x0, *x1;

	if (!dst || src->height == 0)
		return dst;
	tmp = xmalloc(src->stride);
	x0 = xmalloc(nw * sizeof(uint32_t));
	x1 = xmalloc(nw * sizeof(uint32_t));
	for (uint32_t x = 0; x < nw; x++) {
		x0[x] = (uint32_t)((uint64_t)x * src->width / nw);
		x1[x] = (uint32_t)((uint64_t)(x + 1) * src->width / nw);
		if (x1[x] <= x0[x])
			x1[x] = x0[x] + 1;
	}
	for (uint32_t y = 0; y < nh; y++) {
		uint32_t r0 = (uint32_t)((uint64_t)y * src->height / nh);
		uint32_t r1 = (uint32_t)((uint64_t)(y + 1) * src->height / nh);
		uint8_t *out = page_row(dst, y);

		if (r1 <= r0)
			r1 = r0 + 1;
		memcpy(tmp, page_row(src, r0), src->stride);
		for (uint32_t r = r0 + 1; r < r1; r++) {
			const uint8_t *in = page_row(src, r);
			for (size_t i = 0; i < src->stride; i++)
				tmp[i] |= in[i];
		}
		if (nw == src->width) {
			memcpy(out, tmp, dst->stride);
			continue;
		}
		for (uint32_t x = 0; x < nw; x++)
			if (x1[x] - x0[x] == 1 ? get_px(tmp, x0[x]) : any_px(tmp, x0[x], x1[x]))
				out[x >> 3] |= (uint8_t)(0x80 >> (x & 7));
	}
	free(tmp);
	free(x0);
	free(x1);
	return dst;
}

codec_page *convert_resolution(const codec_page *src, unsigned xres, unsigned yres)
{
	uint32_t nw = src->width, nh = src->height;
	codec_page *dst;

	if (!equivalent(src->xres, xres))
		nw = (uint32_t)(((uint64_t)src->width * xres + src->xres / 2) / src->xres);
	if (!equivalent(src->yres, yres))
		nh = (uint32_t)(((uint64_t)src->height * yres + src->yres / 2) / src->yres);
	if (nw == 0)
		nw = 1;
	if (nh == 0)
		nh = 1;
	dst = nw == src->width && nh == src->height ? page_dup(src) : convert_scale(src, nw, nh);
	if (dst) {
		dst->xres = xres;
		dst->yres = yres;
	}
	return dst;
}

codec_page *convert_width(const codec_page *src, uint32_t width)
{
	codec_page *dst;

	if (src->width > width + width / 16) {
		uint32_t nh = (uint32_t)((uint64_t)src->height * width / src->width);
		dst = convert_scale(src, width, nh ? nh : 1);
		if (dst) {
			dst->xres = src->xres;
			dst->yres = src->yres;
		}
		return dst;
	}
	if ((dst = page_alloc(width, src->height, src->xres, src->yres)) == NULL)
		return NULL;
	if (src->width == width) {
		memcpy(dst->bits, src->bits, src->stride * src->height);
		return dst;
	}
	for (uint32_t y = 0; y < src->height; y++) {
		const uint8_t *in = page_row(src, y);
		uint8_t *out = page_row(dst, y);
		/* Centre: pad (dx > 0) or crop (dx < 0) the same amount on both sides. */
		int64_t dx = ((int64_t)width - (int64_t)src->width) / 2;
		for (uint32_t x = 0; x < width; x++) {
			int64_t sx = (int64_t)x - dx;
			if (sx >= 0 && sx < (int64_t)src->width && get_px(in, (uint32_t)sx))
				out[x >> 3] |= (uint8_t)(0x80 >> (x & 7));
		}
	}
	return dst;
}

/* Split a long page into pieces of at most rows rows. */
static void split_into(codec_doc *out, codec_page *pg, uint32_t rows)
{
	for (uint32_t y = 0; y < pg->height; y += rows) {
		uint32_t n = pg->height - y < rows ? pg->height - y : rows;
		codec_page *part = page_alloc(pg->width, n, pg->xres, pg->yres);
		memcpy(part->bits, page_row(pg, y), pg->stride * n);
		doc_add(out, part);
	}
	page_free(pg);
}

int convert_doc(codec_doc *doc, const codec_target *t, char *err, size_t errlen)
{
	codec_doc out;
	uint32_t maxrows = codec_paper_rows(t->paper_name, t->yres);

	doc_init(&out);
	for (size_t i = 0; i < doc->n; i++) {
		codec_page *a = convert_resolution(doc->pages[i], t->xres, t->yres), *b;

		if (!a || (b = convert_width(a, t->width)) == NULL) {
			snprintf(err, errlen, "page %zu: converted page too large", i + 1);
			page_free(a);
			doc_free(&out);
			return -1;
		}
		page_free(a);
		if (b->height > maxrows + maxrows / 8)
			split_into(&out, b, maxrows);
		else
			doc_add(&out, b);
		if (out.n > CODEC_MAX_PAGES) {
			snprintf(err, errlen, "more than %d pages after conversion", CODEC_MAX_PAGES);
			doc_free(&out);
			return -1;
		}
	}
	doc_free(doc);
	*doc = out;
	return 0;
}
