/*
 * class1.c - the Class 1 (T.31) modem driver: AT commands, DLE framing, time limits.
 *
 * Contract: see class1.h. Every wait has a deadline on CLOCK_MONOTONIC; a receive that
 * runs out of time is aborted by sending one character (T.31: any character from the
 * DTE ends +FRH/+FRM), and a modem that does not answer the abort within 2 s is dead.
 * Result codes are read line by line; lines that are not final results (RING, NMBR=,
 * NDID=, echoes) are skipped, and caller-ID/DID lines are remembered for routing.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "class1.h"
#include "util/msg.h"

#define DLE 0x10
#define ETX 0x03
#define SUB 0x1A

enum { GOT_TIMEOUT = -1, GOT_DEAD = -2 };

long long class1_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *class1_result_name(int r)
{
	static const char *names[] = { "OK", "CONNECT", "BUSY", "NO ANSWER", "NO CARRIER",
				       "NO DIALTONE", "ERROR", "+FCERROR", "timeout", "modem dead" };
	return r >= 0 && r <= CLASS1_DEAD ? names[r] : "?";
}

static void trace(class1 *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void trace(class1 *m, const char *fmt, ...)
{
	if (!m->trace)
		return;
	char line[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	m->trace(m->trace_ctx, line);
}

/* One byte from the modem, or GOT_TIMEOUT / GOT_DEAD. */
static int rd_byte(class1 *m, long long deadline)
{
	while (m->rpos >= m->rlen) {
		long long left = deadline - class1_now_ms();
		if (left <= 0)
			return GOT_TIMEOUT;
		struct pollfd p = { m->fd, POLLIN, 0 };
		int n = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
		if (n < 0 && errno != EINTR)
			return GOT_DEAD;
		if (n <= 0)
			continue;
		ssize_t r = read(m->fd, m->rbuf, sizeof(m->rbuf));
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
			return GOT_DEAD;
		if (r < 0)
			continue;
		m->rpos = 0;
		m->rlen = (size_t)r;
		m->bytes_rx += r;
	}
	return m->rbuf[m->rpos++];
}

static int write_all(class1 *m, const void *p, size_t n, long long deadline)
{
	const unsigned char *s = p;
	while (n > 0) {
		long long left = deadline - class1_now_ms();
		if (left <= 0)
			return GOT_TIMEOUT;
		struct pollfd pf = { m->fd, POLLOUT, 0 };
		int k = poll(&pf, 1, (int)(left > 1000 ? 1000 : left));
		if (k < 0 && errno != EINTR)
			return GOT_DEAD;
		if (k <= 0)
			continue;
		ssize_t w = write(m->fd, s, n);
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return GOT_DEAD;
		if (w > 0) {
			s += w;
			n -= (size_t)w;
			m->bytes_tx += w;
		}
	}
	return 0;
}

/* Write data DLE-stuffed, then DLE ETX. */
static int write_stuffed(class1 *m, const uint8_t *p, size_t n, long long deadline)
{
	uint8_t chunk[4096];
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		chunk[k++] = p[i];
		if (p[i] == DLE)
			chunk[k++] = DLE;
		if (k >= sizeof(chunk) - 2) {
			int rc = write_all(m, chunk, k, deadline);
			if (rc < 0)
				return rc;
			k = 0;
		}
	}
	chunk[k++] = DLE;
	chunk[k++] = ETX;
	return write_all(m, chunk, k, deadline);
}

static int result_code(const char *line)
{
	static const struct { const char *s; int r; } tab[] = {
		{ "OK", CLASS1_OK }, { "CONNECT", CLASS1_CONNECT }, { "BUSY", CLASS1_BUSY },
		{ "NO ANSWER", CLASS1_NO_ANSWER }, { "NO CARRIER", CLASS1_NO_CARRIER },
		{ "NO DIALTONE", CLASS1_NO_DIALTONE }, { "NO DIAL TONE", CLASS1_NO_DIALTONE },
		{ "ERROR", CLASS1_ERROR }, { "+FCERROR", CLASS1_FCERROR },
		{ "+FRH:3", CLASS1_FCERROR },
	};
	for (size_t i = 0; i < sizeof(tab) / sizeof(tab[0]); i++)
		if (strcmp(line, tab[i].s) == 0 ||
		    (tab[i].r == CLASS1_CONNECT && strncmp(line, "CONNECT ", 8) == 0))
			return tab[i].r;
	return -1;
}

