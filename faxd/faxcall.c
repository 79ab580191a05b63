/*
 * faxcall.c - a fax call from dial/answer to hang-up (see faxcall.h).
 *
 * Contract: see faxcall.h. The engine's actions are carried out by class1_perform()
 * until the engine hangs up or fax_max_call_time is over; each call ends with ATH0
 * (a modem that does not answer that is reported dead and the fd is the caller's to
 * close). Outcomes map to DSN codes: busy and no answer 4.4.1, a session that broke
 * 4.4.2, incompatible remote 5.6.3 (after fax_max_tries: qmgr's business), an
 * unreadable document 5.6.1, a modem problem 4.3.0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "faxcall.h"
#include "faxcap.h"
#include "journal.h"
#include "mail/config.h"
#include "onramp.h"
#include "util/msg.h"

static double now_s(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + tv.tv_usec / 1e6;
}

static t30_config local_config(int calling, int sending, int ecm)
{
	t30_config c;
	memset(&c, 0, sizeof(c));
	c.calling = calling;
	c.sending = sending;
	c.local.modems = T30_MOD_V27 | T30_MOD_V29 | T30_MOD_V17;
	c.local.fine = conf_bool("fax_fine");
	c.local.mr = conf_bool("fax_mr");
	c.local.ecm = ecm;
	c.local.mmr = ecm && conf_bool("fax_mmr");
	c.local.jbig = ecm && conf_bool("fax_jbig");
	c.local.width = 0;
	c.local.length = 2;
	c.local.scan_ms = 0;
	c.local.can_receive = !sending;
	c.max_bps = (int)conf_int("fax_max_speed");
	c.ident = conf_str("fax_station_id");
	c.ecm_frame = (int)conf_int("fax_ecm_frame_size");
	c.t1_ms = (int)conf_time("fax_t1_timer") * 1000;
	c.t2_ms = (int)conf_time("fax_t2_timer") * 1000;
	c.t4_ms = (int)conf_time("fax_t4_timer") * 1000;
	return c;
}

/* Drive the engine until it hangs up, or the time is over. */
static void run_engine(class1 *m, t30 *e, long long start_ms)
{
	long long limit = start_ms + conf_time("fax_max_call_time") * 1000;
	t30_action a = t30_start(e, class1_now_ms());
	t30_event ev;
	while (a.type != T30_ACT_HANGUP) {
		if (class1_now_ms() > limit) {
			memset(&ev, 0, sizeof(ev));
			ev.type = T30_EV_HANGUP;
			ev.now_ms = class1_now_ms();
			msg_warn("fax call longer than fax_max_call_time: hanging up");
			a = t30_step(e, &ev);
			break;
		}
		int rc = class1_perform(m, &a, &ev);
		a = t30_step(e, &ev);
		if (rc == CLASS1_DEAD) {
			memset(&ev, 0, sizeof(ev));
			ev.type = T30_EV_HANGUP;
			ev.now_ms = class1_now_ms();
			a = t30_step(e, &ev);
			break;
		}
	}
}

static void set_out(faxcall_out *o, const char *dsn, const char *status, const char *retry,
		    const char *reason)
{
	str_copy(o->dsn, sizeof(o->dsn), dsn);
	o->status = status;
	o->retry = retry;
	str_copy(o->reason, sizeof(o->reason), reason);
	o->retry_after = 0;
	if (strcmp(retry, "busy") == 0)
		o->retry_after = (int)conf_time("fax_retry_busy");
	else if (strcmp(retry, "no-answer") == 0)
		o->retry_after = (int)conf_time("fax_retry_no_answer");
	else if (*retry)
		o->retry_after = (int)conf_time("fax_retry_protocol");
}

static void outcome_of_session(faxcall_out *o)
{
	const t30_result *r = &o->r;
	char why[256];
	snprintf(why, sizeof(why), "%s: %s", t30_result_name(r->code), r->text ? r->text : "");
	switch (r->code) {
	case T30_OK:
		set_out(o, "2.0.0", "sent", "", r->text ? r->text : "all pages confirmed");
		break;
	case T30_ERR_NO_DIS:
		set_out(o, "4.4.1", "deferred", "no-answer", why);
		break;
	case T30_ERR_INCOMPAT:
		set_out(o, "5.6.3", "bounced", "", why);
		break;
	case T30_ERR_LOCAL:
		set_out(o, "5.6.1", "bounced", "", why);
		break;
	default:
		set_out(o, "4.4.2", "deferred", "protocol", why);
		break;
	}
}

