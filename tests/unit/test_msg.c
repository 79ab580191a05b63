/*
 * test_msg.c - unit tests for lib/util/msg.c: the Postfix line form in the log file,
 * one line per call, escaping of control characters, truncation of long lines,
 * stderr before msg_open(), msg_fatal()'s exit status, errno preservation.
 * Each test runs in its own process (Check's fork mode), so msg state is fresh.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/msg.h"

static char tmpdir[256];
static char logpath[300];

static void setup(void)
{
	str_copy(tmpdir, sizeof(tmpdir), "/tmp/test_msg.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(logpath, sizeof(logpath), "%s/maillog", tmpdir);
}

static void teardown(void)
{
	unlink(logpath);
	rmdir(tmpdir);
}

static void slurp(const char *path, buf *b)
{
	char tmp[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	ck_assert_int_ge(fd, 0);
	buf_init(b, 0);
	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		buf_append(b, tmp, (size_t)n);
	close(fd);
}

static int count_lines(const buf *b)
{
	int n = 0;
	size_t i;

	for (i = 0; i < b->len; i++)
		n += b->data[i] == '\n';
	return n;
}

static int matches(const char *re, const char *s)
{
	regex_t r;
	int rc;

	ck_assert_int_eq(regcomp(&r, re, REG_EXTENDED | REG_NEWLINE), 0);
	rc = regexec(&r, s, 0, NULL, 0) == 0;
	regfree(&r);
	return rc;
}

START_TEST(test_file_form)
{
	buf b;
	struct stat st;
	char re[256];

	msg_open("smtpd", MSG_TO_FILE, logpath, "mail");
	msg_info("3F2A8C1D0E: to=<%s>, status=sent", "a@b");
	msg_warn("disk %d%% full", 95);
	msg_error("bad thing");
	slurp(logpath, &b);
	ck_assert_int_eq(count_lines(&b), 3);
	snprintf(re, sizeof(re),
		 "^[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [^ ]+ faxpost/smtpd\\[%ld\\]: "
		 "3F2A8C1D0E: to=<a@b>, status=sent$", (long)getpid());
	ck_assert_msg(matches(re, buf_str(&b)), "got: %s", buf_str(&b));
	ck_assert(matches("faxpost/smtpd\\[[0-9]+\\]: warning: disk 95% full$", buf_str(&b)));
	ck_assert(matches("faxpost/smtpd\\[[0-9]+\\]: error: bad thing$", buf_str(&b)));
	ck_assert_int_eq(stat(logpath, &st), 0);
	{
		mode_t um = umask(0);

		umask(um);
		ck_assert_int_eq(st.st_mode & 0777, 0640 & ~um);
	}
	buf_free(&b);
}
END_TEST

START_TEST(test_escape)
{
	buf b;

	msg_open("smtpd", MSG_TO_FILE, logpath, NULL);
	msg_info("client said: %s", "HELO x\r\nNov 22 11:46:27 host faxpost/smtpd[1]: forged\t\x01\x7f end");
	msg_info("utf8 \xc3\xa9 and broken \xc3\n lead");
	slurp(logpath, &b);
	ck_assert_int_eq(count_lines(&b), 2);
	ck_assert_msg(strstr(buf_str(&b), "HELO x\\r\\nNov 22 11:46:27 host faxpost/smtpd[1]: forged\\t\\x01\\x7f end\n"),
		      "got: %s", buf_str(&b));
	ck_assert_msg(strstr(buf_str(&b), "utf8 \xc3\xa9 and broken \xc3\\n lead\n"), "got: %s", buf_str(&b));
	buf_free(&b);
}
END_TEST

START_TEST(test_truncate)
{
	buf b;
	char *big = malloc(10000);
	size_t i;

	for (i = 0; i < 9999; i++)
		big[i] = (i % 3 == 0) ? '\n' : 'x';
	big[9999] = 0;
	msg_open("qmgr", MSG_TO_FILE, logpath, NULL);
	msg_info("%s", big);
	msg_info("after");
	/* a long run of two-byte UTF-8 characters is cut at a character boundary */
	for (i = 0; i + 1 < 9999; i += 2) {
		big[i] = (char)0xc3;
		big[i + 1] = (char)0xa9;
	}
	big[i] = 0;
	msg_info("%s", big);
	free(big);
	slurp(logpath, &b);
	ck_assert_int_eq(count_lines(&b), 3);
	{
		char *nl = strchr(b.data, '\n');
		size_t len1 = (size_t)(nl - b.data) + 1;
		char *l3 = strrchr(b.data, '\n');

		ck_assert_uint_le(len1, 2048);
		ck_assert_uint_ge(len1, 1900);
		ck_assert_int_eq(memcmp(nl - 3, "...", 3), 0);
		ck_assert(strstr(nl, "faxpost/qmgr[") && strstr(nl, "]: after\n"));
		/* third line: the char before "..." completes a UTF-8 pair */
		*l3 = 0;
		l3 = strrchr(b.data, '\n') + 1;
		ck_assert_uint_le(strlen(l3) + 1, 2048);
		ck_assert_int_eq(memcmp(l3 + strlen(l3) - 5, "\xc3\xa9...", 5), 0);
	}
	buf_free(&b);
}
END_TEST

