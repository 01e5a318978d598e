/* MQTT payload envelopes (PROTOCOL.md §1.10) and the real AP300 captures of §7.1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <bluetti/bluetti.h>

#include "unit/testdata.h"

static void test_names(void **state)
{
	blt_envelope_t e = BLT_ENV_BARE;
	(void)state;
	assert_string_equal(blt_envelope_name(BLT_ENV_BARE), "bare");
	assert_string_equal(blt_envelope_name(BLT_ENV_LEGACY), "legacy");
	assert_string_equal(blt_envelope_name(BLT_ENV_V2), "v2");
	assert_string_equal(blt_envelope_name((blt_envelope_t)9), "unknown");
	assert_int_equal(blt_envelope_from_name("v2", &e), BLT_OK);
	assert_int_equal(e, BLT_ENV_V2);
	assert_int_equal(blt_envelope_from_name("legacy", &e), BLT_OK);
	assert_int_equal(e, BLT_ENV_LEGACY);
	assert_int_equal(blt_envelope_from_name("bare", &e), BLT_OK);
	assert_int_equal(e, BLT_ENV_BARE);
	assert_int_equal(blt_envelope_from_name("V2", &e), BLT_OK);
	assert_int_equal(e, BLT_ENV_V2);
	assert_int_equal(blt_envelope_from_name("v3", &e), BLT_E_NOT_FOUND);
	assert_int_equal(blt_envelope_from_name("", &e), BLT_E_NOT_FOUND);
	assert_int_equal(blt_envelope_from_name("bar", &e), BLT_E_NOT_FOUND);
	assert_int_equal(blt_envelope_from_name("bareX", &e), BLT_E_NOT_FOUND);
	assert_int_equal(e, BLT_ENV_V2); /* untouched on failure */
	assert_int_equal(blt_envelope_from_name(NULL, &e), BLT_E_INVAL);
}

static void test_wrap_v2_write1(void **state)
{
	/* §1.5: battery-ha's exact bytes. */
	uint8_t rtu[16], out[32], want[32];
	size_t n = 0, len = 0, wn;
	(void)state;
	assert_int_equal(blt_rtu_build_write1(0, 2011, 1, rtu, sizeof rtu, &n), BLT_OK);
	assert_int_equal(blt_env_wrap(BLT_ENV_V2, 2011, 0, rtu, n, out, sizeof out, &len), BLT_OK);
	wn = test_hex("01 f8 0f 07 db 00 00 00 00 00 00 06 07 db 00 01 38 94", want, sizeof want);
	assert_int_equal(len, wn);
	assert_memory_equal(out, want, wn);
}

static void test_wrap_v2_node_info(void **state)
{
	/* §1.6: NODE_INFO query. */
	uint8_t rtu[16], out[32], want[32];
	uint16_t v = 1;
	size_t n = 0, len = 0, wn;
	(void)state;
	assert_int_equal(blt_rtu_build_writen(0, 21000, &v, 1, rtu, sizeof rtu, &n), BLT_OK);
	assert_int_equal(blt_env_wrap(BLT_ENV_V2, 21000, 0, rtu, n, out, sizeof out, &len), BLT_OK);
	wn = test_hex("01 f8 0f 52 08 00 00 00 00 00 00 10 52 08 00 01 02 00 01 18 8d", want,
	              sizeof want);
	assert_int_equal(len, wn);
	assert_memory_equal(out, want, wn);
}

