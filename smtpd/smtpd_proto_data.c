/*
 * smtpd_proto_data.c - the DATA phase of the SMTP engine (see smtpd_proto.h): the
 * message text, its checks, the end of data, and the Received header.
 *
 * Contract: only CRLF.CRLF ends the data; text lines are handed to the msg_write hook
 * in pieces as they come (at most SMTPD_CONTENT_HOLD held); a bare LF or CR, a NUL, too
 * many Received headers or too much text are remembered and answered at the end of
 * data, never in the middle of it, so one DATA never yields two messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mail/queue.h"
#include "smtpd_proto.h"
#include "smtpd_proto_int.h"
#include "util/msg.h"

enum { BAD_NONE, BAD_BARE, BAD_SIZE, BAD_WRITE, BAD_HOPS, BAD_NUL };

#define CONTENT_FLUSH SMTPD_CONTENT_HOLD

static void content_add(smtpd_sess *s, const char *p, size_t n)
{
	if (s->data_bad || n == 0)
		return;
	s->data_size += (long long)n;
	if (s->conf->message_size_limit > 0 && s->data_size > s->conf->message_size_limit) {
		s->data_bad = BAD_SIZE;
		return;
	}
	if (buf_append(&s->content, p, n) < 0)
		msg_fatal("%s: content buffer", s->client);
	if (s->content.len >= CONTENT_FLUSH) {
		if (s->hooks->msg_write(s, s->content.data, s->content.len) < 0)
			s->data_bad = BAD_WRITE;
		buf_reset(&s->content);
	}
}

int sp_cmd_data(smtpd_sess *s, const char *arg)
{
	buf r;

	if (*arg) {
		sp_reply(s, "501 5.5.4 Syntax: DATA");
		return sp_err(s);
	}
	if (!s->in_mail) {
		sp_reply(s, "503 5.5.1 Error: need MAIL command");
		return sp_err(s);
	}
	if (s->nrcpt == 0) {
		sp_reply(s, "503 5.5.1 Error: need RCPT command");
		return sp_err(s);
	}
	buf_init(&r, 1024);
	if (s->hooks->msg_begin(s, &r) != 0) {
		sp_reply(s, "%s", r.len ? buf_str(&r) : "451 4.3.0 Error: queue file write error");
		buf_free(&r);
		sp_txn_reset(s);
		return sp_err(s);
	}
	buf_reset(&r);
	s->data_bad = BAD_NONE;
	s->data_size = 0;
	s->data_hops = 0;
	s->data_bol = s->data_clean_bol = 1;
	s->data_in_header = 1;
	s->data_hdr_cont = 0;
	smtpd_received(s, &r);
	content_add(s, r.data, r.len);
	buf_free(&r);
	sp_reply(s, "354 End data with <CR><LF>.<CR><LF>");
	s->state = ST_DATA;
	return SMTPD_ACT_READ;
}

static void header_capture_msgid(smtpd_sess *s, const char *v, size_t n)
{
	size_t have = strlen(s->message_id), i;

	for (i = 0; i < n && have + 1 < sizeof(s->message_id); i++) {
		unsigned char c = (unsigned char)v[i];

		if (c == ' ' || c == '\t' || c == '<' || c == '>' || c < 0x20 || c == 0x7f)
			continue;
		s->message_id[have++] = (char)c;
	}
	s->message_id[have] = 0;
}

/* One header line (or the first piece of one): hop count, Message-ID, end of headers. */
static void header_line(smtpd_sess *s, const char *line, size_t len)
{
	size_t i;

	if (len == 0) {
		s->data_in_header = 0;
		return;
	}
	if (line[0] == ' ' || line[0] == '\t') {
		if (s->data_hdr_cont)
			header_capture_msgid(s, line, len);
		return;
	}
	s->data_hdr_cont = 0;
	for (i = 0; i < len && line[i] != ':'; i++)
		if ((unsigned char)line[i] <= 0x20 || (unsigned char)line[i] >= 0x7f)
			break;
	if (i == 0 || i == len || line[i] != ':') {
		s->data_in_header = 0;	/* not a header: the body starts here */
		return;
	}
	if (i == 8 && strncasecmp(line, "Received", 8) == 0)
		s->data_hops++;
	else if (i == 10 && strncasecmp(line, "Message-ID", 10) == 0) {
		s->message_id[0] = 0;
		header_capture_msgid(s, line + 11, len - 11);
		s->data_hdr_cont = 1;
	}
}

/* Line content (without its line end): bare CR and NUL handled per policy. */
static void data_text(smtpd_sess *s, const char *p, size_t n)
{
	const char *cr;

	if (memchr(p, 0, n) && s->conf->line_policy == SMTPD_LINES_REJECT && !s->data_bad)
		s->data_bad = BAD_NUL;
	while ((cr = memchr(p, '\r', n)) != NULL) {
		if (s->conf->line_policy == SMTPD_LINES_REJECT) {
			if (!s->data_bad)
				s->data_bad = BAD_BARE;
			return;
		}
		content_add(s, p, (size_t)(cr - p));
		content_add(s, "\r\n", 2);
		n -= (size_t)(cr - p) + 1;
		p = cr + 1;
	}
	content_add(s, p, n);
}

