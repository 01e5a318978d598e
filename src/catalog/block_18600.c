/* Block 18600 - EPAD_LIQUID_POINT3 (calibration point of liquid sensor 3). Appendix A.
 * Provenance: reference layout only (two bytes of one register). */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
    U8("volume", 0, BLT_PROV_APP, "calibration point volume"),
    U8("liquid", 1, BLT_PROV_APP, "calibration point liquid level"),
};

const blt_block_t blt_block_18600 = {
    .id = 18600,
    .name = "EPAD_LIQUID_POINT3",
    .title = "EPAD liquid point 3",
    .regs = 1,
    .min_bytes = 0,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "reference layout only",
};
