/* Block 1300 - INV_GRID_INFO (grid input). PROTOCOL.md §4.4 (b).
 * Provenance: firmware register map, confirmed by the AP300 capture (§7.1: 1303/1304 =
 * 0x0021,0x0000 -> 3.3 kWh import, phase count 1). The reference reads two phase voltages
 * at bytes 2-5; the firmware/live evidence says a signed 32-bit total power, which wins.
 * Sign: the firmware says negative = grid -> device, but nlimper's live Elite 200 V2 shows
 * 1313 ~ +250 while importing; no source has a non-zero 1301. The sign is therefore a
 * profile fact (grid_import_sign, with its evidence; `bluetti blocks` lists unverified
 * ones). 1305 reads the Elite 200 V2's 0x0194 filler (sq7lrx): a profile filler. */
#include "catalog_internal.h"

static const blt_repeat_t phases = {.count_field = "phase_count", .max = 3, .stride = 12};

#define P32(nm, off, t, u, d)                                                                      \
	{                                                                                          \
		.name = nm, .offset = off, .type = t, .unit = u, .prov = BLT_PROV_FW, .desc = d    \
	}

static const blt_field_t fields[] = {
    {.name = "frequency",
     .offset = 0,
     .type = BLT_T_U16,
     .scale = 0.1,
     .unit = "Hz",
     .flags = BLT_F_REQUIRED,
     .prov = BLT_PROV_FW,
     .desc = "grid frequency"},
    {.name = "grid_power",
     .offset = 2,
     .type = BLT_T_I32,
     .unit = "W",
     .prov = BLT_PROV_FW,
     .desc = "total grid power; firmware: negative = grid to device, positive = feed-in "
             "(the sign is a per-profile fact: blt_profile_grid_import_sign)"},
    {.name = "charge_energy",
     .offset = 6,
     .type = BLT_T_U32,
     .scale = 0.1,
     .unit = "kWh",
     .prov = BLT_PROV_LIVE,
     .desc = "total energy imported from the grid"},
    {.name = "feedback_energy",
     .offset = 10,
     .type = BLT_T_U32,
     .scale = 0.1,
     .unit = "kWh",
     .prov = BLT_PROV_FW,
     .desc = "total energy fed into the grid"},
    {.name = "power_factor",
     .offset = 22,
     .type = BLT_T_U16,
     .prov = BLT_PROV_FW,
     .desc = "power factor (newer firmware; raw)"},
    {.name = "phase_count",
     .offset = 25,
     .type = BLT_T_U8,
     .flags = BLT_F_REQUIRED | BLT_F_COUNT,
     .prov = BLT_PROV_LIVE,
     .desc = "number of grid phases (1 or 3)"},
    {.name = "phase_%u_power",
     .offset = 26,
     .type = BLT_T_I16,
     .unit = "W",
     .repeat = &phases,
     .prov = BLT_PROV_FW,
     .desc = "phase active power, same sign as grid_power"},
    {.name = "phase_%u_voltage",
     .offset = 28,
     .type = BLT_T_U16,
     .scale = 0.1,
     .flags = BLT_F_RANGE,
     .valid_lo = 0,
     .valid_hi = 300, /* 100-127 V and 200-250 V grids; 6553.5 is 0xFFFF */
     .unit = "V",
     .repeat = &phases,
     .prov = BLT_PROV_FW,
     .desc = "phase voltage"},
    {.name = "phase_%u_current",
     .offset = 30,
     .type = BLT_T_I16,
     .scale = 0.1,
     .unit = "A",
     .repeat = &phases,
     .prov = BLT_PROV_FW,
     .desc = "phase current, same sign as power"},
    {.name = "phase_%u_apparent",
     .offset = 32,
     .type = BLT_T_U16,
     .unit = "VA",
     .repeat = &phases,
     .prov = BLT_PROV_FW,
     .desc = "phase apparent power (newer firmware)"},
    /* 1331-1342 (newer firmware GridPower_U32[3], GridPapparent_U32[3]; battery-ha reads 41
     * registers on the AP300): beyond the default 31-register read; the Elite 200 V2 refuses
     * 1330-1339 (nlimper). */
    P32("phase_0_power_32", 62, BLT_T_I32, "W",
        "L1 active power, 32-bit (same sign as grid_power)"),
    P32("phase_1_power_32", 66, BLT_T_I32, "W", "L2 active power, 32-bit"),
    P32("phase_2_power_32", 70, BLT_T_I32, "W", "L3 active power, 32-bit"),
    P32("phase_0_apparent_32", 74, BLT_T_U32, "VA", "L1 apparent power, 32-bit"),
    P32("phase_1_apparent_32", 78, BLT_T_U32, "VA", "L2 apparent power, 32-bit"),
    P32("phase_2_apparent_32", 82, BLT_T_U32, "VA", "L3 apparent power, 32-bit"),
};

const blt_block_t blt_block_1300 = {
    .id = 1300,
    .name = "INV_GRID_INFO",
    .title = "grid",
    .regs = 43,
    .min_bytes = 26,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "firmware map + AP300 capture; 2-5 s32 total power; grid sign per profile (nlimper)",
};
