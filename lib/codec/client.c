/*
 * client.c - the IPC_CONVERT client side (see client.h).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "codec/client.h"
#include "mail/ipc.h"
#include "mail/ipc_proto.h"

static int temp_fail(codec_result *r, const char *why, const char *path)
{
	snprintf(r->status, sizeof(r->status), "4.3.0");
	snprintf(r->reason, sizeof(r->reason), "%s (%.200s)", why, path);
	return -1;
}

static const char *paper_const(const char *s)
{
	static const char *const names[] = { "A4", "letter", "legal", "B4", "A3" };

	for (size_t i = 0; s && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i]))
			return names[i];
	return "A4";
}

int codecd_convert(const char *path, const int *in_fds, const char *const *types, size_t nin,
		   int out_fd, const char *target, int timeout_ms, codec_result *r)
{
	char err[256], key[32];
	ipc_msg *req, *rep;
	const char *s;
	int64_t v;
	int sock, rc;

	memset(r, 0, sizeof(*r));
	if (nin == 0 || nin > CODEC_MAX_PARTS)
		return temp_fail(r, "bad number of input parts", path);
	if ((sock = ipc_connect(path, timeout_ms < 5000 ? timeout_ms : 5000)) < 0)
		return temp_fail(r, "cannot reach codecd", path);
	req = ipc_new(IPC_CONVERT);
	ipc_put_str(req, "target", target ? target : "");
	ipc_put_int(req, "in_count", (int64_t)nin);
	for (size_t i = 0; i < nin; i++) {
		if (types && types[i]) {
			snprintf(key, sizeof(key), "in_type.%zu", i);
			ipc_put_str(req, key, types[i]);
		}
		ipc_put_fd(req, in_fds[i]);
	}
	ipc_put_fd(req, out_fd);
	rc = ipc_send(sock, req, timeout_ms);
	ipc_free(req);
	rep = rc < 0 ? NULL : ipc_recv(sock, 65536, timeout_ms, err, sizeof(err));
	close(sock);
	if (!rep || ipc_type(rep) != IPC_CONVERT_REPLY) {
		ipc_free(rep);
		return temp_fail(r, "no answer from codecd", path);
	}
	snprintf(r->status, sizeof(r->status), "%s", (s = ipc_get_str(rep, "status")) ? s : "4.3.0");
	snprintf(r->reason, sizeof(r->reason), "%s", (s = ipc_get_str(rep, "reason")) ? s : "");
	if (ipc_get_int(rep, "pages", &v) == 0)
		r->pages = (size_t)v;
	if (ipc_get_int(rep, "xres", &v) == 0)
		r->target.xres = (unsigned)v;
	if (ipc_get_int(rep, "yres", &v) == 0)
		r->target.yres = (unsigned)v;
	if (ipc_get_int(rep, "width", &v) == 0)
		r->target.width = (uint32_t)v;
	s = ipc_get_str(rep, "profile");
	r->target.profile = s && !strcmp(s, "S") ? TIFF_PROFILE_S : s && !strcmp(s, "J") ? TIFF_PROFILE_J : TIFF_PROFILE_F;
	s = ipc_get_str(rep, "coding");
	r->target.coding = !s || !strcmp(s, "JBIG") ? 0 : !strcmp(s, "MMR") ? T4_MMR : !strcmp(s, "MR") ? T4_MR : T4_MH;
	r->target.paper_name = paper_const(ipc_get_str(rep, "paper"));
	ipc_free(rep);
	return 0;
}
