/*
 * deliver_req.h - the delivery agents' side of IPC_DELIVER (see ipc_proto.h).
 *
 * Contract: deliver_req_read() receives and validates one request (all attributes
 * present, counts within limits, recipient indexes within the queue file) and opens
 * the queue file O_RDWR; deliver_req_status() records a per-recipient result and,
 * for a 2xx, marks the recipient done in the file first (qf_mark_done: fsynced);
 * deliver_req_reply() sends IPC_DELIVER_REPLY. An agent that cannot mark a recipient
 * done reports 4.3.0 for it instead of success (it will be tried again: duplicate
 * rather than loss).
 */
#ifndef FAXPOST_MAIL_DELIVER_REQ_H
#define FAXPOST_MAIL_DELIVER_REQ_H

#include <stddef.h>
#include <stdint.h>

#include "mail/queue.h"

#define DELIVER_MAX_RCPT 1000

typedef struct deliver_rcpt {
	const char *addr;	/* deliver to this */
	size_t index;		/* in qf->env.rcpt */
	const qrcpt *q;		/* the file's recipient (orcpt, notify) */
	char status[16];	/* "" until set */
	char *reason;
	char action[16];
	char *conneg;
} deliver_rcpt;

typedef struct ipc_msg ipc_msg;

typedef struct deliver_req {
	ipc_msg *msg;
	const char *queue_id;
	const char *path;
	const char *nexthop;
	const char *transport;
	const char *sender;
	int64_t arrival_us;
	qfile *qf;
	size_t n;
	deliver_rcpt *rcpt;
	char relay[300];
	char delays[64];
	double setup_s;		/* agent's connection setup time (smtp: connect .. AUTH) */
} deliver_req;

/* 0 ok; -1 with err set (the caller logs it and closes the connection). */
int deliver_req_read(int fd, deliver_req *req, char *err, size_t errlen);
void deliver_req_status(deliver_req *req, size_t i, const char *status, const char *reason,
			const char *action);
/* Set every recipient that has no status yet. */
void deliver_req_status_rest(deliver_req *req, const char *status, const char *reason);
int deliver_req_reply(int fd, deliver_req *req);
void deliver_req_free(deliver_req *req);

#endif
