/*
 * faxpost.c - the `faxpost` command: global options, then one subcommand.
 *
 * Usage: faxpost [-c CONFIG_DIR] [-v] COMMAND [ARGS...]   |   faxpost --help
 * Contract: the subcommands are listed in commands.def (CMD(name, function, help));
 * each is `int function(int argc, char **argv)` with argv[0] = the subcommand name and
 * returns the exit status: 0 ok, 1 failure, 2 usage. Before the call main.cf of
 * CONFIG_DIR (-c, else $FAXPOST_CONFIG, else /etc/faxpost) is loaded; when it does not
 * load, the error (file:line) goes to stderr and faxpost exits 1, except for
 * `conf name=value` (so a broken main.cf can be repaired) and `--help`, which needs no
 * configuration. $FAXPOST_CONFIG is set for programs the subcommand starts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mail/config.h"
#include "util/msg.h"

#define CMD(name, fn, help) int fn(int argc, char **argv);
#include "commands.def"
#undef CMD

static const struct faxpost_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} faxpost_cmds[] = {
#define CMD(name, fn, help) { name, fn, help },
#include "commands.def"
#undef CMD
};

#define FAXPOST_NCMDS (sizeof(faxpost_cmds) / sizeof(faxpost_cmds[0]))

const char *cli_config_dir;
int cli_config_ok;

static void faxpost_usage(FILE *out)
{
	fprintf(out, "usage: faxpost [-c CONFIG_DIR] [-v] COMMAND [ARGS...]\n"
		"       faxpost COMMAND --help\n\n"
		"  -c DIR   configuration folder (default $FAXPOST_CONFIG, else /etc/faxpost)\n"
		"  -v       more detail in messages\n\ncommands:\n");
	for (size_t i = 0; i < FAXPOST_NCMDS; i++)
		fprintf(out, "  %-10s %s\n", faxpost_cmds[i].name, faxpost_cmds[i].help);
}

void cli_conf_error(const char *err)
{
	if (strncmp(err, "main.cf:", 8) == 0 || strncmp(err, "master.cf:", 10) == 0)
		fprintf(stderr, "faxpost: error: %s/%s\n", cli_config_dir, err);
	else
		fprintf(stderr, "faxpost: error: %s\n", err);
}

static int faxpost_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0)
			return 1;
	return 0;
}

/* `conf` with an assignment may run on a main.cf that does not load. */
static int faxpost_repairs(const struct faxpost_cmd *c, int argc, char **argv)
{
	if (strcmp(c->name, "conf") != 0)
		return 0;
	for (int i = 1; i < argc; i++)
		if (strchr(argv[i], '='))
			return 1;
	return 0;
}

static const struct faxpost_cmd *faxpost_find(const char *name)
{
	for (size_t i = 0; i < FAXPOST_NCMDS; i++)
		if (strcmp(faxpost_cmds[i].name, name) == 0)
			return &faxpost_cmds[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct faxpost_cmd *c;
	char err[1024];
	int i, verbose = 0;

	cli_config_dir = getenv("FAXPOST_CONFIG");
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			faxpost_usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			cli_config_dir = argv[++i];
		} else if (strncmp(argv[i], "-c", 2) == 0 && argv[i][2]) {
			cli_config_dir = argv[i] + 2;
		} else if (strcmp(argv[i], "-v") == 0) {
			verbose++;
		} else {
			fprintf(stderr, "faxpost: unknown option %s\n", argv[i]);
			faxpost_usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		faxpost_usage(stderr);
		return 2;
	}
	c = faxpost_find(argv[i]);
	if (!c) {
		fprintf(stderr, "faxpost: unknown command '%s' (see faxpost --help)\n", argv[i]);
		return 2;
	}
	if (!cli_config_dir || !*cli_config_dir)
		cli_config_dir = "/etc/faxpost";
	setenv("FAXPOST_CONFIG", cli_config_dir, 1);
	if (verbose)
		msg_set_verbose(verbose);
	argc -= i;
	argv += i;
	if (faxpost_wants_help(argc, argv))
		return c->fn(argc, argv);
	cli_config_ok = config_load(cli_config_dir, err, sizeof(err)) == 0;
	if (!cli_config_ok && (strcmp(c->name, "map") == 0 || strcmp(c->name, "convert") == 0))
		return c->fn(argc, argv);	/* like postmap: tables and files need no main.cf */
	if (!cli_config_ok) {
		cli_conf_error(err);
		if (!faxpost_repairs(c, argc, argv))
			return 1;
	}
	return c->fn(argc, argv);
}
