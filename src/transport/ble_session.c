/* The V2 encrypted BLE session, pure code (see ble_session.h; LOCAL.md §3). Crypto from
 * OpenSSL 3: MD5, SHA-256, AES-CBC without padding through EVP; P-256 arithmetic through
 * EC_POINT/BN so that an ECDSA nonce can be fixed for the published test vector (V3). */
#include <string.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/rand.h>

#include "transport/ble_session.h"

/* LOCAL.md §3.5: public interoperability constants shipped by every open client. */
const uint8_t blt_ble_local_aes_key[16] = {0x45, 0x9f, 0xc5, 0x35, 0x80, 0x89, 0x41, 0xf1,
                                           0x70, 0x91, 0xe0, 0x99, 0x3e, 0xe3, 0xe9, 0x3d};
static const uint8_t l1_priv[32] = {
    0x4f, 0x19, 0xa1, 0x6e, 0x3e, 0x87, 0xbd, 0xd9, 0xbd, 0x24, 0xd3, 0xe5, 0x49, 0x5b, 0x88, 0x04,
    0x15, 0x11, 0x94, 0x3c, 0xbc, 0x8b, 0x96, 0x9a, 0xde, 0x96, 0x41, 0xd0, 0xf5, 0x6a, 0xf3, 0x37};
const uint8_t blt_ble_l1_pub[64] = {
    0x3f, 0x29, 0xe1, 0xb8, 0xb2, 0x9d, 0x84, 0x22, 0xbb, 0xb0, 0xe0, 0xf0, 0x90, 0x00, 0xcf, 0x2e,
    0xe2, 0x93, 0x1d, 0xa1, 0x3c, 0xda, 0xc8, 0x12, 0x9f, 0x8c, 0x09, 0xde, 0xac, 0x07, 0xf5, 0x19,
    0xb5, 0xac, 0x55, 0x09, 0xca, 0x3f, 0x3f, 0x59, 0xb2, 0x34, 0xb7, 0x77, 0x7a, 0x23, 0x1a, 0xe5,
    0x95, 0xca, 0x5a, 0xa1, 0x74, 0x5f, 0xd7, 0xa6, 0x2b, 0xc4, 0xd0, 0x20, 0x37, 0x11, 0x7d, 0xd1};
const uint8_t blt_ble_k2_pub[64] = {
    0xa7, 0x3a, 0xbf, 0x5d, 0x22, 0x32, 0xc8, 0xc1, 0xc7, 0x2e, 0x68, 0x30, 0x43, 0x43, 0xc2, 0x72,
    0x49, 0x5e, 0x3a, 0x8f, 0xd6, 0xf3, 0x0e, 0xa9, 0x6d, 0xe2, 0xf4, 0xb3, 0xce, 0x60, 0xb2, 0x51,
    0xee, 0x21, 0xac, 0x66, 0x7c, 0xf8, 0xa7, 0x1e, 0x18, 0xb4, 0x6b, 0x66, 0x4e, 0xae, 0xff, 0xe3,
    0xc4, 0x89, 0xf2, 0x4f, 0x69, 0x5b, 0x64, 0x11, 0xdb, 0x7e, 0x22, 0xcc, 0xc8, 0x5a, 0x85, 0x94};

enum { T_CHALLENGE = 1, T_RESPONSE, T_RESULT, T_DEVKEY, T_CLIENTKEY, T_KEYRESULT };

static size_t round16(size_t n)
{
	return (n + 15u) & ~(size_t)15u;
}

static int fail(blt_ble_session_t *s, int err)
{
	if (s->state != BLT_BLE_SECURE)
		s->state = BLT_BLE_FAILED;
	return err;
}

/* --- hashing, AES ----------------------------------------------------------------------- */

static int digest(const EVP_MD *md, const uint8_t *in, size_t n, uint8_t *out)
{
	unsigned int len = 0;
	return EVP_Digest(in, n, out, &len, md, NULL) == 1 ? BLT_OK : BLT_E_INVAL;
}

static int aes_cbc(bool enc, const uint8_t *key, size_t klen, const uint8_t iv[16],
                   const uint8_t *in, size_t n, uint8_t *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	const EVP_CIPHER *ci = klen == 16 ? EVP_aes_128_cbc() : EVP_aes_256_cbc();
	int l1 = 0, l2 = 0, ok;

	if (!c)
		return BLT_E_NOMEM;
	ok = EVP_CipherInit_ex(c, ci, NULL, key, iv, enc ? 1 : 0) == 1 &&
	     EVP_CIPHER_CTX_set_padding(c, 0) == 1 &&
	     EVP_CipherUpdate(c, out, &l1, in, (int)n) == 1 &&
	     EVP_CipherFinal_ex(c, out + l1, &l2) == 1 && (size_t)(l1 + l2) == n;
	EVP_CIPHER_CTX_free(c);
	return ok ? BLT_OK : BLT_E_INVAL;
}

/* --- P-256 ------------------------------------------------------------------------------ */

typedef struct ec {
	EC_GROUP *g;
	BN_CTX *bn;
	const BIGNUM *n;
} ec_t;

static int ec_open(ec_t *e)
{
	e->g = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	e->bn = BN_CTX_new();
	if (!e->g || !e->bn) {
		EC_GROUP_free(e->g);
		BN_CTX_free(e->bn);
		return BLT_E_NOMEM;
	}
	e->n = EC_GROUP_get0_order(e->g);
	BN_CTX_start(e->bn);
	return BLT_OK;
}

