/* runtime.h - the parts of the bluetti-bridge runtime and the state they share. One
 * br_runtime_t owns everything (configuration, account, connections, devices, outbox,
 * counters); there is no file-scope mutable state besides the signal flags and the log
 * settings (log.c).
 *
 *   runtime.c  br_run: start, the loop, SIGHUP reload (keeps what did not change), stop
 *   br_dev.c   one device: its transport (cloud, ble, auto, modbus-tcp, local-mqtt), clients
 *   poll.c     the poll scheduler: groups, probes, nodes, availability, Modbus TCP reads
 *   publish.c  Home Assistant side: discovery (once per content), state, availability
 *   commands.c commands from Home Assistant: coalesced, rate-limited, gated writes
 *   stats.c    counters, --stats FILE, <base>/bridge/stats and the bridge's own HA device
 *   outbox.c   one queued message per topic towards the Home Assistant broker
 *   log.c      logging (stderr or the journal)
 */
#ifndef BLT_BR_RUNTIME_H
#define BLT_BR_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include <bluetti/client.h>
#include <bluetti/decode.h>
#include <bluetti/device.h>
#include <bluetti/transport.h>

#include "br_account.h"
#include "bridge.h"

#define MAX_SKIP       16
#define BR_NODE_READS  32 /* node block reads per round (e.g. 6100 + 6300 of 16 packs) */
#define SKIP_BLOCK_MS  (10 * 60 * 1000)
#define UP_GRACE_MS    10000
#define BACKOFF_MIN_MS 2000
#define SCAN_MIN_MS    10   /* walk the device list at most this often */
#define SCAN_MAX_MS    200  /* the loop looks at the heap at least this often */
#define DEV_MAX_MS     1000 /* each device is looked at at least this often */
#define STAGGER_MS     5    /* first polls of many devices: one device per STAGGER_MS */
#define STATS_FILE_MS  1000 /* --stats FILE rewritten this often */
/* Commands (documented in bluetti-bridge(1), COMMANDS). */
#define WRITE_SETTING_MS 2000  /* a setting is written (or checked) at most this often */
#define WRITE_DEVICE_MS  500   /* a device gets at most one command per this interval */
#define REFUSE_LOG_MS    10000 /* refused/dropped commands: a log line per device per this */
/* Home Assistant side. */
#define OUT_WINDOW    64    /* messages handed to libmosquitto and not acknowledged yet */
#define STOP_WAIT_MS  5000  /* at a stop: longest wait for the offline messages' PUBACKs */
#define BIRTH_MIN_MS  5000  /* HA birth messages: republish discovery at most this often */
#define DISCO_HOLD_MS 20000 /* discovery waits for the first round (sw_version) this long */

typedef struct br_dev br_dev_t;

typedef enum br_tkind {
	BR_T_CLOUD = 0, /* the shared upstream connection (Bluetti broker) */
	BR_T_BLE,       /* its own Bluetooth link */
	BR_T_AUTO,      /* Bluetooth while the link is up, the cloud otherwise */
	BR_T_TCP,       /* its own Modbus TCP connection, reads through the open map */
	BR_T_LAN,       /* the shared [local-mqtt] connection (the device's own MQTT client) */
} br_tkind_t;

typedef struct cmd_listener {
	br_runtime_t *rt;
	br_dev_t *dev;
	const blt_setting_t *setting;
	char topic[256];
	bool pending;      /* a value waits to be written */
	int32_t value;     /* the latest value asked for (coalesced) */
	uint64_t last_run; /* end of the last write (or check) of this setting; 0 = never */
} cmd_listener_t;

/* Command counters of a device (bridge stats). */
typedef struct cmd_counts {
	uint64_t received;  /* valid commands */
	uint64_t coalesced; /* replaced a value still pending for the same setting */
	uint64_t skipped;   /* not written: the device already held the value */
	uint64_t written;   /* writes that succeeded */
	uint64_t failed;    /* writes (or their first read) that failed */
	uint64_t refused;   /* invalid payloads, retained commands */
	uint64_t dropped;   /* valid, but the device was offline */
} cmd_counts_t;

/* The outbox to the Home Assistant broker: one message per topic, in FIFO order. */
typedef struct out_msg {
	struct out_msg *next, *prev, *hnext;
	uint32_t hash;
	bool retain;
	char *payload;
	char topic[];
} out_msg_t;

typedef struct outbox {
	out_msg_t **bucket;
	size_t nbucket, n;
	out_msg_t *head, *tail;
	uint64_t superseded, dropped; /* replaced while queued; dropped unsent */
} outbox_t;

/* An entity announced (discovery published) for a device: its key, component and the
 * hash of the document last published for it (republished only when that changes). */
typedef struct br_ann {
	char key[64];
	uint8_t component;
	uint32_t doc_hash;
} br_ann_t;

