/*
 * vmodem.h - the virtual telephone line used by tests and `make run`.
 *
 * Contract: one process simulates a small telephone exchange in real time (20 ms
 * ticks of 8 kHz linear audio). Parties are registered with a number: Class 1 fax
 * modems on ptys (spandsp T.31, vm_line.c) and virtual remote fax machines (spandsp
 * fax_init + T.30, vm_faxm.c). vm_call.c routes ATD<number> to the party with that
 * number, rings it, connects the audio of both sides through a delay line with optional
 * noise and drop-outs, and propagates busy, no-answer and hang-up. vm_ctl.c is the
 * control socket; vm_main.c reads the configuration and runs the loop.
 * This is test equipment: it never touches the faxpost queue or libraries.
 */
#ifndef FAXPOST_VMODEM_H
#define FAXPOST_VMODEM_H

#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stddef.h>

#define SPANDSP_EXPOSE_INTERNAL_STRUCTURES
#include <tiffio.h>
#include <spandsp.h>

#define VM_RATE		8000
#define VM_BLOCK	160		/* samples per tick: 20 ms */
#define VM_TICK_MS	20
#define VM_MAX_LINES	16
#define VM_MAX_FAXM	4
#define VM_MAX_CALLS	16
#define VM_NUMBER_MAX	32

#define VM_MS_TO_TICKS(ms)	(((ms) + VM_TICK_MS - 1) / VM_TICK_MS)

/* Exchange settings (config file or command line). */
typedef struct vm_conf {
	int delay_ms;		/* one-way line delay */
	int noise_on;
	double noise_dbm0;	/* white noise level added to both directions */
	int drop_ms;		/* drop-out: this much silence ... */
	int drop_every_ms;	/* ... every this much connected time (0 = never) */
	int ring_ms;		/* ring cadence: one RING per period */
	int first_ring_ms;	/* from ATD to the first RING */
	int answer_timeout_ms;	/* no answer after this: caller gets no_answer_code */
	int no_answer_code;	/* AT_RESPONSE_CODE_NO_CARRIER or _NO_ANSWER */
	int busy_ms;		/* from ATD to BUSY / unknown-number NO CARRIER */
	int drain_ms;		/* extra time before the far end learns of a hang-up */
	int verbose;
	int seed;
} vm_conf;

extern vm_conf vm_cf;
extern int64_t vm_now;		/* ticks since start */

typedef enum { PARTY_LINE, PARTY_FAXM } vm_party_kind;

struct vm_call;

/* What the exchange knows of a subscriber. Embedded first in vm_line and vm_faxm. */
typedef struct vm_party {
	vm_party_kind kind;
	char number[VM_NUMBER_MAX];
	char name[64];		/* caller name (NAME=) */
	char label[64];		/* for logs and status */
	int offhook;		/* ATH1 or in a call: callers get BUSY */
	int down;		/* line cut (control "down"): no dial tone, callers get NO CARRIER */
	struct vm_call *call;
} vm_party;

/* A Class 1 modem on a pty. */
typedef struct vm_line {
	vm_party party;
	char link[PATH_MAX];	/* symlink to the pty slave */
	char pts[64];
	int master, slave;
	t31_state_t *t31;
	int hold;		/* CTS off: the modem's buffer is full, stop reading */
	uint8_t out[65536];	/* modem -> DTE bytes not yet written */
	size_t out_len;
	int64_t dropped;	/* bytes dropped because the DTE did not read */
	int watch;		/* inotify watch on the pty slave, -1 if none */
	int opens;		/* DTE open file descriptions (DTR) */
} vm_line;

/* One transfer the virtual fax machine did (received or sent). */
typedef struct vm_fax_record {
	int seq;
	int sent;		/* 1 = we sent, 0 = we received */
	char file[PATH_MAX];
	char peer[VM_NUMBER_MAX];
	int pages;
	int code;		/* T.30 completion code, T30_ERR_OK = 0 */
	int ecm, bit_rate, bad_rows;
	char remote_ident[24];
	char sub[24];		/* received: the caller's subaddress; sent: ours */
	const char *coding;	/* MH MR MMR */
	double secs;
} vm_fax_record;

