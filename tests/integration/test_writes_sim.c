/* Gated writes end to end (include/bluetti/control.h): a real mosquitto with mutual TLS
 * (scripts/broker.sh), bluetti-sim as the device (or, for the wrong echo the simulator
 * cannot produce, a scripted device on the same broker), the library client.
 *
 * Every named setting is written and read back; refused writes (deny list, ranges, unknown
 * registers, unverified, other profile) never reach the device; no reply, no echo, a wrong
 * echo, an ignored write and an exception each give their own error, and after the failure
 * the device sees no further request. "What was sent" is counted on the wire: the test
 * also listens on the device's request topic (the broker delivers our own requests back),
 * and for the simulator it is cross-checked with its request log (-v: one line each).
 * Run through with_brokers.sh (see it_util.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bluetti/bluetti.h>
#include <bluetti/client.h>
#include <bluetti/control.h>
#include <bluetti/settings.h>
#include <bluetti/transport.h>

#include "it_util.h"

#ifndef BLT_SIM_PATH
#error "BLT_SIM_PATH must name the bluetti-sim binary"
#endif

#define SN    "2434000112345"
#define MODEL "AP300" /* the profile most settings are known on */

typedef struct env {
	char name[64];
	char dir[512];
	char logp[600];
	uint16_t port;
	pid_t sim;
	blt_transport_t *t;
	uint8_t *pfx;
	blt_client_t *c;
	blt_client_opts_t co;
	blt_write_opts_t wo;
	unsigned audits;
	char audit_line[BLT_AUDIT_MAX];
	unsigned wire_reads, wire_writes; /* requests seen on the request topic */
	bool ok;
} env_t;

/* Every request published to the device, as the broker delivers it. */
static void on_wire(void *user, const char *topic, const uint8_t *payload, size_t len,
                    bool retained)
{
	env_t *e = user;
	blt_env_info_t env;
	blt_rtu_t req;
	(void)topic;
	if (retained || blt_env_unwrap(payload, len, &env, NULL) != BLT_OK ||
	    blt_rtu_parse(env.rtu, env.rtu_len, BLT_RTU_REQUEST, &req, NULL) != BLT_OK)
		return;
	if (req.function == BLT_FC_READ)
		e->wire_reads++;
	else
		e->wire_writes++;
}

static void on_audit(void *user, const blt_audit_rec_t *rec)
{
	env_t *e = user;
	e->audits++;
	snprintf(e->audit_line, sizeof e->audit_line, "%s", rec->line);
}

/* Broker, then (if sim_args != NULL) the simulator with -v and those arguments, then a
 * connected transport and client (timeout_ms per request, no retries). */
static void start(env_t *e, const char *name, const char **sim_args, int timeout_ms)
{
	char ready[600];
	int st = -1;
	blt_detail_t d = {{0}};
	blt_mqtt_opts_t o;

	snprintf(e->name, sizeof e->name, "%s", name);
	snprintf(e->dir, sizeof e->dir, "%s/%s", it_env("BLT_IT_DIR"), name);
	e->port = it_broker_start(name, "");
	snprintf(e->logp, sizeof e->logp, "%s/sim.log", e->dir);
	if (sim_args) {
		it_argv_t args = {0};
		snprintf(ready, sizeof ready, "%s/sim.ready", e->dir);
		it_argv_add(&args, BLT_SIM_PATH, NULL);
		it_argv_tls(&args, e->port);
		it_argv_add(&args, "--ready-file", ready, "--profile", MODEL, "--sn", SN, "-v",
		            NULL);
		for (int i = 0; sim_args[i]; i++)
			it_argv_add(&args, sim_args[i], NULL);
		unlink(ready);
		e->sim = it_spawn(args.v, e->logp, &(it_spawn_opts_t){.death_signal = SIGTERM});
		assert_true(e->sim > 0);
		if (!it_wait_file(ready, e->sim, 10000, &st)) {
			if (st >= 0)
				e->sim = 0;
			fail_msg("%s", st >= 0 ? "bluetti-sim exited before it was ready"
			                       : "bluetti-sim not ready after 10 s");
		}
	}
	o = it_tls_opts("localhost", e->port, "client.pfx", &e->pfx);
	assert_int_equal(blt_mqtt_new(&o, &e->t, &d), BLT_OK);
	if (blt_transport_connect(e->t, &d) != BLT_OK)
		fail_msg("client connect: %s", d.text);
	e->co.model = MODEL;
	e->co.sn = SN;
	e->co.preset = "v2";
	e->co.slave = -1;
	e->co.envelope = -1;
	e->co.timeout_ms = timeout_ms;
	e->co.retries = 0;
	if (blt_client_new(e->t, &e->co, &e->c, &d) != BLT_OK || blt_client_start(e->c, &d))
		fail_msg("client: %s", d.text);
	if (blt_transport_listen(e->t, "SUB/" MODEL "/" SN, on_wire, e, &d) != BLT_OK)
		fail_msg("listen: %s", d.text);
	e->wo.wire = &e->co;
	e->wo.verify_reads = 3;
	e->wo.verify_interval_ms = 200;
	e->wo.audit = on_audit;
	e->wo.audit_user = e;
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
	blt_client_free(e->c);
	if (e->t)
		blt_transport_free(e->t);
	free(e->pfx);
	it_stop(&e->sim, SIGTERM, 5000);
	if (!e->ok && e->logp[0])
		it_show_log(e->logp, 0);
	if (e->name[0])
		it_broker_stop(e->name);
	free(e);
	return 0;
}

