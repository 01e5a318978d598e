/* bluetti-bridge offline tests (no network): configuration parsing and validation, the
 * Home Assistant entities / discovery / state documents generated from real captured
 * blocks (PROTOCOL.md §7.1, AP300), checked against HA's discovery rules, and command
 * payload normalisation. Built with the bridge's own sources. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include <bluetti/bluetti.h>
#include <bluetti/device.h>
#include <bluetti/settings.h>

#include "bridge.h"
#include "test_bridge_checker.h"

#ifndef BLT_TEST_DATA
#error "BLT_TEST_DATA must name tests/data"
#endif

/* ---- helpers ------------------------------------------------------------------------- */

static bool has_error(const br_errors_t *e, const char *needle)
{
	for (size_t i = 0; i < e->n; i++)
		if (strstr(e->msg[i], needle))
			return true;
	return false;
}

static void dump_errors(const br_errors_t *e)
{
	for (size_t i = 0; i < e->n; i++)
		fprintf(stderr, "  config error: %s\n", e->msg[i]);
}

static int parse(const char *text, br_config_t **c, br_errors_t *e)
{
	return br_config_parse(text, strlen(text), "t.ini", true, c, e);
}

#define MINIMAL                                                                                    \
	"[upstream]\nhost = broker.example\ncert = " BLT_TEST_DATA "/payloads/README.md\n"         \
	"[homeassistant]\nhost = ha.local\n"

/* ---- configuration ------------------------------------------------------------------- */

static void test_config_minimal_defaults(void **state)
{
	br_config_t *c = NULL;
	br_errors_t e;
	(void)state;
	int err = parse(MINIMAL "[device garage]\nprofile = EL100V2\nsn = 2434000112345\n"
	                        "poll_grid = 2\npoll_cells = 0\n",
	                &c, &e);
	if (err)
		dump_errors(&e);
	assert_int_equal(err, BLT_OK);
	assert_non_null(c);
	assert_string_equal(c->base_topic, "bluetti");
	assert_string_equal(c->discovery_prefix, "homeassistant");
	assert_int_equal(c->up.port, 18760);
	assert_true(c->up.tls);
	assert_int_equal(c->down.port, 1883);
	assert_false(c->down.tls);
	assert_int_equal(c->ndev, 1);
	const br_device_cfg_t *d = &c->dev[0];
	assert_string_equal(d->id, "garage");
	assert_string_equal(d->model, "EL100V2");
	assert_string_equal(d->preset, "v2");
	assert_string_equal(d->name, "Elite 100 V2 garage");
	/* profile intervals, overridden per group */
	for (size_t g = 0; g < d->profile->ngroups; g++) {
		const char *gn = d->profile->groups[g].name;
		if (!strcmp(gn, "grid"))
			assert_int_equal(d->interval_s[g], 2);
		else if (!strcmp(gn, "cells"))
			assert_int_equal(d->interval_s[g], 0);
		else
			assert_int_equal(d->interval_s[g], d->profile->groups[g].interval_s);
	}
	assert_false(br_device_polls_block(d, 6300));
	assert_true(br_device_polls_block(d, 1300));
	br_config_free(c);
}

static void test_config_errors_name_file_line_key(void **state)
{
	br_config_t *c = NULL;
	br_errors_t e;
	(void)state;
	int err = parse("[upstream]\n"        /* 1 */
	                "host = h\n"          /* 2 */
	                "port = 70000\n"      /* 3 */
	                "tls = perhaps\n"     /* 4 */
	                "cert = /x.pfx\n"     /* 5 */
	                "[homeassistant]\n"   /* 6 */
	                "base_topic = a/#\n"  /* 7 */
	                "colour = red\n"      /* 8 */
	                "[device garage]\n"   /* 9 */
	                "profile = EL100V2\n" /* 10 */
	                "sn = 1\n"            /* 11 */
	                "poll_nonsense = 3\n" /* 12 */
	                "poll_grid = fast\n"  /* 13 */
	                "sn = 2\n"            /* 14 */
	                "[device two]\n"      /* 15 */
	                "profile = EL999\n"   /* 16 */
	                "sn = 1 2\n"          /* 17 */
	                "[device garage]\n"   /* 18 */
	                "[device a/b]\n"      /* 19 */
	                "[what]\n"            /* 20 */
	                "just words\n",       /* 21 */
	                &c, &e);
	assert_int_equal(err, BLT_E_CONFIG);
	assert_null(c);
	dump_errors(&e);
	assert_true(has_error(&e, "t.ini:3: [upstream] port: '70000'"));
	assert_true(has_error(&e, "t.ini:4: [upstream] tls: 'perhaps' is not a boolean"));
	assert_true(has_error(&e, "t.ini:7: [homeassistant] base_topic"));
	assert_true(has_error(&e, "t.ini:8: [homeassistant] colour: unknown key"));
	assert_true(has_error(&e, "t.ini:12: [device garage] poll_nonsense: profile EL100V2 has no "
	                          "group 'nonsense'"));
	assert_true(has_error(&e, "t.ini:13: [device garage] poll_grid: 'fast'"));
	assert_true(has_error(&e, "t.ini:14: [device garage] sn: given twice (first at line 11)"));
	assert_true(has_error(&e, "t.ini:16: [device two] profile: unknown profile 'EL999'"));
	assert_true(has_error(&e, "t.ini:17: [device two] sn: '1 2' is not a valid serial"));
	assert_true(has_error(&e, "t.ini:18: [device garage]: section given twice"));
	assert_true(has_error(&e, "t.ini:19: [device a/b]: device name 'a/b'"));
	assert_true(has_error(&e, "t.ini:20: [what]: unknown section"));
	assert_true(has_error(&e, "t.ini:21: syntax error"));
	/* reported in file order */
	for (size_t i = 1; i < e.n; i++)
		assert_true(e.line[i - 1] <= e.line[i]);
}

static void test_config_required_and_account(void **state)
{
	br_config_t *c = NULL;
	br_errors_t e;
	(void)state;
	assert_int_equal(parse("[homeassistant]\nhost = x\n", &c, &e), BLT_E_CONFIG);
	assert_true(has_error(&e, "no [upstream] section"));
	assert_true(has_error(&e, "no [device NAME] section"));

	assert_int_equal(parse("[upstream]\naccount = me@example.com\n[device d]\nprofile = AP300\n"
	                       "sn = 1\n",
	                       &c, &e),
	                 BLT_E_CONFIG);
	/* account = (tests/integration/test_creds_bridge.sh runs it end to end): without a
	 * cached login it says how to get one; broker keys conflict with it */
	setenv("XDG_STATE_HOME", "/nonexistent/blt-state", 1);
	assert_int_equal(
	    parse("[upstream]\naccount = me@example.com\n[device d]\nsn = 1\n", &c, &e),
	    BLT_E_CONFIG);
	assert_true(has_error(&e, "t.ini:2: [upstream] account: no cached login"));
	assert_true(has_error(&e, "bluetti login --email me@example.com"));
	assert_int_equal(
	    parse("[upstream]\naccount = me@example.com\nhost = h\n[device d]\nsn = 1\n", &c, &e),
	    BLT_E_CONFIG);
	assert_true(has_error(&e, "t.ini:3: [upstream] host: comes from the account"));
	assert_int_equal(parse("[upstream]\naccount = me\n[device d]\nsn = 1\n", &c, &e),
	                 BLT_E_CONFIG);
	assert_true(has_error(&e, "t.ini:2: [upstream] account: 'me' is not an e-mail"));

	assert_int_equal(parse("[upstream]\nhost = h\n[device d]\nsn = 1\n", &c, &e), BLT_E_CONFIG);
	assert_true(has_error(&e, "[upstream] cert: is required"));
	assert_true(has_error(&e, "t.ini:3: [device d] profile: is required"));

	/* generic profile needs the model */
	assert_int_equal(parse(MINIMAL "[device d]\nprofile = generic\nsn = 1\n", &c, &e),
	                 BLT_E_CONFIG);
	assert_true(has_error(&e, "[device d] model: is required with the generic profile"));

	/* a cloud model code with spaces (the Elite 200 V2's) is a usable topic segment and
	 * picks its profile from the alias table; topic syntax characters are refused */
	assert_int_equal(parse(MINIMAL "[device d]\nmodel = Elite 200 V2\nsn = 1\n", &c, &e),
	                 BLT_OK);
	assert_string_equal(c->dev[0].model, "Elite 200 V2");
	assert_string_equal(c->dev[0].profile->id, "ELITE200V2");
	br_config_free(c);
	assert_int_equal(parse(MINIMAL "[device d]\nmodel = PBOX\nsn = 1\n", &c, &e), BLT_OK);
	assert_string_equal(c->dev[0].profile->id, "EP760");
	br_config_free(c);
	assert_int_equal(parse(MINIMAL "[device d]\nmodel = AORA 80\nsn = 1\n", &c, &e), BLT_OK);
	assert_string_equal(c->dev[0].profile->id, "GENERIC");
	br_config_free(c);
	assert_int_equal(
	    parse(MINIMAL "[device d]\nprofile = generic\nmodel = EL/1\nsn = 1\n", &c, &e),
	    BLT_E_CONFIG);
	assert_true(has_error(&e, "[device d] model: 'EL/1' is not a valid topic segment"));
	assert_int_equal(
	    parse(MINIMAL "[device d]\nprofile = generic\nmodel = EL+\nsn = 1\n", &c, &e),
	    BLT_E_CONFIG);

	/* the same serial twice */
	assert_int_equal(parse(MINIMAL "[device a]\nprofile = AP300\nsn = 7\n[device b]\n"
	                               "profile = AP300\nsn = 7\n",
	                       &c, &e),
	                 BLT_E_CONFIG);
	assert_true(has_error(&e, "[device b] sn: serial 7 is already used by [device a]"));

	/* TLS keys without TLS */
	assert_int_equal(
	    parse(MINIMAL "ca = /etc/ssl/ca.pem\n[device a]\nprofile = AP300\nsn = 7\n", &c, &e),
	    BLT_E_CONFIG);
	assert_true(has_error(&e, "[homeassistant] ca: only meaningful with tls = true"));
}

