/*
 * daemon.c - the skeleton every faxpost daemon runs on (see daemon.h).
 *
 * Contract (refinements of daemon.h, recorded in docs/master.md):
 *  - argv: -c DIR -n SERVICE -t TYPE -l NLISTEN -w WAKEUP[?] -u -r -o name=value -v,
 *    or -S [host:]port|/path for stand-alone use. -u = drop to mail_owner (master adds
 *    it for unpriv = y; -S implies it); -r = chroot to queue_directory.
 *  - fd 3 is the write end of a pipe whose read end only master holds (one pipe per
 *    process). The skeleton writes 'R' once, after post_jail. When master closes its
 *    end (reload, stop, master gone) poll() reports POLLERR on fd 3 and a single
 *    server exits between connections; event servers see daemon_stopping (master also
 *    sends SIGHUP/SIGTERM). fd 2 may be master's stderr (foreground master) so that a
 *    start-up failure before the log is open is still visible.
 *  - ops->max_use / ops->max_idle: > 0 = that value; 0 = unlimited (resident daemons
 *    such as qmgr); < 0 = main.cf max_use / max_idle.
 *  - Single server on a unix-dgram or fifo service: nothing to accept; serve() gets the
 *    listening descriptor itself when it is readable (and must not close it).
 *  - Running as root with mail_owner = root (a dev instance started by root) keeps
 *    root; master logs that once.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "mail/config.h"
#include "mail/daemon.h"
#include "util/buf.h"
#include "util/msg.h"

volatile sig_atomic_t daemon_stopping;

#define DAEMON_MAX_OVERRIDES 64

typedef struct daemon_args {
	const char *config_dir;
	const char *service;
	const char *type;
	const char *standalone;	/* -S argument or NULL */
	int nlisten;
	int wakeup;
	int unpriv;
	int chroot;
	int verbose;
	int noverrides;
	const char *overrides[DAEMON_MAX_OVERRIDES];
} daemon_args;

static void daemon_usage(const char *progname)
{
	fprintf(stderr, "usage: %s -c CONFIG_DIR [-n SERVICE] [-t TYPE] [-l NLISTEN] "
		"[-w WAKEUP] [-u] [-r] [-o name=value]... [-v]\n"
		"       %s -c CONFIG_DIR -S [host:]port|/path [-o name=value]...\n",
		progname, progname);
	exit(2);
}

