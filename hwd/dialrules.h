/*
 * dialrules.h - turn a +E.164 fax number into the digits a modem dials.
 *
 * Contract: dialrules_apply() accepts "+CCNNN..." (international form) or a number
 * already in local form (digits only, dialled as given), with spaces, dashes, dots and
 * parentheses ignored; anything else (letters, a lone "+", more than 40 digits) is an
 * error (-1, err set). For +E.164: the explicit rules (longest matching "+PREFIX"
 * first) replace the prefix; otherwise a number in our country is dialled
 * national_prefix + national number, or without prefix and area code when it is in
 * our area and local_without_area is set; any other number is international_prefix +
 * digits. The dial prefix (outside line) goes in front of every result. The output
 * holds only 0-9 * # and the pause ','.
 */
#ifndef FAXPOST_HWD_DIALRULES_H
#define FAXPOST_HWD_DIALRULES_H

#include <stddef.h>

#define DIALRULES_MAX_RULES 64

typedef struct dialrule {
	char prefix[24];	/* digits after the '+' */
	char replace[24];	/* digits dialled instead */
} dialrule;

typedef struct dialrules {
	char dial_prefix[16];
	char country[8];
	char area[12];
	char intl_prefix[8];
	char natl_prefix[8];
	int local_without_area;
	dialrule rule[DIALRULES_MAX_RULES];
	size_t nrules;
} dialrules;

/* Defaults: international 00, national 0, no country or area, no rules. */
void dialrules_init(dialrules *r);
/* Add "+PREFIX=DIGITS" (DIGITS may be empty). -1 on a malformed item. */
int dialrules_add(dialrules *r, const char *item, char *err, size_t errlen);
/* Set the plain fields; -1 when a value is not digits (',' allowed in dial_prefix). */
int dialrules_set(dialrules *r, const char *dial_prefix, const char *country,
		  const char *area, const char *intl, const char *natl, int local_without_area,
		  char *err, size_t errlen);
int dialrules_apply(const dialrules *r, const char *number, char *out, size_t outlen,
		    char *err, size_t errlen);

#endif
