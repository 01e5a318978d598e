/* Block 17400 - ATS_EVENT_EXT (AT1 port configuration and start-up flags). Appendix A.
 * Provenance: reference only (its FieldGroups are flattened: "config_grid.type" ->
 * "grid_type"). Its hex_enable_list:0:k fields read the 2-bit chunk k counted from the
 * MSB (bits 15-2k and 14-2k) with the two bits reversed; here they are mask/shift of the
 * same two bits, so raw values 1 and 2 are swapped relative to the reference. */
#include "catalog_internal.h"

/* 2-bit chunk k of the word at off, counted from the MSB. */

static const blt_field_t fields[] = {
    FIELD2("chg_from_grid_enable", 0, 14 - 2 * (3), BLT_PROV_APP, "charging from grid enabled"),
    FIELD2("sl1_force_enable_0", 2, 14 - 2 * (0), BLT_PROV_APP, "smart load 1 force enable 0"),
    FIELD2("sl1_force_enable_1", 2, 14 - 2 * (1), BLT_PROV_APP, "smart load 1 force enable 1"),
    FIELD2("sl1_force_enable_2", 2, 14 - 2 * (2), BLT_PROV_APP, "smart load 1 force enable 2"),
    FIELD2("feed_to_grid_enable", 2, 14 - 2 * (4), BLT_PROV_APP, "feeding to grid enabled"),
    FIELD2("grid_force_enable_0", 12, 14 - 2 * (0), BLT_PROV_APP, "grid port force enable 0"),
    FIELD2("grid_force_enable_1", 12, 14 - 2 * (1), BLT_PROV_APP, "grid port force enable 1"),
    FIELD2("grid_force_enable_2", 12, 14 - 2 * (2), BLT_PROV_APP, "grid port force enable 2"),
    FIELD2("pcs1_type", 18, 14 - 2 * (0), BLT_PROV_APP, "PCS port 1 type"),
    FIELD2("pcs2_type", 18, 14 - 2 * (1), BLT_PROV_APP, "PCS port 2 type"),
    FIELD2("grid_type", 20, 14 - 2 * (0), BLT_PROV_APP, "grid port type"),
    FIELD2("sl1_type", 20, 14 - 2 * (1), BLT_PROV_APP, "smart load 1 type"),
    FIELD2("grid_linkage_enable", 22, 14 - 2 * (0), BLT_PROV_APP, "grid port linkage enable"),
    FIELD2("sl1_linkage_enable", 22, 14 - 2 * (1), BLT_PROV_APP, "smart load 1 linkage enable"),
    U16("grid_max_current", 84, BLT_PROV_APP, "grid port maximum current (raw)"),
    U16("sl1_max_current", 86, BLT_PROV_APP, "smart load 1 maximum current (raw)"),
    U16("sl2_max_current", 88, BLT_PROV_APP, "smart load 2 maximum current (raw)"),
    U16("sl3_max_current", 90, BLT_PROV_APP, "smart load 3 maximum current (raw)"),
    U16("sl4_max_current", 92, BLT_PROV_APP, "smart load 4 maximum current (raw)"),
    U8("pcs2_max_current", 94, BLT_PROV_APP, "PCS port 2 maximum current (raw)"),
    U8("pcs1_max_current", 95, BLT_PROV_APP, "PCS port 1 maximum current (raw)"),
    FIELD2("black_start_enable", 174, 14 - 2 * (2), BLT_PROV_APP, "black start enabled"),
    FIELD2("black_start_mode", 174, 14 - 2 * (3), BLT_PROV_APP, "black start mode"),
    FIELD2("generator_auto_start_enable", 174, 14 - 2 * (4), BLT_PROV_APP,
           "generator auto start enabled"),
    FIELD2("off_grid_power_priority", 174, 14 - 2 * (5), BLT_PROV_APP, "off-grid power priority"),
    U16("volt_level_set", 176, BLT_PROV_APP, "voltage level setting (bits 0-2)", .mask = 0x0007),
    U16("ac_supply_phase_num", 176, BLT_PROV_APP, "AC supply phase count (bits 3-5)",
        .mask = 0x0038, .shift = 3),
    U8("soc_gen_auto_stop", 178, BLT_PROV_APP, "SOC at which the generator stops",
       .flags = BLT_F_CLAMP, .clamp_lo = 0, .clamp_hi = 100, .unit = "%"),
    U8("soc_gen_auto_start", 179, BLT_PROV_APP, "SOC at which the generator starts", .unit = "%"),
    U8("soc_black_start", 181, BLT_PROV_APP, "black start SOC", .unit = "%"),
};

const blt_block_t blt_block_17400 = {
    .id = 17400,
    .name = "ATS_EVENT_EXT",
    .title = "ATS configuration",
    .regs = 91,
    .min_bytes = 0,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "reference layout only (FieldGroups flattened; 2-bit chunks as mask/shift)",
};
