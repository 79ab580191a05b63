/*
 * test_codec_t4.c - lib/codec's T.4/T.6 coder against libtiff on every corpus page:
 * our decode of the corpus MMR strips equals libtiff's decode; every coding (MH, MR with
 * K, MMR) x fill order x EOL alignment x RTC/EOFB we write decodes to the same bitmap in
 * libtiff and in our decoder; what libtiff writes we decode identically; our MMR is
 * byte-for-byte as long as libtiff's, MH/MR no longer. Then hostile streams.
 * Corpus: tests/data/corpus (FAXPOST_SRCDIR overrides the source folder).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>

#include "codec/page.h"
#include "codec/t4.h"
#include "codec/tiffmem.h"
#include "codec/tiffref.h"
#include "util/msg.h"

typedef struct ref_page {
	codec_page *pg;
	uint8_t *strip;		/* corpus MMR strip */
	size_t len;
	int fill;
} ref_page;

static ref_page pages[64];
static size_t npages;

static void load_file(const char *name)
{
	char path[512];
	const char *src = getenv("FAXPOST_SRCDIR");
	TIFF *t;

	snprintf(path, sizeof(path), "%s/tests/data/corpus/%s", src ? src : ".", name);
	t = TIFFOpen(path, "r");
	ck_assert_msg(t != NULL, "cannot open %s", path);
	do {
		uint32_t w, h;
		uint16_t fill = 1;
		uint64_t *cnt;
		size_t rb, n;
		uint8_t *raw;
		ref_page *r = &pages[npages++];

		ck_assert(npages <= 64);
		TIFFGetField(t, TIFFTAG_IMAGEWIDTH, &w);
		TIFFGetField(t, TIFFTAG_IMAGELENGTH, &h);
		TIFFGetFieldDefaulted(t, TIFFTAG_FILLORDER, &fill);
		rb = (w + 7) / 8;
		n = rb * h;
		raw = xmalloc(n);
		ck_assert_int_eq(TIFFReadEncodedStrip(t, 0, raw, (tmsize_t)n), (tmsize_t)n);
		{
			float yr = 196;
			TIFFGetField(t, TIFFTAG_YRESOLUTION, &yr);
			r->pg = page_alloc(w, h, 204, (unsigned)(yr + 0.5f));
		}
		for (uint32_t y = 0; y < h; y++)
			memcpy(page_row(r->pg, y), raw + y * rb, rb);
		free(raw);
		TIFFGetField(t, TIFFTAG_STRIPBYTECOUNTS, &cnt);
		r->len = cnt[0];
		r->strip = xmalloc(r->len);
		ck_assert_int_eq(TIFFReadRawStrip(t, 0, r->strip, (tmsize_t)r->len), (tmsize_t)r->len);
		r->fill = fill;
	} while (TIFFReadDirectory(t));
	TIFFClose(t);
}

static void load_corpus(void)
{
	static const char *files[] = { "fine_g4.tif", "std_g4.tif", "sfine_g4.tif", "b4_g4.tif",
				       "a3_g4.tif" };

	if (npages)
		return;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		load_file(files[i]);
	ck_assert_uint_eq(npages, 35);
}

START_TEST(test_decode_corpus)
{
	load_corpus();
	for (size_t i = 0; i < npages; i++) {
		t4_opts o = { T4_MMR, 0, pages[i].fill == 2, 0, 0 };
		t4_result res;
		codec_page *pg;
		int rc = t4_decode(&o, pages[i].strip, pages[i].len, pages[i].pg->width,
				   pages[i].pg->height, &pg, &res);
		ck_assert_msg(rc == T4_OK, "page %zu: rc %d", i, rc);
		ck_assert_msg(page_equal(pg, pages[i].pg), "page %zu differs from libtiff", i);
		/* The same strip, height unknown: decode to EOFB. */
		page_free(pg);
		rc = t4_decode(&o, pages[i].strip, pages[i].len, pages[i].pg->width, 0, &pg, &res);
		ck_assert_int_eq(rc, T4_OK);
		ck_assert_int_eq(res.end_marker, 1);
		ck_assert_msg(page_equal(pg, pages[i].pg), "page %zu (no height) differs", i);
		page_free(pg);
	}
}
END_TEST

