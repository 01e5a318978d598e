/* Block 17100 - AT1_BASE_INFO (AT1 smart hub). PROTOCOL.md Appendix A.
 * Provenance: reference offsets with real-device encodings (§3.3); not confirmed. */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
	{.name = "model", .offset = 0, .type = BLT_T_STR_SWAP, .size = 12, .prov = BLT_PROV_APP,
	 .desc = "AT1 model"},
	{.name = "serial", .offset = 12, .type = BLT_T_SN64, .prov = BLT_PROV_APP,
	 .desc = "AT1 serial number"},
	{.name = "software_version", .offset = 22, .type = BLT_T_U32, .prov = BLT_PROV_APP,
	 .desc = "software version"},
};

const blt_block_t blt_block_17100 = {
	.id = 17100,
	.name = "AT1_BASE_INFO",
	.title = "AT1",
	.regs = 13,
	.min_bytes = 0,
	.fields = fields,
	.nfields = sizeof fields / sizeof fields[0],
	.source = "reference offsets; str_swap / sn64 / u32 word swap per §3.3",
};
