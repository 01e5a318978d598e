/* Connection options shared by the programs. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509_vfy.h>

#include <bluetti/cloud.h>

#include "common.h"
#include "conn.h"

void conn_args_init(conn_args_t *a)
{
	memset(a, 0, sizeof *a);
	snprintf(a->host, sizeof a->host, "%s", CONN_DEFAULT_HOST);
	a->port = CONN_DEFAULT_PORT;
}

static int parse_broker(conn_args_t *a, const char *arg)
{
	const char *colon = strrchr(arg, ':');
	size_t hl = colon ? (size_t)(colon - arg) : strlen(arg);
	unsigned long port = a->port;
	if (hl == 0 || hl >= sizeof a->host)
		return -1;
	if (colon && cli_parse_ulong(colon + 1, 1, 65535, &port) != 0)
		return -1;
	memcpy(a->host, arg, hl);
	a->host[hl] = '\0';
	a->port = (unsigned)port;
	a->broker_given = true;
	a->port_given = colon != NULL;
	return 0;
}

int conn_args_handle(conn_args_t *a, int opt, const char *arg, const char *prog)
{
	switch (opt) {
	case CONN_OPT_BROKER:
		if (parse_broker(a, arg) != 0) {
			fprintf(stderr, "%s: --broker '%s': expected HOST[:PORT]\n", prog, arg);
			return -1;
		}
		return 1;
	case CONN_OPT_CERT: a->cert_file = arg; return 1;
	case CONN_OPT_CERT_PASSWORD_FILE: a->cert_password_file = arg; return 1;
	case CONN_OPT_CA: a->ca_file = arg; return 1;
	case CONN_OPT_INSECURE: a->insecure = true; return 1;
	case CONN_OPT_TLS_NAME: a->tls_name = arg; return 1;
	case CONN_OPT_USERNAME: a->username = arg; return 1;
	case CONN_OPT_PASSWORD_FILE: a->password_file = arg; return 1;
	case CONN_OPT_PLAIN: a->plain = true; return 1;
	case CONN_OPT_CLIENT_ID: a->client_id = arg; return 1;
	case CONN_OPT_TLS_CIPHERS:
		if (!arg[0] || strlen(arg) > 120) {
			fprintf(stderr, "%s: --tls-ciphers: expected an OpenSSL cipher string\n",
			        prog);
			return -1;
		}
		a->tls_ciphers = arg;
		return 1;
	case CONN_OPT_PIN_BROKER: a->pin_broker = true; return 1;
	}
	return 0;
}

void conn_args_help(FILE *out)
{
	fprintf(
	    out,
	    "connection:\n"
	    "      --broker HOST[:PORT]      MQTT broker (default " CONN_DEFAULT_HOST ":%d)\n"
	    "      --cert FILE.pfx           client certificate + key, PKCS#12 (kept in memory)\n"
	    "      --cert-password-file F    PKCS#12 password from a file (first line);\n"
	    "                                or env BLUETTI_CERT_PASSWORD, or a prompt\n"
	    "      --ca FILE                 CA bundle (PEM) to verify the broker; default: CA\n"
	    "                                certificates in the PFX, else the system's\n"
	    "      --tls-name NAME           expect this name in the broker certificate\n"
	    "      --tls-ciphers STRING      OpenSSL cipher string for this broker only; the\n"
	    "                                Bluetti cloud (--account, *.bluettipower.com)\n"
	    "                                uses " BLT_TLS_CIPHERS_BLUETTI
	    " because its keys are\n"
	    "                                RSA-1024/SHA-1; other brokers OpenSSL's defaults\n"
	    "      --pin-broker              trust the broker's key on first use: record its\n"
	    "                                SHA-256 in the state directory; later connections\n"
	    "                                require the same key (a changed key is refused)\n"
	    "      --insecure                do not verify the broker (not recommended)\n"
	    "      --username USER           MQTT username\n"
	    "      --password-file F         MQTT password from a file; or env\n"
	    "                                BLUETTI_MQTT_PASSWORD (never on the command line)\n"
	    "      --plain                   no TLS (local test brokers only)\n"
	    "      --client-id ID            MQTT client id (default: random)\n",
	    CONN_DEFAULT_PORT);
}

const char *conn_ciphers(const conn_args_t *a)
{
	if (a->tls_ciphers)
		return a->tls_ciphers;
	if (a->cloud || blt_broker_is_bluetti(a->host))
		return BLT_TLS_CIPHERS_BLUETTI;
	return NULL;
}

int conn_new(conn_args_t *a, const char *prog, bool quiet, blt_transport_t **out, blt_detail_t *d)
{
	blt_mqtt_opts_t o;
	char pin_dir[1024];
	int err;

	*out = NULL;
	memset(&o, 0, sizeof o);
	o.host = a->host;
	o.port = (uint16_t)a->port;
	o.use_tls = !a->plain;
	o.client_id = a->client_id;
	o.username = a->username;
	if (!a->plain) {
		if (!a->cert_file) {
			fprintf(stderr,
			        "%s: --cert FILE.pfx is required (or --plain for a test "
			        "broker without TLS)\n",
			        prog);
			return BLT_E_CONFIG;
		}
		if (!a->pfx) {
			err = cli_read_file(a->cert_file, &a->pfx, &a->pfx_len, d);
			if (err) {
				fprintf(stderr, "%s: certificate: %s\n", prog, d->text);
				return err;
			}
		}
		if (!a->cert_password) {
			err = cli_secret(a->cert_password_file, "BLUETTI_CERT_PASSWORD",
			                 "Certificate (PFX) password: ", &a->cert_password, d);
			if (err) {
				fprintf(stderr, "%s: certificate password: %s\n", prog, d->text);
				return err;
			}
		}
		o.tls.pfx = a->pfx;
		o.tls.pfx_len = a->pfx_len;
		o.tls.pfx_password = a->cert_password ? a->cert_password : "";
		o.tls.ca_file = a->ca_file;
		o.tls.verify_host = a->tls_name;
		o.tls.insecure = a->insecure;
		o.tls.ciphers = conn_ciphers(a);
		/* Pins live next to the credential store; a recorded pin is always enforced. */
		if (blt_cloud_store_dir(pin_dir, sizeof pin_dir, d) == BLT_OK)
			o.tls.pin_dir = pin_dir;
		else if (a->pin_broker) {
			fprintf(stderr, "%s: --pin-broker: %s\n", prog, d->text);
			return BLT_E_CONFIG;
		}
		o.tls.pin_record = a->pin_broker;
		if (a->insecure && a->pin_broker) {
			fprintf(stderr, "%s: --pin-broker and --insecure exclude each other\n",
			        prog);
			return BLT_E_CONFIG;
		}
		if (a->insecure && !quiet)
			fprintf(stderr,
			        "%s: warning: --insecure: the broker's identity is NOT "
			        "verified\n",
			        prog);
	}
	if (a->password) {
		o.password = a->password; /* set by the caller (e.g. the account's TOTP) */
	} else if (a->password_file || getenv("BLUETTI_MQTT_PASSWORD")) {
		err = cli_secret(a->password_file, "BLUETTI_MQTT_PASSWORD", NULL, &a->password, d);
		if (err) {
			fprintf(stderr, "%s: MQTT password: %s\n", prog, d->text);
			return err;
		}
		o.password = a->password;
	}
	err = blt_mqtt_new(&o, out, d);
	if (err) {
		if (!quiet) {
			fprintf(stderr, "%s: %s:%u: %s: %s\n", prog, a->host, a->port,
			        blt_strerror(err), d->text);
		}
		return err;
	}
	return BLT_OK;
}

