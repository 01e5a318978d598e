/* Writable settings and the write deny list: data plus small checks, no I/O.
 * Sources: PROTOCOL.md §6.2 (registers, ranges and evidence), §4.10 (b) (firmware layout of
 * 2000/2200, the registers it calls dangerous), §4.11 (7000), LOCAL.md §1.2, §2.2, §4.3
 * (13742-13745).
 * A setting is {block, row, write policy}: register, offset, unit and value names come from
 * the catalog row of that name (resolved once, on first use). */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <bluetti/catalog.h>
#include <bluetti/settings.h>

/* Names renamed per EVIDENCE.md §4, still accepted where users may have scripts. */
static const struct {
	const char *old, *now;
} name_aliases[] = {
    {"meter_enable", "charge_from_grid"},
    {"remote_off_enable", "remote_startup_enable"},
};

static const struct {
	const char *setting;
	const char *old;
	int32_t value;
} value_aliases[] = {
    {"working_mode", "advanced", 1},
    {"working_mode", "eco", 2},
    {"working_mode", "ups_backup", 4},
    {"working_mode", "tou", 5},
};

const char *blt_catalog_field_alias(const char *name)
{
	for (size_t i = 0; name && i < sizeof name_aliases / sizeof name_aliases[0]; i++)
		if (strcasecmp(name_aliases[i].old, name) == 0)
			return name_aliases[i].now;
	return NULL;
}

/* Evidence per profile (§5.2, §6.2): Patrick762 EL30V2 writes 2011/2012/2014-2021;
 * battery-ha (AP300) 2011-2023, 2207, 2208, 2213, 2215; the Elite 200 V2 BLE bridges only
 * 2011/2012, which every V2 client writes. */
static const char *const p_el30_ap300[] = {"EL30V2", "AP300", NULL};
static const char *const p_el30[] = {"EL30V2", NULL};
static const char *const p_ap300[] = {"AP300", NULL};

/* The write policy of the row named n in block b. */
#define SWITCH(b, n, st, prof, d, src)                                                             \
	{                                                                                          \
		.name = n, .block = b, .field = n, .kind = BLT_SK_SWITCH, .status = st, .min = 0,  \
		.max = 1, .step = 1, .profiles = prof, .desc = d, .source = src                    \
	}
/* A main switch owners operate day to day (a primary control, not configuration). */
#define MAIN_SWITCH(b, n, st, prof, d, src)                                                        \
	{                                                                                          \
		.name = n, .block = b, .field = n, .kind = BLT_SK_SWITCH, .status = st, .min = 0,  \
		.max = 1, .step = 1, .profiles = prof, .desc = d, .source = src, .primary = true   \
	}
#define NUMBER(b, n, lo, hi, st, prof, d, src)                                                     \
	{                                                                                          \
		.name = n, .block = b, .field = n, .kind = BLT_SK_NUMBER, .status = st, .min = lo, \
		.max = hi, .step = 1, .profiles = prof, .desc = d, .source = src                   \
	}
/* Allowed values: the row's value names. */
#define ENUM(b, n, st, prof, d, src)                                                               \
	{                                                                                          \
		.name = n, .block = b, .field = n, .kind = BLT_SK_ENUM, .status = st,              \
		.profiles = prof, .desc = d, .source = src                                         \
	}
/* A 2-bit LAN switch (1 on, 2 off, 0 unchanged): opens an unauthenticated surface. */
#define LAN_SWITCH2(b, n, d, src)                                                                  \
	{                                                                                          \
		.name = n, .block = b, .field = n, .kind = BLT_SK_SWITCH2,                         \
		.status = BLT_SS_UNVERIFIED, .min = 1, .max = 2, .step = 1, .desc = d,             \
		.source = src, .lan_exposure = true                                                \
	}
#define LAN_NUMBER(b, n, lo, hi, d, src)                                                           \
	{                                                                                          \
		.name = n, .block = b, .field = n, .kind = BLT_SK_NUMBER,                          \
		.status = BLT_SS_UNVERIFIED, .min = lo, .max = hi, .step = 1, .desc = d,           \
		.source = src, .lan_exposure = true                                                \
	}

