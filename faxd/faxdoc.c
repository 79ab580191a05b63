/*
 * faxdoc.c - TIFF pages in and out of the T.30 engine, through libtiff.
 *
 * Contract: see faxdoc.h. Coding goes through an in-memory TIFF (memfd): the page is
 * written with libtiff's G3/G4 coder (FillOrder 2, one strip) and the strip is read
 * back raw: libtiff puts an EOL before every G3 row and EOFB after G4; RTC, which
 * TIFF Class F strips leave out, is appended for MH/MR.
 * Received data is checked and its rows counted with lib/codec's t4_decode().
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <tiffio.h>
#include <unistd.h>

#include "codec/render.h"
#include "codec/t4.h"
#include "codec/t85.h"
#include "faxdoc.h"
#include "util/msg.h"

#define MAX_ROWS 20000u

struct faxdoc_tx {
	TIFF *t;
	int npages;
	int fine;
	int width;
	char header[128];	/* fax_header, "" = none */
	char ident[T30_ID_LEN + 1];
};

struct faxdoc_rx {
	TIFF *t;
	int pages;
	int failed;
	char remote[T30_ID_LEN + 1];
};

/* libtiff's messages go to the log. */
static void tiff_msg(const char *module, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
static void tiff_msg(const char *module, const char *fmt, va_list ap)
{
	char line[256];
	vsnprintf(line, sizeof(line), fmt, ap);
	msg_warn("libtiff: %s: %s", module ? module : "", line);
}

static void tiff_handlers(void)
{
	TIFFSetErrorHandler(tiff_msg);
	TIFFSetWarningHandler(tiff_msg);
}

static int width_class(uint32_t w)
{
	return w == 1728 ? 0 : w == 2048 ? 1 : w == 2432 ? 2 : -1;
}

static uint32_t width_pels(int cls)
{
	return cls == 1 ? 2048 : cls == 2 ? 2432 : 1728;
}

static double yres_lpi(TIFF *t)
{
	float y = 98;
	uint16_t unit = RESUNIT_INCH;
	TIFFGetField(t, TIFFTAG_YRESOLUTION, &y);
	TIFFGetFieldDefaulted(t, TIFFTAG_RESOLUTIONUNIT, &unit);
	return unit == RESUNIT_CENTIMETER ? y * 2.54 : y;
}

static faxdoc_tx *tx_setup(TIFF *t, char *err, size_t errlen)
{
	if (!t) {
		snprintf(err, errlen, "cannot open the TIFF document");
		return NULL;
	}
	faxdoc_tx *d = xcalloc(1, sizeof(*d));
	d->t = t;
	d->npages = TIFFNumberOfDirectories(t);
	uint32_t w = 0;
	uint16_t bps = 1;
	TIFFSetDirectory(t, 0);
	TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
	TIFFGetFieldDefaulted(t, TIFFTAG_BITSPERSAMPLE, &bps);
	d->width = width_class(w);
	d->fine = yres_lpi(t) >= 150;
	if (d->npages < 1 || d->width < 0 || bps != 1) {
		snprintf(err, errlen, "not a fax document (width %u, %u bits per sample, %d pages)",
			 (unsigned)w, (unsigned)bps, d->npages);
		faxdoc_tx_close(d);
		return NULL;
	}
	return d;
}

faxdoc_tx *faxdoc_tx_open(const char *path, char *err, size_t errlen)
{
	tiff_handlers();
	return tx_setup(TIFFOpen(path, "r"), err, errlen);
}

faxdoc_tx *faxdoc_tx_fdopen(int fd, char *err, size_t errlen)
{
	tiff_handlers();
	return tx_setup(TIFFFdOpen(fd, "document", "r"), err, errlen);
}

void faxdoc_tx_close(faxdoc_tx *d)
{
	if (!d)
		return;
	if (d->t)
		TIFFClose(d->t);
	free(d);
}

/* Read page `page` as rows of 1728.. pels, MSB first, 1 = black. */
static uint8_t *read_rows(TIFF *t, int page, uint32_t *w, uint32_t *h, size_t *stride,
			  double *lpi)
{
	if (!TIFFSetDirectory(t, (tdir_t)page))
		return NULL;
	uint16_t photo = PHOTOMETRIC_MINISWHITE;
	TIFFGetField(t, TIFFTAG_IMAGEWIDTH, w);
	TIFFGetField(t, TIFFTAG_IMAGELENGTH, h);
	TIFFGetFieldDefaulted(t, TIFFTAG_PHOTOMETRIC, &photo);
	*lpi = yres_lpi(t);
	*stride = (size_t)TIFFScanlineSize(t);
	if (*h == 0 || *h > MAX_ROWS || *stride == 0 || *stride * 8 < *w)
		return NULL;
	uint8_t *rows = xmalloc(*stride * *h);
	for (uint32_t y = 0; y < *h; y++) {
		uint8_t *r = rows + (size_t)y * *stride;
		if (TIFFReadScanline(t, r, y, 0) < 0) {
			free(rows);
			return NULL;
		}
		if (photo == PHOTOMETRIC_MINISBLACK)
			for (size_t k = 0; k < *stride; k++)
				r[k] = (uint8_t)~r[k];
	}
	return rows;
}

static TIFF *mem_tiff(int *fd, const char *mode)
{
	if (*fd < 0)
		*fd = memfd_create("faxpage", 0);
	if (*fd < 0)
		return NULL;
	int fd2 = dup(*fd);
	if (fd2 < 0)
		return NULL;
	lseek(fd2, 0, SEEK_SET);
	TIFF *t = TIFFFdOpen(fd2, "page", mode);
	if (!t)
		close(fd2);
	return t;
}

static void set_fax_fields(TIFF *t, uint32_t w, uint32_t h, int coding, int fine)
{
	TIFFSetField(t, TIFFTAG_IMAGEWIDTH, w);
	TIFFSetField(t, TIFFTAG_IMAGELENGTH, h);
	TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 1);
	TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
	TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
	TIFFSetField(t, TIFFTAG_FILLORDER, FILLORDER_LSB2MSB);
	TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, h);
	TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
	TIFFSetField(t, TIFFTAG_COMPRESSION, coding == T30_MMR ? COMPRESSION_CCITTFAX4
			   : coding == T30_JBIG ? COMPRESSION_T85 : COMPRESSION_CCITTFAX3);
	if (coding == T30_MH || coding == T30_MR)
		TIFFSetField(t, TIFFTAG_GROUP3OPTIONS, coding == T30_MR ? GROUP3OPT_2DENCODING : 0);
	TIFFSetField(t, TIFFTAG_XRESOLUTION, 204.0);
	TIFFSetField(t, TIFFTAG_YRESOLUTION, fine ? 196.0 : 98.0);
	TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
}

