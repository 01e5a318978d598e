/* catalog.h - the register catalog (blocks), wire presets and device profiles: pure data.
 *
 * Adding a block: one file src/catalog/block_<id>.c defining
 *   const blt_block_t blt_block_<id>;
 * plus one line X(<id>) in src/catalog/blocks.def. Adding a profile: one entry in
 * src/catalog/profiles.c. Nothing here allocates; everything returned is static.
 */
#ifndef BLUETTI_CATALOG_H
#define BLUETTI_CATALOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* BLT_API, blt_err_t, blt_detail_t (without pulling in the other layer headers) */
#ifndef BLUETTI_BLUETTI_H
#define BLT_BASE_ONLY
#include <bluetti/bluetti.h>
#undef BLT_BASE_ONLY
#endif
#include <bluetti/decode.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Blocks, sorted by id. */
BLT_API size_t blt_catalog_count(void);
BLT_API const blt_block_t *blt_catalog_at(size_t i);
BLT_API const blt_block_t *blt_catalog_find(uint16_t id); /* NULL if unknown */
/* The current name of a row or setting renamed per EVIDENCE.md §4 (meter_enable ->
 * charge_from_grid, remote_off_enable -> remote_startup_enable), or NULL. */
BLT_API const char *blt_catalog_field_alias(const char *name);

/* Wire presets (§1.9, §1.10). Topic templates use {model} and {sn}. */
typedef struct blt_wire_preset {
	const char *name; /* "v2", "seed" */
	uint8_t envelope; /* blt_envelope_t used for requests */
	uint8_t slave;    /* Modbus slave address */
	const char
	    *sub_topic; /* the client subscribes here (device publishes): "PUB/{model}/{sn}" */
	const char *pub_topic; /* the client publishes here (device listens): "SUB/{model}/{sn}" */
	const char *desc;
	bool qos0; /* requests at QoS 0 (the device subscribes at QoS 0: Open MQTT); else 1 */
	/* The device is reached through the Modbus TCP open map (LOCAL.md §1.4): reads are
	 * planned over public addresses, writes go to a setting's public alias and the echo
	 * names the internal register, exceptions 05/06 mean busy (wait 1 s, retry once). */
	bool open_map;
} blt_wire_preset_t;

BLT_API size_t blt_wire_preset_count(void);
BLT_API const blt_wire_preset_t *blt_wire_preset_at(size_t i);
BLT_API const blt_wire_preset_t *blt_wire_preset_find(const char *name);

/* Expand a topic template. sn and model must be valid topic segments (see
 * blt_topic_segment_ok), else BLT_E_SERIAL. */
BLT_API blt_err_t blt_topic_expand(const char *tmpl, const char *model, const char *sn, char *out,
                                   size_t cap, blt_detail_t *d);
/* True if s is a non-empty, <= 64 character segment of [A-Za-z0-9._-] only (no '/', '+',
 * '#', spaces or control characters, so it cannot inject topic levels or wildcards). */
BLT_API int blt_topic_segment_ok(const char *s);

/* True if s can be the {model} segment of a topic: 1..64 printable ASCII characters,
 * spaces inside allowed (the Elite 200 V2's code is "Elite 200 V2"), but no '/', '+', '#',
 * control characters or leading/trailing space (no topic levels or wildcards). */
BLT_API int blt_topic_model_ok(const char *s);

/* Block groups of a profile, each polled at its own interval. */
typedef struct blt_group {
	const char *name; /* "core", "grid", "battery", "cells", "inverter", ... */
	const uint16_t *blocks;
	uint8_t nblocks;
	uint16_t interval_s;
} blt_group_t;

/* A per-model read length for one block (e.g. the Elite 200 V2 answers exactly 20
 * registers of 6300 and an exception for a longer read, PROTOCOL.md §4.9), and/or the
 * number of registers the model is known to answer to that read when it answers fewer
 * than asked (the AP300 answers 90 of the 104 registers of 6100, §1.3): the client then
 * takes that reply at once instead of holding it to the deadline. */
typedef struct blt_block_regs {
	uint16_t block;
	uint16_t regs;  /* registers to request; 0 = the block's default */
	uint16_t reply; /* registers the model answers to that read; 0 = as many as asked */
} blt_block_regs_t;

