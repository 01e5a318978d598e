/* Block 26001 - TOU_TIME_INFO. PROTOCOL.md Appendix A.
 * Provenance: reference layout only (five raw words, then a target register and value). */
#include "catalog_internal.h"

#define W(n, off, what) \
	{.name = n, .offset = off, .type = BLT_T_U16, .prov = BLT_PROV_APP, .desc = what}

static const blt_field_t fields[] = {
	W("word0", 0, "TOU word 0 (raw)"), W("word1", 2, "TOU word 1 (raw)"),
	W("word2", 4, "TOU word 2 (raw)"), W("word3", 6, "TOU word 3 (raw)"),
	W("word4", 8, "TOU word 4 (raw)"), W("target_reg", 10, "target register"),
	W("target_value", 12, "target value"),
};

const blt_block_t blt_block_26001 = {
	.id = 26001,
	.name = "TOU_TIME_INFO",
	.title = "TOU time",
	.regs = 7,
	.min_bytes = 0,
	.fields = fields,
	.nfields = sizeof fields / sizeof fields[0],
	.source = "reference layout only",
};
