/* The V2 BLE session (src/transport/ble_session.c) against LOCAL.md §3.6: V1 (real capture,
 * device signature verified with K2), V2 (real capture, EB3A), V3 (computed continuation:
 * type 5 with a fixed ECDSA nonce, type 6, session key, one request and one reply), byte
 * for byte; a client/device round trip with a generated device key; fragments; the two
 * firmware defects; and one distinct error per malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>

#include <bluetti/bluetti.h>

#include "unit/testdata.h"

#include "transport/ble_session.h"

#define assert_hex(buf, len, text)                                                                 \
	do {                                                                                       \
		uint8_t _e[BLT_BLE_MSG_MAX];                                                       \
		size_t _n = test_hex(text, _e, sizeof _e);                                         \
		assert_int_equal((len), _n);                                                       \
		assert_memory_equal((buf), _e, _n);                                                \
	} while (0)

/* --- vectors (LOCAL.md §3.6) --- */
static const char *V1_CHALLENGE = "2a2a01042d61a7cf0209";
static const char *V1_IV = "896ae63a17142513e81b95f4e9d2f194";
static const char *V1_KTMP = "ccf5230f979d64e2988a756dd73118a9";
static const char *V1_RESPONSE = "2a2a0204e81b95f40292";
static const char *V1_DEVKEY =
    "0086ee8d0951524cef340de225cf73fc3c7f7f2c0ae6dd4fb9a53c8e1216216898aa8f38053227594babe787c0"
    "c4f644bad5c8d6359ea8021dcd147d29edbfe60e22acb28839204a3db511581e306f65bed5bc977ea8230e4258"
    "7d1c52db4e645ec23e913f094a80a4c87bced44d37b1da70b893a4f2e67c398edfc36dc411ec354856d43f4849"
    "211875b29d711811afdf75";
static const char *V1_DEVPUB = "3dfa514fd94519d9aea481b8c617850e8f6da8d75ac01d08bcefb9ab0cd911da"
                               "dbe89fe698ba331bb7ee51e42888bc043a601969958646e3a8f4851e3170ff4c";
static const char *V1_DEVSIG = "cf157f4365444bb58830957e52cc671e160ad13ef8ae33558e927347cbba35f9"
                               "fcd148fa6f6f83aa2baf126cbefae6bde4ab75259bace02b9fbdc3274aa09e1d";
static const char *RESULT_PASS = "2a2a0301000004";
static const char *V3_D = "6e9757958cb7ab505f7c53e27428ba7d0a98cb071c66ad916be0df70f73dfbda";
static const char *V3_CLIENT_PUB =
    "14437c4f53692755b55d7fd24cda695cbc19a7485b5af9bf3d271af89617c302"
    "694513695274c63fa99eabf941a0e57f18184a235714d60285247915b1712edc";
static const char *V3_SIG = "ba06a1f8dff80cbcd16210a7d5a1daace644b3908333dd0481eea56358e6c6e7"
                            "5dd722620e6bf7591a5608abc30ad4dda707a14fa260d28024801d03532b5680";
static const char *V3_TYPE5 =
    "0086882cc04c311c5e80f0c89cd2a3ddebf162051f6a71fbe82f215fd8c2d763269f3590f92cb31f"
    "b10c1ac1246a846f11db92a3a8f49ae68d73a7df524ec5f5abef2ef42e64ad719689dae33603f5012d"
    "0a6d17f65d93d6c16f13f2005434e37fffb03758c34b44b289c9bf7f1b20238f3992ec309ade906993"
    "6382c6ecab62ca8497574a5ec80330be8c92713d089d1dff";
static const char *V3_TYPE6 = "0007e14d22162fe1a9ee023bd96e55c83298";
static const char *V3_KSESS = "5f7f51d1bcc25d4c16795a14fe3446392978fb018d5663874fd7f3d898454966";
static const char *V3_REQ = "01030064 0001c5d5";
static const char *V3_REQ_WIRE = "0008 00000000 54a617fc9975d5a847ad562ec15653a3";
static const char *V3_REPLY = "010302005a387f";
static const char *V3_REPLY_WIRE = "0007 12345678 33e14b3b5e16bc04e2a1c7ff5cf2e6c9";

