/* The table-driven block decoder (decode.h). Never reads past n; the only allocation is a
 * block's compiled form, once per process (see "Compiled blocks" below).
 * Transform order per row: raw -> mask -> shift -> sign -> abs -> scale -> add -> clamp. */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode_internal.h"

static const double pow10_tab[] = {1, 10, 100, 1000, 1e4, 1e5, 1e6};

/* A name template split once per decode: "phase_%u_power" -> "phase_" + idx + "_power".
 * Plain names and templates without "%u" are copied as they are. Every expanded name is
 * cut to BLT_NAME_MAX - 1 characters (the pool slot). */
typedef struct tmpl {
	const char *pre, *suf; /* suf NULL: no "%u", pre is the whole name */
	size_t npre, nsuf;
} tmpl_t;

static void tmpl_split(tmpl_t *t, const char *name)
{
	const char *pc = name ? strchr(name, '%') : NULL;
	if (!name)
		name = "?";
	t->pre = name;
	if (!pc || pc[1] != 'u') {
		t->npre = strnlen(name, BLT_NAME_MAX - 1);
		t->suf = NULL;
		t->nsuf = 0;
		return;
	}
	t->npre = (size_t)(pc - name);
	if (t->npre > BLT_NAME_MAX - 1)
		t->npre = BLT_NAME_MAX - 1;
	t->suf = pc + 2;
	t->nsuf = strnlen(pc + 2, BLT_NAME_MAX);
}

static const char *tmpl_expand(char *dst, const tmpl_t *t, unsigned idx)
{
	char digits[4];
	int nd = 0;
	size_t o = t->npre, suf = t->nsuf;

	memcpy(dst, t->pre, t->npre);
	if (!t->suf) {
		dst[o] = '\0';
		return dst;
	}
	do {
		digits[nd++] = (char)('0' + idx % 10);
		idx /= 10;
	} while (idx && nd < 4);
	while (nd > 0 && o < BLT_NAME_MAX - 1)
		dst[o++] = digits[--nd];
	if (suf > BLT_NAME_MAX - 1 - o)
		suf = BLT_NAME_MAX - 1 - o;
	memcpy(dst + o, t->suf, suf);
	dst[o + suf] = '\0';
	return dst;
}

/* Strings never fail: padding NULs stripped, anything unprintable becomes '?'. */
static void decode_string(const blt_field_t *f, const uint8_t *p, size_t sz, blt_value_t *v)
{
	size_t len = sz < BLT_STR_MAX - 1 ? sz : BLT_STR_MAX - 1;
	bool swap = f->type == BLT_T_STR_SWAP;
	for (size_t i = 0; i < len; i++) {
		size_t j = swap ? (i ^ 1u) : i;
		v->str[i] = (char)(j < sz ? p[j] : p[i]);
	}
	while (len > 0 && v->str[len - 1] == '\0')
		len--;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)v->str[i];
		if (c < 0x20 || c >= 0x7f)
			v->str[i] = '?';
	}
	v->str[len] = '\0';
	v->kind = BLT_VK_STR;
}

static void u64_decimal(uint64_t x, char *out)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + x % 10);
		x /= 10;
	} while (x);
	for (int i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\0';
}

static void enum_name(const blt_field_t *f, int64_t iv, blt_value_t *v)
{
	const char *name =
	    iv >= INT32_MIN && iv <= INT32_MAX ? blt_enum_name(f->enums, (int32_t)iv) : NULL;
	if (name) {
		size_t l = strlen(name);
		if (l > BLT_STR_MAX - 1)
			l = BLT_STR_MAX - 1;
		memcpy(v->str, name, l);
		v->str[l] = '\0';
		return;
	}
	/* "unknown_<n>" without snprintf: this is the hot path */
	memcpy(v->str, "unknown_", 8);
	if (iv < 0) {
		v->str[8] = '-';
		u64_decimal((uint64_t)0 - (uint64_t)iv, v->str + 9);
	} else {
		u64_decimal((uint64_t)iv, v->str + 8);
	}
}

