/* Commands that change or show device settings: set, get, settings, write-register.
 * Every write goes through the library's gate (include/bluetti/control.h); this file only
 * parses, prints, and delivers the audit lines (stderr and an optional append-only file). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bluetti/bluetti.h>
#include <bluetti/client.h>
#include <bluetti/control.h>
#include <bluetti/settings.h>

#include "cli.h"
#include "common.h"
#include "conn.h"
#include "session.h"

enum { MODE_SET, MODE_GET, MODE_SETTINGS, MODE_WREG };

static const char *const mode_name[] = {"set", "get", "settings", "write-register"};

enum {
	OPT_DRY_RUN = 0x2100,
	OPT_JSON,
	OPT_ALLOW_UNVERIFIED,
	OPT_ANY_PROFILE,
	OPT_AUDIT_LOG,
	OPT_VERIFY_READS,
	OPT_VERIFY_INTERVAL,
	OPT_ALL,
	OPT_VERBOSE,
	OPT_HELP,
};

#define MAX_POS 16

typedef struct set_args {
	dev_args_t dev;
	int dry_run, json, all, verbose;
	unsigned flags; /* BLT_WRITE_ALLOW_* */
	const char *audit_log;
	int verify_reads, verify_interval_ms;
	const char *pos[MAX_POS];
	int npos;
} set_args_t;

static void log_to_stderr(blt_log_level_t level, const char *msg, void *user)
{
	static const char *names[] = {"error", "warning", "info", "debug"};
	(void)user;
	fprintf(stderr, "bluetti: %s: %s\n", names[level], msg);
}

static void usage(int mode, FILE *out)
{
	int writes = mode == MODE_SET || mode == MODE_WREG;
	switch (mode) {
	case MODE_SET:
		fprintf(
		    out,
		    "usage: bluetti set SETTING VALUE --profile MODEL --sn SN [options]\n\n"
		    "Change one setting, safely: only settings of the catalog (see `bluetti\n"
		    "settings`), only values in their range, never a register of the deny list\n"
		    "(power-off, factory reset, battery aging, ...). Reads the current value,\n"
		    "writes it once (FC06), checks the echo byte for byte and reads it back.\n"
		    "VALUE: on/off for switches, a name or number for choices (e.g. turbo),\n"
		    "a number for the rest.\n\n");
		break;
	case MODE_GET:
		fprintf(out, "usage: bluetti get SETTING [SETTING...] --profile MODEL --sn SN "
		             "[options]\n\nRead the current value of settings (`all` for every "
		             "setting of the profile).\n\n");
		break;
	case MODE_SETTINGS:
		fprintf(out, "usage: bluetti settings [--profile MODEL [--sn SN ...]] [--all] "
		             "[--json]\n\nList the writable settings: register, kind, allowed "
		             "values, unit and verification\nstatus; with --sn (and the "
		             "connection options) also the current values.\nWithout --all only "
		             "the settings known to work on the profile are listed.\n\n");
		break;
	case MODE_WREG:
		fprintf(
		    out,
		    "usage: bluetti write-register REG VALUE --profile MODEL --sn SN [options]\n\n"
		    "Write a raw register value (decimal or 0x hex). Only registers of the\n"
		    "settings catalog are accepted, with the same range checks as `set`; the\n"
		    "deny list is never written; registers marked unverified need --i-know.\n\n");
		break;
	}
	dev_args_help(out, writes ? 0 : 1);
	if (writes)
		fprintf(
		    out,
		    "write:\n"
		    "      --dry-run             print the exact frame (hex, with envelope) and\n"
		    "                            topic; connect to nothing, send nothing\n"
		    "      --i-know, --allow-unverified\n"
		    "                            allow settings known from the firmware map only\n"
		    "      --any-profile         allow a setting not known to work on the profile\n"
		    "      --audit-log FILE      also append the audit line to FILE (created "
		    "0600;\n"
		    "                            default: $BLUETTI_AUDIT_LOG)\n"
		    "      --verify-reads N      read-backs before giving up (default 3)\n"
		    "      --verify-interval MS  pause between read-backs (default 1000)\n");
	fprintf(out, "output:\n"
	             "  -j, --json                JSON\n");
	if (mode == MODE_SETTINGS)
		fprintf(out, "      --all                 every setting, also those not known on "
		             "the profile\n");
	fprintf(out, "  -v, --verbose             log protocol details to stderr\n"
	             "  -h, --help                this help\n");
	conn_args_help(out);
	if (writes)
		fprintf(
		    out,
		    "\nEvery write attempt (also refused ones and dry runs) prints one audit line "
		    "to\nstderr. Exit status: 0 done and confirmed, 1 failed (no echo, wrong echo, "
		    "not\napplied, exception, network), 2 refused before sending (usage, value out "
		    "of\nrange, denied).\n");
	fprintf(out,
	        "\nexample: bluetti %s --profile EL100V2 --sn 2434000112345 --broker "
	        "localhost:8883 \\\n           --cert client.pfx --cert-password-file pass "
	        "--ca ca.pem%s\n",
	        mode_name[mode],
	        mode == MODE_SET    ? " ac_output off"
	        : mode == MODE_GET  ? " ac_output"
	        : mode == MODE_WREG ? " 2011 0 --dry-run"
	                            : "");
}