/* k = SHA-256("bluetti-c LOCAL.md fixed k") (reduced mod n by the signer) */
static void v3_nonce(uint8_t k[32])
{
	static const char txt[] = "bluetti-c LOCAL.md fixed k";
	unsigned int len = 0;
	assert_int_equal(EVP_Digest(txt, sizeof txt - 1, k, &len, EVP_sha256(), NULL), 1);
}

static int recv_hex(blt_ble_session_t *s, const char *hex, blt_ble_out_t *o, blt_detail_t *d)
{
	uint8_t m[BLT_BLE_MSG_MAX];
	size_t n = test_hex(hex, m, sizeof m);
	return blt_ble_receive(s, m, n, o, d);
}

/* A client at V3's fixed inputs, driven through V1 up to the secure phase. */
static void v3_client(blt_ble_session_t *s, uint8_t seed0)
{
	uint8_t dpriv[32], k[32], seed[4] = {seed0, seed0, seed0, seed0};
	blt_ble_config_t cfg = {
	    .role = BLT_BLE_CLIENT, .ephemeral = dpriv, .nonce = k, .seed = seed};
	blt_ble_out_t o;
	blt_detail_t d;

	test_hex(V3_D, dpriv, sizeof dpriv);
	v3_nonce(k);
	assert_int_equal(blt_ble_init(s, &cfg, &d), BLT_OK);
	assert_int_equal(recv_hex(s, V1_CHALLENGE, &o, &d), BLT_OK);
	assert_int_equal(o.nsend, 1);
	assert_hex(o.send[0], o.send_len[0], V1_RESPONSE);
	assert_hex(s->iv, 16, V1_IV);
	assert_hex(s->ktmp, 16, V1_KTMP);
	assert_int_equal(recv_hex(s, RESULT_PASS, &o, &d), BLT_OK);
	assert_int_equal(o.nsend, 0);
	assert_int_equal(recv_hex(s, V1_DEVKEY, &o, &d), BLT_OK);
	assert_int_equal(o.nsend, 1);
	assert_hex(o.send[0], o.send_len[0], V3_TYPE5);
	assert_hex(s->eph_pub, 64, V3_CLIENT_PUB);
	assert_int_equal(s->state, BLT_BLE_WAIT_6);
	assert_int_equal(recv_hex(s, V3_TYPE6, &o, &d), BLT_OK);
	assert_true(o.established);
	assert_int_equal(s->state, BLT_BLE_SECURE);
	assert_hex(s->ksess, 32, V3_KSESS);
}

static void test_v1_v3_client(void **state)
{
	blt_ble_session_t s;
	blt_ble_out_t o;
	blt_detail_t d;
	uint8_t req[16], wire[64], seed[4] = {0x12, 0x34, 0x56, 0x78};
	size_t rn = test_hex(V3_REQ, req, sizeof req), wn = 0;
	(void)state;

	v3_client(&s, 0);
	assert_int_equal(blt_ble_encrypt(&s, req, rn, wire, sizeof wire, &wn, &d), BLT_OK);
	assert_hex(wire, wn, V3_REQ_WIRE);
	assert_int_equal(recv_hex(&s, V3_REPLY_WIRE, &o, &d), BLT_OK);
	assert_true(o.has_plain);
	assert_hex(o.plain, o.plain_len, V3_REPLY);
	/* the reply, encrypted at its seed, is the V3 wire form (the cipher is role-free) */
	memcpy(s.fixed_seed, seed, 4);
	assert_int_equal(blt_ble_encrypt(&s, o.plain, o.plain_len, wire, sizeof wire, &wn, &d),
	                 BLT_OK);
	assert_hex(wire, wn, V3_REPLY_WIRE);
	blt_ble_clear(&s);
}

static void test_v1_signature_k2(void **state)
{
	uint8_t msg[80], sig[64];
	blt_detail_t d;
	(void)state;

	test_hex(V1_DEVPUB, msg, 64);
	test_hex(V1_IV, msg + 64, 16);
	test_hex(V1_DEVSIG, sig, sizeof sig);
	assert_int_equal(blt_ble_verify(blt_ble_k2_pub, msg, sizeof msg, sig, &d), BLT_OK);
	sig[10] ^= 1;
	assert_int_equal(blt_ble_verify(blt_ble_k2_pub, msg, sizeof msg, sig, &d),
	                 BLT_E_BLE_SIGNATURE);
}

