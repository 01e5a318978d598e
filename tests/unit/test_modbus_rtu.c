/* Modbus-RTU builders, parser and matcher (PROTOCOL.md §1.2-§1.8). */
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

/* Append CRC (low byte first) to f[0..n); returns n + 2. */
static size_t with_crc(uint8_t *f, size_t n)
{
	uint16_t crc = blt_crc16(f, n);
	f[n] = (uint8_t)(crc & 0xFF);
	f[n + 1] = (uint8_t)(crc >> 8);
	return n + 2;
}

static void assert_frame(const uint8_t *got, size_t n, const char *want_hex)
{
	uint8_t want[300];
	size_t wn = test_hex(want_hex, want, sizeof want);
	if (n != wn || memcmp(got, want, n) != 0) {
		char g[700];
		blt_hex_encode(got, n, g, sizeof g);
		fail_msg("frame %s, want %s", g, want_hex);
	}
}

static void assert_detail_has(const blt_detail_t *d, const char *needle)
{
	if (!strstr(d->text, needle))
		fail_msg("detail \"%s\" lacks \"%s\"", d->text, needle);
}

/* --- builders, byte-exact against the spec ------------------------------------------- */

static void test_build_read_table(void **state)
{
	static const struct {
		uint16_t start, count;
		const char *a1, *a0;
	} t[] = {
	    {100, 66, "01 03 00 64 00 42 84 24", "00 03 00 64 00 42 85 f5"},
	    {1100, 55, "01 03 04 4c 00 37 c4 fb", "00 03 04 4c 00 37 c5 2a"},
	    {1300, 16, "01 03 05 14 00 10 04 ce", "00 03 05 14 00 10 05 1f"},
	    {1400, 34, "01 03 05 78 00 22 45 06", "00 03 05 78 00 22 44 d7"},
	    {1500, 15, "01 03 05 dc 00 0f c4 f8", "00 03 05 dc 00 0f c5 29"},
	    {6000, 32, "01 03 17 70 00 20 40 7d", "00 03 17 70 00 20 41 ac"},
	    {6100, 80, "01 03 17 d4 00 50 00 7a", "00 03 17 d4 00 50 01 ab"},
	    {2000, 18, "01 03 07 d0 00 12 c5 4a", "00 03 07 d0 00 12 c4 9b"},
	    {2200, 14, "01 03 08 98 00 0e 47 81", "00 03 08 98 00 0e 46 50"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		uint8_t f[16];
		size_t n = 0;
		assert_int_equal(blt_rtu_build_read(1, t[i].start, t[i].count, f, sizeof f, &n),
		                 BLT_OK);
		assert_frame(f, n, t[i].a1);
		assert_int_equal(blt_rtu_build_read(0, t[i].start, t[i].count, f, sizeof f, &n),
		                 BLT_OK);
		assert_frame(f, n, t[i].a0);
	}
}

static void test_build_exception_frames(void **state)
{
	uint8_t f[8];
	size_t n = 0;
	(void)state;
	assert_int_equal(blt_rtu_build_exception(1, 0x03, 2, f, sizeof f, &n), BLT_OK);
	assert_frame(f, n, "01 83 02 c0 f1");
	assert_int_equal(blt_rtu_build_exception(1, 0x06, 2, f, sizeof f, &n), BLT_OK);
	assert_frame(f, n, "01 86 02 c3 a1");
	/* Function given with bit 7 already set gives the same frame. */
	assert_int_equal(blt_rtu_build_exception(1, 0x86, 2, f, sizeof f, &n), BLT_OK);
	assert_frame(f, n, "01 86 02 c3 a1");
	assert_int_equal(blt_rtu_build_exception(1, 0x03, 0, f, sizeof f, &n), BLT_E_RANGE);
	assert_int_equal(blt_rtu_build_exception(1, 0x03, 2, f, 4, &n), BLT_E_BUFSIZE);
}

static void test_build_write1_frames(void **state)
{
	uint8_t f[8];
	size_t n = 0;
	(void)state;
	assert_int_equal(blt_rtu_build_write1(1, 2011, 1, f, sizeof f, &n), BLT_OK);
	assert_frame(f, n, "01 06 07 db 00 01 39 45");
	assert_int_equal(blt_rtu_build_write1(1, 2011, 0, f, sizeof f, &n), BLT_OK);
	assert_frame(f, n, "01 06 07 db 00 00 f8 85");
	assert_int_equal(blt_rtu_build_write1(1, 2012, 1, f, sizeof f, &n), BLT_OK);
	assert_frame(f, n, "01 06 07 dc 00 01 88 84");
	assert_int_equal(blt_rtu_build_write1(0, 2011, 1, f, sizeof f, &n), BLT_OK);
	assert_frame(f, n, "00 06 07 db 00 01 38 94");
	assert_int_equal(blt_rtu_build_write1(0, 2011, 1, f, 7, &n), BLT_E_BUFSIZE);
}

static void test_build_writen_frames(void **state)
{
	uint8_t f[BLT_RTU_MAX];
	uint16_t v[BLT_MAX_WRITE_REGS + 1];
	size_t n = 0;
	(void)state;
	v[0] = 1;
	v[1] = 1;
	assert_int_equal(blt_rtu_build_writen(1, 2011, v, 2, f, sizeof f, &n), BLT_OK);
	assert_frame(f, n, "01 10 07 db 00 02 04 00 01 00 01 09 70");
	assert_int_equal(blt_rtu_build_writen_reply(1, 2011, 2, f, sizeof f, &n), BLT_OK);
	assert_frame(f, n, "01 10 07 db 00 02 30 87");
	/* NODE_INFO query, slave 0. */
	assert_int_equal(blt_rtu_build_writen(0, 21000, v, 1, f, sizeof f, &n), BLT_OK);
	assert_frame(f, n, "00 10 52 08 00 01 02 00 01 18 8d");

	/* Limits: 1..123; 123 registers make the largest frame, 255 bytes. */
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		v[i] = (uint16_t)(0x0101 * i);
	assert_int_equal(blt_rtu_build_writen(1, 0, v, 0, f, sizeof f, &n), BLT_E_RANGE);
	assert_int_equal(blt_rtu_build_writen(1, 0, v, 124, f, sizeof f, &n), BLT_E_RANGE);
	assert_int_equal(blt_rtu_build_writen(1, 0, v, 123, f, sizeof f, &n), BLT_OK);
	assert_int_equal(n, 255);
	assert_int_equal(f[6], 246);
	assert_int_equal(blt_rtu_build_writen(1, 0, v, 123, f, 254, &n), BLT_E_BUFSIZE);
	assert_int_equal(blt_rtu_build_writen(1, 0, NULL, 2, f, sizeof f, &n), BLT_E_INVAL);
	assert_int_equal(blt_rtu_build_writen_reply(1, 0, 0, f, sizeof f, &n), BLT_E_RANGE);
	assert_int_equal(blt_rtu_build_writen_reply(1, 0, 124, f, sizeof f, &n), BLT_E_RANGE);
}

static void test_build_read_limits(void **state)
{
	uint8_t f[8];
	size_t n = 99;
	(void)state;
	assert_int_equal(blt_rtu_build_read(1, 100, 0, f, sizeof f, &n), BLT_E_RANGE);
	assert_int_equal(blt_rtu_build_read(1, 100, 126, f, sizeof f, &n), BLT_E_RANGE);
	assert_int_equal(n, 99); /* untouched on error */
	assert_int_equal(blt_rtu_build_read(1, 100, 125, f, sizeof f, &n), BLT_OK);
	assert_int_equal(n, 8);
	assert_int_equal(blt_rtu_build_read(1, 100, 1, f, 7, &n), BLT_E_BUFSIZE);
	assert_int_equal(blt_rtu_build_read(1, 100, 1, NULL, 8, &n), BLT_E_INVAL);
	assert_int_equal(blt_rtu_build_read(1, 100, 1, f, 8, NULL), BLT_E_INVAL);
}

static void test_build_read_reply(void **state)
{
	uint8_t data[252], f[BLT_RTU_MAX];
	size_t n = 0;
	(void)state;
	/* The AP300 block-100 capture (§7.1): register data -> CRC 06 9f. */
	size_t dn = test_data_hex("payloads/ap300_block100.hex", data, sizeof data);
	memset(data + dn, 0, 124 - dn);
	assert_int_equal(blt_rtu_build_read_reply(0, data, 124, f, sizeof f, &n), BLT_OK);
	assert_int_equal(n, 129);
	assert_int_equal(f[0], 0x00);
	assert_int_equal(f[1], 0x03);
	assert_int_equal(f[2], 0x7c);
	assert_memory_equal(f + 3, data, 124);
	assert_int_equal(f[127], 0x06);
	assert_int_equal(f[128], 0x9f);

	memset(data, 0xA5, sizeof data);
	assert_int_equal(blt_rtu_build_read_reply(1, data, 250, f, sizeof f, &n), BLT_OK);
	assert_int_equal(n, 255);
	assert_int_equal(blt_rtu_build_read_reply(1, data, 252, f, sizeof f, &n), BLT_E_RANGE);
	assert_int_equal(blt_rtu_build_read_reply(1, data, 0, f, sizeof f, &n), BLT_E_RANGE);
	assert_int_equal(blt_rtu_build_read_reply(1, data, 3, f, sizeof f, &n), BLT_E_INVAL);
	assert_int_equal(blt_rtu_build_read_reply(1, NULL, 4, f, sizeof f, &n), BLT_E_INVAL);
	assert_int_equal(blt_rtu_build_read_reply(1, data, 4, f, 8, &n), BLT_E_BUFSIZE);

	/* In place: data already where the frame body goes. */
	for (int i = 0; i < 8; i++)
		f[3 + i] = (uint8_t)i;
	assert_int_equal(blt_rtu_build_read_reply(7, f + 3, 8, f, sizeof f, &n), BLT_OK);
	assert_frame(f, 3, "07 03 08");
	for (int i = 0; i < 8; i++)
		assert_int_equal(f[3 + i], i);
	assert_int_equal(blt_crc16(f, n), 0);
}

/* --- parse: every kind and direction ------------------------------------------------ */

static void test_parse_read_request(void **state)
{
	uint8_t f[8];
	blt_rtu_t r;
	blt_detail_t d;
	(void)state;
	test_hex("00 03 17 70 00 20 41 ac", f, sizeof f);
	assert_int_equal(blt_rtu_parse(f, 8, BLT_RTU_REQUEST, &r, &d), BLT_OK);
	assert_int_equal(r.slave, 0);
	assert_int_equal(r.function, BLT_FC_READ);
	assert_int_equal(r.reg, 6000);
	assert_int_equal(r.count, 32);
	assert_int_equal(r.exception, 0);
	assert_null(r.data);
}

static void test_parse_read_reply(void **state)
{
	uint8_t data[250], f[BLT_RTU_MAX];
	size_t n = 0;
	blt_rtu_t r;
	(void)state;
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 7 + 3);
	for (size_t nb = 2; nb <= 250; nb += 2) {
		assert_int_equal(blt_rtu_build_read_reply(5, data, nb, f, sizeof f, &n), BLT_OK);
		assert_int_equal(blt_rtu_parse(f, n, BLT_RTU_REPLY, &r, NULL), BLT_OK);
		assert_int_equal(r.slave, 5);
		assert_int_equal(r.function, BLT_FC_READ);
		assert_int_equal(r.nbytes, nb);
		assert_int_equal(r.count, nb / 2);
		assert_ptr_equal(r.data, f + 3);
		assert_memory_equal(r.data, data, nb);
	}
}