static int parse_args(int mode, int argc, char **argv, set_args_t *a)
{
	static const struct option opts[] = {
	    DEV_LONG_OPTIONS,
	    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"allow-unverified", no_argument, NULL, OPT_ALLOW_UNVERIFIED},
	    {"i-know", no_argument, NULL, OPT_ALLOW_UNVERIFIED},
	    {"any-profile", no_argument, NULL, OPT_ANY_PROFILE},
	    {"audit-log", required_argument, NULL, OPT_AUDIT_LOG},
	    {"verify-reads", required_argument, NULL, OPT_VERIFY_READS},
	    {"verify-interval", required_argument, NULL, OPT_VERIFY_INTERVAL},
	    {"all", no_argument, NULL, OPT_ALL},
	    {"verbose", no_argument, NULL, OPT_VERBOSE},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0},
	};
	const char *prog = mode_name[mode];
	int writes = mode == MODE_SET || mode == MODE_WREG;
	unsigned long v;
	int c;

	memset(a, 0, sizeof *a);
	/* Writes: one attempt per request, nothing repeated behind the user's back. */
	dev_args_init(&a->dev, writes ? 0 : 1);
	optind = 0;
	while ((c = cli_getopt_long(argc, argv, "p:s:jvh", opts, NULL)) != -1) {
		int r = dev_args_handle(&a->dev, c, optarg, prog);
		if (r < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		if (!writes &&
		    (c == OPT_DRY_RUN || c == OPT_ALLOW_UNVERIFIED || c == OPT_ANY_PROFILE ||
		     c == OPT_AUDIT_LOG || c == OPT_VERIFY_READS || c == OPT_VERIFY_INTERVAL)) {
			fprintf(stderr, "bluetti %s: %s is for set / write-register only\n", prog,
			        argv[optind - 1]);
			return EXIT_USAGE;
		}
		switch (c) {
		case OPT_DRY_RUN: a->dry_run = 1; break;
		case 'j':
		case OPT_JSON: a->json = 1; break;
		case OPT_ALLOW_UNVERIFIED: a->flags |= BLT_WRITE_ALLOW_UNVERIFIED; break;
		case OPT_ANY_PROFILE: a->flags |= BLT_WRITE_ALLOW_PROFILE; break;
		case OPT_AUDIT_LOG: a->audit_log = optarg; break;
		case OPT_VERIFY_READS:
			if (cli_parse_ulong(optarg, 1, 20, &v) != 0) {
				fprintf(stderr, "bluetti %s: --verify-reads must be 1-20\n", prog);
				return EXIT_USAGE;
			}
			a->verify_reads = (int)v;
			break;
		case OPT_VERIFY_INTERVAL:
			if (cli_parse_ulong(optarg, 1, 60000, &v) != 0) {
				fprintf(stderr,
				        "bluetti %s: --verify-interval must be 1-60000 ms\n", prog);
				return EXIT_USAGE;
			}
			a->verify_interval_ms = (int)v;
			break;
		case OPT_ALL:
			if (mode != MODE_SETTINGS) {
				fprintf(stderr, "bluetti %s: --all is for `bluetti settings`\n",
				        prog);
				return EXIT_USAGE;
			}
			a->all = 1;
			break;
		case 'v':
		case OPT_VERBOSE: a->verbose = 1; break;
		case 'h':
		case OPT_HELP: usage(mode, stdout); return -1;
		default: usage(mode, stderr); return EXIT_USAGE;
		}
	}
	for (; optind < argc; optind++) {
		if (a->npos >= MAX_POS) {
			fprintf(stderr, "bluetti %s: too many arguments\n", prog);
			return EXIT_USAGE;
		}
		a->pos[a->npos++] = argv[optind];
	}
	if ((writes && a->npos != 2) || (mode == MODE_GET && a->npos < 1) ||
	    (mode == MODE_SETTINGS && a->npos != 0)) {
		fprintf(stderr, "bluetti %s: %s (see `bluetti %s --help`)\n", prog,
		        mode == MODE_SET    ? "expected SETTING VALUE"
		        : mode == MODE_WREG ? "expected REG VALUE"
		        : mode == MODE_GET  ? "expected one or more SETTING names"
		                            : "takes no arguments",
		        prog);
		return EXIT_USAGE;
	}
	if (mode == MODE_SETTINGS && !a->dev.sn)
		return 0; /* the table alone needs no device */
	if (mode == MODE_SETTINGS && !a->dev.profile) {
		fprintf(stderr, "bluetti settings: --sn needs --profile MODEL\n");
		return EXIT_USAGE;
	}
	return dev_args_require(&a->dev, prog);
}