/* One variant on one page: ours -> ours, ours -> libtiff, libtiff -> ours. */
static void check_variant(size_t i, t4_coding coding, int k, int fill, int align, int rtc)
{
	const codec_page *ref = pages[i].pg;
	t4_opts o = { coding, k, fill == 2, align, rtc };
	int comp = coding == T4_MMR ? COMPRESSION_CCITTFAX4 : COMPRESSION_CCITTFAX3;
	uint32_t t4opts = (coding == T4_MR ? GROUP3OPT_2DENCODING : 0) | (align ? GROUP3OPT_FILLBITS : 0);
	buf ours, theirs;
	codec_page *pg;
	t4_result res;

	buf_init(&ours, 0);
	buf_init(&theirs, 0);
	ck_assert_int_eq(t4_encode(&o, ref, &ours), 0);
	ck_assert_int_eq(t4_decode(&o, (uint8_t *)ours.data, ours.len, ref->width, ref->height, &pg, &res), T4_OK);
	ck_assert_msg(page_equal(pg, ref), "page %zu coding %d fill %d align %d: own round trip", i, coding, fill, align);
	page_free(pg);
	pg = tiffref_decode((uint8_t *)ours.data, ours.len, ref->width, ref->height, comp, t4opts, fill);
	ck_assert_msg(pg && page_equal(pg, ref), "page %zu coding %d fill %d align %d rtc %d: libtiff reads it differently",
		      i, coding, fill, align, rtc);
	page_free(pg);
	/* Same framing as libtiff: MMR with EOFB, MH/MR without RTC. */
	if ((coding == T4_MMR ? rtc : !rtc) && !align &&
	    (k == 0 || k == (ref->yres > 150 ? 4 : 2) || coding != T4_MR)) {
		ck_assert_int_eq(tiffref_encode(ref, comp, t4opts, fill, &theirs), 0);
		ck_assert_int_eq(t4_decode(&o, (uint8_t *)theirs.data, theirs.len, ref->width, ref->height, &pg, &res), T4_OK);
		ck_assert_msg(page_equal(pg, ref), "page %zu coding %d: libtiff's data decodes differently", i, coding);
		page_free(pg);
		ck_assert_msg(ours.len <= theirs.len, "page %zu coding %d fill %d align %d: %zu > libtiff %zu",
			      i, coding, fill, align, ours.len, theirs.len);
		if (coding == T4_MMR)
			ck_assert_uint_eq(ours.len, theirs.len);
	}
	buf_free(&ours);
	buf_free(&theirs);
}

START_TEST(test_variants)
{
	load_corpus();
	for (size_t i = 0; i < npages; i++) {
		int big = pages[i].pg->width > 2432;

		check_variant(i, T4_MMR, 0, 1, 0, 1);
		check_variant(i, T4_MH, 0, 2, 0, 0);
		check_variant(i, T4_MR, pages[i].pg->yres > 150 ? 4 : 2, 2, 0, 0);
		if (big)
			continue;	/* the remaining variants on the A4/B4/A3 204 dpi pages */
		check_variant(i, T4_MMR, 0, 2, 0, 0);
		check_variant(i, T4_MH, 0, 1, 1, 0);
		check_variant(i, T4_MH, 0, 2, 0, 1);
		check_variant(i, T4_MR, 1, 1, 1, 0);
		check_variant(i, T4_MR, 3, 2, 0, 1);
	}
}
END_TEST

