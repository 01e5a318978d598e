/* BlueZ over D-Bus with sd-bus (libsystemd): the whole D-Bus side of the BLE transport
 * (ble_link.h). org.bluez objects used: Adapter1 (StartDiscovery/StopDiscovery), Device1
 * (Connect/Disconnect, Connected, ServicesResolved, Name, RSSI, ManufacturerData),
 * GattService1 (UUID), GattCharacteristic1 (UUID, StartNotify/StopNotify, WriteValue,
 * Value in PropertiesChanged), ObjectManager.GetManagedObjects on "/". */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <bluetti/ble.h>
#include <bluetti/bluetti.h>

#include "transport/ble_link.h"
#include "transport/ble_session.h"
#include "transport/sdbus_dl.h" /* sd-bus, loaded when first used */

#define BLUEZ "org.bluez"
#define PROPS "org.freedesktop.DBus.Properties"

struct ble_link {
	sd_bus *bus;
	char adapter_path[64];
	char dev_path[128];
	char notify_path[256];
	char write_path[256];
	sd_bus_slot *dev_slot, *chr_slot, *write_slot;
	bool connected, notifying, writing;
	int write_err; /* last write: 0 ok, 1 InProgress, -1 other error */
	char write_msg[160];
	ble_link_cbs_t cbs;
};

static int bus_error(blt_detail_t *d, int err, const char *what, const sd_bus_error *e, int r)
{
	return blt_detail_set(d, err, "%s: %s", what,
	                      e && e->message ? e->message : strerror(r < 0 ? -r : r));
}

static int call(ble_link_t *l, const char *path, const char *iface, const char *member,
                int timeout_ms, sd_bus_error *e, sd_bus_message **reply)
{
	sd_bus_message *m = NULL;
	int r = sd_bus_message_new_method_call(l->bus, &m, BLUEZ, path, iface, member);
	if (r >= 0)
		r = sd_bus_call(l->bus, m, (uint64_t)timeout_ms * 1000u, e, reply);
	sd_bus_message_unref(m);
	return r;
}

static int open_bus(sd_bus **bus, blt_detail_t *d)
{
	int r = blt_sdbus_load(d);

	if (r != BLT_OK)
		return r;
	r = sd_bus_open_system(bus);
	if (r < 0)
		return blt_detail_set(d, BLT_E_CONNECT,
		                      "cannot reach the D-Bus system bus (BlueZ): %s",
		                      strerror(-r));
	return BLT_OK;
}

int ble_link_open(const char *adapter, const ble_link_cbs_t *cbs, ble_link_t **out, blt_detail_t *d)
{
	ble_link_t *l = calloc(1, sizeof *l);
	int rc;

	if (!l)
		return blt_detail_set(d, BLT_E_NOMEM, "out of memory");
	if ((rc = open_bus(&l->bus, d)) != BLT_OK) {
		free(l);
		return rc;
	}
	snprintf(l->adapter_path, sizeof l->adapter_path, "/org/bluez/%s", adapter);
	l->cbs = *cbs;
	*out = l;
	return BLT_OK;
}

/* Dispatch everything pending; returns how many messages were processed, or < 0. */
static int process_all(sd_bus *bus)
{
	int r, n = 0;
	while ((r = sd_bus_process(bus, NULL)) > 0)
		n++;
	return r < 0 ? r : n;
}

int ble_link_process(ble_link_t *l, int timeout_ms, blt_detail_t *d)
{
	int r = process_all(l->bus);
	/* wait only if nothing was pending: a callback may have queued work for the caller */
	if (r == 0 && timeout_ms > 0) {
		r = sd_bus_wait(l->bus, (uint64_t)timeout_ms * 1000u);
		if (r >= 0)
			r = process_all(l->bus);
	}
	if (r == -EINTR)
		return BLT_OK; /* a signal: the caller decides what to do next */
	if (r < 0)
		return blt_detail_set(d, BLT_E_IO, "D-Bus: %s", strerror(-r));
	return BLT_OK;
}

