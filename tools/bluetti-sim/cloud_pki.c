/* Certificates of the simulated cloud, issued in memory by the test CA (scripts/pki.sh):
 * the HTTPS server certificate and per-account client certificates as PKCS#12. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "cloud.h"

static int ossl_err(char *err, size_t cap, const char *what)
{
	unsigned long e = ERR_get_error();
	snprintf(err, cap, "%s: %s", what, e ? ERR_reason_error_string(e) : "failed");
	ERR_clear_error();
	return -1;
}

int sim_ca_load(sim_ca_t *ca, const char *cert_file, const char *key_file, char *err, size_t errcap)
{
	FILE *f;
	memset(ca, 0, sizeof *ca);
	f = fopen(cert_file, "r");
	if (!f) {
		snprintf(err, errcap, "--ca-cert %s: cannot open", cert_file);
		return -1;
	}
	ca->cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!ca->cert)
		return ossl_err(err, errcap, "--ca-cert: not a PEM certificate");
	f = fopen(key_file, "r");
	if (!f) {
		snprintf(err, errcap, "--ca-key %s: cannot open", key_file);
		sim_ca_free(ca);
		return -1;
	}
	ca->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (!ca->key) {
		sim_ca_free(ca);
		return ossl_err(err, errcap, "--ca-key: not a PEM private key");
	}
	if (X509_check_private_key(ca->cert, ca->key) != 1) {
		sim_ca_free(ca);
		snprintf(err, errcap, "--ca-key does not belong to --ca-cert");
		return -1;
	}
	return 0;
}

void sim_ca_free(sim_ca_t *ca)
{
	X509_free(ca->cert);
	EVP_PKEY_free(ca->key);
	memset(ca, 0, sizeof *ca);
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ex;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ex)
		return -1;
	int ok = X509_add_ext(cert, ex, -1);
	X509_EXTENSION_free(ex);
	return ok ? 0 : -1;
}

/* A leaf certificate and its fresh P-256 key. */
static int issue(const sim_ca_t *ca, const char *cn, int server, X509 **out_cert,
                 EVP_PKEY **out_key, char *err, size_t errcap)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	X509 *c = X509_new();
	uint8_t serial[16];
	BIGNUM *bn = NULL;
	if (!key || !c || RAND_bytes(serial, sizeof serial) != 1)
		goto fail;
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof serial, NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c)))
		goto fail;
	X509_set_version(c, 2);
	X509_gmtime_adj(X509_getm_notBefore(c), -3600);
	X509_gmtime_adj(X509_getm_notAfter(c), 825L * 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "CN", MBSTRING_ASC,
	                           (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(c, X509_get_subject_name(ca->cert));
	X509_set_pubkey(c, key);
	if (add_ext(c, ca->cert, NID_basic_constraints, "critical,CA:FALSE") ||
	    add_ext(c, ca->cert, NID_key_usage, "critical,digitalSignature,keyEncipherment") ||
	    add_ext(c, ca->cert, NID_ext_key_usage, server ? "serverAuth" : "clientAuth") ||
	    (server &&
	     add_ext(c, ca->cert, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1")))
		goto fail;
	if (!X509_sign(c, ca->key, EVP_sha256()))
		goto fail;
	BN_free(bn);
	*out_cert = c;
	*out_key = key;
	return 0;
fail:
	BN_free(bn);
	X509_free(c);
	EVP_PKEY_free(key);
	return ossl_err(err, errcap, "issuing a certificate");
}

static char *bio_string(BIO *b)
{
	char *p;
	long n = BIO_get_mem_data(b, &p);
	char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
	if (s) {
		memcpy(s, p, (size_t)n);
		s[n] = 0;
	}
	return s;
}

int sim_server_cert(const sim_ca_t *ca, char **cert_pem, char **key_pem, char *err, size_t errcap)
{
	X509 *c;
	EVP_PKEY *k;
	BIO *bc = BIO_new(BIO_s_mem()), *bk = BIO_new(BIO_s_mem());
	int rc = -1;
	*cert_pem = *key_pem = NULL;
	if (!bc || !bk || issue(ca, "localhost", 1, &c, &k, err, errcap) != 0) {
		BIO_free(bc);
		BIO_free(bk);
		return -1;
	}
	if (PEM_write_bio_X509(bc, c) &&
	    PEM_write_bio_PrivateKey(bk, k, NULL, NULL, 0, NULL, NULL)) {
		*cert_pem = bio_string(bc);
		*key_pem = bio_string(bk);
		rc = *cert_pem && *key_pem ? 0 : -1;
	}
	if (rc)
		ossl_err(err, errcap, "writing the server certificate");
	X509_free(c);
	EVP_PKEY_free(k);
	BIO_free(bc);
	BIO_free(bk);
	return rc;
}

int sim_client_pfx(const sim_ca_t *ca, const char *cn, const char *password, uint8_t **der,
                   size_t *len, char *err, size_t errcap)
{
	X509 *c;
	EVP_PKEY *k;
	STACK_OF(X509) *chain = sk_X509_new_null();
	PKCS12 *p12 = NULL;
	unsigned char *buf = NULL, *p;
	int n, rc = -1;
	if (!chain || issue(ca, cn, 0, &c, &k, err, errcap) != 0) {
		sk_X509_free(chain);
		return -1;
	}
	if (!sk_X509_push(chain, ca->cert))
		goto out;
	p12 = PKCS12_create(password, "bluetti-cloud", k, c, chain, 0, 0, 0, 0, 0);
	if (!p12)
		goto out;
	n = i2d_PKCS12(p12, NULL);
	if (n <= 0 || !(buf = malloc((size_t)n)))
		goto out;
	p = buf;
	i2d_PKCS12(p12, &p);
	*der = buf;
	*len = (size_t)n;
	rc = 0;
out:
	if (rc)
		ossl_err(err, errcap, "building the PKCS#12");
	PKCS12_free(p12);
	sk_X509_free(chain); /* does not free ca->cert */
	X509_free(c);
	EVP_PKEY_free(k);
	return rc;
}
