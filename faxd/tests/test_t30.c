/*
 * test_t30.c - unit tests of faxd's T.30 engine: two engines back to back over an
 * in-memory line (no modem), plus DIS/DCS coding, identities, T.4 padding, HDLC.
 *
 * The line: a transmit action puts an item (V.21 frames, or high-speed data/ECM frames
 * on a modulation) into the other side's queue and completes at once; a receive action
 * takes the next matching item, or times out in virtual time when both sides wait.
 * Faults are injected per test: corrupt TCF at a speed, reject a page, drop ECM frames,
 * drop a frame type, or a side that goes dead.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../hdlc.h"
#include "../t30.h"

#define MAXQ 64

typedef struct item {
	int hdlc;		/* V.21 frames */
	int ecm;		/* high-speed HDLC frames */
	int mod;
	t30_frame *frames;
	size_t nframes;
	uint8_t *data;
	size_t len;
} item;

typedef struct faults {
	int bad_tcf_mod;	/* corrupt TCF sent on this modulation (0 = none, -1 = all) */
	int reject_page;	/* receiver rejects this page index once (-1 = none) */
	int reject_always;
	int drop_ecm_first;	/* drop ECM frames 3 and 7 in the first burst */
	int drop_fcf;		/* drop the first frame with this FCF (masked) */
	int drop_fcf_all;	/* ... every time */
	int rx_dead_after_pages;	/* receiver goes silent after this many page data items */
	int tx_no_dcn;		/* sender's DCN never arrives */
	int rx_silent;		/* answering side never speaks */
} faults;

typedef struct side {
	t30 *e;
	t30_action act;
	item q[MAXQ];
	int qh, qt;
	long long deadline;
	int dead;
	t30_frame rxf[300];
} side;

typedef struct page {
	uint8_t *data;
	size_t len;
} page;

typedef struct docctx {
	int npages;
	page tx[8];
	page rx[8];
	int nrx;
	int rejected;
	faults *f;
} docctx;

static void item_free(item *it)
{
	free(it->frames);
	free(it->data);
	memset(it, 0, sizeof(*it));
}

static void push(side *to, const item *it)
{
	ck_assert_int_lt(to->qt - to->qh, MAXQ);
	to->q[to->qt++ % MAXQ] = *it;
}

static int get_page(void *ctx, int pg, const t30_params *p, buf *out)
{
	docctx *d = ctx;
	(void)p;
	return buf_append(out, d->tx[pg].data, d->tx[pg].len);
}

static int check_page(void *ctx, const t30_params *p, const uint8_t *data, size_t len,
		      int *rows, int *bad)
{
	docctx *d = ctx;
	(void)p; (void)data; (void)len;
	*rows = 100;
	*bad = 0;
	if (d->f->reject_always || (d->nrx == d->f->reject_page && !d->rejected)) {
		d->rejected = 1;
		*bad = 50;
		return 1;
	}
	return 0;
}

static int put_page(void *ctx, int pg, const t30_params *p, const uint8_t *data, size_t len,
		    int bad)
{
	docctx *d = ctx;
	(void)p; (void)bad;
	ck_assert_int_eq(pg, d->nrx);
	ck_assert_int_lt(d->nrx, 8);
	d->rx[d->nrx].data = malloc(len + 1);
	memcpy(d->rx[d->nrx].data, data, len);
	d->rx[d->nrx].len = len;
	d->nrx++;
	return 0;
}

static void make_pages(docctx *d, int n, size_t base)
{
	uint32_t x = 12345;
	d->npages = n;
	for (int i = 0; i < n; i++) {
		size_t len = base + (size_t)i * 1000;
		d->tx[i].data = malloc(len);
		d->tx[i].len = len;
		for (size_t k = 0; k < len; k++) {
			x = x * 1103515245u + 12345u;
			d->tx[i].data[k] = (uint8_t)(x >> 16);
		}
	}
}

static void docs_free(docctx *d)
{
	for (int i = 0; i < 8; i++) {
		free(d->tx[i].data);
		free(d->rx[i].data);
	}
}

static t30_caps full_caps(int ecm)
{
	t30_caps c = { 0 };
	c.modems = T30_MOD_V17 | T30_MOD_V29 | T30_MOD_V27;
	c.fine = 1;
	c.mr = 1;
	c.mmr = ecm;
	c.ecm = ecm;
	c.width = 0;
	c.length = 2;
	c.scan_ms = 0;
	c.can_receive = 1;
	return c;
}

