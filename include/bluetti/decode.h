/* decode.h - declarative field tables and the block decoder/encoder (no I/O).
 *
 * A block is a `static const blt_block_t` with rows of blt_field_t (see src/catalog/).
 * One row drives decoding, text/JSON output, docs, Home Assistant discovery and the
 * simulator's encoder.
 *
 * Byte offset o of a field = 2 * (register - block id), +1 for the low byte of a
 * register (PROTOCOL.md §3.1).
 *
 * Ownership: decoding writes into a caller-owned blt_decoded_t. Field tables are static,
 * never change and live forever: the first decode of a block compiles its rows once for
 * the life of the process (one allocation per block, kept; thread-safe), and later decodes
 * find that compiled form by the block's address. Names of repeated rows expanded there
 * live as long; the other values point into the blt_decoded_t (see blt_value_t.name).
 */
#ifndef BLUETTI_DECODE_H
#define BLUETTI_DECODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* BLT_API, blt_err_t, blt_detail_t (without pulling in the other layer headers) */
#ifndef BLUETTI_BLUETTI_H
#define BLT_BASE_ONLY
#include <bluetti/bluetti.h>
#undef BLT_BASE_ONLY
#endif
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum blt_type {
	BLT_T_U8 = 0,
	BLT_T_I8,
	BLT_T_U16, /* big-endian register */
	BLT_T_I16,
	BLT_T_U32, /* two registers, LOW register first (real devices, §3.3) */
	BLT_T_I32,
	BLT_T_U32_BE, /* two registers, high register first (reference tables) */
	BLT_T_I32_BE,
	BLT_T_SN64,     /* u64 serial, low register first, rendered as a decimal string */
	BLT_T_STR_SWAP, /* ASCII, bytes swapped within each register, NUL padded; size bytes */
	BLT_T_STR,      /* plain ASCII, NUL padded; size bytes */
	BLT_T__COUNT
} blt_type_t;

/* Size in bytes of a fixed-size type (strings: 0, the row's size applies). */
BLT_API unsigned blt_type_size(blt_type_t t);
BLT_API const char *blt_type_name(blt_type_t t); /* "u16", "str_swap", ... */

typedef enum blt_prov {
	BLT_PROV_LIVE = 0, /* verified against captures of real devices */
	BLT_PROV_FW = 1,   /* from the firmware register map */
	BLT_PROV_APP = 2,  /* only in app-derived / reference tables */
} blt_prov_t;

BLT_API const char *blt_prov_name(blt_prov_t p); /* "live", "firmware", "app" */

/* Row flags. */
#define BLT_F_REQUIRED    0x0001u /* missing from the payload -> BLT_E_MISSING */
#define BLT_F_ABS         0x0002u /* abs() after sign extension */
#define BLT_F_CLAMP       0x0004u /* clamp to [clamp_lo, clamp_hi] last */
#define BLT_F_ZERO_NA     0x0008u /* raw 0 means "not reported" (e.g. temperatures) */
#define BLT_F_SECRET      0x0010u /* credential: never printed/logged unless asked */
#define BLT_F_PACK_VSCALE 0x0020u /* scale comes from the profile's pack voltage scale */
#define BLT_F_BITMAP      0x0040u /* value is a bit field; names in bits */
#define BLT_F_COUNT       0x0080u /* value is a repetition count used by other rows */
#define BLT_F_SWAP_INDEX                                                                           \
	0x0100u             /* repeated bytes stored low byte first: item i at                     \
	                       base + stride*(i^1) */
#define BLT_F_RANGE 0x0200u /* [valid_lo, valid_hi] is the row's plausible range */
#define BLT_F_NA_RAW                                                                               \
	0x0400u                /* raw value na_raw means "not available" (a cap, e.g.              \
	                          time to full 5994 min = the 99.9 h "n/a" display) */
#define BLT_F_NO_RANGE 0x0800u /* no plausible-range check (not even by unit) */
#define BLT_F_DETAIL                                                                               \
	0x1000u /* one of many per-element values (a cell, a sensor):                              \
	           published, but off by default in Home Assistant */

