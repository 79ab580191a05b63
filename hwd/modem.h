/*
 * modem.h - one modem line owned by hwd: tty, UUCP lock, AT commands, hang-up.
 *
 * Contract: modem_open() takes the UUCP lock (LCK..NAME in the lock directory, HDB
 * format, stale locks of dead processes removed), opens the tty without becoming its
 * controlling terminal, sets raw 8N1 at the configured speed with the configured flow
 * control and HUPCL, and runs the reset, init, caller-ID and class commands; any
 * command that does not end in OK fails the open (modem closed, lock released).
 * modem_command() sends one command and waits, bounded by the timeout, for its final
 * result; unsolicited lines (RING, caller ID) seen meanwhile are kept for the watcher.
 * modem_hangup() drops DTR for 0.5 s (where the tty has modem lines; a pty has none),
 * sends ATH0 and re-initialises. The fd is the one handed to faxd: hwd never reads it
 * while the line is leased.
 */
#ifndef FAXPOST_HWD_MODEM_H
#define FAXPOST_HWD_MODEM_H

#include <limits.h>
#include <time.h>

#include "atparse.h"

typedef enum { MODEM_CLOSED, MODEM_IDLE, MODEM_RINGING, MODEM_LEASED } modem_state;

typedef struct modem_conf {
	int speed;
	int flow;		/* 0 none, 1 rtscts, 2 xonxoff */
	char lock_dir[PATH_MAX];
	char reset_cmd[64];
	char init_cmd[256];
	char cid_cmd[64];
	char class_cmd[64];
	int timeout_ms;
} modem_conf;

typedef struct modem {
	char dev[PATH_MAX];
	char name[64];		/* base name of dev, for logs and the lock file */
	char number[32];	/* our number on this line (+E.164) */
	int fd;
	char lock_path[PATH_MAX];
	modem_state state;
	at_reader rd;
	int rings;
	time_t last_ring;
	char caller_id[64], caller_name[64], did[64];
	int lease;		/* IPC connection holding the line, -1 if none */
	time_t retry_at;	/* when to try opening a closed line again */
} modem;

int modem_open(modem *m, const modem_conf *cf, char *err, size_t errlen);
void modem_close(modem *m);
/* One AT command ("ATZ"); res gets the final result. -1 on timeout or I/O error. */
int modem_command(modem *m, const modem_conf *cf, const char *cmd, at_result *res,
		  char *err, size_t errlen);
/* Reset + init + caller ID + class commands (each ;-separated part is a command). */
int modem_init(modem *m, const modem_conf *cf, char *err, size_t errlen);
int modem_hangup(modem *m, const modem_conf *cf, char *err, size_t errlen);
/* Raw line setup again (after faxd had the fd): termios and O_NONBLOCK. */
int modem_termios(modem *m, const modem_conf *cf);
void modem_forget_call(modem *m);

#endif