/* Duplicate keys are checked per section, however many sections there are (a fixed list
 * of 512 section/key pairs let a repeated key through once 130 sections filled it). */
static void test_config_duplicates_many_sections(void **state)
{
	size_t cap = 1u << 16, o = 0;
	char *text = malloc(cap);
	br_config_t *c = NULL;
	br_errors_t e;
	int line = 5; /* MINIMAL has 5 lines */
	(void)state;
	assert_non_null(text);
	o += (size_t)snprintf(text + o, cap - o, "%s", MINIMAL);
	for (int i = 0; i < 140; i++) {
		o += (size_t)snprintf(text + o, cap - o,
		                      "[device d%d]\nprofile = AP300\nsn = %d\npoll_core = 5\n", i,
		                      1000 + i);
		line += 4;
	}
	/* the 141st section repeats a key */
	o += (size_t)snprintf(text + o, cap - o,
	                      "[device last]\nprofile = AP300\nsn = 9999\nsn = 9998\n");
	assert_int_equal(br_config_parse(text, o, "t.ini", false, &c, &e), BLT_E_CONFIG);
	char want[80];
	snprintf(want, sizeof want, "t.ini:%d: [device last] sn: given twice (first at line %d)",
	         line + 4, line + 3);
	assert_true(has_error(&e, want));
	assert_int_equal(e.n, 1);
	/* and the same 141 sections without the repeat are fine */
	o -= strlen("sn = 9998\n");
	text[o] = '\0';
	assert_int_equal(br_config_parse(text, o, "t.ini", false, &c, &e), BLT_OK);
	assert_int_equal(c->ndev, 141);
	br_config_free(c);
	free(text);
}

/* transport = modbus-tcp / local-mqtt, discovery = device | entity, and the section
 * comparison a reload relies on. */
static void test_config_lan_transports(void **state)
{
	br_config_t *c = NULL, *c2 = NULL;
	br_errors_t e;
	(void)state;
	assert_int_equal(parse("[homeassistant]\nhost = ha.local\nport = 1884\n"
	                       "[device tcp]\nprofile = AP300\nsn = 1\ntransport = modbus-tcp\n"
	                       "host = 192.168.1.50\n"
	                       "[device own]\nprofile = AP300\nsn = 2\ntransport = local-mqtt\n",
	                       &c, &e),
	                 BLT_OK);
	assert_string_equal(c->dev[0].host, "192.168.1.50");
	assert_int_equal(c->dev[0].tcp_port, 502);
	assert_int_equal(c->dev[0].unit, 1);
	assert_string_equal(c->dev[0].preset, "modbus-tcp");
	assert_false(c->dev[0].controls); /* no writes over the open map yet */
	for (size_t g = 0; g < c->dev[0].profile->ngroups; g++)
		assert_true(c->dev[0].interval_s[g] == 0 || c->dev[0].interval_s[g] >= 30);
	assert_string_equal(c->dev[1].preset, "local-mqtt");
	assert_string_equal(c->lan.host, "ha.local"); /* the HA broker by default */
	assert_int_equal(c->lan.port, 1884);
	assert_string_equal(c->up.host, ""); /* no cloud device: no upstream */
	assert_int_equal(c->discovery_form, BR_DISCO_DEVICE);
	assert_true(br_device_cfg_equal(&c->dev[0], &c->dev[0]));
	assert_false(br_device_cfg_equal(&c->dev[0], &c->dev[1]));
	assert_int_equal(parse("[homeassistant]\nhost = ha.local\nport = 1884\ndiscovery = entity\n"
	                       "[device tcp]\nprofile = AP300\nsn = 1\ntransport = modbus-tcp\n"
	                       "host = 192.168.1.50:1502\nunit = 3\npoll_core = 60\n"
	                       "[device own]\nprofile = AP300\nsn = 2\ntransport = local-mqtt\n",
	                       &c2, &e),
	                 BLT_OK);
	assert_int_equal(c2->discovery_form, BR_DISCO_ENTITY);
	assert_int_equal(c2->dev[0].tcp_port, 1502);
	assert_int_equal(c2->dev[0].slave, 3);
	assert_false(br_device_cfg_equal(&c->dev[0], &c2->dev[0]));
	assert_true(br_device_cfg_equal(&c->dev[1], &c2->dev[1]));
	assert_true(br_mqtt_cfg_equal(&c->down, &c2->down));
	br_config_free(c);
	br_config_free(c2);

	assert_int_equal(parse("[homeassistant]\nhost = ha.local\n"
	                       "[device tcp]\nprofile = AP300\nsn = 1\ntransport = modbus-tcp\n"
	                       "controls = true\nunit = 300\n"
	                       "[device t2]\nprofile = AP300\nsn = 2\ntransport = modbus-tcp\n"
	                       "host = h:99999\n"
	                       "[device t3]\nprofile = AP300\nsn = 3\nhost = x\n",
	                       &c, &e),
	                 BLT_E_CONFIG);
	assert_true(has_error(&e, "[device tcp] host: is required with transport = modbus-tcp"));
	assert_true(has_error(&e, "[device tcp] controls: settings over Modbus TCP are not"));
	assert_true(has_error(&e, "[device tcp] unit: '300' is not an integer in 0..255"));
	assert_true(has_error(&e, "[device t2] host: 'h:99999' is not H or H:PORT"));
	assert_true(has_error(&e, "[device t3] host: needs transport = modbus-tcp"));
	assert_int_equal(
	    parse(MINIMAL "discovery = sometimes\n[device d]\nprofile = AP300\nsn = 1\n", &c, &e),
	    BLT_E_CONFIG);
	assert_true(has_error(&e, "discovery: 'sometimes' is not device, entity"));
	assert_int_equal(parse(MINIMAL
	                       "[local-mqtt]\nhost = lan\n[device d]\nprofile = AP300\nsn = 1\n",
	                       &c, &e),
	                 BLT_E_CONFIG);
	assert_true(has_error(&e, "[local-mqtt]: no device uses it"));
}

static void test_config_bad_bytes(void **state)
{
	br_config_t *c = NULL;
	br_errors_t e;
	char big[3000];
	(void)state;
	snprintf(big, sizeof big, MINIMAL "[device a]\nprofile = AP300\nsn = 7\nname = %02000d\n",
	         0);
	assert_int_equal(parse(big, &c, &e), BLT_E_CONFIG);
	assert_true(has_error(&e, "t.ini:9: line too long"));

	static const char nul[] = MINIMAL "[device a]\nprofile = AP300\nsn = 7\0\n";
	assert_int_equal(br_config_parse(nul, sizeof nul - 1, "t.ini", false, &c, &e),
	                 BLT_E_CONFIG);
	assert_true(has_error(&e, "NUL byte"));

	/* missing file */
	assert_int_equal(br_config_load("/nonexistent/bridge.ini", false, &c, &e), BLT_E_CONFIG);
	assert_true(has_error(&e, "/nonexistent/bridge.ini"));
}

/* Issue 18, config edges: lines up to the documented 1024 characters (libinih 55 sized
 * its buffer from ini_initial_alloc: 197 before), non-regular files refused without
 * blocking (a FIFO hung the start and a SIGHUP reload: both use br_config_load), '$'
 * topics refused (the broker drops what clients publish under $SYS). */
static void test_config_edges(void **state)
{
	br_config_t *c = NULL;
	br_errors_t e;
	char text[4096], line[1100], dir[] = "/tmp/blt-cfg-XXXXXX", path[600];
	(void)state;

	/* a 1024-character line (an inline comment pads it), with LF and with CRLF */
	for (int crlf = 0; crlf < 2; crlf++) {
		int n = snprintf(line, sizeof line, "name = Garage ; ");
		memset(line + n, 'x', (size_t)(1024 - n));
		line[1024] = '\0';
		assert_int_equal(strlen(line), 1024);
		snprintf(text, sizeof text, MINIMAL "[device a]\nprofile = AP300\nsn = 7\n%s%s",
		         line, crlf ? "\r\n" : "\n");
		if (parse(text, &c, &e) != BLT_OK)
			dump_errors(&e);
		assert_non_null(c);
		assert_string_equal(c->dev[0].name, "Garage");
		br_config_free(c);
	}
	/* 1025 characters: refused, with the documented limit */
	snprintf(text, sizeof text, MINIMAL "[device a]\nprofile = AP300\nsn = 7\n%sx\n", line);
	assert_int_equal(parse(text, &c, &e), BLT_E_CONFIG);
	assert_true(has_error(&e, "t.ini:9: line too long (at most 1024 characters)"));

	/* '$' topics */
	assert_int_equal(parse(MINIMAL "base_topic = $SYS/bluetti\n"
	                               "[device a]\nprofile = AP300\nsn = 7\n",
	                       &c, &e),
	                 BLT_E_CONFIG);
	assert_true(has_error(&e, "base_topic: '$SYS/bluetti' is not a valid topic"));
	assert_false(br_topic_ok("$share/x"));
	assert_true(br_topic_ok("bluetti$"));
	assert_int_equal(parse(MINIMAL "discovery_prefix = $ha\n"
	                               "[device a]\nprofile = AP300\nsn = 7\n",
	                       &c, &e),
	                 BLT_E_CONFIG);
	assert_true(has_error(&e, "discovery_prefix: '$ha' is not a valid topic"));

	/* a FIFO (no writer: opening it for reading would block) and a directory */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/bridge.ini", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(br_config_load(path, false, &c, &e), BLT_E_CONFIG);
	assert_true(has_error(&e, "not a regular file (a FIFO)"));
	unlink(path);
	assert_int_equal(br_config_load(dir, false, &c, &e), BLT_E_CONFIG);
	assert_true(has_error(&e, "not a regular file (a directory)"));
	/* a regular file with the long line loads */
	snprintf(text, sizeof text, MINIMAL "[device a]\nprofile = AP300\nsn = 7\n%s\n", line);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(br_config_load(path, false, &c, &e), BLT_OK);
	br_config_free(c);
	unlink(path);
	rmdir(dir);
}

