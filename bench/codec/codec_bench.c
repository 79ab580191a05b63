/*
 * codec_bench.c - pages per second of lib/codec's MH, MR and MMR coder against libtiff,
 * and of our T.85 wrapper against jbigkit's jbig85 called directly, in one process on the
 * same pages; compressed sizes side by side; the ratios and the issue-4 goals.
 *
 * Usage: codec_bench [-i ITERATIONS] CORPUS_DIR   (reads {fine,std,sfine}_g4.tif)
 *
 * Method (the same work on both sides, in memory, CPU time of this process, median of
 * ITERATIONS passes, passes of the two sides interleaved so that load affects both):
 *   encode: libtiff = a multi-page TIFF via TIFFWriteEncodedStrip + TIFFWriteDirectory;
 *           ours    = tiff_write() (profile F, same coding and K, FillOrder 1).
 *   decode: both walk the directories of the libtiff-written file with libtiff;
 *           libtiff = TIFFReadEncodedStrip into a reused buffer;
 *           ours    = TIFFReadRawStrip + t4_decode_into() into a reused page.
 *   Every decoded page is checked against the source page once.
 *   JBIG:   jbigkit = jbg85_enc_lineout / jbg85_dec_in directly; ours = t85_encode/decode.
 */
#include <jbig85.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>
#include <time.h>
#include <unistd.h>

#include "codec/page.h"
#include "codec/t4.h"
#include "codec/t85.h"
#include "codec/tiff.h"
#include "codec/tiffmem.h"
#include "util/msg.h"

#define MAX_ITER 101

static double cpu_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), dcmp);
	return v[n / 2];
}

/* ---------------------------------------------------------------- libtiff side */

static size_t libtiff_encode(const codec_doc *d, t4_coding c, buf *out)
{
	tiffmem m;
	TIFF *t = tiffmem_open_write(&m, out);
	size_t bytes = 0;

	for (size_t i = 0; i < d->n; i++) {
		const codec_page *p = d->pages[i];
		size_t rb = (p->width + 7) / 8;
		static uint8_t *raw;
		static size_t cap;

		if (rb * p->height > cap) {
			cap = rb * p->height;
			raw = xrealloc(raw, cap);
		}
		for (uint32_t y = 0; y < p->height; y++)
			memcpy(raw + y * rb, page_row(p, y), rb);
		TIFFSetField(t, TIFFTAG_SUBFILETYPE, FILETYPE_PAGE);
		TIFFSetField(t, TIFFTAG_IMAGEWIDTH, p->width);
		TIFFSetField(t, TIFFTAG_IMAGELENGTH, p->height);
		TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 1);
		TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
		TIFFSetField(t, TIFFTAG_COMPRESSION, c == T4_MMR ? COMPRESSION_CCITTFAX4 : COMPRESSION_CCITTFAX3);
		TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISWHITE);
		TIFFSetField(t, TIFFTAG_FILLORDER, FILLORDER_MSB2LSB);
		TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, p->height);
		TIFFSetField(t, TIFFTAG_XRESOLUTION, (double)p->xres);
		TIFFSetField(t, TIFFTAG_YRESOLUTION, (double)p->yres);
		TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_INCH);
		TIFFSetField(t, TIFFTAG_PAGENUMBER, (uint16_t)i, (uint16_t)d->n);
		if (c != T4_MMR)
			TIFFSetField(t, TIFFTAG_GROUP3OPTIONS, c == T4_MR ? GROUP3OPT_2DENCODING : 0);
		if (TIFFWriteEncodedStrip(t, 0, raw, (tmsize_t)(rb * p->height)) < 0)
			msg_fatal("libtiff encode failed");
		bytes += (size_t)TIFFRawStripSize(t, 0);
		TIFFWriteDirectory(t);
	}
	TIFFClose(t);
	return bytes;
}

/* Decode every page of a TIFF in memory; check against d when check is set. */
static void libtiff_decode(const buf *file, const codec_doc *d, int check)
{
	tiffmem m;
	TIFF *t = tiffmem_open_read(&m, (uint8_t *)file->data, file->len);
	static uint8_t *raw;
	static size_t cap;
	size_t i = 0;

	do {
		const codec_page *p = d->pages[i];
		size_t rb = (p->width + 7) / 8, n = rb * p->height;
		if (n > cap) {
			cap = n;
			raw = xrealloc(raw, cap);
		}
		if (TIFFReadEncodedStrip(t, 0, raw, (tmsize_t)n) != (tmsize_t)n)
			msg_fatal("libtiff decode failed on page %zu", i);
		if (check)
			for (uint32_t y = 0; y < p->height; y++)
				if (memcmp(raw + y * rb, page_row(p, y), rb) != 0)
					msg_fatal("libtiff decoded page %zu differently", i);
		i++;
	} while (TIFFReadDirectory(t));
	TIFFClose(t);
}

