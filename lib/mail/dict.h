/*
 * dict.h - lookup tables: Berkeley DB hash files compiled from text.
 *
 * Contract: the source is a text file "key value" per line (Postfix postmap syntax:
 * '#' comments, whitespace-led continuation lines, key lower-cased unless the table
 * is opened case-sensitive). dict_compile() writes NAME.db atomically (build into a
 * temporary file, fsync, rename), so readers never see a half-built table. Keys and
 * values are stored with their terminating NUL. A reader notices a newer NAME.db
 * (mtime/inode) and reopens it on the next lookup (dict_lookup is cheap when unchanged).
 * A missing table is an empty table (with one warning) unless opened DICT_REQUIRED.
 */
#ifndef FAXPOST_MAIL_DICT_H
#define FAXPOST_MAIL_DICT_H

#include <stddef.h>

#define DICT_REQUIRED	1	/* a missing .db is an error */
#define DICT_CASE	2	/* keys are case-sensitive */

typedef struct dict dict;

/* path: the table's text source path ("etc/aliases"); the db is path + ".db". */
dict *dict_open(const char *path, int flags, char *err, size_t errlen);
/* Returns the value (valid until the next lookup on this dict) or NULL. */
const char *dict_lookup(dict *d, const char *key);
void dict_close(dict *d);
/* Compile path -> path.db. err gets "file:line: why" on a bad line. */
int dict_compile(const char *path, char *err, size_t errlen);
/* Iterate all entries (faxpost map -s); fn returns non-zero to stop. */
int dict_walk(dict *d, int (*fn)(const char *key, const char *value, void *ctx), void *ctx);

#endif
