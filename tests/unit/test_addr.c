/*
 * test_addr.c - unit tests for lib/mail/addr.c: RFC 5321 paths (brackets, source
 * routes, quoting, limits, control and 8-bit bytes), the 16 open-relay address forms
 * (parsed so that the routing is visible), ESMTP parameters with xtext (the Exim
 * CVE-2020-28021/28026 inputs), xtext itself, and RFC 3191/3192 FAX= addresses.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mail/addr.h"
#include "mail/addr_ext.h"

static addr_path P;
static char why[256];

static int parse(const char *text)
{
	why[0] = 0;
	return addr_parse_path(text, &P, why, sizeof(why));
}

static int rcpt(const char *text)
{
	why[0] = 0;
	return addr_parse_recipient(text, &P, why, sizeof(why));
}

static int sender(const char *text)
{
	why[0] = 0;
	return addr_parse_sender(text, &P, why, sizeof(why));
}

static void repeat(char *out, char c, size_t n)
{
	memset(out, c, n);
	out[n] = 0;
}

START_TEST(test_basic)
{
	ck_assert_int_eq(parse("<User.Name@Example.COM>"), 0);
	ck_assert_str_eq(P.addr, "User.Name@example.com");
	ck_assert_str_eq(P.local, "User.Name");
	ck_assert_str_eq(P.domain, "example.com");
	ck_assert_uint_eq(P.nparam, 0);
	ck_assert_int_eq(parse(" <a@b.example>"), 0);		/* "MAIL FROM: <a@b>" */
	ck_assert_str_eq(P.addr, "a@b.example");
	ck_assert_int_eq(parse("<>"), 0);
	ck_assert_str_eq(P.addr, "");
	ck_assert_str_eq(P.local, "");
	ck_assert_int_eq(parse("<Postmaster>"), 0);
	ck_assert_str_eq(P.addr, "Postmaster");
	ck_assert_str_eq(P.domain, "");
	ck_assert_int_eq(parse("<a@example.com.>"), 0);	/* trailing root dot */
	ck_assert_str_eq(P.domain, "example.com");
	ck_assert_int_eq(parse("<a@[127.0.0.1]>"), 0);
	ck_assert_str_eq(P.domain, "[127.0.0.1]");
	ck_assert_int_eq(parse("<a@[IPv6:::1]>"), 0);
	ck_assert_str_eq(P.domain, "[ipv6:::1]");
	ck_assert_int_eq(parse("<@a.example,@b.example:user@d.example>"), 0);
	ck_assert_str_eq(P.addr, "user@d.example");
	ck_assert_int_eq(parse("<first.last+tag@sub-domain.example>"), 0);
}
END_TEST

START_TEST(test_quoting)
{
	char l[200];

	ck_assert_int_eq(parse("<\"john doe\"@example.com>"), 0);
	ck_assert_str_eq(P.local, "\"john doe\"");
	ck_assert_str_eq(P.addr, "\"john doe\"@example.com");
	ck_assert_int_eq(addr_local_unquoted(&P, l, sizeof(l)), 0);
	ck_assert_str_eq(l, "john doe");
	ck_assert_int_eq(parse("<\"john\"@example.com>"), 0);	/* needless quotes dropped */
	ck_assert_str_eq(P.addr, "john@example.com");
	ck_assert_int_eq(parse("<\"a\\\"b\\\\c\"@example.com>"), 0);
	ck_assert_str_eq(P.local, "\"a\\\"b\\\\c\"");
	ck_assert_int_eq(addr_local_unquoted(&P, l, sizeof(l)), 0);
	ck_assert_str_eq(l, "a\"b\\c");
	ck_assert_int_eq(parse("<\"a>b\"@example.com> SIZE=10"), 0);	/* '>' inside quotes */
	ck_assert_str_eq(P.local, "\"a>b\"");
	ck_assert_str_eq(addr_param_get(&P, "size"), "10");
}
END_TEST

