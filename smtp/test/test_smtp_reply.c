/*
 * test_smtp_reply.c - unit tests of the SMTP client's reply parser, EHLO reader and
 * CONNEG extraction (both reply styles), including hostile replies (security.md 2.9).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../body.h"
#include "../convert.h"
#include "../reply.h"

/* Feed "a\nb\n..." line by line; returns the last feed result. */
static int feed_all(smtp_reply *r, const char *text)
{
	int rc = 0;
	char *copy = strdup(text), *save = NULL;
	for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		rc = smtp_reply_feed(r, l, strlen(l), 0);
		if (rc != 0)
			break;
	}
	free(copy);
	return rc;
}

START_TEST(t_simple)
{
	smtp_reply r;
	smtp_reply_init(&r, 2048, 1000);
	ck_assert_int_eq(feed_all(&r, "250 2.1.0 Ok"), 1);
	ck_assert_int_eq(r.code, 250);
	ck_assert_str_eq(r.enh, "2.1.0");
	ck_assert_int_eq(feed_all(&r, "550-5.1.1 no\n550 5.1.1 such user"), 1);
	ck_assert_int_eq(r.code, 550);
	ck_assert_str_eq(r.enh, "5.1.1");
	ck_assert_int_eq(r.nlines, 2);
	buf b;
	buf_init(&b, 0);
	smtp_reply_summary(&r, &b);
	ck_assert_str_eq(buf_str(&b), "550 5.1.1 no");
	buf_free(&b);
	smtp_reply_free(&r);
}
END_TEST

START_TEST(t_hostile_codes)
{
	const char *bad[] = { "2", "25", "2500 x", "2a0 x", "099 x", "600 x", "250x" };
	smtp_reply r;
	smtp_reply_init(&r, 2048, 1000);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		smtp_reply_reset(&r);
		ck_assert_msg(smtp_reply_feed(&r, bad[i], strlen(bad[i]), 0) == -1, "%s", bad[i]);
	}
	/* "250-" with nothing after it, then "250": fine, empty text */
	smtp_reply_reset(&r);
	ck_assert_int_eq(feed_all(&r, "250-\n250"), 1);
	ck_assert_int_eq(r.code, 250);
	/* code change mid-reply */
	smtp_reply_reset(&r);
	ck_assert_int_eq(feed_all(&r, "250-a\n550 b"), -1);
	/* enhanced code inconsistent with the class is ignored */
	smtp_reply_reset(&r);
	ck_assert_int_eq(feed_all(&r, "250 5.0.0 odd"), 1);
	ck_assert_str_eq(r.enh, "");
	smtp_reply_free(&r);
}
END_TEST

START_TEST(t_endless)
{
	smtp_reply r;
	int rc = 0, i;
	smtp_reply_init(&r, 2048, 1000);
	for (i = 0; i < 1000000 && rc == 0; i++)
		rc = smtp_reply_feed(&r, "250-x", 5, 0);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(i, 1001);
	ck_assert(r.lines.len <= SMTP_REPLY_TEXT_MAX);
	smtp_reply_free(&r);
}
END_TEST

START_TEST(t_long_and_nul)
{
	smtp_reply r;
	size_t n = 1024 * 1024;
	char *big = malloc(n);
	memset(big, 'a', n);
	memcpy(big, "250 ", 4);
	smtp_reply_init(&r, 2048, 1000);
	ck_assert_int_eq(smtp_reply_feed(&r, big, n, 1), 1);
	ck_assert(r.lines.len <= 2049);
	free(big);
	const char nul[] = "250 a\0b\x01" "c";
	ck_assert_int_eq(smtp_reply_feed(&r, nul, sizeof nul - 1, 0), 1);
	ck_assert_str_eq(buf_str(&r.lines), "a?b?c\n");
	smtp_reply_free(&r);
}
END_TEST

