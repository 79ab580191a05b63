/*
 * reply.h - the SMTP client's reply parser and EHLO/CONNEG readers (pure; no I/O).
 *
 * Contract: a reply is fed line by line (without CRLF) to smtp_reply_feed(), which
 * returns 1 when the reply is complete, 0 when more lines are needed, -1 on a protocol
 * error (bad code: not three digits 2xx..5xx; code changing between lines; more than
 * max_lines lines). Every line is capped at line_limit bytes (the stream has already
 * discarded the excess; `toolong` says so), non-printable bytes (NUL, controls) are
 * replaced by '?', and the text kept is capped at SMTP_REPLY_TEXT_MAX: a hostile server
 * cannot make the client use more memory than that, nor hang it with an endless reply
 * (max_lines). An enhanced status code ("2.1.5") is taken only when its class matches
 * the reply code. Readers: smtp_ehlo_parse() for the EHLO keywords we use, and
 * smtp_reply_conneg() for the CONNEG capability of a RCPT reply in both styles.
 */
#ifndef FAXPOST_SMTP_REPLY_H
#define FAXPOST_SMTP_REPLY_H

#include <stddef.h>

#include "util/buf.h"

#define SMTP_REPLY_TEXT_MAX (64 * 1024)

typedef struct smtp_reply {
	int code;		/* 250 ... */
	char enh[16];		/* "2.1.5" or "" */
	int nlines;
	int done;
	buf lines;		/* line texts (after the code and separator), '\n' after each */
	size_t line_limit;
	int max_lines;
	char err[128];		/* why feed returned -1 */
} smtp_reply;

void smtp_reply_init(smtp_reply *r, size_t line_limit, int max_lines);
void smtp_reply_reset(smtp_reply *r);
void smtp_reply_free(smtp_reply *r);
int smtp_reply_feed(smtp_reply *r, const char *line, size_t len, int toolong);
/* First line's text, without the enhanced code, for logs: "Ok: queued as X". */
void smtp_reply_summary(const smtp_reply *r, buf *out);	/* "250 2.0.0 Ok ..." */

#define EHLO_PIPELINING	0x001
#define EHLO_SIZE	0x002
#define EHLO_DSN	0x004
#define EHLO_STARTTLS	0x008
#define EHLO_AUTH	0x010
#define EHLO_CONNEG	0x020
#define EHLO_CONPERM	0x040
#define EHLO_8BITMIME	0x080
#define EHLO_ENHANCED	0x100
#define AUTH_PLAIN	0x1
#define AUTH_LOGIN	0x2

typedef struct smtp_ehlo {
	int features;		/* EHLO_* */
	long long size_max;	/* SIZE n (0 = none given) */
	int auth;		/* AUTH_* offered */
} smtp_ehlo;

void smtp_ehlo_parse(const smtp_reply *r, smtp_ehlo *out);

/* CONNEG capability from a RCPT reply: RFC 4141 "250-CONNEG expr" lines, or the 2002
 * draft form (bare continuation lines "250-(...)" after the recipient-ok line). The
 * concatenated expression goes to out. Returns 1 found, 0 none. */
int smtp_reply_conneg(const smtp_reply *r, buf *out);

#endif
