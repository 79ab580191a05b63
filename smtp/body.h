/*
 * body.h - the SMTP client's DATA encoder (pure; no I/O).
 *
 * Contract: the message from the queue file goes out with CRLF line ends only (a
 * bare CR or a bare LF becomes CRLF: we never send a bare LF), dot-stuffed (a line
 * that starts with "." gets a second one), and no line longer than
 * SMTP_BODY_LINE_MAX octets before its CRLF (longer lines are broken with
 * CRLF SPACE, as Postfix's smtp_line_length_limit does). smtp_body_end() ends the
 * last line if needed and writes the final ".".
 */
#ifndef FAXPOST_SMTP_BODY_H
#define FAXPOST_SMTP_BODY_H

#include <stddef.h>

#include "util/buf.h"

#define SMTP_BODY_LINE_MAX 998

typedef struct smtp_body {
	size_t col;	/* octets on the current output line */
	int cr;		/* the previous input byte was CR */
} smtp_body;

void smtp_body_init(smtp_body *e);
int smtp_body_chunk(smtp_body *e, const char *in, size_t n, buf *out);
int smtp_body_end(smtp_body *e, buf *out);

#endif
