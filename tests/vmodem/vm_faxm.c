/*
 * vm_faxm.c - the virtual remote fax machine: a spandsp T.30 terminal on the exchange.
 *
 * Contract: a fax machine has a number, answers after f->rings rings and stores what
 * it receives in f->dir as fax-NNNN.tif (written as .fax-NNNN.part and renamed when
 * the call is over, so a reader never sees half a file; a call that delivered no page
 * leaves no file). faxm_call() makes it dial a number and send a TIFF, with or without
 * ECM. Each transfer, received or sent, successful or not, becomes a record (pages,
 * T.30 completion code, ECM, bit rate, remote ident, seconds) that the control socket
 * lists and the log prints. One transfer at a time per machine.
 */
#include "vmodem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static vm_fax_record *faxm_record(vm_faxm *f)
{
	vm_fax_record *r;

	if (f->nrec == VM_MAX_RECORDS) {
		memmove(f->rec, f->rec + 1, sizeof f->rec[0] * (VM_MAX_RECORDS - 1));
		f->nrec--;
	}
	r = &f->rec[f->nrec++];
	memset(r, 0, sizeof *r);
	r->seq = f->seq;
	return r;
}

static void faxm_print(vm_faxm *f, const vm_fax_record *r)
{
	vm_log("%s: %s %s peer=%s pages=%d code=%d (%s) ecm=%d rate=%d coding=%s bad_rows=%d "
	       "remote=\"%s\" sub=\"%s\" secs=%.1f",
	       f->party.label, r->sent ? "sent" : "received", r->file, r->peer, r->pages, r->code,
	       r->code >= 0 ? t30_completion_code_to_str(r->code) : "no call",
	       r->ecm, r->bit_rate, r->coding ? r->coding : "-", r->bad_rows, r->remote_ident,
	       r->sub, r->secs);
}

static void faxm_phase_e(t30_state_t *t, void *user, int code)
{
	vm_faxm *f = user;
	vm_fax_record *r;
	t30_stats_t st;
	const char *ident;

	if (f->done)
		return;
	f->done = 1;
	f->code = code;
	t30_get_transfer_statistics(t, &st);
	r = faxm_record(f);
	r->sent = f->calling;
	snprintf(r->file, sizeof r->file, "%s", f->calling ? f->tx_file : f->rx_file);
	r->pages = f->calling ? st.pages_tx : st.pages_rx;
	r->code = code;
	r->ecm = st.error_correcting_mode;
	r->bit_rate = st.bit_rate;
	r->bad_rows = st.bad_rows;
	r->coding = st.encoding == T4_COMPRESSION_ITU_T6 ? "MMR"
		    : st.encoding == T4_COMPRESSION_ITU_T4_2D ? "MR" : "MH";
	{
		const char *sub = f->calling ? f->tx_sub : t30_get_rx_sub_address(t);

		snprintf(r->sub, sizeof r->sub, "%s", sub ? sub : "");
	}
	ident = t30_get_rx_ident(t);
	snprintf(r->remote_ident, sizeof r->remote_ident, "%s", ident ? ident : "");
	r->secs = (double) (vm_now - f->t_start) * VM_TICK_MS / 1000.0;
	snprintf(r->peer, sizeof r->peer, "%s", f->peer);
}

/* The T.30 trace (-v): every frame the machine sends or receives, as in a HylaFAX
 * session log; handy when a DTE under test and the machine disagree. */
static void faxm_frame(t30_state_t *t, void *user, int direction, const uint8_t *msg, int len)
{
	vm_faxm *f = user;

	(void) t;
	if (len >= 3)
		vm_debug("%s: %s %s (%d bytes)", f->party.label, direction ? "<-" : "->",
			 (msg[2] & 0xFE) == 0x86 ? "RCP" : t30_frametype(msg[2]), len);
}

static int faxm_resolve(const char *target, char *number, size_t len)
{
	for (int i = 0; i < vm_nlines; i++) {
		const vm_line *l = &vm_lines[i];
		const char *base = strrchr(l->link, '/');

		if (strcmp(target, l->link) == 0 || strcmp(target, l->party.label) == 0
		    || (base && strcmp(target, base + 1) == 0))
			return snprintf(number, len, "%s", l->party.number) >= (int) len ? -1 : 0;
	}
	return snprintf(number, len, "%s", target) >= (int) len ? -1 : 0;
}

int faxm_call(vm_faxm *f, const char *target, const char *file, int ecm, int mh,
	      const char *sub, char *err, size_t errlen)
{
	char number[VM_NUMBER_MAX];
	TIFF *tif;

	if (f->party.call || f->fax) {
		snprintf(err, errlen, "fax machine %s is busy", f->party.number);
		return -1;
	}
	if (faxm_resolve(target, number, sizeof number) < 0) {
		snprintf(err, errlen, "target too long");
		return -1;
	}
	tif = TIFFOpen(file, "r");
	if (tif == NULL) {
		snprintf(err, errlen, "cannot read TIFF %s", file);
		return -1;
	}
	TIFFClose(tif);
	if (snprintf(f->tx_file, sizeof f->tx_file, "%s", file) >= (int) sizeof f->tx_file) {
		snprintf(err, errlen, "file name too long");
		return -1;
	}
	if (snprintf(f->tx_sub, sizeof f->tx_sub, "%s", sub ? sub : "") >= (int) sizeof f->tx_sub) {
		snprintf(err, errlen, "subaddress too long (20 digits at most)");
		return -1;
	}
	snprintf(f->peer, sizeof f->peer, "%s", number);
	f->tx_mh = mh;
	f->tx_ecm = ecm;
	f->calling = 1;
	f->seq++;
	f->t_start = vm_now;
	vm_log("%s: calling %s to send %s%s", f->party.label, number, file, ecm ? " with ECM" : "");
	if (call_dial(&f->party, number) < 0) {
		snprintf(err, errlen, "cannot dial");
		return -1;
	}
	return f->seq;
}