/* Perform a TX action of side `me`: queue its item on the other side. */
static void do_tx(side *me, side *other, faults *f, int sender, int *data_items)
{
	t30_action *a = &me->act;
	item it = { 0 };
	if (a->type == T30_ACT_TX_HDLC) {
		it.hdlc = 1;
		it.frames = calloc(a->nframes, sizeof(t30_frame));
		for (size_t i = 0; i < a->nframes; i++) {
			int fcf = a->frames[i].b[2] & 0xFE;
			if (f->drop_fcf && fcf == f->drop_fcf) {
				if (!f->drop_fcf_all)
					f->drop_fcf = 0;
				continue;
			}
			if (sender && f->tx_no_dcn && fcf == T30_DCN)
				continue;
			it.frames[it.nframes++] = a->frames[i];
		}
	} else if (a->hdlc) {
		it.ecm = 1;
		it.mod = a->mod;
		it.frames = calloc(a->nframes, sizeof(t30_frame));
		for (size_t i = 0; i < a->nframes; i++) {
			if (f->drop_ecm_first == 1 && a->frames[i].b[2] == T30_FCD &&
			    (a->frames[i].b[3] == 3 || a->frames[i].b[3] == 7))
				continue;
			it.frames[it.nframes++] = a->frames[i];
		}
		if (f->drop_ecm_first == 1)
			f->drop_ecm_first = 2;
		(*data_items)++;
	} else {
		it.mod = a->mod;
		it.data = malloc(a->len + 1);
		memcpy(it.data, a->data, a->len);
		it.len = a->len;
		int is_tcf = 1;	/* TCF is all zeros; the test pages never are */
		for (size_t k = 0; k < a->len && is_tcf; k++)
			is_tcf = a->data[k] == 0;
		if (is_tcf && (f->bad_tcf_mod == -1 || f->bad_tcf_mod == a->mod))
			for (size_t k = 0; k < it.len; k += 50)
				it.data[k] = 0x55;
		if (!is_tcf)
			(*data_items)++;
	}
	if (!other->dead && !(it.hdlc && it.nframes == 0))
		push(other, &it);
	else
		item_free(&it);
}

typedef struct run {
	t30_result tx, rx;
	long long end_ms;
	int steps;
} run;

