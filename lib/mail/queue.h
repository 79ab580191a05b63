/*
 * queue.h - the mail queue: durable queue files and their state moves.
 *
 * Layout under queue_directory: tmp/ incoming/ active/ deferred/ hold/ corrupt/
 * (message files, one per message, named by queue ID), defer/ (per-message delay
 * reasons, text, written by qmgr), free/ (emptied files for reuse: queue_recycle.h),
 * public/ (the qmgr trigger), private/ (agent sockets).
 *
 * Contract:
 *  - A queue file is written in tmp/, fsynced, renamed into incoming/ and the directory
 *    fsynced before qw_commit() returns 0. Only then may a producer say 250 / DELE.
 *  - Records are typed and length-checked: 1 type byte, 4-byte big-endian length,
 *    data. The last record is the end record; a file without one is partial, and
 *    qf_open() rejects it. Readers validate every length against the file size.
 *  - Content is stored as received: CRLF line ends, dot-unstuffed.
 *  - Per-recipient "done" is a single status byte changed in place (qf_mark_done).
 *  - Renames are the only state changes. Producers only add to incoming/; qmgr alone
 *    moves files out of it. The next-retry time of a deferred file is its mtime.
 *  - Queue IDs: 12 characters [0-9A-Z], strictly increasing by creation time within
 *    a host (time in microseconds plus inode), unique across processes.
 */
#ifndef FAXPOST_MAIL_QUEUE_H
#define FAXPOST_MAIL_QUEUE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define QUEUE_ID_LEN 12

#define Q_TMP "tmp"
#define Q_INCOMING "incoming"
#define Q_ACTIVE "active"
#define Q_DEFERRED "deferred"
#define Q_HOLD "hold"
#define Q_CORRUPT "corrupt"
#define Q_DEFER_LOG "defer"

/* DSN NOTIFY bits (RFC 3461) */
#define DSN_NOTIFY_NEVER	1
#define DSN_NOTIFY_SUCCESS	2
#define DSN_NOTIFY_FAILURE	4
#define DSN_NOTIFY_DELAY	8
#define DSN_RET_NONE	0
#define DSN_RET_FULL	1
#define DSN_RET_HDRS	2

typedef struct qrcpt {
	char *addr;		/* envelope recipient, without <> */
	char *orcpt;		/* DSN ORCPT as given ("rfc822;x@y"), or NULL */
	int notify;		/* DSN_NOTIFY_* bits; 0 = not given */
	int done;		/* set by reader: already delivered or bounced */
	off_t status_off;	/* reader: file offset of the status byte */
} qrcpt;

typedef struct qattr {
	char *name;
	char *value;
} qattr;

typedef struct qenvelope {
	char *sender;		/* "" for the null sender */
	int64_t arrival_us;	/* microseconds since the epoch */
	char *origin;		/* "smtp" "pop" "fax" "scan" "local" "bounce" */
	char *client_name;	/* may be NULL for non-network origins */
	char *client_addr;
	char *helo;
	char *protocol;		/* SMTP ESMTP ESMTPS ESMTPSA POP3 ... */
	char *auth_user;
	char *envid;		/* DSN ENVID or NULL */
	int ret;		/* DSN_RET_* */
	int body_8bit;		/* BODY=8BITMIME */
	size_t nrcpt;
	qrcpt *rcpt;
	size_t nattr;		/* extension attributes (conneg=..., conperm=yes, ...) */
	qattr *attr;
} qenvelope;

void qenv_init(qenvelope *env);
void qenv_free(qenvelope *env);
int qenv_add_rcpt(qenvelope *env, const char *addr, const char *orcpt, int notify);
int qenv_add_attr(qenvelope *env, const char *name, const char *value);
const char *qenv_attr(const qenvelope *env, const char *name);

/* Create the queue folders (mode 0700) when missing. */
int queue_init_dirs(const char *queue_dir, char *err, size_t errlen);

