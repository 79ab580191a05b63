/*
 * test_mastercf.c - unit tests for lib/mail/mastercf.c: columns and defaults,
 * continuation lines, comments, { } words, -o normalisation, duplicates, and the
 * "master.cf:LINE: why" errors. Also parses the shipped etc/master.cf.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mail/mastercf.h"

static mastercf_entry *E;
static size_t N;
static char err[512];

static int parse(const char *text)
{
	mastercf_free(E, N);
	E = NULL;
	N = 0;
	err[0] = 0;
	return mastercf_parse(text, "master.cf", 100, &E, &N, err, sizeof(err));
}

static void teardown(void)
{
	mastercf_free(E, N);
	E = NULL;
	N = 0;
}

START_TEST(test_basic)
{
	const char *cf =
		"# comment\n"
		"\n"
		"25      inet  n - n - 2 smtpd\n"
		"465     inet  n - n - 1 smtpd -o smtpd_tls_wrappermode=yes\n"
		"qmgr    unix  n - n 300 1 qmgr\n"
		"smtp    unix  - - - - - smtp\n"
		"flush   unix  n n y 1000? 0 flush -v\n";

	ck_assert_int_eq(parse(cf), 0);
	ck_assert_uint_eq(N, 5);
	ck_assert_str_eq(E[0].service, "25");
	ck_assert_str_eq(E[0].type, "inet");
	ck_assert_int_eq(E[0].private_, 0);
	ck_assert_int_eq(E[0].unpriv, 1);
	ck_assert_int_eq(E[0].chroot, 0);
	ck_assert_int_eq(E[0].maxproc, 2);
	ck_assert_int_eq(E[0].argc, 1);
	ck_assert_str_eq(E[0].argv[0], "smtpd");
	ck_assert_ptr_null(E[0].argv[1]);
	ck_assert_int_eq(E[0].line, 3);
	ck_assert_int_eq(E[1].argc, 3);
	ck_assert_str_eq(E[1].argv[1], "-o");
	ck_assert_str_eq(E[1].argv[2], "smtpd_tls_wrappermode=yes");
	ck_assert_int_eq(E[1].nopt, 1);
	ck_assert_str_eq(E[1].opts[0], "smtpd_tls_wrappermode=yes");
	ck_assert_int_eq(E[2].wakeup, 300);
	ck_assert_int_eq(E[2].private_, 0);
	ck_assert_int_eq(E[3].private_, 1);
	ck_assert_int_eq(E[3].maxproc, 100);
	ck_assert_int_eq(E[3].chroot, 0);
	ck_assert_int_eq(E[4].unpriv, 0);
	ck_assert_int_eq(E[4].chroot, 1);
	ck_assert_int_eq(E[4].wakeup, 1000);
	ck_assert_int_eq(E[4].wakeup_used_only, 1);
	ck_assert_int_eq(E[4].maxproc, 0);
	ck_assert_str_eq(E[4].argv[1], "-v");
	ck_assert_ptr_nonnull(mastercf_find(E, N, "qmgr", "unix"));
	ck_assert_ptr_null(mastercf_find(E, N, "qmgr", "inet"));
}
END_TEST

START_TEST(test_continuation_and_braces)
{
	const char *cf =
		"submission inet n - n - - smtpd\n"
		"  -o smtpd_tls_security_level=encrypt\n"
		"# a comment inside the entry\n"
		"\n"
		"  -o { smtpd_banner = $myhostname ESMTP fax }\n"
		"\t-omynetworks=127.0.0.1/32 { an arg }\n"
		"pickup unix n - n 60 1 pickup\n";

	ck_assert_int_eq(parse(cf), 0);
	ck_assert_uint_eq(N, 2);
	ck_assert_int_eq(E[0].argc, 8);
	ck_assert_int_eq(E[0].nopt, 3);
	ck_assert_str_eq(E[0].opts[0], "smtpd_tls_security_level=encrypt");
	ck_assert_str_eq(E[0].opts[1], "smtpd_banner=$myhostname ESMTP fax");
	ck_assert_str_eq(E[0].opts[2], "mynetworks=127.0.0.1/32");
	ck_assert_str_eq(E[0].argv[7], "an arg");
	ck_assert_int_eq(E[1].line, 7);
	ck_assert_int_eq(E[1].maxproc, 1);
}
END_TEST

START_TEST(test_duplicate_last_wins)
{
	ck_assert_int_eq(parse("smtp unix - - n - 5 smtp\nlocal unix - - n - 1 local\n"
			       "smtp unix - - n - 7 smtp -v\n"), 0);
	ck_assert_uint_eq(N, 2);
	ck_assert_str_eq(E[0].service, "local");
	ck_assert_int_eq(E[1].maxproc, 7);
	ck_assert_int_eq(E[1].line, 3);
}
END_TEST

static void expect_err(const char *cf, const char *want)
{
	ck_assert_int_eq(parse(cf), -1);
	ck_assert_msg(strstr(err, want) != NULL, "error '%s' lacks '%s'", err, want);
	ck_assert_ptr_null(E);
	ck_assert_uint_eq(N, 0);
}

START_TEST(test_errors)
{
	expect_err("smtp unix - - n - 5 smtp\nbad tcp - - n - 1 x\n",
		   "master.cf:2: bad type 'tcp'");
	expect_err("\n\nsmtp unix - - n - 5\n", "master.cf:3: entry has 7 fields");
	expect_err("smtp unix x - n - 5 smtp\n", "master.cf:1: bad private field 'x'");
	expect_err("smtp unix - yes n - 5 smtp\n", "master.cf:1: bad unpriv field 'yes'");
	expect_err("smtp unix - - - 5x 5 smtp\n", "master.cf:1: bad wakeup field '5x'");
	expect_err("smtp unix - - - - -1 smtp\n", "master.cf:1: bad maxproc field '-1'");
	expect_err("  -o x=y\n", "master.cf:1: continuation line without an entry");
	expect_err("smtp unix - - - - 1 smtp -o\n", "master.cf:1: -o without name=value");
	expect_err("smtp unix - - - - 1 smtp\n -o novalue\n", "master.cf:1: bad -o argument");
	expect_err("smtp unix - - - - 1 smtp -o { a = b\n", "master.cf:1: missing '}'");
	expect_err("smtp unix - - - - 1 smtp { a }b\n", "master.cf:1: syntax error after '}'");
	expect_err("smtp unix - - - - 1 /bin/sh\n", "must be a name in daemon_directory");
	expect_err("smtp unix - - - - 1 smtp -o bad-name=1\n", "bad parameter name");
}
END_TEST

START_TEST(test_load_file)
{
	char path[] = "/tmp/test_mastercf.XXXXXX";
	int fd = mkstemp(path);
	FILE *fp;

	ck_assert_int_ge(fd, 0);
	fp = fdopen(fd, "w");
	fputs("qmgr unix n - n 300 1 qmgr\nbroken\n", fp);
	fclose(fp);
	ck_assert_int_eq(mastercf_load(path, 50, &E, &N, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, ":2: entry has 1 fields"), "%s", err);
	ck_assert_msg(strncmp(err, "test_mastercf.", 14) == 0, "%s", err);
	unlink(path);
	ck_assert_int_eq(mastercf_load(path, 50, &E, &N, err, sizeof(err)), -1);
	ck_assert(strstr(err, "cannot open"));
}
END_TEST

/* The shipped master.cf must parse. */
START_TEST(test_shipped)
{
	size_t i;

	ck_assert_msg(mastercf_load("etc/master.cf", 100, &E, &N, err, sizeof(err)) == 0, "%s", err);
	ck_assert_uint_ge(N, 1);
	for (i = 0; i < N; i++) {
		ck_assert_int_ge(E[i].argc, 1);
		ck_assert_ptr_nonnull(mastercf_find(E, N, E[i].service, E[i].type));
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("mastercf");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_basic);
	tcase_add_test(tc, test_continuation_and_braces);
	tcase_add_test(tc, test_duplicate_last_wins);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_load_file);
	tcase_add_test(tc, test_shipped);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
