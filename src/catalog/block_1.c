/* Block 1 - BASE_CONFIG (base configuration, read from register 1). PROTOCOL.md §5.2.
 * Provenance: firmware register map (struct reg00000: reg 15 = IoT modbus version, reg 16 =
 * modbus/protocol version) and JordiGrasvi's `cfg_protocol_version` at byte 30 of a 16-register
 * read from register 1. Offsets are 2 * (register - 1). */
#include "catalog_internal.h"

static const blt_bit_name_t iot_state_bits[] = {
	{0, "lcd_supported"},
	{1, "shelly_meter_supported"},
	{2, "s1_plug_supported"},
	{3, "modbus_tlv_supported"},
	{0, NULL},
};

static const blt_enum_entry_t regions[] = {
	{0, "invalid"}, {1, "us"},     {2, "japan"},  {3, "europe"}, {4, "australia"},
	{5, "china"},   {6, "africa"}, {7, "germany"}, {8, "taiwan"}, {0, NULL},
};

static const blt_enum_entry_t ble_switch[] = {
	{0, "unset"}, {1, "off"}, {2, "on"}, {3, "invalid"}, {0, NULL},
};

static const blt_field_t fields[] = {
	{.name = "cert_region", .offset = 0, .type = BLT_T_U8, .enums = regions, .prov = BLT_PROV_FW,
	 .desc = "certification region (register 1 high byte)"},
	{.name = "high_voltage_model", .offset = 1, .type = BLT_T_U8, .prov = BLT_PROV_FW,
	 .desc = "machine voltage class: 0 low-voltage, 1 high-voltage (register 1 low byte)"},
	{.name = "iot_features", .offset = 4, .type = BLT_T_U16, .flags = BLT_F_BITMAP,
	 .bits = iot_state_bits, .prov = BLT_PROV_FW, .desc = "IoT feature bits (register 3)"},
	{.name = "support_mode", .offset = 10, .type = BLT_T_U16, .prov = BLT_PROV_FW,
	 .desc = "supported modes word (register 6; raw)"},
	{.name = "ble_password", .offset = 10, .type = BLT_T_U16, .mask = 0x0003,
	 .enums = ble_switch, .prov = BLT_PROV_FW,
	 .desc = "app/BLE password support (register 6 bits 0-1; LOCAL.md §4.1; 1 off / 2 on "
	         "assumed as for bits 4-5)"},
	{.name = "ble_visitor_mode", .offset = 10, .type = BLT_T_U16, .mask = 0x000c, .shift = 2,
	 .enums = ble_switch, .prov = BLT_PROV_FW, .desc = "visitor mode (register 6 bits 2-3; encoding assumed as for bits 4-5)"},
	{.name = "ble_encryption", .offset = 10, .type = BLT_T_U16, .mask = 0x0030, .shift = 4,
	 .enums = ble_switch, .prov = BLT_PROV_FW,
	 .desc = "Bluetooth LE encryption (register 6 bits 4-5; 2 = encrypted V2 handshake)"},
	{.name = "app_password", .offset = 12, .type = BLT_T_STR_SWAP, .size = 6,
	 .flags = BLT_F_SECRET, .prov = BLT_PROV_FW,
	 .desc = "app/BLE password bytes (registers 7-9); credential"},
	{.name = "iot_modbus_version", .offset = 28, .type = BLT_T_U16, .prov = BLT_PROV_FW,
	 .desc = "IoT module modbus protocol version (register 15)"},
	{.name = "protocol_version", .offset = 30, .type = BLT_T_U16, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_FW,
	 .desc = "device modbus protocol version (register 16), e.g. 2015; >= 2000 means V2"},
};

const blt_block_t blt_block_1 = {
	.id = 1,
	.name = "BASE_CONFIG",
	.title = "base config",
	.regs = 16,
	.min_bytes = 32,
	.fields = fields,
	.nfields = sizeof fields / sizeof fields[0],
	.source = "firmware struct reg00000 + JordiGrasvi cfg_protocol_version (byte 30)",
};
