/* bluetti.h - umbrella header of libbluetti: version, error codes, logging, hex helpers.
 *
 * Conventions (see docs/architecture.md):
 *  - every public symbol is prefixed blt_, types blt_*_t;
 *  - functions return blt_err_t: 0 (BLT_OK) on success, a negative code otherwise;
 *    blt_strerror() names the code; an optional blt_detail_t says what exactly went wrong;
 *  - errno is never used to report library errors.
 */
#ifndef BLUETTI_BLUETTI_H
#define BLUETTI_BLUETTI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(BLT_BUILDING_LIBRARY)
#define BLT_API __attribute__((visibility("default")))
#else
#define BLT_API
#endif

/* BLT_VERSION_MAJOR/MINOR/PATCH/STRING, generated from the version set in CMakeLists.txt. */
#include <bluetti/version.h>

/* The version of the running library: BLT_VERSION_STRING, plus "+g<commit>" (and ".dirty")
 * when it was built from a git checkout. */
BLT_API const char *blt_version(void);

/* Error codes. Keep blt_strerror() in src/core/error.c in step with this list. */
typedef enum blt_err {
	BLT_OK = 0,
	BLT_E_INVAL = -1,         /* invalid argument */
	BLT_E_NOMEM = -2,         /* out of memory */
	BLT_E_BUFSIZE = -3,       /* caller's output buffer too small */
	BLT_E_CRC = -4,           /* CRC-16/MODBUS mismatch */
	BLT_E_SHORT = -5,         /* frame or payload truncated */
	BLT_E_TRAILING = -6,      /* bytes after the end of a frame */
	BLT_E_BYTECOUNT = -7,     /* byte-count field odd, too large or inconsistent */
	BLT_E_EXCEPTION = -8,     /* device answered with a Modbus exception */
	BLT_E_FUNCTION = -9,      /* unexpected function code */
	BLT_E_SLAVE = -10,        /* reply from another slave address */
	BLT_E_RANGE = -11,        /* register count / value out of the allowed range */
	BLT_E_UNKNOWN_BLOCK = -12, /* block id not in the catalog */
	BLT_E_MISSING = -13,      /* a required field lies beyond the payload */
	BLT_E_HEX = -14,          /* malformed hex text */
	BLT_E_ENVELOPE = -15,     /* malformed MQTT payload envelope */
	BLT_E_NOT_FOUND = -16,    /* named thing (profile, field, setting, file) not found */
	BLT_E_TIMEOUT = -17,      /* no reply in time */
	BLT_E_CONNECT = -18,      /* could not connect to the broker */
	BLT_E_TLS = -19,          /* TLS handshake / verification failure */
	BLT_E_CERT = -20,         /* certificate unusable (PKCS#12 parse, expired, ...) */
	BLT_E_CERT_PASSWORD = -21, /* wrong PKCS#12 password */
	BLT_E_HOSTNAME = -22,     /* server certificate does not match the host name */
	BLT_E_AUTH = -23,         /* broker / cloud refused the credentials */
	BLT_E_PROTOCOL = -24,     /* peer violated the protocol */
	BLT_E_IO = -25,           /* operating-system I/O error */
	BLT_E_SERIAL = -26,       /* serial number / topic segment not acceptable */
	BLT_E_DENIED = -27,       /* write refused by the safety gate */
	BLT_E_BUSY = -28,         /* a request is already outstanding */
	BLT_E_DISCONNECTED = -29, /* connection lost */
	BLT_E_CONFIG = -30,       /* bad configuration */
	BLT_E_MISMATCH = -31,     /* reply does not match the request (echo, block) */
	BLT_E_NOT_APPLIED = -32,  /* write echoed, but the read-back shows the old value */
	BLT_E_PIN_MISMATCH = -33, /* broker key differs from the pinned one (TOFU) */
	BLT_E_BLE_MAGIC = -34,     /* BLE handshake frame without the 2a 2a magic */
	BLT_E_BLE_CHECKSUM = -35,  /* BLE handshake frame checksum mismatch */
	BLT_E_BLE_LENGTH = -36,    /* BLE message length field inconsistent */
	BLT_E_BLE_ALIGN = -37,     /* BLE ciphertext not a multiple of the AES block */
	BLT_E_BLE_SIGNATURE = -38, /* BLE peer signature does not verify */
	BLT_E_BLE_SEQUENCE = -39,  /* BLE handshake message out of order */
	BLT_E_BLE_OVERSIZE = -40,  /* BLE message too large */
	BLT_E_BLE_REJECTED = -41,  /* BLE peer reported a failed handshake step */
	BLT_E_BLE_KEY = -42,       /* BLE public key not a valid P-256 point */
} blt_err_t;

/* Static English name of an error code ("CRC mismatch"); never NULL. */
BLT_API const char *blt_strerror(int err);

/* Optional detail for an error: filled by the failing function when non-NULL. */
typedef struct blt_detail {
	char text[256];
} blt_detail_t;

/* Format into d (if d != NULL) and return err; for library-internal use and tools. */
BLT_API int blt_detail_set(blt_detail_t *d, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Logging: the library never writes to stdout/stderr itself; it calls this hook.
 * Messages never contain secrets (passwords, keys, credential blocks). */
typedef enum blt_log_level {
	BLT_LOG_ERROR = 0,
	BLT_LOG_WARN = 1,
	BLT_LOG_INFO = 2,
	BLT_LOG_DEBUG = 3,
} blt_log_level_t;

typedef void (*blt_log_fn)(blt_log_level_t level, const char *msg, void *user);

/* Install (fn != NULL) or remove the log hook; messages above max_level are dropped. */
BLT_API void blt_log_set_handler(blt_log_fn fn, void *user, blt_log_level_t max_level);
BLT_API void blt_log(blt_log_level_t level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Hex helpers. blt_hex_decode accepts upper/lower case and ignores ASCII whitespace,
 * ':' and '-' separators and an optional "0x" prefix; an odd number of digits or any
 * other character is BLT_E_HEX. */
BLT_API int blt_hex_decode(const char *text, uint8_t *out, size_t cap, size_t *out_len,
			   blt_detail_t *d);
/* Lowercase hex, no separators, NUL-terminated; needs cap >= 2*n+1. */
BLT_API int blt_hex_encode(const uint8_t *in, size_t n, char *out, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* BLUETTI_BLUETTI_H */

/* The umbrella part, outside the guard so that it also works after a layer header. A
 * layer header that includes this file for the definitions above defines BLT_BASE_ONLY
 * first, so that including any single public header works on its own. */
#ifndef BLT_BASE_ONLY
#include <bluetti/modbus.h>
#include <bluetti/decode.h>
#include <bluetti/catalog.h>
#endif