typedef struct blt_enum_entry {
	int32_t value;
	const char *name;
} blt_enum_entry_t; /* arrays end with {0, NULL} */

/* Name of value in the value-name table e (NULL-safe), or NULL if it has none. */
BLT_API const char *blt_enum_name(const blt_enum_entry_t *e, int32_t value);

typedef struct blt_bit_name {
	uint8_t bit;
	const char *name;
} blt_bit_name_t; /* arrays end with {0, NULL} */

/* Repetition of one or more consecutive rows (phases, cells, software lists).
 * Record i of a row lies at  base + i*stride + row.offset, where
 * base = (base_field ? value(base_field) * base_mul : 0) + base_add.
 * The number of records is value(count_field), capped at max.
 * Field names are templates with one %u: "phase_%u_power". */
typedef struct blt_repeat {
	const char *count_field; /* name of a BLT_F_COUNT row of the same block */
	uint8_t max;
	uint16_t stride;
	const char *base_field; /* optional: dynamic base (6300 temps after the cells) */
	uint16_t base_mul;
	uint16_t base_add;
} blt_repeat_t;

/* Presentation of a row: how a value is shown (Home Assistant entity, docs). All members
 * optional; the defaults come from the unit (blt_ha_field_info in catalog.h). */
#define BLT_P_COUNTER 0x01u /* an ever-growing count: state_class total_increasing */
/* BLT_P_ALARM: a bitmap of alarms/faults/protections; its set bits are the device's alarm
 * list (blt_device_summary_t.alarms) */
#define BLT_P_ALARM   0x02u
#define BLT_P_DIAG    0x04u /* a diagnostic value (entity_category diagnostic) */
#define BLT_P_PRIMARY 0x08u /* a primary value even in a diagnostic block */
#define BLT_P_HIDE    0x10u /* never an entity (identity, raw values few people read) */

/* What the device model knows a row as (blt_device_summary_t); 0 = nothing. Where several
 * rows of a device carry the same quantity, the one of the lowest block id wins. */
typedef enum blt_quantity {
	BLT_Q_NONE = 0,
	BLT_Q_GRID_FREQUENCY,
	BLT_Q_GRID_PHASE_VOLTAGE, /* repeated: phase i */
	BLT_Q_GRID_PHASE_CURRENT,
	BLT_Q_GRID_PHASE_POWER,
	BLT_Q_GRID_PHASE_COUNT,
	BLT_Q_GRID_POWER,        /* block 1300 total, sign as on the wire */
	BLT_Q_GRID_POWER_IMPORT, /* block 100 total, import positive (fallback) */
	BLT_Q_GRID_IMPORT_ENERGY,
	BLT_Q_GRID_EXPORT_ENERGY,
	BLT_Q_SOC,
	BLT_Q_SOH,
	BLT_Q_PACK_VOLTAGE,
	BLT_Q_PACK_CURRENT,
	BLT_Q_PACK_TEMP_AVG,
	BLT_Q_TIME_TO_FULL,
	BLT_Q_TIME_TO_EMPTY,
	BLT_Q_BATTERY_CHARGE_ENERGY,
	BLT_Q_BATTERY_DISCHARGE_ENERGY,
	BLT_Q_AC_LOAD_POWER,
	BLT_Q_DC_LOAD_POWER,
	BLT_Q_PV_POWER,
	BLT_Q_INVERTER_POWER,
	BLT_Q_CELL_COUNT,
	BLT_Q_CELL_VOLTAGE, /* repeated: cell i */
	BLT_Q_TEMP_COUNT,
	BLT_Q_TEMP, /* repeated: sensor i */
	BLT_Q_PROTOCOL_VERSION,
	BLT_Q_MODEL,  /* string */
	BLT_Q_SERIAL, /* string */
	/* energy counters beside the grid and battery ones (a profile without a row for one
	 * gets an integral of the power: blt_derived_t.counter) */
	BLT_Q_PV_ENERGY,
	BLT_Q_AC_LOAD_ENERGY,
	BLT_Q_DC_LOAD_ENERGY,
	BLT_Q__COUNT
} blt_quantity_t;

