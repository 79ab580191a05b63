/*
 * test_qmgr_sched.c - unit tests of qmgr's pure logic: routing (route.c) and
 * scheduling arithmetic (sched.c).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "mail/dsn.h"
#include "mail/queue.h"
#include "../route.h"
#include "../sched.h"

/* A tiny key/value table standing in for a dict. */
typedef struct kv { const char *k, *v; } kv;

static const char *kv_lookup(void *ctx, const char *key)
{
	for (const kv *p = ctx; p->k; p++)
		if (strcmp(p->k, key) == 0)
			return p->v;
	return NULL;
}

static char *locals[] = { "faxpost.test", "localhost" };
static char *faxes[] = { "fax.test" };
static kv transports[] = {
	{ "special.example", "smtp:[10.0.0.9]:2525" },
	{ ".sub.example", "relay:" },
	{ "boss@other.example", "local:" },
	{ NULL, NULL },
};

static route_cfg cfg(const char *relayhost)
{
	route_cfg c = { locals, 2, faxes, 1, relayhost, "local", "smtp", "fax",
			kv_lookup, transports };
	return c;
}

START_TEST(t_route_local)
{
	route_cfg c = cfg("");
	route r;
	route_resolve(&c, "anna@FaxPost.Test", &r);
	ck_assert_int_eq(r.error, 0);
	ck_assert_str_eq(r.transport, "local");
	ck_assert_str_eq(r.nexthop, "faxpost.test");
	route_resolve(&c, "root", &r);
	ck_assert_str_eq(r.transport, "local");
}
END_TEST

START_TEST(t_route_direct_and_relay)
{
	route_cfg c = cfg("");
	route r;
	route_resolve(&c, "bob@example.org", &r);
	ck_assert_str_eq(r.transport, "smtp");
	ck_assert_str_eq(r.nexthop, "example.org");
	c = cfg("[relay.isp.example]:587");
	route_resolve(&c, "bob@example.org", &r);
	ck_assert_str_eq(r.transport, "smtp");
	ck_assert_str_eq(r.nexthop, "[relay.isp.example]:587");
	/* local domains are never relayed */
	route_resolve(&c, "anna@localhost", &r);
	ck_assert_str_eq(r.transport, "local");
}
END_TEST

START_TEST(t_route_transport_table)
{
	route_cfg c = cfg("[relay]:25");
	route r;
	route_resolve(&c, "x@special.example", &r);
	ck_assert_str_eq(r.transport, "smtp");
	ck_assert_str_eq(r.nexthop, "[10.0.0.9]:2525");
	route_resolve(&c, "x@a.b.sub.example", &r);
	ck_assert_str_eq(r.transport, "relay");
	ck_assert_str_eq(r.nexthop, "a.b.sub.example");
	/* ".sub.example" does not match sub.example itself */
	route_resolve(&c, "x@sub.example", &r);
	ck_assert_str_eq(r.nexthop, "[relay]:25");
	route_resolve(&c, "boss@other.example", &r);
	ck_assert_str_eq(r.transport, "local");
}
END_TEST

START_TEST(t_route_fax)
{
	route_cfg c = cfg("");
	route r;
	route_resolve(&c, "FAX=+4930123456/T33S=7@fax.test", &r);
	ck_assert_int_eq(r.error, 0);
	ck_assert_str_eq(r.transport, "fax");
	ck_assert_str_eq(r.nexthop, "+4930123456");
	/* a FAX= address in someone else's domain is just mail to relay */
	route_resolve(&c, "FAX=+4930123456@ifax.example", &r);
	ck_assert_str_eq(r.transport, "smtp");
	route_resolve(&c, "FAX=@fax.test", &r);
	ck_assert_int_eq(r.error, 1);
	ck_assert_str_eq(r.dsn, "5.1.3");
}
END_TEST

START_TEST(t_route_default_nexthop)
{
	/* as Postfix: a next hop in default_transport / local_transport wins over the
	 * relayhost and the domain */
	route_cfg c = cfg("[relay]:25");
	route r;
	c.default_transport = "discard:bench";
	route_resolve(&c, "bob@example.org", &r);
	ck_assert_int_eq(r.error, 0);
	ck_assert_str_eq(r.transport, "discard");
	ck_assert_str_eq(r.nexthop, "bench");
	c.default_transport = "relay:";
	route_resolve(&c, "bob@example.org", &r);
	ck_assert_str_eq(r.transport, "relay");
	ck_assert_str_eq(r.nexthop, "[relay]:25");
	/* a table entry with an empty transport takes the parameter's transport part */
	route_resolve(&c, "boss@other.example", &r);
	ck_assert_str_eq(r.transport, "local");
	c.local_transport = "local:mailhost";
	route_resolve(&c, "anna@faxpost.test", &r);
	ck_assert_str_eq(r.transport, "local");
	ck_assert_str_eq(r.nexthop, "mailhost");
	c.default_transport = ":nowhere";
	route_resolve(&c, "bob@example.org", &r);
	ck_assert_int_eq(r.error, 1);
	ck_assert_str_eq(r.dsn, "5.3.5");
}
END_TEST

