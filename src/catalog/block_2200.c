/* Block 2200 - INV_ADV_SETTINGS (advanced settings, contains the settings password).
 * PROTOCOL.md §4.10 (b), §6.2. Provenance: firmware struct reg02200 with live AP300 values
 * (86-register read: 2207 = 1 read at byte 15, 2214 = 10, 2218 = 3, 2232 = 0x0800 ...).
 * The reference table is misaligned by 5-6 bytes and is not used. Values the live capture
 * shows as small indexes (2209 = 1) are kept raw instead of the reference's 0.1 V scale.
 * 2-bit enable fields use the firmware convention 0 no change, 1 enable, 2 disable.
 * On the Elite 200 V2, 2207, 2208, 2211, 2213, 2215-2217 and 2241 read the 0x0194 "not
 * supported" filler (nlimper): profile data, reported as unsupported there. 2212 reads raw
 * 20 there (nlimper "A, to verify"); the 0.1 A scale stays app-table provenance. */
#include "catalog_internal.h"

#define SW(n, off, what) \
	{.name = n, .offset = off, .type = BLT_T_U8, .prov = BLT_PROV_FW, .desc = what}
#define U16(n, off, u, what) \
	{.name = n, .offset = off, .type = BLT_T_U16, .unit = u, .prov = BLT_PROV_FW, .desc = what}
#define EN2(n, off, sh, what)                                                                \
	{.name = n, .offset = off, .type = BLT_T_U16, .mask = 0x3u << (sh), .shift = sh,        \
	 .prov = BLT_PROV_FW, .desc = what " (1 enable, 2 disable)"}
