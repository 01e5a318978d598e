/* Connection options shared by the programs. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

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
	}
	return 0;
}

void conn_args_help(FILE *out)
{
	fprintf(out,
		"connection:\n"
		"      --broker HOST[:PORT]      MQTT broker (default " CONN_DEFAULT_HOST ":%d)\n"
		"      --cert FILE.pfx           client certificate + key, PKCS#12 (kept in memory)\n"
		"      --cert-password-file F    PKCS#12 password from a file (first line);\n"
		"                                or env BLUETTI_CERT_PASSWORD, or a prompt\n"
		"      --ca FILE                 CA bundle (PEM) to verify the broker; default: CA\n"
		"                                certificates in the PFX, else the system's\n"
		"      --tls-name NAME           expect this name in the broker certificate\n"
		"      --insecure                do not verify the broker (not recommended)\n"
		"      --username USER           MQTT username\n"
		"      --password-file F         MQTT password from a file; or env\n"
		"                                BLUETTI_MQTT_PASSWORD (never on the command line)\n"
		"      --plain                   no TLS (local test brokers only)\n"
		"      --client-id ID            MQTT client id (default: random)\n",
		CONN_DEFAULT_PORT);
}

int conn_open(conn_args_t *a, const char *prog, blt_transport_t **out, blt_detail_t *d)
{
	blt_mqtt_opts_t o;
	int err;

	memset(&o, 0, sizeof o);
	o.host = a->host;
	o.port = (uint16_t)a->port;
	o.use_tls = !a->plain;
	o.client_id = a->client_id;
	o.username = a->username;
	if (!a->plain) {
		if (!a->cert_file) {
			fprintf(stderr, "%s: --cert FILE.pfx is required (or --plain for a test "
					"broker without TLS)\n", prog);
			return BLT_E_CONFIG;
		}
		err = cli_read_file(a->cert_file, &a->pfx, &a->pfx_len, d);
		if (err) {
			fprintf(stderr, "%s: certificate: %s\n", prog, d->text);
			return err;
		}
		err = cli_secret(a->cert_password_file, "BLUETTI_CERT_PASSWORD",
				 "Certificate (PFX) password: ", &a->cert_password, d);
		if (err) {
			fprintf(stderr, "%s: certificate password: %s\n", prog, d->text);
			return err;
		}
		o.tls.pfx = a->pfx;
		o.tls.pfx_len = a->pfx_len;
		o.tls.pfx_password = a->cert_password ? a->cert_password : "";
		o.tls.ca_file = a->ca_file;
		o.tls.verify_host = a->tls_name;
		o.tls.insecure = a->insecure;
		if (a->insecure)
			fprintf(stderr, "%s: warning: --insecure: the broker's identity is NOT "
					"verified\n", prog);
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
	blt_transport_t *t = NULL;
	err = blt_mqtt_new(&o, &t, d);
	if (!err)
		err = blt_transport_connect(t, d);
	if (err) {
		fprintf(stderr, "%s: %s:%u: %s: %s\n", prog, a->host, a->port, blt_strerror(err),
			d->text);
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