START_TEST(test_malformed)
{
	static const char *const bad[] = {
		"a@b.example", "<a@b.example", "a@b.example>", "<\"a@b.example>",
		"<a<b@c.example>", "<a@b.example", "<a b@c.example>", "<a@b..example>",
		"<a@-b.example>", "<a@b-.example>", "<a@b_c!.example>", "<a@[1.2.3]>",
		"<a@[IPv6:zz]>", "<a@[1.2.3.4>", "<@a.example user@b.example>",
		"<@a.example:>", "<@:user@b.example>", "<a@>", "<@b.example>", "<\"\"@b.example>",
		"<a(comment)@b.example>", "<a\\@b.example>", "<a,b@c.example>",
		"<a\rb@c.example>", "<a@b.example>\r", "<a\x01@b.example>", "<a@b.example> \x7f",
		"<\"\\\tZ\"@b.example>", "<\"a\\\x7f\"@b.example>",	/* escaped control bytes */
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(parse(bad[i]) == -1, "accepted %s as %s", bad[i], P.addr);
		ck_assert_msg(why[0], "no reason for %s", bad[i]);
		ck_assert_str_eq(P.addr, "");	/* nothing half-parsed */
	}
	ck_assert_int_eq(rcpt("<a@b..example>"), -1);
	ck_assert_str_eq(why, "501 5.1.2 Bad recipient domain syntax: empty domain label");
	ck_assert_int_eq(rcpt("<a b@example.com>"), -1);
	ck_assert_str_eq(why, "501 5.1.3 Bad recipient address syntax: bad character ' ' in local part");
	ck_assert_int_eq(sender("<a b@example.com>"), -1);
	ck_assert_str_eq(why, "501 5.1.7 Bad sender address syntax: bad character ' ' in local part");
	ck_assert_int_eq(sender("a@example.com"), -1);
	ck_assert_str_eq(why, "501 5.1.7 Bad sender address syntax: address must be in angle brackets");
	ck_assert_int_eq(rcpt("<j\xc3\xb6rg@example.com>"), -1);
	ck_assert_str_eq(why, "553 5.6.7 Must declare SMTPUTF8 to send unicode address");
}
END_TEST

/* RFC 5321 sect. 4.5.3.1 limits, as security.md sect. 2.5 lists them. */
START_TEST(test_limits)
{
	char local[100], label[100], text[1200], dom[500];

	repeat(local, 'l', 64);
	snprintf(text, sizeof(text), "<%s@example.com>", local);
	ck_assert_int_eq(rcpt(text), 0);
	repeat(local, 'l', 65);
	snprintf(text, sizeof(text), "<%s@example.com>", local);
	ck_assert_int_eq(rcpt(text), -1);
	ck_assert_str_eq(why, "501 5.1.3 Bad recipient address syntax: local part longer than 64 octets");
	repeat(label, 'd', 63);
	snprintf(text, sizeof(text), "<a@%s.example>", label);
	ck_assert_int_eq(rcpt(text), 0);
	repeat(label, 'd', 64);
	snprintf(text, sizeof(text), "<a@%s.example>", label);
	ck_assert_int_eq(rcpt(text), -1);
	ck_assert_str_eq(why, "501 5.1.2 Bad recipient domain syntax: domain label longer than 63 octets");
	ck_assert_int_eq(sender(text), -1);
	ck_assert_str_eq(why, "501 5.1.7 Bad sender address syntax: domain label longer than 63 octets");
	/* a domain of 256 octets */
	repeat(label, 'd', 63);
	snprintf(dom, sizeof(dom), "%s.%s.%s.%s", label, label, label, label);	/* 255 */
	snprintf(text, sizeof(text), "<a@%sx>", dom);
	ck_assert_int_eq(rcpt(text), -1);
	ck_assert_msg(strncmp(why, "501 5.1.2 ", 10) == 0, "%s", why);
	/* path of exactly 256 octets: "<" 64 "@" 189 ">" */
	repeat(local, 'l', 64);
	repeat(label, 'd', 60);
	snprintf(dom, sizeof(dom), "%s.%s.%s.dddddd", label, label, label);	/* 189 */
	snprintf(text, sizeof(text), "<%s@%s>", local, dom);
	ck_assert_uint_eq(strlen(text), 256);
	ck_assert_msg(rcpt(text) == 0, "%s", why);
	ck_assert_uint_eq(strlen(P.addr), 254);
	snprintf(text, sizeof(text), "<%s@%sd>", local, dom);	/* 257 */
	ck_assert_int_eq(rcpt(text), -1);
	ck_assert_str_eq(why, "501 5.1.3 Path too long");
	ck_assert_int_eq(sender(text), -1);
	ck_assert_str_eq(why, "501 5.1.7 Path too long");
}
END_TEST

