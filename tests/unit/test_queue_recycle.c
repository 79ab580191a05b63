/*
 * test_queue_recycle.c - unit tests for lib/mail/queue_recycle.c, the free/ pool:
 * a removed message's inode is reused, old bytes never leak, linked files are left
 * alone, aborted writers feed the pool, the pool is bounded, a queue without free/
 * works, crash leftovers are never handed out, many processes share the pool.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mail/queue.h"
#include "mail/queue_recycle.h"
#include "queue_testutil.h"

static int count_dir(const char *state)
{
	char path[512];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/%s", qdir, state);
	ck_assert_ptr_nonnull(d = opendir(path));
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static ino_t ino_of(const char *state, const char *id)
{
	char path[512];
	struct stat st;

	queue_path(path, sizeof(path), qdir, state, id);
	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_ino;
}

/* A removed message leaves an empty file in free/; the next message takes that
 * inode and reads back as itself. */
START_TEST(recycle_reuses_inode)
{
	char a[QUEUE_ID_LEN + 1], b[QUEUE_ID_LEN + 1], path[512], name[256];
	char *big = make_content(200000);
	struct dirent *de;
	struct stat st;
	ino_t ino;
	DIR *d;

	write_msg(big, 200000, 2, a);
	ino = ino_of(Q_INCOMING, a);
	ck_assert_int_eq(queue_remove(qdir, a, Q_INCOMING), 0);
	ck_assert_int_eq(count_dir(Q_INCOMING), 0);
	ck_assert_int_eq(count_dir(Q_FREE), 1);
	snprintf(path, sizeof(path), "%s/%s", qdir, Q_FREE);
	d = opendir(path);
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			snprintf(name, sizeof(name), "%s", de->d_name);
	closedir(d);
	snprintf(path, sizeof(path), "%s/%s/%s", qdir, Q_FREE, name);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert(st.st_ino == ino);
	ck_assert(st.st_size == 0);	/* emptied before it went to free/ */
	check_roundtrip(1000);
	ck_assert_int_eq(count_dir(Q_FREE), 0);
	write_msg("y\r\n", 3, 1, b);	/* pool empty again: a new file */
	ck_assert_int_eq(count_dir(Q_INCOMING), 2);
	free(big);
}
END_TEST

/* A file in free/ that still holds bytes (put there by hand, world-readable) is
 * emptied and made private before a message goes into it. */
START_TEST(recycle_never_leaks_old_bytes)
{
	char a[QUEUE_ID_LEN + 1], path[512];
	struct stat st, fst;
	unsigned char *p;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s/00042", qdir, Q_FREE);
	spew(path, (const unsigned char *)"SECRET-SECRET-SECRET", 20);
	ck_assert_int_eq(chmod(path, 0644), 0);
	ck_assert_int_eq(stat(path, &fst), 0);
	write_msg("x\r\n", 3, 1, a);
	ck_assert(ino_of(Q_INCOMING, a) == fst.st_ino);
	queue_path(path, sizeof(path), qdir, Q_INCOMING, a);
	p = slurp(path, &len);
	ck_assert_ptr_null(memmem(p, len, "SECRET", 6));
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	free(p);
	qfile *qf = open_in(Q_INCOMING, a, O_RDONLY);
	ck_assert_msg(qf != NULL, "%s", err);
	qf_close(qf);
}
END_TEST

/* A file with a second name is not emptied (the other name would lose its bytes):
 * it is unlinked as before. An aborted writer's file goes to the pool. */
START_TEST(recycle_skips_linked_and_takes_aborted)
{
	char a[QUEUE_ID_LEN + 1], path[512], keep[512];
	struct stat st;
	qenvelope env;
	qwriter *w;

	write_msg("hello\r\n", 7, 1, a);
	queue_path(path, sizeof(path), qdir, Q_INCOMING, a);
	snprintf(keep, sizeof(keep), "%s/keep", qdir);
	ck_assert_int_eq(link(path, keep), 0);
	ck_assert_int_eq(stat(keep, &st), 0);
	ck_assert_int_eq(queue_remove(qdir, a, Q_INCOMING), 0);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(count_dir(Q_FREE), 0);
	struct stat st2;
	ck_assert_int_eq(stat(keep, &st2), 0);
	ck_assert(st2.st_size == st.st_size);
	/* not there: ENOENT, as before */
	ck_assert_int_eq(queue_remove(qdir, a, Q_INCOMING), -1);
	ck_assert_int_eq(errno, ENOENT);

	w = qw_create(qdir, err, sizeof(err));
	ck_assert_ptr_nonnull(w);
	make_env(&env, 1);
	ck_assert_int_eq(qw_envelope(w, &env), 0);
	ck_assert_int_eq(qw_content(w, "abc\r\n", 5), 0);
	qw_free(w);
	qenv_free(&env);
	ck_assert_int_eq(count_dir(Q_TMP), 0);
	ck_assert_int_eq(count_dir(Q_FREE), 1);
}
END_TEST

/* With every slot taken the pool does not grow: removal unlinks. Without a free/
 * folder (a queue made by an older release) both sides work as before. */