static void test_v3_signature(void **state)
{
	uint8_t msg[80], sig[64], l1[32], k[32];
	blt_detail_t d;
	(void)state;

	/* L1 public half is the device's verify key (§3.5) */
	test_hex("4f19a16e3e87bdd9bd24d3e5495b88041511943cbc8b969ade9641d0f56af337", l1, sizeof l1);
	assert_int_equal(blt_ble_pubkey(l1, msg, &d), BLT_OK);
	assert_memory_equal(msg, blt_ble_l1_pub, 64);
	test_hex(V3_CLIENT_PUB, msg, 64);
	test_hex(V1_IV, msg + 64, 16);
	v3_nonce(k);
	assert_int_equal(blt_ble_sign(l1, k, msg, sizeof msg, sig, &d), BLT_OK);
	assert_hex(sig, 64, V3_SIG);
	assert_int_equal(blt_ble_verify(blt_ble_l1_pub, msg, sizeof msg, sig, &d), BLT_OK);
	/* random nonce: a different signature that still verifies */
	assert_int_equal(blt_ble_sign(l1, NULL, msg, sizeof msg, sig, &d), BLT_OK);
	assert_int_equal(blt_ble_verify(blt_ble_l1_pub, msg, sizeof msg, sig, &d), BLT_OK);
}

static void test_v2_eb3a(void **state)
{
	blt_ble_session_t s;
	blt_ble_config_t cfg = {.role = BLT_BLE_CLIENT};
	blt_ble_out_t o;
	blt_detail_t d;
	(void)state;

	assert_int_equal(blt_ble_init(&s, &cfg, &d), BLT_OK);
	assert_int_equal(recv_hex(&s, "2a2a01048f57b72701c9", &o, &d), BLT_OK);
	assert_hex(s.iv, 16, "d705fceee20100a6f9916931f360363b");
	assert_hex(o.send[0], o.send_len[0], "2a2a0204f9916931022a");
	assert_int_equal(recv_hex(&s, "2a2a0301000004", &o, &d), BLT_OK);
	assert_int_equal(s.state, BLT_BLE_WAIT_4);
}

/* The device role at V1's challenge answers V3's type 5 with V3's type 6. */
static void test_device_v1_v3(void **state)
{
	uint8_t priv[32], pub[64], R[4] = {0x2d, 0x61, 0xa7, 0xcf};
	blt_ble_config_t cfg = {.role = BLT_BLE_DEVICE, .sign_priv = priv, .challenge = R};
	blt_ble_session_t s;
	blt_ble_out_t o;
	blt_detail_t d;
	(void)state;

	assert_int_equal(blt_ble_keygen(priv, pub, &d), BLT_OK);
	assert_int_equal(blt_ble_init(&s, &cfg, &d), BLT_OK);
	assert_int_equal(blt_ble_device_start(&s, &o, &d), BLT_OK);
	assert_hex(o.send[0], o.send_len[0], V1_CHALLENGE);
	assert_int_equal(recv_hex(&s, V1_RESPONSE, &o, &d), BLT_OK);
	assert_int_equal(o.nsend, 2);
	assert_hex(o.send[0], o.send_len[0], RESULT_PASS);
	assert_int_equal(o.send_len[1], 146);
	assert_int_equal(recv_hex(&s, V3_TYPE5, &o, &d), BLT_OK);
	assert_true(o.established);
	assert_int_equal(o.nsend, 1);
	assert_hex(o.send[0], o.send_len[0], V3_TYPE6);
	blt_ble_clear(&s);
}

/* Run a whole handshake between a client and a device session; fragments of frag bytes. */
static int handshake(blt_ble_session_t *c, blt_ble_session_t *dv, size_t frag, blt_detail_t *d)
{
	blt_ble_out_t o, o2;
	int rc;
	uint8_t q[2][BLT_BLE_HS_MAX];
	size_t ql[2];
	int nq;

	rc = blt_ble_device_start(dv, &o, d);
	if (rc)
		return rc;
	for (int round = 0; round < 6; round++) {
		/* device -> client, fragmented */
		nq = 0;
		for (int i = 0; i < o.nsend; i++) {
			for (size_t off = 0; off < o.send_len[i]; off += frag) {
				size_t n = o.send_len[i] - off < frag ? o.send_len[i] - off : frag;
				rc = blt_ble_feed(c, o.send[i] + off, n, &o2, d);
				if (rc < 0)
					return rc;
				if (rc == 1 && o2.established)
					return BLT_OK;
				for (int j = 0; rc == 1 && j < o2.nsend; j++) {
					memcpy(q[nq], o2.send[j], o2.send_len[j]);
					ql[nq++] = o2.send_len[j];
				}
			}
		}
		if (!nq)
			return BLT_E_TIMEOUT;
		/* client -> device, whole writes */
		for (int i = 0; i < nq; i++) {
			rc = blt_ble_feed(dv, q[i], ql[i], &o, d);
			if (rc < 0)
				return rc;
		}
	}
	return BLT_E_TIMEOUT;
}

