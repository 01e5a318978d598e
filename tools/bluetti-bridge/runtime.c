/* bluetti-bridge runtime (runtime.h): one upstream MQTT connection (the Bluetti broker,
 * mutual TLS) shared by the cloud devices' clients, the devices' own links (Bluetooth,
 * Modbus TCP), one [local-mqtt] connection for the devices' own MQTT clients, one
 * downstream connection (the Home Assistant broker); the loop; the SIGHUP reload, which
 * compares the old and the new configuration and keeps every connection whose section did
 * not change (the Bluetti broker refuses a new session sooner than ~45 s after the last):
 * only changed, added and removed devices are touched. At a stop the outbox is dropped,
 * the offline messages go out and the bridge waits for their PUBACKs (STOP_WAIT_MS). */
#include <stdlib.h>
#include <string.h>

#include <bluetti/bluetti.h>

#include "runtime.h"

volatile int br_stop_requested;
volatile int br_reload_requested;
volatile int br_stats_reset_requested;

/* ---- connections ---------------------------------------------------------------------- */

static void on_down_conn(void *user, bool connected, int err)
{
	br_runtime_t *rt = user;
	if (connected) {
		br_log(BLT_LOG_INFO, "homeassistant broker: connected");
		rt->down_connects++;
		br_ob_clear(&rt->ob); /* stale: everything is republished now */
		rt->down_fresh = true;
		for (size_t i = 0; i < rt->ndev; i++)
			rt->devs[i]->avail_sent = false;
		br_wake_all(rt); /* their availability goes out again */
	} else {
		rt->down_drops++;
		br_ob_clear(&rt->ob); /* nothing is kept for a dead connection */
		br_log(BLT_LOG_WARN, "homeassistant broker: disconnected (%s)", blt_strerror(err));
	}
}
static void on_up_conn(void *user, bool connected, int err)
{
	br_runtime_t *rt = user;
	if (connected) {
		rt->up_connects++;
		br_log(BLT_LOG_INFO, "upstream broker: connected");
	} else {
		rt->up_drops++;
		br_log(BLT_LOG_WARN, "upstream broker: disconnected (%s)", blt_strerror(err));
	}
}
static void on_ha_status(void *user, const char *topic, const uint8_t *payload, size_t len,
                         bool retained)
{
	br_runtime_t *rt = user;
	(void)topic;
	/* A retained birth is old news: everything was published at connect already. */
	if (len == 6 && !memcmp(payload, "online", 6) && !retained) {
		br_log(BLT_LOG_INFO, "Home Assistant is online: republishing discovery");
		rt->ha_birth = true;
	}
}

static void on_lan_conn(void *user, bool connected, int err)
{
	br_runtime_t *rt = user;
	if (connected) {
		rt->lan_connects++;
		br_log(BLT_LOG_INFO, "local-mqtt broker: connected");
	} else {
		rt->lan_drops++;
		br_log(BLT_LOG_WARN, "local-mqtt broker: disconnected (%s)", blt_strerror(err));
	}
}

/* The Home Assistant connection, its status subscription and every device's listeners. */
static int down_open(br_runtime_t *rt)
{
	const br_config_t *cfg = rt->cfg;
	blt_detail_t d = {{0}};
	int err;
	br_bridge_topic(cfg->base_topic, rt->bridge_topic, sizeof rt->bridge_topic);
	br_bridge_device_id(rt, rt->bridge_id, sizeof rt->bridge_id);
	snprintf(rt->ha_status_topic, sizeof rt->ha_status_topic, "%s/status",
	         cfg->discovery_prefix);
	err = br_make_transport(&cfg->down, rt->bridge_topic, cfg->down.client_id, &rt->down, &d);
	if (err) {
		br_log(BLT_LOG_ERROR, "homeassistant broker %s:%d: %s: %s", cfg->down.host,
		       cfg->down.port, blt_strerror(err), d.text);
		return err;
	}
	blt_transport_on_connection(rt->down, on_down_conn, rt);
	return BLT_OK;
}

