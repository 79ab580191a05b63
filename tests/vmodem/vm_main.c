/*
 * vm_main.c - vmodem: options, configuration file and the real-time loop.
 *
 * Contract: `vmodem [options]` (see usage()) creates the lines and fax machines, then
 * prints exactly one line "vmodem: ready pid=PID lines=N faxes=M control=PATH" on
 * stdout once every symlink and the control socket exist, and runs until SIGTERM or
 * SIGINT (or -t seconds), when it removes its symlinks, socket and pid file and exits
 * 0. Exit 1 on a set-up error, 2 on a usage error. The loop ticks every 20 ms on
 * CLOCK_MONOTONIC; between ticks it serves the DTEs, inotify and the control socket.
 * Log lines go to stderr: "vmodem SECONDS: text".
 */
#include "vmodem.h"

#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

vm_conf vm_cf = {
	.delay_ms = 80,
	.ring_ms = 6000,
	.first_ring_ms = 1000,
	.answer_timeout_ms = 60000,
	.no_answer_code = AT_RESPONSE_CODE_NO_CARRIER,
	.busy_ms = 1500,
	.drain_ms = 1000,
	.seed = 1234,
};
int64_t vm_now;
vm_line vm_lines[VM_MAX_LINES];
int vm_nlines;
vm_faxm vm_faxms[VM_MAX_FAXM];
int vm_nfaxm;

#define VM_MAX_EXEC 16
static struct { int64_t at; char cmd[512]; int done; } execs[VM_MAX_EXEC];
static int nexecs;
static char ctl_sock_path[PATH_MAX];
static char pid_file[PATH_MAX];
static int lifetime_s;
static volatile sig_atomic_t stop_sig;
static struct timespec t0;

static double vm_elapsed(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double) (now.tv_sec - t0.tv_sec) + (double) (now.tv_nsec - t0.tv_nsec) / 1e9;
}

static void vm_vlog(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

static void vm_vlog(const char *fmt, va_list ap)
{
	char line[1024];
	int n = snprintf(line, sizeof line, "vmodem %.3f: ", vm_elapsed());

	vsnprintf(line + n, sizeof line - (size_t) n, fmt, ap);
	fprintf(stderr, "%s\n", line);
}

void vm_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vm_vlog(fmt, ap);
	va_end(ap);
}

void vm_debug(const char *fmt, ...)
{
	va_list ap;

	if (!vm_cf.verbose)
		return;
	va_start(ap, fmt);
	vm_vlog(fmt, ap);
	va_end(ap);
}

