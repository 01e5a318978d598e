/* A small strict RFC 8259 JSON checker for the output tests (header-only, test use).
 * Accepts exactly one value with optional surrounding whitespace; rejects trailing commas,
 * leading zeros, bare control characters in strings, invalid escapes, invalid UTF-8 and
 * duplicate keys within an object (our writer must never produce them). */
#ifndef TEST_DECODE_JSON_H
#define TEST_DECODE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

typedef struct jcheck {
	const char *p, *end;
	int depth;
} jcheck_t;

static void jc_ws(jcheck_t *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool jc_value(jcheck_t *j);

static bool jc_hex4(jcheck_t *j)
{
	for (int i = 0; i < 4; i++, j->p++) {
		char c = j->p < j->end ? *j->p : 0;
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

/* Parses a string; copies its raw (escaped) text into key (if non-NULL, cap bytes). */
static bool jc_string(jcheck_t *j, char *key, size_t cap)
{
	const char *start;
	if (j->p >= j->end || *j->p != '"')
		return false;
	start = ++j->p;
	while (j->p < j->end) {
		unsigned char c = (unsigned char)*j->p;
		if (c == '"') {
			if (key) {
				size_t n = (size_t)(j->p - start);
				if (n >= cap)
					n = cap - 1;
				memcpy(key, start, n);
				key[n] = 0;
			}
			j->p++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			j->p++;
			if (j->p >= j->end)
				return false;
			switch (*j->p) {
			case '"':
			case '\\':
			case '/':
			case 'b':
			case 'f':
			case 'n':
			case 'r':
			case 't': j->p++; break;
			case 'u':
				j->p++;
				if (!jc_hex4(j))
					return false;
				break;
			default: return false;
			}
			continue;
		}
		if (c < 0x80) {
			j->p++;
			continue;
		}
		/* UTF-8 sequence */
		{
			int n = c >= 0xF0 && c <= 0xF4   ? 4
			        : c >= 0xE0              ? 3
			        : c >= 0xC2 && c <= 0xDF ? 2
			                                 : 0;
			if (n == 0 || (c >= 0xF5))
				return false;
			for (int i = 1; i < n; i++)
				if (j->p + i >= j->end || ((unsigned char)j->p[i] & 0xC0) != 0x80)
					return false;
			j->p += n;
		}
	}
	return false;
}

static bool jc_number(jcheck_t *j)
{
	const char *s = j->p;
	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p >= j->end)
		return false;
	if (*j->p == '0') {
		j->p++;
	} else if (*j->p >= '1' && *j->p <= '9') {
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	} else {
		return false;
	}
	if (j->p < j->end && *j->p == '.') {
		j->p++;
		if (j->p >= j->end || !(*j->p >= '0' && *j->p <= '9'))
			return false;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (j->p >= j->end || !(*j->p >= '0' && *j->p <= '9'))
			return false;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	return j->p > s;
}

static bool jc_lit(jcheck_t *j, const char *lit)
{
	size_t n = strlen(lit);
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return false;
	j->p += n;
	return true;
}

#define JC_MAX_KEYS 512
static bool jc_object(jcheck_t *j)
{
	static char keys[8][JC_MAX_KEYS][64]; /* per depth */
	int nk = 0, d = j->depth;
	j->p++; /* '{' */
	jc_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return true;
	}
	for (;;) {
		char key[64];
		jc_ws(j);
		if (!jc_string(j, key, sizeof key))
			return false;
		if (d < 8) {
			for (int i = 0; i < nk; i++)
				if (strcmp(keys[d][i], key) == 0)
					return false; /* duplicate key */
			if (nk < JC_MAX_KEYS)
				strcpy(keys[d][nk++], key);
		}
		jc_ws(j);
		if (j->p >= j->end || *j->p != ':')
			return false;
		j->p++;
		if (!jc_value(j))
			return false;
		jc_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			return true;
		}
		return false;
	}
}

static bool jc_array(jcheck_t *j)
{
	j->p++; /* '[' */
	jc_ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		return true;
	}
	for (;;) {
		if (!jc_value(j))
			return false;
		jc_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			return true;
		}
		return false;
	}
}

static bool jc_value(jcheck_t *j)
{
	bool ok;
	jc_ws(j);
	if (j->p >= j->end || j->depth > 64)
		return false;
	j->depth++;
	switch (*j->p) {
	case '{': ok = jc_object(j); break;
	case '[': ok = jc_array(j); break;
	case '"': ok = jc_string(j, NULL, 0); break;
	case 't': ok = jc_lit(j, "true"); break;
	case 'f': ok = jc_lit(j, "false"); break;
	case 'n': ok = jc_lit(j, "null"); break;
	default: ok = jc_number(j); break;
	}
	j->depth--;
	return ok;
}

/* True if text[0..n) is exactly one valid JSON value (whitespace around allowed). */
static inline bool json_strict_valid(const char *text, size_t n)
{
	jcheck_t j = {text, text + n, 0};
	if (!jc_value(&j))
		return false;
	jc_ws(&j);
	return j.p == j.end;
}

#endif