START_TEST(t_ehlo)
{
	smtp_reply r;
	smtp_ehlo e;
	smtp_reply_init(&r, 2048, 1000);
	feed_all(&r, "250-mx.example Hello\n250-PIPELINING\n250-SIZE 10240000\n"
		     "250-STARTTLS\n250-AUTH LOGIN PLAIN\n250-ENHANCEDSTATUSCODES\n250-DSN\n"
		     "250-CONPERM\n250 CONNEG");
	smtp_ehlo_parse(&r, &e);
	ck_assert(e.features & EHLO_PIPELINING);
	ck_assert(e.features & EHLO_SIZE);
	ck_assert_int_eq(e.size_max, 10240000);
	ck_assert(e.features & EHLO_STARTTLS);
	ck_assert(e.features & EHLO_DSN);
	ck_assert(e.features & EHLO_CONNEG);
	ck_assert(e.features & EHLO_CONPERM);
	ck_assert_int_eq(e.auth, AUTH_PLAIN | AUTH_LOGIN);
	/* the greeting line is no keyword; AUTH= old form */
	feed_all(&r, "250-PIPELINING ignored greeting\n250 AUTH=LOGIN");
	smtp_ehlo_parse(&r, &e);
	ck_assert(!(e.features & EHLO_PIPELINING));
	ck_assert_int_eq(e.auth, AUTH_LOGIN);
	smtp_reply_free(&r);
}
END_TEST

START_TEST(t_conneg_rfc4141)
{
	smtp_reply r;
	buf b;
	buf_init(&b, 0);
	smtp_reply_init(&r, 2048, 1000);
	feed_all(&r, "250-<June@some.example.com> recipient ok\n"
		     "250-CONNEG (&(image-file-structure=TIFF-minimal)\n"
		     "250-CONNEG   (color=Binary)\n"
		     "250-CONNEG   (image-coding=[MH,MR,MMR])\n"
		     "250 CONNEG   (paper-size=[letter,A4]) )");
	ck_assert_int_eq(smtp_reply_conneg(&r, &b), 1);
	ck_assert_str_eq(buf_str(&b), "(&(image-file-structure=TIFF-minimal)    (color=Binary)"
			 "    (image-coding=[MH,MR,MMR])    (paper-size=[letter,A4]) )");
	/* no CONNEG lines: no capabilities for this addressee */
	feed_all(&r, "250 2.1.5 Ok");
	ck_assert_int_eq(smtp_reply_conneg(&r, &b), 0);
	feed_all(&r, "250-2.1.5 Ok\n250 something else");
	ck_assert_int_eq(smtp_reply_conneg(&r, &b), 0);
	/* a failed RCPT carries no capabilities */
	feed_all(&r, "550-no\n550 CONNEG (color=Binary)");
	ck_assert_int_eq(smtp_reply_conneg(&r, &b), 0);
	buf_free(&b);
	smtp_reply_free(&r);
}
END_TEST

START_TEST(t_conneg_draft)
{
	smtp_reply r;
	buf b;
	buf_init(&b, 0);
	smtp_reply_init(&r, 2048, 1000);
	feed_all(&r, "250-<fax@ifax.example> recipient ok\n"
		     "250-(&(image-file-structure=TIFF-minimal)\n"
		     "250-  (dpi=[200,400])\n"
		     "250   (image-coding=[MH,MR]) )");
	ck_assert_int_eq(smtp_reply_conneg(&r, &b), 1);
	ck_assert_str_eq(buf_str(&b), "(&(image-file-structure=TIFF-minimal)   (dpi=[200,400])"
			 "   (image-coding=[MH,MR]) )");
	buf_free(&b);
	smtp_reply_free(&r);
}
END_TEST

static char *encode(const char *in, size_t n, size_t split)
{
	smtp_body e;
	buf out;
	smtp_body_init(&e);
	buf_init(&out, 0);
	/* in two chunks, split anywhere: state carries over */
	smtp_body_chunk(&e, in, split, &out);
	smtp_body_chunk(&e, in + split, n - split, &out);
	smtp_body_end(&e, &out);
	char *r = strdup(buf_str(&out));
	buf_free(&out);
	return r;
}

START_TEST(t_body)
{
	const char in[] = "a\r\n.b\r\n..c\nd\re\r\n.\r\nend";
	for (size_t split = 0; split <= sizeof in - 1; split++) {
		char *r = encode(in, sizeof in - 1, split);
		ck_assert_str_eq(r, "a\r\n..b\r\n...c\r\nd\r\ne\r\n..\r\nend\r\n.\r\n");
		free(r);
	}
	char *r = encode("x\r\n", 3, 1);
	ck_assert_str_eq(r, "x\r\n.\r\n");	/* no extra blank line */
	free(r);
	r = encode("", 0, 0);
	ck_assert_str_eq(r, ".\r\n");
	free(r);
}
END_TEST