typedef struct blt_present {
	const char *label;        /* entity name without the block's title ("Total power");
	                             NULL = the row name humanized, the block title's words
	                             not repeated */
	const char *device_class; /* Home Assistant device class, overriding the unit's */
	const char *state_class;  /* overriding the unit's */
	const char *icon;         /* "mdi:battery-sync" */
	const char *same_as;      /* "<block>:<row>": the same quantity is published from that
	                             row; this one is not an entity where the device's profile
	                             reads that block */
	uint8_t flags;            /* BLT_P_* */
	uint8_t quantity;         /* blt_quantity_t */
} blt_present_t;

/* Presentation of a block. */
typedef struct blt_block_present {
	const char *prefix; /* entity key prefix, part of the unique_id ("grid"; "" = none);
	                       NULL = "b<id>" */
	const char *title;  /* entity name prefix ("Grid"; "" = none); NULL = the prefix */
	uint8_t sub;        /* 1 = the battery-pack sub-device */
	bool diag;          /* its values are diagnostics (except BLT_P_PRIMARY rows) */
} blt_block_present_t;

typedef struct blt_field {
	const char *name; /* snake_case; template with %u for repeated rows */
	uint16_t offset;  /* byte offset in the block payload (relative for repeated) */
	uint8_t type;     /* blt_type_t */
	uint8_t size;     /* bytes, for strings; 0 = type size */
	uint16_t flags;   /* BLT_F_* */
	uint8_t prov;     /* blt_prov_t */
	uint8_t shift;    /* right shift of the raw value (after mask) */
	uint32_t mask;    /* 0 = none; applied to the raw value before shift */
	double scale;     /* 0 = 1 (none) */
	double add;       /* added after scaling (temperature: -40) */
	double clamp_lo, clamp_hi;
	uint16_t min_pv;  /* minimum protocol version, 0 = any */
	const char *unit; /* "V", "A", "W", "kWh", "Hz", "%", "°C", "min", ... or NULL */
	const blt_enum_entry_t *enums; /* value names, or NULL */
	const blt_bit_name_t *bits;    /* bit names for BLT_F_BITMAP, or NULL */
	const blt_repeat_t *repeat;    /* NULL for a plain row */
	const char *desc;              /* short human description */
	/* Plausibility (issue: implausible values are not facts). With BLT_F_RANGE the value
	 * after transforms must lie in [valid_lo, valid_hi]; without it a default applies by
	 * unit (blt_unit_range). A value outside is reported as BLT_VS_UNAVAILABLE. */
	float valid_lo, valid_hi;
	int32_t na_raw;   /* with BLT_F_NA_RAW: integer value (after mask/shift) = n/a */
	blt_present_t ha; /* presentation (optional) */
} blt_field_t;

typedef struct blt_block {
	uint16_t id;        /* start register */
	const char *name;   /* firmware-style name, "INV_GRID_INFO" */
	const char *title;  /* short human title, "grid" */
	uint16_t regs;      /* registers to request by default (<= 125) */
	uint16_t min_bytes; /* payload shorter than this is reported as short (0 = none) */
	const blt_field_t *fields;
	size_t nfields;
	const char *source;     /* one-line provenance note */
	blt_block_present_t ha; /* presentation (optional: unknown blocks are diagnostics) */
	/* Registers the firmware implements from the block start (PROTOCOL.md §1.8, §4.8): a
	 * read running past them is answered short. 0 = not known (regs). */
	uint16_t extent;
} blt_block_t;

/* A per-model "not supported" filler: registers first..last of a block that read `raw`
 * on this model because the model lacks the feature (Elite 200 V2: 0x0194 = 404). A row
 * located there whose register holds the filler (32-bit rows: low word = filler, high
 * word 0) is reported as BLT_VS_UNAVAILABLE / BLT_VR_UNSUPPORTED instead of a number. */
typedef struct blt_reg_filler {
	uint16_t first, last; /* register numbers, inclusive */
	uint16_t raw;         /* the filler word */
} blt_reg_filler_t;

/* A per-model override of one row: unit (apparent power "VA" where the firmware says W)
 * and/or plausible range. field = the row's name (template for repeated rows). */
