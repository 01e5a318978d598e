/* Transport options shared by the programs that talk to a device: --transport
 * cloud|ble|modbus-tcp; for Bluetooth LE --address, --adapter, --ble-connect-timeout and the
 * TEST-ONLY --ble-test-key (the verify key of a simulator, replacing the device key K2 every
 * real unit uses); for Modbus TCP --host H[:PORT] and --request-gap. */
#ifndef BLT_TOOLS_TRANSPORT_ARGS_H
#define BLT_TOOLS_TRANSPORT_ARGS_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include <bluetti/ble.h>
#include <bluetti/transport.h>

enum {
	BLE_OPT_TRANSPORT = 0x3800,
	BLE_OPT_ADDRESS,
	BLE_OPT_ADAPTER,
	BLE_OPT_TEST_KEY,
	BLE_OPT_CONNECT_TIMEOUT,
	BLE_OPT_HOST,
	BLE_OPT_REQUEST_GAP,
};

#define BLE_LONG_OPTIONS                                                                           \
	{"transport", required_argument, NULL, BLE_OPT_TRANSPORT},                                 \
	    {"address", required_argument, NULL, BLE_OPT_ADDRESS},                                 \
	    {"adapter", required_argument, NULL, BLE_OPT_ADAPTER},                                 \
	    {"ble-test-key", required_argument, NULL, BLE_OPT_TEST_KEY},                           \
	    {"ble-connect-timeout", required_argument, NULL, BLE_OPT_CONNECT_TIMEOUT},             \
	    {"host", required_argument, NULL, BLE_OPT_HOST},                                       \
	{                                                                                          \
		"request-gap", required_argument, NULL, BLE_OPT_REQUEST_GAP                        \
	}

typedef struct ble_args {
	bool ble; /* --transport ble */
	/* --transport modbus-tcp (LOCAL.md §1): --host H[:PORT], --request-gap MS */
	bool mbtcp;
	char host[256];
	uint16_t port;      /* 0 = 502 */
	int request_gap_ms; /* 0 = the transport's 1000 ms */
	/* --transport local-mqtt (LOCAL.md §2): the device's own MQTT client on the owner's
	 * broker (--broker, the local-mqtt preset: bare RTU, QoS 0, SUB|PUB/<model>/<sn>) */
	bool lmqtt;
	const char *address, *adapter, *test_key_file;
	int connect_timeout_ms;
	char sn_from_address[16]; /* default serial (topic segment) when --sn is not given */
} ble_args_t;

void ble_args_init(ble_args_t *a);
/* 1 handled, 0 not a BLE option, -1 bad value (message printed; prog names the program). */
int ble_args_handle(ble_args_t *a, int opt, const char *arg, const char *prog);
void ble_args_help(FILE *out);
/* After parsing: --address required with --transport ble, BLE options only with it.
 * 0 ok, -1 (message printed). */
int ble_args_check(ble_args_t *a, const char *prog);
/* Create and connect the Modbus TCP transport (--transport modbus-tcp). Prints a one-line
 * error on failure. */
int mbtcp_open(const ble_args_t *a, const char *prog, blt_transport_t **out, blt_detail_t *d);
/* Create and connect the BLE transport. Prints a one-line error on failure. */
int ble_open(const ble_args_t *a, const char *prog, blt_transport_t **out, blt_detail_t *d);
/* Read a 64-byte public key written as hex (X||Y, optionally prefixed 04) from a file. */
int ble_read_key_file(const char *path, uint8_t key[64], blt_detail_t *d);

#endif
