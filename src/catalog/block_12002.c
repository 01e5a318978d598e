/* Block 12002 - IOT_WIFI_SETTINGS (Wi-Fi credentials). PROTOCOL.md §4.11, Appendix A.
 * Provenance: reference layout. SSID and password are credentials (BLT_F_SECRET): never
 * printed or logged unless explicitly asked. Strings use the byte-swapped encoding of every
 * other firmware char array (§3.3); not confirmed by a capture of this block. */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
	{.name = "wifi_ssid", .offset = 0, .type = BLT_T_STR_SWAP, .size = 64,
	 .flags = BLT_F_REQUIRED | BLT_F_SECRET, .prov = BLT_PROV_APP,
	 .desc = "Wi-Fi network name (credential)"},
	{.name = "wifi_password", .offset = 64, .type = BLT_T_STR_SWAP, .size = 32,
	 .flags = BLT_F_SECRET, .prov = BLT_PROV_APP, .desc = "Wi-Fi password (credential)"},
	{.name = "wifi_no_password", .offset = 96, .type = BLT_T_U8, .prov = BLT_PROV_APP,
	 .desc = "open network (no password)"},
	{.name = "wifi_password_h32b", .offset = 97, .type = BLT_T_U8, .prov = BLT_PROV_APP,
	 .desc = "password longer than 32 bytes flag"},
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
