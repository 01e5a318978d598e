/* Block 29772 - BOOT_SOFTWARE_INFO. PROTOCOL.md Appendix A.
 * Provenance: reference layout; its four "unused" bytes at 6-9 are not listed. The version
 * is read word-swapped like every firmware u32 (§3.3). */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
    U16("software_type", 0, BLT_PROV_APP, "software (MCU) type"),
    U32("software_version", 2, BLT_PROV_APP, "software version"),
};

const blt_block_t blt_block_29772 = {
    .id = 29772,
    .name = "BOOT_SOFTWARE_INFO",
    .title = "boot software",
    .regs = 5,
    .min_bytes = 0,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "reference layout only; u32 word-swapped per §3.3",
};
