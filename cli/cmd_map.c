/*
 * cmd_map.c - `faxpost map`: compile or query a lookup table (as postmap).
 *
 *   faxpost map [-f] FILE            compile FILE into FILE.db (atomically)
 *   faxpost map [-f] -q KEY FILE     print KEY's value; exit 1 when not found.
 *                                    KEY "-": read keys from stdin, print "key<TAB>value"
 *   faxpost map [-f] -s FILE         print every "key<TAB>value"
 * -f: keys are case-sensitive (not lower-cased). A "hash:" prefix on FILE is accepted.
 * Contract: exit 0 on success, 1 on failure or key not found, 2 on a usage error;
 * a bad source line is reported as "FILE:LINE: why".
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/dict.h"
#include "mail/dict_compile.h"
#include "util/msg.h"

static int map_usage(FILE *fp)
{
	fprintf(fp, "usage: faxpost map [-f] FILE | [-f] -q KEY FILE | [-f] -s FILE\n"
		"  Compile the text table FILE into FILE.db, or query it.\n"
		"  -q KEY  print the value of KEY (KEY '-': read keys from standard input)\n"
		"  -s      print all entries\n"
		"  -f      keys are case-sensitive (do not lower-case them)\n");
	return fp == stdout ? 0 : 2;
}

static int map_print(const char *key, const char *value, void *ctx)
{
	(void)ctx;
	printf("%s\t%s\n", key, value);
	return 0;
}

static int map_query(dict *d, const char *key)
{
	const char *v;
	int found = 0;

	if (strcmp(key, "-") != 0) {
		if ((v = dict_lookup(d, key)) == NULL)
			return 1;
		printf("%s\n", v);
		return 0;
	}
	/* keys from stdin, one per line */
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, stdin)) >= 0) {
		while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
			line[--n] = 0;
		if (n == 0)
			continue;
		if ((v = dict_lookup(d, line)) != NULL) {
			printf("%s\t%s\n", line, v);
			found = 1;
		}
	}
	free(line);
	return found ? 0 : 1;
}

int cmd_map(int argc, char **argv)
{
	const char *query = NULL, *file;
	int dump = 0, flags = 0, c, rc;
	char err[512];
	dict *d;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return map_usage(stdout);
	optind = 0;	/* GNU: full re-initialisation, the dispatcher may have used getopt */
	while ((c = getopt(argc, argv, "+fq:s")) != -1) {
		switch (c) {
		case 'f':
			flags |= DICT_CASE;
			break;
		case 'q':
			query = optarg;
			break;
		case 's':
			dump = 1;
			break;
		default:
			return map_usage(stderr);
		}
	}
	if (argc - optind != 1 || (query && dump))
		return map_usage(stderr);
	file = argv[optind];
	if (strncmp(file, "hash:", 5) == 0)
		file += 5;
	if (!query && !dump) {
		if (dict_compile_flags(file, flags, err, sizeof(err)) < 0) {
			fprintf(stderr, "faxpost map: %s\n", err);
			return 1;
		}
		return 0;
	}
	if ((d = dict_open(file, flags | DICT_REQUIRED, err, sizeof(err))) == NULL) {
		fprintf(stderr, "faxpost map: %s\n", err);
		return 1;
	}
	rc = query ? map_query(d, query) : (dict_walk(d, map_print, NULL) < 0 ? 1 : 0);
	dict_close(d);
	if (fflush(stdout) != 0)
		rc = 1;
	return rc;
}
