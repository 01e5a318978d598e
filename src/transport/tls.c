/* TLS context for the MQTT transport: PKCS#12 parsed in memory (the key never touches
 * disk), server verification with our own host-name check (libmosquitto 2.0.11 does not
 * check the name when it is handed a ready SSL_CTX), TLS >= 1.2, and diagnostics from the
 * verify / info callbacks so handshake failures map to precise errors. */
#include <arpa/inet.h>
#include <limits.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <bluetti/bluetti.h>

#include "transport/transport_internal.h"

static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static pthread_once_t legacy_once = PTHREAD_ONCE_INIT;
static int diag_index = -1;
static OSSL_PROVIDER *prov_legacy, *prov_default;

/* Our provider references would keep OpenSSL's own exit-time cleanup from freeing them
 * (leak reports); this atexit handler runs before OpenSSL's (registered earlier). */
static void tls_unload_providers(void)
{
	if (prov_legacy)
		OSSL_PROVIDER_unload(prov_legacy);
	if (prov_default)
		OSSL_PROVIDER_unload(prov_default);
	prov_legacy = prov_default = NULL;
}

static void tls_init_once(void)
{
	/* Make sure OpenSSL's atexit cleanup is registered before ours. */
	OPENSSL_init_ssl(0, NULL);
	/* Loading any provider explicitly stops OpenSSL from loading "default" implicitly,
	 * and the legacy one may be loaded later (tls_load_legacy): load "default" now. */
	prov_default = OSSL_PROVIDER_load(NULL, "default");
	if (!prov_default)
		ERR_clear_error();
	atexit(tls_unload_providers);
	diag_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

static void legacy_init_once(void)
{
	prov_legacy = OSSL_PROVIDER_load(NULL, "legacy");
	if (!prov_legacy) {
		ERR_clear_error();
		blt_log(BLT_LOG_DEBUG, "tls: OpenSSL legacy provider not available; "
		                       "RC2/3DES PKCS#12 files will not open");
	}
}

/* OpenSSL's legacy provider (RC2 and other algorithms of old PKCS#12 files) is loaded only
 * when a PKCS#12 file needs it: a process that never meets one does not map legacy.so
 * (docs/performance.md, "Footprint"). */
static void tls_load_legacy(void)
{
	pthread_once(&legacy_once, legacy_init_once);
}

void blt_tls_global_init(void)
{
	pthread_once(&tls_once, tls_init_once);
}

void blt_tls_diag_reset(blt_tls_diag_t *diag)
{
	size_t off = offsetof(blt_tls_diag_t, verify_err);
	blt_transport_info_t *i = &diag->info;

	memset((char *)diag + off, 0, sizeof *diag - off);
	diag->verify_err = X509_V_OK;
	diag->ca_err = X509_V_OK;
	i->tls = true;
	i->connack = -1;
	i->insecure = diag->insecure;
	i->security_level = diag->cfg_security_level;
	snprintf(i->ciphers, sizeof i->ciphers, "%s", diag->cfg_ciphers);
	snprintf(i->verify_name, sizeof i->verify_name, "%s", diag->cfg_verify_name);
	i->pin_state = diag->pin_dir[0] && !diag->insecure ? BLT_PIN_NONE : BLT_PIN_OFF;
	if (diag->pin_dir[0] &&
	    blt_pin_path(diag->pin_dir, diag->host, diag->port, i->pin_file, sizeof i->pin_file,
	                 i->pin_error, sizeof i->pin_error) != 0) {
		i->pin_file[0] = '\0';
		i->pin_state = BLT_PIN_ERROR;
	}
}

/* Last OpenSSL error as text (drains the queue). */
static const char *ossl_err(char *buf, size_t cap)
{
	unsigned long e, last = 0;
	while ((e = ERR_get_error()) != 0)
		last = e;
	if (!last)
		snprintf(buf, cap, "no OpenSSL error recorded");
	else
		ERR_error_string_n(last, buf, cap);
	return buf;
}

static blt_tls_diag_t *diag_of_ssl(const SSL *ssl)
{
	SSL_CTX *ctx = SSL_get_SSL_CTX(ssl);
	return ctx && diag_index >= 0 ? SSL_CTX_get_ex_data(ctx, diag_index) : NULL;
}

/* Errors that only say "the CA is not one we know": a pin may stand in for the CA. */
static bool ca_unknown_err(long e)
{
	return e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
	       e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
	       e == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT ||
	       e == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
	       e == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE || e == X509_V_ERR_CERT_UNTRUSTED;
}

/* Every verification error is recorded and the chain walk continues, so the decision in
 * app_verify sees the whole picture (an unknown CA and a wrong name at once, say). */
static int verify_cb(int ok, X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	blt_tls_diag_t *diag = ssl ? diag_of_ssl(ssl) : NULL;
	X509 *cert;
	long e;

	if (ok || !diag)
		return ok;
	cert = X509_STORE_CTX_get_current_cert(x);
	e = X509_STORE_CTX_get_error(x);
	if (ca_unknown_err(e)) {
		if (diag->ca_err == X509_V_OK) {
			diag->ca_err = e;
			diag->ca_depth = X509_STORE_CTX_get_error_depth(x);
			diag->ca_subject[0] = '\0';
			if (cert)
				X509_NAME_oneline(X509_get_subject_name(cert), diag->ca_subject,
				                  sizeof diag->ca_subject);
		}
	} else if (diag->verify_err == X509_V_OK) {
		diag->verify_err = e;
		diag->verify_depth = X509_STORE_CTX_get_error_depth(x);
		diag->verify_subject[0] = '\0';
		if (cert)
			X509_NAME_oneline(X509_get_subject_name(cert), diag->verify_subject,
			                  sizeof diag->verify_subject);
	}
	return 1;
}

static void fmt_time(const ASN1_TIME *t, char *out, size_t cap);

static void cert_info(X509 *c, blt_tls_cert_info_t *ci)
{
	EVP_PKEY *k = X509_get0_pubkey(c);
	const char *tn = k ? EVP_PKEY_get0_type_name(k) : NULL;
	int nid = X509_get_signature_nid(c);

	X509_NAME_oneline(X509_get_subject_name(c), ci->subject, sizeof ci->subject);
	X509_NAME_oneline(X509_get_issuer_name(c), ci->issuer, sizeof ci->issuer);
	snprintf(ci->key_type, sizeof ci->key_type, "%s", tn ? tn : "?");
	ci->key_bits = k ? EVP_PKEY_get_bits(k) : 0;
	snprintf(ci->sig_alg, sizeof ci->sig_alg, "%s",
	         nid != NID_undef && OBJ_nid2ln(nid) ? OBJ_nid2ln(nid) : "?");
	fmt_time(X509_get0_notAfter(c), ci->not_after, sizeof ci->not_after);
}

static void spki_sha256(X509 *c, char out[65])
{
	unsigned char *der = NULL, md[32];
	unsigned int mdlen = 0;
	int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(c), &der);

	out[0] = '\0';
	if (n > 0 && EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) && mdlen == 32)
		for (int i = 0; i < 32; i++)
			snprintf(out + 2 * i, 3, "%02x", md[i]);
	OPENSSL_free(der);
	ERR_clear_error();
}

