/*
 * test_codec_choose.c - capability matching (RFC 2879 receivers, RFC 4141 CONNEG) and
 * the page conversions it drives (resolution, width, paper, length).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/choose.h"
#include "codec/convert.h"
#include "mail/featureset.h"

static const char *S_RECEIVER =
	"(& (image-file-structure=TIFF-minimal) (MRC-mode=0) (color=Binary) (image-coding=MH)"
	" (| (& (dpi=204) (dpi-xyratio=[204/98,204/196]) ) (& (dpi=200) (dpi-xyratio=[200/100,1]) ) )"
	" (size-x<=2150/254) (paper-size=A4) (ua-media=stationery) )";
static const char *HIGH_END =
	"(& (image-file-structure=TIFF) (MRC-mode=0) (color=Binary)"
	" (| (& (dpi=204) (dpi-xyratio=[204/98,204/196]) ) (& (dpi=200) (dpi-xyratio=[200/100,1]) )"
	"    (& (dpi=300) (dpi-xyratio=1) ) )"
	" (| (image-coding=[MH,MR,MMR]) (& (image-coding=JBIG) (image-coding-constraint=JBIG-T85) (JBIG-stripe-size=128) ) )"
	" (size-x<=2150/254) (paper-size=[letter,A4,B4]) (ua-media=stationery) )";
static const char *CONNEG_4141 =
	"(&(image-file-structure=TIFF-minimal) (MRC-mode=0) (color=Binary)"
	" (|(&(dpi=204) (dpi-xyratio=[204/98,204/196]) ) (&(dpi=200) (dpi-xyratio=[200/100,1]) ) )"
	" (image-coding=[MH,MR,MMR]) (size-x<=2150/254) (paper-size=[letter,A4]) (ua-media=stationery) )";

static int choose(const char *caps, unsigned sx, unsigned sy, uint32_t w, codec_target *t, char *status)
{
	char err[200], reason[200];
	fs_expr *e = caps ? fs_parse(caps, strlen(caps), err, sizeof(err)) : NULL;
	int rc;

	ck_assert_msg(!caps || e, "%s", err);
	rc = codec_choose(e, sx, sy, w, t, status, 16, reason, sizeof(reason));
	fs_free(e);
	return rc;
}

START_TEST(test_choose)
{
	codec_target t;
	char st[16];

	ck_assert_int_eq(choose(S_RECEIVER, 204, 196, 1728, &t, st), 0);
	ck_assert_int_eq(t.profile, TIFF_PROFILE_S);
	ck_assert_int_eq(t.coding, T4_MH);
	ck_assert_uint_eq(t.xres, 204);
	ck_assert_uint_eq(t.yres, 196);
	ck_assert_uint_eq(t.width, 1728);
	ck_assert_str_eq(st, "2.0.0");
	/* 400x400 into an S receiver: the finest resolution it takes. */
	ck_assert_int_eq(choose(S_RECEIVER, 400, 400, 3456, &t, st), 0);
	ck_assert_uint_eq(t.yres, 196);
	ck_assert_uint_eq(t.width, 1728);
	/* Standard resolution stays standard. */
	ck_assert_int_eq(choose(S_RECEIVER, 204, 98, 1728, &t, st), 0);
	ck_assert_uint_eq(t.yres, 98);
	/* A 200x200 source keeps its own family. */
	ck_assert_int_eq(choose(S_RECEIVER, 200, 200, 1728, &t, st), 0);
	ck_assert_uint_eq(t.xres, 200);
	ck_assert_uint_eq(t.yres, 200);
	/* RFC 4141 sect. 9.2: TIFF-minimal with MMR allowed -> MMR. */
	ck_assert_int_eq(choose(CONNEG_4141, 400, 400, 3456, &t, st), 0);
	ck_assert_int_eq(t.profile, TIFF_PROFILE_F);
	ck_assert_int_eq(t.coding, T4_MMR);
	ck_assert_str_eq(t.structure, "TIFF-minimal");
	ck_assert_uint_eq(t.xres, 204);
	ck_assert_uint_eq(t.yres, 196);
	/* High-end: JBIG first; 300 dpi kept; B4 kept. */
	ck_assert_int_eq(choose(HIGH_END, 204, 196, 1728, &t, st), 0);
	ck_assert_int_eq(t.profile, TIFF_PROFILE_J);
	ck_assert_int_eq(choose(HIGH_END, 300, 300, 2592, &t, st), 0);
	ck_assert_uint_eq(t.xres, 300);
	ck_assert_uint_eq(t.width, 2592);
	/* Its size-x<=2150/254 (215 mm) admits no B4 image, whatever paper-size says. */
	ck_assert_int_eq(choose(HIGH_END, 204, 196, 2048, &t, st), 0);
	ck_assert_int_eq(t.paper, PAPER_A4);
	ck_assert_int_eq(choose("(& (image-coding=MMR) (paper-size=[A4,B4]))", 204, 196, 2048, &t, st), 0);
	ck_assert_int_eq(t.paper, PAPER_B4);
	ck_assert_uint_eq(t.width, 2048);
	ck_assert_str_eq(t.paper_name, "B4");
	/* A3 into A4/B4: the next smaller paper. */
	ck_assert_int_eq(choose("(& (image-coding=MMR) (paper-size=[A4,B4]))", 204, 196, 2432, &t, st), 0);
	ck_assert_int_eq(t.paper, PAPER_B4);
	/* Letter-only receiver gets the A4-width page as letter. */
	ck_assert_int_eq(choose("(& (image-coding=MMR) (paper-size=letter))", 204, 196, 1728, &t, st), 0);
	ck_assert_str_eq(t.paper_name, "letter");
	/* No capability information: F MMR at the source resolution. */
	ck_assert_int_eq(choose(NULL, 204, 98, 1728, &t, st), 0);
	ck_assert_int_eq(t.coding, T4_MMR);
	ck_assert_uint_eq(t.yres, 98);
	/* JBIG only if allowed; nothing we make fits: 5.6.3. */
	ck_assert_int_eq(choose("(& (image-coding=[MMR,JBIG]) (JBIG-stripe-size<=64))", 204, 196, 1728, &t, st), 0);
	ck_assert_int_eq(t.coding, T4_MMR);
	ck_assert_int_eq(choose("(image-coding=JPEG)", 204, 196, 1728, &t, st), -1);
	ck_assert_str_eq(st, "5.6.3");
	ck_assert_int_eq(choose("(& (image-coding=MH) (dpi=100))", 204, 196, 1728, &t, st), -1);
	ck_assert_str_eq(st, "5.6.3");
}
END_TEST

