/* Block 15700 - DC_HUB_INFO. PROTOCOL.md Appendix A.
 * Provenance: firmware struct reg15700, which gives the scales the reference leaves raw
 * (power 1 W, voltage 0.1 V, current 0.01 A) and has a current where the reference reads a
 * port "status" (36, 42, 48, 54, 60, 66); the firmware wins. */
#include "catalog_internal.h"

#define PORT(n, off, what)                                                                         \
	U16(n "_power", off, BLT_PROV_FW, what " power", .unit = "W"),                             \
	    U16(n "_voltage", off + 2, BLT_PROV_FW, what " voltage", .scale = 0.1, .unit = "V"),   \
	    U16(n "_current", off + 4, BLT_PROV_FW, what " current", .scale = 0.01, .unit = "A")

static const blt_field_t fields[] = {
    ROW("model", 0, BLT_T_STR_SWAP, BLT_PROV_FW, "DC hub model", .size = 12),
    ROW("serial", 12, BLT_T_SN64, BLT_PROV_FW, "DC hub serial number"),
    PORT("dc_input", 20, "input"),
    PORT("dc_output", 26, "total output"),
    PORT("cigarette_lighter_1", 32, "12 V socket 1"),
    PORT("cigarette_lighter_2", 38, "12 V socket 2"),
    PORT("usb_a", 44, "USB-A"),
    PORT("type_c_1", 50, "USB-C 1"),
    PORT("type_c_2", 56, "USB-C 2"),
    PORT("anderson", 62, "Anderson port"),
};

const blt_block_t blt_block_15700 = {
    .id = 15700,
    .name = "DC_HUB_INFO",
    .title = "DC hub",
    .regs = 34,
    .min_bytes = 0,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "firmware struct reg15700 (scales; currents where the reference reads status)",
};
