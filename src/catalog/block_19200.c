/* Block 19200 - SCHEDULED_BACKUP. PROTOCOL.md Appendix A.
 * Provenance: reference layout; its 32-bit times are read word-swapped (§3.3, no capture). */
#include "catalog_internal.h"

#define SCHED(i)                                                                             \
	{.name = "schedule_" #i "_start_time", .offset = 6 + 8 * i, .type = BLT_T_U32,          \
	 .prov = BLT_PROV_APP, .desc = "schedule " #i " start time (raw)"},                      \
	{.name = "schedule_" #i "_end_time", .offset = 10 + 8 * i, .type = BLT_T_U32,           \
	 .prov = BLT_PROV_APP, .desc = "schedule " #i " end time (raw)"}

static const blt_field_t fields[] = {
	{.name = "enable_flags", .offset = 0, .type = BLT_T_U16, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_APP, .desc = "backup enable flags"},
	{.name = "mode_config", .offset = 2, .type = BLT_T_U16, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_APP, .desc = "backup mode configuration"},
	{.name = "schedule_type_enable", .offset = 4, .type = BLT_T_U16, .prov = BLT_PROV_APP,
	 .desc = "schedule type enables"},
	SCHED(0), SCHED(1), SCHED(2), SCHED(3),
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
