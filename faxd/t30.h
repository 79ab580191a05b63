/*
 * t30.h - the T.30 session engine of faxd: a state machine without I/O.
 *
 * Contract: the engine is driven by events and answers each one with exactly one
 * action (t30_start() gives the first). Every action but T30_ACT_HANGUP completes
 * with exactly one event; the I/O layer (class1_*.c over a modem, or the in-memory
 * line of the unit tests) performs the action and feeds the result back with
 * t30_step(). The engine never blocks, never reads a clock (events carry now_ms),
 * and never touches files: pages come from and go to the t30_doc callbacks.
 *
 * Frames are in wire notation (spandsp/Class 1: DIS = 0x80, final control 0x13),
 * without FCS. Page data is LSB-first (TIFF FillOrder 2), as on the line.
 * Timers: T1 (35 s, phase B identification) is a deadline over the whole of phase B;
 * T2 (6 s, waiting for a command) and T4 (3 s, waiting for a response) are the
 * time limits of the receive actions; T5 (60 s) limits RNR/RR flow control.
 * Commands without a response are repeated 3 times, then the call fails (protocol).
 */
#ifndef FAXPOST_FAXD_T30_H
#define FAXPOST_FAXD_T30_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* --- frame control field (wire notation; bit 0 is the X bit, masked on receive) --- */
#define T30_DIS 0x80
#define T30_CSI 0x40
#define T30_NSF 0x20
#define T30_DTC 0x81
#define T30_CIG 0x41
#define T30_NSC 0x21
#define T30_DCS 0x82
#define T30_TSI 0x42
#define T30_NSS 0x22
#define T30_SUB 0xC2
#define T30_SID 0xA2
#define T30_PWD 0xC0	/* in a DCS context; 0xC1 is PWD for polling */
#define T30_CTC 0x12
#define T30_CFR 0x84
#define T30_FTT 0x44
#define T30_CTR 0xC4
#define T30_MPS 0x4E
#define T30_EOM 0x8E
#define T30_EOP 0x2E
#define T30_PRI_MPS 0x5E
#define T30_PRI_EOM 0x9E
#define T30_PRI_EOP 0x3E
#define T30_PPS 0xBE
#define T30_EOR 0xCE
#define T30_RR 0x6E
#define T30_MCF 0x8C
#define T30_RTP 0xCC
#define T30_RTN 0x4C
#define T30_PIP 0xAC
#define T30_PIN 0x2C
#define T30_PPR 0xBC
#define T30_RNR 0xEC
#define T30_ERR 0x1C
#define T30_DCN 0xFA
#define T30_CRP 0x1A
#define T30_FCD 0x06
#define T30_RCP 0x86

#define T30_ADDR 0xFF
#define T30_CTL 0x03		/* more frames follow */
#define T30_CTL_FINAL 0x13

#define T30_MAX_FRAME 264	/* addr ctl fcf + 256 FIF bytes + a little */
#define T30_MAX_BURST 8		/* frames in one V.21 transmission */
#define T30_ID_LEN 20

/* --- coding and modulation ----------------------------------------------- */
enum { T30_MH = 0, T30_MR = 1, T30_MMR = 2, T30_JBIG = 3 };	/* MMR, JBIG: ECM only */

#define T30_MOD_V27 1
#define T30_MOD_V29 2
#define T30_MOD_V17 4

typedef struct t30_rate {
	int bps;
	int family;		/* T30_MOD_* */
	int cls1_long;		/* Class 1 +FTM/+FRM code for TCF (long train) */
	int cls1_short;		/* ... and for page data after CFR */
	int dcs;		/* DCS bits 11-14 */
} t30_rate;

extern const t30_rate t30_rates[];	/* fastest first */
extern const int t30_nrates;
int t30_rate_find(int bps);		/* index in t30_rates or -1 */

/* What one side can do, as a DIS says (or the local settings). */
typedef struct t30_caps {
	int modems;		/* T30_MOD_* bits */
	int fine;		/* 7.7 l/mm */
	int mr, mmr;		/* 2-D codings */
	int jbig;		/* T.85 (bit 78; with ECM only) */
	int ecm;		/* T.4 Annex A error correction */
	int ecm64;		/* prefers 64-octet frames */
	int width;		/* 0 = 1728, 1 = up to 2048, 2 = up to 2432 pels */
	int length;		/* 0 = A4, 1 = B4, 2 = unlimited */
	int scan_ms;		/* minimum scan line time at standard resolution */
	int scan_half_fine;	/* ... halved at fine */
	int can_receive;	/* bit 10 */
	int can_poll;		/* bit 9: has a document to poll */
	int subaddr;		/* bit 49 */
} t30_caps;

