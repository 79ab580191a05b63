/*
 * queue.c - the queue's folders, paths, envelopes in memory, state moves, recovery.
 *
 * Contract (see queue.h): renames are the only state changes and never overwrite a
 * file of the same name (renameat2 RENAME_NOREPLACE where the file system has it);
 * queue_remove also drops the message's defer/ID log; queue_recover moves active/
 * back to incoming/ (fsyncing incoming/ afterwards) and removes stale tmp/ files.
 * Writing is in queue_write.c, reading in queue_read.c, IDs in queue_id.c.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mail/queue.h"
#include "mail/queue_recycle.h"
#include "mail/queue_crash.h"
#include "mail/queue_rec.h"
#include "util/buf.h"
#include "util/msg.h"

static const char *const queue_dirs[] = {
	Q_TMP, Q_INCOMING, Q_ACTIVE, Q_DEFERRED, Q_HOLD, Q_CORRUPT, Q_DEFER_LOG, Q_FREE,
	"public", "private", NULL
};

/* --- envelopes ------------------------------------------------------------- */

void qenv_init(qenvelope *env)
{
	memset(env, 0, sizeof(*env));
}

void qenv_free(qenvelope *env)
{
	free(env->sender);
	free(env->origin);
	free(env->client_name);
	free(env->client_addr);
	free(env->helo);
	free(env->protocol);
	free(env->auth_user);
	free(env->envid);
	for (size_t i = 0; i < env->nrcpt; i++) {
		free(env->rcpt[i].addr);
		free(env->rcpt[i].orcpt);
	}
	free(env->rcpt);
	for (size_t i = 0; i < env->nattr; i++) {
		free(env->attr[i].name);
		free(env->attr[i].value);
	}
	free(env->attr);
	qenv_init(env);
}

/* Grow an array of n elements so that element n fits: capacity is the next power
 * of two, so no capacity field is needed and appends stay amortised O(1). */
static void *grow(void *arr, size_t n, size_t elsize)
{
	size_t cap;

	if (n != 0 && (n & (n - 1)) != 0)
		return arr;
	cap = n ? n * 2 : 4;
	if (size_mul(cap, elsize, &cap) < 0)
		return NULL;
	return xrealloc(arr, cap);
}

