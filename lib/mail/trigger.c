/*
 * trigger.c - wake qmgr through the datagram socket queue_dir/public/qmgr.
 *
 * Contract: queue_trigger() (queue.h) never blocks and ignores every error: the
 * trigger only shortens the wait, qmgr also scans on its own timer. It opens a fresh
 * datagram socket per call (socket + sendto + close) rather than caching one, so a
 * descriptor closed and reused behind our back can never receive the byte.
 * trigger_listen()/trigger_read(): see trigger.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "mail/queue.h"
#include "mail/trigger.h"

static int trigger_addr(struct sockaddr_un *sun, const char *queue_dir)
{
	int n;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	n = snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/%s", queue_dir, TRIGGER_SOCKET);
	return n < 0 || (size_t)n >= sizeof(sun->sun_path) ? -1 : 0;
}

void queue_trigger(const char *queue_dir, char what)
{
	struct sockaddr_un sun;
	int fd, saved = errno;

	if (trigger_addr(&sun, queue_dir) == 0
	    && (fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) >= 0) {
		(void)sendto(fd, &what, 1, MSG_DONTWAIT | MSG_NOSIGNAL,
			     (struct sockaddr *)&sun, sizeof(sun));
		close(fd);
	}
	errno = saved;
}

int trigger_listen(const char *queue_dir, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	int fd;

	if (trigger_addr(&sun, queue_dir) < 0) {
		snprintf(err, errlen, "%s/%s: path too long", queue_dir, TRIGGER_SOCKET);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	/* A socket file left by a dead qmgr would make bind fail with EADDRINUSE. */
	if (unlink(sun.sun_path) < 0 && errno != ENOENT) {
		snprintf(err, errlen, "unlink %s: %s", sun.sun_path, strerror(errno));
		close(fd);
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0
	    || chmod(sun.sun_path, 0622) < 0) {
		snprintf(err, errlen, "bind %s: %s", sun.sun_path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

int trigger_read(int fd, char *what)
{
	char buf[64];

	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
		}
		if (n >= 1 && (buf[0] == TRIGGER_NEW || buf[0] == TRIGGER_FLUSH
			       || buf[0] == TRIGGER_SCAN)) {
			*what = buf[0];
			return 1;
		}
		/* empty or unknown: drop it and look at the next one */
	}
}
