/* bluetti-sim - simulated Bluetti V2 power station(s) on an MQTT broker.
 *
 * One MQTT connection, one listener per simulated device (serials sn, sn+1, ...). Each
 * device answers Modbus requests like a real unit (see handle.c) and evolves every tick
 * (model.c). Wire faults for tests (drop, corrupt CRC, delay, silence, unsolicited pushes,
 * disconnects) are applied here, between the handler and the transport.
 *
 * Exit status: 0 on SIGINT/SIGTERM, 1 connection / runtime failure, 2 bad options.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bluetti/bluetti.h>
#include <bluetti/transport.h>

#include "cloud.h"
#include "common.h"
#include "conn.h"
#include "localmqtt.h"
#include "mbtcp.h"
#include "sim.h"
#include "sim_ble.h"
#include "say.h"

#define PROG        "bluetti-sim"
#define EXIT_FAIL   1
#define EXIT_USAGE  2
#define MAX_DEVICES 1000
#define QUEUE_LEN   512

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

typedef struct pending {
	uint64_t due;
	sim_device_t *dev;
	uint8_t payload[BLT_PAYLOAD_MAX];
	size_t len;
} pending_t;

typedef struct faults {
	double drop, corrupt_crc;
	unsigned delay_ms;
	bool silent;
	long silent_after;       /* -1 = never */
	unsigned unsolicited_ms; /* 0 = off */
	long disconnect_after;   /* -1 = never */
	/* faults for the reliability tests (see "faults (reliability)" below) */
	unsigned silent_for_s; /* 0 = silence (--silent-after) lasts forever */
	double wrong_block, truncate, duplicate;
	bool cycle_counter; /* V2 envelope bytes 3-4: little-endian cycle counter */
} faults_t;

typedef struct app {
	conn_args_t conn;
	bool broker_given;
	const char *profile_name, *preset_name, *ready_file;
	const char *sn_text;
	unsigned long count;
	int rssi;
	unsigned tick_ms;
	int verbose;
	sim_opts_t so;
	faults_t f;
	sim_device_t *devs;
	size_t ndevs;
	blt_transport_t *t;
	uint32_t rng;
	pending_t *queue; /* ring */
	size_t qhead, qlen;
	uint64_t replies_conn; /* replies since the last (re)connect */
	bool want_disconnect;
	bool quiet_disconnect;     /* we dropped the connection ourselves */
	uint64_t retry_connect_at; /* after a failed reconnect of our own; 0 = none */
	uint64_t sent, dropped, corrupted, pushes;
	uint64_t *silence_end; /* per device: end of its --silent-for window; 0 = not begun */
	uint64_t started_ms;
	uint64_t wrong, truncated, duplicated;
	uint16_t cycle; /* --cycle-counter: frames published so far (wraps) */
} app_t;