static int app_fail(X509_STORE_CTX *x, blt_tls_diag_t *diag, long e)
{
	diag->info.verify_result = e;
	snprintf(diag->info.verify_text, sizeof diag->info.verify_text, "%s",
	         X509_verify_cert_error_string(e));
	X509_STORE_CTX_set_error(x, (int)e);
	return 0;
}

/* The whole server-certificate decision: the chain (verify_cb records every error), then
 * the key pin. Runs inside the handshake, so a refused key never sees an MQTT CONNECT. */
static int app_verify(X509_STORE_CTX *x, void *arg)
{
	blt_tls_diag_t *diag = arg;
	blt_transport_info_t *i = &diag->info;
	STACK_OF(X509) * chain;
	X509 *leaf = X509_STORE_CTX_get0_cert(x);
	int n;

	X509_verify_cert(x);
	ERR_clear_error();
	chain = X509_STORE_CTX_get0_chain(x);
	n = chain ? sk_X509_num(chain) : 0;
	i->chain_len = n;
	for (int k = 0; k < n && k < BLT_TLS_CHAIN_MAX; k++)
		cert_info(sk_X509_value(chain, k), &i->chain[k]);
	if (!n && leaf) {
		i->chain_len = 1;
		cert_info(leaf, &i->chain[0]);
	}
	if (leaf)
		spki_sha256(leaf, i->spki_sha256);
	i->verify_result = diag->verify_err != X509_V_OK ? diag->verify_err : diag->ca_err;
	i->ca_unknown = diag->verify_err == X509_V_OK && diag->ca_err != X509_V_OK;
	snprintf(i->verify_text, sizeof i->verify_text, "%s",
	         X509_verify_cert_error_string(i->verify_result));
	if (diag->insecure)
		return 1; /* informational only; the warning was logged at setup */
	if (!i->spki_sha256[0])
		return app_fail(x, diag, X509_V_ERR_UNSPECIFIED);

	if (i->pin_state == BLT_PIN_ERROR)
		return app_fail(x, diag, X509_V_ERR_APPLICATION_VERIFICATION);
	if (i->pin_file[0] && blt_pin_load(diag->pin_dir, i->pin_file, i->pinned, i->pin_error,
	                                   sizeof i->pin_error) != 0) {
		i->pin_state = BLT_PIN_ERROR;
		return app_fail(x, diag, X509_V_ERR_APPLICATION_VERIFICATION);
	}
	if (i->pinned[0] && strcmp(i->pinned, i->spki_sha256) != 0) {
		i->pin_state = BLT_PIN_MISMATCH;
		return app_fail(x, diag, X509_V_ERR_APPLICATION_VERIFICATION);
	}
	if (diag->verify_err != X509_V_OK)
		return app_fail(x, diag, diag->verify_err);
	if (i->pinned[0]) {
		i->pin_state = BLT_PIN_MATCH;
		return 1; /* a matching pin stands in for an unknown CA */
	}
	if (!diag->pin_record)
		return diag->ca_err != X509_V_OK ? app_fail(x, diag, diag->ca_err) : 1;
	if (!i->pin_file[0]) {
		snprintf(i->pin_error, sizeof i->pin_error,
		         "no pin directory to record the key in");
		i->pin_state = BLT_PIN_ERROR;
		return app_fail(x, diag, X509_V_ERR_APPLICATION_VERIFICATION);
	}
	if (blt_pin_save(diag->pin_dir, i->pin_file, i->spki_sha256, diag->host, diag->port,
	                 i->pin_error, sizeof i->pin_error) != 0) {
		i->pin_state = BLT_PIN_ERROR;
		return app_fail(x, diag, X509_V_ERR_APPLICATION_VERIFICATION);
	}
	snprintf(i->pinned, sizeof i->pinned, "%s", i->spki_sha256);
	i->pin_state = BLT_PIN_RECORDED;
	blt_log(BLT_LOG_INFO, "tls: pinned the key of %s:%d (sha256 %s) in %s", diag->host,
	        diag->port, i->spki_sha256, i->pin_file);
	return 1;
}

