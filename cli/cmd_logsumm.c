/*
 * cmd_logsumm.c - `faxpost logsumm [-d today|yesterday] [LOGFILE...]`: a pflogsumm-style
 * summary of faxpost's log.
 *
 * Contract: reads the log lines (maillog_file by default, or the files given, "-" for
 * standard input) and prints grand totals (received, delivered, deferred, bounced,
 * rejected, bytes, connections, fax calls and pages both ways), per-hour traffic, top
 * senders, recipient domains, reject reasons and warnings. Counting follows the lines'
 * meaning, not their number: a message is received once however many daemons log it.
 * Unparsable lines are skipped. Exit 0, 1 when a file cannot be read, 2 on usage.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mail/config.h"
#include "util/buf.h"
#include "util/msg.h"

/* A counting hash table of strings. */
typedef struct tally_ent {
	char *key;
	long long n;
} tally_ent;

typedef struct tally {
	tally_ent *e;
	size_t cap, used;
} tally;

static size_t tally_hash(const char *s)
{
	size_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static void tally_grow(tally *t)
{
	tally old = *t;

	t->cap = old.cap ? old.cap * 2 : 64;
	t->e = xcalloc(t->cap, sizeof(*t->e));
	t->used = 0;
	for (size_t i = 0; i < old.cap; i++)
		if (old.e[i].key) {
			size_t j = tally_hash(old.e[i].key) & (t->cap - 1);

			while (t->e[j].key)
				j = (j + 1) & (t->cap - 1);
			t->e[j] = old.e[i];
			t->used++;
		}
	free(old.e);
}

/* Add n to key; returns the new count (n = 0 only asks). */
static long long tally_add(tally *t, const char *key, long long n)
{
	size_t j;

	if ((t->used + 1) * 2 > t->cap)
		tally_grow(t);
	j = tally_hash(key) & (t->cap - 1);
	while (t->e[j].key && strcmp(t->e[j].key, key) != 0)
		j = (j + 1) & (t->cap - 1);
	if (!t->e[j].key) {
		if (n == 0)
			return 0;
		t->e[j].key = xstrdup(key);
		t->used++;
	}
	t->e[j].n += n;
	return t->e[j].n;
}

static int tally_cmp(const void *a, const void *b)
{
	const tally_ent *x = a, *y = b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->key, y->key);
}

static void tally_print(const char *title, tally *t, size_t top)
{
	tally_ent *v = xcalloc(t->used ? t->used : 1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; i < t->cap; i++)
		if (t->e[i].key)
			v[n++] = t->e[i];
	qsort(v, n, sizeof(*v), tally_cmp);
	printf("\n%s\n", title);
	for (size_t i = 0; i < strlen(title); i++)
		putchar('-');
	putchar('\n');
	if (!n)
		printf(" none\n");
	for (size_t i = 0; i < n && i < top; i++)
		printf(" %6lld   %s\n", v[i].n, v[i].key);
	free(v);
}

static void tally_free(tally *t)
{
	for (size_t i = 0; i < t->cap; i++)
		free(t->e[i].key);
	free(t->e);
}

typedef struct summary {
	tally ids;		/* received queue IDs */
	tally senders, rcpt_domains, rejects, warnings, deferred_ids, origins;
	long long received, delivered, deferrals, bounced, rejected, bytes, connections;
	long long fax_sent, fax_sent_pages, fax_failed, fax_received, fax_received_pages;
	long long hour_received[24], hour_delivered[24];
	char want_date[8];	/* "Nov 22" form, or "" for every line */
} summary;

/* Copy the value after "name" up to one of the stop characters. */
static int field(const char *text, const char *name, char *out, size_t outlen, const char *stop)
{
	const char *p = strstr(text, name), *e;

	if (!p)
		return -1;
	p += strlen(name);
	e = p + strcspn(p, stop);
	return str_ncopy(out, outlen, p, (size_t)(e - p));
}

