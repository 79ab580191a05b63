/*
 * master.c - the faxpost process manager: main() and the event loop.
 *
 * Usage: master [-c CONFIG_DIR] [-f] [-v]
 *   -c  configuration folder (default $FAXPOST_CONFIG, else /etc/faxpost)
 *   -f  stay in the foreground (tests); otherwise master detaches and the starting
 *       process exits 0 only once the background master is up (listeners bound, lock
 *       held), or 1 with the error on stderr - so `faxpost start` reports synchronously.
 *   -v  verbose logging (passed on to workers)
 *
 * Contract: one master per instance (lock on data_directory/master.pid). Start-up
 * errors (bad main.cf or master.cf with file:line, a port in use, a second master) go
 * to stderr and the log, exit 1. Running: logs "daemon started -- version V,
 * configuration DIR"; SIGHUP = reload (master_conf.c); SIGTERM/SIGINT = "terminating
 * on signal N": workers get SIGTERM, MASTER_STOP_WAIT_MS later SIGKILL, then exit 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/config.h"
#include "master.h"
#include "util/msg.h"

master_state master;

/* Workers get -c DIR and run in queue_directory: a relative DIR must not stay so. */
static void master_absolute_config_dir(void)
{
	char *abs = realpath(master.config_dir, NULL);

	if (!abs) {
		fprintf(stderr, "master: configuration folder %s: %s\n", master.config_dir,
			strerror(errno));
		exit(1);
	}
	master.config_dir = abs;
}

static void master_usage(void)
{
	fprintf(stderr, "usage: master [-c CONFIG_DIR] [-f] [-v]\n");
	exit(2);
}

static int master_log_where(void)
{
	int where = *conf_str("maillog_file") ? MSG_TO_FILE : 0;

	if (conf_bool("syslog_enable"))
		where |= MSG_TO_SYSLOG;
	return where ? where : MSG_TO_STDERR;
}

static void master_open_log(int also_stderr)
{
	const char *log = conf_str("maillog_file");

	msg_open("master", master_log_where() | (also_stderr ? MSG_TO_STDERR : 0),
		 *log ? log : NULL, conf_str("syslog_facility"));
	/* Workers append to the same file after they dropped privileges. */
	if (*log && master.have_owner && chown(log, master.owner_uid, master.owner_gid) < 0 &&
	    errno != ENOENT)
		msg_warn("chown %s: %s", log, strerror(errno));
}

/* Detach; the parent waits for the child's "up" byte (or its death) and exits. */
static int master_detach(void)
{
	int pfd[2];
	pid_t pid;
	char c;
	ssize_t n;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		msg_fatal("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		msg_fatal("fork: %s", strerror(errno));
	if (pid > 0) {
		close(pfd[1]);
		do
			n = read(pfd[0], &c, 1);
		while (n < 0 && errno == EINTR);
		_exit(n == 1 && c == 'O' ? 0 : 1);
	}
	close(pfd[0]);
	if (setsid() < 0)
		msg_fatal("setsid: %s", strerror(errno));
	return pfd[1];
}

static void master_detached_up(int up_fd)
{
	int null = open("/dev/null", O_RDWR);

	if (write(up_fd, "O", 1) != 1)
		msg_warn("tell the starting process: %s", strerror(errno));
	close(up_fd);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
		msg_fatal("/dev/null: %s", strerror(errno));
	if (null > 2)
		close(null);
}

static void master_dev_note(void)
{
	struct passwd *pw = getpwuid(geteuid());
	const char *me = pw ? pw->pw_name : "?";

	if (geteuid() != 0)
		msg_info("running as %s (not root): every daemon runs as %s (dev instance)", me,
			 me);
	else if (master.owner_uid == 0)
		msg_warn("running as root with mail_owner = %s (uid 0): daemons keep root "
			 "privileges (dev instance)", conf_str("mail_owner"));
}

/* Configuration errors name the file with its folder: "/etc/faxpost/main.cf:12: ...". */
static void master_conf_fatal(const char *err)
{
	if (strncmp(err, "main.cf:", 8) == 0 || strncmp(err, "master.cf:", 10) == 0)
		msg_fatal("%s/%s", master.config_dir, err);
	msg_fatal("%s", err);
}

static void master_init(void)
{
	char err[1024];

	if (master_conf_load(err, sizeof(err)) < 0)
		master_conf_fatal(err);
	if (master_make_dirs(err, sizeof(err)) < 0)
		msg_fatal("%s", err);
	/* As Postfix: master and every worker run in queue_directory, whatever the
	 * folder of whoever started master. */
	if (chdir(conf_str("queue_directory")) < 0)
		msg_fatal("chdir %s: %s", conf_str("queue_directory"), strerror(errno));
	master_open_log(1);
	if (master_services_load(&master.services, err, sizeof(err)) < 0)
		master_conf_fatal(err);
	if (master_lock(err, sizeof(err)) < 0)
		msg_fatal("%s", err);
	master_start_services();
	master_write_pid();
}

static void master_loop(int sig_fd)
{
	for (;;) {
		int n = master_proc_count() + 1, k = 1, hup, term, chld;
		struct pollfd *pfd = xcalloc((size_t)n, sizeof(*pfd));
		master_proc **who = xcalloc((size_t)n, sizeof(*who));
		long long timeout = master_next_timer();

		pfd[0].fd = sig_fd;
		pfd[0].events = POLLIN;
		for (master_proc *p = master.procs; p; p = p->next)
			if (p->status_fd >= 0) {
				pfd[k].fd = p->status_fd;
				pfd[k].events = POLLIN;
				who[k++] = p;
			}
		if (timeout > 60000 || timeout < 0)
			timeout = 60000;
		if (poll(pfd, (nfds_t)k, (int)timeout) < 0 && errno != EINTR)
			msg_fatal("poll: %s", strerror(errno));
		for (int i = 1; i < k; i++)
			if (pfd[i].revents)
				master_status_input(who[i]);
		free(pfd);
		free(who);
		master_sig_take(&hup, &term, &chld);
		if (term) {
			msg_info("terminating on signal %d", term);
			master_stop_all();
			master_unlink_pid();
			exit(0);
		}
		master_reap();
		if (hup)
			master_reload();
		master_spawn_all();
	}
}

int main(int argc, char **argv)
{
	int c, up_fd = -1, sig_fd;

	master.config_dir = getenv("FAXPOST_CONFIG");
	while ((c = getopt(argc, argv, "c:fv")) != -1) {
		switch (c) {
		case 'c': master.config_dir = optarg; break;
		case 'f': master.foreground = 1; break;
		case 'v': master.verbose++; break;
		default: master_usage();
		}
	}
	if (optind != argc)
		master_usage();
	if (!master.config_dir)
		master.config_dir = "/etc/faxpost";
	master_absolute_config_dir();
	if (master.verbose)
		msg_set_verbose(master.verbose);
	umask(022);
	if (!master.foreground)
		up_fd = master_detach();
	sig_fd = master_sig_init();
	master_init();
	master_open_log(0);
	msg_info("daemon started -- version %s, configuration %s", FAXPOST_VERSION,
		 master.config_dir);
	master_dev_note();
	/* Before any worker starts: workers must not hold the starter's stdout/stderr. */
	if (up_fd >= 0)
		master_detached_up(up_fd);
	master_spawn_all();
	master_loop(sig_fd);
	return 0;
}
