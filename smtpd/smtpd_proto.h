/*
 * smtpd_proto.h - the SMTP protocol engine of smtpd, free of I/O.
 *
 * Contract: a session is a state machine fed bytes (smtpd_proto_feed) and run
 * (smtpd_proto_run); it appends replies to sess->out and returns what the I/O layer
 * must do next (read more, wait for a queue commit, start TLS, pause, close). It
 * never reads or writes a socket, never sleeps and never touches the queue itself:
 * the checks and the message storage are hooks given by the caller (smtpd_server.c
 * in the daemon, fakes in tests/unit/test_smtpd_proto.c). End of data is only
 * <CR><LF>.<CR><LF>; bare <LF>/<CR> follow smtpd_line_policy (normalize: stored as
 * CRLF and never end the data; reject: the message is refused with 550 5.5.2 after the
 * real end). Memory per session is bounded: a command line by SMTPD_LINE_CAP, a
 * text line is passed on in pieces, replies wait in out (the I/O layer stops feeding
 * while out is large).
 */
#ifndef FAXPOST_SMTPD_PROTO_H
#define FAXPOST_SMTPD_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "mail/addr.h"
#include "util/buf.h"

#define SMTPD_CMD_MAX 512		/* RFC 5321 command line, CRLF included */
#define SMTPD_AUTH_LINE_MAX 12288	/* RFC 4954 AUTH exchange line */
#define SMTPD_LINE_CAP (32 * 1024)	/* beyond: 500 and close */
#define SMTPD_DATA_PIECE 8192		/* a text line longer than this goes on in pieces */
#define SMTPD_CONTENT_HOLD (128 * 1024)	/* message content kept in memory before a write */
#define SMTPD_IN_LIMIT (SMTPD_LINE_CAP + 128 * 1024)	/* unprocessed input per session */

/* What run() wants the I/O layer to do. */
enum {
	SMTPD_ACT_READ = 0,	/* send out, then feed more input */
	SMTPD_ACT_COMMIT,	/* message complete: commit it, then call commit_done() */
	SMTPD_ACT_STARTTLS,	/* send out, then handshake, then call tls_started() */
	SMTPD_ACT_PAUSE,	/* wait sess->pause_ms, then send out and run again */
	SMTPD_ACT_CLOSE,	/* send out, then close */
	SMTPD_ACT_AUTH,		/* a password check runs: call auth_done() with its result */
};

#define SMTPD_AUTH_PENDING 2	/* auth_check(): the answer comes by smtpd_proto_auth_done() */

enum { SMTPD_LINES_NORMALIZE = 0, SMTPD_LINES_REJECT };
enum { SMTPD_TLS_NONE = 0, SMTPD_TLS_MAY, SMTPD_TLS_ENCRYPT };
enum { SMTPD_CONNEG_RFC4141 = 0, SMTPD_CONNEG_DRAFT };

/* Settings, from main.cf (smtpd_main.c) or a test. */
typedef struct smtpd_conf {
	const char *myhostname;
	const char *banner;		/* text after "220 " */
	long long message_size_limit;	/* 0 = none */
	size_t recipient_limit;
	int hard_error_limit;
	int junk_command_limit;
	int auth_failure_limit;
	int auth_failure_delay_ms;
	int line_policy;		/* SMTPD_LINES_* */
	int tls_level;			/* SMTPD_TLS_*; NONE when no certificate */
	int sasl_enable;
	int conneg_enable;		/* offer CONNEG and CONPERM */
	int conneg_style;		/* SMTPD_CONNEG_* */
	int forbid_unauth_pipelining;
	int hopcount_limit;
} smtpd_conf;

/* Per-command counters for the "disconnect from ..." line. */
enum { SC_HELO, SC_EHLO, SC_STARTTLS, SC_AUTH, SC_MAIL, SC_RCPT, SC_DATA, SC_RSET,
       SC_NOOP, SC_VRFY, SC_QUIT, SC_UNKNOWN, SC_NCMD };

typedef struct smtpd_rcpt {
	char *addr;
	char *orcpt;
	int notify;
	char *conneg;		/* expression returned to a CONNEG request, or NULL */
} smtpd_rcpt;

typedef struct smtpd_sess smtpd_sess;

/* The checks and the storage, given by the I/O layer. Each returns quickly. */
typedef struct smtpd_hooks {
	/* May rcpt be accepted from this client? 0 = yes; else write the whole reply
	 * ("554 5.7.1 <x>: Relay access denied") into reply. */
	int (*rcpt_check)(smtpd_sess *s, const addr_path *rcpt, buf *reply);
	/* RFC 2533 capabilities of rcpt, canonical text into out: 1 known, 0 unknown. */
	int (*caps_lookup)(smtpd_sess *s, const addr_path *rcpt, buf *out);
	/* 1 good credentials, 0 bad, -1 temporary failure, or SMTPD_AUTH_PENDING. */
	int (*auth_check)(smtpd_sess *s, const char *user, const char *pass);
	/* Open a queue file for the envelope in s (queue ID into s->queue_id); 0 ok,
	 * else a whole reply ("451 4.3.0 Error: queue file write error") into reply. */
	int (*msg_begin)(smtpd_sess *s, buf *reply);
	int (*msg_write)(smtpd_sess *s, const char *p, size_t n);	/* 0 ok, -1 error */
	void (*msg_abort)(smtpd_sess *s);
} smtpd_hooks;