static void setup_logging(const set_args_t *a)
{
	blt_log_set_handler(log_to_stderr, NULL, a->verbose ? BLT_LOG_DEBUG : BLT_LOG_WARN);
}

/* ---- values ---------------------------------------------------------------------------- */

static const blt_setting_t *find_setting(const char *prog, const char *name)
{
	const blt_setting_t *s = blt_setting_find(name);
	if (s)
		return s;
	fprintf(stderr, "bluetti %s: unknown setting '%s'; settings:", prog, name);
	for (size_t i = 0; i < blt_setting_count(); i++)
		fprintf(stderr, " %s", blt_setting_at(i)->name);
	fprintf(stderr, "\n");
	return NULL;
}

/* Strict decimal integer. */
static int parse_int(const char *t, int32_t *out)
{
	char *end;
	long v;
	if (!t || !*t)
		return -1;
	errno = 0;
	v = strtol(t, &end, 10);
	if (*end || errno || v < INT32_MIN || v > INT32_MAX)
		return -1;
	*out = (int32_t)v;
	return 0;
}

/* "off, on" / "0 standard, 1 silent, ..." / "5..20 W" */
static void allowed_text(const blt_setting_t *s, char *buf, size_t cap)
{
	size_t o = 0;
	buf[0] = '\0';
	if (s->kind == BLT_SK_SWITCH || s->kind == BLT_SK_SWITCH2) {
		snprintf(buf, cap, "off, on");
	} else if (s->kind == BLT_SK_ENUM) {
		for (const blt_enum_entry_t *e = s->enums; e && e->name && o < cap; e++) {
			int n = snprintf(buf + o, cap - o, "%s%s(%ld)", o ? ", " : "", e->name,
			                 (long)e->value);
			if (n < 0)
				break;
			o += (size_t)n;
		}
	} else {
		snprintf(buf, cap, "%ld..%ld%s%s", (long)s->min, (long)s->max, s->unit ? " " : "",
		         s->unit ? s->unit : "");
	}
}

/* Value for people, with its unit: "0(off)", "300 W". */
static void value_text(const blt_setting_t *s, int32_t v, char *buf, size_t cap)
{
	blt_setting_format_value(s, v, buf, cap);
	if (s && s->kind == BLT_SK_NUMBER && s->unit) {
		size_t n = strlen(buf);
		snprintf(buf + n, cap - n, " %s", s->unit);
	}
}

/* ---- set / write-register ------------------------------------------------------------------ */

static void hex_spaced(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%s%02x", i ? " " : "", p[i]);
}

