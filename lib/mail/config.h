/*
 * config.h - main.cf: Postfix syntax, typed parameters with defaults.
 *
 * Contract: `name = value` lines, `#` comments, whitespace-led continuation lines,
 * `$name` and `${name}` expansion (late, at lookup; loops are an error). Every known
 * parameter is declared once, with its type, default and documentation, in the table
 * in lib/mail/config_params.c; `faxpost conf -d` prints that table. Unknown names in
 * main.cf are warned about ("warning: main.cf:12: unknown parameter foo_bar"). A bad
 * value makes config_load() fail with "main.cf:LINE: parameter NAME: why".
 * Overrides (`-o name=value` from master.cf, `faxpost conf name=value`) win over the file.
 * Lookups are for declared names only; asking for an undeclared name is a panic.
 */
#ifndef FAXPOST_MAIL_CONFIG_H
#define FAXPOST_MAIL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

typedef enum { CONF_STR, CONF_INT, CONF_BOOL, CONF_TIME, CONF_SIZE, CONF_LIST } conf_type;

typedef struct conf_param {
	const char *name;
	conf_type type;
	const char *def;	/* default, in main.cf syntax (may use $name) */
	const char *doc;	/* one line for `faxpost conf -d` and docs */
} conf_param;

extern const conf_param conf_params[];	/* terminated by { NULL } */

/* Load DIR/main.cf (config_directory = DIR). err gets "main.cf:12: ..." on failure. */
int config_load(const char *config_dir, char *err, size_t errlen);
/* "name=value" override; -1 with err set when name unknown or value bad. */
int config_override(const char *assignment, char *err, size_t errlen);

const char *conf_str(const char *name);		/* expanded; never NULL */
long long conf_int(const char *name);
int conf_bool(const char *name);			/* yes/no/true/false/1/0 */
long long conf_time(const char *name);		/* seconds; accepts 10s 5m 2h 1d 1w */
long long conf_size(const char *name);		/* bytes; accepts 10k 10m 1g */
/* Comma/whitespace separated list: returns count, fills up to max items (malloc'd). */
size_t conf_list(const char *name, char **items, size_t max);
void conf_list_free(char **items, size_t n);

/* Is NAME set explicitly in main.cf (or overridden)?  Used by `faxpost conf -n`. */
int conf_is_set(const char *name);
/* Raw (unexpanded) value, for `faxpost conf`. */
const char *conf_raw(const char *name);
const char *config_directory(void);
/* Write name=value into DIR/main.cf, keeping comments and order (faxpost conf n=v). */
int config_edit(const char *config_dir, const char *name, const char *value,
		char *err, size_t errlen);

#endif
