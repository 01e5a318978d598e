/* Modbus-RTU frames (PROTOCOL.md §1.2-§1.8): builders, a validating parser, reply/request
 * matching and exception names. Pure functions: no I/O, no allocation.
 *
 * Parser order: function and direction first, then the structure (length against the
 * frame kind or the byte-count field), then the CRC, then the semantic limits (register
 * counts, exception code). So a well-formed exception frame with a bad CRC is a CRC
 * error, and a count of 0 is reported only for a frame whose CRC verifies.
 *
 * Length problems are told apart with the CRC where it helps: a frame shorter than its
 * byte count whose CRC still verifies over what is there was complete and its byte count
 * lies (BLT_E_BYTECOUNT); without a verifying CRC it was cut off (BLT_E_SHORT). A frame
 * longer than its kind allows is BLT_E_TRAILING when the CRC verifies at the expected end,
 * BLT_E_BYTECOUNT when it verifies only over the whole frame (byte count too small). */
#include <string.h>

#include <bluetti/bluetti.h>

#include "modbus/modbus_internal.h"

#define RTU_EXC_LEN       5 /* addr fc|0x80 code crc crc */
#define RTU_FIXED_LEN     8 /* FC03 request, FC06 both ways, FC10 reply */
#define RTU_MAX_BYTECOUNT 250

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)(v & 0xFF);
}

static int check_out(uint8_t *out, size_t cap, size_t *len, size_t need, blt_detail_t *d)
{
	if (!out || !len)
		return blt_detail_set(d, BLT_E_INVAL, "no output buffer");
	if (cap < need)
		return blt_detail_set(d, BLT_E_BUFSIZE, "frame needs %zu bytes, buffer holds %zu",
		                      need, cap);
	return BLT_OK;
}

/* The 6-byte head of FC03/FC06/FC10 requests and FC06/FC10 replies: addr, fc, two words. */
static void put_head(uint8_t *out, uint8_t slave, uint8_t fc, uint16_t a, uint16_t b)
{
	out[0] = slave;
	out[1] = fc;
	put_be16(out + 2, a);
	put_be16(out + 4, b);
}

/* Head + CRC: FC03 request, FC06, FC10 reply. */
static int build_fixed(uint8_t slave, uint8_t fc, uint16_t a, uint16_t b, uint8_t *out, size_t cap,
                       size_t *len)
{
	int rc = check_out(out, cap, len, RTU_FIXED_LEN, NULL);

	if (rc != BLT_OK)
		return rc;
	put_head(out, slave, fc, a, b);
	blt_crc_append(out, 6);
	*len = RTU_FIXED_LEN;
	return BLT_OK;
}

int blt_rtu_build_read(uint8_t slave, uint16_t start, uint16_t count, uint8_t *out, size_t cap,
                       size_t *len)
{
	if (count == 0 || count > BLT_MAX_READ_REGS)
		return BLT_E_RANGE;
	return build_fixed(slave, BLT_FC_READ, start, count, out, cap, len);
}

int blt_rtu_build_write1(uint8_t slave, uint16_t reg, uint16_t value, uint8_t *out, size_t cap,
                         size_t *len)
{
	return build_fixed(slave, BLT_FC_WRITE1, reg, value, out, cap, len);
}

int blt_rtu_build_writen(uint8_t slave, uint16_t start, const uint16_t *values, uint16_t count,
                         uint8_t *out, size_t cap, size_t *len)
{
	size_t need;
	int rc;

	if (count == 0 || count > BLT_MAX_WRITE_REGS)
		return BLT_E_RANGE;
	if (!values)
		return BLT_E_INVAL;
	need = 9 + 2 * (size_t)count;
	rc = check_out(out, cap, len, need, NULL);
	if (rc != BLT_OK)
		return rc;
	put_head(out, slave, BLT_FC_WRITEN, start, count);
	out[6] = (uint8_t)(2 * count);
	for (size_t i = 0; i < count; i++)
		put_be16(out + 7 + 2 * i, values[i]);
	blt_crc_append(out, need - 2);
	*len = need;
	return BLT_OK;
}

