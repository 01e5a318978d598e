/* Block 7000 - PACK_SETTINGS. PROTOCOL.md §4.11 (FW note), §6.2.
 * Provenance: firmware struct reg07000 (7000 select pack id, 7001 PV heating enable, 7002
 * grid auto-heat at high SOC, 7003 unlock after fault, 7004 max packs per set). The
 * reference's 1-byte / odd offsets do not match the firmware and are not used. */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
	{.name = "pack_select", .offset = 0, .type = BLT_T_U16, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_FW, .desc = "pack id selected for pack reads (SetPackID)"},
	{.name = "pv_heating", .offset = 3, .type = BLT_T_U8, .prov = BLT_PROV_FW,
	 .desc = "battery heating from PV enabled"},
	{.name = "grid_auto_heating", .offset = 5, .type = BLT_T_U8, .prov = BLT_PROV_FW,
	 .desc = "automatic grid heating at high SOC enabled"},
	{.name = "fault_unlock", .offset = 7, .type = BLT_T_U8, .prov = BLT_PROV_FW,
	 .desc = "unlock a pack locked after a fault (dangerous: never written)"},
	{.name = "max_parallel_packs", .offset = 8, .type = BLT_T_U16, .prov = BLT_PROV_FW,
	 .desc = "maximum packs supported per battery set"},
};

const blt_block_t blt_block_7000 = {
	.id = 7000,
	.name = "PACK_SETTINGS",
	.title = "pack settings",
	.regs = 5,
	.min_bytes = 2,
	.fields = fields,
	.nfields = sizeof fields / sizeof fields[0],
	.source = "firmware struct reg07000 (7000-7004); reference offsets do not match it",
};
