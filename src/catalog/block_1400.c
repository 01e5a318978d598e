/* Block 1400 - INV_LOAD_INFO (DC and AC outputs). PROTOCOL.md §4.5 (b).
 * Provenance: firmware register map; the reference offsets agree except the u32 word
 * order (low register first, as everywhere on real devices) and the per-phase records
 * (firmware: 60 + 12 i for up to 3 phases; reference decodes phase 0 only). Live AP300:
 * phase count 2. Left out: DC input limits 96-110 (order/scale unconfirmed) and the newer
 * 32-bit per-phase powers at 112/124 (beyond the 48 registers read by default). */
#include "catalog_internal.h"

static const blt_repeat_t phases = {.count_field = "phase_count", .max = 3, .stride = 12};

static const blt_field_t fields[] = {
    U32("dc_load_power", 0, BLT_PROV_FW, "total DC output power", .unit = "W",
        .ha = {.same_as = "100:dc_load_power"}),
    U32("dc_load_energy", 4, BLT_PROV_FW, "total DC output energy", .scale = 0.1, .unit = "kWh",
        .ha = {.same_as = "100:dc_load_energy", .quantity = BLT_Q_DC_LOAD_ENERGY}),
    U16("usb_5v_power", 8, BLT_PROV_FW, "5 V (USB) output power", .unit = "W"),
    U16("usb_5v_current", 10, BLT_PROV_FW, "5 V (USB) output current", .scale = 0.1, .unit = "A"),
    U16("dc_12v_power", 12, BLT_PROV_FW, "12 V output power", .unit = "W"),
    U16("dc_12v_current", 14, BLT_PROV_FW, "12 V output current", .scale = 0.1, .unit = "A"),
    U16("dc_24v_power", 16, BLT_PROV_FW, "24 V output power", .unit = "W"),
    U16("dc_24v_current", 18, BLT_PROV_FW, "24 V output current", .scale = 0.1, .unit = "A"),
    U32("dc_on_time", 20, BLT_PROV_FW, "DC output on-time (raw; unit undocumented)"),
    U16("dc_voltage", 24, BLT_PROV_FW, "DC output total voltage (newer firmware)", .scale = 0.1,
        .unit = "V"),
    U16("dc_current", 26, BLT_PROV_FW, "DC output total current (newer firmware)", .scale = 0.1,
        .unit = "A"),
    U16("power_factor", 38, BLT_PROV_FW, "AC output power factor (raw)"),
    U32("ac_load_power", 40, BLT_PROV_FW, "total AC output power", .unit = "W",
        .ha = {.same_as = "100:ac_load_power"}),
    U32("ac_load_energy", 44, BLT_PROV_FW, "total AC output energy", .scale = 0.1, .unit = "kWh",
        .ha = {.same_as = "100:ac_load_energy", .quantity = BLT_Q_AC_LOAD_ENERGY}),
    U32("ac_on_time", 48, BLT_PROV_FW, "AC output on-time (raw; unit undocumented)"),
    U8("phase_count", 59, BLT_PROV_LIVE, "number of AC output phases",
       .flags = BLT_F_REQUIRED | BLT_F_COUNT),
    U16("phase_%u_power", 60, BLT_PROV_FW, "phase active power", .unit = "W", .repeat = &phases),
    U16("phase_%u_voltage", 62, BLT_PROV_FW, "phase voltage", .scale = 0.1, .flags = BLT_F_RANGE,
        .valid_lo = 0, .valid_hi = 300, .unit = "V", .repeat = &phases),
    U16("phase_%u_current", 64, BLT_PROV_FW, "phase current", .scale = 0.1, .unit = "A",
        .repeat = &phases),
    U16("phase_%u_apparent", 66, BLT_PROV_FW, "phase apparent power", .unit = "VA",
        .repeat = &phases, .ha = {.label = "Phase %u apparent power"}),
    U16("phase_%u_reactive", 68, BLT_PROV_FW, "phase reactive power (newer firmware)",
        .unit = "var", .repeat = &phases, .ha = {.label = "Phase %u reactive power"}),
};

const blt_block_t blt_block_1400 = {
    .id = 1400,
    .name = "INV_LOAD_INFO",
    .title = "load",
    .regs = 48,
    .min_bytes = 60,
    .extent = 78, /* 1400-1477 */
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "firmware map; reference offsets agree, u32 word order and 3 phase records differ",
    .ha = {.prefix = "load", .title = "Load"},
};
