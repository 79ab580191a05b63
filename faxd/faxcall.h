/*
 * faxcall.h - one fax call on a Class 1 modem: dial or answer, run the T.30 engine,
 * hang up, and report (log line, journal, remote capabilities).
 *
 * Contract: faxcall_send()/faxcall_receive() never return with the modem off-hook: on
 * every path (busy, no answer, protocol failure, dead modem, fax_max_call_time) they
 * hang up. The outcome says the DSN status, the log status word (sent / deferred /
 * bounced / received / failed), and the retry class (busy, no-answer, protocol, local).
 * The log line is DESIGN's:
 *   ID: to=<FAX=+49..@dom>, relay=fax[ttyA], delay=1.2, pages=3/3, speed=14400,
 *   coding=MMR, ecm=yes, remote="+49 30 123", duration=61.2, dsn=2.0.0, status=sent (...)
 */
#ifndef FAXPOST_FAXD_FAXCALL_H
#define FAXPOST_FAXD_FAXCALL_H

#include "class1.h"
#include "faxdoc.h"
#include "t30.h"

typedef struct faxcall_out {
	t30_result r;
	char dsn[8];
	const char *status;	/* sent deferred bounced received failed */
	const char *retry;	/* "" busy no-answer protocol local */
	char reason[256];
	double duration;	/* seconds from dial/answer to hang-up */
	double page_secs;	/* mean time per page on the line (phase C+D) */
	int retry_after;	/* seconds, from the fax_retry_* parameters */
	char onramp_id[16];	/* receive: the queued message */
	char onramp_rcpt[256];
} faxcall_out;

typedef struct faxcall_req {
	const char *id;		/* queue ID for the log, or "-" */
	const char *rcpt;	/* FAX= address for to=<...>, or NULL */
	const char *number;	/* what to dial (before fax_dial_prefix) */
	const char *capkey;	/* key for the capability table ("+4930.."), or NULL */
	const char *subaddr;	/* T.33 subaddress to send, or NULL */
	const char *device;	/* short name for relay=fax[...] */
	double arrival;		/* epoch seconds, for delay= (0 = none) */
	int first_page;		/* resume point */
	int ecm;		/* -1 = fax_ecm */
	/* receiving */
	const char *out_tiff;	/* where to write the received pages */
	int queue_it;		/* receive: queue the fax as mail (onramp) */
	int rings;
	int answer_timeout_ms;
	int answered;		/* hwd sent ATA already: only wait for CONNECT */
	const char *caller_id;	/* from hwd (NMBR), when answered */
	const char *did;	/* from hwd (NDID), when answered */
	void (*trace)(void *ctx, const char *line);
	void *trace_ctx;
} faxcall_req;

void faxcall_send(int fd, faxdoc_tx *doc, const faxcall_req *q, faxcall_out *o);
void faxcall_receive(int fd, const faxcall_req *q, faxcall_out *o);

#endif
