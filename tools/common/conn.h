/* Connection options shared by the programs that talk to a broker as a client or as a
 * simulated device: --broker, --cert, --cert-password-file, --ca, --insecure, --tls-name,
 * --username, --password-file, --plain, --client-id, --tls-ciphers, --pin-broker. Secrets come from
 * files, environment variables or an interactive prompt; never from a visible argument. */
#ifndef BLT_TOOLS_CONN_H
#define BLT_TOOLS_CONN_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include <bluetti/transport.h>

#define CONN_DEFAULT_HOST "iot.bluettipower.com"
#define CONN_DEFAULT_PORT 18760

enum {
	CONN_OPT_BROKER = 0x1000,
	CONN_OPT_CERT,
	CONN_OPT_CERT_PASSWORD_FILE,
	CONN_OPT_CA,
	CONN_OPT_INSECURE,
	CONN_OPT_TLS_NAME,
	CONN_OPT_USERNAME,
	CONN_OPT_PASSWORD_FILE,
	CONN_OPT_PLAIN,
	CONN_OPT_CLIENT_ID,
	CONN_OPT_TLS_CIPHERS,
	CONN_OPT_PIN_BROKER,
};

/* getopt_long rows for the options above; splice into a command's table. */
#define CONN_LONG_OPTIONS                                                                          \
	{"broker", required_argument, NULL, CONN_OPT_BROKER},                                      \
	    {"cert", required_argument, NULL, CONN_OPT_CERT},                                      \
	    {"cert-password-file", required_argument, NULL, CONN_OPT_CERT_PASSWORD_FILE},          \
	    {"ca", required_argument, NULL, CONN_OPT_CA},                                          \
	    {"insecure", no_argument, NULL, CONN_OPT_INSECURE},                                    \
	    {"tls-name", required_argument, NULL, CONN_OPT_TLS_NAME},                              \
	    {"username", required_argument, NULL, CONN_OPT_USERNAME},                              \
	    {"password-file", required_argument, NULL, CONN_OPT_PASSWORD_FILE},                    \
	    {"plain", no_argument, NULL, CONN_OPT_PLAIN},                                          \
	    {"client-id", required_argument, NULL, CONN_OPT_CLIENT_ID},                            \
	    {"tls-ciphers", required_argument, NULL, CONN_OPT_TLS_CIPHERS},                        \
	{                                                                                          \
		"pin-broker", no_argument, NULL, CONN_OPT_PIN_BROKER                               \
	}

typedef struct conn_args {
	char host[256];
	unsigned port;
	const char *cert_file, *cert_password_file, *ca_file, *tls_name, *username;
	const char *password_file, *client_id;
	const char *tls_ciphers; /* --tls-ciphers; NULL = the preset's */
	bool insecure, plain;
	bool broker_given, port_given; /* --broker was given / with a :PORT */
	bool pin_broker; /* --pin-broker: record the broker's key (trust on first use) */
	/* The broker is the Bluetti cloud's (set by --account; also true for a
	 * *.bluettipower.com host): its TLS preset lowers OpenSSL's security level. */
	bool cloud;
	/* resolved by conn_open */
	uint8_t *pfx;
	size_t pfx_len;
	char *cert_password, *password;
} conn_args_t;

void conn_args_init(conn_args_t *a);
/* Handle one getopt result; 1 if it was a connection option, 0 if not, -1 on a bad value
 * (message printed, prog names the program). */
int conn_args_handle(conn_args_t *a, int opt, const char *arg, const char *prog);
/* Help text for the connection options. */
void conn_args_help(FILE *out);
/* Load certificate and secrets, create and connect the transport. Prints a one-line
 * error naming the problem (with what to do for an unknown CA or a changed pinned key)
 * and returns the blt_err_t on failure. */
int conn_open(conn_args_t *a, const char *prog, blt_transport_t **out, blt_detail_t *d);
/* The same in two steps, for `bluetti doctor`: conn_new creates the transport (messages
 * printed like conn_open unless quiet); the caller connects. */
int conn_new(conn_args_t *a, const char *prog, bool quiet, blt_transport_t **out, blt_detail_t *d);
/* The cipher string the connection uses: --tls-ciphers, else the Bluetti preset for a
 * cloud broker, else NULL (OpenSSL's defaults). */
const char *conn_ciphers(const conn_args_t *a);
/* Print the hint lines for a failed connect (unknown CA, pin mismatch, weak key). */
void conn_hint(const conn_args_t *a, const char *prog, blt_transport_t *t, int err);
void conn_args_free(conn_args_t *a);

#endif
