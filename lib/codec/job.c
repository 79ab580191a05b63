/*
 * job.c - one conversion job (see job.h).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "codec/convert.h"
#include "codec/job.h"
#include "codec/render.h"
#include "codec/tiff.h"

enum { K_TIFF, K_PDF, K_TEXT, K_IMAGE, K_BAD };

const char *codec_sniff(const uint8_t *d, size_t n)
{
	if (n >= 4 && (!memcmp(d, "II*\0", 4) || !memcmp(d, "MM\0*", 4)))
		return "image/tiff";
	if (n >= 5 && !memcmp(d, "%PDF-", 5))
		return "application/pdf";
	if (n >= 8 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8))
		return "image/png";
	if (n >= 3 && d[0] == 0xff && d[1] == 0xd8 && d[2] == 0xff)
		return "image/jpeg";
	for (size_t i = 0; i < n && i < 4096; i++)
		if (d[i] == 0)
			return "application/octet-stream";
	return "text/plain";
}

static int kind_of(const codec_input *in)
{
	const char *t = in->type && strcasecmp(in->type, "application/octet-stream") ? in->type
										   : codec_sniff(in->data, in->len);
	size_t n = strcspn(t, "; \t");

	if ((n == 10 && !strncasecmp(t, "image/tiff", n)) || (n == 13 && !strncasecmp(t, "image/tiff-fx", n)))
		return K_TIFF;
	if (n == 15 && !strncasecmp(t, "application/pdf", n))
		return K_PDF;
	if (n == 10 && !strncasecmp(t, "text/plain", n))
		return K_TEXT;
	if ((n == 9 && !strncasecmp(t, "image/png", n)) || (n == 10 && !strncasecmp(t, "image/jpeg", n)))
		return K_IMAGE;
	return K_BAD;
}

/* status and "prefix: detail" (detail cut to fit the reason). */
static int fail(codec_result *r, const char *status, const char *prefix, const char *detail)
{
	int n;

	snprintf(r->status, sizeof(r->status), "%s", status);
	n = snprintf(r->reason, sizeof(r->reason), "%s", prefix);
	if (detail && n >= 0 && (size_t)n < sizeof(r->reason))
		snprintf(r->reason + n, sizeof(r->reason) - (size_t)n, ": %.200s", detail);
	return -1;
}

/* Source geometry for choosing: the first TIFF page, else a fine A4 page. */
static void source_geometry(const codec_input *in, size_t nin, unsigned *x, unsigned *y, uint32_t *w)
{
	*x = 204;
	*y = 196;
	*w = 1728;
	for (size_t i = 0; i < nin; i++) {
		codec_doc d;
		char err[256];
		if (kind_of(&in[i]) != K_TIFF)
			continue;
		if (tiff_read(in[i].data, in[i].len, 0, &d, NULL, err, sizeof(err)) == 0 && d.n) {
			*x = d.pages[0]->xres;
			*y = d.pages[0]->yres;
			*w = d.pages[0]->width;
		}
		if (d.n || 1)
			doc_free(&d);
		return;
	}
}

static int read_part(const codec_input *in, const codec_target *t, unsigned max_pages,
		     codec_doc *d, char *err, size_t errlen)
{
	render_opts o = { t->xres, t->yres, t->width, codec_paper_rows(t->paper_name, t->yres), max_pages };

	switch (kind_of(in)) {
	case K_TIFF:
		return tiff_read(in->data, in->len, 0, d, NULL, err, errlen);
	case K_PDF:
		return render_pdf(in->data, in->len, &o, d, err, errlen);
	case K_TEXT:
		return render_text((const char *)in->data, in->len, &o, d, err, errlen);
	default:
		return render_image(in->data, in->len, &o, d, err, errlen);
	}
}

int codec_convert(const codec_input *in, size_t nin, const fs_expr *caps, unsigned max_pages,
		  buf *out, codec_result *res)
{
	codec_doc all;
	unsigned sx, sy;
	uint32_t sw;
	char err[256];
	tiff_wopts wo;

	memset(res, 0, sizeof(*res));
	if (nin == 0 || nin > CODEC_MAX_PARTS)
		return fail(res, "5.6.5", "no input part, or too many", NULL);
	for (size_t i = 0; i < nin; i++)
		if (kind_of(&in[i]) == K_BAD)
			return fail(res, "5.6.1", "media type not supported",
				    in[i].type ? in[i].type : "(unknown)");
	source_geometry(in, nin, &sx, &sy, &sw);
	if (codec_choose(caps, sx, sy, sw, &res->target, res->status, sizeof(res->status),
			 res->reason, sizeof(res->reason)) < 0)
		return -1;
	doc_init(&all);
	for (size_t i = 0; i < nin; i++) {
		codec_doc d;
		if (read_part(&in[i], &res->target, max_pages, &d, err, sizeof(err)) < 0) {
			doc_free(&all);
			return fail(res, "5.6.5", "conversion failed", err);
		}
		for (size_t p = 0; p < d.n; p++)
			doc_add(&all, d.pages[p]);
		d.n = 0;
		doc_free(&d);
		if (all.n > max_pages) {
			doc_free(&all);
			return fail(res, "5.6.5", "conversion failed", "too many pages");
		}
	}
	if (convert_doc(&all, &res->target, err, sizeof(err)) < 0 || all.n > max_pages) {
		doc_free(&all);
		return fail(res, "5.6.5", "conversion failed", all.n > max_pages ? "too many pages" : err);
	}
	wo.profile = res->target.profile;
	wo.coding = res->target.coding;
	wo.fill_order = 2;
	wo.eol_align = 0;
	wo.k = 0;
	if (tiff_write(&all, &wo, out, err, sizeof(err)) < 0) {
		doc_free(&all);
		return fail(res, "5.6.5", "conversion failed", err);
	}
	res->pages = all.n;
	doc_free(&all);
	snprintf(res->status, sizeof(res->status), "2.0.0");
	snprintf(res->reason, sizeof(res->reason), "converted");
	return 0;
}

int codec_features(const uint8_t *data, size_t len, buf *out, char *err, size_t errlen)
{
	codec_doc d;
	tiff_src src;
	codec_target t;

	if (tiff_read(data, len, 0, &d, &src, err, errlen) < 0)
		return -1;
	memset(&t, 0, sizeof(t));
	t.profile = src.jbig ? TIFF_PROFILE_J : src.profile_s ? TIFF_PROFILE_S : TIFF_PROFILE_F;
	t.coding = src.coding ? src.coding : T4_MMR;
	t.xres = d.pages[0]->xres;
	t.yres = d.pages[0]->yres;
	t.width = d.pages[0]->width;
	t.paper = codec_paper_of(t.width, t.xres);
	t.paper_name = t.paper == PAPER_A4 ? "A4" : t.paper == PAPER_B4 ? "B4" : "A3";
	doc_free(&d);
	if (!src.jbig && !src.coding) {
		snprintf(err, errlen, "not a fax coding (TIFF Compression %d)", src.compression);
		return -1;
	}
	return choose_describe(&t, out);
}
