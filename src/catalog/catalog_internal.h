/* Private to src/catalog: declarations of every block descriptor. */
#ifndef BLT_CATALOG_INTERNAL_H
#define BLT_CATALOG_INTERNAL_H

#include <bluetti/bluetti.h>

#define X(id) extern const blt_block_t blt_block_##id;
#include "blocks.def"
#undef X

/* Shared value-name tables (enums.c). */
extern const blt_enum_entry_t blt_enum_mcu_type[];

#endif