static void test_parse_write1_both_ways(void **state)
{
	uint8_t f[8];
	size_t n = 0;
	blt_rtu_t r;
	(void)state;
	assert_int_equal(blt_rtu_build_write1(0, 2011, 0xBEEF, f, sizeof f, &n), BLT_OK);
	for (int dir = BLT_RTU_REQUEST; dir <= BLT_RTU_REPLY; dir++) {
		assert_int_equal(blt_rtu_parse(f, n, (blt_rtu_dir_t)dir, &r, NULL), BLT_OK);
		assert_int_equal(r.function, BLT_FC_WRITE1);
		assert_int_equal(r.reg, 2011);
		assert_int_equal(r.value, 0xBEEF);
	}
}

static void test_parse_writen_request(void **state)
{
	uint8_t f[BLT_RTU_MAX];
	uint16_t v[BLT_MAX_WRITE_REGS];
	size_t n = 0;
	blt_rtu_t r;
	(void)state;
	for (size_t i = 0; i < BLT_MAX_WRITE_REGS; i++)
		v[i] = (uint16_t)(0x1234 + 0x0f0f * i);
	for (uint16_t c = 1; c <= BLT_MAX_WRITE_REGS; c++) {
		assert_int_equal(blt_rtu_build_writen(3, 21000, v, c, f, sizeof f, &n), BLT_OK);
		assert_int_equal(blt_rtu_parse(f, n, BLT_RTU_REQUEST, &r, NULL), BLT_OK);
		assert_int_equal(r.slave, 3);
		assert_int_equal(r.function, BLT_FC_WRITEN);
		assert_int_equal(r.reg, 21000);
		assert_int_equal(r.count, c);
		assert_int_equal(r.nbytes, 2 * c);
		for (size_t i = 0; i < c; i++)
			assert_int_equal(r.data[2 * i] << 8 | r.data[2 * i + 1], v[i]);
	}
	/* A device push has the request shape (§1.6). */
	test_hex("00 10 52 08 00 01 02 00 01 18 8d", f, sizeof f);
	assert_int_equal(blt_rtu_parse(f, 11, BLT_RTU_REQUEST, &r, NULL), BLT_OK);
	assert_int_equal(r.reg, 21000);
	assert_int_equal(r.count, 1);
}