static void print_json_result(const set_args_t *a, const blt_write_result_t *r, int rc,
                              const blt_detail_t *d)
{
	const blt_setting_t *s = r->setting;
	char hex[2 * BLT_PAYLOAD_MAX + 1];
	const char *nm;

	printf("{\"setting\":");
	cli_json_str(stdout, s ? s->name : NULL);
	printf(",\"register\":%u,\"value\":%ld", r->reg, (long)r->value);
	nm = blt_setting_value_name(s, r->value);
	printf(",\"value_name\":");
	cli_json_str(stdout, nm);
	printf(",\"dry_run\":%s", a->dry_run ? "true" : "false");
	if (r->payload_len) {
		printf(",\"topic\":");
		cli_json_str(stdout, r->topic);
		blt_hex_encode(r->payload, r->payload_len, hex, sizeof hex);
		printf(",\"payload\":\"%s\"", hex);
		blt_hex_encode(r->rtu, r->rtu_len, hex, sizeof hex);
		printf(",\"rtu\":\"%s\"", hex);
	}
	printf(",\"old\":");
	if (r->have_old)
		printf("%ld", (long)r->old_value);
	else
		printf("null");
	printf(",\"readback\":");
	if (r->have_readback)
		printf("%ld", (long)r->readback);
	else
		printf("null");
	printf(",\"write_sent\":%s,\"requests\":%u", r->write_sent ? "true" : "false", r->requests);
	if (r->exception)
		printf(",\"exception\":%u", r->exception);
	printf(",\"ok\":%s,\"error\":", rc == BLT_OK ? "true" : "false");
	cli_json_str(stdout, rc == BLT_OK ? NULL : blt_strerror(rc));
	printf(",\"detail\":");
	cli_json_str(stdout, rc == BLT_OK ? NULL : d->text);
	printf("}\n");
}

static void print_text_result(const char *prog, const set_args_t *a, const session_t *s,
                              const blt_write_result_t *r, int rc, const blt_detail_t *d)
{
	char want[48], old[48];
	const char *name = r->setting ? r->setting->name : "register";

	value_text(r->setting, r->value, want, sizeof want);
	if (rc != BLT_OK) {
		const blt_setting_t *st = r->setting;
		const char *hint = "";
		if (rc == BLT_E_DENIED && st && !blt_register_denied(st->reg, NULL)) {
			if (st->lan_exposure)
				hint = " (a LAN switch: `bluetti local enable|disable`, "
				       "docs/local.md)";
			else if (st->status == BLT_SS_UNVERIFIED &&
			         !(a->flags & BLT_WRITE_ALLOW_UNVERIFIED))
				hint = " (--i-know to write it anyway)";
			else if (!(a->flags & BLT_WRITE_ALLOW_PROFILE))
				hint = " (--any-profile to write it anyway)";
		}
		fprintf(stderr, "bluetti %s: %s: %s%s\n", prog, blt_strerror(rc), d->text, hint);
		return;
	}
	if (a->dry_run) {
		printf("dry run, nothing sent: %s (register %u) = %s on %s %s\n", name, r->reg,
		       want, s->co.model, s->co.sn);
		printf("topic:    %s\n", r->topic);
		printf("payload:  ");
		if (r->payload_len > r->rtu_len) {
			hex_spaced(r->payload, r->payload_len - r->rtu_len);
			printf(" | ");
		}
		hex_spaced(r->rtu, r->rtu_len);
		printf("   (%s%s)\n", r->payload_len > r->rtu_len ? "envelope | " : "",
		       "RTU frame");
		{
			char hex[2 * BLT_PAYLOAD_MAX + 1];
			blt_hex_encode(r->payload, r->payload_len, hex, sizeof hex);
			printf("hex:      %s\n", hex);
		}
		return;
	}
	value_text(r->setting, r->old_value, old, sizeof old);
	printf("%s (register %u): %s -> %s, echo verified, read back %s\n", name, r->reg, old, want,
	       r->have_readback ? "confirmed" : "not done");
}

static int exit_code(int rc)
{
	if (rc == BLT_OK)
		return 0;
	if (rc == BLT_E_RANGE || rc == BLT_E_DENIED || rc == BLT_E_INVAL)
		return EXIT_USAGE;
	return EXIT_FAIL;
}

/* The gate alone, without sending or auditing: is a connection worth opening? Over Modbus
 * TCP (open_map) the setting must also have a writable public alias. */
