/* libFuzzer harness for the bluetti-bridge configuration parser (tools/bluetti-bridge/
 * config.c, compiled in): the input is the INI file's text, parsed with br_config_parse
 * without loading secrets (no file or environment reads). Checks: the result is OK with a
 * config or CONFIG with at least one message and no config; every message is terminated,
 * names the file and fits its slot; an accepted config has valid topic segments for its
 * device ids and serials, sane numbers, resolved profiles, and prints; the per-device
 * setting / block queries work on it. Aborts on any broken property; ASan/UBSan (and
 * LeakSanitizer: br_config_free must release everything) catch the rest. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bluetti/bluetti.h>

#include "bridge.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

#define NAME "fuzz.ini"

static br_errors_t errs;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	br_config_t *c = (br_config_t *)1;
	int rc;

	rc = br_config_parse((const char *)data, size, NAME, false, &c, &errs);
	CHECK(rc == BLT_OK || rc == BLT_E_CONFIG);
	CHECK(errs.n <= BR_MAX_ERRORS);
	for (size_t i = 0; i < errs.n; i++) {
		CHECK(memchr(errs.msg[i], '\0', sizeof errs.msg[i]) != NULL);
		CHECK(strncmp(errs.msg[i], NAME ":", sizeof NAME) == 0);
	}
	if (rc != BLT_OK) {
		CHECK(c == NULL);
		CHECK(errs.n > 0 || errs.dropped > 0);
		return 0;
	}
	CHECK(c != NULL && errs.n == 0);
	CHECK(c->ndev <= BR_MAX_DEVICES);
	CHECK(br_topic_ok(c->base_topic));
	/* no upstream without a cloud device; with an account its broker comes at the start */
	CHECK(!c->up.host[0] || (c->up.port > 0 && c->up.port <= 65535));
	CHECK(c->down.port > 0 && c->down.port <= 65535);
	CHECK(!c->lan.host[0] || (c->lan.port > 0 && c->lan.port <= 65535));
	for (size_t i = 0; i < c->ndev; i++) {
		const br_device_cfg_t *d = &c->dev[i];
		CHECK(blt_topic_segment_ok(d->id));
		/* by serial only with an account: resolved from its device list at the start */
		CHECK(d->profile != NULL || c->account[0]);
		if (!strcmp(d->transport, "modbus-tcp"))
			CHECK(d->host[0] && d->tcp_port > 0 && d->tcp_port <= 65535 &&
			      !d->controls);
		if (d->sn[0])
			CHECK(blt_topic_segment_ok(d->sn));
		CHECK(d->npoll <= BR_MAX_GROUPS);
		for (size_t s = 0; s < blt_setting_count(); s++)
			(void)br_setting_exposed(d, blt_setting_at(s));
		for (size_t b = 0; b < blt_catalog_count(); b++)
			(void)br_device_polls_block(d, blt_catalog_at(b)->id);
	}
	if (!devnull)
		devnull = fopen("/dev/null", "w");
	if (devnull)
		br_config_print(c, devnull);
	br_config_free(c);
	return 0;
}
