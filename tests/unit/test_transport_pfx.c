/* Unit tests of the MQTT transport that need no network: PKCS#12 handling (built in
 * memory with OpenSSL, so no files), option validation and the disconnected state. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/x509.h>

#include <bluetti/bluetti.h>
#include <bluetti/transport.h>

typedef struct pfx {
	uint8_t *der;
	int len;
} pfx_t;

/* Self-signed EC certificate valid from now+from_s to now+to_s, packed as PKCS#12. with_key
 * = false leaves the key out; legacy = true uses the old RC2/3DES + SHA1 algorithms. */
static pfx_t make_pfx(const char *pass, long from_s, long to_s, bool with_key, bool legacy)
{
	pfx_t out = {0};
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *name;
	PKCS12 *p12;
	unsigned char *p = NULL;

	assert_non_null(key);
	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), from_s);
	X509_gmtime_adj(X509_getm_notAfter(x), to_s);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"unit", -1, -1,
	                           0);
	X509_set_issuer_name(x, name);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	if (legacy) {
		/* RC2 needs OpenSSL's legacy provider: loaded in a library context of the
		 * test's own, so the transport (default context) must load it by itself. */
		OSSL_LIB_CTX *lc = OSSL_LIB_CTX_new();
		OSSL_PROVIDER *pl, *pd;
		assert_non_null(lc);
		pl = OSSL_PROVIDER_load(lc, "legacy");
		pd = OSSL_PROVIDER_load(lc, "default");
		assert_non_null(pl);
		assert_non_null(pd);
		p12 = PKCS12_create_ex(pass, "unit", with_key ? key : NULL, x, NULL,
		                       NID_pbe_WithSHA1And3_Key_TripleDES_CBC,
		                       NID_pbe_WithSHA1And40BitRC2_CBC, 2048, 2048, 0, lc, NULL);
		OSSL_PROVIDER_unload(pl);
		OSSL_PROVIDER_unload(pd);
		OSSL_LIB_CTX_free(lc);
	} else
		p12 = PKCS12_create(pass, "unit", with_key ? key : NULL, x, NULL, 0, 0, 0, 0, 0);
	assert_non_null(p12);
	out.len = i2d_PKCS12(p12, &p);
	assert_true(out.len > 0);
	out.der = p;
	PKCS12_free(p12);
	X509_free(x);
	EVP_PKEY_free(key);
	return out;
}

static int new_with(const pfx_t *pfx, const char *pass, blt_transport_t **t, blt_detail_t *d)
{
	blt_mqtt_opts_t o = {0};
	o.host = "localhost";
	o.use_tls = true;
	o.tls.pfx = pfx ? pfx->der : NULL;
	o.tls.pfx_len = pfx ? (size_t)pfx->len : 0;
	o.tls.pfx_password = pass;
	o.tls.insecure = true; /* no CA needed for these tests */
	return blt_mqtt_new(&o, t, d);
}

static void test_good_pfx(void **state)
{
	blt_transport_t *t = NULL;
	blt_detail_t d = {""};
	pfx_t p = make_pfx("pw", -60, 3600, true, false);
	(void)state;
	assert_int_equal(new_with(&p, "pw", &t, &d), BLT_OK);
	assert_non_null(t);
	assert_false(blt_transport_connected(t));
	blt_transport_free(t);
	OPENSSL_free(p.der);
}

static void test_wrong_password(void **state)
{
	blt_transport_t *t = NULL;
	blt_detail_t d = {""};
	pfx_t p = make_pfx("pw", -60, 3600, true, false);
	(void)state;
	assert_int_equal(new_with(&p, "PW", &t, &d), BLT_E_CERT_PASSWORD);
	assert_null(t);
	assert_int_equal(new_with(&p, "", &t, &d), BLT_E_CERT_PASSWORD);
	assert_int_equal(new_with(&p, NULL, &t, &d), BLT_E_CERT_PASSWORD);
	OPENSSL_free(p.der);
}

static void test_empty_password(void **state)
{
	blt_transport_t *t = NULL;
	blt_detail_t d = {""};
	pfx_t p = make_pfx("", -60, 3600, true, false);
	(void)state;
	assert_int_equal(new_with(&p, "", &t, &d), BLT_OK);
	blt_transport_free(t);
	t = NULL;
	assert_int_equal(new_with(&p, NULL, &t, &d), BLT_OK);
	blt_transport_free(t);
	t = NULL;
	assert_int_equal(new_with(&p, "x", &t, &d), BLT_E_CERT_PASSWORD);
	OPENSSL_free(p.der);
}

