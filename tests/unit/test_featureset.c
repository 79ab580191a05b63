/*
 * test_featureset.c - RFC 2533 feature-set expressions: grammar cases from RFC 2533, the
 * RFC 2879 capability examples, the RFC 2533 sect. 7.1 and RFC 4141 sect. 9.2 matching
 * examples, and hostile inputs (nesting, size, DNF blow-up, bad lexemes).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/featureset.h"

static const char *S_RECEIVER =
	"(& (image-file-structure=TIFF-minimal) (MRC-mode=0) (color=Binary) (image-coding=MH)\n"
	"   (| (& (dpi=204) (dpi-xyratio=[204/98,204/196]) )\n"
	"      (& (dpi=200) (dpi-xyratio=[200/100,1]) ) )\n"
	"   (size-x<=2150/254) (paper-size=A4) (ua-media=stationery) )";

static const char *HIGH_END =
	"(& (image-file-structure=TIFF) (MRC-mode=0) (color=Binary)\n"
	"   (| (& (dpi=204) (dpi-xyratio=[204/98,204/196]) )\n"
	"      (& (dpi=200) (dpi-xyratio=[200/100,1]) )\n"
	"      (& (dpi=300) (dpi-xyratio=1) ) )\n"
	"   (| (image-coding=[MH,MR,MMR])\n"
	"      (& (image-coding=JBIG) (image-coding-constraint=JBIG-T85) (JBIG-stripe-size=128) ) )\n"
	"   (size-x<=2150/254) (paper-size=[letter,A4,B4]) (ua-media=stationery) )";

static fs_expr *P(const char *s)
{
	char err[200];
	fs_expr *e = fs_parse(s, strlen(s), err, sizeof(err));

	ck_assert_msg(e != NULL, "parse failed: %s: %s", s, err);
	return e;
}

static int parse_fails(const char *s, size_t len, const char *want)
{
	char err[200] = "";
	fs_expr *e = fs_parse(s, len, err, sizeof(err));

	if (e) {
		fs_free(e);
		return 0;
	}
	ck_assert_msg(err[0] != 0, "no reason for %s", s);
	if (want)
		ck_assert_msg(strstr(err, want) != NULL, "reason '%s' lacks '%s'", err, want);
	return 1;
}

static char *F(const fs_expr *e)
{
	buf b;
	char *s;

	buf_init(&b, 0);
	ck_assert_int_eq(fs_format(e, &b), 0);
	s = strdup(buf_str(&b));
	buf_free(&b);
	return s;
}

static void assert_canon(const char *in, const char *want)
{
	fs_expr *e = P(in);
	char *s = F(e);

	ck_assert_str_eq(s, want);
	fs_free(e);
	free(s);
}

static int matches(const char *caps, const char *doc)
{
	fs_expr *c = P(caps), *d = P(doc);
	int r = fs_match(c, d);

	fs_free(c);
	fs_free(d);
	return r;
}

static char *intersect(const char *a, const char *b, int *empty)
{
	fs_expr *x = P(a), *y = P(b), *r = fs_intersect(x, y, empty);
	char *s = NULL;

	ck_assert_ptr_nonnull(r);
	if (!*empty)
		s = F(r);
	fs_free(x);
	fs_free(y);
	fs_free(r);
	return s;
}

START_TEST(test_grammar)
{
	assert_canon("(a=1)", "(a=1)");
	assert_canon("( a = 1 )", "(a=1)");
	assert_canon("(&(a=1)(b<=2)(c>=-3))", "(& (a=1) (b<=2) (c>=-3))");
	assert_canon("(| (a=tok) (b=\"1:1:1\") (c=true))", "(| (a=tok) (b=\"1:1:1\") (c=TRUE))");
	assert_canon("(! (a=1))", "(! (a=1))");
	assert_canon("(dpi-xyratio=[204/98,204/196])", "(dpi-xyratio=[102/49,51/49])");
	assert_canon("(width=[3,4,6..17/2])", "(width=[3,4,6..17/2])");
	assert_canon("(x=+4/2)", "(x=2)");
	assert_canon("(dpi=300 dpi)", "(dpi=300dpi)");
	assert_canon("(& (a=1) (b=2));q=0.5", "(& (a=1) (b=2));q=0.5");
	assert_canon("(& (a=1));q=1.000", "(& (a=1))");
	assert_canon("(& (a=1));q=0.75;foo=bar", "(& (a=1));q=0.75");
	assert_canon("(u.http://example.com/tag=1)", "(u.http://example.com/tag=1)");
	/* Named predicates (RFC 2533 6.1) are expanded at parse time. */
	assert_canon("(| (dims 640 480) (dims 800 600) ) where (dims x y) :- (& (pix-x=x) (pix-y=y) ) end",
		     "(| (& (pix-x=640) (pix-y=480)) (& (pix-x=800) (pix-y=600)))");
	assert_canon("(& (VGA) (color=binary)) WHERE (VGA) :- (dims 640 480) (dims w h) :- (& (pix-x=w) (pix-y<=h)) END",
		     "(& (& (pix-x=640) (pix-y<=480)) (color=binary))");
	/* Continuation-line whitespace (CONNEG replies are folded). */
	assert_canon("(&\r\n\t(a=1)\n (b=2) )", "(& (a=1) (b=2))");
}
END_TEST