#define VM_MAX_RECORDS	256

/* A virtual remote fax machine (spandsp T.30 endpoint). */
typedef struct vm_faxm {
	vm_party party;
	char dir[PATH_MAX - 64];	/* received faxes go here */
	char ident[24];		/* CSI/TSI */
	int ecm;		/* offer ECM when answering */
	int mh;			/* offer 1-D coding (MH) only when answering */
	int speed;		/* highest signalling rate offered: 14400 9600 4800 */
	int rings;		/* answer after this many rings */
	/* the transfer in progress */
	fax_state_t *fax;
	int calling;
	char tx_file[PATH_MAX];
	int tx_ecm;
	int tx_mh;		/* send with MH only */
	char tx_sub[24];	/* T.33 subaddress to send (SUB frame) */
	char rx_part[PATH_MAX], rx_file[PATH_MAX];
	int done;		/* phase E reached */
	int code;
	int64_t t_start;
	char peer[VM_NUMBER_MAX];	/* the other party's number */
	vm_fax_record rec[VM_MAX_RECORDS];
	int nrec, seq;
} vm_faxm;

enum { CALL_FREE, CALL_FAILING, CALL_RINGING, CALL_UP };

typedef struct vm_call {
	int state;
	int id;
	vm_party *side[2];	/* 0 = caller, 1 = callee */
	int gone[2];		/* this side hung up */
	int64_t start, up, due;	/* due: next ring, failure result, or clear */
	int fail_code;		/* CALL_FAILING: AT result to give the caller */
	int rings;
	int16_t *fifo[2];	/* delay line per direction (side i -> other) */
	size_t fifo_len, fifo_pos;
	awgn_state_t *noise[2];
	int64_t drop_next;
	int drop_left;		/* ticks of drop-out still to apply */
} vm_call;

/* vm_main.c */
void vm_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void vm_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
extern vm_line vm_lines[VM_MAX_LINES];
extern int vm_nlines;
extern vm_faxm vm_faxms[VM_MAX_FAXM];
extern int vm_nfaxm;

/* vm_line.c */
int line_open(vm_line *l);
void line_close(vm_line *l);
void line_flush(vm_line *l);
void line_read_dte(vm_line *l);
void line_event(vm_line *l, int at_call_event);
void line_result(vm_line *l, int at_response_code);
void line_alert(vm_line *l, vm_party *caller);
int line_tx(vm_line *l, int16_t *amp, int n);
void line_rx(vm_line *l, int16_t *amp, int n);
void line_dte_watch(vm_line *l, int ifd);
void line_dte_event(vm_line *l, uint32_t mask);
const char *line_state(const vm_line *l);

/* vm_faxm.c */
int faxm_call(vm_faxm *f, const char *target, const char *file, int ecm, int mh,
	      const char *sub, char *err, size_t errlen);
void faxm_alert(vm_faxm *f);
void faxm_connected(vm_faxm *f, int calling);
void faxm_far_hangup(vm_faxm *f);
void faxm_failed(vm_faxm *f, const char *why);
int faxm_tx(vm_faxm *f, int16_t *amp, int n);
void faxm_rx(vm_faxm *f, int16_t *amp, int n);
void faxm_tick(vm_faxm *f);
const char *faxm_state(const vm_faxm *f);

/* vm_call.c */
vm_party *call_lookup(const char *number);
int call_dial(vm_party *caller, const char *number);
int call_answer(vm_party *callee);
void call_hangup(vm_party *p);
void call_tick(void);
const char *call_state_name(int state);

/* vm_ctl.c */
int ctl_listen(const char *path);
void ctl_close(void);
int ctl_poll_fds(struct pollfd *pf, int max);
void ctl_service(struct pollfd *pf, int n);
void ctl_exec(const char *line, char *out, size_t outlen);

#endif
