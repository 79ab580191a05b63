/*
 * vm_line.c - one virtual Class 1 fax modem on a pty.
 *
 * Contract: line_open() creates a pty, keeps the slave open itself (so the master
 * never reads EIO while no DTE has the port open), makes the slave mode 0666 and
 * symlinks it to l->link, and puts a spandsp T.31 modem behind the master. Bytes the
 * DTE writes go to t31_at_rx() unless the modem has lowered CTS; what the modem says
 * is buffered in l->out and written when the pty has room (if the DTE never reads,
 * the oldest excess is dropped, as a real modem's UART would). Modem control requests
 * (dial, answer, hang up, off hook) go to the exchange (vm_call.c). When the DTE
 * closes its last descriptor of the port, that is DTR dropping: a connected call is
 * hung up, as a modem set to &D2 does.
 */
#include "vmodem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* The modem's AT responses and received data, towards the DTE. */
static int line_at_tx(at_state_t *s, void *user, const uint8_t *buf, size_t len)
{
	vm_line *l = user;
	size_t room = sizeof l->out - l->out_len;

	(void) s;
	if (len > room) {
		l->dropped += (int64_t) (len - room);
		len = room;
	}
	memcpy(l->out + l->out_len, buf, len);
	l->out_len += len;
	line_flush(l);
	return 0;
}

void line_flush(vm_line *l)
{
	while (l->out_len > 0) {
		ssize_t n = write(l->master, l->out, l->out_len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;			/* EAGAIN: the DTE is slow; poll for POLLOUT */
		}
		memmove(l->out, l->out + n, l->out_len - (size_t) n);
		l->out_len -= (size_t) n;
	}
}

/* Requests from the modem's AT interpreter. */
static int line_control(t31_state_t *t, void *user, int op, const char *num)
{
	vm_line *l = user;

	(void) t;
	switch (op) {
	case AT_MODEM_CONTROL_CALL:
		vm_log("%s: dial '%s'", l->party.label, num ? num : "");
		return call_dial(&l->party, num ? num : "");
	case AT_MODEM_CONTROL_ANSWER:
		vm_log("%s: answer", l->party.label);
		return call_answer(&l->party);
	case AT_MODEM_CONTROL_HANGUP:
	case AT_MODEM_CONTROL_ONHOOK:
		call_hangup(&l->party);
		l->party.offhook = l->party.call != NULL;
		break;
	case AT_MODEM_CONTROL_OFFHOOK:
		l->party.offhook = 1;
		break;
	case AT_MODEM_CONTROL_CTS:
		l->hold = ((intptr_t) num == 0);
		break;
	default:
		break;
	}
	return 0;
}

