/*
 * pop_mailbox.h - POP3 mailbox settings: pop_mailboxes blocks and provider presets.
 *
 * Contract: mailbox_load() reads the pop_mailboxes file (INI form: "[name]" then
 * "key = value" lines, '#' comments). A block may say "provider = NAME" to start from
 * a preset in the providers file; every key the block sets overrides the preset.
 * Passwords come from the pop_password_maps table (key: the mailbox name), never from
 * the mailbox file. Errors name file:line and stop the load.
 */
#ifndef FAXPOST_MAIL_POP_MAILBOX_H
#define FAXPOST_MAIL_POP_MAILBOX_H

#include <stddef.h>

#include "mail/pop3.h"

typedef struct mailbox {
	char name[64];
	char address[256];	/* the mailbox's own e-mail address (for logs) */
	char user[256];
	char server[256];
	char port[16];
	pop3_tls_mode tls;
	char verify[16];
	int apop;
	int allow_plaintext;	/* credentials without TLS (only for trusted LANs) */
	long long interval;	/* seconds between polls; 0 = manual only */
	int keep;		/* leave on server */
	long long size_limit;
	long long connect_delay;
	char deliver_to[256];	/* envelope recipient of fetched mail */
	/* SMTP side of a provider preset (informational; faxpost provider prints it) */
	char smtp_server[256];
	char smtp_port[16];
	char smtp_tls[16];
	char display[128];	/* a provider's display name */
} mailbox;

/* Load all mailboxes. Returns count (0..max) or -1 with err "file:line: why". */
int mailbox_load(const char *path, const char *providers, mailbox *out, size_t max,
		 char *err, size_t errlen);
/* Apply preset NAME from the providers file onto mb. 0 ok, -1 not found/bad. */
int mailbox_preset(const char *providers, const char *name, mailbox *mb, char *err,
		   size_t errlen);
/* Set one key (as in the file). 0 ok, -1 unknown key or bad value (err says why). */
int mailbox_set(mailbox *mb, const char *key, const char *value, char *err, size_t errlen);
void mailbox_defaults(mailbox *mb, const char *name);
/* Call fn for every preset in the providers file, in file order. */
int mailbox_each_preset(const char *providers, void (*fn)(void *ctx, const char *key,
			const mailbox *preset), void *ctx, char *err, size_t errlen);
const char *mailbox_tls_name(pop3_tls_mode t);

/* A main.cf file name relative to the config directory, made absolute. */
void mailbox_conf_path(char *out, size_t size, const char *param);
/* Load the mailboxes named by main.cf (pop_mailboxes, pop_providers); 0 when the file
 * does not exist. */
int mailbox_load_conf(mailbox *out, size_t max, char *err, size_t errlen);
/* The password of mailbox NAME from pop_password_maps (malloc'd; the caller wipes and
 * frees it), or NULL with err set. Refuses a world-readable table. */
char *mailbox_password(const char *name, char *err, size_t errlen);

/* The pop3_opts for a mailbox (main.cf's pop_tls_ca_file and pop_timeout); o keeps
 * pointers into mb and password. */
void mailbox_pop3_opts(const mailbox *mb, const char *password, pop3_opts *o);

/* POP-before-SMTP: log in to the configured mailbox (smtp_pop_before_smtp_mailbox, or
 * the first) unless that was done less than smtp_pop_before_smtp_interval ago in this
 * process. 0 ok, -1 with err set. */
int pop_before_smtp(char *err, size_t errlen);

#endif
