/* device.h - the state of one power station, built from decoded blocks (no I/O, no bytes).
 *
 * A blt_device_t keeps, per block, the values of the last successful decode (compactly:
 * field, index, status, number; about 24 bytes a value) and the time it was updated, plus
 * a summary with the quantities users want by name and the derived ones (battery power
 * = V x I, net grid power, on-battery and grid-outage flags).
 *
 * Ownership: blt_device_new allocates, blt_device_free frees. Updates copy what they
 * need from the blt_decoded_t; nothing keeps a pointer into it. Field pointers refer to
 * the static catalog tables.
 */
#ifndef BLUETTI_DEVICE_H
#define BLUETTI_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <bluetti/bluetti.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct blt_device blt_device_t;

/* Energy counters the library integrates from power for a profile without the counter row
 * (blt_derived_t.counter names the row's quantity). */
typedef enum blt_energy {
	BLT_EN_PV = 0,
	BLT_EN_GRID_IMPORT,
	BLT_EN_GRID_EXPORT,
	BLT_EN_BATTERY_CHARGE,
	BLT_EN_BATTERY_DISCHARGE,
	BLT_EN_AC_LOAD,
	BLT_EN_DC_LOAD,
	BLT_EN__COUNT
} blt_energy_t;

/* Samples further apart than this (a device offline, a block not read) are not
 * integrated: the power in between is unknown. */
#define BLT_ENERGY_GAP_MS (5u * 60u * 1000u)

/* Quantities by name. NAN = not known yet (block not read, field missing or n/a). */
typedef struct blt_device_summary {
	/* grid (block 1300) */
	double grid_frequency; /* Hz; a 0 read while a phase voltage is present is unknown
	                          (the last plausible frequency), not "no grid" */
	double grid_voltage;   /* V, phase 0 */
	double grid_current;   /* A, phase 0, signed as on the wire */
	double grid_power;     /* W, total, as on the wire (sign: blt_profile_grid_import_sign) */
	double grid_import_energy; /* kWh */
	double grid_export_energy; /* kWh */
	/* battery (blocks 100 / 6000) */
	double soc;                      /* % */
	double soh;                      /* % */
	double pack_voltage;             /* V */
	double pack_current;             /* A */
	double battery_power;            /* W, derived: pack_voltage x pack_current */
	double pack_temp_avg;            /* °C */
	double time_to_full;             /* min; NAN for the 99.9 h "n/a" cap (5994) */
	double time_to_empty;            /* min; NAN for the 99.9 h "n/a" cap */
	double battery_charge_energy;    /* block 6000 raw counter */
	double battery_discharge_energy; /* block 6000 raw counter */
	/* power flows (block 100) */
	double ac_load_power, dc_load_power, pv_power, inverter_power; /* W */
	double net_grid_power; /* W, derived: > 0 import from the grid, < 0 export; follows the
	                          profile's grid sign; 1300 phase sum when 1301 reads 0 */
	/* cells (block 6300) */
	unsigned cell_count;
	double cell_voltage[32];               /* V */
	double cell_min, cell_max, cell_delta; /* V, derived */
	unsigned temp_count;
	double temp[8]; /* °C, NAN when not fitted */
	/* identity */
	char model[24];
	char serial[24];
	uint16_t protocol_version; /* from the profile or block 1; 0 unknown */
	/* derived flags (valid when the grid and core blocks have been read) */
	bool have_grid, have_core;
	bool grid_present; /* grid frequency and voltage plausible */
	bool on_battery;   /* discharging the battery while the grid is absent */
	bool grid_outage;  /* the grid was present before and is gone now */
	/* alarms / faults: names of the bits set in the alarm and fault bitmaps */
	unsigned nalarms;
	const char *alarms[32];
	/* computed energy counters (kWh): bit e of energy_computed is set when the profile has
	 * no counter row for blt_energy_t e, and energy[e] is then the trapezoid integral of
	 * the power over the read times (gaps > BLT_ENERGY_GAP_MS not integrated) plus the
	 * seed (blt_device_energy_seed); NAN before the first sample or seed. Never decreases. */
	uint16_t energy_computed;
	double energy[BLT_EN__COUNT];
} blt_device_summary_t;

/* A stored value: the row it came from, its repetition index and number. Strings are
 * kept only for identity fields (see summary); enum names come from field->enums. */
typedef struct blt_device_value {
	const blt_field_t *field;
	uint16_t block;
	uint8_t index;
	uint8_t status; /* blt_vstatus_t */
	double num;
} blt_device_value_t;

BLT_API blt_err_t blt_device_new(const blt_profile_t *profile, const char *model, const char *sn,
                                 blt_device_t **out, blt_detail_t *d);
BLT_API void blt_device_free(blt_device_t *dev);

/* Replace the stored values of r->block with r's and recompute the summary. A block that
 * decoded with BLT_E_MISSING may still be applied: missing values are stored as such. */
BLT_API blt_err_t blt_device_update(blt_device_t *dev, const blt_decoded_t *r, uint64_t now_ms,
                                    blt_detail_t *d);

BLT_API const blt_device_summary_t *blt_device_summary(const blt_device_t *dev);

/* Seed the computed energy counter of derived key (e.g. "pv_energy_computed") with the
 * value a previous run published, so the counter continues from it and never goes back
 * across restarts: the counter becomes max(seed, earlier seeds) + what was integrated
 * since blt_device_new. BLT_E_NOT_FOUND if key is not a computed counter of this device's
 * profile (the profile has the real counter), BLT_E_RANGE if kwh is negative or not
 * finite. */
BLT_API blt_err_t blt_device_energy_seed(blt_device_t *dev, const char *key, double kwh,
                                         blt_detail_t *d);
