/* Structural lint of EVERY block in the catalog (all teammates' tables), plus checks of the
 * Markdown generator and a decode smoke test of every block. A lint failure names the
 * block, the row and the rule, e.g. "block 2000 row 'ac_output': ends at byte 24 > 2*regs".
 *
 * Rules (see check_block): ids sorted and unique; 1 <= regs <= 125; every row's bytes inside
 * 2*regs (repeats: at their max count, dynamic bases at base 0 because their base is
 * bounded by the payload at run time); min_bytes <= 2*regs and covering every required plain
 * row; multi-byte values register-aligned; names snake_case, templated exactly when
 * repeated, unique after expansion, short enough for blt_value_t; strings sized (even for
 * str_swap) and < BLT_STR_MAX; enums/bits terminated, unique, bit numbers inside the type;
 * BITMAP <=> bits; mask/shift inside the type; units from a fixed list; repeats: count_field
 * names a plain BLT_F_COUNT row, base_field names a plain row, rows of one repeat are
 * consecutive (the decoder groups them that way); credentials flagged secret. */
#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <bluetti/bluetti.h>
#include <bluetti/settings.h>

static const char *const units[] = {"V",   "mV", "A",   "mA", "W",  "kW", "VA",
                                    "var", "Wh", "kWh", "Ah", "Hz", "%",  "°C",
                                    "s",   "ms", "min", "h",  "mΩ", "kΩ", NULL};

static char errors[8192];
static size_t nerr;

static void lint_fail(const blt_block_t *b, const blt_field_t *f, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void lint_fail(const blt_block_t *b, const blt_field_t *f, const char *fmt, ...)
{
	size_t o = strlen(errors);
	va_list ap;
	nerr++;
	if (o + 200 >= sizeof errors)
		return;
	o += (size_t)snprintf(errors + o, sizeof errors - o, "  block %u", b ? b->id : 0);
	if (f)
		o += (size_t)snprintf(errors + o, sizeof errors - o, " row '%s'",
		                      f->name ? f->name : "(null)");
	o += (size_t)snprintf(errors + o, sizeof errors - o, ": ");
	va_start(ap, fmt);
	o += (size_t)vsnprintf(errors + o, sizeof errors - o, fmt, ap);
	va_end(ap);
	snprintf(errors + o, sizeof errors - o, "\n");
}

static unsigned tsize(const blt_field_t *f)
{
	return f->size ? f->size : blt_type_size((blt_type_t)f->type);
}

static bool is_string(const blt_field_t *f)
{
	return f->type == BLT_T_STR || f->type == BLT_T_STR_SWAP;
}

static const blt_field_t *plain_row(const blt_block_t *b, const char *name)
{
	for (size_t i = 0; name && i < b->nfields; i++)
		if (!b->fields[i].repeat && b->fields[i].name && !strcmp(b->fields[i].name, name))
			return &b->fields[i];
	return NULL;
}

static bool snake(const char *s)
{
	if (!s || !islower((unsigned char)s[0]))
		return false;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '_'))
			return false;
	return s[-1] != '_';
}

static bool unit_ok(const char *u)
{
	if (!u)
		return true;
	for (const char *const *p = units; *p; p++)
		if (!strcmp(*p, u))
			return true;
	return false;
}

/* Expanded name of row f for record i into buf; false if the template is malformed. */
static bool expand(const blt_field_t *f, unsigned i, char *buf, size_t cap)
{
	const char *p = strstr(f->name, "%u");
	if (!f->repeat) {
		snprintf(buf, cap, "%s", f->name);
		return strchr(f->name, '%') == NULL;
	}
	if (!p || strchr(p + 2, '%') || strchr(f->name, '%') != p)
		return false;
	snprintf(buf, cap, "%.*s%u%s", (int)(p - f->name), f->name, i, p + 2);
	return true;
}

