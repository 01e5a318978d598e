/* Transport options shared by the programs (transport_args.h). */
#include <stdlib.h>
#include <string.h>

#include <bluetti/ble.h>

#include "transport_args.h"
#include "common.h"

void ble_args_init(ble_args_t *a)
{
	memset(a, 0, sizeof *a);
}

int ble_args_handle(ble_args_t *a, int opt, const char *arg, const char *prog)
{
	unsigned long v;
	switch (opt) {
	case BLE_OPT_TRANSPORT:
		a->ble = !strcmp(arg, "ble");
		a->mbtcp = !strcmp(arg, "modbus-tcp");
		a->lmqtt = !strcmp(arg, "local-mqtt");
		if (!a->ble && !a->mbtcp && !a->lmqtt && strcmp(arg, "cloud") != 0) {
			fprintf(stderr,
			        "%s: --transport must be cloud, ble, modbus-tcp or local-mqtt\n",
			        prog);
			return -1;
		}
		return 1;
	case BLE_OPT_HOST: {
		const char *colon = strrchr(arg, ':');
		size_t hl = colon ? (size_t)(colon - arg) : strlen(arg);
		if (hl == 0 || hl >= sizeof a->host) {
			fprintf(stderr, "%s: --host '%s': expected HOST[:PORT]\n", prog, arg);
			return -1;
		}
		memcpy(a->host, arg, hl);
		a->host[hl] = '\0';
		a->port = 0;
		if (colon) {
			if (cli_parse_ulong(colon + 1, 1, 65535, &v) != 0) {
				fprintf(stderr, "%s: --host '%s': port must be 1-65535\n", prog,
				        arg);
				return -1;
			}
			a->port = (uint16_t)v;
		}
		return 1;
	}
	case BLE_OPT_REQUEST_GAP:
		if (cli_parse_ulong(arg, 0, 60000, &v) != 0) {
			fprintf(stderr, "%s: --request-gap must be 0-60000 ms\n", prog);
			return -1;
		}
		a->request_gap_ms = v ? (int)v : -1;
		return 1;
	case BLE_OPT_ADDRESS:
		if (blt_ble_address_ok(arg) != BLT_OK) {
			fprintf(stderr, "%s: --address '%s': expected AA:BB:CC:DD:EE:FF\n", prog,
			        arg);
			return -1;
		}
		a->address = arg;
		return 1;
	case BLE_OPT_ADAPTER:
		if (!arg[0] || strlen(arg) > 16 || strchr(arg, '/')) {
			fprintf(stderr, "%s: --adapter '%s': expected a name like hci0\n", prog,
			        arg);
			return -1;
		}
		a->adapter = arg;
		return 1;
	case BLE_OPT_TEST_KEY: a->test_key_file = arg; return 1;
	case BLE_OPT_CONNECT_TIMEOUT:
		if (cli_parse_ulong(arg, 100, 600000, &v) != 0) {
			fprintf(stderr, "%s: --ble-connect-timeout must be 100-600000 ms\n", prog);
			return -1;
		}
		a->connect_timeout_ms = (int)v;
		return 1;
	}
	return 0;
}

void ble_args_help(FILE *out)
{
	fprintf(
	    out,
	    "bluetooth (docs/bluetooth.md):\n"
	    "      --transport T         cloud (default: the Bluetti MQTT broker), ble\n"
	    "                            (encrypted Bluetooth LE, no internet needed),\n"
	    "                            modbus-tcp or local-mqtt (below)\n"
	    "      --address ADDR        the device's Bluetooth address (see `bluetti scan`)\n"
	    "      --adapter NAME        local Bluetooth adapter (default hci0)\n"
	    "      --ble-connect-timeout MS  find + connect (default 30000)\n"
	    "      --ble-test-key FILE   TEST ONLY: accept a simulator's device key (hex X||Y\n"
	    "                            from bluetti-sim --ble --key-out) instead of the\n"
	    "                            key every real unit uses\n"
	    "modbus tcp (docs/local.md; through the firmware's open map, writes via the gate):\n"
	    "      --transport modbus-tcp  the device's own Modbus TCP server on the LAN\n"
	    "      --host HOST[:PORT]    its address (port default 502); unit 1 (--slave N)\n"
	    "      --request-gap MS      minimum time between requests (default 1000: bursts\n"
	    "                            have made a unit need a factory reset; 0 = none)\n"
	    "open mqtt (docs/local.md; the device as a client of your own broker):\n"
	    "      --transport local-mqtt  requests on SUB/<model>/<sn>, replies and the\n"
	    "                            device's block-11000 push on PUB/<model>/<sn>: bare\n"
	    "                            RTU at QoS 0, our own timeout and retries (default 2)\n"
	    "      --broker HOST[:PORT]  your broker (port default 1883; plain MQTT unless\n"
	    "                            --cert is given); --username/--password-file as it\n"
	    "                            needs; --model as the device logs in (<model><SN>)\n");
}

