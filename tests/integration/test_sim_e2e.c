/* bluetti-sim end to end: a real mosquitto with mutual TLS (scripts/broker.sh), the
 * simulator program as the device, the library client (include/bluetti/client.h) reading,
 * writing and decoding. Each test starts its own broker and simulator and stops both in
 * its teardown, which cmocka runs even when the test fails; the simulator also gets
 * SIGTERM if this program dies (PR_SET_PDEATHSIG) and with_brokers.sh stops the brokers.
 * Run through with_brokers.sh (see it_util.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bluetti/bluetti.h>
#include <bluetti/client.h>
#include <bluetti/transport.h>

#include "it_util.h"

#ifndef BLT_SIM_PATH
#error "BLT_SIM_PATH must name the bluetti-sim binary"
#endif

#define SN "2434000112345"

typedef struct env {
	char name[64];
	char dir[512];
	uint16_t port;
	pid_t sim;
	int sim_status;
	blt_transport_t *t;
	uint8_t *pfx;
	blt_client_t *c[4];
	bool ok; /* set at the end of a passing test; otherwise teardown shows the sim log */
} env_t;

static blt_decoded_t dec; /* large */

/* ---- processes ------------------------------------------------------------------------ */

/* Run the simulator with the connection options for broker port (if port != 0) and the
 * extra arguments; stdout/stderr go to logpath. Returns the child pid. */
static pid_t spawn_sim(uint16_t port, const char *logpath, const char *ready, const char **extra)
{
	it_argv_t args = {0};

	it_argv_add(&args, BLT_SIM_PATH, NULL);
	if (port) {
		it_argv_tls(&args, port);
	}
	if (ready) {
		it_argv_add(&args, "--ready-file", ready, NULL);
	}
	for (int i = 0; extra && extra[i]; i++)
		it_argv_add(&args, extra[i], NULL);

	return it_spawn(args.v, logpath, &(it_spawn_opts_t){.death_signal = SIGTERM});
}

/* Broker + simulator + connected transport; extra = simulator options (NULL-terminated). */
static void start(env_t *e, const char *name, const char **extra)
{
	char ready[600], logp[600];
	int st = -1;
	blt_detail_t d = {{0}};
	blt_mqtt_opts_t o;

	snprintf(e->name, sizeof e->name, "%s", name);
	snprintf(e->dir, sizeof e->dir, "%s/%s", it_env("BLT_IT_DIR"), name);
	e->port = it_broker_start(name, "");
	snprintf(ready, sizeof ready, "%s/sim.ready", e->dir);
	snprintf(logp, sizeof logp, "%s/sim.log", e->dir);
	unlink(ready);
	e->sim = spawn_sim(e->port, logp, ready, extra);
	assert_true(e->sim > 0);
	if (!it_wait_file(ready, e->sim, 10000, &st)) {
		if (st >= 0)
			e->sim = 0;
		it_show_log(logp, 0);
		fail_msg("%s", st >= 0 ? "bluetti-sim exited before it was ready"
		                       : "bluetti-sim not ready after 10 s");
	}

	o = it_tls_opts("localhost", e->port, "client.pfx", &e->pfx);
	assert_int_equal(blt_mqtt_new(&o, &e->t, &d), BLT_OK);
	if (blt_transport_connect(e->t, &d) != BLT_OK)
		fail_msg("client connect: %s", d.text);
}

static blt_client_t *client(env_t *e, int slot, const char *sn, const char *preset, int timeout_ms,
                            int retries)
{
	blt_client_opts_t co;
	blt_detail_t d = {{0}};
	memset(&co, 0, sizeof co);
	co.model = "EL100V2";
	co.sn = sn;
	co.preset = preset;
	co.slave = -1;
	co.envelope = -1;
	co.timeout_ms = timeout_ms;
	co.retries = retries;
	if (blt_client_new(e->t, &co, &e->c[slot], &d) != BLT_OK)
		fail_msg("client_new: %s", d.text);
	if (blt_client_start(e->c[slot], &d) != BLT_OK)
		fail_msg("client_start: %s", d.text);
	return e->c[slot];
}

/* SIGTERM the simulator; returns its exit status (0 = clean). */
static int stop_sim(env_t *e)
{
	int st;
	if (e->sim <= 0)
		return e->sim_status;
	kill(e->sim, SIGTERM);
	st = it_wait_exit(e->sim, 5000);
	if (st < 0) {
		kill(e->sim, SIGKILL);
		st = it_wait_exit(e->sim, 2000);
		st = 999;
	}
	e->sim = 0;
	e->sim_status = st;
	return st;
}

