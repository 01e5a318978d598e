/* Block 6000 - PACK_MAIN_INFO (battery aggregate). PROTOCOL.md §4.7 (b).
 * Provenance: firmware register map, confirmed by the AP300 68-byte capture (§7.1: SOC raw
 * 95 at byte 11, SOH 25 at 13, u32 energies 6019/6020 = b2be 0066 word-swapped). The
 * reference (a) reads "power" at 10 and SOC at 12 (the high byte of SOH) and calls the
 * energies cell_count/cycles and bytes 50/52 temperatures: the firmware/live layout wins. */
#include "catalog_internal.h"

static const blt_enum_entry_t charging_status[] = {
	{0, "standby"}, {1, "charging"}, {2, "discharging"}, {0, NULL},
};

static const blt_bit_name_t packs_bits[] = {
	{0, "pack_0"},  {1, "pack_1"},  {2, "pack_2"},   {3, "pack_3"},   {4, "pack_4"},
	{5, "pack_5"},  {6, "pack_6"},  {7, "pack_7"},   {8, "pack_8"},   {9, "pack_9"},
	{10, "pack_10"}, {11, "pack_11"}, {12, "pack_12"}, {13, "pack_13"}, {14, "pack_14"},
	{15, "pack_15"}, {0, NULL},
};

static const blt_bit_name_t status1_bits[] = {
	{0, "charge_enabled"},     {1, "discharge_enabled"}, {2, "emergency_charge"},
	{3, "charge_protection"},  {4, "discharge_protection"}, {5, "system_fault"},
	{6, "heating"},            {7, "balancing"},         {0, NULL},
};

static const blt_bit_name_t status2_bits[] = {
	{0, "charge_alarm"}, {1, "discharge_alarm"}, {0, NULL},
};

#define U16(nm, off, pv, d) {.name = nm, .offset = off, .type = BLT_T_U16, .prov = pv, .desc = d}
#define BITS16(nm, off, pv, b, d)                                                               \
	{.name = nm, .offset = off, .type = BLT_T_U16, .flags = BLT_F_BITMAP, .bits = b,           \
	 .prov = pv, .desc = d}