static int daemon_atoi(const char *s, int max, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*end == '?')	/* wakeup "N?": master decides when to start the timer */
		end++;
	if (errno || end == s || *end || v < 0 || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

static void daemon_parse_args(int argc, char **argv, const char *progname, daemon_args *a)
{
	int c;

	memset(a, 0, sizeof(*a));
	a->config_dir = getenv("FAXPOST_CONFIG");
	optind = 1;
	while ((c = getopt(argc, argv, "c:n:t:l:w:uro:vS:")) != -1) {
		switch (c) {
		case 'c': a->config_dir = optarg; break;
		case 'n': a->service = optarg; break;
		case 't': a->type = optarg; break;
		case 'l':
			if (daemon_atoi(optarg, DAEMON_MAX_LISTEN, &a->nlisten) < 0)
				daemon_usage(progname);
			break;
		case 'w':
			if (daemon_atoi(optarg, 100000000, &a->wakeup) < 0)
				daemon_usage(progname);
			break;
		case 'u': a->unpriv = 1; break;
		case 'r': a->chroot = 1; break;
		case 'v': a->verbose++; break;
		case 'S': a->standalone = optarg; break;
		case 'o':
			if (a->noverrides >= DAEMON_MAX_OVERRIDES)
				daemon_usage(progname);
			a->overrides[a->noverrides++] = optarg;
			break;
		default:
			daemon_usage(progname);
		}
	}
	if (optind != argc)
		daemon_usage(progname);
	if (!a->config_dir)
		a->config_dir = "/etc/faxpost";
	if (!a->service)
		a->service = a->standalone ? a->standalone : progname;
	if (a->standalone) {
		a->unpriv = 1;
		if (!a->type)
			a->type = a->standalone[0] == '/' ? "unix" : "inet";
	}
	if (!a->type)
		a->type = a->nlisten ? "unix" : "wakeup";
}

/* main.cf, then -o overrides; then the log. Errors before the log is open go to
 * stderr (fd 2), which master keeps pointing at its own stderr. */
static void daemon_load_config(const char *progname, const daemon_args *a)
{
	char err[512];
	int bad = -1;
	int where = MSG_TO_FILE;
	const char *log;

	if (config_load(a->config_dir, err, sizeof(err)) < 0)
		msg_fatal("%s", err);
	for (int i = 0; i < a->noverrides && bad < 0; i++)
		if (config_override(a->overrides[i], err, sizeof(err)) < 0)
			bad = i;
	log = conf_str("maillog_file");
	if (!*log)
		where = 0;
	if (conf_bool("syslog_enable"))
		where |= MSG_TO_SYSLOG;
	if (a->standalone || where == 0)
		where |= MSG_TO_STDERR;
	msg_open(progname, where, *log ? log : NULL, conf_str("syslog_facility"));
	if (a->verbose)
		msg_set_verbose(a->verbose);
	if (bad >= 0)
		msg_fatal("service %s: -o %s: %s", a->service, a->overrides[bad], err);
}

/* "[v6]:port", "host:port" or "port" into host (NULL = any) and port. */
static void daemon_split_hostport(char *spec, const char **host, const char **port)
{
	char *colon;

	*host = NULL;
	*port = spec;
	if (spec[0] == '[') {
		char *close = strchr(spec, ']');
		if (!close || close[1] != ':')
			msg_fatal("bad listen address: %s", spec);
		*close = 0;
		*host = spec + 1;
		*port = close + 2;
		return;
	}
	colon = strrchr(spec, ':');
	if (colon) {
		*colon = 0;
		*host = spec;
		*port = colon + 1;
	}
}

/* Stand-alone listener: the first address host:port resolves to, or a UNIX socket. */
static int daemon_listen_standalone(const char *where)
{
	int fd, on = 1;

	if (where[0] == '/') {
		struct sockaddr_un sun;

		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (str_copy(sun.sun_path, sizeof(sun.sun_path), where) < 0)
			msg_fatal("socket path too long: %s", where);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			msg_fatal("socket: %s", strerror(errno));
		unlink(where);
		if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, 128) < 0)
			msg_fatal("listen on %s: %s", where, strerror(errno));
		chmod(where, 0666);
		return fd;
	}
	char *spec = xstrdup(where);
	const char *host, *port;
	struct addrinfo hints, *res;
	int rc;

	daemon_split_hostport(spec, &host, &port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	rc = getaddrinfo(host && *host ? host : NULL, port, &hints, &res);
	if (rc != 0)
		msg_fatal("listen on %s: %s", where, gai_strerror(rc));
	fd = socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
	if (fd < 0)
		msg_fatal("socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 128) < 0)
		msg_fatal("listen on %s: %s", where, strerror(errno));
	freeaddrinfo(res);
	free(spec);
	return fd;
}

static void daemon_setup_listeners(daemon_ctx *ctx, const daemon_args *a, int *status_fd)
{
	if (a->standalone) {
		ctx->nlisten = 1;
		ctx->listen_fds[0] = daemon_listen_standalone(a->standalone);
		*status_fd = -1;
		return;
	}
	ctx->nlisten = a->nlisten;
	for (int i = 0; i < a->nlisten; i++) {
		int fd = DAEMON_LISTEN_FD0 + i;

		if (fcntl(fd, F_GETFD) < 0)
			msg_fatal("listen descriptor %d is not open (started without master? use -S)",
				  fd);
		ctx->listen_fds[i] = fd;
	}
	*status_fd = fcntl(DAEMON_STATUS_FD, F_GETFD) < 0 ? -1 : DAEMON_STATUS_FD;
}

/* Drop root for good: supplementary groups, gid, uid, then prove it cannot be undone. */
static void daemon_drop_privileges(const char *user, const struct passwd *pw)
{
	if (pw->pw_uid == 0)
		return;		/* dev instance run by root with mail_owner = root */
	if (initgroups(user, pw->pw_gid) < 0)
		msg_fatal("initgroups %s: %s", user, strerror(errno));
	if (setgid(pw->pw_gid) < 0)
		msg_fatal("setgid %ld: %s", (long)pw->pw_gid, strerror(errno));
	if (setuid(pw->pw_uid) < 0)
		msg_fatal("setuid %ld: %s", (long)pw->pw_uid, strerror(errno));
	if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid || getgid() != pw->pw_gid ||
	    getegid() != pw->pw_gid)
		msg_fatal("privilege drop to %s did not stick", user);
	if (setuid(0) == 0 || seteuid(0) == 0)
		msg_fatal("privilege drop to %s can be undone", user);
}

static void daemon_jail(daemon_ctx *ctx, const daemon_args *a)
{
	const char *user = conf_str("mail_owner");
	struct passwd *pw = NULL;

	if (geteuid() != 0)
		return;		/* not root: a dev instance stays the invoking user */
	if (a->unpriv) {
		pw = getpwnam(user);	/* before chroot: /etc/passwd is outside it */
		if (!pw)
			msg_fatal("mail_owner %s: no such user", user);
	}
	if (a->chroot) {
		const char *q = conf_str("queue_directory");

		if (chroot(q) < 0 || chdir("/") < 0)
			msg_fatal("chroot %s: %s", q, strerror(errno));
		ctx->chrooted = 1;
	}
	if (pw)
		daemon_drop_privileges(user, pw);
}

static void daemon_on_signal(int sig)
{
	(void)sig;
	daemon_stopping = 1;
}

static void daemon_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	/* SA_RESTART: a read in the middle of a client session is not cut short; the
	 * loops check daemon_stopping between sessions (poll() still returns EINTR). */
	sa.sa_handler = daemon_on_signal;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static void daemon_report_ready(int status_fd)
{
	ssize_t n;

	if (status_fd < 0)
		return;
	do
		n = write(status_fd, "R", 1);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		msg_fatal("status pipe to master: %s", n < 0 ? strerror(errno) : "short write");
}

