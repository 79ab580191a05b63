/*
 * modem.c - tty, UUCP lock and AT command handling of one modem line (see modem.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "modem.h"
#include "util/msg.h"

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static speed_t speed_code(int speed)
{
	switch (speed) {
	case 9600: return B9600;
	case 19200: return B19200;
	case 38400: return B38400;
	case 57600: return B57600;
	case 230400: return B230400;
	default: return B115200;
	}
}

/* HDB UUCP lock: the pid as 10 ASCII digits and a newline. A lock whose process is
 * gone is stale and removed. */
static int lock_take(modem *m, const modem_conf *cf, char *err, size_t errlen)
{
	char tmp[PATH_MAX], text[16];
	int fd, n;

	m->lock_path[0] = 0;
	if (cf->lock_dir[0] == 0)
		return 0;
	if (snprintf(m->lock_path, sizeof m->lock_path, "%s/LCK..%s", cf->lock_dir, m->name)
	    >= (int) sizeof m->lock_path
	    || snprintf(tmp, sizeof tmp, "%s/.LTMP.%d", cf->lock_dir, (int) getpid())
	       >= (int) sizeof tmp) {
		snprintf(err, errlen, "lock path too long");
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "lock %s: %s", tmp, strerror(errno));
		return -1;
	}
	n = snprintf(text, sizeof text, "%10d\n", (int) getpid());
	if (write(fd, text, (size_t) n) != n) {
		close(fd);
		unlink(tmp);
		snprintf(err, errlen, "lock %s: write failed", tmp);
		return -1;
	}
	close(fd);
	for (int tries = 0; tries < 2; tries++) {
		char old[32];
		ssize_t r;
		long pid;

		if (link(tmp, m->lock_path) == 0) {
			unlink(tmp);
			return 0;
		}
		fd = open(m->lock_path, O_RDONLY | O_CLOEXEC);
		r = fd >= 0 ? read(fd, old, sizeof old - 1) : -1;
		if (fd >= 0)
			close(fd);
		old[r > 0 ? r : 0] = 0;
		pid = strtol(old, NULL, 10);
		if (pid > 0 && (kill((pid_t) pid, 0) == 0 || errno == EPERM)) {
			unlink(tmp);
			snprintf(err, errlen, "%s is locked by pid %ld", m->dev, pid);
			m->lock_path[0] = 0;
			return -1;
		}
		msg_info("%s: removing stale lock %s (pid %ld)", m->name, m->lock_path, pid);
		unlink(m->lock_path);
	}
	unlink(tmp);
	snprintf(err, errlen, "cannot lock %s", m->dev);
	m->lock_path[0] = 0;
	return -1;
}

static void lock_release(modem *m)
{
	if (m->lock_path[0])
		unlink(m->lock_path);
	m->lock_path[0] = 0;
}

int modem_termios(modem *m, const modem_conf *cf)
{
	struct termios t;

	if (tcgetattr(m->fd, &t) < 0)
		return -1;
	cfmakeraw(&t);
	t.c_cflag |= CS8 | CREAD | CLOCAL | HUPCL;
	t.c_cflag &= ~(tcflag_t) CRTSCTS;
	t.c_iflag &= ~(tcflag_t) (IXON | IXOFF | IXANY);
	if (cf->flow == 1)
		t.c_cflag |= CRTSCTS;
	else if (cf->flow == 2)
		t.c_iflag |= IXON | IXOFF;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	cfsetispeed(&t, speed_code(cf->speed));
	cfsetospeed(&t, speed_code(cf->speed));
	if (tcsetattr(m->fd, TCSANOW, &t) < 0)
		return -1;
	return fcntl(m->fd, F_SETFL, fcntl(m->fd, F_GETFL) | O_NONBLOCK);
}

int modem_open(modem *m, const modem_conf *cf, char *err, size_t errlen)
{
	if (lock_take(m, cf, err, errlen) < 0)
		return -1;
	m->fd = open(m->dev, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (m->fd < 0) {
		snprintf(err, errlen, "open %s: %s", m->dev, strerror(errno));
		lock_release(m);
		return -1;
	}
	if (modem_termios(m, cf) < 0) {
		snprintf(err, errlen, "%s: termios: %s", m->dev, strerror(errno));
		modem_close(m);
		return -1;
	}
	at_reader_init(&m->rd);
	if (modem_init(m, cf, err, errlen) < 0) {
		modem_close(m);
		return -1;
	}
	m->state = MODEM_IDLE;
	m->lease = -1;
	modem_forget_call(m);
	return 0;
}

void modem_close(modem *m)
{
	if (m->fd >= 0)
		close(m->fd);
	m->fd = -1;
	lock_release(m);
	m->state = MODEM_CLOSED;
}

void modem_forget_call(modem *m)
{
	m->rings = 0;
	m->caller_id[0] = m->caller_name[0] = m->did[0] = 0;
}

static int write_all(int fd, const char *p, size_t n, int64_t deadline)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			struct pollfd pf = { .fd = fd, .events = POLLOUT };

			if (errno != EAGAIN && errno != EINTR)
				return -1;
			if (mono_ms() >= deadline)
				return -1;
			poll(&pf, 1, 50);
			continue;
		}
		p += w;
		n -= (size_t) w;
	}
	return 0;
}

