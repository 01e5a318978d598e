/* The block list, generated from blocks.def. */
#include "catalog_internal.h"

static const blt_block_t *const blocks[] = {
#define X(id) &blt_block_##id,
#include "blocks.def"
#undef X
};

size_t blt_catalog_count(void)
{
	return sizeof blocks / sizeof blocks[0];
}

const blt_block_t *blt_catalog_at(size_t i)
{
	return i < blt_catalog_count() ? blocks[i] : NULL;
}

const blt_block_t *blt_catalog_find(uint16_t id)
{
	size_t lo = 0, hi = blt_catalog_count();
	while (lo < hi) { /* blocks.def is sorted by id */
		size_t mid = lo + (hi - lo) / 2;
		if (blocks[mid]->id == id)
			return blocks[mid];
		if (blocks[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
