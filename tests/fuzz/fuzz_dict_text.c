/*
 * fuzz_dict_text.c - libFuzzer harness for the table compiler dict_compile
 * (lib/mail/dict.h, dict_compile.h) on the input as a table source.
 *
 * FUZZ_LIBS: mail util
 *
 * Input: byte 0 bit 0 picks DICT_CASE (postmap -f); the rest is the text source
 * ("key value" lines, comments, continuation lines), written under $TMPDIR and
 * compiled to NAME.db. A table that compiles is opened, walked, and every key it holds
 * is looked up. Oracles besides the sanitizers: a failed compile says why ("file:line:
 * ..."); every walked key looks up to exactly its walked value; keys are lower-case
 * unless DICT_CASE; neither key nor value holds a LF (a CR inside a line is data, as
 * in postmap); a key missing from the table is not found.
 */
#include <ctype.h>
#include <string.h>

#include "fuzz_util.h"
#include "mail/dict.h"
#include "mail/dict_compile.h"

typedef struct fuzz_walk {
	dict *d;	/* a second handle for lookups while the first walks */
	int cased;
	size_t n;
} fuzz_walk;

static int fuzz_entry(const char *key, const char *value, void *ctx)
{
	fuzz_walk *w = ctx;
	const char *got;

	if (strchr(key, '\n') || strchr(value, '\n'))
		__builtin_trap();
	for (const char *k = key; !w->cased && *k; k++)
		if (isupper((unsigned char)*k))
			__builtin_trap();
	if ((got = dict_lookup(w->d, key)) == NULL || strcmp(got, value) != 0)
		__builtin_trap();
	return ++w->n > 10000;	/* enough: the input is at most 64 KiB anyway */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[512];
	fuzz_walk w = { NULL, 0, 0 };
	char err[512];
	dict *d;

	if (size < 1 || size > 65536)
		return 0;
	fuzz_quiet("fuzz_dict_text");
	if (!path[0])
		snprintf(path, sizeof(path), "%s/table", fuzz_tmpdir());
	w.cased = data[0] & 1;
	fuzz_write_file(path, data + 1, size - 1);
	if (dict_compile_flags(path, w.cased ? DICT_CASE : 0, err, sizeof(err)) != 0) {
		if (memchr(err, 0, sizeof(err)) == NULL || !err[0])
			__builtin_trap();
		return 0;
	}
	if ((d = dict_open(path, DICT_REQUIRED | (w.cased ? DICT_CASE : 0), err, sizeof(err))) == NULL
	    || (w.d = dict_open(path, DICT_REQUIRED | (w.cased ? DICT_CASE : 0), err,
				sizeof(err))) == NULL)
		__builtin_trap();	/* compiled, but does not open */
	(void)dict_walk(d, fuzz_entry, &w);
	if (dict_lookup(w.d, "\x01no such key\x01") != NULL)
		__builtin_trap();
	dict_close(w.d);
	dict_close(d);
	return 0;
}