static void ec_close(ec_t *e)
{
	BN_CTX_end(e->bn);
	BN_CTX_free(e->bn);
	EC_GROUP_free(e->g);
}

/* Raw X||Y -> point; NULL unless on the curve and not the point at infinity. */
static EC_POINT *point_from_raw(ec_t *e, const uint8_t raw[64])
{
	uint8_t oct[65];
	EC_POINT *p = EC_POINT_new(e->g);

	oct[0] = 0x04;
	memcpy(oct + 1, raw, 64);
	if (!p || EC_POINT_oct2point(e->g, p, oct, sizeof oct, e->bn) != 1 ||
	    EC_POINT_is_at_infinity(e->g, p) || EC_POINT_is_on_curve(e->g, p, e->bn) != 1) {
		EC_POINT_free(p);
		return NULL;
	}
	return p;
}

static int point_to_raw(ec_t *e, const EC_POINT *p, uint8_t raw[64])
{
	uint8_t oct[65];
	if (EC_POINT_point2oct(e->g, p, POINT_CONVERSION_UNCOMPRESSED, oct, sizeof oct, e->bn) !=
	    sizeof oct)
		return BLT_E_BLE_KEY;
	memcpy(raw, oct + 1, 64);
	return BLT_OK;
}

/* A private scalar must be in [1, n-1]. */
static BIGNUM *scalar(ec_t *e, const uint8_t b[32])
{
	BIGNUM *k = BN_CTX_get(e->bn);
	if (!k || !BN_bin2bn(b, 32, k) || BN_is_zero(k) || BN_cmp(k, e->n) >= 0)
		return NULL;
	BN_set_flags(k, BN_FLG_CONSTTIME);
	return k;
}

int blt_ble_pubkey(const uint8_t priv[32], uint8_t pub[64], blt_detail_t *d)
{
	ec_t e;
	EC_POINT *p = NULL;
	BIGNUM *k;
	int rc;

	if (ec_open(&e) != BLT_OK)
		return blt_detail_set(d, BLT_E_NOMEM, "out of memory");
	rc = BLT_E_BLE_KEY;
	if ((k = scalar(&e, priv)) && (p = EC_POINT_new(e.g)) &&
	    EC_POINT_mul(e.g, p, k, NULL, NULL, e.bn) == 1)
		rc = point_to_raw(&e, p, pub);
	EC_POINT_free(p);
	ec_close(&e);
	if (rc != BLT_OK)
		return blt_detail_set(d, rc, "private key is not a valid P-256 scalar");
	return BLT_OK;
}

int blt_ble_keygen(uint8_t priv[32], uint8_t pub[64], blt_detail_t *d)
{
	for (int i = 0; i < 16; i++) {
		if (RAND_priv_bytes(priv, 32) != 1)
			return blt_detail_set(d, BLT_E_IO, "no randomness for a key");
		if (blt_ble_pubkey(priv, pub, NULL) == BLT_OK)
			return BLT_OK;
	}
	return blt_detail_set(d, BLT_E_IO, "cannot draw a valid P-256 scalar");
}

/* ECDSA with e = SHA-256(msg) (256 bits: no truncation for P-256). natural: the firmware
 * defect of §3.8 (r and s written with their natural length, then zero-filled) - the
 * nonce is redrawn until r or s is short so that the defect is visible. */
static int sign_impl(const uint8_t priv[32], const uint8_t *nonce, const uint8_t *msg, size_t n,
                     uint8_t sig[64], bool natural, blt_detail_t *d)
{
	uint8_t h[32], kb[32];
	ec_t e;
	EC_POINT *R = NULL;
	BIGNUM *dk, *k, *r, *s, *z, *x, *kinv;
	int rc = BLT_E_BLE_KEY, tries;

	if (digest(EVP_sha256(), msg, n, h) != BLT_OK)
		return blt_detail_set(d, BLT_E_INVAL, "SHA-256 unavailable");
	if (ec_open(&e) != BLT_OK)
		return blt_detail_set(d, BLT_E_NOMEM, "out of memory");
	dk = scalar(&e, priv);
	k = BN_CTX_get(e.bn);
	r = BN_CTX_get(e.bn);
	s = BN_CTX_get(e.bn);
	z = BN_CTX_get(e.bn);
	x = BN_CTX_get(e.bn);
	kinv = BN_CTX_get(e.bn);
	R = EC_POINT_new(e.g);
	if (!dk || !kinv || !R || !BN_bin2bn(h, 32, z)) {
		blt_detail_set(d, rc, "signing key is not a valid P-256 scalar");
		goto out;
	}
	for (tries = 0; tries < 4096; tries++) {
		if (nonce) {
			if (tries > 0 || !BN_bin2bn(nonce, 32, k) || !BN_nnmod(k, k, e.n, e.bn))
				break;
		} else {
			if (RAND_priv_bytes(kb, sizeof kb) != 1 || !BN_bin2bn(kb, 32, k) ||
			    !BN_nnmod(k, k, e.n, e.bn))
				break;
		}
		if (BN_is_zero(k))
			continue;
		BN_set_flags(k, BN_FLG_CONSTTIME);
		if (EC_POINT_mul(e.g, R, k, NULL, NULL, e.bn) != 1 ||
		    EC_POINT_get_affine_coordinates(e.g, R, x, NULL, e.bn) != 1 ||
		    !BN_nnmod(r, x, e.n, e.bn))
			break;
		if (BN_is_zero(r))
			continue;
		/* s = k^-1 (z + r d) mod n */
		if (!BN_mod_inverse(kinv, k, e.n, e.bn) || !BN_mod_mul(s, r, dk, e.n, e.bn) ||
		    !BN_mod_add(s, s, z, e.n, e.bn) || !BN_mod_mul(s, s, kinv, e.n, e.bn))
			break;
		if (BN_is_zero(s))
			continue;
		if (natural && BN_num_bytes(r) == 32 && BN_num_bytes(s) == 32 && !nonce)
			continue;
		if (natural) {
			int lr = BN_num_bytes(r), ls;
			memset(sig, 0, 64);
			BN_bn2bin(r, sig);
			ls = BN_num_bytes(s);
			BN_bn2bin(s, sig + lr);
			(void)ls;
		} else {
			BN_bn2binpad(r, sig, 32);
			BN_bn2binpad(s, sig + 32, 32);
		}
		rc = BLT_OK;
		break;
	}
	if (rc != BLT_OK)
		blt_detail_set(d, BLT_E_BLE_KEY, "ECDSA signing failed");
out:
	OPENSSL_cleanse(kb, sizeof kb);
	EC_POINT_free(R);
	ec_close(&e);
	return rc;
}