static void unavailable(blt_value_t *v, blt_vreason_t why)
{
	v->status = BLT_VS_UNAVAILABLE;
	v->reason = (uint8_t)why;
}

/* All bits of an unsigned 16/32-bit physical quantity set: "not available" on many
 * firmwares (a reply full of 0xFFFF). Only rows read whole (no mask/shift), with a unit,
 * that are not names, bitmaps or counts. */
static bool all_ones(const blt_field_t *f, uint64_t raw)
{
	unsigned sz;
	if (raw != 0xFFFFu && raw != 0xFFFFFFFFu) /* the common case first */
		return false;
	sz = blt__tsize(f->type);
	if (f->mask || f->shift || !f->unit || f->enums ||
	    (f->flags & (BLT_F_BITMAP | BLT_F_COUNT)) || blt__is_signed(f) || sz < 2 || sz > 4)
		return false;
	return raw == (sz == 2 ? 0xFFFFu : 0xFFFFFFFFu);
}

/* The plausible range in effect for a row: the model's quirk, the row's, its unit's. */
static bool range_of(const blt_field_t *f, const blt_field_quirk_t *q, double *lo, double *hi)
{
	if (q && q->lo < q->hi) {
		*lo = q->lo;
		*hi = q->hi;
		return true;
	}
	if (f->flags & BLT_F_NO_RANGE)
		return false;
	if (f->flags & BLT_F_RANGE) {
		*lo = f->valid_lo;
		*hi = f->valid_hi;
		return true;
	}
	if (f->enums || (f->flags & (BLT_F_BITMAP | BLT_F_COUNT)))
		return false;
	/* only "%", "Hz" and "°C" have a default range: skip the table for the other units */
	if (!f->unit || (f->unit[0] != '%' && f->unit[0] != 'H' && f->unit[0] != '\xc2'))
		return false;
	return blt_unit_range(f->unit, lo, hi);
}

static void decode_number(const blt_field_t *f, const uint8_t *p, const blt_decode_opts_t *opts,
                          const blt_field_quirk_t *q, blt_value_t *v)
{
	uint64_t raw = blt__read_raw(f, p);
	int64_t iv;
	double x, s;
	unsigned dec;

	if (f->type == BLT_T_SN64) {
		u64_decimal(raw, v->str);
		v->raw = (int64_t)raw;
		v->kind = BLT_VK_STR;
		return;
	}
	iv = blt__to_int(f, raw);
	v->raw = iv;
	if ((f->flags & BLT_F_ZERO_NA) && iv == 0) {
		v->status = BLT_VS_NOT_REPORTED;
		return;
	}
	if (((f->flags & BLT_F_NA_RAW) && iv == f->na_raw) || all_ones(f, raw)) {
		unavailable(v, BLT_VR_NOT_AVAILABLE);
		return;
	}
	if ((f->flags & BLT_F_ABS) && iv < 0)
		iv = iv == INT64_MIN ? INT64_MAX : -iv;
	s = blt__eff_scale(f, opts);
	dec = blt_field_decimals(f, opts);
	if (s == 1.0) {
		x = (double)iv;
	} else if (dec > 0 && fabs(s * pow10_tab[dec] - 1.0) < 1e-12) {
		x = (double)iv / pow10_tab[dec]; /* exact decimal scale: correctly rounded */
	} else {
		x = (double)iv * s;
	}
	if (f->add != 0) {
		x += f->add;
		if (dec > 0)
			x = nearbyint(x * pow10_tab[dec]) / pow10_tab[dec];
	}
	if (f->flags & BLT_F_CLAMP) {
		if (x < f->clamp_lo)
			x = f->clamp_lo;
		if (x > f->clamp_hi)
			x = f->clamp_hi;
	}
	v->num = x;
	v->decimals = (uint8_t)dec;
	v->kind = (s != 1.0 || f->add != 0) ? BLT_VK_REAL : BLT_VK_INT;
	if (f->enums)
		enum_name(f, iv, v);
	{
		double lo, hi;
		if (range_of(f, q, &lo, &hi) && (x < lo - 1e-9 || x > hi + 1e-9))
			unavailable(v, BLT_VR_IMPLAUSIBLE);
	}
}

