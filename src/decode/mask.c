/* Masking of secret rows in raw register data (dumps, diagnostic reports). */
#include <string.h>

#include "decode/decode_internal.h"

size_t blt_mask_secrets(const blt_block_t *b, uint8_t *data, size_t n)
{
	size_t masked = 0;

	if (!b || !data)
		return 0;
	for (size_t i = 0; i < b->nfields; i++) {
		const blt_field_t *f = &b->fields[i];
		size_t sz = f->size ? f->size : blt_type_size((blt_type_t)f->type);
		if (!(f->flags & BLT_F_SECRET))
			continue;
		if (f->repeat) {
			/* no secret row repeats today; hide the rest of the block rather than
			 * guess the layout */
			for (size_t k = f->offset; k < n; k++, masked++)
				data[k] = 0xff;
			continue;
		}
		for (size_t k = f->offset; k < f->offset + sz && k < n; k++, masked++)
			data[k] = 0xff;
	}
	return masked;
}
