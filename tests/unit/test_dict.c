/*
 * test_dict.c - unit tests for lib/mail/dict.c: compile from postmap text, lookups,
 * case folding (and DICT_CASE), continuation lines and comments, duplicates, reopen
 * after a recompile, missing tables, dict_walk, and "file:line: why" for bad lines.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mail/dict.h"
#include "mail/dict_compile.h"

static char dir[64], path[128], err[512];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_dict.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/access", dir);
	err[0] = 0;
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

static void write_src(const char *text)
{
	FILE *fp = fopen(path, "w");

	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
}

START_TEST(compile_lookup)
{
	dict *d;

	write_src("# demo access table\n"
		  "reject.example    REJECT demo rejection\n"
		  "\n"
		  "   # indented comment\n"
		  "192.0.2.7\tREJECT listed client  \r\n"
		  "Friend.Example    OK\n");
	ck_assert_msg(dict_compile(path, err, sizeof(err)) == 0, "%s", err);
	d = dict_open(path, DICT_REQUIRED, err, sizeof(err));
	ck_assert_msg(d != NULL, "%s", err);
	ck_assert_str_eq(dict_lookup(d, "reject.example"), "REJECT demo rejection");
	ck_assert_str_eq(dict_lookup(d, "192.0.2.7"), "REJECT listed client");
	ck_assert_str_eq(dict_lookup(d, "friend.example"), "OK");
	ck_assert_str_eq(dict_lookup(d, "FRIEND.example"), "OK");	/* folded */
	ck_assert_ptr_null(dict_lookup(d, "nosuch"));
	ck_assert_ptr_null(dict_lookup(d, "# demo"));
	ck_assert_ptr_null(dict_lookup(d, ""));
	dict_close(d);
}
END_TEST

START_TEST(case_sensitive)
{
	dict *d;

	write_src("Fax-Admin alice\nfax-admin bob\n");
	ck_assert_int_eq(dict_compile_flags(path, DICT_CASE, err, sizeof(err)), 0);
	d = dict_open(path, DICT_CASE, err, sizeof(err));
	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(dict_lookup(d, "Fax-Admin"), "alice");
	ck_assert_str_eq(dict_lookup(d, "fax-admin"), "bob");
	ck_assert_ptr_null(dict_lookup(d, "FAX-ADMIN"));
	dict_close(d);
	/* folded: the two keys collide, the first wins (with a warning) */
	ck_assert_int_eq(dict_compile(path, err, sizeof(err)), 0);
	d = dict_open(path, 0, err, sizeof(err));
	ck_assert_str_eq(dict_lookup(d, "FAX-ADMIN"), "alice");
	dict_close(d);
}
END_TEST

START_TEST(continuation)
{
	dict *d;

	write_src("fax-admin alice,\n"
		  "   bob@example.com,\n"
		  "# a comment inside\n"
		  "\tcarol\n"
		  "key2\n"
		  "  value on the next line\n"
		  "last x\n");
	ck_assert_msg(dict_compile(path, err, sizeof(err)) == 0, "%s", err);
	d = dict_open(path, 0, err, sizeof(err));
	ck_assert_str_eq(dict_lookup(d, "fax-admin"), "alice,   bob@example.com,\tcarol");
	ck_assert_str_eq(dict_lookup(d, "key2"), "value on the next line");
	ck_assert_str_eq(dict_lookup(d, "last"), "x");
	dict_close(d);
}
END_TEST

START_TEST(bad_lines)
{
	char dbpath[160];

	write_src("# comment\n\ngood value\nnovalue\nother x\n");
	ck_assert_int_eq(dict_compile(path, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "access:4: ") != NULL, "%s", err);
	/* nothing half-built is left behind, no old table replaced */
	snprintf(dbpath, sizeof(dbpath), "%s.db", path);
	ck_assert_int_eq(access(dbpath, F_OK), -1);
	write_src("  leading continuation\nk v\n");
	ck_assert_int_eq(dict_compile(path, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "access:1: ") != NULL, "%s", err);
	write_src("k v\nk2 \n");		/* only blanks after the key */
	ck_assert_int_eq(dict_compile(path, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "access:2: ") != NULL, "%s", err);
	snprintf(dbpath, sizeof(dbpath), "%s/nosuch", dir);
	ck_assert_int_eq(dict_compile(dbpath, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "nosuch") != NULL, "%s", err);
}
END_TEST

