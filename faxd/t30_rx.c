/*
 * t30_rx.c - the receiving side of the T.30 engine (see t30.c and t30.h).
 *
 * Contract: every command is answered from one dispatcher (rx_frames), so a repeated
 * command (our response was lost) gets the same response again; after MCF to EOP it
 * waits T2 for DCN and then hangs up anyway. Non-ECM pages are stored when their
 * post-page command arrives; ECM blocks are committed once, even when PPS repeats.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "t30_impl.h"
#include "util/msg.h"

t30_action t30_rx_send_dis(t30 *s)
{
	uint8_t fif[16], id[T30_ID_LEN];
	int n = t30_dis_encode(&s->cfg.local, fif, sizeof(fif));
	t30_out_reset(s);
	if (s->cfg.ident && *s->cfg.ident) {
		t30_ident_encode(s->cfg.ident, id);
		t30_out_add(s, T30_CSI, id, T30_ID_LEN);
	}
	t30_out_add(s, T30_DIS, fif, (size_t)n);
	s->state = R_SENT_DIS;
	int silence = s->dis_sent++ ? 75 : 0;
	return t30_act_tx_hdlc(s, silence);
}

static t30_action rx_respond(t30 *s, int fcf, const uint8_t *fif, size_t n, int after)
{
	t30_out_reset(s);
	t30_out_add(s, (uint8_t)(fcf | s->x), fif, n);
	s->after = after;
	s->state = R_SENT_RESP;
	return t30_act_tx_hdlc(s, 75);
}

/* Send our last response again (the caller repeated its command). */
static t30_action rx_resend(t30 *s)
{
	s->state = R_SENT_RESP;
	return t30_act_tx_hdlc(s, 75);
}

static t30_action rx_wait_cmd(t30 *s)
{
	s->state = R_WAIT_CMD;
	return t30_act_rx_hdlc(s, s->cfg.t2_ms);
}

static t30_action rx_page_data(t30 *s)
{
	s->state = R_RX_PAGE;
	return t30_act_data(s, T30_ACT_RX_DATA, t30_rates[s->p.rate].cls1_short, s->p.ecm,
			s->cfg.t2_ms);
}

void t30_rx_ecm_clear(t30 *s)
{
	for (int i = 0; i < ECM_MAX_FRAMES; i++)
		s->rx_len[i] = -1;
}

static int rx_store_page(t30 *s, int bad_rows)
{
	int rc = s->doc.put_page(s->doc.ctx, s->rx_pages, &s->p, (const uint8_t *)s->pagebuf.data,
				 s->pagebuf.len, bad_rows);
	buf_reset(&s->pagebuf);
	if (rc < 0)
		return -1;
	s->rx_pages++;
	s->res.pages_done = s->rx_pages;
	s->res.pages_total = s->rx_pages;
	return 0;
}

/* After a page's post-page command was answered with MCF: what next. */
static int after_ppm(int ppm)
{
	switch (ppm) {
	case T30_MPS: case T30_PRI_MPS: return AFTER_PAGE;
	case T30_EOM: case T30_PRI_EOM: return AFTER_DIS_WAIT;
	default: return AFTER_DCN_WAIT;
	}
}

static t30_action rx_on_dcs(t30 *s, const t30_event *ev, const t30_frame *f)
{
	for (size_t i = 0; i < ev->nframes; i++) {
		const t30_frame *g = &ev->frames[i];
		if (g->len < 3)
			continue;
		if ((g->b[2] & 0xFE) == T30_TSI)
			t30_ident_decode(g->b + 3, g->len - 3, s->res.remote_id);
		if ((g->b[2] & 0xFE) == T30_SUB)
			t30_ident_decode(g->b + 3, g->len - 3, s->res.subaddr);
	}
	t30_params p;
	if (t30_dcs_decode(f->b + 3, f->len - 3, &p) < 0 ||
	    (p.coding == T30_MR && !s->cfg.local.mr) || (p.coding == T30_MMR && !s->cfg.local.mmr) ||
	    (p.coding == T30_JBIG && !s->cfg.local.jbig) ||
	    (p.ecm && !s->cfg.local.ecm) || p.width > s->cfg.local.width ||
	    !(t30_rates[p.rate].family & s->cfg.local.modems))
		return t30_send_dcn(s, T30_ERR_INCOMPAT, "DCS asks for something we did not offer");
	s->p = p;
	s->have_params = 1;
	t30_params_note(s);
	t30_trace(s, "<- DCS: %d bit/s %s%s%s, remote \"%s\"", t30_rates[p.rate].bps,
	      t30_coding_name(p.coding), p.fine ? " fine" : "", p.ecm ? " ECM" : "",
	      s->res.remote_id);
	s->state = R_RX_TCF;
	return t30_act_data(s, T30_ACT_RX_DATA, t30_rates[p.rate].cls1_long, 0, s->cfg.t2_ms);
}

