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