START_TEST(test_grammar_errors)
{
	ck_assert(parse_fails("", 0, "expected '('"));
	ck_assert(parse_fails("a=1", 3, NULL));
	ck_assert(parse_fails("(a=1", 4, "expected ')'"));
	ck_assert(parse_fails("(a=1))", 6, "trailing"));
	ck_assert(parse_fails("(a==1)", 6, NULL));
	ck_assert(parse_fails("(a<1)", 5, NULL));
	ck_assert(parse_fails("(a=3/+2)", 8, NULL));
	ck_assert(parse_fails("(a=15/-10)", 10, NULL));
	ck_assert(parse_fails("(a=1/0)", 7, "zero denominator"));
	ck_assert(parse_fails("(a=1.5)", 7, NULL));
	ck_assert(parse_fails("(a=\"x)", 6, "unterminated"));
	ck_assert(parse_fails("(a=\"x\"y\")", 9, NULL));
	ck_assert(parse_fails("(a=[])", 6, NULL));
	ck_assert(parse_fails("(a=[1,])", 8, NULL));
	ck_assert(parse_fails("(a=[1..])", 9, NULL));
	ck_assert(parse_fails("(&)", 3, NULL));
	ck_assert(parse_fails("(! (a=1) (b=2))", 15, NULL));
	ck_assert(parse_fails("(a=1);q=2", 9, "q value"));
	ck_assert(parse_fails("(a=1);q=0.1234", 14, "q value"));
	ck_assert(parse_fails("(a 1)", 5, "unknown named predicate"));
	ck_assert(parse_fails("(p) where (p) :- (p) end", 24, "nested too deeply"));
	ck_assert(parse_fails("(p 1) where (p x y) :- (a=x) end", 32, "number of predicate parameters"));
	ck_assert(parse_fails("(p 1) where (p x) :- (a=x)", 26, "end"));
	ck_assert(parse_fails("(p 1) where (p x) (a=x) end", 27, ":-"));
	ck_assert(parse_fails("(a=1234567890123456789)", 23, "too long"));
	ck_assert(parse_fails("(a=1\0)", 6, NULL));
	ck_assert(parse_fails("(a=\"\x01\")", 7, "bad character"));
	/* RFC 2879 sect. 4.2 as published has an extra ')': keep the parser strict. */
	ck_assert(parse_fails("(& (image-coding=MH) (size-x<=2150/254) (paper-size=A4)) (ua-media=stationery) )",
			      strlen("(& (image-coding=MH) (size-x<=2150/254) (paper-size=A4)) (ua-media=stationery) )"),
			      "trailing"));
}
END_TEST

