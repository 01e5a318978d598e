/* Modbus layer figures: ns per build / parse of a 62-register FC03 reply (the block-100
 * reply, CRC included), per V2 unwrap + parse, per read request build, and CRC throughput.
 * Prints figures only; nothing is asserted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bluetti/bluetti.h>

#define ITER 2000000

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Keeps the compiler from dropping the measured work. */
static volatile size_t sink;

int main(void)
{
	uint8_t data[124], frame[BLT_RTU_MAX], payload[BLT_PAYLOAD_MAX], big[4096];
	size_t len = 0, plen = 0;
	blt_rtu_t r;
	blt_env_info_t e;
	double t0, t1;

	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 31 + 7);
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)(i * 13 + 5);

	t0 = now_ns();
	for (int i = 0; i < ITER; i++) {
		data[0] = (uint8_t)i;
		if (blt_rtu_build_read_reply(0, data, sizeof data, frame, sizeof frame, &len))
			return 1;
		sink += frame[len - 1];
	}
	t1 = now_ns();
	printf("build FC03 reply, 62 registers (129 bytes):   %7.1f ns/frame\n", (t1 - t0) / ITER);

	t0 = now_ns();
	for (int i = 0; i < ITER; i++) {
		if (blt_rtu_parse(frame, len, BLT_RTU_REPLY, &r, NULL))
			return 1;
		sink += r.nbytes;
	}
	t1 = now_ns();
	printf("parse FC03 reply, 62 registers (129 bytes):   %7.1f ns/frame\n", (t1 - t0) / ITER);

	if (blt_env_wrap(BLT_ENV_V2, 0, -71, frame, len, payload, sizeof payload, &plen))
		return 1;
	t0 = now_ns();
	for (int i = 0; i < ITER; i++) {
		if (blt_env_unwrap(payload, plen, &e, NULL) ||
		    blt_rtu_parse(e.rtu, e.rtu_len, BLT_RTU_REPLY, &r, NULL))
			return 1;
		sink += r.nbytes;
	}
	t1 = now_ns();
	printf("unwrap V2 + parse, 62 registers (139 bytes):  %7.1f ns/payload\n",
	       (t1 - t0) / ITER);

	/* Bare payload: detection runs the CRC once more before the parser does. */
	t0 = now_ns();
	for (int i = 0; i < ITER; i++) {
		if (blt_env_unwrap(frame, len, &e, NULL) ||
		    blt_rtu_parse(e.rtu, e.rtu_len, BLT_RTU_REPLY, &r, NULL))
			return 1;
		sink += r.nbytes;
	}
	t1 = now_ns();
	printf("unwrap bare + parse, 62 registers (129 bytes): %6.1f ns/payload\n",
	       (t1 - t0) / ITER);

	t0 = now_ns();
	for (int i = 0; i < ITER; i++) {
		if (blt_rtu_build_read(0, (uint16_t)i, 62, frame, sizeof frame, &len))
			return 1;
		sink += frame[7];
	}
	t1 = now_ns();
	printf("build FC03 request (8 bytes):                 %7.1f ns/frame\n", (t1 - t0) / ITER);

	t0 = now_ns();
	for (int i = 0; i < ITER / 100; i++) {
		big[0] = (uint8_t)i;
		sink += blt_crc16(big, sizeof big);
	}
	t1 = now_ns();
	printf("CRC-16/MODBUS:                                %7.1f MB/s\n",
	       (double)sizeof big * (ITER / 100) / ((t1 - t0) / 1e9) / 1e6);
	return 0;
}
