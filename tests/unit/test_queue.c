/*
 * test_queue.c - unit tests for lib/mail/queue*.c and trigger.c: write/read round
 * trip (small and large content), partial, truncated and corrupted files refused,
 * queue IDs unique and ordered (one process, threads, fork()ed writers), done marks,
 * recovery, group commit from threads, state moves that never overwrite, the defer
 * sidecar, the folder scanner and the qmgr trigger socket. The free/ pool of
 * recycled files is tested in test_queue_recycle.c; shared helpers in queue_testutil.c.
 */
#include <check.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mail/queue.h"
#include "mail/queue_scan.h"
#include "mail/trigger.h"

#include "queue_testutil.h"

START_TEST(roundtrip_small)
{
	check_roundtrip(1000);
}
END_TEST

START_TEST(roundtrip_empty_content)
{
	check_roundtrip(0);
}
END_TEST

START_TEST(roundtrip_large)
{
	check_roundtrip(3 * 1024 * 1024 + 17);
}
END_TEST

START_TEST(no_tmp_left_after_commit)
{
	char id[QUEUE_ID_LEN + 1], path[512];
	struct dirent *de;
	DIR *d;
	int n = 0;

	write_msg("x\r\n", 3, 1, id);
	snprintf(path, sizeof(path), "%s/tmp", qdir);
	d = opendir(path);
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	ck_assert_int_eq(n, 0);
}
END_TEST

START_TEST(abort_removes_tmp)
{
	qenvelope env;
	qwriter *w = qw_create(qdir, err, sizeof(err));
	char path[512];

	make_env(&env, 1);
	ck_assert_int_eq(qw_envelope(w, &env), 0);
	qw_free(w);		/* never committed */
	qenv_free(&env);
	snprintf(path, sizeof(path), "%s/tmp", qdir);
	DIR *d = opendir(path);
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		ck_assert_msg(de->d_name[0] == '.', "left %s", de->d_name);
	closedir(d);
}
END_TEST

START_TEST(envelope_checks)
{
	qenvelope env;
	qwriter *w = qw_create(qdir, err, sizeof(err));

	qenv_init(&env);
	env.sender = strdup("");
	ck_assert_int_eq(qw_envelope(w, &env), -1);	/* no recipients */
	ck_assert_int_eq(qw_content(w, "x", 1), -1);	/* failed writer stays failed */
	ck_assert_int_eq(qw_commit(w, err, sizeof(err)), -1);
	qw_free(w);
	qenv_free(&env);
	w = qw_create(qdir, err, sizeof(err));
	ck_assert_int_eq(qw_content(w, "x", 1), -1);	/* content before envelope */
	qw_free(w);
}
END_TEST

START_TEST(partial_rejected)
{
	char id[QUEUE_ID_LEN + 1], path[512], bad[512];
	unsigned char *p;
	size_t len;
	qfile *qf;

	write_msg("Subject: x\r\n\r\nbody\r\n", 20, 2, id);
	queue_path(path, sizeof(path), qdir, Q_INCOMING, id);
	p = slurp(path, &len);
	snprintf(bad, sizeof(bad), "%s/corrupt/partial", qdir);
	/* every proper prefix of a good file is refused */
	for (size_t cut = 0; cut < len; cut++) {
		spew(bad, p, cut);
		qf = qf_open(bad, O_RDONLY, err, sizeof(err));
		ck_assert_msg(qf == NULL, "prefix of %zu/%zu bytes accepted", cut, len);
		ck_assert(err[0] != 0);
	}
	/* the last one misses just the end record */
	spew(bad, p, len - 5);
	ck_assert_ptr_null(qf_open(bad, O_RDONLY, err, sizeof(err)));
	ck_assert_msg(strstr(err, "partial file") != NULL, "%s", err);
	/* trailing garbage after the end record */
	p = realloc(p, len + 1);
	p[len] = 'x';
	spew(bad, p, len + 1);
	ck_assert_ptr_null(qf_open(bad, O_RDONLY, err, sizeof(err)));
	free(p);
}
END_TEST