START_TEST(reopen_after_recompile)
{
	dict *d;

	write_src("k old\n");
	ck_assert_int_eq(dict_compile(path, err, sizeof(err)), 0);
	d = dict_open(path, 0, err, sizeof(err));
	ck_assert_str_eq(dict_lookup(d, "k"), "old");
	write_src("k new\nadded yes\n");
	ck_assert_int_eq(dict_compile(path, err, sizeof(err)), 0);
	/* at most one check a second: within 2.5 s the new table must show */
	const char *v = NULL;
	for (int i = 0; i < 25; i++) {
		v = dict_lookup(d, "k");
		if (v && strcmp(v, "new") == 0)
			break;
		usleep(100000);
	}
	ck_assert_str_eq(v, "new");
	ck_assert_str_eq(dict_lookup(d, "added"), "yes");
	/* a failed recompile leaves the table in use alone */
	write_src("k\n");
	ck_assert_int_eq(dict_compile(path, err, sizeof(err)), -1);
	sleep(1);
	ck_assert_str_eq(dict_lookup(d, "k"), "new");
	dict_close(d);
}
END_TEST

START_TEST(missing_table)
{
	dict *d;

	ck_assert_ptr_null(dict_open(path, DICT_REQUIRED, err, sizeof(err)));
	ck_assert_msg(strstr(err, "access.db") != NULL, "%s", err);
	d = dict_open(path, 0, err, sizeof(err));
	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_null(dict_lookup(d, "k"));
	/* it appears later: picked up */
	write_src("k v\n");
	ck_assert_int_eq(dict_compile(path, err, sizeof(err)), 0);
	const char *v = NULL;
	for (int i = 0; i < 25 && v == NULL; i++) {
		v = dict_lookup(d, "k");
		if (v == NULL)
			usleep(100000);
	}
	ck_assert_str_eq(v, "v");
	dict_close(d);
}
END_TEST

static int count_cb(const char *key, const char *value, void *ctx)
{
	int *n = ctx;

	ck_assert(strlen(key) > 0 && strlen(value) > 0);
	if (strcmp(key, "k7") == 0)
		ck_assert_str_eq(value, "value 7");
	return ++*n >= 1000000;
}

START_TEST(walk)
{
	FILE *fp = fopen(path, "w");
	int n = 0;
	dict *d;

	for (int i = 0; i < 500; i++)
		fprintf(fp, "k%d value %d\n", i, i);
	fclose(fp);
	ck_assert_int_eq(dict_compile(path, err, sizeof(err)), 0);
	d = dict_open(path, 0, err, sizeof(err));
	ck_assert_int_eq(dict_walk(d, count_cb, &n), 0);
	ck_assert_int_eq(n, 500);
	ck_assert_str_eq(dict_lookup(d, "k499"), "value 499");
	dict_close(d);
	/* no temporary files left in the folder */
	DIR *dp = opendir(dir);
	struct dirent *de;
	int files = 0;
	while ((de = readdir(dp)) != NULL)
		files += de->d_name[0] != '.';
	closedir(dp);
	ck_assert_int_eq(files, 2);
}
END_TEST

static Suite *dict_suite(void)
{
	Suite *s = suite_create("dict");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, compile_lookup);
	tcase_add_test(tc, case_sensitive);
	tcase_add_test(tc, continuation);
	tcase_add_test(tc, bad_lines);
	tcase_add_test(tc, reopen_after_recompile);
	tcase_add_test(tc, missing_table);
	tcase_add_test(tc, walk);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(dict_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
