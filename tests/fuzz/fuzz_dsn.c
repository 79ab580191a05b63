/*
 * fuzz_dsn.c - libFuzzer harness for delivery status notifications (lib/mail/dsn.h):
 * hostile text from a remote server, a client and the original message go into a
 * bounce; none of it may add a header or a report field.
 *
 * FUZZ_LIBS: mail util
 *
 * Input: byte 0 picks the kind (failure, delay, success), RET (none, full, headers)
 * and 1-3 recipients; the rest is split at NUL bytes into the remote reply ("reason",
 * as the smtp client records it, e.g. "host x said: 550 ..."), ORCPT, Remote-MTA,
 * ENVID, the original sender, and the original message (the rest). The notice is
 * composed twice: with an empty original (so every byte is dsn_compose's own) and with
 * the message. Oracles besides the sanitizers, on the first: CR and LF only as CRLF;
 * the notice's header block holds only its own header names (or continuation lines);
 * the message/delivery-status part holds only RFC 3464 / X-Faxpost field lines, empty
 * lines between recipients, and exactly one Final-Recipient per recipient. On the
 * second: dsn_header_len is within the message, and the notice begins with the same
 * header block.
 */
#include <string.h>

#include "fuzz_util.h"
#include "mail/dsn.h"
#include "mail/queue.h"

static int fz_starts(const char *p, size_t n, const char *s)
{
	size_t l = strlen(s);

	return n >= l && memcmp(p, s, l) == 0;
}

static int fz_known(const char *p, size_t n, const char *const *names)
{
	for (; *names; names++)
		if (fz_starts(p, n, *names))
			return 1;
	return 0;
}

static void fz_check(const buf *o, size_t nrcpt)
{
	static const char *const hdr[] = { "Date: ", "From: ", "To: ", "Subject: ",
		"Message-Id: ", "Auto-Submitted: ", "MIME-Version: ", "Content-Type: ", "\t", NULL };
	static const char *const fields[] = { "Reporting-MTA: ", "X-Faxpost-Queue-ID: ",
		"Original-Envelope-Id: ", "X-Faxpost-Sender: ", "Arrival-Date: ",
		"Final-Recipient: ", "Original-Recipient: ", "Action: ", "Status: ",
		"Remote-MTA: ", "Diagnostic-Code: ", "Last-Attempt-Date: ", "Will-Retry-Until: ",
		NULL };
	/* whole lines, from a line start: hostile text has no CRLF and cannot forge them */
	static const char ds[] = "\r\nContent-Description: Delivery report\r\n"
				 "Content-Type: message/delivery-status\r\n\r\n";
	const char *d = o->data, *end = d + o->len, *p, *e;
	size_t finals = 0;
	int in_hdr = 1;

	for (size_t i = 0; i < o->len; i++)
		if ((d[i] == '\r' && (i + 1 == o->len || d[i + 1] != '\n'))
		    || (d[i] == '\n' && (i == 0 || d[i - 1] != '\r')))
			__builtin_trap();	/* bare CR or LF in the notice */
	for (p = d; p < end && in_hdr; p = e + 2) {
		e = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (e == NULL)
			__builtin_trap();
		if (e == p)
			in_hdr = 0;
		else if (!fz_known(p, (size_t)(e - p), hdr))
			__builtin_trap();	/* a header the notice does not write */
	}
	if ((p = memmem(d, o->len, ds, sizeof(ds) - 1)) == NULL)
		__builtin_trap();
	for (p += sizeof(ds) - 1; p < end; p = e + 2) {
		e = memmem(p, (size_t)(end - p), "\r\n", 2);
		if (e == NULL)
			__builtin_trap();
		if (e == p) {
			if (e + 2 < end && e[2] == '-' && e[3] == '-')
				break;	/* the next boundary */
			continue;
		}
		if (!fz_known(p, (size_t)(e - p), fields))
			__builtin_trap();	/* a report field the notice does not write */
		finals += fz_starts(p, (size_t)(e - p), "Final-Recipient: ");
	}
	if (finals != nrcpt)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const dsn_kind kinds[3] = { DSN_FAILURE, DSN_DELAY, DSN_SUCCESS };
	static const char *const actions[3] = { "failed", "delayed", "delivered" };
	char *s, *f[5] = { "", "", "", "", "" }, *msg;
	size_t nf = 0, msglen, nr;
	dsn_rcpt r[3];
	dsn_info in = { 0 };
	buf empty, full;

	if (size < 1 || size > 128 * 1024)
		return 0;
	fuzz_quiet("fuzz_dsn");
	s = fuzz_cstr(data + 1, size - 1);
	msg = s;
	msglen = size - 1;
	while (nf < 5) {
		char *z = memchr(msg, 0, msglen);
		if (z == NULL)
			break;
		f[nf++] = msg;
		msglen -= (size_t)(z - msg) + 1;
		msg = z + 1;
	}
	in.kind = kinds[data[0] % 3];
	in.reporting_mta = "faxpost.test";
	in.queue_id = "0A1B2C3D4E5F";
	in.sender = f[4][0] ? f[4] : "sender@example.org";
	in.envid = f[3];
	in.arrival = 1700000000;
	in.now = 1700003600;
	in.retry_until = 1700400000;
	in.ret = (data[0] / 3) % 3;
	in.notice_id = "0A1B2C3D4E60";
	nr = (size_t)(data[0] / 9) % 3 + 1;
	for (size_t i = 0; i < nr; i++) {
		r[i].addr = i == 0 ? "FAX=+493012345@fax.example" : "user@example.net";
		r[i].orcpt = f[1];
		r[i].action = actions[data[0] % 3];
		r[i].status = data[0] % 3 == 0 ? "5.1.1" : data[0] % 3 == 1 ? "4.4.1" : "2.0.0";
		r[i].reason = f[0];
		r[i].remote_mta = f[2];
	}
	buf_init(&empty, 0);
	buf_init(&full, 0);
	if (dsn_compose(&in, r, nr, "", 0, &empty) != 0)
		__builtin_trap();
	fz_check(&empty, nr);
	if (dsn_header_len(msg, msglen) > msglen)
		__builtin_trap();
	if (dsn_compose(&in, r, nr, msg, msglen, &full) == 0) {
		const char *blank = memmem(empty.data, empty.len, "\r\n\r\n", 4);
		size_t hl = blank ? (size_t)(blank - empty.data) + 4 : 0;
		if (full.len < hl || memcmp(full.data, empty.data, hl) != 0)
			__builtin_trap();	/* the original changed the notice's headers */
	}
	(void)dsn_wanted(in.kind, in.sender, data[0] & 15);
	buf_free(&empty);
	buf_free(&full);
	free(s);
	return 0;
}