static void info_cb(const SSL *ssl, int where, int ret)
{
	blt_tls_diag_t *diag;

	if (where & SSL_CB_HANDSHAKE_DONE) {
		diag = diag_of_ssl(ssl);
		if (diag) {
			diag->handshake_done = true;
			diag->info.handshake_done = true;
			snprintf(diag->info.protocol, sizeof diag->info.protocol, "%s",
			         SSL_get_version(ssl));
			snprintf(diag->info.cipher, sizeof diag->info.cipher, "%s",
			         SSL_get_cipher_name(ssl) ? SSL_get_cipher_name(ssl) : "?");
		}
		return;
	}
	if (!(where & SSL_CB_ALERT) || !(where & SSL_CB_READ))
		return;
	/* A close_notify is an orderly shutdown, not a rejection. */
	if ((ret & 0xff) == SSL_AD_CLOSE_NOTIFY)
		return;
	diag = diag_of_ssl(ssl);
	if (!diag || diag->alert_received)
		return;
	diag->alert_received = true;
	snprintf(diag->alert, sizeof diag->alert, "%s", SSL_alert_desc_string_long(ret));
}

static void fmt_time(const ASN1_TIME *t, char *out, size_t cap)
{
	struct tm tm;
	if (!t || !ASN1_TIME_to_tm(t, &tm) || !strftime(out, cap, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(out, cap, "?");
}

/* Validity window of the client certificate, checked before any connection attempt. */
static int check_validity(X509 *cert, blt_detail_t *d)
{
	const ASN1_TIME *nb = X509_get0_notBefore(cert), *na = X509_get0_notAfter(cert);
	char from[40], to[40];

	fmt_time(nb, from, sizeof from);
	fmt_time(na, to, sizeof to);
	if (X509_cmp_current_time(na) < 0)
		return blt_detail_set(d, BLT_E_CERT, "client certificate expired: valid %s .. %s",
		                      from, to);
	if (X509_cmp_current_time(nb) > 0)
		return blt_detail_set(d, BLT_E_CERT,
		                      "client certificate not yet valid: valid %s .. %s", from, to);
	return BLT_OK;
}

/* Verify the PKCS#12 MAC first: a failure there is a wrong password, anything later is a
 * damaged or unsupported file. An empty password is tried as both "" and NULL (the two
 * encodings PKCS#12 writers use). */
static int p12_check_mac(PKCS12 *p12, const char *pass, blt_detail_t *d)
{
	char eb[160];
	unsigned long e;

	if (!PKCS12_mac_present(p12))
		return BLT_OK;
	ERR_clear_error();
	if (PKCS12_verify_mac(p12, pass, -1))
		return BLT_OK;
	if (!pass[0] && PKCS12_verify_mac(p12, NULL, 0)) {
		ERR_clear_error();
		return BLT_OK;
	}
	/* OpenSSL 3 reports a plain MAC mismatch with no error queued; a MAC it cannot even
	 * compute (unknown digest) queues an error. */
	e = ERR_peek_last_error();
	if (e == 0 || (ERR_GET_LIB(e) == ERR_LIB_PKCS12 &&
	               ERR_GET_REASON(e) == PKCS12_R_MAC_VERIFY_FAILURE)) {
		ERR_clear_error();
		return blt_detail_set(
		    d, BLT_E_CERT_PASSWORD,
		    "PKCS#12 MAC verification failed: wrong certificate password");
	}
	return blt_detail_set(d, BLT_E_CERT, "cannot verify the PKCS#12 MAC: %s",
	                      ossl_err(eb, sizeof eb));
}

typedef struct p12_parts {
	EVP_PKEY *key;
	X509 *cert;
	STACK_OF(X509) * ca;
} p12_parts_t;

static void p12_parts_free(p12_parts_t *p)
{
	EVP_PKEY_free(p->key);
	X509_free(p->cert);
	sk_X509_pop_free(p->ca, X509_free);
	memset(p, 0, sizeof *p);
}

/* PKCS12_parse; a file with RC2 or another old algorithm fails without OpenSSL's legacy
 * provider, so a failure is tried again with it loaded (or, when it cannot be loaded, again
 * without it, which leaves the reason in the error queue). */
static bool p12_parse(PKCS12 *p12, const char *pass, p12_parts_t *parts)
{
	if (PKCS12_parse(p12, pass, &parts->key, &parts->cert, &parts->ca) == 1)
		return true;
	p12_parts_free(parts);
	ERR_clear_error();
	tls_load_legacy();
	return PKCS12_parse(p12, pass, &parts->key, &parts->cert, &parts->ca) == 1;
}

static int p12_load(const blt_tls_opts_t *o, p12_parts_t *parts, bool check_time, blt_detail_t *d)
{
	const unsigned char *p = o->pfx;
	const char *pass = o->pfx_password ? o->pfx_password : "";
	PKCS12 *p12;
	char eb[160];
	int rc;

	if (o->pfx_len == 0 || o->pfx_len > (size_t)LONG_MAX)
		return blt_detail_set(d, BLT_E_CERT, "PKCS#12 data is empty");
	ERR_clear_error();
	p12 = d2i_PKCS12(NULL, &p, (long)o->pfx_len);
	if (!p12)
		return blt_detail_set(d, BLT_E_CERT,
		                      "not a PKCS#12 file (%zu bytes, DER parse failed: %s)",
		                      o->pfx_len, ossl_err(eb, sizeof eb));
	rc = p12_check_mac(p12, pass, d);
	if (rc == BLT_OK && !p12_parse(p12, pass, parts)) {
		const char *why = ossl_err(eb, sizeof eb);
		rc =
		    blt_detail_set(d, BLT_E_CERT, "cannot decrypt the PKCS#12 contents (%s)%s", why,
		                   strstr(why, "unsupported") ? "; legacy RC2/3DES files need "
		                                                "OpenSSL's legacy provider"
		                                              : "");
	}
	PKCS12_free(p12);
	if (rc != BLT_OK) {
		p12_parts_free(parts);
		return rc;
	}
	if (!parts->key) {
		p12_parts_free(parts);
		return blt_detail_set(d, BLT_E_CERT, "PKCS#12 file holds no private key");
	}
	if (!parts->cert) {
		p12_parts_free(parts);
		return blt_detail_set(d, BLT_E_CERT, "PKCS#12 file holds no client certificate");
	}
	if (X509_check_private_key(parts->cert, parts->key) != 1) {
		ERR_clear_error();
		p12_parts_free(parts);
		return blt_detail_set(d, BLT_E_CERT,
		                      "PKCS#12 private key does not match its certificate");
	}
	rc = check_time ? check_validity(parts->cert, d) : BLT_OK;
	if (rc != BLT_OK)
		p12_parts_free(parts);
	return rc;
}

static bool is_ip_literal(const char *h)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, h, buf) == 1 || inet_pton(AF_INET6, h, buf) == 1;
}

