/* Block 1200 - INV_PV_INFO (PV / DC inputs). PROTOCOL.md §4.3 (not in the reference).
 * Provenance: firmware struct reg01200; live AP300 (2 DC inputs, type word 100) and the
 * Elite 200 V2 BLE probe (12 V car socket at +20..+28). Register 1209 low byte: low nibble
 * = DC input count, high nibble = AC input count; records of 16 bytes from byte 20, at most
 * 10 in total. That AC records follow the DC ones is a guess (no capture with AC inputs). */
#include "catalog_internal.h"

static const blt_repeat_t dc_inputs = {.count_field = "dc_input_count", .max = 10, .stride = 16};
/* AC records start after the DC ones: base = 16 * dc_input_count. */
static const blt_repeat_t ac_inputs = {.count_field = "ac_input_count",
                                       .max = 10,
                                       .stride = 16,
                                       .base_field = "dc_input_count",
                                       .base_mul = 16};

static const blt_field_t fields[] = {
    U32("pv_power", 0, BLT_PROV_FW, "total PV charging power", .unit = "W", .flags = BLT_F_REQUIRED,
        .ha = {.same_as = "100:pv_power"}),
    U32("pv_energy", 4, BLT_PROV_FW, "total PV charging energy", .scale = 0.1, .unit = "kWh",
        .ha = {.same_as = "100:pv_charge_energy", .quantity = BLT_Q_PV_ENERGY}),
    U32("pv_to_ac_load_power", 8, BLT_PROV_FW, "PV power going to the AC load", .unit = "W",
        .ha = {.same_as = "100:pv_to_ac_load_power"}),
    U32("pv_to_ac_load_energy", 12, BLT_PROV_FW, "PV energy delivered to the AC load", .scale = 0.1,
        .unit = "kWh", .ha = {.same_as = "100:pv_to_ac_load_energy"}),
    U16("self_sufficiency", 16, BLT_PROV_FW, "self-sufficiency rate", .unit = "%",
        .ha = {.same_as = "100:self_sufficiency"}),
    U8("dc_input_count", 19, BLT_PROV_LIVE,
       "number of DC (PV/car/adapter) inputs (low nibble of byte 19)", .mask = 0x0F,
       .flags = BLT_F_REQUIRED | BLT_F_COUNT),
    U8("ac_input_count", 19, BLT_PROV_FW, "number of AC-coupled PV inputs (high nibble of byte 19)",
       .mask = 0xF0, .shift = 4, .flags = BLT_F_REQUIRED | BLT_F_COUNT),
    U16("dc_input_%u_status", 20, BLT_PROV_LIVE, "input working status (1 = connected)",
        .repeat = &dc_inputs),
    U16("dc_input_%u_type", 22, BLT_PROV_LIVE,
        "input type word (AP300 PV: 100, Elite 200 V2 car: 101)", .repeat = &dc_inputs),
    U16("dc_input_%u_power", 24, BLT_PROV_LIVE, "input power", .unit = "W", .repeat = &dc_inputs),
    U16("dc_input_%u_voltage", 26, BLT_PROV_LIVE, "input voltage", .scale = 0.1, .unit = "V",
        .repeat = &dc_inputs),
    U16("dc_input_%u_current", 28, BLT_PROV_LIVE, "input current", .scale = 0.1, .unit = "A",
        .repeat = &dc_inputs),
    U16("ac_input_%u_status", 20, BLT_PROV_FW, "AC-coupled input status (record order is a guess)",
        .repeat = &ac_inputs),
    U16("ac_input_%u_type", 22, BLT_PROV_FW, "AC-coupled input type word", .repeat = &ac_inputs),
    U16("ac_input_%u_power", 24, BLT_PROV_FW, "AC-coupled input power", .unit = "W",
        .repeat = &ac_inputs),
    U16("ac_input_%u_voltage", 26, BLT_PROV_FW, "AC-coupled input voltage", .scale = 0.1,
        .unit = "V", .repeat = &ac_inputs),
    U16("ac_input_%u_current", 28, BLT_PROV_FW, "AC-coupled input current", .scale = 0.1,
        .unit = "A", .repeat = &ac_inputs),
    U32("dc_pv_power", 180, BLT_PROV_FW, "DC PV total power (newer firmware, registers 1290-1291)",
        .unit = "W", .ha = {.label = "DC total power"}),
};

const blt_block_t blt_block_1200 = {
    .id = 1200,
    .name = "INV_PV_INFO",
    .title = "PV inputs",
    .regs = 92,
    .min_bytes = 20,
    .extent = 100, /* 1200-1299 */
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "firmware struct reg01200 + AP300 / Elite 200 V2 observations; not in the reference",
    .ha = {.prefix = "pv", .title = "PV"},
};