typedef struct blt_field_quirk {
	uint16_t block;
	const char *field;
	const char *unit; /* NULL = the row's unit */
	float lo, hi;     /* plausible range when lo < hi, else the row's */
} blt_field_quirk_t;

/* Decoding options, normally filled from a device profile. */
typedef struct blt_decode_opts {
	uint16_t protocol_version;       /* 0 = unknown: do not gate on min_pv */
	double pack_voltage_scale;       /* for BLT_F_PACK_VSCALE rows; 0 = 0.01 */
	bool show_secrets;               /* otherwise secret values are decoded as "***" */
	const blt_reg_filler_t *fillers; /* per-model "not supported" fillers, or NULL */
	size_t nfillers;
	const blt_field_quirk_t *quirks; /* per-model row overrides, or NULL */
	size_t nquirks;
	/* Registers the transport delivered, a bitmap (bit i = register block id + i), or NULL
	 * (all of the payload). Over Modbus TCP only the open map's registers arrive
	 * (blt_client_read_mapped); a row touching any other register is reported as
	 * BLT_VS_UNAVAILABLE / BLT_VR_NOT_DELIVERED instead of decoding the zeros there. */
	const uint8_t *present;
} blt_decode_opts_t;

/* Default plausible range of a physical unit ("%": 0..100, "Hz": 0..100, "°C": -40..150);
 * false if the unit has none. */
BLT_API bool blt_unit_range(const char *unit, double *lo, double *hi);
/* Digits after the point of row f's values as the decoder gives them (blt_value_t.decimals):
 * implied by the scale in effect (opts: the pack voltage scale) and the offset. */
BLT_API unsigned blt_field_decimals(const blt_field_t *f, const blt_decode_opts_t *opts);
/* The quirk of opts for row f of block b, or NULL. */
BLT_API const blt_field_quirk_t *blt_decode_quirk(const blt_decode_opts_t *opts, uint16_t block,
                                                  const blt_field_t *f);

typedef enum blt_vstatus {
	BLT_VS_OK = 0,
	BLT_VS_MISSING = 1,      /* field lies (partly) beyond the payload */
	BLT_VS_GATED = 2,        /* protocol version below the row's min_pv */
	BLT_VS_NOT_REPORTED = 3, /* BLT_F_ZERO_NA and raw 0 */
	BLT_VS_HIDDEN = 4,       /* secret, not shown */
	BLT_VS_UNAVAILABLE = 5,  /* on the wire but not a fact: see blt_vreason_t; raw kept */
} blt_vstatus_t;

/* Why a value is BLT_VS_UNAVAILABLE. */
typedef enum blt_vreason {
	BLT_VR_NONE = 0,
	BLT_VR_UNSUPPORTED = 1,   /* the model's "not supported" filler (0x0194 on Elite 200 V2) */
	BLT_VR_NOT_AVAILABLE = 2, /* the row's n/a code (99.9 h cap) or all-ones (0xFFFF) */
	BLT_VR_IMPLAUSIBLE = 3,   /* outside the row's plausible range */
	BLT_VR_NOT_DELIVERED = 4, /* the transport does not carry the register (Modbus TCP
	                             open map) */
} blt_vreason_t;

BLT_API const char *blt_vreason_name(blt_vreason_t r); /* "unsupported", ... */

typedef enum blt_vkind {
	BLT_VK_INT = 0,  /* integer: raw value after mask/shift/sign, no scaling */
	BLT_VK_REAL = 1, /* number with scaling/offset */
	BLT_VK_STR = 2,  /* string (ASCII, serial) */
} blt_vkind_t;

#define BLT_NAME_MAX 48
#define BLT_STR_MAX  72

