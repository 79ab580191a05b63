/*
 * addr.c - envelope addresses: RFC 5321 paths and ESMTP parameters, xtext (RFC 3461),
 * and RFC 3191/3192 fax addresses.
 *
 * Contract: see addr.h and addr_ext.h. The path must be in angle brackets; a source
 * route is checked and dropped; the local part is a dot-string or a quoted string
 * (kept in its minimal RFC 5321 form: quoted only when it must be); an unquoted '@'
 * before the last one is taken as part of the local part, as Postfix's tokenizer
 * does, so "a@b@ours" is local "a@b" at "ours" and a relay check sees the routing.
 * The domain is a host name (labels <= 63, total <= 255) or an address literal
 * ([1.2.3.4], [IPv6:...]); it is lower-cased. Limits: local part 64, path 256 octets
 * including the brackets. Control characters, 8-bit bytes, unbalanced quotes or
 * brackets are errors. Parameters: "KEYWORD[=value]" separated by spaces; ORCPT,
 * ENVID and AUTH values are xtext-decoded and must decode to printable ASCII (so a
 * "+0A" can never put a newline into a queue record: CVE-2020-28021/28026).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "mail/addr.h"
#include "mail/addr_ext.h"
#include "util/buf.h"

typedef enum { ROLE_ANY, ROLE_SENDER, ROLE_RECIPIENT } addr_role;

/* What went wrong, so each role can word its reply. */
typedef enum { E_SYNTAX, E_DOMAIN, E_PATHLEN, E_8BIT } addr_err;