/* What a DCS chose. */
typedef struct t30_params {
	int rate;		/* index in t30_rates */
	int coding;		/* T30_MH ... */
	int fine;
	int width;		/* as in t30_caps */
	int length;
	int scan_ms;		/* minimum scan line time for this page resolution */
	int ecm;
	int ecm_frame;		/* 64 or 256 */
} t30_params;

/* DIS/DTC/DCS FIF coding (t30_dis.c). Return FIF length or -1. */
int t30_dis_encode(const t30_caps *c, uint8_t *fif, size_t size);
int t30_dis_decode(const uint8_t *fif, size_t len, t30_caps *c);
int t30_dcs_encode(const t30_params *p, uint8_t *fif, size_t size);
int t30_dcs_decode(const uint8_t *fif, size_t len, t30_params *p);
/* Choose the DCS for a document offered in `codings` (bit 1<<T30_MH ...) at
 * resolution `fine`, given local and remote caps. -1 when nothing fits. */
int t30_choose(const t30_caps *local, const t30_caps *remote, int codings, int fine,
	       int width, t30_params *out);
/* Identity FIF (CSI/TSI/SUB): reversed, space padded to 20 characters. */
void t30_ident_encode(const char *id, uint8_t fif[T30_ID_LEN]);
void t30_ident_decode(const uint8_t *fif, size_t len, char out[T30_ID_LEN + 1]);
const char *t30_fcf_name(uint8_t fcf);
const char *t30_coding_name(int coding);
/* "DIS: V17 V29 V27 fine MR MMR ECM width=1728 scan=0ms" into out. */
void t30_caps_describe(const t30_caps *c, char *out, size_t size);

/* --- document interface (pages to send / pages received) ------------------- */
typedef struct t30_doc {
	void *ctx;
	/* sending */
	int npages;
	int first_page;		/* resume: start at this 0-based page */
	int codings;		/* 1 << T30_MH | ...: codings the source can give */
	int fine;		/* the document's resolution */
	int width;		/* the document's width class (0 = 1728) */
	/* Page `page` coded as `p` says, LSB first: MH/MR end with RTC, MMR with EOFB.
	 * Returns 0 or -1 (the call then ends with a local error). */
	int (*get_page)(void *ctx, int page, const t30_params *p, buf *out);
	/* receiving: judge a non-ECM page (bad rows); 0 = good, 1 = bad (RTN). */
	int (*check_page)(void *ctx, const t30_params *p, const uint8_t *data, size_t len,
			  int *rows, int *bad_rows);
	/* A received page (confirmed). Return 0, or -1 to abort the call. */
	int (*put_page)(void *ctx, int page, const t30_params *p, const uint8_t *data,
			size_t len, int bad_rows);
} t30_doc;

/* --- actions and events ------------------------------------------------------ */
typedef enum {
	T30_ACT_TX_HDLC,	/* send frames[0..nframes-1] on V.21 (last one final) */
	T30_ACT_RX_HDLC,	/* receive V.21 frames up to a final one, within timeout_ms */
	T30_ACT_TX_DATA,	/* send data on modulation mod (Class 1 code) */
	T30_ACT_RX_DATA,	/* receive high-speed data on mod until the carrier drops */
	T30_ACT_HANGUP		/* done: see t30_result() */
} t30_act_type;

typedef struct t30_frame {
	size_t len;
	uint8_t b[T30_MAX_FRAME];	/* addr, ctl, fcf, fif */
} t30_frame;

typedef struct t30_action {
	t30_act_type type;
	int silence_ms;		/* wait this long in silence first (Class 1 +FTS/+FRS) */
	int timeout_ms;		/* RX: give up after this long without a carrier */
	int mod;		/* TX/RX_DATA: Class 1 modulation code */
	int hdlc;		/* TX/RX_DATA: ECM (HDLC framed in software) */
	size_t nframes;		/* TX_HDLC */
	const t30_frame *frames;
	const uint8_t *data;	/* TX_DATA */
	size_t len;
} t30_action;

typedef enum {
	T30_EV_DONE,		/* TX action finished */
	T30_EV_FRAMES,		/* RX_HDLC: frames (good FCS) */
	T30_EV_DATA,		/* RX_DATA: data until carrier loss (or ECM frames) */
	T30_EV_TIMEOUT,		/* RX: nothing within the time limit */
	T30_EV_BAD_FRAME,	/* RX_HDLC: a frame with a bad FCS / garbage */
	T30_EV_WRONG_CARRIER,	/* RX_DATA saw V.21 (+FCERROR) or RX_HDLC saw data */
	T30_EV_HANGUP		/* the line dropped (NO CARRIER on a call, modem gone) */
} t30_ev_type;

