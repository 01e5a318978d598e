/* Block 7200 - PACK_BMU_INFO (battery module units). PROTOCOL.md §4.9 (a).
 * Provenance: the reference's "6300" table, which is really this block, and its docstring
 * formulas for N BMUs (SN at 8i, fault u32 at 8N+4i, NTC/cell count bytes at 12N+2i /
 * 12N+2i+1, model byte at 14N+(i^1), version u32 at 14N+2*ceil(N/2)+4i, protocol >= 2010).
 * N is the BMU count of block 6100 (byte 109), not part of this block, and the newer
 * firmware struct lays one BMU out as a 20-byte record instead; both agree only for N = 1,
 * which is what is described here (the BMU of the selected pack). Models: 1 B700,
 * 2 B300K, 3 B300S, 4 B300. */
#include "catalog_internal.h"

static const blt_enum_entry_t bmu_models[] = {
    {1, "B700"}, {2, "B300K"}, {3, "B300S"}, {4, "B300"}, {0, NULL},
};

static const blt_field_t fields[] = {
    ROW("bmu_serial", 0, BLT_T_SN64, BLT_PROV_FW, "BMU serial number", .flags = BLT_F_REQUIRED),
    U32("bmu_fault", 8, BLT_PROV_FW, "BMU fault / protection detail (raw)",
        .flags = BLT_F_REQUIRED),
    U8("bmu_ntc_count", 12, BLT_PROV_APP, "temperature sensors in this BMU",
       .flags = BLT_F_REQUIRED),
    U8("bmu_cell_count", 13, BLT_PROV_APP, "cells in this BMU", .flags = BLT_F_REQUIRED),
    U8("bmu_model", 15, BLT_PROV_APP, "BMU model (low byte of 7207)", .enums = bmu_models,
       .flags = BLT_F_REQUIRED),
    U32("bmu_software_version", 16, BLT_PROV_APP, "BMU software version (protocol >= 2010)",
        .min_pv = 2010),
};

const blt_block_t blt_block_7200 = {
    .id = 7200,
    .name = "PACK_BMU_INFO",
    .title = "BMU",
    .regs = 10,
    .min_bytes = 16,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "reference 6300 table (really 7200) + firmware reg07200; single-BMU layout",
};
