/*
 * qmgr.h - the queue manager's state, shared by its modules.
 *
 * qmgr is one event-driven process: a poll loop over the trigger socket and one
 * socket per delivery in flight. Messages move incoming/ -> active/ (memory holds
 * their recipients), deliveries are queued per destination and started within the
 * concurrency limits, replies update recipients, and a message whose recipients are
 * all final is finished: notices written, then removed or moved to deferred/.
 */
#ifndef FAXPOST_QMGR_QMGR_H
#define FAXPOST_QMGR_QMGR_H

#include <stddef.h>
#include <sys/time.h>
#include <time.h>

#include "mail/dict.h"
#include "route.h"
#include "sched.h"

enum { R_PENDING, R_INFLIGHT, R_SENT, R_DEFER, R_BOUNCE, R_FINAL };

typedef struct qm_rcpt {
	size_t index;		/* in the queue file */
	char *addr;		/* delivery address (after rewriting) */
	char *orig;		/* the queue file's recipient */
	char *orcpt;
	int notify;
	route rt;
	int state;
	char status[16];
	char *reason;
	char *relay;
	char action[16];
} qm_rcpt;

typedef struct qm_msg {
	char id[16];
	char *sender;
	char *envid;
	int ret;
	time_t arrival;
	double arrival_f;	/* seconds, with fraction */
	double active_f;	/* when qmgr took it */
	long long size;
	int warned;		/* a delay notice was sent before */
	size_t nrcpt;
	qm_rcpt *rcpt;
	int inflight;		/* jobs outstanding */
	int todo;		/* queued work items not yet started */
	struct qm_msg *next, *prev;
} qm_msg;

typedef struct qm_job {
	qm_msg *msg;
	struct qm_dest *dest;
	size_t n;
	size_t *ri;		/* indexes into msg->rcpt */
	int fd;
	double start_f;
	time_t deadline;
	struct qm_job *next;	/* in the dest's to-do list, or in the in-flight list */
} qm_job;

typedef struct qm_dest {
	char transport[ROUTE_NAME_MAX];
	char nexthop[ROUTE_HOP_MAX];
	qm_job *head, *tail;	/* to do */
	struct qm_dest *next;
} qm_dest;

/* A destination that just failed at the network level: later jobs for it are
 * deferred at once with the same reason until `until` (Postfix's dead sites). */
typedef struct qm_dead {
	char transport[ROUTE_NAME_MAX];
	char nexthop[ROUTE_HOP_MAX];
	time_t until;
	char status[16];
	char reason[400];
	struct qm_dead *next;
} qm_dead;

typedef struct qmgr {
	const char *queue_dir;
	sched sch;
	route_cfg rcfg;
	dict *transport_map, *alias_map, *book_map;
	qm_msg *msgs;		/* in active/ */
	size_t nmsgs;
	qm_dest *dests;
	qm_job *inflight;
	size_t ninflight;
	/* parameters */
	long long min_backoff, max_backoff, queue_run_delay, lifetime, bounce_lifetime;
	long long warn_time, ipc_timeout, retry_time;
	qm_dead *dead;
	int rcpt_limit;
	size_t active_limit;
	const char *myhostname, *error_notice;
	/* scan requests */
	int scan_incoming, scan_deferred, flush_deferred;
	int incoming_more;	/* incoming/ scan stopped at the active limit */
	time_t next_deferred_scan;
} qmgr;

double qm_now(void);
const char *qm_dict_lookup(void *ctx, const char *key);

/* qmgr_queue.c: scans and loading */
void qm_scan_incoming(qmgr *q);
void qm_scan_deferred(qmgr *q, int all);
void qm_msg_free(qmgr *q, qm_msg *m);

/* qmgr_deliver.c: work queues, agent requests, replies */
void qm_enqueue_msg(qmgr *q, qm_msg *m);
void qm_dispatch(qmgr *q);
void qm_job_reply(qmgr *q, qm_job *j);
void qm_job_timeouts(qmgr *q);
void qm_dead_forget(qmgr *q);
void qm_log_rcpt(const qm_msg *m, const qm_rcpt *r, const char *status, double start_f,
		 const char *agent_delays);

/* qmgr_finish.c: notices, defer/remove */
void qm_maybe_finish(qmgr *q, qm_msg *m);

/* qmgr_notice.c: write a DSN message into the queue */
int qm_notice(qmgr *q, qm_msg *m, int kind, qm_rcpt **rs, size_t n, char *newid, size_t idlen);

#endif
