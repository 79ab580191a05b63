/*
 * t30.c - the T.30 session engine: phases B-E for a sender and a receiver, with and
 * without ECM (T.30 Annex A), as a state machine without I/O.
 *
 * Contract: see t30.h. One outstanding action at a time; `state` names the action
 * the engine is waiting on. The sender falls back one speed on FTT or RTN, repeats
 * an unanswered command `tries` times (T4), sends PPR'd frames again (4 PPRs, then
 * CTC at a lower speed; after two CTCs the call fails), answers RNR with RR within T5.
 * The receiver (t30_rx.c) answers every command from a single dispatcher, so a
 * repeated command (our response was lost) gets the same response again; after MCF to
 * EOP it waits T2 for DCN and then hangs up anyway (a peer that never sends DCN does
 * not hang the call). The state both share is in t30_impl.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t30.h"
#include "util/msg.h"

#include "t30_impl.h"

/* ---------------------------------------------------------------- helpers --- */

void t30_trace(t30 *s, const char *fmt, ...)
{
	if (!s->cfg.trace)
		return;
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	s->cfg.trace(s->cfg.trace_ctx, line);
}

void t30_frame_set(t30_frame *f, uint8_t fcf, const uint8_t *fif, size_t n)
{
	if (n > T30_MAX_FRAME - 3)
		n = T30_MAX_FRAME - 3;
	f->b[0] = T30_ADDR;
	f->b[1] = T30_CTL;
	f->b[2] = fcf;
	if (n)
		memcpy(f->b + 3, fif, n);
	f->len = 3 + n;
}

void t30_out_reset(t30 *s) { s->nout = 0; }

void t30_out_add(t30 *s, uint8_t fcf, const uint8_t *fif, size_t n)
{
	if (s->nout < T30_MAX_BURST)
		t30_frame_set(&s->out[s->nout++], fcf, fif, n);
}

t30_action t30_act_tx_hdlc(t30 *s, int silence_ms)
{
	for (size_t i = 0; i < s->nout; i++) {
		s->out[i].b[1] = (i + 1 == s->nout) ? T30_CTL_FINAL : T30_CTL;
		t30_trace(s, "-> %s%s", t30_fcf_name(s->out[i].b[2]),
		      s->out[i].b[2] == T30_DIS || (s->out[i].b[2] & 0xFE) == T30_DCS ? " (caps)" : "");
	}
	memset(&s->act, 0, sizeof(s->act));
	s->act.type = T30_ACT_TX_HDLC;
	s->act.silence_ms = silence_ms;
	s->act.frames = s->out;
	s->act.nframes = s->nout;
	return s->act;
}

t30_action t30_act_rx_hdlc(t30 *s, int timeout_ms)
{
	memset(&s->act, 0, sizeof(s->act));
	s->act.type = T30_ACT_RX_HDLC;
	s->act.timeout_ms = timeout_ms;
	return s->act;
}

t30_action t30_act_data(t30 *s, t30_act_type type, int mod, int hdlc, int timeout_ms)
{
	memset(&s->act, 0, sizeof(s->act));
	s->act.type = type;
	s->act.mod = mod;
	s->act.hdlc = hdlc;
	s->act.timeout_ms = timeout_ms;
	return s->act;
}

t30_action t30_finish(t30 *s, t30_result_code code, const char *text)
{
	if (s->res.code == T30_OK || code != T30_OK)
		s->res.code = code;
	if (!s->res.text || code != T30_OK)
		s->res.text = text;
	t30_trace(s, "end: %s (%s)", t30_result_name(s->res.code), s->res.text);
	s->state = X_DONE;
	memset(&s->act, 0, sizeof(s->act));
	s->act.type = T30_ACT_HANGUP;
	return s->act;
}

/* Send DCN, then hang up with code. */
t30_action t30_send_dcn(t30 *s, t30_result_code code, const char *text)
{
	s->res.code = code;
	s->res.text = text;
	t30_out_reset(s);
	t30_out_add(s, (uint8_t)(T30_DCN | s->x), NULL, 0);
	s->state = s->cfg.sending ? S_SENT_DCN : R_SENT_DCN;
	return t30_act_tx_hdlc(s, 75);
}

/* The final frame of a burst, or NULL. */
const t30_frame *t30_final_frame(const t30_event *ev)
{
	for (size_t i = 0; i < ev->nframes; i++)
		if (ev->frames[i].len >= 3 && ev->frames[i].b[1] == T30_CTL_FINAL)
			return &ev->frames[i];
	return ev->nframes > 0 && ev->frames[ev->nframes - 1].len >= 3
		       ? &ev->frames[ev->nframes - 1] : NULL;
}

