/*
 * smtpd.h - what smtpd.c (configuration, checks, storage hooks) and smtpd_server.c
 * (the event loop) share inside the smtpd program.
 */
#ifndef FAXPOST_SMTPD_H
#define FAXPOST_SMTPD_H

#include "mail/daemon.h"
#include "mail/dict.h"
#include "smtpd_check.h"
#include "smtpd_proto.h"

typedef struct smtpd_global {
	smtpd_conf conf;
	smtpd_hooks hooks;
	const char *queue_dir;
	smtpd_nets mynetworks;
	smtpd_domains local_domains;
	smtpd_domains fax_domains;
	dict *sasl_db;
	dict *caps_db;
	dict *fax_caps_db;		/* data_directory/fax_capabilities (faxd) */
	char *fax_caps;			/* fax_capabilities, canonical */
	void *tls_ctx;			/* SSL_CTX or NULL */
	int wrappermode;
	int timeout_ms;
	int tls_timeout_ms;
	int greet_wait_ms;		/* smtpd_greet_wait */
	int conn_limit;
	int client_limit;
	int commit_threads;
	int peername_lookup;		/* smtpd_peername_lookup */
	char *dns_server;		/* dns_server ("" = the system resolver) */
} smtpd_global;

extern smtpd_global smtpd_g;

void smtpd_server_loop(daemon_ctx *ctx);
/* Start the crypt of pass against hash (NULL: unknown user) for session s. */
void smtpd_server_auth_submit(smtpd_sess *s, const char *pass, const char *hash);

#endif
