/* Block 19365 - AT1_TIMER_EVENT_A (AT1 timer slots 1 and 2). PROTOCOL.md Appendix A.
 * Provenance: reference layout only. */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
	{.name = "slot1_flags", .offset = 0, .type = BLT_T_U16, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_APP, .desc = "slot 1 flags"},
	{.name = "slot1_value1", .offset = 2, .type = BLT_T_U8, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_APP, .desc = "slot 1 first value"},
	{.name = "slot1_value2", .offset = 3, .type = BLT_T_U8, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_APP, .desc = "slot 1 second value"},
	{.name = "slot2_flags", .offset = 4, .type = BLT_T_U16, .prov = BLT_PROV_APP,
	 .desc = "slot 2 flags"},
	{.name = "slot2_value1", .offset = 6, .type = BLT_T_U8, .prov = BLT_PROV_APP,
	 .desc = "slot 2 first value"},
	{.name = "slot2_value2", .offset = 7, .type = BLT_T_U8, .prov = BLT_PROV_APP,
	 .desc = "slot 2 second value"},
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