void faxm_alert(vm_faxm *f)
{
	vm_call *c = f->party.call;

	if (c && c->rings >= f->rings)
		call_answer(&f->party);
}

void faxm_connected(vm_faxm *f, int calling)
{
	t30_state_t *t;
	int comp = T30_SUPPORT_T4_1D_COMPRESSION | T30_SUPPORT_T4_2D_COMPRESSION;
	int ecm;

	vm_call *c = f->party.call;
	vm_party *peer = c ? c->side[c->side[0] == &f->party ? 1 : 0] : NULL;

	snprintf(f->peer, sizeof f->peer, "%s", peer ? peer->number : "");
	f->calling = calling;
	f->done = 0;
	f->code = 0;
	f->fax = fax_init(NULL, calling);
	if (f->fax == NULL) {
		vm_log("%s: fax_init failed", f->party.label);
		call_hangup(&f->party);
		return;
	}
	fax_set_transmit_on_idle(f->fax, 1);
	t = fax_get_t30_state(f->fax);
	if (vm_cf.verbose > 1) {
		logging_state_t *ls = t30_get_logging_state(t);

		span_log_set_level(ls, SPAN_LOG_SHOW_SEVERITY | SPAN_LOG_SHOW_PROTOCOL
				   | SPAN_LOG_SHOW_TAG | SPAN_LOG_FLOW);
		span_log_set_tag(ls, f->party.label);
	}
	t30_set_tx_ident(t, f->ident);
	ecm = calling ? f->tx_ecm : f->ecm;
	t30_set_ecm_capability(t, ecm);
	/* MMR is only allowed with ECM (T.30 Annex A). */
	if (ecm)
		comp |= T30_SUPPORT_T6_COMPRESSION;
	if (calling ? f->tx_mh : f->mh)
		comp = T30_SUPPORT_T4_1D_COMPRESSION;
	t30_set_supported_compressions(t, comp);
	if (!calling && f->speed && f->speed < 12000)
		t30_set_supported_modems(t, f->speed < 7200 ? T30_SUPPORT_V27TER
				     : T30_SUPPORT_V27TER | T30_SUPPORT_V29);
	/* Like a real office machine: it takes a T.33 subaddress (SUB) and says so in DIS. */
	t30_set_supported_t30_features(t, T30_SUPPORT_IDENTIFICATION | T30_SUPPORT_SUB_ADDRESSING);
	if (calling && f->tx_sub[0])
		t30_set_tx_sub_address(t, f->tx_sub);
	t30_set_phase_e_handler(t, faxm_phase_e, f);
	t30_set_real_time_frame_handler(t, faxm_frame, f);
	if (calling) {
		t30_set_tx_file(t, f->tx_file, -1, -1);
	} else {
		f->seq++;
		f->t_start = vm_now;
		snprintf(f->rx_part, sizeof f->rx_part, "%s/.fax-%04d.part", f->dir, f->seq);
		snprintf(f->rx_file, sizeof f->rx_file, "%s/fax-%04d.tif", f->dir, f->seq);
		t30_set_rx_file(t, f->rx_part, -1);
	}
}

/* The call is over for us: release T.30 (closes the TIFF), publish the file. */
static void faxm_finish(vm_faxm *f)
{
	vm_fax_record *r = f->nrec ? &f->rec[f->nrec - 1] : NULL;

	call_hangup(&f->party);
	fax_free(f->fax);
	f->fax = NULL;
	if (!f->calling) {
		if (r && r->pages > 0) {
			if (rename(f->rx_part, f->rx_file) < 0)
				vm_log("%s: rename %s: %s", f->party.label, f->rx_part, strerror(errno));
		} else {
			unlink(f->rx_part);
		}
	}
	if (r)
		faxm_print(f, r);
}

void faxm_far_hangup(vm_faxm *f)
{
	if (f->fax == NULL)
		return;
	if (!f->done)
		t30_terminate(fax_get_t30_state(f->fax));
	if (!f->done)				/* terminate did not reach phase E */
		faxm_phase_e(fax_get_t30_state(f->fax), f, T30_ERR_CALLDROPPED);
	faxm_finish(f);
}

void faxm_failed(vm_faxm *f, const char *why)
{
	vm_fax_record *r = faxm_record(f);

	r->sent = 1;
	r->code = -1;
	snprintf(r->file, sizeof r->file, "%s", f->tx_file);
	snprintf(r->remote_ident, sizeof r->remote_ident, "%s", why);
	r->secs = (double) (vm_now - f->t_start) * VM_TICK_MS / 1000.0;
	snprintf(r->peer, sizeof r->peer, "%s", f->peer);
	faxm_print(f, r);
}

int faxm_tx(vm_faxm *f, int16_t *amp, int n)
{
	int got = f->fax ? fax_tx(f->fax, amp, n) : 0;

	if (got < n)
		memset(amp + got, 0, (size_t) (n - got) * sizeof *amp);
	return n;
}

void faxm_rx(vm_faxm *f, int16_t *amp, int n)
{
	if (f->fax)
		fax_rx(f->fax, amp, n);
}

void faxm_tick(vm_faxm *f)
{
	if (f->fax && f->done)
		faxm_finish(f);
}

const char *faxm_state(const vm_faxm *f)
{
	if (f->party.call)
		return call_state_name(f->party.call->state);
	return "idle";
}
