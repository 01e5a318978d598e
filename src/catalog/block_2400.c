/* Block 2400 - CERT_SETTINGS (grid certification). PROTOCOL.md Appendix A.
 * Provenance: the reference puts 16-bit values at odd offsets 1/3/5/7 (straddling registers,
 * which no firmware struct does); the firmware register map (reg02400 in the older build:
 * 2400 enable, 2401 country, 2402-2405 under-voltage levels 1/2 value+time, 2406 power
 * factor, 2407 region, 2408 mode enable, 2409 power-rate limit) is used instead. That struct
 * is commented out in the build that was read, so the whole block is unverified. */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
	{.name = "adv_enable", .offset = 1, .type = BLT_T_U8, .prov = BLT_PROV_FW,
	 .desc = "advanced (certification) functions enabled"},
	{.name = "grid_country", .offset = 2, .type = BLT_T_U16, .prov = BLT_PROV_FW,
	 .desc = "grid certification country"},
	{.name = "grid_uv1_value", .offset = 4, .type = BLT_T_U16, .prov = BLT_PROV_FW,
	 .desc = "grid under-voltage level 1 value (raw)"},
	{.name = "grid_uv1_time", .offset = 6, .type = BLT_T_U16, .unit = "ms", .prov = BLT_PROV_FW,
	 .desc = "grid under-voltage level 1 trip time"},
	{.name = "grid_uv2_value", .offset = 8, .type = BLT_T_U16, .prov = BLT_PROV_FW,
	 .desc = "grid under-voltage level 2 value (raw)"},
	{.name = "grid_uv2_time", .offset = 10, .type = BLT_T_U16, .unit = "ms",
	 .prov = BLT_PROV_FW, .desc = "grid under-voltage level 2 trip time"},
	{.name = "power_factor", .offset = 12, .type = BLT_T_U16, .prov = BLT_PROV_FW,
	 .desc = "power factor setting (raw)"},
	{.name = "grid_cert_division", .offset = 14, .type = BLT_T_U16, .prov = BLT_PROV_FW,
	 .desc = "certification region / division"},
	{.name = "vvar_and_volt_watt_resp_mode", .offset = 17, .type = BLT_T_U8,
	 .prov = BLT_PROV_FW, .desc = "volt-var / volt-watt response mode enable"},
	{.name = "power_rate_limit", .offset = 18, .type = BLT_T_U16, .prov = BLT_PROV_FW,
	 .desc = "power change rate limit per minute (raw)"},
};

const blt_block_t blt_block_2400 = {
	.id = 2400,
	.name = "CERT_SETTINGS",
	.title = "certification settings",
	.regs = 10,
	.min_bytes = 0,
	.fields = fields,
	.nfields = sizeof fields / sizeof fields[0],
	.source = "firmware reg02400 layout (unverified); reference offsets straddle registers",
};