/* Requests sent so far, counted on the wire; with the simulator, its log must show the
 * same number of requests (-v: "SN: read ...", "SN: write ...", "SN: request of N bytes
 * ignored (silent)" / "... dropped"). */
static void sim_requests(env_t *e, unsigned *reads, unsigned *writes)
{
	char line[512];
	unsigned logged = 0;
	FILE *f;
	/* let a request that is still on its way arrive */
	for (int i = 0; i < 8; i++)
		blt_transport_poll(e->t, 50, NULL);
	*reads = e->wire_reads;
	*writes = e->wire_writes;
	if (e->sim <= 0)
		return;
	f = fopen(e->logp, "r");
	assert_non_null(f);
	while (fgets(line, sizeof line, f))
		if (strstr(line, SN ": read ") || strstr(line, SN ": write ") ||
		    strstr(line, SN ": request of "))
			logged++;
	fclose(f);
	if (logged != *reads + *writes)
		fail_msg("the simulator logged %u requests, the wire carried %u", logged,
		         *reads + *writes);
}

static int32_t new_value(const blt_setting_t *s, int32_t old)
{
	if (s->kind == BLT_SK_SWITCH)
		return !old;
	if (s->kind == BLT_SK_SWITCH2) /* 1 on / 2 off at the switch's bits */
		return old == (int32_t)(1u << s->row->shift) ? (int32_t)(2u << s->row->shift)
		                                             : (int32_t)(1u << s->row->shift);
	if (s->kind == BLT_SK_ENUM)
		return s->enums[0].value == old ? s->enums[1].value : s->enums[0].value;
	return old == s->max ? s->min : s->max;
}

static double read_num(env_t *e, uint16_t block, const char *name)
{
	static blt_decoded_t dec;
	const blt_block_t *b = blt_catalog_find(block);
	uint8_t data[256];
	size_t n = 0;
	double v = -1;
	blt_detail_t d = {{0}};
	assert_non_null(b);
	if (blt_client_read(e->c, block, b->regs, data, sizeof data, &n, &d) != BLT_OK)
		fail_msg("read %u: %s", block, d.text);
	assert_int_equal(blt_decode(b, data, n, NULL, &dec, &d), BLT_OK);
	assert_true(blt_decoded_num(&dec, name, &v));
	return v;
}

/* ---- tests ---------------------------------------------------------------------------- */

/* Every named setting: written to a new value (old value read first, echo checked, read
 * back), then read with blt_setting_read. A setting whose block the simulated device does
 * not have fails on the first read with exception 02, before anything is written. */
static void test_every_setting_written_and_read_back(void **state)
{
	env_t *e = *state;
	const char *args[] = {"--tick", "200", NULL};
	unsigned reads, writes, expect_writes = 0;

	start(e, "every", args, 3000);
	e->wo.flags =
	    BLT_WRITE_ALLOW_UNVERIFIED | BLT_WRITE_ALLOW_PROFILE | BLT_WRITE_ALLOW_LAN_EXPOSURE;
	for (size_t i = 0; i < blt_setting_count(); i++) {
		const blt_setting_t *s = blt_setting_at(i);
		blt_write_result_t r;
		blt_detail_t d = {{0}};
		int32_t old = -1, want, got = -1;
		int rc = blt_setting_read(e->c, MODEL, s, &old, &d);

		if (rc == BLT_E_EXCEPTION && s->block != 2000 && s->block != 2200) {
			/* no such block on this device: the write stops at its first read */
			rc = blt_setting_write(e->c, MODEL, s,
			                       s->kind == BLT_SK_ENUM ? s->enums[0].value
			                                              : new_value(s, s->min),
			                       &e->wo, &r, &d);
			assert_int_equal(rc, BLT_E_EXCEPTION);
			assert_false(r.write_sent);
			assert_non_null(strstr(d.text, "illegal data address"));
			continue;
		}
		if (rc != BLT_OK)
			fail_msg("read %s: %s", s->name, d.text);
		want = new_value(s, old);
		rc = blt_setting_write(e->c, MODEL, s, want, &e->wo, &r, &d);
		if (rc != BLT_OK)
			fail_msg("%s = %d: %s: %s", s->name, want, blt_strerror(rc), d.text);
		expect_writes++;
		assert_true(r.have_old);
		assert_int_equal(r.old_value, old);
		assert_int_equal(r.readback, want);
		assert_int_equal(r.requests, 3);
		assert_non_null(strstr(e->audit_line, "result=ok"));
		assert_int_equal(blt_setting_read(e->c, MODEL, s, &got, &d), BLT_OK);
		assert_int_equal(got, want);
	}
	assert_true(expect_writes >= 20);
	sim_requests(e, &reads, &writes);
	assert_int_equal(writes, expect_writes);

	/* AC output off: the simulated AC load drops to 0 within a few ticks. */
	{
		blt_detail_t d = {{0}};
		const blt_setting_t *ac = blt_setting_find("ac_output");
		assert_int_equal(blt_setting_write(e->c, MODEL, ac, 1, &e->wo, NULL, &d), BLT_OK);
		it_sleep_ms(500);
		assert_true(read_num(e, 1400, "ac_load_power") > 0);
		assert_int_equal(blt_setting_write(e->c, MODEL, ac, 0, &e->wo, NULL, &d), BLT_OK);
		it_sleep_ms(600);
		assert_float_equal(read_num(e, 1400, "ac_load_power"), 0, 0);
	}
	e->ok = true;
}

