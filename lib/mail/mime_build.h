/*
 * mime_build.h - compose a MIME message (RFC 2045/2046/5322) with attached files.
 *
 * Contract: writes CRLF lines into a buf; headers From/To/Subject/Date/Message-ID/
 * MIME-Version, then a multipart/mixed body whose parts are text (quoted as 8bit
 * UTF-8) or files (base64, 76-column lines). Header values are checked: a CR or LF in
 * them fails the call (no header injection). Returns -1 when the buf's limit is reached.
 */
#ifndef FAXPOST_MAIL_MIME_BUILD_H
#define FAXPOST_MAIL_MIME_BUILD_H

#include <stddef.h>

#include "util/buf.h"

typedef struct mime_msg {
	buf *out;
	char boundary[64];
} mime_msg;

/* Headers and the start of a multipart/mixed body. to: comma-joined for the header. */
int mime_begin(mime_msg *m, buf *out, const char *from, const char *const *to, size_t nto,
	       const char *subject, const char *id_domain);
int mime_add_text(mime_msg *m, const char *text);
int mime_add_file(mime_msg *m, const char *type, const char *filename, const void *data,
		  size_t len);
int mime_end(mime_msg *m);

/* base64 in 76-column CRLF lines. */
int mime_base64(buf *out, const void *data, size_t len);
/* A content type from a file name's extension (application/octet-stream if unknown). */
const char *mime_type_of(const char *filename);

#endif
