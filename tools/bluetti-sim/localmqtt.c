/* bluetti-sim --local-mqtt: one simulated device as the "Open MQTT" client of its owner's
 * broker (LOCAL.md §2.3-§2.6b), the way Bluetti's IoT firmware does it:
 *
 *   - plain MQTT 3.1.1 to HOST:PORT (no TLS), clean session, keep-alive 50 s, no will;
 *   - client id = username = <model><serial as 13 zero-padded digits>, password the
 *     configured secret (the firmware's default admin123456 unless --password-file);
 *   - subscribes SUB/<model>/<sn> (requests) and PUBLIC/<model>/POWER (logged only), QoS 0;
 *   - a request is a bare Modbus RTU frame (no envelope), accepted only with length >= 5,
 *     function 03/06/10 and a valid CRC, else dropped silently; the reply (data, write echo
 *     or exception) is published bare on PUB/<model>/<sn>, QoS 0, retain 0;
 *   - while logged in with report_en on (register 13742 bits 6-7 = 1), every
 *     report_cycle + 1 seconds (register 13743; 0 means 60) one FC16-shaped frame of
 *     registers 11000-11099 (the IoT module's own information) on PUB/<model>/<sn>;
 *   - its own reconnect state machine (library auto-reconnect off): a failed connect or a
 *     refused login retries after 10 s, no SUBACK within 10 s restarts, a lost connection
 *     or a refused subscription pauses (60 s) and restarts.
 *
 * The register memory, the physical model and the request handler are the MQTT device's
 * (sim.h); this file owns the broker connection. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>

#include <bluetti/bluetti.h>
#include <bluetti/transport.h>

#include "common.h"
#include "localmqtt.h"
#include "say.h"
#include "sim.h"

#define PROG       "bluetti-sim"
#define EXIT_FAIL  1
#define EXIT_USAGE 2

#define PUSH_START     11000
#define PUSH_REGS      100
#define KEEPALIVE_S    50
#define LOGIN_RETRY_MS 10000         /* DNS or login failure (LOCAL.md §2.3) */
#define SUBACK_WAIT_MS 10000         /* no SUBACK within 10 s: restart */
#define DEFAULT_SECRET "admin123456" /* Net_Server_secret default (LOCAL.md §2.2) */
#define SECRET_MAX     63            /* the firmware cuts the secret to 63 characters */

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

typedef enum lm_state {
	LM_IDLE = 0,    /* next attempt at next_attempt */
	LM_CONNECTING,  /* CONNECT sent, waiting for CONNACK */
	LM_SUBSCRIBING, /* logged in, waiting for both SUBACKs */
	LM_ONLINE,      /* serving */
} lm_state_t;

typedef struct lm {
	struct mosquitto *mosq;
	sim_device_t dev;
	sim_opts_t so;
	char host[256];
	unsigned port;
	char user[128];
	char secret[SECRET_MAX + 1];
	char sub_topic[SIM_TOPIC_MAX], pub_topic[SIM_TOPIC_MAX], power_topic[SIM_TOPIC_MAX];
	lm_state_t st;
	uint64_t next_attempt, sub_deadline, next_push, boot_ms;
	unsigned boot_delay_s, pause_s;
	int sub_mid[2];
	bool sub_ok[2];
	double drop;
	uint32_t rng;
	const char *ready_file;
	bool ready_written;
	uint64_t logins, requests, replies, invalid, dropped, unanswered, pushes, power_msgs;
} lm_t;

static uint16_t reg_or_zero(const sim_device_t *dev, uint16_t reg)
{
	uint16_t v = 0;
	if (sim_reg_get(dev, reg, &v) != BLT_OK)
		v = 0;
	return v;
}

int sim_localmqtt_push_frame(const sim_device_t *dev, uint8_t *rtu, size_t cap, size_t *len)
{
	uint16_t vals[PUSH_REGS];
	for (unsigned i = 0; i < PUSH_REGS; i++)
		vals[i] = reg_or_zero(dev, (uint16_t)(PUSH_START + i));
	/* the firmware's frame builder writes slave 0 whatever the internal slave is */
	return blt_rtu_build_writen(0, PUSH_START, vals, PUSH_REGS, rtu, cap, len);
}

