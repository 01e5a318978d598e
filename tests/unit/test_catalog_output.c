/* Output of the real blocks: golden text and JSON for §7 payloads; for every catalog block
 * and random payloads (any length, any bytes) the JSON is strictly valid, parses with cJSON
 * and agrees with the decoded values; the text has one line per value. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include <bluetti/bluetti.h>

#include "unit/testdata.h"

#include "unit/test_decode_json.h"

static blt_decoded_t res;

static char *capture(int (*fn)(const blt_decoded_t *, unsigned, FILE *), unsigned flags,
                     size_t *len)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	assert_non_null(f);
	assert_int_equal(fn(&res, flags, f), BLT_OK);
	fclose(f);
	if (len)
		*len = n;
	return buf;
}

static void decode_hex(uint16_t id, const char *hex, const blt_decode_opts_t *o)
{
	uint8_t buf[256];
	size_t n = 0;
	assert_int_equal(blt_hex_decode(hex, buf, sizeof buf, &n, NULL), BLT_OK);
	assert_int_equal(blt_decode(blt_catalog_find(id), buf, n, o, &res, NULL), BLT_OK);
}

static void test_golden_1300(void **state)
{
	(void)state;
	decode_hex(1300, test_data_text("payloads/el100v2_block1300.hex"), NULL);
	char *t = capture(blt_format_text, 0, NULL);
	assert_string_equal(t, "frequency: 50.0 Hz\n"
	                       "grid_power: -350 W\n"
	                       "charge_energy: 123.4 kWh\n"
	                       "feedback_energy: 5.6 kWh\n"
	                       "power_factor: 0\n"
	                       "phase_count: 1\n"
	                       "phase_0_power: -350 W\n"
	                       "phase_0_voltage: 230.1 V\n"
	                       "phase_0_current: -1.6 A\n"
	                       "phase_0_apparent: 380 VA\n");
	free(t);
	char *j = capture(blt_format_json, 0, NULL);
	assert_string_equal(
	    j, "{\"block\":1300,\"name\":\"INV_GRID_INFO\",\"values\":{\"frequency\":50.0,"
	       "\"grid_power\":-350,\"charge_energy\":123.4,\"feedback_energy\":5.6,"
	       "\"power_factor\":0,\"phase_count\":1,\"phase_0_power\":-350,"
	       "\"phase_0_voltage\":230.1,\"phase_0_current\":-1.6,\"phase_0_apparent\":380},"
	       "\"units\":{\"frequency\":\"Hz\",\"grid_power\":\"W\",\"charge_energy\":\"kWh\","
	       "\"feedback_energy\":\"kWh\",\"phase_0_power\":\"W\",\"phase_0_voltage\":\"V\","
	       "\"phase_0_current\":\"A\",\"phase_0_apparent\":\"VA\"},\"missing\":[\"phase_0_"
	       "power_32\",\"phase_1_power_32\","
	       "\"phase_2_power_32\",\"phase_0_apparent_32\",\"phase_1_apparent_32\","
	       "\"phase_2_apparent_32\"],\"unavailable\":{}}\n");
	free(j);
}

static void test_golden_6300(void **state)
{
	(void)state;
	decode_hex(6300, test_data_text("payloads/ap300_block6300.hex"), NULL);
	char *t = capture(blt_format_text, 0, NULL);
	assert_true(strncmp(t,
	                    "cell_count: 16\n"
	                    "ntc_count: 4\n"
	                    "cell_0_voltage: 3.325 V\n"
	                    "cell_0_status: 0\n"
	                    "cell_1_voltage: 3.324 V\n",
	                    strlen("cell_count: 16\nntc_count: 4\ncell_0_voltage: 3.325 V\n"
	                           "cell_0_status: 0\ncell_1_voltage: 3.324 V\n")) == 0);
	assert_non_null(strstr(t, "cell_15_voltage: 3.321 V\ncell_15_status: 0\n"
	                          "temp_0: 29 °C\ntemp_1: 29 °C\ntemp_2: 29 °C\ntemp_3: 29 °C\n"));
	free(t);
}

static void test_golden_100(void **state)
{
	(void)state;
	decode_hex(100, test_data_text("payloads/ap300_block100.hex"), NULL);
	char *t = capture(blt_format_text, 0, NULL);
	assert_true(strncmp(t,
	                    "pack_voltage: 53.13 V\n"
	                    "pack_current: 0.0 A\n"
	                    "soc: 95 %\n"
	                    "charging_status: standby (0)\n"
	                    "time_to_full: 20100 min\n"
	                    "time_to_empty: 20100 min\n",
	                    120) == 0);
	assert_non_null(strstr(t, "packs_online: 0x0002 [pack_1]\n"));
	assert_non_null(strstr(t, "device_model: AP300\ndevice_serial: 2616113487436\n"));
	assert_non_null(strstr(t, "control_status: 0x0000 []\n"));
	assert_null(strstr(t, "rated_voltage")); /* missing: only with BLT_FMT_ALL */
	free(t);
	t = capture(blt_format_text, BLT_FMT_ALL, NULL);
	assert_non_null(strstr(t, "rated_voltage: (missing)\n"));
	free(t);
	size_t n;
	char *j = capture(blt_format_json, 0, &n);
	assert_true(json_strict_valid(j, n));
	assert_non_null(strstr(j, "\"pack_voltage\":53.13,"));
	assert_non_null(strstr(j, "\"device_serial\":\"2616113487436\""));
	assert_non_null(strstr(j, "\"charging_status\":\"standby\""));
	assert_non_null(strstr(j, "\"missing\":[\"pv_to_ac_load_energy\","));
	free(j);
}