static void logsumm_delivery(summary *s, const char *text, int hour)
{
	char status[32] = "", rcpt[300] = "", pages[32] = "";
	const char *at;

	field(text, "status=", status, sizeof(status), " ,(");
	field(text, "to=<", rcpt, sizeof(rcpt), ">");
	field(text, "pages=", pages, sizeof(pages), ", ");
	if (!strcmp(status, "sent")) {
		s->delivered++;
		s->hour_delivered[hour]++;
		at = strrchr(rcpt, '@');
		tally_add(&s->rcpt_domains, at ? at + 1 : rcpt, 1);
		if (pages[0] && strstr(text, "relay=fax[")) {
			s->fax_sent++;
			s->fax_sent_pages += atoll(pages);
		}
	} else if (!strcmp(status, "deferred")) {
		char id[32] = "";

		s->deferrals++;
		str_ncopy(id, sizeof(id), text, strcspn(text, ":"));
		tally_add(&s->deferred_ids, id, 1);
		if (pages[0] || strstr(text, "relay=fax["))
			s->fax_failed++;
	} else if (!strcmp(status, "bounced")) {
		s->bounced++;
		if (strstr(text, "relay=fax["))
			s->fax_failed++;
	}
}

static void logsumm_reject(summary *s, const char *text)
{
	const char *p = strstr(text, ": reject: ");
	const char *code;
	char reason[160];
	size_t len;

	s->rejected++;
	p += strlen(": reject: ");
	/* "RCPT from host[addr]: 554 5.7.1 <x>: Relay access denied; from=..." */
	code = strstr(p, "]: ");
	code = code ? code + 3 : p;
	len = strcspn(code, ";");
	str_ncopy(reason, sizeof(reason), code, len < sizeof(reason) - 1 ? len : sizeof(reason) - 1);
	/* drop the address between <...> so equal reasons count together */
	{
		char *lt = strchr(reason, '<'), *gt = lt ? strchr(lt, '>') : NULL;

		if (lt && gt)
			memmove(lt + 1, gt, strlen(gt) + 1);
	}
	tally_add(&s->rejects, reason, 1);
}

static void logsumm_text(summary *s, const char *prog, const char *text, int hour)
{
	char what[400];

	if (!strncmp(text, "warning: ", 9)) {
		snprintf(what, sizeof(what), "%s: %.80s", prog, text + 9);
		tally_add(&s->warnings, what, 1);
		return;
	}
	if (!strncmp(text, "connect from ", 13)) {
		s->connections++;
		return;
	}
	if (strstr(text, ": reject: ")) {
		logsumm_reject(s, text);
		return;
	}
	if (strstr(text, ": from=<") && strstr(text, "(queue active)")) {
		char id[32] = "", sender[300] = "", size[32] = "";

		str_ncopy(id, sizeof(id), text, strcspn(text, ":"));
		if (tally_add(&s->ids, id, 1) > 1)
			return;		/* logged again by another daemon */
		field(text, "from=<", sender, sizeof(sender), ">");
		field(text, "size=", size, sizeof(size), ", ");
		s->received++;
		s->hour_received[hour]++;
		s->bytes += atoll(size);
		tally_add(&s->senders, sender[0] ? sender : "<>", 1);
		return;
	}
	if (strstr(text, ": from=<fax>, relay=fax[")) {
		char pages[32] = "";

		field(text, "pages=", pages, sizeof(pages), ", ");
		s->fax_received++;
		s->fax_received_pages += atoll(pages);
		return;
	}
	if (strstr(text, ": client=") && strstr(text, ", pop=")) {
		tally_add(&s->origins, "pop", 1);
		return;
	}
	if (strstr(text, ": client=")) {
		tally_add(&s->origins, prog, 1);
		return;
	}
	if (strstr(text, ": to=<") && strstr(text, "status="))
		logsumm_delivery(s, text, hour);
}

/* "Nov 22 11:46:27 host faxpost/smtpd[1234]: text" */
static void logsumm_line(summary *s, const char *line)
{
	const char *p, *colon;
	char prog[64];
	int hour;

	if (strlen(line) < 16 || line[3] != ' ' || line[9] != ':' || line[12] != ':')
		return;
	if (s->want_date[0] && strncmp(line, s->want_date, 6) != 0)
		return;
	hour = (line[7] - '0') * 10 + (line[8] - '0');
	if (hour < 0 || hour > 23)
		return;
	p = strchr(line + 16, ' ');
	if (!p || strncmp(p + 1, "faxpost/", 8) != 0)
		return;
	p += 9;
	colon = strstr(p, ": ");
	if (!colon)
		return;
	str_ncopy(prog, sizeof(prog), p, strcspn(p, "["));
	logsumm_text(s, prog, colon + 2, hour);
}

