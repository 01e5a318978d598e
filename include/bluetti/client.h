/* client.h - talk Modbus-over-MQTT to one device: request/reply correlation, timeouts,
 * envelopes and topics from the wire preset.
 *
 * One blt_client_t per device; several clients may share one transport (the client does
 * not own it). One outstanding request per device. A reply is matched to its request by
 * slave, function and length plausibility (blt_rtu_match); retained messages and frames
 * that do not match are never taken as the reply. Unsolicited frames (devices push
 * telemetry as FC10-shaped frames, §1.6) are passed to the unsolicited handler.
 */
#ifndef BLUETTI_CLIENT_H
#define BLUETTI_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bluetti/bluetti.h>
#include <bluetti/transport.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct blt_client blt_client_t;

typedef struct blt_client_opts {
	const char *model;     /* topic {model}, e.g. "EL100V2" */
	const char *sn;        /* topic {sn}; validated with blt_topic_segment_ok */
	const char *preset;    /* wire preset name; NULL = "v2" */
	int slave;             /* -1 = from preset */
	int envelope;          /* -1 = from preset, else blt_envelope_t */
	const char *sub_topic; /* NULL = preset template */
	const char *pub_topic; /* NULL = preset template */
	int timeout_ms;        /* per request; 0 = 5000 */
	int retries;           /* extra attempts after a timeout / bad frame; default 0 */
} blt_client_opts_t;

/* Unsolicited frame: parsed RTU (request-shaped pushes or stray replies) and the raw
 * payload as received. */
typedef void (*blt_unsolicited_fn)(void *user, const blt_rtu_t *frame, const uint8_t *payload,
                                   size_t len);

BLT_API blt_err_t blt_client_new(blt_transport_t *t, const blt_client_opts_t *o, blt_client_t **out,
                                 blt_detail_t *d);
/* Subscribe to the device's reply topic. */
BLT_API blt_err_t blt_client_start(blt_client_t *c, blt_detail_t *d);
BLT_API void blt_client_on_unsolicited(blt_client_t *c, blt_unsolicited_fn fn, void *user);

/* send_frame: publish one RTU request (wrapped in the preset's envelope) and wait for the
 * matching reply, driving the transport. reply receives the RTU frame (envelope stripped,
 * validated: CRC, length, match). Errors: BLT_E_TIMEOUT, BLT_E_EXCEPTION (reply parsed,
 * code in *exception if non-NULL), BLT_E_BUSY, transport errors.
 *
 * A read answered with exception 05 (acknowledge: "needs a long time") or 06 (busy) is
 * sent again after a short delay (250 ms, then 500 ms; at most 2 times) before the
 * exception is returned (PROTOCOL.md §1.4: transient). Writes are never re-sent. */
BLT_API blt_err_t blt_client_transact(blt_client_t *c, const uint8_t *req, size_t req_len,
                                      uint8_t *reply, size_t cap, size_t *reply_len,
                                      uint8_t *exception, blt_detail_t *d);

/* Additive (writes gate, control.h): as blt_client_transact, but sent exactly once (no
 * retries), and for a write an echo for the same register with other data is taken as the
 * reply (returned with BLT_OK for the caller's byte-for-byte echo check) instead of being
 * passed over as unsolicited until the request times out. */
BLT_API blt_err_t blt_client_transact_once(blt_client_t *c, const uint8_t *req, size_t req_len,
                                           uint8_t *reply, size_t cap, size_t *reply_len,
                                           uint8_t *exception, blt_detail_t *d);

/* FC03: read count registers from start; data gets the register bytes (may be fewer than
 * asked: *nbytes says how many). */
BLT_API blt_err_t blt_client_read(blt_client_t *c, uint16_t start, uint16_t count, uint8_t *data,
                                  size_t cap, size_t *nbytes, blt_detail_t *d);

/* Raw FC06 / FC10 with byte-for-byte echo verification. NO safety gate here: callers
 * must go through the settings gate (settings layer) - never expose these directly. */
BLT_API blt_err_t blt_client_write1_raw(blt_client_t *c, uint16_t reg, uint16_t value,
                                        blt_detail_t *d);
BLT_API blt_err_t blt_client_writen_raw(blt_client_t *c, uint16_t start, const uint16_t *values,
                                        uint16_t count, blt_detail_t *d);

