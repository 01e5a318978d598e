/* bluetti-sim --ble (sim_ble.h): a BlueZ imitation on D-Bus (sd-bus) serving one simulated
 * device over the V2 encrypted BLE protocol. What it imitates (LOCAL.md §3.14.8):
 * ObjectManager with InterfacesAdded/Removed; Adapter1.StartDiscovery/StopDiscovery (the
 * device object appears on discovery); Device1.Connect/Disconnect with Connected,
 * ServicesResolved (turning true after Connect returned), Name, RSSI, ManufacturerData
 * (0x4C42 = "BLUETTF"); the FF00 GattService1 with FF01 (StartNotify/StopNotify, each
 * notification one PropertiesChanged on Value, split at MTU-3) and FF02 (WriteValue).
 * The device side follows the firmware timers of §3.3: type 1 resent at 0.5 s and 4x at
 * 50 ms, a disconnect 5 s into a stalled step, type 6 resent from 5 s, a disconnect 11 s
 * after type 6 without a write. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <systemd/sd-bus.h>

#include <bluetti/ble.h>
#include <bluetti/bluetti.h>
#include <bluetti/transport.h>

#include "sim.h"
#include "sim_ble.h"
#include "say.h"
#include "transport/ble_session.h"

#define PROG          "bluetti-sim --ble"
#define OUTBOX        128
#define IFACE_ADAPTER "org.bluez.Adapter1"
#define IFACE_DEVICE  "org.bluez.Device1"
#define IFACE_SERVICE "org.bluez.GattService1"
#define IFACE_CHAR    "org.bluez.GattCharacteristic1"

static volatile sig_atomic_t stop_signal;
static void on_signal(int sig)
{
	stop_signal = sig;
}

typedef struct fault {
	int count; /* sessions left it applies to; 0 = off, -1 = always */
	int arg;
} fault_t;

typedef struct sb {
	sd_bus *bus;
	sim_opts_t so;
	sim_device_t dev;
	int verbose;
	char address[18], name[80], adapter[32];
	char adapter_path[64], dev_path[128], svc_path[160], nfy_path[192], wr_path[192];
	uint8_t priv[32], pub[64];
	int mtu;
	int16_t rssi;

	bool dev_added, connected, resolved, notifying, discovering;
	sd_bus_slot *dev_slot, *svc_slot, *nfy_slot, *wr_slot;
	uint64_t resolve_at;

	blt_ble_session_t sess;
	bool in_session;
	unsigned session_faults;
	int drop_type;         /* handshake type not sent this session, 0 = none */
	long disconnect_after; /* replies before a disconnect this session, -1 = never */
	unsigned long replies;
	uint64_t step_deadline, t1_next, t6_next, t6_limit;
	int t1_resends, t6_resends;
	bool wrote_after_6;
	uint8_t t1[BLT_BLE_HS_MAX], t6[BLT_BLE_HS_MAX];
	size_t t1_len, t6_len;

	uint8_t value[BLT_BLE_MSG_MAX];
	size_t value_len;
	uint8_t outbox[OUTBOX][BLT_BLE_MSG_MAX];
	size_t outbox_len[OUTBOX];
	int ob_head, ob_count;

	fault_t f_drop, f_checksum, f_short_sig, f_short_secret, f_disconnect;
	bool out_of_range;
	uint64_t sessions, handshakes;
} sb_t;

/* --- notifications ---------------------------------------------------------------------- */

static void queue_message(sb_t *s, const uint8_t *p, size_t n)
{
	size_t chunk = (size_t)(s->mtu - 3);
	for (size_t off = 0; off < n; off += chunk) {
		size_t k = n - off < chunk ? n - off : chunk;
		int slot;
		if (s->ob_count == OUTBOX) {
			say(1, "notification queue full, message dropped");
			return;
		}
		slot = (s->ob_head + s->ob_count) % OUTBOX;
		memcpy(s->outbox[slot], p + off, k);
		s->outbox_len[slot] = k;
		s->ob_count++;
	}
}

static void flush_outbox(sb_t *s)
{
	while (s->ob_count && s->notifying) {
		int slot = s->ob_head;
		memcpy(s->value, s->outbox[slot], s->outbox_len[slot]);
		s->value_len = s->outbox_len[slot];
		s->ob_head = (s->ob_head + 1) % OUTBOX;
		s->ob_count--;
		sd_bus_emit_properties_changed(s->bus, s->nfy_path, IFACE_CHAR, "Value", NULL);
	}
	if (!s->notifying)
		s->ob_count = 0;
}

/* --- GATT objects ---------------------------------------------------------------------- */

