/* The decode engine with small synthetic tables: transform order, word order, gating,
 * missing/required rows, repeats (count, cap, dynamic base, swapped index), enums,
 * secrets, strings, serials, the value cap, and the encoder's inverse and range checks. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <bluetti/bluetti.h>

static blt_decoded_t res;

#define BLOCK(var, rows)                                                                           \
	static const blt_block_t var = {.id = 42,                                                  \
	                                .name = "TEST",                                            \
	                                .title = "test",                                           \
	                                .regs = 64,                                                \
	                                .fields = rows,                                            \
	                                .nfields = sizeof rows / sizeof rows[0]}

static const blt_value_t *get(const char *name)
{
	const blt_value_t *v = blt_decoded_get(&res, name);
	if (!v)
		print_error("no value '%s'\n", name);
	assert_non_null(v);
	return v;
}

/* ---- transforms --------------------------------------------------------------------- */

static const blt_field_t t_rows[] = {
    /* raw 0x0f80 -> mask 0x0ff0 -> 0x0f80 -> >>4 = 0xf8 -> sign (8-bit field) = -8 ->
     * abs 8 -> *0.5 = 4 -> +1 = 5 -> clamp [0, 4.5] = 4.5 */
    {.name = "all",
     .offset = 0,
     .type = BLT_T_I16,
     .mask = 0x0ff0,
     .shift = 4,
     .flags = BLT_F_ABS | BLT_F_CLAMP,
     .scale = 0.5,
     .add = 1,
     .clamp_lo = 0,
     .clamp_hi = 4.5},
    /* same without clamp: order matters (scale before add) */
    {.name = "noclamp",
     .offset = 0,
     .type = BLT_T_I16,
     .mask = 0x0ff0,
     .shift = 4,
     .flags = BLT_F_ABS,
     .scale = 0.5,
     .add = 1},
    {.name = "signed_only", .offset = 0, .type = BLT_T_I16, .mask = 0x0ff0, .shift = 4},
    {.name = "u32", .offset = 2, .type = BLT_T_U32},
    {.name = "u32_be", .offset = 2, .type = BLT_T_U32_BE},
    {.name = "i32", .offset = 2, .type = BLT_T_I32},
    {.name = "i32_be", .offset = 2, .type = BLT_T_I32_BE},
    {.name = "u8_lo", .offset = 7, .type = BLT_T_U8},
    {.name = "i8_hi", .offset = 6, .type = BLT_T_I8},
    {.name = "i16", .offset = 8, .type = BLT_T_I16, .scale = 0.1, .unit = "A"},
    {.name = "temp",
     .offset = 10,
     .type = BLT_T_U16,
     .add = -40,
     .flags = BLT_F_ZERO_NA,
     .unit = "°C"},
    {.name = "temp_na", .offset = 12, .type = BLT_T_U16, .add = -40, .flags = BLT_F_ZERO_NA},
    {.name = "tiny", .offset = 14, .type = BLT_T_U16, .scale = 0.00001},
    {.name = "vpack", .offset = 16, .type = BLT_T_U16, .flags = BLT_F_PACK_VSCALE, .unit = "V"},
};
BLOCK(t_block, t_rows);

static const uint8_t t_payload[] = {
    0x0f, 0x80,             /* 0 */
    0xff, 0xfe, 0x80, 0x00, /* 2: regs fffe 8000 */
    0x9c, 0x07,             /* 6 */
    0xff, 0xe3,             /* 8: -29 */
    0x00, 0x41,             /* 10: 65 -> 25 C */
    0x00, 0x00,             /* 12 */
    0x00, 0x07,             /* 14 */
    0x14, 0xc1,             /* 16: 5313 */
};

