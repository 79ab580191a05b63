/*
 * featureset.h - RFC 2533 media feature-set expressions (and the RFC 2879 fax tags).
 *
 * Contract: fs_parse() accepts exactly the RFC 2533 grammar (filters "(& ...)",
 * "(| ...)", "(! ...)", relations = <= >=, ranges "a..b", tokens, quoted strings,
 * numbers and rationals "204/1", "<tag>=[a,b]" sets) with nesting and size limits, and
 * returns NULL with a reason on anything else. fs_format() writes the canonical text
 * (the form smtpd sends in a CONNEG reply). fs_match() decides whether a concrete
 * document description satisfies a capability expression; fs_intersect() computes
 * the common feature set of two expressions (RFC 2533 section 5), NULL-free: an empty
 * intersection is a distinct result (FS_EMPTY).
 */
#ifndef FAXPOST_MAIL_FEATURESET_H
#define FAXPOST_MAIL_FEATURESET_H

#include <stddef.h>

#include "util/buf.h"

typedef struct fs_expr fs_expr;

#define FS_MAX_DEPTH 32
#define FS_MAX_LEN (16 * 1024)

fs_expr *fs_parse(const char *text, size_t len, char *err, size_t errlen);
void fs_free(fs_expr *e);
int fs_format(const fs_expr *e, buf *out);		/* canonical text */
/* 1 if the feature set `doc` (a conjunction of tag=value) satisfies caps, else 0. */
int fs_match(const fs_expr *caps, const fs_expr *doc);
/* Intersection (caller frees); *empty set to 1 when no feature collection satisfies both. */
fs_expr *fs_intersect(const fs_expr *a, const fs_expr *b, int *empty);
/* Does the expression allow tag=value (e.g. "image-coding", "MMR")? 1 yes, 0 no. */
int fs_allows(const fs_expr *e, const char *tag, const char *value);

#endif
