/*
 * queue_crash.h - named crash points for the durability tests (security.md 5.2).
 *
 * Contract: queue_crashpoint("name") does nothing unless the environment variable
 * FAXPOST_CRASHPOINT is "name" or "name:N"; then the N-th call (default 1) with that
 * name in this process raises SIGKILL, as a kill -9 landing exactly there would.
 * The variable is read once per process; the check costs a compare afterwards.
 * Points in lib/mail/queue_write.c: qw_before_write, qw_before_sync, qw_after_sync,
 * qw_after_rename (before the directory fsync); in queue.c: qw_after_dirsync
 * (after each successful queue_sync_dir).
 * Other parts may add their own names (e.g. smtpd_before_250).
 */
#ifndef FAXPOST_MAIL_QUEUE_CRASH_H
#define FAXPOST_MAIL_QUEUE_CRASH_H

void queue_crashpoint(const char *name);

#endif