/* The source row for output row y after a resolution change. */
static uint32_t src_row(uint32_t y, int src_fine, int fine)
{
	return (src_fine && !fine) ? y * 2 : (!src_fine && fine) ? y / 2 : y;
}

/* JBIG (T.85) through lib/codec: rows into a codec page, then one BIE. Frees rows. */
static int jbig_page(uint8_t *rows, uint32_t w, uint32_t h, size_t stride, int src_fine,
		     int fine, buf *out)
{
	uint32_t oh = (src_fine && !fine) ? (h + 1) / 2 : (!src_fine && fine) ? h * 2 : h;
	codec_page *pg = page_alloc(w, oh, 204, fine ? 196 : 98);
	int rc = -1;
	if (pg) {
		size_t n = stride < pg->stride ? stride : pg->stride;
		for (uint32_t y = 0; y < oh; y++)
			memcpy(page_row(pg, y), rows + (size_t)src_row(y, src_fine, fine) * stride, n);
		page_clear_padding(pg);
		rc = t85_encode(pg, out) < 0 ? -1 : 0;
		page_free(pg);
	}
	free(rows);
	return rc;
}

/* fax_header with %P (page), %T (pages), %I (our station id), %D (date and time). */
static void header_text(const faxdoc_tx *d, int page, char *out, size_t size)
{
	char date[32];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M", &tm);
	size_t o = 0;
	for (const char *f = d->header; *f && o + 1 < size; f++) {
		char tmp[40];
		const char *ins = NULL;
		if (*f == '%' && f[1]) {
			f++;
			if (*f == 'P')
				snprintf(tmp, sizeof(tmp), "%d", page + 1), ins = tmp;
			else if (*f == 'T')
				snprintf(tmp, sizeof(tmp), "%d", d->npages), ins = tmp;
			else if (*f == 'I')
				ins = d->ident;
			else if (*f == 'D')
				ins = date;
			else
				tmp[0] = *f, tmp[1] = '\0', ins = tmp;
			for (; *ins && o + 1 < size; ins++)
				out[o++] = *ins;
			continue;
		}
		out[o++] = *f;
	}
	out[o] = '\0';
}

/* Draw the page header over the top rows (OR): lib/codec renders the text as a page,
 * the band of rows with ink is copied to row 2 onwards. */
