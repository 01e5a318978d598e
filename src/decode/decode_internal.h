/* Private to src/decode: raw access, bit widths and record locations shared by the
 * decoder and the encoder, so both agree on every byte by construction. */
#ifndef BLT_DECODE_INTERNAL_H
#define BLT_DECODE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bluetti/bluetti.h>

/* Size of a fixed-size type, inline for the hot path (same table as blt_type_size). */
static inline unsigned blt__tsize(unsigned t)
{
	static const uint8_t sizes[BLT_T__COUNT] = {
	    [BLT_T_U8] = 1,   [BLT_T_I8] = 1,       [BLT_T_U16] = 2,    [BLT_T_I16] = 2,
	    [BLT_T_U32] = 4,  [BLT_T_I32] = 4,      [BLT_T_U32_BE] = 4, [BLT_T_I32_BE] = 4,
	    [BLT_T_SN64] = 8, [BLT_T_STR_SWAP] = 0, [BLT_T_STR] = 0,
	};
	return t < BLT_T__COUNT ? sizes[t] : 0;
}

/* Bytes a row occupies (strings: the row's size). */
static inline size_t blt__fsize(const blt_field_t *f)
{
	return f->size ? f->size : blt__tsize(f->type);
}

static inline bool blt__is_string(const blt_field_t *f)
{
	return f->type == BLT_T_STR || f->type == BLT_T_STR_SWAP || f->type == BLT_T_SN64;
}

static inline bool blt__is_signed(const blt_field_t *f)
{
	return f->type == BLT_T_I8 || f->type == BLT_T_I16 || f->type == BLT_T_I32 ||
	       f->type == BLT_T_I32_BE;
}

static inline unsigned blt__be16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* Unsigned raw value of a numeric row at p (caller checked the bytes exist). */
static inline uint64_t blt__read_raw(const blt_field_t *f, const uint8_t *p)
{
	switch (f->type) {
	case BLT_T_U8:
	case BLT_T_I8: return p[0];
	case BLT_T_U16:
	case BLT_T_I16: return blt__be16(p);
	case BLT_T_U32:
	case BLT_T_I32: return (uint64_t)blt__be16(p) | (uint64_t)blt__be16(p + 2) << 16;
	case BLT_T_U32_BE:
	case BLT_T_I32_BE: return (uint64_t)blt__be16(p) << 16 | blt__be16(p + 2);
	case BLT_T_SN64:
		return (uint64_t)blt__be16(p) | (uint64_t)blt__be16(p + 2) << 16 |
		       (uint64_t)blt__be16(p + 4) << 32 | (uint64_t)blt__be16(p + 6) << 48;
	default: return 0;
	}
}

/* Bits of the value selected by mask/shift within the type. */
static inline uint64_t blt__eff_mask(const blt_field_t *f)
{
	unsigned bits = 8u * blt__tsize(f->type);
	uint64_t tmask = bits >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << bits) - 1);
	uint64_t m = f->mask ? (f->mask & tmask) : tmask;
	unsigned sh = f->shift < 64 ? f->shift : 63;
	return m >> sh << sh;
}

/* Width in bits of the shifted field (position of the highest bit + 1). */
static inline unsigned blt__width(const blt_field_t *f)
{
	unsigned sh = f->shift < 64 ? f->shift : 63;
	uint64_t v = blt__eff_mask(f) >> sh;
	return v ? 64u - (unsigned)__builtin_clzll(v) : 0u;
}

/* raw -> mask -> shift -> sign: the integer value of a numeric row. */
static inline int64_t blt__to_int(const blt_field_t *f, uint64_t raw)
{
	unsigned sh = f->shift < 64 ? f->shift : 63;
	uint64_t v = (raw & blt__eff_mask(f)) >> sh;
	if (blt__is_signed(f)) {
		unsigned w = blt__width(f);
		if (w > 0 && w < 64 && (v >> (w - 1) & 1))
			return (int64_t)(v | ~(((uint64_t)1 << (w - 1) << 1) - 1));
	}
	return (int64_t)v;
}

/* Find a plain (non-repeated) row of the block by name. */
const blt_field_t *blt__find_row(const blt_block_t *b, const char *name);

/* Integer value of a plain row read from buf[0..n); false if absent (beyond n, gated). */
bool blt__row_int(const blt_field_t *f, const uint8_t *buf, size_t n, int64_t *out);

/* Base offset of the records of repeat r (dynamic base read from buf[0..n)); false if the
 * base field is absent. */
bool blt__repeat_base(const blt_block_t *b, const blt_repeat_t *r, const uint8_t *buf, size_t n,
                      size_t *base);

/* Byte offset of record idx of row f of a repeat whose base is known. */
static inline size_t blt__record_off(const blt_field_t *f, size_t base, unsigned idx)
{
	if (f->flags & BLT_F_SWAP_INDEX)
		idx ^= 1u;
	return base + (size_t)idx * f->repeat->stride + f->offset;
}

/* Byte offset of record idx of a row (plain rows: idx ignored). The dynamic base is read
 * from buf[0..n). Returns false if the base field is absent. */
bool blt__locate(const blt_block_t *b, const blt_field_t *f, unsigned idx, const uint8_t *buf,
                 size_t n, size_t *off);

/* Scale in effect for a row (0/1 -> 1; pack-voltage rows from opts). */
static inline double blt__eff_scale(const blt_field_t *f, const blt_decode_opts_t *opts)
{
	double s = f->scale;
	if (f->flags & BLT_F_PACK_VSCALE)
		s = opts && opts->pack_voltage_scale > 0 ? opts->pack_voltage_scale : 0.01;
	return s == 0 ? 1.0 : s;
}

/* Digits after the point implied by a scale / offset (0..6). */
unsigned blt__decimals(double scale, double add);

#endif
