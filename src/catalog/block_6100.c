/* Block 6100 - PACK_ITEM_INFO (one battery pack, selected by slave address / 7000).
 * PROTOCOL.md §4.8 (b). Provenance: firmware register map, confirmed by the AP300 180-byte
 * capture (model "AP300" byte-swapped, SN u64, SOC 95, 16 cells, 4 NTC, 1 software entry).
 * Reference offsets 1..110 agree but its model/SN encodings fail on real devices and
 * 138/143/156-159 do not match the firmware: the firmware/live layout wins. Cell arrays
 * are block 6300, not part of this record. */
#include "catalog_internal.h"

static const blt_enum_entry_t charging_status[] = {
	{0, "standby"}, {1, "charging"}, {2, "discharging"}, {0, NULL},
};

static const blt_enum_entry_t mcu_type[] = {
	{0, "iot"},       {1, "inverter_arm"}, {2, "inverter_dsp"}, {3, "bms"},
	{4, "ba"},        {5, "pack_bcu"},     {6, "pack_bmu"},     {7, "pack_bms"},
	{8, "pack_m1"},   {9, "pack_safety"},  {10, "pack_hv"},     {11, "hmi"},
	{12, "hmi2"},     {13, "rf"},          {14, "dc_hub"},      {15, "ac_hub"},
	{16, "dc_dc"},    {0, NULL},
};

static const blt_repeat_t software = {.count_field = "software_count", .max = 10, .stride = 6};

#define U16(nm, off, d) {.name = nm, .offset = off, .type = BLT_T_U16, .prov = BLT_PROV_FW, .desc = d}
#define BITS16(nm, off, d)                                                                      \
	{.name = nm, .offset = off, .type = BLT_T_U16, .flags = BLT_F_BITMAP, .prov = BLT_PROV_FW, \
	 .desc = d}
#define TEMP(nm, off, d)                                                                        \
	{.name = nm, .offset = off, .type = BLT_T_U16, .add = -40, .flags = BLT_F_ZERO_NA,        \
	 .unit = "°C", .prov = BLT_PROV_FW, .desc = d}
#define WH(nm, off, d)                                                                          \
	{.name = nm, .offset = off, .type = BLT_T_U32, .unit = "Wh", .prov = BLT_PROV_FW, .desc = d}

