/* Block 14500 - SMART_PLUG_INFO. PROTOCOL.md Appendix A.
 * Provenance: reference offsets 0-25 with real-device encodings (model str_swap, u64
 * serial, word-swapped u32), extended with the firmware struct reg14500 (14513-14525:
 * power x10, voltage/current/frequency x100, state bits, faults, daily energy/time). */
#include "catalog_internal.h"

static const blt_bit_name_t plug_state_bits[] = {
    {0, "matter_connected"},
    {1, "wifi_mesh_connected"},
    {2, "wifi_sta_connected"},
    {3, "ble_connected"},
    {4, "mqtt_logged_in"},
    {5, "plug_on"},
    {0, NULL},
};

static const blt_field_t fields[] = {
    ROW("model", 0, BLT_T_STR_SWAP, BLT_PROV_FW, "smart plug model", .size = 12),
    ROW("serial", 12, BLT_T_SN64, BLT_PROV_FW, "smart plug serial number"),
    U32("software_version", 20, BLT_PROV_FW, "software version"),
    U16("plug_count", 24, BLT_PROV_FW, "number of smart plugs attached"),
    U32("power", 26, BLT_PROV_FW, "AC power (firmware: x10)", .scale = 0.1, .unit = "W"),
    U16("voltage", 30, BLT_PROV_FW, "AC voltage", .scale = 0.01, .unit = "V"),
    U16("current", 32, BLT_PROV_FW, "AC current", .scale = 0.01, .unit = "A"),
    U16("frequency", 34, BLT_PROV_FW, "AC frequency", .scale = 0.01, .unit = "Hz"),
    BITS16("state", 36, BLT_PROV_FW, plug_state_bits, "connection and switch state"),
    FIELD2("ac_phase", 36, 14, BLT_PROV_FW, "AC phase: 0 invalid, 1-3 = L1-L3"),
    U16("fault", 38, BLT_PROV_FW, "fault / protection word"),
    U16("warning", 40, BLT_PROV_FW, "warning word (does not stop operation)"),
    U32("energy_today", 42, BLT_PROV_FW, "energy used today (raw, unit not documented)"),
    U32("use_time_today", 46, BLT_PROV_FW, "time in use today (raw)"),
    U16("delay_set", 50, BLT_PROV_FW, "action delay setting"),
};

const blt_block_t blt_block_14500 = {
    .id = 14500,
    .name = "SMART_PLUG_INFO",
    .title = "smart plug",
    .regs = 26,
    .min_bytes = 0,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "reference offsets + firmware reg14500 (14500-14525); str_swap / sn64 / u32 swap",
};
