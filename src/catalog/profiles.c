/* Wire presets and device profiles: data, no model-specific code (DESIGN.md).
 * Sources: PROTOCOL.md §1.9/§1.10 (presets), §5 (profiles and groups). */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <bluetti/bluetti.h>

static const blt_wire_preset_t presets[] = {
    {.name = "v2",
     .envelope = BLT_ENV_V2,
     .slave = 0,
     .sub_topic = "PUB/{model}/{sn}",
     .pub_topic = "SUB/{model}/{sn}",
     .desc =
         "V2 cloud devices: 01 F8 0F envelope, slave 0, topics PUB|SUB/<model>/<sn> (live AP300)"},
    {.name = "seed",
     .envelope = BLT_ENV_BARE,
     .slave = 1,
     .sub_topic = "PUB/{sn}",
     .pub_topic = "SUB/{sn}",
     .desc = "reference (power_sdk) framing: bare RTU, slave 1, topics PUB|SUB/<sn>"},
    {.name = "legacy",
     .envelope = BLT_ENV_LEGACY,
     .slave = 1,
     .sub_topic = "PUB/{model}/{sn}",
     .pub_topic = "SUB/{model}/{sn}",
     .desc = "V1 devices (AC300): 0x01 prefix, slave 1"},
    {.name = "local-mqtt",
     .envelope = BLT_ENV_BARE,
     .slave = 0,
     .sub_topic = "PUB/{model}/{sn}",
     .pub_topic = "SUB/{model}/{sn}",
     .qos0 = true,
     .desc = "Open MQTT (LOCAL.md §2): the device on the owner's broker, bare RTU, slave 0, "
             "QoS 0, topics PUB|SUB/<model>/<sn>"},
    {.name = "modbus-tcp",
     .envelope = BLT_ENV_BARE,
     .slave = 1,
     .sub_topic = "tcp/{model}/{sn}/rx",
     .pub_topic = "tcp/{model}/{sn}/tx",
     .open_map = true,
     .desc = "Modbus TCP (LOCAL.md §1): MBAP on one TCP connection, unit 1, the open map; "
             "topics only name the device"},
    {.name = "ble",
     .envelope = BLT_ENV_BARE,
     .slave = 1,
     .sub_topic = "BLE/{model}/{sn}/rx",
     .pub_topic = "BLE/{model}/{sn}/tx",
     .desc =
         "Bluetooth LE (LOCAL.md §3.4): bare RTU, slave 1; topics are local names, not on the air"},
};

size_t blt_wire_preset_count(void)
{
	return sizeof presets / sizeof presets[0];
}

const blt_wire_preset_t *blt_wire_preset_at(size_t i)
{
	return i < blt_wire_preset_count() ? &presets[i] : NULL;
}

const blt_wire_preset_t *blt_wire_preset_find(const char *name)
{
	for (size_t i = 0; name && i < blt_wire_preset_count(); i++)
		if (strcasecmp(presets[i].name, name) == 0)
			return &presets[i];
	return NULL;
}

int blt_topic_segment_ok(const char *s)
{
	size_t n = 0;
	if (!s || !*s)
		return 0;
	for (; s[n]; n++) {
		unsigned char c = (unsigned char)s[n];
		if (!(isalnum(c) || c == '.' || c == '_' || c == '-'))
			return 0;
		if (n >= 64)
			return 0;
	}
	return 1;
}

