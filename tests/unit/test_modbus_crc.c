/* CRC-16/MODBUS: check value, table against a bitwise reference, spec example frames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <bluetti/bluetti.h>

#include "unit/testdata.h"

/* Bitwise CRC-16/MODBUS, the textbook algorithm: the table version must agree with it. */
static uint16_t crc_bitwise(const uint8_t *p, size_t n)
{
	uint16_t crc = 0xFFFF;
	for (size_t i = 0; i < n; i++) {
		crc ^= p[i];
		for (int b = 0; b < 8; b++)
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0xA001) : (uint16_t)(crc >> 1);
	}
	return crc;
}

static void test_check_value(void **state)
{
	(void)state;
	assert_int_equal(blt_crc16((const uint8_t *)"123456789", 9), 0x4B37);
}

static void test_empty(void **state)
{
	(void)state;
	assert_int_equal(blt_crc16((const uint8_t *)"", 0), 0xFFFF);
	assert_int_equal(blt_crc16(NULL, 0), 0xFFFF);
}

static void test_single_bytes_match_bitwise(void **state)
{
	(void)state;
	/* Covers every table entry: CRC of one byte b uses entry (0xFF ^ b). */
	for (int b = 0; b < 256; b++) {
		uint8_t x = (uint8_t)b;
		assert_int_equal(blt_crc16(&x, 1), crc_bitwise(&x, 1));
	}
}

static void test_pseudo_random_buffers(void **state)
{
	uint8_t buf[300] = {0}; /* round 0 reads none; gcc 12 for aarch64 cannot tell */
	uint32_t s = 0x12345678;
	(void)state;
	for (int round = 0; round < 200; round++) {
		size_t n = (size_t)round % sizeof buf;
		for (size_t i = 0; i < n; i++) {
			s = s * 1103515245u + 12345u;
			buf[i] = (uint8_t)(s >> 16);
		}
		assert_int_equal(blt_crc16(buf, n), crc_bitwise(buf, n));
	}
}

/* A frame with its CRC appended (low byte first) has CRC 0 over the whole: residue. */
static void test_residue_zero(void **state)
{
	uint8_t f[8];
	(void)state;
	test_hex("01 03 00 64 00 42 84 24", f, sizeof f);
	assert_int_equal(blt_crc16(f, 8), 0x0000);
}

static void test_spec_frames(void **state)
{
	/* §1.2 (both addresses), §1.4, §1.5, §1.6: the last two bytes are the CRC of the rest,
	 * low byte first. */
	static const char *frames[] = {
	    "01 03 00 64 00 42 84 24",
	    "00 03 00 64 00 42 85 f5",
	    "01 03 04 4c 00 37 c4 fb",
	    "00 03 04 4c 00 37 c5 2a",
	    "01 03 05 14 00 10 04 ce",
	    "00 03 05 14 00 10 05 1f",
	    "01 03 05 78 00 22 45 06",
	    "00 03 05 78 00 22 44 d7",
	    "01 03 05 dc 00 0f c4 f8",
	    "00 03 05 dc 00 0f c5 29",
	    "01 03 17 70 00 20 40 7d",
	    "00 03 17 70 00 20 41 ac",
	    "01 03 17 d4 00 50 00 7a",
	    "00 03 17 d4 00 50 01 ab",
	    "01 03 07 d0 00 12 c5 4a",
	    "00 03 07 d0 00 12 c4 9b",
	    "01 03 08 98 00 0e 47 81",
	    "00 03 08 98 00 0e 46 50",
	    "01 83 02 c0 f1",
	    "01 86 02 c3 a1",
	    "01 06 07 db 00 01 39 45",
	    "01 06 07 db 00 00 f8 85",
	    "01 06 07 dc 00 01 88 84",
	    "00 06 07 db 00 01 38 94",
	    "01 10 07 db 00 02 04 00 01 00 01 09 70",
	    "01 10 07 db 00 02 30 87",
	    "00 10 52 08 00 01 02 00 01 18 8d",
	};
	(void)state;
	for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
		uint8_t f[32];
		size_t n = test_hex(frames[i], f, sizeof f);
		uint16_t crc = blt_crc16(f, n - 2);
		assert_int_equal(f[n - 2], crc & 0xFF);
		assert_int_equal(f[n - 1], crc >> 8);
	}
}

static void test_one_bit_flip_detected(void **state)
{
	uint8_t f[8];
	(void)state;
	test_hex("01 03 00 64 00 42 84 24", f, sizeof f);
	for (int i = 0; i < 6 * 8; i++) {
		f[i / 8] ^= (uint8_t)(1u << (i % 8));
		assert_int_not_equal(blt_crc16(f, 6), 0x2484);
		f[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	assert_int_equal(blt_crc16(f, 6), 0x2484);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_check_value),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_single_bytes_match_bitwise),
	    cmocka_unit_test(test_pseudo_random_buffers),
	    cmocka_unit_test(test_residue_zero),
	    cmocka_unit_test(test_spec_frames),
	    cmocka_unit_test(test_one_bit_flip_detected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
