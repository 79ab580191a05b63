/*
 * master_listen.c - the listening sockets master creates for its services.
 *
 * Contract: inet "[host:]port" binds every address the host resolves to (no host:
 * every local address, IPv4 and IPv6), SO_REUSEADDR, IPv6 sockets V6ONLY; unix and
 * pass: a stream socket queue_directory/private/NAME (or public/ when private = n),
 * unix-dgram a datagram socket there, fifo a FIFO opened read-write; sockets are
 * mode 0666 (the folder's mode is the protection) and owned by mail_owner. All fds are
 * close-on-exec in master; master_spawn dup2()s them to fd 4.. in the worker.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "mail/config.h"
#include "master.h"
#include "util/buf.h"
#include "util/msg.h"

#define MASTER_BACKLOG 128

static int master_listen_inet(master_service *svc, char *err, size_t errlen)
{
	char spec[256];
	char *host = NULL, *port = spec;
	struct addrinfo hints, *res, *ai;
	int rc, on = 1;

	if (str_copy(spec, sizeof(spec), svc->ent.service) < 0) {
		snprintf(err, errlen, "service name too long");
		return -1;
	}
	if (spec[0] == '[') {
		char *close = strchr(spec, ']');

		if (!close || close[1] != ':') {
			snprintf(err, errlen, "bad address %s", svc->ent.service);
			return -1;
		}
		*close = 0;
		host = spec + 1;
		port = close + 2;
	} else if (strchr(spec, ':')) {
		port = strrchr(spec, ':');
		*port++ = 0;
		host = spec;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	rc = getaddrinfo(host && *host && strcmp(host, "*") ? host : NULL, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", svc->ent.service, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai && svc->nlisten < DAEMON_MAX_LISTEN; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);

		if (fd < 0)
			continue;	/* e.g. no IPv6 on this host */
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
		if (ai->ai_family == AF_INET6)
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, MASTER_BACKLOG) < 0) {
			int e = errno;

			close(fd);
			/* A missing IPv6 stack must not stop an IPv4 service from starting. */
			if (host == NULL && ai->ai_family == AF_INET6 && e == EADDRNOTAVAIL)
				continue;
			snprintf(err, errlen, "bind %s: %s", svc->ent.service, strerror(e));
			freeaddrinfo(res);
			master_listen_close(svc, 0);
			return -1;
		}
		svc->listen_fds[svc->nlisten++] = fd;
	}
	freeaddrinfo(res);
	if (svc->nlisten == 0) {
		snprintf(err, errlen, "%s: no address to listen on", svc->ent.service);
		return -1;
	}
	return 0;
}

static int master_listen_local(master_service *svc, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	const char *t = svc->ent.type;
	int fd;

	if (strcmp(t, "fifo") == 0) {
		unlink(svc->sock_path);
		if (mkfifo(svc->sock_path, 0622) < 0 ||
		    (fd = open(svc->sock_path, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0) {
			snprintf(err, errlen, "fifo %s: %s", svc->sock_path, strerror(errno));
			return -1;
		}
	} else {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (str_copy(sun.sun_path, sizeof(sun.sun_path), svc->sock_path) < 0) {
			snprintf(err, errlen, "socket path too long: %s", svc->sock_path);
			return -1;
		}
		fd = socket(AF_UNIX, (strcmp(t, "unix-dgram") == 0 ? SOCK_DGRAM : SOCK_STREAM) |
			    SOCK_CLOEXEC, 0);
		if (fd < 0) {
			snprintf(err, errlen, "socket: %s", strerror(errno));
			return -1;
		}
		unlink(svc->sock_path);
		if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
		    (strcmp(t, "unix-dgram") != 0 && listen(fd, MASTER_BACKLOG) < 0)) {
			snprintf(err, errlen, "bind %s: %s", svc->sock_path, strerror(errno));
			close(fd);
			return -1;
		}
		chmod(svc->sock_path, 0666);
	}
	if (master.have_owner && chown(svc->sock_path, master.owner_uid, master.owner_gid) < 0)
		msg_warn("chown %s: %s", svc->sock_path, strerror(errno));
	svc->listen_fds[svc->nlisten++] = fd;
	return 0;
}

int master_listen_open(master_service *svc, char *err, size_t errlen)
{
	if (strcmp(svc->ent.type, "inet") == 0)
		return master_listen_inet(svc, err, errlen);
	return master_listen_local(svc, err, errlen);
}

void master_listen_close(master_service *svc, int unlink_socket)
{
	for (int i = 0; i < svc->nlisten; i++)
		close(svc->listen_fds[i]);
	svc->nlisten = 0;
	if (unlink_socket && svc->sock_path)
		unlink(svc->sock_path);
}

/* Reload keeps a listener when the address it is bound to did not change. */
int master_same_address(const master_service *a, const master_service *b)
{
	if (strcmp(a->ent.type, b->ent.type) != 0 || strcmp(a->ent.service, b->ent.service) != 0)
		return 0;
	if (a->sock_path || b->sock_path)
		return a->sock_path && b->sock_path && strcmp(a->sock_path, b->sock_path) == 0;
	return 1;
}