const blt_field_quirk_t *blt_decode_quirk(const blt_decode_opts_t *opts, uint16_t block,
                                          const blt_field_t *f)
{
	if (!opts || !f || !f->name)
		return NULL;
	for (size_t i = 0; i < opts->nquirks && opts->quirks; i++)
		if (opts->quirks[i].block == block && opts->quirks[i].field &&
		    strcmp(opts->quirks[i].field, f->name) == 0)
			return &opts->quirks[i];
	return NULL;
}

/* The model's "not supported" filler at the row's first register (32-bit rows: that
 * word is the filler and the other word 0; 8-bit rows: their whole register). */
static bool filler_hit(const blt_block_t *b, const blt_field_t *f, const uint8_t *p, size_t n,
                       size_t off, const blt_decode_opts_t *opts)
{
	size_t ro = off & ~(size_t)1, sz;
	unsigned reg, w;
	if (!opts || !opts->fillers || !opts->nfillers || blt__is_string(f) || ro + 2 > n)
		return false;
	reg = (unsigned)b->id + (unsigned)(ro / 2);
	w = blt__be16(p + ro);
	sz = blt__tsize(f->type);
	for (size_t i = 0; i < opts->nfillers; i++) {
		const blt_reg_filler_t *fl = &opts->fillers[i];
		if (reg < fl->first || reg > fl->last || w != fl->raw)
			continue;
		if (sz == 4) {
			if (ro + 4 > n)
				return false;
			if (f->type == BLT_T_U32_BE || f->type == BLT_T_I32_BE)
				return false; /* high word first: the filler would be 404 << 16 */
			return blt__be16(p + ro + 2) == 0;
		}
		return true;
	}
	return false;
}

/* Every register of bytes [off, off+sz) is in the delivered bitmap. */
static bool delivered(const uint8_t *present, size_t off, size_t sz)
{
	for (size_t r = off / 2; r <= (off + sz - 1) / 2; r++)
		if (!(present[r / 8] & (1u << (r % 8))))
			return false;
	return true;
}

typedef struct ctx {
	const blt_block_t *b;
	const uint8_t *p;
	size_t n;
	const blt_decode_opts_t *opts;
	blt_decoded_t *out;
	const blt_value_t *req_missing; /* first required value that is missing */
	size_t req_off, req_size;
	bool overflow;
	/* looked up once per decode, not per row */
	uint16_t gate_pv; /* opts->protocol_version, 0 = no gating */
	bool show_secrets;
	bool quirks;  /* a quirk of opts names this block */
	bool fillers; /* a filler of opts lies within this block's registers */
} ctx_t;

/* One value: row f, record idx (0 for plain rows), at byte off if located. name is the
 * row's name (plain rows) or its template split once per decode (repeated rows). */
