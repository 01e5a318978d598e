/* MQTT payload envelopes around RTU frames (PROTOCOL.md §1.10): bare, legacy (0x01 prefix)
 * and the 10-byte V2 envelope 01 F8 0F reg_hi reg_lo 00 00 rssi 00 00. */
#include <string.h>

#include <bluetti/bluetti.h>

#include "modbus/modbus_internal.h"

#define ENV_LEGACY_BYTE 0x01
/* Shortest RTU frame (exception reply); shorter payloads are never CRC-checked as frames,
 * so a stray "ff ff" does not pass as a bare frame with an empty body. */
#define RTU_MIN 5

const char *blt_envelope_name(blt_envelope_t e)
{
	switch (e) {
	case BLT_ENV_BARE: return "bare";
	case BLT_ENV_LEGACY: return "legacy";
	case BLT_ENV_V2: return "v2";
	}
	return "unknown";
}

static int name_is(const char *a, const char *b)
{
	for (; *a && *b; a++, b++) {
		int c = (unsigned char)*a;
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c != *b)
			return 0;
	}
	return *a == '\0' && *b == '\0';
}

int blt_envelope_from_name(const char *name, blt_envelope_t *out)
{
	static const blt_envelope_t all[] = {BLT_ENV_BARE, BLT_ENV_LEGACY, BLT_ENV_V2};

	if (!name || !out)
		return BLT_E_INVAL;
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		if (name_is(name, blt_envelope_name(all[i]))) {
			*out = all[i];
			return BLT_OK;
		}
	}
	return BLT_E_NOT_FOUND;
}

int blt_env_wrap(blt_envelope_t env, uint16_t reg, int8_t rssi, const uint8_t *rtu, size_t n,
                 uint8_t *out, size_t cap, size_t *len)
{
	size_t hdr;

	if (!rtu || n == 0 || !out || !len)
		return BLT_E_INVAL;
	if (n > BLT_RTU_MAX)
		return BLT_E_RANGE;
	switch (env) {
	case BLT_ENV_BARE: hdr = 0; break;
	case BLT_ENV_LEGACY: hdr = 1; break;
	case BLT_ENV_V2: hdr = BLT_ENV_V2_LEN; break;
	default: return BLT_E_INVAL;
	}
	if (cap < hdr + n)
		return BLT_E_BUFSIZE;
	/* memmove first: rtu may already sit inside out (e.g. built at out + 10). */
	memmove(out + hdr, rtu, n);
	if (env == BLT_ENV_LEGACY) {
		out[0] = ENV_LEGACY_BYTE;
	} else if (env == BLT_ENV_V2) {
		memset(out, 0, BLT_ENV_V2_LEN);
		out[0] = 0x01;
		out[1] = 0xF8;
		out[2] = 0x0F;
		out[3] = (uint8_t)(reg >> 8);
		out[4] = (uint8_t)(reg & 0xFF);
		out[7] = (uint8_t)rssi;
	}
	*len = hdr + n;
	return BLT_OK;
}

blt_err_t blt_env_unwrap(const uint8_t *payload, size_t n, blt_env_info_t *out, blt_detail_t *d)
{
	if (!out || (!payload && n > 0))
		return blt_detail_set(d, BLT_E_INVAL, "no payload or no output");
	memset(out, 0, sizeof *out);
	if (n == 0)
		return blt_detail_set(d, BLT_E_SHORT, "empty payload");

	if (n >= 2 && payload[0] == 0x01 && payload[1] == 0xF8) {
		if (n < BLT_ENV_V2_LEN)
			return blt_detail_set(d, BLT_E_ENVELOPE,
			                      "V2 envelope truncated: %zu of %d bytes", n,
			                      BLT_ENV_V2_LEN);
		out->envelope = BLT_ENV_V2;
		out->reg = (uint16_t)(payload[3] << 8 | payload[4]);
		out->rssi = (int8_t)payload[7];
		out->rtu = payload + BLT_ENV_V2_LEN;
		out->rtu_len = n - BLT_ENV_V2_LEN;
		return BLT_OK;
	}
	/* Bare wins over legacy when both verify: a bare frame from slave 1 starts with 0x01. */
	if (n >= RTU_MIN && blt_crc_ok(payload, n)) {
		out->envelope = BLT_ENV_BARE;
		out->rtu = payload;
		out->rtu_len = n;
		return BLT_OK;
	}
	if (payload[0] == ENV_LEGACY_BYTE && n - 1 >= RTU_MIN && blt_crc_ok(payload + 1, n - 1)) {
		out->envelope = BLT_ENV_LEGACY;
		out->rtu = payload + 1;
		out->rtu_len = n - 1;
		return BLT_OK;
	}
	/* Nothing verifies: hand it on as bare; the RTU parser names the problem. */
	out->envelope = BLT_ENV_BARE;
	out->rtu = payload;
	out->rtu_len = n;
	return BLT_OK;
}
