/* Parsers of every gateway answer (src/cloud/json.c): well-formed answers in the shapes
 * PROTOCOL.md §2.3-§2.6 describes (live field names), server error codes, and malformed
 * input of every kind (not JSON, wrong types, missing fields, truncation at every byte). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <bluetti/cloud.h>

#include "cloud/cloud_internal.h"

#define S(x) x, strlen(x)

static void test_login_ok(void **st)
{
	char tok[256];
	long ttl = 0;
	blt_cloud_error_t e = {0};
	blt_detail_t d;
	(void)st;
	assert_int_equal(
	    blt_cloud_parse_login(S("{\"code\":0,\"message\":\"OK\",\"data\":{\"token\":"
	                            "\"aaa.bbb.ccc\",\"refresh\":\"r\",\"ttl\":3600}}"),
	                          tok, sizeof tok, &ttl, &e, &d),
	    BLT_OK);
	assert_string_equal(tok, "aaa.bbb.ccc");
	assert_int_equal(ttl, 3600);
	/* msgCode instead of code, ttl absent -> 31 days, ttl as string accepted */
	assert_int_equal(
	    blt_cloud_parse_login(S("{\"msgCode\":\"0\",\"data\":{\"token\":\"x.y\"}}"), tok,
	                          sizeof tok, &ttl, &e, &d),
	    BLT_OK);
	assert_int_equal(ttl, 2678400);
	assert_int_equal(
	    blt_cloud_parse_login(S("{\"code\":0,\"data\":{\"token\":\"x.y\",\"ttl\":\"60\"}}"),
	                          tok, sizeof tok, &ttl, &e, &d),
	    BLT_OK);
	assert_int_equal(ttl, 60);
}

static void test_login_refused(void **st)
{
	char tok[256];
	blt_cloud_error_t e = {0};
	blt_detail_t d;
	(void)st;
	assert_int_equal(
	    blt_cloud_parse_login(S("{\"code\":20003015,\"message\":\"password incorrect\"}"), tok,
	                          sizeof tok, NULL, &e, &d),
	    BLT_E_AUTH);
	assert_int_equal(e.kind, BLT_CLOUD_WRONG_PASSWORD);
	assert_int_equal(e.server_code, 20003015);
	assert_string_equal(e.server_message, "password incorrect");
	assert_non_null(strstr(d.text, "wrong password"));

	assert_int_equal(
	    blt_cloud_parse_login(S("{\"msgCode\":20003006,\"message\":\"Account does not "
	                            "exist\"}"),
	                          tok, sizeof tok, NULL, &e, &d),
	    BLT_E_AUTH);
	assert_int_equal(e.kind, BLT_CLOUD_UNKNOWN_ACCOUNT);
	assert_non_null(strstr(d.text, "20003006"));
	/* by message alone */
	assert_int_equal(
	    blt_cloud_parse_login(S("{\"code\":1,\"message\":\"The account does not exist\"}"), tok,
	                          sizeof tok, NULL, &e, &d),
	    BLT_E_AUTH);
	assert_int_equal(e.kind, BLT_CLOUD_UNKNOWN_ACCOUNT);
	assert_int_equal(blt_cloud_parse_login(S("{\"code\":42,\"message\":\"locked\"}"), tok,
	                                       sizeof tok, NULL, &e, &d),
	                 BLT_E_AUTH);
	assert_int_equal(e.kind, BLT_CLOUD_LOGIN_REFUSED);
	assert_int_equal(e.server_code, 42);
	/* control characters from the server are not copied verbatim */
	assert_int_equal(blt_cloud_parse_login(S("{\"code\":42,\"message\":\"a\\u001b[31mb\\n\"}"),
	                                       tok, sizeof tok, NULL, &e, &d),
	                 BLT_E_AUTH);
	assert_null(strchr(e.server_message, 0x1b));
	assert_null(strchr(d.text, '\n'));
}

