/*
 * body.c - DATA encoding for the SMTP client (see body.h).
 */
#include "body.h"

void smtp_body_init(smtp_body *e)
{
	e->col = 0;
	e->cr = 0;
}

static int body_eol(smtp_body *e, buf *out)
{
	e->col = 0;
	return buf_append(out, "\r\n", 2);
}

int smtp_body_chunk(smtp_body *e, const char *in, size_t n, buf *out)
{
	int rc = 0;
	size_t i = 0;

	while (i < n && rc == 0) {
		char c = in[i];
		if (e->cr) {		/* CR LF, or a bare CR: either way one line end */
			e->cr = 0;
			rc = body_eol(e, out);
			if (c == '\n') {
				i++;
				continue;
			}
		}
		if (c == '\r') {
			e->cr = 1;
			i++;
			continue;
		}
		if (c == '\n') {	/* bare LF */
			rc = body_eol(e, out);
			i++;
			continue;
		}
		if (e->col >= SMTP_BODY_LINE_MAX) {	/* fold: CRLF SPACE */
			rc = buf_append(out, "\r\n ", 3);
			e->col = 1;
		}
		if (e->col == 0 && c == '.') {
			rc |= buf_append_char(out, '.');
			e->col++;
		}
		/* copy the run of ordinary bytes up to a line end or the fold point */
		size_t room = SMTP_BODY_LINE_MAX - e->col, j = i;
		while (j < n && j - i < room && in[j] != '\r' && in[j] != '\n')
			j++;
		if (j == i)	/* a '.' just filled the line: fold before the next byte */
			continue;
		rc |= buf_append(out, in + i, j - i);
		e->col += j - i;
		i = j;
	}
	return rc;
}

int smtp_body_end(smtp_body *e, buf *out)
{
	int rc = 0;

	if (e->cr || e->col > 0) {
		e->cr = 0;
		rc = body_eol(e, out);
	}
	return rc | buf_append(out, ".\r\n", 3);
}
