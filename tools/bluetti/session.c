/* Device options and session setup shared by the device commands (factored out of
 * cmd_read.c; messages unchanged). */
#include <stdio.h>
#include <string.h>

#include <bluetti/bluetti.h>
#include <bluetti/client.h>

#include "cli.h"
#include "common.h"
#include "account.h"
#include "session.h"

#include <time.h>

void dev_args_init(dev_args_t *a, int default_retries)
{
	memset(a, 0, sizeof *a);
	conn_args_init(&a->conn);
	ble_args_init(&a->ble);
	a->slave = -1;
	a->envelope = -1;
	a->retries = default_retries;
}

int dev_args_handle(dev_args_t *a, int opt, const char *arg, const char *prog)
{
	unsigned long v;
	char progname[48];
	int r;

	snprintf(progname, sizeof progname, "bluetti %s", prog);
	r = conn_args_handle(&a->conn, opt, arg, progname);
	if (r == 0)
		r = ble_args_handle(&a->ble, opt, arg, progname);
	if (r != 0)
		return r;
	switch (opt) {
	case 'p':
	case DEV_OPT_PROFILE: a->profile = arg; return 1;
	case 's':
	case DEV_OPT_SN: a->sn = arg; return 1;
	case DEV_OPT_MODEL: a->model = arg; return 1;
	case DEV_OPT_PRESET: a->preset = arg; return 1;
	case DEV_OPT_SLAVE:
		if (cli_parse_ulong(arg, 0, 247, &v) != 0) {
			fprintf(stderr, "bluetti %s: --slave must be 0-247\n", prog);
			return -1;
		}
		a->slave = (int)v;
		return 1;
	case DEV_OPT_ENVELOPE: {
		blt_envelope_t e;
		if (blt_envelope_from_name(arg, &e) != BLT_OK) {
			fprintf(stderr, "bluetti %s: --envelope must be bare, legacy or v2\n",
			        prog);
			return -1;
		}
		a->envelope = (int)e;
		return 1;
	}
	case DEV_OPT_SUB_TOPIC: a->sub_topic = arg; return 1;
	case DEV_OPT_PUB_TOPIC: a->pub_topic = arg; return 1;
	case DEV_OPT_TIMEOUT:
		if (cli_parse_ulong(arg, 1, 600000, &v) != 0) {
			fprintf(stderr, "bluetti %s: --timeout must be 1-600000 ms\n", prog);
			return -1;
		}
		a->timeout_ms = (int)v;
		return 1;
	case DEV_OPT_ACCOUNT: a->account = true; return 1;
	case DEV_OPT_RETRIES:
		if (cli_parse_ulong(arg, 0, 10, &v) != 0) {
			fprintf(stderr, "bluetti %s: --retries must be 0-10\n", prog);
			return -1;
		}
		a->retries = (int)v;
		a->retries_set = true;
		return 1;
	}
	return 0;
}

void dev_args_help(FILE *out, int default_retries)
{
	fprintf(
	    out,
	    "device:\n"
	    "  -p, --profile MODEL       device profile (EL30V2, EL100V2, ELITE200V2, AP300,\n"
	    "                            GENERIC); see `bluetti profiles`\n"
	    "  -s, --sn SN               device serial (the topic segment, e.g. the subSn)\n"
	    "      --model CODE          model code in topics (default: the profile's)\n"
	    "      --preset NAME         wire preset: v2 (default), seed, ble (set by\n"
	    "                            --transport ble)\n"
	    "      --slave N             override the Modbus slave address\n"
	    "      --envelope E          override the request envelope: bare, legacy, v2\n"
	    "      --sub-topic T         override the reply topic (template: {model} {sn})\n"
	    "      --pub-topic T         override the request topic\n"
	    "      --timeout MS          reply timeout per request (default 5000)\n"
	    "      --retries N           extra attempts after a timeout (default %d)\n"
	    "      --account             use the cached `bluetti login`: broker, certificate,\n"
	    "                            credentials and model come from the account (then\n"
	    "                            --profile is optional and --sn may be the full serial)\n",
	    default_retries);
	ble_args_help(out);
}

