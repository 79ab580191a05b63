/*
 * hdlc.h - HDLC framing in software, for ECM pages over Class 1 +FTM/+FRM.
 *
 * Contract: bits are LSB first (as the DCE sends bytes). hdlc_encode() writes flags,
 * then each frame with its FCS (CRC-16/CCITT as X.25, complemented, low byte first)
 * and zero-bit insertion, one flag between frames, and trailing flags. The decoder
 * takes any byte stream, finds frames between flags, removes the stuffed zeros and
 * hands over only frames whose FCS is good (without the FCS); frames longer than
 * T30_MAX_FRAME or with a bad FCS are counted and dropped.
 */
#ifndef FAXPOST_FAXD_HDLC_H
#define FAXPOST_FAXD_HDLC_H

#include <stddef.h>
#include <stdint.h>

#include "t30.h"

uint16_t hdlc_crc(const uint8_t *p, size_t n);
int hdlc_encode(const t30_frame *frames, size_t n, size_t lead_flags, buf *out);

typedef struct hdlc_rx {
	uint32_t ones;		/* consecutive one bits */
	int in_frame;
	size_t nbits;
	uint8_t acc;
	size_t len;
	uint8_t b[T30_MAX_FRAME + 2];
	int overflow;
	size_t good, bad;
	void (*frame)(void *ctx, const uint8_t *p, size_t len);
	void *ctx;
} hdlc_rx;

void hdlc_rx_init(hdlc_rx *h, void (*frame)(void *, const uint8_t *, size_t), void *ctx);
void hdlc_rx_put(hdlc_rx *h, const uint8_t *p, size_t n);

#endif
