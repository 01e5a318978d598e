/* TLS context for the MQTT transport: PKCS#12 parsed in memory (the key never touches
 * disk), server verification with our own host-name check (libmosquitto 2.0.11 does not
 * check the name when it is handed a ready SSL_CTX), TLS >= 1.2, and diagnostics from the
 * verify / info callbacks so handshake failures map to precise errors. */
#include <arpa/inet.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <bluetti/bluetti.h>

#include "transport/transport_internal.h"

static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
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
	 * so load both; old RC2/3DES PFX files need "legacy". Missing legacy is not fatal. */
	prov_legacy = OSSL_PROVIDER_load(NULL, "legacy");
	if (!prov_legacy) {
		ERR_clear_error();
		blt_log(BLT_LOG_DEBUG, "tls: OpenSSL legacy provider not available; "
		                       "RC2/3DES PKCS#12 files will not open");
	}
	prov_default = OSSL_PROVIDER_load(NULL, "default");
	if (!prov_default)
		ERR_clear_error();
	atexit(tls_unload_providers);
	diag_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

void blt_tls_global_init(void)
{
	pthread_once(&tls_once, tls_init_once);
}

void blt_tls_diag_reset(blt_tls_diag_t *diag)
{
	memset(diag, 0, sizeof *diag);
	diag->verify_err = X509_V_OK;
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

static int verify_cb(int ok, X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
	blt_tls_diag_t *diag = ssl ? diag_of_ssl(ssl) : NULL;

	if (!ok && diag && diag->verify_err == X509_V_OK) {
		X509 *cert = X509_STORE_CTX_get_current_cert(x);
		diag->verify_err = X509_STORE_CTX_get_error(x);
		diag->verify_depth = X509_STORE_CTX_get_error_depth(x);
		diag->verify_subject[0] = '\0';
		if (cert)
			X509_NAME_oneline(X509_get_subject_name(cert), diag->verify_subject,
			                  sizeof diag->verify_subject);
	}
	return ok;
}

static void info_cb(const SSL *ssl, int where, int ret)
{
	blt_tls_diag_t *diag;

	if (where & SSL_CB_HANDSHAKE_DONE) {
		diag = diag_of_ssl(ssl);
		if (diag)
			diag->handshake_done = true;
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

static int p12_load(const blt_tls_opts_t *o, p12_parts_t *parts, blt_detail_t *d)
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
	if (rc == BLT_OK && !PKCS12_parse(p12, pass, &parts->key, &parts->cert, &parts->ca)) {
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
	rc = check_validity(parts->cert, d);
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
                        STACK_OF(X509) * pfx_ca, blt_detail_t *d)
{
	const char *name = o->verify_host ? o->verify_host : host;
	X509_VERIFY_PARAM *param = SSL_CTX_get0_param(ctx);
	char eb[160];

	if (o->insecure) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
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

int blt_tls_ctx_new(const blt_tls_opts_t *o, const char *host, blt_tls_diag_t *diag, SSL_CTX **out,
                    blt_detail_t *d)
{
	p12_parts_t parts = {0};
	SSL_CTX *ctx;
	char eb[160];
	int rc;

	*out = NULL;
	blt_tls_global_init();
	blt_tls_diag_reset(diag);
	if (o->pfx) {
		rc = p12_load(o, &parts, d);
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
	if (rc == BLT_OK && parts.cert) {
		if (SSL_CTX_use_certificate(ctx, parts.cert) != 1 ||
		    SSL_CTX_use_PrivateKey(ctx, parts.key) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1)
			rc = blt_detail_set(d, BLT_E_CERT,
			                    "client certificate rejected by OpenSSL: %s",
			                    ossl_err(eb, sizeof eb));
		/* Intermediates carried in the PFX go out with our certificate. */
		for (int i = 0; rc == BLT_OK && parts.ca && i < sk_X509_num(parts.ca); i++) {
			X509 *c = sk_X509_value(parts.ca, i);
			if (X509_check_issued(c, c) != X509_V_OK &&
			    SSL_CTX_add1_chain_cert(ctx, c) != 1)
				ERR_clear_error();
		}
	}
	if (rc == BLT_OK)
		rc = setup_verify(ctx, o, host, parts.ca, d);
	if (rc == BLT_OK && SSL_CTX_set_ex_data(ctx, diag_index, diag) != 1)
		rc = blt_detail_set(d, BLT_E_NOMEM, "SSL_CTX_set_ex_data failed");
	p12_parts_free(&parts); /* the SSL_CTX holds its own references */
	if (rc != BLT_OK) {
		SSL_CTX_free(ctx);
		return rc;
	}
	SSL_CTX_set_info_callback(ctx, info_cb);
	*out = ctx;
	return BLT_OK;
}

int blt_tls_error(const blt_tls_diag_t *diag, const char *host, const char *why, blt_detail_t *d)
{
	if (diag->verify_err == X509_V_ERR_HOSTNAME_MISMATCH ||
	    diag->verify_err == X509_V_ERR_IP_ADDRESS_MISMATCH)
		return blt_detail_set(d, BLT_E_HOSTNAME,
		                      "server certificate %s does not match '%s' (%s)",
		                      diag->verify_subject[0] ? diag->verify_subject : "?", host,
		                      X509_verify_cert_error_string(diag->verify_err));
	if (diag->verify_err != X509_V_OK)
		return blt_detail_set(
		    d, BLT_E_TLS, "server certificate not trusted: %s (depth %d, %s)",
		    X509_verify_cert_error_string(diag->verify_err), diag->verify_depth,
		    diag->verify_subject[0] ? diag->verify_subject : "?");
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
