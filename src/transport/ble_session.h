/* ble_session.h - the "V2" encrypted Bluetooth LE session (LOCAL.md §3.3-§3.8, §3.14) as
 * pure code: bytes in, bytes out, no I/O, no D-Bus, no clock. Both roles: the client (our
 * transport) and the device (bluetti-sim --ble and the tests).
 *
 * Handshake (§3.3): D->C type 1 challenge R; C->D type 2 = IV[8..11]; D->C type 3 result;
 * D->C type 4 = device ephemeral P-256 key + ECDSA-SHA256 signature (K2) over key||IV,
 * encrypted with AES-128-CBC(Ktmp, IV); C->D type 5 = client key + signature (L1);
 * D->C type 6 result. Session key = ECDH x coordinate (AES-256, no KDF). Secure phase
 * (§3.4): [len u16 BE][seed 4][AES-256-CBC(Ksess, MD5(seed), zero-padded)].
 *
 * Fragments (§3.7, §3.14.3): notifications may split a message; blt_ble_feed reassembles
 * by the length header and hands out whole messages.
 *
 * Keys: the client constants LOCAL_AES_KEY, L1 (private) and K2 (public) are public
 * interoperability facts (LOCAL.md §3.5) and are built in. The device's private signing
 * key is NOT: a device-role session takes a key from its caller (the simulator generates
 * one), and a client-role session accepts an override of the K2 verify key (tests only).
 *
 * Ownership: a session is a caller-owned struct; blt_ble_init fills it, blt_ble_clear
 * wipes its secrets. Not thread-safe; one session per link.
 */
#ifndef BLT_BLE_SESSION_H
#define BLT_BLE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bluetti/bluetti.h>

#define BLT_BLE_MSG_MAX   1500 /* the device rejects messages of 1500 bytes or more */
#define BLT_BLE_MSG_MIN   22   /* smallest secure-phase message the device accepts */
#define BLT_BLE_HS_MAX    160  /* largest handshake message on the wire (146) */
#define BLT_BLE_PLAIN_MAX (BLT_BLE_MSG_MAX - 6 - 1)

/* GATT (§3.2) */
#define BLT_BLE_SERVICE_UUID "0000ff00-0000-1000-8000-00805f9b34fb"
#define BLT_BLE_NOTIFY_UUID  "0000ff01-0000-1000-8000-00805f9b34fb"
#define BLT_BLE_WRITE_UUID   "0000ff02-0000-1000-8000-00805f9b34fb"
#define BLT_BLE_MFR_ID       0x4C42 /* manufacturer data "BLUETTF" = encryption on */

typedef enum blt_ble_role { BLT_BLE_CLIENT = 0, BLT_BLE_DEVICE = 1 } blt_ble_role_t;

typedef enum blt_ble_state {
	BLT_BLE_IDLE = 0, /* client: waiting for type 1; device: type 1 not yet made */
	BLT_BLE_WAIT_2,   /* device: type 1 sent, waiting for type 2 */
	BLT_BLE_WAIT_3,   /* client: type 2 sent, waiting for type 3 */
	BLT_BLE_WAIT_4,   /* client: type 3 passed, waiting for type 4 */
	BLT_BLE_WAIT_5,   /* device: type 3 + 4 sent, waiting for type 5 */
	BLT_BLE_WAIT_6,   /* client: type 5 sent, waiting for type 6 */
	BLT_BLE_SECURE,   /* session key in use */
	BLT_BLE_FAILED,   /* handshake failed; start over (reconnect) */
} blt_ble_state_t;

/* Firmware defects a device-role session can reproduce (§3.8), for the simulator. */
#define BLT_BLE_FAULT_SHORT_SIG    0x1 /* r or s written with its natural length */
#define BLT_BLE_FAULT_SHORT_SECRET 0x2 /* ECDH secret stored as if its first byte were 0 */
#define BLT_BLE_FAULT_BAD_CHECKSUM 0x4 /* corrupt the checksum of the type-1 frame */

typedef struct blt_ble_config {
	blt_ble_role_t role;
	/* Client: verify key of the device signature, raw X||Y; NULL = the built-in K2.
	 * Overriding it is for tests against a simulator only. */
	const uint8_t *verify_pub;
	/* Device: its signing key (P-256 scalar, 32 bytes, big-endian); required. */
	const uint8_t *sign_priv;
	/* Deterministic inputs for test vectors; NULL = random. ephemeral: the P-256 scalar
	 * of this side's ECDH key; nonce: the ECDSA k; challenge: the device's R (4 bytes);
	 * seed: every secure-phase seed (4 bytes). */
	const uint8_t *ephemeral;
	const uint8_t *nonce;
	const uint8_t *challenge;
	const uint8_t *seed;
	unsigned faults; /* device role: BLT_BLE_FAULT_* */
} blt_ble_config_t;

typedef struct blt_ble_session {
	blt_ble_role_t role;
	blt_ble_state_t state;
	unsigned faults;
	uint8_t verify_pub[64];
	uint8_t sign_priv[32];
	uint8_t eph_priv[32];
	uint8_t eph_pub[64];
	uint8_t fixed_nonce[32];
	bool has_fixed_nonce, has_fixed_eph, has_fixed_seed, has_fixed_challenge;
	uint8_t fixed_seed[4];
	uint8_t challenge[4];
	uint8_t iv[16];
	uint8_t ktmp[16];
	uint8_t ksess[32];
	/* reassembly of notification / write fragments */
	uint8_t rx[BLT_BLE_MSG_MAX];
	size_t rx_len;
	uint64_t rx_messages;
	uint64_t dup_ignored; /* repeated type 1 / type 4 dropped (§3.14.4) */
} blt_ble_session_t;

