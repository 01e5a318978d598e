/* Cloud algorithms (PROTOCOL.md §2.3, §2.7, §2.8) against vectors computed outside this
 * code: the spec's signature example, values from an independent Python / openssl-CLI
 * computation (quoted inline), and a second, straightforward C implementation in this
 * file compared over many pseudo-random inputs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include <bluetti/cloud.h>

/* ---- reference implementations (deliberately naive) ----------------------------- */

static void ref_md5_upper(const void *in, size_t n, char out[33])
{
	unsigned char h[16];
	unsigned int hl;
	EVP_Digest(in, n, h, &hl, EVP_md5(), NULL);
	for (int i = 0; i < 16; i++)
		sprintf(out + 2 * i, "%02X", h[i]);
}

static void ref_totp(const char *a, const char *b, long long t_ms, const char *s, char out[9])
{
	char k[512] = "", h1[33], h2[33], dd[65];
	size_t la = strlen(a);
	long long secs = t_ms / 1000 - 1371517200;
	long long c = secs / 30;
	unsigned char ctr[8];
	if (secs < 0 && secs % 30)
		c -= 1; /* floor */
	/* K = A[0:2] + S[0:6] + B + S[6:12] + A[-2:] (snprintf with precisions: gcc -O2
	 * warns about strncat with these bounds) */
	snprintf(k, sizeof k, "%.2s%.6s%s%.6s%s", a, s, b, s + 6, la >= 2 ? a + la - 2 : a);
	for (int i = 7; i >= 0; i--) {
		ctr[i] = (unsigned char)(c & 0xff);
		c >>= 8;
	}
	ref_md5_upper(k, strlen(k), h1);
	ref_md5_upper(ctr, 8, h2);
	for (int i = 0; i < 32; i++) {
		dd[2 * i] = h1[i];
		dd[2 * i + 1] = h2[i];
	}
	int o = dd[63] & 0xf;
	unsigned long v = ((unsigned long)(dd[o] & 0x7f) << 24) |
	                  ((unsigned long)(unsigned char)dd[o + 1] << 16) |
	                  ((unsigned long)(unsigned char)dd[o + 2] << 8) | (unsigned char)dd[o + 3];
	sprintf(out, "%08lu", v % 100000000ul);
}

static void ref_sign(unsigned long long t, const char *path, const char *sid, char out[33])
{
	char s[1024];
	sprintf(s, "currentUtcTime=%llx&url=%s&x-app-key=%s&x-app-ver=%s&x-os=%s&x-sid=%s", t, path,
	        "1783AF460D4D0615365940C9D3A", "3.0.6", "android", sid);
	ref_md5_upper(s, strlen(s), out);
}

/* ---- signature ------------------------------------------------------------------- */

static void test_sign_spec_example(void **st)
{
	char out[33];
	(void)st;
	/* PROTOCOL.md §2.7 */
	assert_int_equal(blt_cloud_sign(0x12345, "/api/midppkic/cert/app/v2/now/utc-time", "APPKEY",
	                                "3.0.6", "android", "SID", out),
	                 BLT_OK);
	assert_string_equal(out, "77BBF016D1CFEC2AB7CA16D2D8EDAB19");
	/* one changed input changes the result */
	assert_int_equal(blt_cloud_sign(0x12346, "/api/midppkic/cert/app/v2/now/utc-time", "APPKEY",
	                                "3.0.6", "android", "SID", out),
	                 BLT_OK);
	assert_string_not_equal(out, "77BBF016D1CFEC2AB7CA16D2D8EDAB19");
}

static void test_sign_vs_reference(void **st)
{
	char a[33], b[33], sid[32];
	uint64_t x = 88172645463325252ull;
	(void)st;
	for (int i = 0; i < 500; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint64_t t = x % 20000000000000ull;
		snprintf(sid, sizeof sid, "s%" PRIx64, x >> 20);
		assert_int_equal(blt_cloud_sign(t, "/api/midppkic/cert/app/v1/pfx",
		                                BLT_CLOUD_APP_KEY, "3.0.6", "android", sid, a),
		                 BLT_OK);
		ref_sign((unsigned long long)t, "/api/midppkic/cert/app/v1/pfx", sid, b);
		assert_string_equal(a, b);
	}
	assert_int_equal(blt_cloud_sign(1, NULL, "k", "v", "o", "s", a), BLT_E_INVAL);
}

/* ---- TOTP ------------------------------------------------------------------------ */