static int setup(void **state)
{
	env_t *e = calloc(1, sizeof *e);
	*state = e;
	return e ? 0 : -1;
}

static int teardown(void **state)
{
	env_t *e = *state;
	char logp[600];
	for (int i = 0; i < 4; i++)
		blt_client_free(e->c[i]);
	if (e->t)
		blt_transport_free(e->t);
	free(e->pfx);
	stop_sim(e);
	if (!e->ok && e->dir[0]) {
		snprintf(logp, sizeof logp, "%s/sim.log", e->dir);
		it_show_log(logp, 0);
	}
	if (e->name[0])
		it_broker_stop(e->name);
	free(e);
	return 0;
}

/* ---- helpers -------------------------------------------------------------------------- */

static size_t read_decode(blt_client_t *c, uint16_t block, blt_decoded_t *out)
{
	const blt_block_t *b = blt_catalog_find(block);
	const blt_profile_t *p = blt_profile_find("EL100V2");
	blt_decode_opts_t opts;
	uint8_t data[256];
	size_t n = 0;
	blt_detail_t d = {{0}};
	int rc;

	assert_non_null(b);
	blt_profile_decode_opts(p, &opts);
	rc = blt_client_read(c, block, b->regs, data, sizeof data, &n, &d);
	if (rc != BLT_OK)
		fail_msg("read %u x%u: %s: %s", block, b->regs, blt_strerror(rc), d.text);
	rc = blt_decode(b, data, n, &opts, out, &d);
	if (rc != BLT_OK)
		fail_msg("decode %u (%zu bytes): %s: %s", block, n, blt_strerror(rc), d.text);
	return n;
}

static double num(const blt_decoded_t *r, const char *name)
{
	double v;
	if (!blt_decoded_num(r, name, &v))
		fail_msg("block %u: no value %s", r->block->id, name);
	return v;
}

static const char *str(const blt_decoded_t *r, const char *name)
{
	const blt_value_t *v = blt_decoded_get(r, name);
	if (!v)
		fail_msg("block %u: no value %s", r->block->id, name);
	return v->str;
}

/* Every core block reads fully and decodes; the grid block passes the `check` rules. */
static void read_core_blocks(blt_client_t *c)
{
	static const uint16_t core[] = {100, 1100, 1300, 1400, 1500, 6000, 6100, 6300};
	blt_client_stats_t st;
	for (size_t i = 0; i < sizeof core / sizeof core[0]; i++) {
		const blt_block_t *b = blt_catalog_find(core[i]);
		size_t n = read_decode(c, core[i], &dec);
		assert_int_equal(n, 2u * b->regs);
		assert_true(dec.count > 0);
		assert_int_equal(dec.missing, 0);
	}
	read_decode(c, 100, &dec);
	assert_string_equal(str(&dec, "device_model"), "EL100V2");
	assert_string_equal(str(&dec, "device_serial"), SN);
	assert_true(num(&dec, "soc") >= 74 && num(&dec, "soc") <= 77);
	assert_true(num(&dec, "ac_load_power") >= 130 && num(&dec, "ac_load_power") <= 220);
	read_decode(c, 1300, &dec);
	double f = num(&dec, "frequency"), v = num(&dec, "phase_0_voltage");
	assert_true(f >= 49.9 && f <= 50.1);
	assert_true(v >= 228 && v <= 232);
	read_decode(c, 6300, &dec);
	assert_float_equal(num(&dec, "cell_count"), 16, 0);
	assert_float_equal(num(&dec, "cell_15_voltage"), 3.32, 0.02);
	read_decode(c, 6000, &dec);
	assert_float_equal(num(&dec, "temp_avg"), 25, 2);
	blt_client_stats(c, &st);
	assert_int_equal(st.timeouts, 0);
	assert_int_equal(st.bad_frames, 0);
}

/* ---- tests ---------------------------------------------------------------------------- */

static void test_core_blocks_v2(void **state)
{
	env_t *e = *state;
	const char *args[] = {"--sn", SN, NULL};
	blt_client_stats_t st;
	start(e, "sim_v2", args);
	blt_client_t *c = client(e, 0, SN, "v2", 3000, 0);
	read_core_blocks(c);
	blt_client_stats(c, &st);
	assert_true(st.last_rssi <= -57 && st.last_rssi >= -63); /* V2 envelope byte 7 */
	assert_int_equal(stop_sim(e), 0);
	e->ok = true;
}

