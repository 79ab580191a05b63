/*
 * t30_impl.h - the T.30 engine's state, shared by t30.c (helpers, sender, public
 * entry points) and t30_rx.c (receiver); not for other users.
 */
#ifndef FAXPOST_FAXD_T30_IMPL_H
#define FAXPOST_FAXD_T30_IMPL_H

#include "t30.h"

#define ECM_MAX_FRAMES 256
#define PAGE_LIMIT (32u * 1024 * 1024)

enum {
	/* sender */
	S_WAIT_DIS, S_SENT_DCS, S_SENT_TCF, S_WAIT_CFR, S_SENT_PAGE, S_SENT_PPM,
	S_WAIT_PPM_RESP, S_SENT_BLOCK, S_SENT_PPS, S_WAIT_PPS_RESP, S_SENT_RR,
	S_WAIT_RR_RESP, S_SENT_CTC, S_WAIT_CTR, S_SENT_DCN,
	/* receiver */
	R_SENT_DIS, R_WAIT_CMD, R_RX_TCF, R_SENT_RESP, R_RX_PAGE, R_SENT_DCN,
	/* both */
	X_DONE
};

/* what the receiver does after its response has gone out */
enum { AFTER_CMD, AFTER_PAGE, AFTER_DCN_WAIT, AFTER_DIS_WAIT, AFTER_HANGUP };

struct t30 {
	t30_config cfg;
	t30_doc doc;
	t30_result res;
	int state;
	int x;			/* X bit: we received a DIS */
	long long now, t1_deadline, t5_deadline;
	int tries;
	t30_params p;
	int have_params;
	t30_frame out[T30_MAX_BURST];
	size_t nout;
	t30_action act;
	/* sender */
	int page;		/* 0-based page being sent */
	int ppm;		/* MPS/EOP for the current page */
	int rtn_count;
	buf pagebuf;		/* the current page, coded, for non-ECM padded */
	buf tcf;
	/* ECM (both sides) */
	t30_frame *ecm;		/* ECM_MAX_FRAMES + 3 frames to send */
	size_t necm;
	size_t block_off;	/* sender: offset of the current block in pagebuf */
	int block;		/* block number within the page */
	int block_frames;	/* frames in the current block */
	uint8_t resend[32];	/* sender: frames still to send (bitmap) */
	int ppr_count, ctc_count;
	/* receiver */
	int after;		/* AFTER_* */
	int rx_page_pending;	/* non-ECM page data waiting for its post-page command */
	int16_t rx_len[ECM_MAX_FRAMES];
	uint8_t (*rx_frames)[256];
	int last_page_no, last_block_no;	/* last committed ECM block */
	int rx_pages;
	int dis_sent;
};

/* helpers (t30.c) */
void t30_trace(t30 *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void t30_frame_set(t30_frame *f, uint8_t fcf, const uint8_t *fif, size_t n);
void t30_out_reset(t30 *s);
void t30_out_add(t30 *s, uint8_t fcf, const uint8_t *fif, size_t n);
t30_action t30_act_tx_hdlc(t30 *s, int silence_ms);
t30_action t30_act_rx_hdlc(t30 *s, int timeout_ms);
t30_action t30_act_data(t30 *s, t30_act_type type, int mod, int hdlc, int timeout_ms);
t30_action t30_finish(t30 *s, t30_result_code code, const char *text);
/* Send DCN, then hang up with code. */
t30_action t30_send_dcn(t30 *s, t30_result_code code, const char *text);
/* The final frame of a burst, or NULL. */
const t30_frame *t30_final_frame(const t30_event *ev);
int t30_fcf_of(const t30_frame *f);
void t30_params_note(t30 *s);

/* receiver (t30_rx.c) */
t30_action t30_rx_send_dis(t30 *s);
void t30_rx_ecm_clear(t30 *s);
t30_action t30_rx_event(t30 *s, const t30_event *ev);

#endif
