/*
 * hdlc.c - software HDLC framer/deframer for ECM data (see hdlc.h).
 *
 * Contract: see hdlc.h. The receiver works bit by bit: six ones then a zero is a flag
 * (it ends the current frame), seven ones abort it, five ones then a zero is a
 * stuffed zero that is dropped.
 */
#include <string.h>

#include "hdlc.h"

uint16_t hdlc_crc(const uint8_t *p, size_t n)
{
	uint16_t crc = 0xFFFF;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int k = 0; k < 8; k++)
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0x8408) : (uint16_t)(crc >> 1);
	}
	return crc;
}

typedef struct bitout {
	buf *out;
	uint8_t acc;
	int n;
	int err;
} bitout;

static void put_bit(bitout *w, int bit)
{
	if (bit)
		w->acc |= (uint8_t)(1u << w->n);
	if (++w->n == 8) {
		if (buf_append_char(w->out, (char)w->acc) < 0)
			w->err = 1;
		w->acc = 0;
		w->n = 0;
	}
}

static void put_flag(bitout *w)
{
	for (int k = 0; k < 8; k++)
		put_bit(w, (0x7E >> k) & 1);
}

static void put_stuffed(bitout *w, uint8_t byte, int *ones)
{
	for (int k = 0; k < 8; k++) {
		int bit = (byte >> k) & 1;
		put_bit(w, bit);
		if (bit) {
			if (++*ones == 5) {
				put_bit(w, 0);
				*ones = 0;
			}
		} else {
			*ones = 0;
		}
	}
}

int hdlc_encode(const t30_frame *frames, size_t n, size_t lead_flags, buf *out)
{
	bitout w = { out, 0, 0, 0 };
	for (size_t i = 0; i < lead_flags; i++)
		put_flag(&w);
	for (size_t f = 0; f < n; f++) {
		int ones = 0;
		uint16_t crc = (uint16_t)~hdlc_crc(frames[f].b, frames[f].len);
		put_flag(&w);
		for (size_t i = 0; i < frames[f].len; i++)
			put_stuffed(&w, frames[f].b[i], &ones);
		put_stuffed(&w, (uint8_t)(crc & 0xFF), &ones);
		put_stuffed(&w, (uint8_t)(crc >> 8), &ones);
	}
	for (int i = 0; i < 4; i++)
		put_flag(&w);
	for (int k = 0; w.n != 0; k++)	/* complete the last octet with flag bits */
		put_bit(&w, (0x7E >> (k % 8)) & 1);
	return w.err ? -1 : 0;
}

void hdlc_rx_init(hdlc_rx *h, void (*frame)(void *, const uint8_t *, size_t), void *ctx)
{
	memset(h, 0, sizeof(*h));
	h->frame = frame;
	h->ctx = ctx;
}

static void frame_end(hdlc_rx *h)
{
	if (h->in_frame && h->len >= 4 && !h->overflow && h->nbits == 0) {
		if (hdlc_crc(h->b, h->len) == 0xF0B8) {
			h->good++;
			h->frame(h->ctx, h->b, h->len - 2);
		} else {
			h->bad++;
		}
	} else if (h->in_frame && h->len >= 2) {
		h->bad++;
	}
	h->in_frame = 1;
	h->len = 0;
	h->nbits = 0;
	h->acc = 0;
	h->overflow = 0;
}

static void data_bit(hdlc_rx *h, int bit)
{
	if (!h->in_frame)
		return;
	if (bit)
		h->acc |= (uint8_t)(1u << h->nbits);
	if (++h->nbits == 8) {
		if (h->len < sizeof(h->b))
			h->b[h->len++] = h->acc;
		else
			h->overflow = 1;
		h->acc = 0;
		h->nbits = 0;
	}
}

void hdlc_rx_put(hdlc_rx *h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (int k = 0; k < 8; k++) {
			int bit = (p[i] >> k) & 1;
			if (bit) {
				h->ones++;
				if (h->ones >= 7) {	/* abort / idle ones */
					h->in_frame = 0;
					h->len = 0;
					h->nbits = 0;
					h->acc = 0;
				}
				continue;
			}
			/* a zero bit */
			if (h->ones == 6) {
				/* flag: the 6 ones and the leading zero were not data; drop the
				 * leading zero that data_bit() already took (7 bits: 0111111) */
				if (h->nbits > 0)
					h->nbits--;
				else if (h->in_frame && h->len > 0)
					h->overflow = 1;	/* not a whole number of octets */
				frame_end(h);
			} else if (h->ones == 5) {
				for (int j = 0; j < 5; j++)
					data_bit(h, 1);
				/* stuffed zero: dropped */
			} else {
				for (uint32_t j = 0; j < h->ones; j++)
					data_bit(h, 1);
				data_bit(h, 0);
			}
			h->ones = 0;
		}
	}
}
