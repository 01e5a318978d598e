/* Writable settings and the write deny list: data plus small checks, no I/O.
 * Sources: PROTOCOL.md §6.2 (registers, ranges and evidence), §4.10 (b) (firmware layout of
 * 2000/2200, the registers it calls dangerous), §4.11 (7000).
 * Offsets point at the catalog row of the same name in block 2000 / 2200 / 7000. */
#include <string.h>
#include <strings.h>

#include <bluetti/settings.h>

static const blt_enum_entry_t charging_modes[] = {
	{0, "standard"}, {1, "silent"}, {2, "turbo"}, {4, "custom"}, {0, NULL},
};

/* As block 2000 names them (EVIDENCE.md §4: the app's names for 1/2/4/5). */
static const blt_enum_entry_t working_modes[] = {
	{0, "default"},      {1, "customized_ups"},   {2, "pv_priority"}, {3, "ups_online"},
	{4, "standard_ups"}, {5, "time_control_ups"}, {6, "off_grid"},    {0, NULL},
};

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

static const blt_enum_entry_t lcd_timeouts[] = {
	{1, "15s"}, {2, "30s"}, {3, "1min"}, {4, "5min"}, {5, "always_on"}, {0, NULL},
};

/* Evidence per profile (§5.2, §6.2): Patrick762 EL30V2 writes 2011/2012/2014-2021;
 * battery-ha (AP300) 2011-2023, 2207, 2208, 2213, 2215; the Elite 200 V2 BLE bridges only
 * 2011/2012, which every V2 client writes. */
static const char *const p_el30_ap300[] = {"EL30V2", "AP300", NULL};
static const char *const p_el30[] = {"EL30V2", NULL};
static const char *const p_ap300[] = {"AP300", NULL};

#define SWITCH(n, r, b, off, st, prof, d, src)                                             \
	{.name = n, .reg = r, .block = b, .offset = off, .field = n, .kind = BLT_SK_SWITCH,     \
	 .status = st, .min = 0, .max = 1, .step = 1, .profiles = prof, .desc = d, .source = src}
/* A main switch owners operate day to day (a primary control, not configuration). */
#define MAIN_SWITCH(n, r, b, off, st, prof, d, src)                                        \
	{.name = n, .reg = r, .block = b, .offset = off, .field = n, .kind = BLT_SK_SWITCH,     \
	 .status = st, .min = 0, .max = 1, .step = 1, .profiles = prof, .desc = d,              \
	 .source = src, .primary = true}
#define NUMBER(n, r, b, off, lo, hi, u, st, prof, d, src)                                  \
	{.name = n, .reg = r, .block = b, .offset = off, .field = n, .kind = BLT_SK_NUMBER,     \
	 .status = st, .min = lo, .max = hi, .step = 1, .unit = u, .profiles = prof, .desc = d, \
	 .source = src}
#define ENUM(n, r, b, off, e, st, prof, d, src)                                            \
	{.name = n, .reg = r, .block = b, .offset = off, .field = n, .kind = BLT_SK_ENUM,       \
	 .status = st, .enums = e, .profiles = prof, .desc = d, .source = src}

