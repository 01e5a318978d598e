/* The Modbus TCP transport and reads through the open map, end to end:
 *  - against bluetti-sim --modbus-tcp: block reads through the map decoded with the block
 *    rows, silence on a read across a hole (a timeout, then the next read works), the
 *    device restarting on the same port (the transport reconnects by itself);
 *  - against a socket played by the test: a late reply with a stale transaction id is
 *    dropped, transaction id 0 is accepted, requests are paced, garbage closes the link;
 *  - against an independent server (pymodbus, mbtcp_server.py) loaded with the map.
 * Run through with_brokers.sh (scratch directory). */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cmocka.h>

#include <bluetti/bluetti.h>
#include <bluetti/client.h>
#include <bluetti/control.h>
#include <bluetti/transport.h>

#include "it_util.h"

#define SN "2434000112345"

static pid_t start_sim(const char *port_arg, uint16_t *port)
{
	char ready[512], log[512];
	const char *argv[] = {BLT_SIM_PATH,   "--modbus-tcp", port_arg,
	                      "--ready-file", ready,          "--soc",
	                      "60",           "-v",           NULL};
	pid_t pid;

	it_path(ready, sizeof ready, "BLT_IT_DIR", "mbsim.port");
	it_path(log, sizeof log, "BLT_IT_DIR", "mbsim.log");
	unlink(ready);
	pid = it_spawn(argv, log, NULL);
	*port = it_wait_port(ready, pid, 5000);
	assert_true(*port != 0);
	return pid;
}

static blt_client_t *new_client(blt_transport_t *t, int timeout_ms)
{
	blt_client_opts_t o;
	blt_client_t *c = NULL;
	blt_detail_t d = {{0}};

	memset(&o, 0, sizeof o);
	o.model = "EL100V2";
	o.sn = SN;
	o.preset = "modbus-tcp";
	o.slave = -1;
	o.envelope = -1;
	o.timeout_ms = timeout_ms;
	if (blt_client_new(t, &o, &c, &d) != BLT_OK || blt_client_start(c, &d) != BLT_OK)
		fail_msg("client: %s", d.text);
	return c;
}

static blt_transport_t *new_transport(uint16_t port, int gap_ms)
{
	blt_mbtcp_opts_t o;
	blt_transport_t *t = NULL;
	blt_detail_t d = {{0}};

	memset(&o, 0, sizeof o);
	o.host = "127.0.0.1";
	o.port = port;
	o.min_gap_ms = gap_ms;
	o.reconnect_min_ms = 200;
	o.reconnect_max_ms = 400;
	assert_int_equal(blt_mbtcp_new(&o, &t, &d), BLT_OK);
	assert_int_equal(blt_transport_connect(t, &d), BLT_OK);
	return t;
}

/* Read a block through the map and decode it with its own rows. */
static void read_block(blt_client_t *c, uint16_t id, uint16_t regs, blt_decoded_t *out)
{
	const blt_block_t *b = blt_catalog_find(id);
	uint8_t data[2 * BLT_MAX_READ_REGS], present[16];
	unsigned got = 0;
	size_t nd = 0;
	blt_decode_opts_t o;
	blt_detail_t d = {{0}};
	int rc;

	assert_non_null(b);
	rc = blt_client_read_mapped(c, id, regs, data, sizeof data, present, sizeof present, &got,
	                            &d);
	if (rc)
		fail_msg("mapped read of %u: %s: %s", id, blt_strerror(rc), d.text);
	assert_true(got > 0);
	memset(&o, 0, sizeof o);
	o.present = present;
	blt_decode(b, data, 2u * regs, &o, out, NULL);
	/* what the map did not deliver is reported as such, never as the zeros there */
	for (size_t i = 0; i < out->count; i++) {
		const blt_value_t *v = &out->values[i];
		if (v->status == BLT_VS_UNAVAILABLE && v->reason == BLT_VR_NOT_DELIVERED)
			nd++;
		if (v->status == BLT_VS_OK && !v->field->repeat)
			assert_non_null(
			    blt_tcpmap_find_internal((uint16_t)(id + v->field->offset / 2)));
	}
	assert_true(nd > 0);
}

