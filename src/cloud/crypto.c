/* The account API's small crypto (PROTOCOL.md §2.3, §2.7, §2.8): request signature, TOTP,
 * AES-256-ECB with PKCS#7, password hash and passOpen. OpenSSL EVP only. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <bluetti/cloud.h>

#include "cloud/cloud_internal.h"

static const char HEXU[] = "0123456789ABCDEF";

static int digest_hex_upper(const EVP_MD *md, const void *in, size_t n, char *out, size_t cap)
{
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0;
	if (!EVP_Digest(in, n, h, &hl, md, NULL) || cap < 2 * (size_t)hl + 1)
		return BLT_E_INVAL;
	for (unsigned i = 0; i < hl; i++) {
		out[2 * i] = HEXU[h[i] >> 4];
		out[2 * i + 1] = HEXU[h[i] & 15];
	}
	out[2 * hl] = '\0';
	OPENSSL_cleanse(h, sizeof h);
	return BLT_OK;
}

int blt_cloud_md5_upper(const void *in, size_t n, char out[33])
{
	return digest_hex_upper(EVP_md5(), in, n, out, 33);
}

int blt_cloud_sign(uint64_t t, const char *path, const char *app_key, const char *app_ver,
                   const char *os, const char *sid, char out[33])
{
	char buf[2048];
	int n;
	if (!path || !app_key || !app_ver || !os || !sid || !out)
		return BLT_E_INVAL;
	n = snprintf(buf, sizeof buf,
	             "currentUtcTime=%" PRIx64 "&url=%s&x-app-key=%s&x-app-ver=%s&x-os=%s&x-sid=%s",
	             t, path, app_key, app_ver, os, sid);
	if (n < 0 || (size_t)n >= sizeof buf)
		return BLT_E_BUFSIZE;
	int err = blt_cloud_md5_upper(buf, (size_t)n, out);
	OPENSSL_cleanse(buf, sizeof buf);
	return err;
}

int blt_cloud_totp(const char *a, const char *b, int64_t t_ms, const char *key, char out[9])
{
	char k[1024], h1[33], h2[33];
	uint8_t ctr[8], dd[64];
	size_t la, lb, n = 0;
	int64_t c;
	if (!a || !b || !key || !out || strlen(key) != BLT_CLOUD_TOTP_KEY_LEN || t_ms < 0)
		return BLT_E_INVAL;
	la = strlen(a);
	lb = strlen(b);
	if (la + lb + 16 > sizeof k)
		return BLT_E_INVAL;
	/* K = A[0:2] + S[0:6] + B + S[6:12] + A[-2:] (Python slice semantics for short A) */
	memcpy(k + n, a, la < 2 ? la : 2);
	n += la < 2 ? la : 2;
	memcpy(k + n, key, 6);
	n += 6;
	memcpy(k + n, b, lb);
	n += lb;
	memcpy(k + n, key + 6, 6);
	n += 6;
	memcpy(k + n, a + (la < 2 ? 0 : la - 2), la < 2 ? la : 2);
	n += la < 2 ? la : 2;
	/* Python floor division; t_ms >= 0 but the difference may be negative. */
	int64_t s = t_ms / 1000 - 1371517200;
	c = s >= 0 ? s / 30 : -((-s + 29) / 30);
	for (int i = 0; i < 8; i++)
		ctr[i] = (uint8_t)((uint64_t)c >> (56 - 8 * i));
	if (blt_cloud_md5_upper(k, n, h1) || blt_cloud_md5_upper(ctr, sizeof ctr, h2))
		return BLT_E_INVAL;
	for (int i = 0; i < 32; i++) {
		dd[2 * i] = (uint8_t)h1[i];
		dd[2 * i + 1] = (uint8_t)h2[i];
	}
	unsigned o = dd[63] & 0x0F;
	uint32_t v = ((uint32_t)(dd[o] & 0x7F) << 24) | ((uint32_t)dd[o + 1] << 16) |
	             ((uint32_t)dd[o + 2] << 8) | dd[o + 3];
	snprintf(out, 9, "%08" PRIu32, v % 100000000u);
	OPENSSL_cleanse(k, sizeof k);
	OPENSSL_cleanse(h1, sizeof h1);
	return BLT_OK;
}

