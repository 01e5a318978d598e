/* Fault injection, end to end: two real mosquitto brokers (upstream mutual TLS, Home
 * Assistant side plain), one simulated AP300 (bluetti-sim, restarted with other fault
 * switches per scenario), the real bluetti-bridge (started once: every recovery happens
 * without a restart) and, for one scenario, the real `bluetti watch`.
 *
 * A libmosquitto watcher on the downstream broker checks EVERY state document the bridge
 * publishes, all along, against the simulator's plausible ranges (check_state): a value
 * out of range, or a text value other than the device's real one, is a wrong value
 * published as valid and fails the test at the end, whichever scenario caused it.
 *
 * Scenarios, in order: baseline; corrupt CRCs + truncated replies + unsolicited frames +
 * duplicated deliveries mixed into the traffic (counters checked in <base>/bridge/stats);
 * replies for the wrong block; the upstream broker restarted mid-poll (bridge and
 * `bluetti watch` recover); the downstream broker away while the state changes (the latest
 * state is published when it is back); the device silent for a while, then back; the
 * upstream session kicked by a second client with the same client id (the bridge
 * reconnects after its reconnect_delay and takes the session back).
 * Runs under with_brokers.sh (BLT_IT_DIR, BLT_PKI, BLT_SCRIPTS). Variable BLT_VALGRIND,
 * when set (e.g. "valgrind --error-exitcode=99 --leak-check=full"), prefixes the bridge
 * and the simulator; their exit status must then be 0 (make valgrind). */
#include <fcntl.h>
#include <fnmatch.h>
#include <math.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <mosquitto.h>

#include <bluetti/bluetti.h>
#include <bluetti/transport.h>

#include "it_util.h"

#ifndef BLT_SIM_PATH
#error "BLT_SIM_PATH must name the bluetti-sim binary"
#endif
#ifndef BLT_BRIDGE_PATH
#error "BLT_BRIDGE_PATH must name the bluetti-bridge binary"
#endif
#ifndef BLT_CLI_PATH
#error "BLT_CLI_PATH must name the bluetti binary"
#endif

#define SN        "2616113487436"
#define SN2       "2616113487437" /* the second simulated device: for `bluetti watch` */
#define DEV       "alpha"
#define UP_ID     "faults-bridge-up"
#define STATE_T   "bluetti/" DEV "/state"
#define AVAIL_T   "bluetti/" DEV "/availability"
#define STATS_T   "bluetti/bridge/stats"
#define MAX_BAD   16
#define MAX_TEXTS 64

static struct {
	struct mosquitto *m;
	uint16_t up_port, down_port;
	pid_t sim, bridge;
	char dir[512], cfg[600], log[600];
	/* latest payloads */
	char *state, *avail, *stats;
	unsigned nstate, navail_online, navail_offline;
	/* every state document checked */
	unsigned checked, wrong;
	char bad[MAX_BAD][400];
	/* text values of the baseline: key -> value */
	char tkey[MAX_TEXTS][64], tval[MAX_TEXTS][64];
	size_t ntext;
	bool baseline_done;
} E;

/* ---- plausibility of a state document ------------------------------------------------ */

/* The simulated AP300 (model.c): grid 228-232 V / 49.9-50.1 Hz, SOC from 76 %, a few
 * hundred watts, cells ~3.3 V, 25 C. Ranges are wide enough for the model's drift, narrow
 * enough that another block's bytes decoded under these names land outside them. First
 * match wins. */
static const struct rule {
	const char *pattern;
	double lo, hi;
} rules[] = {
    {"soc_low", 0, 100},
    {"soc_high", 0, 100},
    {"grid_parallel_soc", 0, 100},
    {"*soc", 50, 100},
    {"*soh", 90, 100},
    {"*cell_voltage_delta", 0, 0.2},
    {"*cell_*_voltage", 3.0, 3.6},
    {"*cell_voltage_m??", 3.0, 3.6},
    {"grid_frequency", 49.5, 50.5},
    {"rated_frequency", 50, 50},
    {"rated_voltage", 230, 230},
    {"*phase_*_voltage", 220, 240},
    {"*dc_voltage", 0, 60},
    {"*max_charge_voltage", 50, 60},
    {"*voltage", 45, 60},
    {"*temp*", 10, 45},
    {"*current", -40, 40},
    {"*_max_power", 0, 3000},
    {"*power*", -3000, 3000},
    {"*watts", 0, 3000},
    {"*energy*", 0, 1e6},
    {"*cycle_count", 100, 300},
    {"rssi", -127, 0},
    {"*time_to_*", 0, 100000},
    {"*_hours", 0, 24},
    {"battery_pack_capacity", 1, 100},
    {"*resistance", 0, 1000},
    {"self_sufficiency", 0, 100},
    {"*", -1e5, 1e6},
};