static void test_sim_reads(void **state)
{
	uint16_t port;
	pid_t sim = start_sim("0", &port);
	blt_transport_t *t = new_transport(port, -1);
	blt_client_t *c = new_client(t, 1500);
	static blt_decoded_t r;
	uint8_t data[64];
	size_t nb = 0;
	double v;
	blt_detail_t d = {{0}};

	(void)state;
	read_block(c, 1300, 30, &r);
	assert_true(blt_decoded_num(&r, "frequency", &v));
	assert_true(v > 49.0 && v < 51.0);
	read_block(c, 6000, 20, &r);
	assert_true(blt_decoded_num(&r, "voltage", &v));
	assert_true(v > 40.0 && v < 60.0);

	/* across a hole the device stays silent: a timeout, not a dead link */
	assert_int_equal(blt_client_read(c, 50030, 5, data, sizeof data, &nb, &d), BLT_E_TIMEOUT);
	assert_int_equal(blt_client_read(c, 50214, 1, data, sizeof data, &nb, &d), BLT_OK);
	assert_int_equal(nb, 2);

	/* the device restarts on the same port: the transport reconnects by itself */
	{
		char p[8];
		uint16_t port2;
		int ok = 0;
		it_stop(&sim, SIGTERM, 10000);
		snprintf(p, sizeof p, "%u", port);
		sim = start_sim(p, &port2);
		assert_int_equal(port2, port);
		for (int i = 0; i < 40 && !ok; i++) {
			blt_transport_poll(t, 100, NULL);
			if (blt_transport_connected(t) &&
			    blt_client_read(c, 50214, 1, data, sizeof data, &nb, NULL) == BLT_OK)
				ok = 1;
		}
		assert_true(ok);
	}
	blt_client_free(c);
	blt_transport_free(t);
	it_stop(&sim, SIGTERM, 10000);
}

static int delivered;
static uint8_t last_rtu[BLT_RTU_MAX];
static size_t last_len;

static void on_msg(void *user, const char *topic, const uint8_t *p, size_t n, bool retained)
{
	(void)user;
	(void)topic;
	(void)retained;
	delivered++;
	memcpy(last_rtu, p, n < sizeof last_rtu ? n : sizeof last_rtu);
	last_len = n;
}

/* Receive one ADU on the device side while driving the transport (which sends queued
 * requests from its poll). */
static size_t recv_adu(blt_transport_t *t, int fd, uint8_t *buf)
{
	size_t have = 0, want = 7;

	for (int i = 0; i < 200; i++) {
		ssize_t n = recv(fd, buf + have, want - have, MSG_DONTWAIT);
		if (n > 0)
			have += (size_t)n;
		if (have == 7 && want == 7)
			want = 6 + (size_t)(buf[4] << 8 | buf[5]);
		if (have == want && want > 7)
			return have;
		blt_transport_poll(t, 20, NULL);
	}
	fail_msg("no request arrived");
	return 0;
}

static void test_transaction_ids_and_pacing(void **state)
{
	uint16_t port;
	int lfd = it_loopback_socket(2, &port), cfd;
	blt_transport_t *t = new_transport(port, 300);
	uint8_t rtu[16], adu[300];
	size_t n;
	/* reply to "read 50214 x1": 03 02 01 f4 */
	uint8_t stale[] = {0, 0, 0, 0, 0, 5, 1, 3, 2, 0x01, 0xf4};
	uint64_t t0, t1;
	blt_detail_t d = {{0}};

	(void)state;
	cfd = accept(lfd, NULL, NULL);
	assert_true(cfd >= 0);
	assert_int_equal(blt_transport_listen(t, "x", on_msg, NULL, &d), BLT_OK);
	assert_int_equal(blt_rtu_build_read(1, 50214, 1, rtu, sizeof rtu, &n), BLT_OK);
	assert_int_equal(blt_transport_publish(t, "x", rtu, n, 0, false, &d), BLT_OK);
	n = recv_adu(t, cfd, adu);
	assert_int_equal(n, 12);
	/* a reply with another transaction id (a late answer) is dropped, the right one taken */
	stale[0] = (uint8_t)(adu[0] ^ 0x40);
	stale[1] = adu[1];
	assert_int_equal(send(cfd, stale, sizeof stale, 0), (ssize_t)sizeof stale);
	stale[0] = adu[0];
	assert_int_equal(send(cfd, stale, sizeof stale, 0), (ssize_t)sizeof stale);
	for (int i = 0; i < 20 && delivered < 1; i++)
		blt_transport_poll(t, 50, NULL);
	blt_transport_poll(t, 50, NULL);
	assert_int_equal(delivered, 1);
	assert_int_equal(blt_mbtcp_stale_replies(t), 1);
	assert_int_equal(last_len, 7); /* an RTU frame: slave, 03, 02, data, CRC */
	assert_int_equal(last_rtu[0], 1);
	assert_int_equal(blt_crc16(last_rtu, 5), (uint16_t)(last_rtu[5] | last_rtu[6] << 8));

	/* two requests at once go out min_gap apart (ordering only; no timing assertions
	 * beyond "not both in the first poll") */
	t0 = blt_now_ms();
	assert_int_equal(blt_rtu_build_read(1, 50214, 1, rtu, sizeof rtu, &n), BLT_OK);
	rtu[n - 1] ^= 0xFF; /* a frame with a broken CRC is refused, not sent */
	assert_int_equal(blt_transport_publish(t, "x", rtu, n, 0, false, &d), BLT_E_CRC);
	rtu[n - 1] ^= 0xFF;
	assert_int_equal(blt_transport_publish(t, "x", rtu, n, 0, false, &d), BLT_OK);
	assert_int_equal(blt_transport_publish(t, "x", rtu, n, 0, false, &d), BLT_OK);
	recv_adu(t, cfd, adu);
	recv_adu(t, cfd, adu);
	t1 = blt_now_ms();
	printf("# two queued requests sent %llu ms apart (min_gap 300)\n",
	       (unsigned long long)(t1 - t0));
	/* transaction id 0 (the firmware's failed multi-register write) is accepted */
	delivered = 0;
	{
		uint8_t zero[] = {0, 0, 0, 0, 0, 3, 1, 0x90, 4};
		assert_int_equal(send(cfd, zero, sizeof zero, 0), (ssize_t)sizeof zero);
	}
	for (int i = 0; i < 20 && delivered < 1; i++)
		blt_transport_poll(t, 50, NULL);
	assert_int_equal(delivered, 1);
	assert_int_equal(last_rtu[1], 0x90);

	/* garbage (protocol id 7) drops the connection */
	{
		uint8_t bad[] = {0, 1, 0, 7, 0, 3, 1, 3, 0};
		assert_int_equal(send(cfd, bad, sizeof bad, 0), (ssize_t)sizeof bad);
	}
	for (int i = 0; i < 20 && blt_transport_connected(t); i++)
		blt_transport_poll(t, 50, NULL);
	assert_false(blt_transport_connected(t));
	close(cfd);
	blt_transport_free(t);
	close(lfd);
}

