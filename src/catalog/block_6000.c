/* Block 6000 - PACK_MAIN_INFO (battery aggregate). PROTOCOL.md §4.7 (b).
 * Provenance: firmware register map, confirmed by the AP300 68-byte capture (§7.1: SOC raw
 * 95 at byte 11, SOH 25 at 13, u32 energies 6019/6020 = b2be 0066 word-swapped). The
 * reference (a) reads "power" at 10 and SOC at 12 (the high byte of SOH) and calls the
 * energies cell_count/cycles and bytes 50/52 temperatures: the firmware/live layout wins.
 * 6019/6021 energies in 0.1 kWh: battery-ha's AP300 frame (raw 6730430) is shown as
 * 673043.0 by the vendor cloud (last_alive packTotalChgEnergy). Time to full/empty 5994 min
 * is the 99.9 h "n/a" display (nlimper, battery-ha), reported as not available. */
#include "catalog_internal.h"

static const blt_enum_entry_t charging_status[] = {
    {0, "standby"},
    {1, "charging"},
    {2, "discharging"},
    {0, NULL},
};

static const blt_bit_name_t packs_bits[] = {
    {0, "pack_0"},   {1, "pack_1"},   {2, "pack_2"},   {3, "pack_3"},   {4, "pack_4"},
    {5, "pack_5"},   {6, "pack_6"},   {7, "pack_7"},   {8, "pack_8"},   {9, "pack_9"},
    {10, "pack_10"}, {11, "pack_11"}, {12, "pack_12"}, {13, "pack_13"}, {14, "pack_14"},
    {15, "pack_15"}, {0, NULL},
};

static const blt_bit_name_t status1_bits[] = {
    {0, "charge_enabled"},
    {1, "discharge_enabled"},
    {2, "emergency_charge"},
    {3, "charge_protection"},
    {4, "discharge_protection"},
    {5, "system_fault"},
    {6, "heating"},
    {7, "balancing"},
    {0, NULL},
};

static const blt_bit_name_t status2_bits[] = {
    {0, "charge_alarm"},
    {1, "discharge_alarm"},
    {0, NULL},
};

