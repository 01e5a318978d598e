/* bluetti-bridge, one device (runtime.h): its transport by kind (the shared upstream
 * connection, its own Bluetooth link, both for auto, its own Modbus TCP connection, the
 * shared [local-mqtt] connection), its clients, its subscriptions on the Home Assistant
 * broker (commands, the previous run's state) and its first polls. A device is created,
 * started and freed on its own, so a reload touches only the devices that changed. */
#include <stdlib.h>
#include <string.h>

#include <bluetti/ble.h>
#include <bluetti/bluetti.h>
#include <bluetti/client.h>
#include <bluetti/device.h>
#include <bluetti/settings.h>
#include <bluetti/transport.h>

#include "transport_args.h"
#include "runtime.h"

int br_make_transport(const br_mqtt_cfg_t *m, const char *will_topic, const char *client_id,
                      blt_transport_t **out, blt_detail_t *d)
{
	blt_mqtt_opts_t o;
	memset(&o, 0, sizeof o);
	o.host = m->host;
	o.port = (uint16_t)m->port;
	o.use_tls = m->tls;
	if (m->tls) {
		o.tls.pfx = m->pfx;
		o.tls.pfx_len = m->pfx_len;
		o.tls.pfx_password = m->cert_password ? m->cert_password : "";
		o.tls.ca_file = m->ca[0] ? m->ca : NULL;
		o.tls.verify_host = m->tls_name[0] ? m->tls_name : NULL;
		o.tls.insecure = m->insecure;
		o.tls.ciphers =
		    m->ciphers[0] ? m->ciphers : (m->cloud ? BLT_TLS_CIPHERS_BLUETTI : NULL);
	}
	o.username = m->user[0] ? m->user : NULL;
	o.password = m->password;
	o.client_id = client_id && client_id[0] ? client_id : NULL;
	o.keepalive_s = m->keepalive_s;
	o.connect_timeout_ms = 10000;
	o.reconnect_min_ms = (m->reconnect_delay_s > 0 ? m->reconnect_delay_s : 1) * 1000;
	o.reconnect_max_ms = o.reconnect_min_ms * 4 > 30000 ? o.reconnect_min_ms * 4 : 30000;
	if (will_topic) {
		o.will_topic = will_topic;
		o.will_payload = "offline";
		o.will_retain = true;
	}
	return blt_mqtt_new(&o, out, d);
}

/* Errors a retry will not fix. */
bool br_permanent(int err)
{
	return err == BLT_E_AUTH || err == BLT_E_CERT || err == BLT_E_CERT_PASSWORD ||
	       err == BLT_E_HOSTNAME || err == BLT_E_TLS || err == BLT_E_CONFIG;
}

/* transport = ble: the device's own Bluetooth link (not connected yet). A short connect
 * timeout: a reconnect attempt blocks the loop for that long (docs/bluetooth.md). */
static int br_ble_link(const br_device_cfg_t *dc, blt_transport_t **out, blt_detail_t *d)
{
	blt_ble_opts_t o;
	uint8_t key[64];
	memset(&o, 0, sizeof o);
	o.address = dc->address;
	o.adapter = dc->adapter[0] ? dc->adapter : NULL;
	/* auto: the cloud waits while Bluetooth looks for a unit that may be out of range */
	o.connect_timeout_ms = !strcmp(dc->transport, "auto") ? 5000 : 10000;
	if (dc->ble_test_key[0]) {
		int err = ble_read_key_file(dc->ble_test_key, key, d);
		if (err)
			return err;
		o.test_verify_key = key;
	}
	return blt_ble_new(&o, out, d);
}

/* transport = modbus-tcp: the device's own Modbus TCP connection (not connected yet); the
 * transport keeps >= 1 s between requests (min_gap_ms 0: its default). */
static int br_tcp_link(const br_device_cfg_t *dc, blt_transport_t **out, blt_detail_t *d)
{
	blt_mbtcp_opts_t o;
	memset(&o, 0, sizeof o);
	o.host = dc->host;
	o.port = (uint16_t)dc->tcp_port;
	o.connect_timeout_ms = 5000;
	return blt_mbtcp_new(&o, out, d);
}