/* report_en (13742 bits 6-7 = 1) and the period in ms (13743 + 1 s; 0 -> 60 s). */
static bool report_on(const lm_t *l, uint64_t *period_ms)
{
	uint16_t en = reg_or_zero(&l->dev, 13742), cyc = reg_or_zero(&l->dev, 13743);
	if (period_ms)
		*period_ms = ((uint64_t)(cyc ? cyc : 60) + 1u) * 1000u;
	return ((en >> 6) & 3u) == 1u;
}

static void write_ready(lm_t *l)
{
	char tmp[4096];
	FILE *f;
	if (!l->ready_file || l->ready_written)
		return;
	snprintf(tmp, sizeof tmp, "%s.tmp", l->ready_file);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0 ||
	    rename(tmp, l->ready_file) != 0) {
		say(1, "--ready-file '%s': %s", l->ready_file, strerror(errno));
		return;
	}
	l->ready_written = true;
}

/* The error path of the firmware's state machine: drop the connection, try again later. */
static void restart(lm_t *l, unsigned after_ms, const char *why)
{
	say(1, "%s; reconnecting in %u s", why, after_ms / 1000u);
	l->st = LM_IDLE;
	mosquitto_disconnect(l->mosq);
	l->next_attempt = blt_now_ms() + after_ms;
}

static void on_connect(struct mosquitto *m, void *user, int rc)
{
	lm_t *l = user;
	if (rc != 0) {
		char why[512];
		snprintf(why, sizeof why, "login to %.200s:%u as %.100s refused: %s", l->host,
		         l->port, l->user, mosquitto_connack_string(rc));
		restart(l, LOGIN_RETRY_MS, why);
		return;
	}
	l->logins++;
	l->sub_ok[0] = l->sub_ok[1] = false;
	l->sub_mid[0] = l->sub_mid[1] = -1;
	if (mosquitto_subscribe(m, &l->sub_mid[0], l->sub_topic, 0) != MOSQ_ERR_SUCCESS ||
	    mosquitto_subscribe(m, &l->sub_mid[1], l->power_topic, 0) != MOSQ_ERR_SUCCESS) {
		restart(l, l->pause_s * 1000u, "subscribe failed");
		return;
	}
	l->st = LM_SUBSCRIBING;
	l->sub_deadline = blt_now_ms() + SUBACK_WAIT_MS;
	say(3, "logged in to %s:%u as %s", l->host, l->port, l->user);
}

static void on_subscribe(struct mosquitto *m, void *user, int mid, int n, const int *granted)
{
	lm_t *l = user;
	(void)m;
	for (int k = 0; k < 2; k++) {
		if (mid != l->sub_mid[k])
			continue;
		if (n < 1 || granted[0] > 2) {
			char why[512];
			snprintf(why, sizeof why, "the broker refused the subscription to %.160s",
			         k == 0 ? l->sub_topic : l->power_topic);
			restart(l, l->pause_s * 1000u, why);
			return;
		}
		l->sub_ok[k] = true;
	}
	if (l->st == LM_SUBSCRIBING && l->sub_ok[0] && l->sub_ok[1]) {
		uint64_t now = blt_now_ms(), period, first = l->boot_ms + l->boot_delay_s * 1000ull;
		l->st = LM_ONLINE;
		report_on(l, &period);
		l->next_push = first > now ? first : now;
		say(2, "%s %s online on %s:%u as %s: requests on %s, replies on %s",
		    l->so.profile->id, l->dev.sn, l->host, l->port, l->user, l->sub_topic,
		    l->pub_topic);
		write_ready(l);
	}
}

static void on_disconnect(struct mosquitto *m, void *user, int rc)
{
	lm_t *l = user;
	(void)m;
	if (l->st == LM_IDLE)
		return; /* our own disconnect */
	{
		char why[512];
		snprintf(why, sizeof why, "connection to %.200s:%u lost (%s)", l->host, l->port,
		         mosquitto_strerror(rc));
		restart(l, l->pause_s * 1000u, why);
	}
}

