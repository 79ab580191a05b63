/*
 * fetch.h - one poll of one POP3 mailbox into the queue.
 *
 * Contract (the POP3 reliability rule): for each new message, RETR; write it into the
 * queue and commit (fsync file and directory); record its UIDL durably; only then
 * DELE (unless the mailbox keeps mail on the server); QUIT commits the deletions. A
 * crash anywhere leaves the message on the server, and the UIDL record stops a second
 * fetch; the one window that can duplicate (between queue commit and UIDL record) is
 * logged and counted. Messages already fetched but still on the server (an earlier
 * QUIT was lost) are deleted without a second fetch.
 */
#ifndef FAXPOST_POPD_FETCH_H
#define FAXPOST_POPD_FETCH_H

#include "mail/pop_mailbox.h"
#include "uidl.h"

typedef struct fetch_stats {
	long listed;		/* messages on the server */
	long fetched;		/* newly queued */
	long skipped;		/* too large, unsafe UIDL, or failed */
	long deleted;		/* DELE accepted (committed by QUIT) */
	long long bytes;	/* bytes queued */
	int quit_ok;
} fetch_stats;

/* Called after each message with running totals (may be NULL). */
typedef void (*fetch_progress_fn)(void *ctx, const mailbox *mb, const fetch_stats *st);

int fetch_mailbox(const mailbox *mb, const char *password, uidl_db *u, const char *queue_dir,
		  fetch_stats *st, fetch_progress_fn progress, void *ctx,
		  char *err, size_t errlen);

#endif
