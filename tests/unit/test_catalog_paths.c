/* The decoder's two paths agree: a block's compiled form (the usual path) and the
 * row-by-row path (taken when a decode brings a delivered-register bitmap, model quirks or
 * fillers) give the same values, names, statuses and numbers for every catalog block over
 * random payloads and options. Also: text numbers written without printf equal printf's
 * "%.*f" (ties, negative zero, large values), and blt_decoded_copy keeps names valid. */
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

static blt_decoded_t a, b;

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void same_value(const blt_value_t *x, const blt_value_t *y, const char *block)
{
	if (x->field != y->field || strcmp(x->name, y->name) != 0 || x->index != y->index ||
	    x->kind != y->kind || x->status != y->status || x->decimals != y->decimals ||
	    x->reason != y->reason || x->unit != y->unit || x->raw != y->raw ||
	    memcmp(&x->num, &y->num, sizeof x->num) != 0 || strcmp(x->str, y->str) != 0) {
		print_error("block %s value %s/%s: status %u/%u reason %u/%u raw %lld/%lld "
		            "num %.17g/%.17g dec %u/%u kind %u/%u str '%s'/'%s'\n",
		            block, x->name, y->name, x->status, y->status, x->reason, y->reason,
		            (long long)x->raw, (long long)y->raw, x->num, y->num, x->decimals,
		            y->decimals, x->kind, y->kind, x->str, y->str);
		fail();
	}
}

static void test_paths_agree(void **state)
{
	static uint8_t all[64];
	size_t compared = 0;
	(void)state;
	memset(all, 0xff, sizeof all);
	for (size_t k = 0; k < blt_catalog_count(); k++) {
		const blt_block_t *blk = blt_catalog_at(k);
		for (int round = 0; round < 300; round++) {
			uint8_t p[256];
			size_t n;
			blt_decode_opts_t o = {0}, og;
			blt_detail_t d1 = {{0}}, d2 = {{0}};
			int r1, r2;
			uint64_t x = next();

			/* lengths around the block's rows, payloads of random, all-ones, zero or
			 * small bytes (counts and bases within range) */
			n = round % 7 == 0 ? x % 251
			                   : (size_t)blk->regs * 2 - (x % 9) * (round & 1);
			if (n > 250)
				n = 250;
			for (size_t i = 0; i < n; i++) {
				uint64_t y = next();
				p[i] = (uint8_t)(round % 5 == 1   ? 0xff
				                 : round % 5 == 2 ? 0
				                 : round % 5 == 3 ? (uint8_t)(y % 4)
				                                  : (uint8_t)y);
			}
			o.protocol_version = (x >> 8) % 3 == 0   ? 0
			                     : (x >> 8) % 3 == 1 ? 2000
			                                         : 2015;
			o.show_secrets = (x >> 12) & 1;
			o.pack_voltage_scale = (x >> 13) & 1 ? 0.1 : 0;
			og = o;
			og.present = all; /* every register delivered: same meaning, other path */
			r1 = blt_decode(blk, p, n, &o, &a, &d1);
			r2 = blt_decode(blk, p, n, &og, &b, &d2);
			assert_int_equal(r1, r2);
			assert_string_equal(d1.text, d2.text);
			assert_int_equal(a.count, b.count);
			assert_int_equal(a.missing, b.missing);
			assert_int_equal(a.unavailable, b.unavailable);
			for (size_t i = 0; i < a.count; i++)
				same_value(&a.values[i], &b.values[i], blk->name);
			compared += a.count;
		}
	}
	assert_true(compared > 10000);
}

/* Text numbers: the fast writer against printf's "%.*f" (never "-0...") */
static const blt_field_t num_row[] = {{.name = "x", .offset = 0, .type = BLT_T_U16}};
static const blt_block_t num_block = {
    .id = 1, .name = "N", .title = "n", .regs = 1, .fields = num_row, .nfields = 1};

static void expect_num(double x, unsigned dec)
{
	char want[512], buf[512];
	FILE *f = fmemopen(buf, sizeof buf, "w");
	size_t len;
	assert_non_null(f);
	memset(&a.values[0], 0, sizeof a.values[0]);
	a.block = &num_block;
	a.count = 1;
	a.values[0].field = &num_row[0];
	a.values[0].name = "x";
	a.values[0].kind = BLT_VK_REAL;
	a.values[0].status = BLT_VS_OK;
	a.values[0].num = x;
	a.values[0].decimals = (uint8_t)dec;
	assert_int_equal(blt_format_text(&a, 0, f), BLT_OK);
	len = (size_t)ftell(f);
	fclose(f);
	buf[len] = '\0';
	if (!isfinite(x)) {
		snprintf(want, sizeof want, "x: null\n");
	} else {
		char num[64]; /* the formatter's buffer: longer numbers are cut, as always */
		bool zero = true;
		snprintf(num, sizeof num, "%.*f", (int)(dec > 6 ? 6 : dec), x);
		for (const char *q = num + (num[0] == '-'); *q; q++)
			if (*q != '0' && *q != '.')
				zero = false;
		snprintf(want, sizeof want, "x: %s\n", num + (num[0] == '-' && zero));
	}
	if (strcmp(want, buf) != 0) {
		print_error("x=%.17g dec=%u: want '%s' got '%s'\n", x, dec, want, buf);
		fail();
	}
}

