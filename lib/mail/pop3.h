/*
 * pop3.h - a POP3 client session (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS, APOP).
 *
 * Contract: the server is untrusted. Every response line is bounded (POP3_MAX_LINE;
 * longer is a protocol error), a listing is bounded (POP3_MAX_MESSAGES entries), a
 * UIDL must be 1-70 characters in 0x21-0x7E (others make that message "unsafe": it is
 * skipped, never fetched or deleted), message numbers must be 1..count. RETR output is
 * dot-unstuffed, ends only at CRLF.CRLF, has line ends normalised to CRLF, and stops
 * at a size cap (then the fetch fails and nothing may be deleted). Credentials are only
 * sent over TLS unless the options allow plaintext. APOP is used only when asked, and
 * only with a well-formed greeting timestamp ("<...@...>", printable, <= 255 bytes).
 * After STLS, bytes the server sent behind "+OK" are discarded and CAPA is re-issued.
 */
#ifndef FAXPOST_MAIL_POP3_H
#define FAXPOST_MAIL_POP3_H

#include <stddef.h>

#include "util/buf.h"

#define POP3_MAX_LINE 512
#define POP3_MAX_UIDL 70
#define POP3_MAX_MESSAGES 100000

typedef enum { POP3_TLS_NONE, POP3_TLS_STLS, POP3_TLS_IMPLICIT } pop3_tls_mode;

typedef struct pop3_opts {
	const char *host;
	const char *port;
	pop3_tls_mode tls;
	const char *verify;		/* "none" "may" "verify" */
	const char *ca_file;		/* NULL = system default */
	const char *user;
	const char *password;
	int apop;			/* use APOP instead of USER/PASS */
	int allow_plaintext_auth;	/* send credentials without TLS */
	int timeout_ms;
} pop3_opts;

typedef struct pop3_msg {
	long num;
	long long size;			/* from LIST */
	char uidl[POP3_MAX_UIDL + 1];	/* "" when the server has no UIDL */
	int unsafe;			/* bad UIDL or size: skip */
} pop3_msg;

typedef struct pop3 pop3;

/* Connect, read the greeting, start TLS as asked, CAPA, authenticate. */
pop3 *pop3_open(const pop3_opts *o, char *err, size_t errlen);
/* LIST + UIDL into a malloc'd array; *n gets the count. */
int pop3_list(pop3 *p, pop3_msg **msgs, size_t *n, char *err, size_t errlen);
/* RETR num; each chunk of the normalised message goes to sink (return -1 to stop).
 * max: size cap in bytes. */
int pop3_retr(pop3 *p, long num, long long max,
	      int (*sink)(void *ctx, const char *data, size_t len), void *ctx,
	      char *err, size_t errlen);
int pop3_dele(pop3 *p, long num, char *err, size_t errlen);

/* Pipelining (RFC 2449 PIPELINING): queue commands with pop3_send_num() ("RETR",
 * "DELE"), send them with pop3_flush(), then read the replies in the same order with
 * pop3_retr_read() / pop3_dele_read(). Keep the number in flight bounded. */
int pop3_pipelining(const pop3 *p);
int pop3_send_num(pop3 *p, const char *verb, long num, char *err, size_t errlen);
int pop3_flush(pop3 *p, char *err, size_t errlen);
int pop3_retr_read(pop3 *p, long long max,
		   int (*sink)(void *ctx, const char *data, size_t len), void *ctx,
		   char *err, size_t errlen);
int pop3_dele_read(pop3 *p, char *err, size_t errlen);
/* After a failed read the session may be out of step with the server (timeout, lost
 * connection, garbage, a message too large to skip): then only pop3_close() is left. */
int pop3_broken(const pop3 *p);
int pop3_quit(pop3 *p, char *err, size_t errlen);	/* commits the DELEs */
void pop3_close(pop3 *p);				/* no QUIT: DELEs are undone */
const char *pop3_tls_info(const pop3 *p);		/* NULL when plaintext */

/* POP-before-SMTP: log in and quit (for the smtp client). */
int pop3_login_only(const pop3_opts *o, char *err, size_t errlen);

/* Helpers exposed for unit tests. */
int pop3_uidl_valid(const char *s, size_t len);
int pop3_apop_digest(const char *timestamp, const char *password, char out[33]);
int pop3_greeting_timestamp(const char *greeting, char *ts, size_t tslen);

#endif
