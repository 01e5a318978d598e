/* Hex text <-> bytes. */
#include <bluetti/bluetti.h>

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int is_sep(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':' || c == '-' ||
	       c == '|' || c == ',';
}

blt_err_t blt_hex_decode(const char *text, uint8_t *out, size_t cap, size_t *out_len,
                         blt_detail_t *d)
{
	size_t n = 0, pos = 0;
	int hi = -1;

	if (!text || !out_len)
		return blt_detail_set(d, BLT_E_INVAL, "no hex text");
	for (; text[pos]; pos++) {
		int c = (unsigned char)text[pos];
		int v;
		if (is_sep(c))
			continue;
		if (c == '0' && (text[pos + 1] == 'x' || text[pos + 1] == 'X') && hi < 0) {
			pos++;
			continue;
		}
		v = hexval(c);
		if (v < 0)
			return blt_detail_set(d, BLT_E_HEX,
			                      "invalid character '%c' at position %zu",
			                      c >= 0x20 && c < 0x7f ? c : '?', pos);
		if (hi < 0) {
			hi = v;
			continue;
		}
		if (n >= cap)
			return blt_detail_set(d, BLT_E_BUFSIZE, "hex text longer than %zu bytes",
			                      cap);
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	if (hi >= 0)
		return blt_detail_set(d, BLT_E_HEX, "odd number of hex digits");
	*out_len = n;
	return BLT_OK;
}

int blt_hex_encode(const uint8_t *in, size_t n, char *out, size_t cap)
{
	static const char digits[] = "0123456789abcdef";
	if (cap < 2 * n + 1)
		return BLT_E_BUFSIZE;
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
	return BLT_OK;
}