static t30_action rx_on_tcf(t30 *s, const t30_event *ev)
{
	/* Longest run of zero bits must last at least 1 s (as spandsp and HylaFAX). */
	size_t run = 0, best = 0;
	for (size_t i = 0; i < ev->len; i++) {
		uint8_t b = ev->data[i];
		if (b == 0) {
			run += 8;
			continue;
		}
		for (int k = 0; k < 8; k++) {
			if ((b >> k) & 1) {
				if (run > best)
					best = run;
				run = 0;
			} else {
				run++;
			}
		}
	}
	if (run > best)
		best = run;
	size_t need = (size_t)t30_rates[s->p.rate].bps;
	t30_trace(s, "TCF: %zu bytes, zero run %zu bits (need %zu)", ev->len, best, need);
	if (best < need) {
		s->res.retrains++;
		return rx_respond(s, T30_FTT, NULL, 0, AFTER_CMD);
	}
	buf_reset(&s->pagebuf);
	t30_rx_ecm_clear(s);
	s->rx_page_pending = 0;
	if (!s->res.phase_c_ms)
		s->res.phase_c_ms = s->now;
	return rx_respond(s, T30_CFR, NULL, 0, AFTER_PAGE);
}

/* ECM: PPS received; check the block. */
static t30_action rx_on_pps(t30 *s, const t30_frame *f)
{
	if (f->len < 7)
		return rx_wait_cmd(s);
	int ppm = f->b[3] & 0xFE, page = f->b[4], block = f->b[5], nf = f->b[6] + 1;
	if (page == s->last_page_no && block == s->last_block_no)
		/* we committed this block already; our MCF was lost */
		return rx_respond(s, T30_MCF, NULL, 0, ppm ? after_ppm(ppm) : AFTER_PAGE);
	uint8_t map[32];
	int bad = 0;
	memset(map, 0, sizeof(map));
	for (int i = 0; i < nf; i++)
		if (s->rx_len[i] < 0) {
			map[i / 8] |= (uint8_t)(1u << (i % 8));
			bad++;
		}
	t30_trace(s, "<- PPS-%s page %d block %d frames %d, missing %d",
	      ppm ? t30_fcf_name((uint8_t)ppm) : "NULL", page + 1, block, nf, bad);
	if (bad) {
		s->res.ppr++;
		return rx_respond(s, T30_PPR, map, 32, AFTER_PAGE);
	}
	for (int i = 0; i < nf; i++)
		if (buf_append(&s->pagebuf, s->rx_frames[i], (size_t)s->rx_len[i]) < 0)
			return t30_send_dcn(s, T30_ERR_LOCAL, "page too large");
	t30_rx_ecm_clear(s);
	s->last_page_no = page;
	s->last_block_no = block;
	if (ppm == 0)
		return rx_respond(s, T30_MCF, NULL, 0, AFTER_PAGE);
	if (rx_store_page(s, 0) < 0)
		return t30_send_dcn(s, T30_ERR_LOCAL, "cannot store the page");
	return rx_respond(s, T30_MCF, NULL, 0, after_ppm(ppm));
}

static t30_action rx_on_ppm(t30 *s, int fcf)
{
	if (!s->rx_page_pending)	/* a repeat: our response was lost */
		return rx_resend(s);
	s->rx_page_pending = 0;
	buf_truncate(&s->pagebuf, t4_trim_rtc((uint8_t *)s->pagebuf.data, s->pagebuf.len));
	int rows = 0, bad = 0;
	int rej = s->doc.check_page ? s->doc.check_page(s->doc.ctx, &s->p,
							 (const uint8_t *)s->pagebuf.data,
							 s->pagebuf.len, &rows, &bad) : 0;
	t30_trace(s, "<- %s: page %d, %zu bytes, %d rows, %d bad", t30_fcf_name((uint8_t)fcf),
	      s->rx_pages + 1, s->pagebuf.len, rows, bad);
	if (rej) {
		s->res.retrains++;
		buf_reset(&s->pagebuf);
		return rx_respond(s, T30_RTN, NULL, 0, AFTER_CMD);
	}
	if (rx_store_page(s, bad) < 0)
		return t30_send_dcn(s, T30_ERR_LOCAL, "cannot store the page");
	return rx_respond(s, T30_MCF, NULL, 0, after_ppm(fcf));
}

