/*
 * cli.h - what cli/faxpost.c offers the subcommands, and the master-control helpers
 * shared by start/stop/reload/status/check (defined in cmd_status.c).
 */
#ifndef FAXPOST_CLI_H
#define FAXPOST_CLI_H

#include <sys/types.h>

/* The configuration folder given by -c or $FAXPOST_CONFIG (default /etc/faxpost). */
extern const char *cli_config_dir;
/* 1 when main.cf loaded; 0 when it did not (only `conf name=value` runs then). */
extern int cli_config_ok;

/* "DIR/main.cf:12: ..." for an error text that starts with "main.cf:" or "master.cf:". */
void cli_conf_error(const char *err);

/* pid of the master holding data_directory/master.pid, 0 when none, -1 on error
 * (message printed). */
pid_t cli_master_pid(void);
/* Wait up to ms milliseconds until no master holds the lock; 0 when it is gone. */
int cli_master_wait_gone(int ms);

#endif