/* Not const: register, offset, unit, value names and row are filled from the catalog on
 * first use (resolve()). */
static blt_setting_t settings[] = {
    ENUM(2000, "working_mode", BLT_SS_UNVERIFIED, NULL, "system working mode", "firmware map only"),
    SWITCH(2000, "led", BLT_SS_UNVERIFIED, NULL, "LED light on/off", "firmware map only"),
    SWITCH(2000, "charge_from_grid", BLT_SS_UNVERIFIED, NULL,
           "charging from the grid on/off (old name meter_enable)",
           "app name; nlimper Elite 200 V2 reads 1 (write untested)"),
    SWITCH(2000, "pv", BLT_SS_UNVERIFIED, NULL, "PV input on/off", "firmware map only"),
    SWITCH(2000, "inverter", BLT_SS_UNVERIFIED, NULL, "inverter on/off", "firmware map only"),
    MAIN_SWITCH(2000, "ac_output", BLT_SS_LIVE, NULL, "AC output on/off",
                "live: battery-ha AP300 (byte 23 flips); Elite 200 V2 BLE; Patrick762 EL30V2"),
    MAIN_SWITCH(2000, "dc_output", BLT_SS_LIVE, NULL, "DC output on/off",
                "live: battery-ha AP300; Elite 200 V2 BLE; Patrick762 EL30V2"),
    SWITCH(2000, "dc_eco", BLT_SS_CLIENT, p_el30_ap300, "DC ECO: switch DC output off when idle",
           "battery-ha, Patrick762 EL30V2"),
    NUMBER(2000, "dc_eco_hours", 1, 4, BLT_SS_CLIENT, p_el30_ap300,
           "DC ECO idle time before switching off", "battery-ha range; Patrick762 enum 1-4 h"),
    NUMBER(2000, "dc_eco_watts", 5, 20, BLT_SS_CLIENT, p_el30_ap300, "DC ECO power threshold",
           "battery-ha range"),
    SWITCH(2000, "ac_eco", BLT_SS_CLIENT, p_el30_ap300, "AC ECO: switch AC output off when idle",
           "battery-ha, Patrick762 EL30V2"),
    NUMBER(2000, "ac_eco_hours", 1, 4, BLT_SS_CLIENT, p_el30_ap300,
           "AC ECO idle time before switching off", "battery-ha, Patrick762"),
    NUMBER(2000, "ac_eco_watts", 10, 40, BLT_SS_CLIENT, p_el30_ap300, "AC ECO power threshold",
           "battery-ha range"),
    ENUM(2000, "charging_mode", BLT_SS_CLIENT, p_el30_ap300, "charging mode (3 is unused)",
         "battery-ha (0/1/2/4); Patrick762/JordiGrasvi 0-2"),
    SWITCH(2000, "power_lifting", BLT_SS_CLIENT, p_el30, "power lifting (super power) on/off",
           "Patrick762 EL30V2"),
    NUMBER(2000, "soc_low", 0, 100, BLT_SS_CLIENT, p_ap300, "system low-SOC limit",
           "firmware map, battery-ha"),
    NUMBER(2000, "soc_high", 1, 100, BLT_SS_CLIENT, p_ap300,
           "system high-SOC limit (charge ceiling)", "firmware map, battery-ha (1-100)"),
    SWITCH(2000, "alarm_sound", BLT_SS_UNVERIFIED, NULL, "alarm sound on/off", "firmware map only"),
    ENUM(2000, "lcd_timeout", BLT_SS_UNVERIFIED, NULL, "LCD display timeout", "firmware map only"),
    SWITCH(2200, "grid_charge", BLT_SS_CLIENT, p_ap300, "allow charging from the grid",
           "battery-ha AP300 (live read at byte 15)"),
    SWITCH(2200, "feed_in", BLT_SS_CLIENT, p_ap300, "allow feed-in (export to the grid)",
           "battery-ha AP300"),
    NUMBER(2200, "grid_max_power", 300, 6000, BLT_SS_CLIENT, p_ap300, "maximum grid charging power",
           "battery-ha range"),
    NUMBER(2200, "feed_in_max_power", 0, 6000, BLT_SS_CLIENT, p_ap300, "maximum feed-in power",
           "battery-ha range"),
    NUMBER(7000, "pack_select", 1, 16, BLT_SS_UNVERIFIED, NULL,
           "battery pack selected for pack reads (range a guess: 16 packs max)",
           "firmware map (SetPackID); V1 used 3006"),
    /* The LAN paths (`bluetti local enable|disable`): unauthenticated control surfaces,
     * never on without BLT_WRITE_ALLOW_LAN_EXPOSURE; untested on any V2 unit. */
    LAN_SWITCH2(13742, "open_mqtt_report", "Open MQTT periodic push of block 11000",
                "firmware (LOCAL.md §2.2, §4.3: 13742 = 0x0051)"),
    LAN_SWITCH2(13742, "open_mqtt_control", "Open MQTT control flag (writes from the broker)",
                "firmware (LOCAL.md §2.2, §4.3: 13742 = 0x0051)"),
    LAN_SWITCH2(13742, "open_mqtt", "Open MQTT: the device connects to the owner's broker",
                "firmware (LOCAL.md §2.2, §4.3: 13742 = 0x0051)"),
    LAN_NUMBER(13742, "open_mqtt_report_cycle", 1, 65535,
               "seconds between Open MQTT pushes of block 11000",
               "firmware (LOCAL.md §2.2: 1-65535, 0 means 60)"),
    LAN_SWITCH2(13742, "modbus_tcp_tls", "Modbus TCP over TLS",
                "firmware (LOCAL.md §1.2, §4.3: 13744 = 0x0009, TLS off)"),
    LAN_SWITCH2(13742, "modbus_tcp", "Modbus TCP server",
                "firmware (LOCAL.md §1.2, §4.3: 13744 = 0x0009)"),
    LAN_NUMBER(13742, "modbus_tcp_port", 1, 65535, "Modbus TCP port",
               "firmware (LOCAL.md §1.2: 13745, default 502)"),
};

