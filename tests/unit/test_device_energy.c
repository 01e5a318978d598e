/* Computed energy counters (device layer): offered only where the profile has no counter
 * row, trapezoid integration over the read times of the power's block, gaps not
 * integrated, never backwards, seeded from a previous run. Synthetic timelines fed as
 * encoded blocks through blt_device_update, as the bridge does. */
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
#include <bluetti/device.h>

/* A model that reads only the first 50 registers of block 100: the powers (bytes 0-99)
 * but none of the counters (bytes 100 and up), and no 1300 / 6000. */
static const uint16_t g_core[] = {100};
static const blt_group_t bare_groups[] = {
    {.name = "core", .blocks = g_core, .nblocks = 1, .interval_s = 5}};
static const blt_block_regs_t bare_regs[] = {{100, 50, 0}};
static const blt_profile_t bare = {.id = "BARE",
                                   .name = "Bare test model",
                                   .model = "BARE",
                                   .protocol_version = 2000,
                                   .pack_voltage_scale = 0.01,
                                   .preset = "v2",
                                   .groups = bare_groups,
                                   .ngroups = 1,
                                   .read_regs = bare_regs,
                                   .nread_regs = 1};

typedef struct row {
	const char *name;
	double v;
} row_t;

static blt_decoded_t dec;