static void test_transform_order(void **state)
{
	(void)state;
	assert_int_equal(blt_decode(&t_block, t_payload, sizeof t_payload, NULL, &res, NULL),
	                 BLT_OK);
	assert_int_equal(res.count, sizeof t_rows / sizeof t_rows[0]);
	assert_int_equal(get("all")->raw, -8);
	assert_true(get("all")->num == 4.5);
	assert_int_equal(get("all")->kind, BLT_VK_REAL);
	assert_true(get("noclamp")->num == 5.0);
	assert_int_equal(get("signed_only")->raw, -8);
	assert_true(get("signed_only")->num == -8);
	assert_int_equal(get("signed_only")->kind, BLT_VK_INT);
	/* word order: U32 = low register first */
	assert_int_equal(get("u32")->raw, 0x8000fffe);
	assert_int_equal(get("u32_be")->raw, 0xfffe8000);
	assert_int_equal(get("i32")->raw, (int32_t)0x8000fffe);
	assert_int_equal(get("i32_be")->raw, -98304); /* 0xfffe8000 */
	assert_int_equal(get("u8_lo")->raw, 7);
	assert_int_equal(get("i8_hi")->raw, -100);
	assert_true(fabs(get("i16")->num - -2.9) < 1e-12);
	assert_int_equal(get("i16")->decimals, 1);
	assert_true(get("temp")->num == 25);
	assert_int_equal(get("temp")->status, BLT_VS_OK);
	assert_int_equal(get("temp_na")->status, BLT_VS_NOT_REPORTED);
	assert_true(fabs(get("tiny")->num - 0.00007) < 1e-15);
	assert_int_equal(get("tiny")->decimals, 5);
	assert_true(get("vpack")->num == 53.13);
	assert_int_equal(get("vpack")->decimals, 2);
	blt_decode_opts_t o = {.pack_voltage_scale = 0.1};
	assert_int_equal(blt_decode(&t_block, t_payload, sizeof t_payload, &o, &res, NULL), BLT_OK);
	assert_true(get("vpack")->num == 531.3);
	assert_int_equal(get("vpack")->decimals, 1);
	double x = 0;
	assert_true(blt_decoded_num(&res, "vpack", &x));
	assert_true(x == 531.3);
	assert_false(blt_decoded_num(&res, "temp_na", &x));
	assert_false(blt_decoded_num(&res, "nope", &x));
	assert_null(blt_decoded_get(&res, "nope"));
}

/* ---- gating, missing, required ------------------------------------------------------ */

static const blt_field_t g_rows[] = {
    {.name = "a", .offset = 0, .type = BLT_T_U16, .flags = BLT_F_REQUIRED},
    {.name = "b", .offset = 2, .type = BLT_T_U16, .min_pv = 2001},
    {.name = "c", .offset = 4, .type = BLT_T_U32},
    {.name = "d", .offset = 8, .type = BLT_T_U16, .flags = BLT_F_REQUIRED},
    {.name = "e", .offset = 10, .type = BLT_T_U16, .min_pv = 2001, .flags = BLT_F_REQUIRED},
};
BLOCK(g_block, g_rows);

static void test_gating(void **state)
{
	uint8_t p[12] = {0, 1, 0, 2, 0, 3, 0, 0, 0, 4, 0, 5};
	blt_decode_opts_t o = {.protocol_version = 2000};
	(void)state;
	assert_int_equal(blt_decode(&g_block, p, sizeof p, &o, &res, NULL), BLT_OK);
	assert_int_equal(get("b")->status, BLT_VS_GATED);
	assert_int_equal(get("e")->status, BLT_VS_GATED);
	assert_int_equal(get("a")->status, BLT_VS_OK);
	o.protocol_version = 2001;
	assert_int_equal(blt_decode(&g_block, p, sizeof p, &o, &res, NULL), BLT_OK);
	assert_int_equal(get("b")->status, BLT_VS_OK);
	assert_int_equal(get("b")->raw, 2);
	o.protocol_version = 0; /* unknown: never gated */
	assert_int_equal(blt_decode(&g_block, p, sizeof p, &o, &res, NULL), BLT_OK);
	assert_int_equal(get("b")->status, BLT_VS_OK);
	/* a gated required row that is also beyond the payload is not an error */
	o.protocol_version = 2000;
	assert_int_equal(blt_decode(&g_block, p, 10, &o, &res, NULL), BLT_OK);
}

