/*
 * sandbox.c - one conversion job in a child with rlimits and seccomp (see sandbox.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "codec/render.h"
#include "codec/sandbox.h"
#include "util/msg.h"

/* AddressSanitizer reserves terabytes of shadow address space: RLIMIT_AS cannot work
 * under it (the sanitizer build skips the memory limit; CPU and time limits remain). */
#if defined(__SANITIZE_ADDRESS__)
#define CODEC_NO_AS_LIMIT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CODEC_NO_AS_LIMIT 1
#endif
#endif

/* What the child reports through the pipe. */
typedef struct job_report {
	char status[16];
	char reason[256];
	uint32_t pages;
	int32_t profile, coding;
	uint32_t xres, yres, width;
	char paper[16];
} job_report;

void codec_limits_default(codec_limits *lim)
{
	lim->cpu_seconds = 60;
	lim->memory_bytes = 1LL << 30;
	lim->wall_seconds = 120;
	lim->max_input = 50LL << 20;
	lim->max_output = 100LL << 20;
	lim->max_pages = 500;
	lim->font = NULL;
}

static int read_all(int fd, long long max, buf *b)
{
	char tmp[65536];

	buf_init(b, (size_t)max);
	for (;;) {
		ssize_t n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		if (buf_append(b, tmp, (size_t)n) < 0)
			return -2;
	}
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int deny(scmp_filter_ctx f, int nr)
{
	return nr < 0 ? 0 : seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), nr, 0);
}

/* The filter: default allow, then the refusals listed in sandbox.h. */
int codec_sandbox_enter(int allow_ro_open)
{
	static const char *const denied[] = {
		"socket", "socketpair", "connect", "bind", "listen", "accept", "accept4",
		"execve", "execveat", "fork", "vfork", "ptrace", "creat", "open_by_handle_at",
		"name_to_handle_at", "mknod", "mknodat", "link", "linkat", "symlink", "symlinkat",
		"unlink", "unlinkat", "rename", "renameat", "renameat2", "mkdir", "mkdirat",
		"rmdir", "chmod", "fchmod", "fchmodat", "chown", "fchown", "lchown", "fchownat",
		"truncate", "mount", "umount2", "chroot", "pivot_root", "setuid", "setgid",
		"process_vm_writev", "kill", "tkill",
	};
	scmp_filter_ctx f = seccomp_init(SCMP_ACT_ALLOW);
	int rc = 0;

	if (!f)
		return -1;
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++)
		rc |= deny(f, seccomp_syscall_resolve_name(denied[i]));
	/* clone: threads only; clone3 hides its flags, so it is refused (glibc falls back). */
	rc |= seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
			       SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, 0));
	rc |= deny(f, seccomp_syscall_resolve_name("clone3"));
	if (allow_ro_open) {
		rc |= seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(open), 1,
				       SCMP_A1(SCMP_CMP_MASKED_EQ, O_ACCMODE | O_CREAT, O_WRONLY));
		rc |= seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(openat), 1,
				       SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE, O_WRONLY));
		rc |= seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(openat), 1,
				       SCMP_A2(SCMP_CMP_MASKED_EQ, O_ACCMODE, O_RDWR));
		rc |= seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(openat), 1,
				       SCMP_A2(SCMP_CMP_MASKED_EQ, O_CREAT, O_CREAT));
		rc |= seccomp_rule_add(f, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(open), 1,
				       SCMP_A1(SCMP_CMP_MASKED_EQ, O_ACCMODE, O_RDWR));
	} else {
		rc |= deny(f, SCMP_SYS(open));
		rc |= deny(f, SCMP_SYS(openat));
		rc |= deny(f, seccomp_syscall_resolve_name("openat2"));
	}
	if (rc == 0)
		rc = seccomp_load(f);
	seccomp_release(f);
	return rc;
}

static void set_limit(int res, long long v)
{
	struct rlimit rl;

	if (v <= 0)
		return;
	rl.rlim_cur = (rlim_t)v;
	rl.rlim_max = (rlim_t)v + (res == RLIMIT_CPU ? 1 : 0);	/* SIGXCPU before SIGKILL */
	setrlimit(res, &rl);
}

static void report(int pfd, const codec_result *r)
{
	job_report rep;

	memset(&rep, 0, sizeof(rep));
	snprintf(rep.status, sizeof(rep.status), "%s", r->status);
	snprintf(rep.reason, sizeof(rep.reason), "%s", r->reason);
	rep.pages = (uint32_t)r->pages;
	rep.profile = r->target.profile;
	rep.coding = r->target.coding;
	rep.xres = r->target.xres;
	rep.yres = r->target.yres;
	rep.width = r->target.width;
	snprintf(rep.paper, sizeof(rep.paper), "%s", r->target.paper_name ? r->target.paper_name : "");
	write_all(pfd, (const char *)&rep, sizeof(rep));
}