static void note_call_info(class1 *m, const char *line)
{
	const char *v;
	char *dst = NULL;
	if (strncmp(line, "NDID", 4) == 0 || strncmp(line, "DID", 3) == 0)
		dst = m->did;
	else if (strncmp(line, "NMBR", 4) == 0)
		dst = m->cid;
	if (!dst || !(v = strchr(line, '=')))
		return;
	v++;
	while (*v == ' ')
		v++;
	size_t o = 0;
	for (; *v && o < sizeof(m->did) - 1; v++)
		if ((*v >= '0' && *v <= '9') || *v == '+' || *v == '*' || *v == '#')
			dst[o++] = *v;
	dst[o] = '\0';
}

/* Read one non-empty line into out. Returns its length, GOT_TIMEOUT or GOT_DEAD. */
static int read_line(class1 *m, char *out, size_t size, long long deadline)
{
	size_t n = 0;
	for (;;) {
		int c = rd_byte(m, deadline);
		if (c < 0)
			return c;
		if (c == '\r' || c == '\n') {
			if (n == 0)
				continue;
			out[n] = '\0';
			return (int)n;
		}
		if (n < size - 1 && c >= 0x20 && c < 0x7f)
			out[n++] = (char)c;
	}
}

/* Wait for a final result code. */
static int wait_result(class1 *m, long long deadline)
{
	char line[128];
	for (;;) {
		int n = read_line(m, line, sizeof(line), deadline);
		if (n == GOT_TIMEOUT)
			return CLASS1_TIMEOUT;
		if (n == GOT_DEAD)
			return CLASS1_DEAD;
		int r = result_code(line);
		trace(m, "<-- %s", line);
		if (r == CLASS1_CONNECT) {
			/* "CONNECT\r\n": the LF is not data */
			int c = rd_byte(m, class1_now_ms() + 200);
			if (c >= 0 && c != '\n')
				m->rpos--;
		}
		if (r >= 0)
			return r;
		note_call_info(m, line);
	}
}

static int send_line(class1 *m, const char *cmd, long long deadline)
{
	char line[128];
	int n = snprintf(line, sizeof(line), "%s\r", cmd);
	if (n < 0 || (size_t)n >= sizeof(line))
		return CLASS1_ERROR;
	trace(m, "--> %s", cmd);
	int rc = write_all(m, line, (size_t)n, deadline);
	return rc == GOT_DEAD ? CLASS1_DEAD : rc == GOT_TIMEOUT ? CLASS1_TIMEOUT : CLASS1_OK;
}

int class1_command(class1 *m, const char *cmd, int timeout_ms)
{
	long long deadline = class1_now_ms() + timeout_ms;
	int rc = send_line(m, cmd, deadline);
	if (rc != CLASS1_OK)
		return rc;
	return wait_result(m, deadline);
}

/* Abort a pending receive with one character and collect the modem's answer. The
 * stream may still hold data bytes before the result, so it is scanned line by line
 * for a result code (data is never a whole "OK" line between CR/LFs in practice). */
static int abort_receive(class1 *m)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		long long deadline = class1_now_ms() + 3000;
		trace(m, "--> (abort)");
		if (write_all(m, "\r", 1, deadline) < 0)
			return CLASS1_DEAD;
		char line[64];
		size_t n = 0;
		for (;;) {
			int c = rd_byte(m, deadline);
			if (c == GOT_DEAD)
				return CLASS1_DEAD;
			if (c == GOT_TIMEOUT)
				break;
			if (c == '\r' || c == '\n') {
				line[n] = '\0';
				int r = n ? result_code(line) : -1;
				if (r == CLASS1_OK || r == CLASS1_NO_CARRIER || r == CLASS1_ERROR) {
					trace(m, "<-- %s", line);
					return CLASS1_OK;
				}
				n = 0;
			} else if (n < sizeof(line) - 1) {
				line[n++] = (char)c;
			} else {
				n = 0;	/* a long run of data: not a result line */
			}
		}
	}
	/* Nothing came back: the receive may have ended by itself and the modem sits in
	 * command mode, where a lone CR is silently ignored. Is it alive? */
	return class1_command(m, "AT", 3000) == CLASS1_OK ? CLASS1_OK : CLASS1_DEAD;
}