static void test_missing_required(void **state)
{
	uint8_t p[12] = {0, 1, 0, 2, 0, 3, 0, 0, 0, 4, 0, 5};
	blt_detail_t d = {{0}};
	(void)state;
	/* c (4..7) partly beyond a 6-byte payload: missing, not required */
	assert_int_equal(blt_decode(&g_block, p, 6, NULL, &res, &d), BLT_E_MISSING);
	assert_int_equal(get("a")->status, BLT_VS_OK);
	assert_int_equal(get("b")->status, BLT_VS_OK);
	assert_int_equal(get("c")->status, BLT_VS_MISSING);
	assert_int_equal(get("d")->status, BLT_VS_MISSING);
	assert_int_equal(res.missing, 3);
	assert_int_equal(res.count, 5);
	assert_non_null(strstr(d.text, "'d'"));
	assert_non_null(strstr(d.text, "8..9"));
	assert_non_null(strstr(d.text, "6 bytes"));
	/* empty payload, NULL pointer allowed with n = 0 */
	assert_int_equal(blt_decode(&g_block, NULL, 0, NULL, &res, &d), BLT_E_MISSING);
	assert_non_null(strstr(d.text, "'a'"));
	assert_int_equal(res.missing, 5);
	assert_int_equal(blt_decode(NULL, p, 2, NULL, &res, NULL), BLT_E_INVAL);
	assert_int_equal(blt_decode(&g_block, p, 2, NULL, NULL, NULL), BLT_E_INVAL);
	assert_int_equal(blt_decode(&g_block, NULL, 2, NULL, &res, NULL), BLT_E_INVAL);
}

/* ---- repeats -------------------------------------------------------------------------- */

static const blt_repeat_t r_ph = {.count_field = "n", .max = 3, .stride = 4};
static const blt_field_t r_rows[] = {
    {.name = "n", .offset = 1, .type = BLT_T_U8, .flags = BLT_F_COUNT},
    {.name = "ph_%u_a", .offset = 2, .type = BLT_T_U16, .repeat = &r_ph},
    {.name = "ph_%u_b", .offset = 4, .type = BLT_T_I16, .scale = 0.1, .repeat = &r_ph},
    {.name = "tail", .offset = 14, .type = BLT_T_U16},
};
BLOCK(r_block, r_rows);

static void test_repeat_records(void **state)
{
	uint8_t p[16] = {0, 2, 0, 10, 0xff, 0xff, 0, 20, 0, 5, 0, 30, 0, 6, 0, 99};
	(void)state;
	assert_int_equal(blt_decode(&r_block, p, sizeof p, NULL, &res, NULL), BLT_OK);
	assert_int_equal(res.count, 1 + 2 * 2 + 1);
	assert_string_equal(res.values[1].name, "ph_0_a");
	assert_string_equal(res.values[2].name, "ph_0_b");
	assert_string_equal(res.values[3].name, "ph_1_a");
	assert_string_equal(res.values[4].name, "ph_1_b");
	assert_int_equal(res.values[3].index, 1);
	assert_int_equal(get("ph_0_a")->raw, 10);
	assert_true(fabs(get("ph_0_b")->num - -0.1) < 1e-12);
	assert_int_equal(get("ph_1_a")->raw, 20);
	assert_true(fabs(get("ph_1_b")->num - 0.5) < 1e-12);
	assert_int_equal(get("tail")->raw, 99);
	/* count capped at max: 200 -> 3 records */
	p[1] = 200;
	assert_int_equal(blt_decode(&r_block, p, sizeof p, NULL, &res, NULL), BLT_OK);
	assert_int_equal(res.count, 1 + 3 * 2 + 1);
	assert_int_equal(get("ph_2_a")->raw, 30);
	/* record 2's b (12..13) present; with 13 bytes it is missing, a is present */
	assert_int_equal(blt_decode(&r_block, p, 13, NULL, &res, NULL), BLT_OK);
	assert_int_equal(get("ph_2_a")->status, BLT_VS_OK);
	assert_int_equal(get("ph_2_b")->status, BLT_VS_MISSING);
	assert_int_equal(get("tail")->status, BLT_VS_MISSING);
	assert_int_equal(res.missing, 2);
	/* count 0: no records */
	p[1] = 0;
	assert_int_equal(blt_decode(&r_block, p, sizeof p, NULL, &res, NULL), BLT_OK);
	assert_int_equal(res.count, 2);
	/* count row itself missing: no records, the count row is listed as missing */
	p[1] = 2;
	assert_int_equal(blt_decode(&r_block, p, 1, NULL, &res, NULL), BLT_OK);
	assert_int_equal(res.count, 2);
	assert_int_equal(get("n")->status, BLT_VS_MISSING);
	assert_null(blt_decoded_get(&res, "ph_0_a"));
}

