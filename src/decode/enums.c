/* Value names of enum rows: the one lookup every layer uses (decode, catalog, client,
 * programs). */
#include <stddef.h>

#include <bluetti/decode.h>

const char *blt_enum_name(const blt_enum_entry_t *e, int32_t value)
{
	for (; e && e->name; e++)
		if (e->value == value)
			return e->name;
	return NULL;
}