static void set_px(codec_page *p, uint32_t x, uint32_t y)
{
	page_row(p, y)[x >> 3] |= (uint8_t)(0x80 >> (x & 7));
}

static int px(const codec_page *p, uint32_t x, uint32_t y)
{
	return page_row(p, y)[x >> 3] >> (7 - (x & 7)) & 1;
}

START_TEST(test_convert)
{
	codec_page *p = page_alloc(1692, 100, 204, 196), *q;
	codec_target t = { TIFF_PROFILE_F, T4_MMR, 204, 98, 1728, PAPER_A4, "A4", "TIFF" };
	codec_doc d;
	char err[200];

	/* A 1692-pixel scanner page padded to 1728, centred. */
	set_px(p, 0, 0);
	set_px(p, 1691, 99);
	for (uint32_t x = 100; x < 200; x++)
		set_px(p, x, 51);		/* a one-pixel horizontal line */
	q = convert_width(p, 1728);
	ck_assert_uint_eq(q->width, 1728);
	ck_assert_int_eq(px(q, 18, 0), 1);
	ck_assert_int_eq(px(q, 17, 0), 0);
	ck_assert_int_eq(px(q, 1691 + 18, 99), 1);
	page_free(q);
	/* 196 -> 98 keeps the thin line (OR of the two rows). */
	q = convert_resolution(p, 204, 98);
	ck_assert_uint_eq(q->height, 50);
	ck_assert_int_eq(px(q, 150, 25), 1);
	page_free(q);
	/* 98 -> 196 doubles; 204 -> 200 only relabels. */
	p->yres = 98;
	q = convert_resolution(p, 200, 196);
	ck_assert_uint_eq(q->height, 200);
	ck_assert_uint_eq(q->width, 1692);
	ck_assert_uint_eq(q->xres, 200);
	ck_assert_int_eq(px(q, 150, 102) & px(q, 150, 103), 1);
	page_free(q);
	page_free(p);
	/* B4 onto A4: scaled to 1728, the length by the same factor. */
	p = page_alloc(2048, 2800, 204, 196);
	q = convert_width(p, 1728);
	ck_assert_uint_eq(q->width, 1728);
	ck_assert_uint_eq(q->height, 2800 * 1728 / 2048);
	page_free(q);
	page_free(p);
	/* 400x400 -> 204x196 and a long page split at the A4 length. */
	doc_init(&d);
	doc_add(&d, page_alloc(3456, 4400, 400, 400));
	doc_add(&d, page_alloc(1728, 6000, 204, 196));
	t.yres = 196;
	ck_assert_int_eq(convert_doc(&d, &t, err, sizeof(err)), 0);
	ck_assert_uint_eq(d.n, 4);
	ck_assert_uint_eq(d.pages[0]->width, 1728);
	ck_assert_uint_eq(d.pages[0]->height, 2156);
	ck_assert_uint_eq(d.pages[1]->height, codec_paper_rows("A4", 196));
	ck_assert_uint_eq(d.pages[1]->height + d.pages[2]->height + d.pages[3]->height, 6000);
	doc_free(&d);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("codec_choose");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_choose);
	tcase_add_test(tc, test_convert);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