#if defined(__SANITIZE_ADDRESS__)
/* spandsp 0.0.6 itself leaks at exit (t31_free keeps its queue, at_reset_call_info its
 * strings); keep the sanitizer build's exit status about our own code. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libspandsp.so\n";
}
#endif

static void usage(void)
{
	fprintf(stderr,
		"usage: vmodem [-c CONFIG] [-l LINK=NUMBER[,NAME]]...\n"
		"              [-F NUMBER=DIR[,ecm][,mh][,speed=BPS][,rings=N][,id=IDENT]]...\n"
		"              [-s CONTROL_SOCKET] [-p PID_FILE] [-d DELAY_MS] [-N NOISE_DBM0]\n"
		"              [-D DROP_MS/EVERY_MS] [-r RING_MS] [-R FIRST_RING_MS] [-a ANSWER_TIMEOUT_MS]\n"
		"              [-A] [-e '[@SECS] COMMAND']... [-t SECONDS] [-v]\n"
		"  -l  a Class 1 modem on a pty, symlinked at LINK, reachable as NUMBER\n"
		"  -F  a virtual fax machine answering NUMBER, storing received faxes in DIR\n"
		"  -A  say NO ANSWER instead of NO CARRIER when nobody answers\n"
		"  -e  a control command to run at start (or SECS seconds after)\n");
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = (int) v;
	return 0;
}

static int add_line(const char *link, const char *number, const char *name)
{
	vm_line *l;
	const char *base;

	if (vm_nlines == VM_MAX_LINES)
		return -1;
	l = &vm_lines[vm_nlines];
	if (snprintf(l->link, sizeof l->link, "%s", link) >= (int) sizeof l->link
	    || snprintf(l->party.number, sizeof l->party.number, "%s", number)
	       >= (int) sizeof l->party.number)
		return -1;
	base = strrchr(link, '/');
	snprintf(l->party.label, sizeof l->party.label, "%s", base ? base + 1 : link);
	snprintf(l->party.name, sizeof l->party.name, "%s", name ? name : "");
	l->party.kind = PARTY_LINE;
	vm_nlines++;
	return 0;
}

/* "ecm", "rings=N", "id=IDENT" (IDENT may contain spaces in a config file). */
static int faxm_option(vm_faxm *f, const char *opt)
{
	if (strcmp(opt, "ecm") == 0)
		f->ecm = 1;
	else if (strcmp(opt, "mh") == 0)
		f->mh = 1;
	else if (strncmp(opt, "speed=", 6) == 0)
		return parse_int(opt + 6, 2400, 14400, &f->speed);
	else if (strncmp(opt, "rings=", 6) == 0)
		return parse_int(opt + 6, 1, 20, &f->rings);
	else if (strncmp(opt, "id=", 3) == 0)
		snprintf(f->ident, sizeof f->ident, "%s", opt + 3);
	else
		return -1;
	return 0;
}

static vm_faxm *add_faxm(const char *number, const char *dir)
{
	vm_faxm *f;

	if (vm_nfaxm == VM_MAX_FAXM)
		return NULL;
	f = &vm_faxms[vm_nfaxm];
	if (snprintf(f->party.number, sizeof f->party.number, "%s", number)
	    >= (int) sizeof f->party.number
	    || snprintf(f->dir, sizeof f->dir, "%s", dir) >= (int) sizeof f->dir)
		return NULL;
	f->party.kind = PARTY_FAXM;
	snprintf(f->party.label, sizeof f->party.label, "fax %s", number);
	snprintf(f->ident, sizeof f->ident, "%s", number);
	f->rings = 1;
	vm_nfaxm++;
	return f;
}

static int add_exec(const char *spec)
{
	int secs = 0;

	if (nexecs == VM_MAX_EXEC)
		return -1;
	if (spec[0] == '@') {
		secs = atoi(spec + 1);
		spec = strchr(spec, ' ');
		if (spec == NULL)
			return -1;
		spec++;
	}
	execs[nexecs].at = VM_MS_TO_TICKS(secs * 1000);
	if (snprintf(execs[nexecs].cmd, sizeof execs[nexecs].cmd, "%s", spec)
	    >= (int) sizeof execs[nexecs].cmd)
		return -1;
	nexecs++;
	return 0;
}

static int set_no_answer(const char *s)
{
	if (strcasecmp(s, "NO ANSWER") == 0 || strcasecmp(s, "answer") == 0)
		vm_cf.no_answer_code = AT_RESPONSE_CODE_NO_ANSWER;
	else if (strcasecmp(s, "NO CARRIER") == 0 || strcasecmp(s, "carrier") == 0)
		vm_cf.no_answer_code = AT_RESPONSE_CODE_NO_CARRIER;
	else
		return -1;
	return 0;
}

static int set_dropout(const char *ms, const char *every)
{
	if (parse_int(ms, 0, 60000, &vm_cf.drop_ms) < 0
	    || parse_int(every, 0, 3600000, &vm_cf.drop_every_ms) < 0)
		return -1;
	return 0;
}

static int set_noise(const char *s)
{
	char *end;

	vm_cf.noise_dbm0 = strtod(s, &end);
	if (end == s || *end || vm_cf.noise_dbm0 > 0 || vm_cf.noise_dbm0 < -100)
		return -1;
	vm_cf.noise_on = 1;
	return 0;
}