static void pair(blt_ble_session_t *c, blt_ble_session_t *dv, unsigned faults, uint8_t *pub)
{
	uint8_t priv[32];
	blt_ble_config_t cc = {.role = BLT_BLE_CLIENT, .verify_pub = pub};
	blt_ble_config_t dc = {.role = BLT_BLE_DEVICE, .sign_priv = priv, .faults = faults};
	blt_detail_t d;

	assert_int_equal(blt_ble_keygen(priv, pub, &d), BLT_OK);
	assert_int_equal(blt_ble_init(c, &cc, &d), BLT_OK);
	assert_int_equal(blt_ble_init(dv, &dc, &d), BLT_OK);
}

static void test_roundtrip_fragments(void **state)
{
	static const size_t frags[] = {1, 7, 20, 244, 2000};
	blt_ble_session_t c, dv;
	blt_ble_out_t o;
	blt_detail_t d;
	uint8_t pub[64], big[400], wire[BLT_BLE_MSG_MAX];
	size_t wn;
	(void)state;

	for (size_t f = 0; f < sizeof frags / sizeof frags[0]; f++) {
		pair(&c, &dv, 0, pub);
		assert_int_equal(handshake(&c, &dv, frags[f], &d), BLT_OK);
		assert_int_equal(dv.state, BLT_BLE_SECURE);
		assert_memory_equal(c.ksess, dv.ksess, 32);
		/* a 400-byte reply, split at 20 bytes (MTU 23), reassembled */
		for (size_t i = 0; i < sizeof big; i++)
			big[i] = (uint8_t)(i * 7 + f);
		assert_int_equal(blt_ble_encrypt(&dv, big, sizeof big, wire, sizeof wire, &wn, &d),
		                 BLT_OK);
		assert_int_equal(wn, 6 + 400);
		for (size_t off = 0; off < wn; off += 20) {
			int rc =
			    blt_ble_feed(&c, wire + off, wn - off < 20 ? wn - off : 20, &o, &d);
			assert_int_equal(rc, off + 20 >= wn ? 1 : 0);
		}
		assert_true(o.has_plain);
		assert_int_equal(o.plain_len, sizeof big);
		assert_memory_equal(o.plain, big, sizeof big);
		/* and the other way: a request the device decrypts */
		assert_int_equal(blt_ble_encrypt(&c, big, 8, wire, sizeof wire, &wn, &d), BLT_OK);
		assert_int_equal(wn, 22);
		assert_int_equal(blt_ble_feed(&dv, wire, wn, &o, &d), 1);
		assert_memory_equal(o.plain, big, 8);
	}
}

/* A repeated challenge, a repeated type 4 and a late type 6 are dropped, not answered. */
static void test_duplicates(void **state)
{
	blt_ble_session_t c;
	blt_ble_out_t o;
	blt_detail_t d;
	(void)state;

	v3_client(&c, 0);
	assert_int_equal(recv_hex(&c, V1_CHALLENGE, &o, &d), BLT_OK); /* same R: dropped */
	assert_int_equal(o.nsend, 0);
	assert_int_equal(c.state, BLT_BLE_SECURE);
	assert_int_equal(blt_ble_feed(&c, (uint8_t[]){0}, 0, &o, &d), 0);
	{
		uint8_t m[32];
		size_t n = test_hex(V3_TYPE6, m, sizeof m);
		assert_int_equal(blt_ble_feed(&c, m, n, &o, &d), 0); /* late type 6: dropped */
		assert_int_equal(c.rx_len, 0);
	}
	/* a new challenge restarts the handshake (BlueZ re-enabled notifications, §3.14.6) */
	assert_int_equal(recv_hex(&c, V3_REPLY_WIRE, &o, &d), BLT_OK);
	assert_int_equal(recv_hex(&c, "2a2a01048f57b72701c9", &o, &d), BLT_OK);
	assert_true(o.restarted);
	assert_int_equal(c.state, BLT_BLE_WAIT_3);

	{
		uint8_t dpriv[32], k[32];
		blt_ble_config_t cfg = {.role = BLT_BLE_CLIENT, .ephemeral = dpriv, .nonce = k};
		test_hex(V3_D, dpriv, sizeof dpriv);
		v3_nonce(k);
		assert_int_equal(blt_ble_init(&c, &cfg, &d), BLT_OK);
		assert_int_equal(recv_hex(&c, V1_CHALLENGE, &o, &d), BLT_OK);
		assert_int_equal(recv_hex(&c, RESULT_PASS, &o, &d), BLT_OK);
		assert_int_equal(recv_hex(&c, V1_DEVKEY, &o, &d), BLT_OK);
		assert_int_equal(o.nsend, 1);
		assert_int_equal(recv_hex(&c, V1_DEVKEY, &o, &d), BLT_OK); /* repeat: no type 5 */
		assert_int_equal(o.nsend, 0);
		assert_int_equal(c.dup_ignored, 1);
	}
}