void class1_attach(class1 *m, int fd)
{
	memset(m, 0, sizeof(*m));
	m->fd = fd;
	buf_init(&m->data, 64u * 1024 * 1024);
}

int class1_wait_connect(class1 *m, int timeout_ms)
{
	int rc = wait_result(m, class1_now_ms() + timeout_ms);
	if (rc == CLASS1_CONNECT)
		m->tx_implied = 1;
	return rc;
}

int class1_init(class1 *m, int fd)
{
	class1_attach(m, fd);
	struct termios t;
	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		t.c_cflag |= CLOCAL | CREAD;
		t.c_cc[VMIN] = 1;
		t.c_cc[VTIME] = 0;
		cfsetspeed(&t, B115200);
		tcsetattr(fd, TCSANOW, &t);
		tcflush(fd, TCIOFLUSH);	/* stale results of an earlier user */
	}
	int rc = class1_command(m, "ATE0V1Q0", 3000);
	if (rc != CLASS1_OK)
		rc = class1_command(m, "ATE0V1Q0", 3000);	/* first may meet line noise */
	/* S0=0: an earlier user (efax -iS0=1) may have left auto-answer on; faxd answers
	 * itself after fax_answer_rings */
	if (rc == CLASS1_OK)
		rc = class1_command(m, "ATS0=0", 3000);
	if (rc != CLASS1_OK)
		return rc;
	return class1_command(m, "AT+FCLASS=1", 3000);
}

void class1_release(class1 *m)
{
	buf_free(&m->data);
}

int class1_dial(class1 *m, const char *number, int timeout_ms)
{
	char cmd[80];
	if (snprintf(cmd, sizeof(cmd), "ATD%s", number) >= (int)sizeof(cmd))
		return CLASS1_ERROR;
	long long deadline = class1_now_ms() + timeout_ms;
	int rc = send_line(m, cmd, deadline);
	if (rc != CLASS1_OK)
		return rc;
	rc = wait_result(m, deadline);
	if (rc == CLASS1_TIMEOUT) {
		abort_receive(m);
		return CLASS1_NO_ANSWER;
	}
	if (rc == CLASS1_CONNECT)
		m->rx_implied = 1;
	return rc;
}

int class1_answer(class1 *m, int timeout_ms, int rings)
{
	long long deadline = class1_now_ms() + timeout_ms;
	char line[128];
	int seen = 0;
	while (seen < rings) {
		int n = read_line(m, line, sizeof(line), deadline);
		if (n == GOT_TIMEOUT)
			return CLASS1_TIMEOUT;
		if (n == GOT_DEAD)
			return CLASS1_DEAD;
		trace(m, "<-- %s", line);
		if (strcmp(line, "RING") == 0)
			seen++;
		else if (result_code(line) == CLASS1_CONNECT) {
			m->tx_implied = 1;	/* the modem answered by itself */
			return CLASS1_CONNECT;
		} else
			note_call_info(m, line);
	}
	int rc = class1_command(m, "ATA", 40000);
	if (rc == CLASS1_CONNECT)
		m->tx_implied = 1;
	return rc;
}

int class1_hangup(class1 *m)
{
	m->tx_implied = m->rx_implied = 0;
	int rc = class1_command(m, "ATH0", 5000);
	if (rc != CLASS1_OK && rc != CLASS1_DEAD) {
		abort_receive(m);
		rc = class1_command(m, "ATH0", 5000);
	}
	return rc;
}