START_TEST(recycle_pool_bounded)
{
	char a[QUEUE_ID_LEN + 1], path[512];
	int fd;

	for (int i = 0; i < QUEUE_FREE_SLOTS; i++) {
		snprintf(path, sizeof(path), "%s/%s/%05d", qdir, Q_FREE, i);
		ck_assert_int_ge(fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600), 0);
		close(fd);
	}
	snprintf(path, sizeof(path), "%s/%s/junk", qdir, Q_FREE);
	spew(path, (const unsigned char *)"x", 1);	/* not a slot name: never taken */
	write_msg("x\r\n", 3, 1, a);			/* takes one slot */
	ck_assert_int_eq(count_dir(Q_FREE), QUEUE_FREE_SLOTS);
	/* refill the slot it took, then remove: no slot left */
	for (int i = 0; i < QUEUE_FREE_SLOTS; i++) {
		snprintf(path, sizeof(path), "%s/%s/%05d", qdir, Q_FREE, i);
		if ((fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600)) >= 0)
			close(fd);
	}
	ck_assert_int_eq(queue_remove(qdir, a, Q_INCOMING), 0);
	ck_assert_int_eq(count_dir(Q_INCOMING), 0);
	ck_assert_int_eq(count_dir(Q_FREE), QUEUE_FREE_SLOTS + 1);

	rm_rf(path);	/* junk */
	snprintf(path, sizeof(path), "%s/%s", qdir, Q_FREE);
	rm_rf(path);
	write_msg("y\r\n", 3, 1, a);
	ck_assert_int_eq(queue_remove(qdir, a, Q_INCOMING), 0);
	ck_assert_int_eq(count_dir(Q_INCOMING), 0);
	write_msg("z\r\n", 3, 1, a);
	ck_assert_int_eq(count_dir(Q_INCOMING), 1);
}
END_TEST

/* A crash between "taken away" and "in a slot" leaves a private .r name in free/:
 * never handed to a producer, removed by recovery once old enough. */
START_TEST(recycle_recover_drops_held)
{
	char a[QUEUE_ID_LEN + 1], held[512], slot[512];
	unsigned char *p;
	size_t len;

	snprintf(held, sizeof(held), "%s/%s/%s4242.7", qdir, Q_FREE, QUEUE_FREE_HOLD_PREFIX);
	spew(held, (const unsigned char *)"OLD MESSAGE BYTES", 17);
	snprintf(slot, sizeof(slot), "%s/%s/00007", qdir, Q_FREE);
	spew(slot, (const unsigned char *)"", 0);
	write_msg("x\r\n", 3, 1, a);		/* takes the slot, not the held file */
	ck_assert_int_eq(access(slot, F_OK), -1);
	ck_assert_int_eq(access(held, F_OK), 0);
	queue_recover(qdir, 3600);		/* too young: kept */
	ck_assert_int_eq(access(held, F_OK), 0);
	queue_recover(qdir, 0);
	ck_assert_int_eq(access(held, F_OK), -1);
	queue_path(slot, sizeof(slot), qdir, Q_INCOMING, a);
	p = slurp(slot, &len);
	ck_assert_ptr_null(memmem(p, len, "OLD MESSAGE", 11));
	free(p);
}
END_TEST

/* Four processes write from one pool of 120 recycled files at once: no file is
 * given to two writers (every message reads back as what its writer wrote). */
START_TEST(recycle_concurrent_processes)
{
	enum { KIDS = 4, EACH = 60 };
	char id[QUEUE_ID_LEN + 1], path[512];
	struct dirent *de;
	DIR *d;
	int n = 0;

	static char ids[120][QUEUE_ID_LEN + 1];

	for (int i = 0; i < 120; i++)
		write_msg("x\r\n", 3, 1, ids[i]);
	for (int i = 0; i < 120; i++)
		ck_assert_int_eq(queue_remove(qdir, ids[i], Q_INCOMING), 0);
	ck_assert_int_eq(count_dir(Q_FREE), 120);
	for (int k = 0; k < KIDS; k++) {
		pid_t pid = fork();

		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			for (int i = 0; i < EACH; i++) {
				char body[64];
				int len = snprintf(body, sizeof(body), "kid %d msg %d\r\n", k, i);

				write_msg(body, (size_t)len, 1, id);
			}
			_exit(0);
		}
	}
	for (int k = 0; k < KIDS; k++) {
		int status;

		ck_assert_int_gt(wait(&status), 0);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	snprintf(path, sizeof(path), "%s/%s", qdir, Q_INCOMING);
	d = opendir(path);
	int seen[KIDS][EACH] = { { 0 } };
	while ((de = readdir(d)) != NULL) {
		char body[64];
		int k, i;

		if (de->d_name[0] == '.')
			continue;
		qfile *qf = open_in(Q_INCOMING, de->d_name, O_RDONLY);
		ck_assert_msg(qf != NULL, "%s: %s", de->d_name, err);
		ssize_t got = qf_read_content(qf, 0, body, sizeof(body) - 1);
		ck_assert_int_gt(got, 0);
		body[got] = 0;
		ck_assert_int_eq(sscanf(body, "kid %d msg %d", &k, &i), 2);
		ck_assert(k >= 0 && k < KIDS && i >= 0 && i < EACH);
		ck_assert_int_eq(seen[k][i]++, 0);
		qf_close(qf);
		n++;
	}
	closedir(d);
	ck_assert_int_eq(n, KIDS * EACH);
	ck_assert_int_eq(count_dir(Q_TMP), 0);
	ck_assert_int_eq(count_dir(Q_FREE), 0);
}
END_TEST

static Suite *recycle_suite(void)
{
	Suite *s = suite_create("queue_recycle");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, recycle_reuses_inode);
	tcase_add_test(tc, recycle_never_leaks_old_bytes);
	tcase_add_test(tc, recycle_skips_linked_and_takes_aborted);
	tcase_add_test(tc, recycle_pool_bounded);
	tcase_add_test(tc, recycle_recover_drops_held);
	tcase_add_test(tc, recycle_concurrent_processes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(recycle_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