typedef struct blt_profile {
	const char *id;      /* "EL100V2" (what users type; matched case-insensitively) */
	const char *name;    /* "Elite 100 V2" (also accepted by blt_profile_find) */
	const char *model;   /* model code used in topics: "EL100V2" */
	const char *type_id; /* cloud type id, "31" (unverified) */
	const char *description;
	uint16_t protocol_version; /* 0 = unknown (generic profile) */
	double pack_voltage_scale; /* V per LSB of the pack-total voltage (§0.1 item 5) */
	const char *preset;        /* default wire preset name */
	const blt_group_t *groups;
	size_t ngroups;
	const blt_block_regs_t *read_regs; /* per-model read lengths overriding the block's */
	size_t nread_regs;
	/* Sign of the block-1300 grid powers (1301-1302, 1313 + 6i) while energy flows from
	 * the grid into the device: -1 the firmware's convention (negative = import), +1 the
	 * opposite. 0 = -1. grid_sign_evidence says who saw it on a real unit; NULL = not
	 * verified on this model (the firmware convention is assumed). */
	int8_t grid_import_sign;
	const char *grid_sign_evidence;
	/* Registers that read a "not supported" filler on this model, and per-row unit and
	 * plausible-range overrides (data, no code: blt_decode_opts_t). */
	const blt_reg_filler_t *fillers;
	size_t nfillers;
	const blt_field_quirk_t *quirks;
	size_t nquirks;
	const char *const *aliases; /* other model codes served by this profile, NULL-ended */
	/* The unit's own battery, where known (the simulator models it): energy in Wh and
	 * LiFePO4 cells in series. 0 = unknown. */
	double capacity_wh;
	uint8_t cells;
} blt_profile_t;

BLT_API size_t blt_profile_count(void);
BLT_API const blt_profile_t *blt_profile_at(size_t i);
BLT_API const blt_profile_t *blt_profile_find(const char *id_or_name); /* NULL if unknown */
BLT_API const blt_profile_t *blt_profile_generic(void); /* fallback for unknown V2 models */
BLT_API const blt_group_t *blt_profile_group(const blt_profile_t *p, const char *name);
/* Registers to request for block b on this profile (p may be NULL): the profile's
 * override, else the block's default. */
BLT_API uint16_t blt_profile_block_regs(const blt_profile_t *p, const blt_block_t *b);
/* Registers this profile is known to answer to a read of blt_profile_block_regs(p, b)
 * when that is fewer than asked (a profile fact, e.g. AP300 6100: 90); 0 = as asked. */
BLT_API uint16_t blt_profile_block_reply(const blt_profile_t *p, const blt_block_t *b);
/* The block's required core in registers: enough to hold every BLT_F_REQUIRED plain row and
 * min_bytes (at least 1, at most b->regs). A device that refuses a longer read (exception
 * 02) is read with a length between this and b->regs (blt_client_read_block). */
BLT_API uint16_t blt_block_core_regs(const blt_block_t *b);
/* Decode options implied by a profile (protocol version, pack voltage scale, fillers,
 * row quirks). */
BLT_API void blt_profile_decode_opts(const blt_profile_t *p, blt_decode_opts_t *out);
/* Unit in effect for row f of block on this profile (p may be NULL): the model's
 * override ("VA" where the unit reports apparent power) or the row's. */
BLT_API const char *blt_profile_field_unit(const blt_profile_t *p, uint16_t block,
                                           const blt_field_t *f);
/* -1 or +1: see blt_profile_t.grid_import_sign (NULL profile: -1). */
BLT_API int blt_profile_grid_import_sign(const blt_profile_t *p);
/* True if the grid-power sign of this profile was seen on a real unit. */
BLT_API bool blt_profile_grid_sign_verified(const blt_profile_t *p);

/* The Modbus TCP "open" register map (LOCAL.md §1.4, from the firmware's
 * modbus_addr_init()): public addresses 50001-59510 that the device's TCP server
 * translates, register by register, onto the internal registers the cloud and Bluetooth
 * use. Each run maps `count` consecutive public addresses onto consecutive internal ones
 * and starts a firmware table entry (a one-register access must start an entry, §1.8).
 * Sorted by public address. Values keep the internal encoding, so a block read through
 * the map decodes with the block's own rows. */
typedef struct blt_tcp_run {
	uint16_t pub;      /* first public address */
	uint16_t internal; /* first internal register */
	uint16_t count;
	uint8_t writable; /* RW: FC06 forwarded to the internal register (echo names it) */
} blt_tcp_run_t;

BLT_API size_t blt_tcpmap_count(void);
BLT_API const blt_tcp_run_t *blt_tcpmap_at(size_t i);
/* The run holding public address pub, or NULL (unmapped). */
BLT_API const blt_tcp_run_t *blt_tcpmap_find_public(uint16_t pub);
/* The run holding internal register reg, or NULL (not reachable over Modbus TCP). */
BLT_API const blt_tcp_run_t *blt_tcpmap_find_internal(uint16_t reg);
/* Number of mapped public addresses (403 in the firmware table). */
BLT_API size_t blt_tcpmap_registers(void);

/* --- presentation (Home Assistant entities, docs) -----------------------------------------
 * One answer for any row, from the row's unit and its optional hint (blt_present_t): what
 * entity shows the value, or why none does. Used by bluetti-bridge and the docs. */
