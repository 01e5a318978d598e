/* Private to src/catalog: declarations of every block descriptor. */
#ifndef BLT_CATALOG_INTERNAL_H
#define BLT_CATALOG_INTERNAL_H

#include <bluetti/bluetti.h>

#define X(id) extern const blt_block_t blt_block_##id;
#include "blocks.def"
#undef X

#endif