static const blt_setting_t settings[] = {
	ENUM("working_mode", 2005, 2000, 11, working_modes, BLT_SS_UNVERIFIED, NULL,
	     "system working mode", "firmware map only"),
	SWITCH("led", 2007, 2000, 15, BLT_SS_UNVERIFIED, NULL, "LED light on/off",
	       "firmware map only"),
	SWITCH("charge_from_grid", 2008, 2000, 17, BLT_SS_UNVERIFIED, NULL,
	       "charging from the grid on/off (old name meter_enable)",
	       "app name; nlimper Elite 200 V2 reads 1 (write untested)"),
	SWITCH("pv", 2009, 2000, 19, BLT_SS_UNVERIFIED, NULL, "PV input on/off",
	       "firmware map only"),
	SWITCH("inverter", 2010, 2000, 21, BLT_SS_UNVERIFIED, NULL, "inverter on/off",
	       "firmware map only"),
	MAIN_SWITCH("ac_output", 2011, 2000, 23, BLT_SS_LIVE, NULL, "AC output on/off",
	       "live: battery-ha AP300 (byte 23 flips); Elite 200 V2 BLE; Patrick762 EL30V2"),
	MAIN_SWITCH("dc_output", 2012, 2000, 25, BLT_SS_LIVE, NULL, "DC output on/off",
	       "live: battery-ha AP300; Elite 200 V2 BLE; Patrick762 EL30V2"),
	SWITCH("dc_eco", 2014, 2000, 29, BLT_SS_CLIENT, p_el30_ap300,
	       "DC ECO: switch DC output off when idle", "battery-ha, Patrick762 EL30V2"),
	NUMBER("dc_eco_hours", 2015, 2000, 30, 1, 4, "h", BLT_SS_CLIENT, p_el30_ap300,
	       "DC ECO idle time before switching off", "battery-ha range; Patrick762 enum 1-4 h"),
	NUMBER("dc_eco_watts", 2016, 2000, 32, 5, 20, "W", BLT_SS_CLIENT, p_el30_ap300,
	       "DC ECO power threshold", "battery-ha range"),
	SWITCH("ac_eco", 2017, 2000, 35, BLT_SS_CLIENT, p_el30_ap300,
	       "AC ECO: switch AC output off when idle", "battery-ha, Patrick762 EL30V2"),
	NUMBER("ac_eco_hours", 2018, 2000, 36, 1, 4, "h", BLT_SS_CLIENT, p_el30_ap300,
	       "AC ECO idle time before switching off", "battery-ha, Patrick762"),
	NUMBER("ac_eco_watts", 2019, 2000, 38, 10, 40, "W", BLT_SS_CLIENT, p_el30_ap300,
	       "AC ECO power threshold", "battery-ha range"),
	ENUM("charging_mode", 2020, 2000, 41, charging_modes, BLT_SS_CLIENT, p_el30_ap300,
	     "charging mode (3 is unused)", "battery-ha (0/1/2/4); Patrick762/JordiGrasvi 0-2"),
	SWITCH("power_lifting", 2021, 2000, 43, BLT_SS_CLIENT, p_el30,
	       "power lifting (super power) on/off", "Patrick762 EL30V2"),
	NUMBER("soc_low", 2022, 2000, 44, 0, 100, "%", BLT_SS_CLIENT, p_ap300,
	       "system low-SOC limit", "firmware map, battery-ha"),
	NUMBER("soc_high", 2023, 2000, 46, 1, 100, "%", BLT_SS_CLIENT, p_ap300,
	       "system high-SOC limit (charge ceiling)", "firmware map, battery-ha (1-100)"),
	SWITCH("alarm_sound", 2066, 2000, 133, BLT_SS_UNVERIFIED, NULL, "alarm sound on/off",
	       "firmware map only"),
	ENUM("lcd_timeout", 2067, 2000, 135, lcd_timeouts, BLT_SS_UNVERIFIED, NULL,
	     "LCD display timeout", "firmware map only"),
	SWITCH("grid_charge", 2207, 2200, 15, BLT_SS_CLIENT, p_ap300,
	       "allow charging from the grid", "battery-ha AP300 (live read at byte 15)"),
	SWITCH("feed_in", 2208, 2200, 17, BLT_SS_CLIENT, p_ap300,
	       "allow feed-in (export to the grid)", "battery-ha AP300"),
	NUMBER("grid_max_power", 2213, 2200, 26, 300, 6000, "W", BLT_SS_CLIENT, p_ap300,
	       "maximum grid charging power", "battery-ha range"),
	NUMBER("feed_in_max_power", 2215, 2200, 30, 0, 6000, "W", BLT_SS_CLIENT, p_ap300,
	       "maximum feed-in power", "battery-ha range"),
	NUMBER("pack_select", 7000, 7000, 0, 1, 16, NULL, BLT_SS_UNVERIFIED, NULL,
	       "battery pack selected for pack reads (range a guess: 16 packs max)",
	       "firmware map (SetPackID); V1 used 3006"),
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
	{2024, 2025, "inverter wiring / parallel topology and device id: wrong values can "
		     "damage connected equipment or break communication"},
	{2200, 2205, "settings-area password (credential)"},
	{2206, 2206, "factory reset"},
	{2209, 2212, "output voltage / frequency, max charge voltage and PV current: load and "
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
#define NDENY (sizeof deny / sizeof deny[0])

size_t blt_setting_count(void)
{
	return NSETTINGS;
}

const blt_setting_t *blt_setting_at(size_t i)
{
	return i < NSETTINGS ? &settings[i] : NULL;
}

const blt_setting_t *blt_setting_find(const char *name)
{
	const char *now = blt_catalog_field_alias(name);
	for (size_t i = 0; name && i < NSETTINGS; i++)
		if (strcasecmp(settings[i].name, name) == 0 ||
		    (now && strcasecmp(settings[i].name, now) == 0))
			return &settings[i];
	return NULL;
}

const blt_setting_t *blt_setting_by_register(uint16_t reg)
{
	for (size_t i = 0; i < NSETTINGS; i++)
		if (settings[i].reg == reg)
			return &settings[i];
	return NULL;
}

const char *blt_setting_kind_name(blt_setting_kind_t k)
{
	switch (k) {
	case BLT_SK_SWITCH: return "switch";
	case BLT_SK_ENUM: return "enum";
	case BLT_SK_NUMBER: return "number";
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
		int n = snprintf(buf + o, cap - o, "%s%d %s", o ? ", " : "", (int)e->value, e->name);
		if (n < 0)
			break;
		o += (size_t)n;
	}
}

int blt_setting_check_value(const blt_setting_t *s, int32_t value, blt_detail_t *d)
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
					      "%s: %ld is not a switch value (0 off, 1 on)", s->name,
					      (long)value);
		return BLT_OK;
	case BLT_SK_ENUM:
		for (const blt_enum_entry_t *e = s->enums; e && e->name; e++)
			if (e->value == value)
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
			return blt_detail_set(d, BLT_E_RANGE, "%s: %ld is not %ld + a multiple of %ld",
					      s->name, (long)value, (long)s->min, (long)s->step);
		return BLT_OK;
	}
	return blt_detail_set(d, BLT_E_INVAL, "%s: unknown setting kind %u", s->name, s->kind);
}

int blt_setting_check_write(const blt_setting_t *s, const char *profile_id, int32_t value,
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
	return BLT_OK;
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

int blt_setting_parse_value(const blt_setting_t *s, const char *text, int32_t *out,
			    blt_detail_t *d)
{
	int32_t v = 0;

	if (!s || !text || !out)
		return blt_detail_set(d, BLT_E_INVAL, "no setting or value");
	if (s->kind == BLT_SK_SWITCH) {
		if (!strcasecmp(text, "on") || !strcasecmp(text, "true") || !strcmp(text, "1"))
			v = 1;
		else if (!strcasecmp(text, "off") || !strcasecmp(text, "false") ||
			 !strcmp(text, "0"))
			v = 0;
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