/* Odd widths, black edges, a single row, all black. */
START_TEST(test_edges)
{
	static const uint32_t widths[] = { 1, 7, 8, 63, 64, 65, 100, 1692, 1728, 2560, 2623, 2624, 2700, 5200 };

	for (size_t wi = 0; wi < sizeof(widths) / sizeof(widths[0]); wi++) {
		uint32_t w = widths[wi], h = 9;
		codec_page *p = page_alloc(w, h, 204, 98);
		unsigned seed = 12345 + w;

		for (uint32_t y = 0; y < h; y++) {
			uint8_t *r = page_row(p, y);
			for (size_t b = 0; b < (w + 7) / 8; b++) {
				seed = seed * 1103515245 + 12345;
				r[b] = y == 0 ? 0xff : y == 1 ? 0 : y == 2 ? 0x55 : y == 3 ? 0x0f : (uint8_t)(seed >> 16);
			}
		}
		page_clear_padding(p);
		for (int c = T4_MH; c <= T4_MMR; c++) {
			for (int fill = 1; fill <= 2; fill++) {
				t4_opts o = { c, 2, fill == 2, fill == 2 && c != T4_MMR, 1 };
				buf out;
				codec_page *q;
				t4_result res;

				buf_init(&out, 0);
				ck_assert_int_eq(t4_encode(&o, p, &out), 0);
				ck_assert_int_eq(t4_decode(&o, (uint8_t *)out.data, out.len, w, h, &q, &res), T4_OK);
				ck_assert_msg(page_equal(p, q), "width %u coding %d fill %d", w, c, fill);
				page_free(q);
				/* libtiff 4.5's MH decoder overflows its run array on a row of
				 * 1-pixel runs that starts black (width + 1 runs: "Buffer
				 * overflow at line 2"), so row 2 starts white for it. */
				q = tiffref_decode((uint8_t *)out.data, out.len, w, h,
						   c == T4_MMR ? COMPRESSION_CCITTFAX4 : COMPRESSION_CCITTFAX3,
						   (c == T4_MR ? GROUP3OPT_2DENCODING : 0) | (o.eol_align ? GROUP3OPT_FILLBITS : 0),
						   fill);
				ck_assert_msg(q && page_equal(p, q), "libtiff: width %u coding %d fill %d", w, c, fill);
				page_free(q);
				buf_free(&out);
			}
		}
		page_free(p);
	}
}
END_TEST

/* Garbage, truncation and bit flips: an error or a page, never a crash or a hang. */
START_TEST(test_hostile)
{
	codec_page *pg;
	t4_result res;
	uint8_t junk[4096];
	unsigned seed = 1;
	buf out;
	t4_opts mmr = { T4_MMR, 0, 0, 0, 1 }, mh = { T4_MH, 0, 0, 0, 1 }, mr = { T4_MR, 4, 0, 0, 1 };
	const t4_opts *all[3] = { &mh, &mr, &mmr };

	load_corpus();
	for (int round = 0; round < 200; round++) {
		for (size_t i = 0; i < sizeof(junk); i++) {
			seed = seed * 1103515245 + 12345;
			junk[i] = (uint8_t)(seed >> 16);
		}
		if (round % 4 == 1)
			memset(junk, 0, sizeof(junk));
		if (round % 4 == 2)
			memset(junk, 0xff, sizeof(junk));
		for (int c = 0; c < 3; c++) {
			int rc = t4_decode(all[c], junk, sizeof(junk), 1728, round % 2 ? 2200 : 0, &pg, &res);
			ck_assert(rc == T4_OK || rc == T4_ERR_DATA);
			page_free(pg);
		}
	}
	/* Truncated and corrupted real data. */
	buf_init(&out, 0);
	ck_assert_int_eq(t4_encode(&mr, pages[3].pg, &out), 0);
	for (size_t cut = 0; cut < out.len; cut += out.len / 37 + 1) {
		int rc = t4_decode(&mr, (uint8_t *)out.data, cut, 1728, 2200, &pg, &res);
		ck_assert(rc == T4_ERR_DATA || rc == T4_OK);
		page_free(pg);
	}
	for (int flip = 0; flip < 50; flip++) {
		seed = seed * 1103515245 + 12345;
		out.data[(seed >> 8) % out.len] ^= (char)(1 << (seed % 8));
		ck_assert(t4_decode(&mr, (uint8_t *)out.data, out.len, 1728, 0, &pg, &res) != T4_ERR_LIMIT);
		page_free(pg);
	}
	/* A damaged MR line is regenerated, not fatal. */
	ck_assert_int_eq(t4_decode(&mr, (uint8_t *)out.data, out.len, 1728, 0, &pg, &res), T4_OK);
	ck_assert_uint_gt(res.bad_lines, 0);
	page_free(pg);
	buf_free(&out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("codec_t4");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_decode_corpus);
	tcase_add_test(tc, test_variants);
	tcase_add_test(tc, test_edges);
	tcase_add_test(tc, test_hostile);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
