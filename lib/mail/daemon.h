/*
 * daemon.h - the skeleton every faxpost daemon runs on (started by master).
 *
 * Command line given by master (see master/master.c):
 *   PROG -c CONFIG_DIR -n SERVICE -t TYPE [-l NLISTEN] [-w WAKEUP] [-u] [-r]
 *        [-o name=value]... [-v]
 * Stand-alone (tests, debugging; no master): PROG -c CONFIG_DIR -S [host:]port|/path
 *   makes the skeleton create the listener itself (TCP, or a UNIX socket for a path
 *   argument) and logs to stderr too; there is no status fd.
 * Descriptors: 0,1,2 /dev/null; 3 = status pipe to master (the skeleton writes 'R'
 * once ready; closing it means "gone"); 4 .. 4+NLISTEN-1 = listening sockets that
 * master created (inet or unix), in master.cf order.
 *
 * Contract: daemon_main() loads main.cf (+ -o overrides; a bad config is fatal with
 * file:line), opens the log as "faxpost/PROG", calls ops->pre_jail (still privileged:
 * open files, bind ports), then, when running as root, chroots to queue_directory if
 * -r was given and drops to mail_owner (setgroups, setgid, setuid; a dev instance run
 * by a non-root user stays that user), calls ops->post_jail, and serves:
 *   - ops->serve (single server): accept one connection on any listen fd, call serve
 *     with it, close it, repeat; exit after max_use connections or max_idle seconds
 *     idle (master starts a new one). Several processes may share the listen fds.
 *   - ops->loop (event server): the daemon runs its own loop over listen fds.
 *   - ops->wakeup is called every WAKEUP seconds (-w) in single-server mode.
 * SIGTERM sets daemon_stopping (loops must check it and exit soon); SIGHUP too
 * (master restarts workers with the new config). Workers die rather than limp:
 * on an internal inconsistency, msg_fatal/msg_panic and let master restart them.
 */
#ifndef FAXPOST_MAIL_DAEMON_H
#define FAXPOST_MAIL_DAEMON_H

#include <signal.h>

#define DAEMON_STATUS_FD 3
#define DAEMON_LISTEN_FD0 4
#define DAEMON_MAX_LISTEN 16

typedef struct daemon_ctx {
	const char *progname;
	const char *service;
	const char *type;	/* "inet", "unix", "wakeup" */
	int nlisten;
	int listen_fds[DAEMON_MAX_LISTEN];
	int wakeup;		/* seconds, 0 = none */
	int chrooted;
	void *app;		/* the daemon's own state */
} daemon_ctx;

typedef struct daemon_ops {
	void (*pre_jail)(daemon_ctx *ctx);
	void (*post_jail)(daemon_ctx *ctx);
	void (*serve)(daemon_ctx *ctx, int client_fd);
	void (*loop)(daemon_ctx *ctx);
	void (*wakeup)(daemon_ctx *ctx);
	int max_use;		/* 0 = unlimited */
	int max_idle;		/* seconds; 0 = forever */
} daemon_ops;

extern volatile sig_atomic_t daemon_stopping;

int daemon_main(int argc, char **argv, const char *progname, const daemon_ops *ops);

#endif