static void test_config_secrets(void **state)
{
	br_config_t *c = NULL;
	br_errors_t e;
	char path[] = "/tmp/blt-bridge-pw-XXXXXX";
	int fd;
	(void)state;
	unsetenv(BR_ENV_HA_PASSWORD);
	setenv(BR_ENV_UP_CERT_PASSWORD, "from-env", 1);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "s3cret\n", 7), 7);
	close(fd);

	char text[1024];
	snprintf(text, sizeof text,
	         MINIMAL "user = ha\npassword_file = %s\n[device a]\nprofile = AP300\nsn = 7\n",
	         path);
	assert_int_equal(parse(text, &c, &e), BLT_OK);
	assert_string_equal(c->down.password, "s3cret");
	assert_non_null(strstr(c->down.password_src, path));
	assert_string_equal(c->up.cert_password, "from-env");
	assert_string_equal(c->up.cert_password_src, "environment " BR_ENV_UP_CERT_PASSWORD);
	assert_true(c->up.pfx_len > 0);
	/* the printed setup never shows a secret */
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	br_config_print(c, f);
	fclose(f);
	assert_null(strstr(buf, "s3cret"));
	assert_null(strstr(buf, "from-env"));
	assert_non_null(strstr(buf, "controls:"));
	free(buf);
	br_config_free(c);

	/* the environment supplies the downstream password when no file is named */
	setenv(BR_ENV_HA_PASSWORD, "env-pw", 1);
	assert_int_equal(parse(MINIMAL "user = ha\n[device a]\nprofile = AP300\nsn = 7\n", &c, &e),
	                 BLT_OK);
	assert_string_equal(c->down.password, "env-pw");
	br_config_free(c);
	unsetenv(BR_ENV_HA_PASSWORD);

	/* an unreadable password file names the key */
	assert_int_equal(parse(MINIMAL "user = u\npassword_file = /nonexistent/pw\n[device a]\n"
	                               "profile = AP300\nsn = 7\n",
	                       &c, &e),
	                 BLT_E_CONFIG);
	assert_true(has_error(&e, "t.ini:7: [homeassistant] password_file: /nonexistent/pw"));
	unsetenv(BR_ENV_UP_CERT_PASSWORD);
	unlink(path);
}

/* ---- entities, discovery, state ------------------------------------------------------ */

static void load_block(blt_device_t *dev, uint16_t id, const char *file)
{
	char path[512];
	uint8_t *text, data[512];
	size_t n, len;
	blt_decoded_t *r = calloc(1, sizeof *r);
	blt_decode_opts_t o;
	FILE *f;
	snprintf(path, sizeof path, "%s/payloads/%s", BLT_TEST_DATA, file);
	f = fopen(path, "rb");
	assert_non_null(f);
	text = calloc(1, 65536);
	n = fread(text, 1, 65535, f);
	fclose(f);
	text[n] = 0;
	assert_int_equal(blt_hex_decode((char *)text, data, sizeof data, &len, NULL), BLT_OK);
	blt_device_decode_opts(dev, &o);
	int err = blt_decode(blt_catalog_find(id), data, len, &o, r, NULL);
	assert_true(err == BLT_OK || err == BLT_E_MISSING);
	assert_int_equal(blt_device_update(dev, r, 1, NULL), BLT_OK);
	free(r);
	free(text);
}

/* A settings block encoded with a few known values (the golden captures have none). */
static void load_settings(blt_device_t *dev)
{
	const blt_block_t *b = blt_catalog_find(2000);
	uint8_t buf[512];
	blt_decoded_t *r = calloc(1, sizeof *r);
	memset(buf, 0, sizeof buf);
	for (size_t i = 0; i < b->nfields; i++) {
		const blt_field_t *f = &b->fields[i];
		double v = !strcmp(f->name, "ac_output")       ? 1
		           : !strcmp(f->name, "charging_mode") ? 2
		           : !strcmp(f->name, "soc_high")      ? 95
		           : !strcmp(f->name, "dc_eco_hours")  ? 2
		           : !strcmp(f->name, "dc_eco_watts")  ? 10
		           : !strcmp(f->name, "ac_eco_hours")  ? 2
		           : !strcmp(f->name, "ac_eco_watts")  ? 20
		                                               : -1;
		if (v >= 0 && !f->repeat)
			assert_int_equal(blt_encode_num(b, f, 0, v, NULL, buf, b->regs * 2u),
			                 BLT_OK);
	}
	assert_int_equal(blt_decode(b, buf, b->regs * 2u, NULL, r, NULL), BLT_OK);
	assert_int_equal(blt_device_update(dev, r, 2, NULL), BLT_OK);
	free(r);
}

typedef struct fixture {
	br_config_t *cfg;
	blt_device_t *dev;
	br_ha_ctx_t ctx;
	br_entity_t ents[BR_MAX_ENTITIES];
	size_t n;
} fixture_t;

static fixture_t *fixture_new(bool settings)
{
	fixture_t *fx = calloc(1, sizeof *fx);
	br_errors_t e;
	assert_non_null(fx);
	int err = parse(MINIMAL "[device shed]\nprofile = AP300\nsn = 2616113487436\n"
	                        "name = Shed Apex\n",
	                &fx->cfg, &e);
	if (err)
		dump_errors(&e);
	assert_int_equal(err, BLT_OK);
	assert_int_equal(
	    blt_device_new(fx->cfg->dev[0].profile, "AP300", "2616113487436", &fx->dev, NULL),
	    BLT_OK);
	load_block(fx->dev, 100, "ap300_block100.hex");
	load_block(fx->dev, 1100, "ap300_block1100.hex");
	load_block(fx->dev, 1300, "ap300_block1300.hex");
	load_block(fx->dev, 6000, "ap300_block6000.hex");
	load_block(fx->dev, 6300, "ap300_block6300.hex");
	if (settings)
		load_settings(fx->dev);
	fx->ctx.base = fx->cfg->base_topic;
	fx->ctx.prefix = fx->cfg->discovery_prefix;
	fx->ctx.cfg = &fx->cfg->dev[0];
	fx->ctx.dev = fx->dev;
	fx->ctx.have_rssi = true;
	fx->ctx.rssi = -71;
	fx->ctx.last_seen_unix_ms = 1700000000123ull;
	fx->n = br_entities(&fx->ctx, fx->ents, BR_MAX_ENTITIES);
	return fx;
}

static void fixture_free(fixture_t *fx)
{
	blt_device_free(fx->dev);
	br_config_free(fx->cfg);
	free(fx);
}

static const br_entity_t *find_ent(const fixture_t *fx, const char *key)
{
	for (size_t i = 0; i < fx->n; i++)
		if (!strcmp(fx->ents[i].key, key))
			return &fx->ents[i];
	return NULL;
}

/* Noise off by default (per-cell and per-sensor rows flagged BLT_F_DETAIL in the
 * catalog, last_seen): the entities exist but start disabled, unless all_entities. */
static void test_noisy_entities_disabled(void **state)
{
	fixture_t *fx = fixture_new(false);
	const br_entity_t *cell = NULL, *seen = find_ent(fx, "last_seen"),
	                  *soc = find_ent(fx, "soc");
	char *doc;
	(void)state;
	for (size_t i = 0; i < fx->n && !cell; i++)
		if (strstr(fx->ents[i].key, "cell_0_voltage"))
			cell = &fx->ents[i];
	assert_non_null(cell);
	assert_non_null(seen);
	assert_non_null(soc);
	assert_true(cell->disabled);
	assert_true(seen->disabled);
	assert_false(soc->disabled);
	doc = br_discovery_doc(&fx->ctx, cell);
	assert_non_null(strstr(doc, "\"enabled_by_default\":false"));
	free(doc);
	doc = br_discovery_doc(&fx->ctx, soc);
	assert_null(strstr(doc, "enabled_by_default"));
	free(doc);
	/* all_entities = true: everything enabled */
	fx->cfg->dev[0].all_entities = true;
	fx->n = br_entities(&fx->ctx, fx->ents, BR_MAX_ENTITIES);
	for (size_t i = 0; i < fx->n; i++)
		assert_false(fx->ents[i].disabled);
	fixture_free(fx);
}

