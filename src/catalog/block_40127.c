/* Block 40127 - HOME_STORAGE_SETTINGS. PROTOCOL.md Appendix A.
 * Provenance: reference layout only (grid power targets and protection values). */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
    U16("setting_enable_1", 2, BLT_PROV_APP, "setting enables", .flags = BLT_F_REQUIRED),
    U16("grid_power_l1", 4, BLT_PROV_APP, "grid power target L1", .unit = "W",
        .flags = BLT_F_REQUIRED),
    U16("grid_power_l2", 6, BLT_PROV_APP, "grid power target L2", .unit = "W",
        .flags = BLT_F_REQUIRED),
    U16("grid_power_l3", 8, BLT_PROV_APP, "grid power target L3", .unit = "W",
        .flags = BLT_F_REQUIRED),
    U16("auto_test_enable", 10, BLT_PROV_APP, "automatic test enable"),
    U16("grid_uv1_value", 12, BLT_PROV_APP, "grid under-voltage level 1", .unit = "V"),
    U16("grid_uv1_time", 14, BLT_PROV_APP, "grid under-voltage level 1 time", .unit = "ms"),
    U16("grid_uv2_value", 16, BLT_PROV_APP, "grid under-voltage level 2", .unit = "V"),
    U16("grid_uv2_time", 18, BLT_PROV_APP, "grid under-voltage level 2 time", .unit = "ms"),
    U16("grid_ov1_value", 20, BLT_PROV_APP, "grid over-voltage level 1", .unit = "V"),
    U16("grid_ov1_time", 22, BLT_PROV_APP, "grid over-voltage level 1 time", .unit = "ms"),
};

const blt_block_t blt_block_40127 = {
    .id = 40127,
    .name = "HOME_STORAGE_SETTINGS",
    .title = "home storage settings",
    .regs = 12,
    .min_bytes = 10,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "reference layout only",
};
