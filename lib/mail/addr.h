/*
 * addr.h - envelope addresses: RFC 5321 paths and RFC 3191/3192 fax addresses.
 *
 * Contract: addr_parse_path() takes the text after "MAIL FROM:" / "RCPT TO:" up to
 * the parameters, requires the angle brackets, drops a source route ("@a,@b:"),
 * and rejects what Postfix rejects (unbalanced quotes or brackets, bare "%" / "!"
 * routing in the local part when told to, control characters, over-long parts:
 * local part 64, domain 255, path 256). Parameters (SIZE=, BODY=, NOTIFY=, ORCPT=,
 * RET=, ENVID=, CONNEG, AUTH=) are split into name/value pairs with xtext decoded.
 * fax_addr_parse() understands "FAX=+493012345/T33S=12@domain" (RFC 3192) and
 * returns the E.164 number and the optional T.33 subaddress.
 */
#ifndef FAXPOST_MAIL_ADDR_H
#define FAXPOST_MAIL_ADDR_H

#include <stddef.h>

#define ADDR_MAX_LOCAL 64
#define ADDR_MAX_DOMAIN 255
#define ADDR_MAX_PATH 256
#define ADDR_MAX_PARAMS 16

typedef struct addr_param {
	char name[32];		/* upper-cased */
	char value[512];	/* xtext-decoded where the parameter is xtext */
} addr_param;

typedef struct addr_path {
	char addr[ADDR_MAX_PATH + 1];	/* "local@domain", "" for <> */
	char local[ADDR_MAX_LOCAL * 2 + 3];
	char domain[ADDR_MAX_DOMAIN + 1];	/* lower-cased */
	size_t nparam;
	addr_param param[ADDR_MAX_PARAMS];
} addr_path;

/* text: what follows "FROM:" or "TO:". Returns 0, or -1 with a reply-ready reason
 * ("501 5.1.3 Bad recipient address syntax"). */
int addr_parse_path(const char *text, addr_path *out, char *why, size_t whylen);
const char *addr_param_get(const addr_path *p, const char *name);

typedef struct fax_addr {
	char number[40];	/* "+493012345" (E.164 with '+', digits only after it) */
	char subaddr[40];	/* T.33 subaddress or "" */
	char domain[ADDR_MAX_DOMAIN + 1];
} fax_addr;

/* 1 if addr is a FAX= address (parsed into out), 0 if not, -1 if malformed. */
int fax_addr_parse(const char *addr, fax_addr *out);

/* xtext (RFC 3461) decode; -1 on bad encoding. */
int xtext_decode(const char *in, char *out, size_t outlen);
int xtext_encode(const char *in, char *out, size_t outlen);

#endif
