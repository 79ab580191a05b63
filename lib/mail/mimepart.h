/*
 * mimepart.h - find the leaf parts of a MIME message (printing and faxing queued mail).
 *
 * Contract: mime_walk() takes a whole message (headers, CRLF or LF line ends, body)
 * and calls cb for each leaf part in order, descending into multipart types (at most
 * MIME_MAX_DEPTH levels, MIME_MAX_PARTS parts); a message that is not multipart is one
 * leaf. A part's type is lower-case without parameters ("text/plain" when absent);
 * body points into the message (no copy) and excludes the CRLF before the next
 * boundary. A multipart without its closing boundary ends at the end of the message.
 * cb returns 0 to go on, non-zero to stop (mime_walk then returns that value).
 * mime_decode() undoes base64 or quoted-printable (other encodings are copied);
 * malformed base64 characters are skipped, as RFC 2045 allows.
 */
#ifndef FAXPOST_MAIL_MIMEPART_H
#define FAXPOST_MAIL_MIMEPART_H

#include <stddef.h>

#include "util/buf.h"

#define MIME_MAX_DEPTH 4
#define MIME_MAX_PARTS 64

typedef struct mime_part {
	char type[64];
	char encoding[32];	/* lower-case Content-Transfer-Encoding, "" = 7bit */
	char filename[128];
	const char *body;
	size_t body_len;
} mime_part;

typedef int (*mime_cb)(const mime_part *p, void *ud);

int mime_walk(const char *msg, size_t len, mime_cb cb, void *ud);
/* A header's value (unfolded, trimmed) from a header block; -1 when absent. */
int mime_header(const char *hdrs, size_t len, const char *name, char *out, size_t outlen);
/* Parameter of a structured value (boundary, name, filename); quotes removed. */
int mime_param(const char *value, const char *param, char *out, size_t outlen);
int mime_decode(const mime_part *p, buf *out);

#endif