typedef struct denied {
	uint16_t first, last;
	const char *why;
} denied_t;

/* Sorted by register. */
static const denied_t deny[] = {
    {7, 9, "app/BLE password (credential; a wrong write locks the app out)"},
    {700, 705, "OTA command: starts a firmware update"},
    {2006, 2006, "one-shot commands: clear energy counters, logs, faults, periods"},
    {2013, 2013, "system power / shutdown: switches the whole device off"},
    {2024, 2025,
     "inverter wiring / parallel topology and device id: wrong values can "
     "damage connected equipment or break communication"},
    {2200, 2205, "settings-area password (credential)"},
    {2206, 2206, "factory reset"},
    {2209, 2212,
     "output voltage / frequency, max charge voltage and PV current: load and "
     "battery protection limits"},
    {2229, 2230, "inverter parallel mode and address: wrong values break communication"},
    {2232, 2232, "mixed enables including 'restore default parameters'"},
    {2233, 2233, "battery maintenance / aging routine"},
    {2258, 2265, "grid protection thresholds (regulatory)"},
    {2300, 2319, "certification settings area (regulatory; layout unpublished)"},
    {2400, 2449, "grid certification settings (regulatory)"},
    {7003, 7003, "unlock a battery pack locked after a fault (battery safety)"},
    {12002, 12050, "Wi-Fi credentials: a wrong write disconnects the device from the cloud"},
    {15600, 15600, "DC-DC switch word contains a factory-reset field"},
    {15750, 15751, "DC/AC hub setting words contain factory-reset fields"},
    {40132, 40138, "grid protection values (regulatory)"},
};

#define NSETTINGS (sizeof settings / sizeof settings[0])
#define NDENY     (sizeof deny / sizeof deny[0])

/* Fill register, offset, unit, value names and row of every setting from its catalog row.
 * A setting whose row is missing keeps reg 0 and row NULL: every check refuses it (the
 * catalog tests make sure none is). */
