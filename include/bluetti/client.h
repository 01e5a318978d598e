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

BLT_API int blt_client_new(blt_transport_t *t, const blt_client_opts_t *o, blt_client_t **out,
			   blt_detail_t *d);
/* Subscribe to the device's reply topic. */
BLT_API int blt_client_start(blt_client_t *c, blt_detail_t *d);
BLT_API void blt_client_on_unsolicited(blt_client_t *c, blt_unsolicited_fn fn, void *user);

/* send_frame: publish one RTU request (wrapped in the preset's envelope) and wait for the
 * matching reply, driving the transport. reply receives the RTU frame (envelope stripped,
 * validated: CRC, length, match). Errors: BLT_E_TIMEOUT, BLT_E_EXCEPTION (reply parsed,
 * code in *exception if non-NULL), BLT_E_BUSY, transport errors. */
BLT_API int blt_client_transact(blt_client_t *c, const uint8_t *req, size_t req_len,
				uint8_t *reply, size_t cap, size_t *reply_len,
				uint8_t *exception, blt_detail_t *d);

/* Additive (writes gate, control.h): as blt_client_transact, but sent exactly once (no
 * retries), and for a write an echo for the same register with other data is taken as the
 * reply (returned with BLT_OK for the caller's byte-for-byte echo check) instead of being
 * passed over as unsolicited until the request times out. */
BLT_API int blt_client_transact_once(blt_client_t *c, const uint8_t *req, size_t req_len,
				     uint8_t *reply, size_t cap, size_t *reply_len,
				     uint8_t *exception, blt_detail_t *d);

/* FC03: read count registers from start; data gets the register bytes (may be fewer than
 * asked: *nbytes says how many). */
BLT_API int blt_client_read(blt_client_t *c, uint16_t start, uint16_t count, uint8_t *data,
			    size_t cap, size_t *nbytes, blt_detail_t *d);

/* Raw FC06 / FC10 with byte-for-byte echo verification. NO safety gate here: callers
 * must go through the settings gate (settings layer) - never expose these directly. */
BLT_API int blt_client_write1_raw(blt_client_t *c, uint16_t reg, uint16_t value,
				  blt_detail_t *d);
BLT_API int blt_client_writen_raw(blt_client_t *c, uint16_t start, const uint16_t *values,
				  uint16_t count, blt_detail_t *d);

/* Statistics, for check/bench/bridge counters. */
typedef struct blt_client_stats {
	uint64_t requests, replies, timeouts, bad_frames, unsolicited, exceptions;
	uint64_t last_rtt_ms;
	int8_t last_rssi; /* from the V2 envelope, 0 if unknown */
} blt_client_stats_t;
BLT_API void blt_client_stats(const blt_client_t *c, blt_client_stats_t *out);

BLT_API void blt_client_free(blt_client_t *c);

#ifdef __cplusplus
}
#endif

#endif