blt_err_t blt_topic_expand(const char *tmpl, const char *model, const char *sn, char *out,
                           size_t cap, blt_detail_t *d)
{
	size_t o = 0;
	if (!tmpl || !out || cap == 0)
		return blt_detail_set(d, BLT_E_INVAL, "no topic template");
	for (const char *p = tmpl; *p;) {
		const char *val = NULL;
		size_t skip = 1;
		if (strncmp(p, "{model}", 7) == 0) {
			if (!blt_topic_model_ok(model))
				return blt_detail_set(d, BLT_E_SERIAL,
				                      "model '%s' is not a valid topic segment "
				                      "(printable, no '/', '+', '#')",
				                      model ? model : "");
			val = model;
			skip = 7;
		} else if (strncmp(p, "{sn}", 4) == 0) {
			if (!blt_topic_segment_ok(sn))
				return blt_detail_set(
				    d, BLT_E_SERIAL,
				    "serial number '%s' is not a valid topic segment "
				    "(letters, digits, '.', '_', '-')",
				    sn ? sn : "");
			val = sn;
			skip = 4;
		}
		if (val) {
			size_t n = strlen(val);
			if (o + n >= cap)
				return blt_detail_set(d, BLT_E_BUFSIZE, "topic too long");
			memcpy(out + o, val, n);
			o += n;
		} else {
			if (o + 1 >= cap)
				return blt_detail_set(d, BLT_E_BUFSIZE, "topic too long");
			out[o++] = *p;
		}
		p += skip;
	}
	out[o] = '\0';
	return BLT_OK;
}

/* Block groups (§5.1 intervals; settings groups added for the write path). */
static const uint16_t g_core[] = {100};
static const uint16_t g_grid[] = {1300};
static const uint16_t g_battery[] = {6000};
static const uint16_t g_cells[] = {6100, 6300};
static const uint16_t g_inverter[] = {1100, 1200, 1400, 1500};
static const uint16_t g_inverter_small[] = {1100, 1400, 1500};
static const uint16_t g_settings[] = {2000, 2200};

#define GROUP(n, arr, s)                                                                           \
	{                                                                                          \
		.name = n, .blocks = arr, .nblocks = sizeof arr / sizeof arr[0], .interval_s = s   \
	}

static const blt_group_t groups_full[] = {
    GROUP("core", g_core, 5),          GROUP("grid", g_grid, 5),
    GROUP("battery", g_battery, 10),   GROUP("cells", g_cells, 60),
    GROUP("inverter", g_inverter, 10), GROUP("settings", g_settings, 60),
};
static const blt_group_t groups_el30[] = {
    GROUP("core", g_core, 5),
    GROUP("grid", g_grid, 5),
    GROUP("battery", g_battery, 10),
    GROUP("cells", g_cells, 60),
    GROUP("inverter", g_inverter_small, 10),
    GROUP("settings", g_settings, 60),
};
static const blt_group_t groups_generic[] = {
    GROUP("core", g_core, 5),
    GROUP("grid", g_grid, 5),
    GROUP("battery", g_battery, 10),
};

#define PROFILE_GROUPS(arr)    .groups = arr, .ngroups = sizeof arr / sizeof arr[0]
#define PROFILE_READ_REGS(arr) .read_regs = arr, .nread_regs = sizeof arr / sizeof arr[0]

/* Elite 200 V2: 12-cell pack, block 6300 is exactly 20 registers; reading more returns
 * exception 02 (sq7lrx BLE probe, PROTOCOL.md §4.9). nlimper's unit refuses 190-219,
 * 1330-1339, 2090-2099 and 2290-2309 (EVIDENCE.md §3): reads stop before them. */
static const blt_block_regs_t regs_elite200[] = {
    {100, 90, 0}, {1300, 30, 0}, {2000, 90, 0}, {2200, 90, 0}, {6300, 20, 0},
};

#define PROFILE_FILLERS(arr) .fillers = arr, .nfillers = sizeof arr / sizeof arr[0]
#define PROFILE_QUIRKS(arr)  .quirks = arr, .nquirks = sizeof arr / sizeof arr[0]

/* Elite 200 V2 "not supported" filler 0x0194 (404), per register, EVIDENCE.md §1:
 * nlimper's live read lists 2007, 2010, 2066, 2207, 2208, 2211, 2213, 2215-2217, 2241 and
 * time segments 7-10 (2048-2059) as 404 = "not supported on this model"; sq7lrx's unit
 * reads 404 at 125 (+50), 158 (+116), 162 (+124), 164 (+128), 165 (+130) while PV and AC
 * output are 0 W on a unit that cannot feed in, and the same 40.4 "kWh" at 1305. Only these
 * registers: a real 404 W elsewhere (AC load, grid power) stays a reading. */