START_TEST(t_body_fold)
{
	char in[2500];
	memset(in, 'x', sizeof in);
	in[0] = '.';
	char *r = encode(in, sizeof in, 1000);
	/* every output line is at most 998 octets; no bare LF anywhere */
	size_t col = 0, lines = 0;
	for (const char *p = r; *p; p++) {
		if (*p == '\n') {
			ck_assert(p > r && p[-1] == '\r');
			lines++;
			col = 0;
		} else if (*p != '\r') {
			col++;
			ck_assert(col <= SMTP_BODY_LINE_MAX);
		}
	}
	ck_assert_int_eq(lines, 4);	/* 2501 octets -> 3 folded lines, then "." */
	ck_assert(strncmp(r, "..x", 3) == 0);
	free(r);
	/* exactly 998 octets: unchanged; 999: one fold */
	memset(in, 'y', 999);
	r = encode(in, 998, 500);
	ck_assert_int_eq(strlen(r), 998 + 2 + 3);
	free(r);
	r = encode(in, 999, 998);
	ck_assert_int_eq(strlen(r), 998 + 3 + 1 + 2 + 3);
	ck_assert(strncmp(r + 998, "\r\n y\r\n.\r\n", 9) == 0);
	free(r);
}
END_TEST

static const char mp[] =
	"From: a@b\r\nContent-Type: multipart/mixed;\r\n boundary=\"XX\"\r\n\r\n"
	"preamble\r\n--XX\r\nContent-Type: text/plain\r\n\r\ncover\r\n"
	"--XX\r\nContent-Type: image/tiff\r\nContent-Transfer-Encoding: base64\r\n"
	"Content-Features: (& (image-coding=MMR) (dpi=204))\r\nContent-Convert: ANY\r\n\r\n"
	"SUkqAA==\r\n--XX--\r\n";

static void parse(smtp_conv *c, const char *text, size_t len)
{
	char *m = malloc(len + 1);
	memcpy(m, text, len);
	m[len] = 0;
	smtp_conv_parse(c, m, len);
}

START_TEST(t_conv_parse)
{
	smtp_conv c;
	parse(&c, mp, sizeof mp - 1);
	ck_assert_int_eq(c.permitted, 1);
	ck_assert_str_eq(c.convert, "ANY");
	ck_assert_str_eq(c.features, "(& (image-coding=MMR) (dpi=204))");
	ck_assert_int_eq(c.top, 0);
	ck_assert(strncmp(mp + c.part_body, "SUkqAA==", 8) == 0);
	ck_assert(strncmp(mp + c.part_end, "\r\n--XX--", 8) == 0);
	ck_assert_int_eq(smtp_conv_fits(&c, "(image-coding=[MH,MR,MMR])"), 1);
	ck_assert_int_eq(smtp_conv_fits(&c, "(image-coding=MH)"), 0);
	ck_assert_int_eq(smtp_conv_fits(&c, NULL), 1);
	smtp_conv_free(&c);
	/* Content-Convert: NONE, or absent: nothing to convert */
	const char none[] = "Content-Type: image/tiff\r\nContent-Transfer-Encoding: base64\r\n"
			    "Content-Convert: NONE\r\n\r\nSUkqAA==\r\n";
	parse(&c, none, sizeof none - 1);
	ck_assert_int_eq(c.permitted, 0);
	smtp_conv_free(&c);
	const char top[] = "Content-Type: image/tiff\r\nContent-Transfer-Encoding: base64\r\n"
			   "Content-Convert:\r\n (image-coding=MH)\r\n\r\nSUkqAA==\r\n";
	parse(&c, top, sizeof top - 1);
	ck_assert_int_eq(c.permitted, 1);
	ck_assert_int_eq(c.top, 1);
	ck_assert_str_eq(c.convert, "(image-coding=MH)");
	smtp_conv_free(&c);
}
END_TEST

START_TEST(t_conv_parse_truncated)
{
	/* every prefix of the message parses without reading out of bounds (ASan) */
	for (size_t n = 0; n <= sizeof mp - 1; n++) {
		smtp_conv c;
		parse(&c, mp, n);
		if (c.permitted)
			ck_assert(c.part_end <= n && c.part_body <= c.part_end);
		smtp_conv_free(&c);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("smtp_reply");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, t_simple);
	tcase_add_test(tc, t_hostile_codes);
	tcase_add_test(tc, t_endless);
	tcase_add_test(tc, t_long_and_nul);
	tcase_add_test(tc, t_ehlo);
	tcase_add_test(tc, t_conneg_rfc4141);
	tcase_add_test(tc, t_conneg_draft);
	tcase_add_test(tc, t_body);
	tcase_add_test(tc, t_body_fold);
	tcase_add_test(tc, t_conv_parse);
	tcase_add_test(tc, t_conv_parse_truncated);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
