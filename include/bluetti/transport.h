/* transport.h - moves opaque MQTT payloads; knows nothing of Modbus or registers.
 *
 * The MQTT transport (libmosquitto + OpenSSL) does mutual TLS from PKCS#12 bytes held in
 * memory: the PFX is parsed into an SSL_CTX handed to libmosquitto, the private key never
 * touches disk. Server verification with host-name check is on unless insecure is set.
 *
 * Threading: a transport is single-threaded and driven by blt_transport_poll(); handlers
 * run inside poll/connect/subscribe calls on the caller's thread.
 * Ownership: blt_mqtt_new copies everything it needs from the options (the PFX bytes and
 * password can be wiped by the caller right after it returns); blt_transport_free frees.
 */
#ifndef BLUETTI_TRANSPORT_H
#define BLUETTI_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bluetti/bluetti.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct blt_transport blt_transport_t;

typedef struct blt_tls_opts {
	const uint8_t *pfx;        /* PKCS#12 (client certificate + key [+ CA certs]) */
	size_t pfx_len;
	const char *pfx_password;  /* may be "" */
	const char *ca_file;       /* PEM CA bundle; NULL: CA certs inside the PFX, else the
				      system default paths */
	const char *verify_host;   /* name checked against the server certificate; NULL = host */
	bool insecure;             /* skip server verification (logs a warning) */
	const char *ciphers;       /* OpenSSL cipher string; NULL = default */
} blt_tls_opts_t;

typedef struct blt_mqtt_opts {
	const char *host;
	uint16_t port;             /* 0 = 18760 with TLS, 1883 without */
	bool use_tls;
	blt_tls_opts_t tls;
	const char *username;      /* optional; never logged */
	const char *password;      /* optional; never logged */
	const char *client_id;     /* NULL = "bluetti-c-<random hex>" */
	int keepalive_s;           /* 0 = 60 */
	int connect_timeout_ms;    /* 0 = 10000 */
	const char *will_topic;    /* optional last will */
	const char *will_payload;
	bool will_retain;
	int reconnect_min_ms;      /* capped exponential backoff; 0 = 1000 */
	int reconnect_max_ms;      /* 0 = 60000 */
} blt_mqtt_opts_t;

/* Called for every PUBLISH received on a listened topic. */
typedef void (*blt_msg_fn)(void *user, const char *topic, const uint8_t *payload, size_t len,
			   bool retained);
/* Called when the connection comes up (connected = true) or goes down. */
typedef void (*blt_conn_fn)(void *user, bool connected, int err);

/* Create an MQTT transport (no network I/O yet). Errors: BLT_E_CERT_PASSWORD (PKCS#12 MAC
 * check failed), BLT_E_CERT (unparsable PFX, no key, expired certificate), BLT_E_TLS. */
BLT_API int blt_mqtt_new(const blt_mqtt_opts_t *o, blt_transport_t **out, blt_detail_t *d);

/* Connect and wait for CONNACK (up to connect_timeout_ms). Errors: BLT_E_CONNECT,
 * BLT_E_TLS, BLT_E_HOSTNAME (server certificate name mismatch), BLT_E_AUTH (CONNACK
 * refused), BLT_E_TIMEOUT. */
BLT_API int blt_transport_connect(blt_transport_t *t, blt_detail_t *d);

/* Subscribe to topic (QoS 1, waits for SUBACK) and route every message whose topic is
 * exactly `topic` to fn. Several listeners may share a transport (one per device).
 * Subscriptions are renewed after a reconnect. */
BLT_API int blt_transport_listen(blt_transport_t *t, const char *topic, blt_msg_fn fn,
				 void *user, blt_detail_t *d);
BLT_API void blt_transport_unlisten(blt_transport_t *t, const char *topic);
/* Remove only the listener registered as (topic, fn, user), e.g. one of several clients
 * sharing a device topic; the topic is unsubscribed when no listener is left on it. */
BLT_API void blt_transport_unlisten_fn(blt_transport_t *t, const char *topic, blt_msg_fn fn,
				       void *user);

/* Publish (QoS 0/1). With QoS 1 it returns once the message is handed to the broker
 * connection (the PUBACK is awaited in poll). */