static void check_row_names(const blt_block_t *b)
{
	/* Every expanded name, compared pairwise (blocks are small). */
	static char names[2048][BLT_NAME_MAX + 8];
	size_t n = 0;
	for (size_t i = 0; i < b->nfields; i++) {
		const blt_field_t *f = &b->fields[i];
		unsigned cnt = f->repeat ? f->repeat->max : 1;
		for (unsigned k = 0; k < cnt && n < 2048; k++) {
			char buf[BLT_NAME_MAX + 8];
			if (!expand(f, k, buf, sizeof buf)) {
				lint_fail(
				    b, f,
				    "name template must contain exactly one %%u iff repeated");
				break;
			}
			if (strlen(buf) >= BLT_NAME_MAX)
				lint_fail(b, f, "expanded name '%s' longer than %d", buf,
				          BLT_NAME_MAX - 1);
			if (!snake(buf))
				lint_fail(b, f, "name '%s' is not snake_case", buf);
			for (size_t m = 0; m < n; m++)
				if (!strcmp(names[m], buf))
					lint_fail(b, f, "duplicate expanded name '%s'", buf);
			snprintf(names[n++], sizeof names[0], "%s", buf);
		}
	}
}

static void check_enums_bits(const blt_block_t *b, const blt_field_t *f)
{
	unsigned bits = 8 * blt_type_size((blt_type_t)f->type);
	if (f->enums) {
		size_t k = 0;
		for (; k < 256 && f->enums[k].name; k++) {
			if (!f->enums[k].name[0])
				lint_fail(b, f, "empty enum name");
			for (size_t m = 0; m < k; m++)
				if (f->enums[m].value == f->enums[k].value)
					lint_fail(b, f, "duplicate enum value %d",
					          (int)f->enums[k].value);
		}
		if (k == 256)
			lint_fail(b, f, "enum list not terminated by {0, NULL}");
		if (k == 0)
			lint_fail(b, f, "empty enum list");
	}
	if (f->bits && !(f->flags & BLT_F_BITMAP))
		lint_fail(b, f, "bit names without BLT_F_BITMAP");
	if (f->bits) {
		size_t k = 0;
		for (; k < 64 && f->bits[k].name; k++) {
			if (f->bits[k].bit >= bits)
				lint_fail(b, f, "bit %u outside a %u-bit value", f->bits[k].bit,
				          bits);
			for (size_t m = 0; m < k; m++)
				if (f->bits[m].bit == f->bits[k].bit)
					lint_fail(b, f, "duplicate bit %u", f->bits[k].bit);
		}
		if (k == 64)
			lint_fail(b, f, "bit list not terminated by {0, NULL}");
	}
}

static void check_repeat(const blt_block_t *b, size_t i)
{
	const blt_field_t *f = &b->fields[i];
	const blt_repeat_t *r = f->repeat;
	const blt_field_t *cf = plain_row(b, r->count_field);

	if (!r->count_field || !cf)
		lint_fail(b, f, "repeat count_field '%s' is not a plain row of the block",
		          r->count_field ? r->count_field : "(null)");
	else if (!(cf->flags & BLT_F_COUNT))
		lint_fail(b, f, "repeat count_field '%s' lacks BLT_F_COUNT", r->count_field);
	else if (is_string(cf))
		lint_fail(b, f, "repeat count_field '%s' is a string", r->count_field);
	if (r->max == 0 || r->stride == 0)
		lint_fail(b, f, "repeat needs max > 0 and stride > 0");
	if (r->base_field && !plain_row(b, r->base_field))
		lint_fail(b, f, "repeat base_field '%s' is not a plain row", r->base_field);
	if (!r->base_field && (r->base_mul))
		lint_fail(b, f, "base_mul without base_field");
	/* The decoder emits a repeat group as the run of consecutive rows sharing it. */
	for (size_t j = i + 1; j < b->nfields; j++) {
		if (b->fields[j].repeat == r && b->fields[j - 1].repeat != r)
			lint_fail(b, &b->fields[j], "rows of one repeat must be consecutive");
	}
}

/* Documented exceptions to "regs covers every row's end": blocks whose length varies
 * with a count, where regs is the usual read and longer reads are up to the caller. */
static const struct {
	uint16_t id;
	const char *why;
} variable_len[] = {
    {6300, "cell data: regs = 22 fits 16 cells + 4 NTC; up to 48 cells need a longer read"},
};

static bool variable_length(uint16_t id)
{
	for (size_t i = 0; i < sizeof variable_len / sizeof variable_len[0]; i++)
		if (variable_len[i].id == id)
			return true;
	return false;
}