int blt_ble_sign(const uint8_t priv[32], const uint8_t *nonce, const uint8_t *msg, size_t n,
                 uint8_t sig[64], blt_detail_t *d)
{
	return sign_impl(priv, nonce, msg, n, sig, false, d);
}

int blt_ble_verify(const uint8_t pub[64], const uint8_t *msg, size_t n, const uint8_t sig[64],
                   blt_detail_t *d)
{
	uint8_t h[32];
	ec_t e;
	EC_POINT *Q = NULL, *X = NULL;
	BIGNUM *r, *s, *z, *w, *u1, *u2, *x;
	int rc = BLT_E_BLE_SIGNATURE;

	if (digest(EVP_sha256(), msg, n, h) != BLT_OK)
		return blt_detail_set(d, BLT_E_INVAL, "SHA-256 unavailable");
	if (ec_open(&e) != BLT_OK)
		return blt_detail_set(d, BLT_E_NOMEM, "out of memory");
	r = BN_CTX_get(e.bn);
	s = BN_CTX_get(e.bn);
	z = BN_CTX_get(e.bn);
	w = BN_CTX_get(e.bn);
	u1 = BN_CTX_get(e.bn);
	u2 = BN_CTX_get(e.bn);
	x = BN_CTX_get(e.bn);
	if (!x) {
		rc = blt_detail_set(d, BLT_E_NOMEM, "out of memory");
		goto out;
	}
	if (!(Q = point_from_raw(&e, pub))) {
		rc = blt_detail_set(d, BLT_E_BLE_KEY, "verify key is not a point on P-256");
		goto out;
	}
	BN_bin2bn(sig, 32, r);
	BN_bin2bn(sig + 32, 32, s);
	BN_bin2bn(h, 32, z);
	if (BN_is_zero(r) || BN_is_zero(s) || BN_cmp(r, e.n) >= 0 || BN_cmp(s, e.n) >= 0) {
		blt_detail_set(d, rc, "signature r or s out of range");
		goto out;
	}
	X = EC_POINT_new(e.g);
	if (!X || !BN_mod_inverse(w, s, e.n, e.bn) || !BN_mod_mul(u1, z, w, e.n, e.bn) ||
	    !BN_mod_mul(u2, r, w, e.n, e.bn) || EC_POINT_mul(e.g, X, u1, Q, u2, e.bn) != 1 ||
	    EC_POINT_is_at_infinity(e.g, X) ||
	    EC_POINT_get_affine_coordinates(e.g, X, x, NULL, e.bn) != 1 ||
	    !BN_nnmod(x, x, e.n, e.bn)) {
		blt_detail_set(d, rc, "signature does not verify");
		goto out;
	}
	if (BN_cmp(x, r) != 0) {
		blt_detail_set(d, rc, "signature does not verify");
		goto out;
	}
	rc = BLT_OK;
out:
	EC_POINT_free(Q);
	EC_POINT_free(X);
	ec_close(&e);
	return rc;
}

/* x coordinate of priv * peer, 32 bytes big-endian (the session key, no KDF). */
static int ecdh(const uint8_t priv[32], const uint8_t peer[64], uint8_t out[32], blt_detail_t *d)
{
	ec_t e;
	EC_POINT *Q = NULL, *P = NULL;
	BIGNUM *k, *x;
	int rc = BLT_E_BLE_KEY;

	if (ec_open(&e) != BLT_OK)
		return blt_detail_set(d, BLT_E_NOMEM, "out of memory");
	k = scalar(&e, priv);
	x = BN_CTX_get(e.bn);
	if (!k || !x) {
		blt_detail_set(d, rc, "ephemeral key invalid");
		goto out;
	}
	if (!(Q = point_from_raw(&e, peer))) {
		blt_detail_set(d, rc, "peer's ephemeral key is not a point on P-256");
		goto out;
	}
	P = EC_POINT_new(e.g);
	if (!P || EC_POINT_mul(e.g, P, NULL, Q, k, e.bn) != 1 || EC_POINT_is_at_infinity(e.g, P) ||
	    EC_POINT_get_affine_coordinates(e.g, P, x, NULL, e.bn) != 1 ||
	    BN_bn2binpad(x, out, 32) != 32) {
		blt_detail_set(d, rc, "ECDH failed");
		goto out;
	}
	rc = BLT_OK;
out:
	EC_POINT_free(Q);
	EC_POINT_free(P);
	ec_close(&e);
	return rc;
}

