/* Block 19000 - SOC_SETTINGS. PROTOCOL.md Appendix A.
 * Provenance: reference layout only (threshold words; units not documented). */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
    U16("grid_charge_threshold", 0, BLT_PROV_APP, "grid charging SOC threshold (raw)",
        .flags = BLT_F_REQUIRED),
    U16("ups_mode_threshold", 2, BLT_PROV_APP, "UPS mode SOC threshold (raw)",
        .flags = BLT_F_REQUIRED),
    U16("battery_protect_threshold", 4, BLT_PROV_APP, "battery protection SOC threshold (raw)"),
    U16("threshold_pair_3", 6, BLT_PROV_APP, "threshold pair 3 (raw)"),
    U16("threshold_pair_4", 8, BLT_PROV_APP, "threshold pair 4 (raw)"),
    U16("threshold_pair_5", 10, BLT_PROV_APP, "threshold pair 5 (raw)"),
};

const blt_block_t blt_block_19000 = {
    .id = 19000,
    .name = "SOC_SETTINGS",
    .title = "SOC thresholds",
    .regs = 6,
    .min_bytes = 4,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "reference layout only",
};
