/* Derived quantities: one table (key, name, unit, classes, getter) for every program. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <bluetti/bluetti.h>
#include <bluetti/device.h>

static void number(double x, blt_derived_value_t *out)
{
	out->known = !isnan(x);
	out->num = x;
}

static bool core_or_battery(const blt_device_summary_t *s)
{
	return s->have_core || !isnan(s->battery_power);
}
static bool grid_or_core(const blt_device_summary_t *s)
{
	return s->have_grid || s->have_core;
}
static bool grid(const blt_device_summary_t *s)
{
	return s->have_grid;
}
static bool grid_and_core(const blt_device_summary_t *s)
{
	return s->have_grid && s->have_core;
}
static bool cells(const blt_device_summary_t *s)
{
	return s->cell_count > 0;
}
static bool always(const blt_device_summary_t *s)
{
	(void)s;
	return true;
}

static void get_battery_power(const blt_device_summary_t *s, blt_derived_value_t *out)
{
	number(s->battery_power, out);
}
static void get_net_grid_power(const blt_device_summary_t *s, blt_derived_value_t *out)
{
	number(s->net_grid_power, out);
}
static void get_cell_delta(const blt_device_summary_t *s, blt_derived_value_t *out)
{
	number(s->cell_delta, out);
}
static void get_grid_present(const blt_device_summary_t *s, blt_derived_value_t *out)
{
	out->known = s->have_grid;
	out->on = s->grid_present;
}
static void get_on_battery(const blt_device_summary_t *s, blt_derived_value_t *out)
{
	out->known = s->have_grid && s->have_core;
	out->on = s->on_battery;
}
static void get_grid_outage(const blt_device_summary_t *s, blt_derived_value_t *out)
{
	out->known = s->have_grid && s->have_core;
	out->on = s->grid_outage;
}
static void get_alarms(const blt_device_summary_t *s, blt_derived_value_t *out)
{
	size_t off = 0;
	out->known = s->have_core || s->have_grid || s->nalarms;
	snprintf(out->text, sizeof out->text, "none");
	for (unsigned i = 0; i < s->nalarms && off + 1 < sizeof out->text; i++) {
		int n = snprintf(out->text + off, sizeof out->text - off, "%s%s", i ? ", " : "",
		                 s->alarms[i]);
		if (n < 0 || (size_t)n >= sizeof out->text - off) {
			out->text[off] = '\0';
			break;
		}
		off += (size_t)n;
	}
}

/* Computed energy counters: applicable where the profile lacks the counter row. */
static bool computed(const blt_device_summary_t *s, blt_energy_t e)
{
	return (s->energy_computed >> e) & 1u;
}
#define ENERGY(id, low)                                                                            \
	static bool applies_##low(const blt_device_summary_t *s)                                   \
	{                                                                                          \
		return computed(s, id);                                                            \
	}                                                                                          \
	static void get_##low(const blt_device_summary_t *s, blt_derived_value_t *out)             \
	{                                                                                          \
		number(s->energy[id], out);                                                        \
	}
ENERGY(BLT_EN_PV, pv)
ENERGY(BLT_EN_GRID_IMPORT, grid_import)
ENERGY(BLT_EN_GRID_EXPORT, grid_export)
ENERGY(BLT_EN_BATTERY_CHARGE, battery_charge)
ENERGY(BLT_EN_BATTERY_DISCHARGE, battery_discharge)
ENERGY(BLT_EN_AC_LOAD, ac_load)
ENERGY(BLT_EN_DC_LOAD, dc_load)
#undef ENERGY

/* The power each counter integrates, in W, >= 0 (NAN unknown). */
static double positive(double w)
{
	return isnan(w) ? NAN : w > 0 ? w : 0;
}
static double pw_pv(const blt_device_summary_t *s)
{
	return positive(s->pv_power);
}
static double pw_import(const blt_device_summary_t *s)
{
	return positive(s->net_grid_power);
}
static double pw_export(const blt_device_summary_t *s)
{
	return positive(-s->net_grid_power);
}
static double pw_charge(const blt_device_summary_t *s)
{
	return positive(s->battery_power);
}
static double pw_discharge(const blt_device_summary_t *s)
{
	return positive(-s->battery_power);
}
static double pw_ac_load(const blt_device_summary_t *s)
{
	return positive(s->ac_load_power);
}
static double pw_dc_load(const blt_device_summary_t *s)
{
	return positive(s->dc_load_power);
}

#define COMPUTED_ENERGY                                                                            \
	.unit = "kWh", .device_class = "energy", .state_class = "total_increasing",                \
	.icon = "mdi:calculator-variant-outline", .decimals = 3