static int down_connect(br_runtime_t *rt)
{
	const br_config_t *cfg = rt->cfg;
	blt_detail_t d = {{0}};
	int err = blt_transport_connect(rt->down, &d);
	if (err) {
		br_log(br_permanent(err) ? BLT_LOG_ERROR : BLT_LOG_WARN,
		       "homeassistant broker %s:%d: %s: %s%s", cfg->down.host, cfg->down.port,
		       blt_strerror(err), d.text, br_permanent(err) ? "" : " (retrying)");
		if (br_permanent(err))
			return err;
	}
	if (blt_transport_listen(rt->down, rt->ha_status_topic, on_ha_status, rt, &d) != BLT_OK)
		br_log(BLT_LOG_WARN, "subscribe %s: %s", rt->ha_status_topic, d.text);
	rt->down_fresh = true;
	return BLT_OK;
}

/* A shared broker connection to the Bluetti side (upstream, local-mqtt), not connected. */
static int shared_open(br_runtime_t *rt, const br_mqtt_cfg_t *m, const char *what,
                       blt_transport_t **out)
{
	blt_detail_t d = {{0}};
	int err = br_make_transport(m, NULL, m->client_id, out, &d);
	if (err) {
		br_log(BLT_LOG_ERROR, "%s broker %s:%d: %s: %s", what, m->host, m->port,
		       blt_strerror(err), d.text);
		return err;
	}
	if (!strcmp(what, "upstream")) {
		blt_transport_on_connection(*out, on_up_conn, rt);
		br_account_install(rt->account, *out); /* a fresh TOTP login per connection */
	} else {
		blt_transport_on_connection(*out, on_lan_conn, rt);
	}
	return BLT_OK;
}

static int shared_connect(blt_transport_t *t, const br_mqtt_cfg_t *m, const char *what)
{
	blt_detail_t d = {{0}};
	int err = t ? blt_transport_connect(t, &d) : BLT_OK;
	if (err) {
		br_log(br_permanent(err) ? BLT_LOG_ERROR : BLT_LOG_WARN,
		       "%s broker %s:%d: %s: %s%s", what, m->host, m->port, blt_strerror(err),
		       d.text, br_permanent(err) ? "" : " (retrying)");
		if (br_permanent(err))
			return err;
	}
	return BLT_OK;
}

static bool cfg_uses_lan(const br_config_t *c)
{
	for (size_t i = 0; i < c->ndev; i++)
		if (br_device_uses_lan(&c->dev[i]))
			return true;
	return false;
}

/* ---- the account ---------------------------------------------------------------------- */

/* account =: the cloud session and the account's device list (network), which resolves
 * the devices given by serial only and the broker. acct: an open session to reuse (a
 * reload with the same account), else one is opened into *out. */
static int account_resolve(br_config_t *cfg, br_account_t *acct, br_account_t **out)
{
	br_errors_t errs;
	blt_detail_t d = {{0}};
	int err;
	*out = NULL;
	if (!cfg->account[0])
		return BLT_OK;
	if (!acct) {
		err = br_account_open(cfg, &acct, &d);
		if (err) {
			br_log(BLT_LOG_ERROR, "%s:%d: [upstream] account: %s", cfg->path,
			       cfg->account_line, d.text);
			return BLT_E_CONFIG;
		}
		*out = acct;
	}
	if (br_account_resolve(acct, cfg, &errs) == BLT_OK)
		return BLT_OK;
	for (size_t i = 0; i < errs.n; i++)
		br_log(BLT_LOG_ERROR, "%s", errs.msg[i]);
	br_account_free(*out);
	*out = NULL;
	return BLT_E_CONFIG;
}

/* ---- start and stop ------------------------------------------------------------------- */

static void runtime_free(br_runtime_t *rt)
{
	if (!rt)
		return;
	for (size_t i = 0; i < rt->ndev; i++)
		br_dev_free(rt->devs[i]);
	free(rt->devs);
	free(rt->heap);
	br_ob_free(&rt->ob);
	blt_transport_free(rt->up);
	blt_transport_free(rt->down);
	blt_transport_free(rt->lan);
	br_account_free(rt->account);
	free(rt->ents);
	free(rt->decoded);
	free(rt->last_stats);
	free(rt->state_buf);
	free(rt->bridge_state_last);
	br_config_free(rt->cfg);
	free(rt);
}

/* The runtime of cfg (owned from now on, also on failure): connections created, devices
 * set up, nothing connected yet. */
