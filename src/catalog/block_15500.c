/* Block 15500 - DC_DC_INFO (D400S-class DC-DC charger). PROTOCOL.md Appendix A.
 * Provenance: firmware struct reg15500. The reference agrees at 0-25 but calls byte 26 the
 * output power; the firmware has the DC3 input voltage there (the firmware wins). Serial is
 * u16[4] low word first = sn64. Energy-line fields: the reference's hex_enable_list picks
 * 2-bit chunks from the MSB side with the bits reversed; here they are mask/shift of the
 * same bits, so the raw values 1 and 2 are swapped relative to the reference. */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
    ROW("model", 0, BLT_T_STR_SWAP, BLT_PROV_FW, "charger model", .size = 12),
    ROW("serial", 12, BLT_T_SN64, BLT_PROV_FW, "charger serial number"),
    U16("dc_input_voltage", 20, BLT_PROV_FW, "DC1 input voltage", .scale = 0.1, .unit = "V"),
    U16("dc_output_voltage", 22, BLT_PROV_FW, "DC3 output voltage", .scale = 0.1, .unit = "V"),
    U16("dc_output_current", 24, BLT_PROV_FW, "DC3 output current", .scale = 0.1, .unit = "A"),
    U16("dc3_input_voltage", 26, BLT_PROV_FW, "DC3 input voltage (reference: output power)",
        .scale = 0.1, .unit = "V"),
    U16("energy_lines", 28, BLT_PROV_FW, "energy-flow word (raw)"),
    FIELD2("energy_line_car_to_charger", 28, 14, BLT_PROV_APP, "car to charger flow (bits 15-14)"),
    FIELD2("energy_line_charger_to_device", 28, 12, BLT_PROV_APP,
           "charger to device flow (bits 13-12)"),
    U16("battery_type", 30, BLT_PROV_FW, "input battery type: 1 12 V lead-acid, 2 24 V lead-acid"),
    U16("charger_fault", 32, BLT_PROV_FW, "charger fault word"),
    U16("dcdc_fault", 34, BLT_PROV_FW, "DC-DC fault word"),
    U16("dcdc_protection", 36, BLT_PROV_FW, "DC-DC protection word"),
    U16("work_mode", 52, BLT_PROV_FW, "working mode (raw)"),
    I32("total_input_power", 54, BLT_PROV_FW, "total power into all DC channels", .unit = "W"),
    I32("total_output_power", 58, BLT_PROV_FW, "total power out of all DC channels", .unit = "W"),
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
