/* Block 17000 - ATS_INFO (automatic transfer switch). PROTOCOL.md Appendix A.
 * Provenance: reference offsets with real-device encodings (model str_swap, u64 serial,
 * word-swapped u32 version, §3.3); not confirmed by a capture. */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
	{.name = "model", .offset = 0, .type = BLT_T_STR_SWAP, .size = 12, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_APP, .desc = "ATS model"},
	{.name = "serial", .offset = 12, .type = BLT_T_SN64, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_APP, .desc = "ATS serial number"},
	{.name = "software_type", .offset = 21, .type = BLT_T_U8, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_APP, .desc = "software (MCU) type"},
	{.name = "software_version", .offset = 22, .type = BLT_T_U32, .flags = BLT_F_REQUIRED,
	 .prov = BLT_PROV_APP, .desc = "software version"},
};

const blt_block_t blt_block_17000 = {
	.id = 17000,
	.name = "ATS_INFO",
	.title = "ATS",
	.regs = 13,
	.min_bytes = 26,
	.fields = fields,
	.nfields = sizeof fields / sizeof fields[0],
	.source = "reference offsets; str_swap / sn64 / u32 word swap per §3.3",
};
