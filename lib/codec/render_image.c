/*
 * render_image.c - PNG and JPEG photos to one dithered fax page (see render.h).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <png.h>
#include <setjmp.h>

#include "codec/render.h"
#include "util/msg.h"

void render_dither(const uint8_t *grey, uint32_t w, uint32_t h, codec_page *pg, uint32_t x0,
		   uint32_t y0)
{
	int *cur = xcalloc((size_t)w + 2, sizeof(int)), *nxt = xcalloc((size_t)w + 2, sizeof(int)), *t;

	for (uint32_t y = 0; y < h && y0 + y < pg->height; y++) {
		uint8_t *row = page_row(pg, y0 + y);
		memset(nxt, 0, ((size_t)w + 2) * sizeof(int));
		for (uint32_t x = 0; x < w; x++) {
			int v = grey[(size_t)y * w + x] * 16 + cur[x + 1], e;
			uint32_t px = x0 + x;
			if (v < 128 * 16) {
				e = v;
				if (px < pg->width)
					row[px >> 3] |= (uint8_t)(0x80 >> (px & 7));
			} else {
				e = v - 255 * 16;
			}
			cur[x + 2] += e * 7 / 16;
			nxt[x] += e * 3 / 16;
			nxt[x + 1] += e * 5 / 16;
			nxt[x + 2] += e / 16;
		}
		t = cur;
		cur = nxt;
		nxt = t;
	}
	free(cur);
	free(nxt);
}

/* Area-average scale of a grey image. */
static uint8_t *scale_grey(const uint8_t *src, uint32_t sw, uint32_t sh, uint32_t dw, uint32_t dh)
{
	uint8_t *dst = xmalloc((size_t)dw * dh);

	for (uint32_t y = 0; y < dh; y++) {
		uint32_t y0 = (uint32_t)((uint64_t)y * sh / dh), y1 = (uint32_t)((uint64_t)(y + 1) * sh / dh);
		if (y1 <= y0)
			y1 = y0 + 1;
		for (uint32_t x = 0; x < dw; x++) {
			uint32_t x0 = (uint32_t)((uint64_t)x * sw / dw), x1 = (uint32_t)((uint64_t)(x + 1) * sw / dw);
			uint64_t sum = 0;
			if (x1 <= x0)
				x1 = x0 + 1;
			for (uint32_t yy = y0; yy < y1; yy++)
				for (uint32_t xx = x0; xx < x1; xx++)
					sum += src[(size_t)yy * sw + xx];
			dst[(size_t)y * dw + x] = (uint8_t)(sum / ((uint64_t)(y1 - y0) * (x1 - x0)));
		}
	}
	return dst;
}

/* Fit the grey image on one page (margins 5 mm), keep its aspect (square pixels). */
static int place(const uint8_t *grey, uint32_t w, uint32_t h, const render_opts *o, codec_doc *out,
		 char *err, size_t errlen)
{
	uint32_t mx = o->xres * 50 / 254, my = o->yres * 50 / 254;
	double aw = o->width - 2.0 * mx, ah = o->rows - 2.0 * my;
	/* Physical aspect: image pixels are square; fax pixels are 1/xres by 1/yres. */
	double sx = aw / w, sy = sx * o->yres / o->xres;
	uint32_t dw, dh;
	uint8_t *scaled;
	codec_page *pg;

	if (h * sy > ah) {
		sy = ah / h;
		sx = sy * o->xres / o->yres;
	}
	dw = (uint32_t)(w * sx);
	dh = (uint32_t)(h * sy);
	if (dw == 0)
		dw = 1;
	if (dh == 0)
		dh = 1;
	if (o->max_pages < 1 || (pg = page_alloc(o->width, o->rows, o->xres, o->yres)) == NULL) {
		snprintf(err, errlen, "page too large");
		return -1;
	}
	scaled = scale_grey(grey, w, h, dw, dh);
	render_dither(scaled, dw, dh, pg, (o->width - dw) / 2, my);
	free(scaled);
	doc_add(out, pg);
	return 0;
}

