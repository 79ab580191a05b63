/*
 * vm_call.c - the virtual exchange: routing, ringing, the line itself.
 *
 * Contract: call_dial() routes a dialled number to the registered party. An unknown
 * number (or a line that is down) gives the caller NO CARRIER, an off-hook or busy
 * callee BUSY, and dialling from a line that is down NO DIALTONE, each after
 * vm_cf.busy_ms. Otherwise the callee rings (first RING after first_ring_ms, then
 * one per ring_ms, caller ID before the first) until it answers (call_answer) or
 * answer_timeout_ms passes (the caller then gets vm_cf.no_answer_code; the callee just
 * stops ringing). A connected call carries 160-sample blocks each tick through a delay
 * line of delay_ms per direction, with optional white noise and periodic drop-outs.
 * When one side hangs up, the other keeps hearing the delayed audio and learns of the
 * hang-up drain_ms + delay_ms later (so a final DCN still arrives). An on-hook request
 * from a ringing callee (ATH0 during modem initialisation) does not reject the call.
 * Parties not in a connected call are still clocked with silence, so modem timers run.
 */
#include "vmodem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static vm_call calls[VM_MAX_CALLS];
static int next_call_id = 1;

const char *call_state_name(int state)
{
	switch (state) {
	case CALL_FAILING:
		return "dialing";
	case CALL_RINGING:
		return "ringing";
	case CALL_UP:
		return "connected";
	default:
		return "free";
	}
}

vm_party *call_lookup(const char *number)
{
	for (int i = 0; i < vm_nlines; i++)
		if (strcmp(vm_lines[i].party.number, number) == 0)
			return &vm_lines[i].party;
	for (int i = 0; i < vm_nfaxm; i++)
		if (strcmp(vm_faxms[i].party.number, number) == 0)
			return &vm_faxms[i].party;
	return NULL;
}

static vm_call *call_new(vm_party *caller)
{
	for (int i = 0; i < VM_MAX_CALLS; i++) {
		vm_call *c = &calls[i];

		if (c->state == CALL_FREE) {
			memset(c, 0, sizeof *c);
			c->id = next_call_id++;
			c->side[0] = caller;
			c->start = vm_now;
			caller->call = c;
			caller->offhook = 1;
			return c;
		}
	}
	return NULL;
}

static void call_free(vm_call *c)
{
	for (int s = 0; s < 2; s++) {
		if (c->side[s] && c->side[s]->call == c) {
			c->side[s]->call = NULL;
			/* A modem that was only in the call is back on hook. */
			c->side[s]->offhook = 0;
		}
		free(c->fifo[s]);
		c->fifo[s] = NULL;
		if (c->noise[s])
			awgn_free(c->noise[s]);
		c->noise[s] = NULL;
	}
	c->state = CALL_FREE;
}

int call_dial(vm_party *caller, const char *number)
{
	vm_party *callee;
	vm_call *c;

	if (caller->call)
		return -1;			/* ERROR: already in a call */
	c = call_new(caller);
	if (c == NULL) {
		vm_log("%s: exchange full", caller->label);
		return -1;
	}
	callee = call_lookup(number);
	c->due = vm_now + VM_MS_TO_TICKS(vm_cf.busy_ms);
	if (caller->down) {
		vm_log("call %d: %s -> %s: the line is down, no dial tone", c->id, caller->label, number);
		c->state = CALL_FAILING;
		c->fail_code = AT_RESPONSE_CODE_NO_DIALTONE;
		return 0;
	}
	if (callee == NULL || callee == caller || callee->down) {
		vm_log("call %d: %s -> %s: no such number", c->id, caller->label, number);
		c->state = CALL_FAILING;
		c->fail_code = AT_RESPONSE_CODE_NO_CARRIER;
		return 0;
	}
	if (callee->offhook || callee->call) {
		vm_log("call %d: %s -> %s (%s): busy", c->id, caller->label, number, callee->label);
		c->state = CALL_FAILING;
		c->fail_code = AT_RESPONSE_CODE_BUSY;
		return 0;
	}
	c->side[1] = callee;
	callee->call = c;
	c->state = CALL_RINGING;
	c->due = vm_now + VM_MS_TO_TICKS(vm_cf.first_ring_ms);
	vm_log("call %d: %s (%s) -> %s (%s): ringing", c->id, caller->label, caller->number,
	       callee->label, number);
	return 0;
}