static void test_wrap_v2_read_and_rssi(void **state)
{
	uint8_t rtu[16], out[32];
	size_t n = 0, len = 0;
	blt_env_info_t e;
	(void)state;
	assert_int_equal(blt_rtu_build_read(0, 100, 62, rtu, sizeof rtu, &n), BLT_OK);
	assert_int_equal(blt_env_wrap(BLT_ENV_V2, 100, -71, rtu, n, out, sizeof out, &len), 0);
	assert_int_equal(len, 18);
	assert_int_equal(out[3], 0x00);
	assert_int_equal(out[4], 0x64);
	assert_int_equal(out[7], 0xb9);
	assert_int_equal(blt_env_unwrap(out, len, &e, NULL), BLT_OK);
	assert_int_equal(e.envelope, BLT_ENV_V2);
	assert_int_equal(e.reg, 100);
	assert_int_equal(e.rssi, -71);
	assert_ptr_equal(e.rtu, out + 10);
	assert_int_equal(e.rtu_len, n);
}

static void test_wrap_legacy_and_bare(void **state)
{
	uint8_t rtu[16], out[32];
	size_t n = 0, len = 0;
	blt_env_info_t e;
	(void)state;
	assert_int_equal(blt_rtu_build_read(1, 6000, 32, rtu, sizeof rtu, &n), BLT_OK);
	assert_int_equal(blt_env_wrap(BLT_ENV_LEGACY, 6000, 0, rtu, n, out, sizeof out, &len), 0);
	assert_int_equal(len, 9);
	assert_int_equal(out[0], 0x01);
	assert_memory_equal(out + 1, rtu, n);
	assert_int_equal(blt_env_unwrap(out, len, &e, NULL), BLT_OK);
	assert_int_equal(e.envelope, BLT_ENV_LEGACY);
	assert_int_equal(e.rtu_len, 8);
	assert_ptr_equal(e.rtu, out + 1);
	assert_int_equal(e.reg, 0);
	assert_int_equal(e.rssi, 0);

	/* Bare, slave 1: starts with 0x01 but verifies as a whole, so it stays bare. */
	assert_int_equal(blt_env_wrap(BLT_ENV_BARE, 6000, -5, rtu, n, out, sizeof out, &len), 0);
	assert_int_equal(len, 8);
	assert_memory_equal(out, rtu, n);
	assert_int_equal(blt_env_unwrap(out, len, &e, NULL), BLT_OK);
	assert_int_equal(e.envelope, BLT_ENV_BARE);
	assert_int_equal(e.rtu_len, 8);
	assert_int_equal(e.rssi, 0);
}

static void test_wrap_errors(void **state)
{
	uint8_t rtu[BLT_RTU_MAX + 1] = {0}, out[BLT_PAYLOAD_MAX + 8];
	size_t len = 0;
	(void)state;
	assert_int_equal(blt_env_wrap(BLT_ENV_V2, 0, 0, rtu, 8, out, 17, &len), BLT_E_BUFSIZE);
	assert_int_equal(blt_env_wrap(BLT_ENV_V2, 0, 0, rtu, 8, out, 18, &len), BLT_OK);
	assert_int_equal(blt_env_wrap(BLT_ENV_LEGACY, 0, 0, rtu, 8, out, 8, &len), BLT_E_BUFSIZE);
	assert_int_equal(blt_env_wrap(BLT_ENV_BARE, 0, 0, rtu, 8, out, 7, &len), BLT_E_BUFSIZE);
	assert_int_equal(
	    blt_env_wrap(BLT_ENV_V2, 0, 0, rtu, BLT_RTU_MAX + 1, out, sizeof out, &len),
	    BLT_E_RANGE);
	assert_int_equal(blt_env_wrap(BLT_ENV_V2, 0, 0, rtu, BLT_RTU_MAX, out, sizeof out, &len),
	                 BLT_OK);
	assert_true(len <= BLT_PAYLOAD_MAX);
	assert_int_equal(blt_env_wrap(BLT_ENV_V2, 0, 0, NULL, 8, out, sizeof out, &len),
	                 BLT_E_INVAL);
	assert_int_equal(blt_env_wrap(BLT_ENV_V2, 0, 0, rtu, 0, out, sizeof out, &len),
	                 BLT_E_INVAL);
	assert_int_equal(blt_env_wrap((blt_envelope_t)5, 0, 0, rtu, 8, out, sizeof out, &len),
	                 BLT_E_INVAL);
}