static void test_login_malformed(void **st)
{
	static const char *bad[] = {
	    "",
	    "not json",
	    "[1,2]",
	    "{\"code\":0}",
	    "{\"code\":0,\"data\":[]}",
	    "{\"code\":0,\"data\":{}}",
	    "{\"code\":0,\"data\":{\"token\":5}}",
	    "{\"code\":0,\"data\":{\"token\":\"\"}}",
	    "{\"code\":0,\"data\":{\"token\":\"nodots\"}}",
	    "{\"code\":0,\"data\":{\"token\":\"a.\"}}",
	    "{\"code\":0,\"data\":{\"token\":\".b\"}}",
	    "{\"code\":0,\"data\":{\"token\":\"a.b c\"}}",
	    "{\"code\":\"zero\",\"data\":{\"token\":\"a.b\"}}",
	    "{\"data\":{\"token\":\"a.b\"}}",
	    "{\"code\":0,\"data\":{\"token\":\"a.b\"}",
	};
	char tok[256];
	blt_cloud_error_t e;
	blt_detail_t d;
	(void)st;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		memset(&e, 0, sizeof e);
		d.text[0] = 0;
		int err =
		    blt_cloud_parse_login(bad[i], strlen(bad[i]), tok, sizeof tok, NULL, &e, &d);
		if (err != BLT_E_PROTOCOL || e.kind != BLT_CLOUD_MALFORMED)
			fail_msg("input %zu (%s): err %d kind %d", i, bad[i], err, e.kind);
		assert_true(d.text[0] != 0);
	}
	/* token longer than the buffer */
	assert_int_equal(blt_cloud_parse_login(S("{\"code\":0,\"data\":{\"token\":\"aaaa.bbbb\"}}"),
	                                       tok, 5, NULL, &e, &d),
	                 BLT_E_PROTOCOL);
	assert_int_equal(e.kind, BLT_CLOUD_MALFORMED);
}

static void test_token_expired(void **st)
{
	char uid[64];
	blt_cloud_error_t e = {0};
	blt_detail_t d;
	(void)st;
	assert_int_equal(blt_cloud_parse_uid(S("{\"code\":805,\"message\":\"token expired\"}"), uid,
	                                     sizeof uid, &e, &d),
	                 BLT_E_AUTH);
	assert_int_equal(e.kind, BLT_CLOUD_TOKEN_EXPIRED);
	assert_int_equal(e.server_code, 805);
	/* msgCode 805 with code 0 */
	assert_int_equal(blt_cloud_parse_status(S("{\"code\":0,\"msgCode\":805}"), &e, &d),
	                 BLT_E_AUTH);
	assert_int_equal(e.kind, BLT_CLOUD_TOKEN_EXPIRED);
	assert_int_equal(blt_cloud_parse_status(S("{\"code\":\"805\"}"), &e, &d), BLT_E_AUTH);
	assert_int_equal(blt_cloud_parse_status(S("{\"code\":500,\"message\":\"busy\"}"), &e, &d),
	                 BLT_E_PROTOCOL);
	assert_int_equal(e.kind, BLT_CLOUD_SERVER_CODE);
	assert_non_null(strstr(d.text, "500: busy"));
}

static void test_uid(void **st)
{
	char uid[16];
	blt_cloud_error_t e = {0};
	blt_detail_t d;
	(void)st;
	assert_int_equal(blt_cloud_parse_uid(S("{\"code\":0,\"data\":{\"uid\":\"1234567\"}}"), uid,
	                                     sizeof uid, &e, &d),
	                 BLT_OK);
	assert_string_equal(uid, "1234567");
	assert_int_equal(
	    blt_cloud_parse_uid(S("{\"code\":0,\"data\":{\"uid\":987}}"), uid, sizeof uid, &e, &d),
	    BLT_OK);
	assert_string_equal(uid, "987");
	assert_int_equal(
	    blt_cloud_parse_uid(S("{\"code\":0,\"data\":{}}"), uid, sizeof uid, &e, &d),
	    BLT_E_PROTOCOL);
	assert_int_equal(e.kind, BLT_CLOUD_MALFORMED);
	assert_int_equal(
	    blt_cloud_parse_uid(S("{\"code\":0,\"data\":{\"uid\":[1]}}"), uid, sizeof uid, &e, &d),
	    BLT_E_PROTOCOL);
	assert_int_equal(
	    blt_cloud_parse_uid(S("{\"code\":0,\"data\":{\"uid\":\"0123456789abcdefXYZ\"}}"), uid,
	                        sizeof uid, &e, &d),
	    BLT_E_PROTOCOL);
}

