/*
 * test_dialrules.c - unit tests for hwd/dialrules.c: national, local, international,
 * explicit rules (longest first), dial prefix, North American plan, bad input.
 */
#include <check.h>
#include <string.h>

#include "../dialrules.h"

static dialrules r;
static char out[64], err[128];

static void berlin(void)
{
	dialrules_init(&r);
	ck_assert_int_eq(dialrules_set(&r, "", "49", "30", "00", "0", 1, err, sizeof err), 0);
}

static const char *dial(const char *number)
{
	if (dialrules_apply(&r, number, out, sizeof out, err, sizeof err) < 0)
		return NULL;
	return out;
}

START_TEST(test_local_national_international)
{
	berlin();
	ck_assert_str_eq(dial("+49 30 1234567"), "1234567");
	ck_assert_str_eq(dial("+49 (89) 123-456"), "089123456");
	ck_assert_str_eq(dial("+1 555 123 4567"), "0015551234567");
	ck_assert_str_eq(dial("+44.20.7946.0000"), "00442079460000");
	ck_assert_str_eq(dial("1234567"), "1234567");		/* local form: as given */
	ck_assert_str_eq(dial("030 1234567"), "0301234567");
}
END_TEST

START_TEST(test_area_kept_when_configured)
{
	berlin();
	r.local_without_area = 0;
	ck_assert_str_eq(dial("+49301234567"), "0301234567");
}
END_TEST

START_TEST(test_rules_longest_first)
{
	berlin();
	ck_assert_int_eq(dialrules_add(&r, "+49=0", err, sizeof err), 0);
	ck_assert_int_eq(dialrules_add(&r, "+4933=033", err, sizeof err), 0);
	ck_assert_int_eq(dialrules_add(&r, "+43=01043", err, sizeof err), 0);
	ck_assert_int_eq(dialrules_add(&r, "+49331=", err, sizeof err), 0);	/* neighbour: local */
	ck_assert_str_eq(dial("+49 331 777"), "777");
	ck_assert_str_eq(dial("+49 332 777"), "0332777");
	ck_assert_str_eq(dial("+49 30 777"), "030777");		/* +49 rule beats the area logic */
	ck_assert_str_eq(dial("+43 1 5555"), "0104315555");
}
END_TEST

START_TEST(test_dial_prefix)
{
	dialrules_init(&r);
	ck_assert_int_eq(dialrules_set(&r, "0,", "49", "30", "00", "0", 1, err, sizeof err), 0);
	ck_assert_str_eq(dial("+49301234"), "0,1234");
	ck_assert_str_eq(dial("+3312345"), "0,003312345");
}
END_TEST

START_TEST(test_north_america)
{
	dialrules_init(&r);
	ck_assert_int_eq(dialrules_set(&r, "", "1", "212", "011", "1", 1, err, sizeof err), 0);
	ck_assert_str_eq(dial("+1 212 555 0100"), "5550100");
	ck_assert_str_eq(dial("+1 415 555 0100"), "14155550100");
	ck_assert_str_eq(dial("+49 30 1234"), "01149301234");
}
END_TEST

START_TEST(test_bad_input)
{
	berlin();
	ck_assert_ptr_null(dial("+49 30 CALL-ME"));
	ck_assert_ptr_null(dial("+"));
	ck_assert_ptr_null(dial(""));
	ck_assert_ptr_null(dial("+49*30"));
	ck_assert_ptr_null(dial("+1234567890123456789012345678901234567890123"));
	ck_assert_int_eq(dialrules_add(&r, "49=0", err, sizeof err), -1);
	ck_assert_int_eq(dialrules_add(&r, "+49", err, sizeof err), -1);
	ck_assert_int_eq(dialrules_add(&r, "+4x=0", err, sizeof err), -1);
	ck_assert_int_eq(dialrules_add(&r, "+=0", err, sizeof err), -1);
	ck_assert_int_eq(dialrules_set(&r, "", "4a", "", "00", "0", 1, err, sizeof err), -1);
	/* a rule that swallows a whole number would dial nothing */
	ck_assert_int_eq(dialrules_add(&r, "+49301234=", err, sizeof err), 0);
	ck_assert_ptr_null(dial("+49301234"));
	ck_assert_ptr_nonnull(strstr(err, "dials as nothing"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("dialrules");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_local_national_international);
	tcase_add_test(tc, test_area_kept_when_configured);
	tcase_add_test(tc, test_rules_longest_first);
	tcase_add_test(tc, test_dial_prefix);
	tcase_add_test(tc, test_north_america);
	tcase_add_test(tc, test_bad_input);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