static void test_wrap_in_place(void **state)
{
	/* Build the frame at out + 10, then wrap in place. */
	uint8_t out[32];
	size_t n = 0, len = 0;
	blt_env_info_t e;
	blt_rtu_t r;
	(void)state;
	assert_int_equal(blt_rtu_build_read(0, 1300, 16, out + 10, sizeof out - 10, &n), 0);
	assert_int_equal(blt_env_wrap(BLT_ENV_V2, 1300, 0, out + 10, n, out, sizeof out, &len), 0);
	assert_int_equal(blt_env_unwrap(out, len, &e, NULL), BLT_OK);
	assert_int_equal(blt_rtu_parse(e.rtu, e.rtu_len, BLT_RTU_REQUEST, &r, NULL), BLT_OK);
	assert_int_equal(r.reg, 1300);
	assert_int_equal(r.count, 16);
}

static void test_unwrap_edge_cases(void **state)
{
	uint8_t p[32] = {0};
	size_t n;
	blt_env_info_t e;
	blt_detail_t d;
	(void)state;
	assert_int_equal(blt_env_unwrap(p, 0, &e, &d), BLT_E_SHORT);
	assert_int_equal(blt_env_unwrap(NULL, 0, &e, &d), BLT_E_SHORT);
	assert_int_equal(blt_env_unwrap(NULL, 3, &e, &d), BLT_E_INVAL);
	assert_int_equal(blt_env_unwrap(p, 3, NULL, &d), BLT_E_INVAL);
	/* V2 marker with fewer than 10 bytes. */
	n = test_hex("01 f8 0f 00 64 00 00 00 00", p, sizeof p);
	for (size_t t = 2; t <= n; t++) {
		assert_int_equal(blt_env_unwrap(p, t, &e, &d), BLT_E_ENVELOPE);
		assert_non_null(strstr(d.text, "10"));
	}
	/* Exactly the envelope: an empty frame, which the parser calls short. */
	n = test_hex("01 f8 0f 00 64 00 00 00 00 00", p, sizeof p);
	assert_int_equal(blt_env_unwrap(p, n, &e, &d), BLT_OK);
	assert_int_equal(e.rtu_len, 0);
	/* A lone 0x01: not V2, nothing verifies -> bare. */
	p[0] = 0x01;
	assert_int_equal(blt_env_unwrap(p, 1, &e, &d), BLT_OK);
	assert_int_equal(e.envelope, BLT_ENV_BARE);
	assert_int_equal(e.rtu_len, 1);
	/* Legacy with a bad CRC: nothing verifies -> bare, and the parser reports it. */
	n = test_hex("01 00 03 00 64 00 42 85 f4", p, sizeof p);
	assert_int_equal(blt_env_unwrap(p, n, &e, &d), BLT_OK);
	assert_int_equal(e.envelope, BLT_ENV_BARE);
	assert_int_equal(e.rtu_len, n);
	/* Legacy with a good CRC. */
	n = test_hex("01 00 03 00 64 00 42 85 f5", p, sizeof p);
	assert_int_equal(blt_env_unwrap(p, n, &e, &d), BLT_OK);
	assert_int_equal(e.envelope, BLT_ENV_LEGACY);
	assert_int_equal(e.rtu_len, 8);
	/* Legacy exception frame (6 bytes). */
	n = test_hex("01 01 83 02 c0 f1", p, sizeof p);
	assert_int_equal(blt_env_unwrap(p, n, &e, &d), BLT_OK);
	assert_int_equal(e.envelope, BLT_ENV_LEGACY);
	assert_int_equal(e.rtu_len, 5);
	/* "ff ff" has CRC residue but is too short to be a frame. */
	p[0] = 0xff;
	p[1] = 0xff;
	assert_int_equal(blt_env_unwrap(p, 2, &e, &d), BLT_OK);
	assert_int_equal(e.envelope, BLT_ENV_BARE);
}

