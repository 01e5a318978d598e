/* Private to src/catalog: declarations of every block descriptor. */
#ifndef BLT_CATALOG_INTERNAL_H
#define BLT_CATALOG_INTERNAL_H

#include <bluetti/bluetti.h>

#define X(id) extern const blt_block_t blt_block_##id;
#include "blocks.def"
#undef X

/* Shared value-name tables (enums.c). */
extern const blt_enum_entry_t blt_enum_mcu_type[];

/* The software list of 1100 and 6100 (firmware map): a count in the low byte at count_off,
 * then records of {u16 MCU type, u32 version word-swapped} repeated by rep. */
#define BLT_SOFTWARE_LIST(count_off, rep)                                                  \
	{.name = "software_count",                                                         \
	 .offset = (count_off),                                                            \
	 .type = BLT_T_U8,                                                                 \
	 .flags = BLT_F_COUNT,                                                             \
	 .prov = BLT_PROV_LIVE,                                                            \
	 .desc = "number of software entries"},                                            \
	    {.name = "software_%u_type",                                                   \
	     .offset = (count_off) + 1,                                                    \
	     .type = BLT_T_U16,                                                            \
	     .enums = blt_enum_mcu_type,                                                   \
	     .repeat = (rep),                                                              \
	     .prov = BLT_PROV_LIVE,                                                        \
	     .desc = "MCU type of a software entry"},                                      \
	    {.name = "software_%u_version",                                                \
	     .offset = (count_off) + 3,                                                    \
	     .type = BLT_T_U32,                                                            \
	     .repeat = (rep),                                                              \
	     .prov = BLT_PROV_LIVE,                                                        \
	     .desc = "software version (word-swapped u32)"}

#endif
