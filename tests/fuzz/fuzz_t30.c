/*
 * fuzz_t30.c - libFuzzer harness for faxd's T.30 session engine (faxd/t30.h) and the
 * software HDLC decoder (faxd/hdlc.h): the remote fax machine is the fuzzer.
 *
 * FUZZ_LIBS: faxt30 util
 * FUZZ_ARGS: -max_len=16384
 *
 * Input: byte 0 picks the role and local capabilities (bit 0 we called, bit 1 we send
 * pages, bit 2 ECM offered, bit 3 no MR, bit 4 send a SUB, bit 5 64-octet ECM
 * frames). The rest is a script of what the line brings, one record per receive
 * action of the engine (transmit actions complete at once):
 *   op byte: op & 7 = 0..2 answer, 3 timeout, 4 bad frame, 5 wrong carrier, 6 hang-up,
 *            7 advance the clock by (next byte) seconds, then answer;
 *   answer for RX_HDLC: (op >> 3) % 8 + 1 frames, each a length byte and that many
 *            bytes (addr ctl fcf fif, as the modem hands them over after its FCS check);
 *   answer for RX_DATA: a 2-byte length and that many bytes: page data as received,
 *            or for ECM the raw HDLC bit stream, de-framed with hdlc_rx_put() as
 *            class1.c does.
 * Once the script ends, every receive action times out. Oracles besides the
 * sanitizers: transmitted bursts hold 1..T30_MAX_BURST frames of 3..T30_MAX_FRAME
 * bytes; received pages are stored in order 0, 1, 2 ...; the call ends (HANGUP)
 * within a bounded number of steps once the line is silent, and never transmits
 * forever without listening; the result is consistent (pages_done <= pages_total when
 * sending, NUL-terminated identities, a known code with a text).
 */
#include <string.h>

#include "faxd/hdlc.h"
#include "faxd/t30.h"
#include "fuzz_util.h"

#define FZ_MAX_ECM_FRAMES 512

typedef struct fz_in {
	const uint8_t *p;
	size_t n, off;
} fz_in;

typedef struct fz_ecm {
	t30_frame f[FZ_MAX_ECM_FRAMES];
	size_t n;
} fz_ecm;

static int fz_byte(fz_in *in)
{
	return in->off < in->n ? in->p[in->off++] : -1;
}

static size_t fz_take(fz_in *in, size_t want, const uint8_t **p)
{
	size_t n = in->n - in->off < want ? in->n - in->off : want;

	*p = in->p + in->off;
	in->off += n;
	return n;
}

static int fz_next_page;	/* the page put_page must see next */

static int fz_get_page(void *ctx, int page, const t30_params *p, buf *out)
{
	static const uint8_t white[] = { 0x00, 0x80, 0xB2, 0x59, 0x01 };	/* rows, LSB first */

	(void)ctx;
	if (page < 0 || page > 2)
		__builtin_trap();	/* npages is 3 */
	if (p->coding == T30_MMR) {
		static const uint8_t eofb[] = { 0x00, 0x08, 0x80 };
		return buf_append(out, eofb, sizeof(eofb));
	}
	if (buf_append(out, white, sizeof(white)) < 0)
		return -1;
	return t4_append_rtc(out, p->coding == T30_MR);
}

static int fz_check_page(void *ctx, const t30_params *p, const uint8_t *data, size_t len,
			 int *rows, int *bad)
{
	unsigned sum = 0;

	(void)ctx;
	(void)p;
	for (size_t i = 0; i < len; i++)
		sum += data[i];	/* the engine's pointer must be valid for len bytes */
	*rows = (int)(len / 4);
	*bad = (sum % 5 == 0) ? *rows : 0;	/* some pages are bad: RTN paths */
	return *bad ? 1 : 0;
}

static int fz_put_page(void *ctx, int page, const t30_params *p, const uint8_t *data,
		       size_t len, int bad_rows)
{
	unsigned sum = 0;

	(void)ctx;
	(void)p;
	(void)bad_rows;
	if (page != fz_next_page)
		__builtin_trap();	/* pages stored out of order or twice */
	fz_next_page++;
	for (size_t i = 0; i < len; i++)
		sum += data[i];
	return sum == 0x7FFFFFFF ? -1 : 0;
}

static void fz_trace(void *ctx, const char *line)
{
	(void)ctx;
	if (strlen(line) > 4096)
		__builtin_trap();
}

static void fz_on_frame(void *ctx, const uint8_t *p, size_t len)
{
	fz_ecm *e = ctx;

	if (len > T30_MAX_FRAME)
		__builtin_trap();	/* the decoder must drop over-long frames */
	if (e->n < FZ_MAX_ECM_FRAMES) {
		e->f[e->n].len = len;
		memcpy(e->f[e->n].b, p, len);
		e->n++;
	}
}

static void fz_check_tx(const t30_action *a)
{
	if (a->type != T30_ACT_TX_HDLC)
		return;
	if (a->nframes < 1 || a->nframes > T30_MAX_BURST || a->frames == NULL)
		__builtin_trap();
	for (size_t i = 0; i < a->nframes; i++)
		if (a->frames[i].len < 3 || a->frames[i].len > T30_MAX_FRAME)
			__builtin_trap();
}

