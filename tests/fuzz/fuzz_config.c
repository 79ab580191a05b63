/*
 * fuzz_config.c - libFuzzer harness for main.cf (config_load) and master.cf
 * (mastercf_load) (lib/mail/config.h, lib/mail/mastercf.h).
 *
 * FUZZ_LIBS: mail util
 *
 * Input: up to the first NUL byte is main.cf, after it master.cf (without a NUL the
 * whole input is both). main.cf is written into a private folder and loaded; when it
 * loads, every declared parameter is looked up with the getter of its type (a value
 * that passed config_load must never make a getter die: msg_fatal would end the
 * fuzzer and be reported). master.cf is loaded from a file; the -o overrides of every
 * entry are applied with config_override (as master does for a service), and the
 * entries are looked up again with mastercf_find. Oracles besides the sanitizers: the
 * entries' argv is NULL-terminated with argc words, overrides are a subset of argv,
 * nothing dies.
 */
#include <string.h>

#include "fuzz_util.h"
#include "mail/config.h"
#include "mail/mastercf.h"

static void fuzz_conf_lookups(void)
{
	char *items[64];
	size_t n;

	for (const conf_param *p = conf_params; p->name; p++) {
		(void)conf_is_set(p->name);
		(void)conf_raw(p->name);
		switch (p->type) {
		case CONF_STR:
			(void)conf_str(p->name);
			break;
		case CONF_INT:
			(void)conf_int(p->name);
			break;
		case CONF_BOOL:
			(void)conf_bool(p->name);
			break;
		case CONF_TIME:
			(void)conf_time(p->name);
			break;
		case CONF_SIZE:
			(void)conf_size(p->name);
			break;
		case CONF_LIST:
			n = conf_list(p->name, items, 64);
			conf_list_free(items, n < 64 ? n : 64);
			break;
		}
	}
}

static void fuzz_master(const char *path, int main_ok)
{
	mastercf_entry *e = NULL;
	char err[512];
	size_t n = 0;
	int applied = 0;

	if (mastercf_load(path, 100, &e, &n, err, sizeof(err)) != 0) {
		if (memchr(err, 0, sizeof(err)) == NULL)
			__builtin_trap();
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (e[i].argc < 1 || e[i].argv[e[i].argc] != NULL || e[i].nopt < 0
		    || e[i].nopt > e[i].argc)
			__builtin_trap();
		if (mastercf_find(e, n, e[i].service, e[i].type) == NULL)
			__builtin_trap();
		for (int j = 0; main_ok && j < e[i].nopt; j++)
			applied += config_override(e[i].opts[j], err, sizeof(err)) == 0;
	}
	if (applied)
		fuzz_conf_lookups();	/* overrides that were accepted are valid too */
	mastercf_free(e, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char maincf[512], mastercf[512];
	const uint8_t *nul;
	size_t mlen = size;
	char err[512];
	int ok;

	if (size > 65536)
		return 0;
	fuzz_quiet("fuzz_config");
	if (!maincf[0]) {
		snprintf(maincf, sizeof(maincf), "%s/main.cf", fuzz_tmpdir());
		snprintf(mastercf, sizeof(mastercf), "%s/master.cf", fuzz_tmpdir());
	}
	if ((nul = memchr(data, 0, size)) != NULL)
		mlen = (size_t)(nul - data);
	fuzz_write_file(maincf, data, mlen);
	fuzz_write_file(mastercf, nul ? nul + 1 : data, nul ? size - mlen - 1 : size);
	ok = config_load(fuzz_tmpdir(), err, sizeof(err)) == 0;
	if (ok)
		fuzz_conf_lookups();
	else if (memchr(err, 0, sizeof(err)) == NULL)
		__builtin_trap();
	fuzz_master(mastercf, ok);
	return 0;
}