static void test_core_blocks_seed(void **state)
{
	env_t *e = *state;
	const char *args[] = {"--sn", SN, "--preset", "seed", NULL};
	start(e, "sim_seed", args);
	read_core_blocks(client(e, 0, SN, "seed", 3000, 0));
	/* a v2 client gets nothing from a seed device (other topics) */
	blt_client_t *v2 = client(e, 1, SN, "v2", 400, 0);
	uint8_t data[256];
	size_t n;
	assert_int_equal(blt_client_read(v2, 1300, 31, data, sizeof data, &n, NULL), BLT_E_TIMEOUT);
	assert_int_equal(stop_sim(e), 0);
	e->ok = true;
}

static void test_write_ac_output(void **state)
{
	env_t *e = *state;
	const char *args[] = {"--sn", SN, "--tick", "200", NULL};
	uint8_t data[256];
	size_t n;
	blt_detail_t d = {{0}};
	start(e, "sim_write", args);
	blt_client_t *c = client(e, 0, SN, "v2", 3000, 0);

	read_decode(c, 100, &dec);
	assert_true(num(&dec, "ac_load_power") > 0);
	if (blt_client_write1_raw(c, 2011, 0, &d) != BLT_OK) /* echo verified by the client */
		fail_msg("write 2011: %s", d.text);
	assert_int_equal(blt_client_read(c, 2000, 30, data, sizeof data, &n, &d), BLT_OK);
	assert_int_equal(n, 60);
	assert_int_equal(data[22], 0);
	assert_int_equal(data[23], 0); /* AC output flag, low byte of 2011 (§4.10) */
	it_sleep_ms(600);              /* a few ticks */
	read_decode(c, 100, &dec);
	assert_float_equal(num(&dec, "ac_load_power"), 0, 0);
	read_decode(c, 1400, &dec);
	assert_float_equal(num(&dec, "ac_load_power"), 0, 0);
	assert_float_equal(num(&dec, "phase_0_power"), 0, 0);

	uint16_t vals[2] = {1, 1};
	if (blt_client_writen_raw(c, 2011, vals, 2, &d) != BLT_OK)
		fail_msg("write 2011-2012: %s", d.text);
	assert_int_equal(blt_client_read(c, 2011, 2, data, sizeof data, &n, &d), BLT_OK);
	assert_int_equal(n, 4);
	assert_int_equal(data[1], 1);
	assert_int_equal(data[3], 1);
	it_sleep_ms(600);
	read_decode(c, 100, &dec);
	assert_true(num(&dec, "ac_load_power") >= 130);
	assert_int_equal(stop_sim(e), 0);
	e->ok = true;
}

static void test_exceptions(void **state)
{
	env_t *e = *state;
	const char *args[] = {"--sn", SN, NULL};
	uint8_t data[256], req[16], reply[BLT_RTU_MAX], exc = 0;
	size_t n, rn;
	blt_detail_t d = {{0}};
	start(e, "sim_exc", args);
	blt_client_t *c = client(e, 0, SN, "v2", 3000, 0);

	/* unknown register: exception 02, through read and through a raw transaction */
	assert_int_equal(blt_client_read(c, 5000, 10, data, sizeof data, &n, &d), BLT_E_EXCEPTION);
	assert_int_equal(blt_rtu_build_read(0, 1355, 4, req, sizeof req, &n), BLT_OK);
	assert_int_equal(blt_client_transact(c, req, n, reply, sizeof reply, &rn, &exc, &d),
	                 BLT_E_EXCEPTION);
	assert_int_equal(exc, 2);
	/* a write to a read-only telemetry register: 02, and nothing changes */
	assert_int_equal(blt_client_write1_raw(c, 102, 5, &d), BLT_E_EXCEPTION);
	read_decode(c, 100, &dec);
	assert_true(num(&dec, "soc") > 70);
	/* read past the end of 6300 answers the 22 registers that exist */
	assert_int_equal(blt_client_read(c, 6300, 50, data, sizeof data, &n, &d), BLT_OK);
	assert_int_equal(n, 44);
	/* still answering normally */
	read_decode(c, 1300, &dec);
	assert_int_equal(stop_sim(e), 0);
	e->ok = true;
}

