/* Block 19300 - TIMER_SETTINGS. PROTOCOL.md Appendix A.
 * Provenance: reference layout only. The timer records themselves are block 19305. */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
	{.name = "enable_flags_01", .offset = 0, .type = BLT_T_U16, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_APP, .desc = "timer enable flags, word 1"},
	{.name = "enable_flags_02", .offset = 2, .type = BLT_T_U16, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_APP, .desc = "timer enable flags, word 2"},
	{.name = "enable_flags_03", .offset = 4, .type = BLT_T_U16, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_APP, .desc = "timer enable flags, word 3"},
	{.name = "enable_flags_04", .offset = 6, .type = BLT_T_U16, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_APP, .desc = "timer enable flags, word 4"},
	{.name = "timer_count", .offset = 9, .type = BLT_T_U8, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_APP, .desc = "number of timers (records in block 19305)"},
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