static void bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void bad(const char *fmt, ...)
{
	va_list ap;
	E.wrong++;
	if (E.wrong > MAX_BAD)
		return;
	va_start(ap, fmt);
	vsnprintf(E.bad[E.wrong - 1], sizeof E.bad[0], fmt, ap);
	va_end(ap);
}

static const char *baseline_text(const char *key)
{
	for (size_t i = 0; i < E.ntext; i++)
		if (!strcmp(E.tkey[i], key))
			return E.tval[i];
	return NULL;
}

static void check_state(const char *payload)
{
	cJSON *o = cJSON_Parse(payload), *v;
	E.checked++;
	if (!o || !cJSON_IsObject(o)) {
		if (payload[0]) /* "" clears a retained state: not ours to judge */
			bad("state is not a JSON object: %.80s", payload);
		cJSON_Delete(o);
		return;
	}
	cJSON_ArrayForEach(v, o)
	{
		const char *k = v->string;
		if (cJSON_IsNull(v) || !strcmp(k, "last_seen"))
			continue;
		if (cJSON_IsNumber(v)) {
			for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
				if (fnmatch(rules[r].pattern, k, 0) != 0)
					continue;
				if (!isfinite(v->valuedouble) || v->valuedouble < rules[r].lo ||
				    v->valuedouble > rules[r].hi)
					bad("%s = %g outside %g..%g (rule %s)", k, v->valuedouble,
					    rules[r].lo, rules[r].hi, rules[r].pattern);
				break;
			}
		} else if (cJSON_IsString(v)) {
			const char *want = baseline_text(k);
			if (!E.baseline_done) {
				if (!want && E.ntext < MAX_TEXTS) {
					snprintf(E.tkey[E.ntext], sizeof E.tkey[0], "%s", k);
					snprintf(E.tval[E.ntext], sizeof E.tval[0], "%s",
					         v->valuestring);
					E.ntext++;
				}
			} else if (want && strcmp(want, v->valuestring) != 0) {
				bad("%s = '%s', the device says '%s'", k, v->valuestring, want);
			}
		} else {
			bad("%s: unexpected JSON type %d", k, v->type);
		}
	}
	cJSON_Delete(o);
}

/* ---- the watcher --------------------------------------------------------------------- */

static void keep(char **slot, const struct mosquitto_message *mm)
{
	free(*slot);
	*slot = malloc((size_t)mm->payloadlen + 1);
	if (!*slot)
		return;
	if (mm->payloadlen > 0)
		memcpy(*slot, mm->payload, (size_t)mm->payloadlen);
	(*slot)[mm->payloadlen] = '\0';
}

static void on_message(struct mosquitto *m, void *u, const struct mosquitto_message *mm)
{
	(void)m;
	(void)u;
	if (!strcmp(mm->topic, STATE_T)) {
		keep(&E.state, mm);
		if (E.state) {
			E.nstate++;
			check_state(E.state);
		}
	} else if (!strcmp(mm->topic, AVAIL_T)) {
		keep(&E.avail, mm);
		if (E.avail && !strcmp(E.avail, "online"))
			E.navail_online++;
		else if (E.avail && !strcmp(E.avail, "offline"))
			E.navail_offline++;
	} else if (!strcmp(mm->topic, STATS_T)) {
		keep(&E.stats, mm);
	}
}

static void watcher_connect(void)
{
	for (int i = 0; i < 100; i++) {
		if (mosquitto_connect(E.m, "127.0.0.1", E.down_port, 30) == MOSQ_ERR_SUCCESS &&
		    mosquitto_subscribe(E.m, NULL, "bluetti/#", 1) == MOSQ_ERR_SUCCESS)
			return;
		it_sleep_ms(100);
	}
	fail_msg("watcher cannot connect to the downstream broker");
}