/* Read DLE-framed data up to DLE ETX; each byte goes to sink. */
static int read_data(class1 *m, long long deadline, int idle_ms,
		     void (*sink)(void *, const uint8_t *, size_t), void *ctx)
{
	uint8_t chunk[1024];
	size_t k = 0;
	int dle = 0;
	for (;;) {
		long long idle_end = class1_now_ms() + idle_ms;
		int c = rd_byte(m, idle_end < deadline ? idle_end : deadline);
		if (c < 0) {
			if (k)
				sink(ctx, chunk, k);
			return c;
		}
		if (dle) {
			dle = 0;
			if (c == ETX)
				break;
			if (c == DLE)
				chunk[k++] = DLE;
			else if (c == SUB) {
				chunk[k++] = DLE;
				chunk[k++] = DLE;
			}
		} else if (c == DLE) {
			dle = 1;
		} else {
			chunk[k++] = (uint8_t)c;
		}
		if (k >= sizeof(chunk) - 2) {
			sink(ctx, chunk, k);
			k = 0;
		}
	}
	if (k)
		sink(ctx, chunk, k);
	return 0;
}

static void sink_buf(void *ctx, const uint8_t *p, size_t n)
{
	buf_append((buf *)ctx, p, n);
}

typedef struct ecm_sink {
	class1 *m;
	size_t n;
	hdlc_rx h;
} ecm_sink;

static void ecm_frame(void *ctx, const uint8_t *p, size_t len)
{
	ecm_sink *e = ctx;
	if (e->n >= sizeof(e->m->frames) / sizeof(e->m->frames[0]) || len > T30_MAX_FRAME)
		return;
	memcpy(e->m->frames[e->n].b, p, len);
	e->m->frames[e->n++].len = len;
}

static void sink_ecm(void *ctx, const uint8_t *p, size_t n)
{
	hdlc_rx_put(&((ecm_sink *)ctx)->h, p, n);
}

static int fts(class1 *m, int silence_ms)
{
	if (silence_ms <= 0)
		return CLASS1_OK;
	char cmd[32];
	snprintf(cmd, sizeof(cmd), "AT+FTS=%d", (silence_ms + 9) / 10);
	return class1_command(m, cmd, 3000);
}

static int do_tx_hdlc(class1 *m, const t30_action *a)
{
	int rc;
	if (!m->tx_implied) {
		if ((rc = fts(m, a->silence_ms)) != CLASS1_OK)
			return rc;
		if ((rc = class1_command(m, "AT+FTH=3", 5000)) != CLASS1_CONNECT)
			return rc == CLASS1_OK ? CLASS1_ERROR : rc;
	}
	m->tx_implied = 0;
	for (size_t i = 0; i < a->nframes; i++) {
		const t30_frame *f = &a->frames[i];
		long long deadline = class1_now_ms() + 5000 + (long long)f->len * 8 * 1000 / 300;
		trace(m, "--> frame %s (%zu bytes)", t30_fcf_name(f->b[2]), f->len);
		if (write_stuffed(m, f->b, f->len, deadline) < 0)
			return CLASS1_DEAD;
		rc = wait_result(m, deadline + 1000);
		int want = (i + 1 == a->nframes) ? CLASS1_OK : CLASS1_CONNECT;
		if (rc != want)
			return rc == CLASS1_OK || rc == CLASS1_CONNECT ? CLASS1_ERROR : rc;
	}
	return CLASS1_OK;
}

static int do_tx_data(class1 *m, const t30_action *a)
{
	int rc;
	char cmd[32];
	if ((rc = fts(m, a->silence_ms)) != CLASS1_OK)
		return rc;
	snprintf(cmd, sizeof(cmd), "AT+FTM=%d", a->mod);
	if ((rc = class1_command(m, cmd, 5000)) != CLASS1_CONNECT)
		return rc == CLASS1_OK ? CLASS1_ERROR : rc;
	const uint8_t *p = a->data;
	size_t n = a->len;
	buf enc;
	buf_init(&enc, 0);
	if (a->hdlc) {
		/* ECM: frames in software, with about 200 ms of flags first */
		if (hdlc_encode(a->frames, a->nframes, 200 * 14400 / 8000 / 8 + 10, &enc) < 0) {
			buf_free(&enc);
			return CLASS1_ERROR;
		}
		p = (const uint8_t *)enc.data;
		n = enc.len;
	}
	int bps = 2400;
	for (int i = 0; i < t30_nrates; i++)
		if (t30_rates[i].cls1_long == a->mod || t30_rates[i].cls1_short == a->mod)
			bps = t30_rates[i].bps;
	long long deadline = class1_now_ms() + 20000 + (long long)n * 8 * 1000 / bps;
	trace(m, "--> %zu bytes of %s", n, a->hdlc ? "ECM frames" : "data");
	int w = write_stuffed(m, p, n, deadline);
	buf_free(&enc);
	if (w < 0)
		return w == GOT_DEAD ? CLASS1_DEAD : CLASS1_TIMEOUT;
	rc = wait_result(m, deadline);
	return rc == CLASS1_OK ? CLASS1_OK : rc;
}

