/* ble.h - the Bluetooth LE transport for "V2" devices (LOCAL.md §3): BlueZ over D-Bus plus
 * the encrypted V2 session, behind the ordinary blt_transport_t interface.
 *
 * A BLE transport talks to exactly one device. It carries opaque frames: publish(topic,
 * frame) encrypts the frame and writes it to the device; every decrypted notification is
 * handed to every listener (the topic is not on the air, listeners get their own topic
 * back). Use it with the "ble" wire preset (bare RTU, slave 1) so the client, decoder,
 * write gate and device model work unchanged.
 *
 * One persistent connection: connect() finds the device (discovering it if needed),
 * connects, enables FF01 notifications (which starts the device's handshake) and runs the
 * handshake with the device's timers (5 s per step; a first message within 11 s of the
 * device's type 6). A handshake that fails the way the firmware defects make it fail
 * (LOCAL.md §3.8: a device signature that does not verify, a session whose first request
 * goes unanswered) is retried on a new connection, never skipped. A lost connection is
 * re-established from poll() with capped exponential backoff (5 s at least by default:
 * connect/disconnect churn is what makes devices drop off, bt#198/bt#223).
 *
 * Security (say it plainly): both signing keys of the V2 handshake are public, so the link
 * is encrypted against passive listeners but NOT authenticated: anyone in radio range with
 * the public keys can impersonate either side.
 *
 * Threading and ownership as for every transport (transport.h).
 */
#ifndef BLUETTI_BLE_H
#define BLUETTI_BLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bluetti/bluetti.h>
#include <bluetti/transport.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct blt_ble_opts {
	const char *address; /* "AA:BB:CC:DD:EE:FF" (required) */
	const char *adapter; /* NULL = "hci0" */
	/* TEST ONLY: raw X||Y (64 bytes) of the key that verifies the device's signature,
	 * replacing the built-in K2, so that a simulator with its own key is accepted. Never
	 * set it for a real device. */
	const uint8_t *test_verify_key;
	int connect_timeout_ms; /* find + connect + services; 0 = 30000 */
	int step_timeout_ms;    /* per handshake step; 0 = 5000 (the device's timer) */
	int handshake_attempts; /* connections per connect()/reconnect; 0 = 3 */
	int first_reply_ms;     /* no reply this long to the first request of a session:
	                           the short-secret defect, re-handshake; 0 = 2500 */
	int reconnect_min_ms;   /* 0 = 5000 */
	int reconnect_max_ms;   /* 0 = 60000 */
} blt_ble_opts_t;

/* Create a BLE transport (no I/O yet). Errors: BLT_E_INVAL (bad address), BLT_E_BLE_KEY. */
BLT_API blt_err_t blt_ble_new(const blt_ble_opts_t *o, blt_transport_t **out, blt_detail_t *d);

typedef struct blt_ble_stats {
	uint64_t connects;   /* link connections made */
	uint64_t handshakes; /* handshakes completed */
	uint64_t retries;    /* handshakes retried (defects, timeouts) */
	uint64_t rx_messages, tx_messages, bad_messages;
	uint64_t last_handshake_us; /* notify enabled -> type 6, last session */
} blt_ble_stats_t;
/* Counters of a BLE transport; zeroes for another kind of transport. */
BLT_API void blt_ble_stats(const blt_transport_t *t, blt_ble_stats_t *out);

/* One device seen by a scan. */
typedef struct blt_ble_device_info {
	char address[18];
	char name[64];
	int rssi; /* dBm; 0 if BlueZ gave none */
	bool has_rssi;
	bool bluetti;   /* manufacturer data 0x4C42 "BLUETT?" or a Bluetti name */
	bool encrypted; /* manufacturer data 0x4C42 = "BLUETTF" (V2 encryption on) */
	char model[40]; /* guess from the name: the name without its serial digits */
} blt_ble_device_info_t;

/* Discover for duration_ms on adapter (NULL = "hci0") and list the devices seen, Bluetti
 * first. Errors: BLT_E_CONNECT (no bus / no adapter). */
BLT_API blt_err_t blt_ble_scan(const char *adapter, int duration_ms, blt_ble_device_info_t *out,
                               size_t cap, size_t *n, blt_detail_t *d);

/* Fill the Bluetti fields (bluetti, encrypted, model) from name and manufacturer data. */
BLT_API void blt_ble_classify(blt_ble_device_info_t *info, const uint8_t *mfr_data, size_t mfr_len,
                              bool has_mfr_4c42);

/* Parse "AA:BB:CC:DD:EE:FF" (either case); BLT_E_INVAL otherwise. */
BLT_API int blt_ble_address_ok(const char *address);

#ifdef __cplusplus
}
#endif

#endif
