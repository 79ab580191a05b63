/*
 * test_codec_tiff.c - TIFF-FX reading and writing: our reader equals libtiff's decode on
 * the corpus and on files libtiff writes in other shapes (several strips, FillOrder 2,
 * MR, MinIsBlack, uncompressed, PackBits, LZW, grey); profiles S, F and J written by us
 * have the RFC 3949 layout and tags and read back (libtiff decodes S and F to the same
 * pages); hostile files (truncated, looping IFDs, huge sizes, bad strip counts, garbage)
 * give a clear error.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tiffio.h>

#include "codec/page.h"
#include "codec/t85.h"
#include "codec/tiff.h"
#include "codec/tiffmem.h"
#include "util/msg.h"

static uint8_t *slurp(const char *name, size_t *len)
{
	char path[512];
	const char *src = getenv("FAXPOST_SRCDIR");
	FILE *f;
	uint8_t *p;
	long n;

	snprintf(path, sizeof(path), "%s/tests/data/corpus/%s", src ? src : ".", name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "open %s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	p = xmalloc((size_t)n);
	ck_assert_int_eq(fread(p, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return p;
}

static void assert_docs_equal(const codec_doc *a, const codec_doc *b)
{
	ck_assert_uint_eq(a->n, b->n);
	for (size_t i = 0; i < a->n; i++) {
		ck_assert_msg(page_equal(a->pages[i], b->pages[i]), "page %zu differs", i);
		ck_assert_uint_eq(a->pages[i]->xres, b->pages[i]->xres);
		ck_assert_uint_eq(a->pages[i]->yres, b->pages[i]->yres);
	}
}

START_TEST(test_read_corpus)
{
	static const char *files[] = { "fine_g4.tif", "std_g4.tif", "sfine_g4.tif", "b4_g4.tif", "a3_g4.tif" };

	for (size_t f = 0; f < 5; f++) {
		size_t len;
		uint8_t *data = slurp(files[f], &len);
		codec_doc ours, ref;
		tiff_src src;
		char err[256];

		ck_assert_msg(tiff_read(data, len, 0, &ours, &src, err, sizeof(err)) == 0, "%s", err);
		ck_assert_msg(tiff_read(data, len, TIFF_READ_LIBTIFF, &ref, NULL, err, sizeof(err)) == 0, "%s", err);
		assert_docs_equal(&ours, &ref);
		ck_assert_int_eq(src.coding, T4_MMR);
		ck_assert_int_eq(src.profile_s, 0);
		doc_free(&ours);
		doc_free(&ref);
		free(data);
	}
}
END_TEST

/* libtiff writes the first pages of fine_g4.tif in another shape; we read it back. */
static void libtiff_shape(const codec_doc *src, int comp, uint32_t t4opts, int fill, int photo,
			  uint32_t rps, buf *out)
{
	tiffmem m;
	TIFF *t = tiffmem_open_write(&m, out);

	for (size_t i = 0; i < src->n; i++) {
		const codec_page *p = src->pages[i];
		size_t rb = (p->width + 7) / 8;
		uint8_t *row = xmalloc(rb);

		TIFFSetField(t, TIFFTAG_IMAGEWIDTH, p->width);
		TIFFSetField(t, TIFFTAG_IMAGELENGTH, p->height);
		TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 1);
		TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
		TIFFSetField(t, TIFFTAG_COMPRESSION, comp);
		TIFFSetField(t, TIFFTAG_PHOTOMETRIC, photo);
		TIFFSetField(t, TIFFTAG_FILLORDER, fill);
		TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, rps);
		TIFFSetField(t, TIFFTAG_XRESOLUTION, 80.0);		/* per cm: 204 dpi */
		TIFFSetField(t, TIFFTAG_YRESOLUTION, 77.0);		/* per cm: 196 dpi */
		TIFFSetField(t, TIFFTAG_RESOLUTIONUNIT, RESUNIT_CENTIMETER);
		if (comp == COMPRESSION_CCITTFAX3)
			TIFFSetField(t, TIFFTAG_GROUP3OPTIONS, t4opts);
		for (uint32_t y = 0; y < p->height; y++) {
			memcpy(row, page_row(p, y), rb);
			if (photo == PHOTOMETRIC_MINISBLACK)
				for (size_t b = 0; b < rb; b++)
					row[b] = (uint8_t)~row[b];
			ck_assert_int_eq(TIFFWriteScanline(t, row, y, 0), 1);
		}
		free(row);
		TIFFWriteDirectory(t);
	}
	TIFFClose(t);
}

