/* modbus.h - Modbus-RTU frames, CRC-16/MODBUS and the MQTT payload envelopes
 * (PROTOCOL.md §1.2-§1.10). Pure functions, no I/O, no allocation.
 *
 * Ownership: all output goes to caller buffers; parsed frames (blt_rtu_t) point into
 * the caller's input buffer and are valid as long as it is.
 */
#ifndef BLUETTI_MODBUS_H
#define BLUETTI_MODBUS_H

#include <stddef.h>
#include <stdint.h>

/* BLT_API, blt_err_t, blt_detail_t (without pulling in the other layer headers) */
#ifndef BLUETTI_BLUETTI_H
#define BLT_BASE_ONLY
#include <bluetti/bluetti.h>
#undef BLT_BASE_ONLY
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define BLT_FC_READ        0x03
#define BLT_FC_WRITE1      0x06
#define BLT_FC_WRITEN      0x10
#define BLT_MAX_READ_REGS  125 /* §1.8 */
#define BLT_MAX_WRITE_REGS 123 /* §1.8 */
/* Largest RTU frame: FC10 request with 123 registers = 9 + 246 = 255; reply 5 + 250. */
#define BLT_RTU_MAX 256
/* Largest enveloped payload. */
#define BLT_PAYLOAD_MAX (BLT_RTU_MAX + 16)

/* CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF); on the wire low byte first. */
BLT_API uint16_t blt_crc16(const uint8_t *p, size_t n);

/* Builders. Each writes a complete frame including CRC into out[cap] and its length into
 * *len. Register-count limits of §1.8 are enforced (BLT_E_RANGE). */
BLT_API int blt_rtu_build_read(uint8_t slave, uint16_t start, uint16_t count, uint8_t *out,
                               size_t cap, size_t *len);
BLT_API int blt_rtu_build_write1(uint8_t slave, uint16_t reg, uint16_t value, uint8_t *out,
                                 size_t cap, size_t *len);
BLT_API int blt_rtu_build_writen(uint8_t slave, uint16_t start, const uint16_t *values,
                                 uint16_t count, uint8_t *out, size_t cap, size_t *len);
/* Device-side builders (simulator, tests). data/nbytes: register data, nbytes even, <= 250. */
BLT_API int blt_rtu_build_read_reply(uint8_t slave, const uint8_t *data, size_t nbytes,
                                     uint8_t *out, size_t cap, size_t *len);
BLT_API int blt_rtu_build_writen_reply(uint8_t slave, uint16_t start, uint16_t count, uint8_t *out,
                                       size_t cap, size_t *len);
BLT_API int blt_rtu_build_exception(uint8_t slave, uint8_t function, uint8_t code, uint8_t *out,
                                    size_t cap, size_t *len);
/* (FC06 reply = the request echoed: use blt_rtu_build_write1.) */

/* Direction of a frame: requests go client -> device, replies device -> client.
 * Device-originated FC10 pushes (§1.6) have the shape of a request. */
typedef enum blt_rtu_dir {
	BLT_RTU_REQUEST = 0,
	BLT_RTU_REPLY = 1,
} blt_rtu_dir_t;

/* A parsed frame. Which members are meaningful depends on function and direction:
 *  FC03 request: reg, count.      FC03 reply: data/nbytes (count = nbytes/2).
 *  FC06 request/reply: reg, value. FC10 request: reg, count, data/nbytes.
 *  FC10 reply: reg, count.        exception reply: exception (function has bit 7 set).
 */
typedef struct blt_rtu {
	uint8_t slave;
	uint8_t function;  /* as on the wire, including 0x80 for exceptions */
	uint8_t exception; /* exception code, 0 if none */
	uint16_t reg;
	uint16_t count;
	uint16_t value;
	const uint8_t *data; /* register data, big-endian registers, points into input */
	size_t nbytes;
} blt_rtu_t;

/* Parse and fully validate one RTU frame (§1.3 rules: minimum length, byte count even
 * and consistent with the frame length, no trailing bytes, CRC, register limits).
 * An exception frame parses successfully into out and returns BLT_E_EXCEPTION, so the
 * caller can read out->exception. Errors: BLT_E_SHORT, BLT_E_TRAILING, BLT_E_BYTECOUNT,
 * BLT_E_CRC, BLT_E_FUNCTION (unsupported function), BLT_E_RANGE. */
BLT_API blt_err_t blt_rtu_parse(const uint8_t *p, size_t n, blt_rtu_dir_t dir, blt_rtu_t *out,
                                blt_detail_t *d);

/* Check that a parsed reply answers the request frame req (slave, function, register /
 * echo, length plausibility: a read reply may hold fewer registers than asked, never
 * more). Returns BLT_OK, BLT_E_SLAVE, BLT_E_FUNCTION, BLT_E_MISMATCH or BLT_E_EXCEPTION. */
