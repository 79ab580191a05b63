/*
 * master_spawn.c - starting, watching, restarting and stopping workers.
 *
 * Contract: master keeps `target` (maxproc) workers per service. A worker gets
 * fd 3 = the write end of its own status pipe (master reads 'R' when it is ready),
 * fd 4.. = the service's listening sockets, fds 0 and 1 on /dev/null, fd 2 = master's
 * stderr, argv "CMD -c DIR -n SERVICE -t TYPE -l N [-w W] [-u] [-r] [-v] ARGS...".
 * A worker that exits with status 0 (max_use, max_idle) is replaced at once; one that
 * fails is logged ("process PATH pid N exit status S" / "killed by signal S") and
 * replaced, unless it failed before saying 'R' or within MASTER_BAD_START_SECS of
 * its start: then "PATH: bad command startup -- throttling" and the service gets no
 * new worker for service_throttle_time. So a broken daemon costs at most maxproc
 * forks per throttle period, never a fork loop. A worker that exits cleanly less than
 * MASTER_MIN_LIFE_MS after its start is replaced only when that time is up.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mail/config.h"
#include "master.h"
#include "util/buf.h"
#include "util/msg.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

long long master_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int master_proc_count(void)
{
	int n = 0;

	for (master_proc *p = master.procs; p; p = p->next)
		n++;
	return n;
}

/* Every descriptor from `from` up is closed at exec. */
static void master_cloexec_from(int from)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)from, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
#endif
	for (int fd = from; fd < 4096; fd++)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
}

#define MASTER_ARGV_MAX 64

static void master_child_argv(const master_service *svc, char **argv, char *nbuf,
			      char *wbuf)
{
	const mastercf_entry *e = &svc->ent;
	int n = 0;

	argv[n++] = e->argv[0];
	argv[n++] = "-c";
	argv[n++] = (char *)master.config_dir;
	argv[n++] = "-n";
	argv[n++] = e->service;
	argv[n++] = "-t";
	argv[n++] = e->type;
	snprintf(nbuf, 16, "%d", svc->nlisten);
	argv[n++] = "-l";
	argv[n++] = nbuf;
	if (e->wakeup > 0) {
		snprintf(wbuf, 16, "%d", e->wakeup);
		argv[n++] = "-w";
		argv[n++] = wbuf;
	}
	if (e->unpriv)
		argv[n++] = "-u";
	if (e->chroot)
		argv[n++] = "-r";
	if (master.verbose)
		argv[n++] = "-v";
	for (int i = 1; i < e->argc && n < MASTER_ARGV_MAX - 1; i++)
		argv[n++] = e->argv[i];
	argv[n] = NULL;
}

/* In the child: descriptors into place, then exec. Never returns. */
static void master_child(master_service *svc, int status_wr)
{
	char *argv[MASTER_ARGV_MAX];
	char nbuf[16], wbuf[16];
	int moved[DAEMON_MAX_LISTEN + 1];
	int null;

	master_sig_child_reset();
	/* Move everything above the target range first so dup2() never clobbers. */
	moved[0] = fcntl(status_wr, F_DUPFD, 64);
	for (int i = 0; i < svc->nlisten; i++)
		moved[i + 1] = fcntl(svc->listen_fds[i], F_DUPFD, 64);
	for (int i = 0; i <= svc->nlisten; i++)
		if (moved[i] < 0 || dup2(moved[i], DAEMON_STATUS_FD + i) < 0)
			msg_fatal("%s: descriptor setup: %s", svc->path, strerror(errno));
	null = open("/dev/null", O_RDWR);
	if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0)
		msg_fatal("/dev/null: %s", strerror(errno));
	master_cloexec_from(DAEMON_LISTEN_FD0 + svc->nlisten);
	master_child_argv(svc, argv, nbuf, wbuf);
	execv(svc->path, argv);
	msg_fatal("exec %s: %s", svc->path, strerror(errno));
}

static int master_spawn_one(master_service *svc)
{
	int pfd[2];
	pid_t pid;
	master_proc *p;

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		msg_warn("pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		msg_warn("fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0)
		master_child(svc, pfd[1]);
	close(pfd[1]);
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	p = xcalloc(1, sizeof(*p));
	p->pid = pid;
	p->status_fd = pfd[0];
	p->started = master_now();
	p->svc = svc;
	p->next = master.procs;
	master.procs = p;
	svc->nproc++;
	if (msg_verbose)
		msg_info("service %s/%s: started %s pid %ld", svc->ent.service, svc->ent.type,
			 svc->path, (long)pid);
	return 0;
}