static void lib_log(blt_log_level_t level, const char *msg, void *user)
{
	(void)user;
	say(level == BLT_LOG_ERROR  ? 0
	    : level == BLT_LOG_WARN ? 1
	    : level == BLT_LOG_INFO ? 3
	                            : 4,
	    "%s", msg);
}

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: " PROG " --broker HOST:PORT (--cert FILE.pfx [--cert-password-file F]\n"
	    "                   [--ca ca.pem] | --plain) [--profile P] [--sn SN] [--count N]\n"
	    "                   [--preset v2|seed] [--model M] [fault options] [-v]\n"
	    "       " PROG " --cloud [options]   the simulated account API (--cloud --help)\n"
	    "       " PROG " --modbus-tcp PORT [options]   one device as a Modbus TCP server\n"
	    "                                  (--modbus-tcp 0 --help)\n"
	    "       " PROG " --local-mqtt HOST[:PORT] [options]   one device as the Open MQTT\n"
	    "                                  client of your broker (--local-mqtt localhost "
	    "--help)\n"
	    "       " PROG
	    " --ble [options]     one device over Bluetooth LE, as BlueZ on D-Bus (--ble --help)\n"
	    "\n"
	    "Simulated Bluetti V2 power station(s) on an MQTT broker. Each device listens on\n"
	    "its preset's request topic (v2: SUB/<model>/<sn>), answers Modbus FC03 reads and\n"
	    "FC06/FC10 writes like a real unit (replies on PUB/<model>/<sn> in the preset's\n"
	    "envelope, V2 with an RSSI byte), and evolves every second: grid 228-232 V /\n"
	    "49.9-50.1 Hz, a varying AC load, SOC and energy counters following the power flow.\n"
	    "\n");
	conn_args_help(out);
	fprintf(
	    out,
	    "\n"
	    "devices:\n"
	    "      --profile P               device profile (default EL100V2; see "
	    "--list-profiles)\n"
	    "      --sn SN                   serial number, decimal (default 2434000112345)\n"
	    "      --count N                 simulate N devices, serials SN, SN+1, ... (1-%d)\n"
	    "      --preset NAME             wire preset: v2, seed, legacy (default: profile's)\n"
	    "      --model M                 model code for topics and the model string\n"
	    "                                (default: profile's; required for GENERIC)\n"
	    "      --slave N                 Modbus slave address (default: preset's)\n"
	    "      --rssi DBM                RSSI reported in V2 envelopes (default -60, +-3)\n"
	    "      --speed X                 run SOC and energy counters X times faster (default "
	    "1)\n"
	    "      --tick MS                 model tick (default 1000)\n"
	    "      --seed N                  random seed (default: from the clock)\n"
	    "      --soc PCT                 state of charge at start (default 76; at or below 70\n"
	    "                                the device starts charging from the grid)\n"
	    "      --packs N                 N expansion batteries (B300, 0-8) at slaves 51, 52,\n"
	    "                                ...: listed by NODE_INFO (21000), each answering\n"
	    "                                its own 6100 and 6300\n"
	    "      --hub                     a D1 hub at slave 11, listed by NODE_INFO\n"
	    "      --ready-file F            write F once every device is subscribed\n"
	    "      --list-profiles           list profiles and presets, then exit\n"
	    "\n"
	    "faults (for tests):\n"
	    "      --drop P                  lose a fraction P (0-1) of requests (not applied)\n"
	    "      --corrupt-crc P           corrupt the CRC of a fraction P of replies\n"
	    "      --delay MS                delay every reply by MS milliseconds\n"
	    "      --silent                  answer nothing\n"
	    "      --silent-after N          each device stops answering after N replies\n"
	    "      --unsolicited MS          every MS, each device pushes an FC10-shaped frame of\n"
	    "                                block 1300 or 100 (alternating) on its reply topic\n"
	    "      --short-replies           answer reads with half the registers asked\n"
	    "      --disconnect-after N      drop the MQTT connection after every N replies,\n"
	    "                                then reconnect\n"
	    "      --refuse-writes           answer writes with exception 04, change nothing\n"
	    "      --ignore-writes           echo writes but do not apply them\n"
	    "      --silent-for S            silence lasts S seconds, then the device answers\n"
	    "                                again (from the start, or after --silent-after N)\n"
	    "      --wrong-block P           before a fraction P of read replies, publish the\n"
	    "                                reply to a read of another block (as when another\n"
	    "                                client polls the same device; envelope register 0\n"
	    "                                as on the AP300)\n"
	    "      --truncate P              cut a fraction P of replies short (random length)\n"
	    "      --duplicate P             publish a fraction P of replies twice (a QoS 1\n"
	    "                                redelivery)\n"
	    "\n"
	    "read lengths of real units:\n"
	    "      --max-read B:N[,B:N...]   a read in block B running past register B+N-1 is\n"
	    "                                exception 02 (as the Elite 200 V2 refuses 98\n"
	    "                                registers of 100: --max-read 100:90,2000:90)\n"
	    "      --reply-regs B:N[,B:N...] a read of block B is answered with at most N\n"
	    "                                registers (the AP300's 6100: --reply-regs 6100:90)\n"
	    "      --busy-once               answer the first read of each block with\n"
	    "                                exception 06 (busy)\n"
	    "      --cycle-counter           V2 replies carry a little-endian cycle counter in\n"
	    "                                envelope bytes 3-4 (firmware, LOCAL.md §5), not 0\n"
	    "      --local-access MODE       what the firmware says of its LAN paths (registers\n"
	    "                                13742-13745, 22005; LOCAL.md §4.1): none (no such\n"
	    "                                registers, exception 02; the default), off,\n"
	    "                                modbus-tcp (on, port 502) or mqtt (Open MQTT on)\n"
	    "\n"
	    "  -v, --verbose                 one line per request (-vv: debug)\n"
	    "  -q, --quiet                   errors only\n"
	    "  -V, --version                 print the version\n"
	    "  -h, --help                    this help\n"
	    "\n"
	    "Reads that start inside an implemented block answer the registers that exist\n"
	    "(fewer than asked past the block end); a start outside every block is exception 02;\n"
	    "writes outside the blocks that hold settings (2000, 2200, 7000, 13742) are\n"
	    "exception 02, and the 2-bit switches of 13742/13744 change only the fields\n"
	    "written non-zero; unknown functions exception 01.\n"
	    "Exit status: 0 after SIGINT/SIGTERM, 1 connection failure, 2 bad options.\n"
	    "See bluetti-sim(1).\n",
	    MAX_DEVICES);
}

enum {
	OPT_PROFILE = 0x2000,
	OPT_SN,
	OPT_COUNT,
	OPT_PRESET,
	OPT_MODEL,
	OPT_SLAVE,
	OPT_RSSI,
	OPT_SPEED,
	OPT_TICK,
	OPT_SEED,
	OPT_SOC,
	OPT_READY,
	OPT_LIST,
	OPT_DROP,
	OPT_CORRUPT,
	OPT_DELAY,
	OPT_SILENT,
	OPT_SILENT_AFTER,
	OPT_UNSOLICITED,
	OPT_SHORT,
	OPT_DISCONNECT_AFTER,
	OPT_REFUSE,
	OPT_IGNORE,
	OPT_SILENT_FOR,
	OPT_WRONG_BLOCK,
	OPT_TRUNCATE,
	OPT_DUPLICATE,
	OPT_MAX_READ,
	OPT_REPLY_REGS,
	OPT_BUSY_ONCE,
	OPT_LOCAL_ACCESS,
	OPT_CYCLE_COUNTER,
	OPT_PACKS,
	OPT_HUB,
};

/* "B:N[,B:N...]" into v (at most SIM_MAX_LENS entries; N 1-125). */
static int parse_lens(const char *opt, const char *s, struct sim_block_len *v, unsigned *nv)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", s);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':');
		unsigned long b, n;
		if (!colon || *nv >= SIM_MAX_LENS) {
			fprintf(stderr,
			        PROG ": error: %s '%s': expected BLOCK:N[,BLOCK:N...] (at most "
			             "%d)\n",
			        opt, s, SIM_MAX_LENS);
			return -1;
		}
		*colon = '\0';
		if (cli_parse_ulong(tok, 0, 65535, &b) != 0 ||
		    cli_parse_ulong(colon + 1, 1, BLT_MAX_READ_REGS, &n) != 0) {
			fprintf(stderr, PROG ": error: %s '%s': expected BLOCK:N with N 1-%d\n",
			        opt, s, BLT_MAX_READ_REGS);
			return -1;
		}
		v[*nv].block = (uint16_t)b;
		v[*nv].regs = (uint16_t)n;
		(*nv)++;
	}
	return 0;
}