static const blt_field_t fields[] = {
	U16("voltage_platform", 0, BLT_PROV_LIVE, "voltage platform (0 low, else high voltage)"),
	{.name = "pack_count", .offset = 3, .type = BLT_T_U8, .prov = BLT_PROV_LIVE,
	 .desc = "number of battery packs"},
	BITS16("packs_online", 4, BLT_PROV_LIVE, packs_bits, "battery packs online"),
	{.name = "voltage", .offset = 6, .type = BLT_T_U16, .flags = BLT_F_REQUIRED | BLT_F_PACK_VSCALE,
	 .unit = "V", .prov = BLT_PROV_LIVE, .desc = "battery total voltage (profile scale, 0.01 V live)"},
	{.name = "current", .offset = 8, .type = BLT_T_I16, .flags = BLT_F_REQUIRED, .scale = 0.1,
	 .unit = "A", .prov = BLT_PROV_FW, .desc = "battery total current (negative = discharging)"},
	{.name = "soc", .offset = 11, .type = BLT_T_U8, .flags = BLT_F_REQUIRED, .unit = "%",
	 .prov = BLT_PROV_LIVE, .desc = "state of charge"},
	{.name = "soh", .offset = 13, .type = BLT_T_U8, .unit = "%", .prov = BLT_PROV_LIVE,
	 .desc = "state of health"},
	{.name = "temp_avg", .offset = 14, .type = BLT_T_U16, .add = -40, .flags = BLT_F_ZERO_NA,
	 .unit = "°C", .prov = BLT_PROV_LIVE, .desc = "average battery temperature"},
	{.name = "work_status", .offset = 17, .type = BLT_T_U8, .prov = BLT_PROV_LIVE,
	 .desc = "battery work/running status"},
	{.name = "charging_status", .offset = 19, .type = BLT_T_U8, .enums = charging_status,
	 .prov = BLT_PROV_LIVE, .desc = "charging status"},
	{.name = "max_charge_voltage", .offset = 20, .type = BLT_T_U16, .scale = 0.1, .unit = "V",
	 .prov = BLT_PROV_FW, .desc = "allowed maximum charge voltage"},
	{.name = "max_charge_current", .offset = 22, .type = BLT_T_U16, .scale = 0.1, .unit = "A",
	 .prov = BLT_PROV_FW, .desc = "allowed maximum charge current (0 = charging not allowed)"},
	{.name = "max_discharge_current", .offset = 24, .type = BLT_T_U16, .scale = 0.1, .unit = "A",
	 .prov = BLT_PROV_FW, .desc = "allowed maximum discharge current (0 = not allowed)"},
	BITS16("status_1", 26, BLT_PROV_LIVE, status1_bits, "battery status word 1"),
	BITS16("status_2", 28, BLT_PROV_FW, status2_bits, "battery status word 2"),
	BITS16("capacity_parallel", 32, BLT_PROV_LIVE, packs_bits,
	       "packs in capacity-parallel (main MOS on)"),
	{.name = "time_to_full", .offset = 34, .type = BLT_T_U16, .unit = "min", .prov = BLT_PROV_LIVE,
	 .desc = "estimated time until full"},
	{.name = "time_to_empty", .offset = 36, .type = BLT_T_U16, .unit = "min",
	 .prov = BLT_PROV_LIVE, .desc = "estimated time until empty"},
	{.name = "charge_energy", .offset = 38, .type = BLT_T_U32, .prov = BLT_PROV_LIVE,
	 .desc = "total charge energy (raw; unit undocumented)"},
	{.name = "discharge_energy", .offset = 42, .type = BLT_T_U32, .prov = BLT_PROV_LIVE,
	 .desc = "total discharge energy (raw; unit undocumented)"},
	{.name = "current_bias", .offset = 46, .type = BLT_T_I16, .prov = BLT_PROV_FW,
	 .desc = "total-current bias (raw)"},
	U16("pack_control", 50, BLT_PROV_FW, "all-pack control word"),
	U16("buckle_status", 52, BLT_PROV_FW, "buckle (latch) status"),
	U16("merge_status", 54, BLT_PROV_FW, "merge status"),
	U16("heating_status", 56, BLT_PROV_FW, "heating status"),
	BITS16("alarm_1", 58, BLT_PROV_FW, NULL, "all-pack alarm word 1"),
	BITS16("alarm_2", 60, BLT_PROV_FW, NULL, "all-pack alarm word 2"),
	U16("bcu_state", 62, BLT_PROV_FW, "BCU state"),
	BITS16("bcu_error", 64, BLT_PROV_FW, NULL, "BCU error bits"),
	{.name = "balance_power", .offset = 66, .type = BLT_T_U16, .prov = BLT_PROV_FW,
	 .desc = "balancing power (newer firmware; raw)"},
	U16("spark_count", 68, BLT_PROV_FW, "spark count (newer firmware)"),
	U16("cycle_count", 70, BLT_PROV_FW, "pack charge cycle count (newer firmware)"),
	{.name = "protection", .offset = 72, .type = BLT_T_U32, .flags = BLT_F_BITMAP,
	 .prov = BLT_PROV_FW, .desc = "protection bits (newer firmware)"},
	BITS16("system_error_0", 76, BLT_PROV_FW, NULL, "system error word 0 (newer firmware)"),
	BITS16("system_error_1", 78, BLT_PROV_FW, NULL, "system error word 1 (newer firmware)"),
	BITS16("system_error_2", 80, BLT_PROV_FW, NULL, "system error word 2 (newer firmware)"),
	BITS16("alarm_3", 82, BLT_PROV_FW, NULL, "alarm word (newer firmware)"),
};

const blt_block_t blt_block_6000 = {
	.id = 6000,
	.name = "PACK_MAIN_INFO",
	.title = "battery",
	.regs = 42,
	.min_bytes = 12,
	.fields = fields,
	.nfields = sizeof fields / sizeof fields[0],
	.source = "firmware map + AP300 capture; reference SOC/power/energy offsets are wrong",
};
