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

/* Generator time windows (2249 + 3i): reserved, start (hour hi, minute lo), end. */
#define GENWIN(i)                                                                                  \
	U8("generator_window_" #i "_start_hour", 100 + 6 * i, BLT_PROV_FW,                         \
	   "generator window start hour"),                                                         \
	    U8("generator_window_" #i "_start_minute", 101 + 6 * i, BLT_PROV_FW,                   \
	       "generator window start minute"),                                                   \
	    U8("generator_window_" #i "_end_hour", 102 + 6 * i, BLT_PROV_FW,                       \
	       "generator window end hour"),                                                       \
	    U8("generator_window_" #i "_end_minute", 103 + 6 * i, BLT_PROV_FW,                     \
	       "generator window end minute")

static const blt_field_t fields[] = {
    ROW("settings_password", 0, BLT_T_STR_SWAP, BLT_PROV_FW, "settings-area password (credential)",
        .size = 8, .flags = BLT_F_SECRET),
    U16("factory_reset", 12, BLT_PROV_FW, "factory reset command (dangerous: never written)"),
    U8("grid_charge", 15, BLT_PROV_LIVE, "grid charging allowed (live: byte 15)"),
    U8("feed_in", 17, BLT_PROV_FW, "feed-in (export to grid) allowed"),
    U16("output_voltage_setting", 18, BLT_PROV_FW,
        "output voltage setting (live AP300: 1, an index)"),
    U16("output_frequency_setting", 20, BLT_PROV_FW, "output frequency setting (raw)"),
    U16("max_charge_voltage", 22, BLT_PROV_APP, "maximum charge voltage (scale from the reference)",
        .scale = 0.1, .unit = "V"),
    U16("max_pv_charge_current", 24, BLT_PROV_APP, "maximum PV charge current (ref scale)",
        .scale = 0.1, .unit = "A"),
    U16("grid_max_power", 26, BLT_PROV_FW, "maximum grid (charging) power", .unit = "W"),
    U16("grid_max_current", 28, BLT_PROV_FW, "maximum grid current (live AP300: 10)", .unit = "A"),
    U16("feed_in_max_power", 30, BLT_PROV_FW, "maximum feed-in power", .unit = "W"),
    U16("feed_in_max_current", 32, BLT_PROV_FW, "maximum feed-in current", .unit = "A"),
    U16("off_grid_pv_rated_power", 34, BLT_PROV_FW, "off-grid AC-coupled PV rated power",
        .unit = "W"),
    U16("user_region", 36, BLT_PROV_FW, "user region (live AP300: 3)"),
    U16("pv_parallel_0", 38, BLT_PROV_FW, "PV parallel flag"),
    U16("pv_parallel_1", 40, BLT_PROV_FW, "PV parallel flag"),
    U16("pv_parallel_2", 42, BLT_PROV_FW, "PV parallel flag"),
    U16("pv_parallel_3", 44, BLT_PROV_FW, "PV parallel flag"),
    U16("pv_parallel_4", 46, BLT_PROV_FW, "PV parallel flag"),
    U16("pv_parallel_5", 48, BLT_PROV_FW, "PV parallel flag"),
    U16("grid_boost", 50, BLT_PROV_FW, "grid enhancement mode"),
    U16("remember_output_state", 52, BLT_PROV_FW, "remember AC/DC state across power-off"),
    U16("meter_enable", 54, BLT_PROV_FW, "meter enable"),
    U16("meter_select", 56, BLT_PROV_FW, "meter type select"),
    U16("multi_inverter_mode", 58, BLT_PROV_FW, "inverter parallel mode"),
    U16("inverter_address", 60, BLT_PROV_FW, "inverter address"),
    U8("ct_test_result", 62, BLT_PROV_FW, "CT test result"),
    U8("ct_test_enable", 63, BLT_PROV_FW, "CT test enable"),
    U16("mixed_enables", 64, BLT_PROV_FW, "mixed 2-bit enables (raw word)"),
    FIELD2("ats_enable", 64, 0, BLT_PROV_FW,
           "ATS"
           " (1 enable, 2 disable)"),
    FIELD2("off_grid_parallel_enable", 64, 2, BLT_PROV_FW,
           "off-grid side parallel operation"
           " (1 enable, 2 disable)"),
    FIELD2("reset_params", 64, 4, BLT_PROV_FW,
           "restore default parameters"
           " (1 enable, 2 disable)"),
    FIELD2("third_party_wifi_enable", 64, 6, BLT_PROV_FW,
           "third-party Wi-Fi"
           " (1 enable, 2 disable)"),
    FIELD2("generator_enable", 64, 8, BLT_PROV_FW,
           "generator"
           " (1 enable, 2 disable)"),
    FIELD2("micro_inverter_enable", 64, 10, BLT_PROV_FW,
           "micro-inverter"
           " (1 enable, 2 disable)"),
    FIELD2("optimiser_enable", 64, 12, BLT_PROV_FW,
           "power optimiser"
           " (1 enable, 2 disable)"),
    FIELD2("on_grid_enable", 64, 14, BLT_PROV_FW,
           "on-grid operation"
           " (1 enable, 2 disable)"),
    U16("battery_maintenance", 66, BLT_PROV_FW, "battery maintenance/aging routine (dangerous)"),
    I16("phase_0_active_target", 68, BLT_PROV_FW, "L1 active power target", .unit = "W"),
    I16("phase_0_reactive_target", 70, BLT_PROV_FW, "L1 reactive power target", .unit = "var"),
    I16("phase_1_active_target", 72, BLT_PROV_FW, "L2 active power target", .unit = "W"),
    I16("phase_1_reactive_target", 74, BLT_PROV_FW, "L2 reactive power target", .unit = "var"),
    I16("phase_2_active_target", 76, BLT_PROV_FW, "L3 active power target", .unit = "W"),
    I16("phase_2_reactive_target", 78, BLT_PROV_FW, "L3 reactive power target", .unit = "var"),
    U16("pv_limit", 80, BLT_PROV_FW, "PV power limit", .unit = "W"),
    U16("ems_control", 82, BLT_PROV_FW, "EMS control state", .mask = 0x000F),
    U16("mixed_enables_2", 84, BLT_PROV_FW, "mixed 2-bit enables, second word (raw)"),
    FIELD2("charging_pile_enable", 84, 0, BLT_PROV_FW,
           "charging pile"
           " (1 enable, 2 disable)"),
    FIELD2("low_soc_maintenance_enable", 84, 2, BLT_PROV_FW,
           "low-SOC maintenance"
           " (1 enable, 2 disable)"),
    FIELD2("hardware_limit_enable", 84, 4, BLT_PROV_FW,
           "hardware output limit"
           " (1 enable, 2 disable)"),
    FIELD2("generator_inverter_load_enable", 84, 6, BLT_PROV_FW,
           "generator + inverter combined load"
           " (1 enable, 2 disable)"),
    FIELD2("balanced_mode_enable", 84, 8, BLT_PROV_FW,
           "balanced mode"
           " (1 enable, 2 disable)"),
    FIELD2("winter_mode_enable", 84, 10, BLT_PROV_FW,
           "winter mode"
           " (1 enable, 2 disable)"),
    FIELD2("single_phase_max_current_enable", 84, 12, BLT_PROV_FW,
           "single-phase max grid current"
           " (1 enable, 2 disable)"),
    FIELD2("drms_enable", 84, 14, BLT_PROV_FW,
           "DRMS"
           " (1 enable, 2 disable)"),
    U16("charging_pile_setting", 86, BLT_PROV_FW,
        "charging-pile voltage/model setting (live: 240)"),
    U8("ct_ratio_ac_pv", 88, BLT_PROV_FW, "AC-coupled PV CT ratio"),
    U8("ct_ratio_grid", 89, BLT_PROV_FW, "grid port CT ratio"),
    U16("ac_ct_test", 90, BLT_PROV_FW, "AC-coupled meter CT test"),
    FIELD2("generator_auto", 92, 0, BLT_PROV_FW, "generator auto-start (1 enable, 2 disable)"),
    U16("generator_soc_start", 94, BLT_PROV_FW, "generator start SOC", .unit = "%"),
    U16("generator_soc_stop", 96, BLT_PROV_FW, "generator stop SOC", .unit = "%"),
    GENWIN(0),
    GENWIN(1),
    GENWIN(2),
    U16("undervoltage_protection", 116, BLT_PROV_FW, "under-voltage protection value (raw)"),
    U16("undervoltage_protection_time", 118, BLT_PROV_FW, "under-voltage protection time (raw)"),
    U16("overvoltage_protection", 120, BLT_PROV_FW, "over-voltage protection value (raw)"),
    U16("overvoltage_protection_time", 122, BLT_PROV_FW, "over-voltage protection time (raw)"),
    U16("underfrequency_protection", 124, BLT_PROV_FW, "under-frequency protection value (raw)"),
    U16("underfrequency_protection_time", 126, BLT_PROV_FW,
        "under-frequency protection time (raw)"),
    U16("overfrequency_protection", 128, BLT_PROV_FW, "over-frequency protection value (raw)"),
    U16("overfrequency_protection_time", 130, BLT_PROV_FW, "over-frequency protection time (raw)"),
    U16("counter_current_power_limit", 132, BLT_PROV_FW,
        "counter-current (anti-backflow) power limit", .unit = "W"),
    U8("meter_ctrl_select", 134, BLT_PROV_FW, "meter control: select (as 2008)"),
    U8("meter_ctrl_enable", 135, BLT_PROV_FW, "meter control: enable (as 2008)"),
    U8("meter_input_select", 137, BLT_PROV_FW, "meter connection select"),
    U16("pv_control", 138, BLT_PROV_FW, "PV on/off setting word (live AP300: 0x0202)"),
    U16("phase_setting", 140, BLT_PROV_FW, "single / split-phase setting (live AP300: 0x0300)"),
    U16("dc_hub_voltage", 142, BLT_PROV_FW, "DC hub voltage setting (raw)"),
    U16("max_grid_input_current", 144, BLT_PROV_FW, "maximum grid input current (live AP300: 10)",
        .unit = "A"),
    U16("function_switches", 146, BLT_PROV_FW, "function switch word (live AP300: 8)"),
    U16("rv_settings", 148, BLT_PROV_FW, "RV scene and battery settings"),
    /* Past 2274: only registers the firmware header names by number (newer build). The
     * Elite 200 V2 refuses 2290-2309 (nlimper). Beyond the default 75-register read. */
    U16("heat_pump_feed_in_threshold", 164, BLT_PROV_FW,
        "heat-pump auto mode: feed-in power threshold (2282)", .unit = "W"),
    U16("heat_pump_min_runtime", 166, BLT_PROV_FW,
        "heat-pump auto mode: minimum run time (2283, raw)"),
    U16("heat_pump_start_delay", 168, BLT_PROV_FW, "heat-pump auto mode: start delay (2284, raw)"),
    U16("pv_multi_peak", 208, BLT_PROV_FW, "PV multi-peak tracking (2304)"),
    U16("inverter_meter_link", 210, BLT_PROV_FW, "inverter-meter interaction (2305)"),
    U16("ac_input_source", 212, BLT_PROV_FW, "AC input source mode (2306 low byte)",
        .mask = 0x00FF),
    FIELD2("ac_input_selfcheck_cmd", 212, 8, BLT_PROV_FW,
           "AC input self-check command (2306 bits 8-9)"),
    FIELD2("ac_input_do_level", 212, 10, BLT_PROV_FW, "AC input DO level (2306 bits 10-11)"),
};

const blt_block_t blt_block_2200 = {
    .id = 2200,
    .name = "INV_ADV_SETTINGS",
    .title = "advanced settings",
    .regs = 107,
    .min_bytes = 32,
    .extent = 121, /* 2200-2320 */
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "firmware struct reg02200 + live AP300 86-register read; ref off by 5-6 bytes",
};
