/* fake_transport.h - the one in-memory transport of the unit tests (no network).
 *
 * A blt_transport whose listeners, publishes and deliveries a test drives by hand: every
 * publish is recorded (topic, payload, QoS, count), its envelope is checked and the request
 * RTU is handed to the test's script, which answers by queueing messages; poll delivers one
 * queued message per call to the listeners of its topic (or to every listener when the
 * message has no topic). With nothing queued, poll sleeps min(timeout, idle_ms): 0 lets a
 * test drive time itself (blt_client_check_timeouts), a positive value behaves like a quiet
 * network for the blocking calls.
 *
 * Compiled once (CMake object library blt_unit_fake) and linked into the client layer's unit
 * tests; it reaches into src/transport/transport_internal.h for the vtable. */
#ifndef BLT_TEST_FAKE_TRANSPORT_H
#define BLT_TEST_FAKE_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bluetti/bluetti.h>
#include <bluetti/client.h>
#include <bluetti/control.h>
#include <bluetti/modbus.h>

#include "transport/transport_internal.h"

#define FAKE_LISTENERS 8
#define FAKE_QUEUE     32

typedef struct fake_msg {
	char topic[BLT_TOPIC_MAX]; /* "" = every listener */
	uint8_t p[BLT_PAYLOAD_MAX];
	size_t n;
	bool retained;
} fake_msg_t;

typedef struct fake_transport fake_transport_t;

/* Called on every publish with its topic and the request RTU frame (envelope stripped);
 * f->npub is the publish count (1-based), f->pub the whole payload. */
typedef void (*fake_script_fn)(fake_transport_t *f, const char *topic, const uint8_t *rtu,
                               size_t rtu_len);

/* Defines a script with the fake_script_fn signature: f, req_topic, req_rtu, req_len (the
 * ones it does not use are allowed). */
#define FAKE_SCRIPT(name)                                                                          \
	static void name(fake_transport_t *f, __attribute__((unused)) const char *req_topic,       \
	                 __attribute__((unused)) const uint8_t *req_rtu,                           \
	                 __attribute__((unused)) size_t req_len)

struct fake_transport {
	struct blt_transport base; /* first: the library's view */
	struct {
		char topic[BLT_TOPIC_MAX];
		blt_msg_fn fn; /* NULL once unlistened */
		void *user;
	} ls[FAKE_LISTENERS];
	int nls;
	int unlistened; /* unlisten calls that matched a listener */
	/* the last publish */
	char pub_topic[BLT_TOPIC_MAX];
	uint8_t pub[BLT_PAYLOAD_MAX];
	size_t pub_len;
	int pub_qos;
	int npub;
	int fail_publish; /* the next publishes to fail with BLT_E_DISCONNECTED */
	/* settings (fake_transport_init: -60, 0, false, NULL; fake_transport_init_realtime:
	 * idle_ms without bound, drop_on_publish) */
	int8_t rssi;          /* the RSSI of the V2 envelopes fake_queue_* wrap */
	int idle_ms;          /* poll with nothing queued sleeps min(timeout, idle_ms) */
	bool drop_on_publish; /* a publish discards the messages not delivered yet */
	fake_script_fn script;
	void *ctx; /* the test's own state, for its script */
	fake_msg_t q[FAKE_QUEUE];
	int nq, qi;
};

void fake_transport_init(fake_transport_t *f);
/* The same for a device that answers each request in turn: a publish drops the answers not
 * delivered yet, and poll waits like a quiet network (the blocking client calls). */
void fake_transport_init_realtime(fake_transport_t *f);

/* The device's model and serial for fake_client. */
#define FAKE_MODEL "EL100V2"
#define FAKE_SN    "2345678901234"

/* A client of the device FAKE_MODEL with serial sn (NULL: FAKE_SN) on f (preset NULL: the
 * model's), created and started (asserted). */
blt_client_t *fake_client(fake_transport_t *f, const char *sn, const char *preset, int timeout_ms,
                          int retries);

/* Queue a message: rtu wrapped in envelope env (register reg, RSSI f->rssi) for topic (NULL
 * = every listener). */
void fake_queue_env(fake_transport_t *f, const char *topic, blt_envelope_t env, uint16_t reg,
                    const uint8_t *rtu, size_t n, bool retained);

/* Queue an FC03 reply of slave with nregs registers counting up from first, in a V2
 * envelope (register 0). */
void fake_queue_read_reply(fake_transport_t *f, const char *topic, uint8_t slave, uint16_t first,
                           int nregs, bool retained);

/* Deliver every queued message. */
void fake_transport_drain(fake_transport_t *f);

#endif
