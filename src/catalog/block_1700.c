/* Block 1700 - METER_INFO (external CT / grid meter). PROTOCOL.md §4.11, Appendix A.
 * Provenance: firmware struct reg01700 (1700-1899). The reference agrees at 0/12/20/22/26/
 * 114/130/134 but names 30 and 34 phase-0 current and power; the firmware has voltage B and
 * C there (current A is 38, active power A is 50) and the firmware wins.
 * The 32-bit measurements are IEEE-754 float32 bit patterns, word-swapped on the wire (the
 * app's bit32HexSwap): they are kept as raw u32 (there is no float type in the decoder). */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
    ROW("model", 0, BLT_T_STR_SWAP, BLT_PROV_FW, "meter model (byte-swapped ASCII)", .size = 12,
        .flags = BLT_F_REQUIRED),
    ROW("serial", 12, BLT_T_SN64, BLT_PROV_FW, "meter serial number", .flags = BLT_F_REQUIRED),
    U16("status", 20, BLT_PROV_FW, "status word (bits 0-1 time status, bit 2 online)",
        .flags = BLT_F_REQUIRED),
    U16("online", 20, BLT_PROV_FW, "meter online (status bit 2)", .mask = 0x0004, .shift = 2),
    U32("sys_time", 22, BLT_PROV_FW, "meter system time (raw)"),
    U32("voltage_a"
        "_bits",
        26, BLT_PROV_FW,
        "phase A voltage, V"
        " (raw IEEE-754 float32 bits)"),
    U32("voltage_b"
        "_bits",
        30, BLT_PROV_FW,
        "phase B voltage, V"
        " (raw IEEE-754 float32 bits)"),
    U32("voltage_c"
        "_bits",
        34, BLT_PROV_FW,
        "phase C voltage, V"
        " (raw IEEE-754 float32 bits)"),
    U32("current_a"
        "_bits",
        38, BLT_PROV_FW,
        "phase A current, A"
        " (raw IEEE-754 float32 bits)"),
    U32("current_b"
        "_bits",
        42, BLT_PROV_FW,
        "phase B current, A"
        " (raw IEEE-754 float32 bits)"),
    U32("current_c"
        "_bits",
        46, BLT_PROV_FW,
        "phase C current, A"
        " (raw IEEE-754 float32 bits)"),
    U32("active_power_a"
        "_bits",
        50, BLT_PROV_FW,
        "phase A active power, W"
        " (raw IEEE-754 float32 bits)"),
    U32("active_power_b"
        "_bits",
        54, BLT_PROV_FW,
        "phase B active power, W"
        " (raw IEEE-754 float32 bits)"),
    U32("active_power_c"
        "_bits",
        58, BLT_PROV_FW,
        "phase C active power, W"
        " (raw IEEE-754 float32 bits)"),
    U32("reactive_power_a"
        "_bits",
        62, BLT_PROV_FW,
        "phase A reactive power, var"
        " (raw IEEE-754 float32 bits)"),
    U32("reactive_power_b"
        "_bits",
        66, BLT_PROV_FW,
        "phase B reactive power, var"
        " (raw IEEE-754 float32 bits)"),
    U32("reactive_power_c"
        "_bits",
        70, BLT_PROV_FW,
        "phase C reactive power, var"
        " (raw IEEE-754 float32 bits)"),
    U32("apparent_power_a"
        "_bits",
        74, BLT_PROV_FW,
        "phase A apparent power, VA"
        " (raw IEEE-754 float32 bits)"),
    U32("apparent_power_b"
        "_bits",
        78, BLT_PROV_FW,
        "phase B apparent power, VA"
        " (raw IEEE-754 float32 bits)"),
    U32("apparent_power_c"
        "_bits",
        82, BLT_PROV_FW,
        "phase C apparent power, VA"
        " (raw IEEE-754 float32 bits)"),
    U32("power_factor_a"
        "_bits",
        86, BLT_PROV_FW,
        "phase A power factor"
        " (raw IEEE-754 float32 bits)"),
    U32("power_factor_b"
        "_bits",
        90, BLT_PROV_FW,
        "phase B power factor"
        " (raw IEEE-754 float32 bits)"),
    U32("power_factor_c"
        "_bits",
        94, BLT_PROV_FW,
        "phase C power factor"
        " (raw IEEE-754 float32 bits)"),
    U32("average_voltage"
        "_bits",
        98, BLT_PROV_FW,
        "average voltage, V"
        " (raw IEEE-754 float32 bits)"),
    U32("average_current"
        "_bits",
        102, BLT_PROV_FW,
        "average current, A"
        " (raw IEEE-754 float32 bits)"),
    U32("unbalance_current"
        "_bits",
        106, BLT_PROV_FW,
        "current unbalance"
        " (raw IEEE-754 float32 bits)"),
    U32("total_current"
        "_bits",
        110, BLT_PROV_FW,
        "total current, A"
        " (raw IEEE-754 float32 bits)"),
    U32("total_active_power"
        "_bits",
        114, BLT_PROV_FW,
        "total active power, W"
        " (raw IEEE-754 float32 bits)"),
    U32("total_reactive_power"
        "_bits",
        118, BLT_PROV_FW,
        "total reactive power, var"
        " (raw IEEE-754 float32 bits)"),
    U32("total_apparent_power"
        "_bits",
        122, BLT_PROV_FW,
        "total apparent power, VA"
        " (raw IEEE-754 float32 bits)"),
    U32("total_power_factor"
        "_bits",
        126, BLT_PROV_FW,
        "total power factor"
        " (raw IEEE-754 float32 bits)"),
    U32("frequency"
        "_bits",
        130, BLT_PROV_FW,
        "frequency, Hz"
        " (raw IEEE-754 float32 bits)"),
    U32("import_energy"
        "_bits",
        134, BLT_PROV_FW,
        "total imported active energy, kWh"
        " (raw IEEE-754 float32 bits)"),
    U32("export_energy"
        "_bits",
        138, BLT_PROV_FW,
        "total exported active energy, kWh"
        " (raw IEEE-754 float32 bits)"),
    U32("net_energy"
        "_bits",
        142, BLT_PROV_FW,
        "total import+export active energy, kWh"
        " (raw IEEE-754 float32 bits)"),
    U32("import_energy_a"
        "_bits",
        146, BLT_PROV_FW,
        "phase A imported energy, kWh"
        " (raw IEEE-754 float32 bits)"),
    U32("export_energy_a"
        "_bits",
        150, BLT_PROV_FW,
        "phase A exported energy, kWh"
        " (raw IEEE-754 float32 bits)"),
    U32("net_energy_a"
        "_bits",
        154, BLT_PROV_FW,
        "phase A import+export energy, kWh"
        " (raw IEEE-754 float32 bits)"),
    U32("import_energy_b"
        "_bits",
        158, BLT_PROV_FW,
        "phase B imported energy, kWh"
        " (raw IEEE-754 float32 bits)"),
    U32("export_energy_b"
        "_bits",
        162, BLT_PROV_FW,
        "phase B exported energy, kWh"
        " (raw IEEE-754 float32 bits)"),
    U32("net_energy_b"
        "_bits",
        166, BLT_PROV_FW,
        "phase B import+export energy, kWh"
        " (raw IEEE-754 float32 bits)"),
    U32("import_energy_c"
        "_bits",
        170, BLT_PROV_FW,
        "phase C imported energy, kWh"
        " (raw IEEE-754 float32 bits)"),
    U32("export_energy_c"
        "_bits",
        174, BLT_PROV_FW,
        "phase C exported energy, kWh"
        " (raw IEEE-754 float32 bits)"),
    U32("net_energy_c"
        "_bits",
        178, BLT_PROV_FW,
        "phase C import+export energy, kWh"
        " (raw IEEE-754 float32 bits)"),
    U32("last_online_time", 222, BLT_PROV_FW,
        "last time the meter came online (seconds since 1970)", .unit = "s"),
};

const blt_block_t blt_block_1700 = {
    .id = 1700,
    .name = "METER_INFO",
    .title = "meter",
    .regs = 113,
    .min_bytes = 22,
    .extent = 125, /* 1700-1824: one read covers 125 of 1700-1899 */
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "firmware struct reg01700; float32 values kept as raw bits; ref 30/34 mislabelled",
};
