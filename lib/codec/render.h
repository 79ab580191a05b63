/*
 * render.h - turn text/plain, PDF, PNG and JPEG into bilevel fax pages.
 *
 * Contract: out is initialised (any old content is not freed); pages come out at the given resolution, width and page length (rows), ready
 * for the coder; at most opts->max_pages pages (more is an error, not a truncation).
 * Text: UTF-8 (bad bytes become U+FFFD), tabs to 8 columns, form feeds start a page,
 * long lines wrapped at the column limit, rendered with a monospaced TrueType font
 * through FreeType (DejaVu Sans Mono from fonts-dejavu-core), 10 pt, 66 lines a page at
 * fine resolution with 10 mm margins. The font file is read into memory by
 * render_init() so that rendering needs no open() (the codecd sandbox forbids it).
 * PDF: poppler-glib renders each page with cairo at the fax resolution (anisotropic
 * scale, the page width fitted to the fax width), then a 50 % threshold (text stays
 * crisp); a PDF page longer than the paper keeps its length (convert_doc splits it). PNG/JPEG: decoded to 8-bit grey,
 * scaled to fit the page (area average), Floyd-Steinberg dithered to bilevel.
 * Sizes are checked before any allocation (decoders' headers, PDF page boxes).
 */
#ifndef FAXPOST_CODEC_RENDER_H
#define FAXPOST_CODEC_RENDER_H

#include <stddef.h>
#include <stdint.h>

#include "codec/page.h"

#define RENDER_FONT "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
#define RENDER_MAX_IMAGE_PIXELS (64u * 1024 * 1024)

typedef struct render_opts {
	unsigned xres, yres;
	uint32_t width, rows;	/* page size in pixels */
	unsigned max_pages;
} render_opts;

/* Load the font (path NULL = RENDER_FONT); -1 with err when it cannot be read. */
int render_init(const char *font_path, char *err, size_t errlen);
int render_text(const char *text, size_t len, const render_opts *o, codec_doc *out, char *err,
		size_t errlen);
int render_pdf(const uint8_t *data, size_t len, const render_opts *o, codec_doc *out, char *err,
	       size_t errlen);
int render_image(const uint8_t *data, size_t len, const render_opts *o, codec_doc *out, char *err,
		 size_t errlen);
/* Floyd-Steinberg: grey (0 black .. 255 white, w x h) into a bilevel page at (x0, y0). */
void render_dither(const uint8_t *grey, uint32_t w, uint32_t h, codec_page *pg, uint32_t x0,
		   uint32_t y0);

#endif