static void test_totp_python_vectors(void **st)
{
	char out[9];
	(void)st;
	/* computed with a separate Python implementation of §2.8 (hashlib, struct) */
	static const struct {
		const char *a, *b;
		int64_t t;
		const char *key, *want;
	} v[] = {
	    {"user-id", "device-id", 1710000000000LL, "ABCDEFGHIJKL", "61119282"},
	    {"u", "dev", 1710000029999LL, "0123456789ab", "60791608"},
	    {"1234567", "abc", 1371517200000LL, "TESTKEY12345", "45386049"},
	    {"x", "y", 1000LL, "TESTKEY12345", "77761329"}, /* negative counter */
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		assert_int_equal(blt_cloud_totp(v[i].a, v[i].b, v[i].t, v[i].key, out), BLT_OK);
		assert_string_equal(out, v[i].want);
	}
}

/* PROTOCOL.md §2.8: the shipped constant and the vector both working clients test. */
static void test_totp_default_key_vector(void **st)
{
	char out[9];
	(void)st;
	assert_int_equal(strlen(BLT_CLOUD_TOTP_KEY_DEFAULT), BLT_CLOUD_TOTP_KEY_LEN);
	assert_int_equal(blt_cloud_totp("user-id", "device-id", 1710000000000LL,
	                                BLT_CLOUD_TOTP_KEY_DEFAULT, out),
	                 BLT_OK);
	assert_string_equal(out, "60922689");
	/* and the independent reference implementation agrees */
	char ref[9];
	ref_totp("user-id", "device-id", 1710000000000LL, BLT_CLOUD_TOTP_KEY_DEFAULT, ref);
	assert_string_equal(ref, "60922689");
}

static void test_totp_step_and_inputs(void **st)
{
	char a[9], b[9];
	(void)st;
	/* same 30 s window -> same code; next window -> (here) different code */
	assert_int_equal(blt_cloud_totp("uid", "dev", 1710000000000LL, "ABCDEFGHIJKL", a), 0);
	assert_int_equal(blt_cloud_totp("uid", "dev", 1710000009999LL, "ABCDEFGHIJKL", b), 0);
	assert_string_equal(a, b);
	assert_int_equal(blt_cloud_totp("uid", "dev", 1710000030000LL, "ABCDEFGHIJKL", b), 0);
	assert_string_not_equal(a, b);
	/* the key matters */
	assert_int_equal(blt_cloud_totp("uid", "dev", 1710000000000LL, "ABCDEFGHIJKM", b), 0);
	assert_string_not_equal(a, b);
	/* key must be exactly 12 characters */
	assert_int_equal(blt_cloud_totp("uid", "dev", 1, "SHORT", b), BLT_E_INVAL);
	assert_int_equal(blt_cloud_totp("uid", "dev", 1, "ABCDEFGHIJKLM", b), BLT_E_INVAL);
	assert_int_equal(blt_cloud_totp(NULL, "dev", 1, "ABCDEFGHIJKL", b), BLT_E_INVAL);
}

static void test_totp_vs_reference(void **st)
{
	char a[9], b[9], ua[40], ub[40];
	uint64_t x = 0x9E3779B97F4A7C15ull;
	(void)st;
	for (int i = 0; i < 2000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		int64_t t = (int64_t)(x % 4000000000000ull);
		/* short and long A (the slices overlap when |A| < 4) */
		snprintf(ua, sizeof ua, "%.*s", (int)(x % 9), "abcdefghijk");
		snprintf(ub, sizeof ub, "%" PRIx64, x >> 3);
		assert_int_equal(blt_cloud_totp(ua, ub, t, "K3y_12chars!", a), BLT_OK);
		ref_totp(ua, ub, t, "K3y_12chars!", b);
		assert_string_equal(a, b);
	}
}

/* ---- AES, password hash, passOpen ------------------------------------------------- */

static void test_password_hash(void **st)
{
	char h[65];
	(void)st;
	blt_cloud_password_hash("password", h);
	assert_string_equal(h, "5E884898DA28047151D0E56F8DC6292773603D0D6AABBDD62A11EF721D1542D8");
	/* printf 'Passw0rd!' | sha256sum, uppercased */
	blt_cloud_password_hash("Passw0rd!", h);
	assert_string_equal(h, "E66860546F18CDBBCD86B35E18B525BFFC67F772C650CEDFE3FF7A0026FA1DEE");
}

static void test_pass_open(void **st)
{
	char out[200];
	(void)st;
	/* openssl enc -aes-256-ecb -K hex("7E1A4A660EC8BC484749A13482271336") of "Passw0rd!";
	 * the key is MD5(SHA256-upper) upper as 32 ASCII bytes */
	assert_int_equal(blt_cloud_pass_open("Passw0rd!", out, sizeof out), BLT_OK);
	assert_string_equal(out, "541fc1feff6391822aa346cfd6ea95e7");
	assert_int_equal(blt_cloud_pass_open("Passw0rd!", out, 10), BLT_E_BUFSIZE);
}