static t30_action rx_frames(t30 *s, const t30_event *ev)
{
	const t30_frame *f = t30_final_frame(ev);
	if (!f)
		return rx_wait_cmd(s);
	int fcf = f->b[2] & 0xFE;
	if (f->b[2] != T30_DTC && f->b[2] != T30_DIS)
		t30_trace(s, "<- %s", t30_fcf_name(f->b[2]));
	switch (fcf) {
	case T30_DCS:
		return rx_on_dcs(s, ev, f);
	case T30_DCN:
		if (s->rx_pages > 0 && !s->rx_page_pending)
			return t30_finish(s, T30_OK, "remote sent DCN");
		return t30_finish(s, s->rx_pages ? T30_ERR_DCN : T30_ERR_NO_DCS, "remote sent DCN");
	case T30_MPS: case T30_EOM: case T30_EOP:
	case T30_PRI_MPS: case T30_PRI_EOM: case T30_PRI_EOP:
		if (s->have_params && !s->p.ecm)
			return rx_on_ppm(s, fcf);
		break;
	case T30_PPS:
		if (s->have_params && s->p.ecm)
			return rx_on_pps(s, f);
		break;
	case T30_CTC:
		if (s->have_params && s->p.ecm && f->len >= 5) {
			uint8_t fif[3] = { 0, f->b[4], 0 };
			t30_params np;
			if (t30_dcs_decode(fif, 3, &np) == 0)
				s->p.rate = np.rate;
			t30_params_note(s);
			return rx_respond(s, T30_CTR, NULL, 0, AFTER_PAGE);
		}
		break;
	case T30_EOR:
		if (s->have_params && s->p.ecm) {
			int ppm = f->len >= 4 ? f->b[3] & 0xFE : 0;
			t30_rx_ecm_clear(s);
			if (ppm && rx_store_page(s, 1) < 0)
				return t30_send_dcn(s, T30_ERR_LOCAL, "cannot store the page");
			return rx_respond(s, T30_ERR, NULL, 0, ppm ? after_ppm(ppm) : AFTER_PAGE);
		}
		break;
	case T30_RR:
	case T30_CRP:
		if (s->nout > 0)
			return rx_resend(s);
		break;
	}
	if (f->b[2] == T30_DTC)
		return t30_send_dcn(s, T30_ERR_NO_POLL, "polling is not supported");
	return rx_wait_cmd(s);
}

static t30_action rx_after_tx(t30 *s)
{
	switch (s->after) {
	case AFTER_PAGE:
		return rx_page_data(s);
	case AFTER_DCN_WAIT:
		s->state = R_WAIT_CMD;
		return t30_act_rx_hdlc(s, s->cfg.t2_ms);
	case AFTER_DIS_WAIT:
		s->have_params = 0;
		s->x = 0;
		s->t1_deadline = s->now + s->cfg.t1_ms;
		return rx_wait_cmd(s);
	default:
		return rx_wait_cmd(s);
	}
}

t30_action t30_rx_event(t30 *s, const t30_event *ev)
{
	if (ev->type == T30_EV_HANGUP) {
		if (s->rx_pages > 0 && !s->rx_page_pending && s->after == AFTER_DCN_WAIT)
			return t30_finish(s, T30_OK, "line dropped after the last page");
		return t30_finish(s, T30_ERR_HANGUP, "the line dropped");
	}
	switch (s->state) {
	case R_SENT_DIS:
		s->after = AFTER_CMD;
		s->state = R_WAIT_CMD;
		return t30_act_rx_hdlc(s, s->cfg.t4_ms);
	case R_SENT_RESP:
		return rx_after_tx(s);
	case R_SENT_DCN:
		return t30_finish(s, s->res.code, s->res.text ? s->res.text : "done");
	case R_RX_TCF:
		if (ev->type == T30_EV_DATA)
			return rx_on_tcf(s, ev);
		return rx_wait_cmd(s);	/* the DCS came again (+FCERROR) or nothing */
	case R_RX_PAGE:
		if (ev->type == T30_EV_DATA) {
			if (s->p.ecm) {
				int got = 0;
				for (size_t i = 0; i < ev->nframes; i++) {
					const t30_frame *g = &ev->frames[i];
					if (g->len < 5 || (g->b[2] & 0xFE) != T30_FCD)
						continue;
					size_t n = g->len - 4;
					if (n > 256)
						n = 256;
					memcpy(s->rx_frames[g->b[3]], g->b + 4, n);
					s->rx_len[g->b[3]] = (int16_t)n;
					got++;
				}
				t30_trace(s, "<- ECM data: %d frames", got);
			} else {
				if (buf_append(&s->pagebuf, ev->data, ev->len) < 0)
					return t30_send_dcn(s, T30_ERR_LOCAL, "page too large");
				s->rx_page_pending = 1;
				t30_trace(s, "<- page data: %zu bytes", ev->len);
			}
		}
		return rx_wait_cmd(s);
	case R_WAIT_CMD:
		if (ev->type == T30_EV_FRAMES)
			return rx_frames(s, ev);
		if (s->after == AFTER_DCN_WAIT && s->rx_pages > 0)
			return t30_finish(s, T30_OK, "no DCN after the last page (T2)");
		if (!s->have_params) {
			if (ev->now_ms >= s->t1_deadline)
				return t30_finish(s, T30_ERR_NO_DCS, "no DCS from the caller within T1");
			if (ev->type == T30_EV_TIMEOUT)
				return t30_rx_send_dis(s);
			return t30_act_rx_hdlc(s, s->cfg.t4_ms);
		}
		if (ev->type == T30_EV_BAD_FRAME || ev->type == T30_EV_WRONG_CARRIER) {
			if (++s->tries > 6)
				return t30_finish(s, T30_ERR_PROTOCOL, "too many bad frames");
			return t30_act_rx_hdlc(s, s->cfg.t2_ms);
		}
		return t30_finish(s, s->rx_pages ? T30_ERR_NO_RESPONSE : T30_ERR_NO_DCS,
			      "no command from the caller within T2");
	}
	return t30_finish(s, T30_ERR_PROTOCOL, "internal: event in a bad state");
}