static int get_str(sd_bus *bus, const char *path, const char *iface, const char *prop,
                   sd_bus_message *reply, void *user, sd_bus_error *e)
{
	sb_t *s = user;
	(void)bus;
	(void)e;
	if (!strcmp(prop, "UUID")) {
		if (!strcmp(iface, IFACE_SERVICE))
			return sd_bus_message_append(reply, "s", BLT_BLE_SERVICE_UUID);
		return sd_bus_message_append(reply, "s",
		                             !strcmp(path, s->nfy_path) ? BLT_BLE_NOTIFY_UUID
		                                                        : BLT_BLE_WRITE_UUID);
	}
	if (!strcmp(prop, "Address"))
		return sd_bus_message_append(
		    reply, "s", !strcmp(iface, IFACE_ADAPTER) ? "00:1A:7D:DA:71:13" : s->address);
	if (!strcmp(prop, "Name") || !strcmp(prop, "Alias"))
		return sd_bus_message_append(
		    reply, "s", !strcmp(iface, IFACE_ADAPTER) ? "bluetti-sim" : s->name);
	return sd_bus_message_append(reply, "s", "");
}

static int get_bool(sd_bus *bus, const char *path, const char *iface, const char *prop,
                    sd_bus_message *reply, void *user, sd_bus_error *e)
{
	sb_t *s = user;
	int v = 0;
	(void)bus;
	(void)path;
	(void)iface;
	(void)e;
	if (!strcmp(prop, "Connected"))
		v = s->connected;
	else if (!strcmp(prop, "ServicesResolved"))
		v = s->resolved;
	else if (!strcmp(prop, "Notifying"))
		v = s->notifying;
	else if (!strcmp(prop, "Discovering"))
		v = s->discovering;
	else if (!strcmp(prop, "Powered") || !strcmp(prop, "Primary"))
		v = 1;
	return sd_bus_message_append(reply, "b", v);
}

static int get_obj(sd_bus *bus, const char *path, const char *iface, const char *prop,
                   sd_bus_message *reply, void *user, sd_bus_error *e)
{
	sb_t *s = user;
	(void)bus;
	(void)path;
	(void)e;
	(void)prop;
	if (!strcmp(iface, IFACE_SERVICE))
		return sd_bus_message_append(reply, "o", s->dev_path);
	if (!strcmp(iface, IFACE_CHAR))
		return sd_bus_message_append(reply, "o", s->svc_path);
	return sd_bus_message_append(reply, "o", s->adapter_path);
}

static int get_rssi(sd_bus *bus, const char *path, const char *iface, const char *prop,
                    sd_bus_message *reply, void *user, sd_bus_error *e)
{
	(void)bus;
	(void)path;
	(void)iface;
	(void)prop;
	(void)e;
	return sd_bus_message_append(reply, "n", ((sb_t *)user)->rssi);
}

static int get_mfr(sd_bus *bus, const char *path, const char *iface, const char *prop,
                   sd_bus_message *reply, void *user, sd_bus_error *e)
{
	int r;
	(void)bus;
	(void)path;
	(void)iface;
	(void)prop;
	(void)e;
	(void)user;
	r = sd_bus_message_open_container(reply, 'a', "{qv}");
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'e', "qv");
	if (r >= 0)
		r = sd_bus_message_append(reply, "q", (uint16_t)BLT_BLE_MFR_ID);
	if (r >= 0)
		r = sd_bus_message_open_container(reply, 'v', "ay");
	if (r >= 0)
		r = sd_bus_message_append_array(reply, 'y', "BLUETTF", 7);
	for (int i = 0; i < 3 && r >= 0; i++)
		r = sd_bus_message_close_container(reply);
	return r;
}

static int get_value(sd_bus *bus, const char *path, const char *iface, const char *prop,
                     sd_bus_message *reply, void *user, sd_bus_error *e)
{
	sb_t *s = user;
	(void)bus;
	(void)iface;
	(void)prop;
	(void)e;
	if (strcmp(path, s->nfy_path) != 0)
		return sd_bus_message_append_array(reply, 'y', "", 0);
	return sd_bus_message_append_array(reply, 'y', s->value, s->value_len);
}

static int get_flags(sd_bus *bus, const char *path, const char *iface, const char *prop,
                     sd_bus_message *reply, void *user, sd_bus_error *e)
{
	sb_t *s = user;
	(void)bus;
	(void)iface;
	(void)prop;
	(void)e;
	if (!strcmp(path, s->nfy_path))
		return sd_bus_message_append(reply, "as", 1, "notify");
	return sd_bus_message_append(reply, "as", 2, "write", "write-without-response");
}

static void end_session(sb_t *s)
{
	blt_ble_clear(&s->sess);
	s->in_session = false;
	s->step_deadline = s->t1_next = s->t6_next = s->t6_limit = 0;
}

static void emit_dev(sb_t *s, const char *p1, const char *p2)
{
	sd_bus_emit_properties_changed(s->bus, s->dev_path, IFACE_DEVICE, p1, p2, NULL);
}

