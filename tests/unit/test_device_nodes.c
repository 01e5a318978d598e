/* Device model nodes: the real AP300 NODE_INFO capture (tests/data/payloads/
 * ap300_block21000.hex, battery-ha) gives the node list; pack blocks built with the
 * catalog's encoder feed the battery node's own state. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <bluetti/bluetti.h>
#include <bluetti/device.h>

#include "unit/testdata.h"

static blt_decoded_t dec;

static blt_device_t *with_nodes(size_t cut)
{
	uint8_t buf[256];
	blt_detail_t d = {{0}};
	blt_device_t *dev = NULL;
	size_t n = test_data_hex("payloads/ap300_block21000.hex", buf, sizeof buf);
	assert_int_equal(blt_device_new(blt_profile_find("AP300"), NULL, "2616113487436", &dev, &d),
	                 BLT_OK);
	int rc = blt_decode(blt_catalog_find(21000), buf, n - cut, NULL, &dec, &d);
	assert_int_equal(rc, BLT_OK);
	assert_int_equal(blt_device_update(dev, &dec, 1000, &d), BLT_OK);
	return dev;
}

static const blt_field_t *row(const blt_block_t *b, const char *name)
{
	for (size_t i = 0; i < b->nfields; i++)
		if (!strcmp(b->fields[i].name, name))
			return &b->fields[i];
	fail_msg("no row %s", name);
	return NULL;
}

/* A pack's 6100 and 6300 with 16 cells summing to the pack voltage. */
static void feed_pack(blt_device_t *dev, uint8_t slave, double soc, double amps)
{
	const blt_block_t *b6100 = blt_catalog_find(6100), *b6300 = blt_catalog_find(6300);
	uint8_t p[256];
	blt_decode_opts_t o;
	blt_detail_t d = {{0}};
	double cell = 3.300, sum = 0;

	blt_profile_decode_opts(blt_profile_find("AP300"), &o);
	memset(p, 0, sizeof p);
	assert_int_equal(blt_encode_num(b6300, row(b6300, "cell_count"), 0, 16, &o, p, sizeof p),
	                 0);
	assert_int_equal(blt_encode_num(b6300, row(b6300, "ntc_count"), 0, 4, &o, p, sizeof p), 0);
	for (unsigned i = 0; i < 16; i++) {
		double v = cell + (i == 3 ? 0.004 : 0);
		sum += v;
		assert_int_equal(
		    blt_encode_num(b6300, row(b6300, "cell_%u_voltage"), i, v, &o, p, sizeof p), 0);
	}
	for (unsigned j = 0; j < 4; j++)
		assert_int_equal(
		    blt_encode_num(b6300, row(b6300, "temp_%u"), j, 27 + j, &o, p, sizeof p), 0);
	assert_int_equal(blt_decode(b6300, p, 44, &o, &dec, &d), BLT_OK);
	assert_int_equal(blt_device_update_node(dev, slave, &dec, 2000, &d), BLT_OK);

	memset(p, 0, sizeof p);
	assert_int_equal(blt_encode_num(b6100, row(b6100, "voltage"), 0, sum, &o, p, sizeof p), 0);
	assert_int_equal(blt_encode_num(b6100, row(b6100, "current"), 0, amps, &o, p, sizeof p), 0);
	assert_int_equal(blt_encode_num(b6100, row(b6100, "soc"), 0, soc, &o, p, sizeof p), 0);
	assert_int_equal(blt_encode_num(b6100, row(b6100, "temp_avg"), 0, 28, &o, p, sizeof p), 0);
	assert_int_equal(blt_decode(b6100, p, 180, &o, &dec, &d), BLT_OK);
	assert_int_equal(blt_device_update_node(dev, slave, &dec, 2000, &d), BLT_OK);
}

