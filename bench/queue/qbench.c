/*
 * qbench.c - queue micro-benchmark: durable enqueue rate and listing speed.
 *
 *   qbench commit DIR N SIZE          N x qw_commit (1 fsync + 1 dir fsync each)
 *   qbench naive DIR N SIZE           the same durability done the plain way (stdio
 *                                     writes, fsync, rename, dir fsync): the baseline
 *   qbench group DIR N SIZE THREADS   group commit as smtpd does: THREADS writers
 *                                     fsync in parallel, one dir fsync per batch
 *   qbench fill DIR N SIZE            group commit with 64 threads (to build big queues)
 *   qbench list DIR                   scan incoming/ sorted + qf_open each envelope
 * Prints one line "mode: N msgs in S s = R msgs/s". Not a test: run by bench/queue/run.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mail/queue.h"
#include "mail/queue_scan.h"

static const char *qdir;
static char *content;
static size_t csize;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void env_fill(qenvelope *env)
{
	static qrcpt r = { .addr = "judy@slow.example", .notify = 0 };

	qenv_init(env);
	env->sender = "alice@example.com";
	env->arrival_us = (int64_t)time(NULL) * 1000000;
	env->origin = "smtp";
	env->client_name = "localhost";
	env->client_addr = "127.0.0.1";
	env->helo = "client.example";
	env->protocol = "ESMTP";
	env->nrcpt = 1;
	env->rcpt = &r;
}

static qwriter *one_writer(void)
{
	char err[256];
	qenvelope env;
	qwriter *w = qw_create(qdir, err, sizeof(err));

	if (w == NULL) {
		fprintf(stderr, "qbench: %s\n", err);
		exit(1);
	}
	env_fill(&env);
	if (qw_envelope(w, &env) < 0 || qw_content(w, content, csize) < 0) {
		fprintf(stderr, "qbench: write: %s\n", strerror(errno));
		exit(1);
	}
	return w;
}

static void run_commit(long n)
{
	char err[256];

	for (long i = 0; i < n; i++) {
		qwriter *w = one_writer();
		if (qw_commit(w, err, sizeof(err)) < 0) {
			fprintf(stderr, "qbench: %s\n", err);
			exit(1);
		}
		qw_free(w);
	}
}

static void run_naive(long n)
{
	char tmp[512], dst[512], dir[512];

	snprintf(dir, sizeof(dir), "%s/incoming", qdir);
	for (long i = 0; i < n; i++) {
		snprintf(tmp, sizeof(tmp), "%s/tmp/naive.%ld", qdir, i);
		snprintf(dst, sizeof(dst), "%s/incoming/naive.%ld", qdir, i);
		FILE *fp = fopen(tmp, "w");
		fprintf(fp, "S alice@example.com\nR judy@slow.example\nT %ld\n", (long)time(NULL));
		fwrite(content, 1, csize, fp);
		fputs("E\n", fp);
		fflush(fp);
		fsync(fileno(fp));
		fclose(fp);
		rename(tmp, dst);
		int dfd = open(dir, O_RDONLY | O_DIRECTORY);
		fsync(dfd);
		close(dfd);
	}
}

typedef struct batch {
	qwriter *w;
	int rc;
} batch;

static void *sync_one(void *arg)
{
	batch *b = arg;

	b->rc = qw_sync(b->w);
	return NULL;
}

static void run_group(long n, int threads)
{
	batch *b = calloc((size_t)threads, sizeof(*b));
	pthread_t *th = calloc((size_t)threads, sizeof(*th));

	for (long done = 0; done < n;) {
		int k = (int)(n - done < threads ? n - done : threads);
		for (int i = 0; i < k; i++) {
			b[i].w = one_writer();
			if (qw_finish(b[i].w) < 0)
				exit(1);
			pthread_create(&th[i], NULL, sync_one, &b[i]);
		}
		for (int i = 0; i < k; i++) {
			pthread_join(th[i], NULL);
			if (b[i].rc < 0 || qw_publish(b[i].w) < 0)
				exit(1);
		}
		if (queue_sync_dir(qdir, Q_INCOMING) < 0)
			exit(1);
		for (int i = 0; i < k; i++)
			qw_free(b[i].w);
		done += k;
	}
	free(b);
	free(th);
}

static long run_list(void)
{
	char err[256];
	queue_scan *s = queue_scan_open(qdir, Q_INCOMING, QSCAN_SORT, err, sizeof(err));
	queue_entry e;
	long n = 0, bytes = 0;

	if (s == NULL) {
		fprintf(stderr, "qbench: %s\n", err);
		exit(1);
	}
	while (queue_scan_next(s, &e) == 1) {
		qfile *qf = queue_scan_qf(s, &e, O_RDONLY, err, sizeof(err));
		if (qf == NULL)
			continue;
		bytes += (long)qf->content_len + (long)strlen(qf->env.sender)
			+ (long)strlen(qf->env.rcpt[0].addr);
		qf_close(qf);
		n++;
	}
	queue_scan_close(s);
	return bytes > 0 ? n : 0;
}

int main(int argc, char **argv)
{
	char err[256];
	const char *mode;
	long n = 0;
	double t0, dt;

	if (argc < 3) {
		fprintf(stderr, "usage: qbench commit|naive|group|fill|list DIR [N SIZE [THREADS]]\n");
		return 2;
	}
	mode = argv[1];
	qdir = argv[2];
	if (queue_init_dirs(qdir, err, sizeof(err)) < 0) {
		fprintf(stderr, "qbench: %s\n", err);
		return 1;
	}
	if (strcmp(mode, "list") != 0) {
		if (argc < 5)
			return 2;
		n = atol(argv[3]);
		csize = (size_t)atol(argv[4]);
		content = malloc(csize + 1);
		for (size_t i = 0; i < csize; i++)
			content[i] = i % 64 == 63 ? '\n' : 'x';
	}
	t0 = now_s();
	if (strcmp(mode, "commit") == 0)
		run_commit(n);
	else if (strcmp(mode, "naive") == 0)
		run_naive(n);
	else if (strcmp(mode, "group") == 0)
		run_group(n, argc > 5 ? atoi(argv[5]) : 8);
	else if (strcmp(mode, "fill") == 0)
		run_group(n, 64);	/* many parallel fsyncs share journal commits */
	else if (strcmp(mode, "list") == 0)
		n = run_list();
	else
		return 2;
	dt = now_s() - t0;
	printf("%s: %ld msgs in %.3f s = %.0f msgs/s\n", mode, n, dt, dt > 0 ? n / dt : 0.0);
	free(content);
	return 0;
}
