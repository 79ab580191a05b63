/*
 * test_workq.c - unit tests for lib/util/workq.c: every job submitted comes back
 * exactly once, run on a pool thread (not the caller's), with the eventfd readable
 * while finished jobs wait and not after they were collected.
 */
#include <check.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/workq.h"

typedef struct job {
	work_item item;
	int n;
	int ran;
	pthread_t thread;
} job;

static void job_run(work_item *item)
{
	job *j = (job *)item;

	j->ran++;
	j->thread = pthread_self();
	usleep((unsigned)(j->n % 7) * 100);	/* finish out of order */
}

START_TEST(all_jobs_back_once)
{
	enum { N = 200 };
	static job jobs[N];
	workq *q = workq_start(3);
	struct pollfd pfd = { .fd = workq_fd(q), .events = POLLIN };
	int back = 0, seen[N] = { 0 };

	for (int i = 0; i < N; i++) {
		jobs[i].n = i;
		jobs[i].item.run = job_run;
		workq_submit(q, &jobs[i].item);
	}
	for (int rounds = 0; back < N && rounds < 10000; rounds++) {
		ck_assert_int_ge(poll(&pfd, 1, 5000), 1);
		for (work_item *w = workq_collect(q); w; w = w->next) {
			job *j = (job *)w;

			ck_assert_int_eq(seen[j->n]++, 0);
			back++;
		}
	}
	ck_assert_int_eq(back, N);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(jobs[i].ran, 1);
		ck_assert(!pthread_equal(jobs[i].thread, pthread_self()));
	}
	/* nothing left: the eventfd is quiet */
	ck_assert_int_eq(poll(&pfd, 1, 50), 0);
	ck_assert_ptr_null(workq_collect(q));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("workq");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, all_jobs_back_once);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
