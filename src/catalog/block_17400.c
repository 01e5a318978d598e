/* Block 17400 - ATS_EVENT_EXT (AT1 port configuration and start-up flags). Appendix A.
 * Provenance: reference only (its FieldGroups are flattened: "config_grid.type" ->
 * "grid_type"). Its hex_enable_list:0:k fields read the 2-bit chunk k counted from the
 * MSB (bits 15-2k and 14-2k) with the two bits reversed; here they are mask/shift of the
 * same two bits, so raw values 1 and 2 are swapped relative to the reference. */
#include "catalog_internal.h"

/* 2-bit chunk k of the word at off, counted from the MSB. */
#define CHUNK(n, off, k, what)                                                               \
	{.name = n, .offset = off, .type = BLT_T_U16, .mask = 0x3u << (14 - 2 * (k)),           \
	 .shift = 14 - 2 * (k), .prov = BLT_PROV_APP, .desc = what}
#define MAXI(n, off, what)                                                                   \
	{.name = n, .offset = off, .type = BLT_T_U16, .prov = BLT_PROV_APP, .desc = what}

static const blt_field_t fields[] = {
	CHUNK("chg_from_grid_enable", 0, 3, "charging from grid enabled"),
	CHUNK("sl1_force_enable_0", 2, 0, "smart load 1 force enable 0"),
	CHUNK("sl1_force_enable_1", 2, 1, "smart load 1 force enable 1"),
	CHUNK("sl1_force_enable_2", 2, 2, "smart load 1 force enable 2"),
	CHUNK("feed_to_grid_enable", 2, 4, "feeding to grid enabled"),
	CHUNK("grid_force_enable_0", 12, 0, "grid port force enable 0"),
	CHUNK("grid_force_enable_1", 12, 1, "grid port force enable 1"),
	CHUNK("grid_force_enable_2", 12, 2, "grid port force enable 2"),
	CHUNK("pcs1_type", 18, 0, "PCS port 1 type"),
	CHUNK("pcs2_type", 18, 1, "PCS port 2 type"),
	CHUNK("grid_type", 20, 0, "grid port type"),
	CHUNK("sl1_type", 20, 1, "smart load 1 type"),
	CHUNK("grid_linkage_enable", 22, 0, "grid port linkage enable"),
	CHUNK("sl1_linkage_enable", 22, 1, "smart load 1 linkage enable"),
	MAXI("grid_max_current", 84, "grid port maximum current (raw)"),
	MAXI("sl1_max_current", 86, "smart load 1 maximum current (raw)"),
	MAXI("sl2_max_current", 88, "smart load 2 maximum current (raw)"),
	MAXI("sl3_max_current", 90, "smart load 3 maximum current (raw)"),
	MAXI("sl4_max_current", 92, "smart load 4 maximum current (raw)"),
	{.name = "pcs2_max_current", .offset = 94, .type = BLT_T_U8, .prov = BLT_PROV_APP,
	 .desc = "PCS port 2 maximum current (raw)"},
	{.name = "pcs1_max_current", .offset = 95, .type = BLT_T_U8, .prov = BLT_PROV_APP,
	 .desc = "PCS port 1 maximum current (raw)"},
	CHUNK("black_start_enable", 174, 2, "black start enabled"),
	CHUNK("black_start_mode", 174, 3, "black start mode"),
	CHUNK("generator_auto_start_enable", 174, 4, "generator auto start enabled"),
	CHUNK("off_grid_power_priority", 174, 5, "off-grid power priority"),
	{.name = "volt_level_set", .offset = 176, .type = BLT_T_U16, .mask = 0x0007,
	 .prov = BLT_PROV_APP, .desc = "voltage level setting (bits 0-2)"},
	{.name = "ac_supply_phase_num", .offset = 176, .type = BLT_T_U16, .mask = 0x0038,
	 .shift = 3, .prov = BLT_PROV_APP, .desc = "AC supply phase count (bits 3-5)"},
	{.name = "soc_gen_auto_stop", .offset = 178, .type = BLT_T_U8, .flags = BLT_F_CLAMP,
	 .clamp_lo = 0, .clamp_hi = 100, .unit = "%", .prov = BLT_PROV_APP,
	 .desc = "SOC at which the generator stops"},
	{.name = "soc_gen_auto_start", .offset = 179, .type = BLT_T_U8, .unit = "%",
	 .prov = BLT_PROV_APP, .desc = "SOC at which the generator starts"},
	{.name = "soc_black_start", .offset = 181, .type = BLT_T_U8, .unit = "%",
	 .prov = BLT_PROV_APP, .desc = "black start SOC"},
};

const blt_block_t blt_block_17400 = {
	.id = 17400,
	.name = "ATS_EVENT_EXT",
	.title = "ATS configuration",
	.regs = 91,
	.min_bytes = 0,
	.fields = fields,
	.nfields = sizeof fields / sizeof fields[0],
	.source = "reference layout only (FieldGroups flattened; 2-bit chunks as mask/shift)",
};
