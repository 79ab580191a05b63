/*
 * t4.h - the T.4 / T.6 coder (MH, MR, MMR) of faxpost.
 *
 * Contract. Encoding turns a page (page.h) into a T.4 1-D (MH), T.4 2-D (MR, a 1-D line
 * every k lines) or T.6 (MMR) bit stream exactly as a TIFF strip holds it: MH/MR lines
 * each preceded by an EOL (MR: EOL + tag bit), optionally with fill bits so that each EOL
 * (MR: EOL + tag) ends on a byte boundary, optionally ended by RTC (6 EOLs); MMR ends with
 * EOFB. The whole strip is padded to a byte with zeros; FillOrder 2 reverses each byte.
 * It works on whole words: each row becomes a list of changing elements by scanning
 * 64-bit words with clz, and codes go out through a 64-bit accumulator.
 *
 * Decoding reads such a stream (EOLs optional for MH, fill bits anywhere before an EOL,
 * RTC/EOFB optional, FillOrder 1 or 2) into a page `width` pixels wide with `rows` rows
 * (0 = as many as the data holds, up to CODEC_MAX_ROWS). It is table-driven and bounded:
 * every step consumes bits or ends the line, so hostile data costs at most O(bytes + rows).
 * A damaged MH/MR line is replaced by the previous one (as a fax machine does) and counted
 * in bad_lines; damaged MMR data cannot be resynchronised: T4_ERR_DATA with the rows so
 * far. The output of decoding equals libtiff's for every well-formed stream.
 */
#ifndef FAXPOST_CODEC_T4_H
#define FAXPOST_CODEC_T4_H

#include <stddef.h>
#include <stdint.h>

#include "codec/page.h"
#include "util/buf.h"

typedef enum { T4_MH = 1, T4_MR = 2, T4_MMR = 3 } t4_coding;

typedef struct t4_opts {
	t4_coding coding;
	int k;			/* MR: 1-D line every k lines (k >= 1); 0 = T.4 default by yres */
	int fill_lsb;		/* FillOrder 2 */
	int eol_align;		/* T4Options bit 2: EOL (+tag) ends on a byte boundary */
	int rtc;		/* MH/MR: end with RTC; MMR: end with EOFB (write); */
} t4_opts;

typedef struct t4_result {
	uint32_t rows;		/* rows decoded */
	uint32_t bad_lines;	/* MH/MR lines regenerated */
	uint32_t max_bad_run;	/* longest run of consecutive bad lines */
	int end_marker;		/* RTC / EOFB seen */
} t4_result;

#define T4_OK		0
#define T4_ERR_DATA	-1	/* undecodable data (rows so far are in the page) */
#define T4_ERR_LIMIT	-2	/* more rows than allowed / no memory for the page */

/* Append the coded page to out; -1 when out's limit is reached. */
int t4_encode(const t4_opts *o, const codec_page *pg, buf *out);

/* Decode into a new page (*pg, also set on T4_ERR_DATA). rows = 0: until the data ends. */
int t4_decode(const t4_opts *o, const uint8_t *data, size_t len, uint32_t width,
	      uint32_t rows, codec_page **pg, t4_result *res);

/* Decode exactly pg->height rows into an existing page (every row is rewritten). */
int t4_decode_into(const t4_opts *o, const uint8_t *data, size_t len, codec_page *pg,
		   t4_result *res);

/* T.4's K for a vertical resolution: 2 up to 100 lpi, else 4 (as libtiff). */
int t4_default_k(unsigned yres);

/* Internal (t4_tables.c). */
typedef struct t4_code {
	uint32_t code;
	uint8_t len;
} t4_code;
extern const t4_code t4_white_term[64], t4_black_term[64];
extern const t4_code t4_white_makeup[40], t4_black_makeup[40];	/* 64..2560 step 64 */
extern const uint8_t t4_bitrev[256];
void t4_reverse_bytes(uint8_t *p, size_t n);

#endif