static int setup_verify(SSL_CTX *ctx, const blt_tls_opts_t *o, const char *host,
                        STACK_OF(X509) * pfx_ca, blt_tls_diag_t *diag, blt_detail_t *d)
{
	const char *name = o->verify_host ? o->verify_host : host;
	X509_VERIFY_PARAM *param = SSL_CTX_get0_param(ctx);
	char eb[160];

	SSL_CTX_set_cert_verify_callback(ctx, app_verify, diag);
	if (o->insecure) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, verify_cb);
		blt_log(BLT_LOG_WARN,
		        "tls: server certificate verification disabled (insecure) "
		        "for %s: the broker's identity is not checked",
		        host ? host : "?");
		return BLT_OK;
	}
	if (o->ca_file) {
		if (SSL_CTX_load_verify_locations(ctx, o->ca_file, NULL) != 1)
			return blt_detail_set(d, BLT_E_CERT, "cannot load CA file %s: %s",
			                      o->ca_file, ossl_err(eb, sizeof eb));
	} else if (pfx_ca && sk_X509_num(pfx_ca) > 0) {
		X509_STORE *store = SSL_CTX_get_cert_store(ctx);
		for (int i = 0; i < sk_X509_num(pfx_ca); i++)
			if (X509_STORE_add_cert(store, sk_X509_value(pfx_ca, i)) != 1)
				ERR_clear_error(); /* duplicate: harmless */
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		return blt_detail_set(d, BLT_E_TLS, "cannot load the system CA certificates: %s",
		                      ossl_err(eb, sizeof eb));
	}
	if (!name || !name[0])
		return blt_detail_set(d, BLT_E_INVAL, "no host name to verify the server against");
	snprintf(diag->cfg_verify_name, sizeof diag->cfg_verify_name, "%s", name);
	if (is_ip_literal(name)) {
		if (X509_VERIFY_PARAM_set1_ip_asc(param, name) != 1)
			return blt_detail_set(d, BLT_E_INVAL, "bad IP address '%s'", name);
	} else {
		X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		if (X509_VERIFY_PARAM_set1_host(param, name, 0) != 1)
			return blt_detail_set(d, BLT_E_INVAL, "bad host name for verification");
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_cb);
	return BLT_OK;
}

