/*
 * queue_recycle.c - the free/ pool of emptied queue files (see queue_recycle.h).
 *
 * Slots: free/ names are five decimal digits, 00000 .. QUEUE_FREE_SLOTS-1. A remover
 * first renames the file to a private dot name in free/ (.rPID.N), empties it there,
 * then probes a few slots from a per-process pseudo-random start and renames without
 * overwriting, so the pool stays bounded without anyone counting it. A producer reads
 * a batch of names with one readdir and claims them by rename; when two processes want
 * the same name the rename gives it to one, the other gets ENOENT and moves on (each
 * process walks its batch from its own offset, so that is rare). An empty pool is not
 * re-read for POOL_EMPTY_RECHECK_MS, so a producer with nothing to recycle pays one
 * clock read per file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mail/queue.h"
#include "mail/queue_recycle.h"
#include "util/buf.h"

#define PUT_TRIES		8
#define TAKE_BATCH		256
#define SLOT_NAME_LEN		5
#define POOL_EMPTY_RECHECK_MS	50

static _Atomic uint32_t put_seq;

static struct {
	pthread_mutex_t lock;
	char dir[PATH_MAX];		/* the free/ folder the batch came from */
	char name[TAKE_BATCH][SLOT_NAME_LEN + 1];
	int n, pos;
	int64_t empty_until_ms;		/* monotonic; pool found empty, do not re-read */
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int slot_name_valid(const char *s)
{
	for (int i = 0; i < SLOT_NAME_LEN; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return s[SLOT_NAME_LEN] == 0;
}

/* A start slot that differs between processes and between calls: a per-process seed
 * stepped by an odd constant (odd, so the walk reaches every slot of the power-of-two
 * range). */
static uint32_t put_start(void)
{
	uint32_t seq = atomic_fetch_add(&put_seq, 1);

	return ((uint32_t)getpid() * 2654435761u + seq * 7919u) % QUEUE_FREE_SLOTS;
}

/* Move the file at hold (ours alone) into a free slot; unlink it when none is free. */
static void put_in_slot(const char *queue_dir, const char *hold)
{
	char dst[PATH_MAX], slot[SLOT_NAME_LEN + 1];
	uint32_t start = put_start();

	for (int i = 0; i < PUT_TRIES; i++) {
		snprintf(slot, sizeof(slot), "%05u", (unsigned)((start + i) % QUEUE_FREE_SLOTS));
		if (queue_path(dst, sizeof(dst), queue_dir, Q_FREE, slot) < 0)
			break;
		if (renameat2(AT_FDCWD, hold, AT_FDCWD, dst, RENAME_NOREPLACE) == 0)
			return;
		if (errno != EEXIST)
			break;
	}
	(void)unlink(hold);
}

int queue_recycle_put(const char *queue_dir, const char *path)
{
	char hold[PATH_MAX], name[48];
	struct stat st;
	int fd;

	/* First take the file away under a name no producer claims (a dot name): from
	 * then on nobody else reaches it, and a message moved by qmgr meanwhile is
	 * never touched (the rename gets ENOENT). */
	snprintf(name, sizeof(name), "%s%ld.%u", QUEUE_FREE_HOLD_PREFIX, (long)getpid(),
		 (unsigned)atomic_fetch_add(&put_seq, 1));
	if (queue_path(hold, sizeof(hold), queue_dir, Q_FREE, name) < 0)
		return -1;
	if (renameat2(AT_FDCWD, path, AT_FDCWD, hold, RENAME_NOREPLACE) < 0) {
		if (errno != ENOENT || access(path, F_OK) == 0)
			errno = ENOSPC;	/* no free/ folder, EXDEV...: the caller unlinks */
		return -1;
	}
	fd = open(hold, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	/* a file with a second name keeps its bytes: only this name goes */
	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    ftruncate(fd, 0) < 0) {
		if (fd >= 0)
			close(fd);
		(void)unlink(hold);
		return 0;
	}
	close(fd);
	/* this process's own "pool is empty" note is stale now */
	pthread_mutex_lock(&pool.lock);
	pool.empty_until_ms = 0;
	pthread_mutex_unlock(&pool.lock);
	put_in_slot(queue_dir, hold);
	return 0;
}

void queue_recycle_recover(const char *queue_dir, int max_age)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	time_t now = time(NULL);
	size_t plen = strlen(QUEUE_FREE_HOLD_PREFIX);
	DIR *d;

	if (queue_path(path, sizeof(path), queue_dir, Q_FREE, "") < 0 ||
	    (d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, QUEUE_FREE_HOLD_PREFIX, plen) != 0)
			continue;
		/* ctime: the rename into free/ set it; mtime is the message's */
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    now - st.st_ctime < max_age)
			continue;
		(void)unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

