/*
 * smtpd_tmplock.c - the tmp/ folder lock of smtpd (see smtpd_tmplock.h).
 *
 * Contract: the lock file is queue_dir/tmp/.smtpd.lock (a dot file: qmgr's recovery
 * skips it, as it skips the ID clock beside it). A descriptor of -1 makes take and
 * drop no-ops.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

#include "smtpd_tmplock.h"
#include "util/msg.h"

int tmplock_open(const char *queue_dir)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/tmp/.smtpd.lock", queue_dir) >= (int)sizeof(path))
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		msg_warn("open %s: %m (creations and renames in tmp/ go unserialized)", path);
	return fd;
}

void tmplock_take(int fd)
{
	if (fd >= 0)
		while (flock(fd, LOCK_EX) < 0 && errno == EINTR)
			;
}

void tmplock_drop(int fd)
{
	if (fd >= 0)
		(void)flock(fd, LOCK_UN);
}