struct smtpd_sess {
	const smtpd_conf *conf;
	const smtpd_hooks *hooks;
	void *app;		/* the I/O layer's connection */
	void *msg;		/* the I/O layer's queue writer */

	/* client */
	char client_name[256];
	char client_addr[64];
	char client[340];	/* "name[addr]" */
	int client_trusted;	/* in mynetworks */
	int tls;		/* TLS is active */
	char tls_info[128];	/* "TLSv1.3 with cipher X" */

	buf in;			/* unprocessed input */
	buf out;		/* replies not yet sent */
	int pause_ms;		/* with SMTPD_ACT_PAUSE */
	unsigned long progress;	/* complete lines consumed (the I/O layer's deadline) */

	/* protocol state */
	int state;		/* internal */
	char *helo;
	int esmtp;		/* EHLO was used */
	char *auth_user;
	char auth_method[8];	/* "PLAIN" or "LOGIN" once authenticated */
	char auth_trying[8];	/* the mechanism of a pending check */
	int auth_mech;		/* during an AUTH exchange */
	char *auth_login_user;
	int auth_failures;
	int errors;
	int junk;
	int discard_line;	/* an over-long command line is being skipped */
	int counts[SC_NCMD][2];	/* ok, total */

	/* transaction */
	int in_mail;
	char *sender;
	long long size_hint;
	int body_8bit;
	int ret;
	char *envid;
	int conperm;
	smtpd_rcpt *rcpt;
	size_t nrcpt;
	size_t rcpt_alloc;

	/* DATA */
	char queue_id[32];
	int data_clean_bol;	/* at a line start after a real CRLF (or the 354) */
	int data_bol;		/* at a line start (real or normalized) */
	int data_in_header;
	int data_hdr_cont;	/* inside a header we are capturing (Message-ID) */
	int data_bad;		/* 0, or why the message is refused at the end */
	int data_hops;
	long long data_size;
	char message_id[256];
	buf content;		/* content waiting for msg_write */

	/* results of the last message, for the I/O layer's log */
	int committed;
};

void smtpd_sess_init(smtpd_sess *s, const smtpd_conf *conf, const smtpd_hooks *hooks,
		     const char *name, const char *addr, int trusted);
void smtpd_sess_free(smtpd_sess *s);
/* The client's host name, once known (before the greeting). */
void smtpd_sess_set_name(smtpd_sess *s, const char *name);

/* The 220 greeting into out. */
void smtpd_proto_greet(smtpd_sess *s);
/* The client talked before the greeting: 554 5.5.0 into out; the session is over. */
void smtpd_proto_pregreet(smtpd_sess *s);
/* Append received bytes; -1 when the input buffer is full (caller stops reading). */
int smtpd_proto_feed(smtpd_sess *s, const void *p, size_t n);
/* Process buffered input; returns SMTPD_ACT_*. */
int smtpd_proto_run(smtpd_sess *s);
/* With SMTPD_ACT_COMMIT: the content not yet given to msg_write (the whole message
 * when it is small) moves into dst (caller frees); it belongs at the end of the file. */
void smtpd_proto_take_content(smtpd_sess *s, buf *dst);
/* After SMTPD_ACT_COMMIT: ok = 1 durable (250), 0 failed (451). */
void smtpd_proto_commit_done(smtpd_sess *s, int ok);
/* After SMTPD_ACT_AUTH: result 1 good, 0 bad, -1 temporary failure. Returns the next
 * SMTPD_ACT_* (READ, PAUSE after a failure, CLOSE at the failure limit). */
int smtpd_proto_auth_done(smtpd_sess *s, int result);
/* After SMTPD_ACT_STARTTLS: the handshake is done; state is reset (RFC 3207). */
void smtpd_proto_tls_started(smtpd_sess *s, const char *info);
/* Timeout or server shutdown: a 421 into out. */
void smtpd_proto_timeout(smtpd_sess *s);
void smtpd_proto_shutdown(smtpd_sess *s);
/* "ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4" for the disconnect line. */
void smtpd_proto_counts(const smtpd_sess *s, buf *out);
/* Where the session is, for logs: "CONNECT" "MAIL" "RCPT" "DATA" "END-OF-MESSAGE"... */
const char *smtpd_proto_stage(const smtpd_sess *s);
/* Is a message being received (between 354 and the end of data)? */
int smtpd_proto_in_data(const smtpd_sess *s);

/* The Received: header for the message in s (queue ID set), into out. */
void smtpd_received(const smtpd_sess *s, buf *out);

/* CONNEG reply lines (RFC 4141 or the 2002 draft) for expr: each line CRLF-ended;
 * the last one "250 ". first is the normal reply text ("2.1.5 Ok"). */
void smtpd_conneg_reply(buf *out, const char *first, const char *expr, int style);

/* base64 (RFC 4648) for AUTH; decode returns the length or -1. */
long smtpd_b64_decode(const char *in, size_t inlen, char *out, size_t outlen);
size_t smtpd_b64_encode(const void *in, size_t inlen, char *out, size_t outlen);

#endif