/* --- the real AP300 captures ---------------------------------------------------------- */

static void check_capture(const char *file, int8_t rssi, size_t nbytes, const char *first_regs)
{
	uint8_t p[BLT_PAYLOAD_MAX], want[16];
	size_t n = test_data_hex(file, p, sizeof p);
	size_t wn = test_hex(first_regs, want, sizeof want);
	blt_env_info_t e;
	blt_rtu_t r, q;
	blt_detail_t d;
	uint8_t req[8];
	size_t qn;

	assert_int_equal(n, 10 + 5 + nbytes);
	assert_int_equal(blt_env_unwrap(p, n, &e, &d), BLT_OK);
	assert_int_equal(e.envelope, BLT_ENV_V2);
	assert_int_equal(e.rssi, rssi);
	assert_int_equal(e.reg, 0); /* zero in the AP300 captures */
	assert_int_equal(e.rtu_len, 5 + nbytes);
	assert_int_equal(blt_crc16(e.rtu, e.rtu_len), 0); /* CRC residue */
	assert_int_equal(blt_rtu_parse(e.rtu, e.rtu_len, BLT_RTU_REPLY, &r, &d), BLT_OK);
	assert_int_equal(r.slave, 0);
	assert_int_equal(r.function, BLT_FC_READ);
	assert_int_equal(r.nbytes, nbytes);
	assert_int_equal(r.count, nbytes / 2);
	assert_memory_equal(r.data, want, wn);

	/* It answers a read of exactly its size, or a longer one, not a shorter one. */
	assert_int_equal(blt_rtu_build_read(0, 100, (uint16_t)(nbytes / 2), req, 8, &qn), 0);
	assert_int_equal(blt_rtu_parse(req, qn, BLT_RTU_REQUEST, &q, NULL), BLT_OK);
	assert_int_equal(blt_rtu_match(&q, &r, &d), BLT_OK);
	assert_int_equal(blt_rtu_build_read(0, 100, 125, req, 8, &qn), 0);
	assert_int_equal(blt_rtu_parse(req, qn, BLT_RTU_REQUEST, &q, NULL), BLT_OK);
	assert_int_equal(blt_rtu_match(&q, &r, &d), BLT_OK);
	assert_int_equal(blt_rtu_build_read(0, 100, (uint16_t)(nbytes / 2 - 1), req, 8, &qn), 0);
	assert_int_equal(blt_rtu_parse(req, qn, BLT_RTU_REQUEST, &q, NULL), BLT_OK);
	assert_int_equal(blt_rtu_match(&q, &r, &d), BLT_E_MISMATCH);
	/* Slave 1 request (reference default) gets a slave mismatch. */
	assert_int_equal(blt_rtu_build_read(1, 100, 125, req, 8, &qn), 0);
	assert_int_equal(blt_rtu_parse(req, qn, BLT_RTU_REQUEST, &q, NULL), BLT_OK);
	assert_int_equal(blt_rtu_match(&q, &r, &d), BLT_E_SLAVE);

	/* Parsing the enveloped payload as a frame fails (the reference's mistake). */
	assert_int_not_equal(blt_rtu_parse(p, n, BLT_RTU_REPLY, &r, NULL), BLT_OK);

	/* Rebuilding the reply and wrapping it gives the captured bytes back. */
	{
		uint8_t rtu[BLT_RTU_MAX], again[BLT_PAYLOAD_MAX];
		size_t rn, an;
		assert_int_equal(
		    blt_rtu_build_read_reply(0, e.rtu + 3, nbytes, rtu, sizeof rtu, &rn), BLT_OK);
		assert_int_equal(
		    blt_env_wrap(BLT_ENV_V2, 0, rssi, rtu, rn, again, sizeof again, &an), BLT_OK);
		assert_int_equal(an, n);
		assert_memory_equal(again, p, n);
	}
}