/* The model's unit wins over the row's: the Elite 200 V2 reports apparent power (VA) in
 * the registers the row calls W (EVIDENCE.md §1), so Home Assistant gets VA and the
 * apparent_power class there, W elsewhere. */
static void test_entity_units_follow_the_model(void **state)
{
	br_config_t *cfg = NULL;
	blt_device_t *dev = NULL;
	br_errors_t e;
	br_ha_ctx_t ctx;
	static br_entity_t ents[BR_MAX_ENTITIES];
	size_t n;
	const br_entity_t *ac = NULL, *pv = NULL;
	(void)state;
	assert_int_equal(
	    parse(MINIMAL "[device e2]\nprofile = ELITE200V2\nsn = 2434000112345\n", &cfg, &e),
	    BLT_OK);
	assert_int_equal(
	    blt_device_new(cfg->dev[0].profile, "ELITE200V2", "2434000112345", &dev, NULL), BLT_OK);
	load_block(dev, 100, "ap300_block100.hex");
	memset(&ctx, 0, sizeof ctx);
	ctx.base = cfg->base_topic;
	ctx.prefix = cfg->discovery_prefix;
	ctx.cfg = &cfg->dev[0];
	ctx.dev = dev;
	n = br_entities(&ctx, ents, BR_MAX_ENTITIES);
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(ents[i].key, "ac_load_power"))
			ac = &ents[i];
		if (!strcmp(ents[i].key, "pv_power"))
			pv = &ents[i];
	}
	assert_non_null(ac);
	assert_string_equal(ac->unit, "VA");
	assert_string_equal(ac->device_class, "apparent_power");
	if (pv) /* not a VA register on this model */
		assert_string_equal(pv->unit, "W");
	blt_device_free(dev);
	br_config_free(cfg);
}

static void test_entities_from_catalog_rows(void **state)
{
	fixture_t *fx = fixture_new(true);
	const br_entity_t *e;
	(void)state;
	assert_true(fx->n > 40);
	/* unique keys */
	for (size_t i = 0; i < fx->n; i++)
		for (size_t k = i + 1; k < fx->n; k++)
			assert_string_not_equal(fx->ents[i].key, fx->ents[k].key);
	e = find_ent(fx, "soc");
	assert_non_null(e);
	assert_string_equal(e->device_class, "battery");
	assert_string_equal(e->unit, "%");
	e = find_ent(fx, "grid_phase_0_voltage");
	assert_non_null(e);
	assert_string_equal(e->device_class, "voltage");
	assert_int_equal(e->decimals, 1);
	assert_string_equal(e->name, "Grid phase 0 voltage");
	e = find_ent(fx,
	             "grid_charge_energy"); /* block 1300 import counter (block 100 mirrors it) */
	assert_non_null(e);
	assert_string_equal(e->device_class, "energy");
	assert_string_equal(e->state_class, "total_increasing");
	e = find_ent(fx, "battery_pack_cell_0_voltage");
	assert_non_null(e);
	assert_int_equal(e->sub, 1);
	assert_int_equal(e->decimals, 3);
	/* controls of the AP300 profile: switch, select (replaces the block-100 sensor), number */
	e = find_ent(fx, "ac_output");
	assert_non_null(e);
	assert_int_equal(e->component, BR_C_SWITCH);
	e = find_ent(fx, "charging_mode");
	assert_non_null(e);
	assert_int_equal(e->component, BR_C_SELECT);
	e = find_ent(fx, "soc_high");
	assert_non_null(e);
	assert_int_equal(e->component, BR_C_NUMBER);
	/* unverified settings are not offered without allow_unverified; secrets never */
	assert_null(find_ent(fx, "led"));
	assert_null(find_ent(fx, "settings_password"));
	/* settings rows that are not controls are not sensors either */
	assert_null(find_ent(fx, "clock_year"));
	fixture_free(fx);
}

static void test_entity_keys_independent_of_read_order(void **state)
{
	fixture_t *a = fixture_new(false);
	blt_device_t *dev;
	br_entity_t *ents = calloc(BR_MAX_ENTITIES, sizeof *ents);
	br_ha_ctx_t ctx = a->ctx;
	(void)state;
	assert_int_equal(
	    blt_device_new(a->cfg->dev[0].profile, "AP300", "2616113487436", &dev, NULL), BLT_OK);
	load_block(dev, 6300, "ap300_block6300.hex");
	load_block(dev, 6000, "ap300_block6000.hex");
	load_block(dev, 1300, "ap300_block1300.hex");
	load_block(dev, 1100, "ap300_block1100.hex");
	load_block(dev, 100, "ap300_block100.hex");
	ctx.dev = dev;
	size_t n = br_entities(&ctx, ents, BR_MAX_ENTITIES);
	assert_int_equal(n, a->n);
	for (size_t i = 0; i < n; i++)
		assert_non_null(find_ent(a, ents[i].key));
	free(ents);
	blt_device_free(dev);
	fixture_free(a);
}

static size_t all_docs(fixture_t *fx, chk_doc_t *docs, char (*topics)[256])
{
	for (size_t i = 0; i < fx->n; i++) {
		assert_int_equal(br_discovery_topic(&fx->ctx, &fx->ents[i], topics[i], 256),
		                 BLT_OK);
		docs[i].topic = topics[i];
		docs[i].payload = br_discovery_doc(&fx->ctx, &fx->ents[i]);
		assert_non_null(docs[i].payload);
	}
	return fx->n;
}

static void test_discovery_follows_ha_rules(void **state)
{
	fixture_t *fx = fixture_new(true);
	chk_doc_t *docs = calloc(fx->n, sizeof *docs);
	char(*topics)[256] = calloc(fx->n, 256);
	char *st = br_state_doc(&fx->ctx, fx->ents, fx->n);
	static const char *const avail[] = {"bluetti/bridge/state", "bluetti/shed/availability"};
	chk_ctx_t chk = {.prefix = "homeassistant",
	                 .state_doc = st,
	                 .state_topic = "bluetti/shed/state",
	                 .avail_topics = avail,
	                 .navail = 2};
	(void)state;
	size_t n = all_docs(fx, docs, topics);
	assert_int_equal(chk_all(&chk, docs, n), 0);

	/* spot checks of exact values */
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_Parse(docs[i].payload);
		const char *uid = cJSON_GetObjectItem(o, "unique_id")->valuestring;
		if (!strcmp(uid, "bluetti_2616113487436_ac_output")) {
			assert_string_equal(
			    docs[i].topic,
			    "homeassistant/switch/bluetti_2616113487436/ac_output/config");
			assert_string_equal(cJSON_GetObjectItem(o, "command_topic")->valuestring,
			                    "bluetti/shed/set/ac_output");
			cJSON *dev = cJSON_GetObjectItem(o, "device");
			assert_string_equal(cJSON_GetObjectItem(dev, "name")->valuestring,
			                    "Shed Apex");
			assert_string_equal(cJSON_GetObjectItem(dev, "model")->valuestring,
			                    "Apex 300");
			assert_string_equal(cJSON_GetObjectItem(dev, "serial_number")->valuestring,
			                    "2616113487436");
			/* software list of block 1100 (live AP300: 4 entries) */
			assert_non_null(strstr(cJSON_GetObjectItem(dev, "sw_version")->valuestring,
			                       "inverter_arm"));
			/* the bridge's own version: the one string set in CMake
			 * (cmake/version.cmake) */
			cJSON *org = cJSON_GetObjectItem(o, "origin");
			assert_string_equal(cJSON_GetObjectItem(org, "sw_version")->valuestring,
			                    blt_version());
			assert_memory_equal(blt_version(), BLT_VERSION_STRING,
			                    strlen(BLT_VERSION_STRING));
		}
		cJSON_Delete(o);
	}
	/* state document values */
	cJSON *s = cJSON_Parse(st);
	assert_non_null(s);
	assert_string_equal(cJSON_GetObjectItem(s, "ac_output")->valuestring, "ON");
	assert_string_equal(cJSON_GetObjectItem(s, "dc_output")->valuestring, "OFF");
	assert_string_equal(cJSON_GetObjectItem(s, "charging_mode")->valuestring, "turbo");
	assert_int_equal((int)cJSON_GetObjectItem(s, "soc")->valuedouble, 95); /* live capture */
	assert_int_equal((int)cJSON_GetObjectItem(s, "soc_high")->valuedouble, 95);
	assert_int_equal((int)cJSON_GetObjectItem(s, "rssi")->valuedouble, -71);
	assert_string_equal(cJSON_GetObjectItem(s, "last_seen")->valuestring,
	                    "2023-11-14T22:13:20+00:00");
	cJSON_Delete(s);
	for (size_t i = 0; i < n; i++)
		free((void *)docs[i].payload);
	free(st);
	free(docs);
	free(topics);
	fixture_free(fx);
}

