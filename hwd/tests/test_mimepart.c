/*
 * test_mimepart.c - unit tests for hwd/mimepart.c: single-part and nested multipart
 * messages, folded headers, parameters, missing closing boundary, part limits, base64
 * and quoted-printable decoding.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "mail/mimepart.h"

typedef struct seen {
	char types[512];
	char bodies[1024];
	int n, stop_at;
} seen;

static int collect(const mime_part *p, void *ud)
{
	seen *s = ud;

	snprintf(s->types + strlen(s->types), sizeof s->types - strlen(s->types), "%s%s",
		 s->n ? "," : "", p->type);
	snprintf(s->bodies + strlen(s->bodies), sizeof s->bodies - strlen(s->bodies), "[%.*s]",
		 (int) p->body_len, p->body);
	s->n++;
	return s->stop_at && s->n == s->stop_at ? 7 : 0;
}

static const char *nested =
	"From: a@b\r\nSubject: test\r\nMIME-Version: 1.0\r\n"
	"Content-Type: multipart/mixed;\r\n\tboundary=\"=_outer\"\r\n\r\n"
	"preamble\r\n"
	"--=_outer\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nhello\r\n"
	"--=_outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n"
	"--inner\r\nContent-Type: TEXT/HTML\r\n\r\n<p>x</p>\r\n"
	"--inner\r\nContent-Type: image/tiff; name=\"a.tif\"\r\n"
	"Content-Transfer-Encoding: BASE64\r\n\r\nSUkqAA==\r\n"
	"--inner--\r\n"
	"--=_outer\r\nContent-Type: application/pdf\r\n"
	"Content-Disposition: attachment; filename=doc.pdf\r\n\r\n%PDF\r\n"
	"--=_outer--\r\nepilogue\r\n";

START_TEST(test_nested)
{
	seen s = { .n = 0 };

	ck_assert_int_eq(mime_walk(nested, strlen(nested), collect, &s), 0);
	ck_assert_str_eq(s.types, "text/plain,text/html,image/tiff,application/pdf");
	ck_assert_str_eq(s.bodies, "[hello][<p>x</p>][SUkqAA==][%PDF]");
}
END_TEST

static int find_tiff(const mime_part *p, void *ud)
{
	buf *out = ud;

	if (strcmp(p->type, "image/tiff"))
		return 0;
	ck_assert_str_eq(p->encoding, "base64");
	ck_assert_str_eq(p->filename, "a.tif");
	ck_assert_int_eq(mime_decode(p, out), 0);
	return 1;
}

START_TEST(test_decode_base64)
{
	buf b;

	buf_init(&b, 1024);
	ck_assert_int_eq(mime_walk(nested, strlen(nested), find_tiff, &b), 1);
	ck_assert_uint_eq(b.len, 4);
	ck_assert(memcmp(b.data, "II*\0", 4) == 0);
	buf_free(&b);
}
END_TEST

START_TEST(test_single_and_stop)
{
	const char *m = "Subject: x\nContent-Transfer-Encoding: quoted-printable\n\nA=3Db=\nc\n";
	seen s = { .n = 0 };
	mime_part p;
	buf b;

	ck_assert_int_eq(mime_walk(m, strlen(m), collect, &s), 0);
	ck_assert_str_eq(s.types, "text/plain");
	memset(&p, 0, sizeof p);
	snprintf(p.encoding, sizeof p.encoding, "quoted-printable");
	p.body = "A=3Db=\nc";
	p.body_len = strlen(p.body);
	buf_init(&b, 100);
	ck_assert_int_eq(mime_decode(&p, &b), 0);
	ck_assert_str_eq(buf_str(&b), "A=bc");
	buf_free(&b);
	memset(&s, 0, sizeof s);
	s.stop_at = 2;
	ck_assert_int_eq(mime_walk(nested, strlen(nested), collect, &s), 7);
	ck_assert_int_eq(s.n, 2);
}
END_TEST

START_TEST(test_unterminated_and_headers)
{
	const char *m = "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nbody\r\n--b\r\n"
			"Content-Type: image/tiff\r\n\r\nTIFF";
	seen s = { .n = 0 };
	char v[64];

	ck_assert_int_eq(mime_walk(m, strlen(m), collect, &s), 0);
	ck_assert_str_eq(s.types, "text/plain,image/tiff");
	ck_assert_str_eq(s.bodies, "[body][TIFF]");
	ck_assert_int_eq(mime_header(nested, strlen(nested), "content-type", v, sizeof v), 0);
	ck_assert_str_eq(v, "multipart/mixed; boundary=\"=_outer\"");
	ck_assert_int_eq(mime_param(v, "boundary", v, sizeof v), 0);
	ck_assert_str_eq(v, "=_outer");
	ck_assert_int_eq(mime_header(nested, 40, "X-None", v, sizeof v), -1);
}
END_TEST

START_TEST(test_limits)
{
	/* 70 empty parts: the walk stops at MIME_MAX_PARTS. */
	char m[4096] = "Content-Type: multipart/mixed; boundary=q\n\n";
	seen s = { .n = 0 };

	for (int i = 0; i < 70; i++)
		snprintf(m + strlen(m), sizeof m - strlen(m), "--q\n\nx\n");
	snprintf(m + strlen(m), sizeof m - strlen(m), "--q--\n");
	ck_assert_int_eq(mime_walk(m, strlen(m), collect, &s), 0);
	ck_assert_int_eq(s.n, MIME_MAX_PARTS - 1);
	/* Nesting beyond MIME_MAX_DEPTH is a leaf, not a recursion. */
	const char *deep = "Content-Type: multipart/mixed; boundary=a\n\n--a\n"
			   "Content-Type: multipart/mixed; boundary=a\n\n--a\n"
			   "Content-Type: multipart/mixed; boundary=a\n\n--a--\n";
	memset(&s, 0, sizeof s);
	ck_assert_int_eq(mime_walk(deep, strlen(deep), collect, &s), 0);
	ck_assert_int_le(s.n, 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mimepart");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_nested);
	tcase_add_test(tc, test_decode_base64);
	tcase_add_test(tc, test_single_and_stop);
	tcase_add_test(tc, test_unterminated_and_headers);
	tcase_add_test(tc, test_limits);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
