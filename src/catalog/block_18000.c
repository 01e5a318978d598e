/* Block 18000 - EPAD_INFO (liquid-level / temperature sensor pad). Appendix A.
 * Provenance: reference layout only. Its "0.1°C" unit is expressed as scale 0.1 °C. */
#include "catalog_internal.h"

#define R(n, off, sc, u, what)                                                               \
	{.name = n, .offset = off, .type = BLT_T_U16, .scale = sc, .unit = u,                   \
	 .flags = BLT_F_REQUIRED, .prov = BLT_PROV_APP, .desc = what}

static const blt_field_t fields[] = {
	R("liquid_level_1", 12, 0, NULL, "liquid level, sensor 1 (raw)"),
	R("liquid_level_2", 14, 0, NULL, "liquid level, sensor 2 (raw)"),
	R("liquid_level_3", 16, 0, NULL, "liquid level, sensor 3 (raw)"),
	R("sensor_temp_1", 18, 0.1, "°C", "sensor 1 temperature"),
	R("sensor_temp_2", 20, 0.1, "°C", "sensor 2 temperature"),
	R("sensor_temp_3", 22, 0.1, "°C", "sensor 3 temperature"),
	R("remaining_capacity_1", 24, 0, "%", "tank 1 remaining capacity"),
	R("remaining_capacity_2", 26, 0, "%", "tank 2 remaining capacity"),
	R("remaining_capacity_3", 28, 0, "%", "tank 3 remaining capacity"),
	R("connection_status", 30, 0, NULL, "sensor connection status"),
	R("ambient_temp_1", 32, 0.1, "°C", "ambient temperature 1"),
	R("ambient_temp_2", 34, 0.1, "°C", "ambient temperature 2"),
	R("ambient_temp_3", 36, 0.1, "°C", "ambient temperature 3"),
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