static void test_legacy_pfx(void **state)
{
	blt_transport_t *t = NULL;
	blt_detail_t d = {""};
	pfx_t p = make_pfx("pw", -60, 3600, true, true);
	(void)state;
	/* The tests before opened only current (AES, PBKDF2) files: no legacy provider yet. */
	assert_false(OSSL_PROVIDER_available(NULL, "legacy"));
	assert_int_equal(new_with(&p, "pw", &t, &d), BLT_OK);
	assert_true(OSSL_PROVIDER_available(NULL, "legacy"));
	blt_transport_free(t);
	OPENSSL_free(p.der);
}

static void test_corrupt_pfx(void **state)
{
	blt_transport_t *t = NULL;
	blt_detail_t d = {""};
	pfx_t p = make_pfx("pw", -60, 3600, true, false);
	uint8_t junk[64];
	pfx_t j = {junk, sizeof junk};
	(void)state;

	memset(junk, 0xA5, sizeof junk);
	assert_int_equal(new_with(&j, "pw", &t, &d), BLT_E_CERT);
	assert_non_null(strstr(d.text, "PKCS#12"));
	assert_null(t);

	/* truncated: every prefix fails cleanly (never crashes, never succeeds) */
	for (int n = 1; n < p.len; n += 37) {
		pfx_t cut = {p.der, n};
		int rc = new_with(&cut, "pw", &t, &d);
		assert_true(rc == BLT_E_CERT || rc == BLT_E_CERT_PASSWORD);
		assert_null(t);
	}
	/* a flipped byte in the middle: MAC or structure fails */
	p.der[p.len / 2] ^= 0x55;
	int rc = new_with(&p, "pw", &t, &d);
	assert_true(rc == BLT_E_CERT || rc == BLT_E_CERT_PASSWORD);
	OPENSSL_free(p.der);

	pfx_t empty = {junk, 0};
	assert_int_equal(new_with(&empty, "pw", &t, &d), BLT_E_CERT);
}

static void test_no_key(void **state)
{
	blt_transport_t *t = NULL;
	blt_detail_t d = {""};
	pfx_t p = make_pfx("pw", -60, 3600, false, false);
	(void)state;
	assert_int_equal(new_with(&p, "pw", &t, &d), BLT_E_CERT);
	assert_non_null(strstr(d.text, "no private key"));
	OPENSSL_free(p.der);
}

static void test_expired_and_future(void **state)
{
	blt_transport_t *t = NULL;
	blt_detail_t d = {""};
	pfx_t old = make_pfx("pw", -7200, -3600, true, false);
	pfx_t fut = make_pfx("pw", 3600, 7200, true, false);
	(void)state;
	assert_int_equal(new_with(&old, "pw", &t, &d), BLT_E_CERT);
	assert_non_null(strstr(d.text, "expired"));
	assert_non_null(strstr(d.text, "UTC"));
	assert_int_equal(new_with(&fut, "pw", &t, &d), BLT_E_CERT);
	assert_non_null(strstr(d.text, "not yet valid"));
	OPENSSL_free(old.der);
	OPENSSL_free(fut.der);
}

static void test_options(void **state)
{
	blt_transport_t *t = NULL;
	blt_detail_t d = {""};
	blt_mqtt_opts_t o = {0};
	(void)state;

	assert_int_equal(blt_mqtt_new(NULL, &t, &d), BLT_E_INVAL);
	assert_int_equal(blt_mqtt_new(&o, &t, &d), BLT_E_INVAL); /* no host */
	o.host = "localhost";
	o.password = "secret";
	assert_int_equal(blt_mqtt_new(&o, &t, &d), BLT_E_CONFIG); /* password w/o username */
	assert_null(strstr(d.text, "secret"));
	o.password = NULL;
	o.use_tls = true;
	o.tls.insecure = true;
	o.tls.ciphers = "NOT-A-CIPHER";
	assert_int_equal(blt_mqtt_new(&o, &t, &d), BLT_E_CONFIG);
	o.tls.ciphers = NULL;
	o.tls.insecure = false;
	o.tls.ca_file = "/nonexistent/ca.pem";
	assert_int_equal(blt_mqtt_new(&o, &t, &d), BLT_E_CERT);
	assert_non_null(strstr(d.text, "/nonexistent/ca.pem"));
}

