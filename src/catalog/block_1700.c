/* Block 1700 - METER_INFO (external CT / grid meter). PROTOCOL.md §4.11, Appendix A.
 * Provenance: firmware struct reg01700 (1700-1899). The reference agrees at 0/12/20/22/26/
 * 114/130/134 but names 30 and 34 phase-0 current and power; the firmware has voltage B and
 * C there (current A is 38, active power A is 50) and the firmware wins.
 * The 32-bit measurements are IEEE-754 float32 bit patterns, word-swapped on the wire (the
 * app's bit32HexSwap): they are kept as raw u32 (there is no float type in the decoder). */
#include "catalog_internal.h"

#define F32(n, off, what)                                                                  \
	{.name = n "_bits", .offset = off, .type = BLT_T_U32, .prov = BLT_PROV_FW,          \
	 .desc = what " (raw IEEE-754 float32 bits)"}

static const blt_field_t fields[] = {
	{.name = "model", .offset = 0, .type = BLT_T_STR_SWAP, .size = 12, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_FW, .desc = "meter model (byte-swapped ASCII)"},
	{.name = "serial", .offset = 12, .type = BLT_T_SN64, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_FW, .desc = "meter serial number"},
	{.name = "status", .offset = 20, .type = BLT_T_U16, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_FW, .desc = "status word (bits 0-1 time status, bit 2 online)"},
	{.name = "online", .offset = 20, .type = BLT_T_U16, .mask = 0x0004, .shift = 2,
	 .prov = BLT_PROV_FW, .desc = "meter online (status bit 2)"},
	{.name = "sys_time", .offset = 22, .type = BLT_T_U32, .prov = BLT_PROV_FW,
	 .desc = "meter system time (raw)"},
	F32("voltage_a", 26, "phase A voltage, V"),
	F32("voltage_b", 30, "phase B voltage, V"),
	F32("voltage_c", 34, "phase C voltage, V"),
	F32("current_a", 38, "phase A current, A"),
	F32("current_b", 42, "phase B current, A"),
	F32("current_c", 46, "phase C current, A"),
	F32("active_power_a", 50, "phase A active power, W"),
	F32("active_power_b", 54, "phase B active power, W"),
	F32("active_power_c", 58, "phase C active power, W"),
	F32("reactive_power_a", 62, "phase A reactive power, var"),
	F32("reactive_power_b", 66, "phase B reactive power, var"),
	F32("reactive_power_c", 70, "phase C reactive power, var"),
	F32("apparent_power_a", 74, "phase A apparent power, VA"),
	F32("apparent_power_b", 78, "phase B apparent power, VA"),
	F32("apparent_power_c", 82, "phase C apparent power, VA"),
	F32("power_factor_a", 86, "phase A power factor"),
	F32("power_factor_b", 90, "phase B power factor"),
	F32("power_factor_c", 94, "phase C power factor"),
	F32("average_voltage", 98, "average voltage, V"),
	F32("average_current", 102, "average current, A"),
	F32("unbalance_current", 106, "current unbalance"),
	F32("total_current", 110, "total current, A"),
	F32("total_active_power", 114, "total active power, W"),
	F32("total_reactive_power", 118, "total reactive power, var"),
	F32("total_apparent_power", 122, "total apparent power, VA"),
	F32("total_power_factor", 126, "total power factor"),
	F32("frequency", 130, "frequency, Hz"),
	F32("import_energy", 134, "total imported active energy, kWh"),
	F32("export_energy", 138, "total exported active energy, kWh"),
	F32("net_energy", 142, "total import+export active energy, kWh"),
	F32("import_energy_a", 146, "phase A imported energy, kWh"),
	F32("export_energy_a", 150, "phase A exported energy, kWh"),
	F32("net_energy_a", 154, "phase A import+export energy, kWh"),
	F32("import_energy_b", 158, "phase B imported energy, kWh"),
	F32("export_energy_b", 162, "phase B exported energy, kWh"),
	F32("net_energy_b", 166, "phase B import+export energy, kWh"),
	F32("import_energy_c", 170, "phase C imported energy, kWh"),
	F32("export_energy_c", 174, "phase C exported energy, kWh"),
	F32("net_energy_c", 178, "phase C import+export energy, kWh"),
	{.name = "last_online_time", .offset = 222, .type = BLT_T_U32, .unit = "s",
	 .prov = BLT_PROV_FW, .desc = "last time the meter came online (seconds since 1970)"},
};

const blt_block_t blt_block_1700 = {
	.id = 1700,
	.name = "METER_INFO",
	.title = "meter",
	.regs = 113,
	.min_bytes = 22,
	.fields = fields,
	.nfields = sizeof fields / sizeof fields[0],
	.source = "firmware struct reg01700; float32 values kept as raw bits; ref 30/34 mislabelled",
};
