/* Block 19305 - TIMER_TASK_LIST (first timer record). PROTOCOL.md Appendix A.
 * Provenance: reference layout only; it describes timer 0 (bytes 0-16) of a 40-byte read.
 * Its 8-bit hour/minute values sit at even offsets (high bytes), as the reference has them. */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
	{.name = "timer_0_enable", .offset = 0, .type = BLT_T_U16, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_APP, .desc = "timer enable"},
	{.name = "timer_0_start_hour", .offset = 2, .type = BLT_T_U8, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_APP, .desc = "start hour"},
	{.name = "timer_0_start_minute", .offset = 4, .type = BLT_T_U8, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_APP, .desc = "start minute"},
	{.name = "timer_0_end_hour", .offset = 6, .type = BLT_T_U8, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_APP, .desc = "end hour"},
	{.name = "timer_0_end_minute", .offset = 8, .type = BLT_T_U8, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_APP, .desc = "end minute"},
	{.name = "timer_0_days_of_week", .offset = 10, .type = BLT_T_U16, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_APP, .desc = "weekday mask"},
	{.name = "timer_0_mode", .offset = 12, .type = BLT_T_U8, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_APP, .desc = "timer mode"},
	{.name = "timer_0_power", .offset = 14, .type = BLT_T_U16, .unit = "W",
	 .flags = BLT_F_REQUIRED, .prov = BLT_PROV_APP, .desc = "timer power"},
	{.name = "timer_0_priority", .offset = 16, .type = BLT_T_U8, .prov = BLT_PROV_APP,
	 .desc = "timer priority"},
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