static void publish(lm_t *l, const uint8_t *p, size_t n)
{
	int rc = mosquitto_publish(l->mosq, NULL, l->pub_topic, (int)n, p, 0, false);
	if (rc != MOSQ_ERR_SUCCESS)
		say(1, "publish on %s failed: %s", l->pub_topic, mosquitto_strerror(rc));
}

/* Modbus_Format_Check (LOCAL.md §2.5): length >= 5, function 03/06/10, CRC valid. */
static bool format_ok(const uint8_t *p, size_t n)
{
	if (n < 5 || n > BLT_RTU_MAX)
		return false;
	if (p[1] != BLT_FC_READ && p[1] != BLT_FC_WRITE1 && p[1] != BLT_FC_WRITEN)
		return false;
	return blt_crc16(p, n - 2) == (uint16_t)(p[n - 2] | p[n - 1] << 8);
}

static void on_message(struct mosquitto *m, void *user, const struct mosquitto_message *msg)
{
	lm_t *l = user;
	const uint8_t *p = msg->payload;
	size_t n = msg->payloadlen > 0 ? (size_t)msg->payloadlen : 0;
	sim_reply_t r;

	(void)m;
	if (strcmp(msg->topic, l->power_topic) == 0) {
		l->power_msgs++;
		say(3, "%s: %zu bytes (logged only)", l->power_topic, n);
		return;
	}
	/* the firmware compares the topic as a prefix of its subscription */
	if (strncmp(msg->topic, l->sub_topic, strlen(l->sub_topic)) != 0)
		return;
	l->requests++;
	if (!format_ok(p, n)) {
		l->invalid++;
		say(3,
		    "request of %zu bytes dropped: not a bare RTU frame with function 03/06/10 "
		    "and a valid CRC",
		    n);
		return;
	}
	if (l->drop > 0 && sim_rand(&l->rng) < l->drop) {
		l->dropped++;
		say(3, "request of %zu bytes dropped (--drop)", n);
		return;
	}
	if (sim_handle(&l->dev, p, n, &r) != SIM_REPLY) {
		l->unanswered++;
		say(3, "%s", r.summary);
		return;
	}
	say(3, "%s", r.summary);
	publish(l, r.rtu, r.rtu_len);
	l->replies++;
}

static void try_connect(lm_t *l)
{
	int rc;
	l->st = LM_CONNECTING;
	rc = mosquitto_connect(l->mosq, l->host, (int)l->port, KEEPALIVE_S);
	if (rc != MOSQ_ERR_SUCCESS) {
		char why[512];
		snprintf(why, sizeof why, "cannot connect to %.200s:%u: %s", l->host, l->port,
		         rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
		restart(l, LOGIN_RETRY_MS, why);
	}
}

static void push(lm_t *l, uint64_t now)
{
	uint8_t rtu[BLT_RTU_MAX];
	size_t n;
	uint64_t period;
	bool on = report_on(l, &period);

	l->next_push = now + period;
	if (!on)
		return;
	if (sim_localmqtt_push_frame(&l->dev, rtu, sizeof rtu, &n) != BLT_OK)
		return;
	publish(l, rtu, n);
	l->pushes++;
	say(3, "pushed block %u (%zu bytes); next in %llu s", PUSH_START, n,
	    (unsigned long long)(period / 1000u));
}

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: " PROG " --local-mqtt HOST[:PORT] [--profile P] [--sn SN] [--model M]\n"
	    "                   [--password-file F] [--report-cycle S] [--no-report]\n"
	    "                   [--boot-delay S] [--reconnect-pause S] [--drop P] [--soc PCT]\n"
	    "                   [--seed N] [--ready-file F] [-v]\n"
	    "\n"
	    "One simulated device as the \"Open MQTT\" client of Bluetti's IoT firmware\n"
	    "(LOCAL.md §2): it connects to the owner's broker HOST:PORT (plain MQTT, port\n"
	    "default 1883) as client id and username <model><13-digit serial>, subscribes\n"
	    "SUB/<model>/<sn> and PUBLIC/<model>/POWER at QoS 0, answers bare Modbus RTU frames\n"
	    "(slave 0, as on the cloud) on PUB/<model>/<sn> at QoS 0, and pushes registers\n"
	    "11000-11099 (the IoT module's information) there every report cycle + 1 s.\n"
	    "\n"
	    "  --local-mqtt HOST[:PORT]  the broker the device is configured for (22005)\n"
	    "  --profile P, --sn SN, --soc PCT, --seed N   as for the MQTT device\n"
	    "                            (defaults EL100V2, 2434000112345)\n"
	    "  --model M                 model code in username and topics (default: the\n"
	    "                            profile's; spaces allowed: 'Elite 200 V2')\n"
	    "  --password-file F         the broker password (register 22069, first line of F;\n"
	    "                            default: the firmware's default secret)\n"
	    "  --report-cycle S          push period register 13743, 1-65535 s (default 60);\n"
	    "                            a push every S + 1 seconds, as the firmware does\n"
	    "  --no-report               report_en off (13742 bits 6-7 = 2): no pushes\n"
	    "  --boot-delay S            no push during the first S seconds (the firmware\n"
	    "                            waits for a power-on counter of 30; default 0)\n"
	    "  --reconnect-pause S       pause after a lost connection or a refused\n"
	    "                            subscription (default 60, the firmware's); a failed\n"
	    "                            connect or login always retries after 10 s\n"
	    "  --drop P                  lose a fraction P (0-1) of valid requests (QoS 0: the\n"
	    "                            device's 16-slot queue overflowing)\n"
	    "  --ready-file F            write F once logged in and subscribed\n"
	    "  -v, --verbose             one line per message\n"
	    "  -h, --help                this help\n"
	    "\n"
	    "On exit (SIGINT/SIGTERM) one line counts logins, requests, replies, invalid and\n"
	    "dropped requests, pushes. Exit status: 0 after a signal, 1 failure, 2 bad options.\n");
}