/* The firmware defects (§3.8): a short signature fails verification with its own code; a
 * short secret completes the handshake with mismatched keys. */
static void test_defects(void **state)
{
	blt_ble_session_t c, dv;
	blt_ble_out_t o;
	blt_detail_t d;
	uint8_t pub[64], wire[64], req[8] = {1, 3, 0, 0x64, 0, 1, 0xc5, 0xd5};
	size_t wn;
	(void)state;

	pair(&c, &dv, BLT_BLE_FAULT_SHORT_SIG, pub);
	assert_int_equal(handshake(&c, &dv, 20, &d), BLT_E_BLE_SIGNATURE);
	assert_int_equal(c.state, BLT_BLE_FAILED);
	assert_non_null(strstr(d.text, "signature"));

	pair(&c, &dv, BLT_BLE_FAULT_SHORT_SECRET, pub);
	assert_int_equal(handshake(&c, &dv, 20, &d), BLT_OK);
	assert_memory_not_equal(c.ksess, dv.ksess, 32);
	assert_int_equal(blt_ble_encrypt(&c, req, 8, wire, sizeof wire, &wn, &d), BLT_OK);
	assert_int_equal(blt_ble_feed(&dv, wire, wn, &o, &d), 1);
	assert_memory_not_equal(o.plain, req, 8); /* garbage: the device would stay silent */

	pair(&c, &dv, BLT_BLE_FAULT_BAD_CHECKSUM, pub);
	assert_int_equal(handshake(&c, &dv, 20, &d), BLT_E_BLE_CHECKSUM);

	/* a device key we do not trust: K2 instead of the simulator's */
	pair(&c, &dv, 0, pub);
	memcpy(c.verify_pub, blt_ble_k2_pub, 64);
	assert_int_equal(handshake(&c, &dv, 200, &d), BLT_E_BLE_SIGNATURE);
}

static void client_at(blt_ble_session_t *s, int step)
{
	blt_ble_config_t cfg = {.role = BLT_BLE_CLIENT};
	blt_ble_out_t o;
	blt_detail_t d;

	assert_int_equal(blt_ble_init(s, &cfg, &d), BLT_OK);
	if (step >= 1)
		assert_int_equal(recv_hex(s, V1_CHALLENGE, &o, &d), BLT_OK);
	if (step >= 2)
		assert_int_equal(recv_hex(s, RESULT_PASS, &o, &d), BLT_OK);
}

static void expect(int step, const char *hex, int err)
{
	blt_ble_session_t s;
	blt_ble_out_t o;
	blt_detail_t d = {{0}};

	client_at(&s, step);
	assert_int_equal(recv_hex(&s, hex, &o, &d), err);
	assert_true(d.text[0] != '\0');
	assert_string_not_equal(blt_strerror(err), "unknown error");
}

