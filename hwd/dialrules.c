/*
 * dialrules.c - +E.164 to dial string (see dialrules.h for the contract).
 *
 * Why explicit rules first: real numbering plans have exceptions (a neighbouring area
 * dialled without the trunk prefix, a PBX that wants a carrier code); HylaFAX's
 * dialrules(5) solves this with regular expressions, we keep to prefix rewrites,
 * which cover those cases and cannot loop.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "dialrules.h"

#define DIAL_MAX_DIGITS 40

static int all_digits(const char *s, const char *extra)
{
	for (; *s; s++)
		if (!isdigit((unsigned char) *s) && !(extra && strchr(extra, *s)))
			return 0;
	return 1;
}

static int copy_field(char *dst, size_t size, const char *src, const char *extra,
		      const char *what, char *err, size_t errlen)
{
	if (src == NULL)
		src = "";
	if (!all_digits(src, extra) || strlen(src) >= size) {
		snprintf(err, errlen, "%s: not a digit string: \"%s\"", what, src);
		return -1;
	}
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

void dialrules_init(dialrules *r)
{
	memset(r, 0, sizeof *r);
	memcpy(r->intl_prefix, "00", 3);
	memcpy(r->natl_prefix, "0", 2);
	r->local_without_area = 1;
}

int dialrules_set(dialrules *r, const char *dial_prefix, const char *country,
		  const char *area, const char *intl, const char *natl, int local_without_area,
		  char *err, size_t errlen)
{
	if (copy_field(r->dial_prefix, sizeof r->dial_prefix, dial_prefix, ",*#", "hw_dial_prefix", err, errlen) < 0
	    || copy_field(r->country, sizeof r->country, country, NULL, "hw_country_code", err, errlen) < 0
	    || copy_field(r->area, sizeof r->area, area, NULL, "hw_area_code", err, errlen) < 0
	    || copy_field(r->intl_prefix, sizeof r->intl_prefix, intl, NULL, "hw_international_prefix", err, errlen) < 0
	    || copy_field(r->natl_prefix, sizeof r->natl_prefix, natl, NULL, "hw_national_prefix", err, errlen) < 0)
		return -1;
	r->local_without_area = local_without_area;
	return 0;
}

int dialrules_add(dialrules *r, const char *item, char *err, size_t errlen)
{
	const char *eq = strchr(item, '=');
	dialrule *d;
	size_t plen;

	if (item[0] != '+' || eq == NULL) {
		snprintf(err, errlen, "dial rule \"%s\": want +PREFIX=DIGITS", item);
		return -1;
	}
	if (r->nrules == DIALRULES_MAX_RULES) {
		snprintf(err, errlen, "more than %d dial rules", DIALRULES_MAX_RULES);
		return -1;
	}
	d = &r->rule[r->nrules];
	plen = (size_t) (eq - item - 1);
	if (plen == 0 || plen >= sizeof d->prefix) {
		snprintf(err, errlen, "dial rule \"%s\": bad prefix", item);
		return -1;
	}
	memcpy(d->prefix, item + 1, plen);
	d->prefix[plen] = 0;
	if (!all_digits(d->prefix, NULL)
	    || copy_field(d->replace, sizeof d->replace, eq + 1, ",*#", "dial rule", err, errlen) < 0) {
		snprintf(err, errlen, "dial rule \"%s\": not digits", item);
		return -1;
	}
	r->nrules++;
	return 0;
}

/* The number without punctuation; *intl set when it started with '+'. */
static int normalise(const char *in, char *digits, size_t size, int *intl)
{
	size_t n = 0;

	*intl = 0;
	while (*in == ' ')
		in++;
	if (*in == '+') {
		*intl = 1;
		in++;
	}
	for (; *in; in++) {
		if (strchr(" -.()/", *in))
			continue;
		if (!isdigit((unsigned char) *in) && !(!*intl && strchr("*#,", *in)))
			return -1;
		if (n + 1 >= size || n >= DIAL_MAX_DIGITS)
			return -1;
		digits[n++] = *in;
	}
	digits[n] = 0;
	return n > 0 ? 0 : -1;
}

static const dialrule *longest_rule(const dialrules *r, const char *digits)
{
	const dialrule *best = NULL;

	for (size_t i = 0; i < r->nrules; i++) {
		size_t len = strlen(r->rule[i].prefix);

		if (strncmp(digits, r->rule[i].prefix, len) == 0
		    && (best == NULL || len > strlen(best->prefix)))
			best = &r->rule[i];
	}
	return best;
}

static int starts_with(const char *s, const char *prefix)
{
	return prefix[0] && strncmp(s, prefix, strlen(prefix)) == 0;
}

int dialrules_apply(const dialrules *r, const char *number, char *out, size_t outlen,
		    char *err, size_t errlen)
{
	char digits[DIAL_MAX_DIGITS + 2];
	const char *head = "", *tail;
	const dialrule *rule;
	int intl, n;

	if (normalise(number, digits, sizeof digits, &intl) < 0) {
		snprintf(err, errlen, "not a dialable number: \"%s\"", number);
		return -1;
	}
	tail = digits;
	if (intl) {
		if ((rule = longest_rule(r, digits)) != NULL) {
			head = rule->replace;
			tail = digits + strlen(rule->prefix);
		} else if (starts_with(digits, r->country)) {
			tail = digits + strlen(r->country);
			if (r->local_without_area && starts_with(tail, r->area))
				tail += strlen(r->area);
			else
				head = r->natl_prefix;
		} else {
			head = r->intl_prefix;
		}
	}
	n = snprintf(out, outlen, "%s%s%s", r->dial_prefix, head, tail);
	if (n < 0 || (size_t) n >= outlen) {
		snprintf(err, errlen, "dial string too long for \"%s\"", number);
		return -1;
	}
	if (out[strlen(r->dial_prefix)] == 0) {
		snprintf(err, errlen, "\"%s\" dials as nothing", number);
		return -1;
	}
	return 0;
}