/* Refused writes never reach the device: the simulator sees no request at all. */
static void test_refused_writes_send_nothing(void **state)
{
	env_t *e = *state;
	const char *args[] = {NULL};
	static const uint16_t denied[] = {2013, 2206, 2233, 2006, 2200, 2209, 12002};
	unsigned reads, writes, calls = 0;
	blt_detail_t d = {{0}};

	start(e, "refused", args, 2000);
	for (size_t i = 0; i < sizeof denied / sizeof denied[0]; i++)
		for (unsigned flags = 0; flags < 4; flags++)
			for (int dry = 0; dry < 2; dry++)
				for (uint32_t v = 0; v < 3; v++) {
					e->wo.flags = flags;
					e->wo.dry_run = dry;
					assert_int_equal(blt_register_write(e->c, MODEL, denied[i],
					                                    v, &e->wo, NULL, &d),
					                 BLT_E_DENIED);
					calls++;
				}
	e->wo.dry_run = false;
	e->wo.flags = BLT_WRITE_ALLOW_UNVERIFIED | BLT_WRITE_ALLOW_PROFILE;
	assert_int_equal(blt_register_write(e->c, MODEL, 2002, 1, &e->wo, NULL, &d),
	                 BLT_E_DENIED); /* not a setting */
	assert_int_equal(blt_register_write(e->c, MODEL, 2213, 299, &e->wo, NULL, &d), BLT_E_RANGE);
	assert_non_null(strstr(d.text, "300..6000 W"));
	assert_int_equal(
	    blt_setting_write(e->c, MODEL, blt_setting_find("ac_output"), 2, &e->wo, NULL, &d),
	    BLT_E_RANGE);
	assert_int_equal(
	    blt_setting_write(e->c, MODEL, blt_setting_find("charging_mode"), 3, &e->wo, NULL, &d),
	    BLT_E_RANGE);
	e->wo.flags = 0;
	assert_int_equal(
	    blt_setting_write(e->c, MODEL, blt_setting_find("led"), 1, &e->wo, NULL, &d),
	    BLT_E_DENIED); /* unverified */
	assert_int_equal(blt_setting_write(e->c, "EL100V2", blt_setting_find("grid_max_power"),
	                                   1000, &e->wo, NULL, &d),
	                 BLT_E_DENIED); /* not known on that profile */
	calls += 6;
	assert_int_equal(e->audits, calls);

	sim_requests(e, &reads, &writes);
	assert_int_equal(reads, 0);
	assert_int_equal(writes, 0);
	e->ok = true;
}

/* A failing write: its error, and what the simulator saw (nothing after the failure). */
static void failing_write(env_t *e, int want_err, const char *detail_has, unsigned want_reads,
                          unsigned want_writes)
{
	blt_write_result_t r;
	blt_detail_t d = {{0}};
	unsigned reads, writes;
	int rc = blt_setting_write(e->c, MODEL, blt_setting_find("ac_output"), 0, &e->wo, &r, &d);

	if (rc != want_err)
		fail_msg("got %s (%s), want %s", blt_strerror(rc), d.text, blt_strerror(want_err));
	if (!strstr(d.text, detail_has))
		fail_msg("detail '%s' lacks '%s'", d.text, detail_has);
	assert_int_equal(e->audits, 1);
	assert_non_null(strstr(e->audit_line, "detail=\""));
	it_sleep_ms(300);
	sim_requests(e, &reads, &writes);
	assert_int_equal(reads, want_reads);
	assert_int_equal(writes, want_writes);
	assert_int_equal(r.requests, want_reads + want_writes);
	e->ok = true;
}

