/*
 * queue_defer.c - the per-message delay-reason sidecar queue_dir/defer/ID.
 *
 * Contract (queue.h): queue_defer_write() replaces the whole file atomically (write
 * defer/.ID.PID, rename), so a reader sees the old or the new text, never a mix. It
 * is not fsynced: the reasons are advice for `faxpost queue` and for DSNs, and the
 * message itself stays safe in the queue whatever happens to them (as Postfix).
 * queue_defer_read() returns the text (at most 1 MB) or NULL (errno ENOENT if none).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/queue.h"
#include "util/msg.h"

#define DEFER_MAX	(1024 * 1024)

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int queue_defer_write(const char *queue_dir, const char *id, const char *text)
{
	char path[PATH_MAX], tmp[PATH_MAX];
	int fd, n;

	if (!queue_id_valid(id) || text == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (queue_path(path, sizeof(path), queue_dir, Q_DEFER_LOG, id) < 0)
		return -1;
	n = snprintf(tmp, sizeof(tmp), "%s/%s/.%s.%ld", queue_dir, Q_DEFER_LOG, id, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0)
		return -1;
	if (write_all(fd, text, strlen(text)) < 0 || close(fd) < 0) {
		int saved = errno;
		close(fd);
		unlink(tmp);
		errno = saved;
		return -1;
	}
	if (rename(tmp, path) < 0) {
		int saved = errno;
		unlink(tmp);
		errno = saved;
		return -1;
	}
	return 0;
}

char *queue_defer_read(const char *queue_dir, const char *id)
{
	char path[PATH_MAX];
	struct stat st;
	size_t got = 0;
	char *text;
	int fd;

	if (!queue_id_valid(id)) {
		errno = EINVAL;
		return NULL;
	}
	if (queue_path(path, sizeof(path), queue_dir, Q_DEFER_LOG, id) < 0)
		return NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > DEFER_MAX) {
		close(fd);
		errno = EFBIG;
		return NULL;
	}
	text = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, text + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	text[got] = 0;
	return text;
}