typedef struct blt_value {
	const blt_field_t *field;
	/* Expanded name: "phase_0_voltage", at most BLT_NAME_MAX - 1 characters for repeated
	 * rows. Plain rows: the row's own name (static). Repeated rows: the template expanded
	 * with the index, either in the block's compiled form (static) or in the names pool
	 * of the blt_decoded_t this value belongs to, valid until that blt_decoded_t is
	 * decoded into again. Never NULL. */
	const char *name;
	uint8_t index;         /* repetition index (0 for plain rows) */
	uint8_t kind;          /* blt_vkind_t */
	uint8_t status;        /* blt_vstatus_t */
	uint8_t decimals;      /* digits after the point implied by the scale (output) */
	uint8_t reason;        /* blt_vreason_t when status is BLT_VS_UNAVAILABLE */
	const char *unit;      /* unit in effect (the row's, or the model's override) */
	int64_t raw;           /* integer value before scaling */
	double num;            /* numeric value after transforms (also set for INT) */
	char str[BLT_STR_MAX]; /* strings; also the enum name if the row has enums */
} blt_value_t;

#define BLT_MAX_VALUES 256

/* The result of a decode. values[i].name of a repeated row points into names[] of the
 * same object: copy a blt_decoded_t with blt_decoded_copy, not by assignment or memcpy. */
typedef struct blt_decoded {
	const blt_block_t *block;
	size_t nbytes; /* payload length that was decoded */
	uint16_t protocol_version;
	size_t count;       /* values[0..count) */
	size_t missing;     /* how many values have status MISSING */
	size_t unavailable; /* how many values have status UNAVAILABLE */
	blt_value_t values[BLT_MAX_VALUES];
	char names[BLT_MAX_VALUES][BLT_NAME_MAX]; /* expanded names of repeated rows (slot i
	                                             belongs to values[i]) */
} blt_decoded_t;

/* Decode payload (the FC03 register data, §3.1) of block b into out. Rows beyond the
 * payload are reported with status MISSING; if any of them is BLT_F_REQUIRED the call
 * still fills out and returns BLT_E_MISSING. opts may be NULL (defaults). */
BLT_API blt_err_t blt_decode(const blt_block_t *b, const uint8_t *payload, size_t n,
                             const blt_decode_opts_t *opts, blt_decoded_t *out, blt_detail_t *d);

/* Copy src into dst, names included (dst's values point into dst's own names pool). */
BLT_API void blt_decoded_copy(blt_decoded_t *dst, const blt_decoded_t *src);

/* Look a value up by expanded name; NULL if absent. */
BLT_API const blt_value_t *blt_decoded_get(const blt_decoded_t *r, const char *name);
/* Numeric value by name if present with status OK, else returns false. */
BLT_API bool blt_decoded_num(const blt_decoded_t *r, const char *name, double *out);

/* Encoding (the inverse of decode), used by the simulator and round-trip tests.
 * Writes the row's bytes for a numeric value (after inverse transforms, rounded) or a
 * string into buf (payload of the whole block, size cap). idx = repetition index;
 * the base of dynamic repeats is computed from buf as it is. BLT_E_RANGE if the value
 * does not fit the type. */
BLT_API int blt_encode_num(const blt_block_t *b, const blt_field_t *f, unsigned idx, double value,
                           const blt_decode_opts_t *opts, uint8_t *buf, size_t cap);
BLT_API int blt_encode_str(const blt_block_t *b, const blt_field_t *f, unsigned idx, const char *s,
                           uint8_t *buf, size_t cap);

/* Overwrite with 0xff the bytes of every secret row (BLT_F_SECRET: the 2200 password, the
 * 12002 Wi-Fi credentials, ...) of block b in data, the FC03 register data of a read from
 * b's first register (n bytes), so a frame can be shown or shared safely. Returns how many
 * bytes were masked. */
BLT_API size_t blt_mask_secrets(const blt_block_t *b, uint8_t *data, size_t n);

/* Output. Text: one "name: value unit" line per value like the seed CLI
 * ("frequency: 50.0 Hz"); JSON: {"block":N,"name":"...","values":{...},"units":{...},
 * "missing":[...]}. Secret values print as "***" unless opts->show_secrets. */
#define BLT_FMT_ALL                                                                                \
	0x1u /* also list values not shown (missing, gated) with the reason:                       \
	        text "name: (reason)", JSON "unavailable":{name:reason} */
BLT_API int blt_format_text(const blt_decoded_t *r, unsigned flags, FILE *out);
BLT_API int blt_format_json(const blt_decoded_t *r, unsigned flags, FILE *out);

#ifdef __cplusplus
}
#endif

#endif
