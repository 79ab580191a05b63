/*
 * smtp.h - the SMTP client delivery agent's shared state.
 */
#ifndef FAXPOST_SMTP_SMTP_H
#define FAXPOST_SMTP_SMTP_H

#include <stddef.h>

#include "mail/deliver_req.h"
#include "mail/dict.h"
#include "util/stream.h"
#include "reply.h"

typedef struct smtp_cfg {
	const char *helo_name;
	const char *myhostname;
	int connect_ms, helo_ms, reply_ms;
	long long connect_delay;
	const char *tls_level;		/* none may verify */
	int wrappermode;
	tls_ctx *tls;
	dict *passwords;
	int sasl_tls_only;
	size_t line_limit;
	int max_lines;
	int mx_limit;
	int conneg;
	int pipelining;
	const char *dns_server;
	int default_port;
	long long cache_time;		/* seconds a connection is kept for reuse; 0 = off */
	const char *queue_dir;		/* for private/codecd */
	int codec_timeout;		/* seconds */
} smtp_cfg;

/* One connection attempt's target. */
typedef struct smtp_target {
	char host[256];		/* name for TLS verification and logs */
	char ip[64];
	int port;
	char nexthop[300];	/* for the password table */
} smtp_target;

/* Outcome of one session: per-recipient results are set in req; the return value
 * says whether to try the next address (1) or stop (0). */
int smtp_session(const smtp_cfg *cfg, deliver_req *req, const smtp_target *t,
		 char *why, size_t whylen, char *why_status, size_t stlen);

/* Deliver over the connection kept from the previous request when it goes to the
 * same next hop (0 = every recipient decided; 1 = go the normal way). */
int smtp_session_cached(const smtp_cfg *cfg, deliver_req *req,
			char *why, size_t whylen, char *why_status, size_t stlen);
void smtp_cache_close(void);

#endif