int blt_rtu_build_read_reply(uint8_t slave, const uint8_t *data, size_t nbytes, uint8_t *out,
                             size_t cap, size_t *len)
{
	size_t need;
	int rc;

	if (nbytes == 0 || nbytes > RTU_MAX_BYTECOUNT)
		return BLT_E_RANGE;
	if (nbytes % 2 != 0 || !data)
		return BLT_E_INVAL;
	need = 5 + nbytes;
	rc = check_out(out, cap, len, need, NULL);
	if (rc != BLT_OK)
		return rc;
	/* memmove: the simulator may build in place over its own register image. */
	memmove(out + 3, data, nbytes);
	out[0] = slave;
	out[1] = BLT_FC_READ;
	out[2] = (uint8_t)nbytes;
	blt_crc_append(out, need - 2);
	*len = need;
	return BLT_OK;
}

int blt_rtu_build_writen_reply(uint8_t slave, uint16_t start, uint16_t count, uint8_t *out,
                               size_t cap, size_t *len)
{
	if (count == 0 || count > BLT_MAX_WRITE_REGS)
		return BLT_E_RANGE;
	return build_fixed(slave, BLT_FC_WRITEN, start, count, out, cap, len);
}

int blt_rtu_build_exception(uint8_t slave, uint8_t function, uint8_t code, uint8_t *out, size_t cap,
                            size_t *len)
{
	int rc;

	/* Code 0 would read as "no exception" in blt_rtu_t. */
	if (code == 0)
		return BLT_E_RANGE;
	rc = check_out(out, cap, len, RTU_EXC_LEN, NULL);
	if (rc != BLT_OK)
		return rc;
	out[0] = slave;
	out[1] = (uint8_t)(function | 0x80);
	out[2] = code;
	blt_crc_append(out, 3);
	*len = RTU_EXC_LEN;
	return BLT_OK;
}

const char *blt_exception_name(uint8_t code)
{
	switch (code) {
	case 1: return "illegal function";
	case 2: return "illegal data address";
	case 3: return "illegal data value";
	case 4: return "slave device failure";
	case 5: return "acknowledge";
	case 6: return "slave device busy";
	}
	return "unknown exception";
}

static const char *kind_name(uint8_t fc, blt_rtu_dir_t dir)
{
	int req = dir == BLT_RTU_REQUEST;

	switch (fc) {
	case BLT_FC_READ: return req ? "FC03 request" : "FC03 reply";
	case BLT_FC_WRITE1: return req ? "FC06 request" : "FC06 reply";
	case BLT_FC_WRITEN: return req ? "FC10 request" : "FC10 reply";
	}
	return "exception reply";
}

/* A frame of a fixed length want (exception, FC03 request, FC06, FC10 reply). */
static int check_fixed_len(const uint8_t *p, size_t n, size_t want, const char *kind,
                           blt_detail_t *d)
{
	if (n < want)
		return blt_detail_set(d, BLT_E_SHORT, "%s truncated: %zu of %zu bytes", kind, n,
		                      want);
	if (n > want)
		return blt_detail_set(d, BLT_E_TRAILING,
		                      "%s is %zu bytes, %zu trailing after the %zu-byte frame%s",
		                      kind, n, n - want, want,
		                      blt_crc_ok(p, want) ? "" : " (CRC does not verify there)");
	return BLT_OK;
}

/* A frame whose length follows from its byte-count field: hdr bytes before the data,
 * bc data bytes, 2 CRC bytes. */
static int check_counted_len(const uint8_t *p, size_t n, size_t hdr, size_t bc, const char *kind,
                             blt_detail_t *d)
{
	size_t want = hdr + bc + 2;
	size_t held = n >= hdr + 2 ? n - hdr - 2 : 0;

	if (n == want)
		return BLT_OK;
	if (n < want) {
		if (n >= hdr + 2 && blt_crc_ok(p, n))
			return blt_detail_set(d, BLT_E_BYTECOUNT,
			                      "%s: byte count %zu but frame holds %zu data bytes",
			                      kind, bc, held);
		return blt_detail_set(d, BLT_E_SHORT,
		                      "%s truncated: %zu of %zu bytes (byte count %zu)", kind, n,
		                      want, bc);
	}
	if (blt_crc_ok(p, want))
		return blt_detail_set(d, BLT_E_TRAILING,
		                      "%s is %zu bytes, %zu trailing after the %zu-byte frame",
		                      kind, n, n - want, want);
	return blt_detail_set(d, BLT_E_BYTECOUNT,
	                      "%s: byte count %zu but frame holds %zu data bytes", kind, bc, held);
}