static void test_node_list_from_real_capture(void **state)
{
	(void)state;
	blt_device_t *dev = with_nodes(0);
	assert_int_equal(blt_device_node_count(dev), 3);
	const blt_node_t *inv = blt_device_node_at(dev, 0), *hub = blt_device_node_at(dev, 1),
	                 *bat = blt_device_node_at(dev, 2);
	assert_int_equal(inv->slave, 0);
	assert_int_equal(inv->kind, BLT_NODE_POWER_STATION);
	assert_null(inv->state); /* the power station is the device itself */
	assert_string_equal(inv->model, "AP300");
	assert_int_equal(hub->slave, 11);
	assert_int_equal(hub->kind, BLT_NODE_HUB);
	assert_string_equal(hub->model, "D1 hub");
	assert_string_equal(hub->serial, "2550111133804");
	assert_int_equal(hub->status & 1, 1);
	assert_non_null(hub->state);
	assert_int_equal(bat->slave, 51);
	assert_int_equal(bat->kind, BLT_NODE_BATTERY);
	assert_int_equal(bat->model_code, 4005);
	assert_string_equal(bat->model, "B300");
	assert_ptr_equal(blt_device_node_find(dev, 51), bat);
	assert_null(blt_device_node_find(dev, 52));
	/* a node's state starts empty, named after the node */
	const blt_device_summary_t *s = blt_device_summary(bat->state);
	assert_true(isnan(s->soc));
	assert_string_equal(s->model, "B300");
	assert_string_equal(s->serial, "2616113487436");
	blt_device_free(dev);
}

static void test_pack_state_per_node(void **state)
{
	blt_detail_t d = {{0}};
	(void)state;
	blt_device_t *dev = with_nodes(0);
	feed_pack(dev, 51, 64, -2.5);
	const blt_device_summary_t *s = blt_device_summary(blt_device_node_find(dev, 51)->state);
	assert_true(s->soc == 64);
	assert_true(fabs(s->pack_voltage - 52.804) < 0.006); /* 16 x 3.300 + 0.004 */
	assert_true(fabs(s->pack_current + 2.5) < 1e-9);
	assert_true(fabs(s->battery_power - s->pack_voltage * s->pack_current) < 1e-9);
	assert_true(s->pack_temp_avg == 28);
	assert_int_equal(s->cell_count, 16);
	assert_true(fabs(s->cell_delta - 0.004) < 1e-9);
	assert_int_equal(s->temp_count, 4);
	assert_true(s->temp[3] == 30);
	/* the power station's own state is untouched by the pack's blocks */
	assert_true(isnan(blt_device_summary(dev)->soc));
	/* no node there / the power station itself */
	assert_int_equal(blt_device_update_node(dev, 52, &dec, 1, &d), BLT_E_NOT_FOUND);
	assert_int_equal(blt_device_update_node(dev, 0, &dec, 1, &d), BLT_E_INVAL);
	blt_device_free(dev);
}

static void test_state_survives_a_new_list(void **state)
{
	uint8_t buf[256];
	blt_detail_t d = {{0}};
	(void)state;
	blt_device_t *dev = with_nodes(0);
	feed_pack(dev, 51, 64, -2.5);
	size_t n = test_data_hex("payloads/ap300_block21000.hex", buf, sizeof buf);
	/* the same list again: the pack keeps its state */
	assert_int_equal(blt_decode(blt_catalog_find(21000), buf, n, NULL, &dec, &d), BLT_OK);
	assert_int_equal(blt_device_update(dev, &dec, 3000, &d), BLT_OK);
	assert_true(blt_device_summary(blt_device_node_find(dev, 51)->state)->soc == 64);
	/* a truncated list (the battery record cut off) does not drop the known battery */
	assert_int_equal(blt_decode(blt_catalog_find(21000), buf, n - 10, NULL, &dec, &d), BLT_OK);
	assert_int_equal(blt_device_update(dev, &dec, 4000, &d), BLT_OK);
	assert_int_equal(blt_device_node_count(dev), 3);
	/* a list without the battery (count 2): it is gone, with its state */
	buf[3] = 2;
	assert_int_equal(blt_decode(blt_catalog_find(21000), buf, n - 16, NULL, &dec, &d), BLT_OK);
	assert_int_equal(blt_device_update(dev, &dec, 5000, &d), BLT_OK);
	assert_int_equal(blt_device_node_count(dev), 2);
	assert_null(blt_device_node_find(dev, 51));
	blt_device_free(dev);
}

static void test_first_list_truncated(void **state)
{
	(void)state;
	blt_device_t *dev = with_nodes(10); /* battery record incomplete */
	assert_int_equal(blt_device_node_count(dev), 2);
	assert_null(blt_device_node_find(dev, 51));
	blt_device_free(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_node_list_from_real_capture),
	    cmocka_unit_test(test_pack_state_per_node),
	    cmocka_unit_test(test_state_survives_a_new_list),
	    cmocka_unit_test(test_first_list_truncated),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