static void test_parse_writen_reply(void **state)
{
	uint8_t f[8];
	blt_rtu_t r;
	(void)state;
	test_hex("01 10 07 db 00 02 30 87", f, sizeof f);
	assert_int_equal(blt_rtu_parse(f, 8, BLT_RTU_REPLY, &r, NULL), BLT_OK);
	assert_int_equal(r.function, BLT_FC_WRITEN);
	assert_int_equal(r.reg, 2011);
	assert_int_equal(r.count, 2);
}

static void test_parse_exceptions_each_code(void **state)
{
	static const uint8_t fcs[] = {0x03, 0x06, 0x10};
	(void)state;
	for (size_t i = 0; i < sizeof fcs; i++) {
		for (int code = 1; code <= 255; code++) {
			uint8_t f[8];
			size_t n = 0;
			blt_rtu_t r;
			blt_detail_t d;
			char num[8];
			assert_int_equal(
			    blt_rtu_build_exception(1, fcs[i], (uint8_t)code, f, sizeof f, &n),
			    BLT_OK);
			assert_int_equal(blt_rtu_parse(f, n, BLT_RTU_REPLY, &r, &d),
			                 BLT_E_EXCEPTION);
			assert_int_equal(r.slave, 1);
			assert_int_equal(r.function, fcs[i] | 0x80);
			assert_int_equal(r.exception, code);
			snprintf(num, sizeof num, "%d", code);
			assert_detail_has(&d, num);
			assert_detail_has(&d, blt_exception_name((uint8_t)code));
		}
	}
}

static void test_parse_spec_exception(void **state)
{
	uint8_t f[8];
	blt_rtu_t r;
	blt_detail_t d;
	(void)state;
	test_hex("01 83 02 c0 f1", f, sizeof f);
	assert_int_equal(blt_rtu_parse(f, 5, BLT_RTU_REPLY, &r, &d), BLT_E_EXCEPTION);
	assert_int_equal(r.exception, 2);
	assert_detail_has(&d, "illegal data address");
	/* Same frame with a bad CRC: a CRC error, not an exception. */
	f[4] ^= 0x01;
	assert_int_equal(blt_rtu_parse(f, 5, BLT_RTU_REPLY, &r, &d), BLT_E_CRC);
	f[4] ^= 0x01;
	/* Wrong length. */
	assert_int_equal(blt_rtu_parse(f, 4, BLT_RTU_REPLY, &r, &d), BLT_E_SHORT);
	f[5] = 0;
	assert_int_equal(blt_rtu_parse(f, 6, BLT_RTU_REPLY, &r, &d), BLT_E_TRAILING);
	/* An exception function in a request. */
	assert_int_equal(blt_rtu_parse(f, 5, BLT_RTU_REQUEST, &r, &d), BLT_E_FUNCTION);
	/* Code 0 is no exception. */
	f[2] = 0;
	with_crc(f, 3);
	assert_int_equal(blt_rtu_parse(f, 5, BLT_RTU_REPLY, &r, &d), BLT_E_RANGE);
}

static void test_exception_names(void **state)
{
	(void)state;
	assert_string_equal(blt_exception_name(1), "illegal function");
	assert_string_equal(blt_exception_name(2), "illegal data address");
	assert_string_equal(blt_exception_name(3), "illegal data value");
	assert_string_equal(blt_exception_name(4), "slave device failure");
	assert_string_equal(blt_exception_name(5), "acknowledge");
	assert_string_equal(blt_exception_name(6), "slave device busy");
	assert_string_equal(blt_exception_name(0), "unknown exception");
	assert_string_equal(blt_exception_name(7), "unknown exception");
	assert_string_equal(blt_exception_name(255), "unknown exception");
}

