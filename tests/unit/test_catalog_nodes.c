/* Golden test of block 21000 NODE_INFO from the real AP300 capture restated in
 * tests/data/payloads/ap300_block21000.hex (source: battery-ha node_info_v1.hex; see the
 * README there), and the node-kind / model-name functions of the catalog. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <bluetti/bluetti.h>

#include "unit/testdata.h"

static blt_decoded_t res;

static double num(const char *name)
{
	double v = -1;
	if (!blt_decoded_num(&res, name, &v))
		fail_msg("no value %s", name);
	return v;
}

static const char *str(const char *name)
{
	const blt_value_t *v = blt_decoded_get(&res, name);
	if (!v || v->status != BLT_VS_OK)
		fail_msg("no value %s", name);
	return v->str;
}

static void test_real_ap300_node_info(void **state)
{
	uint8_t buf[256];
	blt_detail_t d = {{0}};
	(void)state;
	size_t n = test_data_hex("payloads/ap300_block21000.hex", buf, sizeof buf);
	assert_int_equal(n, 52);
	const blt_block_t *b = blt_catalog_find(BLT_NODE_INFO_BLOCK);
	assert_non_null(b);
	assert_string_equal(b->name, "NODE_INFO");
	assert_int_equal(blt_decode(b, buf, n, NULL, &res, &d), BLT_OK);
	assert_int_equal(res.missing, 0);
	assert_true(num("version") == 1);
	assert_true(num("node_count") == 3);
	/* what battery-ha asserts: inverter on 0, D1 hub on 11, B300 on 51 */
	assert_true(num("node_0_slave") == 0);
	assert_true(num("node_0_model") == 6);
	assert_string_equal(str("node_0_model"), "AP300");
	assert_true(num("node_1_slave") == 11);
	assert_true(num("node_1_model") == 3007);
	assert_string_equal(str("node_1_model"), "D1 hub");
	assert_true(num("node_2_slave") == 51);
	assert_true(num("node_2_model") == 4005);
	assert_string_equal(str("node_2_model"), "B300");
	/* status bits: online on the inverter and the battery; the hub also "upgrading" */
	assert_true(num("node_0_status") == 1);
	assert_true(num("node_1_status") == 3);
	assert_true(num("node_2_status") == 1);
	/* group / slave group bytes as in the capture */
	assert_true(num("node_1_group") == 11);
	assert_true(num("node_2_group") == 32);
	assert_true(num("node_2_slave_group") == 32);
	assert_true(num("node_2_parent") == 0);
	/* serials: u64 low register first, the same encoding as block 100 (2616113487436) */
	assert_string_equal(str("node_0_serial"), "2616113487436");
	assert_string_equal(str("node_1_serial"), "2550111133804");
	assert_string_equal(str("node_2_serial"), "2616113487436");
	assert_null(blt_decoded_get(&res, "node_3_slave"));
}

static void test_truncated_node_list(void **state)
{
	uint8_t buf[256];
	blt_detail_t d = {{0}};
	(void)state;
	size_t n = test_data_hex("payloads/ap300_block21000.hex", buf, sizeof buf);
	/* the count says 3 but only 2 records arrive: the third is missing, not invented */
	assert_int_equal(blt_decode(blt_catalog_find(21000), buf, n - 16, NULL, &res, &d), BLT_OK);
	assert_true(res.missing > 0);
	const blt_value_t *v = blt_decoded_get(&res, "node_2_slave");
	assert_non_null(v);
	assert_int_equal(v->status, BLT_VS_MISSING);
	/* a header only is too short for nothing: the header itself decodes */
	assert_int_equal(blt_decode(blt_catalog_find(21000), buf, 2, NULL, &res, &d),
	                 BLT_E_MISSING);
}

static void test_node_kinds(void **state)
{
	size_t n = 99;
	(void)state;
	assert_int_equal(blt_node_kind(6), BLT_NODE_POWER_STATION);
	assert_int_equal(blt_node_kind(3007), BLT_NODE_HUB);
	assert_int_equal(blt_node_kind(3008), BLT_NODE_HUB);
	assert_int_equal(blt_node_kind(4005), BLT_NODE_BATTERY);
	assert_int_equal(blt_node_kind(4099), BLT_NODE_BATTERY); /* unknown pack: still a pack */
	assert_int_equal(blt_node_kind(3999), BLT_NODE_OTHER);
	assert_int_equal(blt_node_kind(5000), BLT_NODE_OTHER);
	assert_string_equal(blt_node_kind_name(BLT_NODE_BATTERY), "battery");
	assert_string_equal(blt_node_model_name(4016), "B500K");
	assert_null(blt_node_model_name(4099));
	const uint16_t *b = blt_node_blocks(BLT_NODE_BATTERY, &n);
	assert_int_equal(n, 2);
	assert_int_equal(b[0], 6100);
	assert_int_equal(b[1], 6300);
	assert_null(blt_node_blocks(BLT_NODE_HUB, &n));
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_real_ap300_node_info),
	    cmocka_unit_test(test_truncated_node_list),
	    cmocka_unit_test(test_node_kinds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