/* --- signals ---------------------------------------------------------------------------- */

/* PropertiesChanged(s iface, a{sv} changed, as invalidated): find one key, leave the
 * message positioned on its variant. Returns 1 if found. */
static int find_changed(sd_bus_message *m, const char *want_iface, const char *key)
{
	const char *iface, *name;
	int r;

	if (sd_bus_message_read(m, "s", &iface) < 0 || strcmp(iface, want_iface) != 0)
		return 0;
	if (sd_bus_message_enter_container(m, 'a', "{sv}") < 0)
		return 0;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		if (sd_bus_message_read(m, "s", &name) < 0)
			return 0;
		if (strcmp(name, key) == 0)
			return 1;
		sd_bus_message_skip(m, "v");
		sd_bus_message_exit_container(m);
	}
	return 0;
}

static int on_dev_props(sd_bus_message *m, void *user, sd_bus_error *e)
{
	ble_link_t *l = user;
	int b = 1;
	(void)e;
	if (find_changed(m, "org.bluez.Device1", "Connected") &&
	    sd_bus_message_read(m, "v", "b", &b) >= 0 && !b && l->connected) {
		l->connected = false;
		l->notifying = false;
		if (l->cbs.down)
			l->cbs.down(l->cbs.user, "device disconnected");
	}
	return 0;
}

static int on_chr_props(sd_bus_message *m, void *user, sd_bus_error *e)
{
	ble_link_t *l = user;
	const void *p;
	size_t n;
	(void)e;
	if (!find_changed(m, "org.bluez.GattCharacteristic1", "Value"))
		return 0;
	if (sd_bus_message_enter_container(m, 'v', "ay") < 0 ||
	    sd_bus_message_read_array(m, 'y', &p, &n) < 0)
		return 0;
	if (l->cbs.notify && n)
		l->cbs.notify(l->cbs.user, p, n);
	return 0;
}

/* --- objects ---------------------------------------------------------------------------- */

static bool dev_known(ble_link_t *l)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char *addr = NULL;
	int r = sd_bus_get_property_string(l->bus, BLUEZ, l->dev_path, "org.bluez.Device1",
	                                   "Address", &e, &addr);
	sd_bus_error_free(&e);
	free(addr);
	return r >= 0;
}

static int get_bool(ble_link_t *l, const char *prop, bool *v)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int b = 0, r = sd_bus_get_property_trivial(l->bus, BLUEZ, l->dev_path, "org.bluez.Device1",
	                                           prop, &e, 'b', &b);
	sd_bus_error_free(&e);
	*v = b != 0;
	return r;
}

/* Walk GetManagedObjects: for each object, fn(path, iface, message at a{sv}); fn returns
 * 1 if it read the a{sv}, 0 to have it skipped. */
typedef int (*obj_fn)(void *user, const char *path, const char *iface, sd_bus_message *m);

static int managed_objects(sd_bus *bus, obj_fn fn, void *user, blt_detail_t *d)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *path, *iface;
	int r;

	r = sd_bus_call_method(bus, BLUEZ, "/", "org.freedesktop.DBus.ObjectManager",
	                       "GetManagedObjects", &e, &reply, "");
	if (r < 0) {
		r = bus_error(d, BLT_E_CONNECT, "BlueZ GetManagedObjects", &e, r);
		sd_bus_error_free(&e);
		return r;
	}
	r = sd_bus_message_enter_container(reply, 'a', "{oa{sa{sv}}}");
	while (r > 0 && sd_bus_message_enter_container(reply, 'e', "oa{sa{sv}}") > 0) {
		sd_bus_message_read(reply, "o", &path);
		sd_bus_message_enter_container(reply, 'a', "{sa{sv}}");
		while (sd_bus_message_enter_container(reply, 'e', "sa{sv}") > 0) {
			sd_bus_message_read(reply, "s", &iface);
			if (!fn(user, path, iface, reply))
				sd_bus_message_skip(reply, "a{sv}");
			sd_bus_message_exit_container(reply);
		}
		sd_bus_message_exit_container(reply);
		sd_bus_message_exit_container(reply);
	}
	sd_bus_message_unref(reply);
	return BLT_OK;
}

