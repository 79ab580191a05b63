/*
 * fuzz_smtp_conv.c - libFuzzer harness for the SMTP client's RFC 4141 message reader
 * (smtp/convert.h: smtp_conv_parse finds the part with Content-Convert, smtp_conv_fits
 * matches its Content-Features against a capability expression).
 *
 * FUZZ_LIBS: mail util
 * FUZZ_SRCS: smtp/convert.c
 *
 * Input: the message (headers, MIME multipart, as stored in the queue); up to the first
 * NUL byte, when there is one, is instead the recipient's capability expression and
 * the rest the message. Oracles besides the sanitizers: the part found lies inside the
 * message (part_hdr <= part_body <= part_end <= len); a part is only taken when
 * Content-Convert was found (permitted implies convert); a whole-message part starts
 * at 0; smtp_conv_fits answers 0 or 1.
 */
#include <string.h>

#include "fuzz_util.h"
#include "smtp/convert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *caps = "(& (image-coding=[MH,MR,MMR]) (paper-size=[A4,B4]) (dpi=[204,200]))";
	const uint8_t *nul = memchr(data, 0, size);
	char *capbuf = NULL, *msg;
	smtp_conv c;
	size_t off = 0;
	int fits;

	if (size > 256 * 1024)
		return 0;
	fuzz_quiet("fuzz_smtp_conv");
	if (nul) {
		capbuf = fuzz_cstr(data, (size_t)(nul - data));
		caps = capbuf;
		off = (size_t)(nul - data) + 1;
	}
	msg = fuzz_cstr(data + off, size - off);	/* conv owns it */
	memset(&c, 0, sizeof(c));
	smtp_conv_parse(&c, msg, size - off);
	if (c.len != size - off)
		__builtin_trap();
	if (c.permitted && c.convert == NULL)
		__builtin_trap();
	if (c.part_hdr > c.part_body || c.part_body > c.part_end || c.part_end > c.len)
		__builtin_trap();
	if (c.top && c.permitted && c.part_hdr != 0)
		__builtin_trap();
	fits = smtp_conv_fits(&c, caps);
	if (fits != 0 && fits != 1)
		__builtin_trap();
	smtp_conv_free(&c);
	free(capbuf);
	return 0;
}
