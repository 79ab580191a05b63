/*
 * smtpd_commit.c - the commit threads (group commit) of smtpd.
 *
 * Contract: see smtpd_commit.h. Why threads: fsync blocks for a disk flush; the
 * event loop must keep serving the other sessions meanwhile, and several messages
 * that finish close together share one directory fsync (and the file system merges
 * their journal commits), which is where smtpd gains on Postfix's one-fsync-per-
 * message cleanup. A message is answered 250 only when its file and incoming/ are
 * durable (queue.h).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "smtpd_commit.h"
#include "smtpd_tmplock.h"
#include "util/msg.h"

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	commit_job *todo, **todo_tail;	/* waiting for their file fsync */
	commit_job *synced;		/* file durable, waiting for rename + dir fsync */
	commit_job *done;
	int publishing;			/* a thread is renaming and fsyncing incoming/ */
	int efd;
	int pending;
	int lockfd;			/* tmp/ lock, used by the one publisher */
	const char *queue_dir;
} cq = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, NULL, NULL, NULL, NULL, 0, -1,
	 0, -1, NULL };

/* Rename a batch of synced files into incoming/, fsync the directory once, hand the
 * batch back to the loop. */
static void commit_publish(commit_job *batch)
{
	commit_job *j, *last = NULL;
	int published = 0;
	uint64_t one = 1;

	/* the whole batch in one hold: no creation waits between two renames */
	tmplock_take(cq.lockfd);
	for (j = batch; j; j = j->next) {
		if (j->ok && qw_publish(j->w) == 0) {
			j->published = 1;
			published++;
		} else {
			j->ok = 0;
		}
		last = j;
	}
	tmplock_drop(cq.lockfd);
	if (published && queue_sync_dir(cq.queue_dir, Q_INCOMING) < 0)
		for (j = batch; j; j = j->next)
			j->ok = 0;
	pthread_mutex_lock(&cq.lock);
	last->next = cq.done;
	cq.done = batch;
	pthread_mutex_unlock(&cq.lock);
	while (write(cq.efd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

/* Each thread fsyncs one file at a time (the threads run those in parallel, and the
 * file system merges their journal commits); whichever thread finds nobody
 * publishing takes every synced file and publishes them as one batch. */
static void *commit_thread(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&cq.lock);
	for (;;) {
		commit_job *j, *batch;

		if (cq.synced && !cq.publishing) {
			batch = cq.synced;
			cq.synced = NULL;
			cq.publishing = 1;
			pthread_mutex_unlock(&cq.lock);
			commit_publish(batch);
			pthread_mutex_lock(&cq.lock);
			cq.publishing = 0;
			continue;
		}
		if (!cq.todo) {
			pthread_cond_wait(&cq.cond, &cq.lock);
			continue;
		}
		j = cq.todo;
		cq.todo = j->next;
		if (!cq.todo)
			cq.todo_tail = &cq.todo;
		pthread_mutex_unlock(&cq.lock);
		j->ok = (j->tail.len == 0 || qw_content(j->w, j->tail.data, j->tail.len) == 0) &&
			qw_finish(j->w) == 0 && qw_sync(j->w) == 0;
		buf_free(&j->tail);
		pthread_mutex_lock(&cq.lock);
		j->next = cq.synced;
		cq.synced = j;
		/* no wake-up needed: a running publisher looks again before it waits */
	}
	return NULL;
}

int commit_start(const char *queue_dir, int nthreads)
{
	int i;

	cq.queue_dir = queue_dir;
	cq.todo_tail = &cq.todo;
	cq.lockfd = tmplock_open(queue_dir);
	cq.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (cq.efd < 0)
		msg_fatal("eventfd: %m");
	if (nthreads < 1)
		nthreads = 1;
	for (i = 0; i < nthreads; i++) {
		pthread_t t;
		int r = pthread_create(&t, NULL, commit_thread, NULL);

		if (r != 0)
			msg_fatal("pthread_create: %s", strerror(r));
		pthread_detach(t);
	}
	return cq.efd;
}

void commit_submit(commit_job *job)
{
	job->next = NULL;
	job->ok = job->published = 0;
	pthread_mutex_lock(&cq.lock);
	*cq.todo_tail = job;
	cq.todo_tail = &job->next;
	cq.pending++;
	pthread_cond_signal(&cq.cond);
	pthread_mutex_unlock(&cq.lock);
}

commit_job *commit_collect(void)
{
	commit_job *list, *j;
	uint64_t v;

	while (read(cq.efd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&cq.lock);
	list = cq.done;
	cq.done = NULL;
	for (j = list; j; j = j->next)
		cq.pending--;
	pthread_mutex_unlock(&cq.lock);
	return list;
}

int commit_pending(void)
{
	int n;

	pthread_mutex_lock(&cq.lock);
	n = cq.pending;
	pthread_mutex_unlock(&cq.lock);
	return n;
}