/* 6300-like: cells then NTC bytes after them, low byte first. */
static const blt_repeat_t c_cells = {.count_field = "cells", .max = 8, .stride = 2};
static const blt_repeat_t c_temps = {.count_field = "ntc",
                                     .max = 4,
                                     .stride = 1,
                                     .base_field = "cells",
                                     .base_mul = 2,
                                     .base_add = 4};
static const blt_field_t c_rows[] = {
    {.name = "cells", .offset = 0, .type = BLT_T_U16, .flags = BLT_F_COUNT | BLT_F_REQUIRED},
    {.name = "ntc", .offset = 2, .type = BLT_T_U16, .flags = BLT_F_COUNT},
    {.name = "cell_%u_v",
     .offset = 4,
     .type = BLT_T_U16,
     .mask = 0x3fff,
     .scale = 0.001,
     .repeat = &c_cells},
    {.name = "cell_%u_s",
     .offset = 4,
     .type = BLT_T_U16,
     .mask = 0xc000,
     .shift = 14,
     .repeat = &c_cells},
    {.name = "t_%u",
     .offset = 0,
     .type = BLT_T_U8,
     .add = -40,
     .flags = BLT_F_ZERO_NA | BLT_F_SWAP_INDEX,
     .repeat = &c_temps},
};
BLOCK(c_block, c_rows);

static void test_dynamic_base(void **state)
{
	/* 2 cells, 3 NTC: temps at 8.. : reg 8 = (t1, t0), reg 10 = (0, t2) */
	uint8_t p[] = {0, 2, 0, 3, 0xcc, 0xfd, 0x0c, 0xf9, 0x46, 0x45, 0x00, 0x50};
	(void)state;
	assert_int_equal(blt_decode(&c_block, p, sizeof p, NULL, &res, NULL), BLT_OK);
	assert_true(get("cell_0_v")->num == 3.325);
	assert_int_equal(get("cell_0_s")->raw, 3);
	assert_true(get("cell_1_v")->num == 3.321);
	assert_int_equal(get("cell_1_s")->raw, 0);
	assert_true(get("t_0")->num == 29); /* 0x45, the low byte */
	assert_true(get("t_1")->num == 30); /* 0x46 */
	assert_true(get("t_2")->num == 40); /* 0x50 at 11 = low byte of reg 10 */
	assert_int_equal(res.count, 2 + 4 + 3);
	/* 3 cells: the temps move 2 bytes on (base 10): t_0 = byte 11, t_1 = byte 10 (0),
	 * t_2 = byte 13, beyond the payload */
	p[1] = 3;
	assert_int_equal(blt_decode(&c_block, p, sizeof p, NULL, &res, NULL), BLT_OK);
	assert_true(get("cell_2_v")->num == 1.605); /* 0x4645 & 0x3fff */
	assert_int_equal(get("cell_2_s")->raw, 1);
	assert_true(get("t_0")->num == 40);
	assert_int_equal(get("t_1")->status, BLT_VS_NOT_REPORTED);
	assert_int_equal(get("t_2")->status, BLT_VS_MISSING);
	/* huge cell count: capped records, temps far beyond: missing, no crash */
	p[0] = 0xff;
	p[1] = 0xff;
	assert_int_equal(blt_decode(&c_block, p, sizeof p, NULL, &res, NULL), BLT_OK);
	assert_int_equal(get("cell_7_v")->status, BLT_VS_MISSING);
	assert_int_equal(get("t_2")->status, BLT_VS_MISSING);
}