static void resolve(void)
{
	for (size_t i = 0; i < NSETTINGS; i++) {
		blt_setting_t *s = &settings[i];
		const blt_block_t *b = blt_catalog_find(s->block);
		for (size_t k = 0; b && k < b->nfields; k++) {
			const blt_field_t *f = &b->fields[k];
			if (f->repeat || strcmp(f->name, s->field) != 0)
				continue;
			s->row = f;
			s->offset = f->offset;
			s->reg = (uint16_t)(b->id + f->offset / 2);
			s->unit = f->unit;
			if (s->kind == BLT_SK_ENUM)
				s->enums = f->enums;
			break;
		}
	}
}

static pthread_once_t resolved = PTHREAD_ONCE_INIT;

static void ensure_resolved(void)
{
	pthread_once(&resolved, resolve);
}

size_t blt_setting_count(void)
{
	return NSETTINGS;
}

const blt_setting_t *blt_setting_at(size_t i)
{
	ensure_resolved();
	return i < NSETTINGS ? &settings[i] : NULL;
}

const blt_setting_t *blt_setting_find(const char *name)
{
	const char *now = blt_catalog_field_alias(name);
	ensure_resolved();
	for (size_t i = 0; name && i < NSETTINGS; i++)
		if (strcasecmp(settings[i].name, name) == 0 ||
		    (now && strcasecmp(settings[i].name, now) == 0))
			return &settings[i];
	return NULL;
}

/* The first setting of register reg (13742 and 13744 hold several 2-bit switches: the
 * register write path names the register, and any of its fields' settings has the same
 * policy). */
const blt_setting_t *blt_setting_by_register(uint16_t reg)
{
	ensure_resolved();
	for (size_t i = 0; i < NSETTINGS; i++)
		if (settings[i].row && settings[i].reg == reg)
			return &settings[i];
	return NULL;
}

const char *blt_setting_kind_name(blt_setting_kind_t k)
{
	switch (k) {
	case BLT_SK_SWITCH: return "switch";
	case BLT_SK_ENUM: return "enum";
	case BLT_SK_NUMBER: return "number";
	case BLT_SK_SWITCH2: return "switch2";
	}
	return "?";
}

const char *blt_setting_status_name(blt_setting_status_t s)
{
	switch (s) {
	case BLT_SS_LIVE: return "live";
	case BLT_SS_CLIENT: return "client";
	case BLT_SS_UNVERIFIED: return "unverified";
	}
	return "?";
}

bool blt_setting_supports_profile(const blt_setting_t *s, const char *profile_id)
{
	if (!s || !profile_id)
		return false;
	if (!s->profiles)
		return true;
	for (const char *const *p = s->profiles; *p; p++)
		if (strcasecmp(*p, profile_id) == 0)
			return true;
	return false;
}

bool blt_register_denied(uint16_t reg, const char **why)
{
	for (size_t i = 0; i < NDENY; i++) {
		if (reg >= deny[i].first && reg <= deny[i].last) {
			if (why)
				*why = deny[i].why;
			return true;
		}
	}
	return false;
}

size_t blt_denied_count(void)
{
	return NDENY;
}

bool blt_denied_at(size_t i, uint16_t *first, uint16_t *last, const char **why)
{
	if (i >= NDENY)
		return false;
	if (first)
		*first = deny[i].first;
	if (last)
		*last = deny[i].last;
	if (why)
		*why = deny[i].why;
	return true;
}

/* "0 standard, 1 silent, ..." into buf. */
static void enum_list(const blt_enum_entry_t *e, char *buf, size_t cap)
{
	size_t o = 0;
	buf[0] = '\0';
	for (; e && e->name && o < cap; e++) {
		int n =
		    snprintf(buf + o, cap - o, "%s%d %s", o ? ", " : "", (int)e->value, e->name);
		if (n < 0)
			break;
		o += (size_t)n;
	}
}

