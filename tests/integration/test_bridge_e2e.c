/* bluetti-bridge end to end: two real mosquitto brokers (upstream with mutual TLS, the Home
 * Assistant side plain), two simulated AP300s (bluetti-sim) and the real bluetti-bridge
 * binary. A libmosquitto subscriber on '#' of the downstream broker watches everything the
 * bridge publishes. Checked, in order:
 *   startup (bridge and both devices online, full state documents), every discovery
 *   document against Home Assistant's rules (test_bridge_checker.h), state updates, a
 *   command turning AC output off (and on) through the gated write path, discovery
 *   republished when HA announces itself, a device going silent -> offline while the other
 *   keeps updating -> back online, SIGHUP reload (a broken file is ignored; a removed
 *   device's entities are cleared), SIGTERM (offline published, exit 0), SIGKILL (the last
 *   will marks the bridge offline).
 * Runs under with_brokers.sh (BLT_IT_DIR, BLT_PKI, BLT_SCRIPTS). */
#include <fcntl.h>
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
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <mosquitto.h>

#include <bluetti/bluetti.h>

#include "it_util.h"
#include "it_watch.h"
#include "test_bridge_checker.h"

#ifndef BLT_SIM_PATH
#error "BLT_SIM_PATH must name the bluetti-sim binary"
#endif
#ifndef BLT_BRIDGE_PATH
#error "BLT_BRIDGE_PATH must name the bluetti-bridge binary"
#endif

#define SN_A "2616113487436"
#define SN_B "2616113487999"
/* a cloud model code with spaces, as the Elite 200 V2's: topics PUB/AP 300 X/<sn> */
#define MODEL_B "AP 300 X"

/* ---- the watcher: last payload and a counter per topic ------------------------------- */

/* After a restart, every state document of alpha must carry every key of the state
 * before it (issue: complete state from the first message); set by test_restart_*. */
static struct {
	cJSON *want; /* the state object before the restart */
	bool on;
	unsigned states, incomplete, control_null;
	char missing[64];
} R;

static void check_restart_state(const char *payload)
{
	cJSON *o = cJSON_Parse(payload), *it;
	R.states++;
	cJSON_ArrayForEach(it, R.want)
	{
		cJSON *v = cJSON_GetObjectItemCaseSensitive(o, it->string);
		if (!v) {
			R.incomplete++;
			snprintf(R.missing, sizeof R.missing, "%s", it->string);
		} else if (!strcmp(it->string, "ac_output") && cJSON_IsNull(v) &&
		           !cJSON_IsNull(it)) {
			R.control_null++;
		}
	}
	cJSON_Delete(o);
}

/* Every state document of alpha is checked while R.on. */
static void on_watched(const it_msg_t *x, void *user)
{
	(void)user;
	if (R.on && !strcmp(x->topic, "bluetti/alpha/state"))
		check_restart_state(x->payload);
}

static struct {
	it_watch_t w; /* the downstream broker, every topic */
	uint16_t up_port, down_port;
	pid_t sim_a, sim_b, bridge;
	char dir[512], cfg[600], log[600];
} E;

/* ---- processes ----------------------------------------------------------------------- */

/* Children: logs appended; the waits keep the watcher's MQTT loop going. */
static const it_spawn_opts_t spawn_opts = {.append = true};

static void mqtt_idle(int ms)
{
	if (E.w.m)
		mosquitto_loop(E.w.m, ms, 1);
	else
		it_sleep_ms(ms);
}

static pid_t spawn_sim(const char *sn, const char *name, const char *model)
{
	char ready[600], logp[600];
	snprintf(ready, sizeof ready, "%s/%s.ready", E.dir, name);
	snprintf(logp, sizeof logp, "%s/%s.log", E.dir, name);
	unlink(ready);
	it_argv_t a = {0};
	it_argv_add(&a, BLT_SIM_PATH, NULL);
	it_argv_tls(&a, E.up_port);
	it_argv_add(&a, "--profile", "AP300", "--sn", sn, "--ready-file", ready, NULL);
	if (model)
		it_argv_add(&a, "--model", model, NULL);
	pid_t pid = it_spawn(a.v, logp, &spawn_opts);
	assert_true(it_wait_file(ready, pid, 5000, NULL));
	return pid;
}

