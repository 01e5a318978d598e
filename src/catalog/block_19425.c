/* Block 19425 - AT1_TIMER_EVENT_B (AT1 timer slots 3 and 4). PROTOCOL.md Appendix A.
 * Provenance: reference layout only. */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
    U16("slot3_flags", 0, BLT_PROV_APP, "slot 3 flags", .flags = BLT_F_REQUIRED),
    U8("slot3_value1", 2, BLT_PROV_APP, "slot 3 first value", .flags = BLT_F_REQUIRED),
    U8("slot3_value2", 3, BLT_PROV_APP, "slot 3 second value", .flags = BLT_F_REQUIRED),
    U16("slot4_flags", 4, BLT_PROV_APP, "slot 4 flags"),
    U8("slot4_value1", 6, BLT_PROV_APP, "slot 4 first value"),
    U8("slot4_value2", 7, BLT_PROV_APP, "slot 4 second value"),
};

const blt_block_t blt_block_19425 = {
    .id = 19425,
    .name = "AT1_TIMER_EVENT_B",
    .title = "AT1 timer slots 3-4",
    .regs = 4,
    .min_bytes = 4,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "reference layout only",
};
