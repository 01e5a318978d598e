/* Block 1200 - INV_PV_INFO (PV / DC inputs). PROTOCOL.md §4.3 (not in the reference).
 * Provenance: firmware struct reg01200; live AP300 (2 DC inputs, type word 100) and the
 * Elite 200 V2 BLE probe (12 V car socket at +20..+28). Register 1209 low byte: low nibble
 * = DC input count, high nibble = AC input count; records of 16 bytes from byte 20, at most
 * 10 in total. That AC records follow the DC ones is a guess (no capture with AC inputs). */
#include "catalog_internal.h"

static const blt_repeat_t dc_inputs = {.count_field = "dc_input_count", .max = 10, .stride = 16};
/* AC records start after the DC ones: base = 16 * dc_input_count. */
static const blt_repeat_t ac_inputs = {.count_field = "ac_input_count", .max = 10, .stride = 16,
				       .base_field = "dc_input_count", .base_mul = 16};

static const blt_field_t fields[] = {
	{.name = "pv_power", .offset = 0, .type = BLT_T_U32, .unit = "W", .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_FW, .desc = "total PV charging power"},
	{.name = "pv_energy", .offset = 4, .type = BLT_T_U32, .scale = 0.1, .unit = "kWh",
	 .prov = BLT_PROV_FW, .desc = "total PV charging energy"},
	{.name = "pv_to_ac_load_power", .offset = 8, .type = BLT_T_U32, .unit = "W",
	 .prov = BLT_PROV_FW, .desc = "PV power going to the AC load"},
	{.name = "pv_to_ac_load_energy", .offset = 12, .type = BLT_T_U32, .scale = 0.1,
	 .unit = "kWh", .prov = BLT_PROV_FW, .desc = "PV energy delivered to the AC load"},
	{.name = "self_sufficiency", .offset = 16, .type = BLT_T_U16, .unit = "%",
	 .prov = BLT_PROV_FW, .desc = "self-sufficiency rate"},
	{.name = "dc_input_count", .offset = 19, .type = BLT_T_U8, .mask = 0x0F,
	 .flags = BLT_F_REQUIRED | BLT_F_COUNT, .prov = BLT_PROV_LIVE,
	 .desc = "number of DC (PV/car/adapter) inputs (low nibble of byte 19)"},
	{.name = "ac_input_count", .offset = 19, .type = BLT_T_U8, .mask = 0xF0, .shift = 4,
	 .flags = BLT_F_REQUIRED | BLT_F_COUNT, .prov = BLT_PROV_FW,
	 .desc = "number of AC-coupled PV inputs (high nibble of byte 19)"},
	{.name = "dc_input_%u_status", .offset = 20, .type = BLT_T_U16, .repeat = &dc_inputs,
	 .prov = BLT_PROV_LIVE, .desc = "input working status (1 = connected)"},
	{.name = "dc_input_%u_type", .offset = 22, .type = BLT_T_U16, .repeat = &dc_inputs,
	 .prov = BLT_PROV_LIVE, .desc = "input type word (AP300 PV: 100, Elite 200 V2 car: 101)"},
	{.name = "dc_input_%u_power", .offset = 24, .type = BLT_T_U16, .unit = "W",
	 .repeat = &dc_inputs, .prov = BLT_PROV_LIVE, .desc = "input power"},
	{.name = "dc_input_%u_voltage", .offset = 26, .type = BLT_T_U16, .scale = 0.1, .unit = "V",
	 .repeat = &dc_inputs, .prov = BLT_PROV_LIVE, .desc = "input voltage"},
	{.name = "dc_input_%u_current", .offset = 28, .type = BLT_T_U16, .scale = 0.1, .unit = "A",
	 .repeat = &dc_inputs, .prov = BLT_PROV_LIVE, .desc = "input current"},
	{.name = "ac_input_%u_status", .offset = 20, .type = BLT_T_U16, .repeat = &ac_inputs,
	 .prov = BLT_PROV_FW, .desc = "AC-coupled input status (record order is a guess)"},
	{.name = "ac_input_%u_type", .offset = 22, .type = BLT_T_U16, .repeat = &ac_inputs,
	 .prov = BLT_PROV_FW, .desc = "AC-coupled input type word"},
	{.name = "ac_input_%u_power", .offset = 24, .type = BLT_T_U16, .unit = "W",
	 .repeat = &ac_inputs, .prov = BLT_PROV_FW, .desc = "AC-coupled input power"},
	{.name = "ac_input_%u_voltage", .offset = 26, .type = BLT_T_U16, .scale = 0.1, .unit = "V",
	 .repeat = &ac_inputs, .prov = BLT_PROV_FW, .desc = "AC-coupled input voltage"},
	{.name = "ac_input_%u_current", .offset = 28, .type = BLT_T_U16, .scale = 0.1, .unit = "A",
	 .repeat = &ac_inputs, .prov = BLT_PROV_FW, .desc = "AC-coupled input current"},
	{.name = "dc_pv_power", .offset = 180, .type = BLT_T_U32, .unit = "W", .prov = BLT_PROV_FW,
	 .desc = "DC PV total power (newer firmware, registers 1290-1291)"},
};

const blt_block_t blt_block_1200 = {
	.id = 1200,
	.name = "INV_PV_INFO",
	.title = "PV inputs",
	.regs = 92,
	.min_bytes = 20,
	.fields = fields,
	.nfields = sizeof fields / sizeof fields[0],
	.source = "firmware struct reg01200 + AP300 / Elite 200 V2 observations; not in the reference",
};
