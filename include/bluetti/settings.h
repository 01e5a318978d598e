/* settings.h - the writable settings, the write deny list, and the generated register
 * documentation. Pure data (PROTOCOL.md §4.10, §6); the write path lives in the client
 * layer and consults this table before building any FC06 frame.
 *
 * A setting is a catalog row plus a write policy: it names a row of a catalog block (the
 * row that shows its current value, same name as the setting), and says which values may
 * be written (switch, enum, range), how sure we are that writing works (status, profiles)
 * and what the caller must confirm. Register, byte offset, unit and value names are the
 * row's (filled from the catalog, never repeated). Values are the raw 16-bit register
 * values written with FC 0x06 (on/off flags: 0/1 in the low byte).
 *
 * Ownership: everything returned is static and lives forever; nothing allocates.
 */
#ifndef BLUETTI_SETTINGS_H
#define BLUETTI_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <bluetti/bluetti.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum blt_setting_kind {
	BLT_SK_SWITCH = 0, /* 0 off / 1 on */
	BLT_SK_ENUM = 1,   /* one of enums[] */
	BLT_SK_NUMBER = 2, /* min..max in steps of step, unit */
	/* A 2-bit switch field inside a register of such fields (the firmware's LAN switches
	 * 13742, 13744: each field 1 on, 2 off, 0 = leave unchanged). The value is the whole
	 * register: 1 or 2 at the row's bits, 0 in every other field, so a write changes
	 * this field only. Read back through the row's mask. */
	BLT_SK_SWITCH2 = 3,
} blt_setting_kind_t;

typedef enum blt_setting_status {
	BLT_SS_LIVE = 0,       /* write verified against a real device */
	BLT_SS_CLIENT = 1,     /* written by working third-party clients (allow-listed there) */
	BLT_SS_UNVERIFIED = 2, /* firmware map only: needs an explicit override to write */
} blt_setting_status_t;

typedef struct blt_setting {
	const char *name; /* user-facing name, "ac_output" */
	/* From the catalog row (block + field): */
	uint16_t reg;      /* holding register written with FC 0x06: block + offset / 2 */
	uint16_t block;    /* catalog block that contains reg */
	uint16_t offset;   /* byte offset of the value's row in the block payload */
	const char *field; /* name of that catalog row (== name) */
	/* The write policy: */
	uint8_t kind;                  /* blt_setting_kind_t */
	uint8_t status;                /* blt_setting_status_t */
	int32_t min, max, step;        /* BLT_SK_NUMBER only (switches: 0..1) */
	const char *unit;              /* the row's unit: "W", "h", "%" or NULL */
	const blt_enum_entry_t *enums; /* BLT_SK_ENUM: the row's value names (allowed values),
	                                  {0, NULL} terminated */
	const char *const *profiles;   /* profile ids known to support it, NULL-terminated;
	                                  NULL = every V2 profile */
	const char *desc;
	const char *source; /* evidence, one line */
	bool primary; /* a main switch owners use day to day (AC / DC output): a primary control
	                 (uncategorised in Home Assistant, so voice assistants and area actions
	                 reach it), not a configuration entity */
	/* The write opens an unauthenticated control surface on the LAN (Modbus TCP, Open
	 * MQTT): refused unless the caller passes BLT_WRITE_ALLOW_LAN_EXPOSURE. */
	bool lan_exposure;
	const blt_field_t *row; /* the catalog row (mask and shift of BLT_SK_SWITCH2) */
} blt_setting_t;

BLT_API size_t blt_setting_count(void);
BLT_API const blt_setting_t *blt_setting_at(size_t i);
/* By setting name (case-insensitive); NULL if unknown. */
/* By name; names renamed per EVIDENCE.md §4 (meter_enable -> charge_from_grid, ...) are
 * accepted as aliases, and so are the old working_mode option names in
 * blt_setting_parse_value (advanced, eco, ups_backup, tou). */
BLT_API const blt_setting_t *blt_setting_find(const char *name);

/* The setting that writes register reg; NULL if none. */
BLT_API const blt_setting_t *blt_setting_by_register(uint16_t reg);

BLT_API const char *blt_setting_kind_name(blt_setting_kind_t k);     /* "switch", ... */
BLT_API const char *blt_setting_status_name(blt_setting_status_t s); /* "live", ... */

/* True if the setting is known to work on profile_id (case-insensitive). Settings with
 * profiles == NULL support every profile. */
BLT_API bool blt_setting_supports_profile(const blt_setting_t *s, const char *profile_id);

/* Deny list: registers that are never written, whatever the options (power-off,
 * factory reset, battery aging, one-shot clears, credentials, grid protection ...).
 * Returns true and sets *why (static text) if reg is denied. */
BLT_API bool blt_register_denied(uint16_t reg, const char **why);
/* Deny-list entries, for documentation: inclusive register range and reason. */
BLT_API size_t blt_denied_count(void);
BLT_API bool blt_denied_at(size_t i, uint16_t *first, uint16_t *last, const char **why);

/* Check a raw register value against the setting: BLT_E_DENIED if the register is on the
 * deny list, BLT_E_RANGE (with the allowed values in d) if value is out of range, not a
 * multiple of step, not an enum value or not 0/1 for a switch; BLT_E_INVAL if s is NULL. */
BLT_API blt_err_t blt_setting_check_value(const blt_setting_t *s, int32_t value, blt_detail_t *d);

/* Full gate for a write: deny list, value check, then the verification status (unverified
 * settings need BLT_WRITE_ALLOW_UNVERIFIED), the profile (profile_id NULL = not checked; an
 * unsupported profile needs BLT_WRITE_ALLOW_PROFILE) and, for settings that open a LAN
 * control surface, BLT_WRITE_ALLOW_LAN_EXPOSURE (the user confirmed). Returns BLT_OK,
 * BLT_E_DENIED or BLT_E_RANGE with a one-line reason in d. */
#define BLT_WRITE_ALLOW_UNVERIFIED   0x1u
#define BLT_WRITE_ALLOW_PROFILE      0x2u
#define BLT_WRITE_ALLOW_LAN_EXPOSURE 0x4u
BLT_API blt_err_t blt_setting_check_write(const blt_setting_t *s, const char *profile_id,
                                          int32_t value, unsigned flags, blt_detail_t *d);

/* Name of a raw value of s for people: "on"/"off" (switches; BLT_SK_SWITCH2 also
 * "unset" for 0), the enum name, or NULL (numbers, unknown values, s NULL). */
BLT_API const char *blt_setting_value_name(const blt_setting_t *s, int32_t value);

/* Parse a user value: switches accept on/off/true/false/1/0 (BLT_SK_SWITCH2: the register
 * value with 1 or 2 at the field's bits), enums their names or numbers, numbers a decimal
 * integer. BLT_E_RANGE / BLT_E_INVAL with a detail otherwise
 * (the range is checked too). */
BLT_API blt_err_t blt_setting_parse_value(const blt_setting_t *s, const char *text, int32_t *out,
                                          blt_detail_t *d);

/* Write the register documentation (docs/registers.md) as Markdown: one section per
 * catalog block, one table row per field (offset in bytes and registers, type, unit,
 * transform, writable setting or denied, provenance), then the settings and the deny list.
 * Returns BLT_OK or BLT_E_IO if writing failed. */
BLT_API int blt_catalog_write_markdown(FILE *out);

#ifdef __cplusplus
}
#endif

#endif
