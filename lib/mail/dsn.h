/*
 * dsn.h - RFC 3464 delivery status notifications (failure, delay, success).
 *
 * Contract: dsn_compose() writes a complete notification message (headers, the
 * human-readable part, the message/delivery-status part, and the returned original:
 * message/rfc822 for RET=FULL, text/rfc822-headers for RET=HDRS) into out, with CRLF
 * line ends, as a queue file's content. The caller sends it from the null sender to
 * info->sender (never to the null sender: dsn_wanted() says whether a DSN is due).
 * Nothing here does I/O; qmgr writes the result with the queue API.
 */
#ifndef FAXPOST_MAIL_DSN_H
#define FAXPOST_MAIL_DSN_H

#include <stddef.h>
#include <time.h>

#include "util/buf.h"

typedef enum { DSN_FAILURE, DSN_DELAY, DSN_SUCCESS } dsn_kind;

typedef struct dsn_rcpt {
	const char *addr;	/* final recipient */
	const char *orcpt;	/* "rfc822;x@y" or NULL */
	const char *action;	/* failed delayed delivered relayed expanded */
	const char *status;	/* "5.1.1" */
	const char *reason;	/* server reply "550 5.1.1 ..." or our text */
	const char *remote_mta;	/* host name or NULL */
} dsn_rcpt;

typedef struct dsn_info {
	dsn_kind kind;
	const char *reporting_mta;	/* myhostname */
	const char *queue_id;		/* of the original */
	const char *sender;		/* original sender: the To: of the notice */
	const char *envid;		/* ENVID or NULL */
	time_t arrival;
	time_t now;
	time_t retry_until;		/* delay notices: Will-Retry-Until */
	int ret;			/* DSN_RET_* of the original (0 = not given) */
	const char *notice_id;		/* queue ID of the notice, for the boundary */
} dsn_info;

/* Is a notice of this kind due for a recipient with these NOTIFY bits (0 = not
 * given) from this sender?  Never to the null sender; success only when asked;
 * delay when DELAY given or NOTIFY absent; failure unless NEVER or not asked. */
int dsn_wanted(dsn_kind kind, const char *sender, int notify);

/* msg: the original message (CRLF lines), len bytes. */
int dsn_compose(const dsn_info *info, const dsn_rcpt *rcpts, size_t n,
		const char *msg, size_t len, buf *out);

/* RFC 5322 date for time t (local time with numeric zone). */
void dsn_date(time_t t, char *out, size_t outlen);

/* Length of the header section of msg (up to and including the empty line). */
size_t dsn_header_len(const char *msg, size_t len);

#endif
