/* Block 17100 - AT1_BASE_INFO (AT1 smart hub). PROTOCOL.md Appendix A.
 * Provenance: reference offsets with real-device encodings (§3.3); not confirmed. */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
    ROW("model", 0, BLT_T_STR_SWAP, BLT_PROV_APP, "AT1 model", .size = 12),
    ROW("serial", 12, BLT_T_SN64, BLT_PROV_APP, "AT1 serial number"),
    U32("software_version", 22, BLT_PROV_APP, "software version"),
};

const blt_block_t blt_block_17100 = {
    .id = 17100,
    .name = "AT1_BASE_INFO",
    .title = "AT1",
    .regs = 13,
    .min_bytes = 0,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "reference offsets; str_swap / sn64 / u32 word swap per §3.3",
};
