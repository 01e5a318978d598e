/* Block 17000 - ATS_INFO (automatic transfer switch). PROTOCOL.md Appendix A.
 * Provenance: reference offsets with real-device encodings (model str_swap, u64 serial,
 * word-swapped u32 version, §3.3); not confirmed by a capture. */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
    ROW("model", 0, BLT_T_STR_SWAP, BLT_PROV_APP, "ATS model", .size = 12, .flags = BLT_F_REQUIRED),
    ROW("serial", 12, BLT_T_SN64, BLT_PROV_APP, "ATS serial number", .flags = BLT_F_REQUIRED),
    U8("software_type", 21, BLT_PROV_APP, "software (MCU) type", .flags = BLT_F_REQUIRED),
    U32("software_version", 22, BLT_PROV_APP, "software version", .flags = BLT_F_REQUIRED),
};

const blt_block_t blt_block_17000 = {
    .id = 17000,
    .name = "ATS_INFO",
    .title = "ATS",
    .regs = 13,
    .min_bytes = 26,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "reference offsets; str_swap / sn64 / u32 word swap per §3.3",
};