/* Read string property `key` from an a{sv} without consuming it (peek via a copy). */
typedef struct props {
	char uuid[64], name[64], address[18];
	int16_t rssi;
	bool has_rssi, has_mfr;
	uint8_t mfr[32];
	size_t mfr_len;
} props_t;

static void read_props(sd_bus_message *m, props_t *p)
{
	const char *k, *s;
	memset(p, 0, sizeof *p);
	sd_bus_message_enter_container(m, 'a', "{sv}");
	while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
		sd_bus_message_read(m, "s", &k);
		if ((!strcmp(k, "UUID") || !strcmp(k, "Name") || !strcmp(k, "Address")) &&
		    sd_bus_message_read(m, "v", "s", &s) >= 0) {
			char *dst = !strcmp(k, "UUID")   ? p->uuid
			            : !strcmp(k, "Name") ? p->name
			                                 : p->address;
			size_t cap = !strcmp(k, "UUID")   ? sizeof p->uuid
			             : !strcmp(k, "Name") ? sizeof p->name
			                                  : sizeof p->address;
			snprintf(dst, cap, "%s", s);
		} else if (!strcmp(k, "RSSI") && sd_bus_message_read(m, "v", "n", &p->rssi) >= 0) {
			p->has_rssi = true;
		} else if (!strcmp(k, "ManufacturerData") &&
		           sd_bus_message_enter_container(m, 'v', "a{qv}") > 0) {
			sd_bus_message_enter_container(m, 'a', "{qv}");
			while (sd_bus_message_enter_container(m, 'e', "qv") > 0) {
				uint16_t id;
				const void *v;
				size_t n;
				sd_bus_message_read(m, "q", &id);
				if (id == BLT_BLE_MFR_ID &&
				    sd_bus_message_enter_container(m, 'v', "ay") > 0) {
					sd_bus_message_read_array(m, 'y', &v, &n);
					p->has_mfr = true;
					p->mfr_len = n < sizeof p->mfr ? n : sizeof p->mfr;
					memcpy(p->mfr, v, p->mfr_len);
					sd_bus_message_exit_container(m);
				} else {
					sd_bus_message_skip(m, "v");
				}
				sd_bus_message_exit_container(m);
			}
			sd_bus_message_exit_container(m);
			sd_bus_message_exit_container(m);
		} else {
			sd_bus_message_skip(m, "v");
		}
		sd_bus_message_exit_container(m);
	}
	sd_bus_message_exit_container(m);
}

typedef struct gatt_find {
	ble_link_t *l;
	char service[256];
} gatt_find_t;

static bool under(const char *path, const char *parent)
{
	size_t n = strlen(parent);
	return strncmp(path, parent, n) == 0 && path[n] == '/';
}

static int find_service(void *user, const char *path, const char *iface, sd_bus_message *m)
{
	gatt_find_t *g = user;
	props_t p;
	if (strcmp(iface, "org.bluez.GattService1") || !under(path, g->l->dev_path))
		return 0;
	read_props(m, &p);
	if (!strcasecmp(p.uuid, BLT_BLE_SERVICE_UUID))
		snprintf(g->service, sizeof g->service, "%s", path);
	return 1;
}

