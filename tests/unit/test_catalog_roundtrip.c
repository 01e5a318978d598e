/* Every block of the catalog (teammates' blocks included, via blt_catalog_count/at):
 *  - table lint: names, sizes, repeat references, value cap, required rows readable;
 *  - property: random value for every row (repeated rows too) -> blt_encode_num/str ->
 *    blt_decode -> the same value (within half a scale step);
 *  - truncation: the encoded payload cut at every byte decodes what is there (identical to
 *    the full decode), lists the rest as missing, and BLT_E_MISSING exactly when a required
 *    row is cut off. Each prefix lives in its own malloc'd buffer so ASan sees any overread.
 * Deterministic PRNG; the seed is printed. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <bluetti/bluetti.h>

#define MAXP 250 /* largest FC03 payload: 125 registers */

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static blt_decoded_t res, res2;

/* Blocks owned by this test's author: held to the stricter lint (no aliased rows, every
 * plain row inside the default read). */
static int strict_block(uint16_t id)
{
	static const uint16_t ids[] = {100, 1100, 1300, 1400, 1500, 6000, 6100, 6300};
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
		if (ids[i] == id)
			return 1;
	return 0;
}

static size_t fsize(const blt_field_t *f)
{
	return f->size ? f->size : blt_type_size((blt_type_t)f->type);
}

static int is_str(const blt_field_t *f)
{
	return f->type == BLT_T_STR || f->type == BLT_T_STR_SWAP || f->type == BLT_T_SN64;
}

static int is_signed(const blt_field_t *f)
{
	return f->type == BLT_T_I8 || f->type == BLT_T_I16 || f->type == BLT_T_I32 ||
	       f->type == BLT_T_I32_BE;
}

static uint64_t eff_mask(const blt_field_t *f)
{
	unsigned bits = 8 * blt_type_size((blt_type_t)f->type);
	uint64_t t = bits >= 64 ? ~0ull : (1ull << bits) - 1;
	uint64_t m = f->mask ? (f->mask & t) : t;
	return m >> f->shift << f->shift;
}

static unsigned width(const blt_field_t *f)
{
	uint64_t v = eff_mask(f) >> f->shift;
	unsigned w = 0;
	while (v) {
		w++;
		v >>= 1;
	}
	return w;
}

static const blt_field_t *find_plain(const blt_block_t *b, const char *name)
{
	for (size_t i = 0; name && i < b->nfields; i++)
		if (!b->fields[i].repeat && strcmp(b->fields[i].name, name) == 0)
			return &b->fields[i];
	return NULL;
}

static int snake_ok(const char *s, int templ)
{
	int pct = 0;
	if (!s || !*s || strlen(s) >= BLT_NAME_MAX - 3)
		return 0;
	for (const char *p = s; *p; p++) {
		if (p[0] == '%' && p[1] == 'u') {
			pct++;
			p++;
			continue;
		}
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	}
	return templ ? pct == 1 : pct == 0;
}

