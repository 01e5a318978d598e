/* Block 22005 - OPEN_MQTT_SERVER: the owner's broker the device's Open MQTT client connects
 * to, "host:port" without a scheme (LOCAL.md §2.2). The secret that follows (22069-22100)
 * is deliberately outside this block.
 * Provenance: firmware IotSetData struct [FW]; the byte order of the string (swapped per
 * register like every register string) is inferred, not seen on a unit. */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
    ROW("open_mqtt_server", 0, BLT_T_STR_SWAP, BLT_PROV_FW,
        "Open MQTT broker host:port, first 70 of 128 characters (default "
        "dev-iot.poweroak.ltd:18083, a Bluetti "
        "development server)",
        .size = 70),
};

const blt_block_t blt_block_22005 = {
    .id = 22005,
    .name = "OPEN_MQTT_SERVER",
    .title = "Open MQTT server",
    .regs = 64,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "firmware IotSetData (LOCAL.md §2.2); the secret at 22069 is never read",
};