static int find_chars(void *user, const char *path, const char *iface, sd_bus_message *m)
{
	gatt_find_t *g = user;
	props_t p;
	if (strcmp(iface, "org.bluez.GattCharacteristic1") || !g->service[0] ||
	    !under(path, g->service))
		return 0;
	read_props(m, &p);
	if (!strcasecmp(p.uuid, BLT_BLE_NOTIFY_UUID))
		snprintf(g->l->notify_path, sizeof g->l->notify_path, "%s", path);
	else if (!strcasecmp(p.uuid, BLT_BLE_WRITE_UUID))
		snprintf(g->l->write_path, sizeof g->l->write_path, "%s", path);
	return 1;
}

/* --- connection ------------------------------------------------------------------------- */

static int discover_until(ble_link_t *l, uint64_t deadline, blt_detail_t *d)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r = call(l, l->adapter_path, "org.bluez.Adapter1", "StartDiscovery", 5000, &e, NULL);
	bool started = r >= 0;

	if (r < 0 && !sd_bus_error_has_name(&e, "org.bluez.Error.InProgress")) {
		r = bus_error(d, BLT_E_CONNECT, "BlueZ adapter StartDiscovery", &e, r);
		sd_bus_error_free(&e);
		return r;
	}
	sd_bus_error_free(&e);
	while (!dev_known(l) && blt_now_ms() < deadline)
		ble_link_process(l, 200, NULL);
	if (started) {
		call(l, l->adapter_path, "org.bluez.Adapter1", "StopDiscovery", 2000, &e, NULL);
		sd_bus_error_free(&e);
	}
	return dev_known(l) ? BLT_OK
	                    : blt_detail_set(d, BLT_E_NOT_FOUND,
	                                     "device not found (out of range or powered off)");
}

int ble_link_connect(ble_link_t *l, const char *address, int timeout_ms, blt_detail_t *d)
{
	uint64_t deadline = blt_now_ms() + (uint64_t)timeout_ms;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	gatt_find_t g;
	bool resolved = false, conn = false;
	int r, rc;

	snprintf(l->dev_path, sizeof l->dev_path, "%s/dev_%s", l->adapter_path, address);
	for (char *c = l->dev_path + strlen(l->adapter_path) + 5; *c; c++)
		*c = *c == ':' ? '_' : (char)toupper((unsigned char)*c);
	l->notify_path[0] = l->write_path[0] = '\0';
	if (!dev_known(l) && (rc = discover_until(l, deadline, d)) != BLT_OK)
		return rc;
	sd_bus_slot_unref(l->dev_slot);
	l->dev_slot = NULL;
	r = sd_bus_match_signal(l->bus, &l->dev_slot, BLUEZ, l->dev_path, PROPS,
	                        "PropertiesChanged", on_dev_props, l);
	if (r < 0)
		return blt_detail_set(d, BLT_E_CONNECT, "D-Bus match: %s", strerror(-r));
	r = call(l, l->dev_path, "org.bluez.Device1", "Connect", timeout_ms, &e, NULL);
	if (r < 0 && !sd_bus_error_has_name(&e, "org.bluez.Error.AlreadyConnected")) {
		rc = bus_error(d,
		               sd_bus_error_has_name(&e, SD_BUS_ERROR_NO_REPLY) ? BLT_E_TIMEOUT
		                                                                : BLT_E_CONNECT,
		               "connect", &e, r);
		sd_bus_error_free(&e);
		return rc;
	}
	sd_bus_error_free(&e);
	/* Connect may return before ServicesResolved turns true (LOCAL.md §3.14.8) */
	while (blt_now_ms() < deadline) {
		if (get_bool(l, "Connected", &conn) >= 0 && !conn)
			return blt_detail_set(d, BLT_E_CONNECT, "device dropped the connection");
		if (get_bool(l, "ServicesResolved", &resolved) >= 0 && resolved)
			break;
		ble_link_process(l, 100, NULL);
	}
	if (!resolved)
		return blt_detail_set(d, BLT_E_TIMEOUT, "services not resolved within %d ms",
		                      timeout_ms);
	l->connected = true;
	memset(&g, 0, sizeof g);
	g.l = l;
	if ((rc = managed_objects(l->bus, find_service, &g, d)) != BLT_OK ||
	    (rc = managed_objects(l->bus, find_chars, &g, d)) != BLT_OK)
		return rc;
	if (!g.service[0])
		return blt_detail_set(d, BLT_E_NOT_FOUND,
		                      "no Bluetti service (FF00) on the device");
	if (!l->notify_path[0] || !l->write_path[0])
		return blt_detail_set(d, BLT_E_NOT_FOUND,
		                      "FF00 service without its FF01/FF02 characteristics");
	sd_bus_slot_unref(l->chr_slot);
	l->chr_slot = NULL;
	r = sd_bus_match_signal(l->bus, &l->chr_slot, BLUEZ, l->notify_path, PROPS,
	                        "PropertiesChanged", on_chr_props, l);
	if (r < 0)
		return blt_detail_set(d, BLT_E_CONNECT, "D-Bus match: %s", strerror(-r));
	return BLT_OK;
}

