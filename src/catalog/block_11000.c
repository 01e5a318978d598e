/* Block 11000 - IOT_INFO (the IoT / Wi-Fi module). PROTOCOL.md §4.11, Appendix A.
 * Provenance: reference offsets with real-device encodings (§3.3): the AP300 reports model
 * "IOT" byte-swapped and a binary u64 serial, so the model is str_swap and the serials are
 * sn64 instead of the reference's plain strings; 32-bit versions are word-swapped. The
 * safety code is an 8-byte binary code (u16[4] / u64 in the firmware) and is treated as a
 * credential. */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
    ROW("iot_model", 0, BLT_T_STR_SWAP, BLT_PROV_LIVE, "IoT module model", .size = 12,
        .flags = BLT_F_REQUIRED),
    ROW("iot_serial", 12, BLT_T_SN64, BLT_PROV_LIVE, "IoT module serial number",
        .flags = BLT_F_REQUIRED),
    ROW("safety_code", 20, BLT_T_SN64, BLT_PROV_APP, "IoT safety code (pairing secret)",
        .flags = BLT_F_SECRET),
    U32("iot_software_version", 28, BLT_PROV_LIVE, "IoT firmware version", .flags = BLT_F_REQUIRED),
    U32("rf_version", 32, BLT_PROV_APP, "RF module version"),
    U16("ctrl_status", 36, BLT_PROV_APP, "IoT control status word (raw)"),
};

const blt_block_t blt_block_11000 = {
    .id = 11000,
    .name = "IOT_INFO",
    .title = "IoT module",
    .regs = 19,
    .min_bytes = 32,
    .extent = 41, /* 11000-11040 */
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "reference offsets; model str_swap + u64 serial as on the live AP300",
};