int t30_fcf_of(const t30_frame *f) { return f ? f->b[2] : -1; }

void t30_params_note(t30 *s)
{
	s->res.bps = t30_rates[s->p.rate].bps;
	s->res.coding = s->p.coding;
	s->res.ecm = s->p.ecm;
	s->res.fine = s->p.fine;
}

/* ---------------------------------------------------------------- sender --- */

static t30_action tx_send_dcs(t30 *s)
{
	uint8_t fif[16], id[T30_ID_LEN];
	int n = t30_dcs_encode(&s->p, fif, sizeof(fif));
	t30_out_reset(s);
	if (s->cfg.ident && *s->cfg.ident) {
		t30_ident_encode(s->cfg.ident, id);
		t30_out_add(s, (uint8_t)(T30_TSI | s->x), id, T30_ID_LEN);
	}
	if (s->cfg.subaddr && *s->cfg.subaddr && s->res.remote.subaddr) {
		t30_ident_encode(s->cfg.subaddr, id);
		t30_out_add(s, (uint8_t)(T30_SUB | s->x), id, T30_ID_LEN);
	}
	t30_out_add(s, (uint8_t)(T30_DCS | s->x), fif, (size_t)n);
	t30_params_note(s);
	t30_trace(s, "DCS: %d bit/s %s%s%s scan=%dms", t30_rates[s->p.rate].bps,
	      t30_coding_name(s->p.coding), s->p.fine ? " fine" : "", s->p.ecm ? " ECM" : "",
	      s->p.scan_ms);
	s->state = S_SENT_DCS;
	return t30_act_tx_hdlc(s, 75);
}

static t30_action tx_send_tcf(t30 *s)
{
	const t30_rate *r = &t30_rates[s->p.rate];
	size_t n = (size_t)r->bps * 3 / 16;	/* 1.5 s of zeros */
	buf_reset(&s->tcf);
	for (size_t i = 0; i < n; i++)
		buf_append_char(&s->tcf, 0);
	t30_action a = t30_act_data(s, T30_ACT_TX_DATA, r->cls1_long, 0, 0);
	a.silence_ms = 75;
	a.data = (const uint8_t *)s->tcf.data;
	a.len = s->tcf.len;
	s->act = a;
	s->state = S_SENT_TCF;
	return a;
}

/* Next lower speed both sides can do; -1 when none. */
static int lower_rate(t30 *s)
{
	for (int i = s->p.rate + 1; i < t30_nrates; i++)
		if (t30_rates[i].family & s->cfg.local.modems & s->res.remote.modems)
			return i;
	return -1;
}

static int load_page(t30 *s)
{
	buf raw;
	buf_init(&raw, PAGE_LIMIT);
	if (s->doc.get_page(s->doc.ctx, s->page, &s->p, &raw) < 0) {
		buf_free(&raw);
		return -1;
	}
	buf_reset(&s->pagebuf);
	int rc = 0;
	if (s->p.ecm) {
		rc = buf_append(&s->pagebuf, raw.data, raw.len);
	} else {
		size_t min_bits = (size_t)t30_rates[s->p.rate].bps * (size_t)s->p.scan_ms / 1000;
		rc = t4_pad_rows((const uint8_t *)raw.data, raw.len, min_bits, &s->pagebuf);
	}
	buf_free(&raw);
	return rc;
}

/* Build the frames of the current ECM block still to be sent, then 3 RCP. */
static t30_action tx_send_block(t30 *s)
{
	size_t fs = (size_t)s->p.ecm_frame;
	s->necm = 0;
	for (int i = 0; i < s->block_frames; i++) {
		if (!(s->resend[i / 8] & (1u << (i % 8))))
			continue;
		uint8_t fif[1 + 256];
		size_t off = s->block_off + (size_t)i * fs;
		size_t n = s->pagebuf.len > off ? s->pagebuf.len - off : 0;
		if (n > fs)
			n = fs;
		fif[0] = (uint8_t)i;
		memset(fif + 1, 0, fs);		/* the last frame is padded with zeros */
		memcpy(fif + 1, s->pagebuf.data + off, n);
		t30_frame_set(&s->ecm[s->necm++], T30_FCD, fif, 1 + fs);
	}
	for (int i = 0; i < 3; i++)
		t30_frame_set(&s->ecm[s->necm++], (uint8_t)(T30_RCP | s->x), NULL, 0);
	t30_trace(s, "-> block %d of page %d: %zu frames", s->block, s->page + 1, s->necm - 3);
	t30_action a = t30_act_data(s, T30_ACT_TX_DATA, t30_rates[s->p.rate].cls1_short, 1, 0);
	a.frames = s->ecm;
	a.nframes = s->necm;
	s->act = a;
	s->state = S_SENT_BLOCK;
	return a;
}