typedef struct blt_ha_info {
	bool published;           /* an entity shows this row */
	const char *why;          /* when not published: "string", "bitmap", "same as
	                             1400:ac_load_energy", ... (static text or the row's
	                             same_as) */
	const char *unit;         /* in effect on the profile (NULL: none) */
	const char *device_class; /* NULL: none; "enum" for rows with value names */
	const char *state_class;  /* NULL: none */
	const char *icon;         /* NULL: the class's */
	int decimals;             /* suggested display precision (the decoder's); -1 none */
	bool diagnostic;          /* entity_category diagnostic */
	bool enabled;             /* enabled by default (per-element values are not) */
	uint8_t sub;              /* 1 = battery-pack sub-device */
} blt_ha_info_t;

/* Presentation of row f of block b on profile p (p may be NULL). */
BLT_API void blt_ha_field_info(const blt_profile_t *p, const blt_block_t *b, const blt_field_t *f,
                               blt_ha_info_t *out);
/* Entity key of repetition index of row f ("grid_phase_0_voltage"): the block's prefix
 * and the expanded row name, the prefix not doubled ("inverter" + "inverter_max_temp")
 * unless that key is a block-100 row, a setting or reserved (reserved: NULL-ended extra
 * keys the caller publishes itself, may be NULL). BLT_E_BUFSIZE if it does not fit. */
BLT_API blt_err_t blt_ha_field_key(const blt_block_t *b, const blt_field_t *f, unsigned index,
                                   const char *const *reserved, char *key, size_t cap);
/* Entity name of repetition index of row f ("Grid phase 0 voltage"): the block title and
 * the row's label or humanized name, with no word repeated where they meet ("PV" + "PV
 * power" -> "PV power"); a sub-device's rows without the block title. */
BLT_API blt_err_t blt_ha_field_name(const blt_block_t *b, const blt_field_t *f, unsigned index,
                                    char *name, size_t cap);
/* "ac_load_power" -> "AC load power" (known abbreviations in capitals). */
BLT_API void blt_humanize(const char *snake, char *out, size_t cap);
/* Key prefix and title of block b (its presentation, or "b<id>" for an unknown block)
 * into the caller's buffers. */
BLT_API void blt_block_prefix(const blt_block_t *b, char *prefix, size_t pcap, char *title,
                              size_t tcap);
/* Device class and state class of a unit ("W" -> power/measurement, "kWh" ->
 * energy/total_increasing); NULLs for a unit without a class. */
BLT_API void blt_unit_classes(const char *unit, const char **device_class,
                              const char **state_class);
/* True if the profile reads block id in one of its groups. */
BLT_API bool blt_profile_reads_block(const blt_profile_t *p, uint16_t id);
/* True if the profile has a row tagged with quantity q (blt_present_t.quantity) that it can
 * read: in a block of its groups, within its read length for that block, not gated by its
 * protocol version, and whose first register does not read a "not supported" filler on
 * it. Which energy counters a model has (the others are integrated from power:
 * blt_derived_t.counter). */
BLT_API bool blt_profile_has_quantity(const blt_profile_t *p, blt_quantity_t q);

/* --- nodes (block 21000 NODE_INFO, PROTOCOL.md §1.6) -------------------------------------
 * A V2 system lists its mesh nodes (the power station, hubs, expansion batteries) in
 * block 21000; each node answers at its own Modbus slave address. */
#define BLT_NODE_INFO_BLOCK 21000

typedef enum blt_node_kind {
	BLT_NODE_OTHER = 0,
	BLT_NODE_POWER_STATION = 1,
	BLT_NODE_HUB = 2,
	BLT_NODE_BATTERY = 3, /* model codes 4000-4999 */
} blt_node_kind_t;

BLT_API blt_node_kind_t blt_node_kind(uint16_t model_code);
BLT_API const char *blt_node_kind_name(blt_node_kind_t k); /* "battery", "hub", ... */
/* Model name of a node model code ("B300", "D1 hub"); NULL if unknown. */
BLT_API const char *blt_node_model_name(uint16_t model_code);
/* Blocks read at the slave address of a node of kind k (batteries: 6100, 6300); *n = 0 and
 * NULL when nothing is known to answer there. */
BLT_API const uint16_t *blt_node_blocks(blt_node_kind_t k, size_t *n);

/* Cloud model codes (the "model" of the account's device record, also the topics' model
 * segment) and the profile each uses (src/catalog/models.c). */
typedef struct blt_model_alias {
	const char *code;    /* as the cloud spells it: "Elite 200 V2", "PBOX", "EL100V2" */
	const char *profile; /* profile id: "ELITE200V2", or "GENERIC" for no own profile yet */
	const char *product; /* product name when known ("EP760" for PBOX), else NULL */
	const char *source;  /* evidence */
} blt_model_alias_t;

BLT_API size_t blt_model_alias_count(void);
BLT_API const blt_model_alias_t *blt_model_alias_at(size_t i);
/* Exact match first, then case-insensitive; NULL if unknown. */
BLT_API const blt_model_alias_t *blt_model_alias_find(const char *code);
/* The profile for a cloud model code: the table's, else a profile whose id or name
 * matches, else the generic profile (never NULL). */
BLT_API const blt_profile_t *blt_profile_for_model(const char *code);

#ifdef __cplusplus
}
#endif

#endif
