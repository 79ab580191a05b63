/*
 * test_pop.c - unit tests for the POP3 client helpers (lib/mail/pop3.c: UIDL and
 * greeting-timestamp validation, the APOP digest of RFC 1939) and the mailbox settings
 * (lib/mail/pop_mailbox.c: blocks, provider presets, errors with file:line).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mail/config.h"
#include "mail/pop3.h"
#include "mail/pop_mailbox.h"
#include "util/buf.h"

static char dir[256];

static void write_file(const char *name, const char *text)
{
	char p[400];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fp = fopen(p, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
}

static void setup(void)
{
	char err[256];

	str_copy(dir, sizeof(dir), "/tmp/test_pop.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	write_file("main.cf", "pop_check_interval = 2m\npop_size_limit = 1m\n");
	write_file("providers", "[isp]\nname = An ISP\nserver = pop.isp.example\nport = 995\n"
		   "tls = pop3s\nsmtp_server = smtp.isp.example\nsmtp_port = 465\nsmtp_tls = wrapper\n"
		   "[other]\nserver = pop.other.example\n");
	ck_assert_int_eq(config_load(dir, err, sizeof(err)), 0);
}

static void teardown(void)
{
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(uidl_validity)
{
	char s[80];

	ck_assert_int_eq(pop3_uidl_valid("a", 1), 1);
	ck_assert_int_eq(pop3_uidl_valid("", 0), 0);
	memset(s, 'x', sizeof(s));
	ck_assert_int_eq(pop3_uidl_valid(s, 70), 1);
	ck_assert_int_eq(pop3_uidl_valid(s, 71), 0);
	ck_assert_int_eq(pop3_uidl_valid("a b", 3), 0);
	ck_assert_int_eq(pop3_uidl_valid("a\x7f", 2), 0);
	ck_assert_int_eq(pop3_uidl_valid("a\0b", 3), 0);
	ck_assert_int_eq(pop3_uidl_valid("~!", 2), 1);
}
END_TEST

START_TEST(greeting_timestamp)
{
	char ts[300], big[400];

	ck_assert_int_eq(pop3_greeting_timestamp("+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>",
						 ts, sizeof(ts)), 0);
	ck_assert_str_eq(ts, "<1896.697170952@dbc.mtview.ca.us>");
	ck_assert_int_eq(pop3_greeting_timestamp("+OK ready", ts, sizeof(ts)), -1);
	ck_assert_int_eq(pop3_greeting_timestamp("+OK <no-at-sign>", ts, sizeof(ts)), -1);
	ck_assert_int_eq(pop3_greeting_timestamp("+OK <a b@c>", ts, sizeof(ts)), -1);
	ck_assert_int_eq(pop3_greeting_timestamp("+OK <a\xc3\xa9@c>", ts, sizeof(ts)), -1);
	memset(big, 'a', sizeof(big));
	big[0] = '<';
	big[200] = '@';
	big[300] = '>';
	big[301] = 0;
	ck_assert_int_eq(pop3_greeting_timestamp(big, ts, sizeof(ts)), -1);
}
END_TEST

START_TEST(apop_digest_rfc1939)
{
	char d[33];

	ck_assert_int_eq(pop3_apop_digest("<1896.697170952@dbc.mtview.ca.us>", "tanstaaf", d), 0);
	ck_assert_str_eq(d, "c4c9334bac560ecc979e58001b3e22fb");
}
END_TEST

START_TEST(mailbox_blocks_and_presets)
{
	char path[400], prov[400], err[256];
	mailbox mb[4];

	write_file("boxes", "# comment\n[office]\nprovider = isp\nuser = fax@isp.example\n"
		   "deliver_to = print@gw.example\nkeep = yes\ninterval = 30s\n\n"
		   "[home]\nserver = 10.0.0.1\nport = 110\ntls = none\nuser = u\n"
		   "deliver_to = x@y\napop = yes\nsize_limit = 20k\nconnect_delay = 5\n");
	snprintf(path, sizeof(path), "%s/boxes", dir);
	snprintf(prov, sizeof(prov), "%s/providers", dir);
	ck_assert_int_eq(mailbox_load(path, prov, mb, 4, err, sizeof(err)), 2);
	ck_assert_str_eq(mb[0].name, "office");
	ck_assert_str_eq(mb[0].server, "pop.isp.example");
	ck_assert_str_eq(mb[0].port, "995");
	ck_assert_int_eq(mb[0].tls, POP3_TLS_IMPLICIT);
	ck_assert_int_eq(mb[0].keep, 1);
	ck_assert_int_eq(mb[0].interval, 30);
	ck_assert_int_eq(mb[0].size_limit, 1048576);	/* from main.cf */
	ck_assert_str_eq(mb[0].smtp_server, "smtp.isp.example");
	ck_assert_int_eq(mb[1].tls, POP3_TLS_NONE);
	ck_assert_int_eq(mb[1].apop, 1);
	ck_assert_int_eq(mb[1].interval, 120);		/* pop_check_interval */
	ck_assert_int_eq(mb[1].size_limit, 20480);
	ck_assert_int_eq(mb[1].connect_delay, 5);
}
END_TEST

