/*
 * smtpd_commit.h - group commit of queue files on a few threads.
 *
 * Contract: the event loop submits finished queue writers with the tail of their
 * content; a commit thread writes the tail (qw_content), runs qw_finish + qw_sync, qw_publish them, fsync
 * incoming/ once for the batch, and hand the jobs back with ok set. Done jobs are
 * collected by the loop after the eventfd (commit_fd) becomes readable. The threads
 * never touch a session or the log; the loop alone replies 250 and frees writers.
 */
#ifndef FAXPOST_SMTPD_COMMIT_H
#define FAXPOST_SMTPD_COMMIT_H

#include "mail/queue.h"
#include "util/buf.h"

typedef struct commit_job {
	qwriter *w;
	buf tail;		/* content still to write (the thread writes and frees it) */
	void *owner;		/* the connection waiting for the result */
	int ok;			/* 1 = durable in incoming/ */
	int published;		/* renamed (even if the directory fsync failed) */
	struct commit_job *next;
} commit_job;

/* Start nthreads threads; returns the eventfd the loop polls. */
int commit_start(const char *queue_dir, int nthreads);
void commit_submit(commit_job *job);
/* All finished jobs (a list), after reading the eventfd. */
commit_job *commit_collect(void);
int commit_pending(void);	/* jobs submitted and not yet collected */

#endif