static void pump(int ms)
{
	uint64_t end = blt_now_ms() + (uint64_t)ms;
	while (blt_now_ms() < end)
		if (mosquitto_loop(E.m, 20, 1) != MOSQ_ERR_SUCCESS)
			it_sleep_ms(20);
}

/* Pump until cond() or ms elapse. */
static bool pump_until(bool (*cond)(void), int ms)
{
	uint64_t end = blt_now_ms() + (uint64_t)ms;
	while (!cond()) {
		if (blt_now_ms() >= end)
			return false;
		if (mosquitto_loop(E.m, 50, 1) != MOSQ_ERR_SUCCESS)
			it_sleep_ms(20);
	}
	return true;
}

static bool is_online(void)
{
	return E.avail && !strcmp(E.avail, "online");
}

static double stat_of(const char *section, const char *key);

static bool have_stats(void)
{
	return E.stats != NULL && stat_of("devices", "replies") > 0;
}

static bool is_offline(void)
{
	return E.avail && !strcmp(E.avail, "offline");
}

/* Number in the stats document: devices.alpha.<key>, or <section>.<key>. */
static double stat_of(const char *section, const char *key)
{
	cJSON *o = cJSON_Parse(E.stats ? E.stats : ""), *s, *v;
	double r = -1;
	s = o ? cJSON_GetObjectItemCaseSensitive(o, section) : NULL;
	if (s && !strcmp(section, "devices"))
		s = cJSON_GetObjectItemCaseSensitive(s, DEV);
	v = s ? cJSON_GetObjectItemCaseSensitive(s, key) : NULL;
	if (cJSON_IsNumber(v))
		r = v->valuedouble;
	cJSON_Delete(o);
	return r;
}

/* State documents published from now on: wait for n more. */
static bool more_states(unsigned n, int ms)
{
	unsigned want = E.nstate + n;
	uint64_t end = blt_now_ms() + (uint64_t)ms;
	while (E.nstate < want && blt_now_ms() < end)
		if (mosquitto_loop(E.m, 50, 1) != MOSQ_ERR_SUCCESS)
			it_sleep_ms(20);
	return E.nstate >= want;
}

/* ---- processes ----------------------------------------------------------------------- */

static bool alive(pid_t pid)
{
	return pid > 0 && waitpid(pid, NULL, WNOHANG) == 0;
}

/* Children (under valgrind with BLT_VALGRIND set): logs appended; the waits keep the
 * watcher's MQTT loop going. */
static const it_spawn_opts_t spawn_opts = {.append = true, .valgrind = true};

static void mqtt_idle(int ms)
{
	if (E.m)
		mosquitto_loop(E.m, ms, 1);
	else
		it_sleep_ms(ms);
}

/* (Re)start the simulator with extra fault switches (NULL-terminated list). */
static void sim_start(const char *first, ...)
{
	char ready[600], logp[600];
	it_argv_t args = {0};
	va_list ap;
	if (E.sim)
		assert_int_equal(it_stop(&E.sim, SIGTERM, 20000), 0);
	snprintf(ready, sizeof ready, "%s/sim.ready", E.dir);
	snprintf(logp, sizeof logp, "%s/sim.log", E.dir);
	unlink(ready);
	it_argv_add(&args, BLT_SIM_PATH, NULL);
	it_argv_tls(&args, E.up_port);
	it_argv_add(&args, "--profile", "AP300", "--sn", SN, "--count", "2", "--seed", "7",
	            "--ready-file", ready, NULL);
	va_start(ap, first);
	for (const char *a = first; a; a = va_arg(ap, const char *))
		it_argv_add(&args, a, NULL);
	va_end(ap);
	E.sim = it_spawn(args.v, logp, &spawn_opts);
	assert_true(it_wait_file(ready, E.sim, 30000, NULL));
}

/* Request timeout of the bridge. The stray group uses a long one: it is about which reply
 * is taken, and under CI load a real reply later than 700 ms would let a held short
 * stray be taken at the deadline (docs/reliability.md, "Stray replies"). */
static int request_timeout_ms = 700;