/* The announced keys of a device: an array in announcement order plus an open-addressing
 * index (key hash -> array position + 1; 0 = empty slot). */
typedef struct br_anns {
	br_ann_t *v;
	size_t n, cap;
	uint32_t *idx;
	size_t icap; /* power of two, > 2 * n */
} br_anns_t;

/* A Modbus TCP read of one block in progress (the open map plan, one segment at a time). */
typedef struct br_tcp_read {
	blt_openmap_read_t plan[32];
	size_t nplan, seg;
	uint16_t block, count;
	unsigned delivered;
	uint8_t data[2 * BLT_MAX_READ_REGS];
	uint8_t present[(BLT_MAX_READ_REGS + 7) / 8];
} br_tcp_read_t;

struct br_dev {
	const br_device_cfg_t *cfg;
	br_runtime_t *rt;
	br_tkind_t kind;
	blt_transport_t *link; /* ble / auto / modbus-tcp: its own connection; else NULL */
	/* transport = auto: both clients; `client` is the one in use, swapped while idle */
	blt_client_t *client_cloud, *client_ble;
	blt_client_opts_t copts_ble;
	blt_client_opts_t copts;
	blt_client_t *client;
	blt_device_t *dev;
	uint64_t due[BR_MAX_GROUPS];
	uint32_t groups_seen; /* groups that completed a round since the start */
	int cur_group;        /* group in progress (-1: none) */
	size_t cur_idx;       /* its next block */
	uint16_t cur_block;   /* block of the read in flight */
	uint64_t group_start; /* when the group in progress started */
	bool probing;         /* the read in flight is a probe of an offline device */
	br_tcp_read_t *tcp;   /* modbus-tcp: the mapped read in progress */
	struct {
		uint16_t block;
		uint64_t until;
	} skip[MAX_SKIP];
	int fails;         /* consecutive failed requests */
	bool online;       /* last availability decided */
	bool avail_sent;   /* availability published for the current downstream session */
	uint64_t probe_at; /* offline: next probe */
	int backoff_ms;
	uint64_t last_seen_unix_ms;
	uint64_t started_ms; /* when this device's polling started */
	/* the scheduler's timer heap (poll.c): when the device next needs a look */
	uint64_t wake_at, wake_req;
	size_t heap_pos;
	bool in_visit;
	bool dirty;       /* state changed since the last publish */
	bool disco_ready; /* the first round is done (or DISCO_HOLD_MS passed) */
	char *last_state; /* last published state document */
	/* The previous run's retained state document (read once at start): every key it has
	 * stays in every state document, with its old value until this run has read it or
	 * seed_until passes (then null), so a restart never publishes a partial state. */
	cJSON *seed;
	uint64_t seed_until;
	br_anns_t ann; /* entities announced (for the state's keys, republish and cleanup) */
	char sw[200];  /* sw_version the discovery documents were last built with */
	bool disco_form_cleared; /* the other discovery form's documents were cleared */
	cmd_listener_t *cmds;
	size_t ncmds;
	size_t npending;     /* listeners with a pending value */
	uint64_t next_write; /* no command before this (WRITE_DEVICE_MS) */
	cmd_counts_t cc;
	uint64_t cmd_log_at;    /* next refusal may be logged at once */
	uint64_t cmd_log_held;  /* refusals not logged since the last line */
	char cmd_log_last[160]; /* the last one held (shown with the count) */
	char last_error[160];   /* the last failed request (bridge device) */
	/* nodes (NODE_INFO): the packs and hubs of the system, polled at their own slave
	 * addresses after the groups, at the interval of the "cells" group (see poll.c) */
	int node_phase; /* 0 idle, 1 the query in flight, 2 reading node blocks */
	uint64_t nodes_due;
	size_t node_idx, node_cur;
	size_t nnode_reads;
	struct {
		uint8_t slave;
		uint16_t block;
	} node_reads[BR_NODE_READS];
};

/* Round-trip histogram: 50 us buckets below 20 ms, then 1 ms buckets up to ~5 s. */
#define RTT_FINE    400
#define RTT_BUCKETS (RTT_FINE + 5000)

typedef struct br_stats {
	uint64_t started_ms, reset_ms;
	uint64_t reads, replies, timeouts, exceptions, failed, groups;
	uint64_t rtt_n, rtt_max_us;
	uint32_t rtt[RTT_BUCKETS];
	/* reads per second for the bridge device: reads at the last sample and when */
	uint64_t rate_reads, rate_at;
	double reads_per_s;
	unsigned tmp_seq;     /* --stats FILE: temporary file names */
	uint64_t warned_at;   /* --stats FILE: next "cannot create" warning */
	char last_error[240]; /* the last failure of any device, for the bridge device */
} br_stats_t;

