/* Nodes end to end (NODE_INFO, block 21000): a simulated AP300 with two B300 packs and a
 * D1 hub (bluetti-sim --packs 2 --hub) behind a real mosquitto with mutual TLS; the real
 * `bluetti` CLI lists the nodes and reads a pack at its own slave address; the real
 * bluetti-bridge publishes each pack and the hub as a Home Assistant sub-device (via_device
 * the power station) whose discovery documents pass the rule checker
 * (test_bridge_checker.h) and whose state is physically consistent (P = V x I, the cells
 * summing to the pack voltage). Runs under with_brokers.sh. */
#include <fcntl.h>
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
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>
#include <mosquitto.h>

#include <bluetti/bluetti.h>

#include "it_util.h"
#include "it_watch.h"
#include "test_bridge_checker.h"

#define SN "2616113487436"

static struct {
	it_watch_t w; /* the downstream broker, every topic */
	uint16_t up_port, down_port;
	pid_t sim, bridge;
	char dir[512], cfg[600], log[600], tls[2048];
} E;

/* Number under key in the bridge's state document; NAN if absent or null. */
static double state_num(const char *key)
{
	cJSON *o = cJSON_Parse(it_watch_payload(&E.w, "bluetti/station/state")
	                           ? it_watch_payload(&E.w, "bluetti/station/state")
	                           : "");
	const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
	double r = cJSON_IsNumber(v) ? v->valuedouble : NAN;
	cJSON_Delete(o);
	return r;
}

static bool wait_num(const char *key, int ms)
{
	uint64_t end = blt_now_ms() + (uint64_t)ms;
	do {
		if (!isnan(state_num(key)))
			return true;
		mosquitto_loop(E.w.m, 50, 1);
	} while (blt_now_ms() < end);
	return false;
}

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		bool ok_ = (cond);                                                                 \
		if (!ok_)                                                                          \
			it_show_log(E.log, 0);                                                     \
		assert_true(ok_);                                                                  \
	} while (0)

/* Run the CLI with args (after the command) and the connection options; stdout to out. */
static int cli(const char *cmd, const char *args, const char *out)
{
	char line[4096];
	int n = snprintf(line, sizeof line,
	                 "'%s' %s --profile AP300 --sn " SN " %s %s > '%s/%s' 2> '%s/%s.err'",
	                 BLT_CLI_PATH, cmd, E.tls, args, E.dir, out, E.dir, out);
	assert_true(n > 0 && (size_t)n < sizeof line);
	int st = system(line);
	return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static char *slurp(const char *name)
{
	char path[700];
	size_t n;
	snprintf(path, sizeof path, "%s/%s", E.dir, name);
	return (char *)it_read(path, &n);
}

static int setup(void **state)
{
	char pfx[512], pass[512], ca[512], broker[64], ready[600], simlog[600];
	(void)state;
	memset(&E, 0, sizeof E);
	snprintf(E.dir, sizeof E.dir, "%s", it_env("BLT_IT_DIR"));
	snprintf(E.cfg, sizeof E.cfg, "%s/bridge.ini", E.dir);
	snprintf(E.log, sizeof E.log, "%s/bridge.log", E.dir);
	E.up_port = it_broker_start("up", "");
	E.down_port = it_broker_start("down", "--plain");
	it_path(pfx, sizeof pfx, "BLT_PKI", "client.pfx");
	it_path(pass, sizeof pass, "BLT_PKI", "client.pass");
	it_path(ca, sizeof ca, "BLT_PKI", "ca.pem");
	snprintf(broker, sizeof broker, "localhost:%u", E.up_port);
	snprintf(E.tls, sizeof E.tls, "--broker %s --cert '%s' --cert-password-file '%s' --ca '%s'",
	         broker, pfx, pass, ca);
	mosquitto_lib_init();
	if (it_watch_start(&E.w, "nodes-e2e-watcher", E.down_port, NULL) != 0)
		return -1;
	snprintf(ready, sizeof ready, "%s/sim.ready", E.dir);
	snprintf(simlog, sizeof simlog, "%s/sim.log", E.dir);
	const char *argv[] = {BLT_SIM_PATH,
	                      "--broker",
	                      broker,
	                      "--cert",
	                      pfx,
	                      "--cert-password-file",
	                      pass,
	                      "--ca",
	                      ca,
	                      "--profile",
	                      "AP300",
	                      "--sn",
	                      SN,
	                      "--packs",
	                      "2",
	                      "--hub",
	                      "--ready-file",
	                      ready,
	                      "-v",
	                      NULL};
	E.sim = it_spawn(argv, simlog, &(it_spawn_opts_t){.append = true});
	return it_wait_file(ready, E.sim, 5000, NULL) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	it_stop(&E.bridge, SIGTERM, 5000);
	it_stop(&E.sim, SIGTERM, 5000);
	it_watch_stop(&E.w);
	mosquitto_lib_cleanup();
	return 0;
}

/* `bluetti nodes`: the list the unit reports, through the device model. */
static void test_cli_nodes(void **state)
{
	(void)state;
	assert_int_equal(cli("nodes", "--json", "nodes.json"), 0);
	char *out = slurp("nodes.json");
	cJSON *o = cJSON_Parse(out);
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "nodes");
	assert_true(cJSON_IsArray(list));
	assert_int_equal(cJSON_GetArraySize(list), 4);
	static const struct {
		int slave;
		const char *kind, *model;
	} want[] = {{0, "power_station", "AP300"},
	            {11, "hub", "D1 hub"},
	            {51, "battery", "B300"},
	            {52, "battery", "B300"}};
	for (int i = 0; i < 4; i++) {
		const cJSON *x = cJSON_GetArrayItem(list, i);
		assert_int_equal(cJSON_GetObjectItem(x, "slave")->valueint, want[i].slave);
		assert_string_equal(cJSON_GetObjectItem(x, "kind")->valuestring, want[i].kind);
		assert_string_equal(cJSON_GetObjectItem(x, "model")->valuestring, want[i].model);
	}
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "serial")->valuestring,
	                    SN);
	cJSON_Delete(o);
	free(out);
	/* the text table */
	assert_int_equal(cli("nodes", "", "nodes.txt"), 0);
	out = slurp("nodes.txt");
	assert_non_null(strstr(out, "51    battery       B300"));
	assert_non_null(strstr(out, "11    hub           D1 hub"));
	free(out);
}

