/* Integration: blt_client over a real mosquitto (mutual TLS) against a scripted device side
 * built from the library's own transport and Modbus builders. The device listens on the
 * same transport (SUB/<model>/<sn>) and answers from its handler, so the client's own poll
 * drives both sides through the broker. Run through with_brokers.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <bluetti/bluetti.h>
#include <bluetti/client.h>
#include <bluetti/transport.h>

#include "it_util.h"

#define MODEL       "EL100V2"
#define SN          "2345678901234"
#define REQ_TOPIC   "SUB/" MODEL "/" SN
#define REPLY_TOPIC "PUB/" MODEL "/" SN

typedef struct world {
	blt_transport_t *t;
	uint8_t *pfx;
	int requests_seen;
} world_t;

static void publish_rtu(blt_transport_t *t, uint16_t reg, const uint8_t *rtu, size_t n,
                        bool corrupt, bool retain)
{
	uint8_t p[BLT_PAYLOAD_MAX];
	size_t len;
	assert_int_equal(blt_env_wrap(BLT_ENV_V2, reg, -71, rtu, n, p, sizeof p, &len), BLT_OK);
	if (corrupt)
		p[len - 1] ^= 0xFF;
	assert_int_equal(blt_transport_publish(t, REPLY_TOPIC, p, len, 1, retain, NULL), BLT_OK);
}

static void reply_read(blt_transport_t *t, uint8_t slave, uint16_t reg, uint16_t count,
                       uint16_t base, bool corrupt, bool retain)
{
	uint8_t data[250], rtu[BLT_RTU_MAX];
	size_t n;
	for (uint16_t i = 0; i < count; i++) {
		data[2 * i] = (uint8_t)((base + i) >> 8);
		data[2 * i + 1] = (uint8_t)(base + i);
	}
	assert_int_equal(
	    blt_rtu_build_read_reply(slave, data, 2 * (size_t)count, rtu, sizeof rtu, &n), BLT_OK);
	publish_rtu(t, reg, rtu, n, corrupt, retain);
}

/* The scripted device: behaviour chosen by the requested register. */
static void device(void *user, const char *topic, const uint8_t *payload, size_t len, bool retained)
{
	world_t *w = user;
	blt_env_info_t env;
	blt_rtu_t req;
	uint8_t rtu[BLT_RTU_MAX];
	size_t n;
	(void)topic;

	if (retained || blt_env_unwrap(payload, len, &env, NULL) != BLT_OK ||
	    blt_rtu_parse(env.rtu, env.rtu_len, BLT_RTU_REQUEST, &req, NULL) != BLT_OK)
		return;
	w->requests_seen++;
	if (req.function == BLT_FC_WRITE1) {
		publish_rtu(w->t, req.reg, env.rtu, env.rtu_len, false, false); /* echo */
		return;
	}
	if (req.function != BLT_FC_READ)
		return;
	switch (req.reg) {
	case 100: /* plain good reply */
		reply_read(w->t, req.slave, req.reg, req.count, 0x1000, false, false);
		break;
	case 101: /* a corrupted reply first, then the good one */
		reply_read(w->t, req.slave, req.reg, req.count, 0x2000, true, false);
		reply_read(w->t, req.slave, req.reg, req.count, 0x1000, false, false);
		break;
	case 102: { /* an unsolicited FC10 push (block 1300) before the reply */
		const uint16_t v[4] = {230, 50, 0, 7};
		assert_int_equal(blt_rtu_build_writen(req.slave, 1300, v, 4, rtu, sizeof rtu, &n),
		                 BLT_OK);
		publish_rtu(w->t, 1300, rtu, n, false, false);
		reply_read(w->t, req.slave, req.reg, req.count, 0x1000, false, false);
		break;
	}
	case 103: /* silence */ break;
	case 104: /* another slave answers first */
		reply_read(w->t, (uint8_t)(req.slave + 1), req.reg, req.count, 0x5555, false,
		           false);
		reply_read(w->t, req.slave, req.reg, req.count, 0x1000, false, false);
		break;
	case 105: /* only corrupted replies */
		reply_read(w->t, req.slave, req.reg, req.count, 0x2000, true, false);
		break;
	}
}

static int setup(void **state)
{
	static world_t w;
	blt_detail_t d = {""};
	uint16_t port = it_broker_start("client", "");
	blt_mqtt_opts_t o = it_tls_opts("localhost", port, "client.pfx", &w.pfx);
	memset(&w.requests_seen, 0, sizeof w.requests_seen);
	if (blt_mqtt_new(&o, &w.t, &d) != BLT_OK || blt_transport_connect(w.t, &d) != BLT_OK ||
	    blt_transport_listen(w.t, REQ_TOPIC, device, &w, &d) != BLT_OK) {
		fprintf(stderr, "setup: %s\n", d.text);
		return -1;
	}
	*state = &w;
	return 0;
}

static int teardown(void **state)
{
	world_t *w = *state;
	blt_transport_free(w->t);
	free(w->pfx);
	it_broker_stop("client");
	return 0;
}