static int parse_prob(const char *opt, const char *s, double *out)
{
	char *end;
	double v;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0 && v <= 1)) {
		say(0, "%s '%s': expected a probability between 0 and 1", opt, s);
		return -1;
	}
	*out = v;
	return 0;
}

static int parse_ul(const char *opt, const char *s, unsigned long lo, unsigned long hi,
                    unsigned long *out)
{
	if (cli_parse_ulong(s, lo, hi, out) != 0) {
		say(0, "%s '%s': expected a whole number in %lu..%lu", opt, s, lo, hi);
		return -1;
	}
	return 0;
}

static void list_profiles(void)
{
	printf("profiles:\n");
	for (size_t i = 0; blt_profile_at(i); i++) {
		const blt_profile_t *p = blt_profile_at(i);
		printf("  %-12s %-14s preset %-6s %s\n", p->id, p->name,
		       p->preset ? p->preset : "-", p->description ? p->description : "");
	}
	printf("presets:\n");
	for (size_t i = 0; i < blt_wire_preset_count(); i++) {
		const blt_wire_preset_t *w = blt_wire_preset_at(i);
		printf("  %-8s device listens on %-18s replies on %-18s %s\n", w->name,
		       w->pub_topic, w->sub_topic, w->desc ? w->desc : "");
	}
}