enum {
	OPT_BROKER = 0x3400,
	OPT_PROFILE,
	OPT_SN,
	OPT_MODEL,
	OPT_PASSWORD_FILE,
	OPT_REPORT_CYCLE,
	OPT_NO_REPORT,
	OPT_BOOT_DELAY,
	OPT_PAUSE,
	OPT_DROP,
	OPT_SOC,
	OPT_SEED,
	OPT_READY,
};

static int parse_broker(lm_t *l, const char *arg)
{
	const char *colon = strrchr(arg, ':');
	size_t hl = colon ? (size_t)(colon - arg) : strlen(arg);
	unsigned long v = 1883;
	if (hl == 0 || hl >= sizeof l->host ||
	    (colon && cli_parse_ulong(colon + 1, 1, 65535, &v))) {
		say(0, "--local-mqtt '%s': expected HOST[:PORT] (port 1-65535)", arg);
		return -1;
	}
	memcpy(l->host, arg, hl);
	l->host[hl] = '\0';
	l->port = (unsigned)v;
	return 0;
}

static int read_secret(lm_t *l, const char *path)
{
	uint8_t *buf = NULL;
	size_t len = 0, n;
	blt_detail_t d = {{0}};
	if (cli_read_file(path, &buf, &len, &d) != BLT_OK) {
		say(0, "--password-file: %s", d.text);
		return -1;
	}
	n = strcspn((const char *)buf, "\r\n");
	if (n > len)
		n = len;
	if (n > SECRET_MAX) {
		say(1, "--password-file: secret cut to %d characters, as the firmware does",
		    SECRET_MAX);
		n = SECRET_MAX;
	}
	memcpy(l->secret, buf, n);
	l->secret[n] = '\0';
	memset(buf, 0, len);
	free(buf);
	return 0;
}

