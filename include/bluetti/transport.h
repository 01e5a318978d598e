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
	const uint8_t *pfx; /* PKCS#12 (client certificate + key [+ CA certs]) */
	size_t pfx_len;
	const char *pfx_password; /* may be "" */
	const char *ca_file;      /* PEM CA bundle; NULL: CA certs inside the PFX, else the
	                             system default paths */
	const char *verify_host;  /* name checked against the server certificate; NULL = host */
	bool insecure;            /* skip server verification (logs a warning) */
	/* OpenSSL cipher string for this connection only (it also carries the security
	 * level, e.g. BLT_TLS_CIPHERS_BLUETTI); NULL = OpenSSL's defaults. Applied before the
	 * client certificate is loaded, so a weak client key passes at a lowered level. */
	const char *ciphers;
	/* Trust on first use: directory holding one pin file per broker host:port (the
	 * SHA-256 of the broker's SubjectPublicKeyInfo; 0700 directory, 0600 files, refused
	 * when group/others can access them). NULL = no pinning. When a pin exists for this
	 * broker, the handshake fails (BLT_E_PIN_MISMATCH, before any MQTT byte is sent)
	 * unless the broker presents that key; a matching pin also stands in for a CA that
	 * is not known (the host name is still checked). */
	const char *pin_dir;
	/* Record the broker's key in pin_dir when no pin exists yet (the chain may then be
	 * signed by an unknown CA; any other verification error still fails). */
	bool pin_record;
} blt_tls_opts_t;

/* The cipher string the Bluetti cloud broker needs: its RSA-1024 / SHA-1 chain (and the
 * RSA-1024 client keys in some PKCS#12 files) are below OpenSSL 3's default security
 * level (EVIDENCE.md §5). Chain and host-name verification stay on. */
#define BLT_TLS_CIPHERS_BLUETTI "DEFAULT:@SECLEVEL=0"

/* True when host is the Bluetti cloud's broker (bluettipower.com or a subdomain). */
BLT_API bool blt_broker_is_bluetti(const char *host);

typedef struct blt_mqtt_opts {
	const char *host;
	uint16_t port; /* 0 = 18760 with TLS, 1883 without */
	bool use_tls;
	blt_tls_opts_t tls;
	const char *username;   /* optional; never logged */
	const char *password;   /* optional; never logged */
	const char *client_id;  /* NULL = "bluetti-c-<random hex>" */
	int keepalive_s;        /* 0 = 60 */
	int connect_timeout_ms; /* 0 = 10000 */
	const char *will_topic; /* optional last will */
	const char *will_payload;
	bool will_retain;
	int reconnect_min_ms; /* capped exponential backoff; 0 = 1000 */
	int reconnect_max_ms; /* 0 = 60000 */
} blt_mqtt_opts_t;

/* Called for every PUBLISH received on a listened topic. */
typedef void (*blt_msg_fn)(void *user, const char *topic, const uint8_t *payload, size_t len,
                           bool retained);
/* Called when the connection comes up (connected = true) or goes down. */
typedef void (*blt_conn_fn)(void *user, bool connected, int err);

/* Create an MQTT transport (no network I/O yet). Errors: BLT_E_CERT_PASSWORD (PKCS#12 MAC
 * check failed), BLT_E_CERT (unparsable PFX, no key, expired certificate), BLT_E_TLS. */
BLT_API blt_err_t blt_mqtt_new(const blt_mqtt_opts_t *o, blt_transport_t **out, blt_detail_t *d);

/* Connect and wait for CONNACK (up to connect_timeout_ms). Errors: BLT_E_CONNECT,
 * BLT_E_TLS, BLT_E_HOSTNAME (server certificate name mismatch), BLT_E_AUTH (CONNACK
 * refused), BLT_E_TIMEOUT. */
BLT_API blt_err_t blt_transport_connect(blt_transport_t *t, blt_detail_t *d);

/* Subscribe to topic (QoS 1, waits for SUBACK) and route every message whose topic is
 * exactly `topic` to fn. Several listeners may share a transport (one per device).
 * Subscriptions are renewed after a reconnect. */
BLT_API blt_err_t blt_transport_listen(blt_transport_t *t, const char *topic, blt_msg_fn fn,
                                       void *user, blt_detail_t *d);
BLT_API void blt_transport_unlisten(blt_transport_t *t, const char *topic);
/* Remove only the listener registered as (topic, fn, user), e.g. one of several clients
 * sharing a device topic; the topic is unsubscribed when no listener is left on it. */
BLT_API void blt_transport_unlisten_fn(blt_transport_t *t, const char *topic, blt_msg_fn fn,
                                       void *user);

