/* bluetti local enable|disable modbus-tcp|mqtt: turn a LAN path of the unit's firmware on
 * or off (LOCAL.md §1.2, §2.2, §4.3) by writing its switch registers 13742-13745, each
 * write through the library's gate (settings of kind BLT_SK_SWITCH2 / number that need
 * BLT_WRITE_ALLOW_LAN_EXPOSURE): old value read, FC06, echo checked, read back, one audit
 * line per write. Nothing else is written: the Open MQTT server address and secret
 * (22005.., 22069..) are strings this command does not write; enabling Open MQTT requires
 * the server the unit already has to be named (--server), so a unit never starts talking
 * to a server the user did not choose (the firmware default is a Bluetti development
 * server). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bluetti/bluetti.h>
#include <bluetti/catalog.h>
#include <bluetti/client.h>
#include <bluetti/control.h>
#include <bluetti/settings.h>

#include "cli.h"
#include "common.h"
#include "session.h"

enum {
	OPT_DRY_RUN = 0x5100,
	OPT_CONFIRM,
	OPT_PORT,
	OPT_SERVER,
	OPT_CYCLE,
	OPT_AUDIT_LOG,
	OPT_VERIFY_READS,
	OPT_VERIFY_INTERVAL,
	OPT_VERBOSE,
	OPT_HELP,
};

#define CONFIRM_FLAG "--i-understand-lan-exposure"
#define MAX_STEPS    4

typedef struct step {
	const blt_setting_t *s;
	int32_t value;
} step_t;

typedef struct en_args {
	dev_args_t dev;
	int enable; /* 1 enable, 0 disable */
	int mqtt;   /* 1 Open MQTT, 0 Modbus TCP */
	int dry_run, confirmed, verbose;
	unsigned long port, cycle;
	const char *server, *audit_log;
	int verify_reads, verify_interval_ms;
} en_args_t;

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: bluetti local enable modbus-tcp [--port N] --sn SN --profile MODEL [options]\n"
	    "       bluetti local enable mqtt --server HOST:PORT [--report-cycle S] --sn SN ...\n"
	    "       bluetti local disable modbus-tcp|mqtt --sn SN --profile MODEL [options]\n"
	    "\n"
	    "Turn a LAN path of the unit's firmware on or off by writing its switch registers\n"
	    "(13742-13745, LOCAL.md §4.3) over the connection you already have, each write\n"
	    "through the write gate: current value read, FC06, echo checked, read back, one\n"
	    "audit line. Untested on any V2 unit; a firmware without the registers refuses\n"
	    "them and nothing is written.\n"
	    "  enable modbus-tcp   13745 = port (default 502), 13744 TLS off, 13744 server on\n"
	    "  enable mqtt         13743 = report cycle (if given), 13742 push on, control on,\n"
	    "                      client on; --server must name the broker the unit already\n"
	    "                      has (22005; this command does not write the address or\n"
	    "                      the secret)\n"
	    "  disable ...         13744 (or 13742) server/client off\n"
	    "\n"
	    "Both surfaces are UNAUTHENTICATED: anyone on the LAN can read the unit over Modbus\n"
	    "TCP, switch its outputs and power it off; Open MQTT sends the unit's data in plain\n"
	    "text to the broker and takes commands published there. Enabling needs\n" CONFIRM_FLAG
	    "\n(which also allows these untested registers); disabling needs it too.\n"
	    "\n");
	dev_args_help(out, 0);
	fprintf(out,
	        "write:\n"
	        "      --dry-run             print the exact registers, values and frames; "
	        "connect\n"
	        "                            to nothing, send nothing\n"
	        "      " CONFIRM_FLAG "\n"
	        "                            confirm the LAN exposure (required to write)\n"
	        "      --port N              Modbus TCP port to set (enable modbus-tcp; 502)\n"
	        "      --server HOST:PORT    the Open MQTT broker the unit is configured for\n"
	        "      --report-cycle S      seconds between the unit's pushes (1-65535)\n"
	        "      --audit-log FILE      also append the audit lines to FILE (0600;\n"
	        "                            default: $BLUETTI_AUDIT_LOG)\n"
	        "      --verify-reads N      read-backs before giving up (default 3)\n"
	        "      --verify-interval MS  pause between read-backs (default 1000)\n"
	        "  -v, --verbose             log the exchange\n"
	        "  -h, --help                this help\n"
	        "\nExit status: 0 done and read back, 1 failed (device, network, not applied),\n"
	        "2 refused before sending (usage, no confirmation).\n"
	        "See docs/local.md.\n");
}