/* The checker must be able to fail: broken documents are caught. */
static void test_checker_catches_broken_documents(void **state)
{
	static const char *const avail[] = {"b/bridge/state"};
	const char *st = "{\"e\":1.5,\"m\":\"x\",\"s\":\"maybe\"}";
	chk_doc_t bad[] = {
	    /* energy with state_class measurement */
	    {"homeassistant/sensor/n/e/config",
	     "{\"name\":\"E\",\"unique_id\":\"n_e\",\"state_topic\":\"b/d/state\","
	     "\"value_template\":\"{{ value_json.e }}\",\"device_class\":\"energy\","
	     "\"unit_of_measurement\":\"kWh\",\"state_class\":\"measurement\","
	     "\"availability\":[{\"topic\":\"b/bridge/state\"}],"
	     "\"device\":{\"identifiers\":[\"n\"],\"name\":\"N\",\"manufacturer\":\"Bluetti\","
	     "\"model\":\"M\",\"serial_number\":\"1\"}}"},
	    /* same unique_id again, wrong unit for voltage, key missing from the state */
	    {"homeassistant/sensor/n/e/config",
	     "{\"name\":\"E\",\"unique_id\":\"n_e\",\"state_topic\":\"b/d/state\","
	     "\"value_template\":\"{{ value_json.e }}\",\"device_class\":\"voltage\","
	     "\"unit_of_measurement\":\"W\",\"state_class\":\"measurement\","
	     "\"availability\":[{\"topic\":\"b/bridge/state\"}],"
	     "\"device\":{\"identifiers\":[\"n\"],\"name\":\"N\",\"manufacturer\":\"Bluetti\","
	     "\"model\":\"M\",\"serial_number\":\"1\"}}"},
	    /* switch without command topic, state not ON/OFF, no device, unknown avail */
	    {"homeassistant/switch/n/s/config",
	     "{\"name\":\"S\",\"unique_id\":\"n_s\",\"state_topic\":\"b/d/state\","
	     "\"value_template\":\"{{ value_json.s }}\","
	     "\"availability\":[{\"topic\":\"elsewhere\"}]}"},
	    /* bad topic */
	    {"homeassistant/sensor/n.x/e/config", "{}"},
	    /* via_device to nothing */
	    {"homeassistant/sensor/n/m/config",
	     "{\"name\":\"M\",\"unique_id\":\"n_m\",\"state_topic\":\"b/d/state\","
	     "\"value_template\":\"{{ value_json.m }}\",\"device_class\":\"enum\","
	     "\"options\":[\"a\"],\"availability\":[{\"topic\":\"b/bridge/state\"}],"
	     "\"device\":{\"identifiers\":[\"p\"],\"name\":\"P\",\"manufacturer\":\"Bluetti\","
	     "\"via_device\":\"ghost\"}}"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		chk_ctx_t chk = {.prefix = "homeassistant",
		                 .state_doc = st,
		                 .state_topic = "b/d/state",
		                 .avail_topics = avail,
		                 .navail = 1};
		assert_true(chk_all(&chk, &bad[i], 1) > 0);
	}
	chk_ctx_t chk = {.prefix = "homeassistant",
	                 .state_doc = st,
	                 .state_topic = "b/d/state",
	                 .avail_topics = avail,
	                 .navail = 1};
	/* the pair: duplicate unique_id and W on a voltage sensor */
	assert_true(chk_all(&chk, bad, 2) >= 3);
	assert_non_null(strstr(chk.last, "not allowed for device_class voltage"));
}

/* Packs and hubs of NODE_INFO as sub-devices: the real AP300 node list
 * (tests/data/payloads/ap300_block21000.hex: D1 hub on slave 11, B300 on slave 51), the
 * battery node fed with the AP300 cell capture; every document passes the HA rules. */
static void test_node_sub_devices(void **state)
{
	fixture_t *fx = fixture_new(false);
	static const char *const avail[] = {"bluetti/bridge/state", "bluetti/shed/availability"};
	uint8_t data[64];
	size_t len;
	blt_decoded_t *r = calloc(1, sizeof *r);
	(void)state;
	load_block(fx->dev, 21000, "ap300_block21000.hex");
	/* cells of 6300 (§7.1 capture) as the B300's own: 16 cells, 4 NTC */
	assert_int_equal(blt_hex_decode("0010 0004 0cfd 0cfc 0cfc 0cfc 0cfc 0cfc 0cfc 0cfb 0cfb "
	                                "0cfb 0cfb 0cfb 0cfb 0cfb 0cfb 0cf9 4545 4545 0000 0000",
	                                data, sizeof data, &len, NULL),
	                 BLT_OK);
	assert_int_equal(blt_decode(blt_catalog_find(6300), data, len, NULL, r, NULL), BLT_OK);
	assert_int_equal(blt_device_update_node(fx->dev, 51, r, 3, NULL), BLT_OK);
	fx->n = br_entities(&fx->ctx, fx->ents, BR_MAX_ENTITIES);

	const br_entity_t *soc = find_ent(fx, "pack51_soc"),
	                  *cell = find_ent(fx, "pack51_cell_15_voltage");
	assert_non_null(soc);
	assert_non_null(cell);
	assert_non_null(find_ent(fx, "hub11_online"));
	assert_null(find_ent(fx, "hub11_soc"));    /* nothing invented for a hub */
	assert_null(find_ent(fx, "pack0_online")); /* the station is not its own node */
	assert_null(find_ent(fx, "pack51_cell_16_voltage"));

	chk_doc_t *docs = calloc(fx->n, sizeof *docs);
	char(*topics)[256] = calloc(fx->n, 256);
	char *st = br_state_doc(&fx->ctx, fx->ents, fx->n);
	chk_ctx_t chk = {.prefix = "homeassistant",
	                 .state_doc = st,
	                 .state_topic = "bluetti/shed/state",
	                 .avail_topics = avail,
	                 .navail = 2};
	size_t n = all_docs(fx, docs, topics);
	assert_int_equal(chk_all(&chk, docs, n), 0);
	for (size_t i = 0; i < n; i++) {
		if (!strstr(docs[i].topic, "/pack51_soc/"))
			continue;
		cJSON *o = cJSON_Parse(docs[i].payload), *dev = cJSON_GetObjectItem(o, "device");
		assert_string_equal(cJSON_GetObjectItem(dev, "via_device")->valuestring,
		                    "bluetti_2616113487436");
		assert_string_equal(cJSON_GetObjectItem(dev, "model")->valuestring, "B300");
		assert_string_equal(cJSON_GetObjectItem(dev, "serial_number")->valuestring,
		                    "2616113487436"); /* as the capture has it */
		assert_string_equal(cJSON_GetObjectItem(dev, "name")->valuestring,
		                    "Shed Apex B300 (slave 51)");
		assert_string_equal(cJSON_GetObjectItem(o, "device_class")->valuestring, "battery");
		cJSON_Delete(o);
	}
	cJSON *s = cJSON_Parse(st);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(s, "pack51_soc"))); /* 6100 not read */
	assert_true(cJSON_GetObjectItem(s, "pack51_cell_0_voltage")->valuedouble == 3.325);
	assert_string_equal(cJSON_GetObjectItem(s, "pack51_online")->valuestring, "ON");
	assert_string_equal(cJSON_GetObjectItem(s, "hub11_problem")->valuestring, "OFF");
	cJSON_Delete(s);
	for (size_t i = 0; i < n; i++)
		free((void *)docs[i].payload);
	free(st);
	free(docs);
	free(topics);
	free(r);
	fixture_free(fx);
}

/* Sub-device rules of the checker: a device that is its own via_device, and one
 * identifier described differently in two documents. */
static void test_checker_catches_bad_sub_devices(void **state)
{
	static const char *const avail[] = {"b/bridge/state"};
	const char *st = "{\"a\":1,\"b\":2}";
#define SUBDOC(obj, dev)                                                                           \
	"{\"name\":\"X\",\"unique_id\":\"n_" obj "\",\"state_topic\":\"b/d/state\","               \
	"\"value_template\":\"{{ value_json." obj " }}\","                                         \
	"\"availability\":[{\"topic\":\"b/bridge/state\"}],\"device\":" dev "}"
	chk_doc_t self[] = {{"homeassistant/sensor/n/a/config",
	                     SUBDOC("a", "{\"identifiers\":[\"p\"],\"name\":\"P\","
	                                 "\"manufacturer\":\"Bluetti\",\"via_device\":\"p\"}")}};
	chk_doc_t differ[] = {
	    {"homeassistant/sensor/n/a/config",
	     SUBDOC("a", "{\"identifiers\":[\"n\"],\"name\":\"N\",\"manufacturer\":\"Bluetti\","
	                 "\"model\":\"M\",\"serial_number\":\"1\"}")},
	    {"homeassistant/sensor/n/b/config",
	     SUBDOC("b", "{\"identifiers\":[\"n\"],\"name\":\"Other\",\"manufacturer\":\"Bluetti\","
	                 "\"model\":\"M\",\"serial_number\":\"1\"}")},
	};
#undef SUBDOC
	(void)state;
	chk_ctx_t c1 = {.prefix = "homeassistant",
	                .state_doc = st,
	                .state_topic = "b/d/state",
	                .avail_topics = avail,
	                .navail = 1};
	assert_true(chk_all(&c1, self, 1) > 0);
	assert_non_null(strstr(c1.last, "its own via_device"));
	chk_ctx_t c2 = {.prefix = "homeassistant",
	                .state_doc = st,
	                .state_topic = "b/d/state",
	                .avail_topics = avail,
	                .navail = 1};
	assert_int_equal(chk_all(&c2, differ, 1), 0);
	assert_true(chk_all(&c2, differ, 2) > 0);
	assert_non_null(strstr(c2.last, "described differently"));
}

