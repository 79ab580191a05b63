/*
 * test_class1.c - unit tests of faxd's Class 1 driver against a scripted DCE.
 *
 * A forked child plays the modem on the other end of a socketpair: it reads AT command
 * lines and writes canned result codes and DLE-framed data. The tests check DLE
 * stuffing both ways, the LF after CONNECT, frames with their FCS, a second CONNECT on
 * a noisy line, an OK the DCE never sends (own FCS check after the abort), BUSY, and
 * that a silent modem ends the operation in bounded time instead of hanging.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../class1.h"
#include "../hdlc.h"

/* ------------------------------------------------------------ fake DCE --- */

static int dce_fd;

static void dce_write(const void *p, size_t n)
{
	if (write(dce_fd, p, n) != (ssize_t)n)
		_exit(3);
}

static void dce_say(const char *s) { dce_write(s, strlen(s)); }

/* Read one command line (up to CR); exit 4 if it is not `want`. */
static void dce_expect(const char *want)
{
	char line[128];
	size_t n = 0;
	for (;;) {
		char c;
		if (read(dce_fd, &c, 1) != 1)
			_exit(5);
		if (c == '\r') {
			if (n == 0)
				continue;
			break;
		}
		if (n < sizeof(line) - 1)
			line[n++] = c;
	}
	line[n] = '\0';
	if (strcmp(line, want) != 0)
		_exit(4);
}

/* A frame as the DCE hands it over: bytes + FCS, DLE-doubled, DLE ETX. */
static void dce_frame(const uint8_t *f, size_t n)
{
	uint8_t out[600];
	size_t o = 0;
	uint16_t fcs = (uint16_t)~hdlc_crc(f, n);
	uint8_t all[300];
	memcpy(all, f, n);
	all[n] = (uint8_t)(fcs & 0xFF);
	all[n + 1] = (uint8_t)(fcs >> 8);
	for (size_t i = 0; i < n + 2; i++) {
		out[o++] = all[i];
		if (all[i] == 0x10)
			out[o++] = 0x10;
	}
	out[o++] = 0x10;
	out[o++] = 0x03;
	dce_write(out, o);
}

/* Read DLE-stuffed data up to DLE ETX and check it against want. */
static void dce_data(const uint8_t *want, size_t n)
{
	size_t got = 0;
	int dle = 0;
	for (;;) {
		uint8_t c;
		if (read(dce_fd, &c, 1) != 1)
			_exit(6);
		if (dle) {
			dle = 0;
			if (c == 0x03)
				break;
			if (c != 0x10)
				_exit(7);
		} else if (c == 0x10) {
			dle = 1;
			continue;
		}
		if (got >= n || want[got] != c)
			_exit(8);
		got++;
	}
	if (got != n)
		_exit(9);
}

static const uint8_t csi[] = { 0xFF, 0x03, 0x40, '1', 0x10, '3', ' ', ' ' };
static const uint8_t dis[] = { 0xFF, 0x13, 0x80, 0x00, 0x6E, 0x78 };
static const uint8_t page[] = { 0x00, 0x10, 0x10, 0x03, 0x55, 0x10, 0xFF };

static pid_t dce_start(int *fd, void (*script)(void))
{
	int sv[2];
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(sv[0]);
		dce_fd = sv[1];
		script();
		/* stay until the DTE closes, so that its last reads do not see EOF */
		char c;
		while (read(dce_fd, &c, 1) == 1)
			;
		_exit(0);
	}
	close(sv[1]);
	*fd = sv[0];
	return pid;
}

static int dce_finish(pid_t pid, int fd)
{
	int st = 0;
	close(fd);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 100;
}

static void script_init(void)
{
	dce_expect("ATE0V1Q0");
	dce_say("\r\nOK\r\n");
	dce_expect("ATS0=0");
	dce_say("\r\nOK\r\n");
	dce_expect("AT+FCLASS=1");
	dce_say("\r\nOK\r\n");
}

/* ----------------------------------------------------------------- tests --- */

static void script_call(void)
{
	script_init();
	dce_expect("ATD5551234");
	dce_say("\r\nCONNECT\r\n");
	dce_frame(csi, sizeof(csi));		/* non-final: the DTE asks for the next */
	dce_say("\r\nOK\r\n");
	dce_expect("AT+FRH=3");
	dce_say("\r\nCONNECT\r\n\r\nCONNECT\r\n");	/* false flags first, then the frame */
	dce_frame(dis, sizeof(dis));
	dce_say("\r\nOK\r\n");
	dce_expect("AT+FTS=8");
	dce_say("\r\nOK\r\n");
	dce_expect("AT+FTM=146");
	dce_say("\r\nCONNECT\r\n");
	dce_data(page, sizeof(page));
	dce_say("\r\nOK\r\n");
}