/* --- parse: malformed frames ---------------------------------------------------------- */

struct kind {
	const char *name;
	blt_rtu_dir_t dir;
	uint8_t f[BLT_RTU_MAX];
	size_t n;
};

/* One valid frame of every kind and direction. */
static size_t all_kinds(struct kind *k)
{
	uint8_t data[124];
	uint16_t v[3] = {1, 2, 3};
	size_t i = 0;
	for (size_t j = 0; j < sizeof data; j++)
		data[j] = (uint8_t)(j * 13 + 1);
	k[i].name = "FC03 request";
	k[i].dir = BLT_RTU_REQUEST;
	assert_int_equal(blt_rtu_build_read(0, 100, 62, k[i].f, BLT_RTU_MAX, &k[i].n), 0);
	i++;
	k[i].name = "FC03 reply";
	k[i].dir = BLT_RTU_REPLY;
	assert_int_equal(blt_rtu_build_read_reply(0, data, 124, k[i].f, BLT_RTU_MAX, &k[i].n), 0);
	i++;
	k[i].name = "FC03 short reply";
	k[i].dir = BLT_RTU_REPLY;
	assert_int_equal(blt_rtu_build_read_reply(1, data, 2, k[i].f, BLT_RTU_MAX, &k[i].n), 0);
	i++;
	k[i].name = "FC06 request";
	k[i].dir = BLT_RTU_REQUEST;
	assert_int_equal(blt_rtu_build_write1(0, 2011, 1, k[i].f, BLT_RTU_MAX, &k[i].n), 0);
	i++;
	k[i].name = "FC06 reply";
	k[i].dir = BLT_RTU_REPLY;
	assert_int_equal(blt_rtu_build_write1(0, 2011, 1, k[i].f, BLT_RTU_MAX, &k[i].n), 0);
	i++;
	k[i].name = "FC10 request";
	k[i].dir = BLT_RTU_REQUEST;
	assert_int_equal(blt_rtu_build_writen(0, 2011, v, 3, k[i].f, BLT_RTU_MAX, &k[i].n), 0);
	i++;
	k[i].name = "FC10 reply";
	k[i].dir = BLT_RTU_REPLY;
	assert_int_equal(blt_rtu_build_writen_reply(0, 2011, 3, k[i].f, BLT_RTU_MAX, &k[i].n), 0);
	i++;
	k[i].name = "exception";
	k[i].dir = BLT_RTU_REPLY;
	assert_int_equal(blt_rtu_build_exception(0, 3, 2, k[i].f, BLT_RTU_MAX, &k[i].n), 0);
	i++;
	return i;
}

static int expect_ok(const struct kind *k)
{
	return strcmp(k->name, "exception") == 0 ? BLT_E_EXCEPTION : BLT_OK;
}

static void test_malformed_every_kind(void **state)
{
	struct kind k[10];
	size_t nk = all_kinds(k);
	(void)state;
	for (size_t i = 0; i < nk; i++) {
		uint8_t f[BLT_RTU_MAX + 1];
		blt_rtu_t r;
		blt_detail_t d;
		int rc;
		size_t n = k[i].n;
		memcpy(f, k[i].f, n);

		rc = blt_rtu_parse(f, n, k[i].dir, &r, &d);
		if (rc != expect_ok(&k[i]))
			fail_msg("%s: valid frame gave %d (%s)", k[i].name, rc, d.text);

		/* Truncated at every length, each copy in an exact-size heap block so that
		 * ASan flags any read past the end. */
		for (size_t t = 0; t < n; t++) {
			uint8_t *cut = malloc(t ? t : 1);
			assert_non_null(cut);
			memcpy(cut, f, t);
			rc = blt_rtu_parse(cut, t, k[i].dir, &r, &d);
			free(cut);
			if (rc != BLT_E_SHORT)
				fail_msg("%s cut to %zu bytes: %d (%s)", k[i].name, t, rc, d.text);
		}
		/* One trailing byte, any value. */
		for (int b = 0; b < 256; b += 51) {
			f[n] = (uint8_t)b;
			rc = blt_rtu_parse(f, n + 1, k[i].dir, &r, &d);
			if (rc != BLT_E_TRAILING)
				fail_msg("%s + 1 byte: %d (%s)", k[i].name, rc, d.text);
		}
		/* Bad CRC: each CRC byte, and a flipped bit in the body (not the byte
		 * count, which would be a length problem). */
		for (size_t pos = 0; pos < n; pos++) {
			int is_count = (k[i].dir == BLT_RTU_REPLY && f[1] == 3 && pos == 2) ||
			               (k[i].dir == BLT_RTU_REQUEST && f[1] == 0x10 && pos == 6);
			if (pos == 1 || is_count)
				continue; /* function byte: a different kind of frame */
			f[pos] ^= 0x20;
			rc = blt_rtu_parse(f, n, k[i].dir, &r, &d);
			f[pos] ^= 0x20;
			/* FC10 qty changes make the byte count inconsistent: accepted too. */
			if (rc == BLT_E_BYTECOUNT && f[1] == 0x10 && (pos == 4 || pos == 5))
				continue;
			if (rc != BLT_E_CRC)
				fail_msg("%s flip at %zu: %d (%s)", k[i].name, pos, rc, d.text);
			assert_detail_has(&d, "CRC");
		}
	}
}