static void emit(ctx_t *c, const blt_field_t *f, const tmpl_t *t, const char *name, unsigned idx,
                 bool located, size_t off)
{
	blt_value_t *v;
	size_t sz = blt__fsize(f);
	size_t slot = c->out->count;

	if (slot >= BLT_MAX_VALUES) {
		c->overflow = true;
		return;
	}
	c->out->count = slot + 1;
	v = &c->out->values[slot];
	v->field = f;
	v->name = name      ? name
	          : t       ? tmpl_expand(c->out->names[slot], t, idx)
	          : f->name ? f->name
	                    : "?";
	v->index = (uint8_t)idx;
	v->unit = f->unit;
	v->kind = blt__is_string(f) ? BLT_VK_STR : BLT_VK_INT;
	v->status = BLT_VS_OK;
	v->reason = BLT_VR_NONE;
	v->decimals = 0;
	v->raw = 0;
	v->num = 0;
	v->str[0] = '\0';

	if (f->min_pv && c->gate_pv && c->gate_pv < f->min_pv) {
		v->status = BLT_VS_GATED;
		return;
	}
	if (!located || sz == 0 || off > c->n || sz > c->n - off) {
		v->status = BLT_VS_MISSING;
		c->out->missing++;
		if ((f->flags & BLT_F_REQUIRED) && !c->req_missing) {
			c->req_missing = v;
			c->req_off = located ? off : 0;
			c->req_size = sz;
		}
		return;
	}
	if (c->opts && c->opts->present && !delivered(c->opts->present, off, sz)) {
		unavailable(v, BLT_VR_NOT_DELIVERED);
		c->out->unavailable++;
		return;
	}
	if (f->flags & BLT_F_SECRET && !c->show_secrets) {
		v->status = BLT_VS_HIDDEN;
		memcpy(v->str, "***", 4);
		return;
	}
	if (f->type == BLT_T_STR || f->type == BLT_T_STR_SWAP) {
		decode_string(f, c->p + off, sz, v);
		return;
	}
	{
		const blt_field_quirk_t *q =
		    c->quirks ? blt_decode_quirk(c->opts, c->b->id, f) : NULL;
		if (q && q->unit)
			v->unit = q->unit;
		decode_number(f, c->p + off, c->opts, q, v);
		if (c->fillers && (v->status == BLT_VS_OK || v->status == BLT_VS_UNAVAILABLE) &&
		    filler_hit(c->b, f, c->p, c->n, off, c->opts))
			unavailable(v, BLT_VR_UNSUPPORTED);
		if (v->status == BLT_VS_UNAVAILABLE)
			c->out->unavailable++;
	}
}

/* Number of records of a repeat group: value of its count row, capped at max. */
static unsigned repeat_count(const ctx_t *c, const blt_repeat_t *r)
{
	const blt_field_t *cf = blt__find_row(c->b, r->count_field);
	int64_t v;
	if (!cf || !blt__row_int(cf, c->p, c->n, &v))
		return 0;
	if (cf->min_pv && c->opts && c->opts->protocol_version &&
	    c->opts->protocol_version < cf->min_pv)
		return 0;
	if (v <= 0)
		return 0;
	return v > r->max ? r->max : (unsigned)v;
}

/* ---- Compiled blocks -------------------------------------------------------------
 * The first decode of a block compiles its rows once for the life of the process: name
 * template split, effective mask, sign width, scale, decimals, the way the scale is
 * applied, plausible range, all-ones applicability, count and base rows of repeats. Rows
 * whose semantics need more (strings, enums, secrets, zero/n-a codes, abs, clamp, pack
 * voltage scale) keep the row-by-row path above, and so does a decode whose options
 * bring model quirks or fillers for the block or a delivered-register bitmap. Blocks are
 * static and never change (decode.h), so a block's address identifies its compiled form. */
enum { XM_ONE = 0, XM_DIV = 1, XM_MUL = 2 };

typedef struct crow {
	/* hot: read for every value */
	const blt_field_t *f;
	const char *name; /* plain rows: the name; repeated rows: record k's is at name +
	                     k * nstride (k < repeat->max), expanded when compiled */
	const char *unit;
	uint64_t mask; /* effective mask (within the type, shifted bits) */
	uint64_t sbit; /* signed rows: the sign bit of the shifted value, else 0 */
	uint32_t ones; /* the all-ones raw value, when ones_ok */
	uint16_t off, size, min_pv, nstride;
	uint8_t type, shift, width, is_signed, dec, mode, kind, has_range, ones_ok, slow;
	uint8_t rare;             /* zero/n-a codes, abs, clamp or enums: the row's flags decide */
	uint8_t rep;              /* a repeated row (f->repeat, without touching the row) */
	uint8_t swap;             /* BLT_F_SWAP_INDEX */
	uint16_t stride;          /* repeated rows: the repeat's stride */
	double s, p, add, lo, hi; /* scale, 10^dec, add, plausible range */
	/* cold */
	const blt_field_t *cnt_f, *base_f; /* first row of a repeat group: its count/base rows */
	tmpl_t t;                          /* the name template, split */
	uint16_t gend;                     /* group heads: first row after the group */
} crow_t;

typedef struct plan {
	const blt_block_t *b;
	const blt_field_t *fields;
	size_t nfields;
	crow_t rows[];
} plan_t;