START_TEST(test_read_shapes)
{
	size_t len;
	uint8_t *data = slurp("fine_g4.tif", &len);
	codec_doc all, three, back;
	buf out;
	char err[256];
	struct { int comp; uint32_t opts; int fill, photo; uint32_t rps; } shapes[] = {
		{ COMPRESSION_CCITTFAX3, 0, 2, 0, 37 },
		{ COMPRESSION_CCITTFAX3, GROUP3OPT_2DENCODING | GROUP3OPT_FILLBITS, 1, 0, 100 },
		{ COMPRESSION_CCITTFAX4, 0, 2, 0, 50 },
		{ COMPRESSION_CCITTFAX4, 0, 1, 1, 2200 },
		{ COMPRESSION_CCITTRLE, 0, 1, 0, 64 },
		{ COMPRESSION_NONE, 0, 1, 1, 64 },
		{ COMPRESSION_PACKBITS, 0, 1, 0, 2200 },
		{ COMPRESSION_LZW, 0, 2, 0, 128 },
	};

	ck_assert_int_eq(tiff_read(data, len, 0, &all, NULL, err, sizeof(err)), 0);
	doc_init(&three);
	for (size_t i = 0; i < 3; i++)
		doc_add(&three, page_dup(all.pages[i * 7]));
	buf_init(&out, 0);
	for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		libtiff_shape(&three, shapes[s].comp, shapes[s].opts, shapes[s].fill, shapes[s].photo,
			      shapes[s].rps, &out);
		ck_assert_msg(tiff_read((uint8_t *)out.data, out.len, 0, &back, NULL, err, sizeof(err)) == 0,
			      "shape %zu: %s", s, err);
		assert_docs_equal(&three, &back);
		doc_free(&back);
	}
	buf_free(&out);
	doc_free(&three);
	doc_free(&all);
	free(data);
}
END_TEST

