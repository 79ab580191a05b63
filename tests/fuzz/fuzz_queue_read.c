/*
 * fuzz_queue_read.c - libFuzzer harness for the queue-file reader (lib/mail/queue.h).
 *
 * FUZZ_LIBS: mail util
 * FUZZ_ARGS: -max_len=32768
 *
 * The input is written as a queue file (under $TMPDIR: tmpfs in scripts/run-fuzz) and opened
 * with qf_open(); when it is accepted, the whole content is read back with
 * qf_read_content() in odd-sized chunks, the attributes are looked up, every pending
 * recipient is marked done, and the file is opened again. Oracles besides the
 * sanitizers: an accepted file has a sender and at least one recipient, its content
 * lies inside the file, reading yields exactly content_len bytes, and after
 * qf_mark_done on every recipient the file still opens with nothing pending (the
 * in-place status byte never breaks a file).
 */
#include <fcntl.h>
#include <string.h>

#include "fuzz_util.h"
#include "mail/queue.h"

/* A queue-ID-named file in the private folder (scripts/run-fuzz puts $TMPDIR on tmpfs). */
static const char *fuzz_qpath(void)
{
	static char path[512];

	if (!path[0])
		snprintf(path, sizeof(path), "%s/0123456789AB", fuzz_tmpdir());
	return path;
}

static void fuzz_qcheck(qfile *qf)
{
	char chunk[777];
	off_t off = 0;
	ssize_t n;

	if (qf->env.sender == NULL || qf->env.nrcpt == 0 || qf->content_off < 0
	    || qf->content_len < 0 || qf->content_off + qf->content_len > qf->file_size)
		__builtin_trap();
	while ((n = qf_read_content(qf, off, chunk, sizeof(chunk))) > 0)
		off += n;
	if (n < 0 || off != qf->content_len)
		__builtin_trap();
	if (qf_read_content(qf, qf->content_len + 1, chunk, 1) != -1)
		__builtin_trap();
	(void)qenv_attr(&qf->env, "conneg");
	for (size_t i = 0; i < qf->env.nattr; i++)
		if (qenv_attr(&qf->env, qf->env.attr[i].name) == NULL)
			__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fuzz_qpath();
	char err[512];
	qfile *qf;

	if (size > 1024 * 1024)
		return 0;
	fuzz_quiet("fuzz_queue_read");
	fuzz_write_file(path, data, size);
	if ((qf = qf_open(path, O_RDWR, err, sizeof(err))) == NULL) {
		if (memchr(err, 0, sizeof(err)) == NULL)
			__builtin_trap();
		unlink(path);
		return 0;
	}
	fuzz_qcheck(qf);
	for (size_t i = 0; i < qf->env.nrcpt; i++)
		if (!qf->env.rcpt[i].done && qf_mark_done(qf, i) != 0)
			__builtin_trap();
	if (qf_pending(qf) != 0 || qf_mark_done(qf, qf->env.nrcpt) != -1)
		__builtin_trap();
	qf_close(qf);
	if ((qf = qf_open(path, O_RDONLY, err, sizeof(err))) == NULL || qf_pending(qf) != 0)
		__builtin_trap();	/* marking done broke an accepted file */
	qf_close(qf);
	unlink(path);
	return 0;
}
