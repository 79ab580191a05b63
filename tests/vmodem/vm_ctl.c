/*
 * vm_ctl.c - the control socket of the virtual exchange.
 *
 * Contract: a UNIX stream socket; a client sends text commands, one per line, and gets
 * for each zero or more data lines and then a final line "OK ..." or "ERR reason".
 * Commands:
 *   call TARGET FILE.tif [ecm] [mh] [sub DIGITS] [from NUMBER]
 *                                  the virtual fax machine (the first, or the
 *                                  one with that number) dials TARGET (a number, a line's
 *                                  link path or its base name) and sends FILE; "OK call N"
 *   status                         "line NAME NUMBER STATE LINK" and "fax NUMBER STATE DIR"
 *   received                       one "rx ..." line per fax the machines received
 *   sent                           one "tx ..." line per send attempt
 *   hangup NUMBER                  the party with that number hangs up (tests)
 *   down NUMBER / up NUMBER        cut / restore a line: dialling out from it gives
 *                                  NO DIALTONE, calls to it NO CARRIER
 * A record line: "rx SEQ FILE pages=N code=C ecm=E rate=R coding=MH|MR|MMR bad_rows=B
 * peer=P remote=IDENT sub=SUBADDRESS secs=S fax=NUMBER" (spaces in IDENT become '_';
 * "-" for an empty field). mh: send with 1-D coding only; sub: a T.33 subaddress.
 * Client lines are limited to 1024 bytes; at most 8 clients at once.
 */
#include "vmodem.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define CTL_MAX_CLIENTS	8
#define CTL_LINE_MAX	1024

static int ctl_fd = -1;
static char ctl_path[sizeof ((struct sockaddr_un *) 0)->sun_path];
static struct ctl_client {
	int fd;
	char in[CTL_LINE_MAX];
	size_t len;
} clients[CTL_MAX_CLIENTS];

int ctl_listen(const char *path)
{
	struct sockaddr_un sa;

	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		clients[i].fd = -1;
	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	if (snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path) >= (int) sizeof sa.sun_path) {
		vm_log("control socket path too long: %s", path);
		return -1;
	}
	ctl_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl_fd < 0)
		return -1;
	unlink(path);
	if (bind(ctl_fd, (struct sockaddr *) &sa, sizeof sa) < 0 || listen(ctl_fd, 8) < 0) {
		vm_log("control socket %s: %s", path, strerror(errno));
		return -1;
	}
	snprintf(ctl_path, sizeof ctl_path, "%s", path);
	return 0;
}

void ctl_close(void)
{
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (clients[i].fd >= 0)
			close(clients[i].fd);
	if (ctl_fd >= 0) {
		close(ctl_fd);
		unlink(ctl_path);
	}
	ctl_fd = -1;
}

int ctl_poll_fds(struct pollfd *pf, int max)
{
	int n = 0;

	if (ctl_fd < 0)
		return 0;
	if (n < max) {
		pf[n].fd = ctl_fd;
		pf[n++].events = POLLIN;
	}
	for (int i = 0; i < CTL_MAX_CLIENTS && n < max; i++)
		if (clients[i].fd >= 0) {
			pf[n].fd = clients[i].fd;
			pf[n++].events = POLLIN;
		}
	return n;
}