int ble_args_check(ble_args_t *a, const char *prog)
{
	if ((a->host[0] || a->request_gap_ms) && !a->mbtcp) {
		fprintf(stderr, "%s: --host/--request-gap need --transport modbus-tcp\n", prog);
		return -1;
	}
	if (a->mbtcp) {
		size_t k = 0;
		if (!a->host[0]) {
			fprintf(stderr, "%s: --transport modbus-tcp needs --host HOST[:PORT]\n",
			        prog);
			return -1;
		}
		/* a local name for the client's topic (never on the wire): the host, cleaned */
		for (const char *c = a->host; *c && k + 1 < sizeof a->sn_from_address; c++)
			a->sn_from_address[k++] =
			    (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			            (*c >= '0' && *c <= '9') || *c == '.' || *c == '-'
			        ? *c
			        : '_';
		a->sn_from_address[k] = '\0';
	}
	if (!a->ble) {
		if (a->address || a->adapter || a->test_key_file || a->connect_timeout_ms) {
			fprintf(stderr, "%s: --address/--adapter/--ble-* need --transport ble\n",
			        prog);
			return -1;
		}
		return 0;
	}
	if (!a->address) {
		fprintf(stderr,
		        "%s: --transport ble needs --address AA:BB:CC:DD:EE:FF (see `bluetti "
		        "scan`)\n",
		        prog);
		return -1;
	}
	/* a topic segment for the client (never on the air): the address without colons */
	{
		size_t k = 0;
		for (const char *c = a->address; *c && k + 1 < sizeof a->sn_from_address; c++)
			if (*c != ':')
				a->sn_from_address[k++] = *c;
		a->sn_from_address[k] = '\0';
	}
	return 0;
}

int ble_read_key_file(const char *path, uint8_t key[64], blt_detail_t *d)
{
	uint8_t *buf = NULL, raw[80];
	size_t len = 0, n = 0;
	int rc = cli_read_file(path, &buf, &len, d);
	if (rc)
		return rc;
	rc = blt_hex_decode((const char *)buf, raw, sizeof raw, &n, d);
	free(buf);
	if (rc)
		return rc;
	if (n == 65 && raw[0] == 0x04) {
		memmove(raw, raw + 1, 64);
		n = 64;
	}
	if (n != 64)
		return blt_detail_set(d, BLT_E_BLE_KEY,
		                      "%s: %zu bytes, expected a 64-byte key X||Y", path, n);
	memcpy(key, raw, 64);
	return BLT_OK;
}

/* Connect t, just created with status err; on failure print one line naming what (kind,
 * where), free t and return the error. */
static int connect_new(blt_transport_t *t, int err, const char *prog, const char *kind,
                       const char *where, blt_transport_t **out, blt_detail_t *d)
{
	if (!err)
		err = blt_transport_connect(t, d);
	if (err) {
		fprintf(stderr, "%s: %s %s: %s: %s\n", prog, kind, where, blt_strerror(err),
		        d->text);
		blt_transport_free(t);
		return err;
	}
	*out = t;
	return BLT_OK;
}

int mbtcp_open(const ble_args_t *a, const char *prog, blt_transport_t **out, blt_detail_t *d)
{
	blt_mbtcp_opts_t o;
	blt_transport_t *t = NULL;
	int err;

	memset(&o, 0, sizeof o);
	o.host = a->host;
	o.port = a->port;
	o.min_gap_ms = a->request_gap_ms;
	err = blt_mbtcp_new(&o, &t, d);
	return connect_new(t, err, prog, "modbus-tcp", a->host, out, d);
}

int ble_open(const ble_args_t *a, const char *prog, blt_transport_t **out, blt_detail_t *d)
{
	blt_ble_opts_t o;
	uint8_t key[64];
	blt_transport_t *t = NULL;
	int err;

	memset(&o, 0, sizeof o);
	o.address = a->address;
	o.adapter = a->adapter;
	o.connect_timeout_ms = a->connect_timeout_ms;
	if (a->test_key_file) {
		err = ble_read_key_file(a->test_key_file, key, d);
		if (err) {
			fprintf(stderr, "%s: --ble-test-key: %s\n", prog, d->text);
			return err;
		}
		o.test_verify_key = key;
		fprintf(stderr,
		        "%s: warning: --ble-test-key: only a simulator with this key is "
		        "accepted (test option)\n",
		        prog);
	}
	err = blt_ble_new(&o, &t, d);
	return connect_new(t, err, prog, "bluetooth", a->address, out, d);
}