/* ---- enums, secrets, strings, serials ----------------------------------------------- */

static const blt_enum_entry_t e_names[] = {{0, "standby"}, {2, "discharging"}, {0, NULL}};
static const blt_bit_name_t b_names[] = {
    {0, "power"}, {1, "ac_output"}, {3, "inverter"}, {0, NULL}};
static const blt_field_t s_rows[] = {
    {.name = "status", .offset = 1, .type = BLT_T_U8, .enums = e_names},
    {.name = "neg", .offset = 0, .type = BLT_T_I8, .enums = e_names},
    {.name = "ctrl", .offset = 2, .type = BLT_T_U16, .flags = BLT_F_BITMAP, .bits = b_names},
    {.name = "pw", .offset = 4, .type = BLT_T_STR, .size = 4, .flags = BLT_F_SECRET},
    {.name = "model", .offset = 8, .type = BLT_T_STR_SWAP, .size = 12},
    {.name = "sn", .offset = 20, .type = BLT_T_SN64},
    {.name = "raw", .offset = 28, .type = BLT_T_STR, .size = 7},
};
BLOCK(s_block, s_rows);

static void test_enum_secret_strings(void **state)
{
	uint8_t p[36] = {0xfb, 2, 0x00, 0x0b, 'a', 'b', 'c', 'd',
	                 /* "EL100V2" byte-swapped, NUL padded */
	                 'L', 'E', '0', '1', 'V', '0', 0, '2', 0, 0, 0, 0,
	                 /* SN = 0xffff... */
	                 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	                 /* garbage: quote, backslash, 0x01, NUL inside, 0xff */
	                 '"', '\\', 0x01, 0, 0xff, 'z', 0};
	blt_decode_opts_t o = {.show_secrets = true};
	(void)state;
	assert_int_equal(blt_decode(&s_block, p, sizeof p, NULL, &res, NULL), BLT_OK);
	assert_string_equal(get("status")->str, "discharging");
	assert_int_equal(get("status")->raw, 2);
	assert_string_equal(get("neg")->str, "unknown_-5");
	assert_int_equal(get("ctrl")->raw, 0x0b);
	assert_int_equal(get("pw")->status, BLT_VS_HIDDEN);
	assert_string_equal(get("pw")->str, "***");
	assert_string_equal(get("model")->str, "EL100V2");
	assert_string_equal(get("sn")->str, "18446744073709551615");
	assert_string_equal(get("raw")->str, "\"\\??\?z");
	p[1] = 9;
	assert_int_equal(blt_decode(&s_block, p, sizeof p, &o, &res, NULL), BLT_OK);
	assert_string_equal(get("status")->str, "unknown_9");
	assert_int_equal(get("pw")->status, BLT_VS_OK);
	assert_string_equal(get("pw")->str, "abcd");
}

/* ---- value cap ----------------------------------------------------------------------- */

static const blt_repeat_t big = {.count_field = "n", .max = 255, .stride = 0};
static const blt_field_t big_rows[] = {
    {.name = "n", .offset = 1, .type = BLT_T_U8, .flags = BLT_F_COUNT},
    {.name = "x_%u", .offset = 0, .type = BLT_T_U8, .repeat = &big},
    {.name = "y_%u", .offset = 0, .type = BLT_T_U8, .repeat = &big},
};
BLOCK(big_block, big_rows);

static void test_value_cap(void **state)
{
	uint8_t p[2] = {1, 200};
	blt_detail_t d;
	(void)state;
	assert_int_equal(blt_decode(&big_block, p, 2, NULL, &res, &d), BLT_E_BUFSIZE);
	assert_int_equal(res.count, BLT_MAX_VALUES);
	assert_non_null(strstr(d.text, "256"));
	p[1] = 100;
	assert_int_equal(blt_decode(&big_block, p, 2, NULL, &res, &d), BLT_OK);
	assert_int_equal(res.count, 201);
	assert_string_equal(res.values[200].name, "y_99");
}

