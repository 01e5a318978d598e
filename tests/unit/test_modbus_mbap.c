/* Modbus TCP framing: the LOCAL.md §1.3 request/response examples, conversion both ways
 * between ADUs and RTU frames, and every malformed header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <bluetti/bluetti.h>

#include "unit/testdata.h"

/* RTU read built by the RTU builder, wrapped as an ADU: the spec's bytes. */
static void test_read_request_from_rtu(void **state)
{
	uint8_t rtu[BLT_RTU_MAX], adu[BLT_MBAP_MAX], want[32];
	size_t n, len, wn;

	(void)state;
	assert_int_equal(blt_rtu_build_read(1, 50001, 9, rtu, sizeof rtu, &n), BLT_OK);
	assert_int_equal(blt_mbap_from_rtu(1, rtu, n, adu, sizeof adu, &len, NULL), BLT_OK);
	wn = test_hex("00 01 00 00 00 06 01 03 c3 51 00 09", want, sizeof want);
	assert_int_equal(len, wn);
	assert_memory_equal(adu, want, wn);

	assert_int_equal(blt_rtu_build_read(1, 57001, 1, rtu, sizeof rtu, &n), BLT_OK);
	assert_int_equal(blt_mbap_from_rtu(2, rtu, n, adu, sizeof adu, &len, NULL), BLT_OK);
	wn = test_hex("00 02 00 00 00 06 01 03 de a9 00 01", want, sizeof want);
	assert_memory_equal(adu, want, wn);
}

/* The write-echo reply names the internal register (2012): it parses into an RTU frame
 * the RTU parser accepts. */
static void test_write_echo_reply_to_rtu(void **state)
{
	uint8_t adu[32], rtu[BLT_RTU_MAX];
	size_t n = test_hex("00 03 00 00 00 06 01 06 07 dc 00 01", adu, sizeof adu), rn;
	blt_mbap_t m;
	blt_rtu_t r;

	(void)state;
	assert_int_equal(blt_mbap_parse(adu, n, &m, NULL), BLT_OK);
	assert_int_equal(m.tid, 3);
	assert_int_equal(m.unit, 1);
	assert_int_equal(m.adu_len, n);
	assert_int_equal(blt_mbap_to_rtu(&m, rtu, sizeof rtu, &rn, NULL), BLT_OK);
	assert_int_equal(blt_rtu_parse(rtu, rn, BLT_RTU_REPLY, &r, NULL), BLT_OK);
	assert_int_equal(r.function, BLT_FC_WRITE1);
	assert_int_equal(r.reg, 2012);
	assert_int_equal(r.value, 1);
}

static void test_read_reply_and_exception(void **state)
{
	uint8_t adu[32], rtu[BLT_RTU_MAX];
	size_t n, rn;
	blt_mbap_t m;
	blt_rtu_t r;

	(void)state;
	n = test_hex("00 02 00 00 00 05 01 03 02 00 01", adu, sizeof adu);
	assert_int_equal(blt_mbap_parse(adu, n, &m, NULL), BLT_OK);
	assert_int_equal(blt_mbap_to_rtu(&m, rtu, sizeof rtu, &rn, NULL), BLT_OK);
	assert_int_equal(blt_rtu_parse(rtu, rn, BLT_RTU_REPLY, &r, NULL), BLT_OK);
	assert_int_equal(r.nbytes, 2);
	assert_int_equal(r.data[1], 1);

	n = test_hex("00 07 00 00 00 03 01 83 02", adu, sizeof adu);
	assert_int_equal(blt_mbap_parse(adu, n, &m, NULL), BLT_OK);
	assert_int_equal(blt_mbap_to_rtu(&m, rtu, sizeof rtu, &rn, NULL), BLT_OK);
	assert_int_equal(blt_rtu_parse(rtu, rn, BLT_RTU_REPLY, &r, NULL), BLT_E_EXCEPTION);
	assert_int_equal(r.exception, 2);
}

