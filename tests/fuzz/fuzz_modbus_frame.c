/* libFuzzer harness for the modbus layer: envelope detection, RTU parsing in both
 * directions, matching against fixed requests, and the parse -> build round trip (a frame
 * the parser accepts must be rebuilt byte for byte by the builders). Aborts on any
 * broken property; ASan/UBSan catch the rest. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bluetti/bluetti.h>

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

static void check_detail(int rc, const blt_detail_t *d)
{
	/* Every failure fills a terminated, non-empty detail line. */
	if (rc != BLT_OK) {
		CHECK(memchr(d->text, '\0', sizeof d->text) != NULL);
		CHECK(d->text[0] != '\0');
	}
}

/* A frame the parser accepted, rebuilt from the parsed fields, must equal the input. */
static void check_rebuild(const uint8_t *p, size_t n, blt_rtu_dir_t dir, const blt_rtu_t *r, int rc)
{
	uint8_t out[BLT_RTU_MAX + 8];
	uint16_t vals[BLT_MAX_WRITE_REGS];
	size_t len = 0;
	int brc;

	if (rc == BLT_E_EXCEPTION) {
		brc = blt_rtu_build_exception(r->slave, r->function, r->exception, out, sizeof out,
		                              &len);
	} else if (rc != BLT_OK) {
		return;
	} else if (r->function == BLT_FC_READ && dir == BLT_RTU_REQUEST) {
		brc = blt_rtu_build_read(r->slave, r->reg, r->count, out, sizeof out, &len);
	} else if (r->function == BLT_FC_READ) {
		CHECK(r->data == p + 3 && r->nbytes + 5 == n && r->count * 2u == r->nbytes);
		brc = blt_rtu_build_read_reply(r->slave, r->data, r->nbytes, out, sizeof out, &len);
	} else if (r->function == BLT_FC_WRITE1) {
		brc = blt_rtu_build_write1(r->slave, r->reg, r->value, out, sizeof out, &len);
	} else if (r->function == BLT_FC_WRITEN && dir == BLT_RTU_REQUEST) {
		CHECK(r->data == p + 7 && r->nbytes + 9 == n && r->count * 2u == r->nbytes);
		CHECK(r->count <= BLT_MAX_WRITE_REGS);
		for (size_t i = 0; i < r->count; i++)
			vals[i] = (uint16_t)(r->data[2 * i] << 8 | r->data[2 * i + 1]);
		brc = blt_rtu_build_writen(r->slave, r->reg, vals, r->count, out, sizeof out, &len);
	} else if (r->function == BLT_FC_WRITEN) {
		brc = blt_rtu_build_writen_reply(r->slave, r->reg, r->count, out, sizeof out, &len);
	} else {
		abort(); /* parser accepted a function it does not support */
	}
	CHECK(brc == BLT_OK);
	CHECK(len == n);
	CHECK(memcmp(out, p, n) == 0);
}

static void fuzz_rtu(const uint8_t *p, size_t n)
{
	static const char *requests[] = {
	    "00 03 00 64 00 42 85 f5",                /* read 100 x 66, slave 0 */
	    "01 06 07 db 00 01 39 45",                /* AC on, slave 1 */
	    "00 10 52 08 00 01 02 00 01 18 8d",       /* NODE_INFO query */
	    "01 10 07 db 00 02 04 00 01 00 01 09 70", /* 2011..2012 = 1, 1 */
	};
	blt_rtu_t req, rep;
	blt_detail_t d;
	int rc;

	for (int dir = BLT_RTU_REQUEST; dir <= BLT_RTU_REPLY; dir++) {
		blt_rtu_t r;
		rc = blt_rtu_parse(p, n, (blt_rtu_dir_t)dir, &r, &d);
		check_detail(rc, &d);
		if (rc == BLT_OK && r.data)
			CHECK(r.data >= p && r.data + r.nbytes <= p + n);
		check_rebuild(p, n, (blt_rtu_dir_t)dir, &r, rc);
	}

	rc = blt_rtu_parse(p, n, BLT_RTU_REPLY, &rep, &d);
	if (rc != BLT_OK && rc != BLT_E_EXCEPTION)
		return;
	for (size_t i = 0; i < sizeof requests / sizeof requests[0]; i++) {
		uint8_t q[32];
		size_t qn = 0;
		int mrc;
		CHECK(blt_hex_decode(requests[i], q, sizeof q, &qn, NULL) == BLT_OK);
		CHECK(blt_rtu_parse(q, qn, BLT_RTU_REQUEST, &req, NULL) == BLT_OK);
		mrc = blt_rtu_match(&req, &rep, &d);
		check_detail(mrc, &d);
		CHECK(mrc == BLT_OK || mrc == BLT_E_SLAVE || mrc == BLT_E_FUNCTION ||
		      mrc == BLT_E_MISMATCH || mrc == BLT_E_EXCEPTION);
		/* Exceptions never match as success; an accepted read never holds more. */
		if (mrc == BLT_OK) {
			CHECK(rc == BLT_OK);
			CHECK(rep.slave == req.slave && rep.function == req.function);
			if (req.function == BLT_FC_READ)
				CHECK(rep.count <= req.count);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	blt_env_info_t e;
	blt_detail_t d;
	int rc;

	/* As an MQTT payload: detect the envelope, then parse what it carries. */
	rc = blt_env_unwrap(data, size, &e, &d);
	check_detail(rc, &d);
	if (rc == BLT_OK) {
		CHECK(e.rtu >= data && e.rtu + e.rtu_len == data + size);
		fuzz_rtu(e.rtu, e.rtu_len);
	}
	/* As a bare frame. */
	fuzz_rtu(data, size);
	/* With its last two bytes replaced by the right CRC, so mutations reach the checks
	 * after the CRC (limits, exception codes, matching, rebuild) instead of dying there. */
	if (size >= 3 && size <= BLT_RTU_MAX + 8) {
		uint8_t f[BLT_RTU_MAX + 8];
		uint16_t crc = blt_crc16(data, size - 2);
		memcpy(f, data, size - 2);
		f[size - 2] = (uint8_t)(crc & 0xFF);
		f[size - 1] = (uint8_t)(crc >> 8);
		fuzz_rtu(f, size);
	}

	/* V2 wrap -> unwrap gives the same frame back. */
	if (size > 0 && size <= BLT_RTU_MAX) {
		uint8_t out[BLT_PAYLOAD_MAX];
		size_t len = 0;
		int8_t rssi = (int8_t)data[0];
		uint16_t reg = (uint16_t)(data[size - 1] << 8 | data[0]);
		CHECK(blt_env_wrap(BLT_ENV_V2, reg, rssi, data, size, out, sizeof out, &len) ==
		      BLT_OK);
		CHECK(blt_env_unwrap(out, len, &e, NULL) == BLT_OK);
		CHECK(e.envelope == BLT_ENV_V2 && e.reg == reg && e.rssi == rssi);
		CHECK(e.rtu_len == size && memcmp(e.rtu, data, size) == 0);
	}
	return 0;
}
