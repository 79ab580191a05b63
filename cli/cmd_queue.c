/*
 * cmd_queue.c - `faxpost queue`: list and manage the mail queue.
 *
 *   faxpost queue [-j]                 list (postqueue -p form; -j JSON lines)
 *   faxpost queue show ID              envelope and message (like postcat)
 *   faxpost queue hold ID...|ALL       incoming/deferred -> hold
 *   faxpost queue release ID...|ALL    hold -> deferred, due now
 *   faxpost queue delete ID...|ALL     remove from incoming/deferred/hold
 *   faxpost queue requeue ID...|ALL    deferred/hold -> incoming (routed afresh)
 *   faxpost queue flush [ID...|ALL]    retry deferred mail now
 *
 * Contract: safe while the system runs. Every change is one rename (or unlink) of a
 * file in a state qmgr does not hold: a race with qmgr makes the rename fail with
 * ENOENT and the message is reported as "not found (being delivered?)", never
 * damaged. Messages in active/ belong to qmgr and are not changed. qmgr is told by
 * the public/qmgr trigger. Listing reads each envelope once (queue_scan_qf: open,
 * fstat, one pread) and writes through stdio buffers. Exit 0, 1 (some ID not found
 * or an error), 2 (usage).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "mail/config.h"
#include "mail/queue.h"
#include "mail/queue_scan.h"
#include "util/buf.h"
#include "util/msg.h"

static const char *q_states[] = { Q_ACTIVE, Q_INCOMING, Q_DEFERRED, Q_HOLD, NULL };

static int q_usage(FILE *f)
{
	fputs("usage: faxpost queue [-j]\n"
	      "       faxpost queue show ID\n"
	      "       faxpost queue hold|release|delete|requeue ID...|ALL\n"
	      "       faxpost queue flush [ID...|ALL]\n"
	      "List the mail queue (postqueue -p form, -j JSON lines) or act on messages.\n",
	      f);
	return f == stderr ? 2 : 0;
}

/* --- listing ------------------------------------------------------------------ */

static void q_json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

/* Reason for addr in the defer text ("rcpt\tdsn\treason" lines), or NULL. */
static const char *q_reason(const char *text, const char *addr, char *out, size_t outlen)
{
	size_t al = strlen(addr);

	for (const char *p = text; p && *p; ) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len > al + 1 && strncmp(p, addr, al) == 0 && p[al] == '\t') {
			const char *t = memchr(p + al + 1, '\t', len - al - 1);
			if (t) {
				size_t rl = len - (size_t)(t + 1 - p);
				str_ncopy(out, outlen, t + 1, rl < outlen ? rl : outlen - 1);
				return out;
			}
		}
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}

static char q_flag(const char *state)
{
	return strcmp(state, Q_ACTIVE) == 0 ? '*' : strcmp(state, Q_HOLD) == 0 ? '!' : ' ';
}

typedef struct q_totals {
	long long bytes;
	long long count;
} q_totals;

static void q_list_text(FILE *out, const char *state, const qfile *qf, const char *defer)
{
	char when[32], idf[16], reason[1024];
	time_t t = (time_t)(qf->env.arrival_us / 1000000);
	const char *prev = NULL;
	char prevbuf[1024];

	ctime_r(&t, when);
	snprintf(idf, sizeof idf, "%s%c", qf->id, q_flag(state));
	fprintf(out, "%-13s %7lld %20.20s %s\n", idf, (long long)qf->content_len, when,
		qf->env.sender[0] ? qf->env.sender : "MAILER-DAEMON");
	for (size_t i = 0; i < qf->env.nrcpt; i++) {
		const qrcpt *r = &qf->env.rcpt[i];
		if (r->done)
			continue;
		const char *why = defer ? q_reason(defer, r->addr, reason, sizeof reason) : NULL;
		if (why && (prev == NULL || strcmp(prev, why) != 0)) {
			int pad = 76 - (int)strlen(why);
			fprintf(out, "%*s(%s)\n", pad > 0 ? pad : 0, "", why);
			snprintf(prevbuf, sizeof prevbuf, "%s", why);
			prev = prevbuf;
		}
		fprintf(out, "%43s%s\n", "", r->addr);
	}
	fputc('\n', out);
}

