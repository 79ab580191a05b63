/*
 * cmd_provider.c - `faxpost provider [NAME [MAILBOX] [key=value ...] [--smtp]]`.
 *
 * Contract: without NAME, lists the presets of the providers file. With NAME, writes
 * (or replaces) the block [MAILBOX] (default NAME) in pop_mailboxes: "provider = NAME"
 * then the overrides given, each checked as popd-client would; --smtp also sets
 * relayhost and the SMTP client's TLS mode in main.cf from the preset. The file is
 * replaced atomically (temporary file, fsync, rename). Exit 0 ok, 1 failure, 2 usage.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/config.h"
#include "mail/pop_mailbox.h"
#include "util/buf.h"
#include "util/msg.h"

static int provider_usage(FILE *fp)
{
	fprintf(fp, "usage: faxpost provider                      list the presets\n"
		"       faxpost provider NAME [MAILBOX] [key=value ...] [--smtp]\n"
		"  Write the POP3 mailbox block [MAILBOX] (default NAME) of pop_mailboxes from\n"
		"  the preset NAME; key=value pairs override any field (user, deliver_to, port,\n"
		"  tls, verify, apop, interval, keep, size_limit, connect_delay, ...).\n"
		"  --smtp  also set relayhost and SMTP TLS in main.cf from the preset.\n"
		"  The password goes in pop_passwords (\"MAILBOX secret\", then faxpost map).\n");
	return fp == stdout ? 0 : 2;
}

static void provider_print(void *ctx, const char *key, const mailbox *p)
{
	printf("%-12s %-38s pop %s:%s %-5s smtp %s:%s %s\n", key, p->display, p->server, p->port,
	       mailbox_tls_name(p->tls), p->smtp_server[0] ? p->smtp_server : "-",
	       p->smtp_port[0] ? p->smtp_port : "-", p->smtp_tls[0] ? p->smtp_tls : "-");
}

/* Copy path to a buffer without the block [name] (kept comments elsewhere). */
static int provider_strip_block(const char *path, const char *name, buf *out)
{
	FILE *fp = fopen(path, "r");
	char line[1024], head[80];
	int skipping = 0;

	if (!fp)
		return errno == ENOENT ? 0 : -1;
	snprintf(head, sizeof(head), "[%s]", name);
	while (fgets(line, sizeof(line), fp)) {
		const char *l = line;

		while (*l == ' ' || *l == '\t')
			l++;
		if (*l == '[')
			skipping = strncmp(l, head, strlen(head)) == 0;
		if (!skipping && buf_append_str(out, line) < 0) {
			fclose(fp);
			return -1;
		}
	}
	fclose(fp);
	return 0;
}

static int provider_write(const char *path, const buf *text)
{
	char tmp[4200];
	FILE *fp;
	int ok;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (!(fp = fopen(tmp, "w")))
		return -1;
	ok = fwrite(text->data, 1, text->len, fp) == text->len && fflush(fp) == 0 &&
	     fsync(fileno(fp)) == 0;
	ok = (fclose(fp) == 0) && ok;
	if (!ok || rename(tmp, path) < 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int provider_smtp(const mailbox *mb)
{
	char relay[300], err[256];
	const char *wrapper = strcmp(mb->smtp_tls, "wrapper") == 0 ? "yes" : "no";
	const char *level = strcmp(mb->smtp_tls, "none") == 0 ? "may" : "verify";

	if (!mb->smtp_server[0]) {
		fprintf(stderr, "faxpost provider: the preset has no SMTP server\n");
		return -1;
	}
	snprintf(relay, sizeof(relay), "[%s]:%s", mb->smtp_server,
		 mb->smtp_port[0] ? mb->smtp_port : "25");
	if (config_edit(config_directory(), "relayhost", relay, err, sizeof(err)) < 0 ||
	    config_edit(config_directory(), "smtp_tls_wrappermode", wrapper, err, sizeof(err)) < 0 ||
	    config_edit(config_directory(), "smtp_tls_security_level", level, err, sizeof(err)) < 0) {
		fprintf(stderr, "faxpost provider: main.cf: %s\n", err);
		return -1;
	}
	printf("main.cf: relayhost = %s, smtp_tls_wrappermode = %s, smtp_tls_security_level = %s\n",
	       relay, wrapper, level);
	return 0;
}

int cmd_provider(int argc, char **argv)
{
	char providers[4096], boxes[4096], err[512];
	const char *name = NULL, *box = NULL;
	int smtp = 0, nover = 0;
	char *over[64];
	mailbox mb;
	buf text;

	mailbox_conf_path(providers, sizeof(providers), "pop_providers");
	mailbox_conf_path(boxes, sizeof(boxes), "pop_mailboxes");
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return provider_usage(stdout);
		if (!strcmp(argv[i], "--smtp"))
			smtp = 1;
		else if (argv[i][0] == '-')
			return provider_usage(stderr);
		else if (strchr(argv[i], '=')) {
			if (nover >= 64)
				return provider_usage(stderr);
			over[nover++] = argv[i];
		} else if (!name)
			name = argv[i];
		else if (!box)
			box = argv[i];
		else
			return provider_usage(stderr);
	}
	if (!name) {
		if (mailbox_each_preset(providers, provider_print, NULL, err, sizeof(err)) < 0) {
			fprintf(stderr, "faxpost provider: %s\n", err);
			return 1;
		}
		return 0;
	}
	if (!box)
		box = name;
	for (const char *p = box; *p; p++)
		if (!(*p == '-' || *p == '_' || *p == '.' || (*p >= '0' && *p <= '9') ||
		      (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) || strlen(box) > 60) {
			fprintf(stderr, "faxpost provider: bad mailbox name '%s'\n", box);
			return 2;
		}
	mailbox_defaults(&mb, box);
	if (mailbox_preset(providers, name, &mb, err, sizeof(err)) < 0) {
		fprintf(stderr, "faxpost provider: %s\n", err);
		return 1;
	}
	buf_init(&text, 1 << 20);
	if (provider_strip_block(boxes, box, &text) < 0) {
		fprintf(stderr, "faxpost provider: %s: %s\n", boxes, strerror(errno));
		buf_free(&text);
		return 1;
	}
	if (text.len && text.data[text.len - 1] != '\n')
		buf_append_char(&text, '\n');
	buf_printf(&text, "[%s]\nprovider = %s\n", box, name);
	for (int i = 0; i < nover; i++) {
		char *eq = strchr(over[i], '=');

		*eq = 0;
		if (mailbox_set(&mb, over[i], eq + 1, err, sizeof(err)) < 0) {
			fprintf(stderr, "faxpost provider: %s\n", err);
			buf_free(&text);
			return 1;
		}
		buf_printf(&text, "%s = %s\n", over[i], eq + 1);
	}
	if (provider_write(boxes, &text) < 0) {
		fprintf(stderr, "faxpost provider: cannot write %s: %s\n", boxes, strerror(errno));
		buf_free(&text);
		return 1;
	}
	buf_free(&text);
	printf("%s: [%s] pop %s:%s %s\n", boxes, box, mb.server, mb.port, mailbox_tls_name(mb.tls));
	if (!mb.user[0])
		printf("still needed: user = ...\n");
	if (!mb.deliver_to[0])
		printf("still needed: deliver_to = ...\n");
	printf("password: put \"%s PASSWORD\" in pop_passwords (mode 600) and run faxpost map\n", box);
	if (smtp && provider_smtp(&mb) < 0)
		return 1;
	return 0;
}
