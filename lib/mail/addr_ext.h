/*
 * addr_ext.h - additions to addr.h (owned by the lib helper; addr.h is the contract).
 *
 * addr_parse_path() cannot know whether it parses a sender or a recipient, so for
 * address-syntax problems its why is a short reason without a reply code ("domain
 * label longer than 63 octets"); callers prefix "501 5.1.7 Bad sender address
 * syntax: " or "501 5.1.3 Bad recipient address syntax: ". Parameter problems come
 * back as full replies ("501 5.5.4 ...", "555 5.5.4 ..."), the same for both.
 * The two functions here give full replies with the role's codes:
 *   sender:    501 5.1.7 Bad sender address syntax[: reason]
 *   recipient: 501 5.1.3 Bad recipient address syntax[: reason]
 *              501 5.1.2 Bad recipient domain syntax: reason   (the domain part)
 *              501 5.1.3 Path too long
 * and 553 5.6.7 for 8-bit address text (no SMTPUTF8 here).
 *
 * Routing: the parse keeps what the client wrote. "user%other@ours", "\"a@b\"@ours",
 * "a@b@ours", "b!a@ours" and "b!a" keep their '%', '@' or '!' in local, so a relay
 * check sees them; addr_has_routing() says so, addr_next_hop() names the domain such
 * an address would really go to if routing were honoured. A source route
 * ("@a,@b:user@d") is dropped (RFC 5321 sect. 3.3/C), so d is the destination.
 */
#ifndef FAXPOST_MAIL_ADDR_EXT_H
#define FAXPOST_MAIL_ADDR_EXT_H

#include <stddef.h>

#include "mail/addr.h"

int addr_parse_sender(const char *text, addr_path *out, char *why, size_t whylen);
int addr_parse_recipient(const char *text, addr_path *out, char *why, size_t whylen);

/* 1 if the local part (unquoted) holds '@', '%' or '!' (sender-specified routing). */
int addr_has_routing(const addr_path *p);
/* The domain the address would go to if its routing were honoured (lower-cased):
 * "a%b%c@d" -> "c", "a@b@d" and "\"a@b\"@d" -> "b", "b!a@d" and "b!a" -> "b",
 * otherwise the domain itself. */
void addr_next_hop(const addr_path *p, char *out, size_t outlen);
/* The local part without RFC 5321 quoting ("\"a b\"" -> "a b"); -1 if it does not fit. */
int addr_local_unquoted(const addr_path *p, char *out, size_t outlen);

#endif
