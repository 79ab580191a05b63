/*
 * smtpd_auth.h - password checks (crypt(3)) on a thread, off the event loop.
 *
 * Contract: a crypt of a modern hash costs milliseconds to tens of milliseconds of
 * CPU; done in the loop it would stall every session of the process (and invite a
 * brute-force client to do so on purpose). The loop looks the hash up (the table is
 * not thread-safe) and submits the job; an auth thread runs crypt_r, compares in
 * constant time, wipes the password, and hands the job back through auth_fd.
 */
#ifndef FAXPOST_SMTPD_AUTH_H
#define FAXPOST_SMTPD_AUTH_H

#include "util/workq.h"

typedef struct auth_job {
	work_item item;		/* first: the thread pool's (lib/util/workq.h) */
	void *owner;
	char *pass;		/* wiped and freed by the thread */
	char *hash;		/* NULL: unknown user (a dummy crypt still runs) */
	int result;		/* 1 good, 0 bad */
} auth_job;

int auth_start(int nthreads);	/* returns the eventfd the loop polls */
void auth_submit(auth_job *job);
auth_job *auth_collect(void);	/* finished jobs, after auth_fd was readable */
static inline auth_job *auth_next(const auth_job *j)
{
	return (auth_job *)j->item.next;
}

#endif
