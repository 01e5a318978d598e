/* Block 2000 - INV_BASE_SETTINGS (writable base settings). PROTOCOL.md §4.10 (b), §6.2.
 * Provenance: firmware struct reg02000 with live confirmation (battery-ha, AP300: writing 1
 * to register 2011 flipped byte 23). The reference table is misaligned by 10 bytes (it puts
 * the AC switch at byte 13) and is not used. Byte = 2 * (register - 2000); on/off flags sit
 * in the low (odd) byte of their register. Row names of writable registers are the setting
 * names of settings.c. Newer firmware extent (2000-2094); older builds end at 2067.
 * Names as the app uses them (EVIDENCE.md §4, nlimper Elite 200 V2): 2008 low byte is
 * charging from the grid (was meter_enable), 2073 remote start-up (was remote_off_enable),
 * working modes 1/2/4/5 customized UPS / PV priority / standard UPS / time-control UPS. */
#include "catalog_internal.h"

/* 1/2/4/5 as the app names them on this model family (nlimper Elite 200 V2 + app v3.1.4;
 * the firmware comment calls them advanced / eco / UPS backup / peak-valley: old names are
 * aliases in settings.c); 0, 3, 6 keep the firmware's names. */
static const blt_enum_entry_t working_modes[] = {
	{0, "default"},      {1, "customized_ups"},   {2, "pv_priority"}, {3, "ups_online"},
	{4, "standard_ups"}, {5, "time_control_ups"}, {6, "off_grid"},    {0, NULL},
};

static const blt_enum_entry_t charging_modes[] = {
	{0, "standard"}, {1, "silent"}, {2, "turbo"}, {4, "custom"}, {0, NULL},
};

static const blt_enum_entry_t segment_modes[] = {
	{0, "disabled"}, {1, "charge"}, {2, "discharge"}, {3, "standby"}, {0, NULL},
};

static const blt_enum_entry_t lcd_timeouts[] = {
	{1, "15s"}, {2, "30s"}, {3, "1min"}, {4, "5min"}, {5, "always_on"}, {0, NULL},
};

static const blt_bit_name_t one_shot_bits[] = {
	{0, "clear_all_energy"},  {1, "clear_dc_energy"},         {2, "clear_ac_energy"},
	{3, "clear_pv_energy"},   {4, "clear_grid_charge_energy"}, {5, "clear_grid_discharge_energy"},
	{6, "clear_log"},         {7, "clear_fault"},             {8, "clear_periods"},
	{0, NULL},
};

#define SW(n, off, what) \
	{.name = n, .offset = off, .type = BLT_T_U8, .prov = BLT_PROV_FW, .desc = what}
#define U16(n, off, u, what) \
	{.name = n, .offset = off, .type = BLT_T_U16, .unit = u, .prov = BLT_PROV_FW, .desc = what}

/* Ten TOU segments of 3 registers from 2030: label, start (hour hi, minute lo), end. */
#define SEG(i)                                                                               \
	{.name = "segment_" #i "_mode", .offset = 60 + 6 * i, .type = BLT_T_U16, .mask = 0x000F,  \
	 .enums = segment_modes, .prov = BLT_PROV_FW,                                            \
	 .desc = "time segment label (normal days, bits 0-3)"},                                  \
	{.name = "segment_" #i "_start_hour", .offset = 62 + 6 * i, .type = BLT_T_U8,           \
	 .prov = BLT_PROV_FW, .desc = "segment start hour"},                                     \
	{.name = "segment_" #i "_start_minute", .offset = 63 + 6 * i, .type = BLT_T_U8,         \
	 .prov = BLT_PROV_FW, .desc = "segment start minute"},                                   \
	{.name = "segment_" #i "_end_hour", .offset = 64 + 6 * i, .type = BLT_T_U8,             \
	 .prov = BLT_PROV_FW, .desc = "segment end hour"},                                       \
	{.name = "segment_" #i "_end_minute", .offset = 65 + 6 * i, .type = BLT_T_U8,           \
	 .prov = BLT_PROV_FW, .desc = "segment end minute"}

