/*
 * test_buf.c - unit tests for lib/util/buf.c: limits, NUL termination, printf,
 * consume/truncate, bounded string copies and overflow-checked arithmetic.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

START_TEST(test_append_and_nul)
{
	buf b;

	buf_init(&b, 0);
	ck_assert_str_eq(buf_str(&b), "");
	ck_assert_int_eq(buf_append_str(&b, "hello"), 0);
	ck_assert_int_eq(buf_append_char(&b, ' '), 0);
	ck_assert_int_eq(buf_append(&b, "world!!", 5), 0);
	ck_assert_uint_eq(b.len, 11);
	ck_assert_str_eq(buf_str(&b), "hello world");
	ck_assert_int_eq(b.data[b.len], 0);
	buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(buf_str(&b), "");
	buf_free(&b);
	ck_assert_ptr_null(b.data);
}
END_TEST

START_TEST(test_limit)
{
	buf b;

	buf_init(&b, 10);
	ck_assert_int_eq(buf_append_str(&b, "0123456789"), 0);
	ck_assert_int_eq(buf_append_char(&b, 'x'), -1);
	ck_assert_uint_eq(b.len, 10);
	ck_assert_str_eq(buf_str(&b), "0123456789");
	buf_truncate(&b, 4);
	ck_assert_int_eq(buf_append_str(&b, "abcdefg"), -1);	/* all or nothing */
	ck_assert_str_eq(buf_str(&b), "0123");
	ck_assert_int_eq(buf_printf(&b, "%s", "abcdefghij"), -1);
	ck_assert_str_eq(buf_str(&b), "0123");
	ck_assert_int_eq(buf_printf(&b, "%d-%s", 42, "ok"), 0);
	ck_assert_str_eq(buf_str(&b), "012342-ok");
	ck_assert_int_eq(buf_reserve(&b, SIZE_MAX), -1);
	buf_free(&b);
}
END_TEST

START_TEST(test_binary_and_growth)
{
	buf b;
	size_t i;

	buf_init(&b, 0);
	for (i = 0; i < 100000; i++)
		ck_assert_int_eq(buf_append_char(&b, (char)(i & 0xff)), 0);
	ck_assert_uint_eq(b.len, 100000);
	for (i = 0; i < 100000; i++)
		ck_assert_int_eq((unsigned char)b.data[i], i & 0xff);
	ck_assert_int_eq(b.data[b.len], 0);
	buf_consume(&b, 99990);
	ck_assert_uint_eq(b.len, 10);
	ck_assert_int_eq((unsigned char)b.data[0], 99990 & 0xff);
	buf_consume(&b, 50);
	ck_assert_uint_eq(b.len, 0);
	buf_free(&b);
}
END_TEST

START_TEST(test_printf_long)
{
	buf b;
	char big[5000];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	buf_init(&b, 0);
	ck_assert_int_eq(buf_printf(&b, "<%s>", big), 0);
	ck_assert_uint_eq(b.len, 5001);
	ck_assert_int_eq(b.data[0], '<');
	ck_assert_int_eq(b.data[5000], '>');
	buf_free(&b);
}
END_TEST

START_TEST(test_append_self)
{
	buf b;

	buf_init(&b, 0);
	buf_append_str(&b, "abc");
	/* appending from inside the buffer must work even when it moves */
	ck_assert_int_eq(buf_append(&b, b.data, 0), 0);
	ck_assert_str_eq(buf_str(&b), "abc");
	while (b.len < 1000)
		ck_assert_int_eq(buf_append(&b, b.data, b.len), 0);
	ck_assert_uint_eq(b.len, 1536);
	ck_assert_int_eq(memcmp(b.data + 1533, "abc", 3), 0);
	buf_free(&b);
}
END_TEST

START_TEST(test_str_copy)
{
	char d[6];

	ck_assert_int_eq(str_copy(d, sizeof(d), "hello"), 0);
	ck_assert_str_eq(d, "hello");
	ck_assert_int_eq(str_copy(d, sizeof(d), "hello!"), -1);
	ck_assert_str_eq(d, "hello");
	ck_assert_int_eq(str_ncopy(d, sizeof(d), "abcdef", 3), 0);
	ck_assert_str_eq(d, "abc");
	ck_assert_int_eq(str_ncopy(d, sizeof(d), "ab\0cd", 5), 0);
	ck_assert_str_eq(d, "ab");
	ck_assert_int_eq(str_copy(d, 0, "x"), -1);
	ck_assert_int_eq(str_copy(d, 1, "x"), -1);
	ck_assert_str_eq(d, "");
}
END_TEST

START_TEST(test_size_arith)
{
	size_t r;

	ck_assert_int_eq(size_add(1, 2, &r), 0);
	ck_assert_uint_eq(r, 3);
	ck_assert_int_eq(size_add(SIZE_MAX, 1, &r), -1);
	ck_assert_int_eq(size_add(SIZE_MAX - 1, 1, &r), 0);
	ck_assert_int_eq(size_mul(0, SIZE_MAX, &r), 0);
	ck_assert_uint_eq(r, 0);
	ck_assert_int_eq(size_mul(SIZE_MAX / 2, 3, &r), -1);
	ck_assert_int_eq(size_mul(1000, 1000, &r), 0);
	ck_assert_uint_eq(r, 1000000);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_append_and_nul);
	tcase_add_test(tc, test_limit);
	tcase_add_test(tc, test_binary_and_growth);
	tcase_add_test(tc, test_printf_long);
	tcase_add_test(tc, test_append_self);
	tcase_add_test(tc, test_str_copy);
	tcase_add_test(tc, test_size_arith);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
