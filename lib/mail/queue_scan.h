/*
 * queue_scan.h - listing a queue state folder (faxpost queue, qmgr scans, checks).
 *
 * Contract: queue_scan_open() opens queue_dir/state; queue_scan_next() returns the
 * entries whose names are valid queue IDs (anything else is skipped, never trusted),
 * with QSCAN_STAT also their mtime and size (one fstatat each); with QSCAN_SORT all
 * names are read first and returned in ID order (= arrival order). For the envelope,
 * queue_scan_qf() opens the entry relative to the folder (no path walk per file):
 * open + fstat + one pread of the head, and fills the entry's mtime and size from that
 * same fstat. A name that vanished in the meantime (qmgr moved it) gives NULL with
 * errno ENOENT: skip it.
 */
#ifndef FAXPOST_MAIL_QUEUE_SCAN_H
#define FAXPOST_MAIL_QUEUE_SCAN_H

#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include "mail/queue.h"

#define QSCAN_STAT	1	/* fill mtime and size */
#define QSCAN_SORT	2	/* return entries in ID order */

typedef struct queue_entry {
	char id[QUEUE_ID_LEN + 1];
	time_t mtime;		/* with QSCAN_STAT or after queue_scan_qf() */
	off_t size;
} queue_entry;

typedef struct queue_scan queue_scan;

queue_scan *queue_scan_open(const char *queue_dir, const char *state, int flags,
			    char *err, size_t errlen);
/* 1 = an entry, 0 = end, -1 = error (errno). */
int queue_scan_next(queue_scan *s, queue_entry *e);
/* Open and validate the entry's queue file (mode O_RDONLY or O_RDWR). */
qfile *queue_scan_qf(queue_scan *s, queue_entry *e, int mode, char *err, size_t errlen);
int queue_scan_dirfd(const queue_scan *s);
void queue_scan_close(queue_scan *s);

/* qf_open() relative to a directory fd; st (may be NULL) gets the file's fstat. */
qfile *qf_openat(int dirfd, const char *name, int mode, struct stat *st,
		 char *err, size_t errlen);

#endif