static run run_call(const t30_config *ctx_cfg, const t30_config *crx_cfg, docctx *dt,
		    docctx *dr, faults *f)
{
	t30_doc dtx = { .ctx = dt, .npages = dt->npages, .codings = 15, .fine = 1,
			.get_page = get_page };
	t30_doc drx = { .ctx = dr, .check_page = check_page, .put_page = put_page };
	dtx.first_page = dt->tx[7].len;	/* abused: resume point stashed by the test */
	side S = { 0 }, R = { 0 };
	long long now = 0;
	int data_items = 0;
	S.e = t30_new(ctx_cfg, &dtx);
	R.e = t30_new(crx_cfg, &drx);
	S.act = t30_start(S.e, now);
	R.act = t30_start(R.e, now);
	if (f->rx_silent)
		R.dead = 1;
	run r = { 0 };
	side *sides[2] = { &S, &R };
	for (r.steps = 0; r.steps < 20000; r.steps++) {
		int progress = 0;
		for (int i = 0; i < 2; i++) {
			side *me = sides[i], *other = sides[1 - i];
			if (me->dead || me->act.type == T30_ACT_HANGUP)
				continue;
			t30_action *a = &me->act;
			if (a->type == T30_ACT_TX_HDLC || a->type == T30_ACT_TX_DATA) {
				do_tx(me, other, f, i == 0, &data_items);
				t30_event ev = { .type = T30_EV_DONE, .now_ms = now };
				me->act = t30_step(me->e, &ev);
				me->deadline = now + me->act.timeout_ms;
				progress = 1;
				continue;
			}
			/* receive */
			while (me->qh < me->qt) {
				item *it = &me->q[me->qh % MAXQ];
				t30_event ev = { .now_ms = now };
				if (a->type == T30_ACT_RX_HDLC && it->hdlc) {
					ev.type = T30_EV_FRAMES;
					memcpy(me->rxf, it->frames, it->nframes * sizeof(t30_frame));
					ev.frames = me->rxf;
					ev.nframes = it->nframes;
				} else if (a->type == T30_ACT_RX_DATA && it->hdlc) {
					ev.type = T30_EV_WRONG_CARRIER;
					me->act = t30_step(me->e, &ev);
					me->deadline = now + me->act.timeout_ms;
					progress = 1;
					break;
				} else if (a->type == T30_ACT_RX_DATA && it->mod == a->mod &&
					   it->ecm == a->hdlc) {
					ev.type = T30_EV_DATA;
					ev.data = it->data;
					ev.len = it->len;
					if (it->nframes)
						memcpy(me->rxf, it->frames, it->nframes * sizeof(t30_frame));
					ev.frames = me->rxf;
					ev.nframes = it->nframes;
				} else {
					/* not heard: modulation mismatch */
					item_free(it);
					me->qh++;
					continue;
				}
				me->act = t30_step(me->e, &ev);
				item_free(it);
				me->qh++;
				if (i == 1 && f->rx_dead_after_pages && ev.type == T30_EV_DATA &&
				    data_items >= f->rx_dead_after_pages)
					me->dead = 1;
				me->deadline = now + me->act.timeout_ms;
				progress = 1;
				break;
			}
		}
		if (progress)
			continue;
		if ((S.act.type == T30_ACT_HANGUP || S.dead) && (R.act.type == T30_ACT_HANGUP || R.dead))
			break;
		/* both wait with nothing to hear: the earliest deadline fires */
		side *first = NULL;
		for (int i = 0; i < 2; i++) {
			side *s = sides[i];
			if (s->dead || s->act.type == T30_ACT_HANGUP)
				continue;
			if (!first || s->deadline < first->deadline)
				first = s;
		}
		ck_assert_ptr_nonnull(first);
		if (first->deadline > now)
			now = first->deadline;
		t30_event ev = { .type = T30_EV_TIMEOUT, .now_ms = now };
		first->act = t30_step(first->e, &ev);
		first->deadline = now + first->act.timeout_ms;
	}
	ck_assert_int_lt(r.steps, 20000);
	r.tx = *t30_result_get(S.e);
	r.rx = *t30_result_get(R.e);
	r.end_ms = now;
	for (int i = 0; i < 2; i++)
		while (sides[i]->qh < sides[i]->qt)
			item_free(&sides[i]->q[sides[i]->qh++ % MAXQ]);
	t30_free(S.e);
	t30_free(R.e);
	return r;
}

static void configs(t30_config *tx, t30_config *rx, int ecm)
{
	memset(tx, 0, sizeof(*tx));
	memset(rx, 0, sizeof(*rx));
	tx->calling = 1;
	tx->sending = 1;
	tx->local = full_caps(ecm);
	tx->ident = "+49 30 1111";
	rx->local = full_caps(ecm);
	rx->ident = "+49 30 2222";
}

static void assert_pages_equal(docctx *dt, docctx *dr, int from)
{
	ck_assert_int_eq(dr->nrx, dt->npages - from);
	for (int i = 0; i < dr->nrx; i++) {
		ck_assert_uint_ge(dr->rx[i].len, dt->tx[i + from].len);
		ck_assert(memcmp(dr->rx[i].data, dt->tx[i + from].data, dt->tx[i + from].len) == 0);
		for (size_t k = dt->tx[i + from].len; k < dr->rx[i].len; k++)
			ck_assert_int_eq(dr->rx[i].data[k], 0);	/* ECM padding */
	}
}

#define SETUP(ecm, npages, size) \
	faults f = { .reject_page = -1 }; \
	docctx dt = { .f = &f }, dr = { .f = &f }; \
	t30_config ct, cr; \
	configs(&ct, &cr, ecm); \
	make_pages(&dt, npages, size)

