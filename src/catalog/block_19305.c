/* Block 19305 - TIMER_TASK_LIST (first timer record). PROTOCOL.md Appendix A.
 * Provenance: reference layout only; it describes timer 0 (bytes 0-16) of a 40-byte read.
 * Its 8-bit hour/minute values sit at even offsets (high bytes), as the reference has them. */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
    U16("timer_0_enable", 0, BLT_PROV_APP, "timer enable", .flags = BLT_F_REQUIRED),
    U8("timer_0_start_hour", 2, BLT_PROV_APP, "start hour", .flags = BLT_F_REQUIRED),
    U8("timer_0_start_minute", 4, BLT_PROV_APP, "start minute", .flags = BLT_F_REQUIRED),
    U8("timer_0_end_hour", 6, BLT_PROV_APP, "end hour", .flags = BLT_F_REQUIRED),
    U8("timer_0_end_minute", 8, BLT_PROV_APP, "end minute", .flags = BLT_F_REQUIRED),
    U16("timer_0_days_of_week", 10, BLT_PROV_APP, "weekday mask", .flags = BLT_F_REQUIRED),
    U8("timer_0_mode", 12, BLT_PROV_APP, "timer mode", .flags = BLT_F_REQUIRED),
    U16("timer_0_power", 14, BLT_PROV_APP, "timer power", .unit = "W", .flags = BLT_F_REQUIRED),
    U8("timer_0_priority", 16, BLT_PROV_APP, "timer priority"),
};

const blt_block_t blt_block_19305 = {
    .id = 19305,
    .name = "TIMER_TASK_LIST",
    .title = "timer tasks",
    .regs = 20,
    .min_bytes = 16,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "reference layout only (timer 0)",
};
