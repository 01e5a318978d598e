/* Block 1500 - INV_INV_INFO (inverter output). PROTOCOL.md §4.6 (b).
 * Provenance: firmware register map: per-phase records of 7 registers at 18 + 14 i. The
 * app parser (reference doc) uses a 12-byte stride, identical for phase 0 only; the
 * firmware wins. Phase power and current are signed (firmware int16 since M139.3; live:
 * EP600 0xFE60 = -416 W while charging, Patrick762/bluetti-bt-lib #74; EP760 raw 62175 =
 * -3361 W charging from the grid, PR #88; venus-gateway decodes it signed). sq7lrx saw
 * +20 behave like apparent power on an Elite 200 V2: that profile labels it VA.
 * Temperatures at 60-64 are newer firmware. */
#include "catalog_internal.h"

static const blt_repeat_t phases = {.count_field = "phase_count", .max = 3, .stride = 14};

static const blt_field_t fields[] = {
    U16("frequency", 0, BLT_PROV_FW, "inverter output frequency", .scale = 0.1, .unit = "Hz",
        .flags = BLT_F_REQUIRED),
    U32("output_energy", 2, BLT_PROV_FW, "total inverter output energy", .scale = 0.1,
        .unit = "kWh"),
    U8("phase_count", 17, BLT_PROV_FW, "number of inverter output phases",
       .flags = BLT_F_REQUIRED | BLT_F_COUNT),
    U8("phase_%u_work_status", 19, BLT_PROV_FW, "phase work status", .repeat = &phases),
    I16("phase_%u_power", 20, BLT_PROV_LIVE,
        "phase inverter power, signed: negative = into the device (charging)", .unit = "W",
        .repeat = &phases),
    U16("phase_%u_voltage", 22, BLT_PROV_FW, "phase output voltage", .scale = 0.1,
        .flags = BLT_F_RANGE, .valid_lo = 0, .valid_hi = 300, .unit = "V", .repeat = &phases),
    I16("phase_%u_current", 24, BLT_PROV_FW, "phase output current", .scale = 0.1, .unit = "A",
        .repeat = &phases),
    TEMP16("ambient_temp", 60, BLT_PROV_FW, "ambient temperature (newer firmware)"),
    TEMP16("inverter_max_temp", 62, BLT_PROV_FW, "inverter maximum temperature (newer firmware)"),
    TEMP16("pv_dcdc_max_temp", 64, BLT_PROV_FW, "PV DC-DC maximum temperature (newer firmware)"),
    I16("bms_current", 66, BLT_PROV_FW, "BMS current for VPP (raw; scale undocumented)"),
    U16("meter_sync", 68, BLT_PROV_FW, "meter synchronisation (raw)"),
    U16("reserved_1535", 70, BLT_PROV_FW,
        "1535, first word of the firmware's reserve (answers on real units; raw)"),
};

const blt_block_t blt_block_1500 = {
    .id = 1500,
    .name = "INV_INV_INFO",
    .title = "inverter output",
    .regs = 36,
    .min_bytes = 18,
    .extent = 44, /* 1500-1543 */
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "firmware map (14-byte stride; app 12 rejected); 1510 signed (EP600, EP760 live)",
    .ha = {.prefix = "inverter", .title = "Inverter"},
};