static void test_numbers(void **state)
{
	static const double fixed[] = {
	    0,       -0.0,   0.5,    1.5,  2.5,      -2.5,      0.125,        0.375,  1.005,
	    -0.0001, -0.004, -0.005, 0.05, 53.02,    -2.9,      123.45,       1e15,   -1e15,
	    9.99e14, 1e300,  -1e300, NAN,  INFINITY, -INFINITY, 4294967295.0, 6553.5, 0.1};
	(void)state;
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		for (unsigned dec = 0; dec <= 7; dec++)
			expect_num(fixed[i], dec);
	for (int i = 0; i < 200000; i++) {
		uint64_t x = next();
		unsigned dec = (unsigned)(x % 7);
		double v;
		switch ((x >> 3) % 4) {
		case 0: /* a scaled register, as decoded */
			v = (double)(int32_t)(x >> 16) / pow(10, (double)((x >> 8) % 7));
			break;
		case 1: /* ties at the printed precision */
			v = ((double)(int64_t)((x >> 20) % 2000001) - 1000000.0 + 0.5) /
			    pow(10, (double)dec);
			break;
		case 2: { /* any bit pattern */
			uint64_t bits = next();
			memcpy(&v, &bits, sizeof v);
			break;
		}
		default: v = (double)(int64_t)(x >> 11) * 1e-3; break;
		}
		expect_num(v, dec);
	}
}

static void test_copy(void **state)
{
	const blt_block_t *blk = blt_catalog_find(1300);
	static uint8_t all[64];
	blt_decode_opts_t o = {.present = all};
	uint8_t p[256] = {0};
	size_t pooled = 0;
	(void)state;
	assert_non_null(blk);
	memset(all, 0xff, sizeof all);
	p[25] = 3; /* three phases */
	/* the row-by-row path: repeated names live in the result's pool */
	assert_int_equal(blt_decode(blk, p, (size_t)blk->regs * 2, &o, &a, NULL), BLT_OK);
	blt_decoded_copy(&b, &a);
	assert_int_equal(b.count, a.count);
	for (size_t i = 0; i < a.count; i++) {
		assert_string_equal(a.values[i].name, b.values[i].name);
		if (a.values[i].name == a.names[i]) {
			assert_ptr_equal(b.values[i].name, b.names[i]);
			pooled++;
		}
	}
	assert_true(pooled >= 3);
	assert_non_null(blt_decoded_get(&b, "phase_2_voltage"));
	memset(&a, 0, sizeof a); /* the copy does not depend on the original */
	assert_non_null(blt_decoded_get(&b, "phase_2_voltage"));
	assert_null(blt_decoded_get(&b, "phase_3_voltage"));
}

/* JSON longer than the formatter's 4 kB buffer: names written again in "units" are copied
 * from the buffer only while they are still there; the document is exact either way. */
static void test_json_long(void **state)
{
	static char names[BLT_MAX_VALUES][48], want[65536], got[65536];
	size_t o = 0, len;
	FILE *f;
	(void)state;
	memset(&a, 0, sizeof a);
	a.block = &num_block;
	a.count = BLT_MAX_VALUES;
	for (size_t i = 0; i < BLT_MAX_VALUES; i++) {
		blt_value_t *v = &a.values[i];
		/* names of varying length; every fifth one needs escaping */
		snprintf(names[i], sizeof names[i], "%s_%zu_%.*s", i % 5 == 4 ? "q\"uote" : "value",
		         i, (int)(i % 29), "abcdefghijklmnopqrstuvwxyzabcdefgh");
		v->field = &num_row[0];
		v->name = names[i];
		v->kind = BLT_VK_INT;
		v->status = i % 7 == 3 ? BLT_VS_MISSING : BLT_VS_OK;
		v->num = (double)i;
		v->unit = i % 3 ? "W" : "°C";
	}
	o +=
	    (size_t)snprintf(want + o, sizeof want - o, "{\"block\":1,\"name\":\"N\",\"values\":{");
	for (int pass = 0; pass < 3; pass++) {
		bool first = true;
		if (pass == 1)
			o += (size_t)snprintf(want + o, sizeof want - o, "},\"units\":{");
		if (pass == 2)
			o += (size_t)snprintf(want + o, sizeof want - o, "},\"missing\":[");
		for (size_t i = 0; i < BLT_MAX_VALUES; i++) {
			char q[64];
			const char *n = names[i];
			size_t k = 0;
			if ((pass < 2) != (a.values[i].status == BLT_VS_OK))
				continue;
			for (; *n; n++) { /* the names here need only '"' escaped */
				if (*n == '"')
					q[k++] = '\\';
				q[k++] = *n;
			}
			q[k] = '\0';
			if (!first)
				want[o++] = ',';
			first = false;
			if (pass == 0)
				o +=
				    (size_t)snprintf(want + o, sizeof want - o, "\"%s\":%zu", q, i);
			else if (pass == 1)
				o += (size_t)snprintf(want + o, sizeof want - o, "\"%s\":\"%s\"", q,
				                      a.values[i].unit);
			else
				o += (size_t)snprintf(want + o, sizeof want - o, "\"%s\"", q);
		}
	}
	snprintf(want + o, sizeof want - o, "],\"unavailable\":{}}\n");
	f = fmemopen(got, sizeof got, "w");
	assert_non_null(f);
	assert_int_equal(blt_format_json(&a, 0, f), BLT_OK);
	len = (size_t)ftell(f);
	fclose(f);
	got[len] = '\0';
	assert_true(len > 3 * 4096);
	assert_string_equal(got, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_paths_agree),
	    cmocka_unit_test(test_numbers),
	    cmocka_unit_test(test_copy),
	    cmocka_unit_test(test_json_long),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
