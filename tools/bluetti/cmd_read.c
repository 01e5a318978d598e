/* Commands that talk to a device: read, watch, dump, check, nodes. */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bluetti/bluetti.h>
#include <bluetti/client.h>
#include <bluetti/device.h>

#include "account.h"
#include "cli.h"
#include "common.h"
#include "conn.h"
#include "session.h"

enum { MODE_READ, MODE_WATCH, MODE_DUMP, MODE_CHECK, MODE_NODES };

enum {
	OPT_BLOCK = 0x2000,
	OPT_GROUP,
	OPT_REGS,
	OPT_JSON,
	OPT_ALL,
	OPT_SHOW_SECRETS,
	OPT_INTERVAL,
	OPT_COUNT,
	OPT_VERBOSE,
	OPT_HELP,
	OPT_NODE,
};

#define MAX_READS 32

typedef struct read_args {
	dev_args_t dev;
	int regs;
	int json, all, show_secrets, verbose;
	double interval_s;
	long count;
	uint16_t blocks[MAX_READS];
	size_t nblocks;
	const char *groups_arg;
	int node; /* --node SLAVE: read at that node's slave address; -1 = the device's */
} read_args_t;

static const char *mode_name[] = {"read", "watch", "dump", "check", "nodes"};

/* Monotonic microseconds, for the timing table of `check`. */
static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void log_to_stderr(blt_log_level_t level, const char *msg, void *user)
{
	static const char *names[] = {"error", "warning", "info", "debug"};
	(void)user;
	fprintf(stderr, "bluetti: %s: %s\n", names[level], msg);
}

static void usage(int mode, FILE *out)
{
	switch (mode) {
	case MODE_READ:
		fprintf(out, "usage: bluetti read --profile MODEL --sn SN (--block N | --group G) "
		             "[options]\n\nRead blocks from a device over MQTT and print them "
		             "decoded.\n\n");
		break;
	case MODE_WATCH:
		fprintf(out, "usage: bluetti watch --profile MODEL --sn SN (--block N | --group G) "
		             "[--interval S] [options]\n\nRead repeatedly; one line (or one JSON "
		             "object) per block and read. Ctrl-C stops.\n\n");
		break;
	case MODE_DUMP:
		fprintf(out, "usage: bluetti dump --profile MODEL --sn SN --block N [options]\n\n"
		             "Read and print the raw reply (register data) as hex. Credential\n"
		             "blocks (2200, 12002) are masked unless --show-secrets.\n\n");
		break;
	case MODE_NODES:
		fprintf(out, "usage: bluetti nodes --profile MODEL --sn SN [options]\n\n"
		             "List the nodes of the system (block 21000 NODE_INFO): the power\n"
		             "station, hubs and expansion batteries, each with its slave address.\n"
		             "Read a node's blocks with `bluetti read --node SLAVE ...`.\n\n");
		break;
	case MODE_CHECK:
		fprintf(out,
		        "usage: bluetti check --profile MODEL --sn SN [options]\n\n"
		        "End-to-end check: connect, read grid block 1300, decode and validate\n"
		        "(frequency 45-55 Hz, voltage 200-250 V, current 0-20 A, power within\n"
		        "10%% of V x I); prints the values and a timing table. Exit status 0\n"
		        "only if every check passed.\n\n");
		break;
	}
	dev_args_help(out, 1);
	if (mode != MODE_CHECK && mode != MODE_NODES)
		fprintf(
		    out,
		    "what:\n"
		    "  -b, --block N[,N...]      block id(s); see `bluetti blocks`\n"
		    "  -g, --group G[,G...]      profile group(s): core, grid, battery, cells,\n"
		    "                            inverter, settings\n"
		    "      --regs N              request exactly N registers (default: the\n"
		    "                            profile's, shorter if the device refuses it; "
		    "what\n"
		    "                            works is kept per serial, see -v)\n"
		    "      --node SLAVE          read at a node's slave address, e.g. a battery\n"
		    "                            pack (see `bluetti nodes`)\n");
	if (mode == MODE_WATCH)
		fprintf(
		    out,
		    "  -i, --interval S          seconds between reads (default 5)\n"
		    "  -n, --count N             stop after N rounds (default: until Ctrl-C)\n");
	fprintf(out,
	        "output:\n"
	        "  -j, --json                JSON (one object per block)\n"
	        "  -a, --all                 also list missing / gated fields with the reason\n"
	        "      --show-secrets        show credential fields\n"
	        "  -v, --verbose             log protocol details and the read lengths\n"
	        "                            learned for each block to stderr\n"
	        "  -h, --help                this help\n");
	conn_args_help(out);
	fprintf(out,
	        "\nexample: bluetti %s --profile EL100V2 --sn 2434000112345 --broker "
	        "localhost:8883 \\\n           --cert client.pfx --cert-password-file pass "
	        "--ca ca.pem%s\n",
	        mode_name[mode], mode == MODE_CHECK || mode == MODE_NODES ? "" : " --group grid");
}