static int check_crc(const uint8_t *p, size_t n, const char *kind, blt_detail_t *d)
{
	uint16_t want = blt_crc16(p, n - 2);
	uint16_t got = (uint16_t)(p[n - 2] | p[n - 1] << 8);

	if (want != got)
		return blt_detail_set(d, BLT_E_CRC,
		                      "%s: CRC on the wire 0x%04x, computed 0x%04x over %zu bytes",
		                      kind, got, want, n - 2);
	return BLT_OK;
}

static int check_count(uint16_t count, uint16_t max, const char *kind, blt_detail_t *d)
{
	if (count == 0 || count > max)
		return blt_detail_set(d, BLT_E_RANGE, "%s: register count %u outside 1..%u", kind,
		                      count, max);
	return BLT_OK;
}

static int parse_exception(const uint8_t *p, size_t n, blt_rtu_t *out, blt_detail_t *d)
{
	const char *kind = "exception reply";
	int rc = check_fixed_len(p, n, RTU_EXC_LEN, kind, d);

	if (rc != BLT_OK)
		return rc;
	rc = check_crc(p, n, kind, d);
	if (rc != BLT_OK)
		return rc;
	if (p[2] == 0)
		return blt_detail_set(
		    d, BLT_E_RANGE, "exception reply to function 0x%02x with code 0", p[1] & 0x7F);
	out->exception = p[2];
	return blt_detail_set(d, BLT_E_EXCEPTION, "exception %u (%s) to function 0x%02x", p[2],
	                      blt_exception_name(p[2]), p[1] & 0x7F);
}

blt_err_t blt_rtu_parse(const uint8_t *p, size_t n, blt_rtu_dir_t dir, blt_rtu_t *out,
                        blt_detail_t *d)
{
	const char *kind;
	uint8_t fc;
	int rc;

	if (!out || (!p && n > 0))
		return blt_detail_set(d, BLT_E_INVAL, "no frame or no output");
	if (dir != BLT_RTU_REQUEST && dir != BLT_RTU_REPLY)
		return blt_detail_set(d, BLT_E_INVAL, "direction %d is neither request nor reply",
		                      (int)dir);
	memset(out, 0, sizeof *out);
	if (n < 2)
		return blt_detail_set(d, BLT_E_SHORT,
		                      "frame truncated: %zu bytes, no function code", n);
	out->slave = p[0];
	out->function = fc = p[1];

	if (fc & 0x80) {
		if (dir == BLT_RTU_REQUEST)
			return blt_detail_set(d, BLT_E_FUNCTION,
			                      "exception function 0x%02x in a request", fc);
		return parse_exception(p, n, out, d);
	}
	if (fc != BLT_FC_READ && fc != BLT_FC_WRITE1 && fc != BLT_FC_WRITEN)
		return blt_detail_set(d, BLT_E_FUNCTION, "unsupported function 0x%02x (%zu bytes)",
		                      fc, n);
	kind = kind_name(fc, dir);

	if (fc == BLT_FC_READ && dir == BLT_RTU_REPLY) {
		size_t bc;
		if (n < 3)
			return blt_detail_set(d, BLT_E_SHORT,
			                      "%s truncated: %zu bytes, no byte count", kind, n);
		bc = p[2];
		if (bc % 2 != 0 || bc > RTU_MAX_BYTECOUNT)
			return blt_detail_set(d, BLT_E_BYTECOUNT, "%s: byte count %zu is %s", kind,
			                      bc, bc % 2 ? "odd" : "above 250");
		rc = check_counted_len(p, n, 3, bc, kind, d);
		if (rc == BLT_OK)
			rc = check_crc(p, n, kind, d);
		if (rc != BLT_OK)
			return rc;
		out->data = p + 3;
		out->nbytes = bc;
		out->count = (uint16_t)(bc / 2);
		return check_count(out->count, BLT_MAX_READ_REGS, kind, d);
	}

	if (fc == BLT_FC_WRITEN && dir == BLT_RTU_REQUEST) {
		size_t bc;
		uint16_t qty;
		if (n < 7)
			return blt_detail_set(d, BLT_E_SHORT,
			                      "%s truncated: %zu bytes, no byte count", kind, n);
		qty = be16(p + 4);
		bc = p[6];
		if (bc % 2 != 0 || bc > RTU_MAX_BYTECOUNT)
			return blt_detail_set(d, BLT_E_BYTECOUNT, "%s: byte count %zu is %s", kind,
			                      bc, bc % 2 ? "odd" : "above 250");
		rc = check_counted_len(p, n, 7, bc, kind, d);
		if (rc != BLT_OK)
			return rc;
		if (bc != 2 * (size_t)qty)
			return blt_detail_set(d, BLT_E_BYTECOUNT,
			                      "%s: byte count %zu but quantity %u needs %zu", kind,
			                      bc, qty, 2 * (size_t)qty);
		rc = check_crc(p, n, kind, d);
		if (rc != BLT_OK)
			return rc;
		out->reg = be16(p + 2);
		out->count = qty;
		out->data = p + 7;
		out->nbytes = bc;
		return check_count(qty, BLT_MAX_WRITE_REGS, kind, d);
	}

	/* Fixed 8-byte frames: FC03 request, FC06 request/echo, FC10 reply. */
	rc = check_fixed_len(p, n, RTU_FIXED_LEN, kind, d);
	if (rc == BLT_OK)
		rc = check_crc(p, n, kind, d);
	if (rc != BLT_OK)
		return rc;
	out->reg = be16(p + 2);
	if (fc == BLT_FC_WRITE1) {
		out->value = be16(p + 4);
		return BLT_OK;
	}
	out->count = be16(p + 4);
	return check_count(out->count, fc == BLT_FC_READ ? BLT_MAX_READ_REGS : BLT_MAX_WRITE_REGS,
	                   kind, d);
}

