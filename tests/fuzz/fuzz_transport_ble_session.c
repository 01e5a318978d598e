/* libFuzzer harness for the receive path of the V2 BLE session (src/transport/ble_session.c):
 * notifications and writes from a peer we do not control. Byte 0 picks the session (a
 * client waiting for type 1, for type 3, for type 4, for type 6, in the secure phase at
 * LOCAL.md V3; a device waiting for type 2, for type 5, in the secure phase) and the
 * fragment size; the rest is fed through blt_ble_feed. The sessions are built once and
 * copied per input (a session is plain memory). Properties: every failure fills a
 * terminated, non-empty detail line and has a name; plaintext never exceeds its buffer;
 * a client never answers a secure-phase message; a client session reaching the secure
 * phase has a session key the device side agrees on only through a real handshake. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bluetti/bluetti.h>

#include "transport/ble_session.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

static blt_ble_session_t tmpl[8];
static int ntmpl;

static void hex(const char *s, uint8_t *out, size_t *n)
{
	CHECK(blt_hex_decode(s, out, BLT_BLE_MSG_MAX, n, NULL) == BLT_OK);
}

static void feed_hex(blt_ble_session_t *s, const char *h)
{
	uint8_t m[BLT_BLE_MSG_MAX];
	size_t n;
	blt_ble_out_t o;
	hex(h, m, &n);
	CHECK(blt_ble_receive(s, m, n, &o, NULL) == BLT_OK);
}

static void setup(void)
{
	static const uint8_t d[32] = {0x6e, 0x97, 0x57, 0x95, 0x8c, 0xb7, 0xab, 0x50,
	                              0x5f, 0x7c, 0x53, 0xe2, 0x74, 0x28, 0xba, 0x7d,
	                              0x0a, 0x98, 0xcb, 0x07, 0x1c, 0x66, 0xad, 0x91,
	                              0x6b, 0xe0, 0xdf, 0x70, 0xf7, 0x3d, 0xfb, 0xda};
	static const uint8_t seed[4] = {0, 0, 0, 0};
	uint8_t priv[32], pub[64];
	blt_ble_config_t cc = {.role = BLT_BLE_CLIENT, .ephemeral = d, .seed = seed};
	blt_ble_config_t dc = {.role = BLT_BLE_DEVICE, .sign_priv = priv, .ephemeral = d};
	blt_ble_session_t s, dv, c2;
	blt_ble_out_t o, o2;

	CHECK(blt_ble_init(&s, &cc, NULL) == BLT_OK);
	tmpl[ntmpl++] = s; /* waiting for type 1 */
	feed_hex(&s, "2a2a01042d61a7cf0209");
	tmpl[ntmpl++] = s; /* waiting for type 3 */
	feed_hex(&s, "2a2a0301000004");
	tmpl[ntmpl++] = s; /* waiting for type 4 */
	feed_hex(&s, "0086ee8d0951524cef340de225cf73fc3c7f7f2c0ae6dd4fb9a53c8e1216216898aa8f380532"
	             "27594babe787c0c4f644bad5c8d6359ea8021dcd147d29edbfe60e22acb28839204a3db51158"
	             "1e306f65bed5bc977ea8230e42587d1c52db4e645ec23e913f094a80a4c87bced44d37b1da70"
	             "b893a4f2e67c398edfc36dc411ec354856d43f4849211875b29d711811afdf75");
	tmpl[ntmpl++] = s; /* waiting for type 6 */
	feed_hex(&s, "0007e14d22162fe1a9ee023bd96e55c83298");
	CHECK(s.state == BLT_BLE_SECURE);
	tmpl[ntmpl++] = s; /* secure phase, V3 key */

	/* a device with a fixed key (derived from the V3 scalar, not the vendor's) */
	memcpy(priv, d, 32);
	priv[0] ^= 0x11;
	CHECK(blt_ble_pubkey(priv, pub, NULL) == BLT_OK);
	CHECK(blt_ble_init(&dv, &dc, NULL) == BLT_OK);
	CHECK(blt_ble_device_start(&dv, &o, NULL) == BLT_OK);
	tmpl[ntmpl++] = dv; /* waiting for type 2 */
	cc.verify_pub = pub;
	CHECK(blt_ble_init(&c2, &cc, NULL) == BLT_OK);
	CHECK(blt_ble_receive(&c2, o.send[0], o.send_len[0], &o2, NULL) == BLT_OK);
	CHECK(blt_ble_receive(&dv, o2.send[0], o2.send_len[0], &o, NULL) == BLT_OK);
	tmpl[ntmpl++] = dv; /* waiting for type 5 */
	CHECK(blt_ble_receive(&c2, o.send[0], o.send_len[0], &o2, NULL) == BLT_OK);
	CHECK(blt_ble_receive(&c2, o.send[1], o.send_len[1], &o2, NULL) == BLT_OK);
	CHECK(blt_ble_receive(&dv, o2.send[0], o2.send_len[0], &o, NULL) == BLT_OK);
	CHECK(dv.state == BLT_BLE_SECURE);
	tmpl[ntmpl++] = dv; /* secure phase */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static blt_ble_session_t s;
	blt_ble_out_t o;
	blt_detail_t d;
	size_t frag, off = 1;
	int rc;

	if (!ntmpl)
		setup();
	if (size < 1)
		return 0;
	s = tmpl[(data[0] & 7) % ntmpl];
	frag = (size_t)(data[0] >> 3) * 8 + 1; /* 1 .. 249 bytes per fragment */
	while (off < size) {
		size_t n = size - off < frag ? size - off : frag;
		d.text[0] = '\0';
		rc = blt_ble_feed(&s, data + off, n, &o, &d);
		off += n;
		for (int guard = 0; guard < 200; guard++) {
			if (rc < 0) {
				CHECK(memchr(d.text, '\0', sizeof d.text) != NULL && d.text[0]);
				CHECK(strcmp(blt_strerror(rc), "unknown error") != 0);
				break;
			}
			if (rc == 0)
				break;
			CHECK(o.plain_len <= sizeof o.plain);
			CHECK(o.nsend >= 0 && o.nsend <= 2);
			for (int i = 0; i < o.nsend; i++)
				CHECK(o.send_len[i] <= BLT_BLE_HS_MAX);
			if (o.has_plain) {
				CHECK(s.state == BLT_BLE_SECURE);
				CHECK(o.nsend == 0);
			}
			rc = blt_ble_feed(&s, NULL, 0, &o, &d);
		}
		CHECK(s.rx_len < BLT_BLE_MSG_MAX);
	}
	/* also the whole input as one message */
	s = tmpl[(data[0] & 7) % ntmpl];
	d.text[0] = '\0';
	rc = blt_ble_receive(&s, data + 1, size - 1, &o, &d);
	if (rc < 0)
		CHECK(d.text[0] != '\0');
	return 0;
}
