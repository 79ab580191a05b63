/*
 * class1.h - the Class 1 (ITU-T T.31) fax modem driver of faxd.
 *
 * Contract: a modem is a tty fd (from hwd, or opened in the CLI test modes). Every
 * operation has a time limit and returns a CLASS1_* result; nothing blocks forever,
 * and a modem that stops answering gives CLASS1_DEAD (the caller hangs up and closes).
 * Data to the modem is DLE-stuffed and ends with <DLE><ETX>; data from it is
 * unstuffed up to <DLE><ETX>. HDLC frames received (+FRH) come with their two FCS
 * bytes, which are dropped; "ERROR" after a frame means a bad FCS. After ATD the modem
 * is already receiving V.21 (+FRH=3 implied) and after ATA it is already transmitting
 * (+FTH=3 implied): the driver does not issue those first commands.
 * class1_perform() carries out one T.30 engine action and fills the engine event.
 */
#ifndef FAXPOST_FAXD_CLASS1_H
#define FAXPOST_FAXD_CLASS1_H

#include <stddef.h>

#include "hdlc.h"
#include "t30.h"

enum {
	CLASS1_OK = 0,
	CLASS1_CONNECT,
	CLASS1_BUSY,
	CLASS1_NO_ANSWER,
	CLASS1_NO_CARRIER,
	CLASS1_NO_DIALTONE,
	CLASS1_ERROR,
	CLASS1_FCERROR,
	CLASS1_TIMEOUT,
	CLASS1_DEAD		/* the tty failed or the modem stopped answering */
};

typedef struct class1 {
	int fd;
	unsigned char rbuf[8192];
	size_t rpos, rlen;
	int tx_implied;		/* after ATA: the first +FTH=3 is implied */
	int rx_implied;		/* after ATD: the first +FRH=3 is implied */
	char did[32];		/* NDID from the RING lines */
	char cid[32];		/* NMBR */
	long long bytes_tx, bytes_rx;
	void (*trace)(void *ctx, const char *line);
	void *trace_ctx;
	/* storage for the event of class1_perform() */
	t30_frame frames[300];
	buf data;
} class1;

const char *class1_result_name(int r);
long long class1_now_ms(void);

/* Take a tty as it is, sending nothing (a line hwd has already answered). */
void class1_attach(class1 *m, int fd);
/* After someone else's ATA: wait for CONNECT (the first +FTH=3 is then implied). */
int class1_wait_connect(class1 *m, int timeout_ms);
/* Set up the tty (raw, 8N1, no echo) and the modem (ATE0V1, AT+FCLASS=1). */
int class1_init(class1 *m, int fd);
void class1_release(class1 *m);
/* Send a command line, return the final result (OK ERROR CONNECT ...). */
int class1_command(class1 *m, const char *cmd, int timeout_ms);
/* ATD: CLASS1_CONNECT (a fax answered), BUSY, NO_ANSWER, NO_CARRIER, ... */
int class1_dial(class1 *m, const char *number, int timeout_ms);
/* Wait up to timeout_ms for RING, answer with ATA: CLASS1_CONNECT or a failure. */
int class1_answer(class1 *m, int timeout_ms, int rings);
int class1_hangup(class1 *m);

/* One engine action: fills *ev (frames and data point into m). Returns CLASS1_OK or
 * CLASS1_DEAD (the call must end: ev is then T30_EV_HANGUP). */
int class1_perform(class1 *m, const t30_action *a, t30_event *ev);

#endif