static const blt_reg_filler_t fill_elite200[] = {
    {125, 125, 0x0194},   {158, 158, 0x0194},   {162, 162, 0x0194},   {164, 165, 0x0194},
    {1305, 1305, 0x0194}, {2007, 2007, 0x0194}, {2010, 2010, 0x0194}, {2048, 2059, 0x0194},
    {2066, 2066, 0x0194}, {2207, 2208, 0x0194}, {2211, 2211, 0x0194}, {2213, 2213, 0x0194},
    {2215, 2217, 0x0194}, {2241, 2241, 0x0194},
};

/* Elite 200 V2 row quirks. Apparent power: nlimper measured 142 / 146 / 1430 at ~250
 * next to a Shelly reading ~210 W at the AC input (power factor ~0.84) with the VA
 * registers 1316 / 1433 at 0; 1313 equals 146 and V x I (235.9 V x 1.0 A) on that unit, and
 * sq7lrx found 1510 reconciles as V x I (229.6 V x 0.9 A = 206): all VA here.
 * Pack: 12S LiFePO4 (3.65 V max per cell = 43.8 V): 0-50 V is the plausible range. */
static const blt_field_quirk_t quirks_elite200[] = {
    {.block = 100, .field = "ac_load_power", .unit = "VA"},
    {.block = 100, .field = "grid_power", .unit = "VA"},
    {.block = 1300, .field = "phase_%u_power", .unit = "VA"},
    {.block = 1400, .field = "phase_%u_power", .unit = "VA"},
    {.block = 1500, .field = "phase_%u_power", .unit = "VA"},
    {.block = 100, .field = "pack_voltage", .lo = 0, .hi = 50},
    {.block = 6000, .field = "voltage", .lo = 0, .hi = 50},
};

/* 16S LiFePO4 packs (AP300 cell sum 53.17 V, Elite 100 V2): 0-65 V. */
static const blt_field_quirk_t quirks_16s[] = {
    {.block = 100, .field = "pack_voltage", .lo = 0, .hi = 65},
    {.block = 6000, .field = "voltage", .lo = 0, .hi = 65},
};

/* EP760: the pack runs near 105 V and reports 0.1 V (venus-gateway, live EP760: 6003 =
 * 1053 -> 105.3 V); 0-150 V plausible. */
static const blt_field_quirk_t quirks_ep760[] = {
    {.block = 100, .field = "pack_voltage", .lo = 0, .hi = 150},
    {.block = 6000, .field = "voltage", .lo = 0, .hi = 150},
};

static const char *const aliases_ep760[] = {"PBOX", NULL}; /* the EP760 in the cloud list */

static const char elite200_sign[] =
    "nlimper live Elite 200 V2: 1313 ~ +250 and 146 = +262 while drawing from the grid "
    "(1314 235.9 V, 1315 +1.0 A): positive = import";
/* Apex 300: a read of the 104-register pack record 6100 is answered with 90 registers
 * (180 bytes; battery-ha mqtt/transport.py, PROTOCOL.md §1.3). */
static const blt_block_regs_t regs_ap300[] = {{6100, 0, 90}};