static int runtime_new(br_config_t *cfg, const char *stats_path, br_runtime_t **out)
{
	br_runtime_t *rt = calloc(1, sizeof *rt);
	int err;
	*out = NULL;
	if (!rt) {
		br_config_free(cfg);
		return BLT_E_NOMEM;
	}
	rt->cfg = cfg;
	rt->stats_path = stats_path;
	rt->stats.started_ms = rt->stats.reset_ms = blt_now_ms();
	rt->devs = calloc(cfg->ndev ? cfg->ndev : 1, sizeof *rt->devs);
	rt->ents = calloc(BR_MAX_ENTITIES, sizeof *rt->ents);
	rt->decoded = calloc(1, sizeof *rt->decoded);
	err = !rt->devs || !rt->ents || !rt->decoded ? BLT_E_NOMEM : BLT_OK;
	if (!err)
		err = account_resolve(cfg, NULL, &rt->account);
	if (!err)
		err = down_open(rt);
	if (!err && cfg->up.host[0]) /* no cloud device: no upstream broker */
		err = shared_open(rt, &cfg->up, "upstream", &rt->up);
	if (!err && cfg_uses_lan(cfg))
		err = shared_open(rt, &cfg->lan, "local-mqtt", &rt->lan);
	for (size_t i = 0; !err && i < cfg->ndev; i++) {
		err = br_dev_new(rt, &cfg->dev[i], &rt->devs[i]);
		if (!err)
			rt->ndev++;
	}
	if (err) {
		runtime_free(rt);
		return err;
	}
	*out = rt;
	return BLT_OK;
}

/* Connect the brokers (a temporary failure is retried by the loop), subscribe, first
 * polls due. */
static int runtime_start(br_runtime_t *rt)
{
	const br_config_t *cfg = rt->cfg;
	int err = down_connect(rt);
	for (size_t i = 0; !err && i < rt->ndev; i++)
		err = br_dev_listen(rt->devs[i]);
	if (!err)
		err = shared_connect(rt->up, &cfg->up, "upstream");
	if (!err)
		err = shared_connect(rt->lan, &cfg->lan, "local-mqtt");
	if (err)
		return err;
	for (size_t i = 0; i < rt->ndev; i++)
		br_dev_start(rt->devs[i], i);
	if (br_heap_build(rt) != BLT_OK)
		return BLT_E_NOMEM;
	rt->up_was_connected = blt_transport_connected(rt->up);
	rt->up_down_since = rt->up_was_connected ? 0 : blt_now_ms();
	rt->lan_was_connected = blt_transport_connected(rt->lan);
	rt->lan_down_since = rt->lan_was_connected ? 0 : blt_now_ms();
	return BLT_OK;
}

/* Wait (bounded) until everything queued for Home Assistant is acknowledged. */
static void down_drain(br_runtime_t *rt)
{
	uint64_t end = blt_now_ms() + STOP_WAIT_MS;
	while (br_down_ok(rt) && (rt->ob.n || blt_transport_pending(rt->down)) &&
	       blt_now_ms() < end) {
		blt_transport_poll(rt->down, 20, NULL);
		br_ob_flush(rt);
	}
	if (br_down_ok(rt) && (rt->ob.n || blt_transport_pending(rt->down)))
		br_log(BLT_LOG_WARN,
		       "homeassistant broker: %zu message(s) not acknowledged after %d s; "
		       "disconnecting anyway",
		       rt->ob.n + blt_transport_pending(rt->down), STOP_WAIT_MS / 1000);
}

/* Graceful end: devices and bridge offline, flushed, disconnected. */
static void runtime_stop(br_runtime_t *rt, bool announce_offline)
{
	if (announce_offline && br_down_ok(rt)) {
		/* The truth first: drop the unsent backlog (state, discovery: republished at the
		 * next start anyway), so the offline messages queue behind at most OUT_WINDOW
		 * messages already on their way. */
		if (rt->ob.n)
			br_log(BLT_LOG_INFO, "stopping: %zu unsent message(s) dropped", rt->ob.n);
		br_ob_clear(&rt->ob);
		for (size_t i = 0; i < rt->ndev; i++) {
			rt->devs[i]->online = false;
			br_publish_availability(rt->devs[i]);
		}
		br_publish(rt, rt->bridge_topic, "offline", true);
	}
	down_drain(rt);
	blt_transport_disconnect(rt->down);
	blt_transport_disconnect(rt->up);
	blt_transport_disconnect(rt->lan);
	for (size_t i = 0; i < rt->ndev; i++)
		blt_transport_disconnect(rt->devs[i]->link);
}