#define PLAN_SLOTS 256
static _Atomic(plan_t *) plans[PLAN_SLOTS];

static bool row_slow(const blt_field_t *f)
{
	return blt__is_string(f) || blt__tsize(f->type) == 0 ||
	       (f->flags & (BLT_F_PACK_VSCALE | BLT_F_SECRET));
}

static void compile_row(const blt_block_t *b, const blt_field_t *f, crow_t *r)
{
	unsigned sz = blt__tsize(f->type);
	double s = blt__eff_scale(f, NULL);
	memset(r, 0, sizeof *r);
	r->f = f;
	tmpl_split(&r->t, f->name);
	r->off = f->offset;
	r->size = (uint16_t)blt__fsize(f);
	r->min_pv = f->min_pv;
	r->type = f->type;
	r->slow = row_slow(f);
	r->rep = f->repeat != NULL;
	r->swap = (f->flags & BLT_F_SWAP_INDEX) != 0;
	r->stride = f->repeat ? f->repeat->stride : 0;
	r->unit = f->unit;
	r->name = r->t.pre;
	if (f->repeat) {
		r->cnt_f = blt__find_row(b, f->repeat->count_field);
		r->base_f = f->repeat->base_field ? blt__find_row(b, f->repeat->base_field) : NULL;
	}
	if (r->slow)
		return;
	r->mask = blt__eff_mask(f);
	r->shift = f->shift < 64 ? f->shift : 63;
	r->is_signed = blt__is_signed(f);
	r->width = (uint8_t)blt__width(f);
	r->sbit = r->is_signed && r->width > 0 && r->width < 64 ? (uint64_t)1 << (r->width - 1) : 0;
	r->s = s;
	r->add = f->add;
	r->dec = (uint8_t)blt_field_decimals(f, NULL); /* the decoder's one formula */
	r->p = pow10_tab[r->dec];
	r->mode = s == 1.0                                                    ? XM_ONE
	          : (r->dec > 0 && fabs(s * pow10_tab[r->dec] - 1.0) < 1e-12) ? XM_DIV
	                                                                      : XM_MUL;
	r->kind = (s != 1.0 || f->add != 0) ? BLT_VK_REAL : BLT_VK_INT;
	r->has_range = range_of(f, NULL, &r->lo, &r->hi);
	r->ones_ok = !f->mask && !f->shift && f->unit && !f->enums &&
	             !(f->flags & (BLT_F_BITMAP | BLT_F_COUNT)) && !r->is_signed && sz >= 2 &&
	             sz <= 4;
	r->rare = (f->flags & (BLT_F_ZERO_NA | BLT_F_NA_RAW | BLT_F_ABS | BLT_F_CLAMP)) || f->enums;
	r->ones = sz == 2 ? 0xFFFFu : 0xFFFFFFFFu;
}

