/* Client request/reply correlation against a scripted in-memory transport (no network):
 * exact request bytes and topics per preset, timeouts, bad frames, unsolicited pushes,
 * retained messages, other slaves, exceptions, write echoes, retries, BUSY. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <bluetti/bluetti.h>
#include <bluetti/client.h>
#include <bluetti/transport.h>

#include "unit/fake_transport.h"

/* The shared fake transport (tests/unit/fake_transport.h) in real time: one device answers
 * each request, in V2 envelopes with RSSI -71. */
static void fake_init(fake_transport_t *f)
{
	fake_transport_init_realtime(f);
	f->rssi = -71;
}

/* --- scripts ------------------------------------------------------------------------------ */

FAKE_SCRIPT(s_good)
{
	fake_queue_read_reply(f, NULL, 0, 0x1000, 4, false);
}

FAKE_SCRIPT(s_badcrc_then_good)
{
	fake_queue_read_reply(f, NULL, 0, 0x2000, 4, false);
	f->q[0].p[f->q[0].n - 1] ^= 0xFF; /* break the CRC */
	fake_queue_read_reply(f, NULL, 0, 0x1000, 4, false);
}

FAKE_SCRIPT(s_badcrc_only)
{
	fake_queue_read_reply(f, NULL, 0, 0x2000, 4, false);
	f->q[0].p[f->q[0].n - 1] ^= 0xFF;
	/* and a truncated V2 envelope */
	f->q[1].p[0] = 0x01;
	f->q[1].p[1] = 0xF8;
	f->q[1].n = 5;
	f->nq = 2;
}

FAKE_SCRIPT(s_push_then_good)
{
	uint8_t rtu[BLT_RTU_MAX];
	size_t len;
	const uint16_t vals[3] = {1, 2, 3};
	/* device-originated FC10 push (request-shaped) for block 1300 */
	assert_int_equal(blt_rtu_build_writen(0, 1300, vals, 3, rtu, sizeof rtu, &len), BLT_OK);
	fake_queue_env(f, NULL, BLT_ENV_V2, 1300, rtu, len, false);
	fake_queue_read_reply(f, NULL, 0, 0x1000, 4, false);
}

FAKE_SCRIPT(s_retained_then_good)
{
	fake_queue_read_reply(f, NULL, 0, 0x7777, 4, true);
	fake_queue_read_reply(f, NULL, 0, 0x1000, 4, false);
}

FAKE_SCRIPT(s_other_slave_then_good)
{
	fake_queue_read_reply(f, NULL, 1, 0x5555, 4, false);
	fake_queue_read_reply(f, NULL, 0, 0x1000, 4, false);
}

FAKE_SCRIPT(s_late_reply_other_reg_then_good)
{
	uint8_t rtu[BLT_RTU_MAX], data[8] = {0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66};
	size_t len;
	/* a plausible read reply whose V2 envelope names register 6000, not 100 */
	assert_int_equal(blt_rtu_build_read_reply(0, data, 8, rtu, sizeof rtu, &len), BLT_OK);
	fake_queue_env(f, NULL, BLT_ENV_V2, 6000, rtu, len, false);
	fake_queue_read_reply(f, NULL, 0, 0x1000, 4, false);
}

FAKE_SCRIPT(s_too_many_regs_then_good)
{
	fake_queue_read_reply(f, NULL, 0, 0x4444, 5,
	                      false); /* 5 registers for a read of 4: not ours */
	fake_queue_read_reply(f, NULL, 0, 0x1000, 3, false); /* fewer than asked: fine (§1.3) */
}

FAKE_SCRIPT(s_exception)
{
	uint8_t rtu[8];
	size_t len;
	assert_int_equal(blt_rtu_build_exception(0, 0x03, 2, rtu, sizeof rtu, &len), BLT_OK);
	fake_queue_env(f, NULL, BLT_ENV_V2, 0, rtu, len, false);
}

FAKE_SCRIPT(s_echo)
{
	/* echo what was published, envelope stripped */
	fake_queue_env(f, NULL, BLT_ENV_V2, 0, f->pub + BLT_ENV_V2_LEN, f->pub_len - BLT_ENV_V2_LEN,
	               false);
}

FAKE_SCRIPT(s_bad_echo)
{
	uint8_t rtu[8];
	size_t len;
	assert_int_equal(blt_rtu_build_write1(0, 2011, 0, rtu, sizeof rtu, &len), BLT_OK);
	fake_queue_env(f, NULL, BLT_ENV_V2, 0, rtu, len, false);
}