static const blt_field_t fields[] = {
	U16("inverter_select", 0, NULL, "inverter selected for the settings below"),
	{.name = "clock_year", .offset = 2, .type = BLT_T_U8, .prov = BLT_PROV_FW,
	 .desc = "date: year offset from the base year (byte order a guess)"},
	SW("clock_month", 3, "date: month"),
	SW("clock_day", 4, "date: day"),
	SW("clock_hour", 5, "time: hour"),
	SW("clock_minute", 6, "time: minute"),
	SW("clock_second", 7, "time: second"),
	U16("time_zone", 8, NULL, "time zone (raw)"),
	{.name = "working_mode", .offset = 11, .type = BLT_T_U8, .enums = working_modes,
	 .flags = BLT_F_REQUIRED, .prov = BLT_PROV_FW, .desc = "working mode"},
	{.name = "one_shot_commands", .offset = 12, .type = BLT_T_U16, .flags = BLT_F_BITMAP,
	 .bits = one_shot_bits, .prov = BLT_PROV_FW,
	 .desc = "one-shot clear commands (never written by this library)"},
	SW("led", 15, "LED control"),
	SW("meter_select", 16, "meter type select (unused per firmware)"),
	{.name = "charge_from_grid", .offset = 17, .type = BLT_T_U8, .prov = BLT_PROV_LIVE,
	 .desc = "charging from the grid on/off (app; nlimper Elite 200 V2 live 1; firmware: "
		 "meter control; old name meter_enable)"},
	SW("pv", 19, "PV input on/off"),
	SW("inverter", 21, "inverter on/off"),
	{.name = "ac_output", .offset = 23, .type = BLT_T_U8, .prov = BLT_PROV_LIVE,
	 .desc = "AC output on/off (live: register 2011)"},
	{.name = "dc_output", .offset = 25, .type = BLT_T_U8, .prov = BLT_PROV_LIVE,
	 .desc = "DC output on/off (live: register 2012)"},
	SW("power_switch", 27, "power / shutdown control (dangerous: never written)"),
	SW("dc_eco", 29, "DC ECO (auto-off when idle) on/off"),
	U16("dc_eco_hours", 30, "h", "DC ECO idle time before switching off"),
	U16("dc_eco_watts", 32, "W", "DC ECO power threshold"),
	SW("ac_eco", 35, "AC ECO (auto-off when idle) on/off"),
	U16("ac_eco_hours", 36, "h", "AC ECO idle time before switching off"),
	U16("ac_eco_watts", 38, "W", "AC ECO power threshold"),
	{.name = "charging_mode", .offset = 41, .type = BLT_T_U8, .enums = charging_modes,
	 .prov = BLT_PROV_FW, .desc = "charging mode (3 unused)"},
	SW("power_lifting", 43, "power lifting (super power) on/off"),
	U16("soc_low", 44, "%", "system low-SOC limit"),
	U16("soc_high", 46, "%", "system high-SOC limit (charge ceiling)"),
	U16("inverter_wiring_mode", 48, NULL, "single / dual live, parallel (raw)"),
	U16("device_id", 50, NULL, "inverter device number"),
	U16("energy_history_type", 52, NULL, "energy history selection"),
	U16("energy_current_type", 54, NULL, "current energy selection"),
	U16("log_page", 56, NULL, "event log page"),
	U16("tou_control", 58, NULL, "time-segment (TOU) control"),
	SEG(0), SEG(1), SEG(2), SEG(3), SEG(4), SEG(5), SEG(6), SEG(7), SEG(8), SEG(9),
	U16("pv_input_0_type", 120, NULL, "PV input type"),
	U16("pv_input_1_type", 122, NULL, "PV input type"),
	U16("pv_input_2_type", 124, NULL, "PV input type"),
	U16("pv_input_3_type", 126, NULL, "PV input type"),
	U16("pv_input_4_type", 128, NULL, "PV input type"),
	U16("pv_input_5_type", 130, NULL, "PV input type"),
	SW("alarm_sound", 133, "alarm sound on/off"),
	{.name = "lcd_timeout", .offset = 135, .type = BLT_T_U8, .enums = lcd_timeouts,
	 .prov = BLT_PROV_FW, .desc = "LCD display timeout"},
	{.name = "phase_0_power_target", .offset = 136, .type = BLT_T_I16, .unit = "W",
	 .prov = BLT_PROV_FW, .desc = "phase active-power target (+ export, - import)"},
	{.name = "phase_1_power_target", .offset = 138, .type = BLT_T_I16, .unit = "W",
	 .prov = BLT_PROV_FW, .desc = "phase active-power target (+ export, - import)"},
	{.name = "phase_2_power_target", .offset = 140, .type = BLT_T_I16, .unit = "W",
	 .prov = BLT_PROV_FW, .desc = "phase active-power target (+ export, - import)"},
	U16("micro_inverter_rating", 142, "W", "balcony PV micro-inverter rated AC power"),
	U16("self_config", 144, NULL, "self-configuration word (raw)"),
	{.name = "sleep_days", .offset = 146, .type = BLT_T_U8, .prov = BLT_PROV_FW,
	 .desc = "automatic sleep after 1-7 days, 0xFF never"},
	{.name = "remote_startup_enable", .offset = 146, .type = BLT_T_U16, .mask = 0x0003,
	 .prov = BLT_PROV_LIVE,
	 .desc = "remote start-up (app; nlimper live 1): 1 enable, 2 disable, 0 no change "
		 "(old name remote_off_enable)"},
	U16("remote_soc", 148, "%", "remote-setting SOC threshold"),
	{.name = "rv_soc_reserve", .offset = 150, .type = BLT_T_U8, .unit = "%",
	 .prov = BLT_PROV_FW, .desc = "RV minimum SOC reserve"},
	{.name = "rv_soc_reserve_enable", .offset = 150, .type = BLT_T_U16, .mask = 0x0003,
	 .prov = BLT_PROV_FW, .desc = "RV SOC reserve: 1 enable, 2 disable, 0 no change"},
	SW("child_lock_level", 153, "child-lock level (1 or 2; 0 invalid)"),
	U16("sleep_remaining", 154, NULL, "sleep remaining time (raw)"),
	U16("led_colour", 156, NULL, "LED colour setting (raw)"),
	U16("remote_power_threshold", 158, "W", "remote-setting power threshold"),
	U16("pack_count_shown", 160, NULL, "number of battery packs"),
	U16("inverter_count_shown", 162, NULL, "number of inverters"),
	U16("dcdc_count_shown", 164, NULL, "number of DC-DC modules"),
	U16("soc_ceiling_reserve", 166, NULL, "SOC ceiling reserve setting (raw)"),
	U16("pv_advanced", 168, NULL, "PV advanced setting (raw)"),
	U16("dc_output_config", 170, NULL, "DC output setting word (raw)"),
	U16("regulatory", 172, NULL, "regulatory / compliance setting"),
	U16("cycle_capacity", 174, NULL, "cycle capacity"),
	U16("cycle_max_capacity", 176, NULL, "maximum cycle capacity"),
	U16("effective_year_month", 178, NULL, "effective time: year/month"),
	U16("effective_day_hour", 180, NULL, "effective time: day/hour"),
	U16("effective_minute_second", 182, NULL, "effective time: minute/second"),
	U16("eco_status", 184, NULL, "ECO status"),
	U16("ac_branch", 186, NULL, "AC branch control"),
	U16("dc_branch", 188, NULL, "DC branch control"),
};

const blt_block_t blt_block_2000 = {
	.id = 2000,
	.name = "INV_BASE_SETTINGS",
	.title = "base settings",
	.regs = 95,
	.min_bytes = 48,
	.fields = fields,
	.nfields = sizeof fields / sizeof fields[0],
	.source = "firmware struct reg02000 + battery-ha live AP300 (2011 = byte 23); ref off by 10",
};
