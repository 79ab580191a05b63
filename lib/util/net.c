/*
 * net.c - sockets: connect with a timeout, TCP and UNIX listeners, peer names.
 *
 * Contract (see stream.h): net_connect() tries every address getaddrinfo() gives,
 * in order, within one overall deadline (non-blocking connect + poll), and returns a
 * blocking, close-on-exec socket. net_listen() binds with SO_REUSEADDR; a NULL, "",
 * "*" or "[::]" address means every address (IPv6 dual-stack when available, else
 * IPv4); "[::1]" style brackets are accepted; a name binds its first address. net_listen_unix() replaces a stale
 * socket but never another kind of file. net_peer_name() gives Postfix's
 * "name[addr]", with "unknown" when the reverse name does not map back to the
 * address (forward-confirmed, as Postfix does).
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "util/buf.h"
#include "util/stream.h"

int net_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	fl = on ? (fl | O_NONBLOCK) : (fl & ~O_NONBLOCK);
	return fcntl(fd, F_SETFL, fl);
}

/* Copy host without surrounding [ ] into out. */
static void net_unbracket(const char *host, char *out, size_t outlen)
{
	size_t n = strlen(host);

	if (n >= 2 && host[0] == '[' && host[n - 1] == ']')
		str_ncopy(out, outlen, host + 1, n - 2);
	else
		str_copy(out, outlen, host);
}