static long long daemon_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static int daemon_limit(int ops_value, const char *param, int is_time)
{
	long long v;

	if (ops_value >= 0)
		return ops_value;
	v = is_time ? conf_time(param) : conf_int(param);
	return v < 0 ? 0 : v > 1000000000 ? 1000000000 : (int)v;
}

/* Accept one pending connection on fd and serve it. Returns 1 when served, 0 when
 * another process was faster. */
static int daemon_accept_one(daemon_ctx *ctx, const daemon_ops *ops, int fd)
{
	int client;

	/* Datagram sockets and FIFOs (triggers) have nothing to accept: serve reads
	 * from the listening descriptor itself, which stays open. */
	if (strcmp(ctx->type, "unix-dgram") == 0 || strcmp(ctx->type, "fifo") == 0) {
		ops->serve(ctx, fd);
		return 1;
	}
	client = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

	if (client < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
		    errno == ECONNABORTED || errno == EPROTO)
			return 0;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			msg_warn("accept: %s", strerror(errno));
			sleep(1);
			return 0;
		}
		msg_fatal("accept: %s", strerror(errno));
	}
	ops->serve(ctx, client);
	close(client);
	return 1;
}

/* Single-server loop: one connection at a time, wakeup timer, max_use, max_idle, and
 * exit when master closes the status pipe. */
static void daemon_single_loop(daemon_ctx *ctx, const daemon_ops *ops, int status_fd)
{
	struct pollfd pfd[DAEMON_MAX_LISTEN + 1];
	int max_use = daemon_limit(ops->max_use, "max_use", 0);
	int max_idle = ctx->nlisten ? daemon_limit(ops->max_idle, "max_idle", 1) : 0;
	long long last_use = daemon_now();
	long long next_wakeup = ctx->wakeup ? last_use + ctx->wakeup : 0;
	int used = 0;

	for (int i = 0; i < ctx->nlisten; i++)
		fcntl(ctx->listen_fds[i], F_SETFL,	/* siblings share these sockets */
		      fcntl(ctx->listen_fds[i], F_GETFL) | O_NONBLOCK);
	while (!daemon_stopping) {
		long long now = daemon_now(), deadline = 0;
		int n = 0, timeout;

		if (next_wakeup && now >= next_wakeup) {
			if (ops->wakeup)
				ops->wakeup(ctx);
			next_wakeup = daemon_now() + ctx->wakeup;
			continue;
		}
		if (max_idle && now - last_use >= max_idle) {
			msg_info("idle for %ds, exiting", max_idle);
			break;
		}
		if (max_idle)
			deadline = last_use + max_idle;
		if (next_wakeup && (!deadline || next_wakeup < deadline))
			deadline = next_wakeup;
		timeout = deadline ? (int)((deadline - now) * 1000) : -1;
		if (ops->serve)
			for (int i = 0; i < ctx->nlisten; i++) {
				pfd[n].fd = ctx->listen_fds[i];
				pfd[n++].events = POLLIN;
			}
		if (status_fd >= 0) {
			pfd[n].fd = status_fd;
			pfd[n++].events = 0;	/* POLLERR when master closes its end */
		}
		if (poll(pfd, (nfds_t)n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			msg_fatal("poll: %s", strerror(errno));
		}
		if (status_fd >= 0 && pfd[n - 1].revents & (POLLERR | POLLHUP | POLLNVAL))
			break;		/* master is gone or restarts this service */
		for (int i = 0; ops->serve && i < ctx->nlisten && !daemon_stopping; i++) {
			if (!(pfd[i].revents & POLLIN))
				continue;
			if (daemon_accept_one(ctx, ops, ctx->listen_fds[i])) {
				used++;
				last_use = daemon_now();
			}
			if (max_use && used >= max_use) {
				if (msg_verbose)
					msg_info("served %d clients, exiting", used);
				return;
			}
		}
	}
}

int daemon_main(int argc, char **argv, const char *progname, const daemon_ops *ops)
{
	daemon_args a;
	daemon_ctx ctx;
	int status_fd;

	daemon_parse_args(argc, argv, progname, &a);
	daemon_load_config(progname, &a);
	umask(077);
	memset(&ctx, 0, sizeof(ctx));
	ctx.progname = progname;
	ctx.service = a.service;
	ctx.type = a.type;
	ctx.wakeup = a.wakeup;
	daemon_setup_listeners(&ctx, &a, &status_fd);
	daemon_signals();
	if (ops->pre_jail)
		ops->pre_jail(&ctx);
	daemon_jail(&ctx, &a);
	if (ops->post_jail)
		ops->post_jail(&ctx);
	daemon_report_ready(status_fd);
	if (a.standalone)
		msg_info("stand-alone on %s", a.standalone);
	if (ops->loop)
		ops->loop(&ctx);
	else
		daemon_single_loop(&ctx, ops, status_fd);
	return 0;
}
