/* libFuzzer harness for what the cloud layer reads from the account gateway (untrusted
 * HTTPS answers, PROTOCOL.md §2): byte 0 selects the parser and its buffer sizes, the rest
 * is the answer body (or header value):
 *   0 login  1 user id  2 device list  3 server time  4 PFX error status  (JSON bodies)
 *   5 broker "host[:port]" (iotSrvIp / x-iot-server)  6 token parts
 *   7 X-Signature hex -> AES decrypt, and encrypt -> decrypt round trip of the bytes.
 * Checks: the return code agrees with the failure kind, every failure fills a terminated,
 * non-empty detail line, outputs are terminated and within their buffers, copied server
 * strings carry no control characters. Aborts on any broken property; ASan/UBSan catch
 * the rest. The parsers are internal (cloud_internal.h) and linked from libbluetti.a. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bluetti/bluetti.h>
#include <bluetti/cloud.h>

#include "../../src/cloud/cloud_internal.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

static void check_detail(int rc, const blt_detail_t *d)
{
	if (rc != BLT_OK) {
		CHECK(memchr(d->text, '\0', sizeof d->text) != NULL);
		CHECK(d->text[0] != '\0');
	}
}

/* A terminated string of printable characters (no control bytes) within cap. */
static void check_clean(const char *s, size_t cap)
{
	const char *end = memchr(s, '\0', cap);
	CHECK(end != NULL);
	for (; s < end; s++)
		CHECK((unsigned char)*s >= 0x20 && (unsigned char)*s != 0x7f);
}

static void check_error(int rc, const blt_cloud_error_t *e, const blt_detail_t *d)
{
	check_detail(rc, d);
	check_clean(e->server_message, sizeof e->server_message);
	if (rc == BLT_OK)
		return;
	CHECK(e->kind != BLT_CLOUD_OK);
	CHECK(blt_cloud_fail_err(e->kind) == rc);
}

