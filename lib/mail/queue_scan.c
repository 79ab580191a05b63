/*
 * queue_scan.c - iterate one queue state folder (see queue_scan.h).
 *
 * Contract: only names that are valid queue IDs come out; with QSCAN_SORT they are
 * collected (12-byte fixed records, one allocation that doubles) and sorted, which
 * for 100,000 files costs a few milliseconds; otherwise they stream in readdir
 * order with no allocation per entry.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/queue_scan.h"
#include "util/buf.h"
#include "util/msg.h"

struct queue_scan {
	DIR *dir;
	int flags;
	char (*ids)[QUEUE_ID_LEN + 1];	/* QSCAN_SORT: all IDs */
	size_t nids;
	size_t next;
};

static int id_cmp(const void *a, const void *b)
{
	return memcmp(a, b, QUEUE_ID_LEN);
}

static int scan_collect(queue_scan *s)
{
	struct dirent *de;
	size_t cap = 0;

	errno = 0;
	while ((de = readdir(s->dir)) != NULL) {
		if (!queue_id_valid(de->d_name))
			continue;
		if (s->nids == cap) {
			size_t bytes;
			cap = cap ? cap * 2 : 1024;
			if (size_mul(cap, sizeof(*s->ids), &bytes) < 0) {
				errno = ENOMEM;
				return -1;
			}
			s->ids = xrealloc(s->ids, bytes);
		}
		memcpy(s->ids[s->nids++], de->d_name, QUEUE_ID_LEN + 1);
	}
	if (errno != 0)
		return -1;
	if (s->nids > 1)
		qsort(s->ids, s->nids, sizeof(*s->ids), id_cmp);
	return 0;
}

queue_scan *queue_scan_open(const char *queue_dir, const char *state, int flags,
			    char *err, size_t errlen)
{
	char path[PATH_MAX];
	queue_scan *s;

	if (snprintf(path, sizeof(path), "%s/%s", queue_dir, state) >= (int)sizeof(path)) {
		snprintf(err, errlen, "%s/%s: path too long", queue_dir, state);
		errno = ENAMETOOLONG;
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->flags = flags;
	if ((s->dir = opendir(path)) == NULL) {
		snprintf(err, errlen, "open %s: %s", path, strerror(errno));
		free(s);
		return NULL;
	}
	if ((flags & QSCAN_SORT) && scan_collect(s) < 0) {
		snprintf(err, errlen, "read %s: %s", path, strerror(errno));
		queue_scan_close(s);
		return NULL;
	}
	return s;
}

static int scan_stat(queue_scan *s, queue_entry *e)
{
	struct stat st;

	if (fstatat(dirfd(s->dir), e->id, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	e->mtime = st.st_mtime;
	e->size = st.st_size;
	return 0;
}

int queue_scan_next(queue_scan *s, queue_entry *e)
{
	struct dirent *de;

	for (;;) {
		if (s->flags & QSCAN_SORT) {
			if (s->next >= s->nids)
				return 0;
			memcpy(e->id, s->ids[s->next++], QUEUE_ID_LEN + 1);
		} else {
			errno = 0;
			if ((de = readdir(s->dir)) == NULL)
				return errno ? -1 : 0;
			if (!queue_id_valid(de->d_name))
				continue;
			memcpy(e->id, de->d_name, QUEUE_ID_LEN + 1);
		}
		e->mtime = 0;
		e->size = 0;
		if (!(s->flags & QSCAN_STAT))
			return 1;
		if (scan_stat(s, e) == 0)
			return 1;
		if (errno != ENOENT)	/* vanished: moved by qmgr meanwhile */
			return -1;
	}
}

qfile *queue_scan_qf(queue_scan *s, queue_entry *e, int mode, char *err, size_t errlen)
{
	struct stat st;
	qfile *qf = qf_openat(dirfd(s->dir), e->id, mode, &st, err, errlen);

	if (qf != NULL) {
		e->mtime = st.st_mtime;
		e->size = st.st_size;
	}
	return qf;
}

int queue_scan_dirfd(const queue_scan *s)
{
	return dirfd(s->dir);
}

void queue_scan_close(queue_scan *s)
{
	if (s == NULL)
		return;
	if (s->dir)
		closedir(s->dir);
	free(s->ids);
	free(s);
}