static void test_silent_device(void **state)
{
	env_t *e = *state;
	const char *args[] = {"--silent", NULL};
	start(e, "silent", args, 800);
	failing_write(e, BLT_E_TIMEOUT, "nothing written", 1, 0);
}

static void test_dropped_requests(void **state)
{
	env_t *e = *state;
	const char *args[] = {"--drop", "1", NULL};
	start(e, "drop", args, 800);
	failing_write(e, BLT_E_TIMEOUT, "nothing written", 1, 0);
}

static void test_no_echo(void **state)
{
	env_t *e = *state;
	const char *args[] = {"--silent-after", "1", NULL}; /* answers the first read only */
	start(e, "noecho", args, 800);
	failing_write(e, BLT_E_TIMEOUT, "no echo", 1, 1);
}

static void test_ignored_write(void **state)
{
	env_t *e = *state;
	const char *args[] = {"--ignore-writes", NULL};
	start(e, "ignore", args, 2000);
	/* read, write (echoed, not applied), 3 read-backs showing the old value */
	failing_write(e, BLT_E_NOT_APPLIED, "still reads 1(on)", 4, 1);
}

static void test_exception(void **state)
{
	env_t *e = *state;
	const char *args[] = {"--refuse-writes", NULL};
	start(e, "refuse", args, 2000);
	failing_write(e, BLT_E_EXCEPTION, "exception 4 (slave device failure)", 1, 1);
}

/* ---- wrong echo: a scripted device on the same broker connection ------------------------- */

typedef struct scripted {
	blt_transport_t *t;
	unsigned reads, writes;
} scripted_t;

static void scripted_on_msg(void *user, const char *topic, const uint8_t *payload, size_t len,
                            bool retained)
{
	scripted_t *s = user;
	blt_env_info_t env;
	blt_rtu_t req;
	uint8_t rtu[BLT_RTU_MAX], out[BLT_PAYLOAD_MAX], data[250];
	size_t n, olen;
	(void)topic;

	if (retained || blt_env_unwrap(payload, len, &env, NULL) != BLT_OK ||
	    blt_rtu_parse(env.rtu, env.rtu_len, BLT_RTU_REQUEST, &req, NULL) != BLT_OK)
		return;
	if (req.function == BLT_FC_READ) {
		s->reads++;
		memset(data, 0, sizeof data);
		data[23] = 1; /* 2011 AC output on */
		assert_int_equal(
		    blt_rtu_build_read_reply(req.slave, data, 2u * req.count, rtu, sizeof rtu, &n),
		    BLT_OK);
	} else {
		s->writes++;
		/* the echo of another value: valid frame, valid CRC, wrong data */
		assert_int_equal(blt_rtu_build_write1(req.slave, req.reg, (uint16_t)(req.value ^ 1),
		                                      rtu, sizeof rtu, &n),
		                 BLT_OK);
	}
	assert_int_equal(blt_env_wrap(BLT_ENV_V2, 0, -60, rtu, n, out, sizeof out, &olen), BLT_OK);
	assert_int_equal(
	    blt_transport_publish(s->t, "PUB/" MODEL "/" SN, out, olen, 1, false, NULL), BLT_OK);
}

static void test_wrong_echo(void **state)
{
	env_t *e = *state;
	static scripted_t dev;
	blt_write_result_t r;
	blt_detail_t d = {{0}};
	int rc;

	start(e, "wrongecho", NULL, 1500);
	memset(&dev, 0, sizeof dev);
	dev.t = e->t;
	assert_int_equal(blt_transport_listen(e->t, "SUB/" MODEL "/" SN, scripted_on_msg, &dev, &d),
	                 BLT_OK);
	rc = blt_setting_write(e->c, MODEL, blt_setting_find("ac_output"), 0, &e->wo, &r, &d);
	if (rc != BLT_E_MISMATCH)
		fail_msg("got %s (%s), want a mismatch", blt_strerror(rc), d.text);
	assert_non_null(strstr(d.text, "differs from the request"));
	assert_non_null(strstr(e->audit_line, "result=mismatch"));
	for (int i = 0; i < 10; i++)
		blt_transport_poll(e->t, 50, NULL);
	assert_int_equal(dev.reads, 1);
	assert_int_equal(dev.writes, 1); /* and no read-back after the failure */
	assert_int_equal(r.requests, 2);
	e->ok = true;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_every_setting_written_and_read_back, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_refused_writes_send_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_silent_device, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dropped_requests, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_echo, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ignored_write, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exception, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_echo, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