/* cmocka's assert_float_equal compares floats: these are doubles */
#define assert_near(a, b, eps)                                                                     \
	do {                                                                                       \
		double a_ = (a), b_ = (b);                                                         \
		if (!(fabs(a_ - b_) <= (eps)))                                                     \
			fail_msg("%s = %.12g, expected %.12g", #a, a_, b_);                        \
	} while (0)

/* Encode block id with the given rows (others 0) on dev's profile and apply it at t. */
static void feed(blt_device_t *dev, uint16_t id, const row_t *rows, size_t n, uint64_t t)
{
	const blt_block_t *b = blt_catalog_find(id);
	uint8_t buf[512];
	size_t len = (size_t)blt_profile_block_regs(blt_device_profile(dev), b) * 2u;
	blt_decode_opts_t o;
	assert_non_null(b);
	assert_true(len <= sizeof buf);
	memset(buf, 0, sizeof buf);
	blt_device_decode_opts(dev, &o);
	for (size_t i = 0; i < n; i++) {
		const blt_field_t *f = NULL;
		for (size_t k = 0; k < b->nfields && !f; k++)
			if (!strcmp(b->fields[k].name, rows[i].name))
				f = &b->fields[k];
		assert_non_null(f);
		assert_int_equal(blt_encode_num(b, f, 0, rows[i].v, &o, buf, len), BLT_OK);
	}
	int err = blt_decode(b, buf, len, &o, &dec, NULL);
	assert_true(err == BLT_OK || err == BLT_E_MISSING);
	assert_int_equal(blt_device_update(dev, &dec, t, NULL), BLT_OK);
}

static double value(const blt_device_t *dev, const char *key, bool *known)
{
	blt_derived_value_t v;
	const blt_derived_t *q = blt_derived_find(key);
	assert_non_null(q);
	blt_derived_get(dev, q, &v);
	if (known)
		*known = v.known;
	return v.num;
}

static const char *const computed_keys[] = {
    "pv_energy_computed",
    "grid_import_energy_computed",
    "grid_export_energy_computed",
    "battery_charge_energy_computed",
    "battery_discharge_energy_computed",
    "ac_load_energy_computed",
    "dc_load_energy_computed",
};
#define NKEYS (sizeof computed_keys / sizeof computed_keys[0])

/* Offered exactly where the profile lacks the counter (catalog quantity tags): none on the
 * models whose block 100 / 1300 / 6000 hold every counter, grid export on the Elite 200 V2
 * (1305 and 158 read the 0x0194 filler there), all on a model that reads no counter. */
static void test_offered_by_profile(void **state)
{
	(void)state;
	for (size_t k = 0; k < NKEYS; k++) {
		const blt_derived_t *q = blt_derived_find(computed_keys[k]);
		assert_non_null(q);
		assert_true(q->counter != 0);
		assert_string_equal(q->unit, "kWh");
		assert_string_equal(q->device_class, "energy");
		assert_string_equal(q->state_class, "total_increasing");
		assert_non_null(strstr(q->name, "(computed)"));
		assert_true(blt_derived_offered(&bare, q));
		assert_false(blt_derived_offered(blt_profile_find("AP300"), q));
		assert_false(blt_derived_offered(blt_profile_find("EL100V2"), q));
		assert_int_equal(blt_derived_offered(blt_profile_find("ELITE200V2"), q),
		                 !strcmp(q->key, "grid_export_energy_computed"));
		for (size_t i = 0; i <= blt_profile_count(); i++) {
			const blt_profile_t *p = blt_profile_at(i);
			assert_int_equal(blt_derived_offered(p, q),
			                 !blt_profile_has_quantity(p, (blt_quantity_t)q->counter));
		}
	}
	/* the others are offered everywhere */
	assert_true(blt_derived_offered(blt_profile_find("AP300"), blt_derived_find("alarms")));

	/* a device of a profile with the real counter: never applies, seed refused */
	blt_device_t *dev = NULL;
	bool known = true;
	assert_int_equal(blt_device_new(blt_profile_find("AP300"), NULL, "1", &dev, NULL), BLT_OK);
	for (uint64_t t = 1000; t <= 61000; t += 5000)
		feed(dev, 100, (row_t[]){{"pv_power", 800}, {"ac_load_power", 300}}, 2, t);
	for (size_t k = 0; k < NKEYS; k++) {
		const blt_derived_t *q = blt_derived_find(computed_keys[k]);
		assert_false(q->applies(blt_device_summary(dev)));
		value(dev, computed_keys[k], &known);
		assert_false(known);
		assert_int_equal(blt_device_energy_seed(dev, computed_keys[k], 5, NULL),
		                 BLT_E_NOT_FOUND);
	}
	blt_device_free(dev);
}

/* Constant power for an hour, read every 5 s: the expected kWh, per counter. */
static void test_constant_power_one_hour(void **state)
{
	blt_device_t *dev = NULL;
	bool known = true;
	(void)state;
	assert_int_equal(blt_device_new(&bare, NULL, "1", &dev, NULL), BLT_OK);
	for (size_t k = 0; k < NKEYS; k++) {
		assert_true(blt_derived_find(computed_keys[k])->applies(blt_device_summary(dev)));
		value(dev, computed_keys[k], &known);
		assert_false(known); /* no sample, no seed: unknown, not 0 */
	}
	for (uint64_t t = 1000; t <= 1000 + 3600000; t += 5000)
		feed(dev, 100,
		     (row_t[]){{"pv_power", 1000},
		               {"ac_load_power", 250},
		               {"dc_load_power", 40},
		               {"grid_power", 400}, /* block 100: import positive */
		               {"pack_voltage", 50},
		               {"pack_current", -10}}, /* 500 W out of the pack */
		     6, t);
	assert_near(value(dev, "pv_energy_computed", &known), 1.0, 1e-9);
	assert_true(known);
	assert_near(value(dev, "ac_load_energy_computed", NULL), 0.25, 1e-9);
	assert_near(value(dev, "dc_load_energy_computed", NULL), 0.04, 1e-9);
	assert_near(value(dev, "grid_import_energy_computed", NULL), 0.4, 1e-9);
	assert_near(value(dev, "grid_export_energy_computed", NULL), 0.0, 1e-12);
	assert_near(value(dev, "battery_discharge_energy_computed", NULL), 0.5, 1e-9);
	assert_near(value(dev, "battery_charge_energy_computed", NULL), 0.0, 1e-12);
	assert_near(blt_device_summary(dev)->energy[BLT_EN_PV], 1.0, 1e-9);

	/* a linear ramp 1000 -> 4600 W over the next hour: the trapezoid is exact (2.8 kWh) */
	for (uint64_t i = 1; i <= 720; i++)
		feed(dev, 100, (row_t[]){{"pv_power", 1000 + (double)i * 5}}, 1,
		     1000 + 3600000 + i * 5000);
	assert_near(value(dev, "pv_energy_computed", NULL), 1.0 + 2.8, 1e-9);
	blt_device_free(dev);
}

/* Samples further apart than 5 minutes are not integrated (the unit was not read, its
 * power in between is unknown); 5 minutes exactly still is. A reading without the
 * power's block (another block read) adds no sample. */
static void test_gaps_and_read_times(void **state)
{
	blt_device_t *dev = NULL;
	uint64_t t = 1000;
	(void)state;
	assert_int_equal(blt_device_new(&bare, NULL, "1", &dev, NULL), BLT_OK);
	for (; t <= 1000 + 1800000; t += 10000) /* 30 min at 1200 W: 0.6 kWh */
		feed(dev, 100, (row_t[]){{"pv_power", 1200}}, 1, t);
	t += 600000 - 10000;                                   /* 10 min without a read */
	for (uint64_t end = t + 1800000; t <= end; t += 10000) /* 30 min more */
		feed(dev, 100, (row_t[]){{"pv_power", 1200}}, 1, t);
	assert_near(value(dev, "pv_energy_computed", NULL), 1.2, 1e-9);
	t -= 10000;
	/* exactly 5 minutes later at 1200 W: 0.1 kWh more */
	feed(dev, 100, (row_t[]){{"pv_power", 1200}}, 1, t + BLT_ENERGY_GAP_MS);
	assert_near(value(dev, "pv_energy_computed", NULL), 1.3, 1e-9);
	/* a clock going back integrates nothing and takes nothing away */
	feed(dev, 100, (row_t[]){{"pv_power", 1200}}, 1, 5000);
	assert_near(value(dev, "pv_energy_computed", NULL), 1.3, 1e-9);
	blt_device_free(dev);

	/* Elite 200 V2: grid export from block 1300's total power (import positive on this
	 * model), stamped with 1300's read times; block 100 reads in between add nothing */
	assert_int_equal(blt_device_new(blt_profile_find("ELITE200V2"), NULL, "1", &dev, NULL),
	                 BLT_OK);
	for (uint64_t s = 1000; s <= 1000 + 3600000; s += 60000) {
		feed(dev, 1300, (row_t[]){{"frequency", 50}, {"grid_power", -800}}, 2, s);
		feed(dev, 100, (row_t[]){{"pv_power", 100}}, 1, s + 20000);
		feed(dev, 100, (row_t[]){{"pv_power", 100}}, 1, s + 40000);
	}
	assert_near(blt_device_summary(dev)->net_grid_power, -800, 1e-9);
	assert_near(value(dev, "grid_export_energy_computed", NULL), 0.8, 1e-9);
	blt_device_free(dev);
}

/* Seeded from the previous run's value: continues from it, never backwards, refuses
 * nonsense. */
static void test_seed(void **state)
{
	blt_device_t *dev = NULL;
	bool known = false;
	double prev = NAN, v;
	(void)state;
	assert_int_equal(blt_device_new(&bare, NULL, "1", &dev, NULL), BLT_OK);
	assert_int_equal(blt_device_energy_seed(dev, "pv_energy_computed", 12.345, NULL), BLT_OK);
	assert_near(value(dev, "pv_energy_computed", &known), 12.345, 1e-12);
	assert_true(known); /* the previous value, before any read */
	value(dev, "ac_load_energy_computed", &known);
	assert_false(known);
	for (uint64_t t = 1000; t <= 1000 + 3600000; t += 5000) {
		/* a varying power, negative readings included: the counter only grows */
		double w = 500 + 400 * sin((double)t / 100000.0);
		feed(dev, 100, (row_t[]){{"pv_power", w}, {"grid_power", w - 600}}, 2, t);
		v = value(dev, "pv_energy_computed", NULL);
		assert_true(isnan(prev) || v >= prev);
		prev = v;
		v = value(dev, "grid_export_energy_computed", NULL);
		assert_true(v >= 0);
	}
	v = value(dev, "pv_energy_computed", NULL);
	assert_true(v > 12.345 + 0.3 && v < 12.345 + 0.7);
	/* a lower seed later (an older retained value) does not take the counter back */
	assert_int_equal(blt_device_energy_seed(dev, "pv_energy_computed", 3, NULL), BLT_OK);
	assert_near(value(dev, "pv_energy_computed", NULL), v, 1e-12);
	/* a higher one is taken as the previous total: the integral adds to it */
	assert_int_equal(blt_device_energy_seed(dev, "pv_energy_computed", 20, NULL), BLT_OK);
	assert_near(value(dev, "pv_energy_computed", NULL), 20 + v - 12.345, 1e-9);
	blt_detail_t d = {0};
	assert_int_equal(blt_device_energy_seed(dev, "pv_energy_computed", -1, &d), BLT_E_RANGE);
	assert_non_null(strstr(d.text, "pv_energy_computed"));
	assert_int_equal(blt_device_energy_seed(dev, "pv_energy_computed", NAN, NULL), BLT_E_RANGE);
	assert_int_equal(blt_device_energy_seed(dev, "pv_energy_computed", INFINITY, NULL),
	                 BLT_E_RANGE);
	assert_int_equal(blt_device_energy_seed(dev, "battery_power", 1, NULL), BLT_E_NOT_FOUND);
	assert_int_equal(blt_device_energy_seed(dev, "nope", 1, NULL), BLT_E_NOT_FOUND);
	assert_int_equal(blt_device_energy_seed(dev, NULL, 1, NULL), BLT_E_INVAL);
	assert_near(value(dev, "pv_energy_computed", NULL), 20 + v - 12.345, 1e-9);
	blt_device_free(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_offered_by_profile),
	    cmocka_unit_test(test_constant_power_one_hour),
	    cmocka_unit_test(test_gaps_and_read_times),
	    cmocka_unit_test(test_seed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
