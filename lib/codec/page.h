/*
 * page.h - bilevel fax pages in memory (the currency of lib/codec).
 *
 * Contract: a page is `height` rows of `stride` bytes, stride a multiple of 8 (so the
 * coders can read whole 64-bit words), MSB first in each byte, 1 = black; the bits past
 * `width` in each row are 0. Resolution is in dots per inch (X 200/204/300/400/408,
 * Y 98/100/196/200/300/391/400). page_alloc() checks the size arithmetic and the
 * limits (CODEC_MAX_WIDTH, CODEC_MAX_ROWS, CODEC_MAX_PIXELS) and returns NULL rather
 * than allocate a hostile size; a page owns its bits.
 */
#ifndef FAXPOST_CODEC_PAGE_H
#define FAXPOST_CODEC_PAGE_H

#include <stddef.h>
#include <stdint.h>

#define CODEC_MAX_WIDTH		10000u		/* A3 at 400 dpi is 4864 */
#define CODEC_MAX_ROWS		40000u		/* ~2.5 m at 391 lpi */
#define CODEC_MAX_PIXELS	(64u * 1024 * 1024)	/* 8 MB of bits per page */

typedef struct codec_page {
	uint32_t width, height;
	size_t stride;		/* bytes per row, multiple of 8 */
	uint8_t *bits;
	unsigned xres, yres;	/* dpi */
} codec_page;

static inline size_t page_stride(uint32_t width)
{
	return ((size_t)width + 63) / 64 * 8;
}

static inline uint8_t *page_row(const codec_page *p, uint32_t y)
{
	return p->bits + (size_t)y * p->stride;
}

/* New white page; NULL (errno EFBIG) when it breaks the limits. */
codec_page *page_alloc(uint32_t width, uint32_t height, unsigned xres, unsigned yres);
void page_free(codec_page *p);
/* Change the number of rows (new rows white); -1 over the limits. */
int page_set_height(codec_page *p, uint32_t height);
/* Clear the bits past width in every row (after writing whole bytes into rows). */
void page_clear_padding(codec_page *p);
int page_equal(const codec_page *a, const codec_page *b);
/* Copy (NULL over the limits). */
codec_page *page_dup(const codec_page *p);
size_t page_black_pixels(const codec_page *p);

/* A document: pages in order. */
#define CODEC_MAX_PAGES 1000

typedef struct codec_doc {
	size_t n;
	codec_page **pages;
} codec_doc;

void doc_init(codec_doc *d);
void doc_add(codec_doc *d, codec_page *p);	/* takes ownership */
void doc_free(codec_doc *d);			/* frees the pages; d is reusable */

#endif
