/*
 * convert.h - RFC 4141 content conversion on the client side: decide from the
 * message's Content-Convert / Content-Features and a recipient's CONNEG capabilities,
 * and build a converted copy through codecd.
 *
 * Contract: smtp_conv_load() reads the message (at most SMTP_CONV_MAX bytes) and finds
 * the body part that carries Content-Convert (the top level, or a part of a top-level
 * multipart); it returns 0 with conv->permitted = 0 when there is nothing to convert
 * (no Content-Convert, or NONE: RFC 4141 says do not convert). smtp_conv_fits() says
 * whether the current form (Content-Features) satisfies a capability expression.
 * smtp_conv_make() asks codecd (private/codecd) to convert the image/tiff part to the
 * intersection of Content-Convert and the capabilities, and writes a complete new
 * message into a memfd: the converted part carries a new Content-Features, a
 * Content-Previous (date, our host, the old features) and the unchanged
 * Content-Convert; every other byte of the message is kept. Returns the fd (its size
 * in *len) or -1 with status (5.6.3 not permitted / nothing in common, 5.6.5 failed,
 * 4.3.0 codecd unavailable) and why.
 */
#ifndef FAXPOST_SMTP_CONVERT_H
#define FAXPOST_SMTP_CONVERT_H

#include <stddef.h>
#include <sys/types.h>

#include "mail/queue.h"

#define SMTP_CONV_MAX (32 * 1024 * 1024)

typedef struct smtp_conv {
	char *msg;		/* the whole message (CRLF) */
	size_t len;
	int permitted;		/* Content-Convert present and not NONE */
	char *convert;		/* its value: "ANY" or an expression */
	char *features;		/* Content-Features of that part, or NULL */
	size_t part_hdr, part_body, part_end;	/* offsets of the part in msg */
	int top;		/* the part is the whole message */
} smtp_conv;

int smtp_conv_load(qfile *qf, smtp_conv *conv);
/* The same on a message in memory (msg: len bytes + NUL, malloc'd; conv owns it). */
void smtp_conv_parse(smtp_conv *conv, char *msg, size_t len);
void smtp_conv_free(smtp_conv *conv);
/* 1 fits (or nothing known), 0 does not fit. */
int smtp_conv_fits(const smtp_conv *conv, const char *caps);
int smtp_conv_make(const smtp_conv *conv, const char *caps, const char *queue_dir,
		   const char *myhost, int timeout_s, off_t *len,
		   char *status, size_t stlen, char *why, size_t whylen);

#endif