static const plan_t *plan_for(const blt_block_t *b)
{
	size_t h = ((uintptr_t)b >> 4) % PLAN_SLOTS;
	plan_t *p;

	for (size_t k = 0; k < PLAN_SLOTS; k++) {
		size_t i = (h + k) % PLAN_SLOTS;
		plan_t *q = atomic_load_explicit(&plans[i], memory_order_acquire);
		if (!q)
			break;
		if (q->b == b && q->fields == b->fields && q->nfields == b->nfields)
			return q;
	}
	if (b->nfields == 0 || b->nfields > 4096 || !b->fields)
		return NULL;
	{
		size_t extra = 0, rows = sizeof *p + b->nfields * sizeof p->rows[0];
		char *nm;
		for (size_t i = 0; i < b->nfields; i++) { /* the expanded names of every record */
			const blt_field_t *f = &b->fields[i];
			tmpl_t t;
			if (!f->repeat)
				continue;
			tmpl_split(&t, f->name);
			extra += (size_t)f->repeat->max * (t.npre + 4 + t.nsuf + 1);
		}
		p = malloc(rows + extra);
		if (!p)
			return NULL; /* the row-by-row path needs no memory */
		p->b = b;
		p->fields = b->fields;
		p->nfields = b->nfields;
		nm = (char *)p + rows;
		for (size_t i = 0; i < b->nfields; i++) {
			crow_t *r = &p->rows[i];
			compile_row(b, &b->fields[i], r);
			if (!b->fields[i].repeat)
				continue;
			r->nstride = (uint16_t)(r->t.npre + 4 + r->t.nsuf + 1);
			r->name = nm;
			for (unsigned k = 0; k < b->fields[i].repeat->max; k++, nm += r->nstride) {
				char tmp[BLT_NAME_MAX];
				tmpl_expand(tmp, &r->t, k);
				memcpy(nm, tmp, strlen(tmp) + 1);
			}
		}
	}
	for (size_t i = 0; i < b->nfields;) {
		size_t j = i + 1;
		if (!b->fields[i].repeat) {
			i++;
			continue;
		}
		while (j < b->nfields && b->fields[j].repeat == b->fields[i].repeat)
			j++;
		p->rows[i].gend = (uint16_t)j;
		i = j;
	}
	for (size_t k = 0; k < PLAN_SLOTS; k++) {
		size_t i = (h + k) % PLAN_SLOTS;
		plan_t *expect = NULL;
		if (atomic_compare_exchange_strong_explicit(
		        &plans[i], &expect, p, memory_order_acq_rel, memory_order_acquire))
			return p;
		if (expect->b == b && expect->fields == b->fields &&
		    expect->nfields == b->nfields) {
			free(p); /* another thread compiled it first */
			return expect;
		}
	}
	free(p); /* the table is full: this block keeps the row-by-row path */
	return NULL;
}

/* emit() for a compiled row that is not slow. */
static inline __attribute__((always_inline)) void emit_fast(ctx_t *c, const crow_t *r, bool rep,
                                                            unsigned idx, bool located, size_t off)
{
	size_t slot = c->out->count;
	blt_value_t *v;
	const uint8_t *q;
	uint64_t raw, u;
	int64_t iv;
	double x;

	if (slot >= BLT_MAX_VALUES) {
		c->overflow = true;
		return;
	}
	c->out->count = slot + 1;
	v = &c->out->values[slot];
	v->field = r->f;
	v->name = rep ? r->name + idx * r->nstride : r->name;
	v->index = (uint8_t)idx;
	v->unit = r->unit;
	v->kind = BLT_VK_INT;
	v->status = BLT_VS_OK;
	v->reason = BLT_VR_NONE;
	v->decimals = 0;
	v->raw = 0;
	v->num = 0;
	v->str[0] = '\0';
	if (r->min_pv && c->gate_pv && c->gate_pv < r->min_pv) {
		v->status = BLT_VS_GATED;
		return;
	}
	if (!located || off > c->n || r->size > c->n - off) {
		v->status = BLT_VS_MISSING;
		c->out->missing++;
		if ((r->f->flags & BLT_F_REQUIRED) && !c->req_missing) {
			c->req_missing = v;
			c->req_off = located ? off : 0;
			c->req_size = r->size;
		}
		return;
	}
	q = c->p + off;
	switch (r->type) {
	case BLT_T_U8:
	case BLT_T_I8: raw = q[0]; break;
	case BLT_T_U16:
	case BLT_T_I16: raw = blt__be16(q); break;
	case BLT_T_U32:
	case BLT_T_I32: raw = (uint64_t)blt__be16(q) | (uint64_t)blt__be16(q + 2) << 16; break;
	default: raw = (uint64_t)blt__be16(q) << 16 | blt__be16(q + 2); break; /* *32_BE */
	}
	u = (raw & r->mask) >> r->shift;
	iv = (int64_t)((u ^ r->sbit) - r->sbit); /* sign extension (sbit 0: unsigned) */
	v->raw = iv;
	if (r->rare) {
		const blt_field_t *f = r->f;
		if ((f->flags & BLT_F_ZERO_NA) && iv == 0) {
			v->status = BLT_VS_NOT_REPORTED;
			return;
		}
		if ((f->flags & BLT_F_NA_RAW) && iv == f->na_raw) {
			unavailable(v, BLT_VR_NOT_AVAILABLE);
			c->out->unavailable++;
			return;
		}
	}
	if (r->ones_ok && raw == r->ones) {
		unavailable(v, BLT_VR_NOT_AVAILABLE);
		c->out->unavailable++;
		return;
	}
	if (r->rare && (r->f->flags & BLT_F_ABS) && iv < 0)
		iv = iv == INT64_MIN ? INT64_MAX : -iv;
	if (r->mode == XM_ONE)
		x = (double)iv;
	else if (r->mode == XM_DIV)
		x = (double)iv / r->p; /* exact decimal scale: correctly rounded */
	else
		x = (double)iv * r->s;
	if (r->add != 0) {
		x += r->add;
		if (r->dec > 0)
			x = nearbyint(x * r->p) / r->p;
	}
	if (r->rare && (r->f->flags & BLT_F_CLAMP)) {
		if (x < r->f->clamp_lo)
			x = r->f->clamp_lo;
		if (x > r->f->clamp_hi)
			x = r->f->clamp_hi;
	}
	v->num = x;
	v->decimals = r->dec;
	v->kind = r->kind;
	if (r->rare && r->f->enums)
		enum_name(r->f, iv, v);
	if (r->has_range && (x < r->lo - 1e-9 || x > r->hi + 1e-9)) {
		unavailable(v, BLT_VR_IMPLAUSIBLE);
		c->out->unavailable++;
	}
}

