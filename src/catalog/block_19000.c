/* Block 19000 - SOC_SETTINGS. PROTOCOL.md Appendix A.
 * Provenance: reference layout only (threshold words; units not documented). */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
	{.name = "grid_charge_threshold", .offset = 0, .type = BLT_T_U16, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_APP, .desc = "grid charging SOC threshold (raw)"},
	{.name = "ups_mode_threshold", .offset = 2, .type = BLT_T_U16, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_APP, .desc = "UPS mode SOC threshold (raw)"},
	{.name = "battery_protect_threshold", .offset = 4, .type = BLT_T_U16, .prov = BLT_PROV_APP,
	 .desc = "battery protection SOC threshold (raw)"},
	{.name = "threshold_pair_3", .offset = 6, .type = BLT_T_U16, .prov = BLT_PROV_APP,
	 .desc = "threshold pair 3 (raw)"},
	{.name = "threshold_pair_4", .offset = 8, .type = BLT_T_U16, .prov = BLT_PROV_APP,
	 .desc = "threshold pair 4 (raw)"},
	{.name = "threshold_pair_5", .offset = 10, .type = BLT_T_U16, .prov = BLT_PROV_APP,
	 .desc = "threshold pair 5 (raw)"},
};

const blt_block_t blt_block_19000 = {
	.id = 19000,
	.name = "SOC_SETTINGS",
	.title = "SOC thresholds",
	.regs = 6,
	.min_bytes = 4,
	.fields = fields,
	.nfields = sizeof fields / sizeof fields[0],
	.source = "reference layout only",
};