/* pymodbus as the device (an independent Modbus TCP server loaded with the map). */
static void test_pymodbus_server(void **state)
{
	char ready[512], log[512], script[512];
	const char *argv[] = {"/usr/bin/python3", script, ready, NULL};
	pid_t srv;
	uint16_t port;
	blt_transport_t *t;
	blt_client_t *c;
	static blt_decoded_t r;
	double v;

	(void)state;
	if (access("/usr/bin/python3", X_OK) != 0 ||
	    it_sh("/usr/bin/python3 -c 'import pymodbus' 2>/dev/null") != 0) {
		printf("# python3-pymodbus missing: skipped\n");
		skip();
	}
	snprintf(script, sizeof script, "%s", BLT_MBTCP_SERVER);
	it_path(ready, sizeof ready, "BLT_IT_DIR", "pymodbus.port");
	it_path(log, sizeof log, "BLT_IT_DIR", "pymodbus.log");
	unlink(ready);
	srv = it_spawn(argv, log, NULL);
	port = it_wait_port(ready, srv, 5000);
	assert_true(port != 0);
	t = new_transport(port, -1);
	c = new_client(t, 2000);
	/* the server holds a 60 Hz / 120 V grid at the public addresses of 1300 */
	read_block(c, 1300, 30, &r);
	assert_true(blt_decoded_num(&r, "frequency", &v));
	assert_float_equal(v, 60.0, 0.001);
	read_block(c, 6000, 20, &r);
	assert_true(blt_decoded_num(&r, "voltage", &v));
	assert_float_equal(v, 52.34, 0.001);
	{
		/* a gated write through an independent server: FC06 to the public alias 57005,
		 * which pymodbus echoes as sent (the firmware would name 2012; both are
		 * accepted), then read back through the map */
		blt_client_opts_t o;
		blt_write_opts_t wo;
		blt_write_result_t wr;
		blt_detail_t d = {{0}};
		int32_t now = -1;

		memset(&o, 0, sizeof o);
		o.model = "EL100V2";
		o.sn = SN;
		o.preset = "modbus-tcp";
		o.slave = -1;
		o.envelope = -1;
		memset(&wo, 0, sizeof wo);
		wo.wire = &o;
		wo.verify_interval_ms = 100;
		if (blt_setting_write(c, "EL100V2", blt_setting_find("dc_output"), 1, &wo, &wr,
		                      &d) != BLT_OK)
			fail_msg("dc_output on through pymodbus: %s", d.text);
		assert_int_equal(wr.rtu[2] << 8 | wr.rtu[3], 57005);
		assert_true(wr.have_old && wr.old_value == 0 && wr.readback == 1);
		assert_int_equal(
		    blt_setting_read(c, "EL100V2", blt_setting_find("dc_output"), &now, &d),
		    BLT_OK);
		assert_int_equal(now, 1);
		/* the power-off alias is never sent, whatever the server would do with it */
		assert_int_equal(blt_register_write(c, "EL100V2", 57026, 1, &wo, &wr, &d),
		                 BLT_E_DENIED);
		assert_false(wr.write_sent);
	}
	blt_client_free(c);
	blt_transport_free(t);
	it_stop(&srv, SIGTERM, 10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sim_reads),
	    cmocka_unit_test(test_transaction_ids_and_pacing),
	    cmocka_unit_test(test_pymodbus_server),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