static void lint_block(const blt_block_t *b)
{
	char msg[512];
#define LINT(cond, ...)                                                                            \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			snprintf(msg, sizeof msg, __VA_ARGS__);                                    \
			fail_msg("block %u: %s", b->id, msg);                                      \
		}                                                                                  \
	} while (0)
	LINT(b->name && b->title && b->source && *b->source, "name/title/source missing");
	LINT(b->regs >= 1 && b->regs <= 125, "regs %u outside 1..125", b->regs);
	LINT(b->fields && b->nfields > 0, "no fields");
	for (size_t i = 0; i < b->nfields; i++) {
		const blt_field_t *f = &b->fields[i];
		size_t sz = fsize(f);
		LINT(f->type < BLT_T__COUNT, "row %zu: bad type", i);
		LINT(snake_ok(f->name, f->repeat != NULL), "row %zu: bad name '%s'", i,
		     f->name ? f->name : "(null)");
		LINT(f->prov <= BLT_PROV_APP, "%s: bad provenance", f->name);
		LINT(f->desc && *f->desc, "%s: no description", f->name);
		LINT(sz > 0 && sz < BLT_STR_MAX, "%s: size %zu", f->name, sz);
		LINT(f->type == BLT_T_STR || f->type == BLT_T_STR_SWAP || f->size == 0 ||
		         f->size == blt_type_size((blt_type_t)f->type),
		     "%s: size on a fixed-size type", f->name);
		LINT(is_str(f) || width(f) > 0, "%s: mask/shift select no bits", f->name);
		LINT(!(f->flags & BLT_F_CLAMP) || f->clamp_lo < f->clamp_hi, "%s: bad clamp",
		     f->name);
		LINT(f->scale >= 0 && isfinite(f->scale), "%s: bad scale", f->name);
		if (!f->repeat) {
			LINT(f->offset + sz <= MAXP, "%s: beyond 250 bytes", f->name);
			if (f->flags & BLT_F_REQUIRED)
				LINT(f->offset + sz <= 2u * b->regs,
				     "%s: required but beyond the default read", f->name);
			if (strict_block(b->id))
				LINT(f->offset + sz <= 2u * b->regs, "%s: beyond the default read",
				     f->name);
		} else {
			const blt_field_t *cf = find_plain(b, f->repeat->count_field);
			LINT(cf && (cf->flags & BLT_F_COUNT),
			     "%s: count field '%s' not a COUNT row", f->name,
			     f->repeat->count_field ? f->repeat->count_field : "(null)");
			LINT(!f->repeat->base_field || find_plain(b, f->repeat->base_field),
			     "%s: unknown base field", f->name);
			LINT(f->repeat->max > 0, "%s: repeat max 0", f->name);
			LINT(!(f->flags & BLT_F_COUNT), "%s: repeated COUNT row", f->name);
		}
		for (size_t j = 0; j < i; j++)
			LINT(strcmp(b->fields[j].name, f->name) != 0, "duplicate row name %s",
			     f->name);
		/* strict blocks: plain rows overlap only as disjoint bit fields of one word */
		if (strict_block(b->id) && !f->repeat) {
			for (size_t j = 0; j < i; j++) {
				const blt_field_t *g = &b->fields[j];
				size_t gs = fsize(g);
				if (g->repeat || g->offset >= f->offset + sz ||
				    f->offset >= g->offset + gs)
					continue;
				LINT(g->offset == f->offset && g->type == f->type &&
				         !(eff_mask(g) & eff_mask(f)),
				     "%s overlaps %s", f->name, g->name);
			}
		}
	}
	/* a payload with every count at its cap stays below BLT_MAX_VALUES with unique names */
	{
		uint8_t buf[MAXP];
		blt_detail_t d;
		memset(buf, 0xff, sizeof buf);
		int rc = blt_decode(b, buf, sizeof buf, NULL, &res, &d);
		LINT(rc != BLT_E_BUFSIZE, "too many values: %s", d.text);
		LINT(res.count < BLT_MAX_VALUES, "%zu values at full counts", res.count);
		for (size_t i = 0; i < res.count; i++)
			for (size_t j = 0; j < i; j++)
				LINT(strcmp(res.values[i].name, res.values[j].name) != 0,
				     "duplicate value name %s", res.values[i].name);
	}
#undef LINT
}

static void test_lint(void **state)
{
	(void)state;
	assert_true(blt_catalog_count() >= 8);
	for (size_t i = 0; i < blt_catalog_count(); i++) {
		const blt_block_t *b = blt_catalog_at(i);
		assert_non_null(b);
		if (i > 0)
			assert_true(blt_catalog_at(i - 1)->id < b->id);
		assert_ptr_equal(blt_catalog_find(b->id), b);
		lint_block(b);
	}
	assert_null(blt_catalog_at(blt_catalog_count()));
	assert_null(blt_catalog_find(65535));
	/* my blocks are all there */
	static const uint16_t mine[] = {100, 1100, 1300, 1400, 1500, 6000, 6100, 6300};
	for (size_t i = 0; i < sizeof mine / sizeof mine[0]; i++)
		assert_non_null(blt_catalog_find(mine[i]));
}

/* ---- property ----------------------------------------------------------------------- */