/* --- non-blocking requests (additive) ----------------------------------------------------
 *
 * For a program that drives many devices from one loop (the bridge): submit publishes the
 * request and returns at once; the caller keeps calling blt_transport_poll() on the shared
 * transport and blt_client_check_timeouts() for each client with one outstanding. The
 * reply is matched and validated exactly as for blt_client_transact (same code) and the
 * callback runs once per submitted request, on the caller's thread, from inside
 * blt_transport_poll (reply) or blt_client_check_timeouts (timeout after the configured
 * retries, or a failed re-send). One outstanding request per client, blocking or not: a
 * second submit or a transact while one is outstanding is BLT_E_BUSY.
 *
 * The callback may submit the next request on the same client (it is idle again when
 * the callback runs) and may use other clients; it must not free the client. */
typedef struct blt_client_result {
	int err;              /* BLT_OK, BLT_E_EXCEPTION, BLT_E_TIMEOUT, BLT_E_BUFSIZE,
	                         transport errors of a re-send */
	const uint8_t *reply; /* the validated RTU reply (envelope stripped); NULL if none */
	size_t reply_len;
	const uint8_t *data; /* FC03 reply: the register bytes (NULL otherwise) */
	size_t nbytes;
	uint8_t exception;          /* BLT_E_EXCEPTION: the Modbus exception code */
	uint16_t reg;               /* the request's first register */
	int attempts;               /* publishes made for this request (1 + retries used) */
	uint64_t rtt_us;            /* last attempt's publish -> reply, microseconds (0 if none) */
	const blt_detail_t *detail; /* what went wrong, one line (always non-NULL) */
} blt_client_result_t;

typedef void (*blt_reply_fn)(void *user, const blt_client_result_t *r);

/* Publish req (an RTU request, as for transact) and return. Errors (no callback then):
 * BLT_E_BUSY, BLT_E_INVAL, BLT_E_RANGE, transport errors of the publish. */
BLT_API blt_err_t blt_client_submit(blt_client_t *c, const uint8_t *req, size_t req_len,
                                    blt_reply_fn cb, void *user, blt_detail_t *d);
/* FC03 read of count registers from start, non-blocking; r->data has the bytes. */
BLT_API blt_err_t blt_client_submit_read(blt_client_t *c, uint16_t start, uint16_t count,
                                         blt_reply_fn cb, void *user, blt_detail_t *d);
/* Fail or re-send the outstanding request if its deadline is past now_ms (blt_now_ms()).
 * Returns 1 if a callback ran, else 0. Cheap when nothing is outstanding. */
BLT_API int blt_client_check_timeouts(blt_client_t *c, uint64_t now_ms);
/* True while a request (blocking or submitted) is outstanding. */
BLT_API bool blt_client_busy(const blt_client_t *c);
/* Deadline (blt_now_ms() clock) of the outstanding submitted request; 0 if none. */
BLT_API uint64_t blt_client_deadline(const blt_client_t *c);
/* Drop the outstanding submitted request without calling its callback (a late reply is
 * then unsolicited). No effect if none. */
BLT_API void blt_client_cancel(blt_client_t *c);

/* --- block reads that real units accept (additive) ----------------------------------------
 *
 * blt_client_read_block / blt_client_submit_read_block read count registers from start
 * like blt_client_read / blt_client_submit_read, and in addition:
 *  - exception 02 (illegal data address) to a read longer than core (the block's required
 *    core, blt_block_core_regs) is answered by reading shorter: first core (a device that
 *    refuses even that does not have the block: the exception is returned), then a
 *    bisection between the longest accepted and the shortest refused length. The longest
 *    length that works is remembered per start register for the life of the client and
 *    used from then on (one request per read); the result carries the longest reply. The
 *    search costs 2 + ceil(log2(count - core)) requests once (EVIDENCE.md §3: the
 *    Elite 200 V2 refuses 98 registers of 100 and 95 of 2000). A timeout during the
 *    search ends it with the best data so far; the next read resumes it.
 *  - a reply with fewer registers than asked is remembered per start register (the AP300
 *    answers 90 of 104 registers of 6100) and later taken at once, not at the deadline.
 * What was learned is listed by blt_client_read_lens (for `bluetti doctor`, -v, and the
 * CLI's per-serial store) and can be given back with blt_client_read_len_set. */
typedef enum blt_read_len_origin {
	BLT_RL_LEARNED = 0, /* learned from this device during this run */
	BLT_RL_PROFILE = 1, /* a profile fact (blt_profile_block_reply) */
	BLT_RL_STORED = 2,  /* given back from an earlier run (blt_client_read_len_set) */
} blt_read_len_origin_t;