static const blt_field_t fields[] = {
    U16("voltage_platform", 0, BLT_PROV_LIVE, "voltage platform (0 low, else high voltage)"),
    U8("pack_count", 3, BLT_PROV_LIVE, "number of battery packs"),
    BITS16("packs_online", 4, BLT_PROV_LIVE, packs_bits, "battery packs online"),
    U16("voltage", 6, BLT_PROV_LIVE, "battery total voltage (profile scale, 0.01 V live)",
        .flags = BLT_F_REQUIRED | BLT_F_PACK_VSCALE, .unit = "V",
        .ha = {.same_as = "100:pack_voltage", .quantity = BLT_Q_PACK_VOLTAGE}),
    I16("current", 8, BLT_PROV_FW, "battery total current (negative = discharging)",
        .flags = BLT_F_REQUIRED, .scale = 0.1, .unit = "A",
        .ha = {.same_as = "100:pack_current", .quantity = BLT_Q_PACK_CURRENT}),
    U8("soc", 11, BLT_PROV_LIVE, "state of charge", .flags = BLT_F_REQUIRED, .unit = "%",
       .ha = {.same_as = "100:soc", .device_class = "battery", .quantity = BLT_Q_SOC}),
    U8("soh", 13, BLT_PROV_LIVE, "state of health", .unit = "%",
       .ha = {.label = "Health", .quantity = BLT_Q_SOH}),
    TEMP16("temp_avg", 14, BLT_PROV_LIVE, "average battery temperature",
           .ha = {.label = "Temperature", .quantity = BLT_Q_PACK_TEMP_AVG}),
    U8("work_status", 17, BLT_PROV_LIVE, "battery work/running status"),
    U8("charging_status", 19, BLT_PROV_LIVE, "charging status", .enums = charging_status,
       .ha = {.same_as = "100:charging_status"}),
    U16("max_charge_voltage", 20, BLT_PROV_FW, "allowed maximum charge voltage", .scale = 0.1,
        .unit = "V"),
    U16("max_charge_current", 22, BLT_PROV_FW,
        "allowed maximum charge current (0 = charging not allowed)", .scale = 0.1, .unit = "A"),
    U16("max_discharge_current", 24, BLT_PROV_FW,
        "allowed maximum discharge current (0 = not allowed)", .scale = 0.1, .unit = "A"),
    BITS16("status_1", 26, BLT_PROV_LIVE, status1_bits, "battery status word 1"),
    BITS16("status_2", 28, BLT_PROV_FW, status2_bits, "battery status word 2"),
    BITS16("capacity_parallel", 32, BLT_PROV_LIVE, packs_bits,
           "packs in capacity-parallel (main MOS on)"),
    U16("time_to_full", 34, BLT_PROV_LIVE, "estimated time until full", .unit = "min",
        .flags = BLT_F_NA_RAW, .na_raw = 5994,
        .ha = {.same_as = "100:time_to_full", .quantity = BLT_Q_TIME_TO_FULL}),
    U16("time_to_empty", 36, BLT_PROV_LIVE, "estimated time until empty", .unit = "min",
        .flags = BLT_F_NA_RAW, .na_raw = 5994,
        .ha = {.same_as = "100:time_to_empty", .quantity = BLT_Q_TIME_TO_EMPTY}),
    U32("charge_energy", 38, BLT_PROV_LIVE,
        "total battery charge energy (the vendor cloud shows raw / 10)", .scale = 0.1,
        .unit = "kWh",
        .ha = {.same_as = "100:pack_charge_energy", .quantity = BLT_Q_BATTERY_CHARGE_ENERGY}),
    U32("discharge_energy", 42, BLT_PROV_LIVE,
        "total battery discharge energy (nlimper: equals 167 = 902.0 kWh)", .scale = 0.1,
        .unit = "kWh",
        .ha = {.same_as = "100:pack_discharge_energy", .quantity = BLT_Q_BATTERY_DISCHARGE_ENERGY}),
    I16("current_bias", 46, BLT_PROV_FW, "total-current bias (raw)"),
    U16("pack_control", 50, BLT_PROV_FW, "all-pack control word"),
    U16("buckle_status", 52, BLT_PROV_FW, "buckle (latch) status"),
    U16("merge_status", 54, BLT_PROV_FW, "merge status"),
    U16("heating_status", 56, BLT_PROV_FW, "heating status"),
    BITS16("alarm_1", 58, BLT_PROV_FW, NULL, "all-pack alarm word 1", .ha = {.flags = BLT_P_ALARM}),
    BITS16("alarm_2", 60, BLT_PROV_FW, NULL, "all-pack alarm word 2", .ha = {.flags = BLT_P_ALARM}),
    U16("bcu_state", 62, BLT_PROV_FW, "BCU state"),
    BITS16("bcu_error", 64, BLT_PROV_FW, NULL, "BCU error bits", .ha = {.flags = BLT_P_ALARM}),
    U16("balance_power", 66, BLT_PROV_FW, "balancing power (newer firmware; raw)"),
    U16("spark_count", 68, BLT_PROV_FW, "spark count (newer firmware)"),
    U16("cycle_count", 70, BLT_PROV_FW, "pack charge cycle count (newer firmware)",
        .ha = {.flags = BLT_P_COUNTER, .icon = "mdi:battery-sync"}),
    U32("protection", 72, BLT_PROV_FW, "protection bits (newer firmware)", .flags = BLT_F_BITMAP,
        .ha = {.flags = BLT_P_ALARM}),
    BITS16("system_error_0", 76, BLT_PROV_FW, NULL, "system error word 0 (newer firmware)",
           .ha = {.flags = BLT_P_ALARM}),
    BITS16("system_error_1", 78, BLT_PROV_FW, NULL, "system error word 1 (newer firmware)",
           .ha = {.flags = BLT_P_ALARM}),
    BITS16("system_error_2", 80, BLT_PROV_FW, NULL, "system error word 2 (newer firmware)",
           .ha = {.flags = BLT_P_ALARM}),
    BITS16("alarm_3", 82, BLT_PROV_FW, NULL, "alarm word (newer firmware)",
           .ha = {.flags = BLT_P_ALARM}),
};

const blt_block_t blt_block_6000 = {
    .id = 6000,
    .name = "PACK_MAIN_INFO",
    .title = "battery",
    .regs = 42,
    .min_bytes = 12,
    .extent = 56, /* 6000-6055 */
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "firmware map + AP300 capture (energies 0.1 kWh as the cloud); ref offsets wrong",
    .ha = {.prefix = "battery", .title = "Battery"},
};