FAKE_SCRIPT(s_writen_reply)
{
	uint8_t rtu[8];
	size_t len;
	assert_int_equal(blt_rtu_build_writen_reply(0, 2011, 2, rtu, sizeof rtu, &len), BLT_OK);
	fake_queue_env(f, NULL, BLT_ENV_V2, 0, rtu, len, false);
}

FAKE_SCRIPT(s_second_attempt)
{
	if (f->npub >= 2)
		fake_queue_read_reply(f, NULL, 0, 0x1000, 4, false);
}

FAKE_SCRIPT(s_seed)
{
	uint8_t data[4] = {0x12, 0x34, 0x56, 0x78}, rtu[16];
	size_t len;
	assert_int_equal(blt_rtu_build_read_reply(1, data, 4, rtu, sizeof rtu, &len), BLT_OK);
	fake_queue_env(f, NULL, BLT_ENV_BARE, 0, rtu, len, false);
}

/* --- tests ------------------------------------------------------------------------------- */

static void read4(blt_client_t *c, int expect_rc, uint16_t expect_first, blt_detail_t *d)
{
	uint8_t data[16];
	size_t n = 0;
	int rc = blt_client_read(c, 100, 4, data, sizeof data, &n, d);
	assert_int_equal(rc, expect_rc);
	if (rc == BLT_OK) {
		assert_true(n >= 6);
		assert_int_equal(data[0] << 8 | data[1], expect_first);
	}
}

static void test_read_v2_exact_bytes(void **state)
{
	fake_transport_t f;
	blt_detail_t d = {""};
	blt_client_stats_t st;
	uint8_t data[200];
	size_t n;
	/* PROTOCOL.md §1.2: read 100 x 66, address 0, in the V2 envelope */
	const uint8_t want[] = {0x01, 0xf8, 0x0f, 0x00, 0x64, 0,    0,    0,    0,
	                        0,    0x00, 0x03, 0x00, 0x64, 0x00, 0x42, 0x85, 0xf5};
	(void)state;
	fake_init(&f);
	f.script = s_good;
	blt_client_t *c = fake_client(&f, NULL, NULL, 500, 0);
	assert_string_equal(f.ls[0].topic, "PUB/EL100V2/2345678901234");
	assert_int_equal(blt_client_read(c, 100, 66, data, sizeof data, &n, &d), BLT_OK);
	assert_string_equal(f.pub_topic, "SUB/EL100V2/2345678901234");
	assert_int_equal(f.pub_qos, 1);
	assert_int_equal(f.pub_len, sizeof want);
	assert_memory_equal(f.pub, want, sizeof want);
	assert_int_equal(n, 8);
	assert_int_equal(data[0], 0x10);
	blt_client_stats(c, &st);
	assert_int_equal(st.requests, 1);
	assert_int_equal(st.replies, 1);
	assert_int_equal(st.timeouts, 0);
	assert_int_equal(st.last_rssi, -71);
	blt_client_free(c);
	assert_int_equal(f.unlistened, 1);
}

static void test_timeout_names_topic_and_register(void **state)
{
	fake_transport_t f;
	blt_detail_t d = {""};
	blt_client_stats_t st;
	(void)state;
	fake_init(&f);
	blt_client_t *c = fake_client(&f, NULL, "v2", 30, 0);
	read4(c, BLT_E_TIMEOUT, 0, &d);
	assert_non_null(strstr(d.text, "PUB/EL100V2/2345678901234"));
	assert_non_null(strstr(d.text, "at 100"));
	assert_non_null(strstr(d.text, "30 ms"));
	blt_client_stats(c, &st);
	assert_int_equal(st.timeouts, 1);
	assert_int_equal(st.replies, 0);
	blt_client_free(c);
}

static void test_bad_crc_then_good(void **state)
{
	fake_transport_t f;
	blt_detail_t d = {""};
	blt_client_stats_t st;
	(void)state;
	fake_init(&f);
	f.script = s_badcrc_then_good;
	blt_client_t *c = fake_client(&f, NULL, NULL, 500, 0);
	read4(c, BLT_OK, 0x1000, &d);
	blt_client_stats(c, &st);
	assert_int_equal(st.bad_frames, 1);
	assert_int_equal(st.replies, 1);
	blt_client_free(c);
}

