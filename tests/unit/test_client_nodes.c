/* Client requests of nodes (NODE_INFO, PROTOCOL.md §1.6) against a scripted in-memory
 * transport: the exact NODE_INFO query bytes (as battery-ha asserts them), the FC10-shaped
 * answer taken and a plain FC10 acknowledgement not, an exception passed on, reads at a
 * node's slave address, and reply lengths learned per slave (a pack answering the full
 * length after the unit answered short is not a stray). */
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
#include "unit/testdata.h"

/* The shared fake transport (tests/unit/fake_transport.h) in real time: one device answers
 * each request, in V2 envelopes with RSSI -71. */
static void fake_init(fake_transport_t *f)
{
	fake_transport_init_realtime(f);
	f->rssi = -71;
}

/* --- scripts ------------------------------------------------------------------------------ */

static void queue_node_answer(fake_transport_t *f, uint8_t slave)
{
	uint8_t data[64], rtu[BLT_RTU_MAX];
	uint16_t regs[32];
	size_t n, len;
	/* The real AP300 node list (battery-ha, see tests/data/payloads/README.md). */
	n = test_data_hex("payloads/ap300_block21000.hex", data, sizeof data);
	for (size_t i = 0; i < n / 2; i++)
		regs[i] = (uint16_t)(data[2 * i] << 8 | data[2 * i + 1]);
	assert_int_equal(
	    blt_rtu_build_writen(slave, 21000, regs, (uint16_t)(n / 2), rtu, sizeof rtu, &len),
	    BLT_OK);
	fake_queue_env(f, NULL, BLT_ENV_V2, 0, rtu, len, false);
}

static void queue_ack(fake_transport_t *f)
{
	uint8_t rtu[16];
	size_t len;
	assert_int_equal(blt_rtu_build_writen_reply(0, 21000, 1, rtu, sizeof rtu, &len), BLT_OK);
	fake_queue_env(f, NULL, BLT_ENV_V2, 0, rtu, len, false);
}

FAKE_SCRIPT(s_ack_then_nodes)
{
	queue_ack(f);
	queue_node_answer(f, 0);
}

FAKE_SCRIPT(s_ack_only)
{
	queue_ack(f);
}

FAKE_SCRIPT(s_nodes_other_slave)
{
	queue_node_answer(f, 7);
}

FAKE_SCRIPT(s_exception)
{
	uint8_t rtu[16];
	size_t len;
	assert_int_equal(blt_rtu_build_exception(0, BLT_FC_WRITEN, 2, rtu, sizeof rtu, &len),
	                 BLT_OK);
	fake_queue_env(f, NULL, BLT_ENV_V2, 0, rtu, len, false);
}

/* Reads: the unit (slave 0) answers 6100 short (90 of 104 like the AP300), a pack at 51
 * answers all 104; a reply from slave 0 to a read at 51 is ignored. */
FAKE_SCRIPT(s_reads)
{
	uint8_t slave = f->pub[BLT_ENV_V2_LEN];
	if (slave == 51)
		fake_queue_read_reply(f, NULL, 0, 0x1000, 90,
		                      false); /* the wrong slave: not the answer */
	fake_queue_read_reply(f, NULL, slave, slave == 0 ? 0x0100 : 0x5100, slave == 0 ? 90 : 104,
	                      false);
}

/* --- tests -------------------------------------------------------------------------------- */

static void test_node_query_bytes_and_answer(void **state)
{
	fake_transport_t f;
	uint8_t data[256];
	size_t n = 0;
	blt_detail_t d = {""};
	(void)state;
	fake_init(&f);
	f.script = s_ack_then_nodes;
	blt_client_t *c = fake_client(&f, NULL, "v2", 300, 0);
	assert_int_equal(blt_client_node_info(c, data, sizeof data, &n, &d), BLT_OK);
	/* the query as the app sends it: V2 envelope naming 21000, FC10 of 1 to 21000 */
	static const uint8_t want[] = {0x01, 0xf8, 0x0f, 0x52, 0x08, 0,    0,    0,    0,   0,
	                               0x00, 0x10, 0x52, 0x08, 0x00, 0x01, 0x02, 0x00, 0x01};
	assert_int_equal(f.pub_len, sizeof want + 2);
	assert_memory_equal(f.pub, want, sizeof want);
	assert_int_equal(n, 52);
	assert_int_equal(data[3], 3);           /* node count */
	assert_int_equal(data[4 + 16 + 1], 11); /* the hub's slave */
	blt_client_free(c);
}