static uint32_t le32(const uint8_t *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* Walk our file: header, IFDs sorted, each IFD before its strip, pages in order. */
static void check_layout(const buf *f, size_t pages, uint16_t comp, uint16_t fill)
{
	const uint8_t *p = (const uint8_t *)f->data;
	uint32_t off = le32(p + 4), last_end = 8;
	size_t n = 0;

	ck_assert(memcmp(p, "II*\0\x08\0\0\0", 8) == 0);
	while (off) {
		uint16_t cnt = le16(p + off), prev = 0;
		uint32_t strip = 0, bytes = 0;
		int have[400] = { 0 };

		ck_assert_uint_ge(off, last_end);
		for (uint16_t i = 0; i < cnt; i++) {
			const uint8_t *e = p + off + 2 + 12 * i;
			uint16_t tag = le16(e);
			ck_assert_uint_gt(tag, prev);
			prev = tag;
			if (tag < 400)
				have[tag] = 1;
			if (tag == 273)
				strip = le32(e + 8);
			if (tag == 279)
				bytes = le32(e + 8);
			if (tag == 254)
				ck_assert_uint_eq(le32(e + 8), 2);
			if (tag == 259)
				ck_assert_uint_eq(le16(e + 8), comp);
			if (tag == 266)
				ck_assert_uint_eq(le16(e + 8), fill);
			if (tag == 297) {
				ck_assert_uint_eq(le16(e + 8), n);
				ck_assert_uint_eq(le16(e + 10), pages);
			}
			if (tag == 293)
				ck_assert_uint_eq(le32(e + 8), 0);
		}
		for (int t = 254; t <= 297; t++) {
			static const int req[] = { 254, 256, 257, 258, 259, 262, 266, 273, 277, 278, 279, 282, 283, 296, 297 };
			for (size_t r = 0; r < sizeof(req) / sizeof(req[0]); r++)
				if (req[r] == t)
					ck_assert_msg(have[t], "tag %d missing", t);
		}
		ck_assert_int_eq(have[292], comp == 3);
		ck_assert_int_eq(have[293], comp == 4);
		ck_assert_uint_gt(strip, off);
		last_end = strip + bytes;
		off = le32(p + off + 2 + 12 * cnt);
		n++;
	}
	ck_assert_uint_eq(n, pages);
	ck_assert_uint_le(last_end, f->len);
}

START_TEST(test_write_profiles)
{
	size_t len;
	uint8_t *data = slurp("fine_g4.tif", &len);
	codec_doc all, some, back, ref;
	buf out;
	char err[256];
	struct { tiff_profile p; t4_coding c; int fill, align; uint16_t comp; } v[] = {
		{ TIFF_PROFILE_S, T4_MH, 2, 0, 3 },
		{ TIFF_PROFILE_S, T4_MH, 2, 1, 3 },
		{ TIFF_PROFILE_F, T4_MH, 1, 0, 3 },
		{ TIFF_PROFILE_F, T4_MR, 2, 1, 3 },
		{ TIFF_PROFILE_F, T4_MMR, 2, 0, 4 },
		{ TIFF_PROFILE_F, T4_MMR, 1, 0, 4 },
		{ TIFF_PROFILE_J, 0, 1, 0, 9 },
	};

	ck_assert_int_eq(tiff_read(data, len, 0, &all, NULL, err, sizeof(err)), 0);
	doc_init(&some);
	for (size_t i = 0; i < 4; i++)
		doc_add(&some, page_dup(all.pages[i * 5]));
	buf_init(&out, 0);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		tiff_wopts o = { v[i].p, v[i].c, v[i].fill, v[i].align, 0 };
		tiff_src src;

		ck_assert_msg(tiff_write(&some, &o, &out, err, sizeof(err)) == 0, "%s", err);
		check_layout(&out, some.n, v[i].comp, (uint16_t)v[i].fill);
		ck_assert_msg(tiff_read((uint8_t *)out.data, out.len, 0, &back, &src, err, sizeof(err)) == 0, "%s", err);
		assert_docs_equal(&some, &back);
		ck_assert_int_eq(src.profile_s, v[i].p == TIFF_PROFILE_S);	/* T4Options 0 or 4 */
		doc_free(&back);
		if (v[i].p != TIFF_PROFILE_J) {
			ck_assert_int_eq(tiff_read((uint8_t *)out.data, out.len, TIFF_READ_LIBTIFF, &ref, NULL, err, sizeof(err)), 0);
			assert_docs_equal(&some, &ref);
			doc_free(&ref);
		}
	}
	/* Profile S refuses what it cannot hold. */
	{
		tiff_wopts o = { TIFF_PROFILE_S, T4_MH, 2, 0, 0 };
		some.pages[0]->yres = 391;
		ck_assert_int_eq(tiff_write(&some, &o, &out, err, sizeof(err)), -1);
		ck_assert(strstr(err, "profile S") != NULL);
		o.profile = TIFF_PROFILE_F;
		ck_assert_int_eq(tiff_write(&some, &o, &out, err, sizeof(err)), 0);
		some.pages[0]->xres = 300;
		ck_assert_int_eq(tiff_write(&some, &o, &out, err, sizeof(err)), -1);
	}
	buf_free(&out);
	doc_free(&some);
	doc_free(&all);
	free(data);
}
END_TEST

static int read_fails(const uint8_t *p, size_t len, const char *want)
{
	codec_doc d;
	char err[256] = "";
	int rc = tiff_read(p, len, 0, &d, NULL, err, sizeof(err));

	if (rc == 0) {
		doc_free(&d);
		return 0;
	}
	ck_assert_msg(err[0], "no reason");
	if (want)
		ck_assert_msg(strstr(err, want) != NULL, "reason '%s' lacks '%s'", err, want);
	return 1;
}

