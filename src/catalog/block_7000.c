/* Block 7000 - PACK_SETTINGS. PROTOCOL.md §4.11 (FW note), §6.2.
 * Provenance: firmware struct reg07000 (7000 select pack id, 7001 PV heating enable, 7002
 * grid auto-heat at high SOC, 7003 unlock after fault, 7004 max packs per set). The
 * reference's 1-byte / odd offsets do not match the firmware and are not used. */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
    U16("pack_select", 0, BLT_PROV_FW, "pack id selected for pack reads (SetPackID)",
        .flags = BLT_F_REQUIRED),
    U8("pv_heating", 3, BLT_PROV_FW, "battery heating from PV enabled"),
    U8("grid_auto_heating", 5, BLT_PROV_FW, "automatic grid heating at high SOC enabled"),
    U8("fault_unlock", 7, BLT_PROV_FW,
       "unlock a pack locked after a fault (dangerous: never written)"),
    U16("max_parallel_packs", 8, BLT_PROV_FW, "maximum packs supported per battery set"),
};

const blt_block_t blt_block_7000 = {
    .id = 7000,
    .name = "PACK_SETTINGS",
    .title = "pack settings",
    .regs = 5,
    .min_bytes = 2,
    .extent = 5, /* 7000-7004 */
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "firmware struct reg07000 (7000-7004); reference offsets do not match it",
};