int ble_link_start_notify(ble_link_t *l, blt_detail_t *d)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r =
	    call(l, l->notify_path, "org.bluez.GattCharacteristic1", "StartNotify", 5000, &e, NULL);
	if (r < 0) {
		r = bus_error(d, BLT_E_CONNECT, "StartNotify on FF01", &e, r);
		sd_bus_error_free(&e);
		return r;
	}
	l->notifying = true;
	return BLT_OK;
}

static int on_write_reply(sd_bus_message *m, void *user, sd_bus_error *e)
{
	ble_link_t *l = user;
	const sd_bus_error *err = sd_bus_message_get_error(m);
	(void)e;
	l->writing = false;
	l->write_slot = sd_bus_slot_unref(l->write_slot);
	if (err) {
		l->write_err = sd_bus_error_has_name(err, "org.bluez.Error.InProgress") ? 1 : -1;
		snprintf(l->write_msg, sizeof l->write_msg, "%s",
		         err->message ? err->message : err->name);
	} else {
		l->write_err = 0;
	}
	return 0;
}

/* One write with response. The call is asynchronous on the bus (a synchronous call would
 * read notifications ahead into sd-bus's buffer where a wait does not see them), but this
 * function returns only when BlueZ answered, like a synchronous write. */
static int write_once(ble_link_t *l, const uint8_t *p, size_t n, blt_detail_t *d)
{
	sd_bus_message *m = NULL;
	uint64_t deadline = blt_now_ms() + 5000;
	int r;

	r = sd_bus_message_new_method_call(l->bus, &m, BLUEZ, l->write_path,
	                                   "org.bluez.GattCharacteristic1", "WriteValue");
	if (r >= 0)
		r = sd_bus_message_append_array(m, 'y', p, n);
	if (r >= 0)
		r = sd_bus_message_append(m, "a{sv}", 1, "type", "s", "request");
	if (r >= 0)
		r = sd_bus_call_async(l->bus, &l->write_slot, m, on_write_reply, l, 5000000u);
	sd_bus_message_unref(m);
	if (r < 0)
		return blt_detail_set(d, BLT_E_IO, "write to FF02: %s", strerror(-r));
	l->writing = true;
	while (l->writing && blt_now_ms() < deadline) {
		r = process_all(l->bus);
		if (r < 0)
			break;
		if (l->writing)
			sd_bus_wait(l->bus, 10000u);
	}
	if (l->writing) {
		l->writing = false;
		l->write_slot = sd_bus_slot_unref(l->write_slot);
		return blt_detail_set(d, BLT_E_IO, "write to FF02: no answer from BlueZ");
	}
	return l->write_err;
}

