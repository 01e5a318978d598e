/* Block 1100 - INV_BASE_INFO (inverter identity, software list, status words).
 * PROTOCOL.md §4.2 (b). Provenance: firmware register map, confirmed by the AP300 capture
 * (§7.1: model byte-swapped "AP300", SN u64 2616113487436, 4 software entries with
 * word-swapped u32 versions). The reference reads the model and SN as plain ASCII (fails
 * on real devices) and the versions high word first: the firmware/live layout wins.
 * 1155-1169 (charge/discharge power limits L1-L3, rated currents) follow the firmware's
 * register comments; they lie beyond the default 55-register read (--regs 70 reaches them).
 * Left out: the phase-map results 1170-1173 and the backup software list at 164. */
#include "catalog_internal.h"

static const blt_enum_entry_t power_class[] = {
    {1, "low"},
    {2, "mid"},
    {3, "high"},
    {0, NULL},
};

static const blt_repeat_t software = {.count_field = "software_count", .max = 6, .stride = 6};

static const blt_field_t fields[] = {
    U8("inverter_id", 1, BLT_PROV_LIVE, "inverter id"),
    ROW("device_model", 2, BLT_T_STR_SWAP, BLT_PROV_LIVE, "device model", .size = 12,
        .flags = BLT_F_REQUIRED, .ha = {.quantity = BLT_Q_MODEL}),
    ROW("device_serial", 14, BLT_T_SN64, BLT_PROV_LIVE, "device serial number",
        .ha = {.quantity = BLT_Q_SERIAL}),
    U8("power_class", 23, BLT_PROV_LIVE, "inverter power class", .enums = power_class,
       .ha = {.same_as = "100:inverter_power_class"}),
    BLT_SOFTWARE_LIST(25, &software),
    U16("energy_flow", 62, BLT_PROV_FW, "energy-flow lines", .flags = BLT_F_BITMAP),
    U16("control_status_low", 64, BLT_PROV_FW, "control status, low word", .flags = BLT_F_BITMAP),
    U16("control_status_high", 66, BLT_PROV_FW, "control status, high word", .flags = BLT_F_BITMAP),
    U16("alarm_0", 68, BLT_PROV_FW, "alarm word 0", .flags = BLT_F_BITMAP,
        .ha = {.flags = BLT_P_ALARM}),
    U16("alarm_1", 70, BLT_PROV_FW, "alarm word 1", .flags = BLT_F_BITMAP,
        .ha = {.flags = BLT_P_ALARM}),
    U16("alarm_2", 72, BLT_PROV_FW, "alarm word 2", .flags = BLT_F_BITMAP,
        .ha = {.flags = BLT_P_ALARM}),
    U16("alarm_3", 74, BLT_PROV_FW, "alarm word 3", .flags = BLT_F_BITMAP,
        .ha = {.flags = BLT_P_ALARM}),
    U16("fault_0", 82, BLT_PROV_FW, "fault word 0", .flags = BLT_F_BITMAP,
        .ha = {.flags = BLT_P_ALARM}),
    U16("fault_1", 84, BLT_PROV_FW, "fault word 1", .flags = BLT_F_BITMAP,
        .ha = {.flags = BLT_P_ALARM}),
    U16("fault_2", 86, BLT_PROV_FW, "fault word 2", .flags = BLT_F_BITMAP,
        .ha = {.flags = BLT_P_ALARM}),
    U16("fault_3", 88, BLT_PROV_FW, "fault word 3", .flags = BLT_F_BITMAP,
        .ha = {.flags = BLT_P_ALARM}),
    U16("fault_4", 90, BLT_PROV_FW, "fault word 4", .flags = BLT_F_BITMAP,
        .ha = {.flags = BLT_P_ALARM}),
    U16("fault_5", 92, BLT_PROV_FW, "fault word 5", .flags = BLT_F_BITMAP,
        .ha = {.flags = BLT_P_ALARM}),
    U16("work_time", 96, BLT_PROV_LIVE, "work-time counter (raw; AP300 live 6)"),
    U16("voltage_label", 98, BLT_PROV_LIVE, "voltage label (AP300 live 1)"),
    U16("canbus_error", 100, BLT_PROV_FW, "CAN-bus error bits", .flags = BLT_F_BITMAP,
        .ha = {.flags = BLT_P_ALARM}),
    TEMP16("ambient_temp", 102, BLT_PROV_FW,
           "ambient temperature (older firmware; newer: block 1500)", .min_pv = 2005,
           .ha = {.label = "Ambient temp (older firmware)"}),
    TEMP16("inverter_max_temp", 104, BLT_PROV_FW, "inverter maximum temperature (older firmware)",
           .min_pv = 2005, .ha = {.label = "Max temp (older firmware)"}),
    TEMP16("pv_dcdc_max_temp", 106, BLT_PROV_FW, "PV DC-DC maximum temperature (older firmware)",
           .min_pv = 2005, .ha = {.label = "PV DC-DC max temp (older firmware)"}),
    U16("fw_version_diff", 108, BLT_PROV_FW,
        "firmware version-difference flag (reference: fault_code)"),
    /* 1155-1169 (firmware inv_about_struct, register comments 1155..1160, 1161~1169;
     * read by battery-ha on the AP300): beyond the default 55-register read. */
    U16("phase_0_charge_limit", 110, BLT_PROV_FW, "L1 inverter charge power limit", .unit = "W"),
    U16("phase_1_charge_limit", 112, BLT_PROV_FW, "L2 inverter charge power limit", .unit = "W"),
    U16("phase_2_charge_limit", 114, BLT_PROV_FW, "L3 inverter charge power limit", .unit = "W"),
    U16("phase_0_discharge_limit", 116, BLT_PROV_FW, "L1 inverter discharge power limit",
        .unit = "W"),
    U16("phase_1_discharge_limit", 118, BLT_PROV_FW, "L2 inverter discharge power limit",
        .unit = "W"),
    U16("phase_2_discharge_limit", 120, BLT_PROV_FW, "L3 inverter discharge power limit",
        .unit = "W"),
    U16("phase_0_ac_input_rated_current", 122, BLT_PROV_FW,
        "L1 AC input rated current"
        " (raw; scale unconfirmed)"),
    U16("phase_1_ac_input_rated_current", 124, BLT_PROV_FW,
        "L2 AC input rated current"
        " (raw; scale unconfirmed)"),
    U16("phase_2_ac_input_rated_current", 126, BLT_PROV_FW,
        "L3 AC input rated current"
        " (raw; scale unconfirmed)"),
    U16("phase_0_ac_output_rated_current", 128, BLT_PROV_FW,
        "L1 AC output rated current"
        " (raw; scale unconfirmed)"),
    U16("phase_1_ac_output_rated_current", 130, BLT_PROV_FW,
        "L2 AC output rated current"
        " (raw; scale unconfirmed)"),
    U16("phase_2_ac_output_rated_current", 132, BLT_PROV_FW,
        "L3 AC output rated current"
        " (raw; scale unconfirmed)"),
    U16("phase_0_grid_output_rated_current", 134, BLT_PROV_FW,
        "L1 grid-side rated current"
        " (raw; scale unconfirmed)"),
    U16("phase_1_grid_output_rated_current", 136, BLT_PROV_FW,
        "L2 grid-side rated current"
        " (raw; scale unconfirmed)"),
    U16("phase_2_grid_output_rated_current", 138, BLT_PROV_FW,
        "L3 grid-side rated current"
        " (raw; scale unconfirmed)"),
};

const blt_block_t blt_block_1100 = {
    .id = 1100,
    .name = "INV_BASE_INFO",
    .title = "inverter",
    .regs = 70,
    .min_bytes = 14,
    .extent = 100, /* 1100-1199 */
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "firmware map + AP300 capture; reference model/SN/version encodings are wrong",
    .ha = {.prefix = "inverter_base", .title = "Inverter", .diag = true},
};
