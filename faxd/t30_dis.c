/*
 * t30_dis.c - DIS/DTC/DCS information fields, identities and frame names.
 *
 * Contract: bits are numbered as in T.30 Table 2 from 1; bit n is bit (n-1)%8 of FIF
 * octet (n-1)/8 (wire notation, as the Class 1 DCE hands it over). Multi-bit fields
 * are read with the lowest-numbered bit as least significant. The encoders set the
 * extension bits (24, 32, 40, 48) so that every octet up to the last used is sent.
 * t30_choose() picks the fastest common modem, the best common coding the document can
 * be given in, and the document's own resolution (fine falls back to standard when
 * the remote lacks it; the caller must then supply standard-resolution data).
 */
#include <stdio.h>
#include <string.h>

#include "t30.h"

const t30_rate t30_rates[] = {
	{ 14400, T30_MOD_V17, 145, 146, 8 },
	{ 12000, T30_MOD_V17, 121, 122, 10 },
	{ 9600, T30_MOD_V17, 97, 98, 9 },
	{ 7200, T30_MOD_V17, 73, 74, 11 },
	{ 9600, T30_MOD_V29, 96, 96, 1 },
	{ 7200, T30_MOD_V29, 72, 72, 3 },
	{ 4800, T30_MOD_V27, 48, 48, 2 },
	{ 2400, T30_MOD_V27, 24, 24, 0 },
};
const int t30_nrates = (int)(sizeof(t30_rates) / sizeof(t30_rates[0]));

int t30_rate_find(int bps)
{
	for (int i = 0; i < t30_nrates; i++)
		if (t30_rates[i].bps == bps)
			return i;
	return -1;
}

static void bit_set(uint8_t *fif, int n, int v)
{
	if (v)
		fif[(n - 1) / 8] |= (uint8_t)(1u << ((n - 1) % 8));
}

static int bit_get(const uint8_t *fif, size_t len, int n)
{
	size_t o = (size_t)(n - 1) / 8;
	return o < len ? (fif[o] >> ((n - 1) % 8)) & 1 : 0;
}

static int field_get(const uint8_t *fif, size_t len, int first, int nbits)
{
	int v = 0;
	for (int i = 0; i < nbits; i++)
		v |= bit_get(fif, len, first + i) << i;
	return v;
}

static void field_set(uint8_t *fif, int first, int nbits, int v)
{
	for (int i = 0; i < nbits; i++)
		bit_set(fif, first + i, (v >> i) & 1);
}

/* Minimum scan line time codes (bits 21-23), DCS meaning. */
static int scan_code(int ms)
{
	switch (ms) {
	case 0: return 7;
	case 5: return 1;
	case 10: return 2;
	case 40: return 4;
	default: return 0;	/* 20 ms */
	}
}

static void scan_decode(int code, int *ms, int *half)
{
	static const int std_ms[8] = { 20, 5, 10, 20, 40, 40, 10, 0 };
	*ms = std_ms[code & 7];
	*half = (code == 3 || code == 5 || code == 6);
}

/* Set the extension bits up to the octet holding bit `last`. */
static int fif_finish(uint8_t *fif, int last)
{
	int octets = (last + 7) / 8;
	if (octets < 3)
		octets = 3;
	for (int o = 3; o <= octets; o++)
		if (o < octets)
			bit_set(fif, o * 8, 1);
	return octets;
}

int t30_dis_encode(const t30_caps *c, uint8_t *fif, size_t size)
{
	if (size < 8)
		return -1;
	memset(fif, 0, size);
	int modem = 0;
	if (c->modems & T30_MOD_V29)
		modem |= 1;
	if (c->modems & T30_MOD_V27)
		modem |= 2;
	if (c->modems & T30_MOD_V17)
		modem |= 8 | 1 | 2;	/* V.17 implies V.29 + V.27ter in DIS (value 11) */
	bit_set(fif, 7, c->ecm && c->ecm64);
	bit_set(fif, 9, c->can_poll);
	bit_set(fif, 10, c->can_receive);
	field_set(fif, 11, 4, modem);
	bit_set(fif, 15, c->fine);
	bit_set(fif, 16, c->mr);
	field_set(fif, 17, 2, c->width);
	field_set(fif, 19, 2, c->length);
	field_set(fif, 21, 3, scan_code(c->scan_ms));
	int last = 24;
	if (c->ecm || c->mmr) {
		bit_set(fif, 27, c->ecm);
		bit_set(fif, 31, c->ecm && c->mmr);
		last = 32;
	}
	if (c->subaddr) {
		bit_set(fif, 49, 1);
		last = 56;
	}
	if (c->ecm && c->jbig) {
		bit_set(fif, 78, 1);
		last = 80;
	}
	return fif_finish(fif, last);
}

