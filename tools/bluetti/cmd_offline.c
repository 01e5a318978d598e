/* Offline commands: decode, blocks, profiles. No network. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <bluetti/bluetti.h>
#include <bluetti/device.h>

#include "cli.h"
#include "common.h"

static void decode_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: bluetti decode --block N (--hex HEX | --frame HEX | -) [options]\n\n"
	    "Decode register data of catalog block N offline.\n\n"
	    "  -b, --block N        block id (start register), e.g. 1300; see `bluetti blocks`\n"
	    "  -x, --hex HEX        register data only (the FC03 reply's data bytes)\n"
	    "  -f, --frame HEX      a whole MQTT payload: any envelope (bare, 0x01, 01 F8 0F)\n"
	    "                       + Modbus-RTU reply; CRC and lengths are checked\n"
	    "  -                    read the hex from standard input (with --frame: a frame)\n"
	    "  -p, --profile MODEL  decode with this profile's settings (protocol version,\n"
	    "                       pack voltage scale), e.g. EL100V2; see `bluetti profiles`\n"
	    "  -j, --json           one JSON object: block, name, values, units, missing\n"
	    "  -a, --all            also list fields that are missing or gated (text output)\n"
	    "      --show-secrets   print credential fields instead of ***\n"
	    "  -h, --help           this help\n\n"
	    "Hex may contain spaces, ':' or '-' separators. Exit status: 0 decoded, 1 bad data\n"
	    "(CRC, truncated, exception reply, required field missing), 2 usage error.\n\n"
	    "example: bluetti decode --block 1300 --hex '01f4 fea2 ffff 04d2 ...'\n");
}

static int read_stdin(char *buf, size_t cap)
{
	size_t n = fread(buf, 1, cap - 1, stdin);
	if (ferror(stdin))
		return -1;
	if (n == cap - 1 && !feof(stdin))
		return -2;
	buf[n] = '\0';
	return 0;
}

int cmd_decode(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"block", required_argument, NULL, 'b'},
	    {"hex", required_argument, NULL, 'x'},
	    {"frame", required_argument, NULL, 'f'},
	    {"profile", required_argument, NULL, 'p'},
	    {"json", no_argument, NULL, 'j'},
	    {"all", no_argument, NULL, 'a'},
	    {"show-secrets", no_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *block_arg = NULL, *hex = NULL, *profile_arg = NULL;
	int is_frame = 0, json = 0, all = 0, show_secrets = 0, from_stdin = 0, c;
	static char inbuf[65536];

	optind = 0;
	while ((c = cli_getopt_long(argc, argv, "b:x:f:p:jah", opts, NULL)) != -1) {
		switch (c) {
		case 'b': block_arg = optarg; break;
		case 'x':
			hex = optarg;
			is_frame = 0;
			break;
		case 'f':
			hex = optarg;
			is_frame = 1;
			break;
		case 'p': profile_arg = optarg; break;
		case 'j': json = 1; break;
		case 'a': all = 1; break;
		case 'S': show_secrets = 1; break;
		case 'h': decode_usage(stdout); return 0;
		default: decode_usage(stderr); return EXIT_USAGE;
		}
	}
	for (; optind < argc; optind++) {
		if (!strcmp(argv[optind], "-") && !hex) {
			from_stdin = 1;
			continue;
		}
		fprintf(stderr, "bluetti decode: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (hex && !strcmp(hex, "-"))
		from_stdin = 1;
	if (!block_arg) {
		fprintf(stderr, "bluetti decode: --block N is required (see `bluetti blocks`)\n");
		return EXIT_USAGE;
	}
	if (!hex && !from_stdin) {
		fprintf(stderr, "bluetti decode: give the data with --hex, --frame or - (stdin)\n");
		return EXIT_USAGE;
	}

	unsigned long id;
	if (cli_parse_ulong(block_arg, 0, 65535, &id) != 0) {
		fprintf(stderr, "bluetti decode: --block '%s' is not a register number\n",
		        block_arg);
		return EXIT_USAGE;
	}
	const blt_block_t *b = blt_catalog_find((uint16_t)id);
	if (!b) {
		fprintf(stderr, "bluetti decode: unknown block %lu (see `bluetti blocks`)\n", id);
		return EXIT_FAIL;
	}
	blt_decode_opts_t dopts;
	if (cli_profile_opts(profile_arg, &dopts) != 0)
		return EXIT_USAGE;
	dopts.show_secrets = show_secrets;

	if (from_stdin) {
		int r = read_stdin(inbuf, sizeof inbuf);
		if (r != 0) {
			fprintf(stderr, "bluetti decode: %s\n",
			        r == -2 ? "standard input too long" : strerror(errno));
			return EXIT_FAIL;
		}
		hex = inbuf;
	}

	static uint8_t bytes[32768];
	size_t n = 0;
	blt_detail_t d = {{0}};
	int err = blt_hex_decode(hex, bytes, sizeof bytes, &n, &d);
	if (err) {
		fprintf(stderr, "bluetti decode: bad hex: %s\n", d.text);
		return EXIT_FAIL;
	}

	const uint8_t *data = bytes;
	size_t nbytes = n;
	if (is_frame) {
		err = cli_frame_data(bytes, n, &data, &nbytes, &d);
		if (err) {
			fprintf(stderr, "bluetti decode: %s\n", d.text);
			return EXIT_FAIL;
		}
	}
	return cli_print_decoded(b, data, nbytes, &dopts, json, all) == 0 ? 0 : EXIT_FAIL;
}

/* ---- blocks ------------------------------------------------------------------------- */

