/*
 * smtpd_conneg.c - the RCPT reply that carries a CONNEG capability expression.
 *
 * Contract: smtpd_conneg_reply() appends "250-<first>" and then the RFC 2533
 * expression on continuation lines. RFC 4141 style: every line "250-CONNEG <chunk>",
 * the last "250 CONNEG <chunk>". Draft style (draft-ietf-fax-esmtp-conneg, 2002, as
 * the Panasonic DP-1820 manual shows it): the same chunks on bare "250-" / "250 "
 * lines. A client concatenates the chunks with a space between them, so the lines
 * break only where RFC 2533 allows white space: at white space or between ")" and
 * "(", never inside a quoted string. Each line stays well within 512 octets.
 */
#include <string.h>

#include "smtpd_proto.h"
#include "util/msg.h"

#define CONNEG_WANT 64		/* preferred chunk length: readable, like the RFC */
#define CONNEG_MAX 400		/* hard chunk length: "250-CONNEG " + 400 + CRLF < 512 */

/* Where may the chunk that starts at p end? Returns its length (> 0). */
static size_t conneg_chunk(const char *p, size_t n)
{
	size_t i, best = 0;
	int quoted = 0;

	for (i = 0; i < n; i++) {
		char c = p[i];

		if (c == '"')
			quoted = !quoted;
		if (quoted || i == 0)
			continue;
		if ((c == ' ' || c == '\t' || (c == '(' && p[i - 1] == ')'))) {
			best = i;
			if (i >= CONNEG_WANT)
				break;
		}
		if (i >= CONNEG_MAX)
			break;
	}
	if (n <= CONNEG_WANT || (i == n && n <= CONNEG_MAX))
		return n;
	if (best == 0)	/* one token longer than a line: no valid expression has one */
		return n < CONNEG_MAX ? n : CONNEG_MAX;
	return best;
}

void smtpd_conneg_reply(buf *out, const char *first, const char *expr, int style)
{
	const char *p = expr;
	size_t n = strlen(expr);
	const char *kw = style == SMTPD_CONNEG_DRAFT ? "" : "CONNEG ";

	buf_printf(out, "250-%s\r\n", first);
	while (n > 0 && (*p == ' ' || *p == '\t'))
		p++, n--;
	while (n > 0) {
		size_t len = conneg_chunk(p, n), rest;
		const char *q = p + len;

		rest = n - len;
		while (rest > 0 && (*q == ' ' || *q == '\t'))
			q++, rest--;
		/* trailing white space of the chunk itself goes too */
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (buf_printf(out, "250%c%s%.*s\r\n", rest ? '-' : ' ', kw, (int)len, p) < 0)
			msg_fatal("CONNEG reply buffer");
		p = q;
		n = rest;
	}
}