/* Records of a repeat group from its compiled count and base rows (as repeat_count and
 * blt__repeat_base, without looking the rows up by name). */
static unsigned plan_count(const ctx_t *c, const crow_t *h)
{
	const blt_repeat_t *r = h->f->repeat;
	const blt_field_t *cf = h->cnt_f;
	int64_t v;
	if (!cf || !blt__row_int(cf, c->p, c->n, &v))
		return 0;
	if (cf->min_pv && c->gate_pv && c->gate_pv < cf->min_pv)
		return 0;
	if (v <= 0)
		return 0;
	return v > r->max ? r->max : (unsigned)v;
}

static bool plan_base(const ctx_t *c, const crow_t *h, size_t *base)
{
	const blt_repeat_t *r = h->f->repeat;
	size_t v0 = 0;
	if (r->base_field) {
		int64_t v;
		if (!h->base_f || !blt__row_int(h->base_f, c->p, c->n, &v))
			return false;
		if (v < 0)
			v = 0;
		if (v > 0xFFFF)
			v = 0xFFFF;
		v0 = (size_t)v * r->base_mul;
	}
	*base = v0 + r->base_add;
	return true;
}

static void decode_plan(ctx_t *c, const plan_t *pl)
{
	const size_t nf = pl->nfields;
	for (size_t i = 0; i < nf;) {
		const crow_t *h = &pl->rows[i];
		size_t j = h->gend;
		unsigned cnt;

		if (!h->rep) {
			if (h->slow)
				emit(c, h->f, NULL, NULL, 0, true, h->off);
			else
				emit_fast(c, h, false, 0, true, h->off);
			i++;
			continue;
		}
		cnt = plan_count(c, h);
		if (cnt > 0) {
			size_t base = 0;
			bool ok = plan_base(c, h, &base);
			for (unsigned k = 0; k < cnt && !c->overflow; k++)
				for (size_t m = i; m < j; m++) {
					const crow_t *r = &pl->rows[m];
					/* blt__record_off without touching the row */
					size_t off =
					    ok ? base + (size_t)(r->swap ? k ^ 1u : k) * r->stride +
					             r->off
					       : 0;
					if (r->slow)
						emit(c, r->f, NULL, r->name + k * r->nstride, k, ok,
						     off);
					else
						emit_fast(c, r, true, k, ok, off);
				}
		}
		i = j;
	}
}

