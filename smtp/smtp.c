/*
 * smtp.c - the SMTP client delivery agent: request handling and next-hop resolution.
 *
 * Contract: one IPC_DELIVER per connection from qmgr. The nexthop is Postfix's form:
 * "[host]:port" or "[host]" = that host, no MX lookup; "host:port" or "host" = MX
 * lookup (then A/AAAA; no MX = the host itself), port smtp_tcp_port unless given.
 * Addresses are tried in order (lowest MX preference first, at most
 * smtp_mx_address_limit) until a session decides every recipient; what is still open
 * after the last address gets the last session's reason: 4.x.x deferred, or 5.x.x
 * when the last server refused permanently. DNS: NXDOMAIN 5.1.2, null MX 5.1.10,
 * SERVFAIL/timeout 4.4.3. Port 465 (or smtp_tls_wrappermode) is implicit TLS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>

#include "mail/config.h"
#include "mail/pop_mailbox.h"
#include "mail/daemon.h"
#include "mail/deliver_req.h"
#include "mail/dns.h"
#include "util/msg.h"
#include "smtp.h"

static smtp_cfg cfg;

/* Split a nexthop into host, port and whether MX lookup applies. */
static int smtp_parse_nexthop(const char *nexthop, char *host, size_t hlen, int *port, int *mx)
{
	const char *p = nexthop, *colon;

	*port = cfg.default_port;
	*mx = 1;
	if (p[0] == '[') {
		const char *close = strchr(p, ']');
		if (close == NULL || str_ncopy(host, hlen, p + 1, (size_t)(close - p - 1)) < 0)
			return -1;
		*mx = 0;
		colon = close[1] == ':' ? close + 1 : NULL;
		if (close[1] && !colon)
			return -1;
	} else {
		colon = strrchr(p, ':');
		if (str_ncopy(host, hlen, p, colon ? (size_t)(colon - p) : strlen(p)) < 0)
			return -1;
	}
	if (colon) {
		char *end;
		long v = strtol(colon + 1, &end, 10);
		if (*end || v <= 0 || v > 65535)
			return -1;
		*port = (int)v;
	}
	return host[0] ? 0 : -1;
}

/* RFC 5321 5.1: when we are one of the MX hosts, only those with a lower preference
 * may be tried (Postfix: "mail for X loops back to myself" when none is left). */
static size_t smtp_trim_self(dns_addr *a, size_t n)
{
	int self_pref = -1;

	for (size_t i = 0; i < n; i++)
		if (cfg.myhostname[0] && strcasecmp(a[i].host, cfg.myhostname) == 0
		    && (self_pref < 0 || a[i].pref < self_pref))
			self_pref = a[i].pref;
	if (self_pref < 0)
		return n;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		if (a[i].pref < self_pref)
			a[k++] = a[i];
	return k;
}

static void smtp_finish_open(deliver_req *req, const char *status, const char *why)
{
	deliver_req_status_rest(req, status, why);
}

/* POP-before-SMTP (the "separate SMTP server" setting of fax devices): an ISP relay
 * that only accepts mail from a client that has just logged in to its POP3 mailbox.
 * Returns -1 (the request answered: deferred) when the login fails. */
static int smtp_pop_first(deliver_req *req)
{
	char err[512], why[600];

	if (!conf_bool("smtp_pop_before_smtp") || strcmp(req->nexthop, conf_str("relayhost")) != 0)
		return 0;
	if (pop_before_smtp(err, sizeof err) == 0)
		return 0;
	snprintf(why, sizeof why, "POP-before-SMTP login failed: %s", err);
	smtp_finish_open(req, "4.7.0", why);
	return -1;
}

static void smtp_deliver(deliver_req *req)
{
	char host[256], why[1400] = "", st[16] = "4.4.1", err[512] = "";
	int port, mx;
	dns_addr *addrs;
	size_t n = 0;
	int rc;

	if (smtp_session_cached(&cfg, req, why, sizeof why, st, sizeof st) == 0)
		return;
	if (smtp_pop_first(req) < 0)
		return;
	if (smtp_parse_nexthop(req->nexthop, host, sizeof host, &port, &mx) < 0) {
		snprintf(why, sizeof why, "bad next hop \"%s\"", req->nexthop);
		smtp_finish_open(req, "5.3.5", why);
		return;
	}
	addrs = xcalloc((size_t)cfg.mx_limit, sizeof *addrs);
	if (mx)
		rc = dns_mx_addrs(cfg.dns_server, host, addrs, (size_t)cfg.mx_limit, &n, err, sizeof err);
	else
		rc = dns_host_addrs(cfg.dns_server, host, 0, addrs, (size_t)cfg.mx_limit, &n, err, sizeof err);
	if (rc != DNS_OK) {
		const char *status = rc == DNS_TEMP ? "4.4.3" : rc == DNS_NULLMX ? "5.1.10" : "5.1.2";
		snprintf(why, sizeof why, "%s", err[0] ? err : "Host or domain name not found");
		smtp_finish_open(req, status, why);
		free(addrs);
		return;
	}
	if (mx && (n = smtp_trim_self(addrs, n)) == 0) {
		snprintf(why, sizeof why, "mail for %s loops back to myself", host);
		smtp_finish_open(req, "5.4.6", why);
		free(addrs);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		smtp_target t;
		memset(&t, 0, sizeof t);
		snprintf(t.host, sizeof t.host, "%s", addrs[i].host);
		snprintf(t.ip, sizeof t.ip, "%s", addrs[i].ip);
		t.port = port;
		snprintf(t.nexthop, sizeof t.nexthop, "%s", req->nexthop);
		if (smtp_session(&cfg, req, &t, why, sizeof why, st, sizeof st) == 0)
			break;
	}
	free(addrs);
	/* Postfix: a permanent refusal from the last server bounces; else defer */
	if (why[0] == 0)
		snprintf(why, sizeof why, "no result");
	smtp_finish_open(req, st[0] == '5' ? st : st[0] == '4' ? st : "4.4.1", why);
}