BLT_API blt_err_t blt_rtu_match(const blt_rtu_t *req, const blt_rtu_t *reply, blt_detail_t *d);

/* Name of a Modbus exception code: 1 "illegal function", 2 "illegal data address",
 * 3 "illegal data value", 4 "slave device failure", 5 "acknowledge", 6 "slave device
 * busy", others "unknown exception". */
BLT_API const char *blt_exception_name(uint8_t code);

/* MQTT payload envelopes (§1.10). */
typedef enum blt_envelope {
	BLT_ENV_BARE = 0,   /* RTU frame only */
	BLT_ENV_LEGACY = 1, /* 0x01 + RTU frame */
	BLT_ENV_V2 = 2,     /* 01 F8 0F reg_hi reg_lo 00 00 rssi 00 00 + RTU frame */
} blt_envelope_t;

#define BLT_ENV_V2_LEN 10

BLT_API const char *blt_envelope_name(blt_envelope_t e); /* "bare", "legacy", "v2" */
/* Parse "bare" / "legacy" / "v2"; BLT_E_NOT_FOUND otherwise. */
BLT_API int blt_envelope_from_name(const char *name, blt_envelope_t *out);

/* Wrap an RTU frame. reg goes to bytes 3-4 of the V2 envelope (the start register of the
 * request, or 0); rssi to byte 7 (device side; 0 from clients). */
BLT_API int blt_env_wrap(blt_envelope_t env, uint16_t reg, int8_t rssi, const uint8_t *rtu,
                         size_t n, uint8_t *out, size_t cap, size_t *len);

typedef struct blt_env_info {
	blt_envelope_t envelope;
	uint16_t reg;       /* bytes 3-4 of a V2 envelope, else 0 */
	int8_t rssi;        /* byte 7 of a V2 envelope (dBm), else 0 */
	const uint8_t *rtu; /* points into the payload */
	size_t rtu_len;
} blt_env_info_t;

/* Detect and strip the envelope: 01 F8 -> V2 (needs >= 10 bytes, else BLT_E_ENVELOPE);
 * otherwise a payload whose CRC verifies as a whole is bare; otherwise a leading 0x01
 * whose remainder verifies is legacy; otherwise bare (the RTU parser then reports the
 * CRC error). Empty payload: BLT_E_SHORT. */
BLT_API blt_err_t blt_env_unwrap(const uint8_t *payload, size_t n, blt_env_info_t *out,
                                 blt_detail_t *d);

/* Modbus TCP application data units (MBAP, LOCAL.md §1.3): a 7-byte header (transaction
 * id, protocol id 0, length = 1 + PDU bytes, unit id) followed by the PDU (function code
 * and data), no CRC. The same PDU travels in an RTU frame with the unit id as the slave
 * address, so converting lets the RTU builders, parser and matcher serve Modbus TCP too. */
#define BLT_MBAP_HDR     7
#define BLT_MBAP_PDU_MAX 253
#define BLT_MBAP_MAX     (BLT_MBAP_HDR - 1 + BLT_MBAP_PDU_MAX + 1) /* 260 */

typedef struct blt_mbap {
	uint16_t tid;       /* transaction id */
	uint8_t unit;       /* unit id */
	const uint8_t *pdu; /* function code + data; points into the input */
	size_t pdu_len;
	size_t adu_len; /* bytes of the input this ADU occupies (header + PDU) */
} blt_mbap_t;

/* Wrap an RTU frame (CRC verified, then dropped) as an ADU with transaction id tid.
 * Errors: BLT_E_SHORT (under 4 bytes), BLT_E_CRC, BLT_E_BUFSIZE. */
BLT_API blt_err_t blt_mbap_from_rtu(uint16_t tid, const uint8_t *rtu, size_t n, uint8_t *out,
                                    size_t cap, size_t *len, blt_detail_t *d);
/* Parse the ADU at the start of a byte stream p[0..n). BLT_E_SHORT when more bytes are
 * needed (a partial header or PDU: keep them and read on); BLT_E_PROTOCOL for a
 * protocol id other than 0 or a length field outside 2..254 (the stream cannot be
 * resynchronised: close the connection). Bytes after adu_len belong to the next ADU. */
BLT_API blt_err_t blt_mbap_parse(const uint8_t *p, size_t n, blt_mbap_t *out, blt_detail_t *d);
/* The RTU frame carrying the same PDU (slave = unit id, CRC appended). */
BLT_API blt_err_t blt_mbap_to_rtu(const blt_mbap_t *m, uint8_t *out, size_t cap, size_t *len,
                                  blt_detail_t *d);
/* Build an ADU around a PDU (device side: replies keep the request's tid and unit). */
BLT_API blt_err_t blt_mbap_build(uint16_t tid, uint8_t unit, const uint8_t *pdu, size_t pdu_len,
                                 uint8_t *out, size_t cap, size_t *len, blt_detail_t *d);

#ifdef __cplusplus
}
#endif

#endif
