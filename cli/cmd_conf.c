/*
 * cmd_conf.c - `faxpost conf`: show or change main.cf parameters (postconf).
 *
 * Usage: faxpost conf [-n | -d] [-x] [-h] [name...]
 *        faxpost conf name=value...
 * Contract: without names every declared parameter is printed as "name = value" in
 * table order: the main.cf value (raw, unexpanded, as postconf) or else the default;
 * -n only those set in main.cf, -d the built-in defaults, -x values expanded, -h the
 * value alone. An unknown name is an error (exit 1). name=value edits main.cf in place
 * (comments and order kept; the file is replaced by rename) after checking the name
 * and the value; a bad value changes nothing and exits 1.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "mail/config.h"
#include "util/buf.h"

enum { CONF_SHOW_ALL, CONF_SHOW_SET, CONF_SHOW_DEFAULTS };

static int conf_usage(FILE *out, int rc)
{
	fprintf(out, "usage: faxpost conf [-n | -d] [-x] [-h] [name...]\n"
		"       faxpost conf name=value...\n"
		"  (none) every parameter with its value (main.cf, else the default)\n"
		"  -n     only parameters set in main.cf\n"
		"  -d     built-in defaults\n"
		"  -x     expand $name in values\n"
		"  -h     print the value only\n"
		"  name=value  change main.cf\n");
	return rc;
}

static const conf_param *conf_decl(const char *name)
{
	for (const conf_param *p = conf_params; p->name; p++)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

static void conf_print(const conf_param *p, int mode, int expand, int value_only)
{
	const char *v;

	if (mode == CONF_SHOW_DEFAULTS)
		v = p->def;
	else
		v = expand ? conf_str(p->name) : conf_raw(p->name);
	if (value_only)
		printf("%s\n", v);
	else
		printf("%s =%s%s\n", p->name, *v ? " " : "", v);
}

static int conf_edit_args(int argc, char **argv, int first)
{
	char err[1024], name[128];
	int rc = 0;

	for (int i = first; i < argc; i++) {
		const char *eq = strchr(argv[i], '='), *v;
		size_t nlen;

		if (!eq) {
			fprintf(stderr, "faxpost: error: mixing names and name=value: %s\n",
				argv[i]);
			return 2;
		}
		nlen = (size_t)(eq - argv[i]);
		while (nlen && argv[i][nlen - 1] == ' ')
			nlen--;
		if (str_ncopy(name, sizeof(name), argv[i], nlen) < 0 || !conf_decl(name)) {
			fprintf(stderr, "faxpost: error: unknown parameter: %.*s\n", (int)nlen,
				argv[i]);
			rc = 1;
			continue;
		}
		for (v = eq + 1; *v == ' '; v++)
			;
		if (config_edit(cli_config_dir, name, v, err, sizeof(err)) < 0) {
			cli_conf_error(err);
			rc = 1;
		}
	}
	return rc;
}

int cmd_conf(int argc, char **argv)
{
	int mode = CONF_SHOW_ALL, expand = 0, value_only = 0, i, rc = 0;

	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		for (const char *f = argv[i] + 1; *f; f++) {
			switch (*f) {
			case 'n': mode = CONF_SHOW_SET; break;
			case 'd': mode = CONF_SHOW_DEFAULTS; break;
			case 'x': expand = 1; break;
			case 'h': value_only = 1; break;
			case '-':
				if (strcmp(argv[i], "--help") == 0)
					return conf_usage(stdout, 0);
				/* fall through */
			default:
				return conf_usage(stderr, 2);
			}
		}
	}
	if (i < argc && strchr(argv[i], '='))
		return conf_edit_args(argc, argv, i);
	if (!cli_config_ok)
		return 1;
	if (i == argc) {
		for (const conf_param *p = conf_params; p->name; p++)
			if (mode != CONF_SHOW_SET || conf_is_set(p->name))
				conf_print(p, mode, expand, value_only);
		return 0;
	}
	for (; i < argc; i++) {
		const conf_param *p = conf_decl(argv[i]);

		if (strchr(argv[i], '=')) {
			fprintf(stderr, "faxpost: error: mixing names and name=value: %s\n",
				argv[i]);
			return 2;
		}
		if (!p) {
			fprintf(stderr, "faxpost: error: unknown parameter: %s\n", argv[i]);
			rc = 1;
			continue;
		}
		conf_print(p, mode, expand, value_only);
	}
	return rc;
}