/* One config file line, already split into words (av[0] = keyword). */
static int conf_line(char **av, int ac, char *rest)
{
	const char *k = av[0];

	if (strcmp(k, "line") == 0 && ac >= 3)
		return add_line(av[1], av[2], ac > 3 ? strstr(rest, av[3]) : NULL);
	if (strcmp(k, "fax") == 0 && ac >= 3) {
		vm_faxm *f = add_faxm(av[1], av[2]);

		if (f == NULL)
			return -1;
		for (int i = 3; i < ac; i++) {
			if (strncmp(av[i], "id=", 3) == 0)	/* the rest of the line */
				return faxm_option(f, strstr(rest, av[i]));
			if (faxm_option(f, av[i]) < 0)
				return -1;
		}
		return 0;
	}
	if (ac == 2 && strcmp(k, "delay") == 0)
		return parse_int(av[1], 0, 500, &vm_cf.delay_ms);
	if (ac == 2 && strcmp(k, "noise") == 0)
		return set_noise(av[1]);
	if (ac == 3 && strcmp(k, "dropout") == 0)
		return set_dropout(av[1], av[2]);
	if (ac == 2 && strcmp(k, "ring") == 0)
		return parse_int(av[1], 200, 60000, &vm_cf.ring_ms);
	if (ac == 2 && strcmp(k, "first_ring") == 0)
		return parse_int(av[1], 0, 60000, &vm_cf.first_ring_ms);
	if (ac == 2 && strcmp(k, "answer_timeout") == 0)
		return parse_int(av[1], 1000, 600000, &vm_cf.answer_timeout_ms);
	if (ac == 2 && strcmp(k, "busy_delay") == 0)
		return parse_int(av[1], 0, 60000, &vm_cf.busy_ms);
	if (ac >= 2 && strcmp(k, "no_answer_result") == 0)
		return set_no_answer(strstr(rest, av[1]));
	if (ac == 2 && strcmp(k, "control") == 0)
		return snprintf(ctl_sock_path, sizeof ctl_sock_path, "%s", av[1])
		       >= (int) sizeof ctl_sock_path ? -1 : 0;
	if (ac == 2 && strcmp(k, "pid_file") == 0)
		return snprintf(pid_file, sizeof pid_file, "%s", av[1]) >= (int) sizeof pid_file ? -1 : 0;
	if (ac >= 2 && strcmp(k, "exec") == 0)
		return add_exec(strstr(rest, av[1]));
	if (ac == 2 && strcmp(k, "verbose") == 0)
		return parse_int(av[1], 0, 3, &vm_cf.verbose);
	return -1;
}

