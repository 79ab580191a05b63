/*
 * test_config.c - unit tests for lib/mail/config.c: main.cf syntax (comments,
 * continuation), $name / ${name} / $(name) / ${x?y} / ${x:y} / $$ expansion at lookup,
 * loop detection, typed values and their "main.cf:LINE: parameter NAME: why" errors,
 * unknown-name warnings, overrides, computed myhostname/mydomain, lists, config_edit
 * keeping comments and order, and that every declared default is valid.
 */
#include <check.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/config.h"
#include "util/buf.h"
#include "util/msg.h"

static char dir[256];
static char path[300];
static char err[512];

static void setup(void)
{
	str_copy(dir, sizeof(dir), "/tmp/test_config.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/main.cf", dir);
}

static void teardown(void)
{
	char p[400];

	unlink(path);
	snprintf(p, sizeof(p), "%s/log", dir);
	unlink(p);
	rmdir(dir);
}

static void write_cf(const char *text)
{
	FILE *fp = fopen(path, "w");

	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	fclose(fp);
}

static int load(const char *text)
{
	write_cf(text);
	err[0] = 0;
	return config_load(dir, err, sizeof(err));
}

static char *slurp(const char *p)
{
	static char data[65536];
	int fd = open(p, O_RDONLY);
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	n = read(fd, data, sizeof(data) - 1);
	close(fd);
	ck_assert_int_ge(n, 0);
	data[n] = 0;
	return data;
}

START_TEST(test_syntax_and_defaults)
{
	ck_assert_int_eq(load("# comment\n"
			      "\n"
			      "queue_directory = /srv/q\n"
			      "   # indented comment\n"
			      "mydestination = a.example,\n"
			      "    b.example\n"
			      "\n"
			      "\tc.example\n"
			      "mail_owner=fax#not a comment   \n"), 0);
	ck_assert_str_eq(conf_str("queue_directory"), "/srv/q");
	ck_assert_str_eq(conf_str("mydestination"), "a.example, b.example c.example");
	ck_assert_str_eq(conf_str("mail_owner"), "fax#not a comment");
	ck_assert_str_eq(conf_str("daemon_directory"), "/usr/libexec/faxpost");
	ck_assert(conf_is_set("queue_directory"));
	ck_assert(!conf_is_set("daemon_directory"));
	ck_assert_str_eq(config_directory(), dir);
	ck_assert_int_eq(conf_int("default_process_limit"), 100);
	ck_assert_int_eq(conf_time("max_idle"), 100);
	ck_assert_int_eq(conf_bool("syslog_enable"), 0);
}
END_TEST

START_TEST(test_expansion)
{
	char *items[8];
	size_t n;

	ck_assert_int_eq(load("myhostname = fax.example.com\n"
			      "mail_owner = ${myhostname}-$(mydomain)-$$x-$\n"
			      "myorigin = ${mail_owner?set:}${data_directory:empty}/${nosuch:dflt}\n"
			      "mydestination = $myhostname, { a b }, localhost\n"
			      "my_own = $queue_directory/x\n"
			      "data_directory = $my_own\n"), 0);
	ck_assert_str_eq(conf_str("mail_owner"), "fax.example.com-example.com-$x-$");
	ck_assert_str_eq(conf_str("mydomain"), "example.com");
	ck_assert_str_eq(conf_str("myorigin"), "set:/dflt");
	ck_assert_str_eq(conf_raw("myorigin"), "${mail_owner?set:}${data_directory:empty}/${nosuch:dflt}");
	ck_assert_str_eq(conf_str("data_directory"), "/var/spool/faxpost/x");
	n = conf_list("mydestination", items, 8);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(items[0], "fax.example.com");
	ck_assert_str_eq(items[1], "a b");
	ck_assert_str_eq(items[2], "localhost");
	conf_list_free(items, n);
	n = conf_list("mydestination", items, 1);
	ck_assert_uint_eq(n, 3);
	conf_list_free(items, 1);
	/* default "$myhostname" follows the file */
	ck_assert_str_eq(conf_str("fax_domains"), "fax.example.com");
}
END_TEST

START_TEST(test_computed_hostname)
{
	char host[256];

	ck_assert_int_eq(load("mail_owner = x\n"), 0);
	gethostname(host, sizeof(host));
	ck_assert_str_eq(conf_str("myhostname"), host);
	ck_assert_int_eq(config_override("myhostname=gw.fax.example.org", err, sizeof(err)), 0);
	ck_assert_str_eq(conf_str("mydomain"), "fax.example.org");
	ck_assert_str_eq(conf_str("myorigin"), "gw.fax.example.org");
	ck_assert_int_eq(config_override("myhostname = single", err, sizeof(err)), 0);
	ck_assert_str_eq(conf_str("myhostname"), "single");
	ck_assert_str_eq(conf_str("mydomain"), "localdomain");
}
END_TEST

