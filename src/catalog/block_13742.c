/* Block 13742 - IOT_LOCAL_ACCESS: the switches of the two LAN paths of Bluetti's IoT
 * firmware (LOCAL.md §1.2, §2.2, §4.1). Registers 13742-13745 only: the rest of block 13600
 * holds Wi-Fi SSIDs and passwords (13624-13741), so this block deliberately starts here and
 * must never be extended downwards.
 * Provenance: firmware register map and parameter apply code [FW]; no V2 unit has been read
 * (a unit whose firmware lacks both features answers exception 02, LOCAL.md §4.1). Each
 * 2-bit field reads 0 = never set, 1 = on, 2 = off (writes: 0 = leave unchanged). */
#include "catalog_internal.h"

static const blt_enum_entry_t onoff[] = {
    {0, "unset"}, {1, "on"}, {2, "off"}, {3, "invalid"}, {0, NULL},
};

static const blt_field_t fields[] = {
    FIELD2("open_mqtt", 0, 0, BLT_PROV_FW,
           "Open MQTT: the device connects to the owner's broker (register 13742 bits 0-1)",
           .enums = onoff),
    FIELD2("open_mqtt_tls", 0, 2, BLT_PROV_FW,
           "Open MQTT crypt flag (bits 2-3; stored but unused by the firmware seen)",
           .enums = onoff),
    FIELD2("open_mqtt_control", 0, 4, BLT_PROV_FW,
           "Open MQTT control flag (bits 4-5; not enforced in the firmware seen)", .enums = onoff),
    FIELD2("open_mqtt_report", 0, 6, BLT_PROV_FW,
           "Open MQTT periodic push of block 11000 (bits 6-7)", .enums = onoff),
    U16("open_mqtt_report_cycle", 2, BLT_PROV_FW,
        "seconds between Open MQTT pushes (13743; 0 = 60)", .unit = "s"),
    FIELD2("modbus_tcp", 4, 0, BLT_PROV_FW, "Modbus TCP server (register 13744 bits 0-1)",
           .enums = onoff),
    FIELD2("modbus_tcp_tls", 4, 2, BLT_PROV_FW, "Modbus TCP over TLS (13744 bits 2-3)",
           .enums = onoff),
    U16("modbus_tcp_port", 6, BLT_PROV_FW, "Modbus TCP port (13745; default 502)"),
};

const blt_block_t blt_block_13742 = {
    .id = 13742,
    .name = "IOT_LOCAL_ACCESS",
    .title = "local access",
    .regs = 4,
    .min_bytes = 8,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "firmware (LOCAL.md §2.2, §1.2); starts at 13742 so the Wi-Fi credentials "
              "below are never read",
};
