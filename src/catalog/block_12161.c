/* Block 12161 - IOT_ENABLE_INFO. PROTOCOL.md Appendix A.
 * Provenance: reference layout only (two raw control words; semantics not recovered). */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
    U16("control_flags_1", 0, BLT_PROV_APP, "IoT control flags, first word (raw)",
        .flags = BLT_F_REQUIRED),
    U16("control_flags_2", 2, BLT_PROV_APP, "IoT control flags, second word (raw)",
        .flags = BLT_F_REQUIRED),
};

const blt_block_t blt_block_12161 = {
    .id = 12161,
    .name = "IOT_ENABLE_INFO",
    .title = "IoT enables",
    .regs = 2,
    .min_bytes = 4,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "reference layout only",
};