int dev_args_require(dev_args_t *a, const char *prog)
{
	char progname[48];
	snprintf(progname, sizeof progname, "bluetti %s", prog);
	if (ble_args_check(&a->ble, progname) != 0)
		return EXIT_USAGE;
	if (!a->sn && a->ble.ble) /* the serial is only a local name over Bluetooth */
		a->sn = a->ble.sn_from_address;
	if (!a->sn) {
		fprintf(stderr, "bluetti %s: --sn SN is required\n", prog);
		return EXIT_USAGE;
	}
	if (!a->profile && !a->account) {
		fprintf(stderr,
		        "bluetti %s: --profile MODEL is required (see `bluetti profiles`)\n", prog);
		return EXIT_USAGE;
	}
	return 0;
}

int session_account(dev_args_t *a, blt_detail_t *d)
{
	int err = account_connection(a->sn, &a->conn, a->account_model, sizeof a->account_model,
	                             a->account_sn, sizeof a->account_sn, d);
	if (err)
		return err;
	a->conn.cloud = true; /* the account's broker: the Bluetti TLS preset */
	if (!a->model && a->account_model[0])
		a->model = a->account_model;
	if (!a->profile)
		a->profile = (a->model && blt_profile_find(a->model)) ? a->model : "GENERIC";
	if (a->account_sn[0])
		a->sn = a->account_sn;
	a->account_resolved = true; /* session_prepare does not ask again */
	return BLT_OK;
}

/* --account: fill the connection from the cached login and pick the profile from the
 * account's model code (generic V2 profile for a model we do not know). */
static int account_prepare(dev_args_t *a, const char *prog)
{
	blt_detail_t d = {{0}};
	if (session_account(a, &d) != BLT_OK) {
		fprintf(stderr, "bluetti %s: --account: %s\n", prog, d.text);
		return EXIT_FAIL;
	}
	return 0;
}

int session_prepare(dev_args_t *a, const char *prog, session_t *s)
{
	memset(s, 0, sizeof *s);
	if (a->account && !a->account_resolved) {
		int rc = account_prepare(a, prog);
		if (rc)
			return rc;
	}
	s->p = blt_profile_find(a->profile);
	if (!s->p) {
		fprintf(stderr, "bluetti %s: unknown profile '%s' (see `bluetti profiles`)\n", prog,
		        a->profile);
		return EXIT_USAGE;
	}
	if (!s->p->model && !a->model) {
		fprintf(stderr,
		        "bluetti %s: profile %s needs --model CODE (the model in the "
		        "device's topics)\n",
		        prog, s->p->id);
		return EXIT_USAGE;
	}
	blt_profile_decode_opts(s->p, &s->dopts);
	if (!blt_topic_segment_ok(a->sn)) {
		fprintf(stderr,
		        "bluetti %s: serial number '%s' is not valid (letters, digits, '.', "
		        "'_', '-' only)\n",
		        prog, a->sn);
		return EXIT_USAGE;
	}
	s->co.model = a->model ? a->model : s->p->model;
	s->co.sn = a->sn;
	s->co.preset = a->preset ? a->preset : a->ble.ble ? "ble" : s->p->preset;
	s->co.slave = a->slave;
	s->co.envelope = a->envelope;
	s->co.sub_topic = a->sub_topic;
	s->co.pub_topic = a->pub_topic;
	s->co.timeout_ms = a->timeout_ms;
	s->co.retries = a->retries;
	return 0;
}

int session_connect(dev_args_t *a, const char *prog, session_t *s)
{
	blt_detail_t d = {{0}};
	struct timespec t0, t1;
	char progname[48];
	int err;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	snprintf(progname, sizeof progname, "bluetti %s", prog);
	err = a->ble.ble ? ble_open(&a->ble, progname, &s->t, &d)
	                 : conn_open(&a->conn, progname, &s->t, &d);
	if (err)
		return EXIT_FAIL;
	err = blt_client_new(s->t, &s->co, &s->c, &d);
	if (!err)
		err = blt_client_start(s->c, &d);
	if (err) {
		fprintf(stderr, "bluetti %s: %s: %s\n", prog, blt_strerror(err), d.text);
		return EXIT_FAIL;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s->t_connect_us = (uint64_t)((int64_t)(t1.tv_sec - t0.tv_sec) * 1000000 +
	                             (int64_t)(t1.tv_nsec - t0.tv_nsec) / 1000);
	return 0;
}

void session_close(session_t *s)
{
	blt_client_free(s->c);
	if (s->t) {
		blt_transport_disconnect(s->t);
		blt_transport_free(s->t);
	}
	s->c = NULL;
	s->t = NULL;
}