static void check_hostport(const char *s)
{
	char host[64];
	uint16_t port = 0;
	if (blt_cloud_parse_hostport(s, host, sizeof host, &port) != 0)
		return;
	CHECK(port != 0);
	CHECK(host[0] != '\0' && memchr(host, '\0', sizeof host));
	for (const char *p = host; *p; p++)
		CHECK((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= 'A' && *p <= 'Z') || strchr(".-_:", *p));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	blt_cloud_error_t e;
	blt_detail_t d;
	const char *body;
	char *str;
	size_t len;
	unsigned sel, opt;
	int rc;

	if (size < 1)
		return 0;
	sel = data[0] & 7;
	opt = data[0] >> 3;
	body = (const char *)data + 1;
	len = size - 1;
	/* the string parsers get a terminated copy */
	str = malloc(len + 1);
	if (!str)
		return 0;
	memcpy(str, body, len);
	str[len] = '\0';
	memset(&e, 0, sizeof e);
	memset(&d, 0, sizeof d);

	switch (sel) {
	case 0: { /* login: token buffer from tiny to the real size */
		static const size_t caps[] = {1, 2, 8, 64, 2048};
		char token[2048];
		long ttl = -1;
		size_t cap = caps[opt % 5];
		memset(token, 0x55, sizeof token);
		rc = blt_cloud_parse_login(body, len, token, cap, (opt & 8) ? NULL : &ttl, &e, &d);
		check_error(rc, &e, &d);
		if (rc == BLT_OK) {
			size_t tl = strnlen(token, cap);
			CHECK(tl < cap && tl > 0);
			for (size_t i = 0; i < tl; i++)
				CHECK((unsigned char)token[i] > 0x20 &&
				      (unsigned char)token[i] < 0x7f);
			CHECK(blt_cloud_token_parts(token, NULL, 0, NULL, 0) == BLT_OK);
			if (!(opt & 8))
				CHECK(ttl > 0);
		}
		for (size_t i = cap; i < sizeof token; i++) /* nothing written past cap */
			CHECK(token[i] == 0x55);
		break;
	}
	case 1: { /* user id */
		char uid[40];
		size_t cap = 1 + opt % 39;
		memset(uid, 0x55, sizeof uid);
		rc = blt_cloud_parse_uid(body, len, uid, cap, &e, &d);
		check_error(rc, &e, &d);
		if (rc == BLT_OK) {
			check_clean(uid, cap);
			CHECK(uid[0] != '\0');
		}
		for (size_t i = cap; i < sizeof uid; i++)
			CHECK(uid[i] == 0x55);
		break;
	}
	case 2: { /* device list, room for 0..3 devices, with or without a default broker */
		static const char *brokers[] = {NULL, "127.0.0.1:1883", "[::1]:8883", "bad host"};
		blt_cloud_device_t dev[4];
		size_t cap = opt % 4, n = 99;
		memset(dev, 0x55, sizeof dev);
		rc = blt_cloud_parse_devices(body, len, dev, cap, &n, brokers[(opt >> 2) & 3], &e,
		                             &d);
		check_detail(rc, &d);
		check_clean(e.server_message, sizeof e.server_message);
		if (rc == BLT_E_BUFSIZE) {
			CHECK(n > cap);
		} else if (rc != BLT_OK) {
			CHECK(blt_cloud_fail_err(e.kind) == rc);
		} else {
			CHECK(n <= cap);
			for (size_t i = 0; i < n; i++) {
				check_clean(dev[i].sn, sizeof dev[i].sn);
				check_clean(dev[i].model, sizeof dev[i].model);
				check_clean(dev[i].sub_sn, sizeof dev[i].sub_sn);
				check_clean(dev[i].name, sizeof dev[i].name);
				CHECK(dev[i].sn[0] && dev[i].model[0]);
				CHECK(dev[i].broker_host[0] && dev[i].broker_port != 0);
				check_clean(dev[i].broker_host, sizeof dev[i].broker_host);
			}
		}
		for (size_t i = cap; i < 4; i++) { /* nothing written past cap */
			const uint8_t *p = (const uint8_t *)&dev[i];
			for (size_t k = 0; k < sizeof dev[i]; k++)
				CHECK(p[k] == 0x55);
		}
		break;
	}
	case 3: { /* server time */
		int64_t ms = -1;
		rc = blt_cloud_parse_time(body, len, &ms, &e, &d);
		check_error(rc, &e, &d);
		if (rc == BLT_OK)
			CHECK(ms >= 1000000000000LL && ms <= 9999999999999LL);
		else
			CHECK(ms == -1);
		break;
	}
	case 4: /* PFX error answer: only the envelope */
		rc = blt_cloud_parse_status(body, len, &e, &d);
		check_error(rc, &e, &d);
		if (rc == BLT_OK)
			CHECK(e.server_code == 0);
		break;
	case 5: /* broker host:port */ check_hostport(str); break;
	case 6: { /* token parts into buffers of several sizes */
		char p0[16], p1[16];
		size_t c0 = opt % 17, c1 = (opt * 7) % 17;
		rc = blt_cloud_token_parts(str, p0, c0, p1, c1);
		CHECK(rc == BLT_OK || rc == BLT_E_INVAL || rc == BLT_E_BUFSIZE);
		if (rc == BLT_OK && (c0 || c1)) {
			CHECK(memchr(p0, '\0', c0) && memchr(p1, '\0', c1));
			CHECK(!strchr(p0, '.') && !strchr(p1, '.') && p1[0]);
		}
		break;
	}
	case 7:
		if (opt & 16) { /* deviceRemoteSearch: merged over a record, the secret bounded */
			blt_cloud_device_t dv;
			char sec[24];
			memset(&dv, 0, sizeof dv);
			snprintf(dv.sn, sizeof dv.sn, "EL100V21");
			memset(sec, 0x55, sizeof sec);
			size_t cap = 1 + opt % 8 + (opt & 8 ? 15 : 0);
			rc = blt_cloud_parse_remote(body, len, &dv, sec, cap, &e, &d);
			check_error(rc, &e, &d);
			CHECK(memchr(sec, '\0', cap) != NULL);
			for (size_t k = cap; k < sizeof sec; k++)
				CHECK((unsigned char)sec[k] == 0x55);
			CHECK(memchr(dv.model, '\0', sizeof dv.model) &&
			      memchr(dv.sub_sn, '\0', sizeof dv.sub_sn) &&
			      memchr(dv.broker_host, '\0', sizeof dv.broker_host));
			if (rc == BLT_OK)
				for (const char *q = sec; *q; q++)
					CHECK((unsigned char)*q > 0x20 && (unsigned char)*q < 0x7f);
			break;
		}
		/* fall through */
	default: { /* X-Signature: hex -> AES-256-ECB decrypt; then encrypt the bytes back */
		static const char key[33] = "0123456789ABCDEF0123456789ABCDEF";
		uint8_t pw[129];
		char hex[2 * 1040 + 1];
		size_t n = 0, cap = 1 + (size_t)(opt * 5) % sizeof pw;
		rc = blt_cloud_aes_decrypt_hex(key, str, pw, cap, &n, &d);
		check_detail(rc, &d);
		if (rc == BLT_OK)
			CHECK(n + 1 <= cap && pw[n] == 0);
		if (len <= 1000 && blt_cloud_aes_encrypt_hex(key, (const uint8_t *)body, len, hex,
		                                             sizeof hex) == BLT_OK) {
			uint8_t back[1040];
			CHECK(blt_cloud_aes_decrypt_hex(key, hex, back, sizeof back, &n, &d) ==
			      BLT_OK);
			CHECK(n == len && memcmp(back, body, len) == 0);
		}
		break;
	}
	}
	free(str);
	return 0;
}