/* One V.21 frame after +FRH=3 (or the implied one). */
static int rx_one_frame(class1 *m, long long deadline, t30_frame *f, int *bad)
{
	int rc = CLASS1_CONNECT;
	if (!m->rx_implied) {	/* after ATD the CONNECT has come already */
		rc = send_line(m, "AT+FRH=3", deadline);
		if (rc != CLASS1_OK)
			return rc;
		rc = wait_result(m, deadline);
	}
	m->rx_implied = 0;
	if (rc == CLASS1_TIMEOUT) {
		if (abort_receive(m) == CLASS1_DEAD)
			return CLASS1_DEAD;
		return CLASS1_TIMEOUT;
	}
	if (rc != CLASS1_CONNECT)
		return rc;
	buf_reset(&m->data);
	int r = read_data(m, class1_now_ms() + 15000, 5000, sink_buf, &m->data);
	if (r == GOT_DEAD)
		return CLASS1_DEAD;
	if (r == GOT_TIMEOUT) {
		if (abort_receive(m) == CLASS1_DEAD)
			return CLASS1_DEAD;
		*bad = 1;
		return CLASS1_OK;
	}
	rc = wait_result(m, class1_now_ms() + 3000);
	if (rc == CLASS1_TIMEOUT) {
		/* The DCE holds OK back until the carrier drops, which a noisy line may delay:
		 * get it back to command mode and check the FCS ourselves (as HylaFAX's
		 * Class1ValidateV21Frames does). */
		if (abort_receive(m) == CLASS1_DEAD)
			return CLASS1_DEAD;
		size_t k = 0;
		while (m->data.len - k >= 11 && memcmp(m->data.data + k, "\r\nCONNECT\r\n", 11) == 0)
			k += 11;
		if (m->data.len - k >= 5 &&
		    hdlc_crc((const uint8_t *)m->data.data + k, m->data.len - k) == 0xF0B8)
			rc = CLASS1_OK;
	}
	/* On a noisy line the DCE may say CONNECT again when the real flags come after
	 * false ones; a frame starts with 0xFF, so a leading "\r\nCONNECT\r\n" is not data. */
	while (m->data.len >= 11 && memcmp(m->data.data, "\r\nCONNECT\r\n", 11) == 0)
		buf_consume(&m->data, 11);
	size_t len = m->data.len >= 2 ? m->data.len - 2 : 0;	/* drop the FCS */
	*bad = (rc != CLASS1_OK) || len < 3 || len > T30_MAX_FRAME;
	if (*bad)
		trace(m, "<-- bad frame: %zu bytes, %s", m->data.len, class1_result_name(rc));
	if (rc == CLASS1_DEAD)
		return rc;
	if (!*bad) {
		memcpy(f->b, m->data.data, len);
		f->len = len;
		trace(m, "<-- frame %s (%zu bytes)", t30_fcf_name(f->b[2]), len);
	}
	return CLASS1_OK;
}