static void log_stderr(blt_log_level_t level, const char *msg, void *user)
{
	(void)user;
	fprintf(stderr, "bluetti local: %s%s\n", level <= BLT_LOG_WARN ? "warning: " : "", msg);
}

static int parse(int argc, char **argv, en_args_t *a)
{
	static const struct option opts[] = {
	    DEV_LONG_OPTIONS,
	    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
	    {"i-understand-lan-exposure", no_argument, NULL, OPT_CONFIRM},
	    {"port", required_argument, NULL, OPT_PORT},
	    {"server", required_argument, NULL, OPT_SERVER},
	    {"report-cycle", required_argument, NULL, OPT_CYCLE},
	    {"audit-log", required_argument, NULL, OPT_AUDIT_LOG},
	    {"verify-reads", required_argument, NULL, OPT_VERIFY_READS},
	    {"verify-interval", required_argument, NULL, OPT_VERIFY_INTERVAL},
	    {"verbose", no_argument, NULL, OPT_VERBOSE},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0},
	};
	const char *prog = argv[0];
	unsigned long v;
	int c;

	memset(a, 0, sizeof *a);
	a->enable = strcmp(prog, "enable") == 0;
	dev_args_init(&a->dev, 0); /* writes: one attempt each, nothing repeated */
	optind = 0;
	while ((c = cli_getopt_long(argc, argv, "p:s:vh", opts, NULL)) != -1) {
		int r = dev_args_handle(&a->dev, c, optarg, "local");
		if (r < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		switch (c) {
		case OPT_DRY_RUN: a->dry_run = 1; break;
		case OPT_CONFIRM: a->confirmed = 1; break;
		case OPT_PORT:
			if (cli_parse_ulong(optarg, 1, 65535, &a->port) != 0) {
				fprintf(stderr, "bluetti local %s: --port must be 1-65535\n", prog);
				return EXIT_USAGE;
			}
			break;
		case OPT_SERVER: a->server = optarg; break;
		case OPT_CYCLE:
			if (cli_parse_ulong(optarg, 1, 65535, &a->cycle) != 0) {
				fprintf(stderr,
				        "bluetti local %s: --report-cycle must be 1-65535 s\n",
				        prog);
				return EXIT_USAGE;
			}
			break;
		case OPT_AUDIT_LOG: a->audit_log = optarg; break;
		case OPT_VERIFY_READS:
			if (cli_parse_ulong(optarg, 1, 20, &v) != 0) {
				fprintf(stderr, "bluetti local %s: --verify-reads must be 1-20\n",
				        prog);
				return EXIT_USAGE;
			}
			a->verify_reads = (int)v;
			break;
		case OPT_VERIFY_INTERVAL:
			if (cli_parse_ulong(optarg, 1, 60000, &v) != 0) {
				fprintf(stderr,
				        "bluetti local %s: --verify-interval must be 1-60000 ms\n",
				        prog);
				return EXIT_USAGE;
			}
			a->verify_interval_ms = (int)v;
			break;
		case 'v':
		case OPT_VERBOSE: a->verbose = 1; break;
		case 'h':
		case OPT_HELP: usage(stdout); return -1;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr,
		        "bluetti local %s: expected modbus-tcp or mqtt (see `bluetti local "
		        "--help`)\n",
		        prog);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[optind], "mqtt") || !strcmp(argv[optind], "open-mqtt")) {
		a->mqtt = 1;
	} else if (strcmp(argv[optind], "modbus-tcp") != 0) {
		fprintf(stderr, "bluetti local %s: '%.40s' is not modbus-tcp or mqtt\n", prog,
		        argv[optind]);
		return EXIT_USAGE;
	}
	if ((a->port && (a->mqtt || !a->enable)) || ((a->server || a->cycle) && !a->mqtt) ||
	    ((a->server || a->cycle) && !a->enable)) {
		fprintf(stderr,
		        "bluetti local %s: --port is for enable modbus-tcp, --server and "
		        "--report-cycle for enable mqtt\n",
		        prog);
		return EXIT_USAGE;
	}
	if (a->enable && a->mqtt && !a->server) {
		fprintf(stderr,
		        "bluetti local enable mqtt: --server HOST:PORT is required: the broker the "
		        "unit is\nconfigured for (`bluetti local status` shows it); the unit is "
		        "never switched on\ntowards a server you did not name\n");
		return EXIT_USAGE;
	}
	if (a->dev.ble.mbtcp) {
		fprintf(stderr,
		        "bluetti local %s: the switch registers are not in the Modbus TCP "
		        "open map; use the cloud or --transport ble\n",
		        prog);
		return EXIT_USAGE;
	}
	return dev_args_require(&a->dev, "local");
}