static void master_throttle(master_service *svc)
{
	long long t = conf_time("service_throttle_time");

	if (t < 1)
		t = 1;
	if (t > 86400)
		t = 86400;
	svc->throttled_until = master_now() + t * 1000;
}

void master_spawn_all(void)
{
	long long now = master_now();

	for (master_service *s = master.services; s; s = s->next) {
		if (s->throttled_until > now)
			continue;
		s->throttled_until = 0;
		while (s->nproc < s->target && s->nlisten > 0) {
			if (master_spawn_one(s) < 0) {
				msg_warn("%s: cannot start a process -- throttling", s->path);
				master_throttle(s);
				break;
			}
		}
	}
}

static void master_proc_close(master_proc *p)
{
	if (p->status_fd >= 0)
		close(p->status_fd);
	p->status_fd = -1;
}

void master_status_input(master_proc *p)
{
	char sbuf[64];
	ssize_t n;

	while ((n = read(p->status_fd, sbuf, sizeof(sbuf))) > 0)
		if (memchr(sbuf, 'R', (size_t)n))
			p->ready = 1;
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		master_proc_close(p);
}

static void master_reaped(master_proc *p, int status)
{
	master_service *svc = p->svc;
	int bad;

	if (p->status_fd >= 0)
		master_status_input(p);	/* an 'R' may still sit in the pipe */
	if (!svc)
		return;		/* retired on reload or removal: expected to go */
	svc->nproc--;
	bad = !(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		msg_warn("process %s pid %ld exit status %d", svc->path, (long)p->pid,
			 WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		msg_warn("process %s pid %ld killed by signal %d", svc->path, (long)p->pid,
			 WTERMSIG(status));
	if (!p->ready || (bad && master_now() - p->started < MASTER_BAD_START_SECS * 1000)) {
		msg_warn("%s: bad command startup -- throttling", svc->path);
		master_throttle(svc);
	} else if (master_now() - p->started < MASTER_MIN_LIFE_MS &&
		   svc->throttled_until < p->started + MASTER_MIN_LIFE_MS) {
		/* A clean but instant exit (nothing to do, max_use = 1 ...): pace the
		 * replacement so that even this cannot become a fork loop. */
		svc->throttled_until = p->started + MASTER_MIN_LIFE_MS;
	}
}

void master_reap(void)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		master_proc **pp = &master.procs;

		while (*pp && (*pp)->pid != pid)
			pp = &(*pp)->next;
		if (!*pp)
			continue;
		master_proc *p = *pp;

		*pp = p->next;
		master_reaped(p, status);
		master_proc_close(p);
		free(p);
	}
}

/* The service's workers go: master closes their status pipes (single servers exit
 * between connections) and signals them (event servers check daemon_stopping). */
void master_retire_service(master_service *svc, int sig)
{
	for (master_proc *p = master.procs; p; p = p->next) {
		if (p->svc != svc)
			continue;
		p->svc = NULL;
		p->retiring = 1;
		master_proc_close(p);
		kill(p->pid, sig);
	}
	svc->nproc = 0;
}

void master_stop_all(void)
{
	struct timespec nap = { 0, 20 * 1000 * 1000 };
	int waited = 0;

	for (master_service *s = master.services; s; s = s->next) {
		master_retire_service(s, SIGTERM);
		master_listen_close(s, 0);
	}
	for (master_proc *p = master.procs; p; p = p->next)
		if (!p->retiring) {
			p->retiring = 1;
			kill(p->pid, SIGTERM);
		}
	while (master.procs && waited < MASTER_STOP_WAIT_MS) {
		master_reap();
		if (!master.procs)
			break;
		nanosleep(&nap, NULL);
		waited += 20;
	}
	while (master.procs) {
		master_proc *p = master.procs;

		msg_warn("process pid %ld did not stop -- killing", (long)p->pid);
		kill(p->pid, SIGKILL);
		waitpid(p->pid, NULL, 0);
		master.procs = p->next;
		master_proc_close(p);
		free(p);
	}
}

/* Milliseconds until the next throttle ends (-1: none pending). */
long long master_next_timer(void)
{
	long long now = master_now(), best = -1;

	for (master_service *s = master.services; s; s = s->next) {
		if (!s->throttled_until || s->nproc >= s->target)
			continue;
		long long ms = s->throttled_until - now;

		if (ms < 0)
			ms = 0;
		if (best < 0 || ms < best)
			best = ms;
	}
	return best;
}