static int addr_fail(addr_role role, addr_err kind, char *why, size_t whylen,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int addr_fail(addr_role role, addr_err kind, char *why, size_t whylen,
		     const char *fmt, ...)
{
	char reason[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	if (kind == E_8BIT) {
		snprintf(why, whylen, "553 5.6.7 Must declare SMTPUTF8 to send unicode address");
		return -1;
	}
	switch (role) {
	case ROLE_ANY:
		snprintf(why, whylen, "%s", reason);
		break;
	case ROLE_SENDER:
		snprintf(why, whylen, "501 5.1.7 %s%s%s", kind == E_PATHLEN ? "" :
			 "Bad sender address syntax", kind == E_PATHLEN ? "" : ": ",
			 reason);
		break;
	case ROLE_RECIPIENT:
		if (kind == E_DOMAIN)
			snprintf(why, whylen, "501 5.1.2 Bad recipient domain syntax: %s", reason);
		else if (kind == E_PATHLEN)
			snprintf(why, whylen, "501 5.1.3 %s", reason);
		else
			snprintf(why, whylen, "501 5.1.3 Bad recipient address syntax: %s", reason);
		break;
	}
	return -1;
}

/* ---- pieces of the grammar ---------------------------------------------------- */

static int addr_atext(int c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

/* A dot-string as Postfix accepts it: atext and dots (leading, trailing and double
 * dots are tolerated, as real senders produce them). */
static int addr_is_dot_string(const char *s, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!addr_atext((unsigned char)s[i]) && s[i] != '.')
			return 0;
	return 1;
}

/* Store the local part (raw, unquoted, n bytes) in its minimal RFC 5321 form. */
static int addr_store_local(const char *raw, size_t n, char *out, size_t outlen)
{
	buf b;
	size_t i;
	int rc;

	if (n == 0)
		return str_copy(out, outlen, "");
	buf_init(&b, outlen - 1);
	if (addr_is_dot_string(raw, n)) {
		rc = buf_append(&b, raw, n);
	} else {
		rc = buf_append_char(&b, '"');
		for (i = 0; rc == 0 && i < n; i++) {
			if (raw[i] == '"' || raw[i] == '\\')
				rc = buf_append_char(&b, '\\');
			if (rc == 0)
				rc = buf_append_char(&b, raw[i]);
		}
		if (rc == 0)
			rc = buf_append_char(&b, '"');
	}
	if (rc == 0)
		rc = str_copy(out, outlen, buf_str(&b));
	buf_free(&b);
	return rc;
}

static int addr_label_char(int c)
{
	return isalnum(c) || c == '-' || c == '_';
}

/* Host name or address literal; lower-cased into out. Returns NULL or a reason. */
static const char *addr_check_domain(const char *d, size_t n, char *out, size_t outlen)
{
	char lit[80];
	unsigned char a[16];
	size_t i, label = 0;

	if (n == 0)
		return "empty domain";
	if (n > ADDR_MAX_DOMAIN)
		return "domain longer than 255 octets";
	if (d[0] == '[') {
		if (d[n - 1] != ']' || n < 3 || n - 2 >= sizeof(lit))
			return "bad address literal";
		str_ncopy(lit, sizeof(lit), d + 1, n - 2);
		if (strncasecmp(lit, "IPv6:", 5) == 0) {
			if (inet_pton(AF_INET6, lit + 5, a) != 1)
				return "bad IPv6 address literal";
		} else if (inet_pton(AF_INET, lit, a) != 1) {
			return "bad address literal";
		}
	} else {
		if (d[n - 1] == '.')
			n--;	/* "example.com." is "example.com" */
		for (i = 0; i <= n; i++) {
			if (i == n || d[i] == '.') {
				if (label == 0)
					return "empty domain label";
				if (d[i - 1] == '-' || d[i - label] == '-')
					return "domain label starts or ends with '-'";
				label = 0;
				continue;
			}
			if (!addr_label_char((unsigned char)d[i]))
				return "bad character in domain";
			if (++label > 63)
				return "domain label longer than 63 octets";
		}
	}
	if (n >= outlen)
		return "domain too long";
	for (i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)d[i]);
	out[n] = 0;
	return NULL;
}

/* Skip a source route "@a,@b:" at *pp (each hop a domain). 0 ok, -1 bad. */
static int addr_skip_route(const char **pp, const char *end)
{
	const char *p = *pp, *q;
	char tmp[ADDR_MAX_DOMAIN + 1];

	if (p >= end || *p != '@')
		return 0;
	for (;;) {
		if (p >= end || *p != '@')
			return -1;
		for (q = ++p; q < end && *q != ',' && *q != ':'; q++)
			;
		if (q >= end || addr_check_domain(p, (size_t)(q - p), tmp, sizeof(tmp)))
			return -1;
		p = q + 1;
		if (*q == ':')
			break;
	}
	*pp = p;
	return 0;
}

/* ---- the path ----------------------------------------------------------------- */

/* Scan a quoted string starting at p ('"'); unquoted text appended to raw. Returns
 * the position after the closing quote, or NULL. */
static const char *addr_quoted(const char *p, const char *end, buf *raw)
{
	for (p++; p < end; p++) {
		if (*p == '"')
			return p + 1;
		if (*p == '\\') {
			if (++p >= end)
				return NULL;
		}
		if (raw && buf_append_char(raw, *p) < 0)
			return NULL;
	}
	return NULL;
}

/* Parse the mailbox between the brackets (after any source route). */
static int addr_mailbox(const char *p, const char *end, addr_path *out, addr_role role,
			char *why, size_t whylen)
{
	const char *at = NULL, *q, *reason;
	buf raw;
	int rc = 0;

	/* find the last '@' outside quotes: the local part is everything before it */
	for (q = p; q < end;) {
		if (*q == '"') {
			if ((q = addr_quoted(q, end, NULL)) == NULL)
				return addr_fail(role, E_SYNTAX, why, whylen, "unbalanced quotes");
			continue;
		}
		if (*q == '@')
			at = q;
		q++;
	}
	buf_init(&raw, 0);
	for (q = p; q < (at ? at : end);) {
		if (*q == '"') {
			q = addr_quoted(q, end, &raw);
			continue;
		}
		if (*q == '[' || *q == ']' || *q == '<' || *q == '>' || *q == '(' || *q == ')'
		    || *q == ',' || *q == ';' || *q == ':' || *q == '\\' || *q == ' ') {
			buf_free(&raw);
			return addr_fail(role, E_SYNTAX, why, whylen, "bad character '%c' in local part", *q);
		}
		buf_append_char(&raw, *q++);
	}
	if (raw.len == 0 && !(at == NULL && p == end)) {
		buf_free(&raw);
		return addr_fail(role, E_SYNTAX, why, whylen, "empty local part");
	}
	if (raw.len > ADDR_MAX_LOCAL) {
		buf_free(&raw);
		return addr_fail(role, E_SYNTAX, why, whylen, "local part longer than %d octets",
				 ADDR_MAX_LOCAL);
	}
	if (addr_store_local(buf_str(&raw), raw.len, out->local, sizeof(out->local)) < 0)
		rc = addr_fail(role, E_SYNTAX, why, whylen, "local part too long");
	buf_free(&raw);
	if (rc < 0)
		return -1;
	if (at) {
		reason = addr_check_domain(at + 1, (size_t)(end - at - 1), out->domain,
					   sizeof(out->domain));
		if (reason)
			return addr_fail(role, E_DOMAIN, why, whylen, "%s", reason);
	}
	return 0;
}

/* addr = local@domain (or local alone, or "" for <>). */
static int addr_compose(addr_path *out)
{
	buf b;
	int rc = 0;

	buf_init(&b, ADDR_MAX_PATH - 2);
	if (out->local[0]) {
		rc = buf_append_str(&b, out->local);
		if (rc == 0 && out->domain[0])
			rc = buf_printf(&b, "@%s", out->domain);
	}
	if (rc == 0)
		rc = str_copy(out->addr, sizeof(out->addr), buf_str(&b));
	buf_free(&b);
	return rc;
}

/* Parse "<path>" at text; *rest set past '>'. */
static int addr_path_part(const char *text, const char **rest, addr_path *out,
			  addr_role role, char *why, size_t whylen)
{
	const char *p = text, *end, *q, *lt;
	int inq = 0;

	while (*p == ' ')
		p++;
	if (*p != '<')
		return addr_fail(role, E_SYNTAX, why, whylen, "address must be in angle brackets");
	lt = p;
	for (q = ++p; *q; q++) {
		unsigned char c = (unsigned char)*q;

		if (c < 0x20 || c == 0x7f)
			return addr_fail(role, E_SYNTAX, why, whylen, "control character in address");
		if (c >= 0x80)
			return addr_fail(role, E_8BIT, why, whylen, "8-bit address");
		if (inq && c == '\\' && q[1]) {
			c = (unsigned char)*++q;	/* quoted-pair: %d92 %d32-126 */
			if (c >= 0x80)
				return addr_fail(role, E_8BIT, why, whylen, "8-bit address");
			if (c < 0x20 || c == 0x7f)
				return addr_fail(role, E_SYNTAX, why, whylen, "control character in address");
			continue;
		}
		if (c == '"')
			inq = !inq;
		else if (c == '>' && !inq)
			break;
		else if (c == '<' && !inq)
			return addr_fail(role, E_SYNTAX, why, whylen, "unbalanced '<'");
	}
	if (*q != '>')
		return addr_fail(role, E_SYNTAX, why, whylen, inq ? "unbalanced quotes" : "missing '>'");
	end = q;
	*rest = q + 1;
	if (addr_skip_route(&p, end) < 0 || (p > lt + 1 && p == end))
		return addr_fail(role, E_SYNTAX, why, whylen, "bad source route");
	if (addr_mailbox(p, end, out, role, why, whylen) < 0)
		return -1;
	if ((size_t)(end - lt) + 1 > ADDR_MAX_PATH)	/* "<...>", punctuation included */
		return addr_fail(role, E_PATHLEN, why, whylen, "Path too long");
	return addr_compose(out) < 0 ? addr_fail(role, E_PATHLEN, why, whylen, "Path too long") : 0;
}

/* ---- parameters --------------------------------------------------------------- */

static int addr_keyword_ok(const char *k, size_t n)
{
	size_t i;

	if (n == 0 || !isalnum((unsigned char)k[0]))
		return 0;
	for (i = 1; i < n; i++)
		if (!isalnum((unsigned char)k[i]) && k[i] != '-')
			return 0;
	return 1;
}

static int addr_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* Decode the xtext part of an ORCPT/ENVID/AUTH value in place into param. */
static int addr_param_value(addr_param *pa, const char *v, size_t n)
{
	char raw[sizeof(pa->value)], dec[sizeof(pa->value)];
	const char *semi;
	size_t tlen;

	if (n >= sizeof(raw))
		return -1;
	str_ncopy(raw, sizeof(raw), v, n);
	if (strcmp(pa->name, "ORCPT") == 0) {
		if ((semi = strchr(raw, ';')) == NULL || semi == raw)
			return -1;
		tlen = (size_t)(semi - raw) + 1;
		if (xtext_decode(semi + 1, dec, sizeof(dec)) < 0 || !addr_printable(dec)
		    || strlen(dec) > 500)
			return -1;
		str_ncopy(pa->value, sizeof(pa->value), raw, tlen);
		return str_copy(pa->value + tlen, sizeof(pa->value) - tlen, dec);
	}
	if (strcmp(pa->name, "ENVID") == 0 || strcmp(pa->name, "AUTH") == 0) {
		if (xtext_decode(raw, dec, sizeof(dec)) < 0 || !addr_printable(dec))
			return -1;
		return str_copy(pa->value, sizeof(pa->value), dec);
	}
	return str_copy(pa->value, sizeof(pa->value), raw);
}

static int addr_params(const char *p, addr_path *out, char *why, size_t whylen)
{
	const char *kw, *eq, *v, *e;
	addr_param *pa;
	size_t i, klen;

	if (*p && *p != ' ')
		return snprintf(why, whylen, "501 5.5.4 Syntax error after the address"), -1;
	for (;;) {
		while (*p == ' ')
			p++;
		if (!*p)
			return 0;
		kw = p;
		while (*p && *p != ' ')
			p++;
		e = p;
		eq = memchr(kw, '=', (size_t)(e - kw));
		klen = (size_t)((eq ? eq : e) - kw);
		if (!addr_keyword_ok(kw, klen) || klen >= sizeof(out->param[0].name))
			return snprintf(why, whylen, "501 5.5.4 Bad parameter syntax \"%.*s\"",
					(int)(klen > 40 ? 40 : klen), kw), -1;
		if (out->nparam == ADDR_MAX_PARAMS)
			return snprintf(why, whylen, "555 5.5.4 Too many parameters"), -1;
		pa = &out->param[out->nparam];
		for (i = 0; i < klen; i++)
			pa->name[i] = (char)toupper((unsigned char)kw[i]);
		pa->name[klen] = 0;
		for (i = 0; i < out->nparam; i++)
			if (strcmp(out->param[i].name, pa->name) == 0)
				return snprintf(why, whylen, "501 5.5.4 Duplicate %s parameter",
						pa->name), -1;
		v = eq ? eq + 1 : e;
		for (kw = v; kw < e; kw++)
			if ((unsigned char)*kw < 0x21 || (unsigned char)*kw > 0x7e || *kw == '=')
				return snprintf(why, whylen, "501 5.5.4 Bad %s parameter syntax",
						pa->name), -1;
		if ((eq && v == e) || addr_param_value(pa, v, (size_t)(e - v)) < 0)
			return snprintf(why, whylen, "501 5.5.4 Bad %s parameter syntax",
					pa->name), -1;
		out->nparam++;
	}
}

static int addr_parse_role(const char *text, addr_path *out, addr_role role, char *why,
			   size_t whylen)
{
	const char *rest = "";
	const unsigned char *c;

	memset(out, 0, sizeof(*out));
	for (c = (const unsigned char *)text; *c; c++)
		if ((*c < 0x20 && *c != '\t') || *c == 0x7f)
			return addr_fail(role, E_SYNTAX, why, whylen, "control character in command");
	if (addr_path_part(text, &rest, out, role, why, whylen) < 0
	    || addr_params(rest, out, why, whylen) < 0) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	return 0;
}

int addr_parse_path(const char *text, addr_path *out, char *why, size_t whylen)
{
	return addr_parse_role(text, out, ROLE_ANY, why, whylen);
}

int addr_parse_sender(const char *text, addr_path *out, char *why, size_t whylen)
{
	return addr_parse_role(text, out, ROLE_SENDER, why, whylen);
}

int addr_parse_recipient(const char *text, addr_path *out, char *why, size_t whylen)
{
	return addr_parse_role(text, out, ROLE_RECIPIENT, why, whylen);
}

const char *addr_param_get(const addr_path *p, const char *name)
{
	size_t i;

	for (i = 0; i < p->nparam; i++)
		if (strcasecmp(p->param[i].name, name) == 0)
			return p->param[i].value;
	return NULL;
}

/* ---- routing ------------------------------------------------------------------ */

int addr_local_unquoted(const addr_path *p, char *out, size_t outlen)
{
	const char *s = p->local;
	buf b;
	int rc = 0;

	if (*s != '"')
		return str_copy(out, outlen, s);
	buf_init(&b, outlen ? outlen - 1 : 0);
	for (s++; *s && *s != '"' && rc == 0; s++) {
		if (*s == '\\' && s[1])
			s++;
		rc = buf_append_char(&b, *s);
	}
	if (rc == 0)
		rc = str_copy(out, outlen, buf_str(&b));
	buf_free(&b);
	return rc;
}

int addr_has_routing(const addr_path *p)
{
	char l[sizeof(p->local)];

	addr_local_unquoted(p, l, sizeof(l));
	return strpbrk(l, "@%!") != NULL;
}

void addr_next_hop(const addr_path *p, char *out, size_t outlen)
{
	char l[sizeof(p->local)];
	const char *h = p->domain;
	char *c;
	size_t i;

	addr_local_unquoted(p, l, sizeof(l));
	if ((c = strrchr(l, '@')) != NULL || (c = strrchr(l, '%')) != NULL) {
		h = c + 1;
	} else if ((c = strchr(l, '!')) != NULL) {
		*c = 0;		/* bang path: site!user */
		h = l;
	}
	str_copy(out, outlen, h);
	for (i = 0; out[i]; i++)
		out[i] = (char)tolower((unsigned char)out[i]);
}

/* ---- xtext -------------------------------------------------------------------- */

static int addr_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;	/* RFC 3461 says upper case; be lenient in reading */
	return -1;
}