typedef struct item {
	const blt_field_t *f;
	unsigned idx;
	int encoded; /* encoder accepted it (else it lies beyond the payload) */
	double want; /* numeric */
	char swant[BLT_STR_MAX];
	size_t off, size; /* where it landed */
} item_t;

static item_t items[BLT_MAX_VALUES * 2];
static size_t nitems;

static double pick_number(const blt_field_t *f, double scale, int64_t *raw)
{
	unsigned w = width(f);
	int64_t lo, hi, iv;
	if (is_signed(f) && !(f->flags & BLT_F_ABS)) {
		lo = -((int64_t)1 << (w - 1));
		hi = ((int64_t)1 << (w - 1)) - 1;
	} else {
		lo = 0;
		hi = w >= 63 ? INT64_MAX : (int64_t)((1ull << (w - (is_signed(f) ? 1 : 0))) - 1);
	}
	/* edges now and then, else uniform */
	switch (rnd() % 8) {
	case 0: iv = lo; break;
	case 1: iv = hi; break;
	case 2: iv = 0 < lo ? lo : (0 > hi ? hi : 0); break;
	default: iv = lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1)); break;
	}
	*raw = iv;
	return (double)iv * scale + f->add;
}

static void random_string(char *s, size_t max)
{
	size_t n = (size_t)(rnd() % (max + 1));
	for (size_t i = 0; i < n; i++)
		s[i] = (char)(0x20 + rnd() % 95);
	s[n] = 0;
}

static int encode_item(const blt_block_t *b, item_t *it, uint8_t *buf, const blt_decode_opts_t *o,
                       double forced)
{
	const blt_field_t *f = it->f;
	int rc;
	double s = f->flags & BLT_F_PACK_VSCALE ? o->pack_voltage_scale : (f->scale ? f->scale : 1);
	if (f->type == BLT_T_SN64) {
		snprintf(it->swant, sizeof it->swant, "%llu", (unsigned long long)rnd());
		rc = blt_encode_str(b, f, it->idx, it->swant, buf, MAXP);
	} else if (is_str(f)) {
		random_string(it->swant, fsize(f));
		rc = blt_encode_str(b, f, it->idx, it->swant, buf, MAXP);
	} else {
		int64_t raw;
		it->want = isnan(forced) ? pick_number(f, s, &raw) : forced;
		if ((f->flags & BLT_F_CLAMP) && (it->want < f->clamp_lo || it->want > f->clamp_hi))
			it->want = f->clamp_lo;
		rc = blt_encode_num(b, f, it->idx, it->want, o, buf, MAXP);
	}
	if (rc == BLT_E_BUFSIZE)
		return 0; /* a record beyond 250 bytes: fine, it must decode as missing */
	if (rc != BLT_OK)
		fail_msg("block %u: encode %s[%u] = %.17g / '%s': %s", b->id, f->name, it->idx,
		         it->want, it->swant, blt_strerror(rc));
	it->encoded = 1;
	return 1;
}

/* Encode a random valid payload for b into buf; the items describe what was written. */
static void random_payload(const blt_block_t *b, uint8_t *buf, const blt_decode_opts_t *o)
{
	memset(buf, 0, MAXP);
	nitems = 0;
	/* plain rows first (counts and bases included); counts within their repeat's max */
	for (size_t i = 0; i < b->nfields; i++) {
		const blt_field_t *f = &b->fields[i];
		double forced = NAN;
		if (f->repeat)
			continue;
		if (f->flags & BLT_F_COUNT) {
			unsigned max = 0;
			for (size_t j = 0; j < b->nfields; j++)
				if (b->fields[j].repeat && b->fields[j].repeat->count_field &&
				    strcmp(b->fields[j].repeat->count_field, f->name) == 0 &&
				    b->fields[j].repeat->max > max)
					max = b->fields[j].repeat->max;
			forced = (double)(rnd() % (max + 1u));
			if (f->scale && f->scale != 1)
				forced = forced * f->scale;
			forced += f->add;
		}
		items[nitems] = (item_t){.f = f};
		encode_item(b, &items[nitems], buf, o, forced);
		nitems++;
	}
	/* then every record of every repeat group, as many as the count says */
	for (size_t i = 0; i < b->nfields;) {
		const blt_repeat_t *r = b->fields[i].repeat;
		size_t j = i;
		if (!r) {
			i++;
			continue;
		}
		while (j < b->nfields && b->fields[j].repeat == r)
			j++;
		unsigned cnt = 0;
		for (size_t k = 0; k < nitems; k++)
			if (strcmp(items[k].f->name, r->count_field) == 0) {
				double x = items[k].want;
				cnt = x > r->max ? r->max : (x < 0 ? 0 : (unsigned)x);
			}
		for (unsigned k = 0; k < cnt; k++)
			for (size_t m = i; m < j; m++) {
				items[nitems] = (item_t){.f = &b->fields[m], .idx = k};
				encode_item(b, &items[nitems], buf, o, NAN);
				nitems++;
			}
		i = j;
	}
}