static int file_readable(const char *opt, const char *path)
{
	if (path && access(path, R_OK) != 0) {
		say(0, "%s '%s': %s", opt, path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Whole-number options: name and accepted range; store_number() says where they go. */
static const struct number_opt {
	int opt;
	const char *name;
	unsigned long lo, hi;
} number_opts[] = {
    {OPT_COUNT, "--count", 1, MAX_DEVICES},
    {OPT_SLAVE, "--slave", 0, 247},
    {OPT_TICK, "--tick", 10, 3600000},
    {OPT_SOC, "--soc", 1, 100},
    {OPT_PACKS, "--packs", 0, SIM_MAX_PACKS},
    {OPT_SEED, "--seed", 0, 0xffffffffu},
    {OPT_DELAY, "--delay", 0, 600000},
    {OPT_SILENT_AFTER, "--silent-after", 0, 1000000000ul},
    {OPT_UNSOLICITED, "--unsolicited", 10, 3600000},
    {OPT_DISCONNECT_AFTER, "--disconnect-after", 1, 1000000000ul},
    {OPT_SILENT_FOR, "--silent-for", 1, 86400},
};

static void store_number(app_t *a, int opt, unsigned long v)
{
	switch (opt) {
	case OPT_COUNT: a->count = v; break;
	case OPT_SLAVE: a->so.slave = (int)v; break;
	case OPT_TICK: a->tick_ms = (unsigned)v; break;
	case OPT_SOC: a->so.start_soc = (double)v; break;
	case OPT_PACKS: a->so.packs = (unsigned)v; break;
	case OPT_SEED: a->so.seed = (uint32_t)v; break;
	case OPT_DELAY: a->f.delay_ms = (unsigned)v; break;
	case OPT_SILENT_AFTER: a->f.silent_after = (long)v; break;
	case OPT_UNSOLICITED: a->f.unsolicited_ms = (unsigned)v; break;
	case OPT_DISCONNECT_AFTER: a->f.disconnect_after = (long)v; break;
	case OPT_SILENT_FOR: a->f.silent_for_s = (unsigned)v; break;
	default: break;
	}
}

/* Fault probabilities (0..1): the option's name and the field it sets. */
static double *prob_field(app_t *a, int opt, const char **name)
{
	switch (opt) {
	case OPT_DROP: *name = "--drop"; return &a->f.drop;
	case OPT_CORRUPT: *name = "--corrupt-crc"; return &a->f.corrupt_crc;
	case OPT_WRONG_BLOCK: *name = "--wrong-block"; return &a->f.wrong_block;
	case OPT_TRUNCATE: *name = "--truncate"; return &a->f.truncate;
	case OPT_DUPLICATE: *name = "--duplicate"; return &a->f.duplicate;
	default: return NULL;
	}
}

/* A number or probability option: 1 taken, 0 not such an option, -1 bad value. */
static int valued_option(app_t *a, int opt, const char *arg)
{
	const char *name;
	double *p = prob_field(a, opt, &name);
	if (p)
		return parse_prob(name, arg, p) ? -1 : 1;
	for (size_t i = 0; i < sizeof number_opts / sizeof number_opts[0]; i++) {
		const struct number_opt *n = &number_opts[i];
		unsigned long v;
		if (n->opt != opt)
			continue;
		if (parse_ul(n->name, arg, n->lo, n->hi, &v))
			return -1;
		store_number(a, opt, v);
		return 1;
	}
	return 0;
}

static int parse_rssi(app_t *a, const char *arg)
{
	char *end;
	long r;
	errno = 0;
	r = strtol(arg, &end, 10);
	if (errno || end == arg || *end || r < -127 || r > 0) {
		say(0, "--rssi '%s': expected dBm between -127 and 0", arg);
		return -1;
	}
	a->rssi = (int)r;
	return 0;
}

static int parse_speed(app_t *a, const char *arg)
{
	char *end;
	errno = 0;
	a->so.speed = strtod(arg, &end);
	if (errno || end == arg || *end || !(a->so.speed > 0 && a->so.speed <= 1e6)) {
		say(0, "--speed '%s': expected a factor > 0 (at most 1e6)", arg);
		return -1;
	}
	return 0;
}

static int parse_local_access(app_t *a, const char *arg)
{
	static const struct {
		const char *name;
		int mode;
	} modes[] = {
	    {"none", SIM_LOCAL_NONE},
	    {"off", SIM_LOCAL_OFF},
	    {"modbus-tcp", SIM_LOCAL_TCP},
	    {"mqtt", SIM_LOCAL_MQTT},
	};
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
		if (!strcmp(arg, modes[i].name)) {
			a->so.local_access = modes[i].mode;
			return 0;
		}
	say(0, "--local-access '%s': expected none, off, modbus-tcp or mqtt", arg);
	return -1;
}

/* Applies one option that is not a connection option: -1 to go on, else an exit status. */
static int sim_option(app_t *a, int c, char **argv)
{
	int r = valued_option(a, c, optarg);
	if (r)
		return r < 0 ? EXIT_USAGE : -1;
	switch (c) {
	case OPT_PROFILE: a->profile_name = optarg; break;
	case OPT_SN: a->sn_text = optarg; break;
	case OPT_PRESET: a->preset_name = optarg; break;
	case OPT_MODEL: a->so.model = optarg; break;
	case OPT_RSSI: return parse_rssi(a, optarg) ? EXIT_USAGE : -1;
	case OPT_SPEED: return parse_speed(a, optarg) ? EXIT_USAGE : -1;
	case OPT_HUB: a->so.hub = true; break;
	case OPT_READY: a->ready_file = optarg; break;
	case OPT_LIST: list_profiles(); return 0;
	case OPT_SILENT: a->f.silent = true; break;
	case OPT_SHORT: a->so.short_replies = true; break;
	case OPT_REFUSE: a->so.refuse_writes = true; break;
	case OPT_IGNORE: a->so.ignore_writes = true; break;
	case OPT_MAX_READ:
		if (parse_lens("--max-read", optarg, a->so.max_read, &a->so.nmax_read))
			return EXIT_USAGE;
		break;
	case OPT_REPLY_REGS:
		if (parse_lens("--reply-regs", optarg, a->so.reply_regs, &a->so.nreply_regs))
			return EXIT_USAGE;
		break;
	case OPT_BUSY_ONCE: a->so.busy_once = true; break;
	case OPT_LOCAL_ACCESS: return parse_local_access(a, optarg) ? EXIT_USAGE : -1;
	case OPT_CYCLE_COUNTER: a->f.cycle_counter = true; break;
	case 'v': a->verbose++; break;
	case 'q': a->verbose = -1; break;
	case 'V': printf(PROG " %s\n", blt_version()); return 0;
	case 'h': usage(stdout); return 0;
	case ':':
		say(0, "option '%s' needs a value (see --help)", argv[optind - 1]);
		return EXIT_USAGE;
	default:
		if (cli_getopt_reported)
			return EXIT_USAGE; /* said already */
		/* named by the option only: a value glued to it may be a secret */
		say(0, "unknown option '%.*s' (see --help)", (int)strcspn(argv[optind - 1], "="),
		    argv[optind - 1]);
		return EXIT_USAGE;
	}
	return -1;
}

/* Checks the options together and resolves profile and preset: -1 to go on, else 2. */
static int check_args(app_t *a)
{
	if (!a->broker_given) {
		say(0, "--broker HOST:PORT is required (see --help)");
		return EXIT_USAGE;
	}
	if (!a->conn.plain && !a->conn.cert_file) {
		say(0, "--cert FILE.pfx is required for TLS (or --plain for a broker without TLS)");
		return EXIT_USAGE;
	}
	if (file_readable("--cert", a->conn.cert_file) ||
	    file_readable("--cert-password-file", a->conn.cert_password_file) ||
	    file_readable("--ca", a->conn.ca_file) ||
	    file_readable("--password-file", a->conn.password_file))
		return EXIT_USAGE;
	if (a->f.silent_for_s && a->f.silent) {
		say(0, "--silent-for and --silent exclude each other (--silent is forever)");
		return EXIT_USAGE;
	}
	if (a->so.refuse_writes && a->so.ignore_writes) {
		say(0, "--refuse-writes and --ignore-writes exclude each other");
		return EXIT_USAGE;
	}
	a->so.profile = blt_profile_find(a->profile_name);
	if (!a->so.profile) {
		say(0, "--profile '%s': unknown profile (see --list-profiles)", a->profile_name);
		return EXIT_USAGE;
	}
	if (a->preset_name) {
		a->so.preset = blt_wire_preset_find(a->preset_name);
		if (!a->so.preset) {
			say(0, "--preset '%s': unknown wire preset (see --list-profiles)",
			    a->preset_name);
			return EXIT_USAGE;
		}
	}
	if (!a->so.model && !a->so.profile->model) {
		say(0, "profile %s has no model code: give --model", a->so.profile->id);
		return EXIT_USAGE;
	}
	if (a->so.model && !blt_topic_model_ok(a->so.model)) {
		say(0, "--model '%s': printable, spaces inside allowed, no '/', '+', '#' (max 64)",
		    a->so.model);
		return EXIT_USAGE;
	}
	return -1;
}

/* Returns -1 to continue, else an exit status. */
static int parse_args(app_t *a, int argc, char **argv)
{
	static const struct option longopts[] = {
	    CONN_LONG_OPTIONS,
	    {"profile", required_argument, NULL, OPT_PROFILE},
	    {"sn", required_argument, NULL, OPT_SN},
	    {"count", required_argument, NULL, OPT_COUNT},
	    {"preset", required_argument, NULL, OPT_PRESET},
	    {"model", required_argument, NULL, OPT_MODEL},
	    {"slave", required_argument, NULL, OPT_SLAVE},
	    {"rssi", required_argument, NULL, OPT_RSSI},
	    {"speed", required_argument, NULL, OPT_SPEED},
	    {"tick", required_argument, NULL, OPT_TICK},
	    {"seed", required_argument, NULL, OPT_SEED},
	    {"soc", required_argument, NULL, OPT_SOC},
	    {"packs", required_argument, NULL, OPT_PACKS},
	    {"hub", no_argument, NULL, OPT_HUB},
	    {"ready-file", required_argument, NULL, OPT_READY},
	    {"list-profiles", no_argument, NULL, OPT_LIST},
	    {"drop", required_argument, NULL, OPT_DROP},
	    {"corrupt-crc", required_argument, NULL, OPT_CORRUPT},
	    {"delay", required_argument, NULL, OPT_DELAY},
	    {"silent", no_argument, NULL, OPT_SILENT},
	    {"silent-after", required_argument, NULL, OPT_SILENT_AFTER},
	    {"unsolicited", required_argument, NULL, OPT_UNSOLICITED},
	    {"short-replies", no_argument, NULL, OPT_SHORT},
	    {"disconnect-after", required_argument, NULL, OPT_DISCONNECT_AFTER},
	    {"refuse-writes", no_argument, NULL, OPT_REFUSE},
	    {"ignore-writes", no_argument, NULL, OPT_IGNORE},
	    {"silent-for", required_argument, NULL, OPT_SILENT_FOR},
	    {"wrong-block", required_argument, NULL, OPT_WRONG_BLOCK},
	    {"truncate", required_argument, NULL, OPT_TRUNCATE},
	    {"duplicate", required_argument, NULL, OPT_DUPLICATE},
	    {"max-read", required_argument, NULL, OPT_MAX_READ},
	    {"reply-regs", required_argument, NULL, OPT_REPLY_REGS},
	    {"busy-once", no_argument, NULL, OPT_BUSY_ONCE},
	    {"local-access", required_argument, NULL, OPT_LOCAL_ACCESS},
	    {"cycle-counter", no_argument, NULL, OPT_CYCLE_COUNTER},
	    {"verbose", no_argument, NULL, 'v'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	while ((c = cli_getopt_long(argc, argv, ":vqVh", longopts, NULL)) != -1) {
		int r = conn_args_handle(&a->conn, c, optarg, PROG);
		if (r < 0)
			return EXIT_USAGE;
		if (r > 0) {
			if (c == CONN_OPT_BROKER)
				a->broker_given = true;
			continue;
		}
		if ((r = sim_option(a, c, argv)) >= 0)
			return r;
	}
	say_verbose = a->verbose;
	if (optind < argc) {
		say(0, "unexpected argument '%s' (see --help)", argv[optind]);
		return EXIT_USAGE;
	}
	return check_args(a);
}

static int parse_sn(const char *s, unsigned long count, uint64_t *out)
{
	uint64_t v = 0;
	size_t n = strlen(s);
	if (n == 0 || n > 19) {
		say(0, "--sn '%s': expected 1-19 decimal digits", s);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9') {
			say(0,
			    "--sn '%s': expected decimal digits (the device serial is a 64-bit "
			    "number)",
			    s);
			return -1;
		}
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT64_MAX - count) {
		say(0, "--sn '%s': too large for --count %lu", s, count);
		return -1;
	}
	*out = v;
	return 0;
}

/* ---- wire ------------------------------------------------------------------------------ */

static int8_t rssi_now(app_t *a)
{
	int r = a->rssi + (int)lround((sim_rand(&a->rng) - 0.5) * 6.0);
	return (int8_t)(r < -127 ? -127 : r > 0 ? 0 : r);
}

static void publish(app_t *a, sim_device_t *dev, const uint8_t *payload, size_t len)
{
	blt_detail_t d = {{0}};
	int rc = blt_transport_publish(a->t, dev->reply_topic, payload, len, 1, false, &d);
	if (rc) {
		say(1, "%s: publish on %s failed: %s: %s", dev->sn, dev->reply_topic,
		    blt_strerror(rc), d.text);
		return;
	}
	a->sent++;
	dev->replies++;
	a->replies_conn++;
	if (a->f.disconnect_after > 0 && a->replies_conn >= (uint64_t)a->f.disconnect_after)
		a->want_disconnect = true;
}

static void flush_queue(app_t *a, uint64_t now)
{
	while (a->qlen > 0) {
		pending_t *p = &a->queue[a->qhead];
		if (p->due > now)
			break;
		publish(a, p->dev, p->payload, p->len);
		a->qhead = (a->qhead + 1) % QUEUE_LEN;
		a->qlen--;
	}
}

/* ---- faults (reliability): --silent-for, --wrong-block, --truncate, --duplicate --------- */

static size_t dev_index(const app_t *a, const sim_device_t *dev)
{
	return (size_t)(dev - a->devs);
}

/* True while dev must not answer: --silent-after N reached (forever, or for --silent-for
 * seconds from the moment it began), or the first --silent-for seconds without
 * --silent-after. */
static bool silenced(app_t *a, sim_device_t *dev)
{
	uint64_t now = blt_now_ms(), *end;
	bool begun = a->f.silent_after < 0 || dev->answered >= (uint64_t)a->f.silent_after;
	if (!begun)
		return false;
	if (!a->f.silent_for_s)
		return a->f.silent_after >= 0;
	end = &a->silence_end[dev_index(a, dev)];
	if (*end == UINT64_MAX) /* one window per run, and it is over */
		return false;
	if (*end == 0) {
		uint64_t from = a->f.silent_after < 0 ? a->started_ms : now;
		*end = from + (uint64_t)a->f.silent_for_s * 1000u;
		say(2, "%s: silent for %u s (--silent-for)", dev->sn, a->f.silent_for_s);
	}
	if (now < *end)
		return true;
	say(2, "%s: answering again after %u s of silence", dev->sn, a->f.silent_for_s);
	*end = UINT64_MAX;
	return false;
}

/* --wrong-block: before a read reply, publish the reply to a read of another block, as
 * when another client (the phone app) polls the same device: the device answers every
 * request on the same topic, FC03 replies carry no register and the AP300 leaves the
 * envelope register 0, so only its length and timing tell it apart. */
static bool wrong_block(app_t *a, sim_device_t *dev, const sim_reply_t *r, uint8_t *rtu, size_t cap,
                        size_t *rtu_len)
{
	size_t pick, tries;
	if (a->f.wrong_block <= 0 || r->rtu_len < 5 || r->rtu[1] != BLT_FC_READ)
		return false;
	if (sim_rand(&a->rng) >= a->f.wrong_block)
		return false;
	pick = (size_t)(sim_rand(&a->rng) * (double)dev->nregions);
	for (tries = 0; tries < dev->nregions; tries++, pick = (pick + 1) % dev->nregions) {
		const sim_region_t *g = &dev->regions[pick];
		const blt_block_t *b = g->block ? blt_catalog_find(g->start) : NULL;
		size_t n = b ? b->regs : 0; /* what a client reads of that block */
		if (n > g->count)
			n = g->count;
		if (!b || (r->reg >= g->start && r->reg < g->start + g->count) || n == 0)
			continue;
		if (blt_rtu_build_read_reply(dev->slave, g->bytes, 2u * n, rtu, cap, rtu_len) !=
		    BLT_OK)
			return false;
		a->wrong++;
		say(3,
		    "%s: read at %u preceded by a reply with %zu registers of block %u "
		    "(--wrong-block)",
		    dev->sn, r->reg, n, g->start);
		return true;
	}
	return false;
}

/* --truncate: cut the payload to a random length in 1..len-1. */
static size_t truncate_reply(app_t *a, sim_device_t *dev, size_t len)
{
	size_t n;
	if (a->f.truncate <= 0 || len < 2 || sim_rand(&a->rng) >= a->f.truncate)
		return len;
	n = 1 + (size_t)(sim_rand(&a->rng) * (double)(len - 1));
	if (n >= len)
		n = len - 1;
	a->truncated++;
	say(3, "%s: reply of %zu bytes truncated to %zu (--truncate)", dev->sn, len, n);
	return n;
}

/* --duplicate: publish this reply a second time, as a QoS 1 redelivery would. */
static bool duplicate_reply(app_t *a, sim_device_t *dev)
{
	if (a->f.duplicate <= 0 || sim_rand(&a->rng) >= a->f.duplicate)
		return false;
	a->duplicated++;
	say(3, "%s: reply published twice (--duplicate)", dev->sn);
	return true;
}

/* Bytes 3-4 of a V2 reply envelope (blt_env_wrap writes them big-endian): 0, or with
 * --cycle-counter the next cycle number stored little-endian. */
static uint16_t envelope_reg(app_t *a)
{
	uint16_t n;
	if (!a->f.cycle_counter)
		return 0;
	n = ++a->cycle;
	return (uint16_t)(n << 8 | n >> 8);
}

static void on_message(void *user, const char *topic, const uint8_t *payload, size_t len,
                       bool retained)
{
	sim_device_t *dev = user;
	app_t *a = dev->user;
	sim_reply_t r;
	uint8_t out[BLT_PAYLOAD_MAX];
	size_t olen;
	sim_action_t act;

	(void)topic;
	if (retained) {
		say(3, "%s: ignored a retained message (%zu bytes)", dev->sn, len);
		return;
	}
	/* --silent / --silent-after / --drop lose the request itself: nothing is applied */
	if (a->f.silent || silenced(a, dev)) {
		say(3, "%s: request of %zu bytes ignored (silent)", dev->sn, len);
		return;
	}
	if (a->f.drop > 0 && sim_rand(&a->rng) < a->f.drop) {
		a->dropped++;
		say(3, "%s: request of %zu bytes dropped", dev->sn, len);
		return;
	}
	act = sim_handle(dev, payload, len, &r);
	if (act != SIM_REPLY) {
		say(3, "%s: %s", dev->sn, r.summary);
		return;
	}
	dev->answered++;
	{
		uint8_t srtu[BLT_RTU_MAX], sout[BLT_PAYLOAD_MAX];
		size_t slen, solen;
		if (wrong_block(a, dev, &r, srtu, sizeof srtu, &slen) &&
		    blt_env_wrap((blt_envelope_t)dev->envelope, envelope_reg(a), rssi_now(a), srtu,
		                 slen, sout, sizeof sout, &solen) == BLT_OK)
			publish(a, dev, sout, solen);
	}
	if (a->f.corrupt_crc > 0 && sim_rand(&a->rng) < a->f.corrupt_crc && r.rtu_len >= 2) {
		r.rtu[r.rtu_len - 1] ^= 0x5a;
		a->corrupted++;
		say(3, "%s: %s (CRC corrupted)", dev->sn, r.summary);
	} else {
		say(3, "%s: %s", dev->sn, r.summary);
	}
	/* V2 replies carry zero in bytes 3-4 like the live AP300 captures (§1.10), or with
	 * --cycle-counter the firmware's little-endian cycle counter (LOCAL.md §5 item 4) */
	if (blt_env_wrap((blt_envelope_t)dev->envelope, envelope_reg(a), rssi_now(a), r.rtu,
	                 r.rtu_len, out, sizeof out, &olen) != BLT_OK)
		return;
	olen = truncate_reply(a, dev, olen);
	if (a->f.delay_ms == 0) {
		publish(a, dev, out, olen);
		if (duplicate_reply(a, dev))
			publish(a, dev, out, olen);
		return;
	}
	if (a->qlen == QUEUE_LEN) {
		say(1, "%s: reply queue full, reply dropped", dev->sn);
		return;
	}
	for (int copy = 0; copy < 2 && a->qlen < QUEUE_LEN; copy++) {
		pending_t *p = &a->queue[(a->qhead + a->qlen) % QUEUE_LEN];
		p->due = blt_now_ms() + a->f.delay_ms;
		p->dev = dev;
		memcpy(p->payload, out, olen);
		p->len = olen;
		a->qlen++;
		if (copy == 0 && !duplicate_reply(a, dev))
			break;
	}
}

static void push_all(app_t *a)
{
	for (size_t i = 0; i < a->ndevs; i++) {
		sim_device_t *dev = &a->devs[i];
		uint8_t rtu[BLT_RTU_MAX], out[BLT_PAYLOAD_MAX];
		size_t rlen, olen;
		uint16_t start;
		blt_detail_t d = {{0}};
		if (sim_build_push(dev, rtu, sizeof rtu, &rlen, &start) != BLT_OK)
			continue;
		if (blt_env_wrap((blt_envelope_t)dev->envelope, envelope_reg(a), rssi_now(a), rtu,
		                 rlen, out, sizeof out, &olen) != BLT_OK)
			continue;
		if (blt_transport_publish(a->t, dev->reply_topic, out, olen, 1, false, &d) ==
		    BLT_OK) {
			a->pushes++;
			say(4, "%s: pushed block %u (%zu bytes)", dev->sn, start, olen);
		}
	}
}

static void on_connection(void *user, bool connected, int err)
{
	app_t *a = user;
	if (connected) {
		a->replies_conn = 0;
		say(3, "connected to %s:%u", a->conn.host, a->conn.port);
	} else if (a->quiet_disconnect) {
		say(3, "disconnected from %s:%u", a->conn.host, a->conn.port);
	} else {
		say(1, "connection to %s:%u lost (%s); reconnecting", a->conn.host, a->conn.port,
		    blt_strerror(err));
	}
}

static int listen_all(app_t *a, blt_detail_t *d)
{
	for (size_t i = 0; i < a->ndevs; i++) {
		int rc =
		    blt_transport_listen(a->t, a->devs[i].req_topic, on_message, &a->devs[i], d);
		if (rc)
			return rc;
	}
	return BLT_OK;
}

static int write_ready(const char *path)
{
	char tmp[4096];
	FILE *f;
	if (!path)
		return 0;
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0 ||
	    rename(tmp, path) != 0) {
		say(0, "--ready-file '%s': %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* Drop the connection and bring it back (--disconnect-after). */
static void bounce(app_t *a, bool drop)
{
	blt_detail_t d = {{0}};
	int rc;
	a->want_disconnect = false;
	if (drop) {
		say(2, "dropping the MQTT connection after %llu replies (--disconnect-after)",
		    (unsigned long long)a->replies_conn);
		a->quiet_disconnect = true;
		blt_transport_disconnect(a->t);
		a->quiet_disconnect = false;
		a->replies_conn = 0;
	}
	rc = blt_transport_connect(a->t, &d);
	if (rc) {
		say(1, "reconnect failed: %s: %s (will retry)", blt_strerror(rc), d.text);
		a->retry_connect_at = blt_now_ms() + 1000;
		return;
	}
	a->retry_connect_at = 0;
	say(2, "reconnected");
}

static int run(app_t *a)
{
	uint64_t now = blt_now_ms();
	uint64_t next_tick = now + a->tick_ms;
	uint64_t next_push = a->f.unsolicited_ms ? now + a->f.unsolicited_ms : UINT64_MAX;
	uint64_t last_tick = now;
	bool was_down = false;

	while (!stop_signal) {
		blt_detail_t d = {{0}};
		uint64_t next, wait;
		int rc;

		now = blt_now_ms();
		if (now >= next_tick) {
			double dt = (double)(now - last_tick) / 1000.0;
			for (size_t i = 0; i < a->ndevs; i++)
				sim_device_tick(&a->devs[i], dt);
			last_tick = now;
			next_tick += a->tick_ms;
			if (next_tick <= now) /* stalled: do not try to catch up */
				next_tick = now + a->tick_ms;
		}
		if (now >= next_push) {
			push_all(a);
			next_push += a->f.unsolicited_ms;
			if (next_push <= now)
				next_push = now + a->f.unsolicited_ms;
		}
		flush_queue(a, now);
		if (a->want_disconnect)
			bounce(a, true);
		else if (a->retry_connect_at && now >= a->retry_connect_at)
			bounce(a, false);

		next = next_tick < next_push ? next_tick : next_push;
		if (a->qlen && a->queue[a->qhead].due < next)
			next = a->queue[a->qhead].due;
		wait = next > now ? next - now : 0;
		if (wait > 100)
			wait = 100;
		rc = blt_transport_poll(a->t, (int)wait, &d);
		if (rc == BLT_E_DISCONNECTED) {
			if (!was_down)
				say(1, "broker unreachable: %s (retrying)",
				    d.text[0] ? d.text : "");
			was_down = true;
			if (!blt_transport_connected(a->t) && wait == 0)
				usleep(10000);
		} else if (rc) {
			say(0, "transport: %s: %s", blt_strerror(rc), d.text);
			return EXIT_FAIL;
		} else if (was_down) {
			say(2, "broker reachable again");
			was_down = false;
		}
	}
	say(2,
	    "signal %d: stopping (%llu replies sent, %llu dropped, %llu corrupted, %llu "
	    "pushes, %llu wrong block, %llu truncated, %llu duplicated)",
	    (int)stop_signal, (unsigned long long)a->sent, (unsigned long long)a->dropped,
	    (unsigned long long)a->corrupted, (unsigned long long)a->pushes,
	    (unsigned long long)a->wrong, (unsigned long long)a->truncated,
	    (unsigned long long)a->duplicated);
	return 0;
}

int main(int argc, char **argv)
{
	static app_t app;
	app_t *a = &app;
	blt_detail_t d = {{0}};
	struct sigaction sa;
	uint64_t sn0;
	int rc;

	/* `bluetti-sim --cloud ...`: the simulated account API instead (cloud.c) */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--cloud") == 0)
			return sim_cloud_main(argc, argv);
	/* `bluetti-sim --modbus-tcp PORT ...`: one device as a Modbus TCP server (mbtcp.c) */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--modbus-tcp") == 0)
			return sim_mbtcp_main(argc, argv);
	/* `bluetti-sim --local-mqtt BROKER ...`: one device as the MQTT client of the owner's
	 * broker (localmqtt.c) */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--local-mqtt") == 0 ||
		    strncmp(argv[i], "--local-mqtt=", 13) == 0)
			return sim_localmqtt_main(argc, argv);
	/* `bluetti-sim --ble ...`: one device behind a BlueZ imitation on D-Bus (ble.c) */
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--ble") == 0)
			return sim_ble_main(argc, argv);

	conn_args_init(&a->conn);
	a->profile_name = "EL100V2";
	a->sn_text = "2434000112345";
	a->count = 1;
	a->rssi = -60;
	a->tick_ms = 1000;
	a->so.slave = -1;
	a->so.speed = 1.0;
	a->so.seed = (uint32_t)time(NULL) ^ (uint32_t)getpid() << 16;
	a->f.silent_after = -1;
	a->f.disconnect_after = -1;

	rc = parse_args(a, argc, argv);
	if (rc >= 0)
		return rc;
	if (parse_sn(a->sn_text, a->count, &sn0))
		return EXIT_USAGE;
	a->rng = a->so.seed ? a->so.seed : 1;
	blt_log_set_handler(lib_log, NULL,
	                    a->verbose >= 2   ? BLT_LOG_DEBUG
	                    : a->verbose == 1 ? BLT_LOG_INFO
	                                      : BLT_LOG_WARN);

	a->devs = calloc(a->count, sizeof *a->devs);
	a->queue = calloc(QUEUE_LEN, sizeof *a->queue);
	a->silence_end = calloc(a->count, sizeof *a->silence_end);
	a->started_ms = blt_now_ms();
	if (!a->devs || !a->queue || !a->silence_end) {
		say(0, "out of memory for %lu devices", a->count);
		return EXIT_FAIL;
	}
	for (size_t i = 0; i < a->count; i++) {
		rc = sim_device_init(&a->devs[i], &a->so, sn0 + i, &d);
		if (rc) {
			say(0, "device %llu: %s: %s", (unsigned long long)(sn0 + i),
			    blt_strerror(rc), d.text);
			return rc == BLT_E_SERIAL || rc == BLT_E_INVAL ? EXIT_USAGE : EXIT_FAIL;
		}
		a->devs[i].user = a;
	}
	a->ndevs = a->count;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (a->conn.client_id == NULL) {
		static char cid[64];
		snprintf(cid, sizeof cid, "bluetti-sim-%s-%ld", a->devs[0].sn, (long)getpid());
		a->conn.client_id = cid;
	}
	rc = conn_open(&a->conn, PROG, &a->t, &d);
	if (rc) {
		conn_args_free(&a->conn);
		return rc == BLT_E_CONFIG ? EXIT_USAGE : EXIT_FAIL;
	}
	blt_transport_on_connection(a->t, on_connection, a);
	rc = listen_all(a, &d);
	if (rc) {
		say(0, "subscribe failed: %s: %s", blt_strerror(rc), d.text);
		blt_transport_free(a->t);
		conn_args_free(&a->conn);
		return EXIT_FAIL;
	}
	say(2, "%zu x %s (%s preset, slave %u) on %s:%u: listening on %s%s", a->ndevs,
	    a->so.profile->id, a->so.preset ? a->so.preset->name : a->so.profile->preset,
	    a->devs[0].slave, a->conn.host, a->conn.port, a->devs[0].req_topic,
	    a->ndevs > 1 ? " ..." : "");
	if (write_ready(a->ready_file)) {
		rc = EXIT_FAIL;
	} else {
		rc = run(a);
	}
	a->quiet_disconnect = true;
	for (size_t i = 0; i < a->ndevs; i++)
		blt_transport_unlisten(a->t, a->devs[i].req_topic);
	blt_transport_disconnect(a->t);
	blt_transport_free(a->t);
	conn_args_free(&a->conn);
	if (a->ready_file)
		unlink(a->ready_file);
	free(a->devs);
	free(a->queue);
	free(a->silence_end);
	return rc;
}