int xtext_decode(const char *in, char *out, size_t outlen)
{
	size_t n = 0;
	int hi, lo, c;

	for (; *in; in++) {
		c = (unsigned char)*in;
		if (c == '+') {
			if ((hi = addr_hexval((unsigned char)in[1])) < 0
			    || (lo = addr_hexval((unsigned char)in[2])) < 0)
				return -1;
			c = hi * 16 + lo;
			if (c == 0)
				return -1;	/* a NUL cannot be carried in a C string */
			in += 2;
		} else if (c < 33 || c > 126 || c == '=') {
			return -1;
		}
		if (n + 1 >= outlen)
			return -1;
		out[n++] = (char)c;
	}
	if (outlen == 0)
		return -1;
	out[n] = 0;
	return 0;
}

int xtext_encode(const char *in, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	unsigned char c;

	for (; *in; in++) {
		c = (unsigned char)*in;
		if (c >= 33 && c <= 126 && c != '+' && c != '=') {
			if (n + 1 >= outlen)
				return -1;
			out[n++] = (char)c;
		} else {
			if (n + 3 >= outlen)
				return -1;
			out[n++] = '+';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 15];
		}
	}
	if (outlen == 0)
		return -1;
	out[n] = 0;
	return 0;
}

/* ---- fax addresses (RFC 3191/3192) -------------------------------------------- */