START_TEST(test_plain_three_pages)
{
	SETUP(0, 3, 5000);
	run r = run_call(&ct, &cr, &dt, &dr, &f);
	ck_assert_int_eq(r.tx.code, T30_OK);
	ck_assert_int_eq(r.rx.code, T30_OK);
	ck_assert_int_eq(r.tx.pages_done, 3);
	ck_assert_int_eq(r.tx.bps, 14400);
	ck_assert_int_eq(r.tx.coding, T30_MR);
	ck_assert_int_eq(r.tx.ecm, 0);
	ck_assert_str_eq(r.tx.remote_id, "+49 30 2222");
	ck_assert_str_eq(r.rx.remote_id, "+49 30 1111");
	assert_pages_equal(&dt, &dr, 0);
	docs_free(&dt);
	docs_free(&dr);
}
END_TEST

START_TEST(test_ecm_mmr_blocks)
{
	SETUP(1, 2, 70000);	/* > 64 KiB: two ECM blocks per page */
	run r = run_call(&ct, &cr, &dt, &dr, &f);
	ck_assert_int_eq(r.tx.code, T30_OK);
	ck_assert_int_eq(r.rx.code, T30_OK);
	ck_assert_int_eq(r.tx.coding, T30_MMR);
	ck_assert_int_eq(r.tx.ecm, 1);
	ck_assert_int_eq(r.rx.pages_done, 2);
	assert_pages_equal(&dt, &dr, 0);
	docs_free(&dt);
	docs_free(&dr);
}
END_TEST

START_TEST(test_ecm_jbig)
{
	SETUP(1, 2, 5000);
	ct.local.jbig = 1;
	cr.local.jbig = 1;
	run r = run_call(&ct, &cr, &dt, &dr, &f);
	ck_assert_int_eq(r.tx.code, T30_OK);
	ck_assert_int_eq(r.tx.coding, T30_JBIG);
	ck_assert_int_eq(r.rx.coding, T30_JBIG);
	assert_pages_equal(&dt, &dr, 0);
	docs_free(&dt);
	docs_free(&dr);
}
END_TEST

START_TEST(test_ecm_jbig_one_side)
{
	SETUP(1, 1, 5000);
	ct.local.jbig = 1;	/* only the sender offers JBIG: MMR */
	run r = run_call(&ct, &cr, &dt, &dr, &f);
	ck_assert_int_eq(r.tx.code, T30_OK);
	ck_assert_int_eq(r.tx.coding, T30_MMR);
	docs_free(&dt);
	docs_free(&dr);
}
END_TEST

START_TEST(test_ecm_64)
{
	SETUP(1, 2, 3000);
	ct.ecm_frame = 64;
	cr.local.ecm64 = 1;
	run r = run_call(&ct, &cr, &dt, &dr, &f);
	ck_assert_int_eq(r.tx.code, T30_OK);
	ck_assert_int_eq(r.rx.code, T30_OK);
	assert_pages_equal(&dt, &dr, 0);
	docs_free(&dt);
	docs_free(&dr);
}
END_TEST

START_TEST(test_ecm_ppr)
{
	SETUP(1, 1, 9000);
	f.drop_ecm_first = 1;
	run r = run_call(&ct, &cr, &dt, &dr, &f);
	ck_assert_int_eq(r.tx.code, T30_OK);
	ck_assert_int_ge(r.tx.ppr, 1);
	assert_pages_equal(&dt, &dr, 0);
	docs_free(&dt);
	docs_free(&dr);
}
END_TEST

START_TEST(test_training_fallback)
{
	SETUP(0, 1, 2000);
	f.bad_tcf_mod = 145;	/* V.17 14400 fails */
	run r = run_call(&ct, &cr, &dt, &dr, &f);
	ck_assert_int_eq(r.tx.code, T30_OK);
	ck_assert_int_eq(r.tx.bps, 12000);
	ck_assert_int_ge(r.tx.retrains, 1);
	assert_pages_equal(&dt, &dr, 0);
	docs_free(&dt);
	docs_free(&dr);
}
END_TEST

START_TEST(test_training_fails)
{
	SETUP(0, 1, 2000);
	f.bad_tcf_mod = -1;
	run r = run_call(&ct, &cr, &dt, &dr, &f);
	ck_assert_int_eq(r.tx.code, T30_ERR_TRAIN);
	ck_assert_str_eq(t30_retry_class(r.tx.code), "protocol");
	ck_assert_int_eq(r.tx.pages_done, 0);
	ck_assert_int_eq(dr.nrx, 0);
	docs_free(&dt);
	docs_free(&dr);
}
END_TEST

