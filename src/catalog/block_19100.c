/* Block 19100 - COMM_DELAY_SETTINGS. PROTOCOL.md Appendix A.
 * Provenance: reference layout only (raw enable / action flag words). */
#include "catalog_internal.h"

#define W(n, off, what)                                                                      \
	{.name = n, .offset = off, .type = BLT_T_U16, .flags = BLT_F_REQUIRED,                  \
	 .prov = BLT_PROV_APP, .desc = what}

static const blt_field_t fields[] = {
	W("enable_flags_01", 0, "enable flags, word 1"), W("enable_flags_02", 2, "enable flags, word 2"),
	W("enable_flags_03", 4, "enable flags, word 3"), W("enable_flags_04", 6, "enable flags, word 4"),
	W("action_flags_01", 8, "action flags, word 1"), W("action_flags_02", 10, "action flags, word 2"),
	W("action_flags_03", 12, "action flags, word 3"), W("action_flags_04", 14, "action flags, word 4"),
};

const blt_block_t blt_block_19100 = {
	.id = 19100,
	.name = "COMM_DELAY_SETTINGS",
	.title = "communication delay settings",
	.regs = 8,
	.min_bytes = 16,
	.fields = fields,
	.nfields = sizeof fields / sizeof fields[0],
	.source = "reference layout only",
};