static void test_time(void **st)
{
	int64_t ms = 0;
	blt_cloud_error_t e = {0};
	blt_detail_t d;
	(void)st;
	/* live: data as a string */
	assert_int_equal(
	    blt_cloud_parse_time(S("{\"code\":0,\"message\":\"OK\",\"data\":\"1777630585000\"}"),
	                         &ms, &e, &d),
	    BLT_OK);
	assert_true(ms == 1777630585000LL);
	assert_int_equal(
	    blt_cloud_parse_time(S("{\"code\":0,\"data\":1710000000123}"), &ms, &e, &d), BLT_OK);
	assert_true(ms == 1710000000123LL);
	static const char *bad[] = {
	    "{\"code\":0,\"data\":\"soon\"}",
	    "{\"code\":0,\"data\":\"\"}",
	    "{\"code\":0,\"data\":1710000000}", /* seconds, not ms */
	    "{\"code\":0,\"data\":-5}",
	    "{\"code\":0,\"data\":null}",
	    "{\"code\":0}",
	    "{\"code\":0,\"data\":\"17100000001x\"}",
	    "{\"code\":0,\"data\":1e300}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		e.kind = BLT_CLOUD_OK;
		if (blt_cloud_parse_time(bad[i], strlen(bad[i]), &ms, &e, &d) != BLT_E_PROTOCOL ||
		    e.kind != BLT_CLOUD_MALFORMED)
			fail_msg("accepted bad time %s", bad[i]);
	}
}

static const char DEVICES[] =
    "{\"code\":0,\"data\":["
    "{\"sn\":\"AP3002616113487436\",\"model\":\"AP300\",\"subSn\":\"2616113487436\","
    "\"name\":\"Garage\",\"boardSn\":\"x\",\"factoryProtocolVer\":\"2015\","
    "\"sessionState\":\"Online\",\"netStatus\":1,\"packNum\":2,\"batSOC\":87,"
    "\"lastAlive\":{\"batterySoc\":87}},"
    "{\"sn\":\"EL100V22434000112345\",\"model\":\"EL100V2\",\"name\":\"Van\","
    "\"sessionState\":\"Offline\",\"iotSrvIp\":\"broker.example:18999\"},"
    "{\"sn\":\"X1\",\"model\":\"X\",\"subSn\":\"1\",\"iotSrvIp\":\"only-host.example\","
    "\"factoryProtocolVer\":2001}"
    "]}";

static void test_devices(void **st)
{
	blt_cloud_device_t dv[4];
	size_t n = 0;
	blt_cloud_error_t e = {0};
	blt_detail_t d;
	(void)st;
	assert_int_equal(blt_cloud_parse_devices(S(DEVICES), dv, 4, &n, "iot.example:1234", &e, &d),
	                 BLT_OK);
	assert_int_equal(n, 3);
	assert_string_equal(dv[0].sn, "AP3002616113487436");
	assert_string_equal(dv[0].model, "AP300");
	assert_string_equal(dv[0].sub_sn, "2616113487436");
	assert_string_equal(dv[0].name, "Garage");
	assert_true(dv[0].online);
	assert_int_equal(dv[0].protocol_ver, 2015);
	/* no iotSrvIp: the x-iot-server default */
	assert_string_equal(dv[0].broker_host, "iot.example");
	assert_int_equal(dv[0].broker_port, 1234);
	/* subSn absent: derived from sn = model + subSn */
	assert_string_equal(dv[1].sub_sn, "2434000112345");
	assert_false(dv[1].online);
	assert_string_equal(dv[1].broker_host, "broker.example");
	assert_int_equal(dv[1].broker_port, 18999);
	assert_string_equal(dv[2].broker_host, "only-host.example");
	assert_int_equal(dv[2].broker_port, 18760);
	assert_int_equal(dv[2].protocol_ver, 2001);
	/* no default given: the public broker */
	assert_int_equal(blt_cloud_parse_devices(S(DEVICES), dv, 4, &n, NULL, &e, &d), BLT_OK);
	assert_string_equal(dv[0].broker_host, "iot.bluettipower.com");
	assert_int_equal(dv[0].broker_port, 18760);
	/* too small an array: the first ones, the count, BUFSIZE */
	assert_int_equal(blt_cloud_parse_devices(S(DEVICES), dv, 2, &n, NULL, &e, &d),
	                 BLT_E_BUFSIZE);
	assert_int_equal(n, 3);
	assert_string_equal(dv[1].model, "EL100V2");
	/* empty list, findDevicePage shape */
	assert_int_equal(
	    blt_cloud_parse_devices(S("{\"code\":0,\"data\":[]}"), dv, 4, &n, NULL, &e, &d),
	    BLT_OK);
	assert_int_equal(n, 0);
	assert_int_equal(blt_cloud_parse_devices(S("{\"code\":0,\"data\":{\"deviceList\":[{\"sn\":"
	                                           "\"AB1\",\"model\":\"AB\"}]}}"),
	                                         dv, 4, &n, NULL, &e, &d),
	                 BLT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(dv[0].sub_sn, "1");
}

static void test_devices_malformed(void **st)
{
	static const char *bad[] = {
	    "{\"code\":0,\"data\":null}",
	    "{\"code\":0,\"data\":\"x\"}",
	    "{\"code\":0,\"data\":[1]}",
	    "{\"code\":0,\"data\":[{\"model\":\"X\"}]}",
	    "{\"code\":0,\"data\":[{\"sn\":\"X\"}]}",
	    "{\"code\":0,\"data\":[{\"sn\":[],\"model\":\"X\"}]}",
	    "{\"code\":0,\"data\":{\"deviceList\":5}}",
	};
	blt_cloud_device_t dv[2];
	size_t n;
	blt_cloud_error_t e;
	blt_detail_t d;
	(void)st;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		e.kind = BLT_CLOUD_OK;
		if (blt_cloud_parse_devices(bad[i], strlen(bad[i]), dv, 2, &n, NULL, &e, &d) !=
		        BLT_E_PROTOCOL ||
		    e.kind != BLT_CLOUD_MALFORMED)
			fail_msg("accepted bad device list %s", bad[i]);
	}
	/* an unusable iotSrvIp falls back instead of failing */
	assert_int_equal(
	    blt_cloud_parse_devices(S("{\"code\":0,\"data\":[{\"sn\":\"AB1\",\"model\":"
	                              "\"AB\",\"iotSrvIp\":\"h:99999\"}]}"),
	                            dv, 2, &n, NULL, &e, &d),
	    BLT_OK);
	assert_string_equal(dv[0].broker_host, "iot.bluettipower.com");
}