static void q_list_json(FILE *out, const char *state, const qfile *qf, const char *defer)
{
	char reason[1024];
	int first = 1;

	fprintf(out, "{\"queue_name\": \"%s\", \"queue_id\": \"%s\", \"arrival_time\": %lld, "
		"\"message_size\": %lld, \"forced_expire\": false, \"sender\": ", state, qf->id,
		(long long)(qf->env.arrival_us / 1000000), (long long)qf->content_len);
	q_json_str(out, qf->env.sender[0] ? qf->env.sender : "MAILER-DAEMON");
	fputs(", \"recipients\": [", out);
	for (size_t i = 0; i < qf->env.nrcpt; i++) {
		const qrcpt *r = &qf->env.rcpt[i];
		if (r->done)
			continue;
		fputs(first ? "{\"address\": " : ", {\"address\": ", out);
		first = 0;
		q_json_str(out, r->addr);
		const char *why = defer ? q_reason(defer, r->addr, reason, sizeof reason) : NULL;
		if (why) {
			fputs(", \"delay_reason\": ", out);
			q_json_str(out, why);
		}
		fputc('}', out);
	}
	fputs("]}\n", out);
}

/* The IDs that have delay reasons: one readdir of defer/ instead of a failing open()
 * per message (most queued messages have none). */
typedef struct q_names {
	char **v;
	size_t n;
} q_names;

static int q_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void q_names_load(const char *qdir, q_names *out)
{
	char err[256];
	queue_scan *s = queue_scan_open(qdir, Q_DEFER_LOG, QSCAN_SORT, err, sizeof err);
	queue_entry e;
	size_t cap = 0;

	out->v = NULL;
	out->n = 0;
	if (s == NULL)
		return;
	while (queue_scan_next(s, &e) == 1) {
		if (out->n == cap) {
			cap = cap ? cap * 2 : 256;
			out->v = xrealloc(out->v, cap * sizeof *out->v);
		}
		out->v[out->n++] = xstrdup(e.id);
	}
	queue_scan_close(s);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof *out->v, q_cmp);
}

static int q_names_has(const q_names *names, const char *id)
{
	return names->n && bsearch(&id, names->v, names->n, sizeof *names->v, q_cmp) != NULL;
}

static void q_names_free(q_names *names)
{
	for (size_t i = 0; i < names->n; i++)
		free(names->v[i]);
	free(names->v);
}

static int q_list(const char *qdir, int json)
{
	q_names reasons;
	char err[256];
	q_totals tot = { 0, 0 };
	static char obuf[1 << 16];

	setvbuf(stdout, obuf, _IOFBF, sizeof obuf);
	q_names_load(qdir, &reasons);
	for (const char **st = q_states; *st; st++) {
		queue_scan *s = queue_scan_open(qdir, *st, QSCAN_SORT, err, sizeof err);
		queue_entry e;
		int deferred = strcmp(*st, Q_DEFERRED) == 0;
		if (s == NULL)
			continue;	/* a missing folder is an empty queue */
		while (queue_scan_next(s, &e) == 1) {
			qfile *qf = queue_scan_qf(s, &e, O_RDONLY, err, sizeof err);
			if (qf == NULL)
				continue;	/* moved meanwhile, or not (yet) valid */
			char *defer = (deferred || strcmp(*st, Q_HOLD) == 0)
				&& q_names_has(&reasons, qf->id) ? queue_defer_read(qdir, qf->id) : NULL;
			if (!json && tot.count == 0)	/* Postfix: no heading for an empty queue */
				puts("-Queue ID-    --Size-- ----Arrival Time---- -Sender/Recipient-------");
			if (json)
				q_list_json(stdout, *st, qf, defer);
			else
				q_list_text(stdout, *st, qf, defer);
			tot.bytes += (long long)qf->content_len;
			tot.count++;
			free(defer);
			qf_close(qf);
		}
		queue_scan_close(s);
	}
	q_names_free(&reasons);
	if (!json) {
		if (tot.count == 0)
			puts("Mail queue is empty");
		else
			printf("-- %lld Kbytes in %lld Request%s.\n", tot.bytes / 1024, tot.count,
			       tot.count == 1 ? "" : "s");
	}
	return fflush(stdout) == 0 ? 0 : 1;
}

/* --- show ---------------------------------------------------------------------- */