/* The writes, in order (LOCAL.md §4.3: the port before the switch; the switch last). */
static int plan(const en_args_t *a, step_t *st, size_t *n)
{
	static const char *const tcp_on[] = {"modbus_tcp_port", "modbus_tcp_tls", "modbus_tcp"};
	static const char *const mq_on[] = {"open_mqtt_report_cycle", "open_mqtt_report",
	                                    "open_mqtt_control", "open_mqtt"};
	const char *const *names;
	size_t k;

	*n = 0;
	if (!a->enable) {
		names = a->mqtt ? &mq_on[3] : &tcp_on[2];
		k = 1;
	} else {
		names = a->mqtt ? mq_on : tcp_on;
		k = a->mqtt ? 4 : 3;
	}
	for (size_t i = 0; i < k; i++) {
		const blt_setting_t *s = blt_setting_find(names[i]);
		blt_detail_t d = {{0}};
		char num[24];
		const char *text;

		if (!s) {
			fprintf(stderr, "bluetti local: no setting %s in the library\n", names[i]);
			return EXIT_FAIL;
		}
		if (!strcmp(names[i], "modbus_tcp_port")) {
			snprintf(num, sizeof num, "%lu", a->port ? a->port : 502ul);
			text = num;
		} else if (!strcmp(names[i], "open_mqtt_report_cycle")) {
			if (!a->cycle)
				continue;
			snprintf(num, sizeof num, "%lu", a->cycle);
			text = num;
		} else if (!strcmp(names[i], "modbus_tcp_tls")) {
			text = "off"; /* plain Modbus TCP: the transport has no TLS */
		} else {
			text = a->enable ? "on" : "off";
		}
		if (blt_setting_parse_value(s, text, &st[*n].value, &d) != BLT_OK) {
			fprintf(stderr, "bluetti local: %s\n", d.text);
			return EXIT_USAGE;
		}
		st[(*n)++].s = s;
	}
	return 0;
}

static void warn_exposure(const en_args_t *a)
{
	if (!a->enable)
		return;
	if (a->mqtt)
		fprintf(stderr,
		        "WARNING: Open MQTT has no TLS and no authentication of its own: the unit "
		        "sends\nits data in plain text to %s and, with control on, obeys commands "
		        "published\nthere by anyone who can publish on that broker. Use a broker "
		        "on a network you\ntrust; `bluetti local disable mqtt` turns it off.\n",
		        a->server);
	else
		fprintf(stderr,
		        "WARNING: Modbus TCP is unauthenticated: anyone who can reach the unit on "
		        "the LAN\ncan read it, switch its outputs and power it off (register 2013 "
		        "is writable at\n57026). Enable it only on a network you trust; `bluetti "
		        "local disable modbus-tcp`\nturns it off.\n");
}

static void hex_spaced(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%s%02x", i ? " " : "", p[i]);
}

