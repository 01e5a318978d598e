/* Text and JSON output: golden strings for a synthetic block, escaping, decimals, the
 * strict JSON checker on adversarial strings, and the checker itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <bluetti/bluetti.h>

#include "unit/test_decode_json.h"

static blt_decoded_t res;

static const blt_enum_entry_t cs[] = {{0, "standby"}, {2, "discharging"}, {0, NULL}};
static const blt_bit_name_t cb[] = {{0, "power"}, {1, "ac_output"}, {3, "inverter"}, {0, NULL}};
static const blt_repeat_t ph = {.count_field = "phase_count", .max = 2, .stride = 4};

static const blt_field_t rows[] = {
    {.name = "frequency", .offset = 0, .type = BLT_T_U16, .scale = 0.1, .unit = "Hz"},
    {.name = "charging_status", .offset = 3, .type = BLT_T_U8, .enums = cs},
    {.name = "control_status", .offset = 4, .type = BLT_T_U16, .flags = BLT_F_BITMAP, .bits = cb},
    {.name = "model", .offset = 6, .type = BLT_T_STR, .size = 6},
    {.name = "temp_0",
     .offset = 12,
     .type = BLT_T_U16,
     .add = -40,
     .flags = BLT_F_ZERO_NA,
     .unit = "°C"},
    {.name = "temp_1",
     .offset = 14,
     .type = BLT_T_U16,
     .add = -40,
     .flags = BLT_F_ZERO_NA,
     .unit = "°C"},
    {.name = "password", .offset = 16, .type = BLT_T_STR, .size = 4, .flags = BLT_F_SECRET},
    {.name = "voltage", .offset = 20, .type = BLT_T_U16, .flags = BLT_F_PACK_VSCALE, .unit = "V"},
    {.name = "current", .offset = 22, .type = BLT_T_I16, .scale = 0.1, .unit = "A"},
    {.name = "energy", .offset = 24, .type = BLT_T_U32, .scale = 0.001, .unit = "kWh"},
    {.name = "phase_count", .offset = 29, .type = BLT_T_U8, .flags = BLT_F_COUNT},
    {.name = "phase_%u_power", .offset = 30, .type = BLT_T_I16, .unit = "W", .repeat = &ph},
    {.name = "phase_%u_voltage",
     .offset = 32,
     .type = BLT_T_U16,
     .scale = 0.1,
     .unit = "V",
     .repeat = &ph},
    {.name = "new_field", .offset = 38, .type = BLT_T_U16, .min_pv = 2010},
    {.name = "far", .offset = 60, .type = BLT_T_U16},
};
static const blt_block_t blk = {.id = 1300,
                                .name = "INV_GRID_INFO",
                                .title = "grid",
                                .regs = 31,
                                .fields = rows,
                                .nfields = sizeof rows / sizeof rows[0]};

static const uint8_t payload[40] = {
    0x01, 0xf4,                   /* 50.0 Hz */
    0x00, 0x02,                   /* discharging */
    0x00, 0x0b,                   /* power, ac_output, inverter */
    'A',  'P',  '"',  '\\', 0, 0, /* model with a quote and a backslash */
    0x00, 0x00,                   /* temp_0 n/a */
    0x00, 0x45,                   /* temp_1 29 */
    's',  'e',  'c',  'r',        /* password */
    0x14, 0xc1,                   /* 53.13 V */
    0xff, 0xff,                   /* -0.1 A */
    0x00, 0x07, 0x00, 0x00,       /* 0.007 kWh (word-swapped) */
    0x00, 0x02,                   /* 2 phases */
    0xfe, 0xa2, 0x08, 0xfd,       /* -350 W, 230.1 V */
    0x00, 0x00, 0x08, 0xfc,       /* 0 W, 230.0 V */
    0x00, 0x01,                   /* new_field */
};

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

