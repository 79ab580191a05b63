/*
 * atparse.h - modem responses: split the byte stream into lines and classify them.
 *
 * Contract: at_reader collects bytes (CR, LF or both end a line; empty lines are
 * skipped; a line longer than AT_LINE_MAX is cut and the rest of it dropped) and
 * returns whole lines. at_classify() names a line: the final result codes (verbose
 * V1 form and the V0 digits of V.250), RING, CONNECT [text], +FCERROR, +FRH:3,
 * caller-ID lines (NMBR, NAME, NDID, DATE, TIME, MESG; "NMBR = 123" and "NMBR=123"
 * both), and anything else as AT_INFO. at_is_final() says whether a result ends a
 * command. Nothing here blocks or allocates.
 */
#ifndef FAXPOST_HWD_ATPARSE_H
#define FAXPOST_HWD_ATPARSE_H

#include <stddef.h>

#define AT_LINE_MAX 256

typedef enum {
	AT_NONE = 0, AT_OK, AT_CONNECT, AT_RING, AT_NO_CARRIER, AT_ERROR, AT_NO_DIALTONE,
	AT_BUSY, AT_NO_ANSWER, AT_FCERROR, AT_FRH3, AT_CALLINFO, AT_INFO
} at_result;

typedef struct at_reader {
	char line[AT_LINE_MAX + 1];
	size_t len;
	int overflow;
} at_reader;

void at_reader_init(at_reader *r);
/* Feed bytes; returns how many were consumed (stops after a complete line, which is
 * then in r->line as a C string and the return is > 0 with *got_line = 1). */
size_t at_reader_feed(at_reader *r, const char *p, size_t n, int *got_line);

at_result at_classify(const char *line);
int at_is_final(at_result r);
const char *at_result_name(at_result r);
/* For AT_CALLINFO lines: the key (NMBR, NAME, NDID, ...) and the value, trimmed. */
int at_callinfo(const char *line, char *key, size_t ksize, char *val, size_t vsize);

#endif