/* --- handshake frames ------------------------------------------------------------------ */

int blt_ble_frame_build(uint8_t type, const uint8_t *payload, uint8_t len, uint8_t *out, size_t cap,
                        size_t *out_len)
{
	unsigned sum;
	size_t n = 6u + len;

	if (cap < n || (len && !payload))
		return BLT_E_BUFSIZE;
	out[0] = 0x2a;
	out[1] = 0x2a;
	out[2] = type;
	out[3] = len;
	if (len)
		memcpy(out + 4, payload, len);
	sum = 0;
	for (size_t i = 2; i < 4u + len; i++)
		sum += out[i];
	out[4 + len] = (uint8_t)(sum >> 8);
	out[5 + len] = (uint8_t)sum;
	*out_len = n;
	return BLT_OK;
}

/* Fixed total lengths the device enforces (§3.3). */
static size_t frame_total_for(uint8_t type)
{
	switch (type) {
	case T_CHALLENGE:
	case T_RESPONSE: return 10;
	case T_RESULT:
	case T_KEYRESULT: return 7;
	case T_DEVKEY:
	case T_CLIENTKEY: return 134;
	}
	return 0;
}

int blt_ble_frame_parse(const uint8_t *buf, size_t n, uint8_t *type, const uint8_t **payload,
                        uint8_t *len, blt_detail_t *d)
{
	unsigned sum = 0, got;
	size_t want;

	if (n < 2 || buf[0] != 0x2a || buf[1] != 0x2a)
		return blt_detail_set(d, BLT_E_BLE_MAGIC,
		                      "handshake frame does not start with 2a 2a");
	if (n < 6)
		return blt_detail_set(d, BLT_E_BLE_LENGTH,
		                      "handshake frame of %zu bytes (6 at least)", n);
	if (n != 6u + buf[3])
		return blt_detail_set(d, BLT_E_BLE_LENGTH,
		                      "handshake frame of %zu bytes announces a %u-byte payload", n,
		                      buf[3]);
	want = frame_total_for(buf[2]);
	if (!want)
		return blt_detail_set(d, BLT_E_BLE_SEQUENCE, "unknown handshake message type %u",
		                      buf[2]);
	if (n != want)
		return blt_detail_set(d, BLT_E_BLE_LENGTH,
		                      "handshake type %u is %zu bytes, must be %zu", buf[2], n,
		                      want);
	for (size_t i = 2; i < n - 2; i++)
		sum += buf[i];
	got = (unsigned)buf[n - 2] << 8 | buf[n - 1];
	if ((sum & 0xffffu) != got)
		return blt_detail_set(d, BLT_E_BLE_CHECKSUM,
		                      "handshake type %u checksum %04x, computed %04x", buf[2], got,
		                      sum & 0xffffu);
	*type = buf[2];
	*payload = buf + 4;
	*len = buf[3];
	return BLT_OK;
}

/* --- session setup ---------------------------------------------------------------------- */

static bool is_magic(const uint8_t *b, size_t n)
{
	return n >= 2 && b[0] == 0x2a && b[1] == 0x2a;
}

int blt_ble_init(blt_ble_session_t *s, const blt_ble_config_t *cfg, blt_detail_t *d)
{
	uint8_t pub[64];

	if (!s || !cfg)
		return blt_detail_set(d, BLT_E_INVAL, "no session or configuration");
	memset(s, 0, sizeof *s);
	s->role = cfg->role;
	s->faults = cfg->faults;
	if (cfg->role == BLT_BLE_CLIENT) {
		memcpy(s->sign_priv, l1_priv, 32);
		memcpy(s->verify_pub, cfg->verify_pub ? cfg->verify_pub : blt_ble_k2_pub, 64);
	} else {
		if (!cfg->sign_priv)
			return blt_detail_set(d, BLT_E_INVAL,
			                      "a device-role session needs its signing key");
		memcpy(s->sign_priv, cfg->sign_priv, 32);
		memcpy(s->verify_pub, cfg->verify_pub ? cfg->verify_pub : blt_ble_l1_pub, 64);
		if (blt_ble_pubkey(s->sign_priv, pub, d) != BLT_OK) {
			blt_ble_clear(s);
			return BLT_E_BLE_KEY;
		}
	}
	{
		ec_t e;
		EC_POINT *p;
		if (ec_open(&e) != BLT_OK)
			return blt_detail_set(d, BLT_E_NOMEM, "out of memory");
		p = point_from_raw(&e, s->verify_pub);
		EC_POINT_free(p);
		ec_close(&e);
		if (!p) {
			blt_ble_clear(s);
			return blt_detail_set(d, BLT_E_BLE_KEY,
			                      "verify key is not a point on P-256");
		}
	}
	if (cfg->ephemeral) {
		memcpy(s->eph_priv, cfg->ephemeral, 32);
		s->has_fixed_eph = true;
	}
	if (cfg->nonce) {
		memcpy(s->fixed_nonce, cfg->nonce, 32);
		s->has_fixed_nonce = true;
	}
	if (cfg->challenge) {
		memcpy(s->challenge, cfg->challenge, 4);
		s->has_fixed_challenge = true;
	}
	if (cfg->seed) {
		memcpy(s->fixed_seed, cfg->seed, 4);
		s->has_fixed_seed = true;
	}
	s->state = BLT_BLE_IDLE;
	return BLT_OK;
}

void blt_ble_clear(blt_ble_session_t *s)
{
	if (s)
		OPENSSL_cleanse(s, sizeof *s);
}