START_TEST(t_route_bad)
{
	route_cfg c = cfg("");
	route r;
	route_resolve(&c, "", &r);
	ck_assert_int_eq(r.error, 1);
	route_resolve(&c, "user@", &r);
	ck_assert_int_eq(r.error, 1);
	ck_assert_str_eq(r.dsn, "5.1.3");
}
END_TEST

static kv book[] = {
	{ "anna", "FAX=+4930111@fax.test" },
	{ NULL, NULL },
};
static kv aliases[] = {
	{ "team", "anna, bob@example.org, carl" },
	{ "carl", "carl, carl@elsewhere.example" },
	{ "loop1", "loop2" },
	{ "loop2", "loop1" },
	{ "postmaster", "root" },
	{ NULL, NULL },
};

START_TEST(t_rewrite)
{
	route_cfg c = cfg("");
	route_expansion e;
	ck_assert_int_eq(route_rewrite(&c, kv_lookup, book, kv_lookup, aliases,
				       "nobody@faxpost.test", &e), 0);
	ck_assert_int_eq(route_rewrite(&c, kv_lookup, book, kv_lookup, aliases,
				       "anna@faxpost.test", &e), 1);
	ck_assert_int_eq(e.n, 1);
	ck_assert_str_eq(e.addr[0], "FAX=+4930111@fax.test");
	route_expansion_free(&e);
	ck_assert_int_eq(route_rewrite(&c, kv_lookup, book, kv_lookup, aliases,
				       "team@faxpost.test", &e), 1);
	ck_assert_int_eq(e.error, 0);
	ck_assert_int_eq(e.n, 4);
	ck_assert_str_eq(e.addr[0], "FAX=+4930111@fax.test");
	ck_assert_str_eq(e.addr[1], "bob@example.org");
	ck_assert_str_eq(e.addr[2], "carl@faxpost.test");
	ck_assert_str_eq(e.addr[3], "carl@elsewhere.example");
	route_expansion_free(&e);
	/* only local domains use the bare local part as a key */
	ck_assert_int_eq(route_rewrite(&c, kv_lookup, book, kv_lookup, aliases,
				       "team@example.org", &e), 0);
	route_rewrite(&c, kv_lookup, book, kv_lookup, aliases, "loop1@localhost", &e);
	ck_assert_int_eq(e.error, 1);
	route_expansion_free(&e);
}
END_TEST

START_TEST(t_backoff)
{
	/* young message: minimal backoff */
	ck_assert_int_eq(sched_next_retry(1000, 990, 300, 4000), 1300);
	/* age-based in between */
	ck_assert_int_eq(sched_next_retry(10000, 9000, 300, 4000), 11000);
	/* capped */
	ck_assert_int_eq(sched_next_retry(100000, 0, 300, 4000), 104000);
	/* max below min: min wins */
	ck_assert_int_eq(sched_next_retry(100, 0, 300, 10), 400);
	ck_assert_int_eq(sched_expired(1000, 0, 1000), 1);
	ck_assert_int_eq(sched_expired(999, 0, 1000), 0);
	ck_assert_int_eq(sched_warn_due(5000, 0, 0, 0), 0);
	ck_assert_int_eq(sched_warn_due(5000, 0, 4000, 0), 1);
	ck_assert_int_eq(sched_warn_due(5000, 0, 4000, 1), 0);
	ck_assert_int_eq(sched_warn_due(3000, 0, 4000, 0), 0);
}
END_TEST

START_TEST(t_concurrency)
{
	sched s;
	sched_init(&s, 3, 2);
	ck_assert(sched_can_start(&s, "smtp", "a"));
	sched_start(&s, "smtp", "a");
	sched_start(&s, "smtp", "a");
	ck_assert(!sched_can_start(&s, "smtp", "a"));	/* per destination */
	ck_assert(sched_can_start(&s, "smtp", "b"));
	ck_assert(sched_can_start(&s, "local", "a"));	/* key is transport + nexthop */
	sched_start(&s, "local", "a");
	ck_assert(!sched_can_start(&s, "smtp", "b"));	/* total */
	ck_assert_int_eq(sched_active(&s, "smtp", "a"), 2);
	sched_done(&s, "smtp", "a");
	ck_assert(sched_can_start(&s, "smtp", "a"));
	sched_done(&s, "smtp", "a");
	ck_assert_int_eq(sched_active(&s, "smtp", "a"), 0);
	sched_done(&s, "local", "a");
	ck_assert_int_eq(s.total, 0);
	ck_assert_ptr_null(s.dests);
	sched_free(&s);
}
END_TEST