/* `bluetti read --node 51`: the pack's own blocks at its slave address. */
static void test_cli_read_node(void **state)
{
	(void)state;
	assert_int_equal(cli("read", "--node 51 --block 6100,6300 --json", "pack51.json"), 0);
	char *out = slurp("pack51.json");
	char *nl = strchr(out, '\n');
	assert_non_null(nl);
	*nl = '\0';
	cJSON *p = cJSON_Parse(out), *c = cJSON_Parse(nl + 1);
	const cJSON *pv = cJSON_GetObjectItem(p, "values"), *cv = cJSON_GetObjectItem(c, "values");
	assert_non_null(pv);
	assert_non_null(cv);
	assert_string_equal(cJSON_GetObjectItem(pv, "pack_model")->valuestring, "B300");
	assert_string_equal(cJSON_GetObjectItem(pv, "pack_serial")->valuestring, "2616113487487");
	double v = cJSON_GetObjectItem(pv, "voltage")->valuedouble, sum = 0;
	int cells = cJSON_GetObjectItem(cv, "cell_count")->valueint;
	assert_int_equal(cells, 16);
	for (int i = 0; i < cells; i++) {
		char k[32];
		snprintf(k, sizeof k, "cell_%d_voltage", i);
		sum += cJSON_GetObjectItem(cv, k)->valuedouble;
	}
	assert_true(fabs(sum - v) < 0.011);
	cJSON_Delete(p);
	cJSON_Delete(c);
	free(out);
	/* the hub answers no pack read: a clear failure, exit 1 */
	assert_int_equal(cli("read", "--node 11 --block 6100 --timeout 3000", "hub.txt"), 1);
	out = slurp("hub.txt.err");
	assert_non_null(strstr(out, "at node 11"));
	assert_non_null(strstr(out, "illegal data address"));
	free(out);
	/* a bad slave address is a usage error */
	assert_int_equal(cli("read", "--node 300 --block 6100", "bad.txt"), 2);
}

static size_t collect_docs(chk_doc_t *docs, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < E.w.n && n < cap; i++) {
		const it_msg_t *x = &E.w.msgs[i];
		size_t tl = strlen(x->topic);
		if (strncmp(x->topic, "homeassistant/", 14) || tl < 7 ||
		    strcmp(x->topic + tl - 7, "/config") || !x->payload[0])
			continue;
		if (strstr(x->topic,
		           "/bluetti_bridge_")) /* the bridge's own device: its own state */
			continue;
		docs[n].topic = x->topic;
		docs[n].payload = x->payload;
		n++;
	}
	return n;
}