/* IV = MD5(R reversed), Ktmp = IV XOR LOCAL_AES_KEY. */
static int derive_iv(blt_ble_session_t *s)
{
	uint8_t rev[4] = {s->challenge[3], s->challenge[2], s->challenge[1], s->challenge[0]};
	if (digest(EVP_md5(), rev, 4, s->iv) != BLT_OK)
		return BLT_E_INVAL;
	for (int i = 0; i < 16; i++)
		s->ktmp[i] = s->iv[i] ^ blt_ble_local_aes_key[i];
	return BLT_OK;
}

static int new_ephemeral(blt_ble_session_t *s, blt_detail_t *d)
{
	if (s->has_fixed_eph)
		return blt_ble_pubkey(s->eph_priv, s->eph_pub, d);
	return blt_ble_keygen(s->eph_priv, s->eph_pub, d);
}

/* --- encrypted messages ----------------------------------------------------------------- */

/* Handshake types 4-6: [len u16][AES-128-CBC(Ktmp, IV, frame zero-padded)]. */
static int hs_encrypt(blt_ble_session_t *s, const uint8_t *frame, size_t n, uint8_t *out,
                      size_t cap, size_t *out_len)
{
	uint8_t buf[BLT_BLE_HS_MAX];
	size_t padded = round16(n);

	if (padded + 2 > cap || padded > sizeof buf)
		return BLT_E_BUFSIZE;
	memset(buf, 0, padded);
	memcpy(buf, frame, n);
	out[0] = (uint8_t)(n >> 8);
	out[1] = (uint8_t)n;
	if (aes_cbc(true, s->ktmp, 16, s->iv, buf, padded, out + 2) != BLT_OK)
		return BLT_E_INVAL;
	*out_len = padded + 2;
	return BLT_OK;
}

/* Decrypt a handshake message into frame[]; *len = the plaintext length. */
static int hs_decrypt(blt_ble_session_t *s, const uint8_t *msg, size_t n, uint8_t *frame,
                      size_t *len, blt_detail_t *d)
{
	size_t plen, clen;

	if (n < 2)
		return blt_detail_set(d, BLT_E_BLE_LENGTH, "encrypted message of %zu bytes", n);
	clen = n - 2;
	plen = (size_t)msg[0] << 8 | msg[1];
	if (clen == 0 || clen % 16)
		return blt_detail_set(d, BLT_E_BLE_ALIGN,
		                      "encrypted handshake message: %zu ciphertext bytes, not a "
		                      "multiple of 16",
		                      clen);
	if (clen > BLT_BLE_HS_MAX - 2)
		return blt_detail_set(d, BLT_E_BLE_OVERSIZE,
		                      "encrypted handshake message of %zu bytes (146 at most)", n);
	if (plen == 0 || round16(plen) != clen)
		return blt_detail_set(d, BLT_E_BLE_LENGTH,
		                      "length field %zu does not fit %zu ciphertext bytes", plen,
		                      clen);
	if (aes_cbc(false, s->ktmp, 16, s->iv, msg + 2, clen, frame) != BLT_OK)
		return blt_detail_set(d, BLT_E_INVAL, "AES-128-CBC failed");
	*len = plen;
	return BLT_OK;
}

static void seed_iv(const uint8_t seed[4], uint8_t iv[16])
{
	digest(EVP_md5(), seed, 4, iv);
}

int blt_ble_encrypt(blt_ble_session_t *s, const uint8_t *plain, size_t n, uint8_t *out, size_t cap,
                    size_t *out_len, blt_detail_t *d)
{
	uint8_t buf[BLT_BLE_MSG_MAX], iv[16];
	size_t padded = round16(n);
	int rc;

	if (!s || (n && !plain) || !out || !out_len)
		return blt_detail_set(d, BLT_E_INVAL, "encrypt: missing argument");
	if (s->state != BLT_BLE_SECURE)
		return blt_detail_set(d, BLT_E_BLE_SEQUENCE,
		                      "no session key yet (handshake state %d)", (int)s->state);
	if (n == 0 || 6 + padded >= BLT_BLE_MSG_MAX)
		return blt_detail_set(d, n ? BLT_E_BLE_OVERSIZE : BLT_E_BLE_LENGTH,
		                      "plaintext of %zu bytes (1..%d)", n, BLT_BLE_PLAIN_MAX);
	if (cap < 6 + padded)
		return blt_detail_set(d, BLT_E_BUFSIZE, "output buffer of %zu bytes, need %zu", cap,
		                      6 + padded);
	out[0] = (uint8_t)(n >> 8);
	out[1] = (uint8_t)n;
	if (s->has_fixed_seed)
		memcpy(out + 2, s->fixed_seed, 4);
	else if (RAND_bytes(out + 2, 4) != 1)
		return blt_detail_set(d, BLT_E_IO, "no randomness for the IV seed");
	seed_iv(out + 2, iv);
	memset(buf, 0, padded);
	memcpy(buf, plain, n);
	rc = aes_cbc(true, s->ksess, 32, iv, buf, padded, out + 6);
	OPENSSL_cleanse(buf, padded);
	if (rc != BLT_OK)
		return blt_detail_set(d, BLT_E_INVAL, "AES-256-CBC failed");
	*out_len = 6 + padded;
	return BLT_OK;
}