static void write_config(void)
{
	char pfx[512], pass[512], ca[512];
	FILE *f = fopen(E.cfg, "w");
	assert_non_null(f);
	fprintf(f,
	        "# written by test_faults_bridge\n"
	        "[bridge]\noffline_after = 2\nbackoff_max = 5\n\n"
	        "[upstream]\nhost = localhost\nport = %u\ncert = %s\ncert_password_file = %s\n"
	        "ca = %s\nclient_id = " UP_ID "\nreconnect_delay = 2\n\n"
	        "[homeassistant]\nhost = 127.0.0.1\nport = %u\nclient_id = faults-bridge\n"
	        "reconnect_delay = 1\n\n"
	        "[device " DEV "]\nprofile = AP300\nsn = " SN "\ntimeout = %d\nretries = 1\n"
	        "poll_core = 1\npoll_grid = 1\npoll_battery = 2\npoll_cells = 3\n"
	        "poll_inverter = 3\npoll_settings = 3\n",
	        E.up_port, it_path(pfx, sizeof pfx, "BLT_PKI", "client.pfx"),
	        it_path(pass, sizeof pass, "BLT_PKI", "client.pass"),
	        it_path(ca, sizeof ca, "BLT_PKI", "ca.pem"), E.down_port, request_timeout_ms);
	fclose(f);
}

/* ---- fixture ------------------------------------------------------------------------- */

static int setup(void **state)
{
	(void)state;
	memset(&E, 0, sizeof E);
	snprintf(E.dir, sizeof E.dir, "%s", it_env("BLT_IT_DIR"));
	snprintf(E.cfg, sizeof E.cfg, "%s/bridge.ini", E.dir);
	snprintf(E.log, sizeof E.log, "%s/bridge.log", E.dir);
	E.up_port = it_broker_start("up", "");
	E.down_port = it_broker_start("down", "--plain");
	mosquitto_lib_init();
	it_set_idle(mqtt_idle);
	E.m = mosquitto_new("faults-watcher", true, NULL);
	if (!E.m)
		return -1;
	mosquitto_message_callback_set(E.m, on_message);
	watcher_connect();
	write_config();
	sim_start(NULL);
	const char *argv[] = {BLT_BRIDGE_PATH, "-c", E.cfg, "-v", NULL};
	E.bridge = it_spawn(argv, E.log, &spawn_opts);
	return 0;
}

static int teardown(void **state)
{
	int brc, src;
	(void)state;
	brc = it_stop(&E.bridge, SIGTERM, 20000);
	src = it_stop(&E.sim, SIGTERM, 20000);
	mosquitto_disconnect(E.m);
	mosquitto_destroy(E.m);
	mosquitto_lib_cleanup();
	free(E.state);
	free(E.avail);
	free(E.stats);
	/* Under BLT_VALGRIND a memory error makes the exit status 99. */
	if (brc != 0 || src != 0) {
		fprintf(stderr, "bridge exit %d, simulator exit %d\n", brc, src);
		it_show_log(E.log, 40);
		return -1;
	}
	return 0;
}

/* Evaluates cond once; shows the logs on failure. */
#define CHECK(cond)                                                                                \
	do {                                                                                       \
		bool ok_ = (cond);                                                                 \
		if (!ok_)                                                                          \
			it_show_log(E.log, 40);                                                    \
		assert_true(ok_);                                                                  \
	} while (0)

static void no_wrong_values(void)
{
	for (unsigned i = 0; i < E.wrong && i < MAX_BAD; i++)
		fprintf(stderr, "wrong value published as valid: %s\n", E.bad[i]);
	if (E.wrong)
		it_show_log(E.log, 40);
	assert_int_equal(E.wrong, 0);
}

/* ---- scenarios ----------------------------------------------------------------------- */

static void test_baseline(void **state)
{
	(void)state;
	CHECK(pump_until(is_online, 30000));
	CHECK(more_states(3, 15000));
	E.baseline_done = true; /* text values of the clean run are the truth from now on */
	assert_true(E.ntext > 5);
	assert_non_null(baseline_text("charging_status"));
	/* the checker can fail: an impossible state is caught */
	unsigned before = E.wrong;
	check_state("{\"soc\":12339,\"charging_status\":\"surely not\"}");
	assert_int_equal(E.wrong, before + 2);
	E.wrong = before;
	CHECK(pump_until(have_stats, 8000));
	assert_true(stat_of("devices", "replies") > 0);
	assert_int_equal((int)stat_of("devices", "bad_frames"), 0);
	no_wrong_values();
}