static const blt_value_t *find_value(const blt_decoded_t *r, const blt_field_t *f, unsigned idx)
{
	for (size_t i = 0; i < r->count; i++)
		if (r->values[i].field == f && r->values[i].index == idx)
			return &r->values[i];
	return NULL;
}

/* True if a later row overwrote the bytes of this one (tables that alias registers, e.g.
 * optional records overlapping a fixed field): writing the item again changes the buffer. */
static int clobbered(const blt_block_t *b, const item_t *it, const uint8_t *buf,
                     const blt_decode_opts_t *o)
{
	static uint8_t tmp[MAXP];
	int rc;
	memcpy(tmp, buf, MAXP);
	if (is_str(it->f))
		rc = blt_encode_str(b, it->f, it->idx, it->swant, tmp, MAXP);
	else
		rc = blt_encode_num(b, it->f, it->idx, it->want, o, tmp, MAXP);
	return rc != BLT_OK || memcmp(tmp, buf, MAXP) != 0;
}

static size_t aliased;

static void check_roundtrip(const blt_block_t *b, const uint8_t *buf, const blt_decode_opts_t *o)
{
	for (size_t k = 0; k < nitems; k++) {
		const item_t *it = &items[k];
		const blt_field_t *f = it->f;
		const blt_value_t *v = find_value(&res, f, it->idx);
		if (!v)
			fail_msg("block %u: %s[%u] not decoded", b->id, f->name, it->idx);
		if (it->encoded && clobbered(b, it, buf, o)) {
			if (strict_block(b->id))
				fail_msg("block %u: %s[%u] overwritten by another row", b->id,
				         v->name, it->idx);
			aliased++;
			continue;
		}
		if (!it->encoded) {
			if (v->status != BLT_VS_MISSING)
				fail_msg("block %u: %s[%u] beyond payload but status %d", b->id,
				         f->name, it->idx, v->status);
			continue;
		}
		if (is_str(f)) {
			if (v->status != BLT_VS_OK || strcmp(v->str, it->swant) != 0)
				fail_msg("block %u: %s[%u] = '%s', want '%s'", b->id, v->name,
				         it->idx, v->str, it->swant);
			continue;
		}
		double s = f->flags & BLT_F_PACK_VSCALE ? o->pack_voltage_scale
		                                        : (f->scale ? f->scale : 1);
		if ((f->flags & BLT_F_ZERO_NA) && fabs(it->want - f->add) < s / 2) {
			if (v->status != BLT_VS_NOT_REPORTED)
				fail_msg("block %u: %s raw 0 not 'not reported'", b->id, v->name);
			continue;
		}
		if (v->status == BLT_VS_UNAVAILABLE) {
			/* allowed only for the reason the row / model gives */
			double lo, hi;
			bool ok = false;
			if (v->reason == BLT_VR_IMPLAUSIBLE) {
				const blt_field_quirk_t *q = blt_decode_quirk(o, b->id, f);
				if (q && q->lo < q->hi) {
					lo = q->lo;
					hi = q->hi;
				} else if (f->flags & BLT_F_RANGE) {
					lo = f->valid_lo;
					hi = f->valid_hi;
				} else if (!blt_unit_range(f->unit, &lo, &hi)) {
					lo = -INFINITY;
					hi = INFINITY;
				}
				ok = it->want < lo || it->want > hi;
			} else if (v->reason == BLT_VR_NOT_AVAILABLE) {
				ok = ((f->flags & BLT_F_NA_RAW) && v->raw == f->na_raw) ||
				     v->raw == 0xFFFF || v->raw == 0xFFFFFFFFLL;
			} else if (v->reason == BLT_VR_UNSUPPORTED) {
				ok = o && o->nfillers > 0;
			}
			if (!ok)
				fail_msg("block %u: %s[%u] unavailable (%s) for %.17g", b->id,
				         v->name, it->idx, blt_vreason_name(v->reason), it->want);
			continue;
		}
		if (v->status != BLT_VS_OK ||
		    fabs(v->num - it->want) > s / 2 + 1e-9 * fabs(it->want))
			fail_msg("block %u: %s[%u] = %.17g (status %d), want %.17g", b->id, v->name,
			         it->idx, v->num, v->status, it->want);
	}
}