typedef struct blt_read_len {
	uint16_t start;    /* first register of the reads (the block id) */
	uint16_t asked;    /* registers the caller asked for the last time */
	uint16_t ok;       /* longest read the device accepted; 0 = none seen */
	uint16_t refused;  /* shortest read refused with exception 02; 0 = none */
	uint16_t reply;    /* registers the device answered to a read of reply_to registers
	                      when fewer than asked; 0 = none known */
	uint16_t reply_to; /* the read length that reply answers */
	uint8_t origin;    /* blt_read_len_origin_t */
	uint16_t requests; /* requests the length search has cost so far */
} blt_read_len_t;

/* Registers to ask for a read of `asked` registers, given what l says (the longest
 * accepted length once a refused length at or below `asked` is known). */
BLT_API uint16_t blt_read_len_use(const blt_read_len_t *l, uint16_t asked);
/* True when the search after a refusal is finished (ok is the longest length that works). */
BLT_API bool blt_read_len_settled(const blt_read_len_t *l);

/* exception (may be NULL) gets the Modbus exception code when BLT_E_EXCEPTION is returned. */
BLT_API blt_err_t blt_client_read_block(blt_client_t *c, uint16_t start, uint16_t count,
                                        uint16_t core, uint8_t *data, size_t cap, size_t *nbytes,
                                        uint8_t *exception, blt_detail_t *d);
/* Non-blocking: the callback runs once, after all the requests the read needed; r->attempts
 * counts them all, r->data is the longest reply. */
BLT_API blt_err_t blt_client_submit_read_block(blt_client_t *c, uint16_t start, uint16_t count,
                                               uint16_t core, blt_reply_fn cb, void *user,
                                               blt_detail_t *d);
/* Copy up to cap entries of what is known (learned, profile, stored) into out; returns
 * how many there are. Changes bump blt_client_read_lens_gen (for "save when changed"). */
BLT_API size_t blt_client_read_lens(const blt_client_t *c, blt_read_len_t *out, size_t cap);
BLT_API unsigned blt_client_read_lens_gen(const blt_client_t *c);
/* Give a fact back (a profile's known reply length, an earlier run's learned length).
 * Checked: start + lengths within a Modbus read (<= 125 registers), ok < refused when both
 * are set, reply <= the read it answers. BLT_E_RANGE otherwise; BLT_E_NOMEM when full. */
BLT_API blt_err_t blt_client_read_len_set(blt_client_t *c, const blt_read_len_t *l,
                                          blt_detail_t *d);
/* The profile's known reply lengths (blt_profile_block_reply) as BLT_RL_PROFILE facts. */
BLT_API blt_err_t blt_client_use_profile(blt_client_t *c, const blt_profile_t *p, blt_detail_t *d);

/* True once the device has shown that it fills bytes 3-4 of the V2 envelope of its replies
 * with the request's register (two replies for two different registers, nothing else in
 * between); only then are replies naming another register taken as another request's.
 * The firmware defines those bytes as a little-endian cycle counter (LOCAL.md §5 item 4)
 * and the AP300 leaves them 0, so they are never a filter before that. */
BLT_API bool blt_client_envelope_echoes(const blt_client_t *c);

/* Statistics, for check/bench/bridge counters. */
typedef struct blt_client_stats {
	uint64_t requests, replies, timeouts, bad_frames, unsolicited, exceptions;
	uint64_t last_rtt_ms;
	int8_t last_rssi;   /* from the V2 envelope, 0 if unknown */
	uint64_t stray;     /* read replies rejected as answering another request */
	uint64_t busy;      /* exceptions 05/06 (busy) answered by sending the read again */
	uint64_t shortened; /* reads sent shorter after exception 02 (length search) */
} blt_client_stats_t;
BLT_API void blt_client_stats(const blt_client_t *c, blt_client_stats_t *out);

/* --- Modbus TCP open map (LOCAL.md §1.4; the map is catalog data, blt_tcpmap_*) -------
 *
 * A device's Modbus TCP server answers public addresses 50001-59510, each mapped onto one
 * internal register. These helpers let the block rows (internal registers) work through it. */
typedef struct blt_openmap_read {
	uint16_t pub;   /* first public address to read */
	uint16_t count; /* registers to read */
	uint16_t skip;  /* leading registers read only because a one-register read must start
	                   a map run; not part of the request */
} blt_openmap_read_t;