static void blocks_usage(FILE *out)
{
	fprintf(out, "usage: bluetti blocks [N] [--json | --markdown | --ha-entities]\n\n"
	             "Without N: the catalog, one block per line (id, name, registers, fields,\n"
	             "provenance of the fields: live-verified / firmware / app-table only).\n"
	             "With N: the field table of block N.\n\n"
	             "  -j, --json       machine-readable output\n"
	             "  -m, --markdown   the whole catalog as Markdown (docs/registers.md)\n"
	             "      --ha-entities  the Home Assistant entities of every profile as\n"
	             "                   Markdown (docs/ha-entities.md)\n"
	             "  -h, --help       this help\n");
}

static void prov_counts(const blt_block_t *b, unsigned cnt[3])
{
	cnt[0] = cnt[1] = cnt[2] = 0;
	for (size_t i = 0; i < b->nfields; i++)
		if (b->fields[i].prov < 3)
			cnt[b->fields[i].prov]++;
}

static void transform_text(const blt_field_t *f, char *buf, size_t cap)
{
	size_t o = 0;
	buf[0] = '\0';
#define ADD(...)                                                                                   \
	do {                                                                                       \
		if (o < cap)                                                                       \
			o += (size_t)snprintf(buf + o, cap - o, __VA_ARGS__);                      \
	} while (0)
	if (f->mask)
		ADD("%smask:0x%x", o ? " " : "", (unsigned)f->mask);
	if (f->shift)
		ADD("%sshift:%u", o ? " " : "", f->shift);
	if (f->flags & BLT_F_ABS)
		ADD("%sabs", o ? " " : "");
	if (f->flags & BLT_F_PACK_VSCALE)
		ADD("%sscale:profile", o ? " " : "");
	else if (f->scale != 0 && f->scale != 1)
		ADD("%sscale:%g", o ? " " : "", f->scale);
	if (f->add != 0)
		ADD("%s%s:%g", o ? " " : "", f->add < 0 ? "minus" : "plus",
		    f->add < 0 ? -f->add : f->add);
	if (f->flags & BLT_F_CLAMP)
		ADD("%sclamp:%g:%g", o ? " " : "", f->clamp_lo, f->clamp_hi);
	if (f->flags & BLT_F_ZERO_NA)
		ADD("%s0=n/a", o ? " " : "");
#undef ADD
	if (!buf[0])
		snprintf(buf, cap, "-");
}

