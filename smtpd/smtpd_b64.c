/*
 * smtpd_b64.c - base64 (RFC 4648) for the AUTH exchange.
 *
 * Contract: strict decoding. Input length must be a multiple of 4, padding only at
 * the end ("=" or "=="), only the 64 alphabet characters; anything else is -1.
 * Output never exceeds outlen (-1 when it would). Empty input decodes to 0 bytes.
 */
#include <string.h>

#include "smtpd_proto.h"

static const char b64_alpha[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long smtpd_b64_decode(const char *in, size_t inlen, char *out, size_t outlen)
{
	size_t i, o = 0;

	if (inlen % 4 != 0)
		return -1;
	for (i = 0; i < inlen; i += 4) {
		int v[4], pad = 0, k;
		unsigned long w;

		for (k = 0; k < 4; k++) {
			unsigned char c = (unsigned char)in[i + k];

			if (c == '=' && i + 4 == inlen && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			if (pad)	/* data after padding */
				return -1;
			if ((v[k] = b64_val(c)) < 0)
				return -1;
		}
		if (pad == 1 && in[i + 3] != '=')
			return -1;
		if (pad == 2 && in[i + 2] != '=')
			return -1;
		w = ((unsigned long)v[0] << 18) | ((unsigned long)v[1] << 12) |
		    ((unsigned long)v[2] << 6) | (unsigned long)v[3];
		if (o + (size_t)(3 - pad) > outlen)
			return -1;
		out[o++] = (char)(w >> 16);
		if (pad < 2)
			out[o++] = (char)(w >> 8);
		if (pad < 1)
			out[o++] = (char)w;
	}
	return (long)o;
}

size_t smtpd_b64_encode(const void *in, size_t inlen, char *out, size_t outlen)
{
	const unsigned char *p = in;
	size_t i, o = 0;

	for (i = 0; i < inlen; i += 3) {
		unsigned long w = (unsigned long)p[i] << 16;
		size_t k = inlen - i;

		if (k > 1)
			w |= (unsigned long)p[i + 1] << 8;
		if (k > 2)
			w |= p[i + 2];
		if (o + 5 > outlen)
			break;
		out[o++] = b64_alpha[(w >> 18) & 63];
		out[o++] = b64_alpha[(w >> 12) & 63];
		out[o++] = k > 1 ? b64_alpha[(w >> 6) & 63] : '=';
		out[o++] = k > 2 ? b64_alpha[w & 63] : '=';
	}
	if (o < outlen)
		out[o] = 0;
	return o;
}
