/* Block 19485 - AT1_TIMER_EVENT_C (AT1 timer slots 5 and 6). PROTOCOL.md Appendix A.
 * Provenance: reference layout only. */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
	{.name = "slot5_flags", .offset = 0, .type = BLT_T_U16, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_APP, .desc = "slot 5 flags"},
	{.name = "slot5_value1", .offset = 2, .type = BLT_T_U8, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_APP, .desc = "slot 5 first value"},
	{.name = "slot5_value2", .offset = 3, .type = BLT_T_U8, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_APP, .desc = "slot 5 second value"},
	{.name = "slot6_flags", .offset = 4, .type = BLT_T_U16, .prov = BLT_PROV_APP,
	 .desc = "slot 6 flags"},
	{.name = "slot6_value1", .offset = 6, .type = BLT_T_U8, .prov = BLT_PROV_APP,
	 .desc = "slot 6 first value"},
	{.name = "slot6_value2", .offset = 7, .type = BLT_T_U8, .prov = BLT_PROV_APP,
	 .desc = "slot 6 second value"},
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