/* A large file is read in two parts (head, end record): cut it in both. */
START_TEST(partial_large_rejected)
{
	char id[QUEUE_ID_LEN + 1], path[512], bad[512];
	char *content = make_content(200000);
	unsigned char *p;
	size_t len;
	qfile *qf;
	static const size_t cuts[] = { 1, 4, 5, 6, 100, 100000, 199990 };

	write_msg(content, 200000, 1, id);
	queue_path(path, sizeof(path), qdir, Q_INCOMING, id);
	p = slurp(path, &len);
	snprintf(bad, sizeof(bad), "%s/corrupt/large", qdir);
	spew(bad, p, len);
	qf = qf_open(bad, O_RDONLY, err, sizeof(err));
	ck_assert_msg(qf != NULL, "%s", err);
	qf_close(qf);
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		spew(bad, p, len - cuts[i]);
		ck_assert_msg(qf_open(bad, O_RDONLY, err, sizeof(err)) == NULL,
			      "cut of %zu accepted", cuts[i]);
	}
	/* end record damaged in place */
	p[len - 5] = 'X';
	spew(bad, p, len);
	ck_assert_ptr_null(qf_open(bad, O_RDONLY, err, sizeof(err)));
	ck_assert_msg(strstr(err, "end record") != NULL, "%s", err);
	free(p);
	free(content);
}
END_TEST

/* Walk the records of a good file and corrupt each length field in turn. */
START_TEST(corrupt_lengths_rejected)
{
	static const uint32_t bad_lens[] = { 0, 1, 0x7fffffff, 0xffffffff };
	char id[QUEUE_ID_LEN + 1], path[512], bad[512];
	unsigned char *p, *q;
	size_t len, off = 0;
	int nrec = 0;

	write_msg("Subject: x\r\n\r\nbody\r\n", 20, 2, id);
	queue_path(path, sizeof(path), qdir, Q_INCOMING, id);
	p = slurp(path, &len);
	q = malloc(len);
	snprintf(bad, sizeof(bad), "%s/corrupt/lengths", qdir);
	while (off + 5 <= len) {
		uint32_t real = (uint32_t)p[off + 1] << 24 | (uint32_t)p[off + 2] << 16
			| (uint32_t)p[off + 3] << 8 | p[off + 4];
		for (size_t i = 0; i < sizeof(bad_lens) / sizeof(bad_lens[0]); i++) {
			uint32_t v = bad_lens[i];
			if (v == real)
				continue;
			memcpy(q, p, len);
			q[off + 1] = (unsigned char)(v >> 24);
			q[off + 2] = (unsigned char)(v >> 16);
			q[off + 3] = (unsigned char)(v >> 8);
			q[off + 4] = (unsigned char)v;
			spew(bad, q, len);
			ck_assert_msg(qf_open(bad, O_RDONLY, err, sizeof(err)) == NULL,
				      "record %d length %u accepted", nrec, v);
		}
		/* one more and one less than the truth */
		for (int d = -1; d <= 1; d += 2) {
			uint32_t v = real + (uint32_t)d;
			memcpy(q, p, len);
			q[off + 1] = (unsigned char)(v >> 24);
			q[off + 2] = (unsigned char)(v >> 16);
			q[off + 3] = (unsigned char)(v >> 8);
			q[off + 4] = (unsigned char)v;
			spew(bad, q, len);
			ck_assert_msg(qf_open(bad, O_RDONLY, err, sizeof(err)) == NULL,
				      "record %d length %u (real %u) accepted", nrec, v, real);
		}
		off += 5 + real;
		nrec++;
	}
	ck_assert_int_ge(nrec, 10);
	ck_assert_uint_eq(off, len);
	free(p);
	free(q);
}
END_TEST

/* Flip every byte of the envelope: either refused, or read back without harm. */
START_TEST(corrupt_bytes_no_crash)
{
	char id[QUEUE_ID_LEN + 1], path[512], bad[512];
	unsigned char *p, *q;
	size_t len;
	int refused = 0;

	write_msg("body\r\n", 6, 1, id);
	queue_path(path, sizeof(path), qdir, Q_INCOMING, id);
	p = slurp(path, &len);
	q = malloc(len);
	snprintf(bad, sizeof(bad), "%s/corrupt/bytes", qdir);
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			qfile *qf;
			memcpy(q, p, len);
			q[i] ^= (unsigned char)(1 << bit);
			spew(bad, q, len);
			qf = qf_open(bad, O_RDONLY, err, sizeof(err));
			if (qf == NULL)
				refused++;
			qf_close(qf);
		}
	}
	ck_assert_int_gt(refused, (int)len / 2);
	/* a zero-filled file of the right size (lost data blocks) */
	memset(q, 0, len);
	spew(bad, q, len);
	ck_assert_ptr_null(qf_open(bad, O_RDONLY, err, sizeof(err)));
	free(p);
	free(q);
}
END_TEST