static void test_only_bad_frames(void **state)
{
	fake_transport_t f;
	blt_detail_t d = {""};
	(void)state;
	fake_init(&f);
	f.script = s_badcrc_only;
	blt_client_t *c = fake_client(&f, NULL, NULL, 40, 0);
	read4(c, BLT_E_TIMEOUT, 0, &d);
	assert_non_null(strstr(d.text, "2 invalid frames received (last: malformed envelope)"));
	blt_client_free(c);
}

FAKE_SCRIPT(s_crc_once)
{
	fake_queue_read_reply(f, NULL, 0, 0x2000, 4, false);
	f->q[0].p[f->q[0].n - 2] ^= 0x01;
}

static void test_crc_named_in_timeout(void **state)
{
	fake_transport_t f;
	blt_detail_t d = {""};
	(void)state;
	fake_init(&f);
	f.script = s_crc_once;
	blt_client_t *c = fake_client(&f, NULL, NULL, 40, 0);
	read4(c, BLT_E_TIMEOUT, 0, &d);
	assert_non_null(strstr(d.text, "1 invalid frames received (last: CRC mismatch)"));
	blt_client_free(c);
}

typedef struct seen {
	int n;
	uint8_t function;
	uint16_t reg;
	uint8_t slave;
} seen_t;

static void on_unsol(void *user, const blt_rtu_t *fr, const uint8_t *payload, size_t len)
{
	seen_t *s = user;
	(void)payload;
	assert_true(len > 0);
	s->n++;
	s->function = fr->function;
	s->reg = fr->reg;
	s->slave = fr->slave;
}

static void test_unsolicited_push_before_reply(void **state)
{
	fake_transport_t f;
	blt_detail_t d = {""};
	blt_client_stats_t st;
	seen_t s = {0};
	(void)state;
	fake_init(&f);
	f.script = s_push_then_good;
	blt_client_t *c = fake_client(&f, NULL, NULL, 500, 0);
	blt_client_on_unsolicited(c, on_unsol, &s);
	read4(c, BLT_OK, 0x1000, &d);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.function, 0x10);
	assert_int_equal(s.reg, 1300);
	blt_client_stats(c, &st);
	assert_int_equal(st.unsolicited, 1);
	assert_int_equal(st.bad_frames, 0);
	blt_client_free(c);
}

static void test_retained_ignored(void **state)
{
	fake_transport_t f;
	blt_detail_t d = {""};
	blt_client_stats_t st;
	(void)state;
	fake_init(&f);
	f.script = s_retained_then_good;
	blt_client_t *c = fake_client(&f, NULL, NULL, 500, 0);
	read4(c, BLT_OK, 0x1000, &d); /* not 0x7777 from the retained one */
	blt_client_stats(c, &st);
	assert_int_equal(st.replies, 1);
	blt_client_free(c);
}

static void test_other_slave_ignored(void **state)
{
	fake_transport_t f;
	blt_detail_t d = {""};
	seen_t s = {0};
	(void)state;
	fake_init(&f);
	f.script = s_other_slave_then_good;
	blt_client_t *c = fake_client(&f, NULL, NULL, 500, 0);
	blt_client_on_unsolicited(c, on_unsol, &s);
	read4(c, BLT_OK, 0x1000, &d);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.slave, 1);
	blt_client_free(c);
}

/* Bytes 3-4 of a device's V2 envelope are a cycle counter in the firmware (LOCAL.md §5
 * item 4): a reply naming another register there is taken until the device has shown that
 * it echoes the register (test_client_async: test_envelope_echo_learned). */
static void test_envelope_register_not_a_filter(void **state)
{
	fake_transport_t f;
	blt_detail_t d = {""};
	(void)state;
	fake_init(&f);
	f.script = s_late_reply_other_reg_then_good;
	blt_client_t *c = fake_client(&f, NULL, NULL, 500, 0);
	read4(c, BLT_OK, 0x6666, &d);
	blt_client_free(c);
}

static void test_length_plausibility(void **state)
{
	fake_transport_t f;
	blt_detail_t d = {""};
	uint8_t data[16];
	size_t n = 0;
	(void)state;
	fake_init(&f);
	f.script = s_too_many_regs_then_good;
	blt_client_t *c = fake_client(&f, NULL, NULL, 500, 0);
	assert_int_equal(blt_client_read(c, 100, 4, data, sizeof data, &n, &d), BLT_OK);
	assert_int_equal(n, 6);
	assert_int_equal(data[0], 0x10);
	blt_client_free(c);
}