static int do_rx_hdlc(class1 *m, const t30_action *a, t30_event *ev)
{
	long long deadline = class1_now_ms() + a->timeout_ms;
	size_t n = 0;
	for (;;) {
		int bad = 0;
		int rc = rx_one_frame(m, deadline, &m->frames[n], &bad);
		if (rc == CLASS1_DEAD)
			return rc;
		if (rc == CLASS1_FCERROR) {
			ev->type = T30_EV_WRONG_CARRIER;
			return CLASS1_OK;
		}
		if (rc != CLASS1_OK) {	/* timeout, NO CARRIER, ERROR */
			if (n > 0)
				break;
			if (rc != CLASS1_TIMEOUT && class1_now_ms() + 200 < deadline)
				continue;	/* a glitch: listen again */
			ev->type = T30_EV_TIMEOUT;
			return CLASS1_OK;
		}
		if (bad) {
			ev->type = T30_EV_BAD_FRAME;
			return CLASS1_OK;
		}
		if (m->frames[n++].b[1] == T30_CTL_FINAL || n >= T30_MAX_BURST)
			break;
		/* more frames follow at once: allow them their transmission time */
		deadline = class1_now_ms() + 10000;
	}
	ev->type = T30_EV_FRAMES;
	ev->frames = m->frames;
	ev->nframes = n;
	return CLASS1_OK;
}

static int do_rx_data(class1 *m, const t30_action *a, t30_event *ev)
{
	char cmd[32];
	snprintf(cmd, sizeof(cmd), "AT+FRM=%d", a->mod);
	long long deadline = class1_now_ms() + a->timeout_ms;
	int rc = send_line(m, cmd, deadline);
	if (rc != CLASS1_OK)
		return rc;
	rc = wait_result(m, deadline);
	if (rc == CLASS1_TIMEOUT) {
		if (abort_receive(m) == CLASS1_DEAD)
			return CLASS1_DEAD;
		ev->type = T30_EV_TIMEOUT;
		return CLASS1_OK;
	}
	if (rc == CLASS1_DEAD)
		return rc;
	if (rc == CLASS1_FCERROR) {
		ev->type = T30_EV_WRONG_CARRIER;
		return CLASS1_OK;
	}
	if (rc != CLASS1_CONNECT) {
		ev->type = T30_EV_TIMEOUT;
		return CLASS1_OK;
	}
	buf_reset(&m->data);
	ecm_sink es = { m, 0, { 0 } };
	hdlc_rx_init(&es.h, ecm_frame, &es);
	/* a page may take minutes; the carrier must not stall for 10 s */
	int r = read_data(m, class1_now_ms() + 20 * 60 * 1000, 10000,
			  a->hdlc ? sink_ecm : sink_buf, a->hdlc ? (void *)&es : &m->data);
	if (r == GOT_DEAD)
		return CLASS1_DEAD;
	if (r == GOT_TIMEOUT) {
		if (abort_receive(m) == CLASS1_DEAD)
			return CLASS1_DEAD;
	} else {
		rc = wait_result(m, class1_now_ms() + 5000);	/* NO CARRIER or OK */
		if (rc == CLASS1_DEAD)
			return rc;
	}
	ev->type = T30_EV_DATA;
	ev->data = (const uint8_t *)m->data.data;
	ev->len = m->data.len;
	ev->frames = m->frames;
	ev->nframes = a->hdlc ? es.n : 0;
	if (a->hdlc)
		trace(m, "<-- ECM: %zu good frames, %zu bad", es.h.good, es.h.bad);
	else
		trace(m, "<-- %zu bytes of data", m->data.len);
	return CLASS1_OK;
}

int class1_perform(class1 *m, const t30_action *a, t30_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	int rc = CLASS1_ERROR;
	switch (a->type) {
	case T30_ACT_TX_HDLC:
		rc = do_tx_hdlc(m, a);
		ev->type = T30_EV_DONE;
		break;
	case T30_ACT_TX_DATA:
		rc = do_tx_data(m, a);
		ev->type = T30_EV_DONE;
		break;
	case T30_ACT_RX_HDLC:
		rc = do_rx_hdlc(m, a, ev);
		break;
	case T30_ACT_RX_DATA:
		rc = do_rx_data(m, a, ev);
		break;
	case T30_ACT_HANGUP:
		rc = CLASS1_OK;
		break;
	}
	ev->now_ms = class1_now_ms();
	if (rc == CLASS1_OK)
		return CLASS1_OK;
	/* A transmit the modem refused, or a dead modem: the call is over. */
	trace(m, "modem: %s", class1_result_name(rc));
	ev->type = T30_EV_HANGUP;
	return rc == CLASS1_DEAD ? CLASS1_DEAD : CLASS1_OK;
}
