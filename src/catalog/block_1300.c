/* Block 1300 - INV_GRID_INFO (grid input). PROTOCOL.md §4.4 (b).
 * Provenance: firmware register map, confirmed by the AP300 capture (§7.1: 1303/1304 =
 * 0x0021,0x0000 -> 3.3 kWh import, phase count 1). The reference reads two phase voltages
 * at bytes 2-5; the firmware/live evidence says a signed 32-bit total power, which wins. */
#include "catalog_internal.h"

static const blt_repeat_t phases = {.count_field = "phase_count", .max = 3, .stride = 12};

static const blt_field_t fields[] = {
	{.name = "frequency", .offset = 0, .type = BLT_T_U16, .scale = 0.1, .unit = "Hz",
	 .flags = BLT_F_REQUIRED, .prov = BLT_PROV_FW, .desc = "grid frequency"},
	{.name = "grid_power", .offset = 2, .type = BLT_T_I32, .unit = "W", .prov = BLT_PROV_FW,
	 .desc = "total grid power; negative = grid to device (charging), positive = feed-in"},
	{.name = "charge_energy", .offset = 6, .type = BLT_T_U32, .scale = 0.1, .unit = "kWh",
	 .prov = BLT_PROV_LIVE, .desc = "total energy imported from the grid"},
	{.name = "feedback_energy", .offset = 10, .type = BLT_T_U32, .scale = 0.1, .unit = "kWh",
	 .prov = BLT_PROV_FW, .desc = "total energy fed into the grid"},
	{.name = "power_factor", .offset = 22, .type = BLT_T_U16, .prov = BLT_PROV_FW,
	 .desc = "power factor (newer firmware; raw)"},
	{.name = "phase_count", .offset = 25, .type = BLT_T_U8, .flags = BLT_F_REQUIRED | BLT_F_COUNT,
	 .prov = BLT_PROV_LIVE, .desc = "number of grid phases (1 or 3)"},
	{.name = "phase_%u_power", .offset = 26, .type = BLT_T_I16, .unit = "W", .repeat = &phases,
	 .prov = BLT_PROV_FW, .desc = "phase active power, same sign as grid_power"},
	{.name = "phase_%u_voltage", .offset = 28, .type = BLT_T_U16, .scale = 0.1, .unit = "V",
	 .repeat = &phases, .prov = BLT_PROV_FW, .desc = "phase voltage"},
	{.name = "phase_%u_current", .offset = 30, .type = BLT_T_I16, .scale = 0.1, .unit = "A",
	 .repeat = &phases, .prov = BLT_PROV_FW, .desc = "phase current, same sign as power"},
	{.name = "phase_%u_apparent", .offset = 32, .type = BLT_T_U16, .unit = "VA",
	 .repeat = &phases, .prov = BLT_PROV_FW, .desc = "phase apparent power (newer firmware)"},
};

const blt_block_t blt_block_1300 = {
	.id = 1300,
	.name = "INV_GRID_INFO",
	.title = "grid",
	.regs = 31,
	.min_bytes = 26,
	.fields = fields,
	.nfields = sizeof fields / sizeof fields[0],
	.source = "firmware map + AP300 capture; bytes 2-5 are s32 total power, not phase voltages",
};