static void msg_fn(void *user, const char *topic, const uint8_t *p, size_t n, bool r)
{
	(void)user, (void)topic, (void)p, (void)n, (void)r;
}

static void test_disconnected_state(void **state)
{
	blt_transport_t *t = NULL;
	blt_detail_t d = {""};
	blt_mqtt_opts_t o = {.host = "localhost", .port = 1};
	(void)state;

	assert_int_equal(blt_mqtt_new(&o, &t, &d), BLT_OK);
	assert_int_equal(blt_transport_publish(t, "a/b", "x", 1, 1, false, &d), BLT_E_DISCONNECTED);
	assert_int_equal(blt_transport_publish(t, "a/b", "x", 1, 2, false, &d), BLT_E_INVAL);
	assert_int_equal(blt_transport_poll(t, 0, &d), BLT_E_DISCONNECTED);
	/* listening while down registers the listener (subscribed on connect) */
	assert_int_equal(blt_transport_listen(t, "PUB/M/1", msg_fn, NULL, &d), BLT_OK);
	assert_int_equal(blt_transport_listen(t, "PUB/+/1", msg_fn, NULL, &d), BLT_E_INVAL);
	assert_int_equal(blt_transport_listen(t, "PUB/#", msg_fn, NULL, &d), BLT_E_INVAL);
	assert_int_equal(blt_transport_listen(t, "PUB/M/1", NULL, NULL, &d), BLT_E_INVAL);
	blt_transport_unlisten(t, "PUB/M/1");
	blt_transport_unlisten(t, "never/listened");
	blt_transport_disconnect(t);
	blt_transport_free(t);
	blt_transport_free(NULL);
}

typedef struct logcap {
	int warns;
	char all[2048];
} logcap_t;

static void capture(blt_log_level_t level, const char *msg, void *user)
{
	logcap_t *l = user;
	if (level == BLT_LOG_WARN)
		l->warns++;
	strncat(l->all, msg, sizeof l->all - strlen(l->all) - 1);
}

static void test_insecure_warns_and_secrets_stay_out_of_logs(void **state)
{
	blt_transport_t *t = NULL;
	blt_detail_t d = {""};
	logcap_t l = {0};
	pfx_t p = make_pfx("pfx-secret-pw", -60, 3600, true, false);
	blt_mqtt_opts_t o = {0};
	(void)state;

	blt_log_set_handler(capture, &l, BLT_LOG_DEBUG);
	o.host = "127.0.0.1";
	o.port = 1; /* nothing listens: the attempt fails fast */
	o.use_tls = true;
	o.tls.pfx = p.der;
	o.tls.pfx_len = (size_t)p.len;
	o.tls.pfx_password = "pfx-secret-pw";
	o.tls.insecure = true;
	o.username = "tid:user";
	o.password = "mqtt-secret-pw";
	o.connect_timeout_ms = 2000;
	assert_int_equal(blt_mqtt_new(&o, &t, &d), BLT_OK);
	assert_true(l.warns >= 1);
	assert_non_null(strstr(l.all, "insecure"));
	assert_int_equal(blt_transport_connect(t, &d), BLT_E_CONNECT);
	blt_transport_poll(t, 0, &d);
	blt_transport_free(t);
	blt_log_set_handler(NULL, NULL, BLT_LOG_WARN);
	assert_null(strstr(l.all, "secret-pw"));
	assert_null(strstr(d.text, "secret-pw"));
	OPENSSL_free(p.der);
}

static void test_now_ms_monotonic(void **state)
{
	uint64_t a = blt_now_ms(), b;
	struct timespec ts = {0, 2000000};
	(void)state;
	nanosleep(&ts, NULL);
	b = blt_now_ms();
	assert_true(b >= a + 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_pfx),
	    cmocka_unit_test(test_wrong_password),
	    cmocka_unit_test(test_empty_password),
	    cmocka_unit_test(test_legacy_pfx),
	    cmocka_unit_test(test_corrupt_pfx),
	    cmocka_unit_test(test_no_key),
	    cmocka_unit_test(test_expired_and_future),
	    cmocka_unit_test(test_options),
	    cmocka_unit_test(test_disconnected_state),
	    cmocka_unit_test(test_insecure_warns_and_secrets_stay_out_of_logs),
	    cmocka_unit_test(test_now_ms_monotonic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