static void check_block(const blt_block_t *b)
{
	unsigned cap;

	if (!b->name || !b->name[0] || !b->title || !b->title[0] || !b->source || !b->source[0])
		lint_fail(b, NULL, "block needs name, title and source");
	if (b->regs == 0 || b->regs > 125)
		lint_fail(b, NULL, "regs %u outside 1..125", b->regs);
	cap = 2u * b->regs;
	if (b->min_bytes > cap)
		lint_fail(b, NULL, "min_bytes %u > 2*regs %u", b->min_bytes, cap);
	if (!b->fields || b->nfields == 0)
		lint_fail(b, NULL, "no fields");
	for (size_t i = 0; i < b->nfields; i++) {
		const blt_field_t *f = &b->fields[i];
		unsigned sz, end;

		if (!f->name) {
			lint_fail(b, NULL, "row %zu has no name", i);
			continue;
		}
		if (f->type >= BLT_T__COUNT) {
			lint_fail(b, f, "type %u unknown", f->type);
			continue;
		}
		if (f->prov > BLT_PROV_APP)
			lint_fail(b, f, "provenance %u unknown", f->prov);
		if (!f->desc || !f->desc[0])
			lint_fail(b, f, "no description");
		sz = tsize(f);
		if (is_string(f)) {
			if (f->size == 0)
				lint_fail(b, f, "string without size");
			if (f->type == BLT_T_STR_SWAP && (f->size & 1))
				lint_fail(b, f, "str_swap size %u is odd", f->size);
			if (f->size >= BLT_STR_MAX)
				lint_fail(b, f, "string size %u >= BLT_STR_MAX", f->size);
			if (f->mask || f->shift || f->scale != 0 || f->enums)
				lint_fail(b, f, "string with a numeric transform");
		} else if (f->size && f->size != blt_type_size((blt_type_t)f->type)) {
			lint_fail(b, f, "size %u differs from the type size", f->size);
		}
		if (sz > 1 && (f->offset & 1) && !f->repeat)
			lint_fail(b, f, "multi-byte value at odd offset %u straddles registers",
			          f->offset);
		if (!is_string(f)) {
			unsigned bits = 8 * sz;
			uint64_t lim = bits >= 32 ? 0xFFFFFFFFull : ((1ull << bits) - 1);
			if (f->mask && (uint64_t)f->mask > lim)
				lint_fail(b, f, "mask 0x%X wider than the %u-bit type",
				          (unsigned)f->mask, bits);
			if (f->shift >= bits)
				lint_fail(b, f, "shift %u >= %u bits", f->shift, bits);
		}
		if ((f->flags & BLT_F_CLAMP) && !(f->clamp_lo < f->clamp_hi))
			lint_fail(b, f, "clamp needs lo < hi");
		if (!unit_ok(f->unit))
			lint_fail(b, f, "unit '%s' not in the fixed list", f->unit);
		if ((f->flags & BLT_F_COUNT) && f->repeat)
			lint_fail(b, f, "a count row cannot itself be repeated");
		check_enums_bits(b, f);
		if (f->repeat) {
			const blt_repeat_t *r = f->repeat;
			check_repeat(b, i);
			end = r->base_add + (unsigned)(r->max - 1) * r->stride + f->offset + sz;
			if (r->max && end > cap && !variable_length(b->id))
				lint_fail(b, f, "record %u ends at byte %u > 2*regs %u", r->max - 1,
				          end, cap);
			end = r->base_add + f->offset + sz; /* record 0 always fits */
			if (end > cap)
				lint_fail(b, f, "record 0 ends at byte %u > 2*regs %u", end, cap);
		} else {
			end = f->offset + sz;
			if (end > cap)
				lint_fail(b, f, "ends at byte %u > 2*regs %u", end, cap);
			if ((f->flags & BLT_F_REQUIRED) && end > b->min_bytes)
				lint_fail(b, f, "required row ends at byte %u beyond min_bytes %u",
				          end, b->min_bytes);
		}
		if (is_string(f) && (strstr(f->name, "password") || strstr(f->name, "ssid") ||
		                     strstr(f->name, "secret")))
			if (!(f->flags & BLT_F_SECRET))
				lint_fail(b, f, "credential-like row without BLT_F_SECRET");
	}
	check_row_names(b);
}

