/*
 * smtpd_peer.h - the client's host name, looked up on a thread (smtpd_peername_lookup).
 *
 * Contract: as Postfix's smtpd, a session starts with the forward-confirmed name of
 * the client address (dns_client_name: PTR, then A/AAAA must give the address back),
 * else "unknown". The lookup may wait seconds for a DNS server; done in the loop it
 * would stall every session, so a pool thread does it and the session is held (no
 * banner, nothing read) until the job comes back through peer_start()'s eventfd.
 */
#ifndef FAXPOST_SMTPD_PEER_H
#define FAXPOST_SMTPD_PEER_H

#include "util/workq.h"

typedef struct peer_job {
	work_item item;		/* first: the thread pool's (lib/util/workq.h) */
	void *owner;
	const char *server;	/* dns_server; "" = the system resolver */
	char addr[64];		/* in: numeric address */
	char name[256];		/* out: verified name, or "unknown" */
	char why[300];		/* out: a name that did not verify, for a warning */
} peer_job;

int peer_start(int nthreads);	/* returns the eventfd the loop polls */
void peer_submit(peer_job *job);
peer_job *peer_collect(void);
static inline peer_job *peer_next(const peer_job *j)
{
	return (peer_job *)j->item.next;
}

#endif
