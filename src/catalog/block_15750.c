/* Block 15750 - DC_HUB_SETTINGS. PROTOCOL.md Appendix A.
 * Provenance: reference (enable word + voltage byte at 0), which agrees with the firmware
 * struct reg15750; extended with the AC hub word (15751). Both words hold a 2-bit factory
 * reset field, so 15750-15751 are on the write deny list. */
#include "catalog_internal.h"

#define EN2(n, off, sh, what)                                                                \
	{.name = n, .offset = off, .type = BLT_T_U16, .mask = 0x3u << (sh), .shift = sh,        \
	 .prov = BLT_PROV_FW, .desc = what}

static const blt_field_t fields[] = {
	{.name = "enable_flags", .offset = 0, .type = BLT_T_U16, .prov = BLT_PROV_APP,
	 .desc = "DC hub setting word (raw)"},
	EN2("dc_switch", 0, 0, "DC hub output switch (bits 0-1)"),
	EN2("dc_memory_switch", 0, 2, "DC hub remember switch state (bits 2-3)"),
	EN2("dc_factory_reset", 0, 4, "DC hub factory reset (bits 4-5; never written)"),
	{.name = "dc_voltage_set", .offset = 0, .type = BLT_T_U8, .prov = BLT_PROV_APP,
	 .desc = "DC hub voltage setting (high byte)"},
	{.name = "ac_hub_flags", .offset = 2, .type = BLT_T_U16, .prov = BLT_PROV_FW,
	 .desc = "AC hub setting word (raw)"},
	EN2("ac_switch", 2, 0, "AC hub switch (bits 0-1)"),
	EN2("ac_memory_switch", 2, 2, "AC hub remember switch state (bits 2-3)"),
	EN2("ac_factory_reset", 2, 4, "AC hub factory reset (bits 4-5; never written)"),
};

const blt_block_t blt_block_15750 = {
	.id = 15750,
	.name = "DC_HUB_SETTINGS",
	.title = "DC hub settings",
	.regs = 2,
	.min_bytes = 0,
	.fields = fields,
	.nfields = sizeof fields / sizeof fields[0],
	.source = "reference layout + firmware reg15750 (AC hub word)",
};
