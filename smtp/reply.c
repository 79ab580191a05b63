/*
 * reply.c - SMTP reply parsing for the client (see reply.h).
 *
 * Defensive on purpose (CVE-2020-8794 class): lines are validated before anything is
 * kept, storage is capped, and a reply that never ends is cut off by a line count.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "reply.h"

void smtp_reply_init(smtp_reply *r, size_t line_limit, int max_lines)
{
	memset(r, 0, sizeof *r);
	buf_init(&r->lines, SMTP_REPLY_TEXT_MAX);
	r->line_limit = line_limit ? line_limit : 2048;
	r->max_lines = max_lines > 0 ? max_lines : 1000;
}

void smtp_reply_reset(smtp_reply *r)
{
	r->code = 0;
	r->enh[0] = 0;
	r->nlines = 0;
	r->done = 0;
	r->err[0] = 0;
	buf_reset(&r->lines);
}

void smtp_reply_free(smtp_reply *r)
{
	buf_free(&r->lines);
}

static int reply_error(smtp_reply *r, const char *why)
{
	str_copy(r->err, sizeof r->err, why);
	return -1;
}

/* "d.ddd.ddd" with d = the reply's class; returns its length or 0. */
static size_t reply_enhanced(const char *t, size_t len, int code)
{
	size_t i = 0, n;

	if (len < 5 || t[0] != (char)('0' + code / 100) || t[1] != '.')
		return 0;
	i = 2;
	for (int part = 0; part < 2; part++) {
		for (n = 0; i < len && isdigit((unsigned char)t[i]) && n < 3; i++, n++)
			;
		if (n == 0)
			return 0;
		if (part == 0) {
			if (i >= len || t[i] != '.')
				return 0;
			i++;
		}
	}
	if (i < len && t[i] != ' ')
		return 0;
	return i;
}

static void reply_keep(smtp_reply *r, const char *text, size_t len)
{
	size_t start = r->lines.len;

	if (len > r->line_limit)
		len = r->line_limit;
	if (buf_reserve(&r->lines, len + 1) < 0)
		return;		/* storage cap reached: count the line, keep nothing */
	buf_append(&r->lines, text, len);
	for (size_t i = start; i < r->lines.len; i++) {
		unsigned char c = (unsigned char)r->lines.data[i];
		if (c < 0x20 || c == 0x7f)
			r->lines.data[i] = '?';
	}
	buf_append_char(&r->lines, '\n');
}

int smtp_reply_feed(smtp_reply *r, const char *line, size_t len, int toolong)
{
	int code;
	int last;

	(void)toolong;	/* already truncated by the stream; treated like any long line */
	if (r->done)
		smtp_reply_reset(r);
	if (len < 3 || !isdigit((unsigned char)line[0]) || !isdigit((unsigned char)line[1])
	    || !isdigit((unsigned char)line[2]))
		return reply_error(r, "reply without a three-digit code");
	if (len > 3 && line[3] != ' ' && line[3] != '-')
		return reply_error(r, "reply code not followed by space or '-'");
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (code < 200 || code > 599)
		return reply_error(r, "reply code out of range");
	if (r->nlines > 0 && code != r->code)
		return reply_error(r, "reply code changed within a multi-line reply");
	if (++r->nlines > r->max_lines)
		return reply_error(r, "too many lines in one reply");
	r->code = code;
	last = (len == 3 || line[3] == ' ');
	const char *text = len > 4 ? line + 4 : "";
	size_t tlen = len > 4 ? len - 4 : 0;
	if (r->nlines == 1) {
		size_t el = reply_enhanced(text, tlen, code);
		if (el && el < sizeof r->enh)
			str_ncopy(r->enh, sizeof r->enh, text, el);
	}
	reply_keep(r, text, tlen);
	if (last)
		r->done = 1;
	return last;
}

void smtp_reply_summary(const smtp_reply *r, buf *out)
{
	const char *t = buf_str(&r->lines);
	size_t n = strcspn(t, "\n");

	buf_reset(out);
	buf_printf(out, "%d ", r->code);
	buf_append(out, t, n);
}