static pid_t spawn_bridge(void)
{
	const char *argv[] = {BLT_BRIDGE_PATH, "-c", E.cfg, "-v", NULL};
	return it_spawn(argv, E.log, &spawn_opts);
}

static void write_config(bool with_beta, const char *alpha_name, bool broken)
{
	char pfx[512], pass[512], ca[512];
	FILE *f = fopen(E.cfg, "w");
	assert_non_null(f);
	fprintf(f,
	        "# written by test_bridge_e2e\n"
	        "[bridge]\noffline_after = 2\nbackoff_max = 5\n\n"
	        "[upstream]\nhost = localhost\nport = %u\ncert = %s\ncert_password_file = %s\n"
	        "ca = %s\n\n"
	        "[homeassistant]\nhost = 127.0.0.1\nport = %u\nclient_id = bridge-e2e\n"
	        "discovery = entity\n\n"
	        "[device alpha]\nname = %s\nprofile = AP300\nsn = " SN_A "\ntimeout = 700\n"
	        "poll_core = 1\npoll_grid = 1\npoll_battery = 2\npoll_cells = 4\n"
	        "poll_inverter = 4\npoll_settings = 3\n",
	        E.up_port, it_path(pfx, sizeof pfx, "BLT_PKI", "client.pfx"),
	        it_path(pass, sizeof pass, "BLT_PKI", "client.pass"),
	        it_path(ca, sizeof ca, "BLT_PKI", "ca.pem"), E.down_port, alpha_name);
	if (with_beta)
		/* beta's long timeout with a retry: 5 s per failed request, which a poller with
		 * one request at a time would make alpha wait for (test_silent_device) */
		fprintf(f, "\n[device beta]\nprofile = AP300\nmodel = " MODEL_B "\nsn = " SN_B
		           "\ntimeout = 2500\n"
		           "retries = 1\npoll_core = 1\npoll_grid = 2\npoll_cells = 4\n");
	if (broken)
		fprintf(f, "\n[device gamma]\nprofile = NOPE\n");
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
	if (it_watch_start(&E.w, "bridge-e2e-watcher", E.down_port, NULL) != 0)
		return -1;
	E.w.on_msg = on_watched;
	E.sim_a = spawn_sim(SN_A, "sim_a", NULL);
	E.sim_b = spawn_sim(SN_B, "sim_b", MODEL_B);
	write_config(true, "Alpha station", false);
	E.bridge = spawn_bridge();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	it_stop(&E.bridge, SIGTERM, 5000);
	it_stop(&E.sim_a, SIGTERM, 5000);
	it_stop(&E.sim_b, SIGTERM, 5000);
	it_watch_stop(&E.w);
	mosquitto_lib_cleanup();
	return 0;
}

/* Evaluates cond once (it may publish or wait); shows the bridge log on failure. */
#define CHECK(cond)                                                                                \
	do {                                                                                       \
		bool ok_ = (cond);                                                                 \
		if (!ok_)                                                                          \
			it_show_log(E.log, 60);                                                    \
		assert_true(ok_);                                                                  \
	} while (0)

/* ---- tests --------------------------------------------------------------------------- */

static void test_startup(void **state)
{
	(void)state;
	CHECK(it_watch_wait_payload(&E.w, "bluetti/bridge/state", "online", 15000));
	CHECK(it_watch_wait_payload(&E.w, "bluetti/alpha/availability", "online", 15000));
	CHECK(it_watch_wait_payload(&E.w, "bluetti/beta/availability", "online", 15000));
	/* every group read once: cells, inverter and settings values present */
	CHECK(it_watch_wait_state(&E.w, "alpha", "battery_pack_cell_0_voltage", NULL, 15000));
	CHECK(it_watch_wait_state(&E.w, "alpha", "ac_output", NULL, 15000));
	CHECK(it_watch_wait_state(&E.w, "alpha", "grid_phase_0_voltage", NULL, 15000));
	CHECK(it_watch_wait_state(&E.w, "beta", "soc", NULL, 15000));
}

