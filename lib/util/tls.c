/*
 * tls.c - OpenSSL contexts for stream_starttls_*() (see stream.h).
 *
 * Contract: tls_ctx_client() trusts ca_file/ca_path when given, else the system's
 * default CA store; whether a connection verifies is decided per connection by
 * stream_starttls_client(). tls_ctx_server() loads a certificate chain and its key
 * and checks they match. Both require TLS 1.2 or later and treat a peer that closes
 * without close_notify as plain EOF (mail protocols end with QUIT anyway).
 */
#include <stdio.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "util/buf.h"
#include "util/stream.h"

static void tls_error(const char *what, char *err, size_t errlen)
{
	char e[256];
	unsigned long code = ERR_get_error();

	if (code)
		ERR_error_string_n(code, e, sizeof(e));
	else
		str_copy(e, sizeof(e), "unknown error");
	snprintf(err, errlen, "%s: %s", what, e);
	ERR_clear_error();
}

static SSL_CTX *tls_ctx_new(const SSL_METHOD *method, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(method);

	if (!ctx) {
		tls_error("TLS context", err, errlen);
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION
#ifdef SSL_OP_IGNORE_UNEXPECTED_EOF
			    | SSL_OP_IGNORE_UNEXPECTED_EOF
#endif
			    );
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
	return ctx;
}

tls_ctx *tls_ctx_client(const char *ca_file, const char *ca_path, char *err, size_t errlen)
{
	SSL_CTX *ctx = tls_ctx_new(TLS_client_method(), err, errlen);
	int ok;

	if (!ctx)
		return NULL;
	if ((ca_file && *ca_file) || (ca_path && *ca_path))
		ok = SSL_CTX_load_verify_locations(ctx, ca_file && *ca_file ? ca_file : NULL,
						   ca_path && *ca_path ? ca_path : NULL);
	else
		ok = SSL_CTX_set_default_verify_paths(ctx);
	if (ok != 1) {
		tls_error("TLS CA certificates", err, errlen);
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	return ctx;
}

tls_ctx *tls_ctx_server(const char *cert_file, const char *key_file, char *err, size_t errlen)
{
	SSL_CTX *ctx;
	char what[512];

	if (!cert_file || !*cert_file) {
		snprintf(err, errlen, "TLS server: no certificate file");
		return NULL;
	}
	if ((ctx = tls_ctx_new(TLS_server_method(), err, errlen)) == NULL)
		return NULL;
	if (!key_file || !*key_file)
		key_file = cert_file;	/* key and chain in one file */
	if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
		snprintf(what, sizeof(what), "TLS certificate %s", cert_file);
		tls_error(what, err, errlen);
	} else if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
		snprintf(what, sizeof(what), "TLS key %s", key_file);
		tls_error(what, err, errlen);
	} else if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(what, sizeof(what), "TLS key %s does not match certificate %s",
			 key_file, cert_file);
		tls_error(what, err, errlen);
	} else {
		return ctx;
	}
	SSL_CTX_free(ctx);
	return NULL;
}

void tls_ctx_free(tls_ctx *ctx)
{
	SSL_CTX_free(ctx);
}