int ble_link_write(ble_link_t *l, const uint8_t *p, size_t n, blt_detail_t *d)
{
	int r = 0;

	if (!l->connected)
		return blt_detail_set(d, BLT_E_DISCONNECTED, "not connected");
	for (int attempt = 0; attempt < 5; attempt++) {
		r = write_once(l, p, n, d);
		if (r != 1)
			break;
		ble_link_process(l, 20, NULL); /* another write in flight: retry shortly */
	}
	if (r < 0 || r == 1)
		return blt_detail_set(d, l->connected ? BLT_E_IO : BLT_E_DISCONNECTED,
		                      "write to FF02: %s", l->write_msg);
	return r == 0 ? BLT_OK : r;
}

void ble_link_disconnect(ble_link_t *l)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	if (!l)
		return;
	if (l->notifying && l->notify_path[0]) {
		call(l, l->notify_path, "org.bluez.GattCharacteristic1", "StopNotify", 2000, &e,
		     NULL);
		sd_bus_error_free(&e);
	}
	if (l->dev_path[0]) {
		call(l, l->dev_path, "org.bluez.Device1", "Disconnect", 5000, &e, NULL);
		sd_bus_error_free(&e);
	}
	l->connected = l->notifying = false;
	l->chr_slot = sd_bus_slot_unref(l->chr_slot);
	l->dev_slot = sd_bus_slot_unref(l->dev_slot);
}

void ble_link_close(ble_link_t *l)
{
	if (!l)
		return;
	sd_bus_slot_unref(l->chr_slot);
	sd_bus_slot_unref(l->dev_slot);
	sd_bus_slot_unref(l->write_slot);
	sd_bus_flush_close_unref(l->bus);
	free(l);
}

/* --- scan ------------------------------------------------------------------------------- */

typedef struct scan_ctx {
	const char *adapter_path;
	blt_ble_device_info_t *out;
	size_t cap, n;
} scan_ctx_t;

static int scan_obj(void *user, const char *path, const char *iface, sd_bus_message *m)
{
	scan_ctx_t *s = user;
	props_t p;
	blt_ble_device_info_t *i;
	if (strcmp(iface, "org.bluez.Device1") || !under(path, s->adapter_path) || s->n >= s->cap)
		return 0;
	read_props(m, &p);
	if (!p.address[0])
		return 1;
	i = &s->out[s->n++];
	memset(i, 0, sizeof *i);
	snprintf(i->address, sizeof i->address, "%s", p.address);
	snprintf(i->name, sizeof i->name, "%s", p.name);
	i->rssi = p.rssi;
	i->has_rssi = p.has_rssi;
	blt_ble_classify(i, p.mfr, p.mfr_len, p.has_mfr);
	return 1;
}

int ble_link_scan(const char *adapter, int duration_ms, blt_ble_device_info_t *out, size_t cap,
                  size_t *n, blt_detail_t *d)
{
	ble_link_cbs_t cbs = {0};
	ble_link_t *l;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	scan_ctx_t s = {.out = out, .cap = cap};
	uint64_t deadline;
	int r, rc;

	*n = 0;
	if ((rc = ble_link_open(adapter, &cbs, &l, d)) != BLT_OK)
		return rc;
	r = call(l, l->adapter_path, "org.bluez.Adapter1", "StartDiscovery", 5000, &e, NULL);
	if (r < 0 && !sd_bus_error_has_name(&e, "org.bluez.Error.InProgress")) {
		rc = bus_error(d, BLT_E_CONNECT, "BlueZ adapter StartDiscovery", &e, r);
		sd_bus_error_free(&e);
		ble_link_close(l);
		return rc;
	}
	sd_bus_error_free(&e);
	deadline = blt_now_ms() + (uint64_t)duration_ms;
	while (blt_now_ms() < deadline)
		ble_link_process(l, (int)(deadline - blt_now_ms()), NULL);
	s.adapter_path = l->adapter_path;
	rc = managed_objects(l->bus, scan_obj, &s, d);
	call(l, l->adapter_path, "org.bluez.Adapter1", "StopDiscovery", 2000, &e, NULL);
	sd_bus_error_free(&e);
	ble_link_close(l);
	*n = s.n;
	return rc;
}