static void remove_gatt(sb_t *s)
{
	if (!s->svc_slot)
		return;
	sd_bus_emit_interfaces_removed(s->bus, s->nfy_path, IFACE_CHAR, NULL);
	sd_bus_emit_interfaces_removed(s->bus, s->wr_path, IFACE_CHAR, NULL);
	sd_bus_emit_interfaces_removed(s->bus, s->svc_path, IFACE_SERVICE, NULL);
	s->nfy_slot = sd_bus_slot_unref(s->nfy_slot);
	s->wr_slot = sd_bus_slot_unref(s->wr_slot);
	s->svc_slot = sd_bus_slot_unref(s->svc_slot);
}

static void drop_link(sb_t *s, const char *why)
{
	if (!s->connected)
		return;
	say(2, "disconnect: %s", why);
	end_session(s);
	s->notifying = false;
	s->ob_count = 0;
	s->connected = s->resolved = false;
	s->resolve_at = 0;
	emit_dev(s, "Connected", "ServicesResolved");
	remove_gatt(s);
}

/* --- the device's side of the session --------------------------------------------------- */

static bool take(fault_t *f)
{
	if (!f->count)
		return false;
	if (f->count > 0)
		f->count--;
	return true;
}

/* Handshake type of an outgoing message at index i of a step (for --fault drop-step). */
static void send_step(sb_t *s, const blt_ble_out_t *o, const int *types)
{
	for (int i = 0; i < o->nsend; i++) {
		if (types[i] == s->drop_type) {
			say(2, "fault: handshake type %d not sent", types[i]);
			continue;
		}
		queue_message(s, o->send[i], o->send_len[i]);
		if (types[i] == 6) {
			memcpy(s->t6, o->send[i], o->send_len[i]);
			s->t6_len = o->send_len[i];
		}
	}
}

static int start_session(sb_t *s)
{
	blt_ble_config_t cfg = {.role = BLT_BLE_DEVICE, .sign_priv = s->priv};
	blt_ble_out_t o;
	blt_detail_t d = {{0}};
	static const int t1[] = {1};
	uint64_t now = blt_now_ms();

	s->drop_type = take(&s->f_drop) ? s->f_drop.arg : 0;
	cfg.faults = (take(&s->f_checksum) ? BLT_BLE_FAULT_BAD_CHECKSUM : 0) |
	             (take(&s->f_short_sig) ? BLT_BLE_FAULT_SHORT_SIG : 0) |
	             (take(&s->f_short_secret) ? BLT_BLE_FAULT_SHORT_SECRET : 0);
	s->disconnect_after = take(&s->f_disconnect) ? s->f_disconnect.arg : -1;
	if (blt_ble_init(&s->sess, &cfg, &d) != BLT_OK || blt_ble_device_start(&s->sess, &o, &d)) {
		say(0, "session: %s", d.text);
		return -1;
	}
	s->in_session = true;
	s->sessions++;
	s->replies = 0;
	s->wrote_after_6 = false;
	s->t6_resends = s->t1_resends = 0;
	if (cfg.faults || s->drop_type || s->disconnect_after >= 0)
		say(2, "session %llu with faults:%s%s%s%s%s", (unsigned long long)s->sessions,
		    cfg.faults & BLT_BLE_FAULT_BAD_CHECKSUM ? " bad-checksum" : "",
		    cfg.faults & BLT_BLE_FAULT_SHORT_SIG ? " short-sig" : "",
		    cfg.faults & BLT_BLE_FAULT_SHORT_SECRET ? " short-secret" : "",
		    s->drop_type ? " drop-step" : "",
		    s->disconnect_after >= 0 ? " disconnect-after" : "");
	memcpy(s->t1, o.send[0], o.send_len[0]);
	s->t1_len = o.send_len[0];
	send_step(s, &o, t1);
	s->t1_next = now + 500;
	s->step_deadline = now + 5000;
	return 0;
}