/* Called with the lock held: read up to TAKE_BATCH slot names of free/. */
static void pool_fill(void)
{
	struct dirent *de;
	DIR *d;
	int n = 0, skip;

	pool.n = pool.pos = 0;
	if ((d = opendir(pool.dir)) == NULL)
		return;
	while (n < TAKE_BATCH && (de = readdir(d)) != NULL)
		if (slot_name_valid(de->d_name))
			memcpy(pool.name[n++], de->d_name, SLOT_NAME_LEN + 1);
	closedir(d);
	/* every process reads the names in the same order: start at its own place */
	skip = n ? (int)((uint32_t)getpid() % (uint32_t)n) : 0;
	for (int i = 0; i < skip; i++) {
		char t[SLOT_NAME_LEN + 1];

		memcpy(t, pool.name[0], sizeof(t));
		memmove(pool.name[0], pool.name[1], (size_t)(n - 1) * sizeof(pool.name[0]));
		memcpy(pool.name[n - 1], t, sizeof(t));
	}
	pool.n = n;
}

/* Called with the lock held: rename one pooled file to dst. 0, or -1 (pool empty,
 * or dst exists: errno EEXIST). */
static int pool_claim(const char *dst)
{
	char src[PATH_MAX];

	for (int refilled = 0;;) {
		if (pool.pos >= pool.n) {
			if (refilled || mono_ms() < pool.empty_until_ms)
				return -1;
			pool_fill();
			refilled = 1;
			if (pool.n == 0) {
				pool.empty_until_ms = mono_ms() + POOL_EMPTY_RECHECK_MS;
				return -1;
			}
		}
		if (snprintf(src, sizeof(src), "%s/%s", pool.dir, pool.name[pool.pos++])
		    >= (int)sizeof(src))
			return -1;
		if (renameat2(AT_FDCWD, src, AT_FDCWD, dst, RENAME_NOREPLACE) == 0)
			return 0;
		if (errno != ENOENT)	/* EEXIST (dst taken), EINVAL, EXDEV...: create instead */
			return -1;
	}
}

/* Open a claimed file and make it a fresh, private, empty file. */
static int claimed_open(const char *dst)
{
	struct stat st;
	int fd = open(dst, O_RDWR | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		goto drop;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1)
		goto drop;
	if ((st.st_size != 0 && ftruncate(fd, 0) < 0) ||
	    ((st.st_mode & 07777) != 0600 && fchmod(fd, 0600) < 0))
		goto drop;
	/* tmp/ files are judged stale by their age (queue_recover) */
	if (futimens(fd, NULL) < 0)
		goto drop;
	return fd;
drop:
	if (fd >= 0)
		close(fd);
	(void)unlink(dst);
	return -1;
}

int queue_recycle_take(const char *queue_dir, const char *dst)
{
	char dir[PATH_MAX];
	int rc;

	if (queue_path(dir, sizeof(dir), queue_dir, Q_FREE, "") < 0)
		return -1;
	dir[strlen(dir) - 1] = 0;	/* no trailing slash */
	pthread_mutex_lock(&pool.lock);
	if (strcmp(dir, pool.dir) != 0) {
		memcpy(pool.dir, dir, sizeof(dir));
		pool.n = pool.pos = 0;
		pool.empty_until_ms = 0;
	}
	rc = pool_claim(dst);
	pthread_mutex_unlock(&pool.lock);
	return rc < 0 ? -1 : claimed_open(dst);
}