static blt_client_t *new_client(world_t *w, int timeout_ms)
{
	blt_client_t *c = NULL;
	blt_detail_t d = {""};
	blt_client_opts_t o = {
	    .model = MODEL, .sn = SN, .slave = -1, .envelope = -1, .timeout_ms = timeout_ms};
	assert_int_equal(blt_client_new(w->t, &o, &c, &d), BLT_OK);
	assert_int_equal(blt_client_start(c, &d), BLT_OK);
	return c;
}

static uint16_t first_reg(const uint8_t *data)
{
	return (uint16_t)(data[0] << 8 | data[1]);
}

typedef struct seen {
	int n;
	uint16_t reg;
	uint8_t function;
} seen_t;

static void on_unsol(void *user, const blt_rtu_t *f, const uint8_t *payload, size_t len)
{
	seen_t *s = user;
	(void)payload, (void)len;
	s->n++;
	s->reg = f->reg;
	s->function = f->function;
}

static void test_retained_then_read(void **state)
{
	world_t *w = *state;
	blt_detail_t d = {""};
	uint8_t data[64];
	size_t n;
	/* a retained, perfectly matching reply is already on the reply topic */
	reply_read(w->t, 0, 100, 4, 0x7777, false, true);
	for (int i = 0; i < 5; i++)
		blt_transport_poll(w->t, 20, NULL);
	blt_client_t *c = new_client(w, 3000);
	assert_int_equal(blt_client_read(c, 100, 4, data, sizeof data, &n, &d), BLT_OK);
	assert_int_equal(n, 8);
	assert_int_equal(first_reg(data), 0x1000); /* the device's answer, not the retained */
	blt_client_free(c);
	/* clear the retained message */
	assert_int_equal(blt_transport_publish(w->t, REPLY_TOPIC, NULL, 0, 1, true, &d), BLT_OK);
	for (int i = 0; i < 5; i++)
		blt_transport_poll(w->t, 20, NULL);
}

static void test_bad_crc_then_good(void **state)
{
	world_t *w = *state;
	blt_detail_t d = {""};
	blt_client_stats_t st;
	uint8_t data[64];
	size_t n;
	blt_client_t *c = new_client(w, 3000);
	assert_int_equal(blt_client_read(c, 101, 4, data, sizeof data, &n, &d), BLT_OK);
	assert_int_equal(first_reg(data), 0x1000);
	blt_client_stats(c, &st);
	assert_int_equal(st.bad_frames, 1);
	assert_int_equal(st.last_rssi, -71);
	blt_client_free(c);
}

static void test_unsolicited_before_reply(void **state)
{
	world_t *w = *state;
	blt_detail_t d = {""};
	seen_t s = {0};
	uint8_t data[64];
	size_t n;
	blt_client_t *c = new_client(w, 3000);
	blt_client_on_unsolicited(c, on_unsol, &s);
	assert_int_equal(blt_client_read(c, 102, 4, data, sizeof data, &n, &d), BLT_OK);
	assert_int_equal(first_reg(data), 0x1000);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.function, 0x10);
	assert_int_equal(s.reg, 1300);
	blt_client_free(c);
}

static void test_timeout_no_device(void **state)
{
	world_t *w = *state;
	blt_detail_t d = {""};
	uint8_t data[64];
	size_t n;
	blt_client_t *c = new_client(w, 300);
	assert_int_equal(blt_client_read(c, 103, 4, data, sizeof data, &n, &d), BLT_E_TIMEOUT);
	assert_non_null(strstr(d.text, REPLY_TOPIC));
	assert_non_null(strstr(d.text, "at 103"));
	blt_client_free(c);
}

static void test_other_slave_ignored(void **state)
{
	world_t *w = *state;
	blt_detail_t d = {""};
	seen_t s = {0};
	uint8_t data[64];
	size_t n;
	blt_client_t *c = new_client(w, 3000);
	blt_client_on_unsolicited(c, on_unsol, &s);
	assert_int_equal(blt_client_read(c, 104, 4, data, sizeof data, &n, &d), BLT_OK);
	assert_int_equal(first_reg(data), 0x1000);
	assert_int_equal(s.n, 1);
	blt_client_free(c);
}

static void test_only_bad_frames(void **state)
{
	world_t *w = *state;
	blt_detail_t d = {""};
	uint8_t data[64];
	size_t n;
	blt_client_t *c = new_client(w, 300);
	assert_int_equal(blt_client_read(c, 105, 4, data, sizeof data, &n, &d), BLT_E_TIMEOUT);
	assert_non_null(strstr(d.text, "1 invalid frames received (last: CRC mismatch)"));
	blt_client_free(c);
}

static void test_write_echo(void **state)
{
	world_t *w = *state;
	blt_detail_t d = {""};
	blt_client_t *c = new_client(w, 3000);
	assert_int_equal(blt_client_write1_raw(c, 2011, 1, &d), BLT_OK);
	blt_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_retained_then_read),
	    cmocka_unit_test(test_bad_crc_then_good),
	    cmocka_unit_test(test_unsolicited_before_reply),
	    cmocka_unit_test(test_timeout_no_device),
	    cmocka_unit_test(test_other_slave_ignored),
	    cmocka_unit_test(test_only_bad_frames),
	    cmocka_unit_test(test_write_echo),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
