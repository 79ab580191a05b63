/*
 * cmd_status.c - `faxpost status`, and the master-control helpers of cli.h.
 *
 * Contract: a master is running when some process holds the fcntl() lock on
 * data_directory/master.pid (the pid comes from F_GETLK, not from the file's text, so
 * a stale pid file never fools it). status prints "faxpost: the mail system is
 * running: PID: N" and exits 0, or "... is not running" on stderr and exits 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "mail/config.h"

pid_t cli_master_pid(void)
{
	char path[4096];
	struct flock fl;
	int fd;

	if (snprintf(path, sizeof(path), "%s/master.pid", conf_str("data_directory")) >=
	    (int)sizeof(path)) {
		fprintf(stderr, "faxpost: error: data_directory too long\n");
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		fprintf(stderr, "faxpost: error: open %s: %s\n", path, strerror(errno));
		return -1;
	}
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_GETLK, &fl) < 0) {
		fprintf(stderr, "faxpost: error: lock test %s: %s\n", path, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return fl.l_type == F_UNLCK ? 0 : fl.l_pid;
}

int cli_master_wait_gone(int ms)
{
	struct timespec nap = { 0, 50 * 1000 * 1000 };

	for (int waited = 0; waited <= ms; waited += 50) {
		if (cli_master_pid() <= 0)
			return 0;
		nanosleep(&nap, NULL);
	}
	return -1;
}

int cmd_status(int argc, char **argv)
{
	pid_t pid;

	if (argc > 1) {
		if (strcmp(argv[1], "--help") == 0) {
			printf("usage: faxpost status\n"
			       "Tells whether the mail system of this configuration runs (exit 0) "
			       "or not (exit 1).\n");
			return 0;
		}
		fprintf(stderr, "usage: faxpost status\n");
		return 2;
	}
	pid = cli_master_pid();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		fprintf(stderr, "faxpost: the mail system is not running\n");
		return 1;
	}
	printf("faxpost: the mail system is running: PID: %ld\n", (long)pid);
	return 0;
}
