/* Decode cost per value for blocks 100, 1300, 6000 and 6300 (golden payloads of
 * PROTOCOL.md §7), text and JSON formatting, and beside each the floor: a minimal
 * table-driven loop over the same rows (offset, type, mask, shift, scale and add
 * precomputed, names not copied, no status logic beyond "in the payload"), so the ratio
 * of the decoder to what any table-driven decoder must do is visible; and "floor+record",
 * the same loop writing the whole public blt_value_t record per value (the share of the
 * cost that is the record's size).
 *
 * Times are CPU time of this thread (CLOCK_THREAD_CPUTIME_ID) per call: the median over
 * many trials of about 100 us each, and the 10th percentile (the machine is shared: CPU
 * time keeps other processes out, but not their effect on caches; a lone minimum is not
 * used because the thread clock of a virtual machine sometimes under-counts). Prints figures;
 * asserts nothing. Targets (issue 17): decode <= 5 ns per value for blocks 100, 1300 and
 * 6000; text and JSON of block 100 <= 2 us each.
 *
 * usage: bench_decode [TRIALS]   (default 100 trials of ~100 us per figure) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bluetti/bluetti.h>

static double cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
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

/* The floor: one precomputed row per value of the decode. */
typedef struct frow {
	const char *name;
	uint16_t off, size;
	uint8_t type, shift, is_signed, width;
	uint32_t mask;
	double scale, add;
} frow_t;

typedef struct fval {
	const char *name;
	int64_t raw;
	double num;
	uint8_t status;
	char str[BLT_STR_MAX];
} fval_t;

static frow_t rows[BLT_MAX_VALUES];
static fval_t fout[BLT_MAX_VALUES];
static blt_value_t vout[BLT_MAX_VALUES];

/* The raw value of a row at q (the floor's read; strings: 0). */
static inline uint64_t floor_raw(const frow_t *t, const uint8_t *q)
{
	switch (t->type) {
	case BLT_T_U8:
	case BLT_T_I8: return q[0];
	case BLT_T_U16:
	case BLT_T_I16: return (uint64_t)q[0] << 8 | q[1];
	case BLT_T_U32:
	case BLT_T_I32: return ((uint64_t)q[0] << 8 | q[1]) | ((uint64_t)q[2] << 8 | q[3]) << 16;
	case BLT_T_U32_BE:
	case BLT_T_I32_BE: return ((uint64_t)q[0] << 8 | q[1]) << 16 | ((uint64_t)q[2] << 8 | q[3]);
	default: return 0;
	}
}

/* The same loop writing the whole public record (blt_value_t) instead of four members:
 * the share of the cost that is the record's size. */
static size_t floor_decode_full(const frow_t *t, size_t nrows, const uint8_t *p, size_t n,
                                blt_value_t *o)
{
	size_t ok = 0;
	for (size_t i = 0; i < nrows; i++, t++, o++) {
		const uint8_t *q = p + t->off;
		uint64_t raw;
		int64_t iv;
		o->field = NULL;
		o->name = t->name;
		o->index = 0;
		o->kind = BLT_VK_REAL;
		o->decimals = 0;
		o->reason = BLT_VR_NONE;
		o->unit = NULL;
		o->str[0] = '\0';
		if ((size_t)t->off + t->size > n) {
			o->status = BLT_VS_MISSING;
			continue;
		}
		o->status = BLT_VS_OK;
		ok++;
		if (t->type > BLT_T_I32_BE) {
			memcpy(o->str, q, t->size < BLT_STR_MAX ? t->size : BLT_STR_MAX - 1);
			o->str[t->size < BLT_STR_MAX ? t->size : BLT_STR_MAX - 1] = '\0';
			continue;
		}
		raw = (t->mask ? floor_raw(t, q) & t->mask : floor_raw(t, q)) >> t->shift;
		iv = (int64_t)raw;
		if (t->is_signed && t->width < 64 && (raw >> (t->width - 1) & 1))
			iv = (int64_t)(raw | ~(((uint64_t)1 << t->width) - 1));
		o->raw = iv;
		o->num = (double)iv * t->scale + t->add;
	}
	return ok;
}