/* A key below the security level: say which knob lowers it. */
static const char *weak_hint(const char *why)
{
	return why && (strstr(why, "too small") || strstr(why, "too weak"))
	           ? " (below OpenSSL's security level: the cipher string "
	             "\"" BLT_TLS_CIPHERS_BLUETTI "\" lowers it for this broker only)"
	           : "";
}

int blt_tls_ctx_new(const blt_tls_opts_t *o, const char *host, int port, blt_tls_diag_t *diag,
                    SSL_CTX **out, blt_detail_t *d)
{
	p12_parts_t parts = {0};
	SSL_CTX *ctx;
	char eb[160];
	int rc;

	*out = NULL;
	blt_tls_global_init();
	memset(diag, 0, sizeof *diag);
	snprintf(diag->host, sizeof diag->host, "%s", host ? host : "");
	diag->port = port;
	diag->insecure = o->insecure;
	diag->pin_record = o->pin_record && !o->insecure;
	if (o->pin_dir && o->pin_dir[0]) {
		if (strlen(o->pin_dir) >= sizeof diag->pin_dir)
			return blt_detail_set(d, BLT_E_CONFIG, "pin directory path too long");
		snprintf(diag->pin_dir, sizeof diag->pin_dir, "%s", o->pin_dir);
	} else if (diag->pin_record) {
		return blt_detail_set(d, BLT_E_CONFIG,
		                      "recording a broker pin needs a pin directory");
	}
	if (o->ciphers)
		snprintf(diag->cfg_ciphers, sizeof diag->cfg_ciphers, "%s", o->ciphers);
	if (o->pfx) {
		rc = p12_load(o, &parts, true, d);
		if (rc != BLT_OK)
			return rc;
	}
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		p12_parts_free(&parts);
		return blt_detail_set(d, BLT_E_NOMEM, "SSL_CTX_new failed: %s",
		                      ossl_err(eb, sizeof eb));
	}
	rc = BLT_OK;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
		rc = blt_detail_set(d, BLT_E_TLS, "cannot require TLS >= 1.2");
	if (rc == BLT_OK && o->ciphers && SSL_CTX_set_cipher_list(ctx, o->ciphers) != 1)
		rc = blt_detail_set(d, BLT_E_CONFIG, "bad cipher string '%s': %s", o->ciphers,
		                    ossl_err(eb, sizeof eb));
	/* The security level comes with the cipher string, set above: it must be in place
	 * before the client certificate is loaded, which checks the key against it. */
	diag->cfg_security_level = SSL_CTX_get_security_level(ctx);
	if (rc == BLT_OK && parts.cert) {
		if (SSL_CTX_use_certificate(ctx, parts.cert) != 1 ||
		    SSL_CTX_use_PrivateKey(ctx, parts.key) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1) {
			const char *why = ossl_err(eb, sizeof eb);
			rc = blt_detail_set(d, BLT_E_CERT,
			                    "client certificate rejected by OpenSSL: %s%s", why,
			                    weak_hint(why));
		}
		/* Intermediates carried in the PFX go out with our certificate. */
		for (int i = 0; rc == BLT_OK && parts.ca && i < sk_X509_num(parts.ca); i++) {
			X509 *c = sk_X509_value(parts.ca, i);
			if (X509_check_issued(c, c) != X509_V_OK &&
			    SSL_CTX_add1_chain_cert(ctx, c) != 1)
				ERR_clear_error();
		}
	}
	if (rc == BLT_OK)
		rc = setup_verify(ctx, o, host, parts.ca, diag, d);
	if (rc == BLT_OK && SSL_CTX_set_ex_data(ctx, diag_index, diag) != 1)
		rc = blt_detail_set(d, BLT_E_NOMEM, "SSL_CTX_set_ex_data failed");
	p12_parts_free(&parts); /* the SSL_CTX holds its own references */
	if (rc != BLT_OK) {
		SSL_CTX_free(ctx);
		return rc;
	}
	SSL_CTX_set_info_callback(ctx, info_cb);
	blt_tls_diag_reset(diag);
	*out = ctx;
	return BLT_OK;
}

