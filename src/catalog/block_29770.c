/* Block 29770 - BOOT_UPGRADE_SUPPORT. PROTOCOL.md Appendix A.
 * Provenance: reference layout only. */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
    U16("is_supported", 0, BLT_PROV_APP, "boot upgrade supported"),
    U16("software_version_total", 2, BLT_PROV_APP, "number of software entries"),
};

const blt_block_t blt_block_29770 = {
    .id = 29770,
    .name = "BOOT_UPGRADE_SUPPORT",
    .title = "boot upgrade support",
    .regs = 2,
    .min_bytes = 0,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "reference layout only",
};