/* What one received message produced: up to two messages to send (the device answers a
 * type 2 with types 3 and 4), and for a secure-phase message its plaintext. */
typedef struct blt_ble_out {
	uint8_t send[2][BLT_BLE_HS_MAX];
	size_t send_len[2];
	int nsend;
	uint8_t plain[BLT_BLE_PLAIN_MAX];
	size_t plain_len;
	bool has_plain;
	bool established; /* this message completed the handshake */
	bool restarted;   /* client: a new type 1 (new challenge) restarted the handshake */
} blt_ble_out_t;

/* Built-in public constants (LOCAL.md §3.5). */
BLT_API extern const uint8_t blt_ble_local_aes_key[16];
BLT_API extern const uint8_t blt_ble_k2_pub[64];
BLT_API extern const uint8_t blt_ble_l1_pub[64];

/* Set up a session (no message yet). Errors: BLT_E_INVAL (device without a key),
 * BLT_E_BLE_KEY (a key that is not a valid P-256 key). */
BLT_API int blt_ble_init(blt_ble_session_t *s, const blt_ble_config_t *cfg, blt_detail_t *d);
/* Forget everything secret (keys, IV, buffers); the struct may be reused with init. */
BLT_API void blt_ble_clear(blt_ble_session_t *s);

/* Device role: start the handshake (notifications were enabled): writes the type-1 frame
 * into out->send[0] and regenerates every secret. */
BLT_API int blt_ble_device_start(blt_ble_session_t *s, blt_ble_out_t *out, blt_detail_t *d);

/* Feed one received fragment (notification or write) into the reassembly buffer and,
 * once a whole message is held, process it as blt_ble_receive does. Returns 1 when a
 * message was processed (out filled), 0 when more bytes are needed, or an error (the
 * buffer is dropped on a framing error). A fragment may hold the end of one message and
 * the start of the next: call again with n = 0 until it returns 0. */
BLT_API int blt_ble_feed(blt_ble_session_t *s, const uint8_t *frag, size_t n, blt_ble_out_t *out,
                         blt_detail_t *d);
/* Total length of the message starting at buf, from its header, in the current state;
 * 0 if more bytes are needed to tell. Errors: BLT_E_BLE_OVERSIZE. */
BLT_API int blt_ble_expected_len(const blt_ble_session_t *s, const uint8_t *buf, size_t n,
                                 size_t *total, blt_detail_t *d);

/* Process one whole received message (fragments already joined). Errors, each its own:
 * BLT_E_BLE_MAGIC, BLT_E_BLE_CHECKSUM, BLT_E_BLE_LENGTH, BLT_E_BLE_ALIGN,
 * BLT_E_BLE_SIGNATURE, BLT_E_BLE_SEQUENCE, BLT_E_BLE_OVERSIZE, BLT_E_BLE_REJECTED (the
 * peer's result byte says fail), BLT_E_BLE_KEY (peer key not on the curve). A failed
 * handshake step leaves the session in BLT_BLE_FAILED (reconnect); a bad secure-phase
 * message is dropped and the session stays usable. */
BLT_API int blt_ble_receive(blt_ble_session_t *s, const uint8_t *msg, size_t n, blt_ble_out_t *out,
                            blt_detail_t *d);

/* Secure phase: encrypt plaintext (1..BLT_BLE_PLAIN_MAX bytes) into one message.
 * Errors: BLT_E_BLE_SEQUENCE (no session key yet), BLT_E_BLE_OVERSIZE, BLT_E_BUFSIZE. */
BLT_API int blt_ble_encrypt(blt_ble_session_t *s, const uint8_t *plain, size_t n, uint8_t *out,
                            size_t cap, size_t *out_len, blt_detail_t *d);

/* Handshake frame helpers (exposed for tests and the fuzz harness). */
BLT_API int blt_ble_frame_build(uint8_t type, const uint8_t *payload, uint8_t len, uint8_t *out,
                                size_t cap, size_t *out_len);
/* Check magic, length and checksum of a plain handshake frame; payload points into buf. */
BLT_API int blt_ble_frame_parse(const uint8_t *buf, size_t n, uint8_t *type,
                                const uint8_t **payload, uint8_t *len, blt_detail_t *d);

/* ECDSA-P256-SHA256 over msg with the 32-byte private key; nonce NULL = random. sig gets
 * r||s (32 bytes each, big-endian). */
BLT_API int blt_ble_sign(const uint8_t priv[32], const uint8_t *nonce, const uint8_t *msg, size_t n,
                         uint8_t sig[64], blt_detail_t *d);
BLT_API int blt_ble_verify(const uint8_t pub[64], const uint8_t *msg, size_t n,
                           const uint8_t sig[64], blt_detail_t *d);
/* Public key X||Y of a private scalar; new random key pair if priv is NULL-generated. */
BLT_API int blt_ble_pubkey(const uint8_t priv[32], uint8_t pub[64], blt_detail_t *d);
BLT_API int blt_ble_keygen(uint8_t priv[32], uint8_t pub[64], blt_detail_t *d);

#endif