blt_err_t blt_setting_check_value(const blt_setting_t *s, int32_t value, blt_detail_t *d)
{
	const char *why = NULL;

	if (!s)
		return blt_detail_set(d, BLT_E_INVAL, "no setting");
	if (blt_register_denied(s->reg, &why))
		return blt_detail_set(d, BLT_E_DENIED, "register %u (%s) is never written: %s",
		                      s->reg, s->name, why);
	switch (s->kind) {
	case BLT_SK_SWITCH:
		if (value != 0 && value != 1)
			return blt_detail_set(d, BLT_E_RANGE,
			                      "%s: %ld is not a switch value (0 off, 1 on)",
			                      s->name, (long)value);
		return BLT_OK;
	case BLT_SK_ENUM:
		if (blt_enum_name(s->enums, value))
			return BLT_OK;
		{
			char list[160];
			enum_list(s->enums, list, sizeof list);
			return blt_detail_set(d, BLT_E_RANGE, "%s: %ld is not one of: %s", s->name,
			                      (long)value, list);
		}
	case BLT_SK_NUMBER:
		if (value < s->min || value > s->max)
			return blt_detail_set(d, BLT_E_RANGE, "%s: %ld is outside %ld..%ld%s%s",
			                      s->name, (long)value, (long)s->min, (long)s->max,
			                      s->unit ? " " : "", s->unit ? s->unit : "");
		if (s->step > 1 && (value - s->min) % s->step != 0)
			return blt_detail_set(d, BLT_E_RANGE,
			                      "%s: %ld is not %ld + a multiple of %ld", s->name,
			                      (long)value, (long)s->min, (long)s->step);
		return BLT_OK;
	case BLT_SK_SWITCH2:
		if (!s->row || !s->row->mask)
			return blt_detail_set(d, BLT_E_INVAL,
			                      "%s: no catalog row with a field mask", s->name);
		if (value != (int32_t)(1u << s->row->shift) &&
		    value != (int32_t)(2u << s->row->shift))
			return blt_detail_set(
			    d, BLT_E_RANGE,
			    "%s: %ld is not a value of this switch (%lu on, %lu off: "
			    "1 or 2 at bits %u-%u, 0 elsewhere)",
			    s->name, (long)value, 1ul << s->row->shift, 2ul << s->row->shift,
			    s->row->shift, s->row->shift + 1u);
		return BLT_OK;
	}
	return blt_detail_set(d, BLT_E_INVAL, "%s: unknown setting kind %u", s->name, s->kind);
}

blt_err_t blt_setting_check_write(const blt_setting_t *s, const char *profile_id, int32_t value,
                                  unsigned flags, blt_detail_t *d)
{
	int rc = blt_setting_check_value(s, value, d);
	if (rc != BLT_OK)
		return rc;
	if (s->status == BLT_SS_UNVERIFIED && !(flags & BLT_WRITE_ALLOW_UNVERIFIED))
		return blt_detail_set(d, BLT_E_DENIED,
		                      "%s (register %u) is known from the firmware map only and "
		                      "unverified on real devices; an explicit override is needed",
		                      s->name, s->reg);
	if (profile_id && !blt_setting_supports_profile(s, profile_id) &&
	    !(flags & BLT_WRITE_ALLOW_PROFILE))
		return blt_detail_set(d, BLT_E_DENIED,
		                      "%s (register %u) is not known to work on profile %s; an "
		                      "explicit override is needed",
		                      s->name, s->reg, profile_id);
	if (s->lan_exposure && !(flags & BLT_WRITE_ALLOW_LAN_EXPOSURE))
		return blt_detail_set(
		    d, BLT_E_DENIED,
		    "%s (register %u) opens an unauthenticated control surface on "
		    "the LAN; an explicit confirmation is needed",
		    s->name, s->reg);
	return BLT_OK;
}

const char *blt_setting_value_name(const blt_setting_t *s, int32_t value)
{
	if (!s)
		return NULL;
	switch (s->kind) {
	case BLT_SK_SWITCH: return value == 0 ? "off" : value == 1 ? "on" : NULL;
	case BLT_SK_ENUM: return blt_enum_name(s->enums, value);
	case BLT_SK_SWITCH2:
		if (s->row && s->row->mask && ((uint32_t)value & ~s->row->mask) == 0) {
			uint32_t fv = ((uint32_t)value & s->row->mask) >> s->row->shift;
			return fv == 1 ? "on" : fv == 2 ? "off" : fv == 0 ? "unset" : NULL;
		}
		return NULL;
	}
	return NULL;
}