/* Generator time windows (2249 + 3i): reserved, start (hour hi, minute lo), end. */
#define GENWIN(i)                                                                            \
	SW("generator_window_" #i "_start_hour", 100 + 6 * i, "generator window start hour"),   \
	SW("generator_window_" #i "_start_minute", 101 + 6 * i, "generator window start minute"), \
	SW("generator_window_" #i "_end_hour", 102 + 6 * i, "generator window end hour"),       \
	SW("generator_window_" #i "_end_minute", 103 + 6 * i, "generator window end minute")

static const blt_field_t fields[] = {
	{.name = "settings_password", .offset = 0, .type = BLT_T_STR_SWAP, .size = 8,
	 .flags = BLT_F_SECRET, .prov = BLT_PROV_FW,
	 .desc = "settings-area password (credential)"},
	U16("factory_reset", 12, NULL, "factory reset command (dangerous: never written)"),
	{.name = "grid_charge", .offset = 15, .type = BLT_T_U8, .prov = BLT_PROV_LIVE,
	 .desc = "grid charging allowed (live: byte 15)"},
	SW("feed_in", 17, "feed-in (export to grid) allowed"),
	U16("output_voltage_setting", 18, NULL, "output voltage setting (live AP300: 1, an index)"),
	U16("output_frequency_setting", 20, NULL, "output frequency setting (raw)"),
	{.name = "max_charge_voltage", .offset = 22, .type = BLT_T_U16, .scale = 0.1, .unit = "V",
	 .prov = BLT_PROV_APP, .desc = "maximum charge voltage (scale from the reference)"},
	{.name = "max_pv_charge_current", .offset = 24, .type = BLT_T_U16, .scale = 0.1,
	 .unit = "A", .prov = BLT_PROV_APP, .desc = "maximum PV charge current (ref scale)"},
	U16("grid_max_power", 26, "W", "maximum grid (charging) power"),
	U16("grid_max_current", 28, "A", "maximum grid current (live AP300: 10)"),
	U16("feed_in_max_power", 30, "W", "maximum feed-in power"),
	U16("feed_in_max_current", 32, "A", "maximum feed-in current"),
	U16("off_grid_pv_rated_power", 34, "W", "off-grid AC-coupled PV rated power"),
	U16("user_region", 36, NULL, "user region (live AP300: 3)"),
	U16("pv_parallel_0", 38, NULL, "PV parallel flag"),
	U16("pv_parallel_1", 40, NULL, "PV parallel flag"),
	U16("pv_parallel_2", 42, NULL, "PV parallel flag"),
	U16("pv_parallel_3", 44, NULL, "PV parallel flag"),
	U16("pv_parallel_4", 46, NULL, "PV parallel flag"),
	U16("pv_parallel_5", 48, NULL, "PV parallel flag"),
	U16("grid_boost", 50, NULL, "grid enhancement mode"),
	U16("remember_output_state", 52, NULL, "remember AC/DC state across power-off"),
	U16("meter_enable", 54, NULL, "meter enable"),
	U16("meter_select", 56, NULL, "meter type select"),
	U16("multi_inverter_mode", 58, NULL, "inverter parallel mode"),
	U16("inverter_address", 60, NULL, "inverter address"),
	SW("ct_test_result", 62, "CT test result"),
	SW("ct_test_enable", 63, "CT test enable"),
	U16("mixed_enables", 64, NULL, "mixed 2-bit enables (raw word)"),
	EN2("ats_enable", 64, 0, "ATS"),
	EN2("off_grid_parallel_enable", 64, 2, "off-grid side parallel operation"),
	EN2("reset_params", 64, 4, "restore default parameters"),
	EN2("third_party_wifi_enable", 64, 6, "third-party Wi-Fi"),
	EN2("generator_enable", 64, 8, "generator"),
	EN2("micro_inverter_enable", 64, 10, "micro-inverter"),
	EN2("optimiser_enable", 64, 12, "power optimiser"),
	EN2("on_grid_enable", 64, 14, "on-grid operation"),
	U16("battery_maintenance", 66, NULL, "battery maintenance/aging routine (dangerous)"),
	{.name = "phase_0_active_target", .offset = 68, .type = BLT_T_I16, .unit = "W",
	 .prov = BLT_PROV_FW, .desc = "L1 active power target"},
	{.name = "phase_0_reactive_target", .offset = 70, .type = BLT_T_I16, .unit = "var",
	 .prov = BLT_PROV_FW, .desc = "L1 reactive power target"},
	{.name = "phase_1_active_target", .offset = 72, .type = BLT_T_I16, .unit = "W",
	 .prov = BLT_PROV_FW, .desc = "L2 active power target"},
	{.name = "phase_1_reactive_target", .offset = 74, .type = BLT_T_I16, .unit = "var",
	 .prov = BLT_PROV_FW, .desc = "L2 reactive power target"},
	{.name = "phase_2_active_target", .offset = 76, .type = BLT_T_I16, .unit = "W",
	 .prov = BLT_PROV_FW, .desc = "L3 active power target"},
	{.name = "phase_2_reactive_target", .offset = 78, .type = BLT_T_I16, .unit = "var",
	 .prov = BLT_PROV_FW, .desc = "L3 reactive power target"},
	U16("pv_limit", 80, "W", "PV power limit"),
	{.name = "ems_control", .offset = 82, .type = BLT_T_U16, .mask = 0x000F,
	 .prov = BLT_PROV_FW, .desc = "EMS control state"},
	U16("mixed_enables_2", 84, NULL, "mixed 2-bit enables, second word (raw)"),
	EN2("charging_pile_enable", 84, 0, "charging pile"),
	EN2("low_soc_maintenance_enable", 84, 2, "low-SOC maintenance"),
	EN2("hardware_limit_enable", 84, 4, "hardware output limit"),
	EN2("generator_inverter_load_enable", 84, 6, "generator + inverter combined load"),
	EN2("balanced_mode_enable", 84, 8, "balanced mode"),
	EN2("winter_mode_enable", 84, 10, "winter mode"),
	EN2("single_phase_max_current_enable", 84, 12, "single-phase max grid current"),
	EN2("drms_enable", 84, 14, "DRMS"),
	U16("charging_pile_setting", 86, NULL, "charging-pile voltage/model setting (live: 240)"),
	SW("ct_ratio_ac_pv", 88, "AC-coupled PV CT ratio"),
	SW("ct_ratio_grid", 89, "grid port CT ratio"),
	U16("ac_ct_test", 90, NULL, "AC-coupled meter CT test"),
	{.name = "generator_auto", .offset = 92, .type = BLT_T_U16, .mask = 0x0003,
	 .prov = BLT_PROV_FW, .desc = "generator auto-start (1 enable, 2 disable)"},
	U16("generator_soc_start", 94, "%", "generator start SOC"),
	U16("generator_soc_stop", 96, "%", "generator stop SOC"),
	GENWIN(0), GENWIN(1), GENWIN(2),
	U16("undervoltage_protection", 116, NULL, "under-voltage protection value (raw)"),
	U16("undervoltage_protection_time", 118, NULL, "under-voltage protection time (raw)"),
	U16("overvoltage_protection", 120, NULL, "over-voltage protection value (raw)"),
	U16("overvoltage_protection_time", 122, NULL, "over-voltage protection time (raw)"),
	U16("underfrequency_protection", 124, NULL, "under-frequency protection value (raw)"),
	U16("underfrequency_protection_time", 126, NULL, "under-frequency protection time (raw)"),
	U16("overfrequency_protection", 128, NULL, "over-frequency protection value (raw)"),
	U16("overfrequency_protection_time", 130, NULL, "over-frequency protection time (raw)"),
	U16("counter_current_power_limit", 132, "W", "counter-current (anti-backflow) power limit"),
	SW("meter_ctrl_select", 134, "meter control: select (as 2008)"),
	SW("meter_ctrl_enable", 135, "meter control: enable (as 2008)"),
	SW("meter_input_select", 137, "meter connection select"),
	U16("pv_control", 138, NULL, "PV on/off setting word (live AP300: 0x0202)"),
	U16("phase_setting", 140, NULL, "single / split-phase setting (live AP300: 0x0300)"),
	U16("dc_hub_voltage", 142, NULL, "DC hub voltage setting (raw)"),
	U16("max_grid_input_current", 144, "A", "maximum grid input current (live AP300: 10)"),
	U16("function_switches", 146, NULL, "function switch word (live AP300: 8)"),
	U16("rv_settings", 148, NULL, "RV scene and battery settings"),
	/* Past 2274: only registers the firmware header names by number (newer build). The
	 * Elite 200 V2 refuses 2290-2309 (nlimper). Beyond the default 75-register read. */
	U16("heat_pump_feed_in_threshold", 164, "W", "heat-pump auto mode: feed-in power threshold (2282)"),
	U16("heat_pump_min_runtime", 166, NULL, "heat-pump auto mode: minimum run time (2283, raw)"),
	U16("heat_pump_start_delay", 168, NULL, "heat-pump auto mode: start delay (2284, raw)"),
	U16("pv_multi_peak", 208, NULL, "PV multi-peak tracking (2304)"),
	U16("inverter_meter_link", 210, NULL, "inverter-meter interaction (2305)"),
	{.name = "ac_input_source", .offset = 212, .type = BLT_T_U16, .mask = 0x00FF,
	 .prov = BLT_PROV_FW, .desc = "AC input source mode (2306 low byte)"},
	{.name = "ac_input_selfcheck_cmd", .offset = 212, .type = BLT_T_U16, .mask = 0x0300,
	 .shift = 8, .prov = BLT_PROV_FW, .desc = "AC input self-check command (2306 bits 8-9)"},
	{.name = "ac_input_do_level", .offset = 212, .type = BLT_T_U16, .mask = 0x0C00,
	 .shift = 10, .prov = BLT_PROV_FW, .desc = "AC input DO level (2306 bits 10-11)"},
};

const blt_block_t blt_block_2200 = {
	.id = 2200,
	.name = "INV_ADV_SETTINGS",
	.title = "advanced settings",
	.regs = 107,
	.min_bytes = 32,
	.fields = fields,
	.nfields = sizeof fields / sizeof fields[0],
	.source = "firmware struct reg02200 + live AP300 86-register read; ref off by 5-6 bytes",
};