static void test_xsignature_vector(void **st)
{
	char key[33];
	uint8_t pw[64];
	size_t n;
	blt_detail_t d;
	(void)st;
	/* openssl-CLI computed: sign(1710000000000, utc-time path, sid "SIDPART") and
	 * AES-256-ECB of "pfx-pass-123" under it */
	assert_int_equal(blt_cloud_sign(1710000000000ull, "/api/midppkic/cert/app/v2/now/utc-time",
	                                BLT_CLOUD_APP_KEY, "3.0.6", "android", "SIDPART", key),
	                 BLT_OK);
	assert_string_equal(key, "D6FC874175EC5AA4C7A945CD69B1C74B");
	assert_int_equal(blt_cloud_aes_decrypt_hex(key, "9f1bf08749e420d929fb9919cba37794", pw,
	                                           sizeof pw, &n, &d),
	                 BLT_OK);
	assert_int_equal(n, 12);
	assert_string_equal((char *)pw, "pfx-pass-123");
	/* the other direction */
	char hex[100];
	assert_int_equal(
	    blt_cloud_aes_encrypt_hex(key, (const uint8_t *)"pfx-pass-123", 12, hex, sizeof hex),
	    BLT_OK);
	assert_string_equal(hex, "9f1bf08749e420d929fb9919cba37794");
}

static void test_aes_bad_input(void **st)
{
	const char *key = "D6FC874175EC5AA4C7A945CD69B1C74B";
	const char *other = "D6FC874175EC5AA4C7A945CD69B1C74C";
	uint8_t pw[64];
	size_t n;
	blt_detail_t d;
	int err;
	(void)st;
	assert_int_equal(blt_cloud_aes_decrypt_hex(key, "zz", pw, sizeof pw, &n, &d), BLT_E_HEX);
	assert_int_equal(blt_cloud_aes_decrypt_hex(key, "", pw, sizeof pw, &n, &d), BLT_E_PROTOCOL);
	assert_int_equal(blt_cloud_aes_decrypt_hex(key, "00112233", pw, sizeof pw, &n, &d),
	                 BLT_E_PROTOCOL);
	assert_non_null(strstr(d.text, "AES blocks"));
	/* wrong key: padding check fails (or, rarely, yields garbage): never the password */
	err = blt_cloud_aes_decrypt_hex(other, "9f1bf08749e420d929fb9919cba37794", pw, sizeof pw,
	                                &n, &d);
	assert_true(err == BLT_E_PROTOCOL || (err == BLT_OK && strcmp((char *)pw, "pfx-pass-123")));
	/* plaintext does not fit */
	assert_int_equal(
	    blt_cloud_aes_decrypt_hex(key, "9f1bf08749e420d929fb9919cba37794", pw, 5, &n, &d),
	    BLT_E_BUFSIZE);
	/* too long ciphertext */
	char big[4000];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = 0;
	assert_int_equal(blt_cloud_aes_decrypt_hex(key, big, pw, sizeof pw, &n, &d),
	                 BLT_E_PROTOCOL);
}

static void test_aes_roundtrip(void **st)
{
	const char *key = "0123456789ABCDEF0123456789ABCDEF";
	uint8_t in[100], out[128];
	char hex[300];
	size_t n;
	(void)st;
	for (size_t len = 0; len < 64; len++) {
		for (size_t i = 0; i < len; i++)
			in[i] = (uint8_t)(len * 7 + i);
		assert_int_equal(blt_cloud_aes_encrypt_hex(key, in, len, hex, sizeof hex), BLT_OK);
		assert_int_equal(strlen(hex), 2 * ((len / 16 + 1) * 16));
		assert_int_equal(blt_cloud_aes_decrypt_hex(key, hex, out, sizeof out, &n, NULL), 0);
		assert_int_equal(n, len);
		assert_memory_equal(out, in, len);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sign_spec_example),
	    cmocka_unit_test(test_sign_vs_reference),
	    cmocka_unit_test(test_totp_python_vectors),
	    cmocka_unit_test(test_totp_default_key_vector),
	    cmocka_unit_test(test_totp_step_and_inputs),
	    cmocka_unit_test(test_totp_vs_reference),
	    cmocka_unit_test(test_password_hash),
	    cmocka_unit_test(test_pass_open),
	    cmocka_unit_test(test_xsignature_vector),
	    cmocka_unit_test(test_aes_bad_input),
	    cmocka_unit_test(test_aes_roundtrip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
