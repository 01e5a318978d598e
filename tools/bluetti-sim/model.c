/* The physical model of a simulated V2 unit and its encoding into the catalog blocks.
 *
 * Start state = the PROTOCOL.md §7.2 Elite 100 V2 scenario: grid present (230 V / 50 Hz)
 * but idle, a 145 W AC load on the inverter, battery (16S LiFePO4) at 76 % discharging
 * ~2.9 A, cells ~3.32 V, ~25 °C, energy counters at the §7.2 values. Every tick the grid
 * wanders (228-232 V, 49.9-50.1 Hz), the load varies (130-220 W, so that a phase's
 * 0.1 A current resolution keeps P within 10 % of V x I), SOC follows the pack power;
 * below 70 % the unit grid-charges at ~350 W (with pass-through of the load) up to 80 %.
 * Settings are read back from register memory: 2011 AC output, 2012 DC output, 2207 grid
 * charging, 2023 SOC ceiling, 2213 max grid power.
 *
 * Signs follow the firmware: grid power/current negative = grid -> device (§4.4),
 * pack current negative = discharging (§7.2).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sim.h"

#define EFF_INV        0.94 /* battery -> AC */
#define EFF_CHG        0.93 /* grid -> battery */
#define EFF_DC         0.95 /* battery -> DC outputs */
#define SOC_CHARGE_ON  70.0
#define SOC_CHARGE_OFF 80.0
#define CHARGE_W       350.0
#define DC_LOAD_W      8.0  /* a phone on USB when DC output is on */
#define PF_GRID        0.99 /* the charger's input (active PFC) */
#define PF_LOAD        0.97 /* the AC load */

/* One AC phase of P watts at V volts and power factor pf: the current carries the apparent
 * power (|I| = S / V, signed like P, 0.1 A resolution) and the apparent power is never
 * below the active power, so P = V x I x pf and S >= |P| hold on the wire. */
static void ac_phase(double p, double v, double pf, double *amps, double *va)
{
	double s = fabs(p) / pf;
	*amps = v > 0 ? copysign(round(s / v * 10.0) / 10.0, p) : 0;
	*va = fmax(ceil(s), fabs(p));
	if (p == 0)
		*amps = *va = 0;
}

/* The pack of the profile (catalog facts); unknown: 16 cells of 20 Ah. */
static void geometry(sim_device_t *dev)
{
	unsigned cells = dev->profile->cells;

	if (cells < 4 || cells > SIM_MAX_CELLS)
		cells = 16;
	dev->ncells = cells;
	dev->nntc = 4;
	dev->capacity_wh =
	    dev->profile->capacity_wh > 0 ? dev->profile->capacity_wh : cells * 3.2 * 20.0;
}

static uint16_t reg_or(const sim_device_t *dev, uint16_t reg, uint16_t dflt)
{
	uint16_t v;
	return sim_reg_get(dev, reg, &v) == BLT_OK ? v : dflt;
}

/* Settings defaults (PROTOCOL.md §4.10; 2200 values from the live AP300 read). */
static void settings_defaults(sim_device_t *dev)
{
	static const struct {
		uint16_t reg, val;
	} defs[] = {
	    {2000, 0},      {2004, 0},    {2005, 0},   {2007, 1},   {2008, 0},      {2009, 1},
	    {2010, 1},      {2011, 1},    {2012, 0},   {2013, 0},   {2014, 0},      {2015, 4},
	    {2016, 10},     {2017, 0},    {2018, 4},   {2019, 20},  {2020, 0},      {2021, 0},
	    {2022, 5},      {2023, 100},  {2066, 1},   {2067, 3},   {2207, 1},      {2208, 0},
	    {2209, 1},      {2213, 1000}, {2214, 10},  {2215, 800}, {2218, 3},      {2232, 0x0800},
	    {2242, 10},     {2243, 240},  {2258, 80},  {2259, 300}, {2260, 113},    {2261, 300},
	    {2262, 330},    {2263, 100},  {2264, 330}, {2265, 100}, {2269, 0x0202}, {2270, 0x0300},
	    {2271, 0x010a}, {2272, 10},   {2273, 8},
	};
	for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++)
		sim_reg_set(dev, defs[i].reg, defs[i].val);
}