static int secure_decrypt(blt_ble_session_t *s, const uint8_t *msg, size_t n, blt_ble_out_t *out,
                          blt_detail_t *d)
{
	uint8_t iv[16], buf[BLT_BLE_MSG_MAX];
	size_t plen, clen;

	if (n >= BLT_BLE_MSG_MAX)
		return blt_detail_set(d, BLT_E_BLE_OVERSIZE, "message of %zu bytes (1499 at most)",
		                      n);
	if (n < BLT_BLE_MSG_MIN)
		return blt_detail_set(d, BLT_E_BLE_LENGTH, "message of %zu bytes (22 at least)", n);
	clen = n - 6;
	if (clen % 16)
		return blt_detail_set(d, BLT_E_BLE_ALIGN,
		                      "%zu ciphertext bytes, not a multiple of 16", clen);
	plen = (size_t)msg[0] << 8 | msg[1];
	if (plen == 0 || round16(plen) != clen)
		return blt_detail_set(d, BLT_E_BLE_LENGTH,
		                      "length field %zu does not fit %zu ciphertext bytes", plen,
		                      clen);
	seed_iv(msg + 2, iv);
	if (aes_cbc(false, s->ksess, 32, iv, msg + 6, clen, buf) != BLT_OK)
		return blt_detail_set(d, BLT_E_INVAL, "AES-256-CBC failed");
	memcpy(out->plain, buf, plen);
	OPENSSL_cleanse(buf, clen);
	out->plain_len = plen;
	out->has_plain = true;
	return BLT_OK;
}

/* --- the state machine ------------------------------------------------------------------ */

static void out_reset(blt_ble_out_t *o)
{
	o->nsend = 0;
	o->plain_len = 0;
	o->has_plain = false;
	o->established = false;
	o->restarted = false;
}

static int push_frame(blt_ble_out_t *o, uint8_t type, const uint8_t *payload, uint8_t len)
{
	if (o->nsend >= 2)
		return BLT_E_BUFSIZE;
	int rc = blt_ble_frame_build(type, payload, len, o->send[o->nsend], BLT_BLE_HS_MAX,
	                             &o->send_len[o->nsend]);
	if (rc == BLT_OK)
		o->nsend++;
	return rc;
}

static int push_encrypted(blt_ble_session_t *s, blt_ble_out_t *o, uint8_t type,
                          const uint8_t *payload, uint8_t len)
{
	uint8_t frame[BLT_BLE_HS_MAX];
	size_t flen;
	int rc;

	if (o->nsend >= 2)
		return BLT_E_BUFSIZE;
	if ((rc = blt_ble_frame_build(type, payload, len, frame, sizeof frame, &flen)) != BLT_OK)
		return rc;
	rc = hs_encrypt(s, frame, flen, o->send[o->nsend], BLT_BLE_HS_MAX, &o->send_len[o->nsend]);
	if (rc == BLT_OK)
		o->nsend++;
	return rc;
}

int blt_ble_device_start(blt_ble_session_t *s, blt_ble_out_t *out, blt_detail_t *d)
{
	int rc;

	if (!s || !out || s->role != BLT_BLE_DEVICE)
		return blt_detail_set(d, BLT_E_INVAL, "device_start needs a device-role session");
	out_reset(out);
	s->rx_len = 0;
	if (!s->has_fixed_challenge && RAND_bytes(s->challenge, 4) != 1)
		return blt_detail_set(d, BLT_E_IO, "no randomness for the challenge");
	if (derive_iv(s) != BLT_OK)
		return blt_detail_set(d, BLT_E_INVAL, "MD5 unavailable");
	if ((rc = new_ephemeral(s, d)) != BLT_OK)
		return rc;
	push_frame(out, T_CHALLENGE, s->challenge, 4);
	if (s->faults & BLT_BLE_FAULT_BAD_CHECKSUM)
		out->send[0][out->send_len[0] - 1] ^= 0x5a;
	s->state = BLT_BLE_WAIT_2;
	return BLT_OK;
}

/* Sign key||IV with our signing key. */
static int sign_key(blt_ble_session_t *s, uint8_t payload[128], blt_detail_t *d)
{
	uint8_t msg[80];
	memcpy(payload, s->eph_pub, 64);
	memcpy(msg, s->eph_pub, 64);
	memcpy(msg + 64, s->iv, 16);
	return sign_impl(s->sign_priv, s->has_fixed_nonce ? s->fixed_nonce : NULL, msg, sizeof msg,
	                 payload + 64,
	                 s->role == BLT_BLE_DEVICE && (s->faults & BLT_BLE_FAULT_SHORT_SIG), d);
}

/* Check the peer's key||signature (type 4 or 5) and derive the session key. */
static int accept_key(blt_ble_session_t *s, const uint8_t *p, blt_detail_t *d)
{
	uint8_t msg[80];
	int rc;

	memcpy(msg, p, 64);
	memcpy(msg + 64, s->iv, 16);
	rc = blt_ble_verify(s->verify_pub, msg, sizeof msg, p + 64, d);
	if (rc == BLT_E_BLE_KEY) /* the verify key itself was checked at init */
		rc = BLT_E_BLE_SIGNATURE;
	if (rc != BLT_OK) {
		blt_detail_set(d, rc, "%s signature over its key does not verify (%s)",
		               s->role == BLT_BLE_CLIENT ? "device" : "client",
		               s->role == BLT_BLE_CLIENT ? "K2" : "L1");
		return rc;
	}
	if ((rc = ecdh(s->eph_priv, p, s->ksess, d)) != BLT_OK)
		return rc;
	if (s->role == BLT_BLE_DEVICE && (s->faults & BLT_BLE_FAULT_SHORT_SECRET)) {
		/* as if the secret's first byte were 0: stored one byte short (§3.8) */
		memmove(s->ksess, s->ksess + 1, 31);
		s->ksess[31] = 0;
	}
	return BLT_OK;
}