static long long net_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Connect fd to ai before the deadline: 0, or -1 with errno. */
static int net_connect_one(int fd, const struct addrinfo *ai, long long deadline)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	socklen_t len = sizeof(int);
	long long left;
	int rc, soerr = 0;

	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EINTR)
		return -1;
	for (;;) {
		left = deadline < 0 ? -1 : deadline - net_now_ms();
		if (deadline >= 0 && left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		rc = poll(&pfd, 1, left > 1000000000 ? 1000000000 : (int)left);
		if (rc > 0)
			break;
		if (rc == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (errno != EINTR)
			return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return -1;
	if (soerr) {
		errno = soerr;
		return -1;
	}
	return 0;
}

int net_connect(const char *host, const char *port, int timeout_ms, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res, *ai;
	char name[256];
	long long deadline = timeout_ms > 0 ? net_now_ms() + timeout_ms : -1;
	int fd = -1, rc, saved = 0, one = 1;

	net_unbracket(host, name, sizeof(name));
	if ((rc = getaddrinfo(name, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s port %s: %s", host, port, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0) {
			saved = errno;
			continue;
		}
		if (net_connect_one(fd, ai, deadline) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
		if (saved == ETIMEDOUT)
			break;	/* the overall deadline has passed */
	}
	freeaddrinfo(res);
	if (fd < 0) {
		snprintf(err, errlen, "connect to %s port %s: %s", host, port,
			 saved == ETIMEDOUT ? "Connection timed out" : strerror(saved));
		return -1;
	}
	net_nonblock(fd, 0);
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static int net_wildcard(const char *addr)
{
	return !addr || !*addr || strcmp(addr, "*") == 0 || strcmp(addr, "[::]") == 0
		|| strcmp(addr, "::") == 0;
}

static int net_bind_listen(const struct addrinfo *ai, int backlog, int v6only)
{
	int fd, one = 1, saved;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ai->ai_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, backlog) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

int net_listen(const char *addr, const char *port, int backlog, char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE };
	struct addrinfo *res, *ai;
	char name[256];
	int fd = -1, rc, saved = EADDRNOTAVAIL, wild = net_wildcard(addr);

	if (wild) {
		/* One dual-stack socket when IPv6 exists, else IPv4 alone. */
		hints.ai_family = AF_INET6;
		if (getaddrinfo(NULL, port, &hints, &res) == 0) {
			fd = net_bind_listen(res, backlog, 0);
			saved = errno;
			freeaddrinfo(res);
			if (fd >= 0)
				return fd;
			if (saved == EADDRINUSE) {
				snprintf(err, errlen, "bind * port %s: %s", port, strerror(saved));
				return -1;
			}
		}
		hints.ai_family = AF_INET;
		name[0] = 0;
	} else {
		hints.ai_family = AF_UNSPEC;
		net_unbracket(addr, name, sizeof(name));
	}
	if ((rc = getaddrinfo(name[0] ? name : NULL, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "listen %s port %s: %s", addr ? addr : "*", port,
			 gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai && fd < 0; ai = ai->ai_next) {
		fd = net_bind_listen(ai, backlog, 1);
		if (fd < 0)
			saved = errno;
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errlen, "bind %s port %s: %s", addr && *addr ? addr : "*", port,
			 strerror(saved));
	return fd;
}

int net_listen_unix(const char *path, int mode, int backlog, char *err, size_t errlen)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;
	int fd;

	if (str_copy(sun.sun_path, sizeof(sun.sun_path), path) < 0) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return -1;
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket", path);
			return -1;
		}
		unlink(path);	/* stale socket of an earlier run */
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0
	    || chmod(path, (mode_t)mode) < 0 || listen(fd, backlog) < 0) {
		snprintf(err, errlen, "listen on %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Numeric address of sa into ip; IPv4-mapped IPv6 shown as IPv4. */
static int net_numeric(struct sockaddr_storage *ss, socklen_t len, char *ip, size_t iplen)
{
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	struct sockaddr_in s4;

	if (ss->ss_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		memset(&s4, 0, sizeof(s4));
		s4.sin_family = AF_INET;
		s4.sin_port = s6->sin6_port;
		memcpy(&s4.sin_addr, &s6->sin6_addr.s6_addr[12], 4);
		memcpy(ss, &s4, sizeof(s4));
		len = sizeof(s4);
	}
	return getnameinfo((struct sockaddr *)ss, len, ip, (socklen_t)iplen, NULL, 0,
			   NI_NUMERICHOST) == 0 ? (int)len : -1;
}

/* The reverse name of ss if it maps back to ip, else "unknown". */
static void net_confirmed_name(struct sockaddr_storage *ss, socklen_t len, const char *ip,
			       char *host, size_t hostlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	char back[INET6_ADDRSTRLEN + 8];
	int ok = 0;

	str_copy(host, hostlen, "unknown");
	if (getnameinfo((struct sockaddr *)ss, len, host, (socklen_t)hostlen, NULL, 0,
			NI_NAMEREQD) != 0) {
		str_copy(host, hostlen, "unknown");
		return;
	}
	hints.ai_family = ss->ss_family;
	if (getaddrinfo(host, NULL, &hints, &res) != 0) {
		str_copy(host, hostlen, "unknown");
		return;
	}
	for (ai = res; ai && !ok; ai = ai->ai_next)
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, back, sizeof(back), NULL, 0,
				NI_NUMERICHOST) == 0 && strcasecmp(back, ip) == 0)
			ok = 1;
	freeaddrinfo(res);
	if (!ok)
		str_copy(host, hostlen, "unknown");
}

int net_peer_name(int fd, char *name, size_t namelen, char *ipbuf, size_t iplen)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char ip[INET6_ADDRSTRLEN + 8], host[NI_MAXHOST];
	int nlen;

	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0) {
		snprintf(name, namelen, "unknown[unknown]");
		if (iplen)
			str_copy(ipbuf, iplen, "unknown");
		return -1;
	}
	if (ss.ss_family == AF_UNIX) {
		snprintf(name, namelen, "localhost[local]");
		if (iplen)
			str_copy(ipbuf, iplen, "local");
		return 0;
	}
	if ((nlen = net_numeric(&ss, len, ip, sizeof(ip))) < 0) {
		snprintf(name, namelen, "unknown[unknown]");
		if (iplen)
			str_copy(ipbuf, iplen, "unknown");
		return -1;
	}
	net_confirmed_name(&ss, (socklen_t)nlen, ip, host, sizeof(host));
	snprintf(name, namelen, "%s[%s]", host, ip);
	if (iplen)
		str_copy(ipbuf, iplen, ip);
	return 0;
}
