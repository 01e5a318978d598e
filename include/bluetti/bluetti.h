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

#include <stdarg.h>
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

/* Error codes, one row each: X(symbol, value, short name, message). The enum,
 * blt_strerror() and blt_err_name() are generated from this list (src/core/error.c), so a
 * code cannot lack a name; append new codes at the end with the next value. Values are
 * part of the ABI: never renumber. */
#define BLT_ERRORS(X)                                                                              \
	X(BLT_E_INVAL, -1, "inval", "invalid argument")     /* invalid argument */                 \
	X(BLT_E_NOMEM, -2, "nomem", "out of memory")        /* out of memory */                    \
	X(BLT_E_BUFSIZE, -3, "bufsize", "buffer too small") /* caller's output buffer too small */ \
	X(BLT_E_CRC, -4, "crc", "CRC mismatch")             /* CRC-16/MODBUS mismatch */           \
	X(BLT_E_SHORT, -5, "short", "truncated")            /* frame or payload truncated */       \
	X(BLT_E_TRAILING, -6, "trailing",                                                          \
	  "trailing bytes after frame") /* bytes after the end of a frame */                       \
	X(BLT_E_BYTECOUNT, -7, "bytecount",                                                        \
	  "bad byte count") /* byte-count field odd, too large or inconsistent */                  \
	X(BLT_E_EXCEPTION, -8, "exception",                                                        \
	  "Modbus exception") /* device answered with a Modbus exception */                        \
	X(BLT_E_FUNCTION, -9, "function",                                                          \
	  "unexpected function code")                       /* unexpected function code */         \
	X(BLT_E_SLAVE, -10, "slave", "wrong slave address") /* reply from another slave address */ \
	X(BLT_E_RANGE, -11, "range",                                                               \
	  "out of range") /* register count / value out of the allowed range */                    \
	X(BLT_E_UNKNOWN_BLOCK, -12, "unknown-block",                                               \
	  "unknown block") /* block id not in the catalog */                                       \
	X(BLT_E_MISSING, -13, "missing",                                                           \
	  "required field missing")               /* a required field lies beyond the payload */   \
	X(BLT_E_HEX, -14, "hex", "malformed hex") /* malformed hex text */                         \
	X(BLT_E_ENVELOPE, -15, "envelope",                                                         \
	  "malformed envelope") /* malformed MQTT payload envelope */                              \
	X(BLT_E_NOT_FOUND, -16, "not-found",                                                       \
	  "not found") /* named thing (profile, field, setting, file) not found */                 \
	X(BLT_E_TIMEOUT, -17, "timeout", "timed out") /* no reply in time */                       \
	X(BLT_E_CONNECT, -18, "connect",                                                           \
	  "connection failed")                  /* could not connect to the broker */              \
	X(BLT_E_TLS, -19, "tls", "TLS failure") /* TLS handshake / verification failure */         \
	X(BLT_E_CERT, -20, "cert",                                                                 \
	  "certificate unusable") /* certificate unusable (PKCS#12 parse, expired, ...) */         \
	X(BLT_E_CERT_PASSWORD, -21, "cert-password",                                               \
	  "wrong certificate password") /* wrong PKCS#12 password */                               \
	X(BLT_E_HOSTNAME, -22, "hostname",                                                         \
	  "server certificate does not match host name") /* server certificate does not match the  \
	                                                    host name */                           \
	X(BLT_E_AUTH, -23, "auth",                                                                 \
	  "authentication refused") /* broker / cloud refused the credentials */                   \
	X(BLT_E_PROTOCOL, -24, "protocol", "protocol violation") /* peer violated the protocol */  \
	X(BLT_E_IO, -25, "io", "I/O error")                      /* operating-system I/O error */  \
	X(BLT_E_SERIAL, -26, "serial",                                                             \
	  "invalid serial number") /* serial number / topic segment not acceptable */              \
	X(BLT_E_DENIED, -27, "denied", "write denied") /* write refused by the safety gate */      \
	X(BLT_E_BUSY, -28, "busy", "busy")             /* a request is already outstanding */      \
	X(BLT_E_DISCONNECTED, -29, "disconnected", "disconnected") /* connection lost */           \
	X(BLT_E_CONFIG, -30, "config", "configuration error")      /* bad configuration */         \
	X(BLT_E_MISMATCH, -31, "mismatch",                                                         \
	  "reply does not match request") /* reply does not match the request (echo, block) */     \
	X(BLT_E_NOT_APPLIED, -32, "not-applied",                                                   \
	  "device did not apply the write") /* write echoed, but the read-back shows the old value \
	                                     */                                                    \
	X(BLT_E_PIN_MISMATCH, -33, "pin-mismatch",                                                 \
	  "broker key does not match the pinned key") /* broker key differs from the pinned one    \
	                                                 (TOFU) */                                 \
	X(BLT_E_BLE_MAGIC, -34, "ble-magic",                                                       \
	  "BLE frame magic missing") /* BLE handshake frame without the 2a 2a magic */             \
	X(BLT_E_BLE_CHECKSUM, -35, "ble-checksum",                                                 \
	  "BLE frame checksum mismatch") /* BLE handshake frame checksum mismatch */               \
	X(BLT_E_BLE_LENGTH, -36, "ble-length",                                                     \
	  "BLE message length invalid") /* BLE message length field inconsistent */                \
	X(BLT_E_BLE_ALIGN, -37, "ble-align",                                                       \
	  "BLE ciphertext not block aligned") /* BLE ciphertext not a multiple of the AES block */ \
	X(BLT_E_BLE_SIGNATURE, -38, "ble-signature",                                               \
	  "BLE signature does not verify") /* BLE peer signature does not verify */                \
	X(BLT_E_BLE_SEQUENCE, -39, "ble-sequence",                                                 \
	  "BLE handshake out of order") /* BLE handshake message out of order */                   \
	X(BLT_E_BLE_OVERSIZE, -40, "ble-oversize",                                                 \
	  "BLE message too large") /* BLE message too large */                                     \
	X(BLT_E_BLE_REJECTED, -41, "ble-rejected",                                                 \
	  "BLE handshake rejected by peer") /* BLE peer reported a failed handshake step */        \
	X(BLT_E_BLE_KEY, -42, "ble-key",                                                           \
	  "BLE public key invalid") /* BLE public key not a valid P-256 point */

typedef enum blt_err {
	BLT_OK = 0,
#define BLT_ERR_ENUM_(sym, val, name, text) sym = val,
	BLT_ERRORS(BLT_ERR_ENUM_)
#undef BLT_ERR_ENUM_
} blt_err_t;

/* Static English name of an error code ("CRC mismatch"); never NULL. */
BLT_API const char *blt_strerror(int err);
/* Short machine-readable name ("crc", "timeout", "not-applied"; "ok" for BLT_OK,
 * "unknown" otherwise), as in audit records and JSON. Never NULL. */
BLT_API const char *blt_err_name(int err);

/* Optional detail for an error: filled by the failing function when non-NULL. */
typedef struct blt_detail {
	char text[256];
} blt_detail_t;

/* Format into d (if d != NULL) and return err; for library-internal use and tools. A text
 * longer than the buffer is cut at the last space that fits and ends in "...", never in
 * the middle of a word (or of a UTF-8 character). */
BLT_API int blt_detail_set(blt_detail_t *d, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same with a va_list. */
BLT_API int blt_detail_vset(blt_detail_t *d, int err, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

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
BLT_API blt_err_t blt_hex_decode(const char *text, uint8_t *out, size_t cap, size_t *out_len,
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