static int client_receive(blt_ble_session_t *s, const uint8_t *msg, size_t n, blt_ble_out_t *out,
                          blt_detail_t *d)
{
	uint8_t frame[BLT_BLE_HS_MAX], type, len, payload[128];
	const uint8_t *p;
	size_t flen;
	int rc;

	if (is_magic(msg, n)) {
		if ((rc = blt_ble_frame_parse(msg, n, &type, &p, &len, d)) != BLT_OK)
			return fail(s, rc);
		if (type == T_CHALLENGE) {
			if (s->state != BLT_BLE_IDLE && memcmp(p, s->challenge, 4) == 0) {
				s->dup_ignored++; /* a resend of the challenge we answered */
				return BLT_OK;
			}
			out->restarted = s->state != BLT_BLE_IDLE;
			memcpy(s->challenge, p, 4);
			if (derive_iv(s) != BLT_OK)
				return fail(s, blt_detail_set(d, BLT_E_INVAL, "MD5 unavailable"));
			memset(s->ksess, 0, sizeof s->ksess);
			push_frame(out, T_RESPONSE, s->iv + 8, 4);
			s->state = BLT_BLE_WAIT_3;
			return BLT_OK;
		}
		if (type == T_RESULT && s->state == BLT_BLE_WAIT_3) {
			if (p[0] != 0)
				return fail(s,
				            blt_detail_set(d, BLT_E_BLE_REJECTED,
				                           "device rejected the challenge response "
				                           "(type 3 = %02x)",
				                           p[0]));
			s->state = BLT_BLE_WAIT_4;
			return BLT_OK;
		}
		return fail(s, blt_detail_set(d, BLT_E_BLE_SEQUENCE,
		                              "plain handshake type %u in state %d", type,
		                              (int)s->state));
	}
	if (s->state == BLT_BLE_SECURE)
		return secure_decrypt(s, msg, n, out, d);
	if (s->state != BLT_BLE_WAIT_4 && s->state != BLT_BLE_WAIT_6)
		return fail(s, blt_detail_set(d,
		                              s->state == BLT_BLE_IDLE || s->state == BLT_BLE_WAIT_3
		                                  ? BLT_E_BLE_MAGIC
		                                  : BLT_E_BLE_SEQUENCE,
		                              "expected a plain handshake frame (state %d)",
		                              (int)s->state));
	if ((rc = hs_decrypt(s, msg, n, frame, &flen, d)) != BLT_OK)
		return fail(s, rc);
	if ((rc = blt_ble_frame_parse(frame, flen, &type, &p, &len, d)) != BLT_OK)
		return fail(s, rc);
	if (type == T_DEVKEY && s->state == BLT_BLE_WAIT_4) {
		if ((rc = new_ephemeral(s, d)) != BLT_OK || (rc = accept_key(s, p, d)) != BLT_OK ||
		    (rc = sign_key(s, payload, d)) != BLT_OK)
			return fail(s, rc);
		if ((rc = push_encrypted(s, out, T_CLIENTKEY, payload, 128)) != BLT_OK)
			return fail(s, blt_detail_set(d, rc, "cannot build the type-5 message"));
		s->state = BLT_BLE_WAIT_6;
		return BLT_OK;
	}
	if (type == T_DEVKEY && s->state == BLT_BLE_WAIT_6) {
		s->dup_ignored++; /* never resend type 5 (§3.14.4) */
		return BLT_OK;
	}
	if (type == T_KEYRESULT && s->state == BLT_BLE_WAIT_6) {
		if (p[0] != 0)
			return fail(s, blt_detail_set(d, BLT_E_BLE_REJECTED,
			                              "device rejected our key (type 6 = %02x)",
			                              p[0]));
		s->state = BLT_BLE_SECURE;
		out->established = true;
		return BLT_OK;
	}
	return fail(s,
	            blt_detail_set(d, BLT_E_BLE_SEQUENCE, "encrypted handshake type %u in state %d",
	                           type, (int)s->state));
}

static int device_receive(blt_ble_session_t *s, const uint8_t *msg, size_t n, blt_ble_out_t *out,
                          blt_detail_t *d)
{
	uint8_t frame[BLT_BLE_HS_MAX], type, len, payload[128], res;
	const uint8_t *p;
	size_t flen;
	int rc;

	if (s->state == BLT_BLE_SECURE)
		return secure_decrypt(s, msg, n, out, d);
	if (s->state == BLT_BLE_WAIT_2) {
		if ((rc = blt_ble_frame_parse(msg, n, &type, &p, &len, d)) != BLT_OK)
			return fail(s, rc);
		if (type != T_RESPONSE)
			return fail(s, blt_detail_set(d, BLT_E_BLE_SEQUENCE,
			                              "expected type 2, got type %u", type));
		res = memcmp(p, s->iv + 8, 4) == 0 ? 0 : 1;
		push_frame(out, T_RESULT, &res, 1);
		if (res)
			return fail(s,
			            blt_detail_set(d, BLT_E_BLE_REJECTED,
			                           "challenge response does not match IV[8..11]"));
		if ((rc = sign_key(s, payload, d)) != BLT_OK)
			return fail(s, rc);
		if ((rc = push_encrypted(s, out, T_DEVKEY, payload, 128)) != BLT_OK)
			return fail(s, blt_detail_set(d, rc, "cannot build the type-4 message"));
		s->state = BLT_BLE_WAIT_5;
		return BLT_OK;
	}
	if (s->state != BLT_BLE_WAIT_5)
		return fail(s, blt_detail_set(d, BLT_E_BLE_SEQUENCE,
		                              "message in handshake state %d", (int)s->state));
	if (is_magic(msg, n))
		return fail(s, blt_detail_set(d, BLT_E_BLE_SEQUENCE,
		                              "plain handshake frame while waiting for type 5"));
	if ((rc = hs_decrypt(s, msg, n, frame, &flen, d)) != BLT_OK)
		return fail(s, rc);
	if ((rc = blt_ble_frame_parse(frame, flen, &type, &p, &len, d)) != BLT_OK)
		return fail(s, rc);
	if (type != T_CLIENTKEY)
		return fail(
		    s, blt_detail_set(d, BLT_E_BLE_SEQUENCE, "expected type 5, got type %u", type));
	rc = accept_key(s, p, d);
	res = rc == BLT_OK ? 0 : 1;
	push_encrypted(s, out, T_KEYRESULT, &res, 1);
	if (rc != BLT_OK)
		return fail(s, rc);
	s->state = BLT_BLE_SECURE;
	out->established = true;
	return BLT_OK;
}

