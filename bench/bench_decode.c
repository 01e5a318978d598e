/* Decode cost per field for blocks 100, 1300, 6000 and 6300 (golden payloads of
 * PROTOCOL.md §7), plus text and JSON formatting. Prints figures; asserts nothing.
 * Target: <= 20 ns per decoded value on the project machine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bluetti/bluetti.h>

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static const struct {
	uint16_t id;
	const char *what;
	const char *hex;
} cases[] = {
    {100, "block 100 (§7.2 EL100V2, 124 B)",
     "14c1 ffe3 004c 0002 0000 051d 0000 0001 0001 0000 4c45 3031 5630 0032 0000 0000"
     "4ad9 b5b6 0236 0000 0001 0001 0001 0428 000b 0000 0000 0000 0000 0000 0000 0000"
     "0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0091 0000 0000 0000 0000 0000"
     "009a 0000 0038 0000 04d2 0000 0237 0000 037a 0000 0000 0000 0000 0001"},
    {1300, "block 1300 (§7.3 3-phase, 62 B)",
     "01f4 0000 0000 0000 04d2 0000 0038 0000 0000 0000 0000 0000 0003 fea2 08fd fff0"
     "017c 0000 0000 fe5c 08f7 ffed 01b4 0000 0000 fed4 0906 fff2 0143 0000 0000"},
    {6000, "block 6000 (§7.2 EL100V2, 68 B)",
     "0000 0001 0001 14c1 ffe3 004c 0064 0041 0001 0002 0240 00c8 012c 0003 0000 0000"
     "0001 0000 051d c849 0002 9ce2 0002 0000 0000 0000 0000 0000 0000 0000 0000 0000"
     "0000 0000"},
    {6300, "block 6300 (§7.1 AP300, 44 B)",
     "0010 0004 0cfd 0cfc 0cfc 0cfc 0cfc 0cfc 0cfc 0cfb 0cfb 0cfb 0cfb 0cfb 0cfb 0cfb"
     "0cfb 0cf9 4545 4545 0000 0000"},
};

static blt_decoded_t res;

int main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 200000;
	FILE *sink = fopen("/dev/null", "w");
	blt_decode_opts_t o = {.protocol_version = 2015, .pack_voltage_scale = 0.01};

	if (!sink || iters <= 0)
		return 1;
	printf("decode: best of 7 trials of %ld/7 decodes; text/json: mean of %ld\n", iters,
	       iters / 10);
	printf("%-34s %8s %10s %12s %12s %12s\n", "payload", "values", "ns/decode", "ns/value",
	       "ns/text", "ns/json");
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		uint8_t buf[256];
		size_t n = 0;
		const blt_block_t *b = blt_catalog_find(cases[c].id);
		volatile size_t keep = 0;
		double t0, t1, t2, t3;
		if (!b || blt_hex_decode(cases[c].hex, buf, sizeof buf, &n, NULL) != BLT_OK)
			return 1;
		for (long i = 0; i < iters / 10; i++) /* warm-up */
			keep += (size_t)blt_decode(b, buf, n, &o, &res, NULL) + res.count;
		/* best of 7 trials: the machine is shared, the minimum is the decoder's cost */
		double best = 1e300;
		for (int trial = 0; trial < 7; trial++) {
			t0 = now_ns();
			for (long i = 0; i < iters / 7; i++) {
				blt_decode(b, buf, n, &o, &res, NULL);
				keep += res.count;
			}
			t1 = now_ns();
			if ((t1 - t0) / (double)(iters / 7) < best)
				best = (t1 - t0) / (double)(iters / 7);
		}
		t1 = now_ns();
		for (long i = 0; i < iters / 10; i++)
			blt_format_text(&res, 0, sink);
		t2 = now_ns();
		for (long i = 0; i < iters / 10; i++)
			blt_format_json(&res, 0, sink);
		t3 = now_ns();
		(void)keep;
		double per = best;
		printf("%-34s %8zu %10.1f %12.2f %12.1f %12.1f\n", cases[c].what, res.count, per,
		       per / (double)res.count, (t2 - t1) / (double)(iters / 10),
		       (t3 - t2) / (double)(iters / 10));
	}
	fclose(sink);
	return 0;
}