static const blt_profile_t profiles[] = {
    {.id = "EL30V2",
     .name = "Elite 30 V2",
     .model = "EL30V2",
     .type_id = "32",
     .description = "Elite 30 V2, 288 Wh LiFePO4, 600 W inverter (type id unverified; "
                    "block 100 layout confirmed by Patrick762/bluetti-bt-lib #8 readall)",
     .protocol_version = 2000,
     .pack_voltage_scale = 0.01,
     .preset = "v2",
     PROFILE_GROUPS(groups_el30),
     .capacity_wh = 288},
    {.id = "EL100V2",
     .name = "Elite 100 V2",
     .model = "EL100V2",
     .type_id = "31",
     .description = "Elite 100 V2, 1024 Wh LiFePO4 (16S), 1800 W inverter (type id unverified)",
     .protocol_version = 2000,
     .pack_voltage_scale = 0.01,
     .preset = "v2",
     PROFILE_GROUPS(groups_full),
     PROFILE_QUIRKS(quirks_16s),
     .capacity_wh = 1024,
     .cells = 16},
    {.id = "ELITE200V2",
     .name = "Elite 200 V2",
     .model = "Elite 200 V2",
     .type_id = "8",
     .description = "Elite 200 V2, 2073.6 Wh LiFePO4 (12S: 6003 = 3986 -> 39.86 V, 12 cells in "
                    "6300, nlimper + sq7lrx), 2600 W inverter; protocol version not pinned "
                    "(nlimper reads 1153 = 37 C, which the app gates at 2005); 0x0194 = not "
                    "supported; 142/146/1300/1400/1500 phase powers are VA; grid import positive",
     .protocol_version = 0,
     .pack_voltage_scale = 0.01,
     .preset = "v2",
     PROFILE_GROUPS(groups_full),
     PROFILE_READ_REGS(regs_elite200),
     .grid_import_sign = +1,
     .grid_sign_evidence = elite200_sign,
     PROFILE_FILLERS(fill_elite200),
     PROFILE_QUIRKS(quirks_elite200),
     .capacity_wh = 2073.6,
     .cells = 12},
    {.id = "AP300",
     .name = "Apex 300",
     .model = "AP300",
     .type_id = "6",
     .description = "Apex 300 home battery system (live captures, protocol 2015; 16S packs, "
                    "cell sum 53.17 V)",
     .protocol_version = 2015,
     .pack_voltage_scale = 0.01,
     .preset = "v2",
     PROFILE_GROUPS(groups_full),
     PROFILE_READ_REGS(regs_ap300),
     PROFILE_QUIRKS(quirks_16s),
     .cells = 16},
    {.id = "EP600",
     .name = "EP600",
     .model = "EP600",
     .type_id = NULL,
     .description = "EP600 three-phase home system: 1510/1517/1524 inverter phase powers are "
                    "signed, 0xFE60 = -416 W while charging (Patrick762/bluetti-bt-lib #74); "
                    "protocol version read from block 1",
     .protocol_version = 0,
     .pack_voltage_scale = 0.01,
     .preset = "v2",
     PROFILE_GROUPS(groups_full)},
    {.id = "EP760",
     .name = "EP760",
     .model = "EP760",
     .type_id = NULL,
     .description = "EP760 home system with B500 packs: pack voltage ~105 V in 0.1 V "
                    "(venus-gateway, live EP760); 1510 signed, raw 62175 = -3361 W while "
                    "charging from the grid (Patrick762/bluetti-bt-lib PR #88); shown as PBOX "
                    "in the cloud; protocol version read from block 1",
     .protocol_version = 0,
     .pack_voltage_scale = 0.1,
     .preset = "v2",
     PROFILE_GROUPS(groups_full),
     PROFILE_QUIRKS(quirks_ep760),
     .aliases = aliases_ep760},
};

static const blt_profile_t generic = {
    .id = "GENERIC",
    .name = "Generic V2",
    .model = NULL, /* the caller supplies the model code */
    .type_id = NULL,
    .description = "unknown V2 model: core groups only; protocol version read from block 1",
    .protocol_version = 0,
    .pack_voltage_scale = 0.01,
    .preset = "v2",
    PROFILE_GROUPS(groups_generic),
};

size_t blt_profile_count(void)
{
	return sizeof profiles / sizeof profiles[0];
}

