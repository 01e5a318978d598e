/* libFuzzer harness for the decoder: byte 0 selects a catalog block, byte 1 the options
 * (protocol version gating, secrets, pack voltage scale), the rest is the block payload.
 * Decodes, formats text (to /dev/null) and JSON (checked strictly valid), and checks that
 * every numeric value re-encodes to exactly the bytes it came from. Aborts on any broken
 * property; ASan/UBSan catch the rest. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bluetti/bluetti.h>

#include "../unit/test_decode_json.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

static blt_decoded_t res;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	const blt_block_t *b;
	blt_decode_opts_t o = {0};
	blt_detail_t d = {{0}};
	uint8_t payload[256], copy[256];
	size_t n;
	int rc;

	if (size < 2 || blt_catalog_count() == 0)
		return 0;
	b = blt_catalog_at(data[0] % blt_catalog_count());
	o.protocol_version = (data[1] & 3) == 0 ? 0 : (data[1] & 3) == 1 ? 2000 : 2015;
	o.show_secrets = (data[1] & 4) != 0;
	o.pack_voltage_scale = (data[1] & 8) ? 0.1 : 0;
	n = size - 2;
	if (n > 250)
		n = 250; /* FC03 payloads are at most 250 bytes */
	memcpy(payload, data + 2, n);

	rc = blt_decode(b, payload, n, &o, &res, &d);
	CHECK(rc == BLT_OK || rc == BLT_E_MISSING || rc == BLT_E_BUFSIZE);
	if (rc != BLT_OK)
		CHECK(d.text[0] != '\0' && memchr(d.text, 0, sizeof d.text));
	CHECK(res.count <= BLT_MAX_VALUES && res.missing <= res.count && res.nbytes == n);

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	if (devnull) {
		CHECK(blt_format_text(&res, BLT_FMT_ALL, devnull) == BLT_OK);
		CHECK(blt_format_text(&res, 0, devnull) == BLT_OK);
	}
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		if (f) {
			CHECK(blt_format_json(&res, 0, f) == BLT_OK);
			fclose(f);
			CHECK(json_strict_valid(buf, len));
			free(buf);
		}
	}

	/* decode is exact: writing each numeric value back leaves the payload unchanged */
	for (size_t i = 0; i < res.count; i++) {
		const blt_value_t *v = &res.values[i];
		const blt_field_t *f = v->field;
		size_t sz = f->size ? f->size : blt_type_size((blt_type_t)f->type);
		if (v->status != BLT_VS_OK || v->kind == BLT_VK_STR ||
		    (f->flags & (BLT_F_ABS | BLT_F_CLAMP)) || sz == 0)
			continue;
		memcpy(copy, payload, n);
		rc = blt_encode_num(b, f, v->index, v->num, &o, copy, n);
		CHECK(rc == BLT_OK);
		CHECK(memcmp(copy, payload, n) == 0);
	}
	for (size_t i = 0; i < res.count; i++) { /* serials too */
		const blt_value_t *v = &res.values[i];
		if (v->status != BLT_VS_OK || v->field->type != BLT_T_SN64)
			continue;
		memcpy(copy, payload, n);
		CHECK(blt_encode_str(b, v->field, v->index, v->str, copy, n) == BLT_OK);
		CHECK(memcmp(copy, payload, n) == 0);
	}
	return 0;
}