START_TEST(not_a_file)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/incoming", qdir);
	ck_assert_ptr_null(qf_open(path, O_RDONLY, err, sizeof(err)));
	snprintf(path, sizeof(path), "%s/incoming/NOSUCHFILE00", qdir);
	ck_assert_ptr_null(qf_open(path, O_RDONLY, err, sizeof(err)));
	ck_assert_int_eq(errno, ENOENT);
}
END_TEST

static int cmp_id(const void *a, const void *b)
{
	return strcmp(a, b);
}

START_TEST(ids_unique_sorted)
{
	enum { N = 3000 };
	char (*ids)[QUEUE_ID_LEN + 1] = malloc(N * sizeof(*ids));

	for (int i = 0; i < N; i++) {
		qwriter *w = qw_create(qdir, err, sizeof(err));
		ck_assert_msg(w != NULL, "%s", err);
		memcpy(ids[i], qw_id(w), QUEUE_ID_LEN + 1);
		ck_assert(queue_id_valid(ids[i]));
		if (i > 0)
			ck_assert_msg(strcmp(ids[i - 1], ids[i]) < 0, "%s !< %s", ids[i - 1], ids[i]);
		qw_free(w);
	}
	free(ids);
}
END_TEST

START_TEST(id_is_time)
{
	qwriter *w = qw_create(qdir, err, sizeof(err));
	unsigned long long us = 0;
	struct timeval tv;

	for (int i = 0; i < 10; i++)
		us = us * 36 + (unsigned long long)(isdigit((unsigned char)qw_id(w)[i])
			? qw_id(w)[i] - '0' : qw_id(w)[i] - 'A' + 10);
	gettimeofday(&tv, NULL);
	unsigned long long now = (unsigned long long)tv.tv_sec * 1000000ULL
		+ (unsigned long long)tv.tv_usec;
	ck_assert_msg(us <= now + 1000000 && now - us < 10000000ULL, "stamp %llu now %llu", us, now);
	qw_free(w);
	ck_assert(!queue_id_valid("0123456789A"));
	ck_assert(!queue_id_valid("0123456789ABC"));
	ck_assert(!queue_id_valid("0123456789a0"));
	ck_assert(!queue_id_valid("../../etc/pa"));
	ck_assert(queue_id_valid("0123456789AZ"));
}
END_TEST

static unsigned long long id_stamp(const char *id)
{
	unsigned long long us = 0;

	for (int i = 0; i < 10; i++)
		us = us * 36 + (unsigned long long)(isdigit((unsigned char)id[i])
			? id[i] - '0' : id[i] - 'A' + 10);
	return us;
}

static void set_idclock(unsigned long long v)
{
	char path[512], page[4096] = { 0 };

	memcpy(page, &v, sizeof(v));
	snprintf(path, sizeof(path), "%s/tmp/.idclock", qdir);
	spew(path, (unsigned char *)page, sizeof(page));
}

/* The shared clock: IDs continue after a stamp a little ahead (clock put back an
 * hour: still increasing), but a stamp days ahead is discarded. */
START_TEST(idclock_ahead)
{
	struct timeval tv;
	unsigned long long now, ahead;
	qwriter *w;

	gettimeofday(&tv, NULL);
	now = (unsigned long long)tv.tv_sec * 1000000ULL + (unsigned long long)tv.tv_usec;
	ahead = now + 3600ULL * 1000000;
	set_idclock(ahead);
	w = qw_create(qdir, err, sizeof(err));
	ck_assert(id_stamp(qw_id(w)) == ahead + 1);
	qw_free(w);
	w = qw_create(qdir, err, sizeof(err));
	ck_assert(id_stamp(qw_id(w)) == ahead + 2);
	qw_free(w);
	set_idclock(now + 3ULL * 86400 * 1000000);
	w = qw_create(qdir, err, sizeof(err));
	ck_assert(id_stamp(qw_id(w)) < now + 10ULL * 1000000);
	qw_free(w);
}
END_TEST