static int gate_precheck(const char *profile, const blt_setting_t *s, uint16_t reg, int64_t value,
                         unsigned flags, bool open_map)
{
	if (blt_register_denied(reg, NULL) || !s || value < 0 || value > 0xFFFF)
		return -1;
	if (open_map && blt_openmap_write_target(reg, NULL, NULL) != BLT_OK)
		return -1;
	return blt_setting_check_write(s, profile, (int32_t)value, flags, NULL) == BLT_OK ? 0 : -1;
}

static int run_write(int mode, int argc, char **argv)
{
	const char *prog = mode_name[mode];
	set_args_t a;
	session_t s;
	cli_audit_t sink;
	blt_write_opts_t wo;
	blt_write_result_t r;
	blt_detail_t d = {{0}};
	const blt_setting_t *st = NULL;
	unsigned long reg = 0, raw = 0;
	uint16_t preg = 0; /* the internal register the gate checks */
	int32_t value = 0;
	int rc;

	rc = parse_args(mode, argc, argv, &a);
	if (rc)
		return rc < 0 ? 0 : rc;
	setup_logging(&a);

	if (mode == MODE_SET) {
		st = find_setting(prog, a.pos[0]);
		if (!st)
			return EXIT_USAGE;
		/* Numbers go to the gate as they are (it states the range); names are looked
		 * up here. */
		if (parse_int(a.pos[1], &value) != 0) {
			rc = blt_setting_parse_value(st, a.pos[1], &value, &d);
			if (rc != BLT_OK) {
				fprintf(stderr, "bluetti set: %s\n", d.text);
				return EXIT_USAGE;
			}
		}
		reg = st->reg;
	} else {
		if (cli_parse_ulong(a.pos[0], 0, 65535, &reg) != 0) {
			fprintf(stderr,
			        "bluetti write-register: REG '%s' must be 0-65535 (decimal "
			        "or 0x hex)\n",
			        a.pos[0]);
			return EXIT_USAGE;
		}
		if (cli_parse_ulong(a.pos[1], 0, 0xFFFFFFFFul, &raw) != 0) {
			fprintf(stderr,
			        "bluetti write-register: VALUE '%s' must be a non-negative "
			        "number (decimal or 0x hex)\n",
			        a.pos[1]);
			return EXIT_USAGE;
		}
		st = blt_setting_by_register((uint16_t)reg);
		value = raw > 0x7FFFFFFFul ? INT32_MAX : (int32_t)raw;
		/* over Modbus TCP a public address names its internal register (57001 = 2011);
		 * an alias of a denied register (57026 = 2013) stays refused by the gate */
		if (a.dev.ble.mbtcp) {
			const blt_tcp_run_t *run = blt_tcpmap_find_public((uint16_t)reg);
			if (run) {
				uint16_t internal = (uint16_t)(run->internal + (reg - run->pub));
				preg =
				    blt_register_denied(internal, NULL) ? (uint16_t)reg : internal;
				st = blt_register_denied(internal, NULL)
				         ? NULL
				         : blt_setting_by_register(internal);
			}
		}
	}
	if (mode == MODE_SET || !preg)
		preg = (uint16_t)reg;

	rc = session_prepare(&a.dev, prog, &s);
	if (rc)
		return rc;
	rc = cli_audit_open(prog, a.audit_log, &sink);
	if (rc)
		return rc;
	memset(&wo, 0, sizeof wo);
	wo.flags = a.flags;
	wo.dry_run = a.dry_run;
	wo.wire = &s.co;
	wo.verify_reads = a.verify_reads;
	wo.verify_interval_ms = a.verify_interval_ms;
	wo.audit = cli_audit_line;
	wo.audit_user = &sink;

	/* Connect only for a write the gate will accept; a refused one is audited without. */
	if (!a.dry_run && gate_precheck(s.p->id, st, preg, mode == MODE_SET ? value : (int64_t)raw,
	                                a.flags, a.dev.ble.mbtcp) == 0) {
		rc = session_connect(&a.dev, prog, &s);
		if (rc) {
			session_close(&s);
			s.c = NULL; /* audited below as "no connection, nothing sent" */
		}
	}
	if (mode == MODE_SET)
		rc = blt_setting_write(s.c, s.p->id, st, value, &wo, &r, &d);
	else
		rc = blt_register_write(s.c, s.p->id, (uint16_t)reg, (uint32_t)raw, &wo, &r, &d);

	if (a.json)
		print_json_result(&a, &r, rc, &d);
	if (!a.json || rc != BLT_OK)
		print_text_result(prog, &a, &s, &r, rc, &d);
	session_close(&s);
	conn_args_free(&a.dev.conn);
	if (cli_audit_close(&sink))
		return rc == BLT_OK ? EXIT_FAIL : exit_code(rc);
	return exit_code(rc);
}