START_TEST(test_limits)
{
	char *s = malloc(FS_MAX_LEN + 100);
	size_t n = 0;
	int empty;
	fs_expr *e, *r;
	buf b;

	/* FS_MAX_DEPTH levels nest; one more fails. */
	for (int i = 0; i < FS_MAX_DEPTH - 1; i++)
		n += (size_t)snprintf(s + n, 8, "(!");
	n += (size_t)snprintf(s + n, 8, "(a=1)");
	for (int i = 0; i < FS_MAX_DEPTH - 1; i++)
		s[n++] = ')';
	e = fs_parse(s, n, NULL, 0);
	ck_assert_ptr_nonnull(e);
	fs_free(e);
	n = 0;
	for (int i = 0; i < FS_MAX_DEPTH; i++)
		n += (size_t)snprintf(s + n, 8, "(!");
	n += (size_t)snprintf(s + n, 8, "(a=1)");
	for (int i = 0; i < FS_MAX_DEPTH; i++)
		s[n++] = ')';
	ck_assert(parse_fails(s, n, "nested too deeply"));
	/* Longer than FS_MAX_LEN. */
	memset(s, ' ', FS_MAX_LEN + 10);
	memcpy(s, "(a=1)", 5);
	ck_assert(parse_fails(s, FS_MAX_LEN + 10, "longer"));
	/* A DNF blow-up (2^40 conjunctions) is refused as undecided, not computed. */
	n = 0;
	n += (size_t)snprintf(s + n, 8, "(& ");
	for (int i = 0; i < 40; i++)
		n += (size_t)snprintf(s + n, 40, "(| (t%d=1) (t%d=2)) ", i, i);
	s[n++] = ')';
	e = fs_parse(s, n, NULL, 0);
	ck_assert_ptr_nonnull(e);
	r = fs_intersect(e, e, &empty);
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(empty, 0);
	buf_init(&b, 0);
	ck_assert_int_eq(fs_format(r, &b), 0);
	ck_assert(strncmp(buf_str(&b), "(& (& (| (t0=1)", 15) == 0);
	buf_free(&b);
	fs_free(r);
	fs_free(e);
	/* Too many nodes: a flat list of 5000 items. */
	n = 0;
	n += (size_t)snprintf(s + n, 8, "(& ");
	for (int i = 0; i < 3000 && n < FS_MAX_LEN - 10; i++)
		n += (size_t)snprintf(s + n, 8, "(a=1)");
	s[n++] = ')';
	ck_assert(parse_fails(s, n, "too large"));
	free(s);
}
END_TEST

START_TEST(test_rfc2879_examples)
{
	fs_expr *s = P(S_RECEIVER), *h = P(HIGH_END), *again;
	char *t1, *t2;

	/* The canonical text parses back to the same text. */
	t1 = F(h);
	again = P(t1);
	t2 = F(again);
	ck_assert_str_eq(t1, t2);
	fs_free(again);
	free(t1);
	free(t2);

	ck_assert_int_eq(fs_allows(s, "image-coding", "MH"), 1);
	ck_assert_int_eq(fs_allows(s, "image-coding", "MMR"), 0);
	ck_assert_int_eq(fs_allows(s, "image-coding", "mh"), 1);
	ck_assert_int_eq(fs_allows(s, "paper-size", "B4"), 0);
	ck_assert_int_eq(fs_allows(s, "dpi", "204"), 1);
	ck_assert_int_eq(fs_allows(s, "dpi", "300"), 0);
	ck_assert_int_eq(fs_allows(s, "dpi-xyratio", "204/196"), 1);
	ck_assert_int_eq(fs_allows(s, "dpi-xyratio", "204/391"), 0);
	/* 1728 pels at 204 dpi is 215.15 mm, just over the example's 2150/254 in (215 mm):
	 * codec/choose.c describes a T.4 page by its nominal 215 mm scan width. */
	ck_assert_int_eq(fs_allows(s, "size-x", "2150/254"), 1);
	ck_assert_int_eq(fs_allows(s, "size-x", "1728/204"), 0);
	ck_assert_int_eq(fs_allows(s, "size-x", "2432/204"), 0);
	ck_assert_int_eq(fs_allows(s, "unknown-tag", "x"), 1);	/* open world */
	ck_assert_int_eq(fs_allows(h, "image-coding", "MMR"), 1);
	ck_assert_int_eq(fs_allows(h, "image-coding", "JBIG"), 1);
	ck_assert_int_eq(fs_allows(h, "image-coding", "JPEG"), 0);
	ck_assert_int_eq(fs_allows(h, "paper-size", "B4"), 1);
	ck_assert_int_eq(fs_allows(h, "paper-size", "A3"), 0);
	fs_free(s);
	fs_free(h);

	ck_assert_int_eq(matches(S_RECEIVER,
		"(& (image-file-structure=TIFF-minimal) (MRC-mode=0) (color=Binary) (image-coding=MH)"
		" (dpi=204) (dpi-xyratio=204/196) (size-x=2150/254) (paper-size=A4) (ua-media=stationery))"), 1);
	ck_assert_int_eq(matches(S_RECEIVER,
		"(& (image-file-structure=TIFF-minimal) (MRC-mode=0) (color=Binary) (image-coding=MMR)"
		" (dpi=204) (dpi-xyratio=204/196) (size-x=1728/204) (paper-size=A4) (ua-media=stationery))"), 0);
	ck_assert_int_eq(matches(S_RECEIVER,
		"(& (image-coding=MH) (dpi=200) (dpi-xyratio=1) (paper-size=a4))"), 1);
	ck_assert_int_eq(matches(S_RECEIVER,
		"(& (image-coding=MH) (dpi=200) (dpi-xyratio=204/196) (paper-size=a4))"), 0);
	/* JBIG needs its constraint and 128-line stripes at the high-end receiver. */
	ck_assert_int_eq(matches(HIGH_END,
		"(& (image-file-structure=TIFF) (color=Binary) (image-coding=JBIG) (image-coding-constraint=JBIG-T85)"
		" (JBIG-stripe-size=128) (dpi=300) (dpi-xyratio=1) (paper-size=letter) (MRC-mode=0))"), 1);
	ck_assert_int_eq(matches(HIGH_END,
		"(& (image-file-structure=TIFF) (color=Binary) (image-coding=JBIG) (image-coding-constraint=JBIG-T85)"
		" (JBIG-stripe-size=4096) (dpi=300) (dpi-xyratio=1) (paper-size=letter) (MRC-mode=0))"), 0);
}
END_TEST