/* ---- the loop ------------------------------------------------------------------------- */

/* Network I/O for up to wait ms: every connection is served, the wait is spent on the one
 * replies mostly come from (upstream, else local-mqtt, else the Home Assistant broker). */
static void loop_io(br_runtime_t *rt, int wait)
{
	blt_transport_t *main_t = rt->up ? rt->up : rt->lan;
	blt_transport_poll(rt->down, main_t ? 0 : wait, NULL);
	br_ob_flush(rt);
	/* Bluetooth and Modbus TCP links: their replies, keep-alives and reconnects (a
	 * Bluetooth reconnect attempt blocks for up to its connect timeout) */
	for (size_t i = 0; i < rt->ndev; i++)
		if (rt->devs[i]->link)
			blt_transport_poll(rt->devs[i]->link, 0, NULL);
	if (rt->lan && rt->lan != main_t)
		blt_transport_poll(rt->lan, 0, NULL);
	if (!main_t)
		return;
	if (blt_transport_connected(main_t))
		blt_transport_poll(main_t, wait, NULL);
	else
		blt_transport_poll(main_t, wait < 50 ? 50 : wait, NULL);
}

static void loop(br_runtime_t *rt)
{
	while (!br_stop_requested && !br_reload_requested) {
		uint64_t now;
		int wait;
		if (rt->down_fresh || (rt->ha_birth && blt_now_ms() >= rt->birth_at)) {
			if (br_down_ok(rt))
				br_republish_all(rt);
		}
		br_upstream_watch(rt);
		if (br_stats_reset_requested) {
			br_stats_reset_requested = 0;
			br_stats_reset(rt);
		}
		/* At most one command per iteration; polling and publishing go on between. */
		if (rt->npending) /* each device waits for its own transport */
			br_run_command(rt);
		now = blt_now_ms();
		if (now >= rt->next_scan)
			br_scan(rt);
		br_publish_stats(rt);
		br_bridge_device_publish(rt, false);
		if (rt->stats_path && now >= rt->next_stats) {
			br_stats_write(rt);
			rt->next_stats = now + STATS_FILE_MS;
		}
		/* Replies are what the loop waits for; Home Assistant's commands wait at most
		 * one slice. */
		now = blt_now_ms();
		wait = rt->next_scan > now ? (int)(rt->next_scan - now) : 0;
		if (wait > 50)
			wait = 50;
		if (rt->npending && wait > 10)
			wait = 10; /* a command may come due */
		loop_io(rt, wait);
	}
	br_stats_write(rt);
}

/* ---- reload --------------------------------------------------------------------------- */

/* What a reload keeps: the connections whose sections did not change. */
typedef struct keep {
	bool up, down, lan, topics;
} keep_t;

static keep_t compare(const br_config_t *o, const br_config_t *n)
{
	keep_t k;
	k.topics = !strcmp(o->base_topic, n->base_topic) &&
	           !strcmp(o->discovery_prefix, n->discovery_prefix);
	k.up = !strcmp(o->account, n->account) && br_mqtt_cfg_equal(&o->up, &n->up);
	k.down = k.topics && br_mqtt_cfg_equal(&o->down, &n->down);
	k.lan = br_mqtt_cfg_equal(&o->lan, &n->lan);
	return k;
}

/* The device of n that d keeps being (same section, same connection), or NULL. */
static const br_device_cfg_t *kept_as(const br_dev_t *d, const br_config_t *n, keep_t k)
{
	for (size_t i = 0; i < n->ndev; i++) {
		const br_device_cfg_t *dc = &n->dev[i];
		if (strcmp(dc->id, d->cfg->id) != 0)
			continue;
		if (!k.topics || !br_device_cfg_equal(d->cfg, dc))
			return NULL;
		if ((br_device_uses_upstream(dc) && !k.up) || (br_device_uses_lan(dc) && !k.lan))
			return NULL;
		return dc;
	}
	return NULL;
}