static void test_catalog_lint(void **state)
{
	(void)state;
	errors[0] = '\0';
	nerr = 0;
	assert_true(blt_catalog_count() > 0);
	for (size_t i = 0; i < blt_catalog_count(); i++) {
		const blt_block_t *b = blt_catalog_at(i);
		assert_non_null(b);
		if (i > 0 && blt_catalog_at(i - 1)->id >= b->id)
			lint_fail(b, NULL, "ids not sorted/unique (after %u)",
			          blt_catalog_at(i - 1)->id);
		assert_ptr_equal(blt_catalog_find(b->id), b);
		check_block(b);
	}
	if (nerr) {
		print_error("catalog lint: %zu problem(s):\n", nerr);
		for (char *line = strtok(errors, "\n"); line; line = strtok(NULL, "\n"))
			print_error("%s\n", line);
	}
	assert_int_equal(nerr, 0);
}

/* The lint must be able to fail: feed it deliberately broken tables. */
static const blt_repeat_t bad_rep = {.count_field = "nope", .max = 4, .stride = 2};
static const blt_enum_entry_t dup_enum[] = {{1, "a"}, {1, "b"}, {0, NULL}};
static const blt_bit_name_t dup_bits[] = {{9, "nine"}, {0, NULL}};
static const blt_field_t bad_fields[] = {
    {.name = "BadName", .offset = 0, .type = BLT_T_U16, .desc = "x"},
    {.name = "straddle", .offset = 3, .type = BLT_T_U16, .desc = "x"},
    {.name = "beyond", .offset = 20, .type = BLT_T_U32, .desc = "x"},
    {.name = "s", .offset = 4, .type = BLT_T_STR_SWAP, .size = 3, .desc = "x"},
    {.name = "dup", .offset = 8, .type = BLT_T_U8, .unit = "furlong", .desc = "x"},
    {.name = "dup", .offset = 9, .type = BLT_T_U8, .enums = dup_enum, .desc = "x"},
    {.name = "rep_%u", .offset = 10, .type = BLT_T_U16, .repeat = &bad_rep, .desc = "x"},
    {.name = "wifi_password", .offset = 12, .type = BLT_T_STR, .size = 4, .desc = "x"},
    {.name = "req", .offset = 16, .type = BLT_T_U16, .flags = BLT_F_REQUIRED, .desc = "x"},
    {.name = "flags", .offset = 18, .type = BLT_T_U8, .bits = dup_bits, .desc = "x"},
};
static const blt_block_t bad_block = {.id = 9,
                                      .name = "BAD",
                                      .title = "bad",
                                      .regs = 10,
                                      .min_bytes = 4,
                                      .fields = bad_fields,
                                      .nfields = sizeof bad_fields / sizeof bad_fields[0],
                                      .source = "test"};

static void test_lint_catches_mistakes(void **state)
{
	(void)state;
	errors[0] = '\0';
	nerr = 0;
	check_block(&bad_block);
	assert_non_null(strstr(errors, "'BadName': name 'BadName' is not snake_case"));
	assert_non_null(strstr(errors, "'straddle': multi-byte value at odd offset"));
	assert_non_null(strstr(errors, "'beyond': ends at byte 24 > 2*regs 20"));
	assert_non_null(strstr(errors, "'s': str_swap size 3 is odd"));
	assert_non_null(strstr(errors, "unit 'furlong'"));
	assert_non_null(strstr(errors, "duplicate expanded name 'dup'"));
	assert_non_null(strstr(errors, "duplicate enum value 1"));
	assert_non_null(strstr(errors, "count_field 'nope'"));
	assert_non_null(strstr(errors, "'wifi_password': credential-like row"));
	assert_non_null(strstr(errors, "'req': required row ends at byte 18 beyond min_bytes"));
	assert_non_null(strstr(errors, "'flags': bit names without BLT_F_BITMAP"));
	assert_non_null(strstr(errors, "'flags': bit 9 outside a 8-bit value"));
}

/* Every block decodes an all-zero payload of its default size without error, and a
 * truncated one without crashing (rows become MISSING). */
static void test_every_block_decodes(void **state)
{
	static uint8_t zero[250];
	static blt_decoded_t out;
	(void)state;
	for (size_t i = 0; i < blt_catalog_count(); i++) {
		const blt_block_t *b = blt_catalog_at(i);
		blt_detail_t d = {{0}};
		int rc = blt_decode(b, zero, 2u * b->regs, NULL, &out, &d);
		if (rc != BLT_OK)
			print_error("block %u: %s\n", b->id, d.text);
		assert_int_equal(rc, BLT_OK);
		assert_int_equal(out.missing, 0);
		rc = blt_decode(b, zero, 1, NULL, &out, &d);
		assert_true(rc == BLT_OK || rc == BLT_E_MISSING);
	}
}