START_TEST(test_call_frames_and_data)
{
	int fd;
	pid_t pid = dce_start(&fd, script_call);
	class1 m;
	ck_assert_int_eq(class1_init(&m, fd), CLASS1_OK);
	ck_assert_int_eq(class1_dial(&m, "5551234", 5000), CLASS1_CONNECT);
	t30_action a = { .type = T30_ACT_RX_HDLC, .timeout_ms = 5000 };
	t30_event ev;
	ck_assert_int_eq(class1_perform(&m, &a, &ev), CLASS1_OK);
	ck_assert_int_eq(ev.type, T30_EV_FRAMES);
	ck_assert_uint_eq(ev.nframes, 2);
	ck_assert_uint_eq(ev.frames[0].len, sizeof(csi));
	ck_assert(memcmp(ev.frames[0].b, csi, sizeof(csi)) == 0);	/* DLE undoubled */
	ck_assert(memcmp(ev.frames[1].b, dis, sizeof(dis)) == 0);
	t30_action d = { .type = T30_ACT_TX_DATA, .silence_ms = 75, .mod = 146,
			 .data = page, .len = sizeof(page) };
	ck_assert_int_eq(class1_perform(&m, &d, &ev), CLASS1_OK);
	ck_assert_int_eq(ev.type, T30_EV_DONE);
	class1_release(&m);
	ck_assert_int_eq(dce_finish(pid, fd), 0);
}
END_TEST

static void script_held_ok(void)
{
	script_init();
	dce_expect("ATD5551234");
	dce_say("\r\nCONNECT\r\n");
	dce_frame(dis, sizeof(dis));	/* final frame, but the OK never comes */
	/* the DTE aborts with lone CRs (ignored, as in command mode), then checks that
	 * the modem lives */
	dce_expect("AT");
	dce_say("\r\nOK\r\n");
}

START_TEST(test_held_ok_fcs_checked)
{
	int fd;
	pid_t pid = dce_start(&fd, script_held_ok);
	class1 m;
	ck_assert_int_eq(class1_init(&m, fd), CLASS1_OK);
	ck_assert_int_eq(class1_dial(&m, "5551234", 5000), CLASS1_CONNECT);
	t30_action a = { .type = T30_ACT_RX_HDLC, .timeout_ms = 8000 };
	t30_event ev;
	ck_assert_int_eq(class1_perform(&m, &a, &ev), CLASS1_OK);
	ck_assert_int_eq(ev.type, T30_EV_FRAMES);
	ck_assert_uint_eq(ev.nframes, 1);
	ck_assert_int_eq(ev.frames[0].b[2], T30_DIS);
	class1_release(&m);
	ck_assert_int_eq(dce_finish(pid, fd), 0);
}
END_TEST

static void script_busy(void)
{
	script_init();
	dce_expect("ATD5550000");
	dce_say("\r\nBUSY\r\n");
}

START_TEST(test_busy)
{
	int fd;
	pid_t pid = dce_start(&fd, script_busy);
	class1 m;
	ck_assert_int_eq(class1_init(&m, fd), CLASS1_OK);
	ck_assert_int_eq(class1_dial(&m, "5550000", 5000), CLASS1_BUSY);
	class1_release(&m);
	ck_assert_int_eq(dce_finish(pid, fd), 0);
}
END_TEST

static void script_silent(void)
{
	script_init();
	/* then never a word again */
}

START_TEST(test_silent_modem_is_dead_not_hung)
{
	int fd;
	pid_t pid = dce_start(&fd, script_silent);
	class1 m;
	ck_assert_int_eq(class1_init(&m, fd), CLASS1_OK);
	long long t0 = class1_now_ms();
	t30_action a = { .type = T30_ACT_RX_HDLC, .timeout_ms = 1000 };
	t30_event ev;
	ck_assert_int_eq(class1_perform(&m, &a, &ev), CLASS1_DEAD);
	ck_assert_int_eq(ev.type, T30_EV_HANGUP);
	ck_assert_int_lt(class1_now_ms() - t0, 15000);
	class1_release(&m);
	dce_finish(pid, fd);	/* the DCE exits when the DTE closes */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("class1");
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_call_frames_and_data);
	tcase_add_test(tc, test_held_ok_fcs_checked);
	tcase_add_test(tc, test_busy);
	tcase_add_test(tc, test_silent_modem_is_dead_not_hung);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
