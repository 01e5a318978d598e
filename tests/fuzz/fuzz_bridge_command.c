/* libFuzzer harness for Home Assistant command payloads as bluetti-bridge handles them
 * (tools/bluetti-bridge/bridge.c on_command, without the network): the MQTT payload is
 * normalised by br_command_text (ha.c, compiled in), then parsed against the setting with
 * blt_setting_parse_value. Byte 0 picks the setting, byte 1 the text buffer size; the rest
 * is the payload. Checks: nothing is written past the buffer, the normalised text is
 * terminated printable ASCII; an accepted value passes the setting's own range check, is
 * within int32 and formats and parses back to itself; a refused one has a detail line.
 * Aborts on any broken property; ASan/UBSan catch the rest. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bluetti/bluetti.h>
#include <bluetti/control.h>
#include <bluetti/settings.h>

#include "bridge.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const blt_setting_t *s;
	char text[96], num[24], shown[64];
	size_t cap, len;
	const char *payload;
	int32_t v = 0, back = 0;
	blt_detail_t d;
	int rc;

	if (size < 2 || blt_setting_count() == 0)
		return 0;
	s = blt_setting_at(data[0] % blt_setting_count());
	CHECK(s != NULL);
	/* the bridge's buffer is 80 bytes; smaller ones check the bound */
	cap = data[1] < 0xc0 ? 80 : (size_t)(data[1] & 0x3f);
	payload = (const char *)data + 2;
	len = size - 2;

	memset(text, 0x55, sizeof text);
	if (!br_command_text(payload, len, text, cap)) {
		for (size_t i = cap; i < sizeof text; i++)
			CHECK(text[i] == 0x55);
		return 0;
	}
	CHECK(cap >= 2);
	CHECK(memchr(text, '\0', cap) != NULL);
	for (size_t i = cap; i < sizeof text; i++)
		CHECK(text[i] == 0x55);
	for (const char *p = text; *p; p++)
		CHECK(*p >= 0x20 && *p <= 0x7e && !(*p >= 'A' && *p <= 'Z'));

	memset(&d, 0, sizeof d);
	rc = blt_setting_parse_value(s, text, &v, &d);
	if (rc != BLT_OK) {
		CHECK(rc == BLT_E_RANGE || rc == BLT_E_INVAL || rc == BLT_E_DENIED);
		CHECK(d.text[0] != '\0' && memchr(d.text, '\0', sizeof d.text));
		return 0;
	}
	CHECK(blt_setting_check_value(s, v, NULL) == BLT_OK);
	if (s->kind == BLT_SK_NUMBER)
		CHECK(v >= s->min && v <= s->max);
	/* what run_command logs, and the value as a number: parses back to itself */
	blt_setting_format_value(s, v, shown, sizeof shown);
	CHECK(memchr(shown, '\0', sizeof shown) != NULL);
	snprintf(num, sizeof num, "%ld", (long)v);
	CHECK(blt_setting_parse_value(s, num, &back, NULL) == BLT_OK);
	CHECK(back == v);
	return 0;
}
