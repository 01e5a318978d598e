/* Block 18000 - EPAD_INFO (liquid-level / temperature sensor pad). Appendix A.
 * Provenance: reference layout only. Its "0.1°C" unit is expressed as scale 0.1 °C. */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
    U16("liquid_level_1", 12, BLT_PROV_APP, "liquid level, sensor 1 (raw)",
        .flags = BLT_F_REQUIRED),
    U16("liquid_level_2", 14, BLT_PROV_APP, "liquid level, sensor 2 (raw)",
        .flags = BLT_F_REQUIRED),
    U16("liquid_level_3", 16, BLT_PROV_APP, "liquid level, sensor 3 (raw)",
        .flags = BLT_F_REQUIRED),
    U16("sensor_temp_1", 18, BLT_PROV_APP, "sensor 1 temperature", .scale = 0.1, .unit = "°C",
        .flags = BLT_F_REQUIRED),
    U16("sensor_temp_2", 20, BLT_PROV_APP, "sensor 2 temperature", .scale = 0.1, .unit = "°C",
        .flags = BLT_F_REQUIRED),
    U16("sensor_temp_3", 22, BLT_PROV_APP, "sensor 3 temperature", .scale = 0.1, .unit = "°C",
        .flags = BLT_F_REQUIRED),
    U16("remaining_capacity_1", 24, BLT_PROV_APP, "tank 1 remaining capacity", .unit = "%",
        .flags = BLT_F_REQUIRED),
    U16("remaining_capacity_2", 26, BLT_PROV_APP, "tank 2 remaining capacity", .unit = "%",
        .flags = BLT_F_REQUIRED),
    U16("remaining_capacity_3", 28, BLT_PROV_APP, "tank 3 remaining capacity", .unit = "%",
        .flags = BLT_F_REQUIRED),
    U16("connection_status", 30, BLT_PROV_APP, "sensor connection status", .flags = BLT_F_REQUIRED),
    U16("ambient_temp_1", 32, BLT_PROV_APP, "ambient temperature 1", .scale = 0.1, .unit = "°C",
        .flags = BLT_F_REQUIRED),
    U16("ambient_temp_2", 34, BLT_PROV_APP, "ambient temperature 2", .scale = 0.1, .unit = "°C",
        .flags = BLT_F_REQUIRED),
    U16("ambient_temp_3", 36, BLT_PROV_APP, "ambient temperature 3", .scale = 0.1, .unit = "°C",
        .flags = BLT_F_REQUIRED),
};

const blt_block_t blt_block_18000 = {
    .id = 18000,
    .name = "EPAD_INFO",
    .title = "EPAD",
    .regs = 19,
    .min_bytes = 38,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "reference layout only",
};