static void draw_header(const faxdoc_tx *d, int page, uint8_t *rows, uint32_t w, uint32_t h,
			size_t stride, int fine)
{
	static int font_ok = -1;
	char text[256], err[256];
	if (font_ok < 0) {
		font_ok = render_init(NULL, err, sizeof(err)) == 0;
		if (!font_ok)
			msg_warn("fax_header: %s", err);
	}
	if (!font_ok)
		return;
	header_text(d, page, text, sizeof(text));
	render_opts o = { 204, fine ? 196 : 98, w, fine ? 400 : 200, 1 };
	codec_doc doc;
	doc_init(&doc);
	if (render_text(text, strlen(text), &o, &doc, err, sizeof(err)) < 0 || doc.n < 1) {
		msg_warn("fax_header: %s", err);
		doc_free(&doc);
		return;
	}
	codec_page *pg = doc.pages[0];
	uint32_t first = pg->height, last = 0;
	for (uint32_t y = 0; y < pg->height; y++) {
		const uint8_t *r = page_row(pg, y);
		for (size_t k = 0; k < pg->stride; k++)
			if (r[k]) {
				if (y < first)
					first = y;
				last = y;
				break;
			}
	}
	size_t n = stride < pg->stride ? stride : pg->stride;
	for (uint32_t y = first; y <= last && y < pg->height && 2 + (y - first) < h; y++) {
		const uint8_t *src = page_row(pg, y);
		uint8_t *dst = rows + (size_t)(2 + y - first) * stride;
		for (size_t k = 0; k < n; k++)
			dst[k] |= src[k];
	}
	doc_free(&doc);
}

void faxdoc_tx_set_header(faxdoc_tx *d, const char *header, const char *ident)
{
	str_copy(d->header, sizeof(d->header), header ? header : "");
	str_copy(d->ident, sizeof(d->ident), ident ? ident : "");
}

static int tx_get_page(void *ctx, int page, const t30_params *p, buf *out)
{
	faxdoc_tx *d = ctx;
	uint32_t w = 0, h = 0;
	size_t stride = 0;
	double lpi = 98;
	uint8_t *rows = read_rows(d->t, page, &w, &h, &stride, &lpi);
	if (!rows || width_class(w) != p->width) {
		msg_warn("document page %d: cannot read it, or width %u is not %u", page + 1,
			 (unsigned)w, (unsigned)width_pels(p->width));
		free(rows);
		return -1;
	}
	int src_fine = lpi >= 150;
	if (d->header[0])
		draw_header(d, page, rows, w, h, stride, src_fine);
	uint32_t oh = h;
	if (src_fine && !p->fine)
		oh = (h + 1) / 2;	/* 196 -> 98 lpi: every other row */
	else if (!src_fine && p->fine)
		oh = h * 2;		/* 98 -> 196 lpi: each row twice */
	if (p->coding == T30_JBIG)
		return jbig_page(rows, w, h, stride, src_fine, p->fine, out);
	int fd = -1, rc = -1;
	TIFF *t = mem_tiff(&fd, "w");
	if (t) {
		set_fax_fields(t, w, oh, p->coding, p->fine);
		rc = 0;
		for (uint32_t y = 0; y < oh && rc == 0; y++) {
			uint32_t sy = src_row(y, src_fine, p->fine);
			if (TIFFWriteScanline(t, rows + (size_t)sy * stride, y, 0) < 0)
				rc = -1;
		}
		TIFFClose(t);
	}
	free(rows);
	if (rc == 0 && (t = mem_tiff(&fd, "r")) != NULL) {
		tmsize_t n = TIFFRawStripSize(t, 0);
		rc = -1;
		if (n > 0 && buf_reserve(out, (size_t)n) == 0) {
			tmsize_t got = TIFFReadRawStrip(t, 0, out->data + out->len, n);
			if (got > 0) {
				out->len += (size_t)got;
				out->data[out->len] = '\0';
				rc = 0;
				/* TIFF Class F has no RTC; the line needs it */
				if (p->coding != T30_MMR)
					rc = t4_append_rtc(out, p->coding == T30_MR);
			}
		}
		TIFFClose(t);
	} else {
		rc = -1;
	}
	if (fd >= 0)
		close(fd);
	return rc;
}

void faxdoc_tx_bind(faxdoc_tx *d, t30_doc *doc)
{
	doc->ctx = d;
	doc->npages = d->npages;
	doc->codings = 1 << T30_MH | 1 << T30_MR | 1 << T30_MMR | 1 << T30_JBIG;
	doc->fine = d->fine;
	doc->width = d->width;
	doc->get_page = tx_get_page;
}

/* ------------------------------------------------------------- receiving --- */