static void test_node_query_ack_or_other_slave_is_no_answer(void **state)
{
	fake_transport_t f;
	uint8_t data[256];
	size_t n = 0;
	blt_detail_t d = {""};
	(void)state;
	fake_init(&f);
	f.script = s_ack_only;
	blt_client_t *c = fake_client(&f, NULL, "v2", 200, 0);
	assert_int_equal(blt_client_node_info(c, data, sizeof data, &n, &d), BLT_E_TIMEOUT);
	f.script = s_nodes_other_slave;
	assert_int_equal(blt_client_node_info(c, data, sizeof data, &n, &d), BLT_E_TIMEOUT);
	/* the client is usable afterwards, and a plain read is not in NODE_INFO mode */
	f.script = s_reads;
	assert_int_equal(blt_client_read(c, 6100, 104, data, sizeof data, &n, &d), BLT_OK);
	assert_int_equal(n, 180);
	blt_client_free(c);
}

static void test_node_query_exception(void **state)
{
	fake_transport_t f;
	uint8_t data[256];
	size_t n = 0;
	blt_detail_t d = {""};
	(void)state;
	fake_init(&f);
	f.script = s_exception;
	blt_client_t *c = fake_client(&f, NULL, "v2", 300, 0);
	assert_int_equal(blt_client_node_info(c, data, sizeof data, &n, &d), BLT_E_EXCEPTION);
	assert_non_null(strstr(d.text, "exception 2"));
	blt_client_free(c);
}

static void test_read_at_slave_lengths_per_slave(void **state)
{
	fake_transport_t f;
	uint8_t data[256];
	size_t n = 0;
	blt_detail_t d = {""};
	blt_client_stats_t st;
	(void)state;
	fake_init(&f);
	f.script = s_reads;
	blt_client_t *c = fake_client(&f, NULL, "v2", 300, 0);
	assert_int_equal(blt_client_slave(c), 0);
	/* the unit: 90 registers, confirmed for (6100, 104) at slave 0 */
	for (int k = 0; k < 2; k++) {
		assert_int_equal(blt_client_read(c, 6100, 104, data, sizeof data, &n, &d), BLT_OK);
		assert_int_equal(n, 180);
	}
	/* the pack at 51: the request names slave 51; its full 104 registers are its answer */
	assert_int_equal(blt_client_read_at(c, 51, 6100, 104, data, sizeof data, &n, &d), BLT_OK);
	assert_int_equal(f.pub[BLT_ENV_V2_LEN], 51);
	assert_int_equal(n, 208);
	assert_int_equal(data[0], 0x51);
	assert_int_equal(blt_client_read_at(c, 51, 6100, 104, data, sizeof data, &n, &d), BLT_OK);
	assert_int_equal(n, 208);
	/* and the unit still gets its own */
	assert_int_equal(blt_client_read(c, 6100, 104, data, sizeof data, &n, &d), BLT_OK);
	assert_int_equal(n, 180);
	assert_int_equal(data[0], 0x01);
	blt_client_stats(c, &st);
	assert_int_equal(st.timeouts, 0);
	assert_int_equal(st.stray, 0);
	blt_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_node_query_bytes_and_answer),
	    cmocka_unit_test(test_node_query_ack_or_other_slave_is_no_answer),
	    cmocka_unit_test(test_node_query_exception),
	    cmocka_unit_test(test_read_at_slave_lengths_per_slave),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