static int aes_ecb(int enc, const char key[32], const uint8_t *in, size_t n, uint8_t *out,
                   size_t cap, size_t *out_len)
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int l1 = 0, l2 = 0, ok;
	if (!x)
		return BLT_E_NOMEM;
	if (n > INT32_MAX - 32 || cap < n + 16) {
		EVP_CIPHER_CTX_free(x);
		return BLT_E_BUFSIZE;
	}
	ok = EVP_CipherInit_ex(x, EVP_aes_256_ecb(), NULL, (const unsigned char *)key, NULL, enc) &&
	     EVP_CIPHER_CTX_set_padding(x, 1) && EVP_CipherUpdate(x, out, &l1, in, (int)n) &&
	     EVP_CipherFinal_ex(x, out + l1, &l2);
	EVP_CIPHER_CTX_free(x);
	if (!ok)
		return BLT_E_PROTOCOL;
	*out_len = (size_t)l1 + (size_t)l2;
	return BLT_OK;
}

int blt_cloud_aes_encrypt_hex(const char key[32], const uint8_t *in, size_t n, char *hex,
                              size_t hex_cap)
{
	uint8_t buf[1024];
	size_t m;
	int err;
	if (!key || (!in && n) || !hex)
		return BLT_E_INVAL;
	if (n + 16 > sizeof buf || hex_cap < 2 * ((n / 16 + 1) * 16) + 1)
		return BLT_E_BUFSIZE;
	err = aes_ecb(1, key, in, n, buf, sizeof buf, &m);
	if (!err)
		err = blt_hex_encode(buf, m, hex, hex_cap);
	OPENSSL_cleanse(buf, sizeof buf);
	return err;
}

blt_err_t blt_cloud_aes_decrypt_hex(const char key[32], const char *hex, uint8_t *out, size_t cap,
                                    size_t *out_len, blt_detail_t *d)
{
	uint8_t ct[1024], pt[1024 + 16];
	size_t n, m;
	int err;
	if (!key || !hex || !out || !out_len)
		return blt_detail_set(d, BLT_E_INVAL, "aes: NULL argument");
	err = blt_hex_decode(hex, ct, sizeof ct, &n, d);
	if (err == BLT_E_BUFSIZE)
		return blt_detail_set(d, BLT_E_PROTOCOL, "ciphertext longer than %zu bytes",
		                      sizeof ct);
	if (err)
		return err;
	if (n == 0 || n % 16)
		return blt_detail_set(d, BLT_E_PROTOCOL,
		                      "ciphertext of %zu bytes is not a whole number of AES blocks",
		                      n);
	err = aes_ecb(0, key, ct, n, pt, sizeof pt, &m);
	if (err)
		return blt_detail_set(
		    d, BLT_E_PROTOCOL,
		    "ciphertext does not decrypt with the derived key (bad padding)");
	if (m + 1 > cap) {
		OPENSSL_cleanse(pt, sizeof pt);
		return blt_detail_set(d, BLT_E_BUFSIZE, "plaintext of %zu bytes does not fit", m);
	}
	memcpy(out, pt, m);
	out[m] = 0;
	*out_len = m;
	OPENSSL_cleanse(pt, sizeof pt);
	return BLT_OK;
}

void blt_cloud_password_hash(const char *password, char out[65])
{
	if (digest_hex_upper(EVP_sha256(), password ? password : "",
	                     password ? strlen(password) : 0, out, 65))
		out[0] = '\0';
}

int blt_cloud_pass_open(const char *password, char *out, size_t cap)
{
	char h[65], key[33];
	int err;
	if (!password || !out)
		return BLT_E_INVAL;
	blt_cloud_password_hash(password, h);
	err = blt_cloud_md5_upper(h, 64, key);
	if (!err)
		err = blt_cloud_aes_encrypt_hex(key, (const uint8_t *)password, strlen(password),
		                                out, cap);
	OPENSSL_cleanse(h, sizeof h);
	OPENSSL_cleanse(key, sizeof key);
	return err;
}
