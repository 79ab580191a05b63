/*
 * cmd_start.c - `faxpost start`: start master for this configuration.
 *
 * Contract: refuses (exit 1) when a master already runs; otherwise runs
 * daemon_directory/master -c CONFIG_DIR, which detaches and exits only once the
 * background master is up (lock held, listeners bound) - 0 - or failed - 1, with the
 * reason (file:line for configuration errors) on stderr. `-f` keeps master in the
 * foreground (for service managers such as systemd Type=simple).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "mail/config.h"

static int start_usage(FILE *out, int rc)
{
	fprintf(out, "usage: faxpost start [-f]\n"
		"Starts the mail system (master and its services) of this configuration.\n"
		"  -f  stay in the foreground\n");
	return rc;
}

int cmd_start(int argc, char **argv)
{
	char path[4096];
	int foreground = 0, status;
	pid_t pid;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0)
			return start_usage(stdout, 0);
		if (strcmp(argv[i], "-f") == 0)
			foreground = 1;
		else
			return start_usage(stderr, 2);
	}
	pid = cli_master_pid();
	if (pid < 0)
		return 1;
	if (pid > 0) {
		fprintf(stderr, "faxpost: the mail system is already running (pid %ld)\n",
			(long)pid);
		return 1;
	}
	if (snprintf(path, sizeof(path), "%s/master", conf_str("daemon_directory")) >=
	    (int)sizeof(path)) {
		fprintf(stderr, "faxpost: error: daemon_directory too long\n");
		return 1;
	}
	if (access(path, X_OK) < 0) {
		fprintf(stderr, "faxpost: error: %s: %s\n", path, strerror(errno));
		return 1;
	}
	fprintf(stderr, "faxpost: starting the mail system\n");
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "faxpost: error: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		char *args[] = { path, "-c", (char *)cli_config_dir, foreground ? "-f" : NULL,
				 NULL };

		execv(path, args);
		fprintf(stderr, "faxpost: error: exec %s: %s\n", path, strerror(errno));
		_exit(1);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "faxpost: the mail system did not start\n");
		return 1;
	}
	return 0;
}
