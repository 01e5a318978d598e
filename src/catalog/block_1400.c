/* Block 1400 - INV_LOAD_INFO (DC and AC outputs). PROTOCOL.md §4.5 (b).
 * Provenance: firmware register map; the reference offsets agree except the u32 word
 * order (low register first, as everywhere on real devices) and the per-phase records
 * (firmware: 60 + 12 i for up to 3 phases; reference decodes phase 0 only). Live AP300:
 * phase count 2. Left out: DC input limits 96-110 (order/scale unconfirmed) and the newer
 * 32-bit per-phase powers at 112/124 (beyond the 48 registers read by default). */
#include "catalog_internal.h"

static const blt_repeat_t phases = {.count_field = "phase_count", .max = 3, .stride = 12};

#define PW(nm, off, d)                                                                             \
	{                                                                                          \
		.name = nm, .offset = off, .type = BLT_T_U16, .unit = "W", .prov = BLT_PROV_FW,    \
		.desc = d                                                                          \
	}
#define AMP(nm, off, d)                                                                            \
	{                                                                                          \
		.name = nm, .offset = off, .type = BLT_T_U16, .scale = 0.1, .unit = "A",           \
		.prov = BLT_PROV_FW, .desc = d                                                     \
	}

static const blt_field_t fields[] = {
    {.name = "dc_load_power",
     .offset = 0,
     .type = BLT_T_U32,
     .unit = "W",
     .prov = BLT_PROV_FW,
     .desc = "total DC output power"},
    {.name = "dc_load_energy",
     .offset = 4,
     .type = BLT_T_U32,
     .scale = 0.1,
     .unit = "kWh",
     .prov = BLT_PROV_FW,
     .desc = "total DC output energy"},
    PW("usb_5v_power", 8, "5 V (USB) output power"),
    AMP("usb_5v_current", 10, "5 V (USB) output current"),
    PW("dc_12v_power", 12, "12 V output power"),
    AMP("dc_12v_current", 14, "12 V output current"),
    PW("dc_24v_power", 16, "24 V output power"),
    AMP("dc_24v_current", 18, "24 V output current"),
    {.name = "dc_on_time",
     .offset = 20,
     .type = BLT_T_U32,
     .prov = BLT_PROV_FW,
     .desc = "DC output on-time (raw; unit undocumented)"},
    {.name = "dc_voltage",
     .offset = 24,
     .type = BLT_T_U16,
     .scale = 0.1,
     .unit = "V",
     .prov = BLT_PROV_FW,
     .desc = "DC output total voltage (newer firmware)"},
    AMP("dc_current", 26, "DC output total current (newer firmware)"),
    {.name = "power_factor",
     .offset = 38,
     .type = BLT_T_U16,
     .prov = BLT_PROV_FW,
     .desc = "AC output power factor (raw)"},
    {.name = "ac_load_power",
     .offset = 40,
     .type = BLT_T_U32,
     .unit = "W",
     .prov = BLT_PROV_FW,
     .desc = "total AC output power"},
    {.name = "ac_load_energy",
     .offset = 44,
     .type = BLT_T_U32,
     .scale = 0.1,
     .unit = "kWh",
     .prov = BLT_PROV_FW,
     .desc = "total AC output energy"},
    {.name = "ac_on_time",
     .offset = 48,
     .type = BLT_T_U32,
     .prov = BLT_PROV_FW,
     .desc = "AC output on-time (raw; unit undocumented)"},
    {.name = "phase_count",
     .offset = 59,
     .type = BLT_T_U8,
     .flags = BLT_F_REQUIRED | BLT_F_COUNT,
     .prov = BLT_PROV_LIVE,
     .desc = "number of AC output phases"},
    {.name = "phase_%u_power",
     .offset = 60,
     .type = BLT_T_U16,
     .unit = "W",
     .repeat = &phases,
     .prov = BLT_PROV_FW,
     .desc = "phase active power"},
    {.name = "phase_%u_voltage",
     .offset = 62,
     .type = BLT_T_U16,
     .scale = 0.1,
     .unit = "V",
     .repeat = &phases,
     .prov = BLT_PROV_FW,
     .desc = "phase voltage"},
    {.name = "phase_%u_current",
     .offset = 64,
     .type = BLT_T_U16,
     .scale = 0.1,
     .unit = "A",
     .repeat = &phases,
     .prov = BLT_PROV_FW,
     .desc = "phase current"},
    {.name = "phase_%u_apparent",
     .offset = 66,
     .type = BLT_T_U16,
     .unit = "VA",
     .repeat = &phases,
     .prov = BLT_PROV_FW,
     .desc = "phase apparent power"},
    {.name = "phase_%u_reactive",
     .offset = 68,
     .type = BLT_T_U16,
     .unit = "var",
     .repeat = &phases,
     .prov = BLT_PROV_FW,
     .desc = "phase reactive power (newer firmware)"},
};

const blt_block_t blt_block_1400 = {
    .id = 1400,
    .name = "INV_LOAD_INFO",
    .title = "load",
    .regs = 48,
    .min_bytes = 60,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "firmware map; reference offsets agree, u32 word order and 3 phase records differ",
};