/* Read and decode block id; BLT_OK or the client's error (d says why). */
static int read_block(session_t *s, uint16_t id, blt_decoded_t *dec, blt_detail_t *d)
{
	const blt_block_t *b = blt_catalog_find(id);
	uint8_t data[2 * BLT_MAX_READ_REGS];
	size_t n = 0;
	int rc = blt_client_read(s->c, id, b->regs, data, sizeof data, &n, d);
	if (rc == BLT_OK) {
		rc = blt_decode(b, data, n, &s->dopts, dec, d);
		if (rc == BLT_E_MISSING)
			rc = BLT_OK;
	}
	return rc;
}

static const char *str_of(const blt_decoded_t *dec, const char *name)
{
	const blt_value_t *v = blt_decoded_get(dec, name);
	return v && v->status == BLT_VS_OK ? v->str : "?";
}

/* Before any write: the unit has the registers, and (enable mqtt) the server named is the
 * one it is configured for. 0, or an exit status (message printed). */
static int preflight(const en_args_t *a, session_t *s)
{
	static blt_decoded_t dec;
	blt_detail_t d = {{0}};
	int rc = read_block(s, 13742, &dec, &d);

	if (rc == BLT_E_EXCEPTION) {
		fprintf(stderr,
		        "bluetti local: the unit refused registers 13742-13745: its "
		        "firmware has neither\nModbus TCP nor Open MQTT; nothing written\n");
		return EXIT_FAIL;
	}
	if (rc != BLT_OK) {
		fprintf(stderr,
		        "bluetti local: reading 13742-13745 failed, nothing written: %s: %s\n",
		        blt_strerror(rc), d.text);
		return EXIT_FAIL;
	}
	if (a->enable && a->mqtt) {
		const char *url;
		rc = read_block(s, 22005, &dec, &d);
		if (rc != BLT_OK) {
			fprintf(
			    stderr,
			    "bluetti local: reading the Open MQTT server (22005) failed, nothing "
			    "written: %s: %s\n",
			    blt_strerror(rc), d.text);
			return EXIT_FAIL;
		}
		url = str_of(&dec, "open_mqtt_server");
		if (strcmp(url, a->server) != 0) {
			fprintf(
			    stderr,
			    "bluetti local: the unit's Open MQTT server is '%s', not '%s'; nothing "
			    "written.\nThis command does not write the server address or its "
			    "secret (docs/local.md).\n",
			    url, a->server);
			return EXIT_FAIL;
		}
	}
	return 0;
}

static void print_state(const en_args_t *a, session_t *s)
{
	static blt_decoded_t dec;
	blt_detail_t d = {{0}};
	double port = 0;

	if (read_block(s, 13742, &dec, &d) != BLT_OK) {
		fprintf(stderr, "bluetti local: the final read of 13742-13745 failed: %s\n",
		        d.text);
		return;
	}
	if (a->mqtt) {
		printf("Open MQTT is now %s (push %s, control %s)\n", str_of(&dec, "open_mqtt"),
		       str_of(&dec, "open_mqtt_report"), str_of(&dec, "open_mqtt_control"));
	} else {
		blt_decoded_num(&dec, "modbus_tcp_port", &port);
		printf("Modbus TCP is now %s, port %u, TLS %s\n", str_of(&dec, "modbus_tcp"),
		       (unsigned)(port ? port : 502), str_of(&dec, "modbus_tcp_tls"));
	}
}

