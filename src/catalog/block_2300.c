/* Block 2300 - INV_CERT_SETTINGS (per-inverter certification settings, backed up).
 * Provenance: firmware message type 0x1C "certification settings area 2300-2319" (register
 * header); battery-ha reads 43 registers of it on a live AP300: all zero (EVIDENCE.md §4).
 * Field layout unpublished: raw words, read only (the write gate denies 2300-2319 as
 * regulatory, like 2400-2449). */
#include "catalog_internal.h"

#define W(i)                                                                                       \
	U16("word_" #i, 2 * i, BLT_PROV_FW,                                                        \
	    "certification setting word " #i " (raw; layout unpublished)")

static const blt_field_t fields[] = {
    W(0),  W(1),  W(2),  W(3),  W(4),  W(5),  W(6),  W(7),  W(8),  W(9),
    W(10), W(11), W(12), W(13), W(14), W(15), W(16), W(17), W(18), W(19),
};

const blt_block_t blt_block_2300 = {
    .id = 2300,
    .name = "INV_CERT_SETTINGS",
    .title = "certification settings",
    .regs = 20,
    .min_bytes = 0,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "firmware type 0x1C (2300-2319); AP300 answers 43 registers of zeros (battery-ha)",
};
