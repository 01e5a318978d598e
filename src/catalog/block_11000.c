/* Block 11000 - IOT_INFO (the IoT / Wi-Fi module). PROTOCOL.md §4.11, Appendix A.
 * Provenance: reference offsets with real-device encodings (§3.3): the AP300 reports model
 * "IOT" byte-swapped and a binary u64 serial, so the model is str_swap and the serials are
 * sn64 instead of the reference's plain strings; 32-bit versions are word-swapped. The
 * safety code is an 8-byte binary code (u16[4] / u64 in the firmware) and is treated as a
 * credential. */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
	{.name = "iot_model", .offset = 0, .type = BLT_T_STR_SWAP, .size = 12,
	 .flags = BLT_F_REQUIRED, .prov = BLT_PROV_LIVE, .desc = "IoT module model"},
	{.name = "iot_serial", .offset = 12, .type = BLT_T_SN64, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_LIVE, .desc = "IoT module serial number"},
	{.name = "safety_code", .offset = 20, .type = BLT_T_SN64, .flags = BLT_F_SECRET,
	 .prov = BLT_PROV_APP, .desc = "IoT safety code (pairing secret)"},
	{.name = "iot_software_version", .offset = 28, .type = BLT_T_U32, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_LIVE, .desc = "IoT firmware version"},
	{.name = "rf_version", .offset = 32, .type = BLT_T_U32, .prov = BLT_PROV_APP,
	 .desc = "RF module version"},
	{.name = "ctrl_status", .offset = 36, .type = BLT_T_U16, .prov = BLT_PROV_APP,
	 .desc = "IoT control status word (raw)"},
};

const blt_block_t blt_block_11000 = {
	.id = 11000,
	.name = "IOT_INFO",
	.title = "IoT module",
	.regs = 19,
	.min_bytes = 32,
	.fields = fields,
	.nfields = sizeof fields / sizeof fields[0],
	.source = "reference offsets; model str_swap + u64 serial as on the live AP300",
};
