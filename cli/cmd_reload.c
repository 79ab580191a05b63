/*
 * cmd_reload.c - `faxpost reload`: make master re-read main.cf and master.cf.
 *
 * Contract: checks both files first (main.cf was loaded by faxpost.c; master.cf is
 * parsed here) and refuses with the error (file:line, exit 1) rather than send master
 * a configuration it would reject; then SIGHUP to master. Master keeps listeners whose
 * address is unchanged and restarts the workers with the new settings.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "mail/config.h"
#include "mail/mastercf.h"

int cmd_reload(int argc, char **argv)
{
	char path[4096], err[1024];
	mastercf_entry *ents;
	size_t n;
	pid_t pid;

	if (argc > 1) {
		if (strcmp(argv[1], "--help") == 0) {
			printf("usage: faxpost reload\n"
			       "Checks main.cf and master.cf, then tells master to re-read them.\n");
			return 0;
		}
		fprintf(stderr, "usage: faxpost reload\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/master.cf", cli_config_dir);
	if (mastercf_load(path, (int)conf_int("default_process_limit"), &ents, &n, err,
			  sizeof(err)) < 0) {
		cli_conf_error(err);
		return 1;
	}
	mastercf_free(ents, n);
	pid = cli_master_pid();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		fprintf(stderr, "faxpost: the mail system is not running\n");
		return 1;
	}
	if (kill(pid, SIGHUP) < 0) {
		perror("faxpost: kill");
		return 1;
	}
	fprintf(stderr, "faxpost: refreshing the mail system\n");
	return 0;
}