struct br_runtime {
	br_config_t *cfg; /* owned */
	br_account_t *account;
	blt_transport_t *up, *down, *lan;
	br_dev_t **devs;
	size_t ndev;
	br_dev_t **heap; /* min-heap of the devices by wake_at (poll.c) */
	size_t nheap;
	uint64_t next_scan;
	uint64_t next_stats;
	bool down_fresh; /* downstream (re)connected: republish everything */
	bool ha_birth;   /* Home Assistant announced itself: republish discovery */
	uint64_t up_down_since, lan_down_since;
	bool up_was_connected, lan_was_connected;
	/* counters for <base>/bridge/stats (see stats.c) */
	uint64_t up_connects, up_drops, down_connects, down_drops, lan_connects, lan_drops;
	uint64_t stats_at;
	char *last_stats;
	char bridge_topic[200];
	char bridge_id[200]; /* the bridge's own HA device: via_device of every station */
	char ha_status_topic[200];
	br_entity_t *ents;
	blt_decoded_t *decoded;
	char *state_buf; /* state documents are printed into this reused buffer */
	size_t state_cap;
	size_t npending;   /* devices' pending commands */
	size_t cmd_rr;     /* device to look at first for the next command (round robin) */
	uint64_t birth_at; /* no republish for an HA birth before this */
	outbox_t ob;
	br_stats_t stats;
	const char *stats_path; /* --stats FILE or NULL */
	uint64_t bridge_state_at;
	char *bridge_state_last;
	bool bridge_announced;
};

/* outbox.c */
int br_ob_put(outbox_t *ob, const char *topic, const char *payload, bool retain);
void br_ob_clear(outbox_t *ob);
void br_ob_flush(br_runtime_t *rt);
void br_ob_free(outbox_t *ob);
uint32_t br_hash(const char *s);

/* publish.c */
bool br_down_ok(const br_runtime_t *rt);
int br_publish(br_runtime_t *rt, const char *topic, const char *payload, bool retain);
void br_ctx_of(br_dev_t *d, br_ha_ctx_t *c);
void br_publish_availability(br_dev_t *d);
void br_publish_device(br_dev_t *d, bool force_disco, bool force_state);
void br_clear_device(br_dev_t *d);
void br_republish_all(br_runtime_t *rt);
void br_on_seed(void *user, const char *topic, const uint8_t *payload, size_t len, bool retained);
void br_anns_free(br_anns_t *a);

/* poll.c */
void br_scan(br_runtime_t *rt);
int br_poll_block(br_dev_t *d, uint16_t id);
void br_set_online(br_dev_t *d, bool online, const char *why);
void br_request_failed(br_dev_t *d, int err, const char *what, const char *detail);
void br_choose_path(br_dev_t *d);
blt_transport_t *br_dev_transport(const br_dev_t *d);
const char *br_dev_path_name(const br_dev_t *d);
void br_upstream_watch(br_runtime_t *rt);
/* The timer heap: every device in it once, keyed by when it next needs a look. */
int br_heap_build(br_runtime_t *rt);   /* after the device list changed; all due now */
void br_wake(br_dev_t *d, uint64_t t); /* look at d no later than t */
void br_wake_all(br_runtime_t *rt);

/* commands.c */
void br_on_command(void *user, const char *topic, const uint8_t *payload, size_t len,
                   bool retained);
bool br_run_command(br_runtime_t *rt);
void br_cmd_log_flush(br_dev_t *d, uint64_t now);
cmd_listener_t *br_cmd_due(br_dev_t *d, uint64_t now);

/* stats.c */
void br_stats_rtt(br_stats_t *s, uint64_t us);
void br_stats_write(br_runtime_t *rt);
void br_stats_reset(br_runtime_t *rt);
void br_publish_stats(br_runtime_t *rt);
void br_bridge_device_publish(br_runtime_t *rt, bool force);
void br_bridge_device_id(const br_runtime_t *rt, char *out, size_t cap);
void br_note_error(br_dev_t *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* br_dev.c */
int br_dev_new(br_runtime_t *rt, const br_device_cfg_t *dc, br_dev_t **out);
void br_dev_rebind(br_dev_t *d, const br_device_cfg_t *dc); /* kept at a reload */
int br_dev_listen(br_dev_t *d); /* subscriptions on the Home Assistant broker */
void br_dev_unlisten(br_dev_t *d);
void br_dev_start(br_dev_t *d, size_t i); /* connect its link, first polls due */
void br_dev_free(br_dev_t *d);
bool br_permanent(int err);
int br_make_transport(const br_mqtt_cfg_t *m, const char *will_topic, const char *client_id,
                      blt_transport_t **out, blt_detail_t *d);

/* log.c */
uint64_t br_unix_ms(void);

#endif