static size_t floor_decode(const frow_t *t, size_t nrows, const uint8_t *p, size_t n, fval_t *o)
{
	size_t ok = 0;
	for (size_t i = 0; i < nrows; i++, t++, o++) {
		const uint8_t *q = p + t->off;
		uint64_t raw;
		int64_t iv;
		o->name = t->name;
		if ((size_t)t->off + t->size > n) {
			o->status = 1;
			continue;
		}
		o->status = 0;
		ok++;
		switch (t->type) {
		case BLT_T_U8:
		case BLT_T_I8: raw = q[0]; break;
		case BLT_T_U16:
		case BLT_T_I16: raw = (uint64_t)q[0] << 8 | q[1]; break;
		case BLT_T_U32:
		case BLT_T_I32:
			raw = ((uint64_t)q[0] << 8 | q[1]) | ((uint64_t)q[2] << 8 | q[3]) << 16;
			break;
		case BLT_T_U32_BE:
		case BLT_T_I32_BE:
			raw = ((uint64_t)q[0] << 8 | q[1]) << 16 | ((uint64_t)q[2] << 8 | q[3]);
			break;
		default: /* strings and serials: the bytes as they are */
			memcpy(o->str, q, t->size < BLT_STR_MAX ? t->size : BLT_STR_MAX - 1);
			o->str[t->size < BLT_STR_MAX ? t->size : BLT_STR_MAX - 1] = '\0';
			continue;
		}
		raw = (t->mask ? raw & t->mask : raw) >> t->shift;
		iv = (int64_t)raw;
		if (t->is_signed && t->width < 64 && (raw >> (t->width - 1) & 1))
			iv = (int64_t)(raw | ~(((uint64_t)1 << t->width) - 1));
		o->raw = iv;
		o->num = (double)iv * t->scale + t->add;
	}
	return ok;
}

/* Rows of the floor from a decode of the same payload (offsets of repeated rows from the
 * count and base the decoder found). */
static size_t floor_table(const blt_decoded_t *r)
{
	size_t k = 0;
	for (size_t i = 0; i < r->count; i++) {
		const blt_value_t *v = &r->values[i];
		const blt_field_t *f = v->field;
		frow_t *t = &rows[k++];
		size_t off = f->offset;
		unsigned tsz = blt_type_size((blt_type_t)f->type);
		if (f->repeat) {
			const blt_repeat_t *rp = f->repeat;
			size_t base = rp->base_add;
			unsigned idx = v->index ^ ((f->flags & BLT_F_SWAP_INDEX) ? 1u : 0u);
			if (rp->base_field) {
				const blt_value_t *bv = blt_decoded_get(r, rp->base_field);
				base += bv ? (size_t)bv->raw * rp->base_mul : 0;
			}
			off = base + (size_t)idx * rp->stride + f->offset;
		}
		t->name = f->name;
		t->off = (uint16_t)off;
		t->size = (uint16_t)(f->size ? f->size : tsz);
		t->type = f->type;
		t->shift = f->shift;
		t->mask = f->mask;
		t->is_signed = f->type == BLT_T_I8 || f->type == BLT_T_I16 ||
		               f->type == BLT_T_I32 || f->type == BLT_T_I32_BE;
		{
			uint64_t m =
			    (f->mask ? f->mask : (tsz >= 8 ? ~0ull : (1ull << 8 * tsz) - 1)) >>
			    f->shift;
			t->width = (uint8_t)(m ? 64 - __builtin_clzll(m) : 1);
		}
		t->scale = f->scale == 0 ? 1 : f->scale;
		t->add = f->add;
	}
	return k;
}

static blt_decoded_t res;
static volatile size_t keep;