/* Unquote the local part of "local@domain" (last '@' outside quotes). */
static int fax_split(const char *addr, char *local, size_t llen, const char **domain)
{
	const char *p, *at = NULL;
	int inq = 0;
	buf b;
	int rc = 0;

	for (p = addr; *p; p++) {
		if (inq && *p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == '"')
			inq = !inq;
		else if (*p == '@' && !inq)
			at = p;
	}
	if (inq)
		return -1;
	*domain = at ? at + 1 : "";
	buf_init(&b, llen - 1);
	for (p = addr; p < (at ? at : p + strlen(p)) && rc == 0; p++) {
		if (*p == '"')
			continue;
		if (*p == '\\' && p[1])
			p++;
		rc = buf_append_char(&b, *p);
	}
	if (rc == 0)
		rc = str_copy(local, llen, buf_str(&b));
	buf_free(&b);
	return rc;
}

/* "+" 1*(DIGIT / "-" / "." [/ SP]) -> "+digits" (1..15 digits). */
static int fax_number(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i, d = 0;

	if (n < 2 || s[0] != '+' || outlen < 17)
		return -1;
	out[d++] = '+';
	for (i = 1; i < n; i++) {
		if (isdigit((unsigned char)s[i])) {
			if (d > 15)
				return -1;	/* more than 15 digits: not E.164 */
			out[d++] = s[i];
		} else if (s[i] != '-' && s[i] != '.' && s[i] != ' ') {
			return -1;
		}
	}
	out[d] = 0;
	return d > 1 ? 0 : -1;
}