/* Publish (QoS 0/1). With QoS 1 it returns once the message is handed to the broker
 * connection (the PUBACK is awaited in poll). */
BLT_API blt_err_t blt_transport_publish(blt_transport_t *t, const char *topic, const void *payload,
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
BLT_API blt_err_t blt_transport_poll(blt_transport_t *t, int timeout_ms, blt_detail_t *d);
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

BLT_API blt_err_t blt_mbtcp_new(const blt_mbtcp_opts_t *o, blt_transport_t **out, blt_detail_t *d);
/* Replies dropped for a stale transaction id (0 for other transports). */
BLT_API uint64_t blt_mbtcp_stale_replies(const blt_transport_t *t);

/* What the last connection attempt saw of the TLS session, for diagnostics (`bluetti
 * doctor`). Valid after blt_transport_connect returned, whether it succeeded or not. */
#define BLT_TLS_CHAIN_MAX 4
typedef enum blt_pin_state {
	BLT_PIN_OFF = 0,  /* no pin directory (or verification disabled) */
	BLT_PIN_NONE,     /* no pin stored for this broker */
	BLT_PIN_MATCH,    /* the broker presented the pinned key */
	BLT_PIN_RECORDED, /* pin_record: the key was recorded on this connection */
	BLT_PIN_MISMATCH, /* the broker presented another key: refused */
	BLT_PIN_ERROR,    /* the pin file could not be read / written (see pin_error) */
} blt_pin_state_t;

typedef struct blt_tls_cert_info {
	char subject[128];
	char issuer[128];
	char key_type[16]; /* "RSA", "EC", "ED25519", ... */
	int key_bits;
	char sig_alg[48];   /* e.g. "sha1WithRSAEncryption" */
	char not_after[32]; /* "YYYY-MM-DD HH:MM:SS UTC" */
} blt_tls_cert_info_t;

typedef struct blt_transport_info {
	bool tls;
	bool tcp_connected;    /* the TCP connection of the last attempt was established */
	bool handshake_done;   /* TLS handshake completed */
	int connack;           /* CONNACK return code; -1 none received */
	char protocol[16];     /* "TLSv1.3" */
	char cipher[64];       /* negotiated cipher suite */
	char ciphers[128];     /* cipher string in use ("" = OpenSSL's defaults) */
	int security_level;    /* OpenSSL security level of the connection */
	bool insecure;         /* server verification was off */
	char verify_name[256]; /* name checked against the certificate ("" = none) */
	long verify_result;    /* X509_V_OK (0) or the X509_V_ERR_* that failed */
	char verify_text[128]; /* OpenSSL's words for verify_result */
	bool ca_unknown;       /* the chain failed only because its CA is not trusted */
	int chain_len;         /* certificates the broker's chain was built from */
	blt_tls_cert_info_t chain[BLT_TLS_CHAIN_MAX]; /* [0] = the broker's own */
	char spki_sha256[65]; /* the broker key's pin (hex), "" if no certificate seen */
	blt_pin_state_t pin_state;
	char pinned[65];     /* the stored pin, "" if none */
	char pin_file[1024]; /* the pin file for this broker ("" = no pin directory) */
	char pin_error[160]; /* why the pin file was unusable (BLT_PIN_ERROR) */
} blt_transport_info_t;

/* Copy what the last connection attempt of t saw into out. BLT_E_INVAL for a transport
 * without such facts. */
BLT_API int blt_transport_info(const blt_transport_t *t, blt_transport_info_t *out);

/* What a PKCS#12 file holds (for diagnostics): the client certificate and the CA
 * certificates inside. The file is opened with the password (errors as blt_mqtt_new:
 * BLT_E_CERT_PASSWORD, BLT_E_CERT); an expired certificate is reported, not an error. */
typedef struct blt_pfx_info {
	blt_tls_cert_info_t cert; /* the client certificate */
	char not_before[32];
	long days_left; /* whole days until notAfter (negative: expired) */
	bool valid_now;
	int ca_count; /* CA certificates inside */
	blt_tls_cert_info_t ca[BLT_TLS_CHAIN_MAX];
} blt_pfx_info_t;
BLT_API blt_err_t blt_tls_pfx_info(const uint8_t *pfx, size_t len, const char *password,
                                   blt_pfx_info_t *out, blt_detail_t *d);

/* Monotonic milliseconds (CLOCK_MONOTONIC), for timing and timeouts. */
BLT_API uint64_t blt_now_ms(void);

#ifdef __cplusplus
}
#endif

#endif