START_TEST(test_rfc2533_7_1)
{
	int empty;
	char *s = intersect("(& (dpi=[200,300]) (grey=2) (color=0) (image-coding=[MH,MR]) )",
		"(| (& (dpi=300) (grey=2) (color=0) (image-coding=MR))"
		"   (& (dpi=200) (grey=2) (color=0) (image-coding=[MH,MMR]))"
		"   (& (dpi=300) (grey<=256) (color<=256) (image-coding=JPEG)) )", &empty);

	ck_assert_int_eq(empty, 0);
	ck_assert_str_eq(s, "(| (& (color=0) (dpi=200) (grey=2) (image-coding=MH))"
			    " (& (color=0) (dpi=300) (grey=2) (image-coding=MR)))");
	free(s);
}
END_TEST

START_TEST(test_rfc4141_9_2)
{
	const char *conneg =
		"(&(image-file-structure=TIFF-minimal) (MRC-mode=0) (color=Binary)"
		" (|(&(dpi=204) (dpi-xyratio=[204/98,204/196]) ) (&(dpi=200) (dpi-xyratio=[200/100,1]) ) )"
		" (image-coding=[MH,MR,MMR]) (size-x<=2150/254) (paper-size=[letter,A4]) (ua-media=stationery) )";
	const char *doc = "(& (image-coding=JBIG) (dpi=400) (dpi-xyratio=1) (paper-size=letter))";
	const char *conv = "(& (image-coding=[MH,MR,MMR]) (| (& (dpi=204) (dpi-xyratio=[204/98,204/196]))"
			   " (& (dpi=200) (dpi-xyratio=[200/100,1]))) (paper-size=[letter,A4]))";
	fs_expr *c = P(conneg), *t = P(conv), *r;
	int empty;

	ck_assert_int_eq(matches(conneg, doc), 0);
	r = fs_intersect(c, t, &empty);
	ck_assert_int_eq(empty, 0);
	ck_assert_int_eq(fs_allows(r, "paper-size", "letter"), 1);
	ck_assert_int_eq(fs_allows(r, "image-coding", "MMR"), 1);
	ck_assert_int_eq(fs_allows(r, "image-coding", "JBIG"), 0);
	ck_assert_int_eq(fs_allows(r, "dpi", "400"), 0);
	fs_free(r);
	fs_free(c);
	fs_free(t);
}
END_TEST

