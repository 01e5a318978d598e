/* sim.h - internals of bluetti-sim: simulated V2 devices (register memory built from the
 * catalog with the encoder, a physical model ticked every second, and the Modbus request
 * handler). Nothing here does network I/O; main.c owns the MQTT transport and the faults
 * that act on the wire (drop, corrupt CRC, delay, silence, disconnects).
 *
 * Register memory is a set of non-overlapping regions, one per implemented block, held as
 * the bytes of an FC03 reply (big-endian registers), so a read is a plain copy and the
 * catalog's encoder writes straight into it.
 */
#ifndef BLUETTI_SIM_H
#define BLUETTI_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bluetti/bluetti.h>

#define SIM_MAX_REGIONS 48
#define SIM_MEM_BYTES   8192 /* register bytes of one device, all regions together */
#define SIM_MAX_CELLS   32
#define SIM_MAX_NTC     8
#define SIM_TOPIC_MAX   160
#define SIM_MAX_LENS    16 /* --max-read / --reply-regs entries */
#define SIM_MAX_PACKS   8  /* expansion batteries (--packs) */
#define SIM_MAX_NODES   (SIM_MAX_PACKS + 1)

typedef struct sim_region {
	uint16_t start;           /* first register */
	uint16_t count;           /* registers implemented */
	bool writable;            /* settings: FC06/FC10 allowed */
	const blt_block_t *block; /* catalog descriptor, NULL for raw register arrays */
	uint8_t *bytes;           /* 2 * count bytes inside the device arena */
} sim_region_t;

/* The physical state a device evolves every tick; units as named. */
typedef struct sim_state {
	double t_s;            /* simulated seconds since start */
	double grid_v, grid_f; /* grid voltage / frequency */
	double inv_v, inv_f;   /* inverter output voltage / frequency */
	double demand_w;       /* what the AC load would draw when AC is on */
	double ac_load_w, dc_load_w, grid_in_w, charge_in_w, inverter_w, pack_w;
	double soc;    /* % */
	bool charging; /* grid charging active */
	double temp_c;
	double cell_v[SIM_MAX_CELLS];
	double pack_v, pack_a;
	double own_w, own_a; /* this unit's own pack: its share of pack_w when packs are fitted */
	/* energy counters, Wh, monotonically increasing */
	double e_ac_wh, e_dc_wh, e_pv_wh, e_grid_in_wh, e_feed_wh, e_inv_wh;
	double e_pack_chg_wh, e_pack_dis_wh;
	double cycles;
} sim_state_t;

/* Per-device options (shared by every device of one run). */
typedef struct sim_opts {
	const blt_profile_t *profile;
	const blt_wire_preset_t *preset;
	const char *model;  /* topic {model} and the model string in the blocks */
	int slave;          /* -1 = preset's */
	double speed;       /* time acceleration of SOC and energy counters; 1 = real time */
	bool short_replies; /* answer reads with fewer registers than asked */
	bool refuse_writes; /* writes answer exception 04 */
	bool ignore_writes; /* writes are echoed but not applied */
	uint32_t seed;
	double start_soc; /* initial state of charge, %; 0 = 76 (the §7.2 scenario) */
	/* read-length behaviour of real units (--max-read, --reply-regs, --busy-once) */
	struct sim_block_len {
		uint16_t block, regs;
	} max_read[SIM_MAX_LENS], reply_regs[SIM_MAX_LENS];
	unsigned nmax_read, nreply_regs;
	bool busy_once; /* the first read of each block: exception 06 (busy) */
	/* --local-access: what the firmware says of its LAN paths (blocks 13742, 22005;
	 * LOCAL.md §4.1). SIM_LOCAL_NONE: the registers do not exist (exception 02). */
	enum { SIM_LOCAL_NONE = 0, SIM_LOCAL_OFF, SIM_LOCAL_TCP, SIM_LOCAL_MQTT } local_access;
	unsigned packs; /* expansion batteries (B300) at slaves 51, 52, ... (--packs) */
	bool hub;       /* a D1 hub at slave 11 (--hub) */
	bool iot_info;  /* block 11000 (the IoT module) in memory: --local-mqtt pushes it */
} sim_opts_t;