static const blt_derived_t table[] = {
    {.key = "battery_power",
     .name = "Battery power",
     .unit = "W",
     .device_class = "power",
     .state_class = "measurement",
     .decimals = 0,
     .source = "pack voltage x pack current (blocks 100 / 6000 / 6100); > 0 charging",
     .applies = core_or_battery,
     .get = get_battery_power},
    {.key = "net_grid_power",
     .name = "Net grid power",
     .unit = "W",
     .device_class = "power",
     .state_class = "measurement",
     .decimals = 0,
     .source = "block 1300 total power (or its phase sum) with the profile's sign, else "
               "block 100 grid_power; > 0 import",
     .applies = grid_or_core,
     .get = get_net_grid_power},
    {.key = "grid_present",
     .name = "Grid present",
     .device_class = "power",
     .kind = BLT_DK_FLAG,
     .decimals = -1,
     .source = "block 1300 phase voltage >= 80 V, else frequency 40-70 Hz",
     .applies = grid,
     .get = get_grid_present},
    {.key = "on_battery",
     .name = "On battery",
     .kind = BLT_DK_FLAG,
     .decimals = -1,
     .source = "no grid and the pack discharging",
     .applies = grid_and_core,
     .get = get_on_battery},
    {.key = "grid_outage",
     .name = "Grid outage",
     .device_class = "problem",
     .kind = BLT_DK_FLAG,
     .decimals = -1,
     .source = "the grid was present and is gone",
     .applies = grid_and_core,
     .get = get_grid_outage},
    {.key = "cell_voltage_delta",
     .name = "Cell voltage spread",
     .unit = "V",
     .device_class = "voltage",
     .state_class = "measurement",
     .decimals = 3,
     .diagnostic = true,
     .sub = 1,
     .source = "highest minus lowest cell voltage (block 6300)",
     .applies = cells,
     .get = get_cell_delta},
    {.key = "alarms",
     .name = "Alarms",
     .icon = "mdi:alert-circle-outline",
     .kind = BLT_DK_TEXT,
     .decimals = -1,
     .source = "names of the bits set in the rows flagged BLT_P_ALARM, or \"none\"",
     .applies = always,
     .get = get_alarms},
    /* Energy counters for the Energy dashboard where the model has none (computed: the
     * integral of the power the bridge reads, not the unit's own meter). */
    {.key = "pv_energy_computed",
     .name = "PV energy (computed)",
     COMPUTED_ENERGY,
     .source = "integral of pv_power (block 100) over the read times, where the profile has "
               "no PV energy counter",
     .applies = applies_pv,
     .get = get_pv,
     .counter = BLT_Q_PV_ENERGY,
     .energy = BLT_EN_PV,
     .power = pw_pv,
     .power_time = {BLT_Q_PV_POWER}},
    {.key = "grid_import_energy_computed",
     .name = "Grid import energy (computed)",
     COMPUTED_ENERGY,
     .source = "integral of net_grid_power > 0 over the read times, where the profile has no "
               "grid import counter",
     .applies = applies_grid_import,
     .get = get_grid_import,
     .counter = BLT_Q_GRID_IMPORT_ENERGY,
     .energy = BLT_EN_GRID_IMPORT,
     .power = pw_import,
     .power_time = {BLT_Q_GRID_POWER, BLT_Q_GRID_POWER_IMPORT}},
    {.key = "grid_export_energy_computed",
     .name = "Grid export energy (computed)",
     COMPUTED_ENERGY,
     .source = "integral of net_grid_power < 0 over the read times, where the profile has no "
               "grid export counter",
     .applies = applies_grid_export,
     .get = get_grid_export,
     .counter = BLT_Q_GRID_EXPORT_ENERGY,
     .energy = BLT_EN_GRID_EXPORT,
     .power = pw_export,
     .power_time = {BLT_Q_GRID_POWER, BLT_Q_GRID_POWER_IMPORT}},
    {.key = "battery_charge_energy_computed",
     .name = "Battery charge energy (computed)",
     COMPUTED_ENERGY,
     .source = "integral of battery_power > 0 over the read times, where the profile has no "
               "battery charge counter",
     .applies = applies_battery_charge,
     .get = get_battery_charge,
     .counter = BLT_Q_BATTERY_CHARGE_ENERGY,
     .energy = BLT_EN_BATTERY_CHARGE,
     .power = pw_charge,
     .power_time = {BLT_Q_PACK_CURRENT}},
    {.key = "battery_discharge_energy_computed",
     .name = "Battery discharge energy (computed)",
     COMPUTED_ENERGY,
     .source = "integral of battery_power < 0 over the read times, where the profile has no "
               "battery discharge counter",
     .applies = applies_battery_discharge,
     .get = get_battery_discharge,
     .counter = BLT_Q_BATTERY_DISCHARGE_ENERGY,
     .energy = BLT_EN_BATTERY_DISCHARGE,
     .power = pw_discharge,
     .power_time = {BLT_Q_PACK_CURRENT}},
    {.key = "ac_load_energy_computed",
     .name = "AC load energy (computed)",
     COMPUTED_ENERGY,
     .source = "integral of ac_load_power (block 100) over the read times, where the profile "
               "has no AC output energy counter",
     .applies = applies_ac_load,
     .get = get_ac_load,
     .counter = BLT_Q_AC_LOAD_ENERGY,
     .energy = BLT_EN_AC_LOAD,
     .power = pw_ac_load,
     .power_time = {BLT_Q_AC_LOAD_POWER}},
    {.key = "dc_load_energy_computed",
     .name = "DC load energy (computed)",
     COMPUTED_ENERGY,
     .source = "integral of dc_load_power (block 100) over the read times, where the profile "
               "has no DC output energy counter",
     .applies = applies_dc_load,
     .get = get_dc_load,
     .counter = BLT_Q_DC_LOAD_ENERGY,
     .energy = BLT_EN_DC_LOAD,
     .power = pw_dc_load,
     .power_time = {BLT_Q_DC_LOAD_POWER}},
};

size_t blt_derived_count(void)
{
	return sizeof table / sizeof table[0];
}

const blt_derived_t *blt_derived_at(size_t i)
{
	return i < blt_derived_count() ? &table[i] : NULL;
}

const blt_derived_t *blt_derived_find(const char *key)
{
	for (size_t i = 0; key && i < blt_derived_count(); i++)
		if (!strcmp(table[i].key, key))
			return &table[i];
	return NULL;
}

void blt_derived_get(const blt_device_t *dev, const blt_derived_t *q, blt_derived_value_t *out)
{
	memset(out, 0, sizeof *out);
	out->num = NAN;
	if (dev && q && q->get)
		q->get(blt_device_summary(dev), out);
}

bool blt_derived_offered(const blt_profile_t *p, const blt_derived_t *q)
{
	return q && (!q->counter || !blt_profile_has_quantity(p, (blt_quantity_t)q->counter));
}