static int conf_read(const char *path)
{
	FILE *fp = fopen(path, "r");
	char line[1024];
	int lineno = 0;

	if (fp == NULL) {
		fprintf(stderr, "vmodem: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof line, fp)) {
		char copy[sizeof line], *av[16], *hash;
		int ac = 0;

		lineno++;
		line[strcspn(line, "\r\n")] = 0;
		if ((hash = strchr(line, '#')) != NULL)
			*hash = 0;
		snprintf(copy, sizeof copy, "%s", line);
		for (char *t = strtok(copy, " \t"); t && ac < 16; t = strtok(NULL, " \t"))
			av[ac++] = t;
		if (ac == 0)
			continue;
		if (conf_line(av, ac, line) < 0) {
			fprintf(stderr, "vmodem: %s:%d: bad line: %s\n", path, lineno, line);
			fclose(fp);
			return -1;
		}
	}
	fclose(fp);
	return 0;
}

/* -l LINK=NUMBER[,NAME] */
static int opt_line(char *arg)
{
	char *eq = strchr(arg, '='), *comma;

	if (eq == NULL)
		return -1;
	*eq++ = 0;
	comma = strchr(eq, ',');
	if (comma)
		*comma++ = 0;
	return add_line(arg, eq, comma);
}

/* -F NUMBER=DIR[,opt]... */
static int opt_faxm(char *arg)
{
	char *eq = strchr(arg, '='), *opt;
	vm_faxm *f;

	if (eq == NULL)
		return -1;
	*eq++ = 0;
	opt = strchr(eq, ',');
	if (opt)
		*opt++ = 0;
	f = add_faxm(arg, eq);
	if (f == NULL)
		return -1;
	while (opt) {
		char *next = strchr(opt, ',');

		if (next)
			*next++ = 0;
		if (faxm_option(f, opt) < 0)
			return -1;
		opt = next;
	}
	return 0;
}

static int parse_args(int argc, char **argv)
{
	int c;

	while ((c = getopt(argc, argv, "c:l:F:s:p:d:N:D:r:R:a:Ae:t:vh")) != -1) {
		int bad = 0;
		char *slash;

		switch (c) {
		case 'c': bad = conf_read(optarg) < 0; break;
		case 'l': bad = opt_line(optarg) < 0; break;
		case 'F': bad = opt_faxm(optarg) < 0; break;
		case 's': bad = snprintf(ctl_sock_path, sizeof ctl_sock_path, "%s", optarg)
				>= (int) sizeof ctl_sock_path; break;
		case 'p': bad = snprintf(pid_file, sizeof pid_file, "%s", optarg)
				>= (int) sizeof pid_file; break;
		case 'd': bad = parse_int(optarg, 0, 500, &vm_cf.delay_ms) < 0; break;
		case 'N': bad = set_noise(optarg) < 0; break;
		case 'D':
			slash = strchr(optarg, '/');
			if (slash)
				*slash++ = 0;
			bad = slash == NULL || set_dropout(optarg, slash) < 0;
			break;
		case 'r': bad = parse_int(optarg, 200, 60000, &vm_cf.ring_ms) < 0; break;
		case 'R': bad = parse_int(optarg, 0, 60000, &vm_cf.first_ring_ms) < 0; break;
		case 'a': bad = parse_int(optarg, 1000, 600000, &vm_cf.answer_timeout_ms) < 0; break;
		case 'A': vm_cf.no_answer_code = AT_RESPONSE_CODE_NO_ANSWER; break;
		case 'e': bad = add_exec(optarg) < 0; break;
		case 't': bad = parse_int(optarg, 1, 86400, &lifetime_s) < 0; break;
		case 'v': vm_cf.verbose++; break;
		default: usage(); return -1;
		}
		if (bad) {
			fprintf(stderr, "vmodem: bad argument to -%c: %s\n", c, optarg ? optarg : "");
			return -1;
		}
	}
	if (optind != argc || (vm_nlines == 0 && vm_nfaxm == 0)) {
		usage();
		return -1;
	}
	return 0;
}

static void on_signal(int sig)
{
	stop_sig = sig;
}

static int inotify_fd = -1;

static void inotify_service(void)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	while ((n = read(inotify_fd, buf, sizeof buf)) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *) p;

			for (int i = 0; i < vm_nlines; i++)
				if (vm_lines[i].watch == ev->wd)
					line_dte_event(&vm_lines[i], ev->mask);
			p += sizeof *ev + ev->len;
		}
	}
}

/* Serve file descriptors until the deadline (the next tick). */
static void serve_until(const struct timespec *deadline)
{
	struct pollfd pf[VM_MAX_LINES + 16];
	int owner[VM_MAX_LINES + 16];

	for (;;) {
		struct timespec now, left;
		int n = 0, nctl;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left.tv_sec = deadline->tv_sec - now.tv_sec;
		left.tv_nsec = deadline->tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_nsec += 1000000000;
			left.tv_sec--;
		}
		if (left.tv_sec < 0 || stop_sig)
			return;
		for (int i = 0; i < vm_nlines; i++) {
			vm_line *l = &vm_lines[i];
			short ev = (short) ((l->hold ? 0 : POLLIN) | (l->out_len ? POLLOUT : 0));

			if (ev == 0)
				continue;
			pf[n].fd = l->master;
			pf[n].events = ev;
			owner[n++] = i;
		}
		if (inotify_fd >= 0) {
			pf[n].fd = inotify_fd;
			pf[n].events = POLLIN;
			owner[n++] = -1;
		}
		nctl = ctl_poll_fds(pf + n, 16 - 1);
		if (ppoll(pf, (nfds_t) (n + nctl), &left, NULL) <= 0)
			continue;
		for (int k = 0; k < n; k++) {
			if (owner[k] < 0) {
				if (pf[k].revents & POLLIN)
					inotify_service();
				continue;
			}
			if (pf[k].revents & POLLOUT)
				line_flush(&vm_lines[owner[k]]);
			if (pf[k].revents & POLLIN)
				line_read_dte(&vm_lines[owner[k]]);
		}
		ctl_service(pf + n, nctl);
	}
}

