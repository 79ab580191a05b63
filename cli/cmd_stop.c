/*
 * cmd_stop.c - `faxpost stop`: stop master and its workers.
 *
 * Contract: SIGTERM to master (which stops its workers: SIGTERM, then SIGKILL after a
 * few seconds), then waits up to 15 s for the lock to go; if master is still there
 * it gets SIGKILL together with its process group. Exit 0 when stopped, 1 when no
 * master was running or it would not go.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

int cmd_stop(int argc, char **argv)
{
	pid_t pid;

	if (argc > 1) {
		if (strcmp(argv[1], "--help") == 0) {
			printf("usage: faxpost stop\nStops the mail system of this configuration.\n");
			return 0;
		}
		fprintf(stderr, "usage: faxpost stop\n");
		return 2;
	}
	pid = cli_master_pid();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		fprintf(stderr, "faxpost: the mail system is not running\n");
		return 1;
	}
	fprintf(stderr, "faxpost: stopping the mail system\n");
	if (kill(pid, SIGTERM) < 0) {
		perror("faxpost: kill");
		return 1;
	}
	if (cli_master_wait_gone(15000) == 0)
		return 0;
	fprintf(stderr, "faxpost: warning: master pid %ld did not stop -- killing\n", (long)pid);
	kill(-pid, SIGKILL);	/* master leads its own process group (setsid) */
	kill(pid, SIGKILL);
	return cli_master_wait_gone(5000) == 0 ? 0 : 1;
}