START_TEST(test_loops)
{
	ck_assert_int_eq(load("myorigin = $mydestination\n"
			      "mydestination = x, $myorigin\n"), -1);
	ck_assert_msg(strstr(err, "main.cf:1: parameter myorigin: recursive expansion of $myorigin"),
		      "%s", err);
	ck_assert_int_eq(load("\n\nmyhostname = a.$myorigin\n"), -1);	/* myorigin default is $myhostname */
	ck_assert_msg(strstr(err, "main.cf:3: parameter myhostname: recursive expansion"), "%s", err);
	ck_assert_int_eq(load("mail_owner = ${myhostname\n"), -1);
	ck_assert_msg(strstr(err, "main.cf:1: parameter mail_owner: missing '}'"), "%s", err);
	ck_assert_int_eq(load("mail_owner = x\n"), 0);
	ck_assert_int_eq(config_override("myhostname=$myorigin", err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, "parameter myhostname: recursive expansion"), "%s", err);
	ck_assert_str_eq(conf_str("mail_owner"), "x");	/* state unchanged */
}
END_TEST

START_TEST(test_bad_values)
{
	ck_assert_int_eq(load("mail_owner = x\n\ndefault_process_limit = 10x\n"), -1);
	ck_assert_str_eq(err, "main.cf:3: parameter default_process_limit: bad integer value \"10x\"");
	ck_assert_int_eq(load("syslog_enable = maybe\n"), -1);
	ck_assert_msg(strstr(err, "main.cf:1: parameter syslog_enable: bad boolean value \"maybe\""), "%s", err);
	ck_assert_int_eq(load("max_idle =\n  10y\n"), -1);
	ck_assert_msg(strstr(err, "main.cf:1: parameter max_idle: bad time value \"10y\""), "%s", err);
	ck_assert_int_eq(load("this is not a definition\n"), -1);
	ck_assert_msg(strstr(err, "main.cf:1: bad line"), "%s", err);
	ck_assert_int_eq(load("  leading = space\n"), -1);
	ck_assert_msg(strstr(err, "main.cf:1: continuation line"), "%s", err);
	/* a bad value reached through expansion names the parameter that uses it */
	ck_assert_int_eq(load("my_limit = lots\nmax_use = $my_limit\n"), -1);
	ck_assert_msg(strstr(err, "main.cf:2: parameter max_use: bad integer value \"lots\""), "%s", err);
	ck_assert_int_eq(load("max_use = 5\n"), 0);
	ck_assert_int_eq(config_override("max_use=abc", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "parameter max_use: bad integer value \"abc\"");
	ck_assert_int_eq(conf_int("max_use"), 5);
	ck_assert_int_eq(config_override("no_such_thing=1", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "unknown parameter no_such_thing");
	ck_assert_int_eq(config_override("novalue", err, sizeof(err)), -1);
	unlink(path);
	ck_assert_int_eq(config_load(dir, err, sizeof(err)), -1);
	ck_assert(strstr(err, "cannot open"));
}
END_TEST

START_TEST(test_units)
{
	ck_assert_int_eq(load("max_idle = 2h\nipc_timeout = 1w\nservice_throttle_time = 45\n"
			      "max_use = -3\nsyslog_enable = YES\n"), 0);
	ck_assert_int_eq(conf_time("max_idle"), 7200);
	ck_assert_int_eq(conf_time("ipc_timeout"), 604800);
	ck_assert_int_eq(conf_time("service_throttle_time"), 45);
	ck_assert_int_eq(conf_int("max_use"), -3);
	ck_assert_int_eq(conf_bool("syslog_enable"), 1);
	ck_assert_int_eq(config_override("max_idle=5m", err, sizeof(err)), 0);
	ck_assert_int_eq(conf_time("max_idle"), 300);
	ck_assert_int_eq(config_override("max_idle=99999999999999999999d", err, sizeof(err)), -1);
	ck_assert_int_eq(config_override("max_idle=1d", err, sizeof(err)), 0);
	ck_assert_int_eq(conf_time("max_idle"), 86400);
}
END_TEST

/* conf_size on whichever size parameter the table has */
START_TEST(test_size)
{
	const conf_param *p;
	char a[200];

	ck_assert_int_eq(load("mail_owner = x\n"), 0);
	for (p = conf_params; p->name; p++)
		if (p->type == CONF_SIZE)
			break;
	if (!p->name)
		return;	/* no size parameter declared yet */
	snprintf(a, sizeof(a), "%s=10k", p->name);
	ck_assert_int_eq(config_override(a, err, sizeof(err)), 0);
	ck_assert_int_eq(conf_size(p->name), 10240);
	snprintf(a, sizeof(a), "%s=3M", p->name);
	ck_assert_int_eq(config_override(a, err, sizeof(err)), 0);
	ck_assert_int_eq(conf_size(p->name), 3 * 1024 * 1024);
	snprintf(a, sizeof(a), "%s=12345", p->name);
	ck_assert_int_eq(config_override(a, err, sizeof(err)), 0);
	ck_assert_int_eq(conf_size(p->name), 12345);
	snprintf(a, sizeof(a), "%s=1t", p->name);
	ck_assert_int_eq(config_override(a, err, sizeof(err)), -1);
	ck_assert(strstr(err, "bad size value"));
}
END_TEST

START_TEST(test_unknown_warning)
{
	char logp[400];
	char *log;

	snprintf(logp, sizeof(logp), "%s/log", dir);
	msg_open("test", MSG_TO_FILE, logp, NULL);
	ck_assert_int_eq(load("mail_owner = x\n\nfoo_bar = 1\nmy_base = /srv\nqueue_directory = $my_base/q\n"), 0);
	log = slurp(logp);
	ck_assert_msg(strstr(log, "warning: main.cf:3: unknown parameter foo_bar\n"), "%s", log);
	ck_assert_msg(!strstr(log, "my_base"), "%s", log);	/* referenced: no warning */
	ck_assert_str_eq(conf_str("queue_directory"), "/srv/q");
}
END_TEST

START_TEST(test_override_wins)
{
	ck_assert_int_eq(load("mail_owner = fromfile\n"), 0);
	ck_assert_int_eq(config_override("mail_owner = over  ", err, sizeof(err)), 0);
	ck_assert_str_eq(conf_str("mail_owner"), "over");
	ck_assert_str_eq(conf_raw("mail_owner"), "over");
	ck_assert(conf_is_set("mail_owner"));
	ck_assert_int_eq(config_override("myorigin=$mail_owner.example", err, sizeof(err)), 0);
	ck_assert_str_eq(conf_str("myorigin"), "over.example");
}
END_TEST

START_TEST(test_edit)
{
	const char *orig =
		"# head comment\n"
		"queue_directory = /a\n"
		"mydestination = x,\n"
		"    y\n"
		"# between\n"
		"    z\n"
		"mail_owner = m\n"
		"mydestination = again\n"
		"# tail\n";
	char *t;
	struct stat st;

	write_cf(orig);
	chmod(path, 0640);
	ck_assert_int_eq(config_edit(dir, "mydestination", "new.example, localhost", err, sizeof(err)), 0);
	t = slurp(path);
	ck_assert_str_eq(t, "# head comment\n"
			 "queue_directory = /a\n"
			 "mydestination = new.example, localhost\n"
			 "# between\n"
			 "mail_owner = m\n"
			 "# tail\n");
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0640);
	ck_assert_int_eq(config_edit(dir, "max_use", "7", err, sizeof(err)), 0);
	t = slurp(path);
	ck_assert_msg(strstr(t, "# tail\nmax_use = 7\n"), "%s", t);
	ck_assert_int_eq(config_load(dir, err, sizeof(err)), 0);
	ck_assert_int_eq(conf_int("max_use"), 7);
	ck_assert_str_eq(conf_str("mydestination"), "new.example, localhost");
	ck_assert_int_eq(config_edit(dir, "max_use", "seven", err, sizeof(err)), -1);
	ck_assert_str_eq(err, "parameter max_use: bad integer value \"seven\"");
	ck_assert_int_eq(config_edit(dir, "no_such", "1", err, sizeof(err)), -1);
	ck_assert_int_eq(config_edit(dir, "mail_owner", "a\nmax_use = 1", err, sizeof(err)), -1);
	ck_assert_int_eq(config_edit(dir, "mail_owner", NULL, err, sizeof(err)), 0);
	t = slurp(path);
	ck_assert(!strstr(t, "mail_owner"));
}
END_TEST

/* Every parameter in the table has a valid default and is declared once. */
START_TEST(test_table_defaults)
{
	const conf_param *p, *q;

	ck_assert_int_eq(load("\n"), 0);
	for (p = conf_params; p->name; p++) {
		ck_assert_msg(p->doc && p->doc[0], "parameter %s has no doc", p->name);
		for (q = p + 1; q->name; q++)
			ck_assert_msg(strcmp(p->name, q->name) != 0, "parameter %s declared twice", p->name);
	}
}
END_TEST

static void *lookup_thread(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 2000; i++) {
		if (strcmp(conf_str("myorigin"), "t.example") != 0 || conf_int("max_use") != 9
		    || strcmp(conf_str("mydomain"), "example") != 0)
			return (void *)1;
	}
	return NULL;
}

/* Lookups from several threads at once (smtpd has commit threads). */
START_TEST(test_threads)
{
	pthread_t th[4];
	void *rc;
	int i;

	ck_assert_int_eq(load("myhostname = t.example\nmax_use = 9\n"), 0);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, lookup_thread, NULL), 0);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(th[i], &rc), 0);
		ck_assert_ptr_null(rc);
	}
}
END_TEST

START_TEST(test_undeclared_panics)
{
	conf_str("no_such_parameter_here");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_syntax_and_defaults);
	tcase_add_test(tc, test_expansion);
	tcase_add_test(tc, test_computed_hostname);
	tcase_add_test(tc, test_loops);
	tcase_add_test(tc, test_bad_values);
	tcase_add_test(tc, test_units);
	tcase_add_test(tc, test_size);
	tcase_add_test(tc, test_unknown_warning);
	tcase_add_test(tc, test_override_wins);
	tcase_add_test(tc, test_edit);
	tcase_add_test(tc, test_table_defaults);
	tcase_add_test(tc, test_threads);
	tcase_add_test_raise_signal(tc, test_undeclared_panics, 6);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