/* Every prefix of every valid answer is rejected cleanly (no crash, no success with a
 * half-read value); ASan catches over-reads because each prefix is an exact-size copy. */
static void test_truncation(void **st)
{
	static const char *answers[] = {
	    DEVICES,
	    "{\"code\":0,\"message\":\"OK\",\"data\":{\"token\":\"aaa.bbb.ccc\",\"ttl\":3600}}",
	    "{\"code\":0,\"data\":{\"uid\":\"1234567\"}}",
	    "{\"code\":0,\"data\":\"1777630585000\"}",
	};
	(void)st;
	for (size_t a = 0; a < sizeof answers / sizeof answers[0]; a++) {
		size_t len = strlen(answers[a]);
		for (size_t cut = 0; cut < len; cut++) {
			char *p = malloc(cut ? cut : 1);
			blt_cloud_error_t e = {0};
			blt_detail_t d;
			blt_cloud_device_t dv[4];
			char buf[256];
			int64_t ms;
			size_t n;
			long ttl;
			int err;
			memcpy(p, answers[a], cut);
			switch (a) {
			case 0:
				err = blt_cloud_parse_devices(p, cut, dv, 4, &n, NULL, &e, &d);
				break;
			case 1:
				err = blt_cloud_parse_login(p, cut, buf, sizeof buf, &ttl, &e, &d);
				break;
			case 2: err = blt_cloud_parse_uid(p, cut, buf, sizeof buf, &e, &d); break;
			default: err = blt_cloud_parse_time(p, cut, &ms, &e, &d); break;
			}
			free(p);
			if (err == BLT_OK)
				fail_msg("answer %zu cut at %zu accepted", a, cut);
		}
	}
}

static void test_hostport(void **st)
{
	char h[64];
	uint16_t p;
	(void)st;
	assert_int_equal(blt_cloud_parse_hostport("iot.bluettipower.com:18760", h, sizeof h, &p),
	                 0);
	assert_string_equal(h, "iot.bluettipower.com");
	assert_int_equal(p, 18760);
	assert_int_equal(blt_cloud_parse_hostport("ssl://a.b:1", h, sizeof h, &p), 0);
	assert_string_equal(h, "a.b");
	assert_int_equal(p, 1);
	assert_int_equal(blt_cloud_parse_hostport("[::1]:8883", h, sizeof h, &p), 0);
	assert_string_equal(h, "::1");
	assert_int_equal(p, 8883);
	assert_int_equal(blt_cloud_parse_hostport("127.0.0.1", h, sizeof h, &p), 0);
	assert_int_equal(p, 18760);
	assert_int_equal(blt_cloud_parse_hostport("", h, sizeof h, &p), -1);
	assert_int_equal(blt_cloud_parse_hostport(":5", h, sizeof h, &p), -1);
	assert_int_equal(blt_cloud_parse_hostport("h:0", h, sizeof h, &p), -1);
	assert_int_equal(blt_cloud_parse_hostport("h:x", h, sizeof h, &p), -1);
	assert_int_equal(blt_cloud_parse_hostport("h:1:2", h, sizeof h, &p), -1);
	assert_int_equal(blt_cloud_parse_hostport("bad host:1", h, sizeof h, &p), -1);
	assert_int_equal(blt_cloud_parse_hostport("[::1", h, sizeof h, &p), -1);
}