/* Whole messages from several processes at once: every one is intact. */
START_TEST(concurrent_processes)
{
	enum { NPROC = 4, PER = 50 };
	char *content = make_content(5000);
	queue_scan *s;
	queue_entry e;
	int n = 0;

	for (int c = 0; c < NPROC; c++) {
		pid_t pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			for (int i = 0; i < PER; i++) {
				char id[QUEUE_ID_LEN + 1];
				write_msg(content, 5000 - (size_t)i, 2, id);
			}
			_exit(0);
		}
	}
	for (int c = 0; c < NPROC; c++) {
		int st;
		ck_assert_int_gt(wait(&st), 0);
		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	s = queue_scan_open(qdir, Q_INCOMING, QSCAN_SORT, err, sizeof(err));
	while (queue_scan_next(s, &e) == 1) {
		char buf[5000];
		qfile *qf = queue_scan_qf(s, &e, O_RDONLY, err, sizeof(err));
		ck_assert_msg(qf != NULL, "%s: %s", e.id, err);
		ck_assert(qf->content_len > 5000 - PER && qf->content_len <= 5000);
		ck_assert(qf_read_content(qf, 0, buf, sizeof(buf)) == qf->content_len);
		ck_assert(memcmp(buf, content, (size_t)qf->content_len) == 0);
		qf_close(qf);
		n++;
	}
	queue_scan_close(s);
	ck_assert_int_eq(n, NPROC * PER);
	free(content);
}
END_TEST

START_TEST(ids_across_fork)
{
	enum { NPROC = 4, PER = 500 };
	char first[QUEUE_ID_LEN + 1], last[QUEUE_ID_LEN + 1], path[512];
	char (*all)[QUEUE_ID_LEN + 1] = malloc(NPROC * PER * sizeof(*all));
	size_t n = 0;
	qwriter *w;

	w = qw_create(qdir, err, sizeof(err));
	memcpy(first, qw_id(w), sizeof(first));
	qw_free(w);
	for (int c = 0; c < NPROC; c++) {
		pid_t pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			char prev[QUEUE_ID_LEN + 1] = "";
			snprintf(path, sizeof(path), "%s/ids.%d", qdir, c);
			FILE *fp = fopen(path, "w");
			for (int i = 0; i < PER; i++) {
				qwriter *cw = qw_create(qdir, err, sizeof(err));
				if (cw == NULL || strcmp(prev, qw_id(cw)) >= 0)
					_exit(1);
				memcpy(prev, qw_id(cw), sizeof(prev));
				fprintf(fp, "%s\n", prev);
				qw_free(cw);
			}
			fclose(fp);
			_exit(0);
		}
	}
	for (int c = 0; c < NPROC; c++) {
		int st;
		ck_assert_int_gt(wait(&st), 0);
		ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	w = qw_create(qdir, err, sizeof(err));
	memcpy(last, qw_id(w), sizeof(last));
	qw_free(w);
	for (int c = 0; c < NPROC; c++) {
		char line[64];
		snprintf(path, sizeof(path), "%s/ids.%d", qdir, c);
		FILE *fp = fopen(path, "r");
		ck_assert_ptr_nonnull(fp);
		while (fgets(line, sizeof(line), fp)) {
			line[QUEUE_ID_LEN] = 0;
			ck_assert(strcmp(first, line) < 0 && strcmp(line, last) < 0);
			memcpy(all[n++], line, QUEUE_ID_LEN + 1);
		}
		fclose(fp);
	}
	ck_assert_uint_eq(n, NPROC * PER);
	qsort(all, n, sizeof(*all), cmp_id);
	for (size_t i = 1; i < n; i++)
		ck_assert_msg(strcmp(all[i - 1], all[i]) != 0, "duplicate %s", all[i]);
	free(all);
}
END_TEST