/* The bridge: every pack and the hub as sub-devices that pass the HA rules. */
static void test_bridge_sub_devices(void **state)
{
	static chk_doc_t docs[IT_WATCH_MAX];
	static const char *const avail[] = {"bluetti/bridge/state", "bluetti/station/availability"};
	char pfx[512], pass[512], ca[512];
	size_t n, before;
	(void)state;

	FILE *f = fopen(E.cfg, "w");
	assert_non_null(f);
	fprintf(f,
	        "[upstream]\nhost = localhost\nport = %u\ncert = %s\ncert_password_file = %s\n"
	        "ca = %s\n\n[homeassistant]\nhost = 127.0.0.1\nport = %u\nclient_id = nodes-e2e\n"
	        "discovery = entity\n\n"
	        "[device station]\nname = Station\nprofile = AP300\nsn = " SN "\ntimeout = 1500\n"
	        "poll_core = 2\npoll_grid = 2\npoll_battery = 2\npoll_cells = 3\n"
	        "poll_inverter = 5\npoll_settings = 5\n",
	        E.up_port, it_path(pfx, sizeof pfx, "BLT_PKI", "client.pfx"),
	        it_path(pass, sizeof pass, "BLT_PKI", "client.pass"),
	        it_path(ca, sizeof ca, "BLT_PKI", "ca.pem"), E.down_port);
	fclose(f);
	const char *argv[] = {BLT_BRIDGE_PATH, "-c", E.cfg, "-v", NULL};
	E.bridge = it_spawn(argv, E.log, &(it_spawn_opts_t){.append = true});

	CHECK(wait_num("pack51_soc", 20000));
	CHECK(wait_num("pack52_cell_15_voltage", 20000));
	CHECK(wait_num("battery_pack_cell_0_voltage", 20000));
	/* let the announcements settle: no new document for 2 s */
	do {
		before = collect_docs(docs, IT_WATCH_MAX);
		it_watch_pump(&E.w, 2000);
	} while (collect_docs(docs, IT_WATCH_MAX) != before);
	n = collect_docs(docs, IT_WATCH_MAX);
	chk_ctx_t c = {.prefix = "homeassistant",
	               .state_doc = it_watch_payload(&E.w, "bluetti/station/state"),
	               .state_topic = "bluetti/station/state",
	               .avail_topics = avail,
	               .navail = 2};
	if (chk_all(&c, docs, n)) {
		it_show_log(E.log, 0);
		fail_msg("%d discovery problems, last: %s", c.problems, c.last);
	}

	/* each pack and the hub are devices of their own under the station */
	static const char *const subs[] = {"pack51_soc", "pack52_voltage", "hub11_online"};
	for (size_t i = 0; i < 3; i++) {
		char topic[200];
		snprintf(topic, sizeof topic, "homeassistant/%s/bluetti_" SN "/%s/config",
		         strstr(subs[i], "online") ? "binary_sensor" : "sensor", subs[i]);
		const char *doc = it_watch_payload(&E.w, topic);
		CHECK(doc != NULL);
		cJSON *o = cJSON_Parse(doc);
		const cJSON *dev = cJSON_GetObjectItem(o, "device");
		assert_string_equal(cJSON_GetObjectItem(dev, "via_device")->valuestring,
		                    "bluetti_" SN);
		const char *id =
		    cJSON_GetArrayItem(cJSON_GetObjectItem(dev, "identifiers"), 0)->valuestring;
		char want[64];
		snprintf(want, sizeof want, "bluetti_" SN "_%.*s", (int)strcspn(subs[i], "_"),
		         subs[i]);
		assert_string_equal(id, want);
		assert_non_null(cJSON_GetObjectItem(dev, "serial_number"));
		cJSON_Delete(o);
	}
	CHECK(
	    strstr(it_watch_payload(&E.w, "homeassistant/sensor/bluetti_" SN "/pack51_soc/config"),
	           "\"model\":\"B300\"") != NULL);
	CHECK(strstr(it_watch_payload(&E.w, "homeassistant/binary_sensor/bluetti_" SN
	                                    "/hub11_online/config"),
	             "\"model\":\"D1 hub\"") != NULL);
	/* a hub has no battery values */
	CHECK(it_watch_payload(&E.w, "homeassistant/sensor/bluetti_" SN "/hub11_soc/config") ==
	      NULL);

	/* the packs' state: P = V x I, cells sum to the pack voltage, SOC in range */
	for (int slave = 51; slave <= 52; slave++) {
		char k[64];
		double v, i, p, sum = 0;
		snprintf(k, sizeof k, "pack%d_voltage", slave);
		v = state_num(k);
		snprintf(k, sizeof k, "pack%d_current", slave);
		i = state_num(k);
		snprintf(k, sizeof k, "pack%d_power", slave);
		p = state_num(k);
		for (int j = 0; j < 16; j++) {
			snprintf(k, sizeof k, "pack%d_cell_%d_voltage", slave, j);
			sum += state_num(k);
		}
		snprintf(k, sizeof k, "pack%d_soc", slave);
		fprintf(stderr, "pack %d: %.2f V %.1f A %.0f W, cells %.3f V, SOC %.0f %%\n", slave,
		        v, i, p, sum, state_num(k));
		CHECK(fabs(p - v * i) <= 1.0);
		CHECK(fabs(sum - v) < 0.011);
		CHECK(state_num(k) > 0 && state_num(k) <= 100);
		CHECK(i < 0); /* the §7.2 scenario discharges into the AC load */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cli_nodes),
	    cmocka_unit_test(test_cli_read_node),
	    cmocka_unit_test(test_bridge_sub_devices),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