/* The 16 forms of nmap's smtp-open-relay (security.md sect. 2.3). */
START_TEST(test_relay_forms)
{
	static const struct {
		const char *rcpt, *addr, *domain;
		int routed;
		const char *next_hop;
	} t[] = {
		{ "<relaytest@d.example>", "relaytest@d.example", "d.example", 0, "d.example" },
		{ "<relaytest%d.example@[192.0.2.1]>", "relaytest%d.example@[192.0.2.1]", "[192.0.2.1]", 1, "d.example" },
		{ "<relaytest%d.example@s.example>", "relaytest%d.example@s.example", "s.example", 1, "d.example" },
		{ "<\"relaytest@d.example\">", "\"relaytest@d.example\"", "", 1, "d.example" },
		{ "<\"relaytest%d.example\">", "relaytest%d.example", "", 1, "d.example" },
		{ "<relaytest@d.example@[192.0.2.1]>", "\"relaytest@d.example\"@[192.0.2.1]", "[192.0.2.1]", 1, "d.example" },
		{ "<\"relaytest@d.example\"@[192.0.2.1]>", "\"relaytest@d.example\"@[192.0.2.1]", "[192.0.2.1]", 1, "d.example" },
		{ "<relaytest@d.example@s.example>", "\"relaytest@d.example\"@s.example", "s.example", 1, "d.example" },
		{ "<@[192.0.2.1]:relaytest@d.example>", "relaytest@d.example", "d.example", 0, "d.example" },
		{ "<@s.example:relaytest@d.example>", "relaytest@d.example", "d.example", 0, "d.example" },
		{ "<d.example!relaytest>", "d.example!relaytest", "", 1, "d.example" },
		{ "<d.example!relaytest@[192.0.2.1]>", "d.example!relaytest@[192.0.2.1]", "[192.0.2.1]", 1, "d.example" },
		{ "<d.example!relaytest@s.example>", "d.example!relaytest@s.example", "s.example", 1, "d.example" },
		{ "<a%b.example%C.Example@s.example>", "a%b.example%C.Example@s.example", "s.example", 1, "c.example" },
		{ "<relaytest@[127.0.0.1]>", "relaytest@[127.0.0.1]", "[127.0.0.1]", 0, "[127.0.0.1]" },
	};
	char hop[300];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		ck_assert_msg(parse(t[i].rcpt) == 0, "%s: %s", t[i].rcpt, why);
		ck_assert_str_eq(P.addr, t[i].addr);
		ck_assert_str_eq(P.domain, t[i].domain);
		ck_assert_msg(addr_has_routing(&P) == t[i].routed, "%s", t[i].rcpt);
		/* the relay check in smtpd looks at the stored local part */
		ck_assert_msg((strpbrk(P.local, "@%!") != NULL) == t[i].routed, "%s", t[i].rcpt);
		addr_next_hop(&P, hop, sizeof(hop));
		ck_assert_str_eq(hop, t[i].next_hop);
	}
}
END_TEST