/* A stream holding one and a half ADUs: the first parses, the rest is "need more". */
static void test_stream(void **state)
{
	uint8_t buf[64];
	size_t n =
	    test_hex("00 01 00 00 00 05 01 03 02 00 2a  00 02 00 00 00 05 01", buf, sizeof buf);
	blt_mbap_t m;
	blt_detail_t d = {{0}};

	(void)state;
	assert_int_equal(blt_mbap_parse(buf, n, &m, NULL), BLT_OK);
	assert_int_equal(m.adu_len, 11);
	assert_int_equal(blt_mbap_parse(buf + m.adu_len, n - m.adu_len, &m, &d), BLT_E_SHORT);
	assert_non_null(strstr(d.text, "incomplete"));
	for (size_t k = 0; k < 11; k++)
		assert_int_equal(blt_mbap_parse(buf, k, &m, NULL), BLT_E_SHORT);
}

static void test_malformed(void **state)
{
	uint8_t buf[300];
	size_t n;
	blt_mbap_t m;
	blt_detail_t d = {{0}};

	(void)state;
	n = test_hex("00 01 00 01 00 06 01 03 c3 51 00 09", buf, sizeof buf); /* protocol id 1 */
	assert_int_equal(blt_mbap_parse(buf, n, &m, &d), BLT_E_PROTOCOL);
	assert_non_null(strstr(d.text, "protocol id 1"));
	n = test_hex("00 01 00 00 00 01 01", buf, sizeof buf); /* length 1: unit id, no function */
	assert_int_equal(blt_mbap_parse(buf, n, &m, NULL), BLT_E_PROTOCOL);
	n = test_hex("00 01 00 00 01 00 01", buf, sizeof buf); /* length 256 > 254 */
	assert_int_equal(blt_mbap_parse(buf, n, &m, NULL), BLT_E_PROTOCOL);
	assert_int_equal(blt_mbap_parse(NULL, 0, &m, NULL), BLT_E_INVAL);

	/* An RTU frame with a broken CRC is not wrapped. */
	n = test_hex("01 03 c3 51 00 09 00 00", buf, sizeof buf);
	assert_int_equal(blt_mbap_from_rtu(1, buf, n, buf + 100, 100, &n, NULL), BLT_E_CRC);
	assert_int_equal(blt_mbap_from_rtu(1, buf, 3, buf + 100, 100, &n, NULL), BLT_E_SHORT);
}

static void test_buffers(void **state)
{
	uint8_t pdu[BLT_MBAP_PDU_MAX + 1] = {3}, out[BLT_MBAP_MAX];
	size_t len;
	blt_mbap_t m;

	(void)state;
	assert_int_equal(blt_mbap_build(9, 1, pdu, BLT_MBAP_PDU_MAX, out, sizeof out, &len, NULL),
	                 BLT_OK);
	assert_int_equal(len, BLT_MBAP_MAX);
	assert_int_equal(blt_mbap_parse(out, len, &m, NULL), BLT_OK);
	assert_int_equal(m.pdu_len, BLT_MBAP_PDU_MAX);
	assert_int_equal(
	    blt_mbap_build(9, 1, pdu, BLT_MBAP_PDU_MAX + 1, out, sizeof out, &len, NULL),
	    BLT_E_RANGE);
	assert_int_equal(blt_mbap_build(9, 1, pdu, 10, out, 16, &len, NULL), BLT_E_BUFSIZE);
	assert_int_equal(blt_mbap_to_rtu(&m, out, 10, &len, NULL), BLT_E_BUFSIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_read_request_from_rtu),
	    cmocka_unit_test(test_write_echo_reply_to_rtu),
	    cmocka_unit_test(test_read_reply_and_exception),
	    cmocka_unit_test(test_stream),
	    cmocka_unit_test(test_malformed),
	    cmocka_unit_test(test_buffers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
