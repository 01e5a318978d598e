/* The derived quantities (device layer): one table, unique keys that no catalog row takes,
 * getters that say "not known" on an empty device and compute from the summary after
 * real blocks (the golden AP300 captures). */
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

#include "unit/testdata.h"

static void test_derived_table(void **state)
{
	static const char *const none[] = {NULL};
	(void)state;
	assert_true(blt_derived_count() >= 7);
	for (size_t i = 0; i < blt_derived_count(); i++) {
		const blt_derived_t *q = blt_derived_at(i);
		assert_non_null(q->key);
		assert_non_null(q->name);
		assert_non_null(q->get);
		assert_ptr_equal(blt_derived_find(q->key), q);
		for (size_t k = i + 1; k < blt_derived_count(); k++)
			assert_string_not_equal(q->key, blt_derived_at(k)->key);
		/* no row of any block takes a derived key (unique_id stability) */
		for (size_t bi = 0; bi < blt_catalog_count(); bi++) {
			const blt_block_t *b = blt_catalog_at(bi);
			for (size_t r = 0; r < b->nfields; r++) {
				char key[96];
				if (blt_ha_field_key(b, &b->fields[r], 0, none, key, sizeof key) ==
				        BLT_OK &&
				    !strcmp(key, q->key) && b->id != 100)
					fail_msg("row %u %s has the derived key %s", b->id,
					         b->fields[r].name, q->key);
			}
		}
	}
	assert_null(blt_derived_find("nope"));
	/* the getter on an empty device: nothing known */
	{
		blt_device_t *dev = NULL;
		blt_derived_value_t v;
		assert_int_equal(blt_device_new(blt_profile_find("AP300"), NULL, "1", &dev, NULL),
		                 BLT_OK);
		blt_derived_get(dev, blt_derived_find("battery_power"), &v);
		assert_false(v.known);
		blt_derived_get(dev, blt_derived_find("grid_outage"), &v);
		assert_false(v.known);
		blt_device_free(dev);
	}
}

static blt_decoded_t dec;

static void load(blt_device_t *dev, uint16_t id, const char *file)
{
	char path[512];
	uint8_t data[512];
	size_t len;
	blt_decode_opts_t o;
	snprintf(path, sizeof path, "payloads/%s", file);
	len = test_data_hex(path, data, sizeof data);
	blt_device_decode_opts(dev, &o);
	int err = blt_decode(blt_catalog_find(id), data, len, &o, &dec, NULL);
	assert_true(err == BLT_OK || err == BLT_E_MISSING);
	assert_int_equal(blt_device_update(dev, &dec, 1, NULL), BLT_OK);
}

/* After the AP300's real blocks the getters give what the summary says. */
static void test_derived_values(void **state)
{
	blt_device_t *dev = NULL;
	blt_derived_value_t v;
	const blt_device_summary_t *s;
	(void)state;
	assert_int_equal(blt_device_new(blt_profile_find("AP300"), NULL, "1", &dev, NULL), BLT_OK);
	load(dev, 100, "ap300_block100.hex");
	load(dev, 1300, "ap300_block1300.hex");
	load(dev, 6300, "ap300_block6300.hex");
	s = blt_device_summary(dev);
	assert_false(isnan(s->soc)); /* from the row tagged BLT_Q_SOC (block 100) */
	assert_int_equal((int)s->soc, 95);
	assert_true(s->cell_count > 0);
	blt_derived_get(dev, blt_derived_find("battery_power"), &v);
	assert_true(v.known);
	assert_true(fabs(v.num - s->pack_voltage * s->pack_current) < 1e-9);
	blt_derived_get(dev, blt_derived_find("cell_voltage_delta"), &v);
	assert_true(v.known);
	assert_true(v.num >= 0 && v.num < 1);
	blt_derived_get(dev, blt_derived_find("grid_present"), &v);
	assert_true(v.known);
	assert_true(v.on == s->grid_present);
	blt_derived_get(dev, blt_derived_find("alarms"), &v);
	assert_true(v.known);
	assert_string_equal(v.text, "none");
	/* every quantity applies here, except the computed energy counters: the AP300 has
	 * the real ones */
	for (size_t i = 0; i < blt_derived_count(); i++)
		assert_int_equal(blt_derived_at(i)->applies(s), blt_derived_at(i)->counter == 0);
	blt_device_free(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_derived_table),
	    cmocka_unit_test(test_derived_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
