/*
 * dsn.c - compose RFC 3464 DSN messages (see dsn.h).
 *
 * The text follows Postfix's bounce templates in spirit: a plain explanation, then
 * the machine-readable report, then the original (or its headers). Headers of the
 * notice mark it auto-submitted (RFC 3834) so that vacation programs stay quiet.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mail/dsn.h"
#include "mail/queue.h"

int dsn_wanted(dsn_kind kind, const char *sender, int notify)
{
	if (sender == NULL || sender[0] == 0)
		return 0;		/* never bounce to the null sender */
	if (notify & DSN_NOTIFY_NEVER)
		return 0;
	switch (kind) {
	case DSN_FAILURE:
		return notify == 0 || (notify & DSN_NOTIFY_FAILURE);
	case DSN_DELAY:
		return notify == 0 || (notify & DSN_NOTIFY_DELAY);
	case DSN_SUCCESS:
		return (notify & DSN_NOTIFY_SUCCESS) != 0;
	}
	return 0;
}

void dsn_date(time_t t, char *out, size_t outlen)
{
	struct tm tm;

	localtime_r(&t, &tm);
	if (strftime(out, outlen, "%a, %d %b %Y %H:%M:%S %z", &tm) == 0 && outlen)
		out[0] = 0;
}

size_t dsn_header_len(const char *msg, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (msg[i] == '\n' && msg[i + 1] == '\n')
			return i + 2;
		if (msg[i] == '\n' && i + 2 < len && msg[i + 1] == '\r' && msg[i + 2] == '\n')
			return i + 3;
	}
	if (len >= 2 && msg[0] == '\r' && msg[1] == '\n')
		return 2;
	return len;	/* no body: all of it is header */
}

static const char *dsn_subject(dsn_kind k)
{
	return k == DSN_FAILURE ? "Undelivered Mail Returned to Sender"
		: k == DSN_DELAY ? "Delayed Mail (still being retried)"
		: "Successful Mail Delivery Report";
}

static void dsn_explain(const dsn_info *in, buf *out)
{
	buf_printf(out, "This is the mail system at host %s.\r\n\r\n", in->reporting_mta);
	switch (in->kind) {
	case DSN_FAILURE:
		buf_append_str(out, "I'm sorry to have to inform you that your message could not\r\n"
			       "be delivered to one or more recipients. It's attached below.\r\n");
		break;
	case DSN_DELAY:
		buf_append_str(out, "####################################################################\r\n"
			       "# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #\r\n"
			       "####################################################################\r\n\r\n"
			       "Your message could not be delivered yet. The mail system will keep\r\n"
			       "trying.\r\n");
		break;
	case DSN_SUCCESS:
		buf_append_str(out, "Your message was successfully delivered to the destination(s)\r\n"
			       "listed below.\r\n");
		break;
	}
	buf_append_str(out, "\r\n");
}

/* Report fields must not carry CR/LF from a server reply into the header block. */
static void dsn_field(buf *out, const char *name, const char *prefix, const char *value)
{
	if (name[0])
		buf_printf(out, "%s: ", name);
	buf_append_str(out, prefix);
	for (const char *p = value; *p; p++)
		buf_append_char(out, (*p == '\r' || *p == '\n') ? ' ' : *p);
	buf_append_str(out, "\r\n");
}

/* A server's reply ("host X said: 550 5.1.1 ... (in reply to RCPT TO command)", or a
 * bare "550 ...") is an smtp diagnostic; anything else is ours. */
static void dsn_diagnostic(buf *out, const char *reason)
{
	const char *said = strstr(reason, " said: ");
	const char *p = said ? said + 7 : reason;
	int smtp = p[0] >= '2' && p[0] <= '5' && p[1] >= '0' && p[1] <= '9'
		&& p[2] >= '0' && p[2] <= '9' && (p[3] == ' ' || p[3] == 0);
	char text[1024];

	if (!smtp) {
		dsn_field(out, "Diagnostic-Code", "X-Faxpost; ", reason);
		return;
	}
	str_ncopy(text, sizeof text, p, strlen(p) < sizeof text ? strlen(p) : sizeof text - 1);
	char *tail = strstr(text, " (in reply to ");
	if (tail)
		*tail = 0;
	dsn_field(out, "Diagnostic-Code", "smtp; ", text);
}

