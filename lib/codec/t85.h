/*
 * t85.h - JBIG (ITU-T T.85, the fax profile of T.82) through jbigkit's jbig85 API.
 *
 * Contract: t85_encode() writes one page as a T.85 BIE (L0 = 128-line stripes, TPBON,
 * AT moves up to Mx = 127, as pbmtojbg85 does). t85_decode() reads one BIE; before
 * decoding it checks the 20-byte header: X within CODEC_MAX_WIDTH, Y (unless VLENGTH
 * defers it) within CODEC_MAX_ROWS and the pixel limit, L0 >= 1; rows beyond the limits
 * stop decoding (the jbig85 equivalent of jbg_dec_maxsize, which only the full jbig.c API
 * has). Errors come back as text; corrupt data never crashes or loops (jbigkit consumes
 * input monotonically and we bound the rows).
 */
#ifndef FAXPOST_CODEC_T85_H
#define FAXPOST_CODEC_T85_H

#include <stddef.h>
#include <stdint.h>

#include "codec/page.h"
#include "util/buf.h"

#define T85_L0 128
#define T85_MX 127

int t85_encode(const codec_page *pg, buf *out);
codec_page *t85_decode(const uint8_t *data, size_t len, char *err, size_t errlen);

#endif
