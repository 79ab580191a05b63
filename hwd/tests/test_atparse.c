/*
 * test_atparse.c - unit tests for hwd/atparse.c: line splitting (CR, LF, CRLF, split
 * reads, overlong lines), result codes (verbose and numeric), caller-ID lines.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "../atparse.h"

/* Feed a whole string; collect the lines into one "|"-joined string. */
static const char *lines_of(at_reader *r, const char *in)
{
	static char joined[1024];
	size_t n = strlen(in), off = 0;

	joined[0] = 0;
	while (off < n) {
		int got;

		off += at_reader_feed(r, in + off, n - off, &got);
		if (got) {
			size_t used = strlen(joined);

			snprintf(joined + used, sizeof joined - used, "%s|", r->line);
		}
	}
	return joined;
}

START_TEST(test_split)
{
	at_reader r;

	at_reader_init(&r);
	ck_assert_str_eq(lines_of(&r, "\r\nOK\r\n"), "OK|");
	ck_assert_str_eq(lines_of(&r, "ATI3\r\r\nwww.soft-switch.org\r\n\r\nOK\r\n"),
			 "ATI3|www.soft-switch.org|OK|");
	ck_assert_str_eq(lines_of(&r, "\r\nNO CAR"), "");
	ck_assert_str_eq(lines_of(&r, "RIER\r\n"), "NO CARRIER|");
	ck_assert_str_eq(lines_of(&r, "RING\nRING\n"), "RING|RING|");
}
END_TEST

START_TEST(test_overlong)
{
	at_reader r;
	char big[AT_LINE_MAX * 2 + 8];

	at_reader_init(&r);
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = 0;
	big[sizeof big - 2] = '\n';
	const char *got = lines_of(&r, big);
	ck_assert_uint_eq(strlen(got), AT_LINE_MAX + 1);	/* cut line + '|' */
	ck_assert_str_eq(lines_of(&r, "OK\r\n"), "OK|");
}
END_TEST

START_TEST(test_classify)
{
	ck_assert_int_eq(at_classify("OK"), AT_OK);
	ck_assert_int_eq(at_classify("0"), AT_OK);
	ck_assert_int_eq(at_classify("CONNECT"), AT_CONNECT);
	ck_assert_int_eq(at_classify("CONNECT 14400"), AT_CONNECT);
	ck_assert_int_eq(at_classify("CONNECTED"), AT_INFO);
	ck_assert_int_eq(at_classify("RING"), AT_RING);
	ck_assert_int_eq(at_classify("2"), AT_RING);
	ck_assert_int_eq(at_classify("NO CARRIER"), AT_NO_CARRIER);
	ck_assert_int_eq(at_classify("3"), AT_NO_CARRIER);
	ck_assert_int_eq(at_classify("ERROR"), AT_ERROR);
	ck_assert_int_eq(at_classify("BUSY"), AT_BUSY);
	ck_assert_int_eq(at_classify("7"), AT_BUSY);
	ck_assert_int_eq(at_classify("NO ANSWER"), AT_NO_ANSWER);
	ck_assert_int_eq(at_classify("NO DIALTONE"), AT_NO_DIALTONE);
	ck_assert_int_eq(at_classify("NO DIAL TONE"), AT_NO_DIALTONE);
	ck_assert_int_eq(at_classify("+FCERROR"), AT_FCERROR);
	ck_assert_int_eq(at_classify("+FRH:3"), AT_FRH3);
	ck_assert_int_eq(at_classify("  OK  "), AT_OK);
	ck_assert_int_eq(at_classify(""), AT_NONE);
	ck_assert_int_eq(at_classify("24,48,72,73,74,96"), AT_INFO);
	ck_assert_int_eq(at_classify("NMBR=5551001"), AT_CALLINFO);
	ck_assert_int_eq(at_classify("NMBR = 5551001"), AT_CALLINFO);
	ck_assert_int_eq(at_classify("NDID=123"), AT_CALLINFO);
	ck_assert_int_eq(at_classify("NMBRX=1"), AT_INFO);
	ck_assert(at_is_final(AT_OK) && at_is_final(AT_BUSY) && at_is_final(AT_CONNECT));
	ck_assert(!at_is_final(AT_RING) && !at_is_final(AT_CALLINFO) && !at_is_final(AT_INFO));
	ck_assert_str_eq(at_result_name(AT_NO_CARRIER), "NO CARRIER");
}
END_TEST

START_TEST(test_callinfo)
{
	char k[8], v[32];

	ck_assert_int_eq(at_callinfo("NMBR = 5551001 ", k, sizeof k, v, sizeof v), 0);
	ck_assert_str_eq(k, "NMBR");
	ck_assert_str_eq(v, "5551001");
	ck_assert_int_eq(at_callinfo("NAME=Alice Smith", k, sizeof k, v, sizeof v), 0);
	ck_assert_str_eq(k, "NAME");
	ck_assert_str_eq(v, "Alice Smith");
	ck_assert_int_eq(at_callinfo("NDID=", k, sizeof k, v, sizeof v), 0);
	ck_assert_str_eq(v, "");
	ck_assert_int_eq(at_callinfo("NAME=0123456789012345678901234567890123456789", k, sizeof k, v, sizeof v), 0);
	ck_assert_uint_eq(strlen(v), sizeof v - 1);
	ck_assert_int_eq(at_callinfo("RING", k, sizeof k, v, sizeof v), -1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("atparse");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_split);
	tcase_add_test(tc, test_overlong);
	tcase_add_test(tc, test_classify);
	tcase_add_test(tc, test_callinfo);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
