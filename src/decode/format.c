/* Text and JSON output of a decoded block. The JSON writer is hand-written: every string
 * (names, units, device strings) goes through json_str, which escapes quotes, backslashes
 * and control characters and replaces invalid UTF-8 by U+FFFD. */
#include <inttypes.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "decode/decode_internal.h"

/* Output goes through a buffer on the stack and reaches the FILE in a few large fwrite
 * calls: one stdio call per piece costs more than formatting the whole block. */
typedef struct wr {
	FILE *out;
	size_t n;
	unsigned flushes; /* how many times buf was emptied (JSON reuses what is still there) */
	char buf[4096];
} wr_t;

static void w_flush(wr_t *w)
{
	if (w->n)
		fwrite(w->buf, 1, w->n, w->out);
	w->n = 0;
	w->flushes++;
}

static void w_put(wr_t *w, const char *s, size_t len)
{
	if (len > sizeof w->buf - w->n) {
		w_flush(w);
		if (len > sizeof w->buf) {
			fwrite(s, 1, len, w->out);
			return;
		}
	}
	memcpy(w->buf + w->n, s, len);
	w->n += len;
}

/* A NUL-terminated string, copied byte by byte: the strings here are short, and a scan
 * plus a copy costs more than one pass. */
static void w_str(wr_t *w, const char *s)
{
	for (;;) {
		size_t n = w->n;
		while (n < sizeof w->buf && *s)
			w->buf[n++] = *s++;
		w->n = n;
		if (!*s)
			return;
		w_flush(w);
	}
}

static void w_ch(wr_t *w, char c)
{
	if (w->n == sizeof w->buf)
		w_flush(w);
	w->buf[w->n++] = c;
}

