/* libFuzzer harness for text the programs take from users and files: hex text
 * (blt_hex_decode: --hex, --frame, X-Signature), the topic segment validator
 * (blt_topic_segment_ok: serials and models from configs, the cloud and the command line)
 * and topic template expansion (blt_topic_expand). Byte 0 picks the output buffer size;
 * the rest is split at NUL bytes into up to three strings (text / template, model, sn).
 * Checks against independent reference models: the segment validator accepts exactly
 * 1..64 characters of [A-Za-z0-9._-]; an expansion equals the reference one and fits its
 * buffer; decoded hex re-encodes and decodes to the same bytes, never past the buffer.
 * Aborts on any broken property; ASan/UBSan catch the rest. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bluetti/bluetti.h>

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

static int ref_segment_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

/* The model segment's rule (catalog.h blt_topic_model_ok): 1-64 printable ASCII
 * characters, spaces inside only ("Elite 200 V2"), never '+', '#' or '/'. */
static int ref_model_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64 || s[0] == ' ' || s[n - 1] == ' ')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c > 0x7e || c == '+' || c == '#' || c == '/')
			return 0;
	}
	return 1;
}

/* Reference expansion into a large buffer: 0 ok, -1 bad segment, -2 too long. */
static int ref_expand(const char *t, const char *model, const char *sn, char *out, size_t cap)
{
	size_t o = 0;
	while (*t) {
		const char *v = NULL;
		size_t skip = 1, n;
		if (!strncmp(t, "{model}", 7)) {
			if (!ref_model_ok(model))
				return -1;
			v = model;
			skip = 7;
		} else if (!strncmp(t, "{sn}", 4)) {
			if (!ref_segment_ok(sn))
				return -1;
			v = sn;
			skip = 4;
		}
		n = v ? strlen(v) : 1;
		if (o + n >= cap)
			return -2;
		memcpy(out + o, v ? v : t, n);
		o += n;
		t += skip;
	}
	out[o] = '\0';
	return 0;
}

static void fuzz_hex(const char *text, size_t cap)
{
	uint8_t out[300], back[300];
	char enc[2 * 300 + 1];
	size_t n = 12345, m = 0;
	blt_detail_t d;
	int rc;

	memset(out, 0x55, sizeof out);
	memset(&d, 0, sizeof d);
	rc = blt_hex_decode(text, out, cap, &n, &d);
	for (size_t i = cap; i < sizeof out; i++)
		CHECK(out[i] == 0x55);
	if (rc != BLT_OK) {
		CHECK(rc == BLT_E_HEX || rc == BLT_E_BUFSIZE);
		CHECK(d.text[0] && memchr(d.text, '\0', sizeof d.text));
		CHECK(n == 12345); /* no partial length on failure */
		return;
	}
	CHECK(n <= cap);
	CHECK(blt_hex_encode(out, n, enc, sizeof enc) == BLT_OK);
	CHECK(strlen(enc) == 2 * n);
	CHECK(blt_hex_decode(enc, back, sizeof back, &m, NULL) == BLT_OK);
	CHECK(m == n && memcmp(back, out, n) == 0);
	if (n > 0) /* one byte short of room is refused, not truncated */
		CHECK(blt_hex_decode(text, back, n - 1, &m, NULL) == BLT_E_BUFSIZE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf;
	const char *parts[3] = {"", "", ""};
	size_t cap, k = 0;

	if (size < 1)
		return 0;
	cap = data[0] == 0xff ? 300 : data[0] % 300;
	buf = malloc(size);
	if (!buf)
		return 0;
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	parts[k++] = buf;
	for (size_t i = 0; i + 1 < size && k < 3; i++)
		if (buf[i] == '\0')
			parts[k++] = buf + i + 1;

	fuzz_hex(parts[0], cap);

	for (int i = 0; i < 3; i++)
		CHECK(!blt_topic_segment_ok(parts[i]) == !ref_segment_ok(parts[i]));

	{
		char out[160], ref[160];
		size_t ocap = cap % sizeof out;
		blt_detail_t d;
		int rc, rrc;
		memset(&d, 0, sizeof d);
		memset(out, 0x55, sizeof out);
		rc = blt_topic_expand(parts[0], parts[1], parts[2], out, ocap, &d);
		rrc = ocap ? ref_expand(parts[0], parts[1], parts[2], ref, ocap) : -3;
		for (size_t i = ocap; i < sizeof out; i++)
			CHECK((unsigned char)out[i] == 0x55);
		if (rc == BLT_OK) {
			CHECK(rrc == 0 && strcmp(out, ref) == 0 && strlen(out) < ocap);
		} else {
			CHECK(d.text[0] && memchr(d.text, '\0', sizeof d.text));
			CHECK(rrc != 0);
			CHECK(rc == (rrc == -1   ? BLT_E_SERIAL
			             : rrc == -2 ? BLT_E_BUFSIZE
			                         : BLT_E_INVAL));
		}
	}
	free(buf);
	return 0;
}