static void test_capture_block100(void **state)
{
	(void)state;
	check_capture("frames/ap300_block100.hex", -71, 124, "14c1 0000 005f");
}

static void test_capture_block6000(void **state)
{
	(void)state;
	check_capture("frames/ap300_block6000.hex", -76, 68, "0000 0001 0001 14c1");
}

static void test_capture_bad_crc(void **state)
{
	uint8_t p[BLT_PAYLOAD_MAX];
	size_t n = test_data_hex("frames/ap300_block100.hex", p, sizeof p);
	blt_env_info_t e;
	blt_rtu_t r;
	blt_detail_t d;
	(void)state;
	p[20] ^= 0x01; /* a data bit */
	assert_int_equal(blt_env_unwrap(p, n, &e, &d), BLT_OK);
	assert_int_equal(blt_rtu_parse(e.rtu, e.rtu_len, BLT_RTU_REPLY, &r, &d), BLT_E_CRC);
	assert_non_null(strstr(d.text, "0x9f06"));
}

static void test_payload_files(void **state)
{
	static const struct {
		const char *file;
		size_t bytes;
	} t[] = {
	    {"payloads/ap300_block100.hex", 124},      {"payloads/ap300_block6000.hex", 68},
	    {"payloads/ap300_block1300.hex", 82},      {"payloads/ap300_block6300.hex", 44},
	    {"payloads/ap300_block1100.hex", 50},      {"payloads/el100v2_block100.hex", 124},
	    {"payloads/el100v2_block1300.hex", 62},    {"payloads/el100v2_block6000.hex", 68},
	    {"payloads/ref_block100.hex", 132},        {"payloads/ref_block1300.hex", 32},
	    {"payloads/ref_block1300_3phase.hex", 62}, {"payloads/ref_block6000.hex", 64},
	};
	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		uint8_t b[300], f[BLT_RTU_MAX];
		size_t n = test_data_hex(t[i].file, b, sizeof b), fn;
		blt_rtu_t r;
		if (n != t[i].bytes)
			fail_msg("%s: %zu bytes, want %zu", t[i].file, n, t[i].bytes);
		/* Every payload fits one read reply and survives build -> parse. */
		assert_int_equal(blt_rtu_build_read_reply(0, b, n, f, sizeof f, &fn), BLT_OK);
		assert_int_equal(blt_rtu_parse(f, fn, BLT_RTU_REPLY, &r, NULL), BLT_OK);
		assert_memory_equal(r.data, b, n);
	}
	/* The data files of the two captures equal the frames' data. */
	{
		uint8_t pl[300], fr[BLT_PAYLOAD_MAX];
		size_t pn = test_data_hex("payloads/ap300_block6000.hex", pl, sizeof pl);
		size_t fn = test_data_hex("frames/ap300_block6000.hex", fr, sizeof fr);
		assert_int_equal(fn, 10 + 3 + pn + 2);
		assert_memory_equal(fr + 13, pl, pn);
		pn = test_data_hex("payloads/ap300_block100.hex", pl, sizeof pl);
		fn = test_data_hex("frames/ap300_block100.hex", fr, sizeof fr);
		assert_int_equal(fn, 10 + 3 + pn + 2);
		assert_memory_equal(fr + 13, pl, pn);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_wrap_v2_write1),
	    cmocka_unit_test(test_wrap_v2_node_info),
	    cmocka_unit_test(test_wrap_v2_read_and_rssi),
	    cmocka_unit_test(test_wrap_legacy_and_bare),
	    cmocka_unit_test(test_wrap_errors),
	    cmocka_unit_test(test_wrap_in_place),
	    cmocka_unit_test(test_unwrap_edge_cases),
	    cmocka_unit_test(test_capture_block100),
	    cmocka_unit_test(test_capture_block6000),
	    cmocka_unit_test(test_capture_bad_crc),
	    cmocka_unit_test(test_payload_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
