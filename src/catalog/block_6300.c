/* Block 6300 - cell voltages and temperatures of the selected pack. PROTOCOL.md §4.9 (b).
 * Provenance: firmware map, the app's parsePackSubPackInfo and live captures (AP300: 16
 * cells 3.321-3.325 V, 4 NTC at 29 °C; Elite 200 V2: 12 cells, 4 NTC, 20 registers). The
 * reference's "PACK_BMU_READ" layout is really block 7200 and is not used. Length varies
 * with the cell count; regs = 22 fits 16 cells + 4 NTC (AP300, Elite 100 V2). */
#include "catalog_internal.h"

static const blt_repeat_t cells = {.count_field = "cell_count", .max = 48, .stride = 2};
/* NTC bytes follow the cells: two per register, the low byte first (SWAP_INDEX). */
static const blt_repeat_t temps = {.count_field = "ntc_count",
                                   .max = 16,
                                   .stride = 1,
                                   .base_field = "cell_count",
                                   .base_mul = 2,
                                   .base_add = 4};

static const blt_field_t fields[] = {
    U16("cell_count", 0, BLT_PROV_LIVE, "number of cells", .flags = BLT_F_REQUIRED | BLT_F_COUNT,
        .ha = {.quantity = BLT_Q_CELL_COUNT}),
    U16("ntc_count", 2, BLT_PROV_LIVE, "number of temperature sensors", .flags = BLT_F_COUNT,
        .ha = {.quantity = BLT_Q_TEMP_COUNT}),
    U16("cell_%u_voltage", 4, BLT_PROV_LIVE, "cell voltage", .mask = 0x3fff, .scale = 0.001,
        .unit = "V", .flags = BLT_F_RANGE | BLT_F_DETAIL, .valid_lo = 0, .valid_hi = 5,
        /* a LiFePO4 / NMC cell; 16.383 V is a masked 0xFFFF */ .repeat = &cells,
        .ha = {.quantity = BLT_Q_CELL_VOLTAGE}),
    FIELD2("cell_%u_status", 4, 14, BLT_PROV_APP, "cell status / balancing flag (bits 14-15)",
           .flags = BLT_F_DETAIL, .repeat = &cells),
    U8("temp_%u", 0, BLT_PROV_LIVE, "cell temperature sensor (0 = not fitted)", .add = -40,
       .flags = BLT_F_ZERO_NA | BLT_F_SWAP_INDEX | BLT_F_DETAIL, .unit = "°C", .repeat = &temps,
       .ha = {.label = "Temperature %u", .quantity = BLT_Q_TEMP}),
};

const blt_block_t blt_block_6300 = {
    .id = 6300,
    .name = "PACK_CELL_INFO",
    .title = "cells",
    .regs = 22,
    .min_bytes = 4,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "firmware map + AP300/Elite 200 V2 captures; reference layout is block 7200's",
    .ha = {.prefix = "battery_pack", .title = "Battery pack", .sub = 1, .diag = true},
};
