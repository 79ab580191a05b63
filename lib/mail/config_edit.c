/*
 * config_edit.c - `faxpost conf name=value`: change one parameter in main.cf.
 *
 * Contract (config.h, config_edit): the name must be a declared parameter and a
 * value without `$` must parse as its type before anything is written; the first
 * definition is replaced in place (its continuation lines dropped), later ones
 * removed, comments, blank lines and order kept; a new name is appended. The file is
 * replaced atomically (write a temporary file, fsync, rename), keeping its mode.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/config.h"
#include "mail/config_impl.h"
#include "util/buf.h"

/* Check a value before it goes into the file; values with $ are checked at load. */
static int conf_edit_check(const char *name, const char *value, char *err, size_t errlen)
{
	const conf_param *p;
	char why[256];
	const char *c;

	for (c = name; *c; c++)
		if (!conf_is_name_char((unsigned char)*c))
			break;
	if (!*name || *c) {
		snprintf(err, errlen, "bad parameter name \"%s\"", name);
		return -1;
	}
	if (value && strpbrk(value, "\r\n")) {
		snprintf(err, errlen, "parameter %s: value must be one line", name);
		return -1;
	}
	if ((p = conf_param_of(name)) == NULL) {
		snprintf(err, errlen, "unknown parameter %s", name);
		return -1;
	}
	if (!value || strchr(value, '$'))
		return 0;
	if (conf_check_typed(p, value, why, sizeof(why)) < 0) {
		snprintf(err, errlen, "parameter %s: %s", name, why);
		return -1;
	}
	return 0;
}

/* Does the logical line starting at s define name? */
static int conf_defines(const char *s, const char *name)
{
	size_t len = strlen(name);

	if (strncmp(s, name, len) != 0)
		return 0;
	s += len;
	while (*s == ' ' || *s == '\t')
		s++;
	return *s == '=';
}

/* Rebuild main.cf: the first definition of name becomes "name = value" (continuation
 * lines dropped), later ones go; comments, blank lines and order stay. An absent name
 * is appended. value NULL removes the parameter. */
static void conf_edit_text(const char *text, const char *name, const char *value, buf *out)
{
	const char *s = text, *nl;
	int skipping = 0, done = 0;

	for (; *s; s = *nl ? nl + 1 : nl) {
		nl = strchr(s, '\n');
		if (!nl)
			nl = s + strlen(s);
		if (skipping) {
			const char *c = s;

			while (c < nl && isspace((unsigned char)*c))
				c++;
			if (c > s && c < nl && *c != '#')
				continue;	/* continuation of the replaced definition */
			if (c == s && c < nl && *c != '#')
				skipping = 0;	/* a new logical line */
		}
		if (conf_defines(s, name)) {
			skipping = 1;
			if (!done && value)
				buf_printf(out, "%s = %s\n", name, value);
			done = 1;
			continue;
		}
		buf_append(out, s, (size_t)(nl - s));
		buf_append_char(out, '\n');
	}
	if (!done && value) {
		if (out->len && out->data[out->len - 1] != '\n')
			buf_append_char(out, '\n');
		buf_printf(out, "%s = %s\n", name, value);
	}
}

static int conf_write_file(const char *path, const buf *data, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	struct stat st;
	mode_t mode = 0644;
	size_t off = 0;
	ssize_t w;
	int fd;

	if (stat(path, &st) == 0)
		mode = st.st_mode & 07777;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "path too long");
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		snprintf(err, errlen, "create %s: %s", tmp, strerror(errno));
		return -1;
	}
	while (off < data->len) {
		w = write(fd, data->data + off, data->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (off < data->len || fsync(fd) < 0 || fchmod(fd, mode) < 0 || close(fd) < 0) {
		snprintf(err, errlen, "write %s: %s", tmp, strerror(errno));
		if (off < data->len)
			close(fd);
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) < 0) {
		snprintf(err, errlen, "rename %s to %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int config_edit(const char *config_dir, const char *name, const char *value,
		char *err, size_t errlen)
{
	char path[PATH_MAX];
	buf text, out;
	int rc;

	if (conf_edit_check(name, value, err, errlen) < 0)
		return -1;
	if (snprintf(path, sizeof(path), "%s/main.cf", config_dir) >= (int)sizeof(path)) {
		snprintf(err, errlen, "config directory name too long");
		return -1;
	}
	if (conf_read_file(path, &text, err, errlen) < 0)
		return -1;
	buf_init(&out, 0);
	conf_edit_text(buf_str(&text), name, value, &out);
	buf_free(&text);
	rc = conf_write_file(path, &out, err, errlen);
	buf_free(&out);
	return rc;
}