int cmd_set(int argc, char **argv)
{
	return run_write(MODE_SET, argc, argv);
}

int cmd_write_register(int argc, char **argv)
{
	return run_write(MODE_WREG, argc, argv);
}

/* ---- get / settings ---------------------------------------------------------------------- */

/* Register data of the blocks read so far: every block once. */
#define MAX_BLOCKS 8
typedef struct block_cache {
	struct {
		uint16_t start, count;
		int err;
		char detail[sizeof(blt_detail_t)];
		uint8_t data[2 * BLT_MAX_READ_REGS];
		size_t n;
	} b[MAX_BLOCKS];
	size_t nb;
} block_cache_t;

/* Value of s from the cache, reading its block once. */
static int cached_value(session_t *ss, block_cache_t *bc, const blt_setting_t *s, int32_t *v,
                        blt_detail_t *d)
{
	uint16_t start, count;
	size_t i;

	if (blt_client_open_map(ss->c)) /* Modbus TCP: register by register through the map */
		return blt_setting_read(ss->c, ss->p->id, s, v, d);
	blt_setting_read_span(s, &start, &count);
	for (i = 0; i < bc->nb; i++)
		if (bc->b[i].start == start && bc->b[i].count == count)
			break;
	if (i == bc->nb) {
		blt_detail_t rd = {{0}};
		if (bc->nb == MAX_BLOCKS)
			return blt_setting_read(ss->c, ss->p->id, s, v, d);
		bc->b[i].start = start;
		bc->b[i].count = count;
		bc->b[i].err = blt_client_read(ss->c, start, count, bc->b[i].data,
		                               sizeof bc->b[i].data, &bc->b[i].n, &rd);
		snprintf(bc->b[i].detail, sizeof bc->b[i].detail, "%s", rd.text);
		bc->nb++;
	}
	if (bc->b[i].err != BLT_OK)
		return blt_detail_set(d, bc->b[i].err, "block %u: %s", start, bc->b[i].detail);
	return blt_setting_extract(s, start, bc->b[i].data, bc->b[i].n, v, d);
}

static int run_get(int argc, char **argv)
{
	const blt_setting_t *list[64];
	size_t n = 0;
	set_args_t a;
	session_t s;
	int rc, failures = 0;

	rc = parse_args(MODE_GET, argc, argv, &a);
	if (rc)
		return rc < 0 ? 0 : rc;
	setup_logging(&a);
	rc = session_prepare(&a.dev, "get", &s);
	if (rc)
		return rc;
	for (int i = 0; i < a.npos; i++) {
		if (strcasecmp(a.pos[i], "all") == 0) {
			for (size_t k = 0; k < blt_setting_count() && n < 64; k++)
				if (blt_setting_supports_profile(blt_setting_at(k), s.p->id))
					list[n++] = blt_setting_at(k);
			continue;
		}
		if (n == 64)
			break;
		if (!(list[n] = find_setting("get", a.pos[i])))
			return EXIT_USAGE;
		n++;
	}
	rc = session_connect(&a.dev, "get", &s);
	if (rc) {
		session_close(&s);
		conn_args_free(&a.dev.conn);
		return rc;
	}
	if (a.json) {
		printf("{\"profile\":");
		cli_json_str(stdout, s.p->id);
		printf(",\"sn\":");
		cli_json_str(stdout, a.dev.sn);
		printf(",\"values\":{");
	}
	for (size_t i = 0; i < n; i++) {
		int32_t v;
		blt_detail_t d = {{0}};
		char txt[64];
		int err = blt_setting_read(s.c, s.p->id, list[i], &v, &d);
		if (err != BLT_OK) {
			failures++;
			fprintf(stderr, "bluetti get: %s: %s: %s\n", list[i]->name,
			        blt_strerror(err), d.text);
		}
		if (a.json) {
			printf("%s", i ? "," : "");
			cli_json_str(stdout, list[i]->name);
			if (err != BLT_OK) {
				printf(":{\"register\":%u,\"value\":null,\"error\":", list[i]->reg);
				cli_json_str(stdout, blt_strerror(err));
				printf("}");
				continue;
			}
			printf(":{\"register\":%u,\"value\":%ld,\"name\":", list[i]->reg, (long)v);
			cli_json_str(stdout, blt_setting_value_name(list[i], v));
			printf(",\"unit\":");
			cli_json_str(stdout, list[i]->unit);
			printf("}");
		} else if (err == BLT_OK) {
			value_text(list[i], v, txt, sizeof txt);
			printf("%s: %s\n", list[i]->name, txt);
		}
	}
	if (a.json)
		printf("}}\n");
	session_close(&s);
	conn_args_free(&a.dev.conn);
	return failures ? EXIT_FAIL : 0;
}

