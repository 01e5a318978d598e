/* Block 100 - APP_HOME_DATA (dashboard). PROTOCOL.md §4.1 (b).
 * Provenance: firmware register map (names as the app's parseHomeData), confirmed by the
 * AP300 captures (§7.1: 5313 = 53.13 V, SOC 95, times 20100, 2 packs, model "AP300",
 * SN 2616113487436, rated 230 V / 50.00 Hz, components 33). The reference table (a) is
 * wrong from offset 6 on (pack_power/load_power/temperatures/soh/pv1..2 are other fields,
 * u32 are word-swapped, model byte-swapped, SN binary): the firmware/live layout wins.
 * Not gated at protocol 2001 although the app is: the profiles do not know their real
 * protocol version (§0.1 item 7). The newer-firmware u32 flow energies/powers at
 * 184..227 are left out: beyond the 98 registers read by default, units unconfirmed.
 * Real units (EVIDENCE.md §1): 125/158/162/164/165 read the Elite 200 V2's 0x0194 "not
 * supported" filler (sq7lrx) and 142/146 are VA there (nlimper): both are profile data
 * (profiles.c), so a real 404 W on another model stays a reading. 104/105 = 5994 min is
 * the 99.9 h "n/a" cap (nlimper, battery-ha): reported as not available. */
#include "catalog_internal.h"

static const blt_enum_entry_t charging_status[] = {
    {0, "standby"},     {1, "charging"},    {2, "discharging"}, {3, "idle"},
    {4, "ac_charging"}, {5, "pv_charging"}, {0, NULL},
};

static const blt_enum_entry_t charging_mode[] = {
    {0, "standard"}, {1, "silent"}, {2, "turbo"}, {4, "custom"}, {0, NULL},
};

static const blt_enum_entry_t power_class[] = {
    {1, "low"},
    {2, "mid"},
    {3, "high"},
    {0, NULL},
};

static const blt_bit_name_t packs_bits[] = {
    {0, "pack_0"},   {1, "pack_1"},   {2, "pack_2"},   {3, "pack_3"},   {4, "pack_4"},
    {5, "pack_5"},   {6, "pack_6"},   {7, "pack_7"},   {8, "pack_8"},   {9, "pack_9"},
    {10, "pack_10"}, {11, "pack_11"}, {12, "pack_12"}, {13, "pack_13"}, {14, "pack_14"},
    {15, "pack_15"}, {0, NULL},
};

static const blt_bit_name_t inverter_bits[] = {
    {0, "inverter_0"}, {1, "inverter_1"}, {2, "inverter_2"}, {3, "inverter_3"}, {0, NULL},
};

static const blt_bit_name_t energy_flow_bits[] = {
    {0, "pv_to_battery"},
    {1, "grid_to_battery"},
    {2, "battery_to_grid"},
    {3, "ac_load"},
    {4, "dc_load"},
    {5, "battery_to_inverter"},
    {6, "inverter_to_battery"},
    {7, "grid_to_ac_load"},
    {8, "pv_icon"},
    {9, "grid_icon"},
    {10, "load_icon"},
    {11, "pv_to_grid"},
    {12, "pv_to_ac_load"},
    {13, "battery_to_ac_load"},
    {14, "grid_power_negative"},
    {0, NULL},
};

static const blt_bit_name_t control_bits[] = {
    {0, "power"}, {1, "ac_output"}, {2, "dc_output"},      {3, "inverter"},
    {4, "grid"},  {5, "pv"},        {6, "feed_in"},        {7, "meter"},
    {8, "led"},   {9, "dc_eco"},    {10, "power_lifting"}, {11, "ac_eco"},
    {0, NULL},
};

static const blt_bit_name_t components_bits[] = {
    {0, "dc_hub"}, {1, "ac_hub_switch"},        {2, "grid_meter"}, {3, "load_meter"},
    {4, "ats"},    {5, "remote_off_supported"}, {0, NULL},
};

static const blt_bit_name_t iot_bits[] = {
    {0, "subghz_discovery"},    {1, "ota"},       {2, "child_lock"}, {3, "remote_off"},
    {4, "wifi_mesh_discovery"}, {5, "iot_fault"}, {0, NULL},
};

static const blt_bit_name_t switch_memory_bits[] = {
    {0, "ac_output"},
    {1, "dc_output"},
    {2, "dc_hub"},
    {0, NULL},
};

