/* Block 720 - OTA_STATUS (firmware update progress). PROTOCOL.md §4.11, Appendix A.
 * Provenance: reference layout; it agrees with the firmware struct (720 group word, then
 * six-byte status records from 721 in memory order: isOta/where, type/level, pct/errCode).
 * Only the first record is described, as the reference reads 4 registers. */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
    U8("ota_group", 0, BLT_PROV_APP, "OTA group (high byte of register 720)",
       .flags = BLT_F_REQUIRED),
    U8("file_0_ota_status", 2, BLT_PROV_FW, "0 idle, 1 updating, 2 success, 3 failed",
       .flags = BLT_F_REQUIRED),
    U8("file_0_ota_step", 3, BLT_PROV_FW,
       "where: 1 IoT to device, 2 device to sub-device, 3 server to IoT", .flags = BLT_F_REQUIRED),
    U8("file_0_mcu_type", 4, BLT_PROV_FW, "file type (MCU type being updated)",
       .flags = BLT_F_REQUIRED),
    U8("file_0_depth", 5, BLT_PROV_FW, "file transfer depth", .flags = BLT_F_REQUIRED),
    U8("file_0_progress", 6, BLT_PROV_FW, "file transfer progress", .flags = BLT_F_REQUIRED,
       .unit = "%"),
    U8("file_0_error_code", 7, BLT_PROV_FW, "error code", .flags = BLT_F_REQUIRED),
};

const blt_block_t blt_block_720 = {
    .id = 720,
    .name = "OTA_STATUS",
    .title = "OTA status",
    .regs = 4,
    .min_bytes = 8,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "reference layout, consistent with the firmware OTA status struct (first record)",
};