int blt_tls_error(const blt_tls_diag_t *diag, const char *host, const char *why, blt_detail_t *d)
{
	const blt_transport_info_t *i = &diag->info;

	if (i->pin_state == BLT_PIN_MISMATCH)
		return blt_detail_set(d, BLT_E_PIN_MISMATCH,
		                      "broker %s:%d presents key sha256:%s, pinned sha256:%s", host,
		                      diag->port, i->spki_sha256, i->pinned);
	if (i->pin_state == BLT_PIN_ERROR && i->pin_error[0])
		return blt_detail_set(d, BLT_E_CONFIG, "broker key pin: %s", i->pin_error);
	if (diag->verify_err == X509_V_ERR_HOSTNAME_MISMATCH ||
	    diag->verify_err == X509_V_ERR_IP_ADDRESS_MISMATCH)
		return blt_detail_set(d, BLT_E_HOSTNAME,
		                      "server certificate %s does not match '%s' (%s)",
		                      diag->verify_subject[0] ? diag->verify_subject : "?",
		                      i->verify_name[0] ? i->verify_name : host,
		                      X509_verify_cert_error_string(diag->verify_err));
	if (diag->verify_err != X509_V_OK) {
		const char *e = X509_verify_cert_error_string(diag->verify_err);
		return blt_detail_set(
		    d, BLT_E_TLS, "server certificate not trusted: %s (depth %d, %s)%s", e,
		    diag->verify_depth, diag->verify_subject[0] ? diag->verify_subject : "?",
		    weak_hint(e));
	}
	if (diag->ca_err != X509_V_OK)
		return blt_detail_set(d, BLT_E_TLS,
		                      "server certificate not trusted: %s (depth %d, %s): its CA "
		                      "is unknown; broker key sha256:%s",
		                      X509_verify_cert_error_string(diag->ca_err), diag->ca_depth,
		                      diag->ca_subject[0] ? diag->ca_subject : "?",
		                      i->spki_sha256[0] ? i->spki_sha256 : "?");
	if (diag->alert_received)
		return blt_detail_set(d, BLT_E_TLS,
		                      "broker aborted the TLS session with alert '%s' (client "
		                      "certificate not accepted?)",
		                      diag->alert);
	if (diag->handshake_done)
		/* TLS 1.3: the server checks our certificate after we consider the handshake
		 * done; its alert is often lost when it resets the connection. */
		return blt_detail_set(d, BLT_E_TLS,
		                      "broker %s closed the connection after the TLS handshake, "
		                      "before CONNACK (client certificate not accepted?)",
		                      host);
	return blt_detail_set(d, BLT_E_TLS, "TLS handshake with %s failed%s%s%s", host,
	                      why && why[0] ? ": " : "", why ? why : "",
	                      why && strstr(why, "unexpected eof") ? " (not a TLS listener?)" : "");
}

