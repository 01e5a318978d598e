/* Block 12002 - IOT_WIFI_SETTINGS (Wi-Fi credentials). PROTOCOL.md §4.11, Appendix A.
 * Provenance: reference layout. SSID and password are credentials (BLT_F_SECRET): never
 * printed or logged unless explicitly asked. Strings use the byte-swapped encoding of every
 * other firmware char array (§3.3); not confirmed by a capture of this block. */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
    ROW("wifi_ssid", 0, BLT_T_STR_SWAP, BLT_PROV_APP, "Wi-Fi network name (credential)", .size = 64,
        .flags = BLT_F_REQUIRED | BLT_F_SECRET),
    ROW("wifi_password", 64, BLT_T_STR_SWAP, BLT_PROV_APP, "Wi-Fi password (credential)",
        .size = 32, .flags = BLT_F_SECRET),
    U8("wifi_no_password", 96, BLT_PROV_APP, "open network (no password)"),
    U8("wifi_password_h32b", 97, BLT_PROV_APP, "password longer than 32 bytes flag"),
};

const blt_block_t blt_block_12002 = {
    .id = 12002,
    .name = "IOT_WIFI_SETTINGS",
    .title = "Wi-Fi settings",
    .regs = 49,
    .min_bytes = 64,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "reference layout; SSID/password are secrets; str_swap assumed",
};