static br_tkind_t kind_of(const br_device_cfg_t *dc)
{
	if (!strcmp(dc->transport, "ble"))
		return BR_T_BLE;
	if (!strcmp(dc->transport, "auto"))
		return BR_T_AUTO;
	if (!strcmp(dc->transport, "modbus-tcp"))
		return BR_T_TCP;
	if (!strcmp(dc->transport, "local-mqtt"))
		return BR_T_LAN;
	return BR_T_CLOUD;
}

/* The client(s) of an enabled device on its transport. */
static int dev_clients(br_runtime_t *rt, br_dev_t *dv, blt_detail_t *d)
{
	const br_device_cfg_t *dc = dv->cfg;
	int err = BLT_OK;
	dv->copts.model = dc->model;
	dv->copts.sn = dc->sn;
	dv->copts.preset = dc->preset;
	dv->copts.slave = dc->slave;
	dv->copts.envelope = -1;
	dv->copts.timeout_ms = dc->timeout_ms;
	dv->copts.retries = dc->retries;
	if (dv->kind == BR_T_BLE || dv->kind == BR_T_AUTO)
		err = br_ble_link(dc, &dv->link, d);
	else if (dv->kind == BR_T_TCP)
		err = br_tcp_link(dc, &dv->link, d);
	if (err)
		return err;
	if (dv->kind == BR_T_AUTO) {
		dv->copts_ble = dv->copts;
		dv->copts_ble.preset = "ble";
		dv->copts_ble.slave = -1;
		err = blt_client_new(rt->up, &dv->copts, &dv->client_cloud, d);
		if (!err)
			err = blt_client_new(dv->link, &dv->copts_ble, &dv->client_ble, d);
		/* known short replies (AP300 6100) are taken at once, on either path */
		if (!err)
			err = blt_client_use_profile(dv->client_cloud, dc->profile, d);
		if (!err)
			err = blt_client_use_profile(dv->client_ble, dc->profile, d);
		dv->client = dv->client_ble;
		return err;
	}
	err = blt_client_new(br_dev_transport(dv), &dv->copts, &dv->client, d);
	if (!err && dv->kind != BR_T_TCP) /* known short replies (AP300 6100) taken at once */
		err = blt_client_use_profile(dv->client, dc->profile, d);
	if (!err && dv->kind == BR_T_TCP) {
		dv->tcp = calloc(1, sizeof *dv->tcp);
		if (!dv->tcp)
			err = blt_detail_set(d, BLT_E_NOMEM, "out of memory");
	}
	return err;
}

int br_dev_new(br_runtime_t *rt, const br_device_cfg_t *dc, br_dev_t **out)
{
	br_dev_t *dv = calloc(1, sizeof *dv);
	blt_detail_t d = {{0}};
	int err;
	*out = NULL;
	if (!dv)
		return BLT_E_NOMEM;
	dv->cfg = dc;
	dv->rt = rt;
	dv->kind = kind_of(dc);
	dv->backoff_ms = BACKOFF_MIN_MS;
	dv->cur_group = -1;
	err = blt_device_new(dc->profile, dc->model, dc->sn, &dv->dev, &d);
	if (!err && dc->enabled)
		err = dev_clients(rt, dv, &d);
	if (err) {
		br_log(BLT_LOG_ERROR, "%s: %s", dc->id, d.text);
		br_dev_free(dv);
		return err;
	}
	*out = dv;
	return BLT_OK;
}

/* A kept device at a reload: its configuration is now dc (equal to the old one); the
 * client options point into it (the old configuration is freed). */
void br_dev_rebind(br_dev_t *dv, const br_device_cfg_t *dc)
{
	dv->cfg = dc;
	dv->copts.model = dc->model;
	dv->copts.sn = dc->sn;
	dv->copts.preset = dc->preset;
	if (dv->client_cloud) {
		dv->copts_ble.model = dc->model;
		dv->copts_ble.sn = dc->sn;
	}
}

/* Subscriptions on the Home Assistant broker: the previous run's retained state (once)
 * and a listener per exposed setting (~280 bytes each). */