static void test_truncated_captures(void **state)
{
	/* Real frames: every truncation is SHORT (no accidental CRC match on a prefix). */
	uint8_t f[300];
	size_t n;
	blt_rtu_t r;
	static const char *files[] = {"frames/ap300_block100.hex", "frames/ap300_block6000.hex"};
	(void)state;
	for (size_t i = 0; i < 2; i++) {
		n = test_data_hex(files[i], f, sizeof f);
		assert_true(n > 10);
		/* Skip the 10-byte envelope. */
		assert_int_equal(blt_rtu_parse(f + 10, n - 10, BLT_RTU_REPLY, &r, NULL), BLT_OK);
		for (size_t t = 0; t < n - 10; t++)
			assert_int_equal(blt_rtu_parse(f + 10, t, BLT_RTU_REPLY, &r, NULL),
			                 BLT_E_SHORT);
	}
}

static void test_bytecount_odd(void **state)
{
	uint8_t f[16];
	blt_rtu_t r;
	blt_detail_t d;
	size_t n;
	(void)state;
	n = test_hex("01 03 03 00 01 02", f, sizeof f);
	n = with_crc(f, n);
	assert_int_equal(blt_rtu_parse(f, n, BLT_RTU_REPLY, &r, &d), BLT_E_BYTECOUNT);
	assert_detail_has(&d, "byte count 3");
	assert_detail_has(&d, "odd");
	/* FC10 request with an odd byte count. */
	n = test_hex("01 10 00 64 00 02 03 00 01 02", f, sizeof f);
	n = with_crc(f, n);
	assert_int_equal(blt_rtu_parse(f, n, BLT_RTU_REQUEST, &r, &d), BLT_E_BYTECOUNT);
	assert_detail_has(&d, "odd");
}

static void test_bytecount_lies(void **state)
{
	uint8_t f[16];
	blt_rtu_t r;
	blt_detail_t d;
	size_t n;
	(void)state;
	/* Says 6, holds 4 (CRC correct over the whole frame). */
	n = with_crc(f, test_hex("01 03 06 00 01 00 02", f, sizeof f));
	assert_int_equal(blt_rtu_parse(f, n, BLT_RTU_REPLY, &r, &d), BLT_E_BYTECOUNT);
	assert_detail_has(&d, "byte count 6 but frame holds 4 data bytes");
	/* Says 2, holds 4. */
	n = with_crc(f, test_hex("01 03 02 00 01 00 02", f, sizeof f));
	assert_int_equal(blt_rtu_parse(f, n, BLT_RTU_REPLY, &r, &d), BLT_E_BYTECOUNT);
	assert_detail_has(&d, "byte count 2 but frame holds 4 data bytes");
	/* FC10: says 4, holds 2; says 2, holds 4. */
	n = with_crc(f, test_hex("01 10 00 64 00 02 04 00 01", f, sizeof f));
	assert_int_equal(blt_rtu_parse(f, n, BLT_RTU_REQUEST, &r, &d), BLT_E_BYTECOUNT);
	assert_detail_has(&d, "byte count 4 but frame holds 2 data bytes");
	n = with_crc(f, test_hex("01 10 00 64 00 01 02 00 01 00 02", f, sizeof f));
	assert_int_equal(blt_rtu_parse(f, n, BLT_RTU_REQUEST, &r, &d), BLT_E_BYTECOUNT);
	assert_detail_has(&d, "byte count 2 but frame holds 4 data bytes");
	/* FC10: byte count consistent with the frame but not with the quantity. */
	n = with_crc(f, test_hex("01 10 00 64 00 02 02 00 01", f, sizeof f));
	assert_int_equal(blt_rtu_parse(f, n, BLT_RTU_REQUEST, &r, &d), BLT_E_BYTECOUNT);
	assert_detail_has(&d, "quantity 2 needs 4");
	/* An FC03 request parsed as a reply: byte count 0 vs 3 data bytes. */
	n = test_hex("01 03 00 64 00 42 84 24", f, sizeof f);
	assert_int_equal(blt_rtu_parse(f, n, BLT_RTU_REPLY, &r, &d), BLT_E_BYTECOUNT);
}

static void test_bytecount_above_250(void **state)
{
	uint8_t f[300];
	blt_rtu_t r;
	blt_detail_t d;
	size_t n;
	(void)state;
	memset(f, 0, sizeof f);
	f[0] = 1;
	f[1] = 3;
	f[2] = 252;
	n = with_crc(f, 3 + 252);
	assert_int_equal(blt_rtu_parse(f, n, BLT_RTU_REPLY, &r, &d), BLT_E_BYTECOUNT);
	assert_detail_has(&d, "252");
	f[2] = 250;
	n = with_crc(f, 3 + 250);
	assert_int_equal(blt_rtu_parse(f, n, BLT_RTU_REPLY, &r, &d), BLT_OK);
	assert_int_equal(r.count, 125);
}

static void test_unknown_function(void **state)
{
	static const uint8_t fcs[] = {0x00, 0x01, 0x02, 0x04, 0x05, 0x0f, 0x11, 0x17, 0x2b, 0x7f};
	(void)state;
	for (size_t i = 0; i < sizeof fcs; i++) {
		uint8_t f[16];
		blt_rtu_t r;
		blt_detail_t d;
		size_t n;
		char hexfc[8];
		f[0] = 1;
		f[1] = fcs[i];
		f[2] = 0;
		f[3] = 100;
		f[4] = 0;
		f[5] = 1;
		n = with_crc(f, 6);
		assert_int_equal(blt_rtu_parse(f, n, BLT_RTU_REQUEST, &r, &d), BLT_E_FUNCTION);
		snprintf(hexfc, sizeof hexfc, "0x%02x", fcs[i]);
		assert_detail_has(&d, hexfc);
		assert_int_equal(blt_rtu_parse(f, n, BLT_RTU_REPLY, &r, &d), BLT_E_FUNCTION);
	}
}

