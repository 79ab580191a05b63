/*
 * atparse.c - modem response lines (see atparse.h for the contract).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "atparse.h"

void at_reader_init(at_reader *r)
{
	memset(r, 0, sizeof *r);
}

size_t at_reader_feed(at_reader *r, const char *p, size_t n, int *got_line)
{
	size_t i;

	*got_line = 0;
	for (i = 0; i < n; i++) {
		char c = p[i];

		if (c == '\r' || c == '\n') {
			int had = r->len > 0 || r->overflow;

			r->line[r->len] = 0;
			r->overflow = 0;
			if (had && r->len > 0) {
				r->len = 0;
				*got_line = 1;
				return i + 1;
			}
			r->len = 0;
			continue;
		}
		if (r->len < AT_LINE_MAX)
			r->line[r->len++] = c;
		else
			r->overflow = 1;
	}
	return i;
}

static const struct {
	const char *text;
	const char *digit;	/* ATV0 form */
	at_result res;
	int prefix;		/* may be followed by more text */
} results[] = {
	{ "OK", "0", AT_OK, 0 },
	{ "CONNECT", "1", AT_CONNECT, 1 },
	{ "RING", "2", AT_RING, 0 },
	{ "NO CARRIER", "3", AT_NO_CARRIER, 0 },
	{ "ERROR", "4", AT_ERROR, 0 },
	{ "NO DIALTONE", "6", AT_NO_DIALTONE, 0 },
	{ "NO DIAL TONE", NULL, AT_NO_DIALTONE, 0 },
	{ "BUSY", "7", AT_BUSY, 0 },
	{ "NO ANSWER", "8", AT_NO_ANSWER, 0 },
	{ "+FCERROR", "+F4", AT_FCERROR, 0 },
	{ "+FRH:3", NULL, AT_FRH3, 0 },
};

static const char *callinfo_keys[] = { "NMBR", "NAME", "NDID", "DATE", "TIME", "MESG", "DDI", NULL };

static const char *skip_blank(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* "KEY = value" / "KEY=value": the key length when line is a caller-ID line. */
static size_t callinfo_key(const char *line)
{
	for (int i = 0; callinfo_keys[i]; i++) {
		size_t k = strlen(callinfo_keys[i]);

		if (strncmp(line, callinfo_keys[i], k) == 0 && *skip_blank(line + k) == '=')
			return k;
	}
	return 0;
}

at_result at_classify(const char *line)
{
	const char *s = skip_blank(line);
	size_t len = strlen(s);

	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len == 0)
		return AT_NONE;
	for (size_t i = 0; i < sizeof results / sizeof results[0]; i++) {
		size_t t = strlen(results[i].text);

		if (len == t && strncmp(s, results[i].text, t) == 0)
			return results[i].res;
		if (results[i].prefix && len > t && strncmp(s, results[i].text, t) == 0
		    && s[t] == ' ')
			return results[i].res;
		if (results[i].digit && len == strlen(results[i].digit)
		    && strncmp(s, results[i].digit, len) == 0)
			return results[i].res;
	}
	if (callinfo_key(s))
		return AT_CALLINFO;
	return AT_INFO;
}

int at_is_final(at_result r)
{
	switch (r) {
	case AT_OK: case AT_CONNECT: case AT_NO_CARRIER: case AT_ERROR: case AT_NO_DIALTONE:
	case AT_BUSY: case AT_NO_ANSWER: case AT_FCERROR: case AT_FRH3:
		return 1;
	default:
		return 0;
	}
}

const char *at_result_name(at_result r)
{
	static const char *names[] = {
		"none", "OK", "CONNECT", "RING", "NO CARRIER", "ERROR", "NO DIALTONE",
		"BUSY", "NO ANSWER", "+FCERROR", "+FRH:3", "callinfo", "info"
	};

	return (size_t) r < sizeof names / sizeof names[0] ? names[r] : "?";
}

int at_callinfo(const char *line, char *key, size_t ksize, char *val, size_t vsize)
{
	const char *s = skip_blank(line), *v;
	size_t k = callinfo_key(s), vl;

	if (k == 0 || k >= ksize)
		return -1;
	memcpy(key, s, k);
	key[k] = 0;
	v = skip_blank(skip_blank(s + k) + 1);
	vl = strlen(v);
	while (vl > 0 && isspace((unsigned char) v[vl - 1]))
		vl--;
	if (vl >= vsize)
		vl = vsize - 1;
	memcpy(val, v, vl);
	val[vl] = 0;
	return 0;
}