/* ---------------------------------------------------------------- our side */

static size_t ours_encode(const codec_doc *d, t4_coding c, buf *out)
{
	tiff_wopts o = { TIFF_PROFILE_F, c, 1, 0, 0 };
	char err[256];

	if (tiff_write(d, &o, out, err, sizeof(err)) < 0)
		msg_fatal("tiff_write: %s", err);
	return 0;
}

static void ours_decode(const buf *file, const codec_doc *d, codec_page **scratch, t4_coding c, int check)
{
	tiffmem m;
	TIFF *t = tiffmem_open_read(&m, (uint8_t *)file->data, file->len);
	static uint8_t *raw;
	static size_t cap;
	size_t i = 0;
	t4_opts o = { c, 0, 0, 0, 0 };

	do {
		uint64_t *cnt;
		t4_result res;
		uint16_t fill = 1;

		TIFFGetField(t, TIFFTAG_STRIPBYTECOUNTS, &cnt);
		TIFFGetFieldDefaulted(t, TIFFTAG_FILLORDER, &fill);
		o.fill_lsb = fill == FILLORDER_LSB2MSB;
		if (cnt[0] > cap) {
			cap = cnt[0];
			raw = xrealloc(raw, cap);
		}
		if (TIFFReadRawStrip(t, 0, raw, (tmsize_t)cnt[0]) != (tmsize_t)cnt[0])
			msg_fatal("raw strip %zu", i);
		if (t4_decode_into(&o, raw, cnt[0], scratch[i], &res) != T4_OK)
			msg_fatal("our decoder failed on page %zu", i);
		if (check && !page_equal(scratch[i], d->pages[i]))
			msg_fatal("our decoder decoded page %zu differently", i);
		i++;
	} while (TIFFReadDirectory(t));
	TIFFClose(t);
}

/* Strip bytes of our file (sum of StripByteCounts). */
static size_t strip_bytes(const buf *file)
{
	tiffmem m;
	TIFF *t = tiffmem_open_read(&m, (uint8_t *)file->data, file->len);
	size_t n = 0;

	do {
		uint64_t *cnt;
		TIFFGetField(t, TIFFTAG_STRIPBYTECOUNTS, &cnt);
		n += cnt[0];
	} while (TIFFReadDirectory(t));
	TIFFClose(t);
	return n;
}

/* ---------------------------------------------------------------- jbigkit side */

static void jbk_out(unsigned char *s, size_t len, void *file)
{
	buf_append(file, s, len);
}

static int jbk_line(const struct jbg85_dec_state *s, unsigned char *start, size_t len,
		    unsigned long y, void *file)
{
	(void)s;
	(void)start;
	(void)len;
	(void)y;
	(void)file;
	return 0;
}

static void jbigkit_encode(const codec_page *p, buf *out)
{
	struct jbg85_enc_state s;
	static uint8_t zero[8192];

	buf_reset(out);
	jbg85_enc_init(&s, p->width, p->height, jbk_out, out);
	jbg85_enc_options(&s, JBG_TPBON, 128, 127);
	for (uint32_t y = 0; y < p->height; y++)
		jbg85_enc_lineout(&s, page_row(p, y), y ? page_row(p, y - 1) : zero,
				  y > 1 ? page_row(p, y - 2) : zero);
}

static void jbigkit_decode(const buf *in, uint32_t width)
{
	struct jbg85_dec_state s;
	size_t bpl = (width + 7) / 8, cnt;
	static unsigned char lb[3 * 8192];
	int rc;

	jbg85_dec_init(&s, lb, 3 * bpl, jbk_line, NULL);
	rc = jbg85_dec_in(&s, (unsigned char *)in->data, in->len, &cnt);
	if (rc == JBG_EAGAIN)
		rc = jbg85_dec_end(&s);
	if (rc != JBG_EOK)
		msg_fatal("jbigkit decode: %s", jbg85_strerror(rc));
}

/* ---------------------------------------------------------------- driver */

