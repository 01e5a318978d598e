/* bluetti local status: which local (LAN / Bluetooth) paths a unit's firmware has, and
 * whether they are on (LOCAL.md §4.1). Read-only: three catalog blocks (1, 13742, 22005)
 * over the connection the user already has; block 13742 starts past the Wi-Fi credentials
 * of block 13600 and 22005 stops before the Open MQTT secret, so no secret is ever read. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bluetti/bluetti.h>
#include <bluetti/catalog.h>
#include <bluetti/client.h>

#include "cli.h"
#include "common.h"
#include "session.h"

enum { OPT_JSON = 0x5000, OPT_VERBOSE, OPT_HELP };

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: bluetti local status --sn SN --profile MODEL [connection options] [--json]\n"
	    "       bluetti local enable|disable modbus-tcp|mqtt ... (`bluetti local enable "
	    "--help`)\n"
	    "\n"
	    "Say which local paths the unit's firmware has and whether they are on, read-only\n"
	    "over the connection you already have (cloud or Bluetooth): the Modbus TCP\n"
	    "server (registers 13744-13745), Open MQTT, the device connecting to your own\n"
	    "broker (13742-13743, 22005), and Bluetooth LE encryption (register 6).\n"
	    "No credential is read: block 13742 starts past the Wi-Fi passwords, and the\n"
	    "Open MQTT secret (22069) is never requested. See docs/local.md.\n"
	    "\n");
	dev_args_help(out, 1);
	fprintf(out,
	        "\n  -j, --json                one JSON object\n"
	        "  -v, --verbose             log the exchange\n"
	        "  -h, --help                this help\n"
	        "\nExit status: 0 read (whatever the answer), 1 the device could not be read,\n"
	        "2 usage.\n");
}

static void log_stderr(blt_log_level_t level, const char *msg, void *user)
{
	(void)user;
	fprintf(stderr, "bluetti local: %s%s\n", level <= BLT_LOG_WARN ? "warning: " : "", msg);
}

typedef struct probe {
	int err; /* BLT_OK; BLT_E_EXCEPTION: the firmware lacks the registers; else unknown */
	blt_decoded_t dec;
	char detail[256];
} probe_t;

static void read_block(session_t *s, uint16_t id, probe_t *p)
{
	const blt_block_t *b = blt_catalog_find(id);
	uint8_t data[2 * BLT_MAX_READ_REGS];
	size_t n = 0;
	blt_detail_t d = {{0}};

	memset(p, 0, sizeof *p);
	p->err = blt_client_read(s->c, id, b->regs, data, sizeof data, &n, &d);
	if (p->err == BLT_OK) {
		int rc = blt_decode(b, data, n, &s->dopts, &p->dec, &d);
		if (rc != BLT_OK && rc != BLT_E_MISSING)
			p->err = rc;
	}
	snprintf(p->detail, sizeof p->detail, "%s", d.text);
}

static const char *str_of(const probe_t *p, const char *name)
{
	const blt_value_t *v = p->err == BLT_OK ? blt_decoded_get(&p->dec, name) : NULL;
	return v && v->status == BLT_VS_OK ? v->str : NULL;
}

static bool num_of(const probe_t *p, const char *name, double *out)
{
	return p->err == BLT_OK && blt_decoded_num(&p->dec, name, out);
}

/* Words for a probe that failed. */
static const char *absent(const probe_t *p)
{
	if (p->err == BLT_E_EXCEPTION)
		return "not in this firmware (the device refused the registers)";
	if (p->err == BLT_E_TIMEOUT)
		return "unknown (no answer)";
	return "unknown (read failed)";
}

/* "on" / "off" / "never set (off)" for a 2-bit switch field (LOCAL.md §2.2) */
static const char *state_word(const char *v)
{
	return v && !strcmp(v, "on") ? "on" : v && !strcmp(v, "off") ? "off" : "never set (off)";
}

/* The three blocks `local status` reads: identity, the access switches, the MQTT server. */
typedef struct local_probes {
	probe_t base, acc, srv;
} local_probes_t;

