/* Decimals of a row's values: one formula for the decoder and the presentation. */
#include <math.h>

#include "decode/decode_internal.h"

unsigned blt_field_decimals(const blt_field_t *f, const blt_decode_opts_t *opts)
{
	double s = blt__eff_scale(f, opts);
	if (s == 1.0 && f->add == 0)
		return 0; /* the common case without a libm call */
	return s == 1.0 && f->add == nearbyint(f->add) ? 0 : blt__decimals(s, f->add);
}