static void on_write(sb_t *s, const uint8_t *p, size_t n)
{
	static const int t34[] = {3, 4}, t6[] = {6};
	blt_ble_out_t *o = malloc(sizeof *o);
	blt_detail_t d = {{0}};
	blt_ble_state_t before = s->sess.state;
	int rc;

	if (!o)
		return;
	if (!s->in_session) {
		say(3, "write of %zu bytes without a session ignored", n);
		free(o);
		return;
	}
	if (before == BLT_BLE_SECURE)
		s->wrote_after_6 = true; /* any write ends the 11 s wait (§3.14.7) */
	rc = blt_ble_feed(&s->sess, p, n, o, &d);
	while (rc != 0) {
		if (rc < 0) {
			say(2, "rejected a %zu-byte write: %s: %s", n, blt_strerror(rc), d.text);
			if (o->nsend)
				send_step(s, o, before == BLT_BLE_WAIT_2 ? t34 : t6);
			if (s->sess.state == BLT_BLE_FAILED) {
				flush_outbox(s);
				drop_link(s, "handshake failed");
			}
			break;
		}
		if (before == BLT_BLE_WAIT_2 && o->nsend) {
			send_step(s, o, t34);
			s->t1_next = 0;
			s->step_deadline = blt_now_ms() + 5000;
		} else if (before == BLT_BLE_WAIT_5 && o->nsend) {
			send_step(s, o, t6);
			s->handshakes++;
			s->step_deadline = 0;
			s->t6_next = blt_now_ms() + 5000;
			s->t6_limit = blt_now_ms() + 11000;
			say(3, "handshake %llu complete", (unsigned long long)s->handshakes);
		}
		if (o->has_plain) {
			sim_reply_t r;
			uint8_t w[BLT_BLE_MSG_MAX];
			size_t wn;
			if (s->disconnect_after >= 0 && (long)s->replies >= s->disconnect_after) {
				free(o);
				drop_link(s, "fault: disconnect mid-session");
				return;
			}
			if (sim_handle(&s->dev, o->plain, o->plain_len, &r) == SIM_REPLY &&
			    blt_ble_encrypt(&s->sess, r.rtu, r.rtu_len, w, sizeof w, &wn, &d) ==
			        BLT_OK) {
				s->replies++;
				s->dev.answered++;
				queue_message(s, w, wn);
				say(3, "%s", r.summary);
			} else {
				say(3, "request ignored: %s", r.summary);
			}
		}
		before = s->sess.state;
		rc = blt_ble_feed(&s->sess, NULL, 0, o, &d);
	}
	OPENSSL_cleanse(o, sizeof *o);
	free(o);
}

static void timers(sb_t *s, uint64_t now)
{
	if (s->resolve_at && now >= s->resolve_at) {
		s->resolve_at = 0;
		s->resolved = true;
		emit_dev(s, "ServicesResolved", NULL);
	}
	if (!s->in_session)
		return;
	if (s->sess.state == BLT_BLE_WAIT_2 && s->t1_next && now >= s->t1_next &&
	    s->t1_resends < 5 && s->drop_type != 1) {
		queue_message(s, s->t1, s->t1_len);
		s->t1_resends++;
		s->t1_next = now + 50;
	}
	if (s->step_deadline && now >= s->step_deadline) {
		drop_link(s, "handshake step not answered within 5 s");
		return;
	}
	if (s->sess.state == BLT_BLE_SECURE && !s->wrote_after_6) {
		if (s->t6_limit && now >= s->t6_limit) {
			drop_link(s, "no request within 11 s of type 6");
			return;
		}
		if (s->t6_next && now >= s->t6_next && s->t6_resends < 7 && s->drop_type != 6) {
			queue_message(s, s->t6, s->t6_len);
			s->t6_resends++;
			s->t6_next = now + 1000;
		}
	}
}

/* --- methods ----------------------------------------------------------------------------- */

static int m_start_notify(sd_bus_message *m, void *user, sd_bus_error *e)
{
	sb_t *s = user;
	(void)e;
	if (!s->connected)
		return sd_bus_reply_method_errorf(m, "org.bluez.Error.Failed", "Not connected");
	if (strcmp(sd_bus_message_get_path(m), s->nfy_path) != 0)
		return sd_bus_reply_method_errorf(m, "org.bluez.Error.NotSupported",
		                                  "Operation is not supported");
	if (s->notifying) /* re-enabling mid-session does nothing (§3.14.6) */
		return sd_bus_reply_method_return(m, "");
	s->notifying = true;
	sd_bus_emit_properties_changed(s->bus, s->nfy_path, IFACE_CHAR, "Notifying", NULL);
	start_session(s);
	return sd_bus_reply_method_return(m, "");
}

static int m_stop_notify(sd_bus_message *m, void *user, sd_bus_error *e)
{
	sb_t *s = user;
	(void)e;
	if (s->notifying) {
		s->notifying = false;
		end_session(s); /* disabling notifications resets the handshake */
		sd_bus_emit_properties_changed(s->bus, s->nfy_path, IFACE_CHAR, "Notifying", NULL);
	}
	return sd_bus_reply_method_return(m, "");
}

static int m_write(sd_bus_message *m, void *user, sd_bus_error *e)
{
	sb_t *s = user;
	const void *p;
	size_t n;
	int r;
	(void)e;
	if ((r = sd_bus_message_read_array(m, 'y', &p, &n)) < 0)
		return r;
	if (!s->connected)
		return sd_bus_reply_method_errorf(m, "org.bluez.Error.Failed", "Not connected");
	if (strcmp(sd_bus_message_get_path(m), s->wr_path) != 0)
		return sd_bus_reply_method_errorf(m, "org.bluez.Error.NotPermitted",
		                                  "Write not permitted");
	if (n > 512)
		return sd_bus_reply_method_errorf(m, "org.bluez.Error.InvalidValueLength",
		                                  "Invalid Length");
	r = sd_bus_reply_method_return(m, "");
	on_write(s, p, n);
	return r;
}

