/*
 * mastercf.h - master.cf: one service per logical line, in Postfix's columns.
 *
 *   service type private unpriv chroot wakeup maxproc command [args...]
 *
 * Syntax as Postfix: blank lines and lines whose first non-blank character is '#' are
 * ignored; a line that starts with whitespace continues the previous entry; '-' in a
 * column means the built-in default; booleans are y/n; wakeup may end in '?' ("only
 * after first use"); an argument holding whitespace is written `{ a b }`;
 * `-o name=value`, `-o { name = value }` and `-oname=value` are per-service main.cf
 * overrides. The same service/type twice: the last entry wins, with a warning.
 *
 * Defaults for '-': private y (always n for inet), unpriv y, chroot n, wakeup 0,
 * maxproc = the default_process_limit the caller passes (0 = no limit).
 *
 * Errors name the file and the first line of the entry: "master.cf:12: bad type
 * 'tcp' (want inet, unix, unix-dgram, fifo or pass)".
 */
#ifndef FAXPOST_MAIL_MASTERCF_H
#define FAXPOST_MAIL_MASTERCF_H

#include <stddef.h>

typedef struct mastercf_entry {
	char *service;		/* col 1: "[host:]port" for inet, a name/path otherwise */
	char *type;		/* "inet" "unix" "unix-dgram" "fifo" "pass" */
	int private_;		/* 1: socket under private/, 0: public/ */
	int unpriv;		/* 1: drop to mail_owner */
	int chroot;		/* 1: chroot to queue_directory */
	int wakeup;		/* seconds, 0 = none */
	int wakeup_used_only;	/* the '?' suffix */
	int maxproc;		/* 0 = unlimited */
	int argc;
	char **argv;		/* argv[0] = command; { } groups unwrapped; -o normalised to
				 * two words "-o" "name=value"; argv[argc] == NULL */
	int nopt;
	char **opts;		/* just the -o "name=value" strings, in order */
	int line;		/* first line of the entry in the file */
} mastercf_entry;

/* Parse the file at path. On success *out is a malloc'd array of *n entries (file
 * order, duplicates removed) and 0 is returned; on error -1 with err set. */
int mastercf_load(const char *path, int default_process_limit, mastercf_entry **out,
		  size_t *n, char *err, size_t errlen);
/* The same, from text in memory; fname is used in messages ("master.cf"). */
int mastercf_parse(const char *text, const char *fname, int default_process_limit,
		   mastercf_entry **out, size_t *n, char *err, size_t errlen);
void mastercf_free(mastercf_entry *entries, size_t n);
/* The entry for service/type, or NULL. */
const mastercf_entry *mastercf_find(const mastercf_entry *entries, size_t n,
				    const char *service, const char *type);

#endif