static int add_blocks(read_args_t *a, const char *list)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", list);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned long id;
		if (cli_parse_ulong(tok, 0, 65535, &id) != 0 || a->nblocks >= MAX_READS)
			return -1;
		a->blocks[a->nblocks++] = (uint16_t)id;
	}
	return 0;
}

static int parse_args(int mode, int argc, char **argv, read_args_t *a)
{
	static const struct option opts[] = {
	    DEV_LONG_OPTIONS,
	    {"block", required_argument, NULL, OPT_BLOCK},
	    {"group", required_argument, NULL, OPT_GROUP},
	    {"regs", required_argument, NULL, OPT_REGS},
	    {"json", no_argument, NULL, OPT_JSON},
	    {"all", no_argument, NULL, OPT_ALL},
	    {"show-secrets", no_argument, NULL, OPT_SHOW_SECRETS},
	    {"interval", required_argument, NULL, OPT_INTERVAL},
	    {"count", required_argument, NULL, OPT_COUNT},
	    {"verbose", no_argument, NULL, OPT_VERBOSE},
	    {"help", no_argument, NULL, OPT_HELP},
	    {"node", required_argument, NULL, OPT_NODE},
	    {NULL, 0, NULL, 0},
	};
	static const char shortopts[] = "p:s:b:g:jai:n:vh";
	const char *prog = mode_name[mode];
	int c;
	unsigned long v;

	memset(a, 0, sizeof *a);
	dev_args_init(&a->dev, 1);
	a->interval_s = 5;
	a->count = -1;
	a->node = -1;
	optind = 0;
	while ((c = cli_getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		int r = dev_args_handle(&a->dev, c, optarg, prog);
		if (r < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		switch (c) {
		case 'b':
		case OPT_BLOCK:
			if (add_blocks(a, optarg) != 0) {
				fprintf(stderr,
				        "bluetti %s: --block '%s': expected block numbers\n", prog,
				        optarg);
				return EXIT_USAGE;
			}
			break;
		case 'g':
		case OPT_GROUP: a->groups_arg = optarg; break;
		case OPT_REGS:
			if (cli_parse_ulong(optarg, 1, BLT_MAX_READ_REGS, &v) != 0) {
				fprintf(stderr, "bluetti %s: --regs must be 1-%d\n", prog,
				        BLT_MAX_READ_REGS);
				return EXIT_USAGE;
			}
			a->regs = (int)v;
			break;
		case 'j':
		case OPT_JSON: a->json = 1; break;
		case 'a':
		case OPT_ALL: a->all = 1; break;
		case OPT_SHOW_SECRETS: a->show_secrets = 1; break;
		case 'i':
		case OPT_INTERVAL: {
			char *end;
			a->interval_s = strtod(optarg, &end);
			if (*end || !(a->interval_s >= 0.1 && a->interval_s <= 86400)) {
				fprintf(stderr, "bluetti %s: --interval must be 0.1-86400 s\n",
				        prog);
				return EXIT_USAGE;
			}
			break;
		}
		case 'n':
		case OPT_COUNT:
			if (cli_parse_ulong(optarg, 1, 100000000, &v) != 0) {
				fprintf(stderr, "bluetti %s: --count must be a positive number\n",
				        prog);
				return EXIT_USAGE;
			}
			a->count = (long)v;
			break;
		case 'v':
		case OPT_VERBOSE: a->verbose = 1; break;
		case 'h':
		case OPT_HELP: usage(mode, stdout); return -1;
		case OPT_NODE:
			if (mode == MODE_CHECK || mode == MODE_NODES ||
			    cli_parse_ulong(optarg, 0, 247, &v) != 0) {
				fprintf(stderr, "bluetti %s: --node %s: %s\n", prog, optarg,
				        mode == MODE_CHECK || mode == MODE_NODES
				            ? "not an option of this command"
				            : "expected a slave address 0-247");
				return EXIT_USAGE;
			}
			a->node = (int)v;
			break;
		default: usage(mode, stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bluetti %s: unexpected argument '%s'\n", prog, argv[optind]);
		return EXIT_USAGE;
	}
	return dev_args_require(&a->dev, prog);
}

/* Resolve --block / --group into a.blocks, using the profile's groups. */
static int resolve_blocks(int mode, read_args_t *a, const blt_profile_t *p)
{
	const char *prog = mode_name[mode];
	if (mode == MODE_CHECK) {
		a->nblocks = 0;
		a->blocks[a->nblocks++] = 1300;
		return 0;
	}
	if (mode == MODE_NODES) {
		a->nblocks = 0;
		a->blocks[a->nblocks++] = BLT_NODE_INFO_BLOCK;
		return 0;
	}
	if (a->groups_arg) {
		char buf[256];
		snprintf(buf, sizeof buf, "%s", a->groups_arg);
		for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
		     tok = strtok_r(NULL, ",", &save)) {
			const blt_group_t *g = blt_profile_group(p, tok);
			if (!g) {
				fprintf(stderr,
				        "bluetti %s: profile %s has no group '%s' (groups:", prog,
				        p->id, tok);
				for (size_t i = 0; i < p->ngroups; i++)
					fprintf(stderr, " %s", p->groups[i].name);
				fprintf(stderr, ")\n");
				return EXIT_USAGE;
			}
			for (unsigned k = 0; k < g->nblocks && a->nblocks < MAX_READS; k++)
				a->blocks[a->nblocks++] = g->blocks[k];
		}
	}
	if (a->nblocks == 0) {
		fprintf(stderr, "bluetti %s: say what to read with --block N or --group G\n", prog);
		return EXIT_USAGE;
	}
	if (mode == MODE_DUMP)
		return 0; /* raw dumps of any register range are fine */
	for (size_t i = 0; i < a->nblocks; i++) {
		if (!blt_catalog_find(a->blocks[i])) {
			fprintf(stderr,
			        "bluetti %s: unknown block %u (see `bluetti blocks`; use "
			        "`bluetti dump` for raw registers)\n",
			        prog, a->blocks[i]);
			return EXIT_USAGE;
		}
	}
	return 0;
}

/* A profile without a protocol version (the generic one for unknown models): read it
 * from block 1 so fields gated on it decode right; without it nothing is gated. */
static void learn_protocol_version(int mode, session_t *s)
{
	const blt_block_t *b = blt_catalog_find(1);
	static blt_decoded_t r;
	uint8_t data[256];
	size_t n = 0;
	double pv;
	blt_detail_t d = {{0}};
	if (!b || blt_client_read_block(s->c, b->id, blt_profile_block_regs(s->p, b),
	                                blt_block_core_regs(b), data, sizeof data, &n, NULL,
	                                &d) != BLT_OK) {
		fprintf(stderr,
		        "bluetti %s: note: protocol version unknown (block 1: %s); no field "
		        "is gated on it\n",
		        mode_name[mode], d.text[0] ? d.text : "not read");
		return;
	}
	if (blt_decode(b, data, n, NULL, &r, &d) != BLT_E_INVAL &&
	    blt_decoded_num(&r, "protocol_version", &pv) && pv > 0 && pv < 65536)
		s->dopts.protocol_version = (uint16_t)pv;
}

static int session_open(int mode, read_args_t *a, session_t *s)
{
	int err = session_prepare(&a->dev, mode_name[mode], s);
	if (err)
		return err;
	s->dopts.show_secrets = a->show_secrets;
	err = resolve_blocks(mode, a, s->p);
	if (err)
		return err;
	err = session_connect(&a->dev, mode_name[mode], s);
	/* block 1 is not in the Modbus TCP open map: nothing to learn there */
	if (!err && !s->dopts.protocol_version && !s->mbtcp)
		learn_protocol_version(mode, s);
	return err;
}

/* -v: what the client knows of this block's read lengths (learned now or earlier, or the
 * profile's), so a user sees why fewer registers were asked or answered. */
static void report_lengths(int mode, session_t *s, uint16_t id, uint16_t asked, size_t nbytes)
{
	static const char *origin[] = {"learned now", "profile", "stored"};
	blt_read_len_t lens[64];
	size_t n = blt_client_read_lens(s->c, lens, 64);
	for (size_t i = 0; i < n && i < 64; i++) {
		const blt_read_len_t *l = &lens[i];
		if (l->start != id)
			continue;
		if (l->refused)
			fprintf(stderr,
			        "bluetti %s: block %u: the device refuses reads of %u registers "
			        "(exception 02) and accepts %u%s; asking %u of %u (%s, %u requests "
			        "spent finding it)\n",
			        mode_name[mode], id, l->refused, l->ok,
			        blt_read_len_settled(l) ? " (the longest that works)" : "",
			        blt_read_len_use(l, asked), asked, origin[l->origin % 3],
			        l->requests);
		if (l->reply)
			fprintf(
			    stderr,
			    "bluetti %s: block %u: the device answers %u registers to a read of "
			    "%u (%s)\n",
			    mode_name[mode], id, l->reply, l->reply_to, origin[l->origin % 3]);
	}
	if (nbytes)
		fprintf(stderr, "bluetti %s: block %u: %zu registers read\n", mode_name[mode], id,
		        nbytes / 2);
}

/* Read one block; on failure prints a one-line error naming the problem. */
static int read_block(int mode, read_args_t *a, session_t *s, uint16_t id, uint8_t *data,
                      size_t cap, size_t *n)
{
	const blt_block_t *b = blt_catalog_find(id);
	unsigned regs = a->regs ? (unsigned)a->regs : blt_profile_block_regs(s->p, b);
	blt_detail_t d = {{0}};
	int err;

	if (regs == 0) {
		fprintf(stderr, "bluetti %s: block %u is not in the catalog: give --regs N\n",
		        mode_name[mode], id);
		return BLT_E_UNKNOWN_BLOCK;
	}
	s->dopts.present = NULL;
	if (s->mbtcp && b && a->node < 0 && id != BLT_NODE_INFO_BLOCK) {
		/* Modbus TCP: only the open map's registers arrive; the others are reported
		 * as not delivered, never as the zeros in their place */
		unsigned got = 0;
		if (regs > BLT_MAX_READ_REGS)
			regs = BLT_MAX_READ_REGS;
		err = blt_client_read_mapped(s->c, id, (uint16_t)regs, data, cap, s->present,
		                             sizeof s->present, &got, &d);
		if (!err) {
			*n = 2u * regs;
			s->dopts.present = s->present;
			if (a->verbose)
				fprintf(stderr,
				        "bluetti %s: block %u: %u of %u registers are in the "
				        "Modbus TCP open map\n",
				        mode_name[mode], id, got, regs);
		}
	} else if (s->mbtcp && a->node >= 0) {
		err = blt_detail_set(&d, BLT_E_INVAL, "--node is not available over Modbus TCP");
	} else if (id == BLT_NODE_INFO_BLOCK) /* not an FC03 block: the query answers it */
		err = a->node >= 0 && a->node != blt_client_slave(s->c)
		          ? blt_detail_set(&d, BLT_E_INVAL,
		                           "NODE_INFO is asked of the power "
		                           "station, not of a node")
		          : blt_client_node_info(s->c, data, cap, n, &d);
	else if (a->node >= 0)
		err = blt_client_read_at(s->c, (uint8_t)a->node, id, (uint16_t)regs, data, cap, n,
		                         &d);
	else if (a->regs || !b) /* --regs N: exactly what was asked (a truncated required
	                            field fails) */
		err = blt_client_read(s->c, id, (uint16_t)regs, data, cap, n, &d);
	else {
		err = blt_client_read_block(s->c, id, (uint16_t)regs, blt_block_core_regs(b), data,
		                            cap, n, NULL, &d);
		if (a->verbose)
			report_lengths(mode, s, id, (uint16_t)regs, err ? 0 : *n);
	}
	if (err && a->node >= 0)
		fprintf(stderr, "bluetti %s: block %u at node %d: %s: %s\n", mode_name[mode], id,
		        a->node, blt_strerror(err), d.text);
	else if (err)
		fprintf(stderr, "bluetti %s: block %u: %s: %s\n", mode_name[mode], id,
		        blt_strerror(err), d.text);
	return err;
}

/* One compact line from the text formatter: "name=value unit, ...". */
static void print_line(const blt_decoded_t *r, const char *tag)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (!m)
		return;
	blt_format_text(r, 0, m);
	fclose(m);
	char ts[32];
	time_t now = time(NULL);
	struct tm tm;
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", localtime_r(&now, &tm));
	printf("%s %u%s%s", ts, r->block->id, tag ? " " : "", tag ? tag : "");
	for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *colon = strstr(line, ": ");
		if (!colon)
			continue;
		*colon = '\0';
		printf(" %s=%s", line, colon + 2);
	}
	printf("\n");
	fflush(stdout);
	free(buf);
}

static int decode_print(int mode, read_args_t *a, session_t *s, uint16_t id, const uint8_t *data,
                        size_t n)
{
	const blt_block_t *b = blt_catalog_find(id);
	if (mode == MODE_WATCH && !a->json) {
		static blt_decoded_t r;
		blt_detail_t d = {{0}};
		int err = blt_decode(b, data, n, &s->dopts, &r, &d);
		if (err && err != BLT_E_MISSING) {
			fprintf(stderr, "bluetti watch: block %u: %s\n", id, d.text);
			return -1;
		}
		print_line(&r, NULL);
		return err ? -1 : 0;
	}
	if (!a->json && a->nblocks > 1 && a->node >= 0)
		printf("== block %u (%s) at node %d ==\n", id, b->title ? b->title : b->name,
		       a->node);
	else if (!a->json && a->nblocks > 1)
		printf("== block %u (%s) ==\n", id, b->title ? b->title : b->name);
	int r = cli_print_decoded(b, data, n, &s->dopts, a->json, a->all);
	if (!a->json && a->nblocks > 1)
		printf("\n");
	return r;
}

static int block_is_secret(uint16_t id)
{
	const blt_block_t *b = blt_catalog_find(id);
	for (size_t i = 0; b && i < b->nfields; i++)
		if (b->fields[i].flags & BLT_F_SECRET)
			return 1;
	return 0;
}

static void dump_hex(uint16_t id, const uint8_t *data, size_t n, int show_secrets, int json)
{
	static uint8_t masked[256];
	const blt_block_t *b = blt_catalog_find(id);
	memcpy(masked, data, n < sizeof masked ? n : sizeof masked);
	if (!show_secrets && b) {
		/* Mask the bytes of every secret field, so a dump can be shared safely. */
		for (size_t i = 0; i < b->nfields; i++) {
			const blt_field_t *f = &b->fields[i];
			size_t sz = f->size ? f->size : blt_type_size((blt_type_t)f->type);
			if (!(f->flags & BLT_F_SECRET) || f->repeat)
				continue;
			for (size_t k = f->offset; k < f->offset + sz && k < n; k++)
				masked[k] = 0xff;
		}
	}
	if (json) {
		char hex[2 * sizeof masked + 1];
		blt_hex_encode(masked, n, hex, sizeof hex);
		printf("{\"block\":%u,\"registers\":%zu,\"hex\":\"%s\",\"masked\":%s}\n", id, n / 2,
		       hex, (!show_secrets && block_is_secret(id)) ? "true" : "false");
		return;
	}
	printf("block %u: %zu registers%s\n", id, n / 2,
	       (!show_secrets && block_is_secret(id)) ? " (secret fields masked as ffff)" : "");
	for (size_t i = 0; i < n; i += 2) {
		if (i % 32 == 0)
			printf("%5u:", id + (unsigned)(i / 2));
		printf(" %02x%02x", masked[i], i + 1 < n ? masked[i + 1] : 0);
		if (i % 32 == 30 || i + 2 >= n)
			printf("\n");
	}
}

static int run_reads(int mode, read_args_t *a, session_t *s)
{
	uint8_t data[256];
	size_t n;
	int failures = 0;
	for (size_t i = 0; i < a->nblocks && !stop_flag; i++) {
		if (read_block(mode, a, s, a->blocks[i], data, sizeof data, &n) != 0) {
			failures++;
			continue;
		}
		if (mode == MODE_DUMP)
			dump_hex(a->blocks[i], data, n, a->show_secrets, a->json);
		else if (decode_print(mode, a, s, a->blocks[i], data, n) != 0)
			failures++;
	}
	return failures;
}

/* ---- Open MQTT: the device's block-11000 push (LOCAL.md §2.5) ------------------------- */

typedef struct push_ctx {
	read_args_t *a;
	session_t *s;
	unsigned pushes;
} push_ctx_t;

/* watch: show each push of the IoT block as it arrives (decoded with the block's rows;
 * its safety code stays hidden unless --show-secrets) */
static void on_push(void *user, const blt_rtu_t *f, const uint8_t *payload, size_t len)
{
	push_ctx_t *x = user;
	const blt_block_t *b = blt_catalog_find(BLT_IOT_PUSH_BLOCK);
	static blt_decoded_t r;

	(void)payload;
	(void)len;
	if (!blt_client_is_iot_push(f) || !b)
		return;
	x->pushes++;
	if (x->a->json) {
		cli_print_decoded(b, f->data, f->nbytes, &x->s->dopts, 1, x->a->all);
		fflush(stdout);
		return;
	}
	if (blt_decode(b, f->data, f->nbytes, &x->s->dopts, &r, NULL) == BLT_OK || r.count > 0)
		print_line(&r, "(push)");
}

/* After a watch round with unanswered requests: a device that pushed recently is online
 * (requests at QoS 0 can be lost); say so instead of leaving it looking dead. */
static void push_liveness(const read_args_t *a, const session_t *s, int failures)
{
	uint64_t last = blt_client_last_push(s->c), now = blt_now_ms();
	uint64_t window = (uint64_t)(a->interval_s * 3000.0);
	if (!failures || !last)
		return;
	if (window < 180000)
		window = 180000; /* the default push period is 61 s */
	if (now - last <= window)
		fprintf(
		    stderr,
		    "bluetti watch: %d read%s unanswered, but the device pushed block %u %llu s "
		    "ago: it is online (requests at QoS 0 can be lost)\n",
		    failures, failures == 1 ? "" : "s", BLT_IOT_PUSH_BLOCK,
		    (unsigned long long)((now - last) / 1000u));
	else
		fprintf(stderr,
		        "bluetti watch: %d read%s unanswered and no push of block %u for %llu s\n",
		        failures, failures == 1 ? "" : "s", BLT_IOT_PUSH_BLOCK,
		        (unsigned long long)((now - last) / 1000u));
}

/* ---- nodes --------------------------------------------------------------------------- */

/* Query NODE_INFO and list the nodes through the device model. */
static int run_nodes(read_args_t *a, session_t *s)
{
	static blt_decoded_t r;
	static const char *const flags[] = {"online", "upgrading", "warning", "error", "dc"};
	uint8_t data[256];
	size_t n = 0;
	blt_detail_t d = {{0}};
	blt_device_t *dev = NULL;
	int err;

	if (read_block(MODE_NODES, a, s, BLT_NODE_INFO_BLOCK, data, sizeof data, &n) != 0)
		return EXIT_FAIL;
	err = blt_decode(blt_catalog_find(BLT_NODE_INFO_BLOCK), data, n, &s->dopts, &r, &d);
	if (err == BLT_OK && r.missing)
		fprintf(stderr,
		        "bluetti nodes: the node list is truncated (%zu bytes): only "
		        "complete records are shown\n",
		        n);
	if (err == BLT_OK)
		err = blt_device_new(s->p, s->co.model, s->co.sn, &dev, &d);
	if (err == BLT_OK)
		err = blt_device_update(dev, &r, blt_now_ms(), &d);
	if (err != BLT_OK) {
		fprintf(stderr, "bluetti nodes: block 21000: %s: %s\n", blt_strerror(err), d.text);
		blt_device_free(dev);
		return EXIT_FAIL;
	}
	if (a->json)
		printf("{\"nodes\":[");
	else
		printf("%-5s %-13s %-14s %-16s %s\n", "slave", "kind", "model", "serial", "status");
	for (size_t i = 0; i < blt_device_node_count(dev); i++) {
		const blt_node_t *x = blt_device_node_at(dev, i);
		const char *kind = blt_node_kind_name((blt_node_kind_t)x->kind);
		if (a->json) {
			printf("%s{\"slave\":%u,\"kind\":\"%s\",\"model\":", i ? "," : "", x->slave,
			       kind);
			cli_json_str(stdout, x->model);
			printf(",\"model_code\":%u,\"serial\":", x->model_code);
			cli_json_str(stdout, x->serial);
			printf(",\"status\":[");
			for (unsigned b = 0, k = 0; b < 5; b++)
				if (x->status >> b & 1)
					printf("%s\"%s\"", k++ ? "," : "", flags[b]);
			printf("]}");
			continue;
		}
		printf("%-5u %-13s %-14s %-16s", x->slave, kind, x->model,
		       x->serial[0] ? x->serial : "-");
		for (unsigned b = 0, k = 0; b < 5; b++)
			if (x->status >> b & 1)
				printf("%s%s", k++ ? "," : " ", flags[b]);
		printf("\n");
	}
	if (a->json)
		printf("]}\n");
	blt_device_free(dev);
	return 0;
}

/* ---- check --------------------------------------------------------------------------- */

typedef struct check_row {
	const char *what;
	double value;
	const char *unit;
	int ok;
	char rule[64];
} check_row_t;

static int run_check(read_args_t *a, session_t *s)
{
	uint8_t data[256];
	size_t n;
	static blt_decoded_t r;
	blt_detail_t d = {{0}};
	uint64_t t0, t_read_us, t_parse_us;
	int failed = 0;

	t0 = now_us();
	if (read_block(MODE_CHECK, a, s, 1300, data, sizeof data, &n) != 0)
		return EXIT_FAIL;
	t_read_us = now_us() - t0;

	t0 = now_us();
	int err = blt_decode(blt_catalog_find(1300), data, n, &s->dopts, &r, &d);
	t_parse_us = now_us() - t0;
	if (err) {
		fprintf(stderr, "bluetti check: block 1300: %s: %s\n", blt_strerror(err), d.text);
		return EXIT_FAIL;
	}

	double f = NAN, v = NAN, i = NAN, p = NAN;
	blt_decoded_num(&r, "frequency", &f);
	blt_decoded_num(&r, "phase_0_voltage", &v);
	blt_decoded_num(&r, "phase_0_current", &i);
	blt_decoded_num(&r, "phase_0_power", &p);

	/* Regional grids: 50 Hz / 230 V (Europe, most of the world) and 60 Hz / 120 V (North
	 * America, Japan's west at 100 V); power and current are signed the same way. */
	check_row_t rows[4] = {
	    {"grid frequency", f, "Hz", fabs(f - 50) <= 5 || fabs(f - 60) <= 5,
	     "50 or 60 Hz, +-5 Hz"},
	    {"grid voltage", v, "V", (v >= 100 && v <= 127) || (v >= 200 && v <= 250),
	     "100-127 V or 200-250 V"},
	    {"grid current", i, "A", fabs(i) <= 20, "0-20 A (magnitude)"},
	    {"grid power", p, "W", 0, ""},
	};
	double vi = fabs(v * i);
	bool small = vi < 5 && fabs(p) < 5;
	bool same_sign = small || (p >= 0) == (i >= 0) || fabs(p) < 5 || fabs(i) < 0.05;
	rows[3].ok = !isnan(p) && !isnan(vi) && !isnan(i) &&
	             (fabs(fabs(p) - vi) <= 0.10 * vi || small) && same_sign;
	snprintf(rows[3].rule, sizeof rows[3].rule, "sign of I, within 10%% of V x I = %.1f W", vi);

	if (a->json) {
		printf("{\"sn\":");
		cli_json_str(stdout, a->dev.sn);
		printf(",\"checks\":[");
		for (int k = 0; k < 4; k++) {
			printf("%s{\"check\":\"%s\",\"value\":", k ? "," : "", rows[k].what);
			if (isnan(rows[k].value))
				printf("null");
			else
				printf("%.2f", rows[k].value);
			printf(",\"unit\":\"%s\",\"rule\":", rows[k].unit);
			cli_json_str(stdout, rows[k].rule);
			printf(",\"ok\":%s}", rows[k].ok ? "true" : "false");
		}
		printf("],\"timing_ms\":{\"connect\":%.3f,\"read\":%.3f,\"parse\":%.3f,"
		       "\"total\":%.3f},\"ok\":",
		       s->t_connect_us / 1000.0, t_read_us / 1000.0, t_parse_us / 1000.0,
		       s->t_connect_us / 1000.0 + (t_read_us + t_parse_us) / 1000.0);
	} else {
		printf("bluetti check: %s %s via %s:%u\n\n", s->p->id, a->dev.sn, a->dev.conn.host,
		       a->dev.conn.port);
		blt_format_text(&r, 0, stdout);
		printf("\n%-16s %12s  %-5s %-30s %s\n", "check", "value", "unit", "rule", "result");
	}
	for (int k = 0; k < 4; k++) {
		failed += !rows[k].ok;
		if (!a->json)
			printf("%-16s %12.2f  %-5s %-30s %s\n", rows[k].what, rows[k].value,
			       rows[k].unit, rows[k].rule, rows[k].ok ? "PASS" : "FAIL");
	}
	if (a->json) {
		printf("%s}\n", failed ? "false" : "true");
	} else {
		printf("\n%-16s %10s\n", "timing", "ms");
		printf("%-16s %10.3f   (%s)\n", "connect", s->t_connect_us / 1000.0,
		       a->dev.ble.ble ? "find + connect + V2 handshake" : "TLS + CONNACK + SUBACK");
		printf("%-16s %10.3f\n", "read 1300", t_read_us / 1000.0);
		printf("%-16s %10.3f\n", "parse", t_parse_us / 1000.0);
		printf("%-16s %10.3f\n", "total",
		       s->t_connect_us / 1000.0 + (t_read_us + t_parse_us) / 1000.0);
		printf("\n%s: %d of 4 checks passed\n", failed ? "FAILED" : "OK", 4 - failed);
	}
	return failed ? EXIT_FAIL : 0;
}

static int run(int mode, int argc, char **argv)
{
	read_args_t a;
	session_t s;
	int rc = parse_args(mode, argc, argv, &a);
	if (rc)
		return rc < 0 ? 0 : rc;
	if (a.verbose)
		blt_log_set_handler(log_to_stderr, NULL, BLT_LOG_DEBUG);
	else
		blt_log_set_handler(log_to_stderr, NULL, BLT_LOG_WARN);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);

	rc = session_open(mode, &a, &s);
	if (rc) {
		session_close(&s);
		conn_args_free(&a.dev.conn);
		return rc;
	}
	if (mode == MODE_CHECK) {
		rc = run_check(&a, &s);
	} else if (mode == MODE_NODES) {
		rc = run_nodes(&a, &s);
	} else if (mode == MODE_WATCH) {
		if (a.dev.account) {
			/* hours later a reconnect needs a fresh TOTP, not the first one */
			blt_detail_t d = {{0}};
			if (account_live_hook(s.t, &d) != BLT_OK) {
				fprintf(stderr, "bluetti watch: --account: %s\n", d.text);
				session_close(&s);
				conn_args_free(&a.dev.conn);
				return EXIT_FAIL;
			}
		}
		push_ctx_t px = {&a, &s, 0};
		if (s.lmqtt)
			blt_client_on_unsolicited(s.c, on_push, &px);
		for (long round = 0; !stop_flag && (a.count < 0 || round < a.count); round++) {
			uint64_t start = blt_now_ms();
			int failures = run_reads(mode, &a, &s);
			if (s.lmqtt)
				push_liveness(&a, &s, failures);
			if (a.count >= 0 && round + 1 >= a.count)
				break;
			/* Sleep in slices, keeping the connection serviced; the last slice is
			 * only what is left, so the interval is honoured exactly (a fixed
			 * 200 ms slice rounded 0.5 s up to 0.6-1.0 s). */
			uint64_t period = (uint64_t)(a.interval_s * 1000 + 0.5);
			for (;;) {
				uint64_t el = blt_now_ms() - start;
				if (stop_flag || el >= period)
					break;
				blt_transport_poll(
				    s.t, (int)(period - el < 200 ? period - el : 200), NULL);
			}
		}
		rc = 0;
	} else {
		rc = run_reads(mode, &a, &s) ? EXIT_FAIL : 0;
	}
	session_close(&s);
	account_live_close();
	conn_args_free(&a.dev.conn);
	return rc;
}

int cmd_read(int argc, char **argv)
{
	return run(MODE_READ, argc, argv);
}

int cmd_watch(int argc, char **argv)
{
	return run(MODE_WATCH, argc, argv);
}

int cmd_dump(int argc, char **argv)
{
	return run(MODE_DUMP, argc, argv);
}

int cmd_check(int argc, char **argv)
{
	return run(MODE_CHECK, argc, argv);
}

int cmd_nodes(int argc, char **argv)
{
	return run(MODE_NODES, argc, argv);
}
