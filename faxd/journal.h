/*
 * journal.h - the fax call journal (`faxpost journal` prints it).
 *
 * Contract: one line per call appended with a single write(2) to
 * data_directory/fax_journal (O_APPEND, 0640), so concurrent faxd processes never
 * interleave lines. Fields are name=value separated by spaces; values with spaces are
 * double-quoted (quotes and backslashes in them are replaced by '?'):
 *   time=2026-11-22T14:30:05Z dir=send id=QUEUEID number=+4930123 device=ttyA
 *   remote="+49 30 123" pages=3/3 speed=14400 coding=MMR ecm=yes duration=61.2
 *   status=sent dsn=2.0.0 class=- reason="all pages confirmed"
 */
#ifndef FAXPOST_FAXD_JOURNAL_H
#define FAXPOST_FAXD_JOURNAL_H

typedef struct journal_entry {
	const char *dir;	/* "send" / "receive" */
	const char *id;		/* queue ID or "-" */
	const char *number;	/* dialled number or caller ID */
	const char *device;
	const char *remote;	/* CSI / TSI */
	int pages_done, pages_total;
	int speed;
	const char *coding;
	int ecm;
	double duration;
	const char *status;	/* sent deferred bounced received failed */
	const char *dsn;
	const char *retry_class;	/* busy no-answer protocol local or "" */
	const char *reason;
} journal_entry;

int journal_append(const char *data_dir, const journal_entry *e);

#endif