START_TEST(test_rtn_resend)
{
	SETUP(0, 3, 3000);
	f.reject_page = 1;
	run r = run_call(&ct, &cr, &dt, &dr, &f);
	ck_assert_int_eq(r.tx.code, T30_OK);
	ck_assert_int_eq(r.tx.pages_done, 3);
	ck_assert_int_ge(r.tx.retrains, 1);
	ck_assert_int_lt(r.tx.bps, 14400);	/* retrained lower after RTN */
	assert_pages_equal(&dt, &dr, 0);
	docs_free(&dt);
	docs_free(&dr);
}
END_TEST

START_TEST(test_rtn_always)
{
	SETUP(0, 2, 3000);
	f.reject_always = 1;
	run r = run_call(&ct, &cr, &dt, &dr, &f);
	ck_assert_int_eq(r.tx.code, T30_ERR_RTN);
	ck_assert_int_eq(r.tx.pages_done, 0);
	docs_free(&dt);
	docs_free(&dr);
}
END_TEST

START_TEST(test_remote_hangs_up_mid_page)
{
	SETUP(0, 3, 3000);
	f.rx_dead_after_pages = 2;	/* receiver gone while page 2 is on the line */
	run r = run_call(&ct, &cr, &dt, &dr, &f);
	ck_assert_int_eq(r.tx.code, T30_ERR_NO_RESPONSE);
	ck_assert_str_eq(t30_retry_class(r.tx.code), "protocol");
	ck_assert_int_eq(r.tx.pages_done, 1);	/* resume from page 2 */
	ck_assert_int_lt(r.end_ms, 60000);
	docs_free(&dt);
	docs_free(&dr);
}
END_TEST

START_TEST(test_no_dcn_from_peer)
{
	SETUP(0, 2, 3000);
	f.tx_no_dcn = 1;
	run r = run_call(&ct, &cr, &dt, &dr, &f);
	ck_assert_int_eq(r.tx.code, T30_OK);
	ck_assert_int_eq(r.rx.code, T30_OK);
	ck_assert_int_eq(dr.nrx, 2);
	ck_assert_int_lt(r.end_ms, 20000);
	docs_free(&dt);
	docs_free(&dr);
}
END_TEST

START_TEST(test_not_a_fax)
{
	SETUP(0, 1, 3000);
	f.rx_silent = 1;
	run r = run_call(&ct, &cr, &dt, &dr, &f);
	ck_assert_int_eq(r.tx.code, T30_ERR_NO_DIS);
	ck_assert_str_eq(t30_retry_class(r.tx.code), "no-answer");
	ck_assert_int_ge(r.end_ms, 35000);
	ck_assert_int_lt(r.end_ms, 45000);
	docs_free(&dt);
	docs_free(&dr);
}
END_TEST

START_TEST(test_lost_mcf)
{
	SETUP(0, 2, 3000);
	f.drop_fcf = T30_MCF;	/* the first MCF is lost: the sender repeats MPS */
	run r = run_call(&ct, &cr, &dt, &dr, &f);
	ck_assert_int_eq(r.tx.code, T30_OK);
	ck_assert_int_eq(dr.nrx, 2);
	assert_pages_equal(&dt, &dr, 0);
	docs_free(&dt);
	docs_free(&dr);
}
END_TEST

START_TEST(test_lost_ecm_mcf)
{
	SETUP(1, 2, 3000);
	f.drop_fcf = T30_MCF;
	run r = run_call(&ct, &cr, &dt, &dr, &f);
	ck_assert_int_eq(r.tx.code, T30_OK);
	assert_pages_equal(&dt, &dr, 0);
	docs_free(&dt);
	docs_free(&dr);
}
END_TEST

START_TEST(test_resume)
{
	SETUP(0, 3, 3000);
	dt.tx[7].len = 1;	/* first_page = 1 */
	run r = run_call(&ct, &cr, &dt, &dr, &f);
	ck_assert_int_eq(r.tx.code, T30_OK);
	ck_assert_int_eq(r.tx.pages_done, 3);
	assert_pages_equal(&dt, &dr, 1);
	docs_free(&dt);
	docs_free(&dr);
}
END_TEST