/* --- writing (producers) --------------------------------------------------- */
typedef struct qwriter qwriter;

qwriter *qw_create(const char *queue_dir, char *err, size_t errlen);
const char *qw_id(const qwriter *w);
int qw_envelope(qwriter *w, const qenvelope *env);
int qw_content(qwriter *w, const void *data, size_t len);	/* may be called often */
size_t qw_content_size(const qwriter *w);
/* All of: end record, fsync, rename to incoming/, fsync incoming/. */
int qw_commit(qwriter *w, char *err, size_t errlen);
/* The same in steps, for callers that batch fsyncs (group commit):
 * qw_finish() writes the end record; qw_sync() fsyncs the file (thread-safe for
 * distinct writers); qw_publish() renames into incoming/; then the caller fsyncs the
 * directory once for a batch with queue_sync_dir(). */
int qw_finish(qwriter *w);
int qw_sync(qwriter *w);
int qw_publish(qwriter *w);
int queue_sync_dir(const char *queue_dir, const char *state);
void qw_abort(qwriter *w);		/* the tmp file emptied into free/, or unlinked */
/* Recovery for producers that batch: publish the complete, fsynced tmp/ file of queue
 * ID id that a crashed process left unpublished. 1 published, 0 no such tmp file (it was
 * published, or never written), -1 error (a partial file is left for queue_recover). */
int queue_publish_orphan(const char *queue_dir, const char *id, char *err, size_t errlen);
void qw_free(qwriter *w);		/* after commit or abort */

/* --- reading (qmgr, agents, faxpost queue) --------------------------------- */
typedef struct qfile {
	char id[QUEUE_ID_LEN + 1];
	int fd;
	qenvelope env;
	off_t content_off;	/* where the message bytes start */
	off_t content_len;
	off_t file_size;
} qfile;

/* Open and validate. mode O_RDONLY or O_RDWR (needed for qf_mark_done). */
qfile *qf_open(const char *path, int mode, char *err, size_t errlen);
int qf_mark_done(qfile *qf, size_t rcpt_index);	/* writes and fsyncs the byte */
size_t qf_pending(const qfile *qf);		/* recipients not done */
/* Read up to len content bytes at content offset off. Returns bytes or -1. */
ssize_t qf_read_content(qfile *qf, off_t off, void *dst, size_t len);
void qf_close(qfile *qf);

/* --- state moves ----------------------------------------------------------- */
/* rename queue_dir/from/id -> queue_dir/to/id. -1 with errno (ENOENT = lost a race). */
int queue_move(const char *queue_dir, const char *id, const char *from, const char *to);
/* Remove a message: its file is emptied into free/ (or unlinked), defer/ID unlinked. */
int queue_remove(const char *queue_dir, const char *id, const char *state);
/* Build "queue_dir/state/id" into path. */
int queue_path(char *path, size_t size, const char *queue_dir, const char *state,
	       const char *id);
int queue_id_valid(const char *id);
/* Start-up recovery (qmgr): active/ -> incoming/, stale tmp/ files (older than
 * max_age seconds) removed. Returns the number of files moved, -1 on error. */
int queue_recover(const char *queue_dir, int max_age);

/* Per-message delay reasons: queue_dir/defer/ID, lines "rcpt<TAB>dsn<TAB>reason". */
int queue_defer_write(const char *queue_dir, const char *id, const char *text);
char *queue_defer_read(const char *queue_dir, const char *id);	/* malloc'd or NULL */

/* Wake qmgr: a datagram on queue_dir/public/qmgr (never blocks, errors ignored). */
void queue_trigger(const char *queue_dir, char what);
#define TRIGGER_NEW	'W'	/* new mail in incoming/ */
#define TRIGGER_FLUSH	'F'	/* retry deferred now */
#define TRIGGER_SCAN	'S'	/* rescan (queue operations) */

#endif