static const blt_field_t fields[] = {
    U16("pack_voltage", 0, BLT_PROV_LIVE, "battery pack total voltage (profile scale, 0.01 V live)",
        .flags = BLT_F_REQUIRED | BLT_F_PACK_VSCALE, .unit = "V",
        .ha = {.quantity = BLT_Q_PACK_VOLTAGE}),
    I16("pack_current", 2, BLT_PROV_FW, "battery pack total current (sign unconfirmed)",
        .flags = BLT_F_REQUIRED, .scale = 0.1, .unit = "A", .ha = {.quantity = BLT_Q_PACK_CURRENT}),
    U16("soc", 4, BLT_PROV_LIVE, "state of charge", .flags = BLT_F_REQUIRED, .unit = "%",
        .ha = {.label = "Battery", .device_class = "battery", .quantity = BLT_Q_SOC}),
    U16("charging_status", 6, BLT_PROV_LIVE, "battery charging status", .enums = charging_status),
    U16("time_to_full", 8, BLT_PROV_LIVE, "estimated time until fully charged", .unit = "min",
        .flags = BLT_F_NA_RAW, .na_raw = 5994, .ha = {.quantity = BLT_Q_TIME_TO_FULL}),
    U16("time_to_empty", 10, BLT_PROV_LIVE, "estimated time until empty", .unit = "min",
        .flags = BLT_F_NA_RAW, .na_raw = 5994, .ha = {.quantity = BLT_Q_TIME_TO_EMPTY}),
    U16("pack_aging_status", 12, BLT_PROV_FW, "pack aging/maintenance status (bits 0-3)",
        .mask = 0x000f),
    U16("pack_aging_progress", 12, BLT_PROV_FW, "pack aging/maintenance progress (bits 4-7)",
        .mask = 0x00f0, .shift = 4),
    U16("pack_aging_fault", 12, BLT_PROV_FW, "pack aging/maintenance fault (bits 8-11)",
        .mask = 0x0f00, .shift = 8),
    U8("pack_count", 15, BLT_PROV_LIVE, "number of battery packs"),
    BITS16("packs_online", 16, BLT_PROV_LIVE, packs_bits, "battery packs online"),
    U16("canbus_fault", 18, BLT_PROV_FW, "CAN-bus fault bitmap (protocol >= 2009)",
        .flags = BLT_F_BITMAP, .min_pv = 2009, .ha = {.flags = BLT_P_ALARM}),
    ROW("device_model", 20, BLT_T_STR_SWAP, BLT_PROV_LIVE, "device model", .size = 12,
        .ha = {.quantity = BLT_Q_MODEL}),
    ROW("device_serial", 32, BLT_T_SN64, BLT_PROV_LIVE, "device serial number",
        .ha = {.quantity = BLT_Q_SERIAL}),
    U8("inverter_count", 41, BLT_PROV_LIVE, "number of inverters"),
    BITS16("inverters_online", 42, BLT_PROV_LIVE, inverter_bits, "inverters online"),
    U8("inverter_power_class", 45, BLT_PROV_LIVE, "inverter power class", .enums = power_class),
    BITS16("energy_flow", 46, BLT_PROV_FW, energy_flow_bits, "energy-flow lines shown by the app"),
    BITS16("control_status", 48, BLT_PROV_FW, control_bits, "switches / control status"),
    U8("grid_parallel_soc", 51, BLT_PROV_FW, "grid-parallel SOC (meaning unclear on Elite 200 V2)",
       .unit = "%"),
    BITS16("alarm_0", 52, BLT_PROV_FW, NULL, "alarm word 0", .ha = {.flags = BLT_P_ALARM}),
    BITS16("alarm_1", 54, BLT_PROV_FW, NULL, "alarm word 1", .ha = {.flags = BLT_P_ALARM}),
    BITS16("alarm_2", 56, BLT_PROV_FW, NULL, "alarm word 2", .ha = {.flags = BLT_P_ALARM}),
    BITS16("alarm_3", 58, BLT_PROV_FW, NULL, "alarm word 3", .ha = {.flags = BLT_P_ALARM}),
    BITS16("fault_0", 66, BLT_PROV_FW, NULL, "fault word 0", .ha = {.flags = BLT_P_ALARM}),
    BITS16("fault_1", 68, BLT_PROV_FW, NULL, "fault word 1", .ha = {.flags = BLT_P_ALARM}),
    BITS16("fault_2", 70, BLT_PROV_FW, NULL, "fault word 2", .ha = {.flags = BLT_P_ALARM}),
    BITS16("fault_3", 72, BLT_PROV_FW, NULL, "fault word 3", .ha = {.flags = BLT_P_ALARM}),
    BITS16("fault_4", 74, BLT_PROV_FW, NULL, "fault word 4", .ha = {.flags = BLT_P_ALARM}),
    BITS16("fault_5", 76, BLT_PROV_FW, NULL, "fault word 5 (reserved on older firmware)",
           .ha = {.flags = BLT_P_ALARM}),
    U32("dc_load_power", 80, BLT_PROV_FW, "total DC output (load) power", .unit = "W",
        .ha = {.quantity = BLT_Q_DC_LOAD_POWER}),
    U32("ac_load_power", 84, BLT_PROV_FW, "total AC output (load) power", .unit = "W",
        .ha = {.quantity = BLT_Q_AC_LOAD_POWER}),
    U32("pv_power", 88, BLT_PROV_FW, "total PV input power", .unit = "W",
        .ha = {.quantity = BLT_Q_PV_POWER}),
    I32("grid_power", 92, BLT_PROV_FW, "total grid power", .unit = "W",
        .ha = {.label = "Grid power (import positive)", .quantity = BLT_Q_GRID_POWER_IMPORT}),
    I32("inverter_power", 96, BLT_PROV_FW, "total inverter power", .unit = "W",
        .ha = {.quantity = BLT_Q_INVERTER_POWER}),
    U32("dc_load_energy", 100, BLT_PROV_FW, "DC output energy", .scale = 0.1, .unit = "kWh",
        .ha = {.quantity = BLT_Q_DC_LOAD_ENERGY}),
    U32("ac_load_energy", 104, BLT_PROV_FW, "AC output energy", .scale = 0.1, .unit = "kWh",
        .ha = {.quantity = BLT_Q_AC_LOAD_ENERGY}),
    U32("pv_charge_energy", 108, BLT_PROV_FW, "PV charging energy", .scale = 0.1, .unit = "kWh",
        .ha = {.quantity = BLT_Q_PV_ENERGY}),
    U32("grid_charge_energy", 112, BLT_PROV_FW, "grid charging energy", .scale = 0.1, .unit = "kWh",
        .ha = {.same_as = "1300:charge_energy"}),
    U32("feedback_energy", 116, BLT_PROV_FW, "energy fed into the grid", .scale = 0.1,
        .unit = "kWh", .ha = {.label = "Grid export energy"}),
    U8("charging_mode", 121, BLT_PROV_FW, "AC charging mode", .enums = charging_mode),
    U8("inverter_status", 123, BLT_PROV_FW, "inverter working status"),
    U32("pv_to_ac_load_energy", 124, BLT_PROV_FW, "PV energy used directly by AC loads",
        .scale = 0.1, .unit = "kWh"),
    U8("self_sufficiency", 129, BLT_PROV_FW, "self-sufficiency", .unit = "%"),
    U32("pv_to_ac_load_power", 130, BLT_PROV_FW, "PV power going directly to AC loads",
        .unit = "W"),
    U32("pack_discharge_energy", 134, BLT_PROV_FW, "battery total discharge energy", .scale = 0.1,
        .unit = "kWh", .ha = {.label = "Battery discharge energy"}),
    U16("rated_voltage", 138, BLT_PROV_LIVE, "rated AC voltage", .unit = "V"),
    U16("rated_frequency", 140, BLT_PROV_LIVE, "rated AC frequency", .scale = 0.01, .unit = "Hz"),
    BITS16("components_online", 142, BLT_PROV_LIVE, components_bits,
           "accessories online / features"),
    U16("fault_summary", 144, BLT_PROV_FW, "fault summary (older firmware; reserved on newer)"),
    U16("alarm_summary", 146, BLT_PROV_FW, "alarm summary (older firmware; reserved on newer)"),
    BITS16("iot_state", 148, BLT_PROV_FW, iot_bits, "IoT module state"),
    U16("scene_config", 150, BLT_PROV_FW, "scene configuration flag"),
    U32("car_charge_energy", 152, BLT_PROV_FW,
        "car-charging total energy (raw; unit undocumented)"),
    U32("sleep_runtime", 156, BLT_PROV_FW, "predicted runtime in sleep mode", .unit = "min"),
    U32("pack_charge_energy", 160, BLT_PROV_FW, "battery total charge energy", .scale = 0.1,
        .unit = "kWh", .ha = {.label = "Battery charge energy"}),
    U16("car_charge_power", 164, BLT_PROV_FW, "car-charging power", .unit = "W"),
    U32("charging_pile_power", 166, BLT_PROV_FW, "charging-pile total power", .unit = "W"),
    U16("selftest_iot", 170, BLT_PROV_FW, "self-test word: IoT"),
    U16("selftest_inverter", 172, BLT_PROV_FW, "self-test word: inverter"),
    U16("selftest_bms", 174, BLT_PROV_FW, "self-test word: BMS"),
    BITS16("inverter_flags", 176, BLT_PROV_FW, NULL, "inverter flags"),
    U16("pv_energy_today", 178, BLT_PROV_FW, "PV energy today", .scale = 0.1, .unit = "kWh"),
    U16("pv_energy_month", 180, BLT_PROV_FW, "PV energy this month", .scale = 0.1, .unit = "kWh"),
    BITS16("switch_memory", 182, BLT_PROV_FW, switch_memory_bits, "switch state remembered"),
    /* 214/215: beyond the default read (the Elite 200 V2 refuses 190-219, nlimper). */
    U16("ac_input_selfcheck", 228, BLT_PROV_FW, "AC-input self-check status (newer firmware)"),
    U16("reserved_215", 230, BLT_PROV_FW, "215 (answers on the AP300, battery-ha; raw)"),
};

const blt_block_t blt_block_100 = {
    .id = 100,
    .name = "APP_HOME_DATA",
    .title = "dashboard",
    .regs = 116,
    .min_bytes = 6,
    .extent = 135, /* 100-234 */
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "firmware map + AP300 captures (98-register read); reference offsets 6+ are wrong",
    .ha = {.prefix = "", .title = ""},
};