static const blt_field_t fields[] = {
	{.name = "pack_id", .offset = 1, .type = BLT_T_U8, .prov = BLT_PROV_LIVE, .desc = "pack id"},
	{.name = "pack_model", .offset = 2, .type = BLT_T_STR_SWAP, .size = 12, .prov = BLT_PROV_LIVE,
	 .desc = "pack model"},
	{.name = "pack_serial", .offset = 14, .type = BLT_T_SN64, .prov = BLT_PROV_LIVE,
	 .desc = "pack serial number"},
	{.name = "voltage", .offset = 22, .type = BLT_T_U16, .flags = BLT_F_REQUIRED | BLT_F_PACK_VSCALE,
	 .unit = "V", .prov = BLT_PROV_LIVE, .desc = "pack voltage (profile scale, 0.01 V live)"},
	{.name = "current", .offset = 24, .type = BLT_T_I16, .scale = 0.1, .unit = "A",
	 .prov = BLT_PROV_FW, .desc = "pack current (app treats it unsigned)"},
	{.name = "soc", .offset = 27, .type = BLT_T_U8, .unit = "%", .prov = BLT_PROV_LIVE,
	 .desc = "pack state of charge"},
	{.name = "soh", .offset = 29, .type = BLT_T_U8, .unit = "%", .prov = BLT_PROV_FW,
	 .desc = "pack state of health"},
	TEMP("temp_avg", 30, "pack average temperature"),
	{.name = "cell_voltage_min", .offset = 32, .type = BLT_T_U16, .scale = 0.001, .unit = "V",
	 .prov = BLT_PROV_FW, .desc = "lowest cell voltage"},
	{.name = "cell_voltage_max", .offset = 34, .type = BLT_T_U16, .scale = 0.001, .unit = "V",
	 .prov = BLT_PROV_FW, .desc = "highest cell voltage"},
	U16("cell_voltage_min_index", 36, "index of the lowest cell"),
	U16("cell_voltage_max_index", 38, "index of the highest cell"),
	TEMP("temp_min", 40, "lowest cell temperature"),
	TEMP("temp_max", 42, "highest cell temperature"),
	U16("temp_min_index", 44, "index of the coldest sensor"),
	U16("temp_max_index", 46, "index of the hottest sensor"),
	{.name = "work_status", .offset = 49, .type = BLT_T_U8, .prov = BLT_PROV_FW,
	 .desc = "pack work status"},
	{.name = "charging_status", .offset = 51, .type = BLT_T_U8, .enums = charging_status,
	 .prov = BLT_PROV_FW, .desc = "pack charging status"},
	U16("pack_online", 54, "pack online"),
	{.name = "relay_main", .offset = 56, .type = BLT_T_U16, .mask = 0x0003, .prov = BLT_PROV_FW,
	 .desc = "main relay state (bits 0-1)"},
	{.name = "relay_precharge", .offset = 56, .type = BLT_T_U16, .mask = 0x000c, .shift = 2,
	 .prov = BLT_PROV_FW, .desc = "pre-charge relay state (bits 2-3)"},
	{.name = "relay_heater", .offset = 56, .type = BLT_T_U16, .mask = 0x0030, .shift = 4,
	 .prov = BLT_PROV_FW, .desc = "heater relay state (bits 4-5)"},
	{.name = "capacity_parallel", .offset = 59, .type = BLT_T_U8, .prov = BLT_PROV_FW,
	 .desc = "pack in capacity-parallel"},
	BITS16("canbus_error", 60, "CAN-bus error bits"),
	{.name = "capacity", .offset = 62, .type = BLT_T_U32, .scale = 0.001, .unit = "Ah",
	 .prov = BLT_PROV_FW, .desc = "pack capacity"},
	WH("charge_energy", 66, "total charge energy"),
	WH("discharge_energy", 70, "total discharge energy"),
	WH("session_charge_energy", 74, "charge energy of the current session"),
	WH("session_discharge_energy", 78, "discharge energy of the current session"),
	{.name = "insulation_resistance", .offset = 82, .type = BLT_T_U16, .scale = 0.1,
	 .unit = "kΩ", .prov = BLT_PROV_FW, .desc = "insulation resistance"},
	{.name = "internal_resistance", .offset = 84, .type = BLT_T_U16, .unit = "mΩ",
	 .prov = BLT_PROV_FW, .desc = "internal resistance"},
	U16("cycle_count", 86, "charge cycle count"),
	BITS16("charge_protection", 88, "charge-side protection bits"),
	BITS16("discharge_protection", 90, "discharge-side protection bits"),
	BITS16("system_error_0", 92, "system error word 0"),
	BITS16("system_error_1", 94, "system error word 1"),
	BITS16("system_error_2", 96, "system error word 2"),
	BITS16("alarm_1", 98, "alarm word 1"),
	{.name = "time_to_full", .offset = 100, .type = BLT_T_U16, .unit = "min", .prov = BLT_PROV_FW,
	 .desc = "estimated time until full"},
	{.name = "time_to_empty", .offset = 102, .type = BLT_T_U16, .unit = "min",
	 .prov = BLT_PROV_FW, .desc = "estimated time until empty"},
	{.name = "cell_count", .offset = 105, .type = BLT_T_U8, .prov = BLT_PROV_LIVE,
	 .desc = "number of cells"},
	{.name = "ntc_count", .offset = 107, .type = BLT_T_U8, .prov = BLT_PROV_LIVE,
	 .desc = "number of temperature sensors"},
	{.name = "bmu_count", .offset = 109, .type = BLT_T_U8, .prov = BLT_PROV_FW,
	 .desc = "number of BMUs"},
	U16("bmu_fault_index", 110, "BMU fault index"),
	U16("pack_type", 114, "pack type"),
	U16("output_sum_voltage", 116, "pack output-sum voltage (raw; scale undocumented)"),
	U16("pack_control", 118, "pack control word"),
	{.name = "max_charge_current", .offset = 120, .type = BLT_T_U16, .scale = 0.1, .unit = "A",
	 .prov = BLT_PROV_FW, .desc = "allowed maximum charge current"},
	{.name = "max_discharge_current", .offset = 122, .type = BLT_T_U16, .scale = 0.1,
	 .unit = "A", .prov = BLT_PROV_FW, .desc = "allowed maximum discharge current"},
	BITS16("mos_status", 124, "MOS status bits"),
	U16("single_status", 126, "single status"),
	{.name = "alarm_2", .offset = 128, .type = BLT_T_U32, .flags = BLT_F_BITMAP,
	 .prov = BLT_PROV_FW, .desc = "alarm word 2 (u32)"},
	U16("pack_event", 132, "pack event"),
	U16("aging", 136, "aging status"),
	U16("fw_version_diff", 144, "firmware version difference"),
	{.name = "software_count", .offset = 147, .type = BLT_T_U8, .flags = BLT_F_COUNT,
	 .prov = BLT_PROV_LIVE, .desc = "number of software entries"},
	{.name = "software_%u_type", .offset = 148, .type = BLT_T_U16, .enums = mcu_type,
	 .repeat = &software, .prov = BLT_PROV_LIVE, .desc = "MCU type of a software entry"},
	{.name = "software_%u_version", .offset = 150, .type = BLT_T_U32, .repeat = &software,
	 .prov = BLT_PROV_LIVE, .desc = "software version (word-swapped u32)"},
};

const blt_block_t blt_block_6100 = {
	.id = 6100,
	.name = "PACK_ITEM_INFO",
	.title = "pack",
	.regs = 104,
	.min_bytes = 24,
	.fields = fields,
	.nfields = sizeof fields / sizeof fields[0],
	.source = "firmware map + AP300 capture; reference model/SN encodings fail, 138+ offsets wrong",
};