static size_t collect_docs(const char *node, chk_doc_t *docs, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < E.w.n && n < cap; i++) {
		const it_msg_t *x = &E.w.msgs[i];
		size_t tl = strlen(x->topic);
		if (strncmp(x->topic, "homeassistant/", 14) || tl < 7 ||
		    strcmp(x->topic + tl - 7, "/config") || !x->payload[0])
			continue;
		if (node && !strstr(x->topic, node))
			continue;
		docs[n].topic = x->topic;
		docs[n].payload = x->payload;
		n++;
	}
	return n;
}

static void test_discovery_rules(void **state)
{
	static chk_doc_t docs[IT_WATCH_MAX];
	static const char *const avail_a[] = {"bluetti/bridge/state", "bluetti/alpha/availability"};
	static const char *const avail_b[] = {"bluetti/bridge/state", "bluetti/beta/availability"};
	size_t before, n;
	(void)state;
	/* let the announcements settle: no new document for 2 s */
	do {
		before = collect_docs(NULL, docs, IT_WATCH_MAX);
		it_watch_pump(&E.w, 2000);
	} while (collect_docs(NULL, docs, IT_WATCH_MAX) != before);

	n = collect_docs("bluetti_" SN_A "/", docs, IT_WATCH_MAX);
	fprintf(stderr, "alpha: %zu discovery documents\n", n);
	CHECK(n >= 60);
	chk_ctx_t ca = {.prefix = "homeassistant",
	                .state_doc = it_watch_payload(&E.w, "bluetti/alpha/state"),
	                .state_topic = "bluetti/alpha/state",
	                .avail_topics = avail_a,
	                .navail = 2};
	if (chk_all(&ca, docs, n))
		fail_msg("alpha: %d discovery problems, last: %s", ca.problems, ca.last);
	/* what HA must see for the power station */
	CHECK(it_watch_payload(&E.w, "homeassistant/switch/bluetti_" SN_A "/ac_output/config") !=
	      NULL);
	CHECK(it_watch_payload(&E.w, "homeassistant/select/bluetti_" SN_A
	                             "/charging_mode/config") != NULL);
	CHECK(it_watch_payload(&E.w, "homeassistant/number/bluetti_" SN_A "/soc_high/config") !=
	      NULL);
	CHECK(it_watch_payload(&E.w, "homeassistant/sensor/bluetti_" SN_A
	                             "/grid_charge_energy/config") != NULL);
	CHECK(strstr(it_watch_payload(&E.w, "homeassistant/sensor/bluetti_" SN_A
	                                    "/grid_charge_energy/config"),
	             "\"state_class\":\"total_increasing\"") != NULL);
	/* battery pack as a sub-device of the station */
	CHECK(strstr(it_watch_payload(&E.w, "homeassistant/sensor/bluetti_" SN_A
	                                    "/battery_pack_cell_0_voltage/config"),
	             "\"via_device\":\"bluetti_" SN_A "\"") != NULL);
	CHECK(strstr(it_watch_payload(&E.w, "homeassistant/sensor/bluetti_" SN_A "/soc/config"),
	             "\"name\":\"Alpha station\"") != NULL);

	n = collect_docs("bluetti_" SN_B "/", docs, IT_WATCH_MAX);
	chk_ctx_t cb = {.prefix = "homeassistant",
	                .state_doc = it_watch_payload(&E.w, "bluetti/beta/state"),
	                .state_topic = "bluetti/beta/state",
	                .avail_topics = avail_b,
	                .navail = 2};
	if (chk_all(&cb, docs, n))
		fail_msg("beta: %d discovery problems, last: %s", cb.problems, cb.last);

	/* the bridge's own device (issue 14): every station is linked to it */
	CHECK(strstr(it_watch_payload(&E.w, "homeassistant/sensor/bluetti_" SN_A "/soc/config"),
	             "\"via_device\":\"bluetti_bridge_bluetti\"") != NULL);
	/* its entities and their state */
	CHECK(it_watch_payload(
	          &E.w, "homeassistant/binary_sensor/bluetti_bridge_bluetti/cloud/config") != NULL);
	CHECK(it_watch_payload(
	          &E.w, "homeassistant/sensor/bluetti_bridge_bluetti/reads_per_s/config") != NULL);
	/* no Bluetooth device: no (or a cleared) Bluetooth connection entity */
	CHECK(!it_watch_payload(&E.w,
	                        "homeassistant/binary_sensor/bluetti_bridge_bluetti/ble/config") ||
	      !it_watch_payload(
	          &E.w, "homeassistant/binary_sensor/bluetti_bridge_bluetti/ble/config")[0]);
	{
		/* published at most every 5 s, when it changed: wait for both devices online */
		uint64_t end = blt_now_ms() + 12000;
		while (!strstr(it_watch_payload(&E.w, "bluetti/bridge/info")
		                   ? it_watch_payload(&E.w, "bluetti/bridge/info")
		                   : "",
		               "\"devices_online\":2,") &&
		       blt_now_ms() < end)
			it_watch_pump(&E.w, 50);
		cJSON *info = cJSON_Parse(it_watch_payload(&E.w, "bluetti/bridge/info"));
		CHECK(cJSON_IsObject(info));
		CHECK(cJSON_IsString(cJSON_GetObjectItem(info, "version")));
		CHECK(!strcmp(cJSON_GetObjectItem(info, "cloud")->valuestring, "ON"));
		CHECK(cJSON_GetObjectItem(info, "devices_online")->valuedouble == 2);
		CHECK(cJSON_IsNumber(cJSON_GetObjectItem(info, "reads_per_s")));
		CHECK(cJSON_IsNumber(cJSON_GetObjectItem(info, "timeouts")));
		CHECK(cJSON_IsNumber(cJSON_GetObjectItem(info, "stray_replies")));
		CHECK(cJSON_GetObjectItem(info, "last_error") != NULL);
		cJSON_Delete(info);
	}
	/* published once: no discovery document went out twice with the same content, and
	 * none before the device's first round (its software version is in every one) */
	for (size_t i = 0; i < E.w.n; i++) {
		const it_msg_t *x = &E.w.msgs[i];
		if (!strncmp(x->topic, "homeassistant/sensor/bluetti_" SN_A "/", 30) &&
		    strstr(x->topic, "/config") && x->count != 1) {
			fprintf(stderr, "%s published %u times\n", x->topic, x->count);
			CHECK(x->count == 1);
		}
	}
	CHECK(strstr(it_watch_payload(&E.w, "homeassistant/sensor/bluetti_" SN_A "/soc/config"),
	             "\"sw_version\"") != NULL);

	/* unique_ids unique across both devices */
	static const char *const avail_all[] = {
	    "bluetti/bridge/state", "bluetti/alpha/availability", "bluetti/beta/availability"};
	n = collect_docs(NULL, docs, IT_WATCH_MAX);
	chk_ctx_t call = {.prefix = "homeassistant", .avail_topics = avail_all, .navail = 3};
	if (chk_all(&call, docs, n))
		fail_msg("all: %d discovery problems, last: %s", call.problems, call.last);
}

