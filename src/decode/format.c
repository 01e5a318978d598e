/* Text and JSON output of a decoded block. The JSON writer is hand-written: every string
 * (names, units, device strings) goes through json_str, which escapes quotes, backslashes
 * and control characters and replaces invalid UTF-8 by U+FFFD. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "decode/decode_internal.h"

/* Number with the value's decimals; never "-0.0"; false if not finite. */
static bool fmt_num(char *buf, size_t cap, double x, unsigned dec)
{
	if (!isfinite(x)) {
		snprintf(buf, cap, "null");
		return false;
	}
	if (dec > 6)
		dec = 6;
	snprintf(buf, cap, "%.*f", (int)dec, x);
	if (buf[0] == '-') {
		bool zero = true;
		for (const char *p = buf + 1; *p; p++)
			if (*p != '0' && *p != '.')
				zero = false;
		if (zero)
			memmove(buf, buf + 1, strlen(buf));
	}
	return true;
}

static bool is_bitmap(const blt_value_t *v)
{
	return v->field && (v->field->flags & BLT_F_BITMAP) && !blt__is_string(v->field);
}

static uint64_t bitmap_bits(const blt_value_t *v, unsigned *hexdigits)
{
	unsigned sz = blt_type_size((blt_type_t)v->field->type);
	uint64_t m = sz >= 8 ? ~(uint64_t)0 : (((uint64_t)1 << (8 * sz)) - 1);
	*hexdigits = sz ? 2 * sz : 2;
	return (uint64_t)v->raw & m;
}

static void text_bitmap(const blt_value_t *v, FILE *out)
{
	unsigned hd;
	uint64_t bits = bitmap_bits(v, &hd);
	bool first = true;
	fprintf(out, "0x%0*" PRIx64 " [", (int)hd, bits);
	for (unsigned b = 0; b < 64; b++) {
		const char *name = NULL;
		if (!(bits >> b & 1))
			continue;
		for (const blt_bit_name_t *bn = v->field->bits; bn && bn->name; bn++)
			if (bn->bit == b)
				name = bn->name;
		if (!first)
			fputs(", ", out);
		first = false;
		if (name)
			fputs(name, out);
		else
			fprintf(out, "bit%u", b);
	}
	fputc(']', out);
}

/* Why a value is not shown (BLT_FMT_ALL lists these with the reason): NULL if it is. */
static const char *unavailable_reason(const blt_value_t *v, char *buf, size_t cap)
{
	switch (v->status) {
	case BLT_VS_MISSING: return "missing";
	case BLT_VS_GATED:
		snprintf(buf, cap, "needs protocol version %u", v->field ? v->field->min_pv : 0u);
		return buf;
	default: return NULL;
	}
}

int blt_format_text(const blt_decoded_t *r, unsigned flags, FILE *out)
{
	if (!r || !out)
		return BLT_E_INVAL;
	for (size_t i = 0; i < r->count && i < BLT_MAX_VALUES; i++) {
		const blt_value_t *v = &r->values[i];
		const blt_field_t *f = v->field;
		char num[64];

		switch (v->status) {
		case BLT_VS_OK: break;
		case BLT_VS_NOT_REPORTED: fprintf(out, "%s: n/a\n", v->name); continue;
		case BLT_VS_HIDDEN: fprintf(out, "%s: ***\n", v->name); continue;
		case BLT_VS_UNAVAILABLE:
			if (flags & BLT_FMT_ALL)
				fprintf(out, "%s: (%s; raw %" PRId64 ")\n", v->name,
				        blt_vreason_name((blt_vreason_t)v->reason), v->raw);
			continue;
		default:
			if ((flags & BLT_FMT_ALL) && unavailable_reason(v, num, sizeof num))
				fprintf(out, "%s: (%s)\n", v->name,
				        unavailable_reason(v, num, sizeof num));
			continue;
		}
		fprintf(out, "%s: ", v->name);
		if (v->kind == BLT_VK_STR) {
			fputs(v->str, out);
		} else if (f && f->enums) {
			fprintf(out, "%s (%" PRId64 ")", v->str, v->raw);
		} else if (is_bitmap(v)) {
			text_bitmap(v, out);
		} else {
			fmt_num(num, sizeof num, v->num, v->decimals);
			fputs(num, out);
			if (v->unit && *v->unit)
				fprintf(out, " %s", v->unit);
		}
		fputc('\n', out);
	}
	return ferror(out) ? BLT_E_IO : BLT_OK;
}

/* Length of a valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0; /* also stops at the terminating NUL */
		cp = cp << 6 | (s[i] & 0x3F);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