static void test_state_unknown_is_null(void **state)
{
	br_config_t *c = NULL;
	br_errors_t e;
	blt_device_t *dev;
	br_entity_t ents[64];
	(void)state;
	assert_int_equal(parse(MINIMAL "[device d]\nprofile = EL100V2\nsn = 5\n", &c, &e), BLT_OK);
	assert_int_equal(blt_device_new(c->dev[0].profile, NULL, "5", &dev, NULL), BLT_OK);
	br_ha_ctx_t ctx = {
	    .base = "bluetti", .prefix = "homeassistant", .cfg = &c->dev[0], .dev = dev};
	size_t n = br_entities(&ctx, ents, 64);
	/* before any read: controls and diagnostics exist, with null values */
	assert_true(n >= 3);
	char *st = br_state_doc(&ctx, ents, n);
	cJSON *s = cJSON_Parse(st);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(s, "ac_output")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(s, "last_seen")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(s, "alarms")));
	cJSON_Delete(s);
	free(st);
	blt_device_free(dev);
	br_config_free(c);
}

/* Device-based discovery: one document for the power station's entities (dev, o, cmps
 * with p), linked to the bridge's device; the pack's entities keep their own documents.
 * The whole set passes the rules, and every main entity is a component exactly once. */
static void test_device_discovery(void **state)
{
	fixture_t *fx = fixture_new(true);
	static const char *const avail[] = {"bluetti/bridge/state", "bluetti/shed/availability"};
	static const char *const bridge_dev[] = {"bluetti_bridge"};
	char topic[256];
	char *st, *doc;
	chk_doc_t *docs = calloc(fx->n + 1, sizeof *docs);
	char(*topics)[256] = calloc(fx->n, 256);
	size_t nd = 0, nmain = 0;
	cJSON *o, *cmps, *dev, *org, *x;
	(void)state;
	fx->ctx.via_device = "bluetti_bridge";
	st = br_state_doc(&fx->ctx, fx->ents, fx->n);
	assert_int_equal(br_device_discovery_topic(&fx->ctx, topic, sizeof topic), BLT_OK);
	assert_string_equal(topic, "homeassistant/device/bluetti_2616113487436/config");
	doc = br_device_discovery_doc(&fx->ctx, fx->ents, fx->n);
	assert_non_null(doc);
	docs[nd].topic = topic;
	docs[nd++].payload = doc;
	for (size_t i = 0; i < fx->n; i++) {
		if (!fx->ents[i].sub && !fx->ents[i].node) {
			nmain++;
			continue;
		}
		assert_int_equal(br_discovery_topic(&fx->ctx, &fx->ents[i], topics[i], 256),
		                 BLT_OK);
		docs[nd].topic = topics[i];
		docs[nd++].payload = br_discovery_doc(&fx->ctx, &fx->ents[i]);
	}
	assert_true(nd > 1); /* the pack's entities */
	chk_ctx_t chk = {.prefix = "homeassistant",
	                 .state_doc = st,
	                 .state_topic = "bluetti/shed/state",
	                 .avail_topics = avail,
	                 .navail = 2,
	                 .known_devices = bridge_dev,
	                 .nknown = 1};
	assert_int_equal(chk_all(&chk, docs, nd), 0);

	o = cJSON_Parse(doc);
	assert_non_null(o);
	dev = cJSON_GetObjectItem(o, "dev");
	assert_string_equal(cJSON_GetObjectItem(dev, "via_device")->valuestring, "bluetti_bridge");
	assert_string_equal(cJSON_GetObjectItem(dev, "name")->valuestring, "Shed Apex");
	org = cJSON_GetObjectItem(o, "o");
	assert_string_equal(cJSON_GetObjectItem(org, "name")->valuestring, "bluetti-bridge");
	assert_string_equal(cJSON_GetObjectItem(org, "sw_version")->valuestring, blt_version());
	assert_string_equal(cJSON_GetObjectItem(org, "support_url")->valuestring, BR_SUPPORT_URL);
	cmps = cJSON_GetObjectItem(o, "cmps");
	assert_int_equal((size_t)cJSON_GetArraySize(cmps), nmain);
	x = cJSON_GetObjectItem(cmps, "ac_output");
	assert_string_equal(cJSON_GetObjectItem(x, "p")->valuestring, "switch");
	assert_null(cJSON_GetObjectItem(x, "entity_category")); /* a primary control */
	x = cJSON_GetObjectItem(cmps, "soc_high");
	assert_string_equal(cJSON_GetObjectItem(x, "entity_category")->valuestring, "config");
	x = cJSON_GetObjectItem(cmps, "soc");
	assert_string_equal(cJSON_GetObjectItem(x, "p")->valuestring, "sensor");
	assert_string_equal(cJSON_GetObjectItem(x, "device_class")->valuestring, "battery");
	assert_null(cJSON_GetObjectItem(cmps, "battery_soc")); /* one value, one entity */
	cJSON_Delete(o);

	/* the per-entity form names the bridge device too; unknown to the checker, it fails */
	chk_ctx_t strict = {.prefix = "homeassistant", .avail_topics = avail, .navail = 2};
	assert_true(chk_all(&strict, docs, nd) > 0);
	assert_non_null(strstr(strict.last, "via_device"));
	for (size_t i = 0; i < nd; i++)
		free((void *)docs[i].payload);
	free(docs);
	free(topics);
	free(st);
	fixture_free(fx);
}

/* The name, category, default and device-document rules can fail. */
static void test_checker_catches_names_and_defaults(void **state)
{
	static const char *const avail[] = {"b/bridge/state"};
#define DEVJ                                                                                       \
	"\"device\":{\"identifiers\":[\"n\"],\"name\":\"Unit\",\"manufacturer\":\"Bluetti\","      \
	"\"model\":\"M\",\"serial_number\":\"1\"}"
#define BASEJ "\"state_topic\":\"b/d/state\",\"availability\":[{\"topic\":\"b/bridge/state\"}],"
	static const struct {
		chk_doc_t docs[2];
		size_t n;
		const char *rule;
	} cases[] = {
	    {{{"homeassistant/sensor/n/a/config",
	       "{\"name\":\"Grid grid power\",\"unique_id\":\"n_a\",\"value_template\":\"{{ "
	       "value_json.a }}\"," BASEJ DEVJ "}"}},
	     1,
	     "repeats a word"},
	    {{{"homeassistant/sensor/n/a/config",
	       "{\"name\":\"Power\",\"unique_id\":\"n_a\",\"value_template\":\"{{ value_json.a "
	       "}}\"," BASEJ DEVJ "}"},
	      {"homeassistant/sensor/n/b/config",
	       "{\"name\":\"power\",\"unique_id\":\"n_b\",\"value_template\":\"{{ value_json.b "
	       "}}\"," BASEJ DEVJ "}"}},
	     2,
	     "already used"},
	    {{{"homeassistant/sensor/n/a/config",
	       "{\"name\":\"Unit power\",\"unique_id\":\"n_a\",\"value_template\":\"{{ "
	       "value_json.a }}\"," BASEJ DEVJ "}"}},
	     1,
	     "begins with its device"},
	    {{{"homeassistant/sensor/n/cell_3_voltage/config",
	       "{\"name\":\"Cell 3\",\"unique_id\":\"n_cell_3_voltage\",\"value_template\":\"{{ "
	       "value_json.cell_3_voltage }}\"," BASEJ DEVJ "}"}},
	     1,
	     "start disabled"},
	    {{{"homeassistant/sensor/n/a/config",
	       "{\"name\":\"A\",\"unique_id\":\"n_a\",\"entity_category\":\"config\","
	       "\"value_template\":\"{{ value_json.a }}\"," BASEJ DEVJ "}"}},
	     1,
	     "cannot be entity_category config"},
	    {{{"homeassistant/sensor/n/a/config",
	       "{\"name\":\"A\",\"unique_id\":\"n_a\",\"payload_available\":\"online\","
	       "\"value_template\":\"{{ value_json.a }}\"," BASEJ DEVJ "}"}},
	     1,
	     "redundant availability"},
	    {{{"homeassistant/device/n/config",
	       "{\"dev\":{\"identifiers\":[\"n\"],\"name\":\"Unit\",\"manufacturer\":\"Bluetti\","
	       "\"model\":\"M\",\"serial_number\":\"1\"},\"o\":{\"name\":\"x\"}," BASEJ
	       "\"cmps\":{\"a\":{\"name\":\"A\",\"unique_id\":\"n_a\",\"value_template\":\"{{ "
	       "value_json.a }}\"}}}"}},
	     1,
	     "platform p"},
	    {{{"homeassistant/device/n/config",
	       "{\"dev\":{\"identifiers\":[\"n\"],\"name\":\"Unit\",\"manufacturer\":\"Bluetti\","
	       "\"model\":\"M\",\"serial_number\":\"1\"}," BASEJ
	       "\"cmps\":{\"a\":{\"p\":\"sensor\",\"name\":\"A\",\"unique_id\":\"n_a\","
	       "\"value_template\":\"{{ value_json.a }}\"}}}"}},
	     1,
	     "origin"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		chk_ctx_t chk = {.prefix = "homeassistant", .avail_topics = avail, .navail = 1};
		bool found = false;
		assert_true(chk_all(&chk, cases[i].docs, cases[i].n) > 0);
		found = strstr(chk.last, cases[i].rule) != NULL;
		if (!found) /* the rule may not be the last problem: run again, print all */
			fprintf(stderr, "case %zu: expected '%s', last '%s'\n", i, cases[i].rule,
			        chk.last);
		assert_true(found || chk.problems > 1);
	}
#undef DEVJ
#undef BASEJ
}

/* ---- every profile: names, keys, one register per entity ---------------------------- */

/* Encode a plausible value into every row of block b (counts first, so repeated rows
 * exist), as the simulator's encoder would, and apply the decoded block to dev. */
static void load_simulated(blt_device_t *dev, const blt_block_t *b, uint16_t regs)
{
	uint8_t buf[256];
	blt_decoded_t *r = calloc(1, sizeof *r);
	blt_decode_opts_t o;
	size_t n = (size_t)regs * 2u;
	assert_non_null(r);
	if (n > sizeof buf)
		n = sizeof buf;
	memset(buf, 0, sizeof buf);
	blt_device_decode_opts(dev, &o);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < b->nfields; i++) {
			const blt_field_t *f = &b->fields[i];
			unsigned reps = f->repeat ? f->repeat->max : 1;
			double v = 1;
			if ((pass == 0) != ((f->flags & BLT_F_COUNT) != 0))
				continue;
			if (f->type == BLT_T_STR || f->type == BLT_T_STR_SWAP) {
				blt_encode_str(b, f, 0, "X1", buf, n);
				continue;
			}
			if (f->type == BLT_T_SN64)
				continue;
			if (f->flags & BLT_F_COUNT)
				v = 8;
			else if (f->enums && f->enums[0].name)
				v = f->enums[0].value;
			else if (f->flags & BLT_F_RANGE)
				v = (f->valid_lo + f->valid_hi) / 2;
			for (unsigned k = 0; k < reps && k < 32; k++)
				blt_encode_num(b, f, k, v, &o, buf, n); /* a row that cannot hold v
				                                           keeps its zeros */
		}
	}
	int err = blt_decode(b, buf, n, &o, r, NULL);
	assert_true(err == BLT_OK || err == BLT_E_MISSING);
	assert_int_equal(blt_device_update(dev, r, 1, NULL), BLT_OK);
	free(r);
}

