/*
 * smtpd_spare.c - the spare queue-file pool of smtpd (see smtpd_spare.h).
 *
 * Contract: the queue ID is fixed when a file is created, so a spare file's ID tells
 * when it was made, not when its message came; IDs stay unique and increasing by
 * creation time, as queue.h promises.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "smtpd_spare.h"
#include "smtpd_tmplock.h"
#include "util/msg.h"

#define SPARE_CAP 64

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	qwriter *w[SPARE_CAP];
	time_t made[SPARE_CAP];
	int n, want, stop;
	const char *queue_dir;
} sp = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, { 0 }, { 0 }, 0, 0, 0, NULL };

static time_t mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Called with the lock held: take out one file older than SPARE_MAX_AGE, or NULL. */
static qwriter *spare_expired(void)
{
	time_t now = mono_now();
	int i;

	for (i = 0; i < sp.n; i++)
		if (now - sp.made[i] > SPARE_MAX_AGE) {
			qwriter *w = sp.w[i];

			sp.w[i] = sp.w[sp.n - 1];
			sp.made[i] = sp.made[sp.n - 1];
			sp.n--;
			return w;
		}
	return NULL;
}

static void *spare_thread(void *arg)
{
	char err[256];
	int lockfd = tmplock_open(sp.queue_dir);

	(void)arg;
	pthread_mutex_lock(&sp.lock);
	while (!sp.stop) {
		qwriter *old = spare_expired(), *w;
		struct timespec until;

		if (old) {
			pthread_mutex_unlock(&sp.lock);
			tmplock_take(lockfd);
			qw_abort(old);
			tmplock_drop(lockfd);
			qw_free(old);
			pthread_mutex_lock(&sp.lock);
			continue;
		}
		if (sp.n >= sp.want) {
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += SPARE_MAX_AGE / 2;
			pthread_cond_timedwait(&sp.cond, &sp.lock, &until);
			continue;
		}
		pthread_mutex_unlock(&sp.lock);
		tmplock_take(lockfd);
		w = qw_create(sp.queue_dir, err, sizeof(err));
		tmplock_drop(lockfd);
		pthread_mutex_lock(&sp.lock);
		if (!w) {	/* the loop will meet the same error and report it */
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += 1;
			pthread_cond_timedwait(&sp.cond, &sp.lock, &until);
			continue;
		}
		if (sp.n < SPARE_CAP && !sp.stop) {
			sp.w[sp.n] = w;
			sp.made[sp.n++] = mono_now();
		} else {
			qw_abort(w);
			qw_free(w);
		}
	}
	pthread_mutex_unlock(&sp.lock);
	return NULL;
}

void spare_start(const char *queue_dir, int n)
{
	pthread_t t;
	int r;

	sp.queue_dir = queue_dir;
	sp.want = n < 0 ? 0 : n > SPARE_CAP ? SPARE_CAP : n;
	if (sp.want == 0)
		return;
	if ((r = pthread_create(&t, NULL, spare_thread, NULL)) != 0)
		msg_fatal("pthread_create: %s", strerror(r));
	pthread_detach(t);
}

qwriter *spare_take(char *err, size_t errlen)
{
	qwriter *w = NULL;

	pthread_mutex_lock(&sp.lock);
	if (sp.n > 0)
		w = sp.w[--sp.n];
	pthread_cond_signal(&sp.cond);
	pthread_mutex_unlock(&sp.lock);
	return w ? w : qw_create(sp.queue_dir, err, errlen);
}

void spare_drain(void)
{
	pthread_mutex_lock(&sp.lock);
	sp.stop = 1;
	while (sp.n > 0) {
		qwriter *w = sp.w[--sp.n];

		qw_abort(w);
		qw_free(w);
	}
	pthread_cond_signal(&sp.cond);
	pthread_mutex_unlock(&sp.lock);
}
