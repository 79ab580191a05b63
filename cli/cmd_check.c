/*
 * cmd_check.c - `faxpost check`: is this configuration fit to start?
 *
 * Contract: main.cf loads (faxpost.c did that), master.cf parses, every master.cf
 * command is an executable in daemon_directory, mail_owner exists (and is not root
 * when faxpost runs as root, which is only a warning: a dev instance), the queue and
 * data folders exist with safe modes (missing ones are a note: master creates them),
 * and the log file's folder exists. Problems are printed one a line on stderr as
 * "faxpost: error: ..." or "faxpost: warning: ..."; exit 1 if any error, else 0
 * (silent, as `postfix check`, unless -v).
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "mail/config.h"
#include "mail/mastercf.h"
#include "util/buf.h"

static int check_errors;

static void check_error(const char *what, const char *detail)
{
	fprintf(stderr, "faxpost: error: %s: %s\n", what, detail);
	check_errors++;
}

static void check_programs(int verbose)
{
	char path[4096], err[1024];
	mastercf_entry *e;
	size_t n;

	snprintf(path, sizeof(path), "%s/master.cf", cli_config_dir);
	if (mastercf_load(path, (int)conf_int("default_process_limit"), &e, &n, err,
			  sizeof(err)) < 0) {
		cli_conf_error(err);
		check_errors++;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", conf_str("daemon_directory"), e[i].argv[0]);
		if (access(path, X_OK) < 0) {
			char what[256];

			snprintf(what, sizeof(what), "%s/master.cf:%d: service %.64s/%s",
				 cli_config_dir, e[i].line, e[i].service, e[i].type);
			check_error(what, strerror(errno));
		} else if (verbose) {
			printf("service %s/%s: %s\n", e[i].service, e[i].type, path);
		}
	}
	mastercf_free(e, n);
}

/* A folder master would create is fine when missing; one anyone may write is not. */
static void check_dir(const char *path, int must_exist)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		if (errno != ENOENT || must_exist)
			check_error(path, strerror(errno));
		return;
	}
	if (!S_ISDIR(st.st_mode))
		check_error(path, "not a folder");
	else if (st.st_mode & S_IWOTH && !(st.st_mode & S_ISVTX))
		check_error(path, "writable by everyone");
}

static void check_folders(void)
{
	static const char *const states[] = {
		"tmp", "incoming", "active", "deferred", "hold", "corrupt", "defer", "free", "private",
		"public",
	};
	const char *q = conf_str("queue_directory");
	const char *log = conf_str("maillog_file");
	char path[4096];

	check_dir(q, 0);
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", q, states[i]);
		check_dir(path, 0);
	}
	check_dir(conf_str("data_directory"), 0);
	check_dir(conf_str("daemon_directory"), 1);
	if (*log && strrchr(log, '/') && strrchr(log, '/') != log) {
		str_ncopy(path, sizeof(path), log, (size_t)(strrchr(log, '/') - log));
		check_dir(path, 0);
	}
}

static void check_owner(void)
{
	const char *user = conf_str("mail_owner");
	struct passwd *pw = getpwnam(user);

	if (!pw)
		check_error("mail_owner", "no such user");
	else if (pw->pw_uid == 0 && geteuid() == 0)
		fprintf(stderr, "faxpost: warning: mail_owner %s is root: no privilege "
			"separation (fine for a dev instance only)\n", user);
}

int cmd_check(int argc, char **argv)
{
	int verbose = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			printf("usage: faxpost check [-v]\n"
			       "Checks main.cf, master.cf, the daemon programs, mail_owner and the "
			       "queue folders.\nSilent with exit 0 when all is well; problems on "
			       "stderr and exit 1.\n");
			return 0;
		}
		if (strcmp(argv[i], "-v") == 0) {
			verbose = 1;
			continue;
		}
		fprintf(stderr, "usage: faxpost check [-v]\n");
		return 2;
	}
	check_errors = 0;
	check_programs(verbose);
	check_owner();
	check_folders();
	if (verbose && !check_errors)
		printf("faxpost: %s: configuration OK\n", cli_config_dir);
	return check_errors ? 1 : 0;
}