int cmd_get(int argc, char **argv)
{
	return run_get(argc, argv);
}

static void json_setting(const blt_setting_t *st, const char *profile, int have, int32_t v, int err)
{
	printf("{\"name\":");
	cli_json_str(stdout, st->name);
	printf(",\"register\":%u,\"block\":%u,\"kind\":\"%s\",\"status\":\"%s\",\"unit\":", st->reg,
	       st->block, blt_setting_kind_name((blt_setting_kind_t)st->kind),
	       blt_setting_status_name((blt_setting_status_t)st->status));
	cli_json_str(stdout, st->unit);
	if (st->kind == BLT_SK_ENUM) {
		printf(",\"values\":[");
		for (const blt_enum_entry_t *e = st->enums; e && e->name; e++) {
			printf("%s{\"value\":%ld,\"name\":", e == st->enums ? "" : ",",
			       (long)e->value);
			cli_json_str(stdout, e->name);
			printf("}");
		}
		printf("]");
	} else {
		printf(",\"min\":%ld,\"max\":%ld", (long)st->min, (long)st->max);
	}
	printf(",\"profiles\":");
	if (!st->profiles) {
		printf("null");
	} else {
		printf("[");
		for (const char *const *p = st->profiles; *p; p++) {
			printf("%s", p == st->profiles ? "" : ",");
			cli_json_str(stdout, *p);
		}
		printf("]");
	}
	if (profile)
		printf(",\"supported\":%s",
		       blt_setting_supports_profile(st, profile) ? "true" : "false");
	printf(",\"description\":");
	cli_json_str(stdout, st->desc);
	if (have) {
		printf(",\"current\":");
		if (err == BLT_OK)
			printf("%ld", (long)v);
		else
			printf("null");
	}
	printf("}");
}

/* Resolves --profile and, with --sn, connects: 0, or an exit status. */
static int settings_open(set_args_t *a, session_t *s, const blt_profile_t **p, int *connected)
{
	int rc;

	if (a->dev.profile) {
		*p = blt_profile_find(a->dev.profile);
		if (!*p) {
			fprintf(stderr,
			        "bluetti settings: unknown profile '%s' (see `bluetti "
			        "profiles`)\n",
			        a->dev.profile);
			return EXIT_USAGE;
		}
	}
	if (a->dev.sn) {
		rc = session_prepare(&a->dev, "settings", s);
		if (!rc)
			rc = session_connect(&a->dev, "settings", s);
		if (rc) {
			session_close(s);
			conn_args_free(&a->dev.conn);
			return rc;
		}
		*connected = 1;
	}
	return 0;
}

static void print_settings_header(const set_args_t *a, const blt_profile_t *p, int connected)
{
	if (a->json) {
		printf("{\"profile\":");
		cli_json_str(stdout, p ? p->id : NULL);
		printf(",\"settings\":[");
		return;
	}
	if (p)
		printf("settings known to work on %s (%s)%s:\n\n", p->id, p->name,
		       a->all ? ", and the others (--any-profile)" : "");
	printf("%-18s %5s  %-6s  %-10s  %-14s %s\n", "setting", "reg", "kind", "status",
	       connected ? "current" : "profiles", "values / range");
}

