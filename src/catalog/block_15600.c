/* Block 15600 - DC_DC_SETTINGS. PROTOCOL.md Appendix A.
 * Provenance: reference (word 0 switches, DC1/DC3 voltage/current set points), which agrees
 * with the firmware struct reg15600 (15601-15612: six {voltage, current} pairs), extended
 * with the firmware's later registers. Word 0 contains a factory-reset field, so register
 * 15600 is on the write deny list. 2-bit switch fields: mask/shift of the bits the
 * reference's hex_enable_list reads (that transform reverses the two bits). */
#include "catalog_internal.h"

#define CH(n, off)                                                                           \
	{.name = "dc" #n "_voltage_set", .offset = off, .type = BLT_T_U16, .scale = 0.1,         \
	 .unit = "V", .prov = BLT_PROV_FW, .desc = "DC" #n " voltage set point"},                \
	{.name = "dc" #n "_current_set", .offset = off + 2, .type = BLT_T_U16, .scale = 0.1,     \
	 .unit = "A", .prov = BLT_PROV_FW, .desc = "DC" #n " current set point"}
#define EN2(n, sh, what)                                                                     \
	{.name = n, .offset = 0, .type = BLT_T_U16, .mask = 0x3u << (sh), .shift = sh,          \
	 .prov = BLT_PROV_APP, .desc = what}

static const blt_field_t fields[] = {
	{.name = "charger_set", .offset = 0, .type = BLT_T_U16, .prov = BLT_PROV_FW,
	 .desc = "switch word (raw)"},
	EN2("dc_ctrl", 14, "DC output switch (bits 15-14)"),
	EN2("silent_mode", 12, "silent mode (bits 13-12)"),
	EN2("factory_set", 10, "factory reset field (bits 11-10; never written)"),
	EN2("self_adaption", 8, "self-adaption (bits 9-8)"),
	CH(1, 2), CH(2, 6), CH(3, 10), CH(4, 14), CH(5, 18), CH(6, 22),
	{.name = "memory_mode", .offset = 26, .type = BLT_T_U16, .prov = BLT_PROV_FW,
	 .desc = "DC memory switch mode"},
	{.name = "charge_mode_2", .offset = 28, .type = BLT_T_U16, .prov = BLT_PROV_FW,
	 .desc = "charge mode settings 2 (raw)"},
	{.name = "charge_mode_3", .offset = 30, .type = BLT_T_U16, .prov = BLT_PROV_FW,
	 .desc = "charge mode settings 3 (raw)"},
	{.name = "battery_capacity", .offset = 32, .type = BLT_T_U32, .scale = 0.1, .unit = "Ah",
	 .prov = BLT_PROV_FW, .desc = "lead-acid battery capacity (low word first)"},
	{.name = "battery_type", .offset = 36, .type = BLT_T_U16, .prov = BLT_PROV_FW,
	 .desc = "battery type"},
	{.name = "dc1_power_set", .offset = 38, .type = BLT_T_I16, .unit = "W", .prov = BLT_PROV_FW,
	 .desc = "DC1 power set point (+ into DC, - out)"},
	{.name = "dc2_power_set", .offset = 40, .type = BLT_T_I16, .unit = "W", .prov = BLT_PROV_FW,
	 .desc = "DC2 power set point"},
	{.name = "dc3_power_set", .offset = 42, .type = BLT_T_I16, .unit = "W", .prov = BLT_PROV_FW,
	 .desc = "DC3 power set point"},
	{.name = "dc4_power_set", .offset = 44, .type = BLT_T_I16, .unit = "W", .prov = BLT_PROV_FW,
	 .desc = "DC4 power set point"},
	{.name = "dc5_power_set", .offset = 46, .type = BLT_T_I16, .unit = "W", .prov = BLT_PROV_FW,
	 .desc = "DC5 power set point"},
	{.name = "total_power_set", .offset = 48, .type = BLT_T_I16, .unit = "W",
	 .prov = BLT_PROV_FW, .desc = "total DC power set point"},
	{.name = "charge_mode_4", .offset = 50, .type = BLT_T_U16, .prov = BLT_PROV_FW,
	 .desc = "charge mode settings 4 (raw)"},
};

const blt_block_t blt_block_15600 = {
	.id = 15600,
	.name = "DC_DC_SETTINGS",
	.title = "DC-DC settings",
	.regs = 26,
	.min_bytes = 0,
	.fields = fields,
	.nfields = sizeof fields / sizeof fields[0],
	.source = "reference layout = firmware reg15600, extended to 15625",
};