static int render_png(const uint8_t *data, size_t len, const render_opts *o, codec_doc *out,
		      char *err, size_t errlen)
{
	png_image img;
	uint8_t *grey;
	int rc;

	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_memory(&img, data, len)) {
		snprintf(err, errlen, "PNG: %s", img.message);
		return -1;
	}
	if (img.width == 0 || img.height == 0 || (uint64_t)img.width * img.height > RENDER_MAX_IMAGE_PIXELS) {
		snprintf(err, errlen, "PNG: image %ux%u too large", img.width, img.height);
		png_image_free(&img);
		return -1;
	}
	img.format = PNG_FORMAT_GRAY;
	grey = xmalloc(PNG_IMAGE_SIZE(img));
	/* Transparent pixels are composed onto white. */
	{
		png_color white = { 255, 255, 255 };
		if (!png_image_finish_read(&img, &white, grey, 0, NULL)) {
			snprintf(err, errlen, "PNG: %s", img.message);
			free(grey);
			png_image_free(&img);
			return -1;
		}
	}
	rc = place(grey, img.width, img.height, o, out, err, errlen);
	free(grey);
	return rc;
}

typedef struct jerr {
	struct jpeg_error_mgr pub;
	jmp_buf jb;
	char msg[JMSG_LENGTH_MAX];
} jerr;

static void jpeg_fail(j_common_ptr c)
{
	jerr *e = (jerr *)c->err;

	(*c->err->format_message)(c, e->msg);
	longjmp(e->jb, 1);
}

static void jpeg_quiet(j_common_ptr c, int level)
{
	(void)c;
	(void)level;
}

static int render_jpeg(const uint8_t *data, size_t len, const render_opts *o, codec_doc *out,
		       char *err, size_t errlen)
{
	struct jpeg_decompress_struct c;
	jerr e;
	uint8_t *volatile grey = NULL;
	int rc;

	memset(&c, 0, sizeof(c));
	c.err = jpeg_std_error(&e.pub);
	e.pub.error_exit = jpeg_fail;
	e.pub.emit_message = jpeg_quiet;
	if (setjmp(e.jb)) {
		snprintf(err, errlen, "JPEG: %s", e.msg);
		jpeg_destroy_decompress(&c);
		free(grey);
		return -1;
	}
	jpeg_create_decompress(&c);
	jpeg_mem_src(&c, data, (unsigned long)len);
	jpeg_read_header(&c, TRUE);
	if ((uint64_t)c.image_width * c.image_height > RENDER_MAX_IMAGE_PIXELS || c.image_width == 0) {
		snprintf(err, errlen, "JPEG: image %ux%u too large", c.image_width, c.image_height);
		jpeg_destroy_decompress(&c);
		return -1;
	}
	c.out_color_space = JCS_GRAYSCALE;
	jpeg_start_decompress(&c);
	grey = xmalloc((size_t)c.output_width * c.output_height);
	while (c.output_scanline < c.output_height) {
		JSAMPROW row = grey + (size_t)c.output_scanline * c.output_width;
		jpeg_read_scanlines(&c, &row, 1);
	}
	jpeg_finish_decompress(&c);
	rc = place(grey, c.output_width, c.output_height, o, out, err, errlen);
	jpeg_destroy_decompress(&c);
	free(grey);
	return rc;
}

int render_image(const uint8_t *data, size_t len, const render_opts *o, codec_doc *out, char *err,
		 size_t errlen)
{
	doc_init(out);
	if (len >= 8 && memcmp(data, "\x89PNG\r\n\x1a\n", 8) == 0)
		return render_png(data, len, o, out, err, errlen);
	if (len >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff)
		return render_jpeg(data, len, o, out, err, errlen);
	snprintf(err, errlen, "not a PNG or JPEG image");
	return -1;
}