static void dsn_report(const dsn_info *in, const dsn_rcpt *r, size_t n, buf *out)
{
	char date[64];

	dsn_field(out, "Reporting-MTA", "dns; ", in->reporting_mta);
	dsn_field(out, "X-Faxpost-Queue-ID", "", in->queue_id);
	if (in->envid && in->envid[0])
		dsn_field(out, "Original-Envelope-Id", "", in->envid);
	dsn_field(out, "X-Faxpost-Sender", "rfc822; ", in->sender);
	dsn_date(in->arrival, date, sizeof date);
	dsn_field(out, "Arrival-Date", "", date);
	for (size_t i = 0; i < n; i++) {
		buf_append_str(out, "\r\n");
		dsn_field(out, "Final-Recipient", "rfc822; ", r[i].addr);
		if (r[i].orcpt && r[i].orcpt[0])
			dsn_field(out, "Original-Recipient", "", r[i].orcpt);
		dsn_field(out, "Action", "", r[i].action);
		dsn_field(out, "Status", "", r[i].status);
		if (r[i].remote_mta && r[i].remote_mta[0]) {
			/* "host[addr]:port" as logged -> "host" */
			char host[256];
			size_t hl = strcspn(r[i].remote_mta, "[");
			str_ncopy(host, sizeof host, r[i].remote_mta, hl < sizeof host ? hl : sizeof host - 1);
			dsn_field(out, "Remote-MTA", "dns; ", host);
		}
		if (r[i].reason && r[i].reason[0])
			dsn_diagnostic(out, r[i].reason);
		dsn_date(in->now, date, sizeof date);
		dsn_field(out, "Last-Attempt-Date", "", date);
		if (in->kind == DSN_DELAY && in->retry_until) {
			dsn_date(in->retry_until, date, sizeof date);
			dsn_field(out, "Will-Retry-Until", "", date);
		}
	}
}

int dsn_compose(const dsn_info *in, const dsn_rcpt *r, size_t n,
		const char *msg, size_t len, buf *out)
{
	char date[64], boundary[128];
	int full = in->ret == DSN_RET_FULL || (in->ret == 0 && in->kind == DSN_FAILURE);
	size_t hlen = dsn_header_len(msg, len);

	snprintf(boundary, sizeof boundary, "%s.%lld/%s", in->notice_id ? in->notice_id : "x",
		 (long long)in->now, in->reporting_mta);
	dsn_date(in->now, date, sizeof date);
	buf_reset(out);
	buf_printf(out, "Date: %s\r\n", date);
	buf_printf(out, "From: MAILER-DAEMON@%s (Mail Delivery System)\r\n", in->reporting_mta);
	dsn_field(out, "To", "", in->sender);
	buf_printf(out, "Subject: %s\r\n", dsn_subject(in->kind));
	buf_printf(out, "Message-Id: <%s.%lld@%s>\r\n", in->notice_id ? in->notice_id : "dsn",
		   (long long)in->now, in->reporting_mta);
	buf_append_str(out, "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n");
	buf_printf(out, "Content-Type: multipart/report; report-type=delivery-status;\r\n"
		   "\tboundary=\"%s\"\r\n\r\n", boundary);
	buf_append_str(out, "This is a MIME-encapsulated message.\r\n\r\n");
	buf_printf(out, "--%s\r\nContent-Description: Notification\r\n"
		   "Content-Type: text/plain; charset=us-ascii\r\n\r\n", boundary);
	dsn_explain(in, out);
	for (size_t i = 0; i < n; i++) {
		buf_printf(out, "<%s>: ", r[i].addr);
		dsn_field(out, "", "", r[i].reason ? r[i].reason : r[i].status);
	}
	buf_printf(out, "\r\n--%s\r\nContent-Description: Delivery report\r\n"
		   "Content-Type: message/delivery-status\r\n\r\n", boundary);
	dsn_report(in, r, n, out);
	buf_printf(out, "\r\n--%s\r\n", boundary);
	if (full) {
		buf_append_str(out, "Content-Description: Undelivered Message\r\n"
			       "Content-Type: message/rfc822\r\n\r\n");
		buf_append(out, msg, len);
	} else {
		buf_append_str(out, "Content-Description: Message Headers\r\n"
			       "Content-Type: text/rfc822-headers\r\n\r\n");
		buf_append(out, msg, hlen);
	}
	if (out->len >= 2 && memcmp(out->data + out->len - 2, "\r\n", 2) != 0)
		buf_append_str(out, "\r\n");
	if (buf_printf(out, "\r\n--%s--\r\n", boundary) < 0)
		return -1;
	return 0;
}
