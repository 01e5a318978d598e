/* Block 19485 - AT1_TIMER_EVENT_C (AT1 timer slots 5 and 6). PROTOCOL.md Appendix A.
 * Provenance: reference layout only. */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
    U16("slot5_flags", 0, BLT_PROV_APP, "slot 5 flags", .flags = BLT_F_REQUIRED),
    U8("slot5_value1", 2, BLT_PROV_APP, "slot 5 first value", .flags = BLT_F_REQUIRED),
    U8("slot5_value2", 3, BLT_PROV_APP, "slot 5 second value", .flags = BLT_F_REQUIRED),
    U16("slot6_flags", 4, BLT_PROV_APP, "slot 6 flags"),
    U8("slot6_value1", 6, BLT_PROV_APP, "slot 6 first value"),
    U8("slot6_value2", 7, BLT_PROV_APP, "slot 6 second value"),
};

const blt_block_t blt_block_19485 = {
    .id = 19485,
    .name = "AT1_TIMER_EVENT_C",
    .title = "AT1 timer slots 5-6",
    .regs = 4,
    .min_bytes = 4,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "reference layout only",
};
