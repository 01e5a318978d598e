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

static const blt_field_t fields[] = {
    U16("frequency", 0, BLT_PROV_FW, "grid frequency", .scale = 0.1, .unit = "Hz",
        .flags = BLT_F_REQUIRED, .ha = {.quantity = BLT_Q_GRID_FREQUENCY}),
    I32("grid_power", 2, BLT_PROV_FW,
        "total grid power; firmware: negative = grid to device, positive = feed-in "
        "(the sign is a per-profile fact: blt_profile_grid_import_sign)",
        .unit = "W", .ha = {.label = "Total power", .quantity = BLT_Q_GRID_POWER}),
    U32("charge_energy", 6, BLT_PROV_LIVE, "total energy imported from the grid", .scale = 0.1,
        .unit = "kWh", .ha = {.label = "Import energy", .quantity = BLT_Q_GRID_IMPORT_ENERGY}),
    U32("feedback_energy", 10, BLT_PROV_FW, "total energy fed into the grid", .scale = 0.1,
        .unit = "kWh",
        .ha = {.same_as = "100:feedback_energy", .quantity = BLT_Q_GRID_EXPORT_ENERGY}),
    U16("power_factor", 22, BLT_PROV_FW, "power factor (newer firmware; raw)"),
    U8("phase_count", 25, BLT_PROV_LIVE, "number of grid phases (1 or 3)",
       .flags = BLT_F_REQUIRED | BLT_F_COUNT, .ha = {.quantity = BLT_Q_GRID_PHASE_COUNT}),
    I16("phase_%u_power", 26, BLT_PROV_FW, "phase active power, same sign as grid_power",
        .unit = "W", .repeat = &phases, .ha = {.quantity = BLT_Q_GRID_PHASE_POWER}),
    U16("phase_%u_voltage", 28, BLT_PROV_FW, "phase voltage", .scale = 0.1, .flags = BLT_F_RANGE,
        .valid_lo = 0, .valid_hi = 300,
        /* 100-127 V and 200-250 V grids; 6553.5 is 0xFFFF */ .unit = "V", .repeat = &phases,
        .ha = {.quantity = BLT_Q_GRID_PHASE_VOLTAGE}),
    I16("phase_%u_current", 30, BLT_PROV_FW, "phase current, same sign as power", .scale = 0.1,
        .unit = "A", .repeat = &phases, .ha = {.quantity = BLT_Q_GRID_PHASE_CURRENT}),
    U16("phase_%u_apparent", 32, BLT_PROV_FW, "phase apparent power (newer firmware)", .unit = "VA",
        .repeat = &phases, .ha = {.label = "Phase %u apparent power"}),
    /* 1331-1342 (newer firmware GridPower_U32[3], GridPapparent_U32[3]; battery-ha reads 41
     * registers on the AP300): beyond the default 31-register read; the Elite 200 V2 refuses
     * 1330-1339 (nlimper). */
    I32("phase_0_power_32", 62, BLT_PROV_FW, "L1 active power, 32-bit (same sign as grid_power)",
        .unit = "W", .ha = {.label = "Phase 0 power (32-bit)"}),
    I32("phase_1_power_32", 66, BLT_PROV_FW, "L2 active power, 32-bit", .unit = "W",
        .ha = {.label = "Phase 1 power (32-bit)"}),
    I32("phase_2_power_32", 70, BLT_PROV_FW, "L3 active power, 32-bit", .unit = "W",
        .ha = {.label = "Phase 2 power (32-bit)"}),
    U32("phase_0_apparent_32", 74, BLT_PROV_FW, "L1 apparent power, 32-bit", .unit = "VA",
        .ha = {.label = "Phase 0 apparent power (32-bit)"}),
    U32("phase_1_apparent_32", 78, BLT_PROV_FW, "L2 apparent power, 32-bit", .unit = "VA",
        .ha = {.label = "Phase 1 apparent power (32-bit)"}),
    U32("phase_2_apparent_32", 82, BLT_PROV_FW, "L3 apparent power, 32-bit", .unit = "VA",
        .ha = {.label = "Phase 2 apparent power (32-bit)"}),
};

const blt_block_t blt_block_1300 = {
    .id = 1300,
    .name = "INV_GRID_INFO",
    .title = "grid",
    .regs = 43,
    .min_bytes = 26,
    .extent = 55, /* 1300-1354 */
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "firmware map + AP300 capture; 2-5 s32 total power; grid sign per profile (nlimper)",
    .ha = {.prefix = "grid", .title = "Grid"},
};