START_TEST(test_intersection_rules)
{
	int empty;
	char *s;
	fs_expr *e;
	buf b;

	s = intersect("(a=1)", "(a=2)", &empty);
	ck_assert_int_eq(empty, 1);
	s = intersect("(a=x)", "(a=X)", &empty);
	ck_assert_int_eq(empty, 0);
	ck_assert_str_eq(s, "(a=x)");
	free(s);
	s = intersect("(& (dpi>=200) (dpi<=300))", "(dpi=400)", &empty);
	ck_assert_int_eq(empty, 1);
	s = intersect("(& (dpi>=200) (dpi<=300))", "(! (dpi<=250))", &empty);
	ck_assert_int_eq(empty, 0);
	ck_assert_str_eq(s, "(& (! (dpi<=250)) (dpi<=300))");
	free(s);
	s = intersect("(& (dpi>=200) (dpi<=300))", "(! (dpi=200))", &empty);
	ck_assert_str_eq(s, "(& (dpi>=200) (dpi<=300) (! (dpi=200)))");
	free(s);
	s = intersect("(& (dpi>=200) (dpi<=200))", "(! (dpi=200))", &empty);
	ck_assert_int_eq(empty, 1);
	s = intersect("(dpi<=300)", "(dpi>=300)", &empty);
	ck_assert_str_eq(s, "(dpi=300)");
	free(s);
	s = intersect("(! (dpi>=300))", "(dpi>=300)", &empty);
	ck_assert_int_eq(empty, 1);
	/* A token is never equal to (nor ordered against) a number. */
	s = intersect("(x=MH)", "(x<=5)", &empty);
	ck_assert_int_eq(empty, 1);
	s = intersect("(x=MH)", "(! (x<=5))", &empty);
	ck_assert_str_eq(s, "(x=MH)");
	free(s);
	s = intersect("(x=[MH,MR])", "(! (x=MH))", &empty);
	ck_assert_str_eq(s, "(x=MR)");
	free(s);
	s = intersect("(flag=TRUE)", "(flag=false)", &empty);
	ck_assert_int_eq(empty, 1);
	/* A unit designator makes a different feature (RFC 2533 sect. 6.2). */
	s = intersect("(res=200)", "(res=300dpi)", &empty);
	ck_assert_int_eq(empty, 0);
	ck_assert_str_eq(s, "(& (res=200) (res=300dpi))");
	free(s);
	/* Rationals: 204/98 is 102/49; ranges. */
	s = intersect("(r=204/98)", "(r=[102/49,2])", &empty);
	ck_assert_str_eq(s, "(r=102/49)");
	free(s);
	s = intersect("(w=[3,4,6..17/2])", "(w>=5)", &empty);
	ck_assert_str_eq(s, "(& (w>=6) (w<=17/2))");
	free(s);
	s = intersect("(! (w=[3..5]))", "(w>=0)", &empty);
	ck_assert_str_eq(s, "(| (& (w>=0) (! (w>=3))) (! (w<=5)))");
	free(s);
	/* Duplicated conjunctions collapse. */
	s = intersect("(| (a=1) (a=1) (b=2))", "(c=3)", &empty);
	ck_assert_str_eq(s, "(| (& (a=1) (c=3)) (& (b=2) (c=3)))");
	free(s);
	/* The empty set: fs_format has nothing to write, fs_match/fs_allows say no. */
	{
		fs_expr *x = P("(a=1)"), *y = P("(a=2)");
		e = fs_intersect(x, y, &empty);
		ck_assert_int_eq(empty, 1);
		buf_init(&b, 0);
		ck_assert_int_eq(fs_format(e, &b), -1);
		ck_assert_uint_eq(b.len, 0);
		buf_free(&b);
		ck_assert_int_eq(fs_allows(e, "a", "1"), 0);
		ck_assert_int_eq(fs_match(e, x), 0);
		fs_free(e);
		fs_free(x);
		fs_free(y);
	}
}
END_TEST

START_TEST(test_match)
{
	ck_assert_int_eq(matches("(! (dpi=200))", "(dpi=300)"), 1);
	ck_assert_int_eq(matches("(! (dpi=200))", "(dpi=200)"), 0);
	ck_assert_int_eq(matches("(dpi<=300)", "(dpi=300)"), 1);
	ck_assert_int_eq(matches("(dpi<=300)", "(dpi=301)"), 0);
	ck_assert_int_eq(matches("(paper-size=[A4,letter])", "(paper-size=LETTER)"), 1);
	ck_assert_int_eq(matches("(w=[6..17/2])", "(w=7)"), 1);
	ck_assert_int_eq(matches("(w=[6..17/2])", "(w=9)"), 0);
	/* A feature the document does not state: open world. */
	ck_assert_int_eq(matches("(& (a=1) (b=2))", "(a=1)"), 1);
	ck_assert_int_eq(matches("(& (a=1) (b=2))", "(a=2)"), 0);
	ck_assert_int_eq(matches("(& (b=1) (b=2))", "(a=2)"), 0);
	/* A non-conjunctive document goes through intersection. */
	ck_assert_int_eq(matches("(a=1)", "(| (a=2) (a=1))"), 1);
	ck_assert_int_eq(matches("(a=1)", "(| (a=2) (a=3))"), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("featureset");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_grammar);
	tcase_add_test(tc, test_grammar_errors);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_rfc2879_examples);
	tcase_add_test(tc, test_rfc2533_7_1);
	tcase_add_test(tc, test_rfc4141_9_2);
	tcase_add_test(tc, test_intersection_rules);
	tcase_add_test(tc, test_match);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