static void call_setup_line(vm_call *c)
{
	c->fifo_len = (size_t) vm_cf.delay_ms * (VM_RATE / 1000);
	for (int s = 0; s < 2; s++) {
		if (c->fifo_len)
			c->fifo[s] = calloc(c->fifo_len, sizeof(int16_t));
		if (vm_cf.noise_on)
			c->noise[s] = awgn_init_dbm0(NULL, vm_cf.seed + c->id * 2 + s,
						     (float) vm_cf.noise_dbm0);
	}
	c->fifo_pos = 0;
	c->drop_next = vm_cf.drop_every_ms ? vm_now + VM_MS_TO_TICKS(vm_cf.drop_every_ms) : -1;
}

static void party_connected(vm_party *p, int calling)
{
	if (p->kind == PARTY_LINE)
		line_event((vm_line *) p, calling ? AT_CALL_EVENT_CONNECTED : AT_CALL_EVENT_ANSWERED);
	else
		faxm_connected((vm_faxm *) p, calling);
}

int call_answer(vm_party *callee)
{
	vm_call *c = callee->call;

	if (c == NULL || c->state != CALL_RINGING || c->side[1] != callee)
		return -1;			/* ATA with nobody ringing: ERROR */
	c->state = CALL_UP;
	c->up = vm_now;
	call_setup_line(c);
	vm_log("call %d: %s answered after %d ring(s), %.1f s", c->id, callee->label, c->rings,
	       (double) (vm_now - c->start) * VM_TICK_MS / 1000.0);
	party_connected(callee, 0);
	party_connected(c->side[0], 1);
	return 0;
}

static void party_far_hangup(vm_party *p)
{
	if (p->kind == PARTY_LINE)
		line_event((vm_line *) p, AT_CALL_EVENT_HANGUP);
	else
		faxm_far_hangup((vm_faxm *) p);
}

void call_hangup(vm_party *p)
{
	vm_call *c = p->call;
	int s;

	if (c == NULL)
		return;
	s = (c->side[1] == p);
	switch (c->state) {
	case CALL_FAILING:
		vm_log("call %d: %s gave up dialling", c->id, p->label);
		call_free(c);
		break;
	case CALL_RINGING:
		if (s == 1)
			return;			/* ATH0 while it rings does not reject the call */
		vm_log("call %d: %s abandoned the call after %d ring(s)", c->id, p->label, c->rings);
		call_free(c);
		break;
	case CALL_UP:
		if (c->gone[s])
			return;
		c->gone[s] = 1;
		p->call = NULL;
		p->offhook = 0;
		vm_log("call %d: %s hung up after %.1f s", c->id, p->label,
		       (double) (vm_now - c->up) * VM_TICK_MS / 1000.0);
		if (c->gone[1 - s])
			call_free(c);
		else
			c->due = vm_now + VM_MS_TO_TICKS(vm_cf.delay_ms + vm_cf.drain_ms);
		break;
	default:
		break;
	}
}

static void call_ring(vm_call *c)
{
	vm_party *callee = c->side[1];

	if ((int64_t) (vm_now - c->start) * VM_TICK_MS >= vm_cf.answer_timeout_ms) {
		vm_party *caller = c->side[0];

		vm_log("call %d: %s did not answer after %d ring(s)", c->id, callee->label, c->rings);
		call_free(c);
		if (caller->kind == PARTY_LINE)
			line_result((vm_line *) caller, vm_cf.no_answer_code);
		else
			faxm_failed((vm_faxm *) caller, "no answer");
		return;
	}
	if (vm_now < c->due)
		return;
	c->due = vm_now + VM_MS_TO_TICKS(vm_cf.ring_ms);
	c->rings++;
	vm_debug("call %d: RING %d at %s", c->id, c->rings, callee->label);
	/* The alert may answer the call (auto-answer) from inside. */
	if (callee->kind == PARTY_LINE)
		line_alert((vm_line *) callee, c->side[0]);
	else
		faxm_alert((vm_faxm *) callee);
}

static void call_fail(vm_call *c)
{
	vm_party *caller = c->side[0];
	int code = c->fail_code;

	if (vm_now < c->due)
		return;
	call_free(c);
	if (caller->kind == PARTY_LINE)
		line_result((vm_line *) caller, code);
	else
		faxm_failed((vm_faxm *) caller, code == AT_RESPONSE_CODE_BUSY ? "busy"
			    : code == AT_RESPONSE_CODE_NO_DIALTONE ? "no dialtone" : "no carrier");
}