static const char *q_find(const char *qdir, const char *id, char *path, size_t len)
{
	static const char *all[] = { Q_INCOMING, Q_ACTIVE, Q_DEFERRED, Q_HOLD, Q_CORRUPT, NULL };

	for (const char **st = all; *st; st++)
		if (queue_path(path, len, qdir, *st, id) == 0 && access(path, F_OK) == 0)
			return *st;
	return NULL;
}

static int q_show(const char *qdir, const char *id)
{
	char path[PATH_MAX], err[256], when[32], chunk[65536];
	const char *state;
	qfile *qf;

	if (!queue_id_valid(id)) {
		fprintf(stderr, "faxpost queue: %s: not a queue ID\n", id);
		return 1;
	}
	if ((state = q_find(qdir, id, path, sizeof path)) == NULL
	    || (qf = qf_open(path, O_RDONLY, err, sizeof err)) == NULL) {
		fprintf(stderr, "faxpost queue: %s: %s\n", id, state ? err : "not found");
		return 1;
	}
	const qenvelope *env = &qf->env;
	time_t t = (time_t)(env->arrival_us / 1000000);
	ctime_r(&t, when);
	when[strcspn(when, "\n")] = 0;
	printf("*** ENVELOPE RECORDS %s/%s ***\n", state, id);
	printf("message_size: %lld\n", (long long)qf->content_len);
	printf("message_arrival_time: %s\n", when);
	printf("sender: %s\n", env->sender);
	if (env->origin) printf("origin: %s\n", env->origin);
	if (env->client_name || env->client_addr)
		printf("client: %s[%s]\n", env->client_name ? env->client_name : "unknown",
		       env->client_addr ? env->client_addr : "");
	if (env->helo) printf("helo: %s\n", env->helo);
	if (env->protocol) printf("protocol: %s\n", env->protocol);
	if (env->auth_user) printf("auth_user: %s\n", env->auth_user);
	if (env->envid) printf("dsn_envid: %s\n", env->envid);
	if (env->ret) printf("dsn_ret: %s\n", env->ret == DSN_RET_FULL ? "FULL" : "HDRS");
	if (env->body_8bit) printf("body: 8BITMIME\n");
	for (size_t i = 0; i < env->nattr; i++)
		printf("named_attribute: %s=%s\n", env->attr[i].name, env->attr[i].value);
	for (size_t i = 0; i < env->nrcpt; i++) {
		const qrcpt *r = &env->rcpt[i];
		if (r->orcpt)
			printf("original_recipient: %s\n", r->orcpt);
		if (r->notify)
			printf("dsn_notify: %s%s%s%s\n", r->notify & DSN_NOTIFY_NEVER ? "NEVER " : "",
			       r->notify & DSN_NOTIFY_SUCCESS ? "SUCCESS " : "",
			       r->notify & DSN_NOTIFY_FAILURE ? "FAILURE " : "",
			       r->notify & DSN_NOTIFY_DELAY ? "DELAY" : "");
		printf("%s: %s\n", r->done ? "done_recipient" : "recipient", r->addr);
	}
	printf("*** MESSAGE CONTENTS %s/%s ***\n", state, id);
	fflush(stdout);
	for (off_t off = 0; off < qf->content_len; ) {
		ssize_t n = qf_read_content(qf, off, chunk, sizeof chunk);
		if (n <= 0)
			break;
		/* show with the terminal's line ends */
		for (ssize_t i = 0; i < n; i++)
			if (!(chunk[i] == '\r' && (i + 1 >= n || chunk[i + 1] == '\n')))
				putchar(chunk[i]);
		off += n;
	}
	printf("*** MESSAGE FILE END %s/%s ***\n", state, id);
	qf_close(qf);
	return 0;
}

/* --- changes ------------------------------------------------------------------- */

typedef struct q_op {
	const char *name;
	const char *from[4];	/* states it applies to */
	const char *to;		/* NULL = delete */
	const char *done;	/* log word */
	int touch;		/* set mtime = now (due for retry) */
	char trigger;
} q_op;

static const q_op q_ops[] = {
	{ "hold", { Q_INCOMING, Q_DEFERRED, NULL }, Q_HOLD, "placed on hold", 0, 0 },
	{ "release", { Q_HOLD, NULL }, Q_DEFERRED, "released from hold", 1, TRIGGER_SCAN },
	{ "delete", { Q_INCOMING, Q_DEFERRED, Q_HOLD, NULL }, NULL, "removed", 0, 0 },
	{ "requeue", { Q_DEFERRED, Q_HOLD, NULL }, Q_INCOMING, "requeued", 0, TRIGGER_NEW },
	{ "flush", { Q_DEFERRED, NULL }, NULL, "scheduled for delivery", 1, TRIGGER_SCAN },
	{ NULL, { NULL }, NULL, NULL, 0, 0 },
};