int qenv_add_rcpt(qenvelope *env, const char *addr, const char *orcpt, int notify)
{
	qrcpt *r;

	if (addr == NULL || notify < 0 || notify > 15) {
		errno = EINVAL;
		return -1;
	}
	if ((r = grow(env->rcpt, env->nrcpt, sizeof(*r))) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	env->rcpt = r;
	r += env->nrcpt++;
	memset(r, 0, sizeof(*r));
	r->addr = xstrdup(addr);
	r->orcpt = orcpt ? xstrdup(orcpt) : NULL;
	r->notify = notify;
	return 0;
}

int qenv_add_attr(qenvelope *env, const char *name, const char *value)
{
	qattr *a;

	if (name == NULL || *name == 0 || value == NULL) {
		errno = EINVAL;
		return -1;
	}
	if ((a = grow(env->attr, env->nattr, sizeof(*a))) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	env->attr = a;
	a += env->nattr++;
	a->name = xstrdup(name);
	a->value = xstrdup(value);
	return 0;
}

const char *qenv_attr(const qenvelope *env, const char *name)
{
	for (size_t i = 0; i < env->nattr; i++)
		if (strcmp(env->attr[i].name, name) == 0)
			return env->attr[i].value;
	return NULL;
}

/* --- folders and paths ------------------------------------------------------ */

int queue_init_dirs(const char *queue_dir, char *err, size_t errlen)
{
	char path[PATH_MAX];

	if (mkdir(queue_dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "mkdir %s: %s", queue_dir, strerror(errno));
		return -1;
	}
	for (const char *const *d = queue_dirs; *d; d++) {
		if (snprintf(path, sizeof(path), "%s/%s", queue_dir, *d) >= (int)sizeof(path)) {
			snprintf(err, errlen, "%s: path too long", queue_dir);
			return -1;
		}
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "mkdir %s: %s", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

int queue_path(char *path, size_t size, const char *queue_dir, const char *state,
	       const char *id)
{
	int n = snprintf(path, size, "%s/%s/%s", queue_dir, state, id);

	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int queue_sync_dir(const char *queue_dir, const char *state)
{
	char path[PATH_MAX];
	int fd, rc, saved;

	if (snprintf(path, sizeof(path), "%s/%s", queue_dir, state) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	rc = fsync(fd);
	saved = errno;
	close(fd);
	if (rc == 0)
		queue_crashpoint("qw_after_dirsync");
	errno = saved;
	return rc;
}

/* rename without overwriting; falls back to link+unlink where renameat2 lacks
 * RENAME_NOREPLACE (EINVAL), which gives the same never-clobber guarantee. */
int queue_rename_noreplace(const char *from, const char *to)
{
	if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (link(from, to) < 0)
		return -1;
	if (unlink(from) < 0) {
		int saved = errno;
		unlink(to);
		errno = saved;
		return -1;
	}
	return 0;
}

int queue_move(const char *queue_dir, const char *id, const char *from, const char *to)
{
	char src[PATH_MAX], dst[PATH_MAX];

	if (!queue_id_valid(id)) {
		errno = EINVAL;
		return -1;
	}
	if (queue_path(src, sizeof(src), queue_dir, from, id) < 0
	    || queue_path(dst, sizeof(dst), queue_dir, to, id) < 0)
		return -1;
	return queue_rename_noreplace(src, dst);
}

int queue_remove(const char *queue_dir, const char *id, const char *state)
{
	char path[PATH_MAX];

	if (!queue_id_valid(id)) {
		errno = EINVAL;
		return -1;
	}
	if (queue_path(path, sizeof(path), queue_dir, state, id) < 0)
		return -1;
	/* emptied into free/ for the next producer; unlinked when the pool is full */
	if (queue_recycle_put(queue_dir, path) < 0 && (errno == ENOENT || unlink(path) < 0))
		return -1;
	/* The delay reasons belong to the message: drop them with it. */
	if (strcmp(state, Q_DEFER_LOG) != 0
	    && queue_path(path, sizeof(path), queue_dir, Q_DEFER_LOG, id) == 0)
		(void)unlink(path);
	return 0;
}

/* --- recovery --------------------------------------------------------------- */

static int recover_active(const char *queue_dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *dir;
	int moved = 0;

	if (queue_path(path, sizeof(path), queue_dir, Q_ACTIVE, "") < 0
	    || (dir = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(dir)) != NULL) {
		if (!queue_id_valid(de->d_name))
			continue;
		if (queue_move(queue_dir, de->d_name, Q_ACTIVE, Q_INCOMING) == 0)
			moved++;
		else if (errno == EEXIST)
			msg_warn("%s: in both %s/ and %s/; left in %s/", de->d_name,
				 Q_ACTIVE, Q_INCOMING, Q_ACTIVE);
		else if (errno != ENOENT)
			msg_warn("%s: move %s -> %s: %s", de->d_name, Q_ACTIVE, Q_INCOMING,
				 strerror(errno));
	}
	closedir(dir);
	return moved;
}

static void recover_tmp(const char *queue_dir, int max_age)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	time_t now = time(NULL);
	DIR *dir;

	if (queue_path(path, sizeof(path), queue_dir, Q_TMP, "") < 0
	    || (dir = opendir(path)) == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		/* dot files (the ID clock) are not queue files */
		if (de->d_name[0] == '.')
			continue;
		if (fstatat(dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (!S_ISREG(st.st_mode) || now - st.st_mtime < max_age)
			continue;
		if (unlinkat(dirfd(dir), de->d_name, 0) == 0)
			msg_info("removed stale temporary file %s/%s", Q_TMP, de->d_name);
	}
	closedir(dir);
}

int queue_recover(const char *queue_dir, int max_age)
{
	int moved = recover_active(queue_dir);

	if (moved > 0 && queue_sync_dir(queue_dir, Q_INCOMING) < 0)
		msg_warn("fsync %s/%s: %s", queue_dir, Q_INCOMING, strerror(errno));
	recover_tmp(queue_dir, max_age);
	queue_recycle_recover(queue_dir, max_age);
	return moved;
}