static void child(const int *in_fds, const char *const *types, size_t nin, int out_fd,
		  const char *target, const codec_limits *lim, int pfd)
{
	codec_input in[CODEC_MAX_PARTS];
	buf data[CODEC_MAX_PARTS], out;
	codec_result r;
	fs_expr *caps = NULL;
	char err[256];
	int pdf = 0;

	memset(&r, 0, sizeof(r));
	snprintf(r.status, sizeof(r.status), "5.6.5");
	if (render_init(lim->font, err, sizeof(err)) < 0)
		msg_warn("%s (text parts will fail)", err);
	for (size_t i = 0; i < nin; i++) {
		int rc = read_all(in_fds[i], lim->max_input, &data[i]);
		if (rc < 0) {
			snprintf(r.reason, sizeof(r.reason), "input part %zu: %s", i + 1,
				 rc == -2 ? "larger than codec_max_input_size" : "read error");
			report(pfd, &r);
			_exit(0);
		}
		in[i].data = (const uint8_t *)data[i].data;
		in[i].len = data[i].len;
		in[i].type = types ? types[i] : NULL;
		pdf |= !strcmp(in[i].type && strcmp(in[i].type, "application/octet-stream") ? in[i].type
			       : codec_sniff(in[i].data, in[i].len), "application/pdf");
	}
	if (target && *target && (caps = fs_parse(target, strlen(target), err, sizeof(err))) == NULL) {
		snprintf(r.status, sizeof(r.status), "5.5.4");
		snprintf(r.reason, sizeof(r.reason), "bad target expression: %.200s", err);
		report(pfd, &r);
		_exit(0);
	}
	set_limit(RLIMIT_CPU, lim->cpu_seconds);
#ifndef CODEC_NO_AS_LIMIT
	set_limit(RLIMIT_AS, lim->memory_bytes);
#endif
	set_limit(RLIMIT_FSIZE, lim->max_output);
	set_limit(RLIMIT_CORE, 0);
	if (codec_sandbox_enter(pdf) < 0) {
		snprintf(r.status, sizeof(r.status), "4.3.0");
		snprintf(r.reason, sizeof(r.reason), "cannot enter the sandbox");
		report(pfd, &r);
		_exit(0);
	}
	buf_init(&out, (size_t)lim->max_output);
	if (codec_convert(in, nin, caps, lim->max_pages, &out, &r) == 0 &&
	    write_all(out_fd, out.data, out.len) < 0) {
		snprintf(r.status, sizeof(r.status), "4.3.0");
		snprintf(r.reason, sizeof(r.reason), "cannot write the output: %s", strerror(errno));
	}
	report(pfd, &r);
	_exit(0);
}

static const char *death(int st)
{
	if (WIFSIGNALED(st)) {
		switch (WTERMSIG(st)) {
		case SIGXCPU: return "CPU time limit reached";
		case SIGKILL: return "killed (time or memory limit)";
		case SIGSYS: return "sandbox violation";
		case SIGSEGV: case SIGBUS: case SIGABRT: return "converter crashed (or ran out of memory)";
		default: return "converter killed";
		}
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 1)
		return "converter stopped (out of memory: codec_memory_limit?)";
	return "converter exited without a result";
}

int codec_job_run(const int *in_fds, const char *const *types, size_t nin, int out_fd,
		  const char *target, const codec_limits *lim, codec_result *res)
{
	int p[2], st = 0;
	off_t start = lseek(out_fd, 0, SEEK_CUR);
	job_report rep;
	ssize_t got = 0;
	pid_t pid;
	time_t deadline = time(NULL) + (lim->wall_seconds > 0 ? lim->wall_seconds : 120);

	memset(res, 0, sizeof(*res));
	if (nin == 0 || nin > CODEC_MAX_PARTS) {
		snprintf(res->status, sizeof(res->status), "5.6.5");
		snprintf(res->reason, sizeof(res->reason), "%zu input parts (1 to %d)", nin, CODEC_MAX_PARTS);
		return 0;
	}
	if (pipe(p) < 0 || (pid = fork()) < 0) {
		snprintf(res->status, sizeof(res->status), "4.3.0");
		snprintf(res->reason, sizeof(res->reason), "cannot start a job: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		child(in_fds, types, nin, out_fd, target, lim, p[1]);
	}
	close(p[1]);
	while (got < (ssize_t)sizeof(rep)) {
		struct pollfd pf = { p[0], POLLIN, 0 };
		int left = (int)(deadline - time(NULL));
		ssize_t n;
		if (left <= 0 || poll(&pf, 1, left * 1000) == 0) {
			kill(pid, SIGKILL);
			break;
		}
		n = read(p[0], (char *)&rep + got, sizeof(rep) - (size_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += n;
	}
	close(p[0]);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (got == (ssize_t)sizeof(rep)) {
		rep.status[sizeof(rep.status) - 1] = 0;
		rep.reason[sizeof(rep.reason) - 1] = 0;
		rep.paper[sizeof(rep.paper) - 1] = 0;
		memcpy(res->status, rep.status, sizeof(res->status));
		memcpy(res->reason, rep.reason, sizeof(res->reason));
		res->pages = rep.pages;
		res->target.profile = (tiff_profile)rep.profile;
		res->target.coding = (t4_coding)rep.coding;
		res->target.xres = rep.xres;
		res->target.yres = rep.yres;
		res->target.width = rep.width;
		res->target.paper_name = !strcmp(rep.paper, "letter") ? "letter" : !strcmp(rep.paper, "legal") ? "legal" :
					 !strcmp(rep.paper, "B4") ? "B4" : !strcmp(rep.paper, "A3") ? "A3" : "A4";
	} else {
		snprintf(res->status, sizeof(res->status), "5.6.5");
		snprintf(res->reason, sizeof(res->reason), "conversion failed: %s",
			 time(NULL) >= deadline ? "time limit reached" : death(st));
	}
	if (strcmp(res->status, "2.0.0") != 0 && start >= 0) {
		struct stat sb;
		if (fstat(out_fd, &sb) == 0 && S_ISREG(sb.st_mode) && ftruncate(out_fd, start) == 0)
			lseek(out_fd, start, SEEK_SET);
	}
	return 0;
}
