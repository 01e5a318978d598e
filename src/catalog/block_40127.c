/* Block 40127 - HOME_STORAGE_SETTINGS. PROTOCOL.md Appendix A.
 * Provenance: reference layout only (grid power targets and protection values). */
#include "catalog_internal.h"

#define W(n, off, u, req, what)                                                              \
	{.name = n, .offset = off, .type = BLT_T_U16, .unit = u, .flags = req,                  \
	 .prov = BLT_PROV_APP, .desc = what}

static const blt_field_t fields[] = {
	W("setting_enable_1", 2, NULL, BLT_F_REQUIRED, "setting enables"),
	W("grid_power_l1", 4, "W", BLT_F_REQUIRED, "grid power target L1"),
	W("grid_power_l2", 6, "W", BLT_F_REQUIRED, "grid power target L2"),
	W("grid_power_l3", 8, "W", BLT_F_REQUIRED, "grid power target L3"),
	W("auto_test_enable", 10, NULL, 0, "automatic test enable"),
	W("grid_uv1_value", 12, "V", 0, "grid under-voltage level 1"),
	W("grid_uv1_time", 14, "ms", 0, "grid under-voltage level 1 time"),
	W("grid_uv2_value", 16, "V", 0, "grid under-voltage level 2"),
	W("grid_uv2_time", 18, "ms", 0, "grid under-voltage level 2 time"),
	W("grid_ov1_value", 20, "V", 0, "grid over-voltage level 1"),
	W("grid_ov1_time", 22, "ms", 0, "grid over-voltage level 1 time"),
};

const blt_block_t blt_block_40127 = {
	.id = 40127,
	.name = "HOME_STORAGE_SETTINGS",
	.title = "home storage settings",
	.regs = 12,
	.min_bytes = 10,
	.fields = fields,
	.nfields = sizeof fields / sizeof fields[0],
	.source = "reference layout only",
};