/* Before msg_open() lines go to stderr in the short form. */
START_TEST(test_stderr_before_open)
{
	buf b;
	int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	dup2(fd, 2);
	close(fd);
	msg_warn("early %s", "bird");
	slurp(logpath, &b);
	ck_assert_msg(matches("^faxpost/[^:]+: warning: early bird$", buf_str(&b)), "got: %s", buf_str(&b));
	buf_free(&b);
}
END_TEST

START_TEST(test_fatal_exits_1)
{
	msg_open("local", MSG_TO_FILE, logpath, NULL);
	msg_fatal("cannot go on: %s", "reason");
}
END_TEST

START_TEST(test_fatal_logged)
{
	pid_t pid = fork();
	int st;
	buf b;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		msg_open("local", MSG_TO_FILE, logpath, NULL);
		msg_fatal("cannot go on: %s", "reason");
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1);
	slurp(logpath, &b);
	ck_assert(matches("faxpost/local\\[[0-9]+\\]: fatal: cannot go on: reason$", buf_str(&b)));
	buf_free(&b);
}
END_TEST

START_TEST(test_errno_and_m)
{
	buf b;

	msg_open("smtp", MSG_TO_FILE, logpath, NULL);
	errno = ENOENT;
	msg_warn("open x: %m");
	ck_assert_int_eq(errno, ENOENT);
	slurp(logpath, &b);
	ck_assert_msg(strstr(buf_str(&b), "warning: open x: No such file or directory\n"), "got %s", buf_str(&b));
	buf_free(&b);
}
END_TEST

/* Two processes appending at once never interleave within a line. */
START_TEST(test_concurrent_append)
{
	buf b;
	pid_t pid[2];
	int i, j, st;
	char fill[500];

	memset(fill, 'z', sizeof(fill) - 1);
	fill[sizeof(fill) - 1] = 0;
	for (i = 0; i < 2; i++) {
		pid[i] = fork();
		ck_assert_int_ge(pid[i], 0);
		if (pid[i] == 0) {
			msg_open(i ? "b" : "a", MSG_TO_FILE, logpath, NULL);
			for (j = 0; j < 300; j++)
				msg_info("%d %s end", j, fill);
			_exit(0);
		}
	}
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(waitpid(pid[i], &st, 0), pid[i]);
	slurp(logpath, &b);
	ck_assert_int_eq(count_lines(&b), 600);
	{
		char *p = b.data, *nl;

		while ((nl = strchr(p, '\n')) != NULL) {
			ck_assert_int_eq(memcmp(nl - 4, " end", 4), 0);
			ck_assert_ptr_nonnull(memmem(p, (size_t)(nl - p), "faxpost/", 8));
			p = nl + 1;
		}
	}
	buf_free(&b);
}
END_TEST

/* File and syslog together: the file still gets its line (syslog may have no
 * listener here; it must not disturb anything). msg_reopen() after a rename. */
START_TEST(test_syslog_and_reopen)
{
	char moved[320];
	buf b;

	msg_open("pop", MSG_TO_FILE | MSG_TO_SYSLOG, logpath, "mail");
	msg_warn("both %d", 1);
	snprintf(moved, sizeof(moved), "%s.1", logpath);
	ck_assert_int_eq(rename(logpath, moved), 0);
	msg_reopen();
	msg_info("after rotate");
	slurp(moved, &b);
	ck_assert_msg(matches("faxpost/pop\\[[0-9]+\\]: warning: both 1$", buf_str(&b)), "%s", buf_str(&b));
	ck_assert(!strstr(buf_str(&b), "after rotate"));
	buf_free(&b);
	slurp(logpath, &b);
	ck_assert(matches("faxpost/pop\\[[0-9]+\\]: after rotate$", buf_str(&b)));
	buf_free(&b);
	unlink(moved);
}
END_TEST

START_TEST(test_xalloc)
{
	char *s = xstrdup("abc");
	char *t = xstrndup("abcdef", 4);
	int *z = xcalloc(4, sizeof(int));

	ck_assert_str_eq(s, "abc");
	ck_assert_str_eq(t, "abcd");
	ck_assert_int_eq(z[3], 0);
	s = xrealloc(s, 100);
	ck_assert_str_eq(s, "abc");
	free(s);
	free(t);
	free(z);
	free(xmalloc(0));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("msg");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_file_form);
	tcase_add_test(tc, test_escape);
	tcase_add_test(tc, test_truncate);
	tcase_add_test(tc, test_stderr_before_open);
	tcase_add_exit_test(tc, test_fatal_exits_1, 1);
	tcase_add_test(tc, test_fatal_logged);
	tcase_add_test(tc, test_errno_and_m);
	tcase_add_test(tc, test_concurrent_append);
	tcase_add_test(tc, test_syslog_and_reopen);
	tcase_add_test(tc, test_xalloc);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