blt_err_t blt_tls_pfx_info(const uint8_t *pfx, size_t len, const char *password,
                           blt_pfx_info_t *out, blt_detail_t *d)
{
	blt_tls_opts_t o;
	p12_parts_t parts = {0};
	int rc, days = 0, secs = 0;

	if (!pfx || !out)
		return blt_detail_set(d, BLT_E_INVAL, "no PKCS#12 data");
	memset(out, 0, sizeof *out);
	memset(&o, 0, sizeof o);
	o.pfx = pfx;
	o.pfx_len = len;
	o.pfx_password = password ? password : "";
	blt_tls_global_init();
	rc = p12_load(&o, &parts, false, d);
	if (rc != BLT_OK)
		return rc;
	cert_info(parts.cert, &out->cert);
	fmt_time(X509_get0_notBefore(parts.cert), out->not_before, sizeof out->not_before);
	if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(parts.cert)))
		out->days_left = days;
	out->valid_now = X509_cmp_current_time(X509_get0_notAfter(parts.cert)) > 0 &&
	                 X509_cmp_current_time(X509_get0_notBefore(parts.cert)) < 0;
	out->ca_count = parts.ca ? sk_X509_num(parts.ca) : 0;
	for (int i = 0; i < out->ca_count && i < BLT_TLS_CHAIN_MAX; i++)
		cert_info(sk_X509_value(parts.ca, i), &out->ca[i]);
	p12_parts_free(&parts);
	ERR_clear_error();
	return BLT_OK;
}
