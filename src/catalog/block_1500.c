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

#define TEMP(nm, off, d)                                                                           \
	{                                                                                          \
		.name = nm, .offset = off, .type = BLT_T_U16, .add = -40, .flags = BLT_F_ZERO_NA,  \
		.unit = "°C", .prov = BLT_PROV_FW, .desc = d                                       \
	}

static const blt_field_t fields[] = {
    {.name = "frequency",
     .offset = 0,
     .type = BLT_T_U16,
     .scale = 0.1,
     .unit = "Hz",
     .flags = BLT_F_REQUIRED,
     .prov = BLT_PROV_FW,
     .desc = "inverter output frequency"},
    {.name = "output_energy",
     .offset = 2,
     .type = BLT_T_U32,
     .scale = 0.1,
     .unit = "kWh",
     .prov = BLT_PROV_FW,
     .desc = "total inverter output energy"},
    {.name = "phase_count",
     .offset = 17,
     .type = BLT_T_U8,
     .flags = BLT_F_REQUIRED | BLT_F_COUNT,
     .prov = BLT_PROV_FW,
     .desc = "number of inverter output phases"},
    {.name = "phase_%u_work_status",
     .offset = 19,
     .type = BLT_T_U8,
     .repeat = &phases,
     .prov = BLT_PROV_FW,
     .desc = "phase work status"},
    {.name = "phase_%u_power",
     .offset = 20,
     .type = BLT_T_I16,
     .unit = "W",
     .repeat = &phases,
     .prov = BLT_PROV_LIVE,
     .desc = "phase inverter power, signed: negative = into the device (charging)"},
    {.name = "phase_%u_voltage",
     .offset = 22,
     .type = BLT_T_U16,
     .scale = 0.1,
     .flags = BLT_F_RANGE,
     .valid_lo = 0,
     .valid_hi = 300,
     .unit = "V",
     .repeat = &phases,
     .prov = BLT_PROV_FW,
     .desc = "phase output voltage"},
    {.name = "phase_%u_current",
     .offset = 24,
     .type = BLT_T_I16,
     .scale = 0.1,
     .unit = "A",
     .repeat = &phases,
     .prov = BLT_PROV_FW,
     .desc = "phase output current"},
    TEMP("ambient_temp", 60, "ambient temperature (newer firmware)"),
    TEMP("inverter_max_temp", 62, "inverter maximum temperature (newer firmware)"),
    TEMP("pv_dcdc_max_temp", 64, "PV DC-DC maximum temperature (newer firmware)"),
    {.name = "bms_current",
     .offset = 66,
     .type = BLT_T_I16,
     .prov = BLT_PROV_FW,
     .desc = "BMS current for VPP (raw; scale undocumented)"},
    {.name = "meter_sync",
     .offset = 68,
     .type = BLT_T_U16,
     .prov = BLT_PROV_FW,
     .desc = "meter synchronisation (raw)"},
    {.name = "reserved_1535",
     .offset = 70,
     .type = BLT_T_U16,
     .prov = BLT_PROV_FW,
     .desc = "1535, first word of the firmware's reserve (answers on real units; raw)"},
};

const blt_block_t blt_block_1500 = {
    .id = 1500,
    .name = "INV_INV_INFO",
    .title = "inverter output",
    .regs = 36,
    .min_bytes = 18,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "firmware map (14-byte stride; app 12 rejected); 1510 signed (EP600, EP760 live)",
};