/* Keep or drop each running device; kept ones move to nd at their new position. A device
 * gone (or whose serial or topics changed) gets its entities cleared. */
static size_t sort_devices(br_runtime_t *rt, const br_config_t *n, keep_t k, br_dev_t **nd)
{
	size_t kept = 0;
	for (size_t i = 0; i < rt->ndev; i++) {
		br_dev_t *d = rt->devs[i];
		const br_device_cfg_t *dc = kept_as(d, n, k);
		if (dc) {
			br_dev_rebind(d, dc);
			nd[dc - n->dev] = d;
			kept++;
			continue;
		}
		bool same = false;
		for (size_t j = 0; j < n->ndev && !same; j++)
			same =
			    !strcmp(n->dev[j].id, d->cfg->id) && !strcmp(n->dev[j].sn, d->cfg->sn);
		if (!same || !k.topics) {
			br_log(BLT_LOG_INFO,
			       "%s: removed from the configuration; clearing its entities",
			       d->cfg->id);
			br_clear_device(d);
		} else {
			br_log(BLT_LOG_INFO, "%s: section changed; restarting it", d->cfg->id);
		}
		br_dev_unlisten(d);
		rt->devs[i] = NULL;
		br_dev_free(d); /* before a changed upstream goes: its clients use it */
	}
	return kept;
}

/* Replace the connections whose sections changed (n is the new configuration, already
 * rt->cfg); the kept devices listen again on a new Home Assistant connection. */
static int swap_connections(br_runtime_t *rt, keep_t k, br_account_t *nacct, br_dev_t **kept,
                            size_t nkept)
{
	int err = BLT_OK;
	if (!k.down) {
		down_drain(rt); /* the cleared entities go out first */
		blt_transport_disconnect(rt->down);
		blt_transport_free(rt->down);
		rt->down = NULL;
		br_ob_clear(&rt->ob);
		err = down_open(rt);
		if (!err)
			err = down_connect(rt);
		for (size_t i = 0; !err && i < nkept; i++) {
			kept[i]->avail_sent = false;
			kept[i]->npending = 0; /* the listeners are gone with the connection */
			kept[i]->ncmds = 0;
			err = br_dev_listen(kept[i]);
		}
		rt->npending = 0;
	}
	if (!err && !k.up) {
		blt_transport_disconnect(rt->up);
		blt_transport_free(rt->up);
		rt->up = NULL;
		if (nacct || !rt->cfg->account[0]) {
			br_account_free(rt->account);
			rt->account = nacct;
		}
		if (rt->cfg->up.host[0])
			err = shared_open(rt, &rt->cfg->up, "upstream", &rt->up);
		if (!err)
			err = shared_connect(rt->up, &rt->cfg->up, "upstream");
		rt->up_was_connected = blt_transport_connected(rt->up);
	}
	if (!err && (!k.lan || (!rt->lan && cfg_uses_lan(rt->cfg)))) {
		blt_transport_disconnect(rt->lan);
		blt_transport_free(rt->lan);
		rt->lan = NULL;
		if (cfg_uses_lan(rt->cfg))
			err = shared_open(rt, &rt->cfg->lan, "local-mqtt", &rt->lan);
		if (!err)
			err = shared_connect(rt->lan, &rt->cfg->lan, "local-mqtt");
		rt->lan_was_connected = blt_transport_connected(rt->lan);
	}
	return err;
}

/* Apply configuration n (owned) to the running bridge; on a failure to resolve its
 * account the running configuration stays. Returns BLT_OK or a fatal error. */