/* Strict decimal integer (optional sign), no trailing garbage, within int32. */
static bool parse_int(const char *t, int32_t *out)
{
	int64_t v = 0;
	bool neg = false;
	if (!t)
		return false;
	if (*t == '-' || *t == '+')
		neg = *t++ == '-';
	if (!*t)
		return false;
	for (; *t; t++) {
		if (*t < '0' || *t > '9')
			return false;
		v = v * 10 + (*t - '0');
		if (v > (int64_t)INT32_MAX + 1)
			return false;
	}
	if (neg)
		v = -v;
	if (v < INT32_MIN || v > INT32_MAX)
		return false;
	*out = (int32_t)v;
	return true;
}

static bool value_alias(const blt_setting_t *s, const char *text, int32_t *v)
{
	for (size_t i = 0; i < sizeof value_aliases / sizeof value_aliases[0]; i++)
		if (strcasecmp(value_aliases[i].setting, s->name) == 0 &&
		    strcasecmp(value_aliases[i].old, text) == 0) {
			*v = value_aliases[i].value;
			return true;
		}
	return false;
}

/* A 2-bit switch given as its register word: exactly the "on" (1) or "off" (2) code at the
 * row's shift, in decimal. */
static bool switch2_word(const char *text, unsigned sh, int32_t *v)
{
	char *end;
	unsigned long w;
	if (!isdigit((unsigned char)text[0]))
		return false;
	errno = 0;
	w = strtoul(text, &end, 10);
	if (errno || *end || (w != (1ul << sh) && w != (2ul << sh)))
		return false;
	*v = (int32_t)w;
	return true;
}

blt_err_t blt_setting_parse_value(const blt_setting_t *s, const char *text, int32_t *out,
                                  blt_detail_t *d)
{
	int32_t v = 0;

	if (!s || !text || !out)
		return blt_detail_set(d, BLT_E_INVAL, "no setting or value");
	if (s->kind == BLT_SK_SWITCH || s->kind == BLT_SK_SWITCH2) {
		unsigned sh = s->kind == BLT_SK_SWITCH2 && s->row ? s->row->shift : 0;
		if (!strcasecmp(text, "on") || !strcasecmp(text, "true") || !strcmp(text, "1"))
			v = s->kind == BLT_SK_SWITCH2 ? (int32_t)(1u << sh) : 1;
		else if (!strcasecmp(text, "off") || !strcasecmp(text, "false") ||
		         !strcmp(text, "0"))
			v = s->kind == BLT_SK_SWITCH2 ? (int32_t)(2u << sh) : 0;
		else if (s->kind == BLT_SK_SWITCH2 && switch2_word(text, sh, &v))
			; /* the register word as shown ("2(off)" reads back from "2") */
		else
			return blt_detail_set(d, BLT_E_RANGE,
			                      "%s: '%.40s' is not on/off/true/false/1/0", s->name,
			                      text);
	} else if (s->kind == BLT_SK_ENUM) {
		const blt_enum_entry_t *e = s->enums;
		for (; e && e->name; e++)
			if (strcasecmp(e->name, text) == 0)
				break;
		if (e && e->name) {
			v = e->value;
		} else if (value_alias(s, text, &v)) {
			/* an old option name */
		} else if (!parse_int(text, &v)) {
			char list[160];
			enum_list(s->enums, list, sizeof list);
			return blt_detail_set(d, BLT_E_RANGE, "%s: '%.40s' is not one of: %s",
			                      s->name, text, list);
		}
	} else if (!parse_int(text, &v)) {
		return blt_detail_set(d, BLT_E_INVAL, "%s: '%.40s' is not an integer", s->name,
		                      text);
	}
	{
		int rc = blt_setting_check_value(s, v, d);
		if (rc != BLT_OK)
			return rc;
	}
	*out = v;
	return BLT_OK;
}