/* Byte offset of a stored value in its block's payload (record base + stride + row). */
static long value_offset(const blt_device_t *dev, const blt_device_value_t *v)
{
	const blt_repeat_t *r = v->field->repeat;
	long base = 0;
	if (!r)
		return v->field->offset;
	if (r->base_field) {
		const blt_device_value_t *b = blt_device_find(dev, v->block, r->base_field);
		base = b ? (long)b->num * r->base_mul : 0;
	}
	return base + r->base_add + (long)v->index * r->stride + v->field->offset;
}

/* True if the generated entity list (docs/ha-entities.md) names key, exactly or as a
 * repeated row ("grid_phase_0_voltage" as "grid_phase_{i}_voltage"). */
static bool listed(const char *doc, const char *key)
{
	char pat[128], alt[128];
	size_t a = 0;
	bool done = false;
	snprintf(pat, sizeof pat, "`%.100s`", key);
	if (strstr(doc, pat))
		return true;
	/* the first run of digits between '_' (or at the end) as {i} */
	for (const char *p = key; *p && a + 4 < 100; p++) {
		if (!done && p > key && p[-1] == '_' && *p >= '0' && *p <= '9') {
			const char *q = p;
			while (*q >= '0' && *q <= '9')
				q++;
			if (*q == '_' || *q == '\0') {
				memcpy(alt + a, "{i}", 3);
				a += 3;
				p = q - 1;
				done = true;
				continue;
			}
		}
		alt[a++] = *p;
	}
	alt[a] = '\0';
	snprintf(pat, sizeof pat, "`%.100s`", alt);
	return strstr(doc, pat) != NULL;
}

static void test_every_profile_names_and_sources(void **state)
{
	static br_entity_t ents[BR_MAX_ENTITIES];
	const bool dump = getenv("BR_DUMP_ENTITIES") != NULL;
	int problems = 0;
	char *list = NULL;
	size_t listlen = 0;
	FILE *lf = open_memstream(&list, &listlen);
	assert_non_null(lf);
	assert_int_equal(blt_ha_write_entities_markdown(lf), BLT_OK);
	fclose(lf);
#define PROBLEM(...) (fprintf(stderr, __VA_ARGS__), fputc('\n', stderr), problems++)
	(void)state;
	for (size_t pi = 0; pi < blt_profile_count(); pi++) {
		const blt_profile_t *p = blt_profile_at(pi);
		br_config_t *cfg = NULL;
		blt_device_t *dev = NULL;
		br_errors_t e;
		br_ha_ctx_t ctx;
		char text[1024];
		size_t n;
		snprintf(text, sizeof text,
		         MINIMAL "[device d]\nprofile = %s\nsn = 2616113487436\nname = Unit\n"
		                 "allow_unverified = true\n",
		         p->id);
		assert_int_equal(parse(text, &cfg, &e), BLT_OK);
		assert_int_equal(blt_device_new(p, p->model, "2616113487436", &dev, NULL), BLT_OK);
		for (size_t g = 0; g < p->ngroups; g++)
			for (size_t k = 0; k < p->groups[g].nblocks; k++) {
				const blt_block_t *b = blt_catalog_find(p->groups[g].blocks[k]);
				if (b && b->id != BLT_NODE_INFO_BLOCK)
					load_simulated(dev, b, blt_profile_block_regs(p, b));
			}
		memset(&ctx, 0, sizeof ctx);
		ctx.base = cfg->base_topic;
		ctx.prefix = cfg->discovery_prefix;
		ctx.cfg = &cfg->dev[0];
		ctx.dev = dev;
		ctx.link = "cloud";
		n = br_entities(&ctx, ents, BR_MAX_ENTITIES);
		assert_true(n > 20);
		for (size_t i = 0; i < n; i++) {
			const br_entity_t *a = &ents[i];
			if (dump)
				printf("%s\t%u\t%s\t%s\t%s\n", p->id, a->sub, a->key, a->name,
				       a->v ? a->v->field->name : "");
			if (!a->node && !a->derived && !listed(list, a->key))
				PROBLEM("%s: %s is not in the entity list (docs/ha-entities.md)",
				        p->id, a->key);
			if (chk_stutters(a->name))
				PROBLEM("%s: %s: name '%s' repeats a word", p->id, a->key, a->name);
			if (a->sub && !strncasecmp(a->name, "battery pack", 12))
				PROBLEM("%s: %s: name '%s' repeats its device's name", p->id,
				        a->key, a->name);
			for (size_t k = i + 1; k < n; k++) {
				const br_entity_t *b = &ents[k];
				if (!strcmp(a->key, b->key))
					PROBLEM("%s: key %s twice", p->id, a->key);
				if (a->sub == b->sub && a->node == b->node &&
				    a->node_slave == b->node_slave && !strcasecmp(a->name, b->name))
					PROBLEM("%s: name '%s' for %s and %s", p->id, a->name,
					        a->key, b->key);
				if (a->v && b->v && a->v->block == b->v->block &&
				    value_offset(dev, a->v) == value_offset(dev, b->v) &&
				    a->v->field->mask == b->v->field->mask &&
				    a->v->field->shift == b->v->field->shift)
					PROBLEM("%s: register %u+%ld feeds %s and %s", p->id,
					        a->v->block, value_offset(dev, a->v) / 2, a->key,
					        b->key);
			}
		}
		blt_device_free(dev);
		br_config_free(cfg);
	}
	free(list);
	assert_int_equal(problems, 0);
#undef PROBLEM
}

/* A computed energy counter through the bridge's generators: announced as a kWh
 * total_increasing sensor marked computed, null until a sample or a seed, then the seed
 * (the previous run's value) in the state document. */
static void test_computed_energy_entity(void **state)
{
	br_config_t *c = NULL;
	br_errors_t e;
	blt_device_t *dev;
	static br_entity_t ents[BR_MAX_ENTITIES];
	const br_entity_t *x = NULL;
	cJSON *o;
	char *doc;
	(void)state;
	assert_int_equal(
	    parse(MINIMAL "[device e2]\nprofile = ELITE200V2\nsn = 2434000112345\n", &c, &e),
	    BLT_OK);
	assert_int_equal(blt_device_new(c->dev[0].profile, NULL, "2434000112345", &dev, NULL),
	                 BLT_OK);
	br_ha_ctx_t ctx = {
	    .base = "bluetti", .prefix = "homeassistant", .cfg = &c->dev[0], .dev = dev};
	size_t n = br_entities(&ctx, ents, BR_MAX_ENTITIES);
	for (size_t i = 0; i < n; i++)
		if (!strcmp(ents[i].key, "grid_export_energy_computed"))
			x = &ents[i];
	assert_non_null(x);
	doc = br_discovery_doc(&ctx, x);
	o = cJSON_Parse(doc);
	assert_string_equal(cJSON_GetObjectItem(o, "name")->valuestring,
	                    "Grid export energy (computed)");
	assert_string_equal(cJSON_GetObjectItem(o, "device_class")->valuestring, "energy");
	assert_string_equal(cJSON_GetObjectItem(o, "state_class")->valuestring, "total_increasing");
	assert_string_equal(cJSON_GetObjectItem(o, "unit_of_measurement")->valuestring, "kWh");
	cJSON_Delete(o);
	free(doc);
	doc = br_state_doc(&ctx, ents, n);
	o = cJSON_Parse(doc);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "grid_export_energy_computed")));
	cJSON_Delete(o);
	free(doc);
	assert_int_equal(blt_device_energy_seed(dev, "grid_export_energy_computed", 12.345, NULL),
	                 BLT_OK);
	doc = br_state_doc(&ctx, ents, n);
	o = cJSON_Parse(doc);
	assert_true(cJSON_GetObjectItem(o, "grid_export_energy_computed")->valuedouble == 12.345);
	cJSON_Delete(o);
	free(doc);
	blt_device_free(dev);
	br_config_free(c);
}