static void test_exception(void **state)
{
	fake_transport_t f;
	blt_detail_t d = {""};
	blt_client_stats_t st;
	uint8_t exc = 0, reply[16], req[8];
	size_t rl, n;
	(void)state;
	fake_init(&f);
	f.script = s_exception;
	blt_client_t *c = fake_client(&f, NULL, NULL, 500, 0);
	read4(c, BLT_E_EXCEPTION, 0, &d);
	assert_non_null(strstr(d.text, "illegal data address"));
	assert_int_equal(blt_rtu_build_read(0, 100, 4, req, sizeof req, &rl), BLT_OK);
	assert_int_equal(blt_client_transact(c, req, rl, reply, sizeof reply, &n, &exc, &d),
	                 BLT_E_EXCEPTION);
	assert_int_equal(exc, 2);
	blt_client_stats(c, &st);
	assert_int_equal(st.exceptions, 2);
	blt_client_free(c);
}

static void test_write1_echo(void **state)
{
	fake_transport_t f;
	blt_detail_t d = {""};
	/* PROTOCOL.md §1.5: battery-ha's V2 enveloped AC-on write, slave 0 */
	const uint8_t want[] = {0x01, 0xf8, 0x0f, 0x07, 0xdb, 0,    0,    0,    0,
	                        0,    0x00, 0x06, 0x07, 0xdb, 0x00, 0x01, 0x38, 0x94};
	(void)state;
	fake_init(&f);
	f.script = s_echo;
	blt_client_t *c = fake_client(&f, NULL, NULL, 500, 0);
	assert_int_equal(blt_client_write1_raw(c, 2011, 1, &d), BLT_OK);
	assert_memory_equal(f.pub, want, sizeof want);
	/* an echo with another value is not our reply: no confirmation, a timeout */
	f.script = s_bad_echo;
	blt_client_free(c);
	c = fake_client(&f, NULL, NULL, 40, 0);
	assert_int_equal(blt_client_write1_raw(c, 2011, 1, &d), BLT_E_TIMEOUT);
	blt_client_free(c);
}

static void test_writen(void **state)
{
	fake_transport_t f;
	blt_detail_t d = {""};
	const uint16_t v[2] = {1, 1};
	(void)state;
	fake_init(&f);
	f.script = s_writen_reply;
	blt_client_t *c = fake_client(&f, NULL, NULL, 500, 0);
	assert_int_equal(blt_client_writen_raw(c, 2011, v, 2, &d), BLT_OK);
	/* request as in PROTOCOL.md §1.6 (slave 0 here) */
	assert_int_equal(f.pub_len, BLT_ENV_V2_LEN + 13);
	assert_int_equal(f.pub[BLT_ENV_V2_LEN + 1], 0x10);
	assert_int_equal(blt_client_writen_raw(c, 2011, v, 0, &d), BLT_E_RANGE);
	blt_client_free(c);
}

static void test_retries(void **state)
{
	fake_transport_t f;
	blt_detail_t d = {""};
	blt_client_stats_t st;
	(void)state;
	fake_init(&f);
	f.script = s_second_attempt;
	blt_client_t *c = fake_client(&f, NULL, NULL, 30, 1);
	read4(c, BLT_OK, 0x1000, &d);
	blt_client_stats(c, &st);
	assert_int_equal(st.requests, 2);
	assert_int_equal(st.timeouts, 1);
	assert_int_equal(f.npub, 2);
	blt_client_free(c);
}

static void test_seed_preset(void **state)
{
	fake_transport_t f;
	blt_detail_t d = {""};
	uint8_t data[8];
	size_t n;
	const uint8_t want[] = {0x01, 0x03, 0x00, 0x64, 0x00, 0x42, 0x84, 0x24};
	(void)state;
	fake_init(&f);
	f.script = s_seed;
	blt_client_t *c = fake_client(&f, NULL, "seed", 500, 0);
	assert_string_equal(f.ls[0].topic, "PUB/2345678901234");
	assert_int_equal(blt_client_read(c, 100, 66, data, sizeof data, &n, &d), BLT_OK);
	assert_string_equal(f.pub_topic, "SUB/2345678901234");
	assert_int_equal(f.pub_len, sizeof want);
	assert_memory_equal(f.pub, want, sizeof want);
	assert_int_equal(n, 4);
	assert_int_equal(data[3], 0x78);
	/* buffer too small for the register data */
	assert_int_equal(blt_client_read(c, 100, 66, data, 2, &n, &d), BLT_E_BUFSIZE);
	blt_client_free(c);
}