/* Note caller-ID lines and RINGs that arrive while a command runs. */
static void note_unsolicited(modem *m, at_result r, const char *line)
{
	char key[8], val[64];

	if (r == AT_RING) {
		m->rings++;
		m->last_ring = time(NULL);
	} else if (r == AT_CALLINFO && at_callinfo(line, key, sizeof key, val, sizeof val) == 0) {
		if (strcmp(key, "NMBR") == 0)
			snprintf(m->caller_id, sizeof m->caller_id, "%s", val);
		else if (strcmp(key, "NAME") == 0)
			snprintf(m->caller_name, sizeof m->caller_name, "%s", val);
		else if (strcmp(key, "NDID") == 0 || strcmp(key, "DDI") == 0)
			snprintf(m->did, sizeof m->did, "%s", val);
	}
}

int modem_command(modem *m, const modem_conf *cf, const char *cmd, at_result *res,
		  char *err, size_t errlen)
{
	int64_t deadline = mono_ms() + cf->timeout_ms;
	char line[300];
	int n = snprintf(line, sizeof line, "%s\r", cmd);

	*res = AT_NONE;
	if (n < 0 || (size_t) n >= sizeof line) {
		snprintf(err, errlen, "command too long");
		return -1;
	}
	if (msg_verbose)
		msg_info("%s: <- %s", m->name, cmd);
	if (write_all(m->fd, line, (size_t) n, deadline) < 0) {
		snprintf(err, errlen, "%s: write: %s", m->name, strerror(errno));
		return -1;
	}
	for (;;) {
		char buf[256];
		ssize_t r = read(m->fd, buf, sizeof buf);
		struct pollfd pf = { .fd = m->fd, .events = POLLIN };
		int64_t left;

		if (r > 0) {
			size_t off = 0;

			while (off < (size_t) r) {
				int got;
				at_result ar;

				off += at_reader_feed(&m->rd, buf + off, (size_t) r - off, &got);
				if (!got || strcmp(m->rd.line, cmd) == 0)	/* echo */
					continue;
				ar = at_classify(m->rd.line);
				if (msg_verbose)
					msg_info("%s: -> %s", m->name, m->rd.line);
				note_unsolicited(m, ar, m->rd.line);
				if (at_is_final(ar)) {
					*res = ar;
					return 0;
				}
			}
			continue;
		}
		if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
			snprintf(err, errlen, "%s: read: %s", m->name, r == 0 ? "EOF" : strerror(errno));
			return -1;
		}
		left = deadline - mono_ms();
		if (left <= 0) {
			snprintf(err, errlen, "%s: no reply to %s", m->name, cmd);
			return -1;
		}
		poll(&pf, 1, (int) left);
	}
}

/* Each ;-separated part of cmds must end in OK. */
static int command_list(modem *m, const modem_conf *cf, const char *cmds, char *err,
			size_t errlen)
{
	char copy[256], *save = NULL;

	if (snprintf(copy, sizeof copy, "%s", cmds) >= (int) sizeof copy) {
		snprintf(err, errlen, "command list too long");
		return -1;
	}
	for (char *c = strtok_r(copy, ";", &save); c; c = strtok_r(NULL, ";", &save)) {
		at_result res;

		while (*c == ' ')
			c++;
		if (*c == 0)
			continue;
		if (modem_command(m, cf, c, &res, err, errlen) < 0)
			return -1;
		if (res != AT_OK) {
			snprintf(err, errlen, "%s: %s -> %s", m->name, c, at_result_name(res));
			return -1;
		}
	}
	return 0;
}

int modem_init(modem *m, const modem_conf *cf, char *err, size_t errlen)
{
	if (command_list(m, cf, cf->reset_cmd, err, errlen) < 0
	    || command_list(m, cf, cf->init_cmd, err, errlen) < 0
	    || command_list(m, cf, cf->cid_cmd, err, errlen) < 0
	    || command_list(m, cf, cf->class_cmd, err, errlen) < 0)
		return -1;
	return 0;
}

int modem_hangup(modem *m, const modem_conf *cf, char *err, size_t errlen)
{
	int dtr = TIOCM_DTR;
	at_result res;

	modem_termios(m, cf);
	/* DTR drop: the modem goes on hook whatever state it is in (&D2). */
	if (ioctl(m->fd, TIOCMBIC, &dtr) == 0) {
		usleep(500000);
		ioctl(m->fd, TIOCMBIS, &dtr);
	}
	tcflush(m->fd, TCIOFLUSH);
	at_reader_init(&m->rd);
	/* A CR first ends whatever the modem was doing (a receive is aborted by any
	 * character); its answer is thrown away, then on hook. */
	if (write(m->fd, "\r", 1) == 1)
		usleep(200000);
	tcflush(m->fd, TCIFLUSH);
	if (modem_command(m, cf, "ATH0", &res, err, errlen) < 0)
		return -1;
	modem_forget_call(m);
	return modem_init(m, cf, err, errlen);
}
