/* it_watch.h - an MQTT watcher for the integration tests: a plain client on a loopback
 * broker that keeps, per topic, the last payload, a count and the arrival times, and waits
 * for payloads or for values in the bridge's JSON state documents. Compiled once
 * (it_watch.c; libmosquitto + cJSON) for the tests that watch the bridge's broker. */
#ifndef BLT_IT_WATCH_H
#define BLT_IT_WATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mosquitto.h>

#define IT_WATCH_MAX 4096 /* topics kept; later new topics are ignored */

typedef struct it_msg {
	char topic[256];
	char *payload; /* the last one, NUL-terminated */
	unsigned count;
	uint64_t at, max_gap; /* last arrival; longest gap between arrivals (ms) */
} it_msg_t;

typedef struct it_watch {
	struct mosquitto *m; /* to publish with, or to loop */
	it_msg_t *msgs;      /* in order of first arrival */
	size_t n;
	/* optional: called after every message is stored */
	void (*on_msg)(const it_msg_t *x, void *user);
	void *user;
} it_watch_t;

/* Connect client_id to 127.0.0.1:port and subscribe to topics (NULL-terminated; NULL =
 * "#"). mosquitto_lib_init() must have been called. 0, or -1 (w is then stopped). */
int it_watch_start(it_watch_t *w, const char *client_id, uint16_t port, const char *const *topics);
/* Disconnect and free what was kept (w can be started again). */
void it_watch_stop(it_watch_t *w);

it_msg_t *it_watch_find(it_watch_t *w, const char *topic);
const char *it_watch_payload(it_watch_t *w, const char *topic); /* NULL: none yet */
unsigned it_watch_count(it_watch_t *w, const char *topic);

/* Run the client's loop for ms. */
void it_watch_pump(it_watch_t *w, int ms);
/* Pump until topic carries exactly want, or ms elapse. */
bool it_watch_wait_payload(it_watch_t *w, const char *topic, const char *want, int ms);

/* The value of key in the JSON document of topic bluetti/<id>/state, as text ("null" when
 * null, numbers with %g); false when there is no such key. */
bool it_watch_state_value(it_watch_t *w, const char *id, const char *key, char *out, size_t cap);
/* Pump until key in the state of id equals want (want NULL: is present and not null). */
bool it_watch_wait_state(it_watch_t *w, const char *id, const char *key, const char *want, int ms);

#endif