/* Device-based discovery for everything: every profile, with its blocks read, a battery
 * pack and the packs and hubs of NODE_INFO: br_device_docs gives one document per HA
 * device (station first, the others via_device it), every entity is a component of
 * exactly one of them with the unique_id of the per-entity form, and the set passes the
 * discovery rules. */
static void test_every_profile_device_docs(void **state)
{
	static br_entity_t ents[BR_MAX_ENTITIES];
	static br_devdoc_t dd[BR_MAX_DEVDOCS];
	static const char *const avail[] = {"bluetti/bridge/state", "bluetti/d/availability"};
	static const char *const bridge_dev[] = {"bluetti_bridge"};
	uint8_t data[64];
	size_t len;
	blt_decoded_t *r = calloc(1, sizeof *r);
	(void)state;
	assert_int_equal(blt_hex_decode("0010 0004 0cfd 0cfc 0cfc 0cfc 0cfc 0cfc 0cfc 0cfb 0cfb "
	                                "0cfb 0cfb 0cfb 0cfb 0cfb 0cfb 0cf9 4545 4545 0000 0000",
	                                data, sizeof data, &len, NULL),
	                 BLT_OK);
	assert_int_equal(blt_decode(blt_catalog_find(6300), data, len, NULL, r, NULL), BLT_OK);
	for (size_t pi = 0; pi <= blt_profile_count(); pi++) {
		const blt_profile_t *p = blt_profile_at(pi);
		br_config_t *cfg = NULL;
		blt_device_t *dev = NULL;
		br_errors_t e;
		br_ha_ctx_t ctx;
		char text[1024], *st;
		size_t n, nd, ncomp = 0, nsub = 0;
		chk_doc_t docs[BR_MAX_DEVDOCS];
		snprintf(text, sizeof text,
		         MINIMAL "[device d]\nprofile = %s\nsn = 2616113487436\nname = Unit\n"
		                 "model = %s\nallow_unverified = true\n",
		         p->id, p->model ? p->model : "XY9");
		assert_int_equal(parse(text, &cfg, &e), BLT_OK);
		assert_int_equal(blt_device_new(p, p->model, "2616113487436", &dev, NULL), BLT_OK);
		for (size_t g = 0; g < p->ngroups; g++)
			for (size_t k = 0; k < p->groups[g].nblocks; k++) {
				const blt_block_t *b = blt_catalog_find(p->groups[g].blocks[k]);
				if (b && b->id != BLT_NODE_INFO_BLOCK)
					load_simulated(dev, b, blt_profile_block_regs(p, b));
			}
		load_block(dev, 21000, "ap300_block21000.hex");
		assert_int_equal(blt_device_update_node(dev, 51, r, 3, NULL), BLT_OK);
		memset(&ctx, 0, sizeof ctx);
		ctx.base = cfg->base_topic;
		ctx.prefix = cfg->discovery_prefix;
		ctx.cfg = &cfg->dev[0];
		ctx.dev = dev;
		ctx.link = "cloud";
		ctx.via_device = "bluetti_bridge";
		n = br_entities(&ctx, ents, BR_MAX_ENTITIES);
		assert_true(n > 20);
		/* computed energy counters exactly where the profile lacks the real one */
		for (size_t q = 0; q < blt_derived_count(); q++) {
			const blt_derived_t *dq = blt_derived_at(q);
			bool have = false;
			for (size_t k = 0; k < n; k++)
				have = have || !strcmp(ents[k].key, dq->key);
			if (dq->counter)
				assert_int_equal(have, !blt_profile_has_quantity(
				                           p, (blt_quantity_t)dq->counter));
			if (dq->counter && have && !strcmp(p->id, "ELITE200V2"))
				assert_string_equal(dq->key, "grid_export_energy_computed");
		}
		nd = br_device_docs(&ctx, ents, n, dd, BR_MAX_DEVDOCS);
		/* the station, its pack (6300 cells: sub-device rows), B300 at 51, hub at 11 */
		assert_true(nd >= 3);
		assert_string_equal(dd[0].topic,
		                    "homeassistant/device/bluetti_2616113487436/config");
		for (size_t i = 0; i < nd; i++) {
			cJSON *o = cJSON_Parse(dd[i].doc), *cmps = cJSON_GetObjectItem(o, "cmps"),
			      *x;
			const char *via = cJSON_GetStringValue(
			    cJSON_GetObjectItem(cJSON_GetObjectItem(o, "dev"), "via_device"));
			assert_non_null(o);
			docs[i].topic = dd[i].topic;
			docs[i].payload = dd[i].doc;
			assert_non_null(via);
			assert_string_equal(via, i ? "bluetti_2616113487436" : "bluetti_bridge");
			nsub += i > 0;
			cJSON_ArrayForEach(x, cmps)
			{
				/* the component is an entity of ents, of this document's device */
				size_t hits = 0;
				for (size_t k = 0; k < n; k++) {
					if (strcmp(ents[k].key, x->string))
						continue;
					hits++;
					assert_int_equal(i == 0, !ents[k].sub && !ents[k].node);
				}
				assert_int_equal(hits, 1);
				snprintf(text, sizeof text, "bluetti_2616113487436_%s", x->string);
				assert_string_equal(
				    cJSON_GetStringValue(cJSON_GetObjectItem(x, "unique_id")),
				    text);
				ncomp++;
			}
			cJSON_Delete(o);
		}
		/* every entity in exactly one document (keys are unique: counts suffice) */
		assert_int_equal(ncomp, n);
		assert_true(nsub >= 2);
		{
			bool pack = false, b300 = false, hub = false;
			for (size_t i = 1; i < nd; i++) {
				pack = pack ||
				       strstr(dd[i].topic, "/bluetti_2616113487436_pack/config");
				b300 = b300 ||
				       strstr(dd[i].topic, "/bluetti_2616113487436_pack51/config");
				hub = hub ||
				      strstr(dd[i].topic, "/bluetti_2616113487436_hub11/config");
			}
			assert_true(b300 && hub);
			assert_int_equal(pack, blt_profile_reads_block(p, 6300));
		}
		st = br_state_doc(&ctx, ents, n);
		chk_ctx_t chk = {.prefix = "homeassistant",
		                 .state_doc = st,
		                 .state_topic = "bluetti/d/state",
		                 .avail_topics = avail,
		                 .navail = 2,
		                 .known_devices = bridge_dev,
		                 .nknown = 1};
		if (chk_all(&chk, docs, nd))
			fail_msg("%s: %s", p->id, chk.last);
		/* the same document twice: a device with two documents, unique_ids reused */
		docs[nd] = docs[nd - 1];
		chk_ctx_t again = chk;
		again.problems = 0;
		assert_true(chk_all(&again, docs, nd + 1) > 0);
		free(st);
		br_devdocs_free(dd, nd);
		blt_device_free(dev);
		br_config_free(cfg);
	}
	free(r);
}

static void test_command_text(void **state)
{
	char out[32];
	(void)state;
	assert_true(br_command_text("ON", 2, out, sizeof out));
	assert_string_equal(out, "on");
	assert_true(br_command_text(" 5.0\n", 5, out, sizeof out));
	assert_string_equal(out, "5");
	assert_true(br_command_text("Turbo", 5, out, sizeof out));
	assert_string_equal(out, "turbo");
	assert_true(br_command_text("2.5", 3, out, sizeof out));
	assert_string_equal(out, "2.5"); /* left for the range check to refuse */
	assert_false(br_command_text("", 0, out, sizeof out));
	assert_false(br_command_text("\x01\x02", 2, out, sizeof out));
	assert_false(br_command_text("o\0n", 3, out, sizeof out));
	char big[200];
	memset(big, 'a', sizeof big);
	assert_false(br_command_text(big, sizeof big, out, sizeof out));
	/* a parsed value still goes through the settings range check */
	int32_t v;
	assert_true(br_command_text("7", 1, out, sizeof out));
	assert_int_equal(blt_setting_parse_value(blt_setting_find("ac_output"), out, &v, NULL),
	                 BLT_E_RANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_config_minimal_defaults),
	    cmocka_unit_test(test_config_errors_name_file_line_key),
	    cmocka_unit_test(test_config_required_and_account),
	    cmocka_unit_test(test_config_duplicates_many_sections),
	    cmocka_unit_test(test_config_lan_transports),
	    cmocka_unit_test(test_config_bad_bytes),
	    cmocka_unit_test(test_config_edges),
	    cmocka_unit_test(test_config_secrets),
	    cmocka_unit_test(test_entities_from_catalog_rows),
	    cmocka_unit_test(test_entity_units_follow_the_model),
	    cmocka_unit_test(test_noisy_entities_disabled),
	    cmocka_unit_test(test_entity_keys_independent_of_read_order),
	    cmocka_unit_test(test_discovery_follows_ha_rules),
	    cmocka_unit_test(test_checker_catches_broken_documents),
	    cmocka_unit_test(test_node_sub_devices),
	    cmocka_unit_test(test_checker_catches_bad_sub_devices),
	    cmocka_unit_test(test_state_unknown_is_null),
	    cmocka_unit_test(test_device_discovery),
	    cmocka_unit_test(test_every_profile_device_docs),
	    cmocka_unit_test(test_computed_energy_entity),
	    cmocka_unit_test(test_checker_catches_names_and_defaults),
	    cmocka_unit_test(test_every_profile_names_and_sources),
	    cmocka_unit_test(test_command_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
