/* Block 14500 - SMART_PLUG_INFO. PROTOCOL.md Appendix A.
 * Provenance: reference offsets 0-25 with real-device encodings (model str_swap, u64
 * serial, word-swapped u32), extended with the firmware struct reg14500 (14513-14525:
 * power x10, voltage/current/frequency x100, state bits, faults, daily energy/time). */
#include "catalog_internal.h"

static const blt_bit_name_t plug_state_bits[] = {
	{0, "matter_connected"}, {1, "wifi_mesh_connected"}, {2, "wifi_sta_connected"},
	{3, "ble_connected"},    {4, "mqtt_logged_in"},      {5, "plug_on"},
	{0, NULL},
};

static const blt_field_t fields[] = {
	{.name = "model", .offset = 0, .type = BLT_T_STR_SWAP, .size = 12, .prov = BLT_PROV_FW,
	 .desc = "smart plug model"},
	{.name = "serial", .offset = 12, .type = BLT_T_SN64, .prov = BLT_PROV_FW,
	 .desc = "smart plug serial number"},
	{.name = "software_version", .offset = 20, .type = BLT_T_U32, .prov = BLT_PROV_FW,
	 .desc = "software version"},
	{.name = "plug_count", .offset = 24, .type = BLT_T_U16, .prov = BLT_PROV_FW,
	 .desc = "number of smart plugs attached"},
	{.name = "power", .offset = 26, .type = BLT_T_U32, .scale = 0.1, .unit = "W",
	 .prov = BLT_PROV_FW, .desc = "AC power (firmware: x10)"},
	{.name = "voltage", .offset = 30, .type = BLT_T_U16, .scale = 0.01, .unit = "V",
	 .prov = BLT_PROV_FW, .desc = "AC voltage"},
	{.name = "current", .offset = 32, .type = BLT_T_U16, .scale = 0.01, .unit = "A",
	 .prov = BLT_PROV_FW, .desc = "AC current"},
	{.name = "frequency", .offset = 34, .type = BLT_T_U16, .scale = 0.01, .unit = "Hz",
	 .prov = BLT_PROV_FW, .desc = "AC frequency"},
	{.name = "state", .offset = 36, .type = BLT_T_U16, .flags = BLT_F_BITMAP,
	 .bits = plug_state_bits, .prov = BLT_PROV_FW, .desc = "connection and switch state"},
	{.name = "ac_phase", .offset = 36, .type = BLT_T_U16, .mask = 0xC000, .shift = 14,
	 .prov = BLT_PROV_FW, .desc = "AC phase: 0 invalid, 1-3 = L1-L3"},
	{.name = "fault", .offset = 38, .type = BLT_T_U16, .prov = BLT_PROV_FW,
	 .desc = "fault / protection word"},
	{.name = "warning", .offset = 40, .type = BLT_T_U16, .prov = BLT_PROV_FW,
	 .desc = "warning word (does not stop operation)"},
	{.name = "energy_today", .offset = 42, .type = BLT_T_U32, .prov = BLT_PROV_FW,
	 .desc = "energy used today (raw, unit not documented)"},
	{.name = "use_time_today", .offset = 46, .type = BLT_T_U32, .prov = BLT_PROV_FW,
	 .desc = "time in use today (raw)"},
	{.name = "delay_set", .offset = 50, .type = BLT_T_U16, .prov = BLT_PROV_FW,
	 .desc = "action delay setting"},
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