/* Date/time registers 2001-2003 (byte order a guess, §4.10): year-2000, month, day,
 * hour, minute, second in consecutive bytes. */
static void settings_clock(sim_device_t *dev)
{
	time_t now = time(NULL);
	struct tm tm;
	if (!gmtime_r(&now, &tm))
		return;
	sim_reg_set(dev, 2001, (uint16_t)(((tm.tm_year - 100) & 0xff) << 8 | (tm.tm_mon + 1)));
	sim_reg_set(dev, 2002, (uint16_t)(tm.tm_mday << 8 | tm.tm_hour));
	sim_reg_set(dev, 2003, (uint16_t)(tm.tm_min << 8 | tm.tm_sec));
}

static double clampd(double v, double lo, double hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static double jitter(sim_device_t *dev, double amplitude)
{
	return (sim_rand(&dev->rng) - 0.5) * 2.0 * amplitude;
}

static void physics(sim_device_t *dev, double dt)
{
	sim_state_t *s = &dev->st;
	double sdt = dt * (dev->opts && dev->opts->speed > 0 ? dev->opts->speed : 1.0);
	double h = sdt / 3600.0;
	bool ac_on = (reg_or(dev, 2011, 1) & 0xff) != 0;
	bool dc_on = (reg_or(dev, 2012, 0) & 0xff) != 0;
	bool chg_ok = (reg_or(dev, 2207, 1) & 0xff) != 0;
	unsigned soc_high = reg_or(dev, 2023, 100) & 0xff;
	unsigned max_grid = reg_or(dev, 2213, 0);
	double chg_off = SOC_CHARGE_OFF;
	/* expansion packs (--packs) sit in parallel with the unit's own pack: the battery power
	 * splits by capacity, so every pack's SOC moves at the same rate */
	double cap_total = dev->capacity_wh + sim_nodes_capacity(dev);

	if (soc_high == 0 || soc_high > 100)
		soc_high = 100;
	if (soc_high < chg_off)
		chg_off = soc_high;
	s->t_s += sdt;

	if (dt > 0) { /* wander with mean reversion, a step per tick */
		s->grid_v =
		    clampd(s->grid_v + (230.0 - s->grid_v) * 0.1 + jitter(dev, 0.4), 228.2, 231.8);
		s->grid_f =
		    clampd(s->grid_f + (50.0 - s->grid_f) * 0.2 + jitter(dev, 0.02), 49.92, 50.08);
		s->inv_v = clampd(230.0 + jitter(dev, 0.3), 229.5, 230.5);
		s->inv_f = 50.0;
		s->demand_w = clampd(s->demand_w + (150.0 - s->demand_w) * 0.05 + jitter(dev, 6.0),
		                     130.0, 220.0);
	}

	if (!s->charging && chg_ok && s->soc <= SOC_CHARGE_ON)
		s->charging = true;
	if (s->charging && (!chg_ok || s->soc >= chg_off))
		s->charging = false;

	s->ac_load_w = ac_on ? s->demand_w : 0;
	s->dc_load_w = dc_on ? DC_LOAD_W : 0;
	if (!s->charging && s->soc <= 1.0) /* low-battery cut-off */
		s->ac_load_w = s->dc_load_w = 0;
	if (s->charging) {
		double c = CHARGE_W + jitter(dev, 8.0);
		if (max_grid > 0 && c > max_grid)
			c = max_grid;
		s->charge_in_w = c;
		s->grid_in_w = c + s->ac_load_w; /* the load passes through from the grid */
		s->inverter_w = c;
		s->pack_w = c * EFF_CHG - s->dc_load_w / EFF_DC;
	} else {
		s->charge_in_w = 0;
		s->grid_in_w = 0;
		s->inverter_w = s->ac_load_w / EFF_INV;
		s->pack_w = -(s->inverter_w + s->dc_load_w / EFF_DC);
	}

	s->soc = clampd(s->soc + s->pack_w * h / cap_total * 100.0, 0.0, 100.0);
	s->e_ac_wh += s->ac_load_w * h;
	s->e_dc_wh += s->dc_load_w * h;
	s->e_grid_in_wh += s->grid_in_w * h;
	s->e_inv_wh += s->inverter_w * h;
	if (s->pack_w > 0)
		s->e_pack_chg_wh += s->pack_w * h;
	else
		s->e_pack_dis_wh -= s->pack_w * h;
	s->cycles = s->e_pack_dis_wh / cap_total;

	s->own_w = s->pack_w * dev->capacity_wh / cap_total;
	sim_pack_cells(dev, s->own_w);
	s->own_a = s->own_w / s->pack_v;
	s->pack_a = s->pack_w / s->pack_v; /* all packs at the unit's bus voltage */
	s->temp_c += (25.0 + fabs(s->own_w) / 250.0 - s->temp_c) * clampd(0.02 * sdt, 0, 1);
	sim_nodes_tick(dev, sdt, cap_total);
}

/* LiFePO4 cells of dev's pack at its SOC carrying pack_w: flat OCV curve (3.20 V empty ..
 * 3.36 V full), a little IR drop; the pack voltage is their sum. */
void sim_pack_cells(sim_device_t *dev, double pack_w)
{
	sim_state_t *s = &dev->st;
	double vsum = 0;
	for (unsigned i = 0; i < dev->ncells; i++) {
		double off_mv = i == 0                 ? 2
		                : i + 1 == dev->ncells ? -2
		                : i < dev->ncells / 2  ? 1
		                                       : 0;
		double ocv = 3.200 + 0.0016 * s->soc;
		double v = ocv + (pack_w / (ocv * dev->ncells)) * 0.0015 + off_mv / 1000.0;
		s->cell_v[i] = round(v * 1000.0) / 1000.0;
		vsum += s->cell_v[i];
	}
	s->pack_v = vsum;
}

/* State of charge of the whole battery (own pack and expansion packs, by capacity). */
static double total_soc(const sim_device_t *dev)
{
	double wh = dev->capacity_wh * dev->st.soc, cap = dev->capacity_wh;
	for (size_t i = 0; i < dev->nnodes; i++)
		if (dev->nodes[i]->capacity_wh > 0) {
			wh += dev->nodes[i]->capacity_wh * dev->nodes[i]->st.soc;
			cap += dev->nodes[i]->capacity_wh;
		}
	return wh / cap;
}

static unsigned pack_count(const sim_device_t *dev)
{
	return 1 + (dev->opts ? dev->opts->packs : 0);
}

/* Energy in the unit of the catalog row (kWh / Wh / raw Wh when unitless). */
static void set_energy(sim_device_t *dev, uint16_t block, const char *name, double wh)
{
	sim_region_t *r = NULL;
	const char *unit = NULL;
	for (size_t i = 0; i < dev->nregions; i++)
		if (dev->regions[i].start == block)
			r = &dev->regions[i];
	if (r && r->block)
		for (size_t i = 0; i < r->block->nfields; i++)
			if (strcmp(r->block->fields[i].name, name) == 0)
				unit = r->block->fields[i].unit;
	sim_set_num(dev, block, name,
	            unit && strcmp(unit, "kWh") == 0 ? floor(wh / 100.0) / 10.0 : floor(wh));
}

#define NUM(b, n, v) sim_set_num(dev, b, n, v)

static double minutes_to_full(const sim_device_t *dev)
{
	const sim_state_t *s = &dev->st;
	if (s->pack_w <= 1)
		return 0;
	double cap = dev->capacity_wh + sim_nodes_capacity(dev);
	return fmin(65535, (100.0 - s->soc) / 100.0 * cap / s->pack_w * 60.0);
}

static double minutes_to_empty(const sim_device_t *dev)
{
	const sim_state_t *s = &dev->st;
	if (s->pack_w >= -1)
		return 0;
	double cap = dev->capacity_wh + sim_nodes_capacity(dev);
	return fmin(65535, s->soc / 100.0 * cap / -s->pack_w * 60.0);
}

static int charging_status(const sim_state_t *s)
{
	return s->pack_w > 1 ? 1 : s->pack_w < -1 ? 2 : 0;
}

static void put_identity(sim_device_t *dev)
{
	/* every catalog row that holds a serial or a model/type name */
	for (size_t i = 0; i < dev->nregions; i++) {
		const blt_block_t *b = dev->regions[i].block;
		if (!b || dev->regions[i].start == 6300)
			continue;
		for (size_t j = 0; j < b->nfields; j++) {
			const blt_field_t *f = &b->fields[j];
			if (f->repeat || strstr(f->name, "%u"))
				continue;
			if (f->type == BLT_T_SN64)
				sim_set_str(dev, b->id, f->name, dev->sn);
			else if (f->type == BLT_T_STR_SWAP &&
			         (strstr(f->name, "model") || strstr(f->name, "type")))
				sim_set_str(dev, b->id, f->name, dev->model);
		}
	}
}

static void put_home(sim_device_t *dev)
{
	const sim_state_t *s = &dev->st;
	bool ac_on = s->ac_load_w > 0, dc_on = s->dc_load_w > 0;
	unsigned lines = 0, ctrl = 0x1;

	if (ac_on)
		lines |= 1u << 3 | 1u << 10;
	if (dc_on)
		lines |= 1u << 4 | 1u << 10;
	if (s->charging)
		lines |= 1u << 1 | 1u << 6 | 1u << 9 | (ac_on ? 1u << 7 : 0);
	else if (s->inverter_w > 0)
		lines |= 1u << 5;
	ctrl |=
	    (ac_on ? 1u << 1 : 0) | (dc_on ? 1u << 2 : 0) | 1u << 3 | (s->charging ? 1u << 4 : 0);

	NUM(100, "pack_voltage", s->pack_v);
	NUM(100, "pack_current", s->pack_a);
	NUM(100, "soc", floor(total_soc(dev) + 0.5));
	NUM(100, "charging_status", charging_status(s));
	NUM(100, "time_to_full", floor(minutes_to_full(dev)));
	NUM(100, "time_to_empty", floor(minutes_to_empty(dev)));
	NUM(100, "pack_count", pack_count(dev));
	NUM(100, "packs_online", pack_count(dev));
	NUM(100, "inverter_count", 1);
	NUM(100, "inverters_online", 1);
	NUM(100, "inverter_power_class", 1);
	NUM(100, "energy_flow", lines);
	NUM(100, "control_status", ctrl);
	NUM(100, "dc_load_power", floor(s->dc_load_w + 0.5));
	NUM(100, "ac_load_power", floor(s->ac_load_w + 0.5));
	NUM(100, "pv_power", 0);
	NUM(100, "grid_power", floor(s->grid_in_w + 0.5)); /* 146: import positive (EL30V2 #8) */
	NUM(100, "inverter_power", floor(s->inverter_w + 0.5));
	set_energy(dev, 100, "dc_load_energy", s->e_dc_wh);
	set_energy(dev, 100, "ac_load_energy", s->e_ac_wh);
	set_energy(dev, 100, "pv_charge_energy", s->e_pv_wh);
	set_energy(dev, 100, "grid_charge_energy", s->e_grid_in_wh);
	set_energy(dev, 100, "feedback_energy", s->e_feed_wh);
	set_energy(dev, 100, "pack_discharge_energy", s->e_pack_dis_wh);
	set_energy(dev, 100, "pack_charge_energy", s->e_pack_chg_wh);
	NUM(100, "charging_mode", reg_or(dev, 2020, 0) & 0xff);
	NUM(100, "inverter_status", 1);
	NUM(100, "rated_voltage", 230);
	NUM(100, "rated_frequency", 50.0);
}

static void put_grid(sim_device_t *dev)
{
	const sim_state_t *s = &dev->st;
	/* 1300 powers and current carry the profile's grid sign (firmware: import negative;
	 * Elite 200 V2: import positive) */
	double p = blt_profile_grid_import_sign(dev->profile) * floor(s->grid_in_w + 0.5);
	double v = round(s->grid_v * 10.0) / 10.0;
	double i, va;
	ac_phase(p, v, PF_GRID, &i, &va);

	NUM(1300, "frequency", s->grid_f);
	NUM(1300, "grid_power", p);
	set_energy(dev, 1300, "charge_energy", s->e_grid_in_wh);
	set_energy(dev, 1300, "feedback_energy", s->e_feed_wh);
	NUM(1300, "phase_count", 1);
	NUM(1300, "phase_0_power", p);
	NUM(1300, "phase_0_voltage", v);
	NUM(1300, "phase_0_current", i);
	NUM(1300, "phase_0_apparent", va);
}

static void put_load(sim_device_t *dev)
{
	const sim_state_t *s = &dev->st;
	double p = floor(s->ac_load_w + 0.5);
	double v = round((s->charging ? s->grid_v : s->inv_v) * 10.0) / 10.0;
	double i, va;
	ac_phase(p, v, PF_LOAD, &i, &va);

	NUM(1400, "dc_load_power", floor(s->dc_load_w + 0.5));
	set_energy(dev, 1400, "dc_load_energy", s->e_dc_wh);
	NUM(1400, "dc_12v_power", floor(s->dc_load_w + 0.5));
	NUM(1400, "dc_12v_current", s->dc_load_w > 0 ? round(s->dc_load_w / 1.2) / 10.0 : 0);
	NUM(1400, "dc_voltage", s->dc_load_w > 0 ? 12.0 : 0);
	NUM(1400, "dc_current", s->dc_load_w > 0 ? round(s->dc_load_w / 1.2) / 10.0 : 0);
	NUM(1400, "ac_load_power", p);
	set_energy(dev, 1400, "ac_load_energy", s->e_ac_wh);
	NUM(1400, "phase_count", 1);
	NUM(1400, "phase_0_power", p);
	NUM(1400, "phase_0_voltage", v);
	NUM(1400, "phase_0_current", i);
	NUM(1400, "phase_0_apparent", va);
}

static void put_inverter(sim_device_t *dev)
{
	const sim_state_t *s = &dev->st;
	double v = round((s->charging ? s->grid_v : s->inv_v) * 10.0) / 10.0;
	double i = round(s->inverter_w / v * 10.0) / 10.0;

	NUM(1500, "frequency", s->charging ? s->grid_f : s->inv_f);
	set_energy(dev, 1500, "output_energy", s->e_inv_wh);
	NUM(1500, "phase_count", 1);
	NUM(1500, "phase_0_work_status", s->inverter_w > 0 ? 1 : 0);
	NUM(1500, "phase_0_power", floor(s->inverter_w + 0.5));
	NUM(1500, "phase_0_voltage", v);
	NUM(1500, "phase_0_current", i);
	NUM(1500, "ambient_temp", 25);
	NUM(1500, "inverter_max_temp", floor(s->temp_c + 3.5));
	NUM(1500, "pv_dcdc_max_temp", floor(s->temp_c + 1.5));
}

static void put_base(sim_device_t *dev)
{
	static const struct {
		unsigned type;
		double version;
	} sw[] = {{1, 0x00035cff}, {2, 0x00035149}, {0, 0x000204b1}, {3, 0x0001a32c}};
	char name[BLT_NAME_MAX];

	NUM(1100, "inverter_id", 0);
	NUM(1100, "power_class", 1);
	NUM(1100, "software_count", 4);
	for (unsigned i = 0; i < 4; i++) {
		snprintf(name, sizeof name, "software_%u_type", i);
		NUM(1100, name, sw[i].type);
		snprintf(name, sizeof name, "software_%u_version", i);
		NUM(1100, name, sw[i].version);
	}
	NUM(1100, "ambient_temp", 25);
	NUM(1100, "inverter_max_temp", floor(dev->st.temp_c + 3.5));
	NUM(1100, "pv_dcdc_max_temp", floor(dev->st.temp_c + 1.5));
}

static void put_battery(sim_device_t *dev)
{
	const sim_state_t *s = &dev->st;
	double t = floor(s->temp_c + 0.5);

	NUM(6000, "pack_count", pack_count(dev));
	NUM(6000, "packs_online", pack_count(dev));
	NUM(6000, "voltage", s->pack_v);
	NUM(6000, "current", s->pack_a);
	NUM(6000, "soc", floor(total_soc(dev) + 0.5));
	NUM(6000, "soh", 100);
	NUM(6000, "temp_avg", t);
	NUM(6000, "work_status", 1);
	NUM(6000, "charging_status", charging_status(s));
	NUM(6000, "max_charge_voltage", 3.6 * dev->ncells);
	NUM(6000, "max_charge_current", 20.0);
	NUM(6000, "max_discharge_current", 30.0);
	NUM(6000, "status_1", 3);
	NUM(6000, "capacity_parallel", 1);
	NUM(6000, "time_to_full", floor(minutes_to_full(dev)));
	NUM(6000, "time_to_empty", floor(minutes_to_empty(dev)));
	set_energy(dev, 6000, "charge_energy", s->e_pack_chg_wh);
	set_energy(dev, 6000, "discharge_energy", s->e_pack_dis_wh);
	NUM(6000, "cycle_count", floor(s->cycles));
}

/* This device's own pack: its record (6100) and cells (6300). */
void sim_put_pack(sim_device_t *dev)
{
	const sim_state_t *s = &dev->st;
	double t = floor(s->temp_c + 0.5), vmin = 99, vmax = 0;
	unsigned imin = 0, imax = 0;
	char name[BLT_NAME_MAX];

	for (unsigned i = 0; i < dev->ncells; i++) {
		if (s->cell_v[i] < vmin)
			vmin = s->cell_v[i], imin = i;
		if (s->cell_v[i] > vmax)
			vmax = s->cell_v[i], imax = i;
	}
	NUM(6100, "pack_id", 1);
	NUM(6100, "voltage", s->pack_v);
	NUM(6100, "current", s->own_a);
	NUM(6100, "soc", floor(s->soc + 0.5));
	NUM(6100, "soh", 100);
	NUM(6100, "temp_avg", t);
	NUM(6100, "cell_voltage_min", vmin);
	NUM(6100, "cell_voltage_max", vmax);
	NUM(6100, "cell_voltage_min_index", imin);
	NUM(6100, "cell_voltage_max_index", imax);
	NUM(6100, "temp_min", t);
	NUM(6100, "temp_max", t + 1);
	NUM(6100, "work_status", 1);
	NUM(6100, "charging_status", charging_status(s));
	NUM(6100, "capacity", dev->capacity_wh / (3.2 * dev->ncells));
	set_energy(dev, 6100, "charge_energy", s->e_pack_chg_wh);
	set_energy(dev, 6100, "discharge_energy", s->e_pack_dis_wh);
	NUM(6100, "cycle_count", floor(s->cycles));
	NUM(6100, "temp_min_index", 0);
	NUM(6100, "temp_max_index", 2);
	NUM(6100, "pack_online", 1);
	NUM(6100, "capacity_parallel", 1);
	NUM(6100, "max_charge_current", 20.0);
	NUM(6100, "max_discharge_current", 30.0);
	NUM(6100, "cell_count", dev->ncells);
	NUM(6100, "ntc_count", dev->nntc);
	NUM(6100, "bmu_count", 1);
	NUM(6100, "time_to_full", floor(minutes_to_full(dev)));
	NUM(6100, "time_to_empty", floor(minutes_to_empty(dev)));
	NUM(6100, "software_count", 1);
	NUM(6100, "software_0_type", 3);
	NUM(6100, "software_0_version", 0x0001a32c);

	NUM(6300, "cell_count", dev->ncells);
	NUM(6300, "ntc_count", dev->nntc);
	for (unsigned i = 0; i < dev->ncells; i++) {
		snprintf(name, sizeof name, "cell_%u_voltage", i);
		NUM(6300, name, s->cell_v[i]);
	}
	for (unsigned j = 0; j < dev->nntc; j++) {
		snprintf(name, sizeof name, "temp_%u", j);
		NUM(6300, name, t + (j == 2 ? 1 : 0));
	}
}

static void put_config(sim_device_t *dev)
{
	/* block 1 (base config): protocol version (§5.2); register 6 bits 4-5: BLE encryption
	 * on (2), as on every V2 unit (LOCAL.md §4.1) */
	NUM(1, "protocol_version",
	    dev->profile->protocol_version ? dev->profile->protocol_version : 2015);
	sim_reg_set(dev, 6, 0x0020);
	/* the LAN paths (LOCAL.md §1.2, §2.2): 2-bit fields 1 = on, 2 = off */
	if (!dev->opts || dev->opts->local_access == SIM_LOCAL_NONE)
		return;
	sim_reg_set(dev, 13742, dev->opts->local_access == SIM_LOCAL_MQTT ? 0x0051 : 0x00AA);
	sim_reg_set(dev, 13743, 60);
	sim_reg_set(dev, 13744, dev->opts->local_access == SIM_LOCAL_TCP ? 0x0009 : 0x000A);
	sim_reg_set(dev, 13745, 502);
	sim_set_str(dev, 22005, "open_mqtt_server",
	            dev->opts->local_access == SIM_LOCAL_MQTT ? "192.168.1.10:1883"
	                                                      : "dev-iot.poweroak.ltd:18083");
}

void sim_device_tick(sim_device_t *dev, double dt_s)
{
	physics(dev, dt_s);
	if (dt_s > 0)
		settings_clock(dev);
	put_home(dev);
	put_grid(dev);
	put_load(dev);
	put_inverter(dev);
	put_base(dev);
	put_battery(dev);
	sim_put_pack(dev);
	dev->warned = true;
}

int sim_device_init(sim_device_t *dev, const sim_opts_t *o, uint64_t sn, blt_detail_t *d)
{
	const blt_wire_preset_t *preset;
	uint16_t ids[SIM_MAX_REGIONS];
	size_t nids = 0;
	int rc;

	memset(dev, 0, sizeof *dev);
	if (!o || !o->profile)
		return blt_detail_set(d, BLT_E_INVAL, "no profile");
	dev->opts = o;
	dev->profile = o->profile;
	preset = o->preset ? o->preset : blt_wire_preset_find(o->profile->preset);
	if (!preset)
		return blt_detail_set(d, BLT_E_NOT_FOUND, "wire preset '%s' not found",
		                      o->profile->preset ? o->profile->preset : "(none)");
	snprintf(dev->model, sizeof dev->model, "%s",
	         o->model            ? o->model
	         : o->profile->model ? o->profile->model
	                             : "");
	if (!dev->model[0])
		return blt_detail_set(d, BLT_E_INVAL, "profile %s has no model code: give --model",
		                      o->profile->id);
	dev->sn_num = sn;
	snprintf(dev->sn, sizeof dev->sn, "%llu", (unsigned long long)sn);
	dev->slave = (uint8_t)(o->slave >= 0 ? o->slave : preset->slave);
	dev->envelope = preset->envelope;
	rc = blt_topic_expand(preset->pub_topic, dev->model, dev->sn, dev->req_topic,
	                      sizeof dev->req_topic, d);
	if (rc)
		return rc;
	rc = blt_topic_expand(preset->sub_topic, dev->model, dev->sn, dev->reply_topic,
	                      sizeof dev->reply_topic, d);
	if (rc)
		return rc;
	blt_profile_decode_opts(dev->profile, &dev->dopts);
	geometry(dev);

	for (size_t g = 0; g < dev->profile->ngroups; g++)
		for (size_t b = 0;
		     b < dev->profile->groups[g].nblocks && nids < SIM_MAX_REGIONS - 8; b++)
			ids[nids++] = dev->profile->groups[g].blocks[b];
	if (blt_catalog_find(1))
		ids[nids++] = 1;
	if (o->packs || o->hub)
		ids[nids++] = BLT_NODE_INFO_BLOCK;
	ids[nids++] = 2000;
	ids[nids++] = 2200;
	if (o->local_access != SIM_LOCAL_NONE) {
		ids[nids++] = 13742;
		ids[nids++] = 22005;
	}
	if (o->iot_info)
		ids[nids++] = 11000;
	rc = sim_regions_build(dev, ids, nids, d);
	if (rc)
		return rc;

	dev->rng = (o->seed ? o->seed : 0x5eed1234u) ^ (uint32_t)(sn * 2654435761u);
	if (!dev->rng)
		dev->rng = 1;
	settings_defaults(dev);
	settings_clock(dev);

	/* §7.2 start state */
	dev->st.grid_v = 230.1;
	dev->st.grid_f = 50.0;
	dev->st.inv_v = 230.0;
	dev->st.inv_f = 50.0;
	dev->st.demand_w = 145.0;
	dev->st.soc = o->start_soc > 0 ? o->start_soc : 76.0;
	dev->st.temp_c = 25.0;
	dev->st.e_ac_wh = 123400;
	dev->st.e_dc_wh = 5600;
	dev->st.e_pv_wh = 56700;
	dev->st.e_grid_in_wh = 89000;
	dev->st.e_feed_wh = 0;
	dev->st.e_inv_wh = 131200;
	dev->st.e_pack_chg_wh = 182345;
	dev->st.e_pack_dis_wh = 171234;

	put_identity(dev);
	put_config(dev);
	rc = sim_nodes_init(dev, d);
	if (rc)
		return rc;
	sim_device_tick(dev, 0);
	return BLT_OK;
}
