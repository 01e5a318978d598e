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
    {0, "clear_all_energy"},
    {1, "clear_dc_energy"},
    {2, "clear_ac_energy"},
    {3, "clear_pv_energy"},
    {4, "clear_grid_charge_energy"},
    {5, "clear_grid_discharge_energy"},
    {6, "clear_log"},
    {7, "clear_fault"},
    {8, "clear_periods"},
    {0, NULL},
};

/* Ten TOU segments of 3 registers from 2030: label, start (hour hi, minute lo), end. */
#define SEG(i)                                                                                     \
	U16("segment_" #i "_mode", 60 + 6 * i, BLT_PROV_FW,                                        \
	    "time segment label (normal days, bits 0-3)", .mask = 0x000F, .enums = segment_modes), \
	    U8("segment_" #i "_start_hour", 62 + 6 * i, BLT_PROV_FW, "segment start hour"),        \
	    U8("segment_" #i "_start_minute", 63 + 6 * i, BLT_PROV_FW, "segment start minute"),    \
	    U8("segment_" #i "_end_hour", 64 + 6 * i, BLT_PROV_FW, "segment end hour"),            \
	    U8("segment_" #i "_end_minute", 65 + 6 * i, BLT_PROV_FW, "segment end minute")

static const blt_field_t fields[] = {
    U16("inverter_select", 0, BLT_PROV_FW, "inverter selected for the settings below"),
    U8("clock_year", 2, BLT_PROV_FW, "date: year offset from the base year (byte order a guess)"),
    U8("clock_month", 3, BLT_PROV_FW, "date: month"),
    U8("clock_day", 4, BLT_PROV_FW, "date: day"),
    U8("clock_hour", 5, BLT_PROV_FW, "time: hour"),
    U8("clock_minute", 6, BLT_PROV_FW, "time: minute"),
    U8("clock_second", 7, BLT_PROV_FW, "time: second"),
    U16("time_zone", 8, BLT_PROV_FW, "time zone (raw)"),
    U8("working_mode", 11, BLT_PROV_FW, "working mode", .enums = working_modes,
       .flags = BLT_F_REQUIRED),
    BITS16("one_shot_commands", 12, BLT_PROV_FW, one_shot_bits,
           "one-shot clear commands (never written by this library)"),
    U8("led", 15, BLT_PROV_FW, "LED control"),
    U8("meter_select", 16, BLT_PROV_FW, "meter type select (unused per firmware)"),
    U8("charge_from_grid", 17, BLT_PROV_LIVE,
       "charging from the grid on/off (app; nlimper Elite 200 V2 live 1; firmware: "
       "meter control; old name meter_enable)"),
    U8("pv", 19, BLT_PROV_FW, "PV input on/off"),
    U8("inverter", 21, BLT_PROV_FW, "inverter on/off"),
    U8("ac_output", 23, BLT_PROV_LIVE, "AC output on/off (live: register 2011)"),
    U8("dc_output", 25, BLT_PROV_LIVE, "DC output on/off (live: register 2012)"),
    U8("power_switch", 27, BLT_PROV_FW, "power / shutdown control (dangerous: never written)"),
    U8("dc_eco", 29, BLT_PROV_FW, "DC ECO (auto-off when idle) on/off"),
    U16("dc_eco_hours", 30, BLT_PROV_FW, "DC ECO idle time before switching off", .unit = "h"),
    U16("dc_eco_watts", 32, BLT_PROV_FW, "DC ECO power threshold", .unit = "W"),
    U8("ac_eco", 35, BLT_PROV_FW, "AC ECO (auto-off when idle) on/off"),
    U16("ac_eco_hours", 36, BLT_PROV_FW, "AC ECO idle time before switching off", .unit = "h"),
    U16("ac_eco_watts", 38, BLT_PROV_FW, "AC ECO power threshold", .unit = "W"),
    U8("charging_mode", 41, BLT_PROV_FW, "charging mode (3 unused)", .enums = charging_modes),
    U8("power_lifting", 43, BLT_PROV_FW, "power lifting (super power) on/off"),
    U16("soc_low", 44, BLT_PROV_FW, "system low-SOC limit", .unit = "%"),
    U16("soc_high", 46, BLT_PROV_FW, "system high-SOC limit (charge ceiling)", .unit = "%"),
    U16("inverter_wiring_mode", 48, BLT_PROV_FW, "single / dual live, parallel (raw)"),
    U16("device_id", 50, BLT_PROV_FW, "inverter device number"),
    U16("energy_history_type", 52, BLT_PROV_FW, "energy history selection"),
    U16("energy_current_type", 54, BLT_PROV_FW, "current energy selection"),
    U16("log_page", 56, BLT_PROV_FW, "event log page"),
    U16("tou_control", 58, BLT_PROV_FW, "time-segment (TOU) control"),
    SEG(0),
    SEG(1),
    SEG(2),
    SEG(3),
    SEG(4),
    SEG(5),
    SEG(6),
    SEG(7),
    SEG(8),
    SEG(9),
    U16("pv_input_0_type", 120, BLT_PROV_FW, "PV input type"),
    U16("pv_input_1_type", 122, BLT_PROV_FW, "PV input type"),
    U16("pv_input_2_type", 124, BLT_PROV_FW, "PV input type"),
    U16("pv_input_3_type", 126, BLT_PROV_FW, "PV input type"),
    U16("pv_input_4_type", 128, BLT_PROV_FW, "PV input type"),
    U16("pv_input_5_type", 130, BLT_PROV_FW, "PV input type"),
    U8("alarm_sound", 133, BLT_PROV_FW, "alarm sound on/off"),
    U8("lcd_timeout", 135, BLT_PROV_FW, "LCD display timeout", .enums = lcd_timeouts),
    I16("phase_0_power_target", 136, BLT_PROV_FW, "phase active-power target (+ export, - import)",
        .unit = "W"),
    I16("phase_1_power_target", 138, BLT_PROV_FW, "phase active-power target (+ export, - import)",
        .unit = "W"),
    I16("phase_2_power_target", 140, BLT_PROV_FW, "phase active-power target (+ export, - import)",
        .unit = "W"),
    U16("micro_inverter_rating", 142, BLT_PROV_FW, "balcony PV micro-inverter rated AC power",
        .unit = "W"),
    U16("self_config", 144, BLT_PROV_FW, "self-configuration word (raw)"),
    U8("sleep_days", 146, BLT_PROV_FW, "automatic sleep after 1-7 days, 0xFF never"),
    FIELD2("remote_startup_enable", 146, 0, BLT_PROV_LIVE,
           "remote start-up (app; nlimper live 1): 1 enable, 2 disable, 0 no change "
           "(old name remote_off_enable)"),
    U16("remote_soc", 148, BLT_PROV_FW, "remote-setting SOC threshold", .unit = "%"),
    U8("rv_soc_reserve", 150, BLT_PROV_FW, "RV minimum SOC reserve", .unit = "%"),
    FIELD2("rv_soc_reserve_enable", 150, 0, BLT_PROV_FW,
           "RV SOC reserve: 1 enable, 2 disable, 0 no change"),
    U8("child_lock_level", 153, BLT_PROV_FW, "child-lock level (1 or 2; 0 invalid)"),
    U16("sleep_remaining", 154, BLT_PROV_FW, "sleep remaining time (raw)"),
    U16("led_colour", 156, BLT_PROV_FW, "LED colour setting (raw)"),
    U16("remote_power_threshold", 158, BLT_PROV_FW, "remote-setting power threshold", .unit = "W"),
    U16("pack_count_shown", 160, BLT_PROV_FW, "number of battery packs"),
    U16("inverter_count_shown", 162, BLT_PROV_FW, "number of inverters"),
    U16("dcdc_count_shown", 164, BLT_PROV_FW, "number of DC-DC modules"),
    U16("soc_ceiling_reserve", 166, BLT_PROV_FW, "SOC ceiling reserve setting (raw)"),
    U16("pv_advanced", 168, BLT_PROV_FW, "PV advanced setting (raw)"),
    U16("dc_output_config", 170, BLT_PROV_FW, "DC output setting word (raw)"),
    U16("regulatory", 172, BLT_PROV_FW, "regulatory / compliance setting"),
    U16("cycle_capacity", 174, BLT_PROV_FW, "cycle capacity"),
    U16("cycle_max_capacity", 176, BLT_PROV_FW, "maximum cycle capacity"),
    U16("effective_year_month", 178, BLT_PROV_FW, "effective time: year/month"),
    U16("effective_day_hour", 180, BLT_PROV_FW, "effective time: day/hour"),
    U16("effective_minute_second", 182, BLT_PROV_FW, "effective time: minute/second"),
    U16("eco_status", 184, BLT_PROV_FW, "ECO status"),
    U16("ac_branch", 186, BLT_PROV_FW, "AC branch control"),
    U16("dc_branch", 188, BLT_PROV_FW, "DC branch control"),
};

const blt_block_t blt_block_2000 = {
    .id = 2000,
    .name = "INV_BASE_SETTINGS",
    .title = "base settings",
    .regs = 95,
    .min_bytes = 48,
    .extent = 100, /* 2000-2099 */
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "firmware struct reg02000 + battery-ha live AP300 (2011 = byte 23); ref off by 10",
};
