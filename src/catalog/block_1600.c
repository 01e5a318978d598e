/* Block 1600 - INV_METER_INFO (inverter-side meter data).
 * Provenance: firmware register map: block extent 1600-1614 (PROTOCOL.md §1.8) and the
 * struct for message type 0x18 is an opaque byte array (no field names); battery-ha reads
 * 1600 on a live AP300 and the unit answers (EVIDENCE.md §4). The meaning of the words is
 * not published: they are decoded raw so `bluetti read --block 1600` and `dump` show them. */
#include "catalog_internal.h"

#define W(i)                                                                                       \
	U16("word_" #i, 2 * i, BLT_PROV_FW, "meter data word " #i " (raw; meaning unpublished)")

static const blt_field_t fields[] = {
    W(0), W(1), W(2), W(3), W(4), W(5), W(6), W(7), W(8), W(9), W(10), W(11), W(12), W(13), W(14),
};

const blt_block_t blt_block_1600 = {
    .id = 1600,
    .name = "INV_METER_INFO",
    .title = "inverter meter",
    .regs = 15,
    .min_bytes = 0,
    .extent = 15, /* 1600-1614 */
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "firmware extent 1600-1614 (opaque meter bytes); answers on the AP300 (battery-ha)",
};
