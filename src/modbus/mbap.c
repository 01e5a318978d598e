/* Modbus TCP framing (MBAP, LOCAL.md §1.3): pure conversions between ADUs and RTU frames.
 * The PDU is identical in both; an RTU frame adds the slave address in front and the
 * CRC behind, an ADU adds the 7-byte header in front. No I/O, no allocation. */
#include <string.h>

#include <bluetti/bluetti.h>

#include "modbus/modbus_internal.h"

#define MBAP_LEN_MIN 2 /* unit id + function code */
#define MBAP_LEN_MAX (1 + BLT_MBAP_PDU_MAX)

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)(v & 0xFF);
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

blt_err_t blt_mbap_build(uint16_t tid, uint8_t unit, const uint8_t *pdu, size_t pdu_len,
                         uint8_t *out, size_t cap, size_t *len, blt_detail_t *d)
{
	if (!out || !len || (!pdu && pdu_len))
		return blt_detail_set(d, BLT_E_INVAL, "no buffer");
	if (pdu_len < 1 || pdu_len > BLT_MBAP_PDU_MAX)
		return blt_detail_set(d, BLT_E_RANGE, "PDU of %zu bytes (1-%d allowed)", pdu_len,
		                      BLT_MBAP_PDU_MAX);
	if (cap < BLT_MBAP_HDR + pdu_len)
		return blt_detail_set(d, BLT_E_BUFSIZE, "ADU needs %zu bytes, buffer holds %zu",
		                      BLT_MBAP_HDR + pdu_len, cap);
	put_be16(out, tid);
	put_be16(out + 2, 0);
	put_be16(out + 4, (uint16_t)(pdu_len + 1));
	out[6] = unit;
	memmove(out + BLT_MBAP_HDR, pdu, pdu_len);
	*len = BLT_MBAP_HDR + pdu_len;
	return BLT_OK;
}

blt_err_t blt_mbap_from_rtu(uint16_t tid, const uint8_t *rtu, size_t n, uint8_t *out, size_t cap,
                            size_t *len, blt_detail_t *d)
{
	if (!rtu)
		return blt_detail_set(d, BLT_E_INVAL, "no frame");
	if (n < 4) /* slave + function + CRC */
		return blt_detail_set(d, BLT_E_SHORT, "RTU frame of %zu bytes", n);
	if (!blt_crc_ok(rtu, n))
		return blt_detail_set(d, BLT_E_CRC, "RTU frame CRC does not verify");
	return blt_mbap_build(tid, rtu[0], rtu + 1, n - 3, out, cap, len, d);
}

blt_err_t blt_mbap_parse(const uint8_t *p, size_t n, blt_mbap_t *out, blt_detail_t *d)
{
	uint16_t proto, length;

	if (!p || !out)
		return blt_detail_set(d, BLT_E_INVAL, "no input");
	if (n < 6)
		return blt_detail_set(d, BLT_E_SHORT, "MBAP header incomplete (%zu of 7 bytes)", n);
	proto = be16(p + 2);
	length = be16(p + 4);
	if (proto != 0)
		return blt_detail_set(d, BLT_E_PROTOCOL, "MBAP protocol id %u (Modbus is 0)",
		                      proto);
	if (length < MBAP_LEN_MIN || length > MBAP_LEN_MAX)
		return blt_detail_set(d, BLT_E_PROTOCOL, "MBAP length %u outside %d-%d", length,
		                      MBAP_LEN_MIN, MBAP_LEN_MAX);
	if (n < (size_t)6 + length)
		return blt_detail_set(d, BLT_E_SHORT, "ADU incomplete (%zu of %u bytes)", n,
		                      6u + length);
	out->tid = be16(p);
	out->unit = p[6];
	out->pdu = p + BLT_MBAP_HDR;
	out->pdu_len = (size_t)length - 1;
	out->adu_len = (size_t)6 + length;
	return BLT_OK;
}

blt_err_t blt_mbap_to_rtu(const blt_mbap_t *m, uint8_t *out, size_t cap, size_t *len,
                          blt_detail_t *d)
{
	if (!m || !m->pdu || !out || !len)
		return blt_detail_set(d, BLT_E_INVAL, "no ADU or buffer");
	if (m->pdu_len < 1 || m->pdu_len > BLT_MBAP_PDU_MAX)
		return blt_detail_set(d, BLT_E_RANGE, "PDU of %zu bytes", m->pdu_len);
	if (cap < m->pdu_len + 3)
		return blt_detail_set(d, BLT_E_BUFSIZE,
		                      "RTU frame needs %zu bytes, buffer holds %zu", m->pdu_len + 3,
		                      cap);
	out[0] = m->unit;
	memmove(out + 1, m->pdu, m->pdu_len);
	blt_crc_append(out, m->pdu_len + 1);
	*len = m->pdu_len + 3;
	return BLT_OK;
}