START_TEST(mailbox_errors_name_line)
{
	char path[400], prov[400], err[256];
	mailbox mb[2];

	snprintf(path, sizeof(path), "%s/boxes", dir);
	snprintf(prov, sizeof(prov), "%s/providers", dir);
	write_file("boxes", "[a]\nserver = s\nport = 0\n");
	ck_assert_int_eq(mailbox_load(path, prov, mb, 2, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "boxes:3: bad port '0'");
	write_file("boxes", "[a]\nserver = s\nfoo = bar\n");
	ck_assert_int_eq(mailbox_load(path, prov, mb, 2, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "boxes:3: unknown setting 'foo'");
	write_file("boxes", "user = x\n");
	ck_assert_int_eq(mailbox_load(path, prov, mb, 2, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "boxes:1: setting outside a [section]");
	write_file("boxes", "[a]\nprovider = nosuch\n");
	ck_assert_int_eq(mailbox_load(path, prov, mb, 2, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "boxes:2: no provider 'nosuch'"));
	write_file("boxes", "[a]\nserver = s\nuser = u\n");
	ck_assert_int_eq(mailbox_load(path, prov, mb, 2, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "boxes: mailbox [a]: no deliver_to");
	write_file("boxes", "[a]\nserver = s\nuser = u\ndeliver_to = d\n[a]\n");
	ck_assert_int_eq(mailbox_load(path, prov, mb, 2, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "boxes:5: mailbox [a] defined twice");
	write_file("boxes", "[a]\nserver = s\ntls = maybe\n");
	ck_assert_int_eq(mailbox_load(path, prov, mb, 2, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "boxes:3: bad tls"));
	write_file("boxes", "[a]\nserver = s\ninterval = 5x\n");
	ck_assert_int_eq(mailbox_load(path, prov, mb, 2, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "boxes:3: bad time"));
}
END_TEST

static int presets_seen;

static void count_preset(void *ctx, const char *key, const mailbox *p)
{
	presets_seen++;
	if (!strcmp(key, "isp"))
		ck_assert_str_eq(p->display, "An ISP");
}

START_TEST(preset_listing)
{
	char prov[400], err[256];

	snprintf(prov, sizeof(prov), "%s/providers", dir);
	presets_seen = 0;
	ck_assert_int_eq(mailbox_each_preset(prov, count_preset, NULL, err, sizeof(err)), 0);
	ck_assert_int_eq(presets_seen, 2);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pop");
	TCase *tc = tcase_create("pop");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, uidl_validity);
	tcase_add_test(tc, greeting_timestamp);
	tcase_add_test(tc, apop_digest_rfc1939);
	tcase_add_test(tc, mailbox_blocks_and_presets);
	tcase_add_test(tc, mailbox_errors_name_line);
	tcase_add_test(tc, preset_listing);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
