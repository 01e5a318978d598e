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

#define BITS16(nm, off, d)                                                                         \
	{                                                                                          \
		.name = nm, .offset = off, .type = BLT_T_U16, .flags = BLT_F_BITMAP,               \
		.prov = BLT_PROV_FW, .desc = d                                                     \
	}
#define TEMP(nm, off, d)                                                                           \
	{                                                                                          \
		.name = nm, .offset = off, .type = BLT_T_U16, .add = -40, .flags = BLT_F_ZERO_NA,  \
		.unit = "°C", .min_pv = 2005, .prov = BLT_PROV_FW, .desc = d                       \
	}

#define LIMIT(nm, off, d)                                                                          \
	{                                                                                          \
		.name = nm, .offset = off, .type = BLT_T_U16, .unit = "W", .prov = BLT_PROV_FW,    \
		.desc = d                                                                          \
	}
#define RATED(nm, off, d)                                                                          \
	{                                                                                          \
		.name = nm, .offset = off, .type = BLT_T_U16, .prov = BLT_PROV_FW,                 \
		.desc = d " (raw; scale unconfirmed)"                                              \
	}

static const blt_field_t fields[] = {
    {.name = "inverter_id",
     .offset = 1,
     .type = BLT_T_U8,
     .prov = BLT_PROV_LIVE,
     .desc = "inverter id"},
    {.name = "device_model",
     .offset = 2,
     .type = BLT_T_STR_SWAP,
     .size = 12,
     .flags = BLT_F_REQUIRED,
     .prov = BLT_PROV_LIVE,
     .desc = "device model"},
    {.name = "device_serial",
     .offset = 14,
     .type = BLT_T_SN64,
     .prov = BLT_PROV_LIVE,
     .desc = "device serial number"},
    {.name = "power_class",
     .offset = 23,
     .type = BLT_T_U8,
     .enums = power_class,
     .prov = BLT_PROV_LIVE,
     .desc = "inverter power class"},
    BLT_SOFTWARE_LIST(25, &software),
    BITS16("energy_flow", 62, "energy-flow lines"),
    BITS16("control_status_low", 64, "control status, low word"),
    BITS16("control_status_high", 66, "control status, high word"),
    BITS16("alarm_0", 68, "alarm word 0"),
    BITS16("alarm_1", 70, "alarm word 1"),
    BITS16("alarm_2", 72, "alarm word 2"),
    BITS16("alarm_3", 74, "alarm word 3"),
    BITS16("fault_0", 82, "fault word 0"),
    BITS16("fault_1", 84, "fault word 1"),
    BITS16("fault_2", 86, "fault word 2"),
    BITS16("fault_3", 88, "fault word 3"),
    BITS16("fault_4", 90, "fault word 4"),
    BITS16("fault_5", 92, "fault word 5"),
    {.name = "work_time",
     .offset = 96,
     .type = BLT_T_U16,
     .prov = BLT_PROV_LIVE,
     .desc = "work-time counter (raw; AP300 live 6)"},
    {.name = "voltage_label",
     .offset = 98,
     .type = BLT_T_U16,
     .prov = BLT_PROV_LIVE,
     .desc = "voltage label (AP300 live 1)"},
    BITS16("canbus_error", 100, "CAN-bus error bits"),
    TEMP("ambient_temp", 102, "ambient temperature (older firmware; newer: block 1500)"),
    TEMP("inverter_max_temp", 104, "inverter maximum temperature (older firmware)"),
    TEMP("pv_dcdc_max_temp", 106, "PV DC-DC maximum temperature (older firmware)"),
    {.name = "fw_version_diff",
     .offset = 108,
     .type = BLT_T_U16,
     .prov = BLT_PROV_FW,
     .desc = "firmware version-difference flag (reference: fault_code)"},
    /* 1155-1169 (firmware inv_about_struct, register comments 1155..1160, 1161~1169;
     * read by battery-ha on the AP300): beyond the default 55-register read. */
    LIMIT("phase_0_charge_limit", 110, "L1 inverter charge power limit"),
    LIMIT("phase_1_charge_limit", 112, "L2 inverter charge power limit"),
    LIMIT("phase_2_charge_limit", 114, "L3 inverter charge power limit"),
    LIMIT("phase_0_discharge_limit", 116, "L1 inverter discharge power limit"),
    LIMIT("phase_1_discharge_limit", 118, "L2 inverter discharge power limit"),
    LIMIT("phase_2_discharge_limit", 120, "L3 inverter discharge power limit"),
    RATED("phase_0_ac_input_rated_current", 122, "L1 AC input rated current"),
    RATED("phase_1_ac_input_rated_current", 124, "L2 AC input rated current"),
    RATED("phase_2_ac_input_rated_current", 126, "L3 AC input rated current"),
    RATED("phase_0_ac_output_rated_current", 128, "L1 AC output rated current"),
    RATED("phase_1_ac_output_rated_current", 130, "L2 AC output rated current"),
    RATED("phase_2_ac_output_rated_current", 132, "L3 AC output rated current"),
    RATED("phase_0_grid_output_rated_current", 134, "L1 grid-side rated current"),
    RATED("phase_1_grid_output_rated_current", 136, "L2 grid-side rated current"),
    RATED("phase_2_grid_output_rated_current", 138, "L3 grid-side rated current"),
};

const blt_block_t blt_block_1100 = {
    .id = 1100,
    .name = "INV_BASE_INFO",
    .title = "inverter",
    .regs = 70,
    .min_bytes = 14,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "firmware map + AP300 capture; reference model/SN/version encodings are wrong",
};