/* Consume data lines from in. Returns 1 at the end of data (<CR><LF>.<CR><LF>). */
int sp_data_run(smtpd_sess *s)
{
	const char *d = s->in.data;
	size_t n = s->in.len, pos = 0;
	int eod = 0;

	while (pos < n) {
		const char *lf = memchr(d + pos, '\n', n - pos);
		const char *line = d + pos;
		size_t end, len;
		int has_lf = lf != NULL, crlf = 0;

		if (lf) {
			end = (size_t)(lf - d);
		} else {
			if (n - pos < SMTPD_DATA_PIECE)
				break;		/* wait for the rest of the line */
			end = n;
			if (d[end - 1] == '\r')
				end--;		/* may be the CR of a CRLF */
		}
		len = end - pos;
		if (has_lf && len > 0 && d[end - 1] == '\r') {
			crlf = 1;
			len--;
		}
		if (s->data_bol) {
			if (has_lf && crlf && s->data_clean_bol && len == 1 && line[0] == '.') {
				pos = end + 1;
				eod = 1;
				break;
			}
			if (s->data_in_header)
				header_line(s, line, len);
			if (len >= 2 && line[0] == '.') {	/* dot-stuffing */
				line++;
				len--;
			}
		}
		data_text(s, line, len);
		if (has_lf) {
			if (!crlf && s->conf->line_policy == SMTPD_LINES_REJECT && !s->data_bad)
				s->data_bad = BAD_BARE;
			content_add(s, "\r\n", 2);
			s->data_bol = 1;
			s->data_clean_bol = crlf;
			pos = end + 1;
		} else {
			s->data_bol = s->data_clean_bol = 0;
			pos = end;
		}
	}
	if (pos > 0)
		s->progress++;
	buf_consume(&s->in, pos);
	return eod;
}

int sp_data_end(smtpd_sess *s)
{
	const char *why = NULL;

	/* The tail of the content (all of a message up to SMTPD_CONTENT_HOLD) stays in
	 * s->content: the I/O layer takes it (smtpd_proto_take_content) and writes it on
	 * a commit thread, so the loop does not block on file writes. */
	if (s->data_bad)
		buf_reset(&s->content);
	if (!s->data_bad && s->conf->hopcount_limit > 0 && s->data_hops > s->conf->hopcount_limit)
		s->data_bad = BAD_HOPS;
	switch (s->data_bad) {
	case BAD_BARE: why = "550 5.5.2 Error: bare <CR> or <LF> received"; break;
	case BAD_NUL: why = "550 5.6.0 Error: NUL character in message"; break;
	case BAD_SIZE: why = "552 5.3.4 Error: message file too big"; break;
	case BAD_WRITE: why = "451 4.3.0 Error: queue file write error"; break;
	case BAD_HOPS: why = "554 5.4.6 Error: too many hops"; break;
	}
	s->state = ST_CMD;
	if (why) {
		sp_reply(s, "%s", why);
		sp_log_reject(s, "END-OF-MESSAGE", why, NULL);
		sp_txn_reset(s);
		return sp_err(s);
	}
	s->state = ST_WAIT_COMMIT;
	return SMTPD_ACT_COMMIT;
}

void smtpd_proto_take_content(smtpd_sess *s, buf *dst)
{
	*dst = s->content;
	buf_init(&s->content, 0);
}

void smtpd_proto_commit_done(smtpd_sess *s, int ok)
{
	s->state = ST_CMD;
	s->msg = NULL;		/* the I/O layer has finished with the writer */
	if (ok) {
		sp_reply(s, "250 2.0.0 Ok: queued as %s", s->queue_id);
		if (s->message_id[0])
			msg_info("%s: message-id=<%s>", s->queue_id, s->message_id);
		msg_info("%s: from=<%s>, size=%lld, nrcpt=%zu (queue active)", s->queue_id,
			 s->sender ? s->sender : "", s->data_size, s->nrcpt);
		s->counts[SC_DATA][0]++;
		s->errors = 0;
		s->junk = 0;
		s->committed++;
	} else {
		sp_reply(s, "451 4.3.0 Error: queue file write error");
		s->errors++;
	}
	sp_txn_reset(s);
}

/* --- Received: ------------------------------------------------------------------ */

void smtpd_received(const smtpd_sess *s, buf *out)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	if (strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S %z (%Z)", &tm) == 0)
		date[0] = 0;
	buf_printf(out, "Received: from %s (%s [%s])\r\n", s->helo ? s->helo : s->client_name,
		   s->client_name, s->client_addr);
	if (s->tls && s->tls_info[0])
		buf_printf(out, "\t(using %s)\r\n", s->tls_info);
	if (s->auth_user)
		buf_printf(out, "\t(Authenticated sender: %s)\r\n", s->auth_user);
	buf_printf(out, "\tby %s (faxpost) with %s id %s", s->conf->myhostname,
		   sp_proto_name(s), s->queue_id);
	if (s->nrcpt == 1)
		buf_printf(out, "\r\n\tfor <%s>; %s\r\n", s->rcpt[0].addr, date);
	else
		buf_printf(out, ";\r\n\t%s\r\n", date);
}