blt_err_t blt_rtu_match(const blt_rtu_t *req, const blt_rtu_t *reply, blt_detail_t *d)
{
	uint8_t base;

	if (!req || !reply)
		return blt_detail_set(d, BLT_E_INVAL, "no request or no reply");
	if (reply->slave != req->slave)
		return blt_detail_set(d, BLT_E_SLAVE, "reply from slave %u, request to slave %u",
		                      reply->slave, req->slave);
	base = reply->function & 0x7F;
	if (base != req->function)
		return blt_detail_set(d, BLT_E_FUNCTION,
		                      "reply function 0x%02x, request function 0x%02x",
		                      reply->function, req->function);
	if (reply->function & 0x80)
		return blt_detail_set(d, BLT_E_EXCEPTION, "exception %u (%s) to function 0x%02x",
		                      reply->exception, blt_exception_name(reply->exception), base);

	switch (req->function) {
	case BLT_FC_READ:
		if (reply->nbytes == 0 || reply->nbytes / 2 > req->count)
			return blt_detail_set(d, BLT_E_MISMATCH,
			                      "read of %u registers at %u answered with %zu bytes "
			                      "(%zu registers)",
			                      req->count, req->reg, reply->nbytes,
			                      reply->nbytes / 2);
		return BLT_OK;
	case BLT_FC_WRITE1:
		if (reply->reg != req->reg || reply->value != req->value)
			return blt_detail_set(d, BLT_E_MISMATCH,
			                      "write echo reg %u = %u, request reg %u = %u",
			                      reply->reg, reply->value, req->reg, req->value);
		return BLT_OK;
	case BLT_FC_WRITEN:
		if (reply->reg != req->reg || reply->count != req->count)
			return blt_detail_set(
			    d, BLT_E_MISMATCH,
			    "write reply start %u qty %u, request start %u qty %u", reply->reg,
			    reply->count, req->reg, req->count);
		return BLT_OK;
	}
	return blt_detail_set(d, BLT_E_FUNCTION, "cannot match function 0x%02x", req->function);
}
