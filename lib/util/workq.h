/*
 * workq.h - a pool of threads that runs blocking jobs for an event loop.
 *
 * Contract: workq_start() starts nthreads threads and returns the queue; the loop
 * polls workq_fd() (an eventfd, readable when jobs have finished). A job is any struct
 * whose first member is a work_item with run set; run() is called on a pool thread
 * and must touch nothing the loop uses meanwhile. workq_collect() (loop only) returns
 * the finished jobs, in no particular order, and resets the eventfd. Jobs are never
 * dropped: a job submitted is collected once. The threads live as long as the process.
 * Used for what would stall every session of an event server: crypt(3) of a password,
 * a DNS lookup.
 */
#ifndef FAXPOST_UTIL_WORKQ_H
#define FAXPOST_UTIL_WORKQ_H

typedef struct work_item {
	void (*run)(struct work_item *item);	/* on a pool thread */
	struct work_item *next;			/* the queue's */
} work_item;

typedef struct workq workq;

workq *workq_start(int nthreads);
int workq_fd(const workq *q);
void workq_submit(workq *q, work_item *item);
work_item *workq_collect(workq *q);	/* follow ->next; NULL when none */

#endif
