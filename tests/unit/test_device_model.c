/* Device state model: updates from decoded golden blocks (PROTOCOL.md §7.2 synthetic
 * Elite 100 V2 scenario, §7.1 AP300 cells), summary and derived values. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <bluetti/bluetti.h>
#include <bluetti/device.h>

#include "unit/testdata.h"

/* §7.2 synthetic Elite 100 V2 blocks and the §7.1 AP300 cells (tests/data/payloads). */
#define HEX_100  test_data_text("payloads/el100v2_block100.hex")
#define HEX_1300 test_data_text("payloads/el100v2_block1300.hex")
#define HEX_6300 test_data_text("payloads/ap300_block6300.hex")
/* Grid gone: frequency 0, no phase values. */
static const char *HEX_1300_OUTAGE =
    "0000 0000 0000 04d2 0000 0038 0000 0000 0000 0000 0000 0000 0001 0000 0000 0000"
    "0000";

static blt_decoded_t dec;

static void apply(blt_device_t *dev, uint16_t block, const char *hex, uint64_t now)
{
	uint8_t buf[256];
	size_t n = 0;
	blt_detail_t d = {{0}};
	blt_decode_opts_t o;
	assert_int_equal(blt_hex_decode(hex, buf, sizeof buf, &n, &d), BLT_OK);
	blt_device_decode_opts(dev, &o);
	int err = blt_decode(blt_catalog_find(block), buf, n, &o, &dec, &d);
	assert_true(err == BLT_OK || err == BLT_E_MISSING);
	assert_int_equal(blt_device_update(dev, &dec, now, &d), BLT_OK);
}

static blt_device_t *new_dev(void)
{
	blt_device_t *dev = NULL;
	assert_int_equal(
	    blt_device_new(blt_profile_find("EL100V2"), NULL, "2434000112345", &dev, NULL), BLT_OK);
	return dev;
}

static void test_empty_summary(void **state)
{
	(void)state;
	blt_device_t *dev = new_dev();
	const blt_device_summary_t *s = blt_device_summary(dev);
	assert_true(isnan(s->soc));
	assert_true(isnan(s->grid_voltage));
	assert_false(s->have_grid);
	assert_false(s->on_battery);
	assert_int_equal(blt_device_block_time(dev, 1300), 0);
	assert_int_equal(blt_device_value_count(dev), 0);
	blt_device_free(dev);
}

static void test_core_and_grid(void **state)
{
	(void)state;
	blt_device_t *dev = new_dev();
	apply(dev, 100, HEX_100, 1000);
	apply(dev, 1300, HEX_1300, 2000);
	const blt_device_summary_t *s = blt_device_summary(dev);

	assert_float_equal(s->soc, 76, 1e-9);
	assert_float_equal(s->pack_voltage, 53.13, 1e-6);
	assert_float_equal(s->pack_current, -2.9, 1e-6);
	assert_float_equal(s->battery_power, 53.13 * -2.9, 1e-6);
	assert_float_equal(s->ac_load_power, 145, 1e-9);
	assert_float_equal(s->inverter_power, 154, 1e-9);
	assert_string_equal(s->model, "EL100V2");
	assert_string_equal(s->serial, "2434000112345");

	assert_float_equal(s->grid_frequency, 50.0, 1e-9);
	assert_float_equal(s->grid_voltage, 230.1, 1e-6);
	assert_float_equal(s->grid_current, -1.6, 1e-6);
	assert_float_equal(s->grid_power, -350, 1e-9);
	assert_float_equal(s->net_grid_power, 350, 1e-9); /* importing 350 W */
	assert_float_equal(s->grid_import_energy, 123.4, 1e-6);
	assert_float_equal(s->grid_export_energy, 5.6, 1e-6);
	assert_true(s->grid_present);
	assert_false(s->on_battery);
	assert_false(s->grid_outage);

	assert_int_equal(blt_device_block_time(dev, 100), 1000);
	assert_int_equal(blt_device_block_time(dev, 1300), 2000);
	const blt_device_value_t *v = blt_device_find(dev, 1300, "phase_0_voltage");
	assert_non_null(v);
	char name[BLT_NAME_MAX];
	assert_int_equal(blt_device_value_name(v, name, sizeof name), BLT_OK);
	assert_string_equal(name, "phase_0_voltage");
	assert_null(blt_device_find(dev, 1300, "phase_1_voltage"));

	/* Updating a block replaces its values (no duplicates). */
	size_t before = blt_device_value_count(dev);
	apply(dev, 1300, HEX_1300, 3000);
	assert_int_equal(blt_device_value_count(dev), before);
	assert_int_equal(blt_device_block_time(dev, 1300), 3000);
	blt_device_free(dev);
}

static void test_outage(void **state)
{
	(void)state;
	blt_device_t *dev = new_dev();
	apply(dev, 100, HEX_100, 1);
	apply(dev, 1300, HEX_1300, 2);
	assert_false(blt_device_summary(dev)->grid_outage);
	apply(dev, 1300, HEX_1300_OUTAGE, 3);
	const blt_device_summary_t *s = blt_device_summary(dev);
	assert_false(s->grid_present);
	assert_true(s->grid_outage);
	assert_true(s->on_battery); /* pack current -2.9 A: discharging */
	blt_device_free(dev);
}

static void test_cells(void **state)
{
	(void)state;
	blt_device_t *dev = new_dev();
	apply(dev, 6300, HEX_6300, 5);
	const blt_device_summary_t *s = blt_device_summary(dev);
	assert_int_equal(s->cell_count, 16);
	assert_float_equal(s->cell_voltage[0], 3.325, 1e-9);
	assert_float_equal(s->cell_voltage[15], 3.321, 1e-9);
	assert_float_equal(s->cell_min, 3.321, 1e-9);
	assert_float_equal(s->cell_max, 3.325, 1e-9);
	assert_float_equal(s->cell_delta, 0.004, 1e-9);
	assert_int_equal(s->temp_count, 4);
	assert_float_equal(s->temp[0], 29, 1e-9);
	assert_float_equal(s->temp[3], 29, 1e-9);
	blt_device_free(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty_summary),
	    cmocka_unit_test(test_core_and_grid),
	    cmocka_unit_test(test_outage),
	    cmocka_unit_test(test_cells),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