static void print_block_fields(const blt_block_t *b, int json)
{
	if (json) {
		printf("{\"id\":%u,\"name\":", b->id);
		cli_json_str(stdout, b->name);
		printf(",\"title\":");
		cli_json_str(stdout, b->title);
		printf(",\"registers\":%u,\"source\":", b->regs);
		cli_json_str(stdout, b->source);
		printf(",\"fields\":[");
		for (size_t i = 0; i < b->nfields; i++) {
			const blt_field_t *f = &b->fields[i];
			char tr[96];
			transform_text(f, tr, sizeof tr);
			printf("%s{\"name\":", i ? "," : "");
			cli_json_str(stdout, f->name);
			printf(",\"offset\":%u,\"type\":\"%s\",\"size\":%u,\"unit\":", f->offset,
			       blt_type_name((blt_type_t)f->type),
			       f->size ? f->size : blt_type_size((blt_type_t)f->type));
			cli_json_str(stdout, f->unit);
			printf(",\"transform\":");
			cli_json_str(stdout, tr);
			printf(
			    ",\"required\":%s,\"repeated\":%s,\"provenance\":\"%s\",\"min_pv\":%u,"
			    "\"description\":",
			    (f->flags & BLT_F_REQUIRED) ? "true" : "false",
			    f->repeat ? "true" : "false", blt_prov_name((blt_prov_t)f->prov),
			    f->min_pv);
			cli_json_str(stdout, f->desc);
			printf("}");
		}
		printf("]}\n");
		return;
	}
	printf("block %u  %s (%s), %u registers\nsource: %s\n\n", b->id, b->name, b->title, b->regs,
	       b->source ? b->source : "-");
	printf("%-5s %-6s %-26s %-8s %-5s %-22s %-4s %-8s %s\n", "off", "reg", "name", "type",
	       "unit", "transform", "req", "prov", "description");
	for (size_t i = 0; i < b->nfields; i++) {
		const blt_field_t *f = &b->fields[i];
		char tr[96], reg[16];
		transform_text(f, tr, sizeof tr);
		if (f->repeat)
			snprintf(reg, sizeof reg, "+%u", f->offset);
		else
			snprintf(reg, sizeof reg, "%u", b->id + f->offset / 2);
		printf("%-5u %-6s %-26s %-8s %-5s %-22s %-4s %-8s %s\n", f->offset, reg, f->name,
		       blt_type_name((blt_type_t)f->type), f->unit ? f->unit : "-", tr,
		       (f->flags & BLT_F_REQUIRED) ? "yes" : "", blt_prov_name((blt_prov_t)f->prov),
		       f->desc ? f->desc : "");
		if (f->repeat)
			printf("%-5s %-6s   (x %s, max %u, stride %u bytes%s)\n", "", "",
			       f->repeat->count_field, f->repeat->max, f->repeat->stride,
			       f->repeat->base_field ? ", after the cells" : "");
	}
}