static int reload(br_runtime_t *rt, br_config_t *n)
{
	br_account_t *nacct = NULL;
	br_config_t *o = rt->cfg;
	br_dev_t **nd;
	size_t nkept, added = 0;
	keep_t k;
	int err;

	bool same_account = n->account[0] && !strcmp(n->account, o->account) && rt->account;
	if (account_resolve(n, same_account ? rt->account : NULL, &nacct) != BLT_OK) {
		br_log(BLT_LOG_ERROR, "reload failed: keeping the running configuration");
		br_config_free(n);
		return BLT_OK;
	}
	nd = calloc(n->ndev ? n->ndev : 1, sizeof *nd);
	if (!nd) {
		br_account_free(nacct);
		br_config_free(n);
		return BLT_E_NOMEM;
	}
	k = compare(o, n);
	rt->nheap = 0; /* devices go and come: rebuilt below */
	nkept = sort_devices(rt, n, k, nd);
	br_dev_t **kept = calloc(nkept ? nkept : 1, sizeof *kept);
	size_t nk = 0;
	for (size_t i = 0; kept && i < n->ndev; i++)
		if (nd[i])
			kept[nk++] = nd[i];
	free(rt->devs);
	rt->devs = nd;
	rt->ndev = n->ndev;
	rt->cfg = n;
	err = kept ? swap_connections(rt, k, nacct, kept, nk) : BLT_E_NOMEM;
	free(kept);
	if (k.up || !nacct) /* not taken over by swap_connections */
		br_account_free(nacct);
	/* the new and changed devices; a device that cannot be set up is left out */
	for (size_t i = 0, w = 0; i < n->ndev; i++) {
		if (!err && !nd[i] && br_dev_new(rt, &n->dev[i], &nd[i]) == BLT_OK) {
			br_dev_listen(nd[i]);
			br_dev_start(nd[i], added++);
		}
		if (nd[i])
			nd[w++] = nd[i];
		if (i + 1 == n->ndev)
			rt->ndev = w;
	}
	rt->npending = 0;
	for (size_t i = 0; i < rt->ndev; i++)
		rt->npending += rt->devs[i]->npending;
	br_log(BLT_LOG_INFO,
	       "reloaded: %zu device(s) kept as they were, %zu (re)started; connections: "
	       "upstream %s, homeassistant %s, local-mqtt %s",
	       nkept, added, k.up ? "kept" : "new", k.down ? "kept" : "new",
	       k.lan ? "kept" : "new");
	if (o->discovery != n->discovery || o->discovery_form != n->discovery_form || !k.topics)
		rt->down_fresh = true; /* republish everything in the new form */
	rt->bridge_announced = false;
	if (!err)
		err = br_heap_build(rt);
	br_config_free(o);
	return err;
}

/* ---- entry point ---------------------------------------------------------------------- */

static void log_start(const br_config_t *cfg)
{
	if (cfg->up.host[0])
		br_log(BLT_LOG_INFO, "bridging %zu device(s): %s:%d -> %s:%d (base topic %s)",
		       cfg->ndev, cfg->up.host, cfg->up.port, cfg->down.host, cfg->down.port,
		       cfg->base_topic);
	else
		br_log(BLT_LOG_INFO, "bridging %zu device(s): local links -> %s:%d (base topic %s)",
		       cfg->ndev, cfg->down.host, cfg->down.port, cfg->base_topic);
}

int br_run(const char *path, br_config_t *cfg, int cli_level, const char *stats_path)
{
	br_runtime_t *rt = NULL;
	int err = runtime_new(cfg, stats_path, &rt);
	if (!err)
		err = runtime_start(rt);
	if (err) {
		if (rt)
			runtime_stop(rt, false);
		runtime_free(rt);
		return err == BLT_E_CONFIG ? 2 : 1;
	}
	log_start(rt->cfg);
	for (;;) {
		br_config_t *ncfg = NULL;
		br_errors_t errs;
		loop(rt);
		if (br_stop_requested) {
			br_log(BLT_LOG_INFO, "stopping");
			runtime_stop(rt, true);
			runtime_free(rt);
			return 0;
		}
		/* Reload: keep the running configuration unless the new one is valid. */
		br_reload_requested = 0;
		br_log(BLT_LOG_INFO, "reloading %s", path);
		if (br_config_load(path, true, &ncfg, &errs) != BLT_OK) {
			for (size_t i = 0; i < errs.n; i++)
				br_log(BLT_LOG_ERROR, "%s", errs.msg[i]);
			br_log(BLT_LOG_ERROR, "reload failed: keeping the running configuration");
			continue;
		}
		br_log_init(cli_level >= 0         ? cli_level
		            : ncfg->log_level >= 0 ? ncfg->log_level
		                                   : BLT_LOG_INFO);
		if (reload(rt, ncfg) != BLT_OK) {
			br_log(BLT_LOG_ERROR, "reload: cannot continue");
			runtime_stop(rt, true);
			runtime_free(rt);
			return 1;
		}
	}
}
