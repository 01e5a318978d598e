/* Block 19425 - AT1_TIMER_EVENT_B (AT1 timer slots 3 and 4). PROTOCOL.md Appendix A.
 * Provenance: reference layout only. */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
	{.name = "slot3_flags", .offset = 0, .type = BLT_T_U16, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_APP, .desc = "slot 3 flags"},
	{.name = "slot3_value1", .offset = 2, .type = BLT_T_U8, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_APP, .desc = "slot 3 first value"},
	{.name = "slot3_value2", .offset = 3, .type = BLT_T_U8, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_APP, .desc = "slot 3 second value"},
	{.name = "slot4_flags", .offset = 4, .type = BLT_T_U16, .prov = BLT_PROV_APP,
	 .desc = "slot 4 flags"},
	{.name = "slot4_value1", .offset = 6, .type = BLT_T_U8, .prov = BLT_PROV_APP,
	 .desc = "slot 4 first value"},
	{.name = "slot4_value2", .offset = 7, .type = BLT_T_U8, .prov = BLT_PROV_APP,
	 .desc = "slot 4 second value"},
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
