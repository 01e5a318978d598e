/* Private to src/catalog: declarations of every block descriptor. */
#ifndef BLT_CATALOG_INTERNAL_H
#define BLT_CATALOG_INTERNAL_H

#include <bluetti/bluetti.h>

#define X(id) extern const blt_block_t blt_block_##id;
#include "blocks.def"
#undef X

/* Shared value-name tables (enums.c). */
extern const blt_enum_entry_t blt_enum_mcu_type[];

/* Row macros: every row of every block is written with these. Each takes the row's name
 * (a template with %u for repeated rows), byte offset, provenance and description, then
 * optional further designated initializers of blt_field_t in any order (.unit, .scale,
 * .flags, .enums, .min_pv, .repeat, ...). The description is the head of __VA_ARGS__, so
 * a row without extras needs no empty argument (C11). Give each member once: the shape
 * macros below already set some (TEMP16: .add, .flags, .unit; BITS16: .flags, .bits;
 * FIELD2: .mask, .shift). */
#define ROW(nm, off, ty, pv, ...)                                                                  \
	{                                                                                          \
		.name = nm, .offset = off, .type = ty, .prov = pv, .desc = __VA_ARGS__             \
	}
#define U8(nm, off, pv, ...)  ROW(nm, off, BLT_T_U8, pv, __VA_ARGS__)
#define I8(nm, off, pv, ...)  ROW(nm, off, BLT_T_I8, pv, __VA_ARGS__)
#define U16(nm, off, pv, ...) ROW(nm, off, BLT_T_U16, pv, __VA_ARGS__)
#define I16(nm, off, pv, ...) ROW(nm, off, BLT_T_I16, pv, __VA_ARGS__)
#define U32(nm, off, pv, ...) ROW(nm, off, BLT_T_U32, pv, __VA_ARGS__)
#define I32(nm, off, pv, ...) ROW(nm, off, BLT_T_I32, pv, __VA_ARGS__)
/* A temperature register: raw - 40 in °C, raw 0 = not reported. */
#define TEMP16(nm, off, pv, ...)                                                                   \
	ROW(nm, off, BLT_T_U16, pv, __VA_ARGS__, .add = -40, .flags = BLT_F_ZERO_NA, .unit = "°C")
/* A register of bit flags named by b. */
#define BITS16(nm, off, pv, b, ...)                                                                \
	ROW(nm, off, BLT_T_U16, pv, __VA_ARGS__, .flags = BLT_F_BITMAP, .bits = b)
/* A 2-bit field at bits sh..sh+1 of a register (the firmware's switches: 1 on/enable,
 * 2 off/disable, 0 unset / leave unchanged on write). */
#define FIELD2(nm, off, sh, pv, ...)                                                               \
	ROW(nm, off, BLT_T_U16, pv, __VA_ARGS__, .mask = 0x3u << (sh), .shift = sh)

/* The software list of 1100 and 6100 (firmware map): a count in the low byte at count_off,
 * then records of {u16 MCU type, u32 version word-swapped} repeated by rep. */
#define BLT_SOFTWARE_LIST(count_off, rep)                                                          \
	U8("software_count", (count_off), BLT_PROV_LIVE, "number of software entries",             \
	   .flags = BLT_F_COUNT),                                                                  \
	    U16("software_%u_type", (count_off) + 1, BLT_PROV_LIVE,                                \
	        "MCU type of a software entry", .enums = blt_enum_mcu_type, .repeat = (rep)),      \
	    U32("software_%u_version", (count_off) + 3, BLT_PROV_LIVE,                             \
	        "software version (word-swapped u32)", .repeat = (rep))

#endif
