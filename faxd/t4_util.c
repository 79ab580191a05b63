/*
 * t4_util.c - bit-level helpers for T.4 page data on the line (LSB first).
 *
 * Contract: the data is as a Class 1 DCE sends it: bit 0 of each byte first (TIFF
 * FillOrder 2). An EOL is eleven or more zero bits followed by a one; zero bits
 * before an EOL are fill. t4_pad_rows() adds fill so that each row (data, fill and
 * EOL) takes at least min_bits bits: the remote's minimum scan line time times the
 * bit rate. It never pads between the EOLs of RTC (rows of at most one bit, the MR
 * tag bit).
 */
#include "t30.h"

static const uint8_t rev_table_init[16] = { 0x0, 0x8, 0x4, 0xC, 0x2, 0xA, 0x6, 0xE,
					    0x1, 0x9, 0x5, 0xD, 0x3, 0xB, 0x7, 0xF };

void t4_reverse_bits(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(rev_table_init[p[i] & 0xF] << 4 | rev_table_init[p[i] >> 4]);
}

typedef struct bitw {
	buf *out;
	uint8_t acc;
	int n;
	int err;
} bitw;

static void bitw_put(bitw *w, int bit)
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

static void bitw_zeros(bitw *w, size_t n)
{
	while (n > 0 && w->n != 0) {
		bitw_put(w, 0);
		n--;
	}
	for (; n >= 8; n -= 8)
		if (buf_append_char(w->out, 0) < 0)
			w->err = 1;
	while (n-- > 0)
		bitw_put(w, 0);
}

int t4_pad_rows(const uint8_t *in, size_t len, size_t min_bits, buf *out)
{
	bitw w = { out, 0, 0, 0 };
	size_t zeros = 0, row_bits = 0;
	for (size_t i = 0; i < len; i++) {
		uint8_t b = in[i];
		if (b == 0) {
			zeros += 8;
			continue;
		}
		for (int k = 0; k < 8; k++) {
			if (!((b >> k) & 1)) {
				zeros++;
				continue;
			}
			if (zeros >= 11) {
				size_t z = zeros;
				if (row_bits > 1 && row_bits + z + 1 < min_bits)
					z = min_bits - row_bits - 1;
				bitw_zeros(&w, z);
				bitw_put(&w, 1);
				row_bits = 0;
			} else {
				bitw_zeros(&w, zeros);
				bitw_put(&w, 1);
				row_bits += zeros + 1;
			}
			zeros = 0;
		}
	}
	bitw_zeros(&w, zeros);
	if (w.n > 0 && buf_append_char(out, (char)w.acc) < 0)
		w.err = 1;
	return w.err ? -1 : 0;
}

size_t t4_count_eols(const uint8_t *in, size_t len, int *rtc)
{
	size_t zeros = 0, row_bits = 0, eols = 0, empty = 0;
	*rtc = 0;
	for (size_t i = 0; i < len; i++) {
		uint8_t b = in[i];
		if (b == 0) {
			zeros += 8;
			continue;
		}
		for (int k = 0; k < 8; k++) {
			if (!((b >> k) & 1)) {
				zeros++;
				continue;
			}
			if (zeros >= 11) {
				eols++;
				empty = row_bits <= 1 ? empty + 1 : 0;
				if (empty >= 5)
					*rtc = 1;
				row_bits = 0;
			} else {
				row_bits += zeros + 1;
			}
			zeros = 0;
		}
	}
	return eols;
}

size_t t4_trim_rtc(uint8_t *in, size_t len)
{
	size_t zeros = 0, row_bits = 0, empty = 0;
	for (size_t i = 0; i < len; i++) {
		uint8_t b = in[i];
		if (b == 0) {
			zeros += 8;
			continue;
		}
		for (int k = 0; k < 8; k++) {
			if (!((b >> k) & 1)) {
				zeros++;
				continue;
			}
			if (zeros >= 11) {
				empty = row_bits <= 1 ? empty + 1 : 0;
				if (empty >= 5) {
					/* the last EOL of RTC ends at bit k of byte i; keep the MR
					 * tag bit when it is in this byte, zero the rest */
					int keep = k + 2 > 8 ? 8 : k + 2;
					in[i] &= (uint8_t)((1u << keep) - 1);
					return i + 1;
				}
				row_bits = 0;
			} else {
				row_bits += zeros + 1;
			}
			zeros = 0;
		}
	}
	return len;
}

int t4_append_rtc(buf *out, int mr)
{
	/* six EOLs (MR: each followed by the 1-D tag bit), from a byte boundary: the zero
	 * bits left in the last byte before it are fill */
	bitw w = { out, 0, 0, 0 };
	for (int i = 0; i < 6; i++) {
		bitw_zeros(&w, 11);
		bitw_put(&w, 1);
		if (mr)
			bitw_put(&w, 1);
	}
	if (w.n > 0 && buf_append_char(out, (char)w.acc) < 0)
		w.err = 1;
	return w.err ? -1 : 0;
}
