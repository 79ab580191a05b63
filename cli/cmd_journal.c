/*
 * cmd_journal.c - `faxpost journal`: the fax call journal written by faxd.
 *
 *   faxpost journal [-n COUNT] [-j] [-f] [NUMBER]
 *     the last COUNT calls (default 20; 0 = all), oldest first, as a table; -j one JSON
 *     object per line with every field; -f only calls that did not succeed; NUMBER only
 *     calls with that number (or remote id) in them.
 * Contract: reads data_directory/fax_journal (faxd/journal.c: one "name=value ..." line
 * per call, values with spaces double-quoted and free of quotes and backslashes).
 * Exit 0 (also for an empty journal), 1 when it cannot be read, 2 usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/config.h"
#include "util/buf.h"
#include "util/msg.h"

#define JF_MAX 24

typedef struct jfield {
	char name[24];
	char value[256];
} jfield;

static int journal_usage(FILE *fp)
{
	fprintf(fp, "usage: faxpost journal [-n COUNT] [-j] [-f] [NUMBER]\n"
		"  Show the fax calls faxd made and answered (data_directory/fax_journal).\n"
		"  -n COUNT  the last COUNT calls (default 20, 0 = all)\n"
		"  -j        JSON lines with every field\n"
		"  -f        only calls that failed or were deferred\n");
	return fp == stdout ? 0 : 2;
}

/* Split one journal line into fields; returns the count. */
static int journal_parse(const char *line, jfield *f, int max)
{
	int n = 0;
	const char *p = line;
	while (*p && n < max) {
		while (*p == ' ')
			p++;
		const char *eq = strchr(p, '=');
		if (!eq)
			break;
		size_t nl = (size_t)(eq - p);
		str_ncopy(f[n].name, sizeof(f[n].name), p, nl);
		p = eq + 1;
		const char *end;
		if (*p == '"') {
			p++;
			end = strchr(p, '"');
			if (!end)
				end = p + strlen(p);
			str_ncopy(f[n].value, sizeof(f[n].value), p, (size_t)(end - p));
			p = *end ? end + 1 : end;
		} else {
			end = strchr(p, ' ');
			if (!end)
				end = p + strlen(p);
			str_ncopy(f[n].value, sizeof(f[n].value), p, (size_t)(end - p));
			p = end;
		}
		n++;
	}
	return n;
}

static const char *jget(const jfield *f, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(f[i].name, name) == 0)
			return f[i].value;
	return "-";
}

static void print_json(const jfield *f, int n)
{
	putchar('{');
	for (int i = 0; i < n; i++) {
		printf("%s\"%s\": \"", i ? ", " : "", f[i].name);
		for (const char *c = f[i].value; *c; c++)
			if ((unsigned char)*c >= 0x20 && *c != '"' && *c != '\\')
				putchar(*c);
		putchar('"');
	}
	printf("}\n");
}

static void print_row(const jfield *f, int n)
{
	const char *dir = jget(f, n, "dir");
	const char *who = strcmp(dir, "send") == 0 ? jget(f, n, "number") : jget(f, n, "remote");
	printf("%-20s %-7s %-16.16s %-20.20s %5s %5s %-3s %-3s %6s %-8s %s\n", jget(f, n, "time"),
	       dir, who, jget(f, n, "remote"), jget(f, n, "pages"), jget(f, n, "speed"),
	       jget(f, n, "coding"), jget(f, n, "ecm"), jget(f, n, "duration"),
	       jget(f, n, "status"), jget(f, n, "reason"));
}

int cmd_journal(int argc, char **argv)
{
	long count = 20;
	int json = 0, failed = 0, c;
	static const struct option longopts[] = { { "help", no_argument, NULL, 'h' },
						   { NULL, 0, NULL, 0 } };
	optind = 1;
	while ((c = getopt_long(argc, argv, "n:jfh", longopts, NULL)) != -1) {
		switch (c) {
		case 'n': {
			char *end;
			count = strtol(optarg, &end, 10);
			if (*end || count < 0)
				return journal_usage(stderr);
			break;
		}
		case 'j': json = 1; break;
		case 'f': failed = 1; break;
		case 'h': return journal_usage(stdout);
		default: return journal_usage(stderr);
		}
	}
	if (argc - optind > 1)
		return journal_usage(stderr);
	const char *want = optind < argc ? argv[optind] : NULL;
	char path[4096];
	if (snprintf(path, sizeof(path), "%s/fax_journal", conf_str("data_directory")) >=
	    (int)sizeof(path)) {
		fprintf(stderr, "faxpost: error: data_directory too long\n");
		return 1;
	}
	FILE *fp = fopen(path, "r");
	if (!fp) {
		if (errno == ENOENT)
			return 0;	/* no call yet */
		fprintf(stderr, "faxpost: error: %s: %s\n", path, strerror(errno));
		return 1;
	}
	/* keep the last `count` matching lines in a ring */
	size_t cap = count > 0 ? (size_t)count : 1024, n = 0, head = 0;
	char **ring = xcalloc(cap, sizeof(char *));
	char *line = NULL;
	size_t lsz = 0;
	ssize_t len;
	while ((len = getline(&line, &lsz, fp)) > 0) {
		if (line[len - 1] == '\n')
			line[len - 1] = '\0';
		jfield f[JF_MAX];
		int nf = journal_parse(line, f, JF_MAX);
		const char *st = jget(f, nf, "status");
		if (failed && (!strcmp(st, "sent") || !strcmp(st, "received")))
			continue;
		if (want && !strstr(line, want))
			continue;
		if (count == 0 && n == cap) {	/* all: grow */
			char **nr = xcalloc(cap * 2, sizeof(char *));
			for (size_t i = 0; i < n; i++)
				nr[i] = ring[(head + i) % cap];
			free(ring);
			ring = nr;
			head = 0;
			cap *= 2;
		}
		if (n == cap) {
			free(ring[head]);
			ring[head] = xstrdup(line);
			head = (head + 1) % cap;
		} else {
			ring[(head + n++) % cap] = xstrdup(line);
		}
	}
	free(line);
	fclose(fp);
	if (!json && n > 0)
		printf("%-20s %-7s %-16s %-20s %5s %5s %-3s %-3s %6s %-8s %s\n", "time", "dir",
		       "number", "remote", "pages", "speed", "cod", "ecm", "secs", "status", "reason");
	for (size_t i = 0; i < n; i++) {
		jfield f[JF_MAX];
		char *l = ring[(head + i) % cap];
		int nf = journal_parse(l, f, JF_MAX);
		if (json)
			print_json(f, nf);
		else
			print_row(f, nf);
		free(l);
	}
	free(ring);
	return 0;
}