static void out_add(char *out, size_t outlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void out_add(char *out, size_t outlen, const char *fmt, ...)
{
	size_t used = strlen(out);
	va_list ap;

	if (used + 1 >= outlen)
		return;
	va_start(ap, fmt);
	vsnprintf(out + used, outlen - used, fmt, ap);
	va_end(ap);
}

static void ctl_records(char *out, size_t outlen, int sent)
{
	for (int i = 0; i < vm_nfaxm; i++) {
		const vm_faxm *f = &vm_faxms[i];

		for (int k = 0; k < f->nrec; k++) {
			const vm_fax_record *r = &f->rec[k];
			char ident[sizeof r->remote_ident];

			if (r->sent != sent)
				continue;
			snprintf(ident, sizeof ident, "%s", r->remote_ident);
			for (char *p = ident; *p; p++)
				if (*p == ' ')
					*p = '_';
			out_add(out, outlen,
				"%s %d %s pages=%d code=%d ecm=%d rate=%d coding=%s bad_rows=%d peer=%s "
				"remote=%s sub=%s secs=%.1f fax=%s\n",
				sent ? "tx" : "rx", r->seq, r->file, r->pages, r->code, r->ecm,
				r->bit_rate, r->coding ? r->coding : "-", r->bad_rows,
				r->peer[0] ? r->peer : "-", ident[0] ? ident : "-",
				r->sub[0] ? r->sub : "-", r->secs, f->party.number);
		}
	}
}

static void ctl_status(char *out, size_t outlen)
{
	for (int i = 0; i < vm_nlines; i++) {
		const vm_line *l = &vm_lines[i];

		out_add(out, outlen, "line %s %s %s %s\n", l->party.label, l->party.number,
			line_state(l), l->link);
	}
	for (int i = 0; i < vm_nfaxm; i++) {
		const vm_faxm *f = &vm_faxms[i];

		out_add(out, outlen, "fax %s %s %s\n", f->party.number, faxm_state(f), f->dir);
	}
}

static void ctl_call(char **av, int ac, char *out, size_t outlen)
{
	vm_faxm *f = vm_nfaxm ? &vm_faxms[0] : NULL;
	int ecm = 0, mh = 0;
	const char *sub = NULL;
	char err[256] = "";
	int seq;

	if (ac < 3) {
		out_add(out, outlen, "ERR usage: call TARGET FILE.tif [ecm] [mh] [sub DIGITS] [from NUMBER]\n");
		return;
	}
	for (int i = 3; i < ac; i++) {
		if (strcmp(av[i], "ecm") == 0) {
			ecm = 1;
		} else if (strcmp(av[i], "mh") == 0) {
			mh = 1;
		} else if (strcmp(av[i], "sub") == 0 && i + 1 < ac) {
			sub = av[++i];
		} else if (strcmp(av[i], "from") == 0 && i + 1 < ac) {
			vm_party *p = call_lookup(av[++i]);

			f = (p && p->kind == PARTY_FAXM) ? (vm_faxm *) p : NULL;
		} else {
			out_add(out, outlen, "ERR unknown option %s\n", av[i]);
			return;
		}
	}
	if (f == NULL) {
		out_add(out, outlen, "ERR no such virtual fax machine\n");
		return;
	}
	seq = faxm_call(f, av[1], av[2], ecm, mh, sub, err, sizeof err);
	if (seq < 0)
		out_add(out, outlen, "ERR %s\n", err);
	else
		out_add(out, outlen, "OK call %d\n", seq);
}

/* Run one command line; the reply (data lines, then OK/ERR) goes to out. */
void ctl_exec(const char *line, char *out, size_t outlen)
{
	char copy[CTL_LINE_MAX];
	char *av[16];
	int ac = 0;

	out[0] = 0;
	snprintf(copy, sizeof copy, "%s", line);
	for (char *tok = strtok(copy, " \t\r\n"); tok && ac < 16; tok = strtok(NULL, " \t\r\n"))
		av[ac++] = tok;
	if (ac == 0) {
		out_add(out, outlen, "ERR empty command\n");
	} else if (strcmp(av[0], "status") == 0) {
		ctl_status(out, outlen);
		out_add(out, outlen, "OK\n");
	} else if (strcmp(av[0], "received") == 0) {
		ctl_records(out, outlen, 0);
		out_add(out, outlen, "OK\n");
	} else if (strcmp(av[0], "sent") == 0) {
		ctl_records(out, outlen, 1);
		out_add(out, outlen, "OK\n");
	} else if (strcmp(av[0], "call") == 0) {
		ctl_call(av, ac, out, outlen);
	} else if ((strcmp(av[0], "down") == 0 || strcmp(av[0], "up") == 0) && ac == 2) {
		vm_party *p = call_lookup(av[1]);

		if (p == NULL) {
			out_add(out, outlen, "ERR no such number\n");
		} else {
			p->down = av[0][0] == 'd';
			vm_log("%s: line %s", p->label, p->down ? "down" : "up");
			out_add(out, outlen, "OK\n");
		}
	} else if (strcmp(av[0], "hangup") == 0 && ac == 2) {
		vm_party *p = call_lookup(av[1]);

		if (p == NULL) {
			out_add(out, outlen, "ERR no such number\n");
		} else {
			if (p->kind == PARTY_LINE)
				line_event((vm_line *) p, AT_CALL_EVENT_HANGUP);
			call_hangup(p);
			out_add(out, outlen, "OK\n");
		}
	} else {
		out_add(out, outlen, "ERR unknown command %s\n", av[0]);
	}
}

static void ctl_reply(struct ctl_client *c, const char *text)
{
	size_t len = strlen(text);

	/* Replies are small; a client that does not read them loses them. */
	while (len > 0) {
		ssize_t n = send(c->fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n <= 0)
			return;
		text += n;
		len -= (size_t) n;
	}
}

static void ctl_drop(struct ctl_client *c)
{
	close(c->fd);
	c->fd = -1;
	c->len = 0;
}

static void ctl_read(struct ctl_client *c)
{
	static char out[65536];
	char *nl;
	ssize_t n = recv(c->fd, c->in + c->len, sizeof c->in - 1 - c->len, MSG_DONTWAIT);

	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			ctl_drop(c);
		return;
	}
	c->len += (size_t) n;
	c->in[c->len] = 0;
	while ((nl = strchr(c->in, '\n')) != NULL) {
		*nl = 0;
		ctl_exec(c->in, out, sizeof out);
		ctl_reply(c, out);
		c->len -= (size_t) (nl + 1 - c->in);
		memmove(c->in, nl + 1, c->len + 1);
	}
	if (c->len == sizeof c->in - 1) {
		ctl_reply(c, "ERR line too long\n");
		ctl_drop(c);
	}
}

static void ctl_accept(void)
{
	int fd = accept4(ctl_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	for (int i = 0; i < CTL_MAX_CLIENTS; i++)
		if (clients[i].fd < 0) {
			clients[i].fd = fd;
			clients[i].len = 0;
			return;
		}
	send(fd, "ERR too many clients\n", 21, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(fd);
}

void ctl_service(struct pollfd *pf, int n)
{
	for (int k = 0; k < n; k++) {
		if (!(pf[k].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (pf[k].fd == ctl_fd) {
			ctl_accept();
			continue;
		}
		for (int i = 0; i < CTL_MAX_CLIENTS; i++)
			if (clients[i].fd == pf[k].fd)
				ctl_read(&clients[i]);
	}
}