const blt_profile_t *blt_profile_at(size_t i)
{
	if (i < blt_profile_count())
		return &profiles[i];
	return i == blt_profile_count() ? &generic : NULL;
}

static int same_name(const char *a, const char *b)
{
	/* Case-insensitive, ignoring spaces: "Elite 100 V2" == "elite100v2". */
	for (;;) {
		while (*a == ' ')
			a++;
		while (*b == ' ')
			b++;
		if (!*a || !*b)
			return *a == *b;
		if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
			return 0;
		a++;
		b++;
	}
}

const blt_profile_t *blt_profile_find(const char *id_or_name)
{
	if (!id_or_name)
		return NULL;
	for (size_t i = 0; i < blt_profile_count(); i++) {
		if (same_name(profiles[i].id, id_or_name) ||
		    same_name(profiles[i].name, id_or_name))
			return &profiles[i];
		for (const char *const *a = profiles[i].aliases; a && *a; a++)
			if (same_name(*a, id_or_name))
				return &profiles[i];
	}
	if (same_name(generic.id, id_or_name))
		return &generic;
	return NULL;
}

const blt_profile_t *blt_profile_generic(void)
{
	return &generic;
}

const blt_group_t *blt_profile_group(const blt_profile_t *p, const char *name)
{
	for (size_t i = 0; p && name && i < p->ngroups; i++)
		if (strcasecmp(p->groups[i].name, name) == 0)
			return &p->groups[i];
	return NULL;
}

uint16_t blt_profile_block_regs(const blt_profile_t *p, const blt_block_t *b)
{
	if (!b)
		return 0;
	for (size_t i = 0; p && i < p->nread_regs; i++)
		if (p->read_regs[i].block == b->id && p->read_regs[i].regs)
			return p->read_regs[i].regs;
	return b->regs;
}

uint16_t blt_profile_block_reply(const blt_profile_t *p, const blt_block_t *b)
{
	uint16_t asked = blt_profile_block_regs(p, b);
	for (size_t i = 0; b && p && i < p->nread_regs; i++)
		if (p->read_regs[i].block == b->id && p->read_regs[i].reply &&
		    p->read_regs[i].reply < asked)
			return p->read_regs[i].reply;
	return 0;
}

uint16_t blt_block_core_regs(const blt_block_t *b)
{
	unsigned core = 1;
	if (!b)
		return 0;
	if (b->min_bytes)
		core = (b->min_bytes + 1u) / 2u;
	for (size_t i = 0; i < b->nfields; i++) {
		const blt_field_t *f = &b->fields[i];
		unsigned size = f->size ? f->size : blt_type_size((blt_type_t)f->type);
		unsigned end = (f->offset + size + 1u) / 2u;
		if ((f->flags & BLT_F_REQUIRED) && !f->repeat && end > core)
			core = end;
	}
	return (uint16_t)(core < b->regs ? core : b->regs);
}

void blt_profile_decode_opts(const blt_profile_t *p, blt_decode_opts_t *out)
{
	memset(out, 0, sizeof *out);
	if (!p)
		return;
	out->protocol_version = p->protocol_version;
	out->pack_voltage_scale = p->pack_voltage_scale;
	out->fillers = p->fillers;
	out->nfillers = p->nfillers;
	out->quirks = p->quirks;
	out->nquirks = p->nquirks;
}

const char *blt_profile_field_unit(const blt_profile_t *p, uint16_t block, const blt_field_t *f)
{
	blt_decode_opts_t o;
	const blt_field_quirk_t *q;
	if (!f)
		return NULL;
	blt_profile_decode_opts(p, &o);
	q = blt_decode_quirk(&o, block, f);
	return q && q->unit ? q->unit : f->unit;
}

int blt_profile_grid_import_sign(const blt_profile_t *p)
{
	return p && p->grid_import_sign > 0 ? +1 : -1;
}

bool blt_profile_grid_sign_verified(const blt_profile_t *p)
{
	return p && p->grid_sign_evidence != NULL;
}