static void block_setup(t30 *s)
{
	size_t fs = (size_t)s->p.ecm_frame;
	size_t left = s->pagebuf.len - s->block_off;
	size_t nf = (left + fs - 1) / fs;
	if (nf == 0)
		nf = 1;
	if (nf > ECM_MAX_FRAMES)
		nf = ECM_MAX_FRAMES;
	s->block_frames = (int)nf;
	memset(s->resend, 0, sizeof(s->resend));
	for (size_t i = 0; i < nf; i++)
		s->resend[i / 8] |= (uint8_t)(1u << (i % 8));
	s->ppr_count = 0;
	s->ctc_count = 0;
}

static int block_is_last(t30 *s)
{
	return s->block_off + (size_t)s->block_frames * (size_t)s->p.ecm_frame >= s->pagebuf.len;
}

/* Start sending page s->page (after CFR, or after MCF of the previous page). */
static t30_action tx_start_page(t30 *s)
{
	if (load_page(s) < 0)
		return t30_send_dcn(s, T30_ERR_LOCAL, "cannot read the document page");
	s->ppm = (s->page + 1 < s->doc.npages) ? T30_MPS : T30_EOP;
	if (!s->res.phase_c_ms)
		s->res.phase_c_ms = s->now;
	t30_trace(s, "page %d: %zu bytes", s->page + 1, s->pagebuf.len);
	if (s->p.ecm) {
		s->block_off = 0;
		s->block = 0;
		block_setup(s);
		return tx_send_block(s);
	}
	t30_action a = t30_act_data(s, T30_ACT_TX_DATA, t30_rates[s->p.rate].cls1_short, 0, 0);
	a.data = (const uint8_t *)s->pagebuf.data;
	a.len = s->pagebuf.len;
	s->act = a;
	s->state = S_SENT_PAGE;
	return a;
}

static t30_action tx_send_ppm(t30 *s)
{
	t30_out_reset(s);
	t30_out_add(s, (uint8_t)(s->ppm | s->x), NULL, 0);
	s->state = S_SENT_PPM;
	return t30_act_tx_hdlc(s, 75);
}

static t30_action tx_send_pps(t30 *s)
{
	uint8_t fif[4];
	fif[0] = block_is_last(s) ? (uint8_t)(s->ppm | s->x) : 0;
	fif[1] = (uint8_t)((s->page - s->doc.first_page) & 0xFF);	/* pages of this call */
	fif[2] = (uint8_t)(s->block & 0xFF);
	fif[3] = (uint8_t)(s->block_frames - 1);
	t30_out_reset(s);
	t30_out_add(s, (uint8_t)(T30_PPS | s->x), fif, 4);
	s->state = S_SENT_PPS;
	return t30_act_tx_hdlc(s, 75);
}

/* A page was confirmed: go on with the next one, or end. */
static t30_action tx_page_confirmed(t30 *s)
{
	s->res.pages_done = s->page + 1;
	s->rtn_count = 0;
	if (s->page + 1 >= s->doc.npages)
		return t30_send_dcn(s, T30_OK, "all pages confirmed");
	s->page++;
	return tx_start_page(s);
}