static void test_garbage_mixed_in(void **state)
{
	double bad0, unsol0, req0;
	(void)state;
	bad0 = stat_of("devices", "bad_frames");
	unsol0 = stat_of("devices", "unsolicited");
	req0 = stat_of("devices", "requests");
	sim_start("--corrupt-crc", "0.15", "--truncate", "0.15", "--unsolicited", "300", NULL);
	pump(20000);
	CHECK(alive(E.bridge));
	CHECK(pump_until(is_online, 15000));
	CHECK(more_states(2, 10000));
	pump(5500); /* the next stats document */
	fprintf(stderr, "garbage: stats %s\n", E.stats ? E.stats : "(none)");
	CHECK(stat_of("devices", "bad_frames") > bad0);
	CHECK(stat_of("devices", "unsolicited") > unsol0);
	CHECK(stat_of("devices", "requests") > req0);
	no_wrong_values();
}

/* Known bug (docs/reliability.md): a duplicated reply arriving while the next request is
 * outstanding is taken as its reply when it is not longer than asked (FC03 replies carry
 * no register; the AP300 leaves the envelope register 0). Run by test_faults_stray. */
static void test_duplicated_replies(void **state)
{
	(void)state;
	sim_start("--duplicate", "0.2", NULL);
	pump(20000);
	CHECK(alive(E.bridge));
	CHECK(pump_until(is_online, 15000));
	CHECK(more_states(2, 10000));
	no_wrong_values();
}

/* Known limitation, same cause: another block's registers in a reply of plausible
 * length. Run by test_faults_stray. */
static void test_wrong_block_replies(void **state)
{
	(void)state;
	sim_start("--wrong-block", "0.15", NULL);
	pump(20000);
	CHECK(alive(E.bridge));
	CHECK(pump_until(is_online, 15000));
	CHECK(more_states(2, 10000));
	no_wrong_values();
}

static bool state_after_mark;
static char mark_seen[40];

static bool last_seen_after_mark(void)
{
	cJSON *o = cJSON_Parse(E.state ? E.state : ""), *v;
	bool r = false;
	v = o ? cJSON_GetObjectItemCaseSensitive(o, "last_seen") : NULL;
	if (cJSON_IsString(v))
		r = strcmp(v->valuestring, mark_seen) > 0;
	cJSON_Delete(o);
	return r;
}

