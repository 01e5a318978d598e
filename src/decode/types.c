/* Field types: sizes and names; provenance names; shared row helpers. */
#include <math.h>
#include <string.h>

#include "decode/decode_internal.h"

static const struct {
	unsigned size;
	const char *name;
} types[BLT_T__COUNT] = {
    [BLT_T_U8] = {1, "u8"},         [BLT_T_I8] = {1, "i8"},
    [BLT_T_U16] = {2, "u16"},       [BLT_T_I16] = {2, "i16"},
    [BLT_T_U32] = {4, "u32"},       [BLT_T_I32] = {4, "i32"},
    [BLT_T_U32_BE] = {4, "u32_be"}, [BLT_T_I32_BE] = {4, "i32_be"},
    [BLT_T_SN64] = {8, "sn64"},     [BLT_T_STR_SWAP] = {0, "str_swap"},
    [BLT_T_STR] = {0, "str"},
};

unsigned blt_type_size(blt_type_t t)
{
	return (unsigned)t < BLT_T__COUNT ? types[t].size : 0;
}

const char *blt_type_name(blt_type_t t)
{
	return (unsigned)t < BLT_T__COUNT ? types[t].name : "?";
}

const char *blt_prov_name(blt_prov_t p)
{
	switch (p) {
	case BLT_PROV_LIVE: return "live";
	case BLT_PROV_FW: return "firmware";
	case BLT_PROV_APP: return "app";
	}
	return "?";
}

const char *blt_vreason_name(blt_vreason_t r)
{
	switch (r) {
	case BLT_VR_NONE: return "none";
	case BLT_VR_UNSUPPORTED: return "unsupported";
	case BLT_VR_NOT_AVAILABLE: return "not_available";
	case BLT_VR_IMPLAUSIBLE: return "implausible";
	case BLT_VR_NOT_DELIVERED: return "not_delivered";
	}
	return "?";
}

/* Physical limits no reading of a power station can exceed; rows narrow them (cells) and
 * models override them (blt_field_quirk_t). */
bool blt_unit_range(const char *unit, double *lo, double *hi)
{
	static const struct {
		const char *unit;
		double lo, hi;
	} tab[] = {
	    {"%", 0, 100},    /* SOC, SOH, limits */
	    {"Hz", 0, 100},   /* 0 = no grid; 45-65 in service; 6553.5 is 0xFFFF */
	    {"°C", -40, 150}, /* raw - 40; an NTC beyond 150 °C is not a reading */
	};
	for (size_t i = 0; unit && i < sizeof tab / sizeof tab[0]; i++)
		if (strcmp(unit, tab[i].unit) == 0) {
			*lo = tab[i].lo;
			*hi = tab[i].hi;
			return true;
		}
	return false;
}

const blt_field_t *blt__find_row(const blt_block_t *b, const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < b->nfields; i++)
		if (!b->fields[i].repeat && b->fields[i].name && b->fields[i].name[0] == name[0] &&
		    strcmp(b->fields[i].name, name) == 0)
			return &b->fields[i];
	return NULL;
}

bool blt__row_int(const blt_field_t *f, const uint8_t *buf, size_t n, int64_t *out)
{
	size_t sz = blt__fsize(f);
	if (blt__is_string(f) || sz == 0 || f->offset > n || sz > n - f->offset)
		return false;
	*out = blt__to_int(f, blt__read_raw(f, buf + f->offset));
	return true;
}

bool blt__repeat_base(const blt_block_t *b, const blt_repeat_t *r, const uint8_t *buf, size_t n,
                      size_t *base)
{
	size_t v0 = 0;
	if (r->base_field) {
		const blt_field_t *bf = blt__find_row(b, r->base_field);
		int64_t v;
		if (!bf || !blt__row_int(bf, buf, n, &v))
			return false;
		if (v < 0)
			v = 0;
		if (v > 0xFFFF)
			v = 0xFFFF; /* wider than any payload; keeps the arithmetic small */
		v0 = (size_t)v * r->base_mul;
	}
	*base = v0 + r->base_add;
	return true;
}

bool blt__locate(const blt_block_t *b, const blt_field_t *f, unsigned idx, const uint8_t *buf,
                 size_t n, size_t *off)
{
	size_t base;
	if (!f->repeat) {
		*off = f->offset;
		return true;
	}
	if (!blt__repeat_base(b, f->repeat, buf, n, &base))
		return false;
	*off = blt__record_off(f, base, idx);
	return true;
}

static unsigned decimals_of(double x)
{
	double p = 1;
	x = fabs(x);
	for (unsigned d = 0; d < 6; d++, p *= 10) {
		double y = x * p;
		if (fabs(y - nearbyint(y)) < 1e-9 * (y > 1 ? y : 1))
			return d;
	}
	return 6;
}

unsigned blt__decimals(double scale, double add)
{
	if (add == 0) { /* the common scales without the loop */
		if (scale == 0.1)
			return 1;
		if (scale == 0.01)
			return 2;
		if (scale == 0.001)
			return 3;
	}
	unsigned a = scale == 1.0 || scale == 0 ? 0 : decimals_of(scale);
	unsigned c = add == 0 ? 0 : decimals_of(add);
	return a > c ? a : c;
}
