/* Block 19300 - TIMER_SETTINGS. PROTOCOL.md Appendix A.
 * Provenance: reference layout only. The timer records themselves are block 19305. */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
    U16("enable_flags_01", 0, BLT_PROV_APP, "timer enable flags, word 1", .flags = BLT_F_REQUIRED),
    U16("enable_flags_02", 2, BLT_PROV_APP, "timer enable flags, word 2", .flags = BLT_F_REQUIRED),
    U16("enable_flags_03", 4, BLT_PROV_APP, "timer enable flags, word 3", .flags = BLT_F_REQUIRED),
    U16("enable_flags_04", 6, BLT_PROV_APP, "timer enable flags, word 4", .flags = BLT_F_REQUIRED),
    U8("timer_count", 9, BLT_PROV_APP, "number of timers (records in block 19305)",
       .flags = BLT_F_REQUIRED),
};

const blt_block_t blt_block_19300 = {
    .id = 19300,
    .name = "TIMER_SETTINGS",
    .title = "timer settings",
    .regs = 25,
    .min_bytes = 10,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "reference layout only",
};