static void test_silent_timeout(void **state)
{
	env_t *e = *state;
	const char *args[] = {"--sn", SN, "--silent", NULL};
	uint8_t data[256];
	size_t n;
	blt_client_stats_t st;
	blt_detail_t d = {{0}};
	start(e, "sim_silent", args);
	blt_client_t *c = client(e, 0, SN, "v2", 500, 0);
	uint64_t t0 = blt_now_ms();
	assert_int_equal(blt_client_read(c, 1300, 31, data, sizeof data, &n, &d), BLT_E_TIMEOUT);
	(void)t0;
	blt_client_stats(c, &st);
	assert_int_equal(st.timeouts, 1);
	assert_int_equal(st.replies, 0);
	assert_int_equal(stop_sim(e), 0);
	e->ok = true;
}

static void test_corrupt_crc(void **state)
{
	env_t *e = *state;
	const char *args[] = {"--sn", SN, "--corrupt-crc", "1", NULL};
	uint8_t data[256];
	size_t n;
	blt_client_stats_t st;
	blt_detail_t d = {{0}};
	int rc;
	start(e, "sim_crc", args);
	blt_client_t *c = client(e, 0, SN, "v2", 800, 0);
	rc = blt_client_read(c, 1300, 31, data, sizeof data, &n, &d);
	assert_int_not_equal(rc, BLT_OK);
	blt_client_stats(c, &st);
	assert_true(st.bad_frames >= 1);
	assert_int_equal(st.replies, 0);
	if (rc != BLT_E_CRC && !strstr(d.text, "CRC"))
		fail_msg("error does not name the CRC: %s: %s", blt_strerror(rc), d.text);
	assert_int_equal(stop_sim(e), 0);
	e->ok = true;
}

static int pushes_seen;
static uint16_t push_reg;
static void on_push(void *user, const blt_rtu_t *frame, const uint8_t *payload, size_t len)
{
	(void)user;
	(void)payload;
	(void)len;
	pushes_seen++;
	push_reg = frame->reg;
}

static void test_unsolicited_before_reply(void **state)
{
	env_t *e = *state;
	/* pushes every 50 ms, replies 400 ms late: several pushes arrive before each reply */
	const char *args[] = {"--sn", SN, "--unsolicited", "50", "--delay", "400", NULL};
	blt_client_stats_t st;
	start(e, "sim_push", args);
	blt_client_t *c = client(e, 0, SN, "v2", 3000, 0);
	pushes_seen = 0;
	blt_client_on_unsolicited(c, on_push, NULL);
	assert_int_equal(read_decode(c, 1300, &dec), 2u * blt_catalog_find(1300)->regs);
	assert_true(num(&dec, "phase_count") == 1);
	assert_int_equal(read_decode(c, 6000, &dec), 2u * blt_catalog_find(6000)->regs);
	assert_true(num(&dec, "soc") > 70);
	assert_int_equal(read_decode(c, 100, &dec), 2u * blt_catalog_find(100)->regs);
	blt_client_stats(c, &st);
	assert_true(st.unsolicited >= 2);
	assert_true(pushes_seen >= 2);
	assert_true(push_reg == 1300 || push_reg == 100);
	assert_int_equal(st.replies, 3);
	assert_int_equal(stop_sim(e), 0);
	e->ok = true;
}

static void test_count_three(void **state)
{
	env_t *e = *state;
	const char *args[] = {"--sn", SN, "--count", "3", NULL};
	static const char *sns[] = {"2434000112345", "2434000112346", "2434000112347"};
	uint8_t data[256];
	size_t n;
	start(e, "sim_count", args);
	for (int i = 0; i < 3; i++) {
		blt_client_t *c = client(e, i, sns[i], "v2", 3000, 0);
		read_decode(c, 100, &dec);
		assert_string_equal(str(&dec, "device_serial"), sns[i]);
		read_decode(c, 1100, &dec);
		assert_string_equal(str(&dec, "device_serial"), sns[i]);
	}
	/* a fourth serial is not simulated */
	blt_client_t *none = client(e, 3, "2434000112348", "v2", 400, 0);
	assert_int_equal(blt_client_read(none, 1300, 31, data, sizeof data, &n, NULL),
	                 BLT_E_TIMEOUT);
	assert_int_equal(stop_sim(e), 0);
	e->ok = true;
}