static const char golden_text[] = "frequency: 50.0 Hz\n"
                                  "charging_status: discharging (2)\n"
                                  "control_status: 0x000b [power, ac_output, inverter]\n"
                                  "model: AP\"\\\n"
                                  "temp_0: n/a\n"
                                  "temp_1: 29 °C\n"
                                  "password: ***\n"
                                  "voltage: 53.13 V\n"
                                  "current: -0.1 A\n"
                                  "energy: 0.007 kWh\n"
                                  "phase_count: 2\n"
                                  "phase_0_power: -350 W\n"
                                  "phase_0_voltage: 230.1 V\n"
                                  "phase_1_power: 0 W\n"
                                  "phase_1_voltage: 230.0 V\n";

static void test_text(void **state)
{
	blt_decode_opts_t o = {.protocol_version = 2000};
	(void)state;
	assert_int_equal(blt_decode(&blk, payload, sizeof payload, &o, &res, NULL), BLT_OK);
	char *t = capture(blt_format_text, 0, NULL);
	assert_string_equal(t, golden_text);
	free(t);
	/* with BLT_FMT_ALL the gated and missing values are listed too */
	t = capture(blt_format_text, BLT_FMT_ALL, NULL);
	char *want = NULL;
	assert_true(asprintf(&want, "%snew_field: (needs protocol version 2010)\nfar: (missing)\n",
	                     golden_text) > 0);
	assert_string_equal(t, want);
	free(t);
	free(want);
}

static void test_text_bitmap_unknown_bits(void **state)
{
	uint8_t p[40];
	(void)state;
	memcpy(p, payload, sizeof p);
	p[4] = 0x80;
	p[5] = 0x04; /* bit 2 (no name) and bit 15 */
	assert_int_equal(blt_decode(&blk, p, sizeof p, NULL, &res, NULL), BLT_OK);
	char *t = capture(blt_format_text, 0, NULL);
	assert_non_null(strstr(t, "control_status: 0x8004 [bit2, bit15]\n"));
	free(t);
	p[4] = p[5] = 0;
	assert_int_equal(blt_decode(&blk, p, sizeof p, NULL, &res, NULL), BLT_OK);
	t = capture(blt_format_text, 0, NULL);
	assert_non_null(strstr(t, "control_status: 0x0000 []\n"));
	free(t);
}

static const char golden_json[] =
    "{\"block\":1300,\"name\":\"INV_GRID_INFO\",\"values\":{\"frequency\":50.0,"
    "\"charging_status\":\"discharging\",\"control_status\":11,\"model\":\"AP\\\"\\\\\","
    "\"temp_0\":null,\"temp_1\":29,\"password\":\"***\",\"voltage\":53.13,\"current\":-0.1,"
    "\"energy\":0.007,\"phase_count\":2,\"phase_0_power\":-350,\"phase_0_voltage\":230.1,"
    "\"phase_1_power\":0,\"phase_1_voltage\":230.0},\"units\":{\"frequency\":\"Hz\","
    "\"temp_0\":\"°C\",\"temp_1\":\"°C\",\"voltage\":\"V\",\"current\":\"A\",\"energy\":\"kWh\","
    "\"phase_0_power\":\"W\",\"phase_0_voltage\":\"V\",\"phase_1_power\":\"W\","
    "\"phase_1_voltage\":\"V\"},\"missing\":[\"far\"],\"unavailable\":{}}\n";