typedef struct sim_device {
	char sn[24];
	uint64_t sn_num;
	char model[40];
	const blt_profile_t *profile;
	blt_decode_opts_t dopts;
	uint8_t slave;
	uint8_t envelope;                /* blt_envelope_t of replies */
	char req_topic[SIM_TOPIC_MAX];   /* the device listens here (preset pub_topic) */
	char reply_topic[SIM_TOPIC_MAX]; /* the device publishes here (preset sub_topic) */
	sim_region_t regions[SIM_MAX_REGIONS];
	size_t nregions;
	uint8_t arena[SIM_MEM_BYTES];
	size_t arena_used;
	/* battery geometry, from the profile description when it says "NNN Wh, NN.N V" */
	double capacity_wh;
	unsigned ncells, nntc;
	sim_state_t st;
	const sim_opts_t *opts;
	uint32_t rng;
	unsigned push_index; /* alternates unsolicited pushes between blocks */
	uint64_t requests, replies, writes, exceptions, ignored;
	uint64_t answered;                     /* replies decided (sent, queued or corrupted) */
	bool warned;                           /* unknown field names logged once */
	void *user;                            /* the program's context */
	bool busy_done[SIM_MAX_REGIONS];       /* --busy-once: region answered busy already */
	bool busy_write_done[SIM_MAX_REGIONS]; /* --modbus-tcp --busy-once: the same for writes */
	/* NODE_INFO (block 21000, --packs / --hub): nodes at their own slave addresses, each a
	 * device with its own register memory (packs: 6100 and 6300; the hub: none). */
	struct sim_device *nodes[SIM_MAX_NODES];
	size_t nnodes;
	uint16_t node_model; /* NODE_INFO model code (6 AP300; the power station: profile type) */
	uint8_t node_group;
} sim_device_t;

/* Build a device: regions for every block of the profile's groups, settings blocks
 * 2000/2200 (raw arrays with the §4.10 defaults), block 1 if the catalog has it, then the
 * §7.2 scenario state encoded into the blocks. sn must be decimal digits. */
int sim_device_init(sim_device_t *dev, const sim_opts_t *o, uint64_t sn, blt_detail_t *d);

/* Advance the physical model by dt_s wall seconds (scaled by opts->speed for SOC and
 * energy) and re-encode every telemetry block. */
void sim_device_tick(sim_device_t *dev, double dt_s);

/* Lay out regions for the given block ids (deduplicated, sorted, clamped so they do not
 * overlap; extents from the firmware map, §1.8). Used by sim_device_init. */
int sim_regions_build(sim_device_t *dev, const uint16_t *ids, size_t nids, blt_detail_t *d);

/* Register access (tests and the physical model). */
sim_region_t *sim_find_region(sim_device_t *dev, uint16_t reg);
int sim_reg_get(const sim_device_t *dev, uint16_t reg, uint16_t *val);
int sim_reg_set(sim_device_t *dev, uint16_t reg, uint16_t val);
/* A write from a client, applied as the firmware does (2-bit switch registers: 0 fields
 * leave the field unchanged). */
int sim_reg_write(sim_device_t *dev, uint16_t reg, uint16_t val);

/* Encode a value into a catalog block by expanded field name ("phase_0_power"). Returns
 * BLT_E_NOT_FOUND if the device has no such block or the block no such field. */
int sim_set_num(sim_device_t *dev, uint16_t block, const char *name, double v);
int sim_set_str(sim_device_t *dev, uint16_t block, const char *name, const char *s);

/* Outcome of one request. */
typedef enum sim_action {
	SIM_IGNORE = 0, /* no answer (bad CRC, other slave, unparsable) */
	SIM_REPLY = 1,  /* rtu holds the reply frame */
} sim_action_t;

typedef struct sim_reply {
	uint8_t rtu[BLT_RTU_MAX];
	size_t rtu_len;
	uint16_t reg;           /* start register of the request */
	blt_envelope_t req_env; /* envelope the request came in */
	char summary[320];      /* one line for the -v log */
} sim_reply_t;

/* Nodes (nodes.c): build the hub and packs the options ask for (with block 21000 in the
 * power station's memory), free them, evolve the packs with the unit's battery power, find
 * one by slave, answer the NODE_INFO query. */
int sim_nodes_init(sim_device_t *dev, blt_detail_t *d);
void sim_nodes_free(sim_device_t *dev);
double sim_nodes_capacity(const sim_device_t *dev); /* Wh of the expansion packs */
void sim_nodes_tick(sim_device_t *dev, double sdt, double cap_total);
sim_device_t *sim_node_find(sim_device_t *dev, uint8_t slave);
sim_action_t sim_node_info(sim_device_t *dev, const blt_rtu_t *req, sim_reply_t *out);
/* The pack record and cells of a device (model.c), for the packs' own memory. */
void sim_put_pack(sim_device_t *dev);
void sim_pack_cells(sim_device_t *dev, double pack_w);

/* Handle one MQTT payload addressed to dev (any envelope). Pure: no I/O. */
sim_action_t sim_handle(sim_device_t *dev, const uint8_t *payload, size_t n, sim_reply_t *out);

/* Build the RTU frame of an unsolicited FC10-shaped push (§1.6) of block 1300 or 100
 * (alternating). Returns BLT_OK or an error if the device has neither block. */
int sim_build_push(sim_device_t *dev, uint8_t *rtu, size_t cap, size_t *len, uint16_t *start);

/* Small deterministic PRNG (xorshift32); uniform in [0,1). */
double sim_rand(uint32_t *state);

#endif