static void test_short_and_silent_after(void **state)
{
	env_t *e = *state;
	const char *args[] = {"--sn", SN, "--short-replies", "--silent-after", "2", NULL};
	uint8_t data[256];
	size_t n;
	blt_detail_t d = {{0}};
	start(e, "sim_short", args);
	blt_client_t *c = client(e, 0, SN, "v2", 600, 0);
	assert_int_equal(blt_client_read(c, 100, 62, data, sizeof data, &n, &d), BLT_OK);
	assert_int_equal(n, 62);
	assert_int_equal(blt_client_read(c, 1300, 31, data, sizeof data, &n, &d), BLT_OK);
	assert_int_equal(n, 32);
	assert_int_equal(blt_client_read(c, 1300, 31, data, sizeof data, &n, &d), BLT_E_TIMEOUT);
	assert_int_equal(stop_sim(e), 0);
	e->ok = true;
}

static void test_disconnect_after(void **state)
{
	env_t *e = *state;
	const char *args[] = {"--sn", SN, "--disconnect-after", "2", NULL};
	uint8_t data[256];
	size_t n;
	blt_detail_t d = {{0}};
	start(e, "sim_bounce", args);
	blt_client_t *c = client(e, 0, SN, "v2", 1500, 3);
	for (int i = 0; i < 6; i++)
		if (blt_client_read(c, 1300, 31, data, sizeof data, &n, &d) != BLT_OK)
			fail_msg("read %d after reconnects: %s", i, d.text);
	assert_int_equal(stop_sim(e), 0);
	e->ok = true;
}

static void test_ignore_writes(void **state)
{
	env_t *e = *state;
	const char *args[] = {"--sn", SN, "--ignore-writes", NULL};
	uint8_t data[8];
	size_t n;
	blt_detail_t d = {{0}};
	start(e, "sim_ignore", args);
	blt_client_t *c = client(e, 0, SN, "v2", 3000, 0);
	assert_int_equal(blt_client_write1_raw(c, 2011, 0, &d), BLT_OK);
	assert_int_equal(blt_client_read(c, 2011, 1, data, sizeof data, &n, &d), BLT_OK);
	assert_int_equal(data[1], 1); /* echoed, not applied */
	assert_int_equal(stop_sim(e), 0);
	e->ok = true;
}

/* --soc 65: the device charges from the grid; the grid phase passes the `check` rules with
 * real power on it (negative = grid to device, §4.4). */
static void test_grid_charging(void **state)
{
	env_t *e = *state;
	const char *args[] = {"--sn", SN, "--soc", "65", NULL};
	double p, v, i, f;
	start(e, "sim_charge", args);
	blt_client_t *c = client(e, 0, SN, "v2", 3000, 0);
	read_decode(c, 1300, &dec);
	p = num(&dec, "phase_0_power");
	v = num(&dec, "phase_0_voltage");
	i = num(&dec, "phase_0_current");
	f = num(&dec, "frequency");
	assert_true(p <= -400 && p >= -600); /* ~350 W charge + the AC load passed through */
	assert_true(i < 0 && fabs(i) <= 20);
	assert_true(v >= 200 && v <= 250 && f >= 45 && f <= 55);
	if (fabs(fabs(p) - fabs(v * i)) > 0.10 * fabs(v * i))
		fail_msg("P %.0f W vs V x I = %.1f x %.1f", p, v, i);
	assert_float_equal(num(&dec, "grid_power"), p, 0);
	read_decode(c, 6000, &dec);
	assert_true(num(&dec, "current") > 0);
	assert_float_equal(num(&dec, "charging_status"), 1, 0);
	assert_float_equal(num(&dec, "soc"), 65, 0);
	read_decode(c, 100, &dec);
	/* 146 counts import positive on real units (EL30V2 readall, Elite 200 V2) */
	assert_float_equal(num(&dec, "grid_power"), fabs(p), 0);
	assert_true(num(&dec, "time_to_full") > 0);
	assert_int_equal(stop_sim(e), 0);
	e->ok = true;
}

/* --drop 0.5 with a fixed seed: some requests go unanswered, the others are answered. */
static void test_drop(void **state)
{
	env_t *e = *state;
	const char *args[] = {"--sn", SN, "--drop", "0.5", "--seed", "7", NULL};
	uint8_t data[256];
	size_t n;
	int ok = 0, timeouts = 0;
	start(e, "sim_drop", args);
	blt_client_t *c = client(e, 0, SN, "v2", 300, 0);
	for (int k = 0; k < 12; k++) {
		int rc = blt_client_read(c, 1300, 31, data, sizeof data, &n, NULL);
		if (rc == BLT_OK)
			ok++;
		else if (rc == BLT_E_TIMEOUT)
			timeouts++;
		else
			fail_msg("read %d: %s", k, blt_strerror(rc));
	}
	assert_true(ok >= 1 && timeouts >= 1);
	assert_int_equal(ok + timeouts, 12);
	assert_int_equal(stop_sim(e), 0);
	e->ok = true;
}