int cmd_local_enable(int argc, char **argv)
{
	en_args_t a;
	session_t s;
	cli_audit_t sink;
	blt_write_opts_t wo;
	step_t steps[MAX_STEPS];
	size_t nsteps = 0;
	int rc;

	rc = parse(argc, argv, &a);
	if (rc)
		return rc < 0 ? 0 : rc;
	rc = plan(&a, steps, &nsteps);
	if (rc)
		return rc;
	blt_log_set_handler(log_stderr, NULL, a.verbose ? BLT_LOG_DEBUG : BLT_LOG_WARN);
	warn_exposure(&a);

	memset(&s, 0, sizeof s);
	rc = session_prepare(&a.dev, "local", &s);
	if (rc)
		return rc;
	rc = cli_audit_open("local", a.audit_log, &sink);
	if (rc)
		return rc;
	memset(&wo, 0, sizeof wo);
	/* The confirmation covers both: the LAN exposure and these untested registers. */
	wo.flags = a.confirmed ? BLT_WRITE_ALLOW_LAN_EXPOSURE | BLT_WRITE_ALLOW_UNVERIFIED : 0;
	wo.dry_run = a.dry_run;
	wo.wire = &s.co;
	wo.verify_reads = a.verify_reads;
	wo.verify_interval_ms = a.verify_interval_ms;
	wo.audit = cli_audit_line;
	wo.audit_user = &sink;

	/* The gate first, for every write: a refused one is audited and nothing is sent. */
	for (size_t i = 0; i < nsteps; i++) {
		blt_detail_t d = {{0}};
		blt_write_result_t r;
		if (blt_setting_check_write(steps[i].s, s.p->id, steps[i].value, wo.flags, &d) ==
		    BLT_OK)
			continue;
		wo.dry_run = false;
		rc = blt_setting_write(NULL, s.p->id, steps[i].s, steps[i].value, &wo, &r, &d);
		fprintf(stderr, "bluetti local %s: %s: %s%s\n", argv[0], blt_strerror(rc), d.text,
		        a.confirmed ? "" : " (" CONFIRM_FLAG " to confirm)");
		cli_audit_close(&sink);
		conn_args_free(&a.dev.conn);
		return EXIT_USAGE;
	}

	if (a.dry_run) {
		printf("dry run, nothing sent: %s %s on %s %s writes\n", argv[0],
		       a.mqtt ? "mqtt" : "modbus-tcp", s.co.model, s.co.sn);
		for (size_t i = 0; i < nsteps; i++) {
			blt_detail_t d = {{0}};
			blt_write_result_t r;
			char v[48];
			rc = blt_setting_write(NULL, s.p->id, steps[i].s, steps[i].value, &wo, &r,
			                       &d);
			if (rc != BLT_OK) {
				fprintf(stderr, "bluetti local %s: %s: %s\n", argv[0],
				        blt_strerror(rc), d.text);
				break;
			}
			blt_setting_format_value(steps[i].s, steps[i].value, v, sizeof v);
			printf("  %u. register %u = %s (0x%04x, %s)\n     topic %s\n     rtu   ",
			       (unsigned)i + 1, r.reg, v, (unsigned)steps[i].value,
			       steps[i].s->name, r.topic);
			hex_spaced(r.rtu, r.rtu_len);
			printf("\n");
		}
		cli_audit_close(&sink);
		conn_args_free(&a.dev.conn);
		return rc == BLT_OK ? 0 : EXIT_USAGE;
	}

	rc = session_connect(&a.dev, "local", &s);
	if (rc) {
		cli_audit_close(&sink);
		conn_args_free(&a.dev.conn);
		return rc;
	}
	rc = preflight(&a, &s);
	for (size_t i = 0; !rc && i < nsteps; i++) {
		blt_detail_t d = {{0}};
		blt_write_result_t r;
		char oldv[48], newv[48];
		int wr = blt_setting_write(s.c, s.p->id, steps[i].s, steps[i].value, &wo, &r, &d);
		if (wr != BLT_OK) {
			fprintf(stderr, "bluetti local %s: %s: %s%s\n", argv[0], blt_strerror(wr),
			        d.text, i ? " (the writes before it were applied)" : "");
			rc = wr == BLT_E_DENIED || wr == BLT_E_RANGE ? EXIT_USAGE : EXIT_FAIL;
			break;
		}
		blt_setting_format_value(steps[i].s, r.old_value, oldv, sizeof oldv);
		blt_setting_format_value(steps[i].s, steps[i].value, newv, sizeof newv);
		printf("%s (register %u): %s -> %s, echo verified, read back confirmed\n",
		       steps[i].s->name, r.reg, oldv, newv);
	}
	if (!rc)
		print_state(&a, &s);
	session_close(&s);
	conn_args_free(&a.dev.conn);
	if (cli_audit_close(&sink) && !rc)
		rc = EXIT_FAIL;
	return rc;
}