static int parse_sn(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t n = strlen(s);
	if (n == 0 || n > 13) /* the username carries the serial as 13 digits */
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Options that shape the simulated device before it exists. */
typedef struct lm_args {
	const char *profile, *sn_text, *pwfile;
	unsigned long cycle;
	bool no_report;
} lm_args_t;

/* Whole-number options: name, accepted range and how the range is told. */
static const struct lm_number_opt {
	int opt;
	const char *name;
	unsigned long lo, hi;
	const char *expected;
} lm_number_opts[] = {
    {OPT_REPORT_CYCLE, "--report-cycle", 1, 65535, "1-65535 seconds"},
    {OPT_BOOT_DELAY, "--boot-delay", 0, 3600, "0-3600 seconds"},
    {OPT_PAUSE, "--reconnect-pause", 1, 3600, "1-3600 seconds"},
    {OPT_SOC, "--soc", 1, 100, "1-100"},
    {OPT_SEED, "--seed", 0, 0xFFFFFFFFul, "a whole number"},
};

/* A whole-number option: 1 taken, 0 not such an option, -1 bad value (said). */
static int lm_number_option(lm_t *l, lm_args_t *a, int opt, const char *arg)
{
	for (size_t i = 0; i < sizeof lm_number_opts / sizeof lm_number_opts[0]; i++) {
		const struct lm_number_opt *n = &lm_number_opts[i];
		unsigned long v;
		if (n->opt != opt)
			continue;
		if (cli_parse_ulong(arg, n->lo, n->hi, &v)) {
			say(0, "%s '%s': expected %s", n->name, arg, n->expected);
			return -1;
		}
		switch (opt) {
		case OPT_REPORT_CYCLE: a->cycle = v; break;
		case OPT_BOOT_DELAY: l->boot_delay_s = (unsigned)v; break;
		case OPT_PAUSE: l->pause_s = (unsigned)v; break;
		case OPT_SOC: l->so.start_soc = (double)v; break;
		case OPT_SEED: l->so.seed = (uint32_t)v; break;
		default: break;
		}
		return 1;
	}
	return 0;
}

static int parse_drop(lm_t *l, const char *arg)
{
	char *end;
	errno = 0;
	l->drop = strtod(arg, &end);
	if (errno || end == arg || *end || !(l->drop >= 0 && l->drop <= 1)) {
		say(0, "--drop '%s': expected a probability between 0 and 1", arg);
		return -1;
	}
	return 0;
}

/* Applies one option: -1 to go on, else an exit status. */
static int lm_option(lm_t *l, lm_args_t *a, int c, char **argv)
{
	int r = lm_number_option(l, a, c, optarg);
	if (r)
		return r < 0 ? EXIT_USAGE : -1;
	switch (c) {
	case OPT_BROKER: return parse_broker(l, optarg) ? EXIT_USAGE : -1;
	case OPT_PROFILE: a->profile = optarg; break;
	case OPT_SN: a->sn_text = optarg; break;
	case OPT_MODEL: l->so.model = optarg; break;
	case OPT_PASSWORD_FILE: a->pwfile = optarg; break;
	case OPT_NO_REPORT: a->no_report = true; break;
	case OPT_DROP: return parse_drop(l, optarg) ? EXIT_USAGE : -1;
	case OPT_READY: l->ready_file = optarg; break;
	case 'v': say_verbose++; break;
	case 'h': usage(stdout); return 0;
	case ':': say(0, "%s needs an argument", argv[optind - 1]); return EXIT_USAGE;
	default:
		if (cli_getopt_reported)
			return EXIT_USAGE;
		say(0,
		    "unknown option '%.*s' with --local-mqtt (see --local-mqtt localhost "
		    "--help)",
		    (int)strcspn(argv[optind - 1], "="), argv[optind - 1]);
		return EXIT_USAGE;
	}
	return -1;
}

/* Checks the options together and reads the password: -1 to go on, else an exit status. */
static int lm_check_args(lm_t *l, const lm_args_t *a, uint64_t *sn)
{
	if (!l->host[0]) {
		say(0, "--local-mqtt needs the broker, HOST[:PORT]");
		return EXIT_USAGE;
	}
	l->so.profile = blt_profile_find(a->profile);
	if (!l->so.profile) {
		say(0, "--profile '%s': unknown (see --list-profiles)", a->profile);
		return EXIT_USAGE;
	}
	if (!l->so.model && !l->so.profile->model) {
		say(0, "profile %s has no model code: give --model", l->so.profile->id);
		return EXIT_USAGE;
	}
	if (l->so.model && !blt_topic_model_ok(l->so.model)) {
		say(0, "--model '%s': printable, spaces inside allowed, no '/', '+', '#' (max 64)",
		    l->so.model);
		return EXIT_USAGE;
	}
	if (parse_sn(a->sn_text, sn)) {
		say(0, "--sn '%s': expected 1-13 decimal digits", a->sn_text);
		return EXIT_USAGE;
	}
	snprintf(l->secret, sizeof l->secret, "%s", DEFAULT_SECRET);
	if (a->pwfile && read_secret(l, a->pwfile))
		return EXIT_USAGE;
	return -1;
}

/* Creates the simulated device and fills the registers that describe the local access. */
static int lm_device_init(lm_t *l, const lm_args_t *a, uint64_t sn)
{
	blt_detail_t d = {{0}};
	int rc;

	l->so.preset = blt_wire_preset_find("local-mqtt");
	l->so.local_access = SIM_LOCAL_MQTT;
	l->so.iot_info = true;
	rc = sim_device_init(&l->dev, &l->so, sn, &d);
	if (rc) {
		say(0, "device: %s: %s", blt_strerror(rc), d.text);
		return EXIT_FAIL;
	}
	/* block 11000: the IoT module (model and serial from the identity rows); a safety code
	 * that is not the serial, so a client that leaks it is caught */
	{
		char code[24];
		snprintf(
		    code, sizeof code, "%llu",
		    (unsigned long long)((l->so.seed ^ 0x5afe) * 2654435761ull % 1000000000000ull));
		sim_set_str(&l->dev, 11000, "safety_code", code);
		sim_set_num(&l->dev, 11000, "iot_software_version", 904117);
	}
	/* the configuration registers say what this device does (LOCAL.md §2.2) */
	sim_reg_set(&l->dev, 13742, a->no_report ? 0x0091 : 0x0051);
	sim_reg_set(&l->dev, 13743, (uint16_t)a->cycle);
	{
		char url[300];
		snprintf(url, sizeof url, "%.255s:%u", l->host, l->port);
		sim_set_str(&l->dev, 22005, "open_mqtt_server", url);
	}
	return -1;
}

/* Returns -1 to continue, else an exit status. */
static int parse_args(lm_t *l, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"local-mqtt", required_argument, NULL, OPT_BROKER},
	    {"profile", required_argument, NULL, OPT_PROFILE},
	    {"sn", required_argument, NULL, OPT_SN},
	    {"model", required_argument, NULL, OPT_MODEL},
	    {"password-file", required_argument, NULL, OPT_PASSWORD_FILE},
	    {"report-cycle", required_argument, NULL, OPT_REPORT_CYCLE},
	    {"no-report", no_argument, NULL, OPT_NO_REPORT},
	    {"boot-delay", required_argument, NULL, OPT_BOOT_DELAY},
	    {"reconnect-pause", required_argument, NULL, OPT_PAUSE},
	    {"drop", required_argument, NULL, OPT_DROP},
	    {"soc", required_argument, NULL, OPT_SOC},
	    {"seed", required_argument, NULL, OPT_SEED},
	    {"ready-file", required_argument, NULL, OPT_READY},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	lm_args_t a = {.profile = "EL100V2", .sn_text = "2434000112345", .cycle = 60};
	uint64_t sn;
	int c, rc;

	opterr = 0;
	optind = 1;
	while ((c = cli_getopt_long(argc, argv, ":vh", longopts, NULL)) != -1)
		if ((rc = lm_option(l, &a, c, argv)) >= 0)
			return rc;
	if (optind < argc) {
		say(0, "unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if ((rc = lm_check_args(l, &a, &sn)) >= 0)
		return rc;
	return lm_device_init(l, &a, sn);
}

int sim_localmqtt_main(int argc, char **argv)
{
	static lm_t lm;
	lm_t *l = &lm;
	struct sigaction sig;
	int rc;

	memset(l, 0, sizeof *l);
	l->so.slave = -1;
	l->so.speed = 1.0;
	l->so.seed = (uint32_t)time(NULL) ^ (uint32_t)getpid() << 16;
	l->pause_s = 60;
	rc = parse_args(l, argc, argv);
	if (rc >= 0)
		return rc;
	l->rng = l->so.seed ? l->so.seed : 1;
	/* identity (LOCAL.md §2.3, §2.4): username %s%013llu, topics with the unpadded serial */
	snprintf(l->user, sizeof l->user, "%.40s%013llu", l->dev.model,
	         (unsigned long long)l->dev.sn_num);
	snprintf(l->sub_topic, sizeof l->sub_topic, "SUB/%.40s/%.24s", l->dev.model, l->dev.sn);
	snprintf(l->pub_topic, sizeof l->pub_topic, "PUB/%.40s/%.24s", l->dev.model, l->dev.sn);
	snprintf(l->power_topic, sizeof l->power_topic, "PUBLIC/%.40s/POWER", l->dev.model);

	mosquitto_lib_init();
	l->mosq = mosquitto_new(l->user, true, l);
	if (!l->mosq) {
		say(0, "mosquitto_new: %s", strerror(errno));
		return EXIT_FAIL;
	}
	mosquitto_int_option(l->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
	mosquitto_username_pw_set(l->mosq, l->user, l->secret);
	mosquitto_connect_callback_set(l->mosq, on_connect);
	mosquitto_subscribe_callback_set(l->mosq, on_subscribe);
	mosquitto_disconnect_callback_set(l->mosq, on_disconnect);
	mosquitto_message_callback_set(l->mosq, on_message);

	memset(&sig, 0, sizeof sig);
	sig.sa_handler = on_signal;
	sigemptyset(&sig.sa_mask);
	sigaction(SIGINT, &sig, NULL);
	sigaction(SIGTERM, &sig, NULL);
	signal(SIGPIPE, SIG_IGN);

	l->boot_ms = blt_now_ms();
	l->st = LM_IDLE;
	l->next_attempt = l->boot_ms;
	say(2, "%s %s: Open MQTT client of %s:%u as %s (push every %u s)", l->so.profile->id,
	    l->dev.sn, l->host, l->port, l->user, reg_or_zero(&l->dev, 13743) + 1u);
	{
		uint64_t last_tick = l->boot_ms;
		while (!stop_signal) {
			uint64_t now = blt_now_ms();
			if (l->st == LM_IDLE) {
				if (now >= l->next_attempt)
					try_connect(l);
				else
					usleep(50000);
			}
			if (l->st != LM_IDLE) {
				rc = mosquitto_loop(l->mosq, 100, 1);
				if (rc != MOSQ_ERR_SUCCESS && l->st != LM_IDLE) {
					char why[512];
					snprintf(why, sizeof why, "connection to %.200s:%u: %s",
					         l->host, l->port, mosquitto_strerror(rc));
					restart(l, l->pause_s * 1000u, why);
				}
			}
			now = blt_now_ms();
			if (l->st == LM_SUBSCRIBING && now >= l->sub_deadline)
				restart(l, 0, "no SUBACK within 10 s");
			if (l->st == LM_ONLINE && now >= l->next_push)
				push(l, now);
			if (now - last_tick >= 1000) {
				sim_device_tick(&l->dev, (double)(now - last_tick) / 1000.0);
				last_tick = now;
			}
		}
	}
	say(2,
	    "signal %d: stopping (%llu logins, %llu requests, %llu replies, %llu invalid, %llu "
	    "dropped, %llu unanswered, %llu pushes, %llu on %s)",
	    (int)stop_signal, (unsigned long long)l->logins, (unsigned long long)l->requests,
	    (unsigned long long)l->replies, (unsigned long long)l->invalid,
	    (unsigned long long)l->dropped, (unsigned long long)l->unanswered,
	    (unsigned long long)l->pushes, (unsigned long long)l->power_msgs, l->power_topic);
	if (l->st != LM_IDLE) {
		l->st = LM_IDLE;
		mosquitto_disconnect(l->mosq);
		mosquitto_loop(l->mosq, 100, 1);
	}
	mosquitto_destroy(l->mosq);
	mosquitto_lib_cleanup();
	memset(l->secret, 0, sizeof l->secret);
	sim_nodes_free(&l->dev);
	if (l->ready_file && l->ready_written)
		unlink(l->ready_file);
	return 0;
}