/* Bit n is there only when every extension bit before its octet is set. */
static int bit_present(const uint8_t *fif, size_t len, int n)
{
	for (int e = 24; e < n; e += 8)
		if (!bit_get(fif, len, e))
			return 0;
	return bit_get(fif, len, n);
}

int t30_dis_decode(const uint8_t *fif, size_t len, t30_caps *c)
{
	memset(c, 0, sizeof(*c));
	if (len < 3)
		return -1;
	int modem = field_get(fif, len, 11, 4);
	c->modems = T30_MOD_V27;	/* 2400 is always possible */
	if (modem & 1)
		c->modems |= T30_MOD_V29;
	if (modem & 8)
		c->modems |= T30_MOD_V17;
	c->ecm64 = bit_get(fif, len, 7);
	c->can_poll = bit_get(fif, len, 9);
	c->can_receive = bit_get(fif, len, 10);
	c->fine = bit_get(fif, len, 15);
	c->mr = bit_get(fif, len, 16);
	c->width = field_get(fif, len, 17, 2);
	if (c->width == 3)
		c->width = 0;	/* invalid: be safe */
	c->length = field_get(fif, len, 19, 2);
	scan_decode(field_get(fif, len, 21, 3), &c->scan_ms, &c->scan_half_fine);
	if (bit_get(fif, len, 24)) {
		c->ecm = bit_get(fif, len, 27);
		c->mmr = c->ecm && bit_get(fif, len, 31);
	}
	c->subaddr = bit_present(fif, len, 49);
	c->jbig = c->ecm && bit_present(fif, len, 78);
	return 0;
}

int t30_dcs_encode(const t30_params *p, uint8_t *fif, size_t size)
{
	if (size < 8 || p->rate < 0 || p->rate >= t30_nrates)
		return -1;
	memset(fif, 0, size);
	bit_set(fif, 10, 1);
	field_set(fif, 11, 4, t30_rates[p->rate].dcs);
	bit_set(fif, 15, p->fine);
	bit_set(fif, 16, p->coding == T30_MR);
	field_set(fif, 17, 2, p->width);
	field_set(fif, 19, 2, p->length);
	field_set(fif, 21, 3, scan_code(p->scan_ms));
	int last = 24;
	if (p->ecm) {
		bit_set(fif, 27, 1);
		bit_set(fif, 28, p->ecm_frame == 64);
		bit_set(fif, 31, p->coding == T30_MMR);
		last = 32;
		if (p->coding == T30_JBIG) {
			bit_set(fif, 78, 1);
			last = 80;
		}
	}
	return fif_finish(fif, last);
}

int t30_dcs_decode(const uint8_t *fif, size_t len, t30_params *p)
{
	memset(p, 0, sizeof(*p));
	if (len < 3)
		return -1;
	int code = field_get(fif, len, 11, 4);
	p->rate = -1;
	for (int i = 0; i < t30_nrates; i++)
		if (t30_rates[i].dcs == code)
			p->rate = i;
	if (p->rate < 0)
		return -1;
	p->fine = bit_get(fif, len, 15);
	p->coding = bit_get(fif, len, 16) ? T30_MR : T30_MH;
	p->width = field_get(fif, len, 17, 2);
	p->length = field_get(fif, len, 19, 2);
	int half;
	scan_decode(field_get(fif, len, 21, 3), &p->scan_ms, &half);
	if (bit_get(fif, len, 24)) {
		p->ecm = bit_get(fif, len, 27);
		p->ecm_frame = bit_get(fif, len, 28) ? 64 : 256;
		if (bit_get(fif, len, 31))
			p->coding = T30_MMR;
		if (bit_present(fif, len, 78))
			p->coding = T30_JBIG;
	}
	if ((p->coding == T30_MMR || p->coding == T30_JBIG) && !p->ecm)
		return -1;	/* T.6 and T.85 need ECM */
	return 0;
}