int cmd_blocks(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"markdown", no_argument, NULL, 'm'},
	    {"ha-entities", no_argument, NULL, 'E'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int json = 0, markdown = 0, c;
	optind = 0;
	while ((c = cli_getopt_long(argc, argv, "jmh", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'm': markdown = 1; break;
		case 'E': markdown = 2; break;
		case 'h': blocks_usage(stdout); return 0;
		default: blocks_usage(stderr); return EXIT_USAGE;
		}
	}
	if (markdown == 2) {
		blt_err_t err = blt_ha_write_entities_markdown(stdout);
		if (err)
			fprintf(stderr, "bluetti blocks --ha-entities: %s\n", blt_strerror(err));
		return err ? EXIT_FAIL : 0;
	}
	if (markdown)
		return cli_catalog_markdown(stdout) == 0 ? 0 : EXIT_FAIL;
	if (optind < argc) {
		unsigned long id;
		if (cli_parse_ulong(argv[optind], 0, 65535, &id) != 0) {
			fprintf(stderr, "bluetti blocks: '%s' is not a block number\n",
			        argv[optind]);
			return EXIT_USAGE;
		}
		const blt_block_t *b = blt_catalog_find((uint16_t)id);
		if (!b) {
			fprintf(stderr, "bluetti blocks: unknown block %lu\n", id);
			return EXIT_FAIL;
		}
		print_block_fields(b, json);
		return 0;
	}
	if (json)
		printf("[");
	else
		printf("%-6s %-24s %-12s %5s %6s  %s\n", "block", "name", "title", "regs", "fields",
		       "provenance (live/firmware/app)");
	for (size_t i = 0; i < blt_catalog_count(); i++) {
		const blt_block_t *b = blt_catalog_at(i);
		unsigned cnt[3];
		prov_counts(b, cnt);
		if (json) {
			printf("%s{\"id\":%u,\"name\":", i ? "," : "", b->id);
			cli_json_str(stdout, b->name);
			printf(",\"title\":");
			cli_json_str(stdout, b->title);
			printf(",\"registers\":%u,\"fields\":%zu,\"live\":%u,\"firmware\":%u,"
			       "\"app\":%u}",
			       b->regs, b->nfields, cnt[0], cnt[1], cnt[2]);
		} else {
			printf("%-6u %-24s %-12s %5u %6zu  %u/%u/%u\n", b->id, b->name,
			       b->title ? b->title : "", b->regs, b->nfields, cnt[0], cnt[1],
			       cnt[2]);
		}
	}
	if (json) {
		printf("]\n");
		return 0;
	}
	/* Block 1300's grid-power sign is a per-profile fact (EVIDENCE.md §2). */
	printf("\ngrid-power sign (1301, 1313+6i) while importing:\n");
	for (size_t i = 0; blt_profile_at(i); i++) {
		const blt_profile_t *p = blt_profile_at(i);
		printf("  %-11s %s  %s\n", p->id,
		       blt_profile_grid_import_sign(p) > 0 ? "positive" : "negative",
		       blt_profile_grid_sign_verified(p)
		           ? "verified"
		           : "UNVERIFIED (firmware convention assumed; no live capture)");
	}
	return 0;
}

/* ---- profiles ----------------------------------------------------------------------- */

static void profile_json(const blt_profile_t *p, int first)
{
	printf("%s{\"id\":", first ? "" : ",");
	cli_json_str(stdout, p->id);
	printf(",\"name\":");
	cli_json_str(stdout, p->name);
	printf(",\"model\":");
	cli_json_str(stdout, p->model);
	printf(",\"protocol_version\":%u,\"pack_voltage_scale\":%g,\"preset\":",
	       p->protocol_version, p->pack_voltage_scale);
	cli_json_str(stdout, p->preset);
	printf(",\"grid_import_sign\":%d,\"grid_sign_verified\":%s,"
	       "\"grid_sign_evidence\":",
	       blt_profile_grid_import_sign(p),
	       blt_profile_grid_sign_verified(p) ? "true" : "false");
	if (p->grid_sign_evidence)
		cli_json_str(stdout, p->grid_sign_evidence);
	else
		printf("null");
	printf(",\"description\":");
	cli_json_str(stdout, p->description);
	printf(",\"groups\":{");
	for (size_t g = 0; g < p->ngroups; g++) {
		printf("%s\"%s\":{\"interval_s\":%u,\"blocks\":[", g ? "," : "", p->groups[g].name,
		       p->groups[g].interval_s);
		for (unsigned k = 0; k < p->groups[g].nblocks; k++)
			printf("%s%u", k ? "," : "", p->groups[g].blocks[k]);
		printf("]}");
	}
	printf("},\"aliases\":[");
	for (size_t k = 0, m = 0; k < blt_model_alias_count(); k++)
		if (!strcasecmp(blt_model_alias_at(k)->profile, p->id)) {
			printf("%s", m++ ? "," : "");
			cli_json_str(stdout, blt_model_alias_at(k)->code);
		}
	printf("]}");
}

/* The "cloud models:" line: the model codes that map to this profile, if any. */
static void profile_aliases_text(const blt_profile_t *p)
{
	size_t m = 0;
	for (size_t k = 0; k < blt_model_alias_count(); k++) {
		const blt_model_alias_t *a = blt_model_alias_at(k);
		if (strcasecmp(a->profile, p->id) != 0)
			continue;
		printf("%s'%s'%s%s%s", m++ ? ", " : "            cloud models: ", a->code,
		       a->product ? " (" : "", a->product ? a->product : "", a->product ? ")" : "");
	}
	if (m)
		printf("\n");
}

static void profile_text(const blt_profile_t *p)
{
	printf("%-11s %s (model %s, protocol %u, preset %s, pack V scale %g)\n", p->id, p->name,
	       p->model ? p->model : "from --model", p->protocol_version, p->preset,
	       p->pack_voltage_scale);
	printf("            %s\n", p->description);
	printf("            grid power while importing: %s (%s)\n",
	       blt_profile_grid_import_sign(p) > 0 ? "positive" : "negative",
	       p->grid_sign_evidence ? p->grid_sign_evidence : "unverified: firmware convention");
	profile_aliases_text(p);
	for (size_t g = 0; g < p->ngroups; g++) {
		printf("            %-9s every %3us:", p->groups[g].name, p->groups[g].interval_s);
		for (unsigned k = 0; k < p->groups[g].nblocks; k++)
			printf(" %u", p->groups[g].blocks[k]);
		printf("\n");
	}
	for (size_t k = 0; k < p->nread_regs; k++) {
		const blt_block_regs_t *r = &p->read_regs[k];
		if (r->regs)
			printf("            reads block %u as %u registers\n", r->block, r->regs);
		if (r->reply)
			printf("            block %u: answers %u registers to a read of %u\n",
			       r->block, r->reply,
			       blt_profile_block_regs(p, blt_catalog_find(r->block)));
	}
}

static void preset_entry(const blt_wire_preset_t *w, int first, int json)
{
	if (json) {
		printf("%s{\"name\":\"%s\",\"envelope\":\"%s\",\"slave\":%u,\"subscribe\":",
		       first ? "" : ",", w->name, blt_envelope_name((blt_envelope_t)w->envelope),
		       w->slave);
		cli_json_str(stdout, w->sub_topic);
		printf(",\"publish\":");
		cli_json_str(stdout, w->pub_topic);
		printf("}");
	} else {
		printf("  %-7s envelope %-6s slave %u  subscribe %-18s publish %s\n", w->name,
		       blt_envelope_name((blt_envelope_t)w->envelope), w->slave, w->sub_topic,
		       w->pub_topic);
	}
}

int cmd_profiles(int argc, char **argv)
{
	int json = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j")) {
			json = 1;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf(
			    "usage: bluetti profiles [--json]\n\nDevice profiles (block groups "
			    "with "
			    "poll intervals, wire preset,\nprotocol version, quirks, the cloud "
			    "model "
			    "codes that use them) and wire\npresets (envelope, slave, topics). An "
			    "unknown cloud model code uses GENERIC.\n");
			return 0;
		} else {
			fprintf(stderr, "bluetti profiles: unexpected argument '%s'\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (json)
		printf("{\"profiles\":[");
	for (size_t i = 0; blt_profile_at(i); i++) {
		if (json)
			profile_json(blt_profile_at(i), i == 0);
		else
			profile_text(blt_profile_at(i));
	}
	if (json)
		printf("],\"presets\":[");
	else
		printf("\nwire presets:\n");
	for (size_t i = 0; i < blt_wire_preset_count(); i++)
		preset_entry(blt_wire_preset_at(i), i == 0, json);
	if (json)
		printf("]}\n");
	return 0;
}