static void mark_now(void)
{
	/* last_seen is ISO 8601 UTC with second resolution: strictly later = later second */
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(mark_seen, sizeof mark_seen, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
	state_after_mark = false;
}

static void test_upstream_broker_restart(void **state)
{
	char logp[600];
	pid_t watch;
	unsigned before;
	(void)state;
	sim_start(NULL);
	CHECK(pump_until(is_online, 20000));
	snprintf(logp, sizeof logp, "%s/watch.log", E.dir);
	it_argv_t args = {0};
	it_argv_add(&args, BLT_CLI_PATH, "watch", NULL);
	it_argv_tls(&args, E.up_port);
	it_argv_add(&args, "--profile", "AP300", "--sn",
	            SN2, /* on SN its replies would be stray replies for the bridge */
	            "--block", "1300", "--interval", "1", "--timeout", "700", NULL);
	watch = it_spawn(args.v, logp, &spawn_opts);
	pump(4000);
	assert_true(it_log_count(logp, " 1300 ") > 0);
	/* restart mid-poll: the bridge polls every second */
	assert_int_equal(it_broker_restart("up"), 0);
	before = it_log_count(logp, " 1300 ");
	mark_now();
	pump(1500);
	CHECK(pump_until(last_seen_after_mark, 30000));
	CHECK(pump_until(is_online, 10000));
	pump(3000);
	CHECK(alive(E.bridge));
	assert_true(alive(watch));
	if (it_log_count(logp, " 1300 ") <= before + 1)
		it_show_log(logp, 40);
	assert_true(it_log_count(logp, " 1300 ") > before + 1); /* watch lines after the restart */
	assert_int_equal(it_stop(&watch, SIGTERM, 20000), 0);
	pump(5500);
	CHECK(stat_of("upstream", "drops") >= 1);
	CHECK(stat_of("upstream", "connects") >= 2);
	no_wrong_values();
}

static void test_downstream_away(void **state)
{
	char dir[600];
	unsigned n0;
	(void)state;
	CHECK(pump_until(is_online, 10000));
	snprintf(dir, sizeof dir, "%s/down", E.dir);
	it_sh("'%s/broker.sh' stop '%s'", it_env("BLT_SCRIPTS"), dir);
	mosquitto_disconnect(E.m);
	it_sleep_ms(4000); /* the device state moves on meanwhile (load, last_seen) */
	mark_now();
	it_sleep_ms(1500);
	assert_int_equal(it_broker_restart("down"), 0);
	n0 = E.nstate;
	watcher_connect();
	/* the broker kept nothing (persistence false): what arrives is republished */
	CHECK(pump_until(last_seen_after_mark, 20000));
	CHECK(E.nstate > n0);
	CHECK(pump_until(is_online, 10000));
	pump(5500);
	CHECK(stat_of("homeassistant", "drops") >= 1);
	CHECK(alive(E.bridge));
	no_wrong_values();
}

static void test_silent_then_back(void **state)
{
	unsigned off0;
	(void)state;
	off0 = E.navail_offline;
	sim_start("--silent-after", "10", "--silent-for", "10", NULL);
	CHECK(pump_until(is_offline, 30000));
	CHECK(E.navail_offline > off0);
	mark_now();
	CHECK(pump_until(is_online, 40000));
	CHECK(pump_until(last_seen_after_mark, 10000));
	pump(5500);
	CHECK(stat_of("devices", "timeouts") > 0);
	CHECK(alive(E.bridge));
	no_wrong_values();
}

static void intruder_conn(void *user, bool connected, int err)
{
	int *drops = user;
	(void)err;
	if (!connected)
		(*drops)++;
}

static void test_session_kicked(void **state)
{
	uint8_t *pfx;
	blt_transport_t *t = NULL;
	blt_mqtt_opts_t o;
	int drops = 0;
	unsigned kicked0;
	(void)state;
	CHECK(pump_until(is_online, 10000));
	kicked0 = it_log_count(E.log, "upstream broker: disconnected");
	o = it_tls_opts("localhost", E.up_port, "client.pfx", &pfx);
	o.client_id = UP_ID; /* the bridge's: mosquitto drops the older session */
	o.reconnect_min_ms = 600000;
	assert_int_equal(blt_mqtt_new(&o, &t, NULL), BLT_OK);
	blt_transport_on_connection(t, intruder_conn, &drops);
	assert_int_equal(blt_transport_connect(t, NULL), BLT_OK);
	/* the bridge lost its session; after reconnect_delay (2 s here) it takes it back */
	for (int i = 0; i < 300 && !drops; i++) {
		blt_transport_poll(t, 50, NULL);
		mosquitto_loop(E.m, 0, 1);
	}
	CHECK(drops == 1);
	CHECK(it_log_count(E.log, "upstream broker: disconnected") > kicked0);
	blt_transport_free(t);
	free(pfx);
	mark_now();
	CHECK(pump_until(last_seen_after_mark, 30000));
	CHECK(pump_until(is_online, 10000));
	CHECK(alive(E.bridge));
	no_wrong_values();
}

int main(int argc, char **argv)
{
	const struct CMUnitTest stray[] = {
	    cmocka_unit_test(test_baseline),
	    cmocka_unit_test(test_duplicated_replies),
	    cmocka_unit_test(test_wrong_block_replies),
	};
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_baseline),
	    cmocka_unit_test(test_garbage_mixed_in),
	    cmocka_unit_test(test_upstream_broker_restart),
	    cmocka_unit_test(test_downstream_away),
	    cmocka_unit_test(test_silent_then_back),
	    cmocka_unit_test(test_session_kicked),
	};
	signal(SIGPIPE, SIG_IGN);
	if (argc > 1 && !strcmp(argv[1], "stray")) {
		request_timeout_ms = 3000;
		return cmocka_run_group_tests(stray, setup, teardown);
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