static int m_read(sd_bus_message *m, void *user, sd_bus_error *e)
{
	(void)user;
	(void)e;
	return sd_bus_reply_method_errorf(m, "org.bluez.Error.NotPermitted", "Read not permitted");
}

static const sd_bus_vtable service_vt[] = {
    SD_BUS_VTABLE_START(0), SD_BUS_PROPERTY("UUID", "s", get_str, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Primary", "b", get_bool, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Device", "o", get_obj, 0, SD_BUS_VTABLE_PROPERTY_CONST), SD_BUS_VTABLE_END};

static const sd_bus_vtable char_vt[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("UUID", "s", get_str, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Service", "o", get_obj, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Value", "ay", get_value, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("Notifying", "b", get_bool, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("Flags", "as", get_flags, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_METHOD("StartNotify", "", "", m_start_notify, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("StopNotify", "", "", m_stop_notify, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("WriteValue", "aya{sv}", "", m_write, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("ReadValue", "a{sv}", "ay", m_read, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END};

static void add_gatt(sb_t *s)
{
	if (s->svc_slot)
		return;
	sd_bus_add_object_vtable(s->bus, &s->svc_slot, s->svc_path, IFACE_SERVICE, service_vt, s);
	sd_bus_add_object_vtable(s->bus, &s->nfy_slot, s->nfy_path, IFACE_CHAR, char_vt, s);
	sd_bus_add_object_vtable(s->bus, &s->wr_slot, s->wr_path, IFACE_CHAR, char_vt, s);
	sd_bus_emit_interfaces_added(s->bus, s->svc_path, IFACE_SERVICE, NULL);
	sd_bus_emit_interfaces_added(s->bus, s->nfy_path, IFACE_CHAR, NULL);
	sd_bus_emit_interfaces_added(s->bus, s->wr_path, IFACE_CHAR, NULL);
}

static int m_connect(sd_bus_message *m, void *user, sd_bus_error *e)
{
	sb_t *s = user;
	(void)e;
	if (s->out_of_range)
		return sd_bus_reply_method_errorf(m, "org.bluez.Error.Failed", "Host is down");
	if (s->connected)
		return sd_bus_reply_method_errorf(m, "org.bluez.Error.AlreadyConnected",
		                                  "Already Connected");
	s->connected = true;
	add_gatt(s);
	emit_dev(s, "Connected", NULL);
	s->resolve_at = blt_now_ms() + 50; /* Connect returns before ServicesResolved */
	say(3, "connected");
	return sd_bus_reply_method_return(m, "");
}

static int m_disconnect(sd_bus_message *m, void *user, sd_bus_error *e)
{
	sb_t *s = user;
	(void)e;
	drop_link(s, "requested by the client");
	return sd_bus_reply_method_return(m, "");
}

static const sd_bus_vtable device_vt[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Address", "s", get_str, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Name", "s", get_str, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Alias", "s", get_str, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Adapter", "o", get_obj, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("RSSI", "n", get_rssi, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("ManufacturerData", "a{qv}", get_mfr, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Connected", "b", get_bool, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_PROPERTY("ServicesResolved", "b", get_bool, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_METHOD("Connect", "", "", m_connect, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("Disconnect", "", "", m_disconnect, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END};

static int m_start_disc(sd_bus_message *m, void *user, sd_bus_error *e)
{
	sb_t *s = user;
	(void)e;
	if (s->discovering)
		return sd_bus_reply_method_errorf(m, "org.bluez.Error.InProgress", "In Progress");
	s->discovering = true;
	sd_bus_emit_properties_changed(s->bus, s->adapter_path, IFACE_ADAPTER, "Discovering", NULL);
	if (!s->dev_added && !s->out_of_range) {
		sd_bus_add_object_vtable(s->bus, &s->dev_slot, s->dev_path, IFACE_DEVICE, device_vt,
		                         s);
		sd_bus_emit_interfaces_added(s->bus, s->dev_path, IFACE_DEVICE, NULL);
		s->dev_added = true;
		say(3, "discovered by a scan");
	}
	return sd_bus_reply_method_return(m, "");
}

static int m_stop_disc(sd_bus_message *m, void *user, sd_bus_error *e)
{
	sb_t *s = user;
	(void)e;
	if (!s->discovering)
		return sd_bus_reply_method_errorf(m, "org.bluez.Error.Failed",
		                                  "No discovery started");
	s->discovering = false;
	sd_bus_emit_properties_changed(s->bus, s->adapter_path, IFACE_ADAPTER, "Discovering", NULL);
	return sd_bus_reply_method_return(m, "");
}

static const sd_bus_vtable adapter_vt[] = {
    SD_BUS_VTABLE_START(0),
    SD_BUS_PROPERTY("Address", "s", get_str, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Name", "s", get_str, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Powered", "b", get_bool, 0, SD_BUS_VTABLE_PROPERTY_CONST),
    SD_BUS_PROPERTY("Discovering", "b", get_bool, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
    SD_BUS_METHOD("StartDiscovery", "", "", m_start_disc, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_METHOD("StopDiscovery", "", "", m_stop_disc, SD_BUS_VTABLE_UNPRIVILEGED),
    SD_BUS_VTABLE_END};

/* --- options, main ---------------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: bluetti-sim --ble [options]\n"
	    "One simulated V2 device over encrypted Bluetooth LE, served as a BlueZ imitation\n"
	    "(org.bluez) on the D-Bus bus that DBUS_SYSTEM_BUS_ADDRESS names - a private\n"
	    "dbus-daemon for tests, never the real system bus of a machine with BlueZ.\n"
	    "The device signs with a key pair generated at start (not the vendor's key):\n"
	    "clients accept it only with the test override of the K2 verify key.\n"
	    "  -p, --profile MODEL       device profile (default EL100V2)\n"
	    "  -s, --sn SN               serial number (default 2434000112345)\n"
	    "      --address ADDR        device address (default C0:FF:EE:00:00:01)\n"
	    "      --adapter NAME        adapter object name (default hci0)\n"
	    "      --mtu N               ATT MTU; notifications split at N-3 (23-517,\n"
	    "                            default 247)\n"
	    "      --rssi DBM            RSSI reported to scans (default -60)\n"
	    "      --key-out FILE        write the device's public verify key (hex X||Y)\n"
	    "      --ready-file FILE     created once the service is on the bus\n"
	    "      --fault SPEC          (repeatable) SPEC[:COUNT], COUNT sessions (default 1,\n"
	    "                            'always' for every session):\n"
	    "                              drop-step:T     never send handshake type T\n"
	    "                                              (1, 3, 4 or 6)\n"
	    "                              bad-checksum    corrupt the type-1 checksum\n"
	    "                              short-sig       signature with a short r or s\n"
	    "                              short-secret    session key one byte short\n"
	    "                              disconnect-after:N  drop the link after N replies\n"
	    "                              out-of-range    never discoverable, Connect fails\n"
	    "  -v, --verbose             more output (-v: every request)\n"
	    "  -h, --help\n");
}

static int parse_count(const char *p, int *count)
{
	char *end;
	long v;
	if (!p || !*p) {
		*count = 1;
		return 0;
	}
	if (!strcmp(p, "always")) {
		*count = -1;
		return 0;
	}
	v = strtol(p, &end, 10);
	if (*end || v < 1 || v > 1000)
		return -1;
	*count = (int)v;
	return 0;
}

static int parse_fault(sb_t *s, const char *spec)
{
	char buf[64], *c1, *c2;
	long v;
	snprintf(buf, sizeof buf, "%s", spec);
	c1 = strchr(buf, ':');
	if (c1)
		*c1++ = '\0';
	if (!strcmp(buf, "out-of-range")) {
		s->out_of_range = true;
		return c1 ? -1 : 0;
	}
	if (!strcmp(buf, "drop-step") || !strcmp(buf, "disconnect-after")) {
		fault_t *f = buf[0] == 'd' && buf[1] == 'r' ? &s->f_drop : &s->f_disconnect;
		if (!c1)
			return -1;
		c2 = strchr(c1, ':');
		if (c2)
			*c2++ = '\0';
		v = strtol(c1, NULL, 10);
		if (f == &s->f_drop && v != 1 && v != 3 && v != 4 && v != 6)
			return -1;
		if (f == &s->f_disconnect && (v < 0 || v > 100000))
			return -1;
		f->arg = (int)v;
		return parse_count(c2, &f->count);
	}
	if (!strcmp(buf, "bad-checksum"))
		return parse_count(c1, &s->f_checksum.count);
	if (!strcmp(buf, "short-sig"))
		return parse_count(c1, &s->f_short_sig.count);
	if (!strcmp(buf, "short-secret"))
		return parse_count(c1, &s->f_short_secret.count);
	return -1;
}

/* --key-file: the device's signing key (hex scalar), kept across runs so a restarted
 * simulator is the same device; created (mode 0600) with a fresh key if missing. Without
 * it, a new key every run. Never the vendor's key. */
static int load_or_make_key(sb_t *s, const char *path)
{
	blt_detail_t d = {{0}};
	char hex[80] = {0};
	size_t n = 0;
	FILE *f;
	int fd;

	if (path && (f = fopen(path, "r"))) {
		if (!fgets(hex, sizeof hex, f))
			hex[0] = '\0';
		fclose(f);
		if (blt_hex_decode(hex, s->priv, sizeof s->priv, &n, &d) != BLT_OK || n != 32 ||
		    blt_ble_pubkey(s->priv, s->pub, &d) != BLT_OK) {
			say(0, "--key-file %s: not a P-256 private key in hex (%s)", path, d.text);
			OPENSSL_cleanse(hex, sizeof hex);
			return -1;
		}
		OPENSSL_cleanse(hex, sizeof hex);
		return 0;
	}
	if (blt_ble_keygen(s->priv, s->pub, &d) != BLT_OK) {
		say(0, "key pair: %s", d.text);
		return -1;
	}
	if (!path)
		return 0;
	blt_hex_encode(s->priv, 32, hex, sizeof hex);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f || fprintf(f, "%s\n", hex) < 0 || fclose(f) != 0) {
		say(0, "--key-file %s: %s", path, strerror(errno));
		if (!f && fd >= 0)
			close(fd);
		OPENSSL_cleanse(hex, sizeof hex);
		return -1;
	}
	OPENSSL_cleanse(hex, sizeof hex);
	return 0;
}

static int write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
		say(0, "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The options of --ble mode that are not kept in the device state. */
typedef struct sb_args {
	const char *profile, *sn, *key_out, *key_file, *ready;
} sb_args_t;

/* Parse the options into s and a. Returns -1 to go on, else the exit status (0 after
 * --help). */
static int parse_args(int argc, char **argv, sb_t *s, sb_args_t *a)
{
	static const struct option longopts[] = {{"ble", no_argument, NULL, 'B'},
	                                         {"profile", required_argument, NULL, 'p'},
	                                         {"sn", required_argument, NULL, 's'},
	                                         {"address", required_argument, NULL, 'a'},
	                                         {"adapter", required_argument, NULL, 'A'},
	                                         {"mtu", required_argument, NULL, 'm'},
	                                         {"rssi", required_argument, NULL, 'r'},
	                                         {"key-out", required_argument, NULL, 'k'},
	                                         {"key-file", required_argument, NULL, 'K'},
	                                         {"ready-file", required_argument, NULL, 'R'},
	                                         {"fault", required_argument, NULL, 'f'},
	                                         {"verbose", no_argument, NULL, 'v'},
	                                         {"help", no_argument, NULL, 'h'},
	                                         {NULL, 0, NULL, 0}};
	char *end;
	int c;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:s:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'B': break;
		case 'p': a->profile = optarg; break;
		case 's': a->sn = optarg; break;
		case 'a':
			if (blt_ble_address_ok(optarg) != BLT_OK) {
				say(0, "--address '%s': expected AA:BB:CC:DD:EE:FF", optarg);
				return 2;
			}
			snprintf(s->address, sizeof s->address, "%s", optarg);
			for (char *q = s->address; *q; q++)
				if (*q >= 'a' && *q <= 'f')
					*q = (char)(*q - 'a' + 'A');
			break;
		case 'A':
			if (!optarg[0] || strlen(optarg) > 16 || strchr(optarg, '/')) {
				say(0, "--adapter '%s': not a valid adapter name", optarg);
				return 2;
			}
			snprintf(s->adapter, sizeof s->adapter, "%s", optarg);
			break;
		case 'm':
			s->mtu = (int)strtol(optarg, &end, 10);
			if (*end || s->mtu < 23 || s->mtu > 517) {
				say(0, "--mtu must be 23-517");
				return 2;
			}
			break;
		case 'r':
			s->rssi = (int16_t)strtol(optarg, &end, 10);
			if (*end || s->rssi < -127 || s->rssi > 20) {
				say(0, "--rssi must be -127..20");
				return 2;
			}
			break;
		case 'k': a->key_out = optarg; break;
		case 'K': a->key_file = optarg; break;
		case 'R': a->ready = optarg; break;
		case 'f':
			if (parse_fault(s, optarg) != 0) {
				say(0, "--fault '%s': unknown or malformed (see --help)", optarg);
				return 2;
			}
			break;
		case 'v': s->verbose++; break;
		case 'h': usage(stdout); return 0;
		default:
			say(0, "unknown option or missing value '%s' (see --help)",
			    argv[optind - 1]);
			return 2;
		}
	}
	say_verbose = s->verbose;
	if (optind < argc) {
		say(0, "unexpected argument '%s'", argv[optind]);
		return 2;
	}
	return -1;
}

/* The D-Bus object paths of the adapter, the device and its GATT objects. */
static void set_paths(sb_t *s)
{
	snprintf(s->name, sizeof s->name, "%.39s%.23s", s->dev.model, s->dev.sn);
	snprintf(s->adapter_path, sizeof s->adapter_path, "/org/bluez/%.16s", s->adapter);
	snprintf(s->dev_path, sizeof s->dev_path, "%.63s/dev_%.17s", s->adapter_path, s->address);
	for (char *q = s->dev_path + strlen(s->adapter_path); *q; q++)
		if (*q == ':')
			*q = '_';
	snprintf(s->svc_path, sizeof s->svc_path, "%.127s/service0010", s->dev_path);
	snprintf(s->nfy_path, sizeof s->nfy_path, "%.159s/char0011", s->svc_path);
	snprintf(s->wr_path, sizeof s->wr_path, "%.159s/char0014", s->svc_path);
}

/* Serve org.bluez on the bus of DBUS_SYSTEM_BUS_ADDRESS. 0, or -1 (said). */
static int open_bus(sb_t *s)
{
	int r;

	r = sd_bus_open_system(&s->bus);
	if (r < 0) {
		say(0, "D-Bus (DBUS_SYSTEM_BUS_ADDRESS): %s", strerror(-r));
		return -1;
	}
	if ((r = sd_bus_add_object_manager(s->bus, NULL, "/")) < 0 ||
	    (r = sd_bus_add_object_vtable(s->bus, NULL, s->adapter_path, IFACE_ADAPTER, adapter_vt,
	                                  s)) < 0 ||
	    (r = sd_bus_request_name(s->bus, "org.bluez", 0)) < 0) {
		say(0, "cannot serve org.bluez on the bus: %s (is BlueZ itself running there?)",
		    strerror(-r));
		sd_bus_flush_close_unref(s->bus);
		return -1;
	}
	return 0;
}

/* Run the bus, the timers and the device until SIGINT/SIGTERM or a bus error. */
static void serve(sb_t *s)
{
	uint64_t last_tick;
	int r;

	last_tick = blt_now_ms();
	while (!stop_signal) {
		uint64_t now;
		while ((r = sd_bus_process(s->bus, NULL)) > 0)
			;
		if (r < 0) {
			say(0, "D-Bus: %s", strerror(-r));
			break;
		}
		now = blt_now_ms();
		timers(s, now);
		flush_outbox(s);
		if (now - last_tick >= 1000) {
			sim_device_tick(&s->dev, (double)(now - last_tick) / 1000.0);
			last_tick = now;
		}
		sd_bus_flush(s->bus);
		sd_bus_wait(s->bus, 20000);
	}
}

int sim_ble_main(int argc, char **argv)
{
	static sb_t sbs;
	sb_t *s = &sbs;
	sb_args_t a = {.profile = "EL100V2", .sn = "2434000112345"};
	blt_detail_t d = {{0}};
	struct sigaction sa;
	char hex[129];
	char *end;
	int rc;

	say_prog = PROG;
	snprintf(s->address, sizeof s->address, "C0:FF:EE:00:00:01");
	snprintf(s->adapter, sizeof s->adapter, "hci0");
	s->mtu = 247;
	s->rssi = -60;
	if ((rc = parse_args(argc, argv, s, &a)) >= 0)
		return rc;
	s->so.profile = blt_profile_find(a.profile);
	if (!s->so.profile) {
		say(0, "--profile '%s': unknown profile", a.profile);
		return 2;
	}
	s->so.preset = blt_wire_preset_find("ble");
	s->so.slave = 1;
	s->so.speed = 1.0;
	s->so.seed = (uint32_t)time(NULL) ^ (uint32_t)getpid();
	{
		uint64_t snv = strtoull(a.sn, &end, 10);
		if (!a.sn[0] || *end || strlen(a.sn) > 20) {
			say(0, "--sn must be decimal digits");
			return 2;
		}
		if (sim_device_init(&s->dev, &s->so, snv, &d) != BLT_OK) {
			say(0, "device: %s", d.text);
			return 2;
		}
	}
	set_paths(s);
	if (load_or_make_key(s, a.key_file) != 0)
		return 1;
	blt_hex_encode(s->pub, 64, hex, sizeof hex);
	if (a.key_out) {
		char line[140];
		snprintf(line, sizeof line, "%s\n", hex);
		if (write_text(a.key_out, line))
			return 1;
	}
	if (open_bus(s) != 0)
		return 1;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	say(2, "%s %s at %s on %s: BlueZ imitation ready (MTU %d)%s", s->so.profile->id, s->name,
	    s->address, s->adapter, s->mtu, s->out_of_range ? " - out of range" : "");
	if (a.ready && write_text(a.ready, "ready\n"))
		return 1;
	serve(s);
	say(2, "stopping: %llu sessions, %llu handshakes, %llu replies",
	    (unsigned long long)s->sessions, (unsigned long long)s->handshakes,
	    (unsigned long long)s->dev.answered);
	end_session(s);
	OPENSSL_cleanse(s->priv, sizeof s->priv);
	sd_bus_flush_close_unref(s->bus);
	if (a.ready)
		unlink(a.ready);
	return 0;
}