static void test_register_count_limits(void **state)
{
	uint8_t f[300];
	blt_rtu_t r;
	blt_detail_t d;
	size_t n;
	(void)state;
	/* FC03 request count 0 / 126 / 125. */
	n = with_crc(f, test_hex("01 03 00 64 00 00", f, sizeof f));
	assert_int_equal(blt_rtu_parse(f, n, BLT_RTU_REQUEST, &r, &d), BLT_E_RANGE);
	assert_detail_has(&d, "count 0");
	n = with_crc(f, test_hex("01 03 00 64 00 7e", f, sizeof f));
	assert_int_equal(blt_rtu_parse(f, n, BLT_RTU_REQUEST, &r, &d), BLT_E_RANGE);
	assert_detail_has(&d, "count 126");
	n = with_crc(f, test_hex("01 03 00 64 00 7d", f, sizeof f));
	assert_int_equal(blt_rtu_parse(f, n, BLT_RTU_REQUEST, &r, &d), BLT_OK);
	/* FC03 reply with no registers. */
	n = with_crc(f, test_hex("01 03 00", f, sizeof f));
	assert_int_equal(blt_rtu_parse(f, n, BLT_RTU_REPLY, &r, &d), BLT_E_RANGE);
	/* FC10 request qty 0 and 124 (a 257-byte frame, byte count 248). */
	n = with_crc(f, test_hex("01 10 00 64 00 00 00", f, sizeof f));
	assert_int_equal(blt_rtu_parse(f, n, BLT_RTU_REQUEST, &r, &d), BLT_E_RANGE);
	memset(f, 0, sizeof f);
	test_hex("01 10 00 64 00 7c f8", f, sizeof f);
	n = with_crc(f, 7 + 248);
	assert_int_equal(n, 257);
	assert_int_equal(blt_rtu_parse(f, n, BLT_RTU_REQUEST, &r, &d), BLT_E_RANGE);
	assert_detail_has(&d, "count 124");
	/* FC10 reply qty 0 and 124. */
	n = with_crc(f, test_hex("01 10 00 64 00 00", f, sizeof f));
	assert_int_equal(blt_rtu_parse(f, n, BLT_RTU_REPLY, &r, &d), BLT_E_RANGE);
	n = with_crc(f, test_hex("01 10 00 64 00 7c", f, sizeof f));
	assert_int_equal(blt_rtu_parse(f, n, BLT_RTU_REPLY, &r, &d), BLT_E_RANGE);
	n = with_crc(f, test_hex("01 10 00 64 00 7b", f, sizeof f));
	assert_int_equal(blt_rtu_parse(f, n, BLT_RTU_REPLY, &r, &d), BLT_OK);
}

static void test_parse_bad_args(void **state)
{
	uint8_t f[8];
	blt_rtu_t r;
	(void)state;
	test_hex("01 03 00 64 00 42 84 24", f, sizeof f);
	assert_int_equal(blt_rtu_parse(f, 8, BLT_RTU_REQUEST, NULL, NULL), BLT_E_INVAL);
	assert_int_equal(blt_rtu_parse(NULL, 8, BLT_RTU_REQUEST, &r, NULL), BLT_E_INVAL);
	assert_int_equal(blt_rtu_parse(NULL, 0, BLT_RTU_REQUEST, &r, NULL), BLT_E_SHORT);
	assert_int_equal(blt_rtu_parse(f, 8, (blt_rtu_dir_t)7, &r, NULL), BLT_E_INVAL);
}

static void test_detail_messages(void **state)
{
	uint8_t f[300];
	blt_rtu_t r;
	blt_detail_t d;
	size_t n;
	(void)state;
	n = test_hex("01 03 00 64 00 42 84 24", f, sizeof f);
	assert_int_equal(blt_rtu_parse(f, 5, BLT_RTU_REQUEST, &r, &d), BLT_E_SHORT);
	assert_detail_has(&d, "FC03 request truncated: 5 of 8 bytes");
	f[n] = 0;
	assert_int_equal(blt_rtu_parse(f, n + 1, BLT_RTU_REQUEST, &r, &d), BLT_E_TRAILING);
	assert_detail_has(&d, "9 bytes, 1 trailing after the 8-byte frame");
	f[7] = 0x25;
	assert_int_equal(blt_rtu_parse(f, n, BLT_RTU_REQUEST, &r, &d), BLT_E_CRC);
	assert_detail_has(&d, "CRC on the wire 0x2584, computed 0x2484");
	/* A 124-byte reply cut after 120 data bytes. */
	memset(f, 0, sizeof f);
	f[1] = 3;
	f[2] = 124;
	n = with_crc(f, 3 + 124);
	assert_int_equal(blt_rtu_parse(f, 125, BLT_RTU_REPLY, &r, &d), BLT_E_SHORT);
	assert_detail_has(&d, "125 of 129 bytes (byte count 124)");
	/* The same data with a byte count of 124 but only 120 bytes, CRC correct. */
	n = with_crc(f, 3 + 120);
	assert_int_equal(blt_rtu_parse(f, n, BLT_RTU_REPLY, &r, &d), BLT_E_BYTECOUNT);
	assert_detail_has(&d, "byte count 124 but frame holds 120 data bytes");
	assert_int_equal(blt_rtu_parse(f, 1, BLT_RTU_REPLY, &r, &d), BLT_E_SHORT);
	assert_detail_has(&d, "1 bytes, no function code");
}

/* --- property: random frames of every kind, build -> parse -> match ------------------ */

static uint32_t lcg(uint32_t *s)
{
	*s = *s * 1664525u + 1013904223u;
	return *s >> 8;
}