static void test_state_updates(void **state)
{
	char first[64] = "", v[64];
	unsigned c0 = it_watch_count(&E.w, "bluetti/alpha/state");
	(void)state;
	CHECK(it_watch_state_value(&E.w, "alpha", "last_seen", first, sizeof first));
	it_watch_pump(&E.w, 3500);
	CHECK(it_watch_count(&E.w, "bluetti/alpha/state") >= c0 + 2);
	CHECK(it_watch_state_value(&E.w, "alpha", "last_seen", v, sizeof v));
	CHECK(strcmp(v, first) != 0);
}

static void test_command_ac_output(void **state)
{
	(void)state;
	CHECK(it_watch_wait_state(&E.w, "alpha", "ac_output", "ON", 5000));
	CHECK(mosquitto_publish(E.w.m, NULL, "bluetti/alpha/set/ac_output", 3, "OFF", 1, false) ==
	      MOSQ_ERR_SUCCESS);
	CHECK(it_watch_wait_state(&E.w, "alpha", "ac_output", "OFF", 10000));
	/* the power follows the switch on the next core poll */
	CHECK(it_watch_wait_state(&E.w, "alpha", "ac_load_power", "0", 10000));
	/* garbage is refused and changes nothing */
	mosquitto_publish(E.w.m, NULL, "bluetti/alpha/set/ac_output", 6, "banana", 1, false);
	it_watch_pump(&E.w, 1500);
	CHECK(it_watch_wait_state(&E.w, "alpha", "ac_output", "OFF", 100));
	CHECK(mosquitto_publish(E.w.m, NULL, "bluetti/alpha/set/ac_output", 2, "ON", 1, false) ==
	      MOSQ_ERR_SUCCESS);
	CHECK(it_watch_wait_state(&E.w, "alpha", "ac_output", "ON", 10000));
}

