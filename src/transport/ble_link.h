/* ble_link.h - the only I/O a Bluetooth LE transport needs, so that the BlueZ/D-Bus code
 * stays in one small file (ble_bluez.c, sd-bus) that another D-Bus library could replace.
 * The link knows GATT (the FF00 service, its FF01 notify and FF02 write characteristics),
 * nothing of the V2 session or of Modbus. Single-threaded: callbacks run inside
 * ble_link_process and the blocking calls. */
#ifndef BLT_BLE_LINK_H
#define BLT_BLE_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bluetti/bluetti.h>
#include <bluetti/transport.h>

typedef struct ble_link ble_link_t;

typedef struct ble_link_cbs {
	/* one notification on FF01 (a message or a fragment of one) */
	void (*notify)(void *user, const uint8_t *p, size_t n);
	/* the device disconnected (or vanished) */
	void (*down)(void *user, const char *why);
	void *user;
} ble_link_cbs_t;

/* Open the bus (the system bus; DBUS_SYSTEM_BUS_ADDRESS overrides it, which the tests use
 * to point at a private dbus-daemon). adapter: "hci0". Errors: BLT_E_CONNECT. */
int ble_link_open(const char *adapter, const ble_link_cbs_t *cbs, ble_link_t **out,
                  blt_detail_t *d);
/* Find the device by address (discovering it if BlueZ does not know it yet), connect,
 * wait for its services and locate FF01/FF02. Errors: BLT_E_NOT_FOUND (device out of range
 * or no FF00 service), BLT_E_CONNECT, BLT_E_TIMEOUT. */
int ble_link_connect(ble_link_t *l, const char *address, int timeout_ms, blt_detail_t *d);
/* Enable notifications on FF01 (which starts the device's handshake). */
int ble_link_start_notify(ble_link_t *l, blt_detail_t *d);
/* One write with response to FF02. Errors: BLT_E_DISCONNECTED, BLT_E_IO. */
int ble_link_write(ble_link_t *l, const uint8_t *p, size_t n, blt_detail_t *d);
/* Dispatch pending bus traffic, waiting up to timeout_ms for some. */
int ble_link_process(ble_link_t *l, int timeout_ms, blt_detail_t *d);
/* Stop notifications and disconnect the device (the bus stays open). */
void ble_link_disconnect(ble_link_t *l);
void ble_link_close(ble_link_t *l);

/* Discover for duration_ms and list every device the adapter saw. */
int ble_link_scan(const char *adapter, int duration_ms, blt_ble_device_info_t *out, size_t cap,
                  size_t *n, blt_detail_t *d);

#endif