int faxdoc_check(const t30_params *p, const uint8_t *data, size_t len, int *rows, int *bad)
{
	if (p->coding == T30_JBIG) {
		char err[256];
		codec_page *jp = t85_decode(data, len, err, sizeof(err));
		*rows = jp ? (int)jp->height : 0;
		*bad = 0;
		if (!jp)
			msg_warn("received JBIG page: %s", err);
		page_free(jp);
		return *rows > 0 ? 0 : -1;
	}
	t4_opts o;
	memset(&o, 0, sizeof(o));
	o.coding = p->coding == T30_MMR ? T4_MMR : p->coding == T30_MR ? T4_MR : T4_MH;
	o.fill_lsb = 1;
	/* MH/MR: rows are counted by their EOLs (RTC with fill between its EOLs is not a
	 * row); the decoder then checks exactly those rows. MMR: the decoder counts. */
	uint32_t want = 0;
	if (p->coding != T30_MMR) {
		int rtc = 0;
		size_t eols = t4_count_eols(data, len, &rtc);
		if (rtc && eols >= 6)
			eols -= 6;
		if (eols == 0 || eols > MAX_ROWS)
			return -1;
		want = (uint32_t)eols;
	}
	codec_page *pg = NULL;
	t4_result r;
	memset(&r, 0, sizeof(r));
	int rc = t4_decode(&o, data, len, width_pels(p->width), want, &pg, &r);
	page_free(pg);
	if (want && r.rows < want)	/* rows the decoder could not even find are bad */
		r.bad_lines += want - r.rows;
	*rows = (int)(want ? want : r.rows);
	*bad = (int)r.bad_lines;
	if (r.rows == 0 || (rc != T4_OK && p->coding == T30_MMR))
		return -1;
	/* HylaFAX's defaults: at least 95 % good rows, no more than 5 bad in a row */
	return (*bad * 20 > *rows || r.max_bad_run > 5 || rc != T4_OK) ? 1 : 0;
}

faxdoc_rx *faxdoc_rx_open(const char *path, const char *remote_id, char *err, size_t errlen)
{
	tiff_handlers();
	TIFF *t = TIFFOpen(path, "w");
	if (!t) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		return NULL;
	}
	faxdoc_rx *d = xcalloc(1, sizeof(*d));
	d->t = t;
	str_copy(d->remote, sizeof(d->remote), remote_id ? remote_id : "");
	return d;
}

int faxdoc_rx_pages(const faxdoc_rx *d) { return d->pages; }

int faxdoc_rx_close(faxdoc_rx *d)
{
	int failed = d->failed;
	TIFFClose(d->t);
	free(d);
	return failed ? -1 : 0;
}

static int rx_check(void *ctx, const t30_params *p, const uint8_t *data, size_t len, int *rows,
		    int *bad)
{
	(void)ctx;
	int rc = faxdoc_check(p, data, len, rows, bad);
	return rc != 0;
}

static int rx_put(void *ctx, int page, const t30_params *p, const uint8_t *data, size_t len,
		  int bad)
{
	faxdoc_rx *d = ctx;
	int rows = 0, b = 0;
	if (faxdoc_check(p, data, len, &rows, &b) < 0 && rows <= 0) {
		msg_warn("received page %d: no decodable rows", page + 1);
		if (rows <= 0)
			rows = 1;
	}
	TIFF *t = d->t;
	set_fax_fields(t, width_pels(p->width), (uint32_t)rows, p->coding, p->fine);
	TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
	TIFFSetField(t, TIFFTAG_PAGENUMBER, (uint16_t)page, (uint16_t)0);
	TIFFSetField(t, TIFFTAG_SOFTWARE, "faxpost faxd");
	if (d->remote[0])
		TIFFSetField(t, TIFFTAG_IMAGEDESCRIPTION, d->remote);
	if (!p->ecm) {
		TIFFSetField(t, TIFFTAG_BADFAXLINES, (uint32_t)bad);
		TIFFSetField(t, TIFFTAG_CLEANFAXDATA, bad ? CLEANFAXDATA_REGENERATED
			     : CLEANFAXDATA_CLEAN);
	}
	if (TIFFWriteRawStrip(t, 0, (void *)data, (tmsize_t)len) < 0 || !TIFFWriteDirectory(t)) {
		d->failed = 1;
		return -1;
	}
	d->pages++;
	return 0;
}

void faxdoc_rx_bind(faxdoc_rx *d, t30_doc *doc)
{
	doc->ctx = d;
	doc->check_page = rx_check;
	doc->put_page = rx_put;
}
