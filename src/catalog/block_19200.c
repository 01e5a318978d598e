/* Block 19200 - SCHEDULED_BACKUP. PROTOCOL.md Appendix A.
 * Provenance: reference layout; its 32-bit times are read word-swapped (§3.3, no capture). */
#include "catalog_internal.h"

#define SCHED(i)                                                                                   \
	U32("schedule_" #i "_start_time", 6 + 8 * i, BLT_PROV_APP,                                 \
	    "schedule " #i " start time (raw)"),                                                   \
	    U32("schedule_" #i "_end_time", 10 + 8 * i, BLT_PROV_APP,                              \
	        "schedule " #i " end time (raw)")

static const blt_field_t fields[] = {
    U16("enable_flags", 0, BLT_PROV_APP, "backup enable flags", .flags = BLT_F_REQUIRED),
    U16("mode_config", 2, BLT_PROV_APP, "backup mode configuration", .flags = BLT_F_REQUIRED),
    U16("schedule_type_enable", 4, BLT_PROV_APP, "schedule type enables"),
    SCHED(0),
    SCHED(1),
    SCHED(2),
    SCHED(3),
};

const blt_block_t blt_block_19200 = {
    .id = 19200,
    .name = "SCHEDULED_BACKUP",
    .title = "scheduled backup",
    .regs = 19,
    .min_bytes = 4,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "reference layout; u32 word-swapped per §3.3",
};
