/*
 * codecd.c - the conversion service: one IPC_CONVERT request per connection.
 *
 * Contract: see codecd/README.md. The request is checked (type, counts, descriptors)
 * before any work; the job runs in a sandboxed child (lib/codec/sandbox.c) so that a
 * hostile document can cost at most the configured CPU, memory and time and cannot
 * touch the network or the file system. One log line per job:
 * "convert: parts=N target=..., status=S, pages=P, profile=F/MMR 204x196 (reason)".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec/sandbox.h"
#include "mail/config.h"
#include "mail/daemon.h"
#include "mail/ipc.h"
#include "mail/ipc_proto.h"
#include "util/msg.h"

#define CODECD_MAX_REQ (64 * 1024)

static const char *profile_name(tiff_profile p)
{
	return p == TIFF_PROFILE_S ? "S" : p == TIFF_PROFILE_J ? "J" : "F";
}

static const char *coding_name(const codec_target *t)
{
	return t->profile == TIFF_PROFILE_J ? "JBIG" : t->coding == T4_MMR ? "MMR" :
	       t->coding == T4_MR ? "MR" : "MH";
}

static void codecd_limits(codec_limits *lim)
{
	codec_limits_default(lim);
	lim->cpu_seconds = conf_time("codec_cpu_limit");
	lim->memory_bytes = conf_size("codec_memory_limit");
	lim->wall_seconds = conf_time("codec_time_limit");
	lim->max_input = conf_size("codec_max_input_size");
	lim->max_output = conf_size("codec_max_output_size");
	lim->max_pages = (unsigned)conf_int("codec_max_pages");
	lim->font = conf_str("codec_font");
}

static void reply(int fd, const codec_result *r)
{
	ipc_msg *m = ipc_new(IPC_CONVERT_REPLY);

	ipc_put_str(m, "status", r->status);
	ipc_put_str(m, "reason", r->reason);
	if (!strcmp(r->status, "2.0.0")) {
		ipc_put_int(m, "pages", (int64_t)r->pages);
		ipc_put_str(m, "profile", profile_name(r->target.profile));
		ipc_put_str(m, "coding", coding_name(&r->target));
		ipc_put_int(m, "xres", r->target.xres);
		ipc_put_int(m, "yres", r->target.yres);
		ipc_put_int(m, "width", r->target.width);
		ipc_put_str(m, "paper", r->target.paper_name ? r->target.paper_name : "A4");
	}
	if (ipc_send(fd, m, 10000) < 0)
		msg_warn("convert: cannot send the reply");
	ipc_free(m);
}

static void bad_request(int fd, const char *why)
{
	codec_result r;

	memset(&r, 0, sizeof(r));
	snprintf(r.status, sizeof(r.status), "5.5.4");
	snprintf(r.reason, sizeof(r.reason), "bad request: %s", why);
	msg_warn("convert: %s", r.reason);
	reply(fd, &r);
}

static void codecd_serve(daemon_ctx *ctx, int fd)
{
	char err[256], key[32];
	ipc_msg *m = ipc_recv(fd, CODECD_MAX_REQ, 30000, err, sizeof(err));
	int64_t nin = 0;
	int fds[CODEC_MAX_PARTS + 1];
	const char *types[CODEC_MAX_PARTS], *target;
	codec_limits lim;
	codec_result r;
	size_t nfd;

	(void)ctx;
	if (!m) {
		msg_warn("convert: no request: %s", err);
		return;
	}
	target = ipc_get_str(m, "target");
	nfd = ipc_nfds(m);
	if (ipc_type(m) != IPC_CONVERT) {
		bad_request(fd, "not a convert request");
	} else if (ipc_get_int(m, "in_count", &nin) < 0 || nin < 1 || nin > CODEC_MAX_PARTS) {
		bad_request(fd, "in_count missing or out of range");
	} else if (nfd != (size_t)nin + 1) {
		bad_request(fd, "need one descriptor per input part and one for the output");
	} else {
		for (int64_t i = 0; i < nin; i++) {
			snprintf(key, sizeof(key), "in_type.%d", (int)i);
			types[i] = ipc_get_str(m, key);
			fds[i] = ipc_take_fd(m, (size_t)i);
		}
		fds[nin] = ipc_take_fd(m, (size_t)nin);
		codecd_limits(&lim);
		codec_job_run(fds, types, (size_t)nin, fds[nin], target, &lim, &r);
		for (int64_t i = 0; i <= nin; i++)
			close(fds[i]);
		if (!strcmp(r.status, "2.0.0"))
			msg_info("convert: parts=%d, status=%s, pages=%zu, profile=%s/%s %ux%u width=%u",
				 (int)nin, r.status, r.pages, profile_name(r.target.profile),
				 coding_name(&r.target), r.target.xres, r.target.yres, r.target.width);
		else
			msg_info("convert: parts=%d, status=%s (%s)", (int)nin, r.status, r.reason);
		reply(fd, &r);
	}
	/* Descriptors not taken are closed by ipc_free. */
	ipc_free(m);
}

int main(int argc, char **argv)
{
	static const daemon_ops ops = {
		.serve = codecd_serve,
		.max_use = -1,
		.max_idle = -1,
	};

	return daemon_main(argc, argv, "codecd", &ops);
}