int br_dev_listen(br_dev_t *dv)
{
	br_runtime_t *rt = dv->rt;
	blt_detail_t d = {{0}};
	br_ha_ctx_t c;
	char topic[300];
	size_t n = 0, nexp = 0;
	int longest = 30;

	/* the seed is fresh for two of the device's longest poll intervals (at least a
	 * minute) after the start */
	for (size_t g = 0; g < BR_MAX_GROUPS; g++)
		if (dv->cfg->interval_s[g] > longest)
			longest = dv->cfg->interval_s[g];
	dv->seed_until = blt_now_ms() + 2000u * (uint64_t)longest;
	br_ctx_of(dv, &c);
	if (!dv->last_state) {
		br_device_topic(&c, "state", topic, sizeof topic);
		if (blt_transport_listen(rt->down, topic, br_on_seed, dv, &d) != BLT_OK)
			br_log(BLT_LOG_WARN, "subscribe %s: %s", topic, d.text);
	}
	for (size_t s = 0; dv->client && s < blt_setting_count(); s++)
		nexp += br_setting_exposed(dv->cfg, blt_setting_at(s));
	free(dv->cmds);
	dv->ncmds = 0;
	dv->cmds = calloc(nexp ? nexp : 1, sizeof *dv->cmds);
	if (!dv->cmds)
		return BLT_E_NOMEM;
	for (size_t s = 0; dv->client && s < blt_setting_count(); s++) {
		const blt_setting_t *st = blt_setting_at(s);
		cmd_listener_t *l = &dv->cmds[n];
		char leaf[96];
		if (!br_setting_exposed(dv->cfg, st))
			continue;
		snprintf(leaf, sizeof leaf, "set/%s", st->name);
		br_device_topic(&c, leaf, l->topic, sizeof l->topic);
		l->rt = rt;
		l->dev = dv;
		l->setting = st;
		if (blt_transport_listen(rt->down, l->topic, br_on_command, l, &d) != BLT_OK)
			br_log(BLT_LOG_WARN, "subscribe %s: %s", l->topic, d.text);
		else
			n++;
	}
	dv->ncmds = n;
	return BLT_OK;
}

void br_dev_unlisten(br_dev_t *dv)
{
	br_runtime_t *rt = dv->rt;
	br_ha_ctx_t c;
	char topic[300];
	if (!rt->down)
		return;
	br_ctx_of(dv, &c);
	br_device_topic(&c, "state", topic, sizeof topic);
	blt_transport_unlisten_fn(rt->down, topic, br_on_seed, dv);
	for (size_t i = 0; i < dv->ncmds; i++)
		blt_transport_unlisten_fn(rt->down, dv->cmds[i].topic, br_on_command, &dv->cmds[i]);
	rt->npending -= dv->npending;
	dv->npending = 0;
	dv->ncmds = 0;
}

/* Subscribe its replies, connect its own link, first polls due (position i staggers many
 * devices' first polls: one per STAGGER_MS, spread over at most 5 s). */
void br_dev_start(br_dev_t *dv, size_t i)
{
	blt_detail_t d = {{0}};
	int err;
	if (!dv->client)
		return;
	err = blt_client_start(dv->client_cloud ? dv->client_cloud : dv->client, &d);
	if (!err && dv->client_cloud)
		err = blt_client_start(dv->client_ble, &d);
	if (err)
		br_log(BLT_LOG_WARN, "%s: %s", dv->cfg->id, d.text);
	if (dv->link && (err = blt_transport_connect(dv->link, &d)) != BLT_OK)
		br_log(BLT_LOG_WARN, "%s: %s %s: %s: %s (retrying)", dv->cfg->id,
		       dv->kind == BR_T_TCP ? "modbus tcp" : "bluetooth",
		       dv->kind == BR_T_TCP ? dv->cfg->host : dv->cfg->address, blt_strerror(err),
		       d.text);
	/* "offline" until something answers */
	dv->online = false;
	dv->probe_at = 0;
	dv->cur_group = -1;
	dv->started_ms = blt_now_ms();
	uint64_t first = dv->started_ms + (uint64_t)((i * STAGGER_MS) % 5000);
	for (size_t g = 0; g < BR_MAX_GROUPS; g++)
		dv->due[g] = first;
}

void br_dev_free(br_dev_t *d)
{
	if (!d)
		return;
	if (d->client_cloud) { /* auto: both clients; client is one of them */
		blt_client_free(d->client_cloud);
		blt_client_free(d->client_ble);
	} else {
		blt_client_free(d->client);
	}
	if (d->link) {
		blt_transport_disconnect(d->link);
		blt_transport_free(d->link);
	}
	blt_device_free(d->dev);
	free(d->last_state);
	cJSON_Delete(d->seed);
	br_anns_free(&d->ann);
	free(d->cmds);
	free(d->tcp);
	free(d);
}