static int logsumm_file(summary *s, const char *path)
{
	FILE *fp = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!fp) {
		fprintf(stderr, "faxpost logsumm: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, fp)) > 0) {
		if (line[n - 1] == '\n')
			line[n - 1] = 0;
		logsumm_line(s, line);
	}
	free(line);
	if (fp != stdin)
		fclose(fp);
	return 0;
}

static void logsumm_print(summary *s)
{
	long long tried = s->received + s->rejected;

	printf("Grand Totals\n------------\nmessages\n\n");
	printf(" %6lld   received\n", s->received);
	printf(" %6lld   delivered\n", s->delivered);
	printf(" %6lld   deferred  (%lld deferrals)\n", (long long)s->deferred_ids.used, s->deferrals);
	printf(" %6lld   bounced\n", s->bounced);
	printf(" %6lld   rejected (%lld%%)\n", s->rejected, tried ? s->rejected * 100 / tried : 0);
	printf("\n %6lld%c  bytes received\n", s->bytes >= 10240 ? s->bytes / 1024 : s->bytes,
	       s->bytes >= 10240 ? 'k' : ' ');
	printf(" %6lld   connections\n", s->connections);
	printf(" %6zu   senders\n", s->senders.used);
	printf(" %6zu   recipient domains\n", s->rcpt_domains.used);
	printf("\nfax\n\n");
	printf(" %6lld   faxes sent (%lld pages)\n", s->fax_sent, s->fax_sent_pages);
	printf(" %6lld   fax attempts failed or deferred\n", s->fax_failed);
	printf(" %6lld   faxes received (%lld pages)\n", s->fax_received, s->fax_received_pages);
	printf("\nPer-Hour Traffic Summary\n------------------------\n    time        received  delivered\n");
	for (int h = 0; h < 24; h++)
		if (s->hour_received[h] || s->hour_delivered[h])
			printf("    %02d00-%02d00   %8lld   %8lld\n", h, (h + 1) % 24, s->hour_received[h],
			       s->hour_delivered[h]);
	tally_print("Received by origin", &s->origins, 10);
	tally_print("Senders by message count", &s->senders, 20);
	tally_print("Recipient domains by delivered messages", &s->rcpt_domains, 20);
	tally_print("Reject reasons", &s->rejects, 20);
	tally_print("Warnings", &s->warnings, 20);
}

static int logsumm_usage(FILE *fp)
{
	fprintf(fp, "usage: faxpost logsumm [-d today|yesterday] [LOGFILE...]\n"
		"  Summarise faxpost's log (default: maillog_file; - = standard input).\n");
	return fp == stdout ? 0 : 2;
}

int cmd_logsumm(int argc, char **argv)
{
	summary s;
	int first = 1, rc = 0;

	memset(&s, 0, sizeof(s));
	for (; first < argc && argv[first][0] == '-' && argv[first][1]; first++) {
		if (!strcmp(argv[first], "--help") || !strcmp(argv[first], "-h"))
			return logsumm_usage(stdout);
		if (!strcmp(argv[first], "-d") && first + 1 < argc) {
			const char *d = argv[++first];
			time_t t = time(NULL);
			struct tm tm;

			if (!strcmp(d, "yesterday"))
				t -= 86400;
			else if (strcmp(d, "today"))
				return logsumm_usage(stderr);
			localtime_r(&t, &tm);
			strftime(s.want_date, sizeof(s.want_date), "%b %e", &tm);
			continue;
		}
		return logsumm_usage(stderr);
	}
	if (first == argc) {
		const char *log = conf_str("maillog_file");

		if (!*log) {
			fprintf(stderr, "faxpost logsumm: maillog_file is empty: name the log file\n");
			return 2;
		}
		rc = logsumm_file(&s, log) < 0;
	}
	for (int i = first; i < argc; i++)
		if (logsumm_file(&s, argv[i]) < 0)
			rc = 1;
	logsumm_print(&s);
	tally_free(&s.ids);
	tally_free(&s.senders);
	tally_free(&s.rcpt_domains);
	tally_free(&s.rejects);
	tally_free(&s.warnings);
	tally_free(&s.deferred_ids);
	tally_free(&s.origins);
	return rc;
}