START_TEST(done_marks)
{
	char id[QUEUE_ID_LEN + 1];
	qfile *qf;

	write_msg("hello\r\n", 7, 3, id);
	qf = open_in(Q_INCOMING, id, O_RDONLY);
	ck_assert_int_eq(qf_mark_done(qf, 1), -1);	/* read-only */
	qf_close(qf);
	qf = open_in(Q_INCOMING, id, O_RDWR);
	ck_assert_int_eq(qf_mark_done(qf, 1), 0);
	ck_assert_int_eq(qf_mark_done(qf, 3), -1);
	ck_assert_uint_eq(qf_pending(qf), 2);
	qf_close(qf);
	qf = open_in(Q_INCOMING, id, O_RDWR);
	ck_assert_msg(qf != NULL, "%s", err);
	ck_assert(!qf->env.rcpt[0].done && qf->env.rcpt[1].done && !qf->env.rcpt[2].done);
	ck_assert_uint_eq(qf_pending(qf), 2);
	ck_assert_int_eq(qf_mark_done(qf, 0), 0);
	ck_assert_int_eq(qf_mark_done(qf, 2), 0);
	ck_assert_uint_eq(qf_pending(qf), 0);
	qf_close(qf);
	qf = open_in(Q_INCOMING, id, O_RDONLY);
	ck_assert_uint_eq(qf_pending(qf), 0);
	ck_assert_str_eq(qf->env.rcpt[2].addr, "rcpt2@example.net");
	qf_close(qf);
}
END_TEST

START_TEST(moves_and_remove)
{
	char a[QUEUE_ID_LEN + 1], path[512];

	write_msg("x\r\n", 3, 1, a);
	ck_assert_int_eq(queue_move(qdir, a, Q_INCOMING, Q_ACTIVE), 0);
	ck_assert_int_eq(queue_move(qdir, a, Q_INCOMING, Q_ACTIVE), -1);
	ck_assert_int_eq(errno, ENOENT);		/* lost a race */
	/* a file of the same name in the target is never overwritten */
	queue_path(path, sizeof(path), qdir, Q_DEFERRED, a);
	spew(path, (const unsigned char *)"other", 5);
	ck_assert_int_eq(queue_move(qdir, a, Q_ACTIVE, Q_DEFERRED), -1);
	ck_assert_int_eq(errno, EEXIST);
	ck_assert_int_eq(queue_move(qdir, "../etc/passw", Q_ACTIVE, Q_DEFERRED), -1);
	ck_assert_int_eq(queue_defer_write(qdir, a, "x@y\t4.4.1\tconnection refused\n"), 0);
	char *t = queue_defer_read(qdir, a);
	ck_assert_str_eq(t, "x@y\t4.4.1\tconnection refused\n");
	free(t);
	ck_assert_int_eq(queue_defer_write(qdir, a, "second\n"), 0);
	t = queue_defer_read(qdir, a);
	ck_assert_str_eq(t, "second\n");
	free(t);
	ck_assert_int_eq(queue_remove(qdir, a, Q_ACTIVE), 0);
	ck_assert_ptr_null(queue_defer_read(qdir, a));	/* went with the message */
	ck_assert_int_eq(queue_remove(qdir, a, Q_ACTIVE), -1);
}
END_TEST