static void test_ha_birth_republishes(void **state)
{
	const char *t = "homeassistant/switch/bluetti_" SN_A "/ac_output/config";
	unsigned c0 = it_watch_count(&E.w, t);
	(void)state;
	mosquitto_publish(E.w.m, NULL, "homeassistant/status", 6, "online", 1, false);
	uint64_t end = blt_now_ms() + 5000;
	while (it_watch_count(&E.w, t) == c0 && blt_now_ms() < end)
		mosquitto_loop(E.w.m, 50, 1);
	CHECK(it_watch_count(&E.w, t) > c0);
}

static void test_silent_device(void **state)
{
	char a0[64] = "", a1[64] = "";
	(void)state;
	it_msg_t *as = it_watch_find(&E.w, "bluetti/alpha/state");
	CHECK(as != NULL);
	it_watch_pump(&E.w, 1500);
	it_stop(&E.sim_b, SIGTERM, 5000);
	/* While beta's requests time out (2.5 s each, one retry) and then while it is
	 * probed, alpha keeps its 1 s core cadence: the longest gap between its state
	 * updates stays within the interval plus a generous margin (not a speed test: a
	 * poller waiting for beta would leave 5 s gaps). */
	as->max_gap = 0;
	CHECK(it_watch_wait_payload(&E.w, "bluetti/beta/availability", "offline", 20000));
	it_watch_pump(&E.w, 6000);
	fprintf(stderr, "alpha: longest gap between state updates while beta is silent: %llu ms\n",
	        (unsigned long long)as->max_gap);
	CHECK(as->max_gap > 0);
	CHECK(as->max_gap < 1000 + 1500);
	/* the dead device does not stall the live one */
	it_watch_state_value(&E.w, "alpha", "last_seen", a0, sizeof a0);
	it_watch_pump(&E.w, 3000);
	it_watch_state_value(&E.w, "alpha", "last_seen", a1, sizeof a1);
	CHECK(strcmp(a0, a1) != 0);
	CHECK(it_watch_wait_payload(&E.w, "bluetti/alpha/availability", "online", 100));
	/* and back */
	E.sim_b = spawn_sim(SN_B, "sim_b", MODEL_B);
	CHECK(it_watch_wait_payload(&E.w, "bluetti/beta/availability", "online", 25000));
}