typedef struct row {
	const char *set;
	const char *coding;
	size_t pages;
	double ours_enc, ref_enc, ours_dec, ref_dec;	/* pages/s */
	size_t ours_bytes, ref_bytes;
} row;

static row rows[32];
static int nrows;

static void print_row(const row *r)
{
	printf("%-6s %-5s %5zu %10.0f %10.0f %6.2fx %10.0f %10.0f %6.2fx %11zu %11zu %6.3f\n",
	       r->set, r->coding, r->pages, r->ours_enc, r->ref_enc, r->ours_enc / r->ref_enc,
	       r->ours_dec, r->ref_dec, r->ours_dec / r->ref_dec, r->ours_bytes, r->ref_bytes,
	       (double)r->ours_bytes / (double)r->ref_bytes);
	fflush(stdout);
}

static void bench_t4(const char *set, const codec_doc *d, t4_coding c, int iter)
{
	static const char *names[] = { "", "MH", "MR", "MMR" };
	double oe[MAX_ITER], re[MAX_ITER], od[MAX_ITER], rd[MAX_ITER];
	buf ours, ref;
	codec_page **scratch = xcalloc(d->n, sizeof(*scratch));
	row *r = &rows[nrows++];

	buf_init(&ours, 0);
	buf_init(&ref, 0);
	for (size_t i = 0; i < d->n; i++)
		scratch[i] = page_alloc(d->pages[i]->width, d->pages[i]->height, 0, 0);
	r->set = set;
	r->coding = names[c];
	r->pages = d->n;
	r->ref_bytes = libtiff_encode(d, c, &ref);
	ours_encode(d, c, &ours);
	r->ours_bytes = strip_bytes(&ours);
	/* Check once: each side's output, decoded by both sides, is the source. */
	libtiff_decode(&ref, d, 1);
	ours_decode(&ref, d, scratch, c, 1);
	libtiff_decode(&ours, d, 1);
	ours_decode(&ours, d, scratch, c, 1);
	for (int i = 0; i < iter; i++) {
		double t0 = cpu_now(), t1, t2, t3, t4;
		ours_encode(d, c, &ours);
		t1 = cpu_now();
		libtiff_encode(d, c, &ref);
		t2 = cpu_now();
		ours_decode(&ref, d, scratch, c, 0);
		t3 = cpu_now();
		libtiff_decode(&ref, d, 0);
		t4 = cpu_now();
		oe[i] = t1 - t0;
		re[i] = t2 - t1;
		od[i] = t3 - t2;
		rd[i] = t4 - t3;
	}
	r->ours_enc = (double)d->n / median(oe, iter);
	r->ref_enc = (double)d->n / median(re, iter);
	r->ours_dec = (double)d->n / median(od, iter);
	r->ref_dec = (double)d->n / median(rd, iter);
	print_row(r);
	for (size_t i = 0; i < d->n; i++)
		page_free(scratch[i]);
	free(scratch);
	buf_free(&ours);
	buf_free(&ref);
}

static void bench_jbig(const char *set, const codec_doc *d, int iter)
{
	double oe[MAX_ITER], re[MAX_ITER], od[MAX_ITER], rd[MAX_ITER];
	buf *ours = xcalloc(d->n, sizeof(buf)), *ref = xcalloc(d->n, sizeof(buf));
	row *r = &rows[nrows++];
	char err[256];

	r->set = set;
	r->coding = "JBIG";
	r->pages = d->n;
	r->ours_bytes = r->ref_bytes = 0;
	for (size_t p = 0; p < d->n; p++) {
		codec_page *back;
		buf_init(&ours[p], 0);
		buf_init(&ref[p], 0);
		t85_encode(d->pages[p], &ours[p]);
		jbigkit_encode(d->pages[p], &ref[p]);
		r->ours_bytes += ours[p].len;
		r->ref_bytes += ref[p].len;
		back = t85_decode((uint8_t *)ref[p].data, ref[p].len, err, sizeof(err));
		if (!back || !page_equal(back, d->pages[p]))
			msg_fatal("T.85 round trip failed on page %zu: %s", p, back ? "differs" : err);
		page_free(back);
	}
	for (int i = 0; i < iter; i++) {
		double t[5];
		t[0] = cpu_now();
		for (size_t p = 0; p < d->n; p++) {
			buf_reset(&ours[p]);
			t85_encode(d->pages[p], &ours[p]);
		}
		t[1] = cpu_now();
		for (size_t p = 0; p < d->n; p++)
			jbigkit_encode(d->pages[p], &ref[p]);
		t[2] = cpu_now();
		for (size_t p = 0; p < d->n; p++)
			page_free(t85_decode((uint8_t *)ours[p].data, ours[p].len, err, sizeof(err)));
		t[3] = cpu_now();
		for (size_t p = 0; p < d->n; p++)
			jbigkit_decode(&ref[p], d->pages[p]->width);
		t[4] = cpu_now();
		oe[i] = t[1] - t[0];
		re[i] = t[2] - t[1];
		od[i] = t[3] - t[2];
		rd[i] = t[4] - t[3];
	}
	r->ours_enc = (double)d->n / median(oe, iter);
	r->ref_enc = (double)d->n / median(re, iter);
	r->ours_dec = (double)d->n / median(od, iter);
	r->ref_dec = (double)d->n / median(rd, iter);
	print_row(r);
	for (size_t p = 0; p < d->n; p++) {
		buf_free(&ours[p]);
		buf_free(&ref[p]);
	}
	free(ours);
	free(ref);
}

