/* bluetti-sim --cloud: the simulated Bluetti account API (PROTOCOL.md §2) over HTTPS. */
#ifndef BLT_SIM_CLOUD_H
#define BLT_SIM_CLOUD_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* Entry point: `bluetti-sim --cloud [options]`; argv[0] is ignored. Exit status 0 on
 * SIGINT/SIGTERM, 1 runtime failure, 2 bad options. */
int sim_cloud_main(int argc, char **argv);

/* cloud_pki.c: the simulator's certificates, all issued by the test CA. */
typedef struct sim_ca {
	X509 *cert;
	EVP_PKEY *key;
} sim_ca_t;

int sim_ca_load(sim_ca_t *ca, const char *cert_file, const char *key_file, char *err,
                size_t errcap);
void sim_ca_free(sim_ca_t *ca);
/* HTTPS server certificate for localhost / 127.0.0.1 / ::1 as PEM strings (malloc'd). */
int sim_server_cert(const sim_ca_t *ca, char **cert_pem, char **key_pem, char *err, size_t errcap);
/* Client certificate (CN = cn, clientAuth) + key + the CA, as PKCS#12 DER (malloc'd)
 * protected with password. */
int sim_client_pfx(const sim_ca_t *ca, const char *cn, const char *password, uint8_t **der,
                   size_t *len, char *err, size_t errcap);

#endif