static int line_make_pty(vm_line *l)
{
	struct termios tio;
	const char *name;

	l->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (l->master < 0 || grantpt(l->master) < 0 || unlockpt(l->master) < 0)
		return -1;
	name = ptsname(l->master);
	if (name == NULL || snprintf(l->pts, sizeof l->pts, "%s", name) >= (int) sizeof l->pts)
		return -1;
	l->slave = open(l->pts, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (l->slave < 0)
		return -1;
	/* Test DTEs (efax, HylaFAX as uucp) run as other users. */
	if (fchmod(l->slave, 0666) < 0)
		return -1;
	if (tcgetattr(l->slave, &tio) == 0) {
		cfmakeraw(&tio);
		tcsetattr(l->slave, TCSANOW, &tio);
	}
	return fcntl(l->master, F_SETFL, fcntl(l->master, F_GETFL) | O_NONBLOCK);
}

static int line_make_link(vm_line *l)
{
	struct stat st;

	/* Replace a stale symlink from an earlier run, never a real file. */
	if (lstat(l->link, &st) == 0) {
		if (!S_ISLNK(st.st_mode)) {
			errno = EEXIST;
			return -1;
		}
		unlink(l->link);
	}
	return symlink(l->pts, l->link);
}

int line_open(vm_line *l)
{
	l->master = l->slave = -1;
	l->watch = -1;
	if (line_make_pty(l) < 0) {
		vm_log("%s: pty: %s", l->link, strerror(errno));
		return -1;
	}
	if (line_make_link(l) < 0) {
		vm_log("%s: symlink to %s: %s", l->link, l->pts, strerror(errno));
		return -1;
	}
	l->t31 = t31_init(NULL, line_at_tx, l, line_control, l, NULL, NULL);
	if (l->t31 == NULL) {
		vm_log("%s: t31_init failed", l->link);
		return -1;
	}
	t31_set_transmit_on_idle(l->t31, 1);
	if (vm_cf.verbose > 1) {
		logging_state_t *ls = t31_get_logging_state(l->t31);

		span_log_set_level(ls, SPAN_LOG_SHOW_SEVERITY | SPAN_LOG_SHOW_PROTOCOL
				   | SPAN_LOG_SHOW_TAG | SPAN_LOG_FLOW);
		span_log_set_tag(ls, l->party.label);
	}
	vm_log("%s: %s -> %s, number %s", l->party.label, l->link, l->pts, l->party.number);
	return 0;
}

void line_close(vm_line *l)
{
	struct stat st;

	if (lstat(l->link, &st) == 0 && S_ISLNK(st.st_mode))
		unlink(l->link);
	if (l->t31)
		t31_free(l->t31);
	l->t31 = NULL;
	if (l->master >= 0)
		close(l->master);
	if (l->slave >= 0)
		close(l->slave);
	l->master = l->slave = -1;
}

void line_read_dte(vm_line *l)
{
	char buf[256];
	ssize_t n;

	/* Small reads, so that a CTS drop takes effect between them. */
	while (!l->hold && (n = read(l->master, buf, sizeof buf)) > 0)
		t31_at_rx(l->t31, buf, (int) n);
}

void line_event(vm_line *l, int at_call_event)
{
	t31_call_event(l->t31, at_call_event);
}

/* A final result the spandsp call events do not produce in on-hook command state
 * (e.g. NO CARRIER for a number that does not exist). */
void line_result(vm_line *l, int code)
{
	at_state_t *at = &l->t31->at_state;

	at_set_at_rx_mode(at, AT_MODE_ONHOOK_COMMAND);
	at_put_response_code(at, code);
}

/* RING; before the first one the caller ID as a modem with AT+VCID=1 shows it. */
void line_alert(vm_line *l, vm_party *caller)
{
	at_state_t *at = &l->t31->at_state;
	vm_call *c = l->party.call;

	if (c && c->rings == 1) {
		char date[8], hhmm[8];
		time_t now = time(NULL);
		struct tm tm;

		localtime_r(&now, &tm);
		strftime(date, sizeof date, "%m%d", &tm);
		strftime(hhmm, sizeof hhmm, "%H%M", &tm);
		at_reset_call_info(at);
		at_set_call_info(at, "DATE", date);
		at_set_call_info(at, "TIME", hhmm);
		at_set_call_info(at, "NMBR", caller->number[0] ? caller->number : "P");
		if (caller->name[0])
			at_set_call_info(at, "NAME", caller->name);
		at_set_call_info(at, "NDID", l->party.number);
	}
	t31_call_event(l->t31, AT_CALL_EVENT_ALERTING);
}

int line_tx(vm_line *l, int16_t *amp, int n)
{
	int got = t31_tx(l->t31, amp, n);

	if (got < n)
		memset(amp + got, 0, (size_t) (n - got) * sizeof *amp);
	return n;
}

void line_rx(vm_line *l, int16_t *amp, int n)
{
	t31_rx(l->t31, amp, n);
}

/* Count the DTE's opens and closes of the slave, to see DTR drop at the last close. */
void line_dte_watch(vm_line *l, int ifd)
{
	if (ifd < 0)
		return;
	l->watch = inotify_add_watch(ifd, l->pts, IN_OPEN | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE);
	if (l->watch < 0)
		vm_log("%s: inotify on %s: %s (no DTR drop detection)", l->party.label,
		       l->pts, strerror(errno));
}

void line_dte_event(vm_line *l, uint32_t mask)
{
	if (mask & IN_OPEN)
		l->opens++;
	if (mask & (IN_CLOSE_WRITE | IN_CLOSE_NOWRITE)) {
		if (l->opens > 0)
			l->opens--;
		if (l->opens == 0) {
			vm_call *c = l->party.call;

			vm_debug("%s: DTE closed the port (DTR off)", l->party.label);
			/* &D2: on hook. A call being dialled is abandoned; a call ringing
			 * here rings on (nobody has answered it yet). */
			if (c && (c->state == CALL_UP || c->side[0] == &l->party)) {
				vm_log("%s: DTR dropped: hanging up", l->party.label);
				if (c->state == CALL_UP)
					t31_call_event(l->t31, AT_CALL_EVENT_HANGUP);
				call_hangup(&l->party);
			}
			l->party.offhook = l->party.call != NULL;
		}
	}
}

const char *line_state(const vm_line *l)
{
	if (l->party.call)
		return call_state_name(l->party.call->state);
	return l->party.offhook ? "offhook" : "onhook";
}