START_TEST(recover)
{
	char a[QUEUE_ID_LEN + 1], b[QUEUE_ID_LEN + 1], path[512];
	struct timeval old[2] = { { 1000, 0 }, { 1000, 0 } };

	write_msg("x\r\n", 3, 1, a);
	write_msg("y\r\n", 3, 1, b);
	ck_assert_int_eq(queue_move(qdir, a, Q_INCOMING, Q_ACTIVE), 0);
	ck_assert_int_eq(queue_move(qdir, b, Q_INCOMING, Q_ACTIVE), 0);
	snprintf(path, sizeof(path), "%s/tmp/STALE", qdir);
	spew(path, (const unsigned char *)"x", 1);
	ck_assert_int_eq(utimes(path, old), 0);
	snprintf(path, sizeof(path), "%s/tmp/FRESH", qdir);
	spew(path, (const unsigned char *)"x", 1);
	ck_assert_int_eq(queue_recover(qdir, 3600), 2);
	ck_assert_int_eq(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/tmp/STALE", qdir);
	ck_assert_int_eq(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/tmp/.idclock", qdir);
	ck_assert_int_eq(access(path, F_OK), 0);
	qfile *qf = open_in(Q_INCOMING, a, O_RDONLY);
	ck_assert_ptr_nonnull(qf);
	qf_close(qf);
	qf = open_in(Q_INCOMING, b, O_RDONLY);
	ck_assert_ptr_nonnull(qf);
	qf_close(qf);
	ck_assert_int_eq(queue_recover(qdir, 3600), 0);
}
END_TEST

/* Group commit as smtpd does it: fsyncs on threads, one directory fsync. */
enum { NTHREADS = 8, PER_THREAD = 40 };
static char thread_ids[NTHREADS][PER_THREAD][QUEUE_ID_LEN + 1];

static void *writer_thread(void *arg)
{
	int t = (int)(long)arg;
	char e[256];

	for (int i = 0; i < PER_THREAD; i++) {
		qenvelope env;
		qwriter *w = qw_create(qdir, e, sizeof(e));
		if (w == NULL)
			return (void *)1;
		qenv_init(&env);
		env.sender = "s@x";
		qrcpt r = { .addr = "r@y" };
		env.rcpt = &r;
		env.nrcpt = 1;
		if (qw_envelope(w, &env) < 0 || qw_content(w, "data\r\n", 6) < 0
		    || qw_finish(w) < 0 || qw_sync(w) < 0 || qw_publish(w) < 0)
			return (void *)1;
		memcpy(thread_ids[t][i], qw_id(w), QUEUE_ID_LEN + 1);
		qw_free(w);
	}
	return NULL;
}

START_TEST(concurrent_writers)
{
	pthread_t th[NTHREADS];
	int n = 0;

	for (long t = 0; t < NTHREADS; t++)
		ck_assert_int_eq(pthread_create(&th[t], NULL, writer_thread, (void *)t), 0);
	for (int t = 0; t < NTHREADS; t++) {
		void *rv;
		pthread_join(th[t], &rv);
		ck_assert_ptr_null(rv);
	}
	ck_assert_int_eq(queue_sync_dir(qdir, Q_INCOMING), 0);
	for (int t = 0; t < NTHREADS; t++)
		for (int i = 0; i < PER_THREAD; i++) {
			qfile *qf = open_in(Q_INCOMING, thread_ids[t][i], O_RDONLY);
			ck_assert_msg(qf != NULL, "%s", err);
			ck_assert_str_eq(qf->env.rcpt[0].addr, "r@y");
			qf_close(qf);
			n++;
		}
	/* scanner: sorted, complete */
	queue_scan *s = queue_scan_open(qdir, Q_INCOMING, QSCAN_SORT | QSCAN_STAT, err, sizeof(err));
	queue_entry e;
	char prev[QUEUE_ID_LEN + 1] = "";
	int seen = 0;
	ck_assert_ptr_nonnull(s);
	while (queue_scan_next(s, &e) == 1) {
		ck_assert(strcmp(prev, e.id) < 0);
		ck_assert(e.size > 0 && e.mtime > 0);
		memcpy(prev, e.id, sizeof(prev));
		seen++;
	}
	queue_scan_close(s);
	ck_assert_int_eq(seen, n);
}
END_TEST

START_TEST(scan_skips_junk)
{
	char a[QUEUE_ID_LEN + 1], path[512];
	queue_entry e;
	queue_scan *s;
	qfile *qf;
	int n = 0;

	write_msg("x\r\n", 3, 1, a);
	snprintf(path, sizeof(path), "%s/incoming/junk", qdir);
	spew(path, (const unsigned char *)"x", 1);
	snprintf(path, sizeof(path), "%s/incoming/abcdefabcdef", qdir);	/* lower case */
	spew(path, (const unsigned char *)"x", 1);
	s = queue_scan_open(qdir, Q_INCOMING, 0, err, sizeof(err));
	while (queue_scan_next(s, &e) == 1) {
		ck_assert_str_eq(e.id, a);
		qf = queue_scan_qf(s, &e, O_RDONLY, err, sizeof(err));
		ck_assert_msg(qf != NULL, "%s", err);
		ck_assert(e.size == qf->file_size && e.mtime > 0);
		qf_close(qf);
		n++;
	}
	queue_scan_close(s);
	ck_assert_int_eq(n, 1);
	ck_assert_ptr_null(queue_scan_open(qdir, "nosuch", 0, err, sizeof(err)));
}
END_TEST

START_TEST(trigger_roundtrip)
{
	char what = 0, path[512];
	int fd = trigger_listen(qdir, err, sizeof(err));

	ck_assert_msg(fd >= 0, "%s", err);
	ck_assert_int_eq(trigger_read(fd, &what), 0);
	queue_trigger(qdir, TRIGGER_NEW);
	queue_trigger(qdir, 'Q');		/* unknown: dropped */
	queue_trigger(qdir, TRIGGER_FLUSH);
	ck_assert_int_eq(trigger_read(fd, &what), 1);
	ck_assert_int_eq(what, TRIGGER_NEW);
	ck_assert_int_eq(trigger_read(fd, &what), 1);
	ck_assert_int_eq(what, TRIGGER_FLUSH);
	ck_assert_int_eq(trigger_read(fd, &what), 0);
	close(fd);
	/* a stale socket file is replaced; a missing listener is ignored quietly */
	fd = trigger_listen(qdir, err, sizeof(err));
	ck_assert_int_ge(fd, 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/public/qmgr", qdir);
	unlink(path);
	errno = 0;
	queue_trigger(qdir, TRIGGER_NEW);
	ck_assert_int_eq(errno, 0);
}
END_TEST

/* Run writes in a child that dies at a named crash point; return the number of
 * files in tmp/ (not dot files) and incoming/ afterwards. */
static void crash_run(const char *point, int msgs, int *ntmp, int *nin)
{
	pid_t pid = fork();
	int st;
	char path[512];
	struct dirent *de;
	DIR *d;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		setenv("FAXPOST_CRASHPOINT", point, 1);
		for (int i = 0; i < msgs; i++) {
			char id[QUEUE_ID_LEN + 1];
			write_msg("crash test\r\n", 12, 1, id);
		}
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL, "%s: no crash", point);
	*ntmp = *nin = 0;
	snprintf(path, sizeof(path), "%s/tmp", qdir);
	d = opendir(path);
	while ((de = readdir(d)) != NULL)
		*ntmp += de->d_name[0] != '.';
	closedir(d);
	snprintf(path, sizeof(path), "%s/incoming", qdir);
	d = opendir(path);
	while ((de = readdir(d)) != NULL)
		*nin += de->d_name[0] != '.';
	closedir(d);
}

START_TEST(crash_points)
{
	int ntmp, nin;

	crash_run("qw_before_sync", 3, &ntmp, &nin);
	ck_assert(ntmp == 1 && nin == 0);
	crash_run("qw_after_rename:2", 3, &ntmp, &nin);	/* 1 + the unsynced-dir one */
	ck_assert_msg(ntmp == 1 && nin == 2, "tmp %d incoming %d", ntmp, nin);
	crash_run("qw_after_dirsync:3", 5, &ntmp, &nin);
	ck_assert_msg(ntmp == 1 && nin == 5, "tmp %d incoming %d", ntmp, nin);
	/* every published file is whole; recovery drops the leftovers */
	queue_scan *s = queue_scan_open(qdir, Q_INCOMING, 0, err, sizeof(err));
	queue_entry e;
	while (queue_scan_next(s, &e) == 1) {
		qfile *qf = queue_scan_qf(s, &e, O_RDONLY, err, sizeof(err));
		ck_assert_msg(qf != NULL, "%s", err);
		qf_close(qf);
	}
	queue_scan_close(s);
	ck_assert_int_eq(queue_recover(qdir, -1), 0);
	char path[512];
	snprintf(path, sizeof(path), "%s/tmp", qdir);
	DIR *d = opendir(path);
	struct dirent *de;
	while ((de = readdir(d)) != NULL)
		ck_assert_msg(de->d_name[0] == '.', "left %s", de->d_name);
	closedir(d);
}
END_TEST

static Suite *queue_suite(void)
{
	Suite *s = suite_create("queue");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, roundtrip_small);
	tcase_add_test(tc, roundtrip_empty_content);
	tcase_add_test(tc, roundtrip_large);
	tcase_add_test(tc, no_tmp_left_after_commit);
	tcase_add_test(tc, abort_removes_tmp);
	tcase_add_test(tc, envelope_checks);
	tcase_add_test(tc, partial_rejected);
	tcase_add_test(tc, partial_large_rejected);
	tcase_add_test(tc, corrupt_lengths_rejected);
	tcase_add_test(tc, corrupt_bytes_no_crash);
	tcase_add_test(tc, not_a_file);
	tcase_add_test(tc, ids_unique_sorted);
	tcase_add_test(tc, ids_across_fork);
	tcase_add_test(tc, id_is_time);
	tcase_add_test(tc, concurrent_processes);
	tcase_add_test(tc, idclock_ahead);
	tcase_add_test(tc, crash_points);
	tcase_add_test(tc, done_marks);
	tcase_add_test(tc, moves_and_remove);
	tcase_add_test(tc, recover);
	tcase_add_test(tc, concurrent_writers);
	tcase_add_test(tc, scan_skips_junk);
	tcase_add_test(tc, trigger_roundtrip);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(queue_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