typedef struct stat {
	double min, med; /* min: the 10th percentile */
} stat_t;

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* 10th percentile and median over trials of about 100 us of one operation, ns per call */
#define MEASURE(st, trials, stmt)                                                                  \
	do {                                                                                       \
		static double s_[4096];                                                            \
		int tn_ = (trials) < 4096 ? (trials) : 4096, reps_ = 1;                            \
		double t0_ = cpu_ns();                                                             \
		for (int r_ = 0; r_ < 100; r_++) {                                                 \
			stmt;                                                                      \
		}                                                                                  \
		reps_ = (int)(100 * 100e3 / (cpu_ns() - t0_ + 1));                                 \
		reps_ = reps_ < 10 ? 10 : reps_ > 100000 ? 100000 : reps_;                         \
		for (int t_ = 0; t_ < tn_; t_++) {                                                 \
			t0_ = cpu_ns();                                                            \
			for (int r_ = 0; r_ < reps_; r_++) {                                       \
				stmt;                                                              \
			}                                                                          \
			s_[t_] = (cpu_ns() - t0_) / reps_;                                         \
		}                                                                                  \
		qsort(s_, (size_t)tn_, sizeof s_[0], cmp_d);                                       \
		(st).min = s_[tn_ / 10];                                                           \
		(st).med = s_[tn_ / 2];                                                            \
	} while (0)

int main(int argc, char **argv)
{
	int trials = argc > 1 ? atoi(argv[1]) : 100;
	FILE *sink = fopen("/dev/null", "w");
	blt_decode_opts_t o = {.protocol_version = 2015, .pack_voltage_scale = 0.01};

	if (!sink || trials <= 0)
		return 1;
	printf("CPU time of this thread per call, median (10th percentile) over %d trials of "
	       "~100 us; ns\n",
	       trials);
	printf("%-32s %6s %15s %15s %15s %6s %15s %15s %15s\n", "payload", "values", "decode",
	       "decode/value", "floor/value", "ratio", "floor+record", "text", "json");
	for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
		uint8_t buf[256];
		size_t n = 0, nrows;
		const blt_block_t *b = blt_catalog_find(cases[c].id);
		stat_t dec, flo, ful, txt, js;
		char s1[32], s2[32], s3[32], s4[32], s5[32], s6[32];
		if (!b || blt_hex_decode(cases[c].hex, buf, sizeof buf, &n, NULL) != BLT_OK)
			return 1;
		blt_decode(b, buf, n, &o, &res, NULL);
		nrows = floor_table(&res);
		for (int i = 0; i < 2000; i++) /* warm-up */
			keep += (size_t)blt_decode(b, buf, n, &o, &res, NULL) + res.count;
		MEASURE(dec, trials, blt_decode(b, buf, n, &o, &res, NULL); keep += res.count);
		MEASURE(flo, trials, keep += floor_decode(rows, nrows, buf, n, fout));
		MEASURE(ful, trials, keep += floor_decode_full(rows, nrows, buf, n, vout));
		MEASURE(txt, trials, blt_format_text(&res, 0, sink));
		MEASURE(js, trials, blt_format_json(&res, 0, sink));
		snprintf(s1, sizeof s1, "%.0f (%.0f)", dec.med, dec.min);
		snprintf(s2, sizeof s2, "%.2f (%.2f)", dec.med / (double)res.count,
		         dec.min / (double)res.count);
		snprintf(s3, sizeof s3, "%.2f (%.2f)", flo.med / (double)nrows,
		         flo.min / (double)nrows);
		snprintf(s6, sizeof s6, "%.2f (%.2f)", ful.med / (double)nrows,
		         ful.min / (double)nrows);
		snprintf(s4, sizeof s4, "%.0f (%.0f)", txt.med, txt.min);
		snprintf(s5, sizeof s5, "%.0f (%.0f)", js.med, js.min);
		printf("%-32s %6zu %15s %15s %15s %6.1f %15s %15s %15s\n", cases[c].what, res.count,
		       s1, s2, s3, dec.med / flo.med, s6, s4, s5);
		if (cases[c].id == 100)
			printf("  targets: decode <= 5 ns/value: %s; text <= 2000 ns: %s; "
			       "json <= 2000 ns: %s\n",
			       dec.min / (double)res.count <= 5 ? "met" : "MISSED",
			       txt.min <= 2000 ? "met" : "MISSED",
			       js.min <= 2000 ? "met" : "MISSED");
		else if (cases[c].id != 6300)
			printf("  target: decode <= 5 ns/value: %s\n",
			       dec.med / (double)res.count <= 5 ? "met" : "MISSED");
	}
	fclose(sink);
	(void)keep;
	return 0;
}