/* Plan the reads of public addresses that cover the mapped registers among internal
 * [start, start+count): contiguous public addresses merged, no unmapped address inside a
 * read, one-register reads moved to a run start. Writes up to cap entries and returns how
 * many reads the plan needs (0: none of the registers is mapped). */
BLT_API size_t blt_openmap_plan(uint16_t start, uint16_t count, blt_openmap_read_t *out,
                                size_t cap);
/* Read internal [start, start+count) through the map with blt_client_read (one request at
 * a time). data (2*count bytes) gets each delivered register at its internal position, 0
 * elsewhere; present (a bitmap, bit i = register start+i) says which were delivered;
 * *delivered counts them. BLT_E_NOT_FOUND if none is mapped; the first failing read's
 * error otherwise. */
BLT_API blt_err_t blt_client_read_mapped(blt_client_t *c, uint16_t start, uint16_t count,
                                         uint8_t *data, size_t cap, uint8_t *present,
                                         size_t present_cap, unsigned *delivered, blt_detail_t *d);
/* The public address a write of internal register reg goes to: BLT_E_NOT_FOUND if the map
 * lacks it, BLT_E_DENIED if the map has it read-only. (The device's echo names reg.) */
BLT_API blt_err_t blt_openmap_write_target(uint16_t reg, uint16_t *pub, blt_detail_t *d);
/* True when c reaches its device through the open map (its wire preset says so: Modbus
 * TCP): block reads must go through blt_client_read_mapped, writes to public aliases. */
BLT_API bool blt_client_open_map(const blt_client_t *c);

/* --- liveness and the Open MQTT push (LOCAL.md §2.5) ------------------------------------
 *
 * A device on its owner's broker ("Open MQTT", the local-mqtt preset) pushes, every report
 * cycle + 1 s, one FC16-shaped frame of registers 11000-11099: the IoT module's block (type,
 * serial, versions, network), no power data. The client passes it to the unsolicited
 * handler like any push; these say what it is and when the device was last heard. */
#define BLT_IOT_PUSH_BLOCK 11000
/* True if f (parsed as a request-shaped frame) is that push. */
BLT_API bool blt_client_is_iot_push(const blt_rtu_t *f);
/* blt_now_ms() when the device last sent a frame that parses (a reply, an exception, a
 * push), and when its last block-11000 push arrived; 0 = never. Requests at QoS 0 may be
 * lost: a device that pushes is online even when a request goes unanswered. */
BLT_API uint64_t blt_client_last_heard(const blt_client_t *c);
BLT_API uint64_t blt_client_last_push(const blt_client_t *c);

BLT_API void blt_client_free(blt_client_t *c);

/* --- nodes (block 21000 NODE_INFO, PROTOCOL.md §1.6) -----------------------------------
 * A V2 system's packs and hubs answer at their own slave address; the request's slave is
 * per request, the topics and the envelope stay the client's. */
BLT_API uint8_t blt_client_slave(const blt_client_t *c); /* the client's own slave */
/* FC03 read at slave (a node's address) instead of the client's. */
BLT_API blt_err_t blt_client_read_at(blt_client_t *c, uint8_t slave, uint16_t start, uint16_t count,
                                     uint8_t *data, size_t cap, size_t *nbytes, blt_detail_t *d);
BLT_API blt_err_t blt_client_submit_read_at(blt_client_t *c, uint8_t slave, uint16_t start,
                                            uint16_t count, blt_reply_fn cb, void *user,
                                            blt_detail_t *d);
/* The NODE_INFO query: FC10 of the version selector 1 to register 21000 (the one write the
 * app makes to ask, changing no setting); the device answers with an FC10-shaped frame at
 * 21000 whose data (block 21000, decode with the catalog) goes to data. A plain FC10
 * acknowledgement is not taken as the answer. A unit without nodes answers an exception
 * (BLT_E_EXCEPTION) or nothing (BLT_E_TIMEOUT). The async form gives the data in r->data. */
BLT_API blt_err_t blt_client_node_info(blt_client_t *c, uint8_t *data, size_t cap, size_t *nbytes,
                                       blt_detail_t *d);
BLT_API blt_err_t blt_client_submit_node_info(blt_client_t *c, blt_reply_fn cb, void *user,
                                              blt_detail_t *d);

#ifdef __cplusplus
}
#endif

#endif