static t30_action tx_on_dis(t30 *s, const t30_event *ev)
{
	for (size_t i = 0; i < ev->nframes; i++) {
		const t30_frame *f = &ev->frames[i];
		if (f->len >= 3 && f->b[2] == T30_CSI)
			t30_ident_decode(f->b + 3, f->len - 3, s->res.remote_id);
		if (f->len >= 3 && f->b[2] == T30_DIS) {
			t30_dis_decode(f->b + 3, f->len - 3, &s->res.remote);
			s->res.have_remote_dis = 1;
		}
	}
	char d[160];
	t30_caps_describe(&s->res.remote, d, sizeof(d));
	t30_trace(s, "<- DIS: %s, remote \"%s\"", d, s->res.remote_id);
	s->x = 1;
	if (!s->res.remote.can_receive)
		return t30_send_dcn(s, T30_ERR_INCOMPAT, "remote cannot receive (polling only)");
	if (t30_choose(&s->cfg.local, &s->res.remote, s->doc.codings, s->doc.fine, s->doc.width,
		       &s->p) < 0)
		return t30_send_dcn(s, T30_ERR_INCOMPAT, "no common coding, width or speed");
	while (t30_rates[s->p.rate].bps > s->cfg.max_bps) {
		int r = lower_rate(s);
		if (r < 0)
			break;
		s->p.rate = r;
	}
	s->p.ecm_frame = s->p.ecm ? (s->res.remote.ecm64 ? 64 : s->cfg.ecm_frame) : 0;
	s->have_params = 1;
	s->tries = 0;
	return tx_send_dcs(s);
}

static t30_action tx_wait_response(t30 *s, int next_state)
{
	s->state = next_state;
	return t30_act_rx_hdlc(s, s->cfg.t4_ms);
}

/* No (usable) response to the command we sent: repeat it, or give up. */
static t30_action tx_repeat(t30 *s, int sent_state)
{
	if (++s->tries >= s->cfg.tries)
		return t30_send_dcn(s, T30_ERR_NO_RESPONSE, "no response to our command (T4 x3)");
	t30_trace(s, "no response, repeat %d", s->tries);
	s->state = sent_state;
	return t30_act_tx_hdlc(s, 75);
}

static int sent_state_of(int wait_state)
{
	switch (wait_state) {
	case S_WAIT_CFR: return S_SENT_DCS;
	case S_WAIT_PPM_RESP: return S_SENT_PPM;
	case S_WAIT_PPS_RESP: return S_SENT_PPS;
	case S_WAIT_RR_RESP: return S_SENT_RR;
	case S_WAIT_CTR: return S_SENT_CTC;
	}
	return wait_state;
}