static void smtp_serve(daemon_ctx *ctx, int fd)
{
	deliver_req req;
	char err[512];
	struct timeval t0, t1;

	if (deliver_req_read(fd, &req, err, sizeof err) < 0) {
		msg_warn("bad delivery request: %s", err);
		deliver_req_free(&req);
		return;
	}
	gettimeofday(&t0, NULL);
	smtp_deliver(&req);
	gettimeofday(&t1, NULL);
	double d = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_usec - t0.tv_usec) / 1e6;
	double c = req.setup_s < d ? req.setup_s : d;
	snprintf(req.delays, sizeof req.delays, "%.3f/%.3f", c, d - c);
	if (deliver_req_reply(fd, &req) < 0)
		msg_warn("%s: cannot send the reply to qmgr: %m", req.queue_id);
	deliver_req_free(&req);
}

static int smtp_ms(const char *param)
{
	long long v = conf_time(param) * 1000;
	return v > 0 && v < 2000000000 ? (int)v : 300000;
}

static void smtp_close_maps(void)
{
	if (cfg.passwords)
		dict_close(cfg.passwords);
	cfg.passwords = NULL;
}

static void smtp_post_jail(daemon_ctx *ctx)
{
	char err[512];
	const char *maps = conf_str("smtp_sasl_password_maps");

	cfg.helo_name = conf_str("smtp_helo_name");
	cfg.myhostname = conf_str("myhostname");
	if (!cfg.helo_name[0])
		cfg.helo_name = "localhost";
	cfg.connect_ms = smtp_ms("smtp_connect_timeout");
	cfg.helo_ms = smtp_ms("smtp_helo_timeout");
	cfg.reply_ms = smtp_ms("smtp_reply_timeout");
	cfg.connect_delay = conf_time("smtp_connect_delay");
	cfg.tls_level = conf_str("smtp_tls_security_level");
	if (strcmp(cfg.tls_level, "none") && strcmp(cfg.tls_level, "may") && strcmp(cfg.tls_level, "verify"))
		msg_fatal("smtp_tls_security_level = %s: want none, may or verify", cfg.tls_level);
	cfg.wrappermode = conf_bool("smtp_tls_wrappermode");
	cfg.sasl_tls_only = conf_bool("smtp_sasl_tls_only");
	cfg.line_limit = (size_t)(conf_int("smtp_reply_line_limit") > 0 ? conf_int("smtp_reply_line_limit") : 2048);
	cfg.max_lines = (int)conf_int("smtp_reply_max_lines");
	cfg.mx_limit = (int)conf_int("smtp_mx_address_limit");
	if (cfg.mx_limit < 1)
		cfg.mx_limit = 1;
	cfg.conneg = conf_bool("smtp_conneg");
	cfg.pipelining = conf_bool("smtp_pipelining");
	cfg.dns_server = conf_str("dns_server");
	cfg.default_port = (int)conf_int("smtp_tcp_port");
	cfg.cache_time = conf_time("smtp_connection_cache_time_limit");
	cfg.queue_dir = conf_str("queue_directory");
	cfg.codec_timeout = (int)conf_time("codec_time_limit");
	if (strcmp(cfg.tls_level, "none") != 0 || cfg.wrappermode) {
		const char *caf = conf_str("smtp_tls_CAfile"), *cap = conf_str("smtp_tls_CApath");
		cfg.tls = tls_ctx_client(caf[0] ? caf : NULL, cap[0] ? cap : NULL, err, sizeof err);
		if (cfg.tls == NULL)
			msg_fatal("TLS client context: %s", err);
	}
	atexit(smtp_cache_close);	/* QUIT a kept connection when the process ends */
	if (maps[0] && (cfg.passwords = dict_open(maps, 0, err, sizeof err)) == NULL)
		msg_fatal("smtp_sasl_password_maps = %s: %s", maps, err);
	atexit(smtp_close_maps);
}

int main(int argc, char **argv)
{
	static const daemon_ops ops = {
		.post_jail = smtp_post_jail,
		.serve = smtp_serve,
		.max_use = -1,
		.max_idle = -1,
	};

	return daemon_main(argc, argv, "smtp", &ops);
}
