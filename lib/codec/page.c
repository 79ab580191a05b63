/*
 * page.c - bilevel page allocation with hard limits (see page.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "codec/page.h"
#include "util/buf.h"
#include "util/msg.h"

static int page_check(uint32_t width, uint32_t height)
{
	if (width == 0 || width > CODEC_MAX_WIDTH || height > CODEC_MAX_ROWS ||
	    (uint64_t)width * height > CODEC_MAX_PIXELS) {
		errno = EFBIG;
		return -1;
	}
	return 0;
}

codec_page *page_alloc(uint32_t width, uint32_t height, unsigned xres, unsigned yres)
{
	codec_page *p;
	size_t bytes;

	if (page_check(width, height) < 0)
		return NULL;
	p = xcalloc(1, sizeof(*p));
	p->width = width;
	p->height = height;
	p->stride = page_stride(width);
	p->xres = xres;
	p->yres = yres;
	if (size_mul(p->stride, height ? height : 1, &bytes) < 0) {
		free(p);
		errno = EFBIG;
		return NULL;
	}
	p->bits = xcalloc(1, bytes);
	return p;
}

void page_free(codec_page *p)
{
	if (p) {
		free(p->bits);
		free(p);
	}
}

int page_set_height(codec_page *p, uint32_t height)
{
	size_t old = p->stride * p->height, bytes;

	if (page_check(p->width, height) < 0 || size_mul(p->stride, height ? height : 1, &bytes) < 0)
		return -1;
	p->bits = xrealloc(p->bits, bytes);
	if (bytes > old)
		memset(p->bits + old, 0, bytes - old);
	p->height = height;
	return 0;
}

void page_clear_padding(codec_page *p)
{
	uint32_t full = p->width / 8, rem = p->width % 8;

	for (uint32_t y = 0; y < p->height; y++) {
		uint8_t *r = page_row(p, y);
		size_t from = full;
		if (rem)
			r[from++] &= (uint8_t)(0xff00u >> rem);
		memset(r + from, 0, p->stride - from);
	}
}

int page_equal(const codec_page *a, const codec_page *b)
{
	if (a->width != b->width || a->height != b->height)
		return 0;
	for (uint32_t y = 0; y < a->height; y++)
		if (memcmp(page_row(a, y), page_row(b, y), (a->width + 7) / 8) != 0)
			return 0;
	return 1;
}

size_t page_black_pixels(const codec_page *p)
{
	size_t n = 0;

	for (uint32_t y = 0; y < p->height; y++) {
		const uint8_t *r = page_row(p, y);
		for (size_t i = 0; i < p->stride; i++)
			n += (size_t)__builtin_popcount(r[i]);
	}
	return n;
}

codec_page *page_dup(const codec_page *p)
{
	codec_page *c = page_alloc(p->width, p->height, p->xres, p->yres);

	if (c)
		memcpy(c->bits, p->bits, p->stride * p->height);
	return c;
}

void doc_init(codec_doc *d)
{
	d->n = 0;
	d->pages = NULL;
}

void doc_add(codec_doc *d, codec_page *p)
{
	d->pages = xrealloc(d->pages, (d->n + 1) * sizeof(*d->pages));
	d->pages[d->n++] = p;
}

void doc_free(codec_doc *d)
{
	for (size_t i = 0; i < d->n; i++)
		page_free(d->pages[i]);
	free(d->pages);
	doc_init(d);
}
