/* Block 29770 - BOOT_UPGRADE_SUPPORT. PROTOCOL.md Appendix A.
 * Provenance: reference layout only. */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
	{.name = "is_supported", .offset = 0, .type = BLT_T_U16, .prov = BLT_PROV_APP,
	 .desc = "boot upgrade supported"},
	{.name = "software_version_total", .offset = 2, .type = BLT_T_U16, .prov = BLT_PROV_APP,
	 .desc = "number of software entries"},
};

const blt_block_t blt_block_29770 = {
	.id = 29770,
	.name = "BOOT_UPGRADE_SUPPORT",
	.title = "boot upgrade support",
	.regs = 2,
	.min_bytes = 0,
	.fields = fields,
	.nfields = sizeof fields / sizeof fields[0],
	.source = "reference layout only",
};