/* Spot checks of the layouts that matter most (firmware/live wins over the reference). */
static void test_key_offsets(void **state)
{
	static uint8_t p[250];
	static blt_decoded_t out;
	double v = 0;
	(void)state;

	/* 2000: AC output = register 2011 low byte = byte 23 (battery-ha live). */
	memset(p, 0, sizeof p);
	p[23] = 1;
	p[41] = 2;
	assert_int_equal(blt_decode(blt_catalog_find(2000), p, 190, NULL, &out, NULL), BLT_OK);
	assert_true(blt_decoded_num(&out, "ac_output", &v));
	assert_true(v == 1);
	assert_true(blt_decoded_num(&out, "dc_output", &v));
	assert_true(v == 0);
	assert_string_equal(blt_decoded_get(&out, "charging_mode")->str, "turbo");

	/* 2200: grid charge 2207 = byte 15, feed-in 2208 = byte 17, 2213 = bytes 26-27. */
	memset(p, 0, sizeof p);
	p[15] = 1;
	p[26] = 0x07;
	p[27] = 0xd0;
	assert_int_equal(blt_decode(blt_catalog_find(2200), p, 150, NULL, &out, NULL), BLT_OK);
	assert_true(blt_decoded_num(&out, "grid_charge", &v) && v == 1);
	assert_true(blt_decoded_num(&out, "feed_in", &v) && v == 0);
	assert_true(blt_decoded_num(&out, "grid_max_power", &v) && v == 2000);
	assert_int_equal(blt_decoded_get(&out, "settings_password")->status, BLT_VS_HIDDEN);

	/* Block 1: protocol version at byte 30 (register 16). */
	memset(p, 0, sizeof p);
	p[30] = 0x07;
	p[31] = 0xdf;
	assert_int_equal(blt_decode(blt_catalog_find(1), p, 32, NULL, &out, NULL), BLT_OK);
	assert_true(blt_decoded_num(&out, "protocol_version", &v) && v == 2015);

	/* 1200: 2 DC inputs + 1 AC input; the AC record follows the DC ones. */
	memset(p, 0, sizeof p);
	p[19] = 0x12;
	p[20 + 4 + 1] = 74;    /* dc_input_0_power */
	p[20 + 16 + 6] = 0x00; /* dc_input_1_voltage */
	p[20 + 16 + 7] = 110;
	p[20 + 32 + 5] = 99; /* ac_input_0_power */
	assert_int_equal(blt_decode(blt_catalog_find(1200), p, 184, NULL, &out, NULL), BLT_OK);
	assert_true(blt_decoded_num(&out, "dc_input_0_power", &v) && v == 74);
	assert_true(blt_decoded_num(&out, "dc_input_1_voltage", &v) && v > 10.99 && v < 11.01);
	assert_true(blt_decoded_num(&out, "ac_input_0_power", &v) && v == 99);
	assert_null(blt_decoded_get(&out, "dc_input_2_power"));
	assert_null(blt_decoded_get(&out, "ac_input_1_power"));

	/* 11000: byte-swapped model and u64 serial like the live AP300. */
	memset(p, 0, sizeof p);
	memcpy(p, "OI\0T", 4); /* "IOT" swapped per register */
	memcpy(p + 12, "\xde\x4c\x1c\x83\x02\x61\x00\x00", 8);
	assert_int_equal(blt_decode(blt_catalog_find(11000), p, 38, NULL, &out, NULL), BLT_OK);
	assert_string_equal(blt_decoded_get(&out, "iot_model")->str, "IOT");
	assert_string_equal(blt_decoded_get(&out, "iot_serial")->str, "2616113487436");

	/* 12002: Wi-Fi credentials are hidden by default. */
	memset(p, 'a', 98);
	assert_int_equal(blt_decode(blt_catalog_find(12002), p, 98, NULL, &out, NULL), BLT_OK);
	assert_int_equal(blt_decoded_get(&out, "wifi_ssid")->status, BLT_VS_HIDDEN);
	assert_int_equal(blt_decoded_get(&out, "wifi_password")->status, BLT_VS_HIDDEN);
}