static void test_random_round_trips(void **state)
{
	uint32_t s = 0xC0FFEE;
	(void)state;
	for (int round = 0; round < 5000; round++) {
		uint8_t q[BLT_RTU_MAX], a[BLT_RTU_MAX], data[250];
		uint16_t vals[BLT_MAX_WRITE_REGS];
		size_t qn = 0, an = 0;
		blt_rtu_t rq, ra;
		uint8_t slave = (uint8_t)lcg(&s);
		uint16_t reg = (uint16_t)lcg(&s);
		uint16_t rcount = (uint16_t)(1 + lcg(&s) % BLT_MAX_READ_REGS);
		uint16_t wcount = (uint16_t)(1 + lcg(&s) % BLT_MAX_WRITE_REGS);
		uint16_t got = (uint16_t)(1 + lcg(&s) % rcount);
		uint16_t value = (uint16_t)lcg(&s);
		for (size_t i = 0; i < sizeof data; i++)
			data[i] = (uint8_t)lcg(&s);
		for (size_t i = 0; i < BLT_MAX_WRITE_REGS; i++)
			vals[i] = (uint16_t)lcg(&s);

		switch (round % 4) {
		case 0: /* read, device answers with 1..count registers */
			assert_int_equal(blt_rtu_build_read(slave, reg, rcount, q, sizeof q, &qn),
			                 0);
			assert_int_equal(
			    blt_rtu_build_read_reply(slave, data, 2u * got, a, sizeof a, &an), 0);
			assert_int_equal(blt_rtu_parse(q, qn, BLT_RTU_REQUEST, &rq, NULL), BLT_OK);
			assert_int_equal(rq.reg, reg);
			assert_int_equal(rq.count, rcount);
			assert_int_equal(blt_rtu_parse(a, an, BLT_RTU_REPLY, &ra, NULL), BLT_OK);
			assert_int_equal(ra.count, got);
			assert_memory_equal(ra.data, data, 2u * got);
			break;
		case 1: /* write one, echoed */
			assert_int_equal(blt_rtu_build_write1(slave, reg, value, q, sizeof q, &qn),
			                 0);
			memcpy(a, q, qn);
			an = qn;
			assert_int_equal(blt_rtu_parse(q, qn, BLT_RTU_REQUEST, &rq, NULL), BLT_OK);
			assert_int_equal(blt_rtu_parse(a, an, BLT_RTU_REPLY, &ra, NULL), BLT_OK);
			assert_int_equal(ra.value, value);
			break;
		case 2: /* write many */
			assert_int_equal(
			    blt_rtu_build_writen(slave, reg, vals, wcount, q, sizeof q, &qn), 0);
			assert_int_equal(
			    blt_rtu_build_writen_reply(slave, reg, wcount, a, sizeof a, &an), 0);
			assert_int_equal(blt_rtu_parse(q, qn, BLT_RTU_REQUEST, &rq, NULL), BLT_OK);
			assert_int_equal(rq.count, wcount);
			for (size_t i = 0; i < wcount; i++)
				assert_int_equal(rq.data[2 * i] << 8 | rq.data[2 * i + 1], vals[i]);
			assert_int_equal(blt_rtu_parse(a, an, BLT_RTU_REPLY, &ra, NULL), BLT_OK);
			break;
		default: /* exception to a read */
			assert_int_equal(blt_rtu_build_read(slave, reg, rcount, q, sizeof q, &qn),
			                 0);
			assert_int_equal(blt_rtu_build_exception(slave, BLT_FC_READ,
			                                         (uint8_t)(1 + value % 255), a,
			                                         sizeof a, &an),
			                 0);
			assert_int_equal(blt_rtu_parse(q, qn, BLT_RTU_REQUEST, &rq, NULL), BLT_OK);
			assert_int_equal(blt_rtu_parse(a, an, BLT_RTU_REPLY, &ra, NULL),
			                 BLT_E_EXCEPTION);
			assert_int_equal(blt_rtu_match(&rq, &ra, NULL), BLT_E_EXCEPTION);
			continue;
		}
		assert_int_equal(blt_rtu_match(&rq, &ra, NULL), BLT_OK);
		/* The same reply to another slave's request never matches. */
		rq.slave = (uint8_t)(slave + 1);
		assert_int_equal(blt_rtu_match(&rq, &ra, NULL), BLT_E_SLAVE);
	}
}

/* --- match ---------------------------------------------------------------------------- */

static void parse_ok(const char *hex, blt_rtu_dir_t dir, uint8_t *buf, blt_rtu_t *r)
{
	size_t n = test_hex(hex, buf, 64);
	int rc = blt_rtu_parse(buf, n, dir, r, NULL);
	assert_true(rc == BLT_OK || rc == BLT_E_EXCEPTION);
}

static void test_match_read(void **state)
{
	uint8_t bq[64], bp[BLT_RTU_MAX], data[250];
	blt_rtu_t q, p;
	blt_detail_t d;
	size_t n;
	(void)state;
	memset(data, 0, sizeof data);
	parse_ok("00 03 00 64 00 42 85 f5", BLT_RTU_REQUEST, bq, &q); /* 66 registers */
	for (size_t regs = 1; regs <= 66; regs++) {
		assert_int_equal(blt_rtu_build_read_reply(0, data, 2 * regs, bp, sizeof bp, &n), 0);
		assert_int_equal(blt_rtu_parse(bp, n, BLT_RTU_REPLY, &p, NULL), BLT_OK);
		assert_int_equal(blt_rtu_match(&q, &p, &d), BLT_OK);
	}
	/* More registers than asked. */
	assert_int_equal(blt_rtu_build_read_reply(0, data, 134, bp, sizeof bp, &n), 0);
	assert_int_equal(blt_rtu_parse(bp, n, BLT_RTU_REPLY, &p, NULL), BLT_OK);
	assert_int_equal(blt_rtu_match(&q, &p, &d), BLT_E_MISMATCH);
	assert_detail_has(&d, "67 registers");
	/* Another slave. */
	assert_int_equal(blt_rtu_build_read_reply(1, data, 124, bp, sizeof bp, &n), 0);
	assert_int_equal(blt_rtu_parse(bp, n, BLT_RTU_REPLY, &p, NULL), BLT_OK);
	assert_int_equal(blt_rtu_match(&q, &p, &d), BLT_E_SLAVE);
	assert_detail_has(&d, "slave 1");
	/* Another function. */
	parse_ok("00 06 07 db 00 01 38 94", BLT_RTU_REPLY, bp, &p);
	assert_int_equal(blt_rtu_match(&q, &p, &d), BLT_E_FUNCTION);
	/* Exception to this read, and to another function. */
	assert_int_equal(blt_rtu_build_exception(0, 3, 2, bp, sizeof bp, &n), 0);
	assert_int_equal(blt_rtu_parse(bp, n, BLT_RTU_REPLY, &p, NULL), BLT_E_EXCEPTION);
	assert_int_equal(blt_rtu_match(&q, &p, &d), BLT_E_EXCEPTION);
	assert_detail_has(&d, "illegal data address");
	assert_int_equal(blt_rtu_build_exception(0, 6, 2, bp, sizeof bp, &n), 0);
	assert_int_equal(blt_rtu_parse(bp, n, BLT_RTU_REPLY, &p, NULL), BLT_E_EXCEPTION);
	assert_int_equal(blt_rtu_match(&q, &p, &d), BLT_E_FUNCTION);
}