static int load(const char *dir, const char *set, codec_doc *d)
{
	char path[1024], err[256];
	FILE *f;
	uint8_t *data;
	long n;
	int rc;

	snprintf(path, sizeof(path), "%s/%s_g4.tif", dir, set);
	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	data = xmalloc((size_t)n);
	if (fread(data, 1, (size_t)n, f) != (size_t)n)
		msg_fatal("read %s", path);
	fclose(f);
	rc = tiff_read(data, (size_t)n, TIFF_READ_LIBTIFF, d, NULL, err, sizeof(err));
	if (rc < 0)
		msg_fatal("%s: %s", path, err);
	free(data);
	return 0;
}

static void goals(void)
{
	int ok = 1;

	printf("\ngoals (issue 4), fine set:\n");
	for (int i = 0; i < nrows; i++) {
		const row *r = &rows[i];
		double e = r->ours_enc / r->ref_enc, dd = r->ours_dec / r->ref_dec;
		double ge = !strcmp(r->coding, "MMR") ? 3 : 2, gd = 2;
		int sz = r->ours_bytes <= r->ref_bytes;

		if (strcmp(r->set, "fine") || !strcmp(r->coding, "JBIG"))
			continue;
		printf("  %-4s encode %.2fx (goal >= %.0fx) %s, decode %.2fx (goal >= %.0fx) %s, size %s\n",
		       r->coding, e, ge, e >= ge ? "met" : "MISSED", dd, gd, dd >= gd ? "met" : "MISSED",
		       sz ? "<= libtiff" : "LARGER than libtiff");
		ok &= e >= ge && dd >= gd && sz;
	}
	printf("  all goals %s\n", ok ? "met" : "not met");
}

int main(int argc, char **argv)
{
	static const char *sets[] = { "fine", "std", "sfine" };
	int iter = 7, opt;

	while ((opt = getopt(argc, argv, "i:")) != -1) {
		if (opt == 'i')
			iter = atoi(optarg);
	}
	if (optind >= argc || iter < 1 || iter > MAX_ITER) {
		fprintf(stderr, "usage: codec_bench [-i ITERATIONS] CORPUS_DIR\n");
		return 2;
	}
	printf("codec_bench: %s, CPU time, median of %d passes; pages/s; ratio = ours / reference\n",
	       argv[optind], iter);
	printf("(MH/MR/MMR reference: %.*s; JBIG reference: jbigkit jbig85 called directly)\n\n",
	       (int)strcspn(TIFFGetVersion(), "\n"), TIFFGetVersion());
	printf("%-6s %-5s %5s %10s %10s %7s %10s %10s %7s %11s %11s %6s\n", "set", "code", "pages",
	       "ours enc", "ref enc", "ratio", "ours dec", "ref dec", "ratio", "ours bytes", "ref bytes",
	       "size");
	for (size_t s = 0; s < 3; s++) {
		codec_doc d;
		if (load(argv[optind], sets[s], &d) < 0) {
			printf("%-6s (missing)\n", sets[s]);
			continue;
		}
		for (int c = T4_MH; c <= T4_MMR; c++)
			bench_t4(sets[s], &d, (t4_coding)c, iter);
		bench_jbig(sets[s], &d, iter < 3 ? iter : 3);
		doc_free(&d);
	}
	goals();
	return 0;
}