/* ---- encoder --------------------------------------------------------------------------- */

static void test_encode(void **state)
{
	uint8_t buf[40];
	(void)state;
	memset(buf, 0, sizeof buf);
	/* masked rows are read-modify-write: voltage and status share a register */
	const blt_field_t *cv = &c_rows[2], *cs = &c_rows[3], *tt = &c_rows[4];
	assert_int_equal(blt_encode_num(&c_block, &c_rows[0], 0, 2, NULL, buf, sizeof buf), BLT_OK);
	assert_int_equal(blt_encode_num(&c_block, &c_rows[1], 0, 3, NULL, buf, sizeof buf), BLT_OK);
	assert_int_equal(blt_encode_num(&c_block, cv, 1, 3.321, NULL, buf, sizeof buf), BLT_OK);
	assert_int_equal(blt_encode_num(&c_block, cs, 1, 2, NULL, buf, sizeof buf), BLT_OK);
	assert_int_equal(buf[6], 0x8c);
	assert_int_equal(buf[7], 0xf9);
	assert_int_equal(blt_encode_num(&c_block, cv, 1, 16.384, NULL, buf, sizeof buf),
	                 BLT_E_RANGE);
	assert_int_equal(blt_encode_num(&c_block, cs, 1, 4, NULL, buf, sizeof buf), BLT_E_RANGE);
	assert_int_equal(blt_encode_num(&c_block, cv, 8, 3.3, NULL, buf, sizeof buf), BLT_E_RANGE);
	/* temps sit after the 2 cells, low byte first */
	assert_int_equal(blt_encode_num(&c_block, tt, 0, 29, NULL, buf, sizeof buf), BLT_OK);
	assert_int_equal(buf[9], 0x45);
	assert_int_equal(blt_encode_num(&c_block, tt, 2, 30, NULL, buf, sizeof buf), BLT_OK);
	assert_int_equal(buf[11], 0x46);
	assert_int_equal(blt_encode_num(&c_block, tt, 0, 300, NULL, buf, sizeof buf), BLT_E_RANGE);
	assert_int_equal(blt_encode_num(&c_block, tt, 0, 29, NULL, buf, 9), BLT_E_BUFSIZE);
	assert_int_equal(blt_decode(&c_block, buf, 12, NULL, &res, NULL), BLT_OK);
	assert_true(get("cell_1_v")->num == 3.321);
	assert_int_equal(get("cell_1_s")->raw, 2);
	assert_true(get("t_0")->num == 29);
	assert_true(get("t_2")->num == 30);

	/* transforms inverted; signed ranges */
	memset(buf, 0, sizeof buf);
	assert_int_equal(blt_encode_num(&t_block, &t_rows[9], 0, -2.9, NULL, buf, sizeof buf),
	                 BLT_OK);
	assert_int_equal(buf[8], 0xff);
	assert_int_equal(buf[9], 0xe3);
	assert_int_equal(blt_encode_num(&t_block, &t_rows[9], 0, -3276.9, NULL, buf, sizeof buf),
	                 BLT_E_RANGE);
	assert_int_equal(blt_encode_num(&t_block, &t_rows[9], 0, NAN, NULL, buf, sizeof buf),
	                 BLT_E_RANGE);
	assert_int_equal(blt_encode_num(&t_block, &t_rows[3], 0, 0x8000fffe, NULL, buf, sizeof buf),
	                 BLT_OK);
	assert_memory_equal(buf + 2, "\xff\xfe\x80\x00", 4);
	assert_int_equal(
	    blt_encode_num(&t_block, &t_rows[3], 0, 4294967296.0, NULL, buf, sizeof buf),
	    BLT_E_RANGE);
	assert_int_equal(blt_encode_num(&t_block, &t_rows[3], 0, -1, NULL, buf, sizeof buf),
	                 BLT_E_RANGE);
	assert_int_equal(blt_encode_num(&t_block, &t_rows[3], 1, 1, NULL, buf, sizeof buf),
	                 BLT_E_RANGE); /* plain row, idx != 0 */
	/* clamp rows refuse values outside the clamp */
	assert_int_equal(blt_encode_num(&t_block, &t_rows[0], 0, 5, NULL, buf, sizeof buf),
	                 BLT_E_RANGE);
	/* pack voltage with the profile scale */
	blt_decode_opts_t o = {.pack_voltage_scale = 0.1};
	assert_int_equal(blt_encode_num(&t_block, &t_rows[13], 0, 53.1, &o, buf, sizeof buf),
	                 BLT_OK);
	assert_int_equal(buf[16] << 8 | buf[17], 531);

	/* strings, serials, enums by name */
	memset(buf, 0, sizeof buf);
	assert_int_equal(blt_encode_str(&s_block, &s_rows[4], 0, "EL100V2", buf, sizeof buf),
	                 BLT_OK);
	assert_memory_equal(buf + 8, "LE01V0\0002\0\0\0\0", 12);
	assert_int_equal(blt_encode_str(&s_block, &s_rows[4], 0, "ABCDEFGHIJKLM", buf, sizeof buf),
	                 BLT_E_RANGE);
	assert_int_equal(blt_encode_str(&s_block, &s_rows[5], 0, "2616113487436", buf, sizeof buf),
	                 BLT_OK);
	assert_memory_equal(buf + 20, "\xde\x4c\x1c\x83\x02\x61\x00\x00", 8);
	assert_int_equal(
	    blt_encode_str(&s_block, &s_rows[5], 0, "18446744073709551616", buf, sizeof buf),
	    BLT_E_RANGE);
	assert_int_equal(blt_encode_str(&s_block, &s_rows[5], 0, "12a", buf, sizeof buf),
	                 BLT_E_INVAL);
	assert_int_equal(blt_encode_str(&s_block, &s_rows[5], 0, "", buf, sizeof buf), BLT_E_INVAL);
	assert_int_equal(blt_encode_num(&s_block, &s_rows[5], 0, 1, NULL, buf, sizeof buf),
	                 BLT_E_INVAL);
	assert_int_equal(blt_encode_str(&s_block, &s_rows[0], 0, "discharging", buf, sizeof buf),
	                 BLT_OK);
	assert_int_equal(buf[1], 2);
	assert_int_equal(blt_encode_str(&s_block, &s_rows[0], 0, "17", buf, sizeof buf), BLT_OK);
	assert_int_equal(buf[1], 17);
	assert_int_equal(blt_encode_str(&s_block, &s_rows[0], 0, "bogus", buf, sizeof buf),
	                 BLT_E_INVAL);
	assert_int_equal(blt_encode_str(&s_block, &s_rows[0], 0, NULL, buf, sizeof buf),
	                 BLT_E_INVAL);
}