/* `bluetti local status` options: -1 to go on, else an exit status. */
static int status_args(int argc, char **argv, dev_args_t *a, int *json, int *verbose)
{
	static const struct option opts[] = {
	    DEV_LONG_OPTIONS,
	    {"json", no_argument, NULL, OPT_JSON},
	    {"verbose", no_argument, NULL, OPT_VERBOSE},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0},
	};
	int c, rc;

	dev_args_init(a, 1);
	optind = 0;
	while ((c = cli_getopt_long(argc, argv, "p:s:jvh", opts, NULL)) != -1) {
		int r = dev_args_handle(a, c, optarg, "local");
		if (r < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		switch (c) {
		case 'j':
		case OPT_JSON: *json = 1; break;
		case 'v':
		case OPT_VERBOSE: *verbose = 1; break;
		case 'h':
		case OPT_HELP: usage(stdout); return 0;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bluetti local status: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	rc = dev_args_require(a, "local");
	if (rc)
		return rc;
	if (a->ble.mbtcp) {
		fprintf(stderr, "bluetti local status: the capability registers are not in the "
		                "Modbus TCP open map; ask over the cloud or --transport ble\n");
		return EXIT_USAGE;
	}
	return -1;
}

/* Connects, reads the three blocks and closes: 0, or an exit status. */
static int read_local_probes(dev_args_t *a, local_probes_t *p)
{
	session_t s;
	int rc;

	memset(&s, 0, sizeof s);
	rc = session_prepare(a, "local", &s);
	if (!rc)
		rc = session_connect(a, "local", &s);
	if (rc) {
		session_close(&s);
		conn_args_free(&a->conn);
		return rc;
	}
	read_block(&s, 1, &p->base);
	read_block(&s, 13742, &p->acc);
	read_block(&s, 22005, &p->srv);
	session_close(&s);
	conn_args_free(&a->conn);
	if (p->base.err != BLT_OK && p->base.err != BLT_E_EXCEPTION && p->acc.err != BLT_OK &&
	    p->acc.err != BLT_E_EXCEPTION) {
		fprintf(stderr, "bluetti local status: the device did not answer: %s: %s\n",
		        blt_strerror(p->acc.err), p->acc.detail);
		return EXIT_FAIL;
	}
	return 0;
}

static void print_local_json(const char *sn, const local_probes_t *p)
{
	const probe_t *acc = &p->acc;
	const char *present = acc->err == BLT_OK            ? "true"
	                      : acc->err == BLT_E_EXCEPTION ? "false"
	                                                    : "null";
	double port = 0, cyc = 0;

	num_of(acc, "modbus_tcp_port", &port);
	printf("{\"sn\":");
	cli_json_str(stdout, sn);
	printf(",\"modbus_tcp\":{\"present\":%s,\"state\":", present);
	cli_json_str(stdout, str_of(acc, "modbus_tcp"));
	printf(",\"tls\":");
	cli_json_str(stdout, str_of(acc, "modbus_tcp_tls"));
	printf(",\"port\":");
	if (acc->err == BLT_OK)
		printf("%u", (unsigned)(port ? port : 502));
	else
		printf("null");
	printf("},\"open_mqtt\":{\"present\":%s,\"state\":", present);
	cli_json_str(stdout, str_of(acc, "open_mqtt"));
	printf(",\"report\":");
	cli_json_str(stdout, str_of(acc, "open_mqtt_report"));
	printf(",\"report_cycle_s\":");
	if (num_of(acc, "open_mqtt_report_cycle", &cyc))
		printf("%u", (unsigned)(cyc ? cyc : 60));
	else
		printf("null");
	printf(",\"server\":");
	cli_json_str(stdout, str_of(&p->srv, "open_mqtt_server"));
	printf("},\"ble_encryption\":");
	cli_json_str(stdout, str_of(&p->base, "ble_encryption"));
	printf("}\n");
}

static void print_local_text(const char *sn, const local_probes_t *p)
{
	const probe_t *acc = &p->acc;
	const char *ble = str_of(&p->base, "ble_encryption");

	printf("local access of %s:\n", sn);
	if (acc->err == BLT_OK) {
		double port = 0, cyc = 0;
		const char *tcp = str_of(acc, "modbus_tcp"), *mq = str_of(acc, "open_mqtt");
		const char *url = str_of(&p->srv, "open_mqtt_server");
		const char *tls = str_of(acc, "modbus_tcp_tls");
		num_of(acc, "modbus_tcp_port", &port);
		printf("  Modbus TCP   %s, port %u%s\n", state_word(tcp),
		       (unsigned)(port ? port : 502), tls && !strcmp(tls, "on") ? ", TLS" : "");
		num_of(acc, "open_mqtt_report_cycle", &cyc);
		printf("  Open MQTT    %s, server %s, push every %u s\n", state_word(mq),
		       url && *url            ? url
		       : p->srv.err == BLT_OK ? "(none)"
		                              : absent(&p->srv),
		       (unsigned)(cyc ? cyc : 60));
		if (tcp && !strcmp(tcp, "on"))
			printf(
			    "               Modbus TCP is unauthenticated: anyone on the LAN can "
			    "switch outputs\n               and power the unit off.\n");
	} else {
		printf("  Modbus TCP   %s\n  Open MQTT    %s\n", absent(acc), absent(acc));
	}
	printf("  Bluetooth    %s\n", ble && !strcmp(ble, "on")
	                                  ? "encrypted (V2 handshake; --transport ble)"
	                              : ble && !strcmp(ble, "off") ? "unencrypted"
	                              : ble                        ? "encryption flag not set"
	                                                           : absent(&p->base));
}

int cmd_local(int argc, char **argv)
{
	static local_probes_t probes;
	dev_args_t a;
	int json = 0, verbose = 0, rc;

	if (argc >= 2 && (!strcmp(argv[1], "enable") || !strcmp(argv[1], "disable")))
		return cmd_local_enable(argc - 1, argv + 1); /* cmd_local_enable.c */
	if (argc < 2 || strcmp(argv[1], "status") != 0) {
		if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
			usage(stdout);
			return 0;
		}
		fprintf(stderr, "bluetti local: expected status, enable or disable (see `bluetti "
		                "local --help`)\n");
		return EXIT_USAGE;
	}
	rc = status_args(argc - 1, argv + 1, &a, &json, &verbose);
	if (rc >= 0)
		return rc;
	blt_log_set_handler(log_stderr, NULL, verbose ? BLT_LOG_DEBUG : BLT_LOG_WARN);
	rc = read_local_probes(&a, &probes);
	if (rc)
		return rc;
	if (json)
		print_local_json(a.sn, &probes);
	else
		print_local_text(a.sn, &probes);
	return 0;
}

/* For `bluetti doctor`: the same three reads over a started session, said in one line. */
int local_status_line(session_t *s, char *out, size_t cap)
{
	static probe_t base, acc, srv;
	const char *tcp, *mq, *ble, *url;
	double port = 0, cyc = 0;

	read_block(s, 1, &base);
	read_block(s, 13742, &acc);
	read_block(s, 22005, &srv);
	if (base.err != BLT_OK && base.err != BLT_E_EXCEPTION && acc.err != BLT_OK &&
	    acc.err != BLT_E_EXCEPTION) {
		snprintf(out, cap, "the device did not answer: %s: %.150s", blt_strerror(acc.err),
		         acc.detail);
		return EXIT_FAIL;
	}
	tcp = str_of(&acc, "modbus_tcp");
	mq = str_of(&acc, "open_mqtt");
	ble = str_of(&base, "ble_encryption");
	url = str_of(&srv, "open_mqtt_server");
	num_of(&acc, "modbus_tcp_port", &port);
	num_of(&acc, "open_mqtt_report_cycle", &cyc);
	if (acc.err == BLT_OK)
		snprintf(out, cap,
		         "Modbus TCP %s (port %u%s); Open MQTT %s (server %.80s, push every %u s); "
		         "Bluetooth %s",
		         state_word(tcp), (unsigned)(port ? port : 502),
		         tcp && !strcmp(tcp, "on") ? ", unauthenticated on the LAN" : "",
		         state_word(mq), url && *url ? url : "none", (unsigned)(cyc ? cyc : 60),
		         ble && !strcmp(ble, "on") ? "encrypted"
		         : ble                     ? "not encrypted"
		                                   : absent(&base));
	else
		snprintf(out, cap, "Modbus TCP and Open MQTT: %s; Bluetooth %s", absent(&acc),
		         ble && !strcmp(ble, "on") ? "encrypted"
		         : ble                     ? "not encrypted"
		                                   : absent(&base));
	return 0;
}