void conn_hint(const conn_args_t *a, const char *prog, blt_transport_t *t, int err)
{
	blt_transport_info_t i;

	if (!t || blt_transport_info(t, &i) != BLT_OK || !i.tls)
		return;
	if (err == BLT_E_PIN_MISMATCH || i.pin_state == BLT_PIN_MISMATCH) {
		fprintf(stderr,
		        "%s: the key pinned for %s:%u in %s is not the one the broker shows now.\n"
		        "%s: This is what an attacker in the middle looks like; if the broker's "
		        "key changed legitimately (check the new fingerprint out of band), re-pin: "
		        "rm '%s' and connect once with --pin-broker\n",
		        prog, a->host, a->port, i.pin_file, prog, i.pin_file);
		return;
	}
	if (i.pin_state == BLT_PIN_ERROR)
		return; /* the detail names the pin file and the fix */
	if (i.ca_unknown && i.pin_state != BLT_PIN_MATCH && i.pin_state != BLT_PIN_RECORDED) {
		fprintf(stderr,
		        "%s: the broker's certificate is signed by a CA that is not in %s.\n"
		        "%s: What to do: give the broker's CA with --ca FILE, or trust this key "
		        "on first use with --pin-broker (sha256 %s is then recorded in the state "
		        "directory and required from then on; safer than --insecure)\n",
		        prog, a->ca_file ? a->ca_file : "the PFX or the system store", prog,
		        i.spki_sha256);
		return;
	}
}

int conn_open(conn_args_t *a, const char *prog, blt_transport_t **out, blt_detail_t *d)
{
	blt_transport_t *t = NULL;
	int err;

	err = conn_new(a, prog, false, &t, d);
	if (err)
		return err;
	err = blt_transport_connect(t, d);
	if (err) {
		fprintf(stderr, "%s: %s:%u: %s: %s\n", prog, a->host, a->port, blt_strerror(err),
		        d->text);
		conn_hint(a, prog, t, err);
		blt_transport_free(t);
		return err;
	}
	*out = t;
	return BLT_OK;
}

void conn_args_free(conn_args_t *a)
{
	if (a->pfx) {
		OPENSSL_cleanse(a->pfx, a->pfx_len);
		free(a->pfx);
		a->pfx = NULL;
	}
	cli_secret_free(a->cert_password);
	cli_secret_free(a->password);
	a->cert_password = a->password = NULL;
}