START_TEST(test_no_ecm_remote)
{
	SETUP(1, 1, 3000);
	cr.local = full_caps(0);	/* receiver without ECM: MR, no MMR */
	cr.local.mr = 0;		/* and without MR */
	run r = run_call(&ct, &cr, &dt, &dr, &f);
	ck_assert_int_eq(r.tx.code, T30_OK);
	ck_assert_int_eq(r.tx.ecm, 0);
	ck_assert_int_eq(r.tx.coding, T30_MH);
	docs_free(&dt);
	docs_free(&dr);
}
END_TEST

START_TEST(test_dis_roundtrip)
{
	t30_caps c = full_caps(1), d;
	c.ecm64 = 1;
	c.subaddr = 1;
	c.scan_ms = 10;
	uint8_t fif[16];
	int n = t30_dis_encode(&c, fif, sizeof(fif));
	ck_assert_int_eq(n, 7);
	ck_assert_int_eq(t30_dis_decode(fif, (size_t)n, &d), 0);
	ck_assert_int_eq(d.modems, c.modems);
	ck_assert_int_eq(d.fine, 1);
	ck_assert_int_eq(d.mr, 1);
	ck_assert_int_eq(d.mmr, 1);
	ck_assert_int_eq(d.ecm, 1);
	ck_assert_int_eq(d.ecm64, 1);
	ck_assert_int_eq(d.subaddr, 1);
	ck_assert_int_eq(d.scan_ms, 10);
	ck_assert_int_eq(d.length, 2);
	ck_assert_int_eq(d.jbig, 0);
	c.jbig = 1;
	n = t30_dis_encode(&c, fif, sizeof(fif));
	ck_assert_int_eq(n, 10);
	ck_assert_int_eq(t30_dis_decode(fif, (size_t)n, &d), 0);
	ck_assert_int_eq(d.jbig, 1);
	ck_assert_int_eq(d.subaddr, 1);
	c.jbig = 0;
	/* efax's DIS (wire notation): V.17, fine, 215 mm, unlimited, 0 ms, MH only */
	const uint8_t efax[3] = { 0x00, 0x6e, 0x78 };
	ck_assert_int_eq(t30_dis_decode(efax, 3, &d), 0);
	ck_assert(d.modems & T30_MOD_V17);
	ck_assert_int_eq(d.mr, 0);
	ck_assert_int_eq(d.ecm, 0);
	ck_assert_int_eq(d.scan_ms, 0);
	t30_params p = { .rate = 0, .coding = T30_MMR, .fine = 1, .length = 2, .ecm = 1,
			 .ecm_frame = 64 }, q;
	n = t30_dcs_encode(&p, fif, sizeof(fif));
	ck_assert_int_eq(t30_dcs_decode(fif, (size_t)n, &q), 0);
	ck_assert_int_eq(q.rate, 0);
	ck_assert_int_eq(q.coding, T30_MMR);
	ck_assert_int_eq(q.ecm_frame, 64);
	ck_assert_int_eq(fif[1] & 0x3c, 8 << 2);	/* bits 11-14 = 8: V.17 14400 */
}
END_TEST

START_TEST(test_ident)
{
	uint8_t fif[T30_ID_LEN];
	char out[T30_ID_LEN + 1];
	t30_ident_encode("+49 30 123", fif);
	ck_assert_int_eq(fif[0], '3');
	ck_assert_int_eq(fif[19], ' ');
	t30_ident_decode(fif, T30_ID_LEN, out);
	ck_assert_str_eq(out, "+49 30 123");
}
END_TEST