static void w_printf(wr_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void w_printf(wr_t *w, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	int k;
	va_start(ap, fmt);
	k = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (k < 0)
		return;
	if ((size_t)k < sizeof tmp) {
		w_put(w, tmp, (size_t)k);
		return;
	}
	w_flush(w); /* longer than tmp: straight to the FILE */
	va_start(ap, fmt);
	vfprintf(w->out, fmt, ap);
	va_end(ap);
}

static const double pow10_tab[] = {1, 10, 100, 1000, 1e4, 1e5, 1e6};

/* Decimal digits of v (v >= 0) right-aligned before end; returns the first digit. */
static char *u64_digits(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

/* "%.*f" of x with dec (<= 6) decimals without printf, when the integer nearest to
 * x * 10^dec is certain: the computed product is within a few units in the last place of
 * the exact one, so a product that is not within that distance of a half-integer rounds
 * as the exact value does. Returns the length, or 0 (near a tie, too large): printf's
 * exact conversion decides. Never "-0.0". */
static size_t fast_fixed(char *buf, double x, unsigned dec)
{
	double y = x * pow10_tab[dec], ay = fabs(y);
	char dg[24]; /* digits, least significant first */
	unsigned nd = 0;
	int64_t m;
	uint64_t a;
	size_t len = 0;

	if (!(ay < 1e15))
		return 0;
	m = (int64_t)(y < 0 ? y - 0.5 : y + 0.5);
	if (fabs(fabs(y - (double)m) - 0.5) <= ay * 1e-15 + 1e-300)
		return 0;
	a = m < 0 ? (uint64_t)0 - (uint64_t)m : (uint64_t)m;
	do {
		dg[nd++] = (char)('0' + a % 10);
		a /= 10;
	} while (a);
	while (nd <= dec) /* at least one digit before the point */
		dg[nd++] = '0';
	if (m < 0)
		buf[len++] = '-';
	for (unsigned i = nd; i-- > dec;) /* short: a loop, not a memcpy call */
		buf[len++] = dg[i];
	if (dec) {
		buf[len++] = '.';
		for (unsigned i = dec; i-- > 0;)
			buf[len++] = dg[i];
	}
	buf[len] = '\0';
	return len;
}

/* A number with dec decimals as fmt_num writes it, straight into the buffer. */
static bool fmt_num(char *buf, size_t cap, double x, unsigned dec);
static void w_num(wr_t *w, double x, unsigned dec)
{
	if (sizeof w->buf - w->n < 64)
		w_flush(w);
	if (isfinite(x) && dec <= 6) {
		size_t k = fast_fixed(w->buf + w->n, x, dec);
		if (k) {
			w->n += k;
			return;
		}
	}
	{
		char num[64];
		fmt_num(num, sizeof num, x, dec);
		w_str(w, num);
	}
}

/* Number with the value's decimals; never "-0.0"; false if not finite. */
static bool fmt_num(char *buf, size_t cap, double x, unsigned dec)
{
	if (!isfinite(x)) {
		snprintf(buf, cap, "null");
		return false;
	}
	if (dec > 6)
		dec = 6;
	if (cap >= 32 && fast_fixed(buf, x, dec))
		return true;
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

static void text_bitmap(const blt_value_t *v, wr_t *w)
{
	unsigned hd;
	uint64_t bits = bitmap_bits(v, &hd);
	bool first = true;
	{ /* "0x%0*" PRIx64 " [" */
		char hx[24];
		size_t k = 0;
		hx[k++] = '0';
		hx[k++] = 'x';
		for (unsigned dgt = hd > 16 ? 16 : hd; dgt-- > 0;)
			hx[k++] = "0123456789abcdef"[bits >> (4 * dgt) & 0xf];
		hx[k++] = ' ';
		hx[k++] = '[';
		w_put(w, hx, k);
	}
	for (uint64_t rest = bits; rest; rest &= rest - 1) { /* the set bits, lowest first */
		unsigned b = (unsigned)__builtin_ctzll(rest);
		const char *name = NULL;
		for (const blt_bit_name_t *bn = v->field->bits; bn && bn->name; bn++)
			if (bn->bit == b)
				name = bn->name;
		if (!first)
			w_put(w, ", ", 2);
		first = false;
		if (name)
			w_str(w, name);
		else
			w_printf(w, "bit%u", b);
	}
	w_ch(w, ']');
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

/* "name: " */
static void w_label(wr_t *w, const char *name)
{
	w_str(w, name);
	w_put(w, ": ", 2);
}

int blt_format_text(const blt_decoded_t *r, unsigned flags, FILE *out)
{
	wr_t w;
	if (!r || !out)
		return BLT_E_INVAL;
	w.out = out;
	w.n = 0;
	w.flushes = 0;
	for (size_t i = 0; i < r->count && i < BLT_MAX_VALUES; i++) {
		const blt_value_t *v = &r->values[i];
		const blt_field_t *f = v->field;
		char num[64];

		switch (v->status) {
		case BLT_VS_OK: break;
		case BLT_VS_NOT_REPORTED:
			w_label(&w, v->name);
			w_put(&w, "n/a\n", 4);
			continue;
		case BLT_VS_HIDDEN:
			w_label(&w, v->name);
			w_put(&w, "***\n", 4);
			continue;
		case BLT_VS_UNAVAILABLE:
			if (flags & BLT_FMT_ALL)
				w_printf(&w, "%s: (%s; raw %" PRId64 ")\n", v->name,
				         blt_vreason_name((blt_vreason_t)v->reason), v->raw);
			continue;
		default:
			if ((flags & BLT_FMT_ALL) && unavailable_reason(v, num, sizeof num))
				w_printf(&w, "%s: (%s)\n", v->name,
				         unavailable_reason(v, num, sizeof num));
			continue;
		}
		w_label(&w, v->name);
		if (v->kind == BLT_VK_STR) {
			w_str(&w, v->str);
		} else if (f && f->enums) {
			char dg[24], *e = dg + sizeof dg, *q; /* "%s (%" PRId64 ")" */
			uint64_t a = v->raw < 0 ? (uint64_t)0 - (uint64_t)v->raw : (uint64_t)v->raw;
			w_str(&w, v->str);
			w_put(&w, " (", 2);
			*--e = ')';
			q = u64_digits(e, a);
			if (v->raw < 0)
				*--q = '-';
			w_put(&w, q, (size_t)(dg + sizeof dg - q));
		} else if (is_bitmap(v)) {
			text_bitmap(v, &w);
		} else {
			w_num(&w, v->num, v->decimals);
			if (v->unit && *v->unit) {
				w_ch(&w, ' ');
				w_str(&w, v->unit);
			}
		}
		w_ch(&w, '\n');
	}
	w_flush(&w);
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

/* Printable ASCII other than '"' and '\\': copied as it is. */
static const bool json_plain_tab[256] = {
    [0x20 ... 0x21] = true, /* '"' = 0x22 */
    [0x23 ... 0x5b] = true, /* '\\' = 0x5c */
    [0x5d ... 0x7e] = true,
};

static inline bool json_plain(unsigned c)
{
	return json_plain_tab[c & 0xff];
}

static void json_str(wr_t *w, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	if (sizeof w->buf - w->n >= 130) { /* the common case: a short plain string */
		char *o = w->buf + w->n, *lim = o + 128;
		*o++ = '"';
		while (o < lim && json_plain(*p))
			*o++ = (char)*p++;
		if (!*p) {
			*o++ = '"';
			w->n = (size_t)(o - w->buf);
			return;
		}
		w->n = (size_t)(o - w->buf); /* longer, or a character to escape: go on */
	} else {
		w_ch(w, '"');
	}
	while (*p) {
		unsigned c = *p;
		size_t n;
		if (json_plain(c)) { /* plain characters: copied in the same pass */
			size_t o = w->n;
			while (json_plain(*p)) {
				if (o == sizeof w->buf) {
					w->n = o;
					w_flush(w);
					o = 0;
				}
				w->buf[o++] = (char)*p++;
			}
			w->n = o;
			continue;
		}
		switch (c) {
		case '"':
			w_put(w, "\\\"", 2);
			p++;
			continue;
		case '\\':
			w_put(w, "\\\\", 2);
			p++;
			continue;
		case '\n':
			w_put(w, "\\n", 2);
			p++;
			continue;
		case '\r':
			w_put(w, "\\r", 2);
			p++;
			continue;
		case '\t':
			w_put(w, "\\t", 2);
			p++;
			continue;
		case '\b':
			w_put(w, "\\b", 2);
			p++;
			continue;
		case '\f':
			w_put(w, "\\f", 2);
			p++;
			continue;
		default: break;
		}
		if (c < 0x20 || c == 0x7f) {
			w_printf(w, "\\u%04x", c);
			p++;
			continue;
		}
		n = utf8_len(p);
		if (n == 0) {
			w_put(w, "\\ufffd", 6);
			p++;
			continue;
		}
		w_put(w, (const char *)p, n);
		p += n;
	}
	w_ch(w, '"');
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
	wr_t w;
	/* values[i]'s quoted name at buf[at, at + len) while w.flushes + 1 == flushes (0:
	 * not recorded): the units repeat the names, copied instead of escaped again */
	struct {
		uint16_t at, len;
		unsigned flushes;
	} seen[BLT_MAX_VALUES];

	if (!r || !out || !r->block)
		return BLT_E_INVAL;
	w.out = out;
	w.n = 0;
	w.flushes = 0;
	n = r->count < BLT_MAX_VALUES ? r->count : BLT_MAX_VALUES;
	w_printf(&w, "{\"block\":%u,\"name\":", r->block->id);
	json_str(&w, r->block->name);
	w_str(&w, ",\"values\":{");
	first = true;
	for (size_t i = 0; i < n; i++) {
		const blt_value_t *v = &r->values[i];
		seen[i].flushes = 0;
		if (!in_values(v))
			continue;
		if (!first)
			w_ch(&w, ',');
		first = false;
		{ /* where the quoted name went, for the units below */
			size_t at = w.n;
			unsigned fl = w.flushes;
			json_str(&w, v->name);
			if (w.flushes == fl && w.n - at <= 0xffff) {
				seen[i].at = (uint16_t)at;
				seen[i].len = (uint16_t)(w.n - at);
				seen[i].flushes = fl + 1;
			}
		}
		w_ch(&w, ':');
		if (v->status == BLT_VS_NOT_REPORTED) {
			w_put(&w, "null", 4);
		} else if (v->status == BLT_VS_HIDDEN) {
			json_str(&w, "***");
		} else if (v->kind == BLT_VK_STR || (v->field && v->field->enums)) {
			json_str(&w, v->str);
		} else {
			w_num(&w, v->num, v->decimals);
		}
	}
	w_str(&w, "},\"units\":{");
	first = true;
	for (size_t i = 0; i < n; i++) {
		const blt_value_t *v = &r->values[i];
		const blt_field_t *f = v->field;
		if (!in_values(v) || !f || !v->unit || !*v->unit || f->enums || is_bitmap(v) ||
		    v->kind == BLT_VK_STR)
			continue;
		if (!first)
			w_ch(&w, ',');
		first = false;
		if (seen[i].flushes == w.flushes + 1 && sizeof w.buf - w.n >= seen[i].len) {
			/* the same bytes as json_str(name) gave above, still in the buffer */
			memcpy(w.buf + w.n, w.buf + seen[i].at, seen[i].len);
			w.n += seen[i].len;
		} else {
			json_str(&w, v->name);
		}
		w_ch(&w, ':');
		json_str(&w, v->unit);
	}
	w_str(&w, "},\"missing\":[");
	first = true;
	for (size_t i = 0; i < n; i++) {
		const blt_value_t *v = &r->values[i];
		if (v->status != BLT_VS_MISSING)
			continue;
		if (!first)
			w_ch(&w, ',');
		first = false;
		json_str(&w, v->name);
	}
	w_ch(&w, ']');
	/* Values on the wire that are not facts: absent from "values", listed with the reason
	 * and the raw integer so nothing is lost. With BLT_FMT_ALL, as the text output, also
	 * every other value not shown (missing, gated) with its reason. */
	w_str(&w, ",\"unavailable\":{");
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
			w_ch(&w, ',');
		first = false;
		json_str(&w, v->name);
		w_str(&w, ":{\"reason\":");
		json_str(&w, why);
		if (v->status == BLT_VS_UNAVAILABLE)
			w_printf(&w, ",\"raw\":%" PRId64, v->raw);
		else if (v->status == BLT_VS_GATED && v->field)
			w_printf(&w, ",\"min_pv\":%u", v->field->min_pv);
		w_ch(&w, '}');
	}
	w_ch(&w, '}');
	w_put(&w, "}\n", 2);
	w_flush(&w);
	return ferror(out) ? BLT_E_IO : BLT_OK;
}