START_TEST(test_hostile_tiff)
{
	size_t len;
	uint8_t *data = slurp("std_g4.tif", &len), *copy = xmalloc(len);
	codec_doc d;
	char err[256];
	uint32_t first;
	unsigned seed = 7;
	buf out;

	ck_assert(read_fails((const uint8_t *)"hello", 5, "not a TIFF"));
	ck_assert(read_fails((const uint8_t *)"II*\0\xff\xff\xff\x7f", 8, NULL));
	/* Truncated anywhere: an error or fewer pages, never a crash. */
	for (size_t cut = 8; cut < len; cut += len / 53) {
		if (tiff_read(data, cut, 0, &d, NULL, err, sizeof(err)) == 0) {
			ck_assert_uint_le(d.n, 6);
			doc_free(&d);
		}
	}
	/* An IFD that points back to the first one. */
	memcpy(copy, data, len);
	first = le32(copy + 4);
	{
		uint16_t cnt = le16(copy + first);
		uint8_t *next = copy + first + 2 + 12 * cnt;
		next[0] = copy[4]; next[1] = copy[5]; next[2] = copy[6]; next[3] = copy[7];
	}
	ck_assert(read_fails(copy, len, "loop") || (tiff_read(copy, len, 0, &d, NULL, err, sizeof(err)) == 0 && d.n == 1 && (doc_free(&d), 1)));
	/* Huge width and height. */
	memcpy(copy, data, len);
	{
		uint16_t cnt = le16(copy + first);
		for (uint16_t i = 0; i < cnt; i++) {
			uint8_t *e = copy + first + 2 + 12 * i;
			if (le16(e) == 256 || le16(e) == 257) {
				e[2] = 4; e[3] = 0;			/* LONG */
				e[8] = 0xff; e[9] = 0xff; e[10] = 0xff; e[11] = 0x0f;
			}
		}
	}
	ck_assert(read_fails(copy, len, NULL));
	/* Random bytes over the IFDs and strips. */
	for (int round = 0; round < 100; round++) {
		memcpy(copy, data, len);
		for (int k = 0; k < 20; k++) {
			seed = seed * 1103515245 + 12345;
			copy[8 + (seed >> 4) % (len - 8)] = (uint8_t)(seed >> 20);
		}
		if (tiff_read(copy, len, 0, &d, NULL, err, sizeof(err)) == 0)
			doc_free(&d);
	}
	/* A corrupt T.85 strip. */
	ck_assert_int_eq(tiff_read(data, len, 0, &d, NULL, err, sizeof(err)), 0);
	buf_init(&out, 0);
	{
		tiff_wopts o = { TIFF_PROFILE_J, 0, 1, 0, 0 };
		codec_doc one;
		doc_init(&one);
		doc_add(&one, page_dup(d.pages[0]));
		ck_assert_int_eq(tiff_write(&one, &o, &out, err, sizeof(err)), 0);
		for (size_t i = out.len - 200; i < out.len; i += 3)
			out.data[i] ^= 0x5a;
		doc_free(&one);
		if (tiff_read((uint8_t *)out.data, out.len, 0, &one, NULL, err, sizeof(err)) == 0)
			ck_assert_uint_eq(one.n, 1);
		doc_free(&one);
	}
	{
		/* A BIE header claiming a 100000-pixel width. */
		codec_page *p = NULL;
		uint8_t bih[20] = { 0, 0, 1, 0, 0, 1, 0x86, 0xa0, 0, 0, 0x08, 0x98, 0, 0, 0, 128, 127, 0, 0, 8 };
		p = t85_decode(bih, sizeof(bih), err, sizeof(err));
		ck_assert_ptr_null(p);
		ck_assert(strstr(err, "width") != NULL || strstr(err, "large") != NULL);
	}
	buf_free(&out);
	doc_free(&d);
	free(copy);
	free(data);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("codec_tiff");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_read_corpus);
	tcase_add_test(tc, test_read_shapes);
	tcase_add_test(tc, test_write_profiles);
	tcase_add_test(tc, test_hostile_tiff);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
