/* Block 720 - OTA_STATUS (firmware update progress). PROTOCOL.md §4.11, Appendix A.
 * Provenance: reference layout; it agrees with the firmware struct (720 group word, then
 * six-byte status records from 721 in memory order: isOta/where, type/level, pct/errCode).
 * Only the first record is described, as the reference reads 4 registers. */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
	{.name = "ota_group", .offset = 0, .type = BLT_T_U8, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_APP, .desc = "OTA group (high byte of register 720)"},
	{.name = "file_0_ota_status", .offset = 2, .type = BLT_T_U8, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_FW, .desc = "0 idle, 1 updating, 2 success, 3 failed"},
	{.name = "file_0_ota_step", .offset = 3, .type = BLT_T_U8, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_FW, .desc = "where: 1 IoT to device, 2 device to sub-device, 3 server to IoT"},
	{.name = "file_0_mcu_type", .offset = 4, .type = BLT_T_U8, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_FW, .desc = "file type (MCU type being updated)"},
	{.name = "file_0_depth", .offset = 5, .type = BLT_T_U8, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_FW, .desc = "file transfer depth"},
	{.name = "file_0_progress", .offset = 6, .type = BLT_T_U8, .flags = BLT_F_REQUIRED,
	 .unit = "%", .prov = BLT_PROV_FW, .desc = "file transfer progress"},
	{.name = "file_0_error_code", .offset = 7, .type = BLT_T_U8, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_FW, .desc = "error code"},
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