static t30_action tx_frames(t30 *s, const t30_event *ev)
{
	const t30_frame *f = t30_final_frame(ev);
	int fcf = t30_fcf_of(f) & 0xFE;
	if (f)
		t30_trace(s, "<- %s", t30_fcf_name(f->b[2]));
	if (fcf == T30_DCN)
		return t30_finish(s, s->res.pages_done >= s->doc.npages ? T30_OK : T30_ERR_DCN,
			      "remote sent DCN");
	if (fcf == T30_CRP && s->state != S_WAIT_DIS) {
		/* the remote asks us to repeat our last command */
		s->state = sent_state_of(s->state);
		return t30_act_tx_hdlc(s, 75);
	}
	switch (s->state) {
	case S_WAIT_DIS:
		if (f && f->b[2] == T30_DIS)
			return tx_on_dis(s, ev);
		return t30_act_rx_hdlc(s, s->cfg.t2_ms);
	case S_WAIT_CFR:
		if (fcf == T30_CFR) {
			s->tries = 0;
			t30_trace(s, "training ok at %d bit/s", t30_rates[s->p.rate].bps);
			return tx_start_page(s);
		}
		if (fcf == T30_FTT) {
			s->res.retrains++;
			int r = lower_rate(s);
			if (r < 0)
				return t30_send_dcn(s, T30_ERR_TRAIN, "training failed at every speed");
			s->p.rate = r;
			s->tries = 0;
			return tx_send_dcs(s);
		}
		return tx_repeat(s, S_SENT_DCS);	/* DIS again: our DCS was lost */
	case S_WAIT_PPM_RESP:
		s->tries = 0;
		if (fcf == T30_MCF || fcf == T30_RTP) {
			if (fcf == T30_RTP && s->page + 1 < s->doc.npages) {
				s->res.pages_done = s->page + 1;
				s->page++;
				return tx_send_dcs(s);	/* retrain, then the next page */
			}
			return tx_page_confirmed(s);
		}
		if (fcf == T30_RTN) {
			s->res.retrains++;
			if (++s->rtn_count > s->cfg.max_rtn)
				return t30_send_dcn(s, T30_ERR_RTN, "page rejected (RTN) too often");
			int r = lower_rate(s);
			if (r >= 0)
				s->p.rate = r;
			return tx_send_dcs(s);	/* retrain and send the page again */
		}
		if (fcf == T30_PIP || fcf == T30_PIN)
			return t30_send_dcn(s, T30_ERR_PROTOCOL, "procedure interrupt from remote");
		return tx_repeat(s, S_SENT_PPM);
	case S_WAIT_PPS_RESP:
	case S_WAIT_RR_RESP:
		s->tries = 0;
		if (fcf == T30_MCF) {
			if (!block_is_last(s)) {
				s->block_off += (size_t)s->block_frames * (size_t)s->p.ecm_frame;
				s->block++;
				block_setup(s);
				return tx_send_block(s);
			}
			return tx_page_confirmed(s);
		}
		if (fcf == T30_PPR && f->len >= 3 + 32) {
			s->res.ppr++;
			memset(s->resend, 0, sizeof(s->resend));
			int n = 0;
			for (int i = 0; i < s->block_frames; i++)
				if (f->b[3 + i / 8] & (1u << (i % 8))) {
					s->resend[i / 8] |= (uint8_t)(1u << (i % 8));
					n++;
				}
			if (n == 0)	/* a PPR asking for nothing: treat it as MCF */
				return tx_frames(s, &(t30_event){ .type = T30_EV_FRAMES, .nframes = 1,
					.frames = &(t30_frame){ .len = 3, .b = { 0xFF, 0x13, T30_MCF } } });
			if (++s->ppr_count >= 4) {
				if (++s->ctc_count > 2)
					return t30_send_dcn(s, T30_ERR_PROTOCOL, "ECM block could not be corrected");
				int r = lower_rate(s);
				if (r >= 0)
					s->p.rate = r;
				s->ppr_count = 0;
				uint8_t fif[16];
				t30_dcs_encode(&s->p, fif, sizeof(fif));
				t30_out_reset(s);
				t30_out_add(s, (uint8_t)(T30_CTC | s->x), fif, 2);
				s->state = S_SENT_CTC;
				t30_params_note(s);
				return t30_act_tx_hdlc(s, 75);
			}
			return tx_send_block(s);
		}
		if (fcf == T30_RNR) {
			if (s->state == S_WAIT_PPS_RESP)
				s->t5_deadline = ev->now_ms + s->cfg.t5_ms;
			if (ev->now_ms > s->t5_deadline)
				return t30_send_dcn(s, T30_ERR_PROTOCOL, "remote not ready for longer than T5");
			t30_out_reset(s);
			t30_out_add(s, (uint8_t)(T30_RR | s->x), NULL, 0);
			s->state = S_SENT_RR;
			return t30_act_tx_hdlc(s, 500);
		}
		return tx_repeat(s, s->state == S_WAIT_RR_RESP ? S_SENT_RR : S_SENT_PPS);
	case S_WAIT_CTR:
		if (fcf == T30_CTR) {
			s->tries = 0;
			return tx_send_block(s);
		}
		return tx_repeat(s, S_SENT_CTC);
	}
	return t30_send_dcn(s, T30_ERR_PROTOCOL, "unexpected frame");
}

static t30_action tx_event(t30 *s, const t30_event *ev)
{
	if (ev->type == T30_EV_HANGUP)
		return t30_finish(s, s->res.pages_done >= s->doc.npages && s->doc.npages > 0 ? T30_OK
			      : T30_ERR_HANGUP, "the line dropped");
	switch (s->state) {
	case S_SENT_DCS: return tx_send_tcf(s);
	case S_SENT_TCF: return tx_wait_response(s, S_WAIT_CFR);
	case S_SENT_PAGE: s->tries = 0; return tx_send_ppm(s);
	case S_SENT_PPM: return tx_wait_response(s, S_WAIT_PPM_RESP);
	case S_SENT_BLOCK: s->tries = 0; return tx_send_pps(s);
	case S_SENT_PPS: return tx_wait_response(s, S_WAIT_PPS_RESP);
	case S_SENT_RR: return tx_wait_response(s, S_WAIT_RR_RESP);
	case S_SENT_CTC: return tx_wait_response(s, S_WAIT_CTR);
	case S_SENT_DCN: return t30_finish(s, s->res.code, s->res.text ? s->res.text : "done");
	}
	/* a receive state */
	if (ev->type == T30_EV_FRAMES)
		return tx_frames(s, ev);
	/* timeout, bad frame, wrong carrier */
	switch (s->state) {
	case S_WAIT_DIS:
		if (ev->now_ms >= s->t1_deadline)
			return t30_finish(s, T30_ERR_NO_DIS, "no DIS from the remote within T1");
		return t30_act_rx_hdlc(s, s->cfg.t2_ms);
	case S_WAIT_CFR: return tx_repeat(s, S_SENT_DCS);
	case S_WAIT_PPM_RESP: return tx_repeat(s, S_SENT_PPM);
	case S_WAIT_PPS_RESP: return tx_repeat(s, S_SENT_PPS);
	case S_WAIT_RR_RESP: return tx_repeat(s, S_SENT_RR);
	case S_WAIT_CTR: return tx_repeat(s, S_SENT_CTC);
	}
	return t30_finish(s, T30_ERR_PROTOCOL, "internal: event in a bad state");
}