static void test_json(void **state)
{
	blt_decode_opts_t o = {.protocol_version = 2000};
	size_t n;
	(void)state;
	assert_int_equal(blt_decode(&blk, payload, sizeof payload, &o, &res, NULL), BLT_OK);
	char *j = capture(blt_format_json, 0, &n);
	assert_string_equal(j, golden_json);
	assert_true(json_strict_valid(j, n));
	free(j);
	/* shown secrets are printed */
	o.show_secrets = true;
	assert_int_equal(blt_decode(&blk, payload, sizeof payload, &o, &res, NULL), BLT_OK);
	j = capture(blt_format_json, 0, &n);
	assert_non_null(strstr(j, "\"password\":\"secr\""));
	free(j);
	/* with BLT_FMT_ALL, as the text output: the values not shown, with the reason */
	j = capture(blt_format_json, BLT_FMT_ALL, &n);
	assert_true(json_strict_valid(j, n));
	assert_non_null(strstr(j, "\"missing\":[\"far\"],\"unavailable\":{\"new_field\":{"
	                          "\"reason\":\"needs protocol version 2010\",\"min_pv\":2010},"
	                          "\"far\":{\"reason\":\"missing\"}}}\n"));
	free(j);
}

/* Names, units and block names with hostile bytes still give valid JSON. */
static const blt_field_t evil_rows[] = {
    {.name = "a\"b\\c\n\x01\x7f", .offset = 0, .type = BLT_T_U8, .unit = "\xff\xfe"},
    {.name = "s", .offset = 1, .type = BLT_T_STR, .size = 8},
    {.name = "utf8_\xc3\xa9_\xe2\x82", .offset = 0, .type = BLT_T_U8, .unit = "\xed\xa0\x80"},
};
static const blt_block_t evil = {.id = 7, .name = "E\"V\\I\tL", .fields = evil_rows, .nfields = 3};

static void test_json_escaping(void **state)
{
	uint8_t p[9] = {5, '"', '\\', '/', 0x1f, 0x80, 0xff, 0, 0};
	size_t n;
	(void)state;
	assert_int_equal(blt_decode(&evil, p, sizeof p, NULL, &res, NULL), BLT_OK);
	char *j = capture(blt_format_json, 0, &n);
	assert_true(json_strict_valid(j, n));
	assert_non_null(strstr(j, "\"E\\\"V\\\\I\\tL\""));
	assert_non_null(strstr(j, "\"a\\\"b\\\\c\\n\\u0001\\u007f\":5"));
	assert_non_null(strstr(j, "\"s\":\"\\\"\\\\/???\""));
	assert_non_null(strstr(j, "\"utf8_\xc3\xa9_\\ufffd\\ufffd\""));
	assert_non_null(strstr(j, "\"\\ufffd\\ufffd\""));
	free(j);
	char *t = capture(blt_format_text, 0, NULL);
	free(t);
}

static void test_checker_rejects(void **state)
{
	static const char *bad[] = {
	    "",         "{",           "{\"a\":1,}",        "[1,]",  "01",       "1.",  "-",
	    "\"\x01\"", "\"\\x\"",     "{\"a\":1,\"a\":2}", "{} {}", "\"\xff\"", "nul", "{\"a\" 1}",
	    "1e",       "\"\\u12g4\"", "{\"a\":1e-05x}",
	};
	static const char *good[] = {"{}",
	                             "[]",
	                             "0",
	                             "-0.5e+3",
	                             "\"\\u00e9\xc3\xa9\"",
	                             " {\"a\":[null,true,false,{\"a\":1}]} "};
	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (json_strict_valid(bad[i], strlen(bad[i])))
			fail_msg("accepted bad JSON #%zu: %s", i, bad[i]);
	}
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		if (!json_strict_valid(good[i], strlen(good[i])))
			fail_msg("rejected good JSON #%zu: %s", i, good[i]);
	}
}

static void test_bad_args(void **state)
{
	(void)state;
	assert_int_equal(blt_format_text(NULL, 0, stdout), BLT_E_INVAL);
	assert_int_equal(blt_format_json(&res, 0, NULL), BLT_E_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_text),
	    cmocka_unit_test(test_text_bitmap_unknown_bits),
	    cmocka_unit_test(test_json),
	    cmocka_unit_test(test_json_escaping),
	    cmocka_unit_test(test_checker_rejects),
	    cmocka_unit_test(test_bad_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