static void json_str(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	fputc('"', out);
	while (*p) {
		unsigned c = *p;
		size_t n;
		switch (c) {
		case '"':
			fputs("\\\"", out);
			p++;
			continue;
		case '\\':
			fputs("\\\\", out);
			p++;
			continue;
		case '\n':
			fputs("\\n", out);
			p++;
			continue;
		case '\r':
			fputs("\\r", out);
			p++;
			continue;
		case '\t':
			fputs("\\t", out);
			p++;
			continue;
		case '\b':
			fputs("\\b", out);
			p++;
			continue;
		case '\f':
			fputs("\\f", out);
			p++;
			continue;
		default: break;
		}
		if (c < 0x20 || c == 0x7f) {
			fprintf(out, "\\u%04x", c);
			p++;
			continue;
		}
		n = utf8_len(p);
		if (n == 0) {
			fputs("\\ufffd", out);
			p++;
			continue;
		}
		fwrite(p, 1, n, out);
		p += n;
	}
	fputc('"', out);
}

static bool in_values(const blt_value_t *v)
{
	return v->status == BLT_VS_OK || v->status == BLT_VS_NOT_REPORTED ||
	       v->status == BLT_VS_HIDDEN;
}

int blt_format_json(const blt_decoded_t *r, unsigned flags, FILE *out)
{
	bool first;
	size_t n;

	if (!r || !out || !r->block)
		return BLT_E_INVAL;
	n = r->count < BLT_MAX_VALUES ? r->count : BLT_MAX_VALUES;
	fprintf(out, "{\"block\":%u,\"name\":", r->block->id);
	json_str(out, r->block->name);
	fputs(",\"values\":{", out);
	first = true;
	for (size_t i = 0; i < n; i++) {
		const blt_value_t *v = &r->values[i];
		char num[64];
		if (!in_values(v))
			continue;
		if (!first)
			fputc(',', out);
		first = false;
		json_str(out, v->name);
		fputc(':', out);
		if (v->status == BLT_VS_NOT_REPORTED) {
			fputs("null", out);
		} else if (v->status == BLT_VS_HIDDEN) {
			json_str(out, "***");
		} else if (v->kind == BLT_VK_STR || (v->field && v->field->enums)) {
			json_str(out, v->str);
		} else {
			fmt_num(num, sizeof num, v->num, v->decimals);
			fputs(num, out);
		}
	}
	fputs("},\"units\":{", out);
	first = true;
	for (size_t i = 0; i < n; i++) {
		const blt_value_t *v = &r->values[i];
		const blt_field_t *f = v->field;
		if (!in_values(v) || !f || !v->unit || !*v->unit || f->enums || is_bitmap(v) ||
		    v->kind == BLT_VK_STR)
			continue;
		if (!first)
			fputc(',', out);
		first = false;
		json_str(out, v->name);
		fputc(':', out);
		json_str(out, v->unit);
	}
	fputs("},\"missing\":[", out);
	first = true;
	for (size_t i = 0; i < n; i++) {
		const blt_value_t *v = &r->values[i];
		if (v->status != BLT_VS_MISSING)
			continue;
		if (!first)
			fputc(',', out);
		first = false;
		json_str(out, v->name);
	}
	fputc(']', out);
	/* Values on the wire that are not facts: absent from "values", listed with the reason
	 * and the raw integer so nothing is lost. With BLT_FMT_ALL, as the text output, also
	 * every other value not shown (missing, gated) with its reason. */
	fputs(",\"unavailable\":{", out);
	first = true;
	for (size_t i = 0; i < n; i++) {
		const blt_value_t *v = &r->values[i];
		char buf[64];
		const char *why = NULL;

		if (v->status == BLT_VS_UNAVAILABLE)
			why = blt_vreason_name((blt_vreason_t)v->reason);
		else if (flags & BLT_FMT_ALL)
			why = unavailable_reason(v, buf, sizeof buf);
		if (!why)
			continue;
		if (!first)
			fputc(',', out);
		first = false;
		json_str(out, v->name);
		fputs(":{\"reason\":", out);
		json_str(out, why);
		if (v->status == BLT_VS_UNAVAILABLE)
			fprintf(out, ",\"raw\":%" PRId64, v->raw);
		else if (v->status == BLT_VS_GATED && v->field)
			fprintf(out, ",\"min_pv\":%u", v->field->min_pv);
		fputc('}', out);
	}
	fputc('}', out);
	fputs("}\n", out);
	return ferror(out) ? BLT_E_IO : BLT_OK;
}
