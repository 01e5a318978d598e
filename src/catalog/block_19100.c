/* Block 19100 - COMM_DELAY_SETTINGS. PROTOCOL.md Appendix A.
 * Provenance: reference layout only (raw enable / action flag words). */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
    U16("enable_flags_01", 0, BLT_PROV_APP, "enable flags, word 1", .flags = BLT_F_REQUIRED),
    U16("enable_flags_02", 2, BLT_PROV_APP, "enable flags, word 2", .flags = BLT_F_REQUIRED),
    U16("enable_flags_03", 4, BLT_PROV_APP, "enable flags, word 3", .flags = BLT_F_REQUIRED),
    U16("enable_flags_04", 6, BLT_PROV_APP, "enable flags, word 4", .flags = BLT_F_REQUIRED),
    U16("action_flags_01", 8, BLT_PROV_APP, "action flags, word 1", .flags = BLT_F_REQUIRED),
    U16("action_flags_02", 10, BLT_PROV_APP, "action flags, word 2", .flags = BLT_F_REQUIRED),
    U16("action_flags_03", 12, BLT_PROV_APP, "action flags, word 3", .flags = BLT_F_REQUIRED),
    U16("action_flags_04", 14, BLT_PROV_APP, "action flags, word 4", .flags = BLT_F_REQUIRED),
};

const blt_block_t blt_block_19100 = {
    .id = 19100,
    .name = "COMM_DELAY_SETTINGS",
    .title = "communication delay settings",
    .regs = 8,
    .min_bytes = 16,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "reference layout only",
};