/* ---------------------------------------------------------------- public --- */

t30 *t30_new(const t30_config *cfg, const t30_doc *doc)
{
	t30 *s = xcalloc(1, sizeof(*s));
	s->cfg = *cfg;
	s->doc = *doc;
	if (!s->cfg.t1_ms) s->cfg.t1_ms = 35000;
	if (!s->cfg.t2_ms) s->cfg.t2_ms = 6000;
	if (!s->cfg.t4_ms) s->cfg.t4_ms = 3000;
	if (!s->cfg.t5_ms) s->cfg.t5_ms = 60000;
	if (!s->cfg.tries) s->cfg.tries = 3;
	if (!s->cfg.max_rtn) s->cfg.max_rtn = 3;
	if (s->cfg.ecm_frame != 64)
		s->cfg.ecm_frame = 256;
	if (!s->cfg.max_bps)
		s->cfg.max_bps = 14400;
	buf_init(&s->pagebuf, PAGE_LIMIT);
	buf_init(&s->tcf, 0);
	s->ecm = xcalloc(ECM_MAX_FRAMES + 3, sizeof(t30_frame));
	s->rx_frames = xcalloc(ECM_MAX_FRAMES, 256);
	s->last_page_no = s->last_block_no = -1;
	t30_rx_ecm_clear(s);
	s->res.text = NULL;
	s->res.pages_total = cfg->sending ? doc->npages : 0;
	s->res.pages_done = cfg->sending ? doc->first_page : 0;
	s->page = cfg->sending ? doc->first_page : 0;
	return s;
}

void t30_free(t30 *s)
{
	if (!s)
		return;
	buf_free(&s->pagebuf);
	buf_free(&s->tcf);
	free(s->ecm);
	free(s->rx_frames);
	free(s);
}

t30_action t30_start(t30 *s, long long now_ms)
{
	s->now = now_ms;
	s->t1_deadline = now_ms + s->cfg.t1_ms;
	if (s->cfg.sending && s->doc.npages <= s->doc.first_page)
		return t30_finish(s, T30_ERR_LOCAL, "nothing to send");
	if (!s->cfg.calling && !s->cfg.sending)
		return t30_rx_send_dis(s);
	if (s->cfg.calling && s->cfg.sending) {
		s->state = S_WAIT_DIS;
		return t30_act_rx_hdlc(s, s->cfg.t2_ms);
	}
	return t30_finish(s, T30_ERR_NO_POLL, "polling is not supported");
}

t30_action t30_step(t30 *s, const t30_event *ev)
{
	s->now = ev->now_ms;
	if (s->state == X_DONE)
		return s->act;
	if (s->cfg.sending)
		return tx_event(s, ev);
	return t30_rx_event(s, ev);
}

const t30_result *t30_result_get(const t30 *s) { return &s->res; }

const char *t30_result_name(t30_result_code c)
{
	switch (c) {
	case T30_OK: return "ok";
	case T30_ERR_NO_DIS: return "not a fax machine";
	case T30_ERR_NO_DCS: return "no DCS";
	case T30_ERR_TRAIN: return "training failed";
	case T30_ERR_NO_RESPONSE: return "no response";
	case T30_ERR_DCN: return "remote disconnected";
	case T30_ERR_HANGUP: return "line dropped";
	case T30_ERR_RTN: return "pages rejected";
	case T30_ERR_INCOMPAT: return "incompatible";
	case T30_ERR_LOCAL: return "local error";
	case T30_ERR_PROTOCOL: return "protocol error";
	case T30_ERR_NO_POLL: return "polling refused";
	}
	return "?";
}

const char *t30_retry_class(t30_result_code c)
{
	switch (c) {
	case T30_OK: return "";
	case T30_ERR_NO_DIS: return "no-answer";
	case T30_ERR_LOCAL: return "local";
	default: return "protocol";
	}
}