START_TEST(t_dsn_wanted)
{
	ck_assert(!dsn_wanted(DSN_FAILURE, "", 0));		/* never to <> */
	ck_assert(dsn_wanted(DSN_FAILURE, "a@b", 0));		/* default */
	ck_assert(dsn_wanted(DSN_DELAY, "a@b", 0));
	ck_assert(!dsn_wanted(DSN_SUCCESS, "a@b", 0));
	ck_assert(dsn_wanted(DSN_SUCCESS, "a@b", DSN_NOTIFY_SUCCESS));
	ck_assert(!dsn_wanted(DSN_FAILURE, "a@b", DSN_NOTIFY_SUCCESS));
	ck_assert(!dsn_wanted(DSN_DELAY, "a@b", DSN_NOTIFY_FAILURE));
	ck_assert(!dsn_wanted(DSN_FAILURE, "a@b", DSN_NOTIFY_NEVER));
}
END_TEST

static const char orig[] = "Subject: hi\r\nFrom: a@b\r\n\r\nsecret body\r\n";

START_TEST(t_dsn_failure_full)
{
	dsn_rcpt r = { "x@y.example", "rfc822;X@Y.example", "failed", "5.1.1",
		       "host mx[1.2.3.4]:25 said: 550 5.1.1 no such user\r\nInjected: yes (in reply to RCPT TO command)",
		       "mx.y.example[1.2.3.4]:25" };
	dsn_info in = { DSN_FAILURE, "gw.example", "QID", "a@b", "env1", 1000, 2000, 0, 0, "NEWID" };
	buf out;
	buf_init(&out, 0);
	ck_assert_int_eq(dsn_compose(&in, &r, 1, orig, sizeof orig - 1, &out), 0);
	const char *t = buf_str(&out);
	ck_assert_ptr_nonnull(strstr(t, "Content-Type: multipart/report; report-type=delivery-status;"));
	ck_assert_ptr_nonnull(strstr(t, "\r\nReporting-MTA: dns; gw.example\r\n"));
	ck_assert_ptr_nonnull(strstr(t, "\r\nOriginal-Envelope-Id: env1\r\n"));
	ck_assert_ptr_nonnull(strstr(t, "\r\nFinal-Recipient: rfc822; x@y.example\r\n"));
	ck_assert_ptr_nonnull(strstr(t, "\r\nOriginal-Recipient: rfc822;X@Y.example\r\n"));
	ck_assert_ptr_nonnull(strstr(t, "\r\nAction: failed\r\nStatus: 5.1.1\r\n"));
	ck_assert_ptr_nonnull(strstr(t, "\r\nRemote-MTA: dns; mx.y.example\r\n"));
	ck_assert_ptr_nonnull(strstr(t, "\r\nDiagnostic-Code: smtp; 550 5.1.1 no such user  Injected: yes\r\n"));
	ck_assert_ptr_null(strstr(t, "\r\nInjected: yes"));	/* no header injection */
	ck_assert_ptr_nonnull(strstr(t, "Content-Type: message/rfc822\r\n\r\nSubject: hi"));
	ck_assert_ptr_nonnull(strstr(t, "secret body"));	/* RET default for failures: full */
	ck_assert_ptr_nonnull(strstr(t, "\r\n--NEWID.2000/gw.example--\r\n"));
	ck_assert_ptr_nonnull(strstr(t, "To: a@b\r\n"));
	for (size_t i = 0; i < out.len; i++)	/* CRLF only */
		if (out.data[i] == '\n')
			ck_assert(i > 0 && out.data[i - 1] == '\r');
	buf_free(&out);
}
END_TEST

START_TEST(t_dsn_delay_headers_only)
{
	dsn_rcpt r = { "x@y", NULL, "delayed", "4.4.1", "connect to mx[1.2.3.4]:25: Connection refused", NULL };
	dsn_info in = { DSN_DELAY, "gw", "QID", "a@b", NULL, 1000, 2000, 5000, DSN_RET_FULL, "N2" };
	buf out;
	buf_init(&out, 0);
	in.ret = 0;	/* not given: delay notices return headers only */
	ck_assert_int_eq(dsn_compose(&in, &r, 1, orig, sizeof orig - 1, &out), 0);
	const char *t = buf_str(&out);
	ck_assert_ptr_nonnull(strstr(t, "Subject: Delayed Mail (still being retried)"));
	ck_assert_ptr_nonnull(strstr(t, "Content-Type: text/rfc822-headers\r\n\r\nSubject: hi"));
	ck_assert_ptr_null(strstr(t, "secret body"));
	ck_assert_ptr_nonnull(strstr(t, "Will-Retry-Until: "));
	ck_assert_ptr_nonnull(strstr(t, "Diagnostic-Code: X-Faxpost; connect to"));
	ck_assert_ptr_null(strstr(t, "Original-Envelope-Id"));
	buf_free(&out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("qmgr_sched");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, t_route_local);
	tcase_add_test(tc, t_route_direct_and_relay);
	tcase_add_test(tc, t_route_transport_table);
	tcase_add_test(tc, t_route_fax);
	tcase_add_test(tc, t_route_bad);
	tcase_add_test(tc, t_route_default_nexthop);
	tcase_add_test(tc, t_rewrite);
	tcase_add_test(tc, t_backoff);
	tcase_add_test(tc, t_concurrency);
	tcase_add_test(tc, t_dsn_wanted);
	tcase_add_test(tc, t_dsn_failure_full);
	tcase_add_test(tc, t_dsn_delay_headers_only);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