static void test_remote(void **st)
{
	blt_cloud_device_t dv;
	blt_cloud_error_t e;
	blt_detail_t d;
	char sec[32];
	(void)st;
	memset(&dv, 0, sizeof dv);
	snprintf(dv.model, sizeof dv.model, "EP760");
	snprintf(dv.sn, sizeof dv.sn, "PBOX1");
	const char *ok = "{\"code\":0,\"data\":{\"sn\":\"PBOX1\",\"model\":\"PBOX\","
	                 "\"subSn\":\"1\",\"iotSrvIp\":\"iot2.example:18761\","
	                 "\"iotConnSecret\":\"abc123\"}}";
	assert_int_equal(blt_cloud_parse_remote(ok, strlen(ok), &dv, sec, sizeof sec, &e, &d),
	                 BLT_OK);
	assert_string_equal(dv.model, "PBOX");
	assert_string_equal(dv.sub_sn, "1");
	assert_string_equal(dv.broker_host, "iot2.example");
	assert_int_equal(dv.broker_port, 18761);
	assert_string_equal(sec, "abc123");
	/* no secret: "", the rest kept */
	const char *none = "{\"code\":0,\"data\":{\"sn\":\"PBOX1\"}}";
	assert_int_equal(blt_cloud_parse_remote(none, strlen(none), &dv, sec, sizeof sec, &e, &d),
	                 BLT_OK);
	assert_string_equal(sec, "");
	assert_string_equal(dv.model, "PBOX");
	/* a secret that does not fit or is not printable is refused, never cut */
	const char *big = "{\"code\":0,\"data\":{\"iotConnSecret\":\"0123456789012345678901234"
	                  "567890123456789\"}}";
	assert_int_equal(blt_cloud_parse_remote(big, strlen(big), &dv, sec, sizeof sec, &e, &d),
	                 BLT_E_PROTOCOL);
	assert_int_equal(e.kind, BLT_CLOUD_MALFORMED);
	assert_string_equal(sec, "");
	const char *sp = "{\"code\":0,\"data\":{\"iotConnSecret\":\"a b\"}}";
	assert_int_equal(blt_cloud_parse_remote(sp, strlen(sp), &dv, sec, sizeof sec, &e, &d),
	                 BLT_E_PROTOCOL);
	/* 805 as everywhere */
	const char *x = "{\"code\":805,\"message\":\"expired\"}";
	assert_int_equal(blt_cloud_parse_remote(x, strlen(x), &dv, sec, sizeof sec, &e, &d),
	                 BLT_E_AUTH);
	assert_int_equal(e.kind, BLT_CLOUD_TOKEN_EXPIRED);
}

static void test_token_parts(void **st)
{
	char a[8], b[8];
	(void)st;
	assert_int_equal(blt_cloud_token_parts("p0.p1.p2", a, sizeof a, b, sizeof b), BLT_OK);
	assert_string_equal(a, "p0");
	assert_string_equal(b, "p1");
	assert_int_equal(blt_cloud_token_parts("p0.p1", a, sizeof a, b, sizeof b), BLT_OK);
	assert_string_equal(b, "p1");
	assert_int_equal(blt_cloud_token_parts("p0..p2", a, sizeof a, b, sizeof b), BLT_E_INVAL);
	assert_int_equal(blt_cloud_token_parts("abcdefghij.b", a, sizeof a, b, sizeof b),
	                 BLT_E_BUFSIZE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_login_ok),
	    cmocka_unit_test(test_login_refused),
	    cmocka_unit_test(test_login_malformed),
	    cmocka_unit_test(test_token_expired),
	    cmocka_unit_test(test_uid),
	    cmocka_unit_test(test_time),
	    cmocka_unit_test(test_devices),
	    cmocka_unit_test(test_devices_malformed),
	    cmocka_unit_test(test_truncation),
	    cmocka_unit_test(test_hostport),
	    cmocka_unit_test(test_token_parts),
	    cmocka_unit_test(test_remote),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