static void run_execs(void)
{
	char out[8192];

	for (int i = 0; i < nexecs; i++) {
		if (execs[i].done || vm_now < execs[i].at)
			continue;
		execs[i].done = 1;
		ctl_exec(execs[i].cmd, out, sizeof out);
		vm_log("exec '%s': %.*s", execs[i].cmd, (int) strcspn(out, "\n"), out);
	}
}

static int setup(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	for (int i = 0; i < vm_nlines; i++) {
		if (line_open(&vm_lines[i]) < 0)
			return -1;
		line_dte_watch(&vm_lines[i], inotify_fd);
	}
	for (int i = 0; i < vm_nfaxm; i++)
		vm_log("fax %s: virtual fax machine, ident \"%s\", answers after %d ring(s)%s, stores in %s",
		       vm_faxms[i].party.number, vm_faxms[i].ident, vm_faxms[i].rings,
		       vm_faxms[i].ecm ? ", ECM" : "", vm_faxms[i].dir);
	if (ctl_sock_path[0] && ctl_listen(ctl_sock_path) < 0)
		return -1;
	if (pid_file[0]) {
		FILE *fp = fopen(pid_file, "w");

		if (fp == NULL)
			return -1;
		fprintf(fp, "%d\n", (int) getpid());
		fclose(fp);
	}
	return 0;
}

static void cleanup(void)
{
	for (int i = 0; i < vm_nlines; i++)
		line_close(&vm_lines[i]);
	ctl_close();
	if (pid_file[0])
		unlink(pid_file);
}

int main(int argc, char **argv)
{
	struct timespec next;
	int rc = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse_args(argc, argv) < 0)
		return 2;
	if (setup() < 0) {
		cleanup();
		return 1;
	}
	printf("vmodem: ready pid=%d lines=%d faxes=%d control=%s\n", (int) getpid(), vm_nlines,
	       vm_nfaxm, ctl_sock_path[0] ? ctl_sock_path : "-");
	vm_log("delay %d ms, noise %s%.0f dBm0, drop-out %d ms every %d ms, ring every %d ms, "
	       "no answer after %d ms", vm_cf.delay_ms, vm_cf.noise_on ? "" : "off ",
	       vm_cf.noise_dbm0, vm_cf.drop_ms, vm_cf.drop_every_ms, vm_cf.ring_ms,
	       vm_cf.answer_timeout_ms);
	next = t0;
	while (!stop_sig) {
		struct timespec now;

		next.tv_nsec += VM_TICK_MS * 1000000L;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		serve_until(&next);
		if (stop_sig)
			break;
		vm_now++;
		call_tick();
		run_execs();
		if (lifetime_s && vm_now >= (int64_t) lifetime_s * 1000 / VM_TICK_MS)
			break;
		/* Far behind (stopped, overloaded)? Resynchronise rather than burst. */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > next.tv_sec + 1) {
			vm_log("loop was %ld s late; resynchronising", (long) (now.tv_sec - next.tv_sec));
			next = now;
		}
	}
	vm_log("exiting on %s", stop_sig == SIGTERM ? "SIGTERM" : stop_sig ? "signal" : "time limit");
	cleanup();
	return rc;
}