START_TEST(test_params)
{
	ck_assert_int_eq(parse("<a@b.example> SIZE=1000 body=8BITMIME"), 0);
	ck_assert_uint_eq(P.nparam, 2);
	ck_assert_str_eq(P.param[0].name, "SIZE");
	ck_assert_str_eq(P.param[0].value, "1000");
	ck_assert_str_eq(P.param[1].name, "BODY");
	ck_assert_str_eq(addr_param_get(&P, "Body"), "8BITMIME");
	ck_assert_ptr_null(addr_param_get(&P, "RET"));
	ck_assert_int_eq(parse("<a@b.example>  ORCPT=rfc822;a+40b.example NOTIFY=SUCCESS,FAILURE CONNEG"), 0);
	ck_assert_str_eq(addr_param_get(&P, "ORCPT"), "rfc822;a@b.example");
	ck_assert_str_eq(addr_param_get(&P, "NOTIFY"), "SUCCESS,FAILURE");
	ck_assert_str_eq(addr_param_get(&P, "CONNEG"), "");
	ck_assert_int_eq(parse("<> RET=HDRS ENVID=QQ314159+2B1 AUTH=<>"), 0);
	ck_assert_str_eq(addr_param_get(&P, "ENVID"), "QQ314159+1");
	ck_assert_str_eq(addr_param_get(&P, "AUTH"), "<>");
	/* CVE-2020-28021 / 28026 style: xtext that decodes to CR/LF */
	ck_assert_int_eq(parse("<a@b.example> AUTH=x+0Aspoof"), -1);
	ck_assert_str_eq(why, "501 5.5.4 Bad AUTH parameter syntax");
	ck_assert_int_eq(parse("<a@b.example> ORCPT=rfc822;a+0D+0Ab@c"), -1);
	ck_assert_str_eq(why, "501 5.5.4 Bad ORCPT parameter syntax");
	ck_assert_int_eq(parse("<a@b.example> ENVID=x+0A+0D"), -1);
	ck_assert_str_eq(why, "501 5.5.4 Bad ENVID parameter syntax");
	ck_assert_int_eq(parse("<a@b.example> ORCPT=a+40b"), -1);	/* no addr-type */
	ck_assert_int_eq(parse("<a@b.example> ENVID=a+4"), -1);	/* bad xtext */
	ck_assert_int_eq(parse("<a@b.example> SIZE=1 SIZE=2"), -1);
	ck_assert_str_eq(why, "501 5.5.4 Duplicate SIZE parameter");
	ck_assert_int_eq(parse("<a@b.example> SIZE="), -1);
	ck_assert_int_eq(parse("<a@b.example>SIZE=1"), -1);
	ck_assert_str_eq(why, "501 5.5.4 Syntax error after the address");
	ck_assert_int_eq(parse("<a@b.example> -X=1"), -1);
	ck_assert_int_eq(parse("<a@b.example> X=a=b"), -1);
	ck_assert_int_eq(parse("<a@b.example> A=1 B=1 C=1 D=1 E=1 F=1 G=1 H=1 I=1 J=1 K=1 L=1 M=1 N=1 O=1 P=1 Q=1"), -1);
	ck_assert_str_eq(why, "555 5.5.4 Too many parameters");
	ck_assert_int_eq(parse("<a@b.example> ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789=1"), -1);
}
END_TEST