/* Count occurrences-free check: the generated Markdown names every block and every row. */
static void test_markdown_names_everything(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	(void)state;
	assert_non_null(f);
	assert_int_equal(blt_catalog_write_markdown(f), BLT_OK);
	fclose(f);
	assert_true(len > 1000);
	for (size_t i = 0; i < blt_catalog_count(); i++) {
		const blt_block_t *b = blt_catalog_at(i);
		char head[96];
		snprintf(head, sizeof head, "## Block %u — %s", b->id, b->name);
		if (!strstr(buf, head))
			print_error("missing section '%s'\n", head);
		assert_non_null(strstr(buf, head));
		for (size_t k = 0; k < b->nfields; k++) {
			char name[BLT_NAME_MAX + 8];
			const char *p = strstr(b->fields[k].name, "%u");
			if (p)
				snprintf(name, sizeof name, "`%.*s{i}%s`",
				         (int)(p - b->fields[k].name), b->fields[k].name, p + 2);
			else
				snprintf(name, sizeof name, "`%s`", b->fields[k].name);
			if (!strstr(buf, name))
				print_error("block %u: row %s not in the docs\n", b->id, name);
			assert_non_null(strstr(buf, name));
		}
	}
	/* Settings and the deny list are documented; writable rows are marked. */
	assert_non_null(strstr(buf, "## Writable settings"));
	assert_non_null(strstr(buf, "`ac_output` (live)"));
	assert_non_null(strstr(buf, "| 2013 | system power"));
	for (size_t i = 0; i < blt_setting_count(); i++) {
		char s[64];
		snprintf(s, sizeof s, "| `%s` | %u |", blt_setting_at(i)->name,
		         blt_setting_at(i)->reg);
		assert_non_null(strstr(buf, s));
	}
	free(buf);
}

static void test_markdown_null_stream(void **state)
{
	(void)state;
	assert_int_equal(blt_catalog_write_markdown(NULL), BLT_E_INVAL);
}

/* The required core of each block holds every required row (a read of that length decodes
 * without BLT_E_MISSING), fits the default read, and profiles' known reply lengths are
 * shorter than the read they answer. */
static void test_core_and_reply_lengths(void **state)
{
	static uint8_t zero[256];
	static blt_decoded_t out;
	(void)state;
	for (size_t i = 0; i < blt_catalog_count(); i++) {
		const blt_block_t *b = blt_catalog_at(i);
		uint16_t core = blt_block_core_regs(b);
		blt_detail_t d = {""};
		assert_true(core >= 1 && core <= b->regs);
		if (blt_decode(b, zero, 2u * core, NULL, &out, &d) == BLT_E_MISSING)
			fail_msg("block %u: core of %u registers misses a required row: %s", b->id,
			         core, d.text);
	}
	assert_int_equal(blt_block_core_regs(blt_catalog_find(2000)), 24); /* min_bytes 48 */
	assert_true(blt_block_core_regs(blt_catalog_find(1300)) >= 13);    /* phase_count */
	assert_int_equal(blt_profile_block_reply(blt_profile_find("AP300"), blt_catalog_find(6100)),
	                 90);
	assert_int_equal(blt_profile_block_regs(blt_profile_find("AP300"), blt_catalog_find(6100)),
	                 blt_catalog_find(6100)->regs);
	assert_int_equal(
	    blt_profile_block_reply(blt_profile_find("EL100V2"), blt_catalog_find(6100)), 0);
	for (size_t i = 0; blt_profile_at(i); i++) {
		const blt_profile_t *p = blt_profile_at(i);
		for (size_t k = 0; k < p->nread_regs; k++) {
			const blt_block_t *b = blt_catalog_find(p->read_regs[k].block);
			assert_non_null(b);
			assert_true(p->read_regs[k].regs || p->read_regs[k].reply);
			if (p->read_regs[k].reply)
				assert_true(p->read_regs[k].reply < blt_profile_block_regs(p, b));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_catalog_lint),
	    cmocka_unit_test(test_lint_catches_mistakes),
	    cmocka_unit_test(test_every_block_decodes),
	    cmocka_unit_test(test_key_offsets),
	    cmocka_unit_test(test_markdown_names_everything),
	    cmocka_unit_test(test_markdown_null_stream),
	    cmocka_unit_test(test_core_and_reply_lengths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
