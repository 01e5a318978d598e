/* Block 2400 - CERT_SETTINGS (grid certification). PROTOCOL.md Appendix A.
 * Provenance: the reference puts 16-bit values at odd offsets 1/3/5/7 (straddling registers,
 * which no firmware struct does); the firmware register map (reg02400 in the older build:
 * 2400 enable, 2401 country, 2402-2405 under-voltage levels 1/2 value+time, 2406 power
 * factor, 2407 region, 2408 mode enable, 2409 power-rate limit) is used instead. That struct
 * is commented out in the build that was read, so the whole block is unverified. */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
    U8("adv_enable", 1, BLT_PROV_FW, "advanced (certification) functions enabled"),
    U16("grid_country", 2, BLT_PROV_FW, "grid certification country"),
    U16("grid_uv1_value", 4, BLT_PROV_FW, "grid under-voltage level 1 value (raw)"),
    U16("grid_uv1_time", 6, BLT_PROV_FW, "grid under-voltage level 1 trip time", .unit = "ms"),
    U16("grid_uv2_value", 8, BLT_PROV_FW, "grid under-voltage level 2 value (raw)"),
    U16("grid_uv2_time", 10, BLT_PROV_FW, "grid under-voltage level 2 trip time", .unit = "ms"),
    U16("power_factor", 12, BLT_PROV_FW, "power factor setting (raw)"),
    U16("grid_cert_division", 14, BLT_PROV_FW, "certification region / division"),
    U8("vvar_and_volt_watt_resp_mode", 17, BLT_PROV_FW,
       "volt-var / volt-watt response mode enable"),
    U16("power_rate_limit", 18, BLT_PROV_FW, "power change rate limit per minute (raw)"),
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
