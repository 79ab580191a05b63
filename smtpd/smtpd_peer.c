/*
 * smtpd_peer.c - client name lookups on a thread pool (see smtpd_peer.h).
 *
 * Contract: a name that exists but does not resolve back to the address is worth a
 * warning (Postfix logs the same); an address without a PTR record is not.
 */
#include <stdio.h>
#include <string.h>

#include "mail/dns.h"
#include "smtpd_peer.h"
#include "util/buf.h"

static workq *peer_q;

static void peer_run(work_item *item)
{
	peer_job *j = (peer_job *)item;
	char err[300];

	int rc;

	j->why[0] = 0;
	err[0] = 0;
	rc = dns_client_name(j->server, j->addr, j->name, sizeof(j->name), err, sizeof(err));
	if (rc == DNS_OK)
		return;
	if (rc == DNS_BADNAME)
		str_copy(j->why, sizeof(j->why), err);
	str_copy(j->name, sizeof(j->name), "unknown");
}

int peer_start(int nthreads)
{
	peer_q = workq_start(nthreads);
	return workq_fd(peer_q);
}

void peer_submit(peer_job *job)
{
	job->item.run = peer_run;
	workq_submit(peer_q, &job->item);
}

peer_job *peer_collect(void)
{
	return (peer_job *)workq_collect(peer_q);
}