static int q_touch(const char *qdir, const char *state, const char *id)
{
	char path[PATH_MAX];

	if (queue_path(path, sizeof path, qdir, state, id) < 0)
		return -1;
	return utimensat(AT_FDCWD, path, NULL, 0);
}

/* 1 = changed, 0 = not in any state this op applies to, -1 = error. */
static int q_apply(const q_op *op, const char *qdir, const char *id)
{
	for (int i = 0; op->from[i]; i++) {
		const char *st = op->from[i];
		int rc;
		if (op->to == NULL && !op->touch) {
			rc = queue_remove(qdir, id, st);
		} else if (op->to == NULL) {
			rc = q_touch(qdir, st, id);
		} else {
			if (op->touch && q_touch(qdir, st, id) < 0) {
				if (errno == ENOENT)
					continue;
				return -1;
			}
			rc = queue_move(qdir, id, st, op->to);
		}
		if (rc == 0)
			return 1;
		if (errno != ENOENT)
			return -1;
	}
	return 0;
}

static int q_change(const q_op *op, const char *qdir, int argc, char **argv)
{
	char err[256];
	int fail = 0;
	long changed = 0;

	if (argc == 0 || (argc == 1 && strcmp(argv[0], "ALL") == 0)) {
		if (argc == 0 && strcmp(op->name, "flush") != 0)
			return q_usage(stderr);
		if (argc == 0) {	/* flush: let qmgr ignore the retry times */
			queue_trigger(qdir, TRIGGER_FLUSH);
			return 0;
		}
		for (int i = 0; op->from[i]; i++) {
			queue_scan *s = queue_scan_open(qdir, op->from[i], 0, err, sizeof err);
			queue_entry e;
			if (s == NULL)
				continue;
			while (queue_scan_next(s, &e) == 1) {
				int rc = q_apply(op, qdir, e.id);
				if (rc > 0) {
					changed++;
					printf("%s: %s\n", e.id, op->done);
				}
			}
			queue_scan_close(s);
		}
	} else {
		for (int i = 0; i < argc; i++) {
			if (!queue_id_valid(argv[i])) {
				fprintf(stderr, "faxpost queue: %s: not a queue ID\n", argv[i]);
				fail = 1;
				continue;
			}
			int rc = q_apply(op, qdir, argv[i]);
			if (rc > 0) {
				changed++;
				printf("%s: %s\n", argv[i], op->done);
			} else if (rc == 0) {
				char path[PATH_MAX];
				const char *st = q_find(qdir, argv[i], path, sizeof path);
				fprintf(stderr, "faxpost queue: %s: %s\n", argv[i],
					st && strcmp(st, Q_ACTIVE) == 0 ? "being delivered (active); not changed"
					: st ? "not in a state this applies to" : "not found");
				fail = 1;
			} else {
				fprintf(stderr, "faxpost queue: %s: %s\n", argv[i], strerror(errno));
				fail = 1;
			}
		}
	}
	if (changed && op->trigger)
		queue_trigger(qdir, op->trigger);
	printf("%s: %ld message%s\n", op->name, changed, changed == 1 ? "" : "s");
	return fail;
}

int cmd_queue(int argc, char **argv)
{
	const char *qdir;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
		return q_usage(stdout);
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0)
			return q_usage(stdout);
	if (!cli_config_ok)
		return 1;
	qdir = conf_str("queue_directory");
	if (argc == 1)
		return q_list(qdir, 0);
	if (argc == 2 && strcmp(argv[1], "-j") == 0)
		return q_list(qdir, 1);
	if (argc == 2 && strcmp(argv[1], "-p") == 0)
		return q_list(qdir, 0);
	if (strcmp(argv[1], "show") == 0) {
		if (argc != 3)
			return q_usage(stderr);
		return q_show(qdir, argv[2]);
	}
	for (const q_op *op = q_ops; op->name; op++)
		if (strcmp(argv[1], op->name) == 0)
			return q_change(op, qdir, argc - 2, argv + 2);
	return q_usage(stderr);
}