static void test_property(void **state)
{
	static uint8_t buf[MAXP];
	(void)state;
	print_message("seed %llu\n", (unsigned long long)rng);
	for (size_t bi = 0; bi < blt_catalog_count(); bi++) {
		const blt_block_t *b = blt_catalog_at(bi);
		for (int round = 0; round < 200; round++) {
			blt_decode_opts_t o = {.protocol_version = 0,
			                       .show_secrets = true,
			                       .pack_voltage_scale = round & 1 ? 0.1 : 0.01};
			blt_detail_t d;
			random_payload(b, buf, &o);
			int rc = blt_decode(b, buf, MAXP, &o, &res, &d);
			if (rc != BLT_OK)
				fail_msg("block %u: decode: %s", b->id, d.text);
			check_roundtrip(b, buf, &o);
		}
	}
	print_message("%zu values skipped as aliased by another row (other teams' tables)\n",
	              aliased);
}

/* ---- truncation ----------------------------------------------------------------------- */

static void test_truncation(void **state)
{
	static uint8_t buf[MAXP];
	(void)state;
	for (size_t bi = 0; bi < blt_catalog_count(); bi++) {
		const blt_block_t *b = blt_catalog_at(bi);
		for (int round = 0; round < 4; round++) {
			blt_decode_opts_t o = {.show_secrets = round & 1,
			                       .pack_voltage_scale = 0.01};
			size_t full = 2u * b->regs;
			random_payload(b, buf, &o);
			assert_int_equal(blt_decode(b, buf, full, &o, &res2, NULL) == BLT_E_BUFSIZE,
			                 0);
			for (size_t n = 0; n <= full; n++) {
				uint8_t *p = malloc(n ? n : 1);
				blt_detail_t d = {{0}};
				int req_cut = 0, rc;
				assert_non_null(p);
				memcpy(p, buf, n);
				rc = blt_decode(b, n ? p : NULL, n, &o, &res, &d);
				free(p);
				assert_int_equal(res.nbytes, n);
				size_t missing = 0;
				for (size_t i = 0; i < res.count; i++) {
					const blt_value_t *v = &res.values[i];
					const blt_value_t *w = blt_decoded_get(&res2, v->name);
					if (v->status == BLT_VS_MISSING) {
						missing++;
						req_cut |= (v->field->flags & BLT_F_REQUIRED) != 0;
						continue;
					}
					/* present values are exactly those of the full payload */
					if (!w || w->status != v->status || w->raw != v->raw ||
					    strcmp(w->str, v->str) != 0 ||
					    (w->num != v->num && !(isnan(w->num) && isnan(v->num))))
						fail_msg("block %u n=%zu: %s differs from the full "
						         "decode",
						         b->id, n, v->name);
				}
				assert_int_equal(missing, res.missing);
				if (req_cut) {
					assert_int_equal(rc, BLT_E_MISSING);
					assert_non_null(strstr(d.text, "required field"));
				} else {
					assert_int_equal(rc, BLT_OK);
				}
			}
		}
	}
}

int main(void)
{
	const char *seed = getenv("BLT_TEST_SEED");
	if (seed)
		rng = strtoull(seed, NULL, 0) | 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lint),
	    cmocka_unit_test(test_property),
	    cmocka_unit_test(test_truncation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