/* Build the event for receive action a from the script. */
static void fz_answer(fz_in *in, const t30_action *a, t30_event *ev, t30_frame *fr, fz_ecm *ecm,
		      long long *now)
{
	int op = fz_byte(in), b;
	const uint8_t *p;
	size_t n;

	if (op < 0) {
		ev->type = T30_EV_TIMEOUT;
		*now += a->timeout_ms > 0 ? a->timeout_ms : 10000;
		return;
	}
	switch (op & 7) {
	case 3:
		ev->type = T30_EV_TIMEOUT;
		*now += a->timeout_ms > 0 ? a->timeout_ms : 10000;
		return;
	case 4:
		ev->type = T30_EV_BAD_FRAME;
		return;
	case 5:
		ev->type = T30_EV_WRONG_CARRIER;
		return;
	case 6:
		ev->type = T30_EV_HANGUP;
		return;
	case 7:
		if ((b = fz_byte(in)) > 0)
			*now += (long long)b * 1000;
		break;
	}
	if (a->type == T30_ACT_RX_HDLC) {
		size_t nf = (size_t)((op >> 3) % 8) + 1, k = 0;

		for (; k < nf && (b = fz_byte(in)) >= 0; k++) {
			fr[k].len = fz_take(in, (size_t)b % (T30_MAX_FRAME + 1), &p);
			memcpy(fr[k].b, p, fr[k].len);
		}
		ev->type = k ? T30_EV_FRAMES : T30_EV_TIMEOUT;
		ev->frames = fr;
		ev->nframes = k;
		return;
	}
	b = fz_byte(in);
	n = fz_take(in, (size_t)(b < 0 ? 0 : b) << 8 | (size_t)(fz_byte(in) & 0xFF), &p);
	ev->type = T30_EV_DATA;
	if (a->hdlc) {
		hdlc_rx h;

		ecm->n = 0;
		hdlc_rx_init(&h, fz_on_frame, ecm);
		hdlc_rx_put(&h, p, n);
		ev->frames = ecm->f;
		ev->nframes = ecm->n;
	} else {
		ev->data = p;
		ev->len = n;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static t30_frame fr[8];
	static fz_ecm ecm;
	t30_config cfg = { 0 };
	t30_doc doc = { 0 };
	fz_in in = { data, size, 1 };
	long long now = 0;
	int tx_run = 0, silent_steps = 0;
	const t30_result *r;
	t30_action a;
	t30 *s;

	if (size < 1 || size > 256 * 1024)
		return 0;
	fuzz_quiet("fuzz_t30");
	cfg.calling = data[0] & 1;
	cfg.sending = (data[0] >> 1) & 1;
	cfg.local.modems = T30_MOD_V17 | T30_MOD_V29 | T30_MOD_V27;
	cfg.local.fine = 1;
	cfg.local.mr = !(data[0] & 8);
	cfg.local.ecm = cfg.local.mmr = (data[0] >> 2) & 1;
	cfg.local.length = 2;
	cfg.local.can_receive = 1;
	cfg.max_bps = 14400;
	cfg.ident = "+49 30 1234567";
	cfg.subaddr = data[0] & 16 ? "12" : NULL;
	cfg.ecm_frame = data[0] & 32 ? 64 : 256;
	cfg.trace = fz_trace;
	doc.npages = 3;
	doc.codings = 1 << T30_MH | 1 << T30_MR | 1 << T30_MMR;
	doc.fine = 1;
	doc.get_page = fz_get_page;
	doc.check_page = fz_check_page;
	doc.put_page = fz_put_page;
	fz_next_page = 0;
	if ((s = t30_new(&cfg, &doc)) == NULL)
		abort();
	a = t30_start(s, now);
	while (a.type != T30_ACT_HANGUP) {
		t30_event ev = { .now_ms = now };

		if (in.off >= in.n && ++silent_steps > 1000)
			__builtin_trap();	/* silent line, and the call does not end */
		if (a.type == T30_ACT_TX_HDLC || a.type == T30_ACT_TX_DATA) {
			fz_check_tx(&a);
			if (++tx_run > 1000)
				__builtin_trap();	/* transmits forever without listening */
			now += a.silence_ms + 100;
			ev.type = T30_EV_DONE;
			ev.now_ms = now;
		} else {
			tx_run = 0;
			now += a.silence_ms + 50;
			fz_answer(&in, &a, &ev, fr, &ecm, &now);
			ev.now_ms = now;
		}
		a = t30_step(s, &ev);
	}
	r = t30_result_get(s);
	if (r == NULL || r->text == NULL || (int)r->code < T30_OK || r->code > T30_ERR_NO_POLL
	    || memchr(r->remote_id, 0, sizeof(r->remote_id)) == NULL
	    || memchr(r->subaddr, 0, sizeof(r->subaddr)) == NULL
	    || (cfg.sending && r->pages_done > r->pages_total) || r->pages_done < 0)
		__builtin_trap();
	(void)t30_result_name(r->code);
	(void)t30_retry_class(r->code);
	t30_free(s);
	return 0;
}
