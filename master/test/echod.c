/*
 * echod.c - a minimal single-server daemon for the master and skeleton tests.
 *
 * Contract: runs on lib/mail/daemon.c like every faxpost daemon. Each client gets one
 * greeting line "echod pid=N uid=U gid=G service=NAME", then every line it sends is
 * echoed back until it sends QUIT or closes (10 s without input ends the session).
 * A wake-up (-w) is logged as "wakeup"; on a unix-dgram or fifo service each datagram
 * is logged as "trigger DATA". max_use and max_idle come from main.cf. Built
 * as build/libexec-test/test-echod; never installed.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mail/daemon.h"
#include "util/msg.h"

static int echod_write(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* unix-dgram / fifo service: one datagram (or what the FIFO holds) is a trigger. */
static void echod_trigger(int fd)
{
	char data[256];
	ssize_t n = read(fd, data, sizeof(data));

	if (n > 0)
		msg_info("trigger %.*s", (int)n, data);
}

static void echod_serve(daemon_ctx *ctx, int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char line[512];
	int n;

	if (strcmp(ctx->type, "unix-dgram") == 0 || strcmp(ctx->type, "fifo") == 0) {
		echod_trigger(fd);
		return;
	}
	n = snprintf(line, sizeof(line), "echod pid=%ld uid=%ld gid=%ld service=%s\r\n",
		     (long)getpid(), (long)getuid(), (long)getgid(), ctx->service);
	if (echod_write(fd, line, (size_t)n) < 0)
		return;
	for (;;) {
		int ready = poll(&pfd, 1, 10000);
		ssize_t r;

		if (ready < 0 && errno == EINTR)
			continue;	/* SIGHUP on reload: finish this session first */
		if (ready != 1)
			break;
		r = read(fd, line, sizeof(line));

		if (r <= 0 || (r >= 4 && strncmp(line, "QUIT", 4) == 0))
			break;
		if (echod_write(fd, line, (size_t)r) < 0)
			break;
	}
	msg_info("served a client");
}

static void echod_wakeup(daemon_ctx *ctx)
{
	msg_info("wakeup");
}

int main(int argc, char **argv)
{
	static const daemon_ops ops = {
		.serve = echod_serve,
		.wakeup = echod_wakeup,
		.max_use = -1,
		.max_idle = -1,
	};

	return daemon_main(argc, argv, "echod", &ops);
}