static void test_refuse_writes(void **state)
{
	env_t *e = *state;
	const char *args[] = {"--sn", SN, "--refuse-writes", NULL};
	uint8_t data[8], req[16], reply[BLT_RTU_MAX], exc = 0;
	size_t n, rn;
	blt_detail_t d = {{0}};
	start(e, "sim_refuse", args);
	blt_client_t *c = client(e, 0, SN, "v2", 3000, 0);
	assert_int_equal(blt_rtu_build_write1(0, 2011, 0, req, sizeof req, &n), BLT_OK);
	assert_int_equal(blt_client_transact(c, req, n, reply, sizeof reply, &rn, &exc, &d),
	                 BLT_E_EXCEPTION);
	assert_int_equal(exc, 4);
	assert_int_equal(blt_client_read(c, 2011, 1, data, sizeof data, &n, &d), BLT_OK);
	assert_int_equal(data[1], 1); /* unchanged */
	assert_int_equal(stop_sim(e), 0);
	e->ok = true;
}

/* Options and exit codes of the program itself (no broker needed for most). */
static void test_cli(void **state)
{
	env_t *e = *state;
	char logp[600];
	const char *bad1[] = {"--broker", "localhost:1", "--plain", "--drop", "2", NULL};
	const char *bad2[] = {"--broker", "localhost:1", "--plain", "--profile", "NOPE", NULL};
	const char *bad3[] = {"--broker", "localhost:1", "--plain", "--sn", "12ab", NULL};
	const char *bad4[] = {"--no-such-option", NULL};
	const char *bad5[] = {"--plain", NULL}; /* no --broker */
	const char *help[] = {"--help", NULL};
	const char *cloud_help[] = {"--cloud", "--help", NULL};
	const char *down[] = {"--broker", "127.0.0.1:1", "--plain", NULL};
	const char **cases[] = {bad1, bad2, bad3, bad4, bad5};
	FILE *f;
	char buf[8192];
	size_t n;

	snprintf(e->dir, sizeof e->dir, "%s/sim_cli", it_env("BLT_IT_DIR"));
	mkdir(e->dir, 0755);
	snprintf(logp, sizeof logp, "%s/sim.log", e->dir);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		pid_t p = spawn_sim(0, logp, NULL, cases[i]);
		int st = it_wait_exit(p, 5000);
		if (st != 2) {
			it_show_log(logp, 0);
			fail_msg("case %zu: exit %d, want 2", i, st);
		}
	}
	/* connection refused: exit 1 with a message */
	assert_int_equal(it_wait_exit(spawn_sim(0, logp, NULL, down), 15000), 1);
	f = fopen(logp, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = 0;
	fclose(f);
	assert_non_null(strstr(buf, "127.0.0.1:1"));
	/* --help: exit 0, names every fault switch */
	assert_int_equal(it_wait_exit(spawn_sim(0, logp, NULL, help), 5000), 0);
	f = fopen(logp, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = 0;
	fclose(f);
	static const char *sw[] = {"--drop",
	                           "--corrupt-crc",
	                           "--delay",
	                           "--silent-after",
	                           "--unsolicited",
	                           "--short-replies",
	                           "--disconnect-after",
	                           "--refuse-writes",
	                           "--ignore-writes",
	                           "--count",
	                           "--preset"};
	for (size_t i = 0; i < sizeof sw / sizeof sw[0]; i++)
		if (!strstr(buf, sw[i]))
			fail_msg("--help does not mention %s", sw[i]);
	/* --cloud selects the simulated account API (its own options) */
	assert_int_equal(it_wait_exit(spawn_sim(0, logp, NULL, cloud_help), 5000), 0);
	f = fopen(logp, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = 0;
	fclose(f);
	assert_non_null(strstr(buf, "--account"));
	assert_null(strstr(buf, "--corrupt-crc"));
	e->ok = true;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_core_blocks_v2, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_core_blocks_seed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_ac_output, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exceptions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_silent_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_corrupt_crc, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unsolicited_before_reply, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_count_three, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_short_and_silent_after, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_disconnect_after, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ignore_writes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_grid_charging, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_drop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuse_writes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cli, setup, teardown),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