/* JSON agrees with the decoded values. */
static void check_json(const blt_block_t *b, const char *j, size_t n)
{
	if (!json_strict_valid(j, n))
		fail_msg("block %u: invalid JSON: %s", b->id, j);
	cJSON *root = cJSON_ParseWithLength(j, n);
	assert_non_null(root);
	assert_int_equal(cJSON_GetObjectItemCaseSensitive(root, "block")->valuedouble, b->id);
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(root, "name")->valuestring, b->name);
	cJSON *values = cJSON_GetObjectItemCaseSensitive(root, "values");
	cJSON *units = cJSON_GetObjectItemCaseSensitive(root, "units");
	cJSON *missing = cJSON_GetObjectItemCaseSensitive(root, "missing");
	assert_true(cJSON_IsObject(values) && cJSON_IsObject(units) && cJSON_IsArray(missing));
	assert_int_equal((size_t)cJSON_GetArraySize(missing), res.missing);
	size_t shown = 0;
	for (size_t i = 0; i < res.count; i++) {
		const blt_value_t *v = &res.values[i];
		cJSON *x = cJSON_GetObjectItemCaseSensitive(values, v->name);
		if (v->status == BLT_VS_MISSING || v->status == BLT_VS_GATED) {
			assert_null(x);
			continue;
		}
		if (v->status == BLT_VS_UNAVAILABLE) { /* not a value: listed with its reason */
			cJSON *un = cJSON_GetObjectItemCaseSensitive(root, "unavailable");
			cJSON *u = cJSON_GetObjectItemCaseSensitive(un, v->name);
			assert_null(x);
			assert_non_null(u);
			assert_string_equal(
			    cJSON_GetObjectItemCaseSensitive(u, "reason")->valuestring,
			    blt_vreason_name((blt_vreason_t)v->reason));
			assert_true(cJSON_GetObjectItemCaseSensitive(u, "raw")->valuedouble ==
			            (double)v->raw);
			continue;
		}
		shown++;
		assert_non_null(x);
		if (v->status == BLT_VS_NOT_REPORTED) {
			assert_true(cJSON_IsNull(x));
		} else if (v->status == BLT_VS_HIDDEN) {
			assert_string_equal(x->valuestring, "***");
		} else if (v->kind == BLT_VK_STR || v->field->enums) {
			assert_true(cJSON_IsString(x));
			assert_string_equal(x->valuestring, v->str);
		} else {
			assert_true(cJSON_IsNumber(x));
			double tol = 0.5 * pow(10, -(double)v->decimals) + 1e-9 * fabs(v->num);
			if (fabs(x->valuedouble - v->num) > tol)
				fail_msg("block %u: %s json %.17g decoded %.17g", b->id, v->name,
				         x->valuedouble, v->num);
		}
		cJSON *u = cJSON_GetObjectItemCaseSensitive(units, v->name);
		if (u)
			assert_string_equal(u->valuestring, v->field->unit);
	}
	assert_int_equal((size_t)cJSON_GetArraySize(values), shown);
	cJSON_Delete(root);
}

static void test_all_blocks_random(void **state)
{
	static uint8_t buf[250];
	uint64_t r = 88172645463325252ull;
	(void)state;
	for (size_t bi = 0; bi < blt_catalog_count(); bi++) {
		const blt_block_t *b = blt_catalog_at(bi);
		for (int round = 0; round < 60; round++) {
			size_t n;
			blt_decode_opts_t o = {.protocol_version = (uint16_t)(round % 3 ? 2000 : 0),
			                       .show_secrets = round % 2};
			for (size_t i = 0; i < sizeof buf; i++) {
				r ^= r << 13;
				r ^= r >> 7;
				r ^= r << 17;
				/* a third of the rounds mostly zeros: counts small, NUL strings */
				buf[i] = round % 3 == 2 && (r & 7) ? 0 : (uint8_t)r;
			}
			n = round == 0 ? sizeof buf : (size_t)(r % (2u * b->regs + 1));
			int rc = blt_decode(b, buf, n, &o, &res, NULL);
			assert_true(rc == BLT_OK || rc == BLT_E_MISSING);
			size_t jl;
			char *j = capture(blt_format_json, 0, &jl);
			check_json(b, j, jl);
			free(j);
			char *t = capture(blt_format_text, BLT_FMT_ALL, NULL);
			size_t lines = 0;
			for (char *p = t; *p; p++)
				lines += *p == '\n';
			assert_int_equal(lines, res.count);
			free(t);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden_1300),
	    cmocka_unit_test(test_golden_6300),
	    cmocka_unit_test(test_golden_100),
	    cmocka_unit_test(test_all_blocks_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