int blt_ble_receive(blt_ble_session_t *s, const uint8_t *msg, size_t n, blt_ble_out_t *out,
                    blt_detail_t *d)
{
	if (!s || !out || (n && !msg))
		return blt_detail_set(d, BLT_E_INVAL, "receive: missing argument");
	out_reset(out);
	if (n >= BLT_BLE_MSG_MAX)
		return blt_detail_set(d, BLT_E_BLE_OVERSIZE, "message of %zu bytes (1499 at most)",
		                      n);
	if (s->state == BLT_BLE_FAILED)
		return blt_detail_set(d, BLT_E_BLE_SEQUENCE, "handshake failed earlier; reconnect");
	if (n == 0)
		return blt_detail_set(d, BLT_E_BLE_LENGTH, "empty message");
	s->rx_messages++;
	return s->role == BLT_BLE_CLIENT ? client_receive(s, msg, n, out, d)
	                                 : device_receive(s, msg, n, out, d);
}

/* --- reassembly ------------------------------------------------------------------------- */

int blt_ble_expected_len(const blt_ble_session_t *s, const uint8_t *buf, size_t n, size_t *total,
                         blt_detail_t *d)
{
	size_t len, hdr;

	*total = 0;
	if (n < 2)
		return BLT_OK;
	if (is_magic(buf, n)) {
		if (n < 4)
			return BLT_OK;
		*total = 6u + buf[3];
		return BLT_OK;
	}
	len = (size_t)buf[0] << 8 | buf[1];
	hdr = s->state == BLT_BLE_SECURE ? 6 : 2;
	*total = hdr + round16(len);
	if (len == 0)
		*total = hdr + 16; /* malformed; take one block so the error names it */
	if (*total >= BLT_BLE_MSG_MAX) {
		*total = 0;
		return blt_detail_set(d, BLT_E_BLE_OVERSIZE,
		                      "length header announces %zu bytes (1499 at most)",
		                      hdr + round16(len));
	}
	return BLT_OK;
}

/* In the secure phase a late type 6 (the device resends it until the first request) still
 * has the 2-byte handshake header: recognise it by decrypting with Ktmp. */
static bool late_type6(blt_ble_session_t *s, const uint8_t *b, size_t n)
{
	uint8_t frame[BLT_BLE_HS_MAX], type, len;
	const uint8_t *p;
	size_t flen;

	if (s->role != BLT_BLE_CLIENT || s->state != BLT_BLE_SECURE || n != 18 || b[0] != 0 ||
	    b[1] != 7)
		return false;
	if (hs_decrypt(s, b, n, frame, &flen, NULL) != BLT_OK)
		return false;
	return blt_ble_frame_parse(frame, flen, &type, &p, &len, NULL) == BLT_OK &&
	       type == T_KEYRESULT;
}

int blt_ble_feed(blt_ble_session_t *s, const uint8_t *frag, size_t n, blt_ble_out_t *out,
                 blt_detail_t *d)
{
	size_t total;
	int rc;

	if (!s || !out || (n && !frag))
		return blt_detail_set(d, BLT_E_INVAL, "feed: missing argument");
	out_reset(out);
	if (n && s->rx_len == 0 && late_type6(s, frag, n)) {
		s->dup_ignored++;
		return 0;
	}
	if (n > sizeof s->rx - s->rx_len) {
		s->rx_len = 0;
		return blt_detail_set(d, BLT_E_BLE_OVERSIZE,
		                      "fragments add up to more than %d bytes", BLT_BLE_MSG_MAX);
	}
	if (n) {
		memcpy(s->rx + s->rx_len, frag, n);
		s->rx_len += n;
	}
	rc = blt_ble_expected_len(s, s->rx, s->rx_len, &total, d);
	if (rc != BLT_OK) {
		s->rx_len = 0;
		return rc;
	}
	if (!total || s->rx_len < total)
		return 0;
	{
		uint8_t msg[BLT_BLE_MSG_MAX];
		memcpy(msg, s->rx, total);
		memmove(s->rx, s->rx + total, s->rx_len - total);
		s->rx_len -= total;
		rc = blt_ble_receive(s, msg, total, out, d);
		OPENSSL_cleanse(msg, total);
	}
	if (rc != BLT_OK) {
		if (s->state == BLT_BLE_FAILED)
			s->rx_len = 0;
		return rc;
	}
	return 1;
}
