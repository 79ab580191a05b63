/*
 * onramp.h - a received fax becomes a queued mail message (RFC 3965 simple mode).
 *
 * Contract: onramp_queue() routes the fax with the fax_routes table (keys tried in
 * this order: "did:DIGITS", "sub:DIGITS", "tsi:+DIGITS" from the remote TSI, then
 * "default"), else fax_default_recipient, and writes one message with
 * queue.h: From/envelope sender FAX=+<TSI digits>@<first fax domain> (fax_onramp_sender
 * overrides the envelope sender), a text/plain summary and the pages as one
 * image/tiff part (TIFF-F as received, base64). The message is committed (fsynced,
 * in incoming/) and qmgr triggered before it returns 0: only then may the fax be
 * considered received. On failure the TIFF is left where it is and -1 returned.
 */
#ifndef FAXPOST_FAXD_ONRAMP_H
#define FAXPOST_FAXD_ONRAMP_H

#include <stddef.h>

#include "util/buf.h"

typedef struct onramp_fax {
	const char *tiff_path;
	const char *remote_id;	/* TSI */
	const char *caller_id;	/* NMBR from the modem, or "" */
	const char *did;	/* NDID, or "" */
	const char *subaddr;	/* SUB frame, or "" */
	const char *device;
	int pages, speed, ecm, bad_rows;
	const char *coding;
	double duration;
} onramp_fax;

/* Which recipient: fills rcpt and says how ("did", "sub", "tsi", "default"). */
int onramp_route(const onramp_fax *f, char *rcpt, size_t size, const char **how);
/* The FAX= sender address for a remote id. */
void onramp_sender(const char *remote_id, const char *caller_id, char *out, size_t size);
/* Build the whole message (CRLF lines) into out. */
int onramp_message(const onramp_fax *f, const char *from, const char *rcpt, buf *out,
		   char *err, size_t errlen);
int onramp_queue(const onramp_fax *f, char *queue_id, size_t idsize, char *rcpt,
		 size_t rsize, char *err, size_t errlen);

#endif