BLT_API const blt_profile_t *blt_device_profile(const blt_device_t *dev);
/* Decode options for this device (profile's, with the protocol version from block 1 when
 * the profile does not fix one). */
BLT_API void blt_device_decode_opts(const blt_device_t *dev, blt_decode_opts_t *out);

/* Time (blt_now_ms clock of the caller) of the last update of block id; 0 = never. */
BLT_API uint64_t blt_device_block_time(const blt_device_t *dev, uint16_t block);

/* All stored values, in block then row order. */
BLT_API size_t blt_device_value_count(const blt_device_t *dev);
BLT_API const blt_device_value_t *blt_device_value_at(const blt_device_t *dev, size_t i);
/* Expand the name of a stored value ("phase_0_voltage") into buf. */
BLT_API int blt_device_value_name(const blt_device_value_t *v, char *buf, size_t cap);
/* Look up by block and expanded name; NULL if absent. */
BLT_API const blt_device_value_t *blt_device_find(const blt_device_t *dev, uint16_t block,
                                                  const char *name);

/* --- derived quantities ---------------------------------------------------------------------
 * One table of the quantities computed from the summary (battery power, net grid power, grid
 * outage, ...): key, name, unit and classes for every program that shows them (bluetti-bridge,
 * docs), and the getter. */
typedef enum blt_derived_kind {
	BLT_DK_NUMBER = 0, /* num */
	BLT_DK_FLAG = 1,   /* on */
	BLT_DK_TEXT = 2,   /* text */
} blt_derived_kind_t;

typedef struct blt_derived_value {
	bool known; /* false: not known yet (blocks not read, a source missing) */
	bool on;
	double num;
	char text[256];
} blt_derived_value_t;

typedef struct blt_derived {
	const char *key;  /* "battery_power" (unique among derived keys and catalog rows) */
	const char *name; /* "Battery power" */
	const char *unit; /* NULL: none */
	const char *device_class, *state_class, *icon; /* Home Assistant; NULL: none */
	uint8_t kind;                                  /* blt_derived_kind_t */
	int8_t decimals;                               /* display precision of numbers; -1 none */
	bool diagnostic;
	uint8_t sub;        /* 1 = battery-pack sub-device */
	const char *source; /* what it is computed from (docs) */
	/* A computed energy counter (kWh, total_increasing): counter is the quantity of the
	 * counter row it stands in for (blt_quantity_t; 0 = not an energy counter), offered
	 * only on profiles without that row (blt_profile_has_quantity); energy its index in
	 * the summary (blt_energy_t), power the W it integrates (NAN unknown, >= 0) and
	 * power_time the quantities whose block's read time stamps a sample (the first
	 * known). */
	uint8_t counter;
	uint8_t energy;
	double (*power)(const blt_device_summary_t *s);
	uint8_t power_time[2];
	/* True if the quantity applies to a device in state s (the blocks it needs were read). */
	bool (*applies)(const blt_device_summary_t *s);
	void (*get)(const blt_device_summary_t *s, blt_derived_value_t *out);
} blt_derived_t;

BLT_API size_t blt_derived_count(void);
BLT_API const blt_derived_t *blt_derived_at(size_t i);
BLT_API const blt_derived_t *blt_derived_find(const char *key); /* NULL if unknown */
/* True if q can apply to a device of profile p (false for a computed energy counter of a
 * profile that has the real counter). */
BLT_API bool blt_derived_offered(const blt_profile_t *p, const blt_derived_t *q);
/* Value of derived quantity q for dev. */
BLT_API void blt_derived_get(const blt_device_t *dev, const blt_derived_t *q,
                             blt_derived_value_t *out);

/* The Home Assistant entities of every profile as Markdown (docs/ha-entities.md). */
BLT_API blt_err_t blt_ha_write_entities_markdown(FILE *out);

/* --- nodes (block 21000 NODE_INFO) ---------------------------------------------------------
 * A V2 system lists its mesh nodes: the power station itself, hubs and expansion batteries,
 * each answering at its own Modbus slave address. Applying a decoded block 21000 with
 * blt_device_update sets the node list; each node other than a power station keeps its
 * own state (a blt_device_t of the same profile, named after the node's model and serial),
 * fed with the blocks read at its slave through blt_device_update_node. A node that stays
 * in the list (same slave and serial) keeps its state; one that leaves is forgotten. */
typedef struct blt_node {
	uint8_t slave; /* Modbus slave address */
	uint8_t group, slave_group, parent;
	uint16_t model_code; /* 6 AP300, 3007 D1 hub, 4005 B300, ... */
	uint16_t status;     /* bits: 0 online, 1 upgrading, 2 warning, 3 error, 4 DC enabled */
	uint8_t kind;        /* blt_node_kind_t */
	char model[24];      /* catalog name ("B300") or "model <code>" */
	char serial[24];
	blt_device_t *state; /* the node's own state; NULL for a power station (the device) */
} blt_node_t;

BLT_API size_t blt_device_node_count(const blt_device_t *dev);
BLT_API const blt_node_t *blt_device_node_at(const blt_device_t *dev, size_t i);
BLT_API const blt_node_t *blt_device_node_find(const blt_device_t *dev, uint8_t slave);
/* Apply a block decoded from a read at the node's slave. BLT_E_NOT_FOUND if no node has
 * that slave, BLT_E_INVAL if the node has no own state (a power station). */
BLT_API blt_err_t blt_device_update_node(blt_device_t *dev, uint8_t slave, const blt_decoded_t *r,
                                         uint64_t now_ms, blt_detail_t *d);

#ifdef __cplusplus
}
#endif

#endif
