/* Block 15500 - DC_DC_INFO (D400S-class DC-DC charger). PROTOCOL.md Appendix A.
 * Provenance: firmware struct reg15500. The reference agrees at 0-25 but calls byte 26 the
 * output power; the firmware has the DC3 input voltage there (the firmware wins). Serial is
 * u16[4] low word first = sn64. Energy-line fields: the reference's hex_enable_list picks
 * 2-bit chunks from the MSB side with the bits reversed; here they are mask/shift of the
 * same bits, so the raw values 1 and 2 are swapped relative to the reference. */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
	{.name = "model", .offset = 0, .type = BLT_T_STR_SWAP, .size = 12, .prov = BLT_PROV_FW,
	 .desc = "charger model"},
	{.name = "serial", .offset = 12, .type = BLT_T_SN64, .prov = BLT_PROV_FW,
	 .desc = "charger serial number"},
	{.name = "dc_input_voltage", .offset = 20, .type = BLT_T_U16, .scale = 0.1, .unit = "V",
	 .prov = BLT_PROV_FW, .desc = "DC1 input voltage"},
	{.name = "dc_output_voltage", .offset = 22, .type = BLT_T_U16, .scale = 0.1, .unit = "V",
	 .prov = BLT_PROV_FW, .desc = "DC3 output voltage"},
	{.name = "dc_output_current", .offset = 24, .type = BLT_T_U16, .scale = 0.1, .unit = "A",
	 .prov = BLT_PROV_FW, .desc = "DC3 output current"},
	{.name = "dc3_input_voltage", .offset = 26, .type = BLT_T_U16, .scale = 0.1, .unit = "V",
	 .prov = BLT_PROV_FW, .desc = "DC3 input voltage (reference: output power)"},
	{.name = "energy_lines", .offset = 28, .type = BLT_T_U16, .prov = BLT_PROV_FW,
	 .desc = "energy-flow word (raw)"},
	{.name = "energy_line_car_to_charger", .offset = 28, .type = BLT_T_U16, .mask = 0xC000,
	 .shift = 14, .prov = BLT_PROV_APP, .desc = "car to charger flow (bits 15-14)"},
	{.name = "energy_line_charger_to_device", .offset = 28, .type = BLT_T_U16,
	 .mask = 0x3000, .shift = 12, .prov = BLT_PROV_APP,
	 .desc = "charger to device flow (bits 13-12)"},
	{.name = "battery_type", .offset = 30, .type = BLT_T_U16, .prov = BLT_PROV_FW,
	 .desc = "input battery type: 1 12 V lead-acid, 2 24 V lead-acid"},
	{.name = "charger_fault", .offset = 32, .type = BLT_T_U16, .prov = BLT_PROV_FW,
	 .desc = "charger fault word"},
	{.name = "dcdc_fault", .offset = 34, .type = BLT_T_U16, .prov = BLT_PROV_FW,
	 .desc = "DC-DC fault word"},
	{.name = "dcdc_protection", .offset = 36, .type = BLT_T_U16, .prov = BLT_PROV_FW,
	 .desc = "DC-DC protection word"},
	{.name = "work_mode", .offset = 52, .type = BLT_T_U16, .prov = BLT_PROV_FW,
	 .desc = "working mode (raw)"},
	{.name = "total_input_power", .offset = 54, .type = BLT_T_I32, .unit = "W",
	 .prov = BLT_PROV_FW, .desc = "total power into all DC channels"},
	{.name = "total_output_power", .offset = 58, .type = BLT_T_I32, .unit = "W",
	 .prov = BLT_PROV_FW, .desc = "total power out of all DC channels"},
};

const blt_block_t blt_block_15500 = {
	.id = 15500,
	.name = "DC_DC_INFO",
	.title = "DC-DC charger",
	.regs = 31,
	.min_bytes = 0,
	.fields = fields,
	.nfields = sizeof fields / sizeof fields[0],
	.source = "firmware struct reg15500; reference byte 26 (output power) contradicted",
};
