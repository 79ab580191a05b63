/*
 * render_text.c - text/plain to fax pages with FreeType (see render.h).
 */
#include <ft2build.h>
#include FT_FREETYPE_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/render.h"
#include "util/msg.h"

#define FONT_PT 10
#define MARGIN_MM 10

static FT_Library ft_lib;
static FT_Face ft_face;
static uint8_t *font_data;

int render_init(const char *path, char *err, size_t errlen)
{
	FILE *f;
	long n;

	if (ft_face)
		return 0;
	if (!path)
		path = RENDER_FONT;
	if ((f = fopen(path, "rb")) == NULL) {
		snprintf(err, errlen, "cannot open font %s", path);
		return -1;
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	if (n <= 0 || n > 64L * 1024 * 1024) {
		fclose(f);
		snprintf(err, errlen, "bad font file %s", path);
		return -1;
	}
	font_data = xmalloc((size_t)n);
	if (fread(font_data, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		snprintf(err, errlen, "cannot read font %s", path);
		return -1;
	}
	fclose(f);
	if (FT_Init_FreeType(&ft_lib) || FT_New_Memory_Face(ft_lib, font_data, n, 0, &ft_face)) {
		snprintf(err, errlen, "FreeType cannot load %s", path);
		ft_face = NULL;
		return -1;
	}
	return 0;
}

/* Next code point of UTF-8; malformed sequences give U+FFFD and skip one byte. */
static uint32_t utf8_next(const unsigned char **pp, const unsigned char *end)
{
	const unsigned char *p = *pp;
	uint32_t c = *p, min;
	int n;

	if (c < 0x80) {
		*pp = p + 1;
		return c;
	}
	if ((c & 0xe0) == 0xc0) { n = 1; c &= 0x1f; min = 0x80; }
	else if ((c & 0xf0) == 0xe0) { n = 2; c &= 0x0f; min = 0x800; }
	else if ((c & 0xf8) == 0xf0) { n = 3; c &= 0x07; min = 0x10000; }
	else { *pp = p + 1; return 0xfffd; }
	if (end - p <= n) {
		*pp = p + 1;
		return 0xfffd;
	}
	for (int i = 1; i <= n; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			*pp = p + 1;
			return 0xfffd;
		}
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) {
		*pp = p + 1;
		return 0xfffd;
	}
	*pp = p + n + 1;
	return c;
}

typedef struct layout {
	const render_opts *o;
	codec_doc *out;
	codec_page *pg;
	uint32_t left, top, line_h, cols, lines, col, line, ascender;
	int too_many;
} layout;

static int new_page(layout *L)
{
	if (L->out->n >= L->o->max_pages) {
		L->too_many = 1;
		return -1;
	}
	L->pg = page_alloc(L->o->width, L->o->rows, L->o->xres, L->o->yres);
	if (!L->pg)
		return -1;
	doc_add(L->out, L->pg);
	L->line = 0;
	L->col = 0;
	return 0;
}

static int next_line(layout *L)
{
	L->col = 0;
	if (++L->line >= L->lines)
		L->pg = NULL;	/* the next glyph opens a new page */
	return 0;
}

static void blit(layout *L, const FT_Bitmap *bm, int x, int y)
{
	for (unsigned r = 0; r < bm->rows; r++) {
		int py = y + (int)r;
		const unsigned char *src = bm->buffer + (long)r * bm->pitch;
		uint8_t *row;
		if (py < 0 || (uint32_t)py >= L->pg->height)
			continue;
		row = page_row(L->pg, (uint32_t)py);
		for (unsigned c = 0; c < bm->width; c++) {
			int px = x + (int)c;
			if (px < 0 || (uint32_t)px >= L->pg->width)
				continue;
			if (src[c >> 3] & (0x80 >> (c & 7)))
				row[px >> 3] |= (uint8_t)(0x80 >> (px & 7));
		}
	}
}

static int put_glyph(layout *L, uint32_t cp)
{
	FT_UInt gi;
	int x, y;

	if (L->col >= L->cols)
		next_line(L);
	if (!L->pg && new_page(L) < 0)
		return -1;
	if (cp != ' ') {
		gi = FT_Get_Char_Index(ft_face, cp);
		if (gi == 0)
			gi = FT_Get_Char_Index(ft_face, 0xfffd);
		if (FT_Load_Glyph(ft_face, gi, FT_LOAD_RENDER | FT_LOAD_TARGET_MONO) == 0 &&
		    ft_face->glyph->bitmap.pixel_mode == FT_PIXEL_MODE_MONO) {
			uint32_t adv = (uint32_t)(ft_face->size->metrics.max_advance >> 6);
			x = (int)(L->left + L->col * adv) + ft_face->glyph->bitmap_left;
			y = (int)(L->top + L->line * L->line_h + L->ascender) - ft_face->glyph->bitmap_top;
			blit(L, &ft_face->glyph->bitmap, x, y);
		}
	}
	L->col++;
	return 0;
}

int render_text(const char *text, size_t len, const render_opts *o, codec_doc *out, char *err,
		size_t errlen)
{
	const unsigned char *p = (const unsigned char *)text, *end = p + len;
	layout L;
	uint32_t adv;

	doc_init(out);
	if (!ft_face && render_init(NULL, err, errlen) < 0)
		return -1;
	memset(&L, 0, sizeof(L));
	L.o = o;
	L.out = out;
	if (FT_Set_Char_Size(ft_face, 0, FONT_PT * 64, o->xres, o->yres)) {
		snprintf(err, errlen, "FreeType: cannot set the font size");
		return -1;
	}
	adv = (uint32_t)(ft_face->size->metrics.max_advance >> 6);
	L.line_h = (uint32_t)(ft_face->size->metrics.height >> 6);
	L.ascender = (uint32_t)(ft_face->size->metrics.ascender >> 6);
	L.left = (uint32_t)(MARGIN_MM * o->xres * 10 / 254);
	L.top = (uint32_t)(MARGIN_MM * o->yres * 10 / 254);
	if (adv == 0 || L.line_h == 0 || o->width <= 2 * L.left + adv || o->rows <= 2 * L.top + L.line_h) {
		snprintf(err, errlen, "page too small for the text");
		return -1;
	}
	L.cols = (o->width - 2 * L.left) / adv;
	L.lines = (o->rows - 2 * L.top) / L.line_h;
	if (new_page(&L) < 0)
		goto too_many;
	while (p < end) {
		uint32_t cp = utf8_next(&p, end);
		if (cp == '\r')
			continue;
		if (cp == '\n') {
			if (!L.pg && new_page(&L) < 0)
				goto too_many;
			next_line(&L);
			continue;
		}
		if (cp == '\f') {
			L.pg = NULL;
			continue;
		}
		if (cp == '\t') {
			uint32_t n = 8 - L.col % 8;
			while (n--)
				if (put_glyph(&L, ' ') < 0)
					goto too_many;
			continue;
		}
		if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
			cp = 0xfffd;	/* other controls are shown, not obeyed */
		if (put_glyph(&L, cp) < 0)
			goto too_many;
	}
	return 0;
too_many:
	snprintf(err, errlen, L.too_many ? "more than %u pages" : "page too large", o->max_pages);
	doc_free(out);
	return -1;
}