START_TEST(test_pad_rows)
{
	/* EOL, 8 data bits (0xFF), EOL, then RTC-like EOLs: LSB first */
	uint8_t in[] = { 0x00, 0x08, 0xFF, 0x00, 0x08, 0x80, 0x00, 0x08, 0x80, 0x00, 0x08 };
	buf out;
	buf_init(&out, 0);
	ck_assert_int_eq(t4_pad_rows(in, sizeof(in), 0, &out), 0);
	ck_assert_uint_eq(out.len, sizeof(in));
	ck_assert(memcmp(out.data, in, sizeof(in)) == 0);
	buf_reset(&out);
	ck_assert_int_eq(t4_pad_rows(in, sizeof(in), 200, &out), 0);
	ck_assert_uint_gt(out.len, sizeof(in) + 15);
	int rtc;
	ck_assert_uint_eq(t4_count_eols((uint8_t *)out.data, out.len, &rtc),
			  t4_count_eols(in, sizeof(in), &rtc));
	buf_free(&out);
	/* RTC then line noise: trimmed after the sixth EOL */
	buf_init(&out, 0);
	ck_assert_int_eq(t4_pad_rows(in, 5, 0, &out), 0);	/* EOL, data, EOL */
	for (int i = 0; i < 5; i++)
		buf_append(&out, "\x00\x08", 2);	/* five more EOLs: RTC */
	size_t rtc_end = out.len;
	buf_append(&out, "\xff\x55\xff", 3);
	ck_assert_uint_eq(t4_trim_rtc((uint8_t *)out.data, out.len), rtc_end);
	uint8_t none[4] = { 0xff, 0x12, 0x34, 0x56 };
	ck_assert_uint_eq(t4_trim_rtc(none, 4), 4);
	buf_free(&out);
}
END_TEST

typedef struct got { int n; t30_frame f[8]; } got;
static void on_frame(void *ctx, const uint8_t *p, size_t len)
{
	got *g = ctx;
	if (g->n < 8) {
		memcpy(g->f[g->n].b, p, len);
		g->f[g->n++].len = len;
	}
}

START_TEST(test_hdlc)
{
	t30_frame fr[3];
	uint8_t fif[257];
	for (int i = 0; i < 257; i++)
		fif[i] = (uint8_t)(i * 7 + 0x3E);	/* plenty of runs of ones */
	fif[5] = 0xFF;
	fif[6] = 0xFF;
	fr[0].len = 3 + 257;
	fr[0].b[0] = 0xFF; fr[0].b[1] = 0x03; fr[0].b[2] = T30_FCD;
	memcpy(fr[0].b + 3, fif, 257);
	fr[1] = fr[0];
	fr[1].b[3] = 1;
	fr[2].len = 3;
	fr[2].b[0] = 0xFF; fr[2].b[1] = 0x03; fr[2].b[2] = T30_RCP;
	buf out;
	buf_init(&out, 0);
	ck_assert_int_eq(hdlc_encode(fr, 3, 10, &out), 0);
	got g = { 0 };
	hdlc_rx h;
	hdlc_rx_init(&h, on_frame, &g);
	hdlc_rx_put(&h, (uint8_t *)out.data, out.len);
	ck_assert_int_eq(g.n, 3);
	ck_assert_uint_eq(g.f[0].len, fr[0].len);
	ck_assert(memcmp(g.f[1].b, fr[1].b, fr[1].len) == 0);
	ck_assert_uint_eq(g.f[2].len, 3);
	/* a bit error in frame 0 drops it (FCS), the others survive */
	out.data[40] ^= 0x10;
	memset(&g, 0, sizeof(g));
	hdlc_rx_init(&h, on_frame, &g);
	hdlc_rx_put(&h, (uint8_t *)out.data, out.len);
	ck_assert_int_eq(g.n, 2);
	ck_assert_uint_eq(h.bad, 1);
	buf_free(&out);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("t30");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_dis_roundtrip);
	tcase_add_test(tc, test_ident);
	tcase_add_test(tc, test_pad_rows);
	tcase_add_test(tc, test_hdlc);
	tcase_add_test(tc, test_plain_three_pages);
	tcase_add_test(tc, test_ecm_mmr_blocks);
	tcase_add_test(tc, test_ecm_64);
	tcase_add_test(tc, test_ecm_jbig);
	tcase_add_test(tc, test_ecm_jbig_one_side);
	tcase_add_test(tc, test_ecm_ppr);
	tcase_add_test(tc, test_training_fallback);
	tcase_add_test(tc, test_training_fails);
	tcase_add_test(tc, test_rtn_resend);
	tcase_add_test(tc, test_rtn_always);
	tcase_add_test(tc, test_remote_hangs_up_mid_page);
	tcase_add_test(tc, test_no_dcn_from_peer);
	tcase_add_test(tc, test_not_a_fax);
	tcase_add_test(tc, test_lost_mcf);
	tcase_add_test(tc, test_lost_ecm_mcf);
	tcase_add_test(tc, test_resume);
	tcase_add_test(tc, test_no_ecm_remote);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
