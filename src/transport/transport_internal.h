/* transport_internal.h - the transport vtable and the TLS helpers shared inside src/transport.
 * Not installed; not part of the public API. */
#ifndef BLT_TRANSPORT_INTERNAL_H
#define BLT_TRANSPORT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include <bluetti/transport.h>

struct blt_transport_ops {
	int (*connect)(blt_transport_t *t, blt_detail_t *d);
	int (*listen)(blt_transport_t *t, const char *topic, blt_msg_fn fn, void *user,
	              blt_detail_t *d);
	/* fn == NULL: every listener on topic; else only (topic, fn, user). */
	void (*unlisten)(blt_transport_t *t, const char *topic, blt_msg_fn fn, void *user);
	int (*publish)(blt_transport_t *t, const char *topic, const void *payload, size_t len,
	               int qos, bool retain, blt_detail_t *d);
	int (*poll)(blt_transport_t *t, int timeout_ms, blt_detail_t *d);
	bool (*connected)(const blt_transport_t *t);
	void (*disconnect)(blt_transport_t *t);
	void (*destroy)(blt_transport_t *t);
	/* optional: publishes not completed yet (blt_transport_pending); NULL = 0 */
	size_t (*pending)(const blt_transport_t *t);
};

/* Common head of every transport implementation (first member). */
struct blt_transport {
	const struct blt_transport_ops *ops;
	blt_conn_fn conn_fn;
	void *conn_user;
	blt_cred_fn cred_fn; /* blt_transport_on_credentials; NULL = the options' */
	void *cred_user;
	/* blt_transport_info; NULL = the implementation has no such facts */
	int (*info)(const blt_transport_t *t, blt_transport_info_t *out);
};

/* What the TLS callbacks observed during the last handshake (filled through the
 * SSL_CTX ex-data pointer set by blt_tls_ctx_new). The configuration part is set once by
 * blt_tls_ctx_new; blt_tls_diag_reset clears only the per-attempt part. */
typedef struct blt_tls_diag {
	/* configuration (kept across attempts) */
	char host[256];
	int port;
	bool insecure;
	bool pin_record;
	char pin_dir[900];
	char cfg_ciphers[128];
	char cfg_verify_name[256];
	int cfg_security_level;
	/* per attempt */
	long verify_err; /* first X509_V_ERR_* seen that a pin cannot excuse, X509_V_OK if none */
	int verify_depth;
	char verify_subject[128];
	long ca_err; /* first "issuer unknown" error (excused by a matching / recorded pin) */
	int ca_depth;
	char ca_subject[128];
	char alert[64]; /* fatal alert received from the peer, "" if none */
	bool alert_received;
	bool handshake_done; /* our side completed the handshake */
	blt_transport_info_t info;
} blt_tls_diag_t;

/* Load OpenSSL 3's "legacy" (if present) and "default" providers once per process. */
void blt_tls_global_init(void);

/* Build a client SSL_CTX from the TLS options: PKCS#12 parsed in memory (client cert + key,
 * CA certs), server verification per options (with the key pin of pin.c), TLS >= 1.2.
 * host:port is the broker (host is the name checked when verify_host is NULL; host:port
 * names the pin). diag receives handshake diagnostics for the lifetime of the context. */
int blt_tls_ctx_new(const blt_tls_opts_t *o, const char *host, int port, blt_tls_diag_t *diag,
                    SSL_CTX **out, blt_detail_t *d);

/* pin.c: the pin file of host:port in dir; the stored pin (out = "" when none); an atomic
 * 0600 write. 0 or -1 with a one-line reason in err. */
int blt_pin_path(const char *dir, const char *host, int port, char *out, size_t cap, char *err,
                 size_t errcap);
int blt_pin_load(const char *dir, const char *path, char out[65], char *err, size_t errcap);
int blt_pin_save(const char *dir, const char *path, const char *hex, const char *host, int port,
                 char *err, size_t errcap);

/* Reset the diagnostics before a new handshake. */
void blt_tls_diag_reset(blt_tls_diag_t *diag);

/* Map a failed handshake to BLT_E_HOSTNAME / BLT_E_TLS with a precise detail. why is the
 * library's own message for the failure, may be NULL or "". */
int blt_tls_error(const blt_tls_diag_t *diag, const char *host, const char *why, blt_detail_t *d);

#endif