static void log_and_journal(const faxcall_req *q, faxcall_out *o, int sending)
{
	const t30_result *r = &o->r;
	char delay[32] = "";
	if (q->arrival > 0)
		snprintf(delay, sizeof(delay), ", delay=%.1f", now_s() - q->arrival);
	const char *coding = r->bps ? t30_coding_name(r->coding) : "-";
	if (sending)
		msg_info("%s: to=<%s>, relay=fax[%s]%s, pages=%d/%d, speed=%d, coding=%s, ecm=%s, "
			 "remote=\"%s\", duration=%.1f, dsn=%s, status=%s (%s)",
			 q->id, q->rcpt ? q->rcpt : q->number, q->device, delay, r->pages_done,
			 r->pages_total, r->bps, coding, r->ecm ? "yes" : "no", r->remote_id,
			 o->duration, o->dsn, o->status, o->reason);
	else
		msg_info("%s: from=<fax>, relay=fax[%s], pages=%d, speed=%d, coding=%s, ecm=%s, "
			 "remote=\"%s\", duration=%.1f, status=%s (%s)",
			 o->onramp_id[0] ? o->onramp_id : "-", q->device, r->pages_done, r->bps,
			 coding, r->ecm ? "yes" : "no", r->remote_id, o->duration, o->status,
			 o->reason);
	journal_entry j = { sending ? "send" : "receive", sending ? q->id : o->onramp_id,
			    sending ? q->number : "", q->device, r->remote_id, r->pages_done,
			    sending ? r->pages_total : r->pages_done, r->bps, coding, r->ecm,
			    o->duration, o->status, o->dsn, o->retry, o->reason };
	journal_append(conf_str("data_directory"), &j);
}

static void tracer(void *ctx, const char *line)
{
	const faxcall_req *q = ctx;
	if (q->trace)
		q->trace(q->trace_ctx, line);
	else if (msg_verbose)
		msg_info("%s: %s", q->id ? q->id : "-", line);
}

void faxcall_send(int fd, faxdoc_tx *doc, const faxcall_req *q, faxcall_out *o)
{
	memset(o, 0, sizeof(*o));
	t30_doc dd;
	memset(&dd, 0, sizeof(dd));
	faxdoc_tx_bind(doc, &dd);
	o->r.pages_total = dd.npages;
	double t0 = now_s();
	long long end_ms = 0;
	class1 m;
	int rc = class1_init(&m, fd);
	m.trace = tracer;
	m.trace_ctx = (void *)q;
	const char *init = conf_str("fax_modem_init");
	if (rc == CLASS1_OK && *init)
		rc = class1_command(&m, init, 3000);
	if (rc != CLASS1_OK) {
		set_out(o, "4.3.0", "deferred", "local", "modem does not answer AT commands");
		o->r.pages_done = q->first_page;
		goto done;
	}
	char num[96];
	snprintf(num, sizeof(num), "%s%s", conf_str("fax_dial_prefix"), q->number);
	rc = class1_dial(&m, num, (int)conf_time("fax_dial_timeout") * 1000);
	if (rc != CLASS1_CONNECT) {
		o->r.pages_done = q->first_page;
		if (rc == CLASS1_BUSY)
			set_out(o, "4.4.1", "deferred", "busy", "line busy");
		else if (rc == CLASS1_NO_ANSWER || rc == CLASS1_NO_CARRIER)
			set_out(o, "4.4.1", "deferred", "no-answer", "no answer");
		else if (rc == CLASS1_NO_DIALTONE)
			set_out(o, "4.3.0", "deferred", "local", "no dial tone");
		else
			set_out(o, "4.3.0", "deferred", "local", class1_result_name(rc));
		class1_hangup(&m);
		goto done;
	}
	t30_config cfg = local_config(1, 1, q->ecm >= 0 ? q->ecm : conf_bool("fax_ecm"));
	cfg.subaddr = q->subaddr;
	cfg.trace = tracer;
	cfg.trace_ctx = (void *)q;
	t30_doc d;
	memset(&d, 0, sizeof(d));
	faxdoc_tx_set_header(doc, conf_str("fax_header"), conf_str("fax_station_id"));
	faxdoc_tx_bind(doc, &d);
	d.first_page = q->first_page;
	t30 *e = t30_new(&cfg, &d);
	run_engine(&m, e, class1_now_ms());
	o->r = *t30_result_get(e);
	t30_free(e);
	end_ms = class1_now_ms();
	class1_hangup(&m);
	outcome_of_session(o);
	if (o->r.have_remote_dis && q->capkey && *q->capkey) {
		char err[256];
		if (faxcap_store(conf_str("data_directory"), q->capkey, &o->r.remote, o->r.remote_id,
				 err, sizeof(err)) < 0)
			msg_warn("fax capability table: %s", err);
	}
done:
	o->duration = now_s() - t0;
	int sent = o->r.pages_done - q->first_page;
	if (o->r.phase_c_ms > 0 && sent > 0)
		o->page_secs = (double)(end_ms - o->r.phase_c_ms) / 1000.0 / sent;
	class1_release(&m);
	log_and_journal(q, o, 1);
}

