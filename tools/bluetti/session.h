/* Device options and the connected session shared by the commands that talk to a device
 * (read, watch, dump, check, set, get, settings, write-register): --profile, --sn and the
 * wire overrides on top of the connection options of tools/common/conn.h. */
#ifndef BLUETTI_SESSION_H
#define BLUETTI_SESSION_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <bluetti/bluetti.h>
#include <bluetti/client.h>

#include "transport_args.h"
#include "conn.h"

enum {
	DEV_OPT_PROFILE = 0x3000,
	DEV_OPT_SN,
	DEV_OPT_MODEL,
	DEV_OPT_PRESET,
	DEV_OPT_SLAVE,
	DEV_OPT_ENVELOPE,
	DEV_OPT_SUB_TOPIC,
	DEV_OPT_PUB_TOPIC,
	DEV_OPT_TIMEOUT,
	DEV_OPT_RETRIES,
	DEV_OPT_ACCOUNT,
};

/* getopt_long rows (connection + device); short options: "p:s:". */
#define DEV_LONG_OPTIONS                                                                           \
	CONN_LONG_OPTIONS, BLE_LONG_OPTIONS,                                                       \
	    {"profile", required_argument, NULL, DEV_OPT_PROFILE},                                 \
	    {"sn", required_argument, NULL, DEV_OPT_SN},                                           \
	    {"model", required_argument, NULL, DEV_OPT_MODEL},                                     \
	    {"preset", required_argument, NULL, DEV_OPT_PRESET},                                   \
	    {"slave", required_argument, NULL, DEV_OPT_SLAVE},                                     \
	    {"envelope", required_argument, NULL, DEV_OPT_ENVELOPE},                               \
	    {"sub-topic", required_argument, NULL, DEV_OPT_SUB_TOPIC},                             \
	    {"pub-topic", required_argument, NULL, DEV_OPT_PUB_TOPIC},                             \
	    {"timeout", required_argument, NULL, DEV_OPT_TIMEOUT},                                 \
	    {"account", no_argument, NULL, DEV_OPT_ACCOUNT},                                       \
	{                                                                                          \
		"retries", required_argument, NULL, DEV_OPT_RETRIES                                \
	}

typedef struct dev_args {
	conn_args_t conn;
	ble_args_t ble; /* --transport ble: Bluetooth LE instead of the broker */
	const char *profile, *sn, *model, *preset, *sub_topic, *pub_topic;
	int slave, envelope, timeout_ms, retries;
	bool retries_set;      /* --retries given */
	bool account;          /* --account: broker, certificate, credentials from the login */
	bool account_resolved; /* session_account done */
	char account_model[32], account_sn[64]; /* resolved by session_prepare */
} dev_args_t;

void dev_args_init(dev_args_t *a, int default_retries);
/* Handle one getopt result ('p', 's', DEV_OPT_* and the connection options): 1 handled,
 * 0 not a device option, -1 bad value (message printed; "bluetti <prog>: ..."). */
int dev_args_handle(dev_args_t *a, int opt, const char *arg, const char *prog);
/* The "device:" help section (default_retries as in dev_args_init). */
void dev_args_help(FILE *out, int default_retries);
/* --sn and --profile given? Prints the message and returns EXIT_USAGE if not, else 0. */
int dev_args_require(dev_args_t *a, const char *prog);

typedef struct session {
	blt_transport_t *t;
	blt_client_t *c;
	const blt_profile_t *p;
	blt_client_opts_t co; /* what the client was created with (strings borrowed) */
	blt_decode_opts_t dopts;
	uint64_t t_connect_us; /* TLS + CONNACK + SUBACK */
	unsigned lens_gen;     /* blt_client_read_lens_gen when loaded / saved */
	bool lens_loaded;
	/* --transport modbus-tcp: blocks are read through the open map; which registers the
	 * last read delivered (s->dopts.present points here then) */
	bool mbtcp;
	uint8_t present[16];
	/* --transport local-mqtt (or --preset local-mqtt): the device pushes block 11000 */
	bool lmqtt;
} session_t;

/* --account: look the device up in the cached login (account_connection) and fill the
 * connection, model, profile and serial from it; a->account_resolved is set once resolved.
 * Returns a blt_err_t with a one-line detail (nothing printed). */
int session_account(dev_args_t *a, blt_detail_t *d);
/* Resolve and check the profile, model and serial; with --account this looks the device
 * up in the account (network I/O). Fills s->p, s->dopts, s->co.
 * Returns 0 or EXIT_USAGE (message printed). */
int session_prepare(dev_args_t *a, const char *prog, session_t *s);
/* Connect (conn_open) and start the client; 0 or EXIT_FAIL (message printed). */
int session_connect(dev_args_t *a, const char *prog, session_t *s);
/* Saves what the client learned of the device's read lengths (if anything changed) and
 * closes the connection. */
void session_close(session_t *s);

/* The device's read lengths (blt_client_read_lens) kept between runs, per serial number,
 * in $XDG_STATE_HOME/bluetti/read-lengths (default ~/.local/state/bluetti; directory 0700,
 * file 0600, written atomically, symbolic links refused). One line per block:
 *   <serial> <start> <asked> <accepted> <refused> <reply> <reply_to> <requests>
 * session_connect loads them (and the profile's known reply lengths) into the client;
 * session_close saves them. A missing or unreadable file costs nothing but the relearning;
 * problems are reported at the info log level (-v). */
int session_lens_path(char *out, size_t cap, blt_detail_t *d);
int session_lens_load(session_t *s, blt_detail_t *d);
int session_lens_save(session_t *s, blt_detail_t *d);

#endif