int t30_choose(const t30_caps *local, const t30_caps *remote, int codings, int fine,
	       int width, t30_params *out)
{
	memset(out, 0, sizeof(*out));
	if (width > remote->width)
		return -1;
	out->rate = -1;
	for (int i = 0; i < t30_nrates; i++)
		if ((t30_rates[i].family & local->modems & remote->modems)) {
			out->rate = i;
			break;
		}
	if (out->rate < 0)
		return -1;
	out->ecm = local->ecm && remote->ecm;
	out->ecm_frame = (remote->ecm64 || local->ecm64) ? 64 : 256;
	if (out->ecm && local->jbig && remote->jbig && (codings & (1 << T30_JBIG)))
		out->coding = T30_JBIG;
	else if (out->ecm && local->mmr && remote->mmr && (codings & (1 << T30_MMR)))
		out->coding = T30_MMR;
	else if (local->mr && remote->mr && (codings & (1 << T30_MR)))
		out->coding = T30_MR;
	else if (codings & (1 << T30_MH))
		out->coding = T30_MH;
	else
		return -1;
	out->fine = fine && remote->fine && local->fine;
	out->width = width;
	out->length = remote->length >= 2 ? 2 : remote->length;
	/* The remote's minimum scan line time; with ECM it does not apply. */
	int ms = remote->scan_ms;
	if (out->fine && remote->scan_half_fine)
		ms /= 2;
	out->scan_ms = out->ecm ? 0 : ms;
	return 0;
}

void t30_ident_encode(const char *id, uint8_t fif[T30_ID_LEN])
{
	size_t n = id ? strlen(id) : 0;
	if (n > T30_ID_LEN)
		n = T30_ID_LEN;
	memset(fif, ' ', T30_ID_LEN);
	for (size_t i = 0; i < n; i++)
		fif[i] = (uint8_t)id[n - 1 - i];
}

void t30_ident_decode(const uint8_t *fif, size_t len, char out[T30_ID_LEN + 1])
{
	size_t n = len > T30_ID_LEN ? T30_ID_LEN : len, o = 0;
	for (size_t i = n; i-- > 0;) {
		uint8_t ch = fif[i];
		out[o++] = (ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\') ? (char)ch : '?';
	}
	out[o] = '\0';
	/* trim the padding on both sides */
	size_t s = 0;
	while (out[s] == ' ')
		s++;
	memmove(out, out + s, o - s + 1);
	o -= s;
	while (o > 0 && out[o - 1] == ' ')
		out[--o] = '\0';
}

const char *t30_fcf_name(uint8_t fcf)
{
	switch (fcf) {
	case T30_DIS: return "DIS";
	case T30_CSI: return "CSI";
	case T30_NSF: return "NSF";
	case T30_DTC: return "DTC";
	case T30_CIG: return "CIG";
	case T30_NSC: return "NSC";
	}
	switch (fcf & 0xFE) {
	case T30_DCS: return "DCS";
	case T30_TSI: return "TSI";
	case T30_NSS: return "NSS";
	case T30_SUB: return "SUB";
	case T30_SID: return "SID";
	case T30_CTC: return "CTC";
	case T30_CFR: return "CFR";
	case T30_FTT: return "FTT";
	case T30_CTR: return "CTR";
	case T30_MPS: return "MPS";
	case T30_EOM: return "EOM";
	case T30_EOP: return "EOP";
	case T30_PRI_MPS: return "PRI-MPS";
	case T30_PRI_EOM: return "PRI-EOM";
	case T30_PRI_EOP: return "PRI-EOP";
	case T30_PPS: return "PPS";
	case T30_EOR: return "EOR";
	case T30_RR: return "RR";
	case T30_MCF: return "MCF";
	case T30_RTP: return "RTP";
	case T30_RTN: return "RTN";
	case T30_PIP: return "PIP";
	case T30_PIN: return "PIN";
	case T30_PPR: return "PPR";
	case T30_RNR: return "RNR";
	case T30_ERR: return "ERR";
	case T30_DCN: return "DCN";
	case T30_CRP: return "CRP";
	case T30_FCD: return "FCD";
	case T30_RCP: return "RCP";
	case 0xC0: return "PWD";
	}
	return "?";
}

const char *t30_coding_name(int coding)
{
	switch (coding) {
	case T30_MH: return "MH";
	case T30_MR: return "MR";
	case T30_MMR: return "MMR";
	case T30_JBIG: return "JBIG";
	}
	return "?";
}

void t30_caps_describe(const t30_caps *c, char *out, size_t size)
{
	static const int widths[3] = { 1728, 2048, 2432 };
	snprintf(out, size, "%s%s%s%s%s%s%s%s%s width=%d scan=%dms%s",
		 (c->modems & T30_MOD_V17) ? "V17 " : "", (c->modems & T30_MOD_V29) ? "V29 " : "",
		 (c->modems & T30_MOD_V27) ? "V27" : "", c->fine ? " fine" : "",
		 c->mr ? " MR" : "", c->mmr ? " MMR" : "", c->jbig ? " JBIG" : "",
		 c->ecm ? " ECM" : "",
		 c->ecm && c->ecm64 ? "64" : "", widths[c->width % 3], c->scan_ms,
		 c->subaddr ? " SUB" : "");
}