void faxcall_receive(int fd, const faxcall_req *q, faxcall_out *o)
{
	memset(o, 0, sizeof(*o));
	double t0 = 0;
	class1 m;
	int rc;
	if (q->answered) {
		class1_attach(&m, fd);
		m.trace = tracer;
		m.trace_ctx = (void *)q;
		str_copy(m.cid, sizeof(m.cid), q->caller_id ? q->caller_id : "");
		str_copy(m.did, sizeof(m.did), q->did ? q->did : "");
		rc = class1_wait_connect(&m, 15000);
	} else {
		rc = class1_init(&m, fd);
		m.trace = tracer;
		m.trace_ctx = (void *)q;
		const char *init = conf_str("fax_modem_init");
		if (rc == CLASS1_OK && *init)
			rc = class1_command(&m, init, 3000);
		if (rc != CLASS1_OK) {
			set_out(o, "4.3.0", "failed", "local", "modem does not answer AT commands");
			class1_release(&m);
			return;
		}
		rc = class1_answer(&m, q->answer_timeout_ms, q->rings > 0 ? q->rings : 1);
	}
	t0 = now_s();
	if (rc != CLASS1_CONNECT) {
		set_out(o, "4.4.1", "failed", "no-answer", rc == CLASS1_TIMEOUT ? "no call"
			: class1_result_name(rc));
		class1_hangup(&m);
		class1_release(&m);
		if (rc != CLASS1_TIMEOUT)
			log_and_journal(q, o, 0);
		return;
	}
	char err[256];
	faxdoc_rx *rx = faxdoc_rx_open(q->out_tiff, "", err, sizeof(err));
	if (!rx) {
		set_out(o, "4.3.0", "failed", "local", err);
		class1_hangup(&m);
		class1_release(&m);
		log_and_journal(q, o, 0);
		return;
	}
	t30_config cfg = local_config(0, 0, q->ecm >= 0 ? q->ecm : conf_bool("fax_ecm"));
	cfg.trace = tracer;
	cfg.trace_ctx = (void *)q;
	t30_doc d;
	memset(&d, 0, sizeof(d));
	faxdoc_rx_bind(rx, &d);
	t30 *e = t30_new(&cfg, &d);
	run_engine(&m, e, class1_now_ms());
	o->r = *t30_result_get(e);
	t30_free(e);
	class1_hangup(&m);
	int wrote = faxdoc_rx_close(rx);
	o->duration = now_s() - t0;
	if (o->r.phase_c_ms > 0 && o->r.pages_done > 0)
		o->page_secs = (double)(class1_now_ms() - o->r.phase_c_ms) / 1000.0 / o->r.pages_done;
	if (o->r.pages_done > 0 && wrote == 0) {
		if (o->r.code == T30_OK)
			set_out(o, "2.0.0", "received", "", o->r.text ? o->r.text : "ok");
		else
			set_out(o, "2.0.0", "received", "", "partial: call ended early");
		if (q->queue_it) {
			onramp_fax f = { q->out_tiff, o->r.remote_id, m.cid, m.did, o->r.subaddr,
					 q->device, o->r.pages_done, o->r.bps, o->r.ecm, 0,
					 t30_coding_name(o->r.coding), o->duration };
			if (onramp_queue(&f, o->onramp_id, sizeof(o->onramp_id), o->onramp_rcpt,
					 sizeof(o->onramp_rcpt), err, sizeof(err)) < 0) {
				/* keep the TIFF: nothing accepted is lost */
				msg_warn("received fax kept in %s: cannot queue it: %s", q->out_tiff, err);
				set_out(o, "4.3.0", "failed", "local", err);
			} else {
				unlink(q->out_tiff);
			}
		}
	} else {
		char why[256];
		snprintf(why, sizeof(why), "%s: %s", t30_result_name(o->r.code),
			 o->r.text ? o->r.text : "");
		set_out(o, "4.4.2", "failed", "protocol", why);
		unlink(q->out_tiff);
	}
	class1_release(&m);
	log_and_journal(q, o, 0);
}