static void test_malformed(void **state)
{
	char buf[4000];
	(void)state;

	expect(0, "2b2a01042d61a7cf0209", BLT_E_BLE_MAGIC);
	expect(0, "2a2a01042d61a7cf0208", BLT_E_BLE_CHECKSUM);
	expect(0, "2a2a01052d61a7cf00020e", BLT_E_BLE_LENGTH); /* type 1 must be 10 bytes */
	expect(0, "2a2a01042d61a7cf02", BLT_E_BLE_LENGTH);     /* truncated */
	expect(0, "2a2a0301000004", BLT_E_BLE_SEQUENCE);       /* type 3 before type 1 */
	expect(0, "2a2a0901000004", BLT_E_BLE_SEQUENCE);       /* unknown type */
	expect(1, "2a2a0301010005", BLT_E_BLE_REJECTED);       /* type 3 = fail */
	expect(2, "0086 00112233445566778899aabbccddeeff 00", BLT_E_BLE_ALIGN);
	expect(2, "0087 00112233445566778899aabbccddeeff", BLT_E_BLE_LENGTH);
	/* type 4 with one ciphertext byte changed: the inner frame no longer checks */
	{
		char m[400];
		snprintf(m, sizeof m, "%s", V1_DEVKEY);
		m[200] = m[200] == '0' ? '1' : '0';
		blt_ble_session_t s;
		blt_ble_out_t o;
		blt_detail_t d;
		client_at(&s, 2);
		int rc = recv_hex(&s, m, &o, &d);
		assert_true(rc == BLT_E_BLE_CHECKSUM || rc == BLT_E_BLE_MAGIC ||
		            rc == BLT_E_BLE_SIGNATURE || rc == BLT_E_BLE_KEY);
	}
	/* oversize, directly and through the reassembly header */
	memset(buf, 0, sizeof buf);
	for (int i = 0; i < 1500; i++)
		memcpy(buf + 2 * i, "00", 2);
	expect(2, buf, BLT_E_BLE_OVERSIZE);
	{
		blt_ble_session_t s;
		blt_ble_out_t o;
		blt_detail_t d;
		client_at(&s, 2);
		assert_int_equal(blt_ble_feed(&s, (const uint8_t *)"\x05\xdc\x00", 3, &o, &d),
		                 BLT_E_BLE_OVERSIZE);
		assert_int_equal(s.rx_len, 0);
	}
	/* secure phase: alignment, length, minimum size; the session survives them */
	{
		blt_ble_session_t s;
		blt_ble_out_t o;
		blt_detail_t d;
		v3_client(&s, 0);
		assert_int_equal(
		    recv_hex(&s, "0007 12345678 33e14b3b5e16bc04e2a1c7ff5cf2e6c9 00", &o, &d),
		    BLT_E_BLE_ALIGN);
		assert_int_equal(
		    recv_hex(&s, "0011 12345678 33e14b3b5e16bc04e2a1c7ff5cf2e6c9", &o, &d),
		    BLT_E_BLE_LENGTH);
		assert_int_equal(recv_hex(&s, "0007 1234", &o, &d), BLT_E_BLE_LENGTH);
		assert_int_equal(s.state, BLT_BLE_SECURE);
		assert_int_equal(recv_hex(&s, V3_REPLY_WIRE, &o, &d), BLT_OK);
		assert_hex(o.plain, o.plain_len, V3_REPLY);
		/* encrypt limits */
		uint8_t big[BLT_BLE_MSG_MAX], w[BLT_BLE_MSG_MAX + 32];
		size_t wn;
		memset(big, 0, sizeof big);
		assert_int_equal(blt_ble_encrypt(&s, big, 1490, w, sizeof w, &wn, &d),
		                 BLT_E_BLE_OVERSIZE);
		assert_int_equal(blt_ble_encrypt(&s, big, 1, w, 10, &wn, &d), BLT_E_BUFSIZE);
	}
	/* a verify key off the curve */
	{
		uint8_t bad[64];
		blt_ble_session_t s;
		blt_ble_config_t cfg = {.role = BLT_BLE_CLIENT, .verify_pub = bad};
		memset(bad, 0x11, sizeof bad);
		assert_int_equal(blt_ble_init(&s, &cfg, NULL), BLT_E_BLE_KEY);
	}
	/* encrypt before the handshake */
	{
		blt_ble_session_t s;
		uint8_t w[64];
		size_t wn;
		client_at(&s, 0);
		assert_int_equal(
		    blt_ble_encrypt(&s, (const uint8_t *)"x", 1, w, sizeof w, &wn, NULL),
		    BLT_E_BLE_SEQUENCE);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_v1_v3_client), cmocka_unit_test(test_v1_signature_k2),
	    cmocka_unit_test(test_v3_signature), cmocka_unit_test(test_v2_eb3a),
	    cmocka_unit_test(test_device_v1_v3), cmocka_unit_test(test_roundtrip_fragments),
	    cmocka_unit_test(test_duplicates),   cmocka_unit_test(test_defects),
	    cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