static void test_types(void **state)
{
	(void)state;
	assert_int_equal(blt_type_size(BLT_T_U8), 1);
	assert_int_equal(blt_type_size(BLT_T_I16), 2);
	assert_int_equal(blt_type_size(BLT_T_U32), 4);
	assert_int_equal(blt_type_size(BLT_T_SN64), 8);
	assert_int_equal(blt_type_size(BLT_T_STR), 0);
	assert_int_equal(blt_type_size(BLT_T__COUNT), 0);
	assert_string_equal(blt_type_name(BLT_T_STR_SWAP), "str_swap");
	assert_string_equal(blt_type_name(BLT_T_I32_BE), "i32_be");
	assert_string_equal(blt_prov_name(BLT_PROV_LIVE), "live");
	assert_string_equal(blt_prov_name(BLT_PROV_FW), "firmware");
	assert_string_equal(blt_prov_name(BLT_PROV_APP), "app");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_transform_order),
	    cmocka_unit_test(test_gating),
	    cmocka_unit_test(test_missing_required),
	    cmocka_unit_test(test_repeat_records),
	    cmocka_unit_test(test_dynamic_base),
	    cmocka_unit_test(test_enum_secret_strings),
	    cmocka_unit_test(test_value_cap),
	    cmocka_unit_test(test_encode),
	    cmocka_unit_test(test_types),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