static void test_match_write1(void **state)
{
	uint8_t bq[64], bp[64];
	blt_rtu_t q, p;
	blt_detail_t d;
	(void)state;
	parse_ok("00 06 07 db 00 01 38 94", BLT_RTU_REQUEST, bq, &q);
	parse_ok("00 06 07 db 00 01 38 94", BLT_RTU_REPLY, bp, &p);
	assert_int_equal(blt_rtu_match(&q, &p, &d), BLT_OK);
	/* Echo with another value (AC off instead of on), slave 1 frames. */
	parse_ok("01 06 07 db 00 01 39 45", BLT_RTU_REQUEST, bq, &q);
	parse_ok("01 06 07 db 00 00 f8 85", BLT_RTU_REPLY, bp, &p);
	assert_int_equal(blt_rtu_match(&q, &p, &d), BLT_E_MISMATCH);
	assert_detail_has(&d, "2011 = 0");
	/* Echo of another register. */
	parse_ok("01 06 07 dc 00 01 88 84", BLT_RTU_REPLY, bp, &p);
	assert_int_equal(blt_rtu_match(&q, &p, &d), BLT_E_MISMATCH);
	assert_detail_has(&d, "2012");
}

static void test_match_writen(void **state)
{
	uint8_t bq[64], bp[64];
	blt_rtu_t q, p;
	blt_detail_t d;
	size_t n;
	(void)state;
	parse_ok("01 10 07 db 00 02 04 00 01 00 01 09 70", BLT_RTU_REQUEST, bq, &q);
	parse_ok("01 10 07 db 00 02 30 87", BLT_RTU_REPLY, bp, &p);
	assert_int_equal(blt_rtu_match(&q, &p, &d), BLT_OK);
	/* Start differs. */
	assert_int_equal(blt_rtu_build_writen_reply(1, 2012, 2, bp, sizeof bp, &n), 0);
	assert_int_equal(blt_rtu_parse(bp, n, BLT_RTU_REPLY, &p, NULL), BLT_OK);
	assert_int_equal(blt_rtu_match(&q, &p, &d), BLT_E_MISMATCH);
	assert_detail_has(&d, "start 2012");
	/* Quantity differs. */
	assert_int_equal(blt_rtu_build_writen_reply(1, 2011, 1, bp, sizeof bp, &n), 0);
	assert_int_equal(blt_rtu_parse(bp, n, BLT_RTU_REPLY, &p, NULL), BLT_OK);
	assert_int_equal(blt_rtu_match(&q, &p, &d), BLT_E_MISMATCH);
	assert_detail_has(&d, "qty 1");
	/* Exception to the write. */
	assert_int_equal(blt_rtu_build_exception(1, 0x10, 3, bp, sizeof bp, &n), 0);
	assert_int_equal(blt_rtu_parse(bp, n, BLT_RTU_REPLY, &p, NULL), BLT_E_EXCEPTION);
	assert_int_equal(blt_rtu_match(&q, &p, &d), BLT_E_EXCEPTION);
	assert_detail_has(&d, "illegal data value");
	assert_int_equal(blt_rtu_match(NULL, &p, &d), BLT_E_INVAL);
	assert_int_equal(blt_rtu_match(&q, NULL, &d), BLT_E_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_build_read_table),
	    cmocka_unit_test(test_build_exception_frames),
	    cmocka_unit_test(test_build_write1_frames),
	    cmocka_unit_test(test_build_writen_frames),
	    cmocka_unit_test(test_build_read_limits),
	    cmocka_unit_test(test_build_read_reply),
	    cmocka_unit_test(test_parse_read_request),
	    cmocka_unit_test(test_parse_read_reply),
	    cmocka_unit_test(test_parse_write1_both_ways),
	    cmocka_unit_test(test_parse_writen_request),
	    cmocka_unit_test(test_parse_writen_reply),
	    cmocka_unit_test(test_parse_exceptions_each_code),
	    cmocka_unit_test(test_parse_spec_exception),
	    cmocka_unit_test(test_exception_names),
	    cmocka_unit_test(test_malformed_every_kind),
	    cmocka_unit_test(test_truncated_captures),
	    cmocka_unit_test(test_bytecount_odd),
	    cmocka_unit_test(test_bytecount_lies),
	    cmocka_unit_test(test_bytecount_above_250),
	    cmocka_unit_test(test_unknown_function),
	    cmocka_unit_test(test_register_count_limits),
	    cmocka_unit_test(test_parse_bad_args),
	    cmocka_unit_test(test_detail_messages),
	    cmocka_unit_test(test_random_round_trips),
	    cmocka_unit_test(test_match_read),
	    cmocka_unit_test(test_match_write1),
	    cmocka_unit_test(test_match_writen),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
