/*
 * render_pdf.c - PDF to fax pages through poppler-glib and cairo (see render.h).
 *
 * Why poppler: it is the PDF renderer Debian maintains most actively (security updates,
 * poppler-utils everywhere), its GLib API is stable and small, and it renders through
 * cairo into a plain image surface we threshold. MuPDF would avoid fontconfig, but it is
 * AGPL and not in our dependency set. Fonts a PDF does not embed are found through
 * fontconfig, so PDF jobs get read-only open() in the codecd sandbox (docs/codec.md).
 */
#include <cairo.h>
#include <poppler.h>
#include <stdio.h>
#include <string.h>

#include "codec/render.h"
#include "util/msg.h"

static int render_one(PopplerPage *page, const render_opts *o, codec_doc *out, char *err,
		      size_t errlen)
{
	double pw, ph, sx, sy;
	cairo_surface_t *s;
	cairo_t *cr;
	codec_page *pg;
	unsigned char *px;
	int stride;
	uint32_t rows;

	poppler_page_get_size(page, &pw, &ph);
	if (!(pw > 1 && ph > 1 && pw < 20000 && ph < 20000)) {
		snprintf(err, errlen, "PDF: bad page size");
		return -1;
	}
	/* Fit the page width to the fax width; keep the physical aspect. */
	sx = o->width / pw;
	sy = sx * o->yres / o->xres;
	/* A page longer than the paper (legal on A4) keeps all its rows; the conversion
	 * splits it later rather than lose its bottom. */
	rows = ph * sy + 0.5 > o->rows ? (uint32_t)(ph * sy + 0.5) : o->rows;
	if ((pg = page_alloc(o->width, rows, o->xres, o->yres)) == NULL) {
		snprintf(err, errlen, "PDF: page too large");
		return -1;
	}
	s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)o->width, (int)rows);
	if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
		snprintf(err, errlen, "PDF: no memory for the page");
		page_free(pg);
		return -1;
	}
	cr = cairo_create(s);
	cairo_set_source_rgb(cr, 1, 1, 1);
	cairo_paint(cr);
	cairo_scale(cr, sx, sy);
	poppler_page_render_for_printing(page, cr);
	cairo_destroy(cr);
	cairo_surface_flush(s);
	px = cairo_image_surface_get_data(s);
	stride = cairo_image_surface_get_stride(s);
	for (uint32_t y = 0; y < rows; y++) {
		const uint32_t *in = (const uint32_t *)(px + (size_t)y * (size_t)stride);
		uint8_t *row = page_row(pg, y);
		for (uint32_t x = 0; x < o->width; x++) {
			uint32_t v = in[x];
			unsigned lum = (((v >> 16) & 255) * 299 + ((v >> 8) & 255) * 587 + (v & 255) * 114) / 1000;
			if (lum < 128)
				row[x >> 3] |= (uint8_t)(0x80 >> (x & 7));
		}
	}
	cairo_surface_destroy(s);
	doc_add(out, pg);
	return 0;
}

int render_pdf(const uint8_t *data, size_t len, const render_opts *o, codec_doc *out, char *err,
	       size_t errlen)
{
	GBytes *bytes = g_bytes_new(data, len);
	GError *ge = NULL;
	PopplerDocument *doc = poppler_document_new_from_bytes(bytes, NULL, &ge);
	int n, rc = 0;

	doc_init(out);
	if (!doc) {
		snprintf(err, errlen, "PDF: %s", ge ? ge->message : "cannot open");
		if (ge)
			g_error_free(ge);
		g_bytes_unref(bytes);
		return -1;
	}
	n = poppler_document_get_n_pages(doc);
	if (n <= 0 || (unsigned)n > o->max_pages) {
		snprintf(err, errlen, "PDF: %d pages (1 to %u allowed)", n, o->max_pages);
		rc = -1;
	}
	for (int i = 0; rc == 0 && i < n; i++) {
		PopplerPage *page = poppler_document_get_page(doc, i);
		if (!page) {
			snprintf(err, errlen, "PDF: page %d unreadable", i + 1);
			rc = -1;
			break;
		}
		rc = render_one(page, o, out, err, errlen);
		g_object_unref(page);
	}
	g_object_unref(doc);
	g_bytes_unref(bytes);
	if (rc < 0)
		doc_free(out);
	return rc;
}
