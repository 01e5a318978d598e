/* Block 26001 - TOU_TIME_INFO. PROTOCOL.md Appendix A.
 * Provenance: reference layout only (five raw words, then a target register and value). */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
    U16("word0", 0, BLT_PROV_APP, "TOU word 0 (raw)"),
    U16("word1", 2, BLT_PROV_APP, "TOU word 1 (raw)"),
    U16("word2", 4, BLT_PROV_APP, "TOU word 2 (raw)"),
    U16("word3", 6, BLT_PROV_APP, "TOU word 3 (raw)"),
    U16("word4", 8, BLT_PROV_APP, "TOU word 4 (raw)"),
    U16("target_reg", 10, BLT_PROV_APP, "target register"),
    U16("target_value", 12, BLT_PROV_APP, "target value"),
};

const blt_block_t blt_block_26001 = {
    .id = 26001,
    .name = "TOU_TIME_INFO",
    .title = "TOU time",
    .regs = 7,
    .min_bytes = 0,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "reference layout only",
};