/* Iterate the kept lines: *p walks, returns the line start and sets *len. */
static const char *reply_next_line(const char **p, size_t *len)
{
	const char *s = *p, *nl;

	if (*s == 0)
		return NULL;
	nl = strchr(s, '\n');
	*len = nl ? (size_t)(nl - s) : strlen(s);
	*p = nl ? nl + 1 : s + *len;
	return s;
}

static int kw_is(const char *s, size_t len, const char *kw)
{
	size_t k = strlen(kw);

	return len >= k && strncasecmp(s, kw, k) == 0 && (len == k || s[k] == ' ' || s[k] == '=');
}

void smtp_ehlo_parse(const smtp_reply *r, smtp_ehlo *out)
{
	const char *p = buf_str(&r->lines), *s;
	size_t len;
	int first = 1;

	memset(out, 0, sizeof *out);
	while ((s = reply_next_line(&p, &len)) != NULL) {
		if (first) {	/* the greeting line names the server */
			first = 0;
			continue;
		}
		if (kw_is(s, len, "PIPELINING"))
			out->features |= EHLO_PIPELINING;
		else if (kw_is(s, len, "SIZE")) {
			out->features |= EHLO_SIZE;
			if (len > 5)
				out->size_max = strtoll(s + 5, NULL, 10);
			if (out->size_max < 0)
				out->size_max = 0;
		} else if (kw_is(s, len, "DSN"))
			out->features |= EHLO_DSN;
		else if (kw_is(s, len, "STARTTLS"))
			out->features |= EHLO_STARTTLS;
		else if (kw_is(s, len, "CONNEG"))
			out->features |= EHLO_CONNEG;
		else if (kw_is(s, len, "CONPERM"))
			out->features |= EHLO_CONPERM;
		else if (kw_is(s, len, "8BITMIME"))
			out->features |= EHLO_8BITMIME;
		else if (kw_is(s, len, "ENHANCEDSTATUSCODES"))
			out->features |= EHLO_ENHANCED;
		else if (kw_is(s, len, "AUTH")) {
			out->features |= EHLO_AUTH;
			for (size_t i = 4; i < len; ) {
				while (i < len && (s[i] == ' ' || s[i] == '='))
					i++;
				size_t j = i;
				while (j < len && s[j] != ' ')
					j++;
				if (j - i == 5 && strncasecmp(s + i, "PLAIN", 5) == 0)
					out->auth |= AUTH_PLAIN;
				if (j - i == 5 && strncasecmp(s + i, "LOGIN", 5) == 0)
					out->auth |= AUTH_LOGIN;
				i = j;
			}
		}
	}
}

int smtp_reply_conneg(const smtp_reply *r, buf *out)
{
	const char *p = buf_str(&r->lines), *s;
	size_t len;
	int line = 0, found = 0, draft = 0;

	buf_reset(out);
	if (r->code / 100 != 2)
		return 0;
	while ((s = reply_next_line(&p, &len)) != NULL) {
		line++;
		if (kw_is(s, len, "CONNEG") && !draft) {
			/* RFC 4141: "250-CONNEG <part>" ... "250 CONNEG <part>" */
			found = 1;
			buf_append_char(out, ' ');
			buf_append(out, s + 6, len - 6);
		} else if (line > 1 && !found) {
			/* 2002 draft: bare continuation lines holding the expression */
			size_t i = 0;
			while (i < len && s[i] == ' ')
				i++;
			if (draft || (i < len && s[i] == '(')) {
				draft = 1;
				buf_append_char(out, ' ');
				buf_append(out, s, len);
			}
		}
	}
	/* trim the separator spaces at both ends */
	size_t a = 0, b = out->len;
	while (a < b && out->data[a] == ' ')
		a++;
	while (b > a && out->data[b - 1] == ' ')
		b--;
	if (b == a) {
		buf_reset(out);
		return 0;
	}
	buf_truncate(out, b);
	buf_consume(out, a);
	return 1;
}