static void test_reload(void **state)
{
	const char *beta_soc = "homeassistant/sensor/bluetti_" SN_B "/soc/config";
	(void)state;
	/* a broken file is reported and ignored */
	write_config(true, "Alpha station", true);
	kill(E.bridge, SIGHUP);
	it_watch_pump(&E.w, 2000);
	CHECK(waitpid(E.bridge, NULL, WNOHANG) == 0);
	CHECK(it_watch_wait_payload(&E.w, "bluetti/bridge/state", "online", 100));
	CHECK(it_watch_payload(&E.w, beta_soc) && it_watch_payload(&E.w, beta_soc)[0]);
	/* beta removed, alpha renamed */
	write_config(false, "Alpha renamed", false);
	kill(E.bridge, SIGHUP);
	CHECK(it_watch_wait_payload(&E.w, beta_soc, "", 10000));
	CHECK(it_watch_wait_payload(&E.w, "bluetti/beta/availability", "", 1000));
	uint64_t end = blt_now_ms() + 10000;
	const char *t = "homeassistant/sensor/bluetti_" SN_A "/soc/config";
	while (!(it_watch_payload(&E.w, t) && strstr(it_watch_payload(&E.w, t), "Alpha renamed")) &&
	       blt_now_ms() < end)
		mosquitto_loop(E.w.m, 50, 1);
	CHECK(strstr(it_watch_payload(&E.w, t), "Alpha renamed") != NULL);
	CHECK(it_watch_wait_payload(&E.w, "bluetti/alpha/availability", "online", 10000));
}

static void test_sigterm_publishes_offline(void **state)
{
	(void)state;
	CHECK(it_watch_wait_payload(&E.w, "bluetti/bridge/state", "online", 5000));
	kill(E.bridge, SIGTERM);
	CHECK(it_wait_exit(E.bridge, 5000) == 0);
	E.bridge = 0;
	CHECK(it_watch_wait_payload(&E.w, "bluetti/bridge/state", "offline", 3000));
	CHECK(it_watch_wait_payload(&E.w, "bluetti/alpha/availability", "offline", 3000));
}

/* A restarted bridge (Home Assistant still holding the retained discovery and state)
 * never publishes a state that lacks a key of the previous state, and the controls keep
 * their last value instead of flashing null. */
static void test_restart_state_complete(void **state)
{
	(void)state;
	CHECK(E.bridge == 0);
	CHECK(it_watch_payload(&E.w, "bluetti/alpha/state") != NULL);
	R.want = cJSON_Parse(it_watch_payload(&E.w, "bluetti/alpha/state"));
	CHECK(cJSON_IsObject(R.want) && cJSON_GetArraySize(R.want) > 20);
	R.on = true;
	E.bridge = spawn_bridge();
	CHECK(it_watch_wait_payload(&E.w, "bluetti/alpha/availability", "online", 15000));
	it_watch_pump(&E.w, 4000); /* several polls of the fast groups */
	R.on = false;
	printf("# %u state documents after the restart, %u incomplete (e.g. %s), %u with "
	       "ac_output null\n",
	       R.states, R.incomplete, R.missing[0] ? R.missing : "-", R.control_null);
	CHECK(R.states > 0);
	CHECK(R.incomplete == 0);
	CHECK(R.control_null == 0);
	cJSON_Delete(R.want);
	R.want = NULL;
	kill(E.bridge, SIGTERM);
	CHECK(it_wait_exit(E.bridge, 5000) == 0);
	E.bridge = 0;
}

static void test_sigkill_last_will(void **state)
{
	(void)state;
	E.bridge = spawn_bridge();
	CHECK(it_watch_wait_payload(&E.w, "bluetti/bridge/state", "online", 15000));
	CHECK(it_watch_wait_payload(&E.w, "bluetti/alpha/availability", "online", 15000));
	kill(E.bridge, SIGKILL);
	it_wait_exit(E.bridge, 5000);
	E.bridge = 0;
	/* the broker publishes the last will when the connection drops */
	CHECK(it_watch_wait_payload(&E.w, "bluetti/bridge/state", "offline", 10000));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_startup),
	    cmocka_unit_test(test_discovery_rules),
	    cmocka_unit_test(test_state_updates),
	    cmocka_unit_test(test_command_ac_output),
	    cmocka_unit_test(test_ha_birth_republishes),
	    cmocka_unit_test(test_silent_device),
	    cmocka_unit_test(test_reload),
	    cmocka_unit_test(test_sigterm_publishes_offline),
	    cmocka_unit_test(test_restart_state_complete),
	    cmocka_unit_test(test_sigkill_last_will),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