static int party_tx(vm_party *p, int16_t *amp)
{
	if (p->kind == PARTY_LINE)
		return line_tx((vm_line *) p, amp, VM_BLOCK);
	return faxm_tx((vm_faxm *) p, amp, VM_BLOCK);
}

static void party_rx(vm_party *p, int16_t *amp)
{
	if (p->kind == PARTY_LINE)
		line_rx((vm_line *) p, amp, VM_BLOCK);
	else
		faxm_rx((vm_faxm *) p, amp, VM_BLOCK);
}

/* One block through the delay line of direction s (side s talking). */
static void call_delay(vm_call *c, int s, int16_t *amp)
{
	size_t pos = c->fifo_pos;

	if (c->fifo_len == 0)
		return;
	for (int k = 0; k < VM_BLOCK; k++) {
		int16_t v = c->fifo[s][pos];

		c->fifo[s][pos] = amp[k];
		amp[k] = v;
		if (++pos == c->fifo_len)
			pos = 0;
	}
}

static void call_impair(vm_call *c, int s, int16_t *amp, int drop)
{
	if (drop) {
		memset(amp, 0, VM_BLOCK * sizeof *amp);
		return;
	}
	if (c->noise[s] == NULL)
		return;
	for (int k = 0; k < VM_BLOCK; k++) {
		int v = amp[k] + awgn(c->noise[s]);

		amp[k] = (int16_t) (v > 32767 ? 32767 : v < -32768 ? -32768 : v);
	}
}

static int call_dropping(vm_call *c)
{
	if (c->drop_next >= 0 && vm_now >= c->drop_next) {
		c->drop_left = VM_MS_TO_TICKS(vm_cf.drop_ms);
		c->drop_next = vm_now + VM_MS_TO_TICKS(vm_cf.drop_every_ms);
		vm_log("call %d: drop-out of %d ms", c->id, vm_cf.drop_ms);
	}
	if (c->drop_left > 0) {
		c->drop_left--;
		return 1;
	}
	return 0;
}

/* Audio for one tick of a connected call, and the clearing of a half-gone call. */
static void call_audio(vm_call *c)
{
	int16_t blk[2][VM_BLOCK];
	int drop = call_dropping(c);

	for (int s = 0; s < 2; s++) {
		if (c->gone[s])
			memset(blk[s], 0, sizeof blk[s]);
		else
			party_tx(c->side[s], blk[s]);
	}
	for (int s = 0; s < 2; s++) {
		call_delay(c, s, blk[s]);
		call_impair(c, s, blk[s], drop);
	}
	c->fifo_pos = c->fifo_len ? (c->fifo_pos + VM_BLOCK) % c->fifo_len : 0;
	for (int s = 0; s < 2 && c->state == CALL_UP; s++)
		if (!c->gone[1 - s])
			party_rx(c->side[1 - s], blk[s]);
	if (c->state == CALL_UP && (c->gone[0] || c->gone[1]) && vm_now >= c->due) {
		int s = c->gone[0] ? 1 : 0;
		vm_party *p = c->side[s];

		vm_log("call %d: %s learns of the hang-up", c->id, p->label);
		call_free(c);
		party_far_hangup(p);
	}
}

static int party_in_audio_call(vm_party *p)
{
	return p->call && p->call->state == CALL_UP;
}

/* Modems not in a connected call still need their clock (timers, +FTS/+FRS). */
static void call_idle_lines(void)
{
	int16_t blk[VM_BLOCK];

	for (int i = 0; i < vm_nlines; i++) {
		vm_line *l = &vm_lines[i];

		if (party_in_audio_call(&l->party))
			continue;
		line_tx(l, blk, VM_BLOCK);
		memset(blk, 0, sizeof blk);
		line_rx(l, blk, VM_BLOCK);
	}
}

void call_tick(void)
{
	/* Idle lines first: they must not be clocked twice if a call comes up now. */
	call_idle_lines();
	for (int i = 0; i < VM_MAX_CALLS; i++) {
		vm_call *c = &calls[i];

		if (c->state == CALL_FAILING)
			call_fail(c);
		else if (c->state == CALL_RINGING)
			call_ring(c);
		else if (c->state == CALL_UP && c->up < vm_now)
			call_audio(c);
	}
	for (int i = 0; i < vm_nfaxm; i++)
		faxm_tick(&vm_faxms[i]);
}