/* The "current" column: the value read, or without a device the profiles it works on. */
static void current_text(const blt_setting_t *st, int connected, int32_t v, int err, char *cur,
                         size_t cap)
{
	if (connected) {
		if (err == BLT_OK)
			value_text(st, v, cur, cap);
		else
			snprintf(cur, cap, "? (%s)", blt_strerror(err));
	} else if (!st->profiles) {
		snprintf(cur, cap, "all V2");
	} else {
		size_t o = 0;
		cur[0] = '\0';
		for (const char *const *q = st->profiles; *q && o < cap; q++) {
			int k = snprintf(cur + o, cap - o, "%s%s", o ? "," : "", *q);
			if (k < 0)
				break;
			o += (size_t)k;
		}
	}
}

static void print_setting_row(const blt_setting_t *st, int supported, int connected, int32_t v,
                              int err)
{
	char allowed[160], cur[64];

	allowed_text(st, allowed, sizeof allowed);
	current_text(st, connected, v, err, cur, sizeof cur);
	printf("%-18s %5u  %-6s  %-10s  %-14s %s%s\n", st->name, st->reg,
	       blt_setting_kind_name((blt_setting_kind_t)st->kind),
	       blt_setting_status_name((blt_setting_status_t)st->status), cur, allowed,
	       supported ? "" : "  [not known on this profile]");
}

/* The closing part: the denied ranges, and in text the hidden count and status legend. */
static void print_settings_footer(const set_args_t *a, const blt_profile_t *p, size_t hidden)
{
	if (a->json) {
		printf("],\"denied\":[");
		for (size_t i = 0; i < blt_denied_count(); i++) {
			uint16_t f, l;
			const char *why;
			blt_denied_at(i, &f, &l, &why);
			printf("%s{\"first\":%u,\"last\":%u,\"why\":", i ? "," : "", f, l);
			cli_json_str(stdout, why);
			printf("}");
		}
		printf("]}\n");
		return;
	}
	if (hidden)
		printf("\n%zu more setting%s not known on %s: `bluetti settings --all`.\n", hidden,
		       hidden == 1 ? "" : "s", p->id);
	printf("\nstatus: live = write verified on a real device; client = written by "
	       "working\nthird-party clients; unverified = firmware map only (needs "
	       "--i-know).\nNever written, whatever the options:\n");
	for (size_t i = 0; i < blt_denied_count(); i++) {
		uint16_t f, l;
		const char *why;
		blt_denied_at(i, &f, &l, &why);
		if (f == l)
			printf("  %5u        %s\n", f, why);
		else
			printf("  %5u-%-5u  %s\n", f, l, why);
	}
}

static int run_settings(int argc, char **argv)
{
	static block_cache_t bc;
	set_args_t a;
	session_t s;
	const blt_profile_t *p = NULL;
	int rc, connected = 0, failures = 0, first = 1;
	size_t hidden = 0;

	rc = parse_args(MODE_SETTINGS, argc, argv, &a);
	if (rc)
		return rc < 0 ? 0 : rc;
	setup_logging(&a);
	memset(&s, 0, sizeof s);
	rc = settings_open(&a, &s, &p, &connected);
	if (rc)
		return rc;
	memset(&bc, 0, sizeof bc);

	print_settings_header(&a, p, connected);
	for (size_t i = 0; i < blt_setting_count(); i++) {
		const blt_setting_t *st = blt_setting_at(i);
		int supported = !p || blt_setting_supports_profile(st, p->id);
		int32_t v = 0;
		int err = BLT_OK;
		blt_detail_t d = {{0}};

		if (!supported && !a.all) {
			hidden++;
			continue;
		}
		if (connected) {
			err = cached_value(&s, &bc, st, &v, &d);
			if (err != BLT_OK) {
				failures++;
				fprintf(stderr, "bluetti settings: %s: %s: %s\n", st->name,
				        blt_strerror(err), d.text);
			}
		}
		if (a.json) {
			printf("%s", first ? "" : ",");
			json_setting(st, p ? p->id : NULL, connected, v, err);
			first = 0;
		} else {
			print_setting_row(st, supported, connected, v, err);
		}
	}
	print_settings_footer(&a, p, hidden);
	session_close(&s);
	conn_args_free(&a.dev.conn);
	return failures ? EXIT_FAIL : 0;
}

int cmd_settings(int argc, char **argv)
{
	return run_settings(argc, argv);
}