static void test_bad_options(void **state)
{
	fake_transport_t f;
	blt_client_t *c = NULL;
	blt_detail_t d = {""};
	blt_client_opts_t o = {.model = "EL100V2", .sn = "A/B", .slave = -1, .envelope = -1};
	const char *bad[] = {"A/B", "+", "#", "", "a b", "x\n", NULL};
	(void)state;
	fake_init(&f);
	for (int i = 0; bad[i]; i++) {
		o.sn = bad[i];
		assert_int_equal(blt_client_new(&f.base, &o, &c, &d), BLT_E_SERIAL);
		assert_null(c);
	}
	o.sn = NULL;
	assert_int_equal(blt_client_new(&f.base, &o, &c, &d), BLT_E_SERIAL);
	o.sn = "SN1";
	o.model = "EL/100";
	assert_int_equal(blt_client_new(&f.base, &o, &c, &d), BLT_E_SERIAL);
	o.model = "EL100V2";
	o.preset = "nope";
	assert_int_equal(blt_client_new(&f.base, &o, &c, &d), BLT_E_NOT_FOUND);
	o.preset = NULL;
	o.sub_topic = "PUB/#";
	assert_int_equal(blt_client_new(&f.base, &o, &c, &d), BLT_E_CONFIG);
	o.sub_topic = "X/{sn}";
	o.pub_topic = "X/{sn}";
	assert_int_equal(blt_client_new(&f.base, &o, &c, &d), BLT_E_CONFIG);
	o.pub_topic = NULL;
	o.slave = 300;
	assert_int_equal(blt_client_new(&f.base, &o, &c, &d), BLT_E_CONFIG);
	o.slave = -1;
	o.timeout_ms = -5;
	assert_int_equal(blt_client_new(&f.base, &o, &c, &d), BLT_E_CONFIG);
	o.timeout_ms = 0;
	assert_int_equal(blt_client_new(NULL, &o, &c, &d), BLT_E_INVAL);
	assert_int_equal(blt_client_new(&f.base, &o, &c, &d), BLT_OK);
	blt_client_free(c);
}

static blt_client_t *reentrant_client;
static int reentrant_rc;

static void on_unsol_reenter(void *user, const blt_rtu_t *fr, const uint8_t *p, size_t n)
{
	uint8_t data[8];
	size_t nb;
	(void)user, (void)fr, (void)p, (void)n;
	reentrant_rc = blt_client_read(reentrant_client, 1, 1, data, sizeof data, &nb, NULL);
}

static void test_busy(void **state)
{
	fake_transport_t f;
	blt_detail_t d = {""};
	(void)state;
	fake_init(&f);
	f.script = s_push_then_good;
	reentrant_client = fake_client(&f, NULL, NULL, 500, 0);
	blt_client_on_unsolicited(reentrant_client, on_unsol_reenter, NULL);
	read4(reentrant_client, BLT_OK, 0x1000, &d);
	assert_int_equal(reentrant_rc, BLT_E_BUSY);
	blt_client_free(reentrant_client);
}

static void test_bad_request(void **state)
{
	fake_transport_t f;
	blt_detail_t d = {""};
	uint8_t req[8] = {0, 3, 0, 100, 0, 4, 0, 0}, reply[16];
	size_t n;
	(void)state;
	fake_init(&f);
	blt_client_t *c = fake_client(&f, NULL, NULL, 500, 0);
	assert_int_equal(blt_client_transact(c, req, sizeof req, reply, sizeof reply, &n, NULL, &d),
	                 BLT_E_CRC);
	assert_int_equal(f.npub, 0);
	assert_int_equal(blt_client_read(c, 100, 126, reply, sizeof reply, &n, &d), BLT_E_RANGE);
	blt_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_read_v2_exact_bytes),
	    cmocka_unit_test(test_timeout_names_topic_and_register),
	    cmocka_unit_test(test_bad_crc_then_good),
	    cmocka_unit_test(test_only_bad_frames),
	    cmocka_unit_test(test_crc_named_in_timeout),
	    cmocka_unit_test(test_unsolicited_push_before_reply),
	    cmocka_unit_test(test_retained_ignored),
	    cmocka_unit_test(test_other_slave_ignored),
	    cmocka_unit_test(test_envelope_register_not_a_filter),
	    cmocka_unit_test(test_length_plausibility),
	    cmocka_unit_test(test_exception),
	    cmocka_unit_test(test_write1_echo),
	    cmocka_unit_test(test_writen),
	    cmocka_unit_test(test_retries),
	    cmocka_unit_test(test_seed_preset),
	    cmocka_unit_test(test_bad_options),
	    cmocka_unit_test(test_busy),
	    cmocka_unit_test(test_bad_request),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
