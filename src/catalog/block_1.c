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
    {0, "invalid"}, {1, "us"},     {2, "japan"},   {3, "europe"}, {4, "australia"},
    {5, "china"},   {6, "africa"}, {7, "germany"}, {8, "taiwan"}, {0, NULL},
};

static const blt_enum_entry_t ble_switch[] = {
    {0, "unset"}, {1, "off"}, {2, "on"}, {3, "invalid"}, {0, NULL},
};

static const blt_field_t fields[] = {
    U8("cert_region", 0, BLT_PROV_FW, "certification region (register 1 high byte)",
       .enums = regions),
    U8("high_voltage_model", 1, BLT_PROV_FW,
       "machine voltage class: 0 low-voltage, 1 high-voltage (register 1 low byte)"),
    BITS16("iot_features", 4, BLT_PROV_FW, iot_state_bits, "IoT feature bits (register 3)"),
    U16("support_mode", 10, BLT_PROV_FW, "supported modes word (register 6; raw)"),
    FIELD2("ble_password", 10, 0, BLT_PROV_FW,
           "app/BLE password support (register 6 bits 0-1; LOCAL.md §4.1; 1 off / 2 on "
           "assumed as for bits 4-5)",
           .enums = ble_switch),
    FIELD2("ble_visitor_mode", 10, 2, BLT_PROV_FW,
           "visitor mode (register 6 bits 2-3; encoding assumed as for bits 4-5)",
           .enums = ble_switch),
    FIELD2("ble_encryption", 10, 4, BLT_PROV_FW,
           "Bluetooth LE encryption (register 6 bits 4-5; 2 = encrypted V2 handshake)",
           .enums = ble_switch),
    ROW("app_password", 12, BLT_T_STR_SWAP, BLT_PROV_FW,
        "app/BLE password bytes (registers 7-9); credential", .size = 6, .flags = BLT_F_SECRET),
    U16("iot_modbus_version", 28, BLT_PROV_FW, "IoT module modbus protocol version (register 15)"),
    U16("protocol_version", 30, BLT_PROV_FW,
        "device modbus protocol version (register 16), e.g. 2015; >= 2000 means V2",
        .flags = BLT_F_REQUIRED, .ha = {.quantity = BLT_Q_PROTOCOL_VERSION}),
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