typedef struct t30_event {
	t30_ev_type type;
	long long now_ms;	/* monotonic clock */
	size_t nframes;		/* FRAMES; also ECM data as de-framed HDLC frames */
	const t30_frame *frames;
	const uint8_t *data;	/* DATA (non-ECM) */
	size_t len;
} t30_event;

/* --- results ------------------------------------------------------------------- */
typedef enum {
	T30_OK = 0,
	T30_ERR_NO_DIS,		/* T1 expired: not a fax machine (retry: no-answer class) */
	T30_ERR_NO_DCS,		/* receiver: caller never sent DCS */
	T30_ERR_TRAIN,		/* training failed at every speed */
	T30_ERR_NO_RESPONSE,	/* command repeated 3 times without a response */
	T30_ERR_DCN,		/* remote disconnected (DCN) during the call */
	T30_ERR_HANGUP,		/* the line dropped mid-call */
	T30_ERR_RTN,		/* pages rejected too often */
	T30_ERR_INCOMPAT,	/* no common coding / width / speed */
	T30_ERR_LOCAL,		/* our document or disk failed */
	T30_ERR_PROTOCOL,	/* unexpected frame / ECM could not be corrected */
	T30_ERR_NO_POLL		/* polling asked for: not supported */
} t30_result_code;

typedef struct t30_result {
	t30_result_code code;
	const char *text;	/* what happened, for the log and DSN */
	int pages_done;		/* confirmed pages (sender: MCF; receiver: stored) */
	int pages_total;
	int bps;
	int coding;
	int ecm;
	int fine;
	char remote_id[T30_ID_LEN + 1];	/* CSI (when sending) / TSI (receiving) */
	char subaddr[T30_ID_LEN + 1];	/* received SUB */
	t30_caps remote;	/* the remote DIS (when sending) */
	int have_remote_dis;
	int retrains;		/* FTT and RTN/RTP retrains */
	int ppr;		/* ECM retransmissions */
	long long phase_c_ms;	/* when the first page started (now_ms clock), 0 = never */
} t30_result;

typedef struct t30_config {
	int calling;		/* 1 = we dialled (sender); 0 = we answered */
	int sending;		/* 1 = transmit pages; 0 = receive */
	t30_caps local;		/* what we offer (DIS) / allow ourselves (DCS) */
	int max_bps;
	const char *ident;	/* CSI/TSI, e.g. "+49 30 1234567" */
	const char *subaddr;	/* SUB to send, or NULL */
	int ecm_frame;		/* 64 or 256 */
	int t1_ms, t2_ms, t4_ms, t5_ms;	/* 0 = T.30 defaults */
	int tries;		/* command repeats (default 3) */
	int max_rtn;		/* resends of one page after RTN (default 3) */
	void (*trace)(void *ctx, const char *line);	/* frame/event trace, may be NULL */
	void *trace_ctx;
} t30_config;

typedef struct t30 t30;

t30 *t30_new(const t30_config *cfg, const t30_doc *doc);
void t30_free(t30 *s);
t30_action t30_start(t30 *s, long long now_ms);
t30_action t30_step(t30 *s, const t30_event *ev);
const t30_result *t30_result_get(const t30 *s);
const char *t30_result_name(t30_result_code c);
/* Retry class of a failed call: "busy" "no-answer" "protocol" "local" or "" (ok). */
const char *t30_retry_class(t30_result_code c);

/* Page data helpers (t4_util.c). */
void t4_reverse_bits(uint8_t *p, size_t n);
/* Copy MH/MR data, inserting zero fill before every EOL so that each row lasts at
 * least min_bits bits. Returns 0 or -1 (buffer limit). */
int t4_pad_rows(const uint8_t *in, size_t len, size_t min_bits, buf *out);
/* Count EOLs; rtc set when 6 consecutive EOLs (RTC) were seen. */
size_t t4_count_eols(const uint8_t *in, size_t len, int *rtc);
/* Length of MH/MR data up to the end of RTC (line noise after the carrier dropped is
 * cut off; stray bits in the last byte are zeroed); len when there is no RTC. */
size_t t4_trim_rtc(uint8_t *in, size_t len);
/* Append RTC (libtiff writes TIFF Class F strips without it). */
int t4_append_rtc(buf *out, int mr);

#endif
