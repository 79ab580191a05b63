/*
 * workq.c - a thread pool with eventfd completion (see workq.h).
 *
 * One mutex guards both lists; a finished job is pushed on the done list and the
 * eventfd counter bumped, so however many finish between two polls the loop wakes
 * once and takes them all.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "util/msg.h"
#include "util/workq.h"

struct workq {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	work_item *todo, **todo_tail;	/* first in, first out: lookups in arrival order */
	work_item *done;
	int efd;
};

static void *workq_thread(void *arg)
{
	workq *q = arg;
	uint64_t one = 1;

	for (;;) {
		work_item *w;

		pthread_mutex_lock(&q->lock);
		while (!q->todo)
			pthread_cond_wait(&q->cond, &q->lock);
		w = q->todo;
		q->todo = w->next;
		if (!q->todo)
			q->todo_tail = &q->todo;
		pthread_mutex_unlock(&q->lock);
		w->run(w);
		pthread_mutex_lock(&q->lock);
		w->next = q->done;
		q->done = w;
		pthread_mutex_unlock(&q->lock);
		while (write(q->efd, &one, sizeof(one)) < 0 && errno == EINTR)
			;
	}
	return NULL;
}

workq *workq_start(int nthreads)
{
	workq *q = xcalloc(1, sizeof(*q));

	pthread_mutex_init(&q->lock, NULL);
	pthread_cond_init(&q->cond, NULL);
	q->todo_tail = &q->todo;
	q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->efd < 0)
		msg_fatal("eventfd: %m");
	for (int i = 0; i < (nthreads < 1 ? 1 : nthreads); i++) {
		pthread_t t;
		int r = pthread_create(&t, NULL, workq_thread, q);

		if (r != 0)
			msg_fatal("pthread_create: %s", strerror(r));
		pthread_detach(t);
	}
	return q;
}

int workq_fd(const workq *q)
{
	return q->efd;
}

void workq_submit(workq *q, work_item *item)
{
	item->next = NULL;
	pthread_mutex_lock(&q->lock);
	*q->todo_tail = item;
	q->todo_tail = &item->next;
	pthread_cond_signal(&q->cond);
	pthread_mutex_unlock(&q->lock);
}

work_item *workq_collect(workq *q)
{
	work_item *list;
	uint64_t v;

	while (read(q->efd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&q->lock);
	list = q->done;
	q->done = NULL;
	pthread_mutex_unlock(&q->lock);
	return list;
}
