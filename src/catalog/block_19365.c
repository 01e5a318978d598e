/* Block 19365 - AT1_TIMER_EVENT_A (AT1 timer slots 1 and 2). PROTOCOL.md Appendix A.
 * Provenance: reference layout only. */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
    U16("slot1_flags", 0, BLT_PROV_APP, "slot 1 flags", .flags = BLT_F_REQUIRED),
    U8("slot1_value1", 2, BLT_PROV_APP, "slot 1 first value", .flags = BLT_F_REQUIRED),
    U8("slot1_value2", 3, BLT_PROV_APP, "slot 1 second value", .flags = BLT_F_REQUIRED),
    U16("slot2_flags", 4, BLT_PROV_APP, "slot 2 flags"),
    U8("slot2_value1", 6, BLT_PROV_APP, "slot 2 first value"),
    U8("slot2_value2", 7, BLT_PROV_APP, "slot 2 second value"),
};

const blt_block_t blt_block_19365 = {
    .id = 19365,
    .name = "AT1_TIMER_EVENT_A",
    .title = "AT1 timer slots 1-2",
    .regs = 4,
    .min_bytes = 4,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "reference layout only",
};