blt_err_t blt_decode(const blt_block_t *b, const uint8_t *payload, size_t n,
                     const blt_decode_opts_t *opts, blt_decoded_t *out, blt_detail_t *d)
{
	ctx_t c = {.b = b, .p = payload, .n = n, .opts = opts, .out = out};

	if (!b || !out || (!payload && n > 0))
		return blt_detail_set(d, BLT_E_INVAL, "blt_decode: no block, payload or output");
	out->block = b;
	out->nbytes = n;
	out->protocol_version = opts ? opts->protocol_version : 0;
	out->count = 0;
	out->missing = 0;
	out->unavailable = 0;
	if (!payload)
		c.p = (const uint8_t *)"";
	if (opts) {
		c.gate_pv = opts->protocol_version;
		c.show_secrets = opts->show_secrets;
		for (size_t i = 0; opts->quirks && i < opts->nquirks && !c.quirks; i++)
			c.quirks = opts->quirks[i].block == b->id;
		for (size_t i = 0; opts->fillers && i < opts->nfillers && !c.fillers; i++)
			c.fillers = opts->fillers[i].first <= (unsigned)b->id + n / 2 &&
			            opts->fillers[i].last >= b->id;
	}

	if (!c.quirks && !c.fillers && !(opts && opts->present)) {
		const plan_t *pl = plan_for(b);
		if (pl) {
			decode_plan(&c, pl);
			goto done;
		}
	}
	for (size_t i = 0; i < b->nfields;) {
		const blt_field_t *f = &b->fields[i];
		const blt_repeat_t *r = f->repeat;
		size_t j = i;
		unsigned cnt;

		if (!r) {
			emit(&c, f, NULL, NULL, 0, true, f->offset);
			i++;
			continue;
		}
		while (j < b->nfields && b->fields[j].repeat == r)
			j++;
		cnt = repeat_count(&c, r);
		if (cnt > 0) {
			size_t base = 0;
			bool ok = blt__repeat_base(b, r, c.p, n, &base);
			tmpl_t tm[32], one;
			bool split = j - i <= sizeof tm / sizeof tm[0];
			for (size_t m = i; split && m < j; m++)
				tmpl_split(&tm[m - i], b->fields[m].name);
			for (unsigned k = 0; k < cnt && !c.overflow; k++)
				for (size_t m = i; m < j; m++) {
					const blt_field_t *fm = &b->fields[m];
					if (!split)
						tmpl_split(&one, fm->name);
					emit(&c, fm, split ? &tm[m - i] : &one, NULL, k, ok,
					     ok ? blt__record_off(fm, base, k) : 0);
				}
		}
		i = j;
	}
done:
	if (c.overflow)
		return blt_detail_set(d, BLT_E_BUFSIZE,
		                      "block %u (%s): more than %d values; output truncated", b->id,
		                      b->name ? b->name : "?", BLT_MAX_VALUES);
	if (c.req_missing)
		return blt_detail_set(d, BLT_E_MISSING,
		                      "block %u (%s): required field '%s' needs bytes %zu..%zu, "
		                      "payload has %zu bytes",
		                      b->id, b->name ? b->name : "?", c.req_missing->name,
		                      c.req_off, c.req_off + c.req_size - 1, n);
	return BLT_OK;
}

const blt_value_t *blt_decoded_get(const blt_decoded_t *r, const char *name)
{
	if (!r || !name)
		return NULL;
	for (size_t i = 0; i < r->count && i < BLT_MAX_VALUES; i++) {
		const char *vn = r->values[i].name;
		/* first byte before the call: most names differ there */
		if (vn && vn[0] == name[0] && strcmp(vn, name) == 0)
			return &r->values[i];
	}
	return NULL;
}

void blt_decoded_copy(blt_decoded_t *dst, const blt_decoded_t *src)
{
	if (!dst || !src || dst == src)
		return;
	memcpy(dst, src, sizeof *dst);
	for (size_t i = 0; i < dst->count && i < BLT_MAX_VALUES; i++)
		if (src->values[i].name == src->names[i])
			dst->values[i].name = dst->names[i];
}

bool blt_decoded_num(const blt_decoded_t *r, const char *name, double *out)
{
	const blt_value_t *v = blt_decoded_get(r, name);
	if (!v || v->status != BLT_VS_OK || v->kind == BLT_VK_STR)
		return false;
	if (out)
		*out = v->num;
	return true;
}