START_TEST(test_xtext)
{
	char out[64], back[64];

	ck_assert_int_eq(xtext_encode("a+b=c d\x01~", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "a+2Bb+3Dc+20d+01~");
	ck_assert_int_eq(xtext_decode(out, back, sizeof(back)), 0);
	ck_assert_str_eq(back, "a+b=c d\x01~");
	ck_assert_int_eq(xtext_decode("+4", back, sizeof(back)), -1);
	ck_assert_int_eq(xtext_decode("+ZZ", back, sizeof(back)), -1);
	ck_assert_int_eq(xtext_decode("a=b", back, sizeof(back)), -1);
	ck_assert_int_eq(xtext_decode("a b", back, sizeof(back)), -1);
	ck_assert_int_eq(xtext_decode("+00", back, sizeof(back)), -1);
	ck_assert_int_eq(xtext_decode("+2b", back, sizeof(back)), 0);	/* lenient on case */
	ck_assert_str_eq(back, "+");
	ck_assert_int_eq(xtext_decode("abcd", back, 4), -1);
	ck_assert_int_eq(xtext_decode("abc", back, 4), 0);
	ck_assert_int_eq(xtext_encode("abc=", out, 6), -1);
	ck_assert_int_eq(xtext_encode("abc=", out, 7), 0);
	ck_assert_int_eq(xtext_encode("", out, 1), 0);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_fax)
{
	fax_addr f;

	ck_assert_int_eq(fax_addr_parse("FAX=+493012345@Fax.Example", &f), 1);
	ck_assert_str_eq(f.number, "+493012345");
	ck_assert_str_eq(f.subaddr, "");
	ck_assert_str_eq(f.domain, "fax.example");
	ck_assert_int_eq(fax_addr_parse("fax=+1-202-765.3000/T33S=1387@faxworld.org", &f), 1);
	ck_assert_str_eq(f.number, "+12027653000");
	ck_assert_str_eq(f.subaddr, "1387");
	ck_assert_int_eq(fax_addr_parse("/FAX=+33-1-88335215/@faxworld.org", &f), 1);
	ck_assert_str_eq(f.number, "+33188335215");
	ck_assert_int_eq(fax_addr_parse("\"FAX=+1 202/T33S=1\"@gw.example", &f), 1);
	ck_assert_str_eq(f.number, "+1202");
	ck_assert_str_eq(f.subaddr, "1");
	ck_assert_int_eq(fax_addr_parse("FAX=+1555/X-FOO=bar@gw.example", &f), 1);	/* kept, ignored */
	ck_assert_str_eq(f.number, "+1555");
	/* not fax addresses */
	ck_assert_int_eq(fax_addr_parse("VOICE=+3940226338@gw.example", &f), 0);
	ck_assert_int_eq(fax_addr_parse("user@gw.example", &f), 0);
	ck_assert_int_eq(fax_addr_parse("faxes@gw.example", &f), 0);
	ck_assert_int_eq(fax_addr_parse("", &f), 0);
	/* malformed */
	ck_assert_int_eq(fax_addr_parse("FAX=12345@gw.example", &f), -1);
	ck_assert_int_eq(fax_addr_parse("FAX=+@gw.example", &f), -1);
	ck_assert_int_eq(fax_addr_parse("FAX=+1234567890123456@gw.example", &f), -1);
	ck_assert_int_eq(fax_addr_parse("FAX=+123456789012345@gw.example", &f), 1);
	ck_assert_int_eq(fax_addr_parse("FAX=+12/T33S=12a@gw.example", &f), -1);
	ck_assert_int_eq(fax_addr_parse("FAX=+12/T33S=1/T33S=2@gw.example", &f), -1);
	ck_assert_int_eq(fax_addr_parse("FAX=+12/T33S=@gw.example", &f), -1);
	ck_assert_int_eq(fax_addr_parse("FAX=+12/@gw.example", &f), 1);	/* X.400 trailing slash */
	ck_assert_int_eq(fax_addr_parse("FAX=+12//@gw.example", &f), -1);
	ck_assert_int_eq(fax_addr_parse("FAX=+12#34@gw.example", &f), -1);
	ck_assert_str_eq(f.number, "");
	/* routing cannot hide in a fax address */
	ck_assert_int_eq(fax_addr_parse("FAX=+1555%evil.example@gw.example", &f), -1);
	ck_assert_int_eq(fax_addr_parse("FAX=+1555!evil.example@gw.example", &f), -1);
	ck_assert_int_eq(fax_addr_parse("FAX=+1555/X=a@evil.example@gw.example", &f), -1);
	ck_assert_int_eq(fax_addr_parse("\"FAX=+1555@evil.example\"@gw.example", &f), -1);
	/* through the path parser, as smtpd does it */
	ck_assert_int_eq(parse("<\"FAX=+49 30 1234/T33S=7\"@GW.example> NOTIFY=SUCCESS"), 0);
	ck_assert_int_eq(fax_addr_parse(P.addr, &f), 1);
	ck_assert_str_eq(f.number, "+49301234");
	ck_assert_str_eq(f.subaddr, "7");
	ck_assert_str_eq(f.domain, "gw.example");
	ck_assert_int_eq(parse("<FAX=+15551234@gw.example>"), 0);
	ck_assert_str_eq(P.local, "FAX=+15551234");	/* '=' and '+' are atext: no quotes */
	ck_assert_int_eq(addr_has_routing(&P), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("addr");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_basic);
	tcase_add_test(tc, test_quoting);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_relay_forms);
	tcase_add_test(tc, test_params);
	tcase_add_test(tc, test_xtext);
	tcase_add_test(tc, test_fax);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