BLT_API int blt_transport_publish(blt_transport_t *t, const char *topic, const void *payload,
				  size_t len, int qos, bool retain, blt_detail_t *d);

/* Connection state changes. */
BLT_API void blt_transport_on_connection(blt_transport_t *t, blt_conn_fn fn, void *user);

/* Supplies the MQTT username and password for one connection attempt: write them as
 * NUL-terminated strings into username[username_cap] and password[password_cap] (an empty
 * username means "no credentials"; an empty password sends the username alone). Return
 * BLT_OK, or a negative blt_err_t with a one-line detail (no secret in it): the attempt
 * is then not made and counts as failed (connect returns that error; poll logs it and
 * retries with the usual backoff). Called on the transport's thread, inside connect/poll,
 * right before every connection attempt; it may block (e.g. an HTTPS request), which
 * delays that poll. */
typedef int (*blt_cred_fn)(void *user, char *username, size_t username_cap, char *password,
			   size_t password_cap, blt_detail_t *d);
#define BLT_CRED_USERNAME_MAX 2048 /* username_cap the transport passes */
#define BLT_CRED_PASSWORD_MAX 512  /* password_cap the transport passes */

/* Install (fn != NULL) or remove (fn == NULL) the credentials hook. With a hook, every
 * connect and reconnect logs in with what it supplies at that moment (e.g. a TOTP that is
 * only valid for 30 s), replacing the username/password of the options; the values are
 * never logged and are wiped once handed to libmosquitto. Without one, the options'
 * username/password are used for every attempt (the default). */
BLT_API void blt_transport_on_credentials(blt_transport_t *t, blt_cred_fn fn, void *user);

/* Run network I/O for up to timeout_ms, delivering messages to listeners. When the
 * connection is lost it reconnects with capped exponential backoff (no busy loop);
 * returns BLT_E_DISCONNECTED while down, BLT_OK otherwise. */
BLT_API int blt_transport_poll(blt_transport_t *t, int timeout_ms, blt_detail_t *d);
BLT_API bool blt_transport_connected(const blt_transport_t *t);
/* Publishes handed over by blt_transport_publish and not completed yet (QoS 1: no PUBACK
 * yet; QoS 0: not written yet), counted from the current session's start. A flow-control
 * hint for callers that keep their own queue (the bridge); 0 for transports that do not
 * track it. */
BLT_API size_t blt_transport_pending(const blt_transport_t *t);
BLT_API void blt_transport_disconnect(blt_transport_t *t);
BLT_API void blt_transport_free(blt_transport_t *t);

/* Modbus TCP (LOCAL.md §1.3, §1.5): one persistent TCP connection to a device's Modbus TCP
 * server. publish() takes an RTU frame (bare envelope; the topic is ignored: the connection
 * reaches one device), sends it as an MBAP ADU, and listeners receive the replies as RTU
 * frames, so the client works unchanged. A reply whose transaction id is not that of the
 * last request sent (an earlier request's late answer) is dropped; id 0 is accepted (the
 * firmware's answer to a failed multi-register write). Requests are paced min_gap_ms apart
 * (queued up to 8); a lost connection is closed cleanly and reopened with backoff, never
 * two at once. */
typedef struct blt_mbtcp_opts {
	const char *host;
	uint16_t port;          /* 0 = 502 */
	int connect_timeout_ms; /* 0 = 5000 */
	int min_gap_ms;         /* between two requests; 0 = 1000 (the community's field
				   lesson), -1 = no pacing (tests against the simulator) */
	int reconnect_min_ms;   /* 0 = 2000 */
	int reconnect_max_ms;   /* 0 = 60000 */
} blt_mbtcp_opts_t;

BLT_API int blt_mbtcp_new(const blt_mbtcp_opts_t *o, blt_transport_t **out, blt_detail_t *d);
/* Replies dropped for a stale transaction id (0 for other transports). */
BLT_API uint64_t blt_mbtcp_stale_replies(const blt_transport_t *t);

/* Monotonic milliseconds (CLOCK_MONOTONIC), for timing and timeouts. */
BLT_API uint64_t blt_now_ms(void);

#ifdef __cplusplus
}
#endif

#endif
