/* The encoder: exact inverse of blt_decode for one row (simulator, round-trip tests).
 * Masked rows are read-modify-write, so rows sharing a register (cell voltage + status
 * flags) can be encoded one after the other. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode_internal.h"

static void write_raw(const blt_field_t *f, uint8_t *p, uint64_t v)
{
	switch (f->type) {
	case BLT_T_U8:
	case BLT_T_I8: p[0] = (uint8_t)v; break;
	case BLT_T_U16:
	case BLT_T_I16:
		p[0] = (uint8_t)(v >> 8);
		p[1] = (uint8_t)v;
		break;
	case BLT_T_U32:
	case BLT_T_I32:
		p[0] = (uint8_t)(v >> 8);
		p[1] = (uint8_t)v;
		p[2] = (uint8_t)(v >> 24);
		p[3] = (uint8_t)(v >> 16);
		break;
	case BLT_T_U32_BE:
	case BLT_T_I32_BE:
		p[0] = (uint8_t)(v >> 24);
		p[1] = (uint8_t)(v >> 16);
		p[2] = (uint8_t)(v >> 8);
		p[3] = (uint8_t)v;
		break;
	case BLT_T_SN64:
		for (int r = 0; r < 4; r++) {
			p[2 * r] = (uint8_t)(v >> (16 * r + 8));
			p[2 * r + 1] = (uint8_t)(v >> (16 * r));
		}
		break;
	default: break;
	}
}

/* Common checks; on success *pp points at the row's bytes in buf. */
static int locate_checked(const blt_block_t *b, const blt_field_t *f, unsigned idx, uint8_t *buf,
                          size_t cap, uint8_t **pp)
{
	size_t off, sz;
	if (!b || !f || !buf)
		return BLT_E_INVAL;
	if (f->repeat && idx >= f->repeat->max)
		return BLT_E_RANGE;
	if (!f->repeat && idx != 0)
		return BLT_E_RANGE;
	sz = blt__fsize(f);
	if (sz == 0)
		return BLT_E_INVAL;
	if (!blt__locate(b, f, idx, buf, cap, &off))
		return BLT_E_BUFSIZE; /* the dynamic base lies beyond cap */
	if (off > cap || sz > cap - off)
		return BLT_E_BUFSIZE;
	*pp = buf + off;
	return BLT_OK;
}

static int encode_int(const blt_field_t *f, uint8_t *p, int64_t iv)
{
	unsigned w = blt__width(f);
	unsigned sh = f->shift < 64 ? f->shift : 63;
	uint64_t m = blt__eff_mask(f), word;

	if (w == 0)
		return BLT_E_RANGE;
	if (blt__is_signed(f)) {
		int64_t lo = w >= 64 ? INT64_MIN : -((int64_t)1 << (w - 1));
		int64_t hi = w >= 64 ? INT64_MAX : ((int64_t)1 << (w - 1)) - 1;
		if (iv < lo || iv > hi)
			return BLT_E_RANGE;
	} else {
		if (iv < 0 || (w < 63 && iv > (int64_t)(((uint64_t)1 << w) - 1)))
			return BLT_E_RANGE;
	}
	word = blt__read_raw(f, p);
	word = (word & ~m) | (((uint64_t)iv << sh) & m);
	write_raw(f, p, word);
	return BLT_OK;
}

int blt_encode_num(const blt_block_t *b, const blt_field_t *f, unsigned idx, double value,
                   const blt_decode_opts_t *opts, uint8_t *buf, size_t cap)
{
	uint8_t *p;
	double s, x;
	int rc = locate_checked(b, f, idx, buf, cap, &p);

	if (rc)
		return rc;
	if (blt__is_string(f))
		return BLT_E_INVAL;
	if (!isfinite(value))
		return BLT_E_RANGE;
	if ((f->flags & BLT_F_CLAMP) && (value < f->clamp_lo || value > f->clamp_hi))
		return BLT_E_RANGE;
	s = blt__eff_scale(f, opts);
	x = value - f->add;
	if (s != 1.0)
		x /= s;
	x = nearbyint(x);
	if (!(x > -9.2e18 && x < 9.2e18))
		return BLT_E_RANGE;
	return encode_int(f, p, (int64_t)x);
}

static int encode_sn64(const blt_field_t *f, uint8_t *p, const char *s)
{
	uint64_t v = 0;
	if (!*s)
		return BLT_E_INVAL;
	for (const char *q = s; *q; q++) {
		unsigned dg;
		if (*q < '0' || *q > '9')
			return BLT_E_INVAL;
		dg = (unsigned)(*q - '0');
		if (v > (UINT64_MAX - dg) / 10)
			return BLT_E_RANGE;
		v = v * 10 + dg;
	}
	write_raw(f, p, v);
	return BLT_OK;
}

int blt_encode_str(const blt_block_t *b, const blt_field_t *f, unsigned idx, const char *s,
                   uint8_t *buf, size_t cap)
{
	uint8_t *p;
	size_t sz, len;
	int rc;

	if (!s)
		return BLT_E_INVAL;
	rc = locate_checked(b, f, idx, buf, cap, &p);
	if (rc)
		return rc;
	sz = blt__fsize(f);
	if (f->type == BLT_T_SN64)
		return encode_sn64(f, p, s);
	if (f->type == BLT_T_STR || f->type == BLT_T_STR_SWAP) {
		len = strlen(s);
		if (len > sz)
			return BLT_E_RANGE;
		for (size_t i = 0; i < sz; i++) {
			size_t j = f->type == BLT_T_STR_SWAP && (i ^ 1u) < sz ? (i ^ 1u) : i;
			p[j] = i < len ? (uint8_t)s[i] : 0;
		}
		return BLT_OK;
	}
	/* Numeric rows: an enum name, or a number in text. */
	if (f->enums) {
		for (const blt_enum_entry_t *e = f->enums; e->name; e++)
			if (strcmp(e->name, s) == 0)
				return blt_encode_num(b, f, idx, e->value, NULL, buf, cap);
	}
	{
		char *end;
		double v;
		v = strtod(s, &end); /* overflow gives inf: BLT_E_RANGE below */
		if (end == s || *end)
			return BLT_E_INVAL;
		return blt_encode_num(b, f, idx, v, NULL, buf, cap);
	}
}