/* "/keyword=value" elements after the number. */
static int fax_qualifiers(const char *q, fax_addr *out)
{
	const char *end, *eq, *c;
	size_t klen, vlen;

	while (*q) {
		if (*q != '/')
			return -1;
		q++;
		end = strchr(q, '/');
		if (!end)
			end = q + strlen(q);
		eq = memchr(q, '=', (size_t)(end - q));
		if (!eq || eq == q || eq + 1 == end)
			return -1;
		klen = (size_t)(eq - q);
		vlen = (size_t)(end - eq - 1);
		for (c = q; c < eq; c++)
			if (!isalnum((unsigned char)*c) && *c != '-')
				return -1;
		for (c = eq + 1; c < end; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e || strchr("@%!", *c))
				return -1;	/* no routing can hide in a qualifier */
		if (klen == 4 && strncasecmp(q, "T33S", 4) == 0) {
			if (out->subaddr[0] || vlen > 20)
				return -1;
			for (c = eq + 1; c < end; c++)
				if (!isdigit((unsigned char)*c))
					return -1;
			str_ncopy(out->subaddr, sizeof(out->subaddr), eq + 1, vlen);
		}
		q = end;
	}
	return 0;
}

int fax_addr_parse(const char *addr, fax_addr *out)
{
	char local[ADDR_MAX_PATH + 1];
	const char *domain, *p, *eq, *slash;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (fax_split(addr, local, sizeof(local), &domain) < 0)
		return strncasecmp(addr, "\"FAX=", 5) == 0 || strncasecmp(addr, "FAX=", 4) == 0 ? -1 : 0;
	p = local;
	if (*p == '/')
		p++;	/* X.400-style slashes around the local part */
	n = strlen(p);
	if (n && p[n - 1] == '/')
		n--;
	eq = memchr(p, '=', n);
	if (!eq || (size_t)(eq - p) != 3 || strncasecmp(p, "FAX", 3) != 0)
		return 0;
	local[(size_t)(p - local) + n] = 0;
	p = eq + 1;
	slash = strchr(p, '/');
	if (fax_number(p, (size_t)((slash ? slash : p + strlen(p)) - p), out->number,
		       sizeof(out->number)) < 0)
		goto bad;
	if (slash && fax_qualifiers(slash, out) < 0)
		goto bad;
	if (*domain && addr_check_domain(domain, strlen(domain), out->domain,
					 sizeof(out->domain)) != NULL)
		goto bad;
	return 1;
bad:
	memset(out, 0, sizeof(*out));
	return -1;
}
