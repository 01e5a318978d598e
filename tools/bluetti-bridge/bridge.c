/* bluetti-bridge runtime: one upstream MQTT connection (the Bluetti broker, mutual TLS)
 * shared by every device's blt_client_t, one downstream connection (the Home Assistant
 * broker), a concurrent poll scheduler, availability, discovery and commands.
 *
 * Concurrency model (see bluetti-bridge(1), "POLLING"): every device has at most one read
 * in flight (blt_client_submit_read) and all devices' reads overlap; one loop drives the
 * upstream transport, replies complete through on_read, which decodes the block and sends
 * the group's next block at once. scan() walks the devices only when something is due (a
 * group, a probe, a request deadline; at most every SCAN_MIN_MS): it fails timed-out
 * requests (blt_client_check_timeouts) and starts due groups, each at its own interval
 * counted from the start of its previous round. A slow or dead device costs only its own
 * timeouts: after offline_after failures in a row it is offline and only probed with
 * exponential backoff up to backoff_max; a block it refuses is skipped for a while.
 * Commands (gated writes) stay blocking and run only while their device has no read in
 * flight (a group in progress pauses for them); during a write the other devices' replies
 * are still taken, their timeouts are checked after it.
 *
 * Under abuse (bluetti-bridge(1), "COMMANDS"; docs/reliability.md): a command only records
 * the latest value per setting (coalescing); at most one command runs per loop iteration,
 * devices served in turn, each setting at most once per WRITE_SETTING_MS and each device at
 * most once per WRITE_DEVICE_MS; a value the device already holds (fresh read) is not
 * written. A refused command costs a counter and, at most once per REFUSE_LOG_MS and
 * device, a log line; nothing is published for it. Everything for the Home Assistant
 * broker goes through an outbox that holds one message per topic (a newer one replaces
 * the queued one) and hands at most OUT_WINDOW unacknowledged messages to libmosquitto,
 * so memory stays bounded whatever comes in. At a stop the outbox is dropped, the offline
 * messages go out and the bridge waits for their PUBACKs (at most STOP_WAIT_MS).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include <bluetti/ble.h>
#include <bluetti/bluetti.h>
#include <bluetti/client.h>
#include <bluetti/control.h>
#include <bluetti/device.h>
#include <bluetti/settings.h>
#include <bluetti/transport.h>

#include "br_account.h"
#include "transport_args.h"
#include "bridge.h"

#define MAX_SKIP       16
#define BR_NODE_READS  32 /* node block reads per round (e.g. 6100 + 6300 of 16 packs) */
#define SKIP_BLOCK_MS  (10 * 60 * 1000)
#define UP_GRACE_MS    10000
#define BACKOFF_MIN_MS 2000
#define SCAN_MIN_MS    10   /* walk the device list at most this often */
#define SCAN_MAX_MS    200  /* ... and at least this often */
#define STAGGER_MS     5    /* first polls of many devices: one device per STAGGER_MS */
#define STATS_FILE_MS  1000 /* --stats FILE rewritten this often */
/* Commands (documented in bluetti-bridge(1), COMMANDS). */
#define WRITE_SETTING_MS 2000  /* a setting is written (or checked) at most this often */
#define WRITE_DEVICE_MS  500   /* a device gets at most one command per this interval */
#define REFUSE_LOG_MS    10000 /* refused/dropped commands: a log line per device per this */
/* Home Assistant side. */
#define OUT_WINDOW   64   /* messages handed to libmosquitto and not acknowledged yet */
#define STOP_WAIT_MS 5000 /* at a stop: longest wait for the offline messages' PUBACKs */
#define BIRTH_MIN_MS 5000 /* HA birth messages: republish discovery at most this often */

volatile int br_stop_requested;
volatile int br_reload_requested;

typedef struct br_dev br_dev_t;

typedef struct cmd_listener {
	br_runtime_t *rt;
	br_dev_t *dev;
	const blt_setting_t *setting;
	char topic[256];
	bool pending;      /* a value waits to be written */
	int32_t value;     /* the latest value asked for (coalesced) */
	uint64_t last_run; /* end of the last write (or check) of this setting; 0 = never */
} cmd_listener_t;

/* Command counters of a device (bridge stats). */
typedef struct cmd_counts {
	uint64_t received;  /* valid commands */
	uint64_t coalesced; /* replaced a value still pending for the same setting */
	uint64_t skipped;   /* not written: the device already held the value */
	uint64_t written;   /* writes that succeeded */
	uint64_t failed;    /* writes (or their first read) that failed */
	uint64_t refused;   /* invalid payloads, retained commands */
	uint64_t dropped;   /* valid, but the device was offline */
} cmd_counts_t;

/* The outbox to the Home Assistant broker: one message per topic, in FIFO order. */
typedef struct out_msg {
	struct out_msg *next, *prev, *hnext;
	uint32_t hash;
	bool retain;
	char *payload;
	char topic[];
} out_msg_t;

typedef struct outbox {
	out_msg_t **bucket;
	size_t nbucket, n;
	out_msg_t *head, *tail;
	uint64_t superseded, dropped; /* replaced while queued; dropped unsent */
} outbox_t;

struct br_dev {
	const br_device_cfg_t *cfg;
	br_runtime_t *rt;
	blt_transport_t *link; /* transport = ble | auto: its own Bluetooth link; NULL: rt->up */
	/* transport = auto: both clients; `client` is the one in use, swapped while idle */
	blt_client_t *client_cloud, *client_ble;
	blt_client_opts_t copts_ble;
	blt_client_opts_t copts;
	blt_client_t *client;
	blt_device_t *dev;
	uint64_t due[BR_MAX_GROUPS];
	int cur_group;        /* group in progress (-1: none) */
	size_t cur_idx;       /* its next block */
	uint16_t cur_block;   /* block of the read in flight */
	uint64_t group_start; /* when the group in progress started */
	bool probing;         /* the read in flight is a probe of an offline device */
	struct {
		uint16_t block;
		uint64_t until;
	} skip[MAX_SKIP];
	int fails;         /* consecutive failed requests */
	bool online;       /* last availability decided */
	bool avail_sent;   /* availability published for the current downstream session */
	uint64_t probe_at; /* offline: next probe */
	int backoff_ms;
	uint64_t last_seen_unix_ms;
	bool dirty;       /* state changed since the last publish */
	char *last_state; /* last published state document */
	/* The previous run's retained state document (read once at start): every key it has
	 * stays in every state document, with its old value until this run has read it or
	 * seed_until passes (then null), so a restart never publishes a partial state. */
	cJSON *seed;
	uint64_t seed_until;
	char sw[200];     /* sw_version the discovery documents were published with */
	/* discovery topics published (for state null-fill and cleanup): "component\0key" */
	char (*pub_keys)[64];
	uint8_t *pub_comp;
	size_t npub, cappub;
	cmd_listener_t *cmds;
	size_t ncmds;
	size_t npending;     /* listeners with a pending value */
	uint64_t next_write; /* no command before this (WRITE_DEVICE_MS) */
	cmd_counts_t cc;
	uint64_t cmd_log_at;    /* next refusal may be logged at once */
	uint64_t cmd_log_held;  /* refusals not logged since the last line */
	char cmd_log_last[160]; /* the last one held (shown with the count) */
	/* nodes (NODE_INFO): the packs and hubs of the system, polled at their own slave
	 * addresses after the groups, at the interval of the "cells" group (see poll_nodes) */
	int node_phase; /* 0 idle, 1 the query in flight, 2 reading node blocks */
	uint64_t nodes_due;
	size_t node_idx, node_cur;
	size_t nnode_reads;
	struct {
		uint8_t slave;
		uint16_t block;
	} node_reads[BR_NODE_READS];
};

struct br_runtime {
	const br_config_t *cfg;
	blt_transport_t *up, *down;
	br_dev_t *devs;
	size_t ndev;
	uint64_t next_scan;
	uint64_t next_stats;
	bool down_fresh; /* downstream (re)connected: republish everything */
	bool ha_birth;   /* Home Assistant announced itself: republish discovery */
	uint64_t up_down_since;
	bool up_was_connected;
	/* counters for <base>/bridge/stats (see publish_stats) */
	uint64_t up_connects, up_drops, down_connects, down_drops;
	uint64_t stats_at;
	char *last_stats;
	char bridge_topic[200];
	char ha_status_topic[200];
	br_entity_t *ents;
	blt_decoded_t *decoded;
	size_t npending;   /* devices' pending commands */
	size_t cmd_rr;     /* device to look at first for the next command (round robin) */
	uint64_t birth_at; /* no republish for an HA birth before this */
	outbox_t ob;
};

/* ---- logging ------------------------------------------------------------------------- */

static int log_level = BLT_LOG_INFO;
static bool log_journal;

static void lib_log(blt_log_level_t level, const char *msg, void *user)
{
	(void)user;
	br_log((int)level, "%s", msg);
}

void br_log_init(int level)
{
	log_level = level;
	log_journal = getenv("JOURNAL_STREAM") != NULL;
	blt_log_set_handler(lib_log, NULL, (blt_log_level_t)level);
}

void br_log(int level, const char *fmt, ...)
{
	static const char *names[] = {"error", "warning", "info", "debug"};
	static const int prio[] = {3, 4, 6, 7}; /* syslog priorities for the journal */
	char msg[1024];
	va_list ap;
	if (level > log_level || level < 0 || level > 3)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (log_journal) {
		fprintf(stderr, "<%d>%s\n", prio[level], msg);
	} else {
		struct timeval tv;
		struct tm tm;
		char ts[32];
		gettimeofday(&tv, NULL);
		localtime_r(&tv.tv_sec, &tm);
		strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld " BR_PROG " %s: %s\n", ts, (long)(tv.tv_usec / 1000),
		        names[level], msg);
	}
	fflush(stderr);
}

static uint64_t unix_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)(ts.tv_nsec / 1000000);
}

/* ---- downstream publishing ----------------------------------------------------------- */

static bool down_ok(br_runtime_t *rt)
{
	return rt->down && blt_transport_connected(rt->down);
}

static uint32_t topic_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static void ob_unlink(outbox_t *ob, out_msg_t *m)
{
	out_msg_t **pp = &ob->bucket[m->hash & (ob->nbucket - 1)];
	while (*pp != m)
		pp = &(*pp)->hnext;
	*pp = m->hnext;
	if (m->prev)
		m->prev->next = m->next;
	else
		ob->head = m->next;
	if (m->next)
		m->next->prev = m->prev;
	else
		ob->tail = m->prev;
	ob->n--;
}

static void ob_free_msg(out_msg_t *m)
{
	free(m->payload);
	free(m);
}

/* Drop everything queued (counted in dropped). */
static void ob_clear(outbox_t *ob)
{
	while (ob->head) {
		out_msg_t *m = ob->head;
		ob_unlink(ob, m);
		ob_free_msg(m);
		ob->dropped++;
	}
}

/* Queue payload for topic; a message still queued for the topic is replaced in place. */
static int ob_put(outbox_t *ob, const char *topic, const char *payload, bool retain)
{
	uint32_t h = topic_hash(topic);
	char *p = strdup(payload);
	out_msg_t *m;
	if (!p)
		return BLT_E_NOMEM;
	if (ob->n >= ob->nbucket) { /* grow (and rehash) at load factor 1 */
		size_t nb = ob->nbucket ? ob->nbucket * 2 : 256;
		out_msg_t **b = calloc(nb, sizeof *b);
		if (!b) {
			free(p);
			return BLT_E_NOMEM;
		}
		for (out_msg_t *x = ob->head; x; x = x->next) {
			x->hnext = b[x->hash & (nb - 1)];
			b[x->hash & (nb - 1)] = x;
		}
		free(ob->bucket);
		ob->bucket = b;
		ob->nbucket = nb;
	}
	for (m = ob->bucket[h & (ob->nbucket - 1)]; m; m = m->hnext) {
		if (m->hash == h && !strcmp(m->topic, topic)) {
			free(m->payload);
			m->payload = p;
			m->retain = retain;
			ob->superseded++;
			return BLT_OK;
		}
	}
	size_t tl = strlen(topic) + 1;
	m = malloc(sizeof *m + tl);
	if (!m) {
		free(p);
		return BLT_E_NOMEM;
	}
	memcpy(m->topic, topic, tl);
	m->payload = p;
	m->retain = retain;
	m->hash = h;
	m->hnext = ob->bucket[h & (ob->nbucket - 1)];
	ob->bucket[h & (ob->nbucket - 1)] = m;
	m->next = NULL;
	m->prev = ob->tail;
	if (ob->tail)
		ob->tail->next = m;
	else
		ob->head = m;
	ob->tail = m;
	ob->n++;
	return BLT_OK;
}

/* Hand queued messages to the connection while fewer than OUT_WINDOW are unacknowledged
 * (libmosquitto itself would queue without bound). */
static void ob_flush(br_runtime_t *rt)
{
	outbox_t *ob = &rt->ob;
	while (ob->head && down_ok(rt) && blt_transport_pending(rt->down) < OUT_WINDOW) {
		out_msg_t *m = ob->head;
		blt_detail_t d = {{0}};
		ob_unlink(ob, m);
		int err = blt_transport_publish(rt->down, m->topic, m->payload, strlen(m->payload),
		                                1, m->retain, &d);
		if (err)
			br_log(BLT_LOG_WARN, "publish %s: %s", m->topic, d.text);
		ob_free_msg(m);
	}
}

/* Queue a message for the Home Assistant broker (sent by ob_flush, now if the window
 * allows). BLT_E_DISCONNECTED while the connection is down: nothing is kept for a dead
 * connection, everything is republished at the reconnect. */
static int publish(br_runtime_t *rt, const char *topic, const char *payload, bool retain)
{
	int err;
	if (!down_ok(rt))
		return BLT_E_DISCONNECTED;
	err = ob_put(&rt->ob, topic, payload, retain);
	if (err) {
		br_log(BLT_LOG_WARN, "publish %s: %s", topic, blt_strerror(err));
		return err;
	}
	ob_flush(rt);
	return BLT_OK;
}

/* The path a Bluetooth-capable device's requests take now (the diagnostic entity). */
static const char *dev_path_name(const br_dev_t *d)
{
	if (d->client && d->client == d->client_cloud)
		return blt_transport_connected(d->rt->up) ? "cloud" : "none";
	return blt_transport_connected(d->link) ? "bluetooth" : "none";
}

/* The transport the device's requests go through. */
static blt_transport_t *dev_transport(const br_dev_t *d)
{
	if (d->client_cloud && d->client == d->client_cloud)
		return d->rt->up;
	return d->link ? d->link : d->rt->up;
}

/* transport = auto: Bluetooth while its link is up, the cloud otherwise. Swapped only
 * while the client in use is idle; the device model, its entities and discovery stay as
 * they are, only the state's "link" value changes. */
static void choose_path(br_dev_t *d)
{
	blt_client_t *want;
	if (!d->client_cloud || !d->client_ble || blt_client_busy(d->client))
		return;
	want = blt_transport_connected(d->link) || !blt_transport_connected(d->rt->up)
	           ? d->client_ble
	           : d->client_cloud;
	if (want == d->client)
		return;
	d->client = want;
	br_log(BLT_LOG_INFO, "%s: now over %s", d->cfg->id,
	       want == d->client_ble ? "bluetooth" : "the cloud");
	d->dirty = true;
}

static void ctx_of(br_dev_t *d, br_ha_ctx_t *c)
{
	const br_config_t *cfg = d->rt->cfg;
	blt_client_stats_t st;
	memset(c, 0, sizeof *c);
	c->base = cfg->base_topic;
	c->prefix = cfg->discovery_prefix;
	c->cfg = d->cfg;
	c->dev = d->dev;
	c->last_seen_unix_ms = d->last_seen_unix_ms;
	c->link = d->link ? dev_path_name(d) : NULL;
	if (d->client) {
		blt_client_stats(d->client, &st);
		if (st.last_rssi) {
			c->have_rssi = true;
			c->rssi = st.last_rssi;
		}
	}
}

static void publish_availability(br_dev_t *d)
{
	char topic[256];
	br_ha_ctx_t c;
	ctx_of(d, &c);
	br_device_topic(&c, "availability", topic, sizeof topic);
	if (publish(d->rt, topic, d->online ? "online" : "offline", true) == BLT_OK)
		d->avail_sent = true;
}

static bool pub_known(const br_dev_t *d, const char *key)
{
	for (size_t i = 0; i < d->npub; i++)
		if (!strcmp(d->pub_keys[i], key))
			return true;
	return false;
}

static bool pub_add(br_dev_t *d, const char *key, uint8_t comp)
{
	if (d->npub == d->cappub) {
		size_t nc = d->cappub ? d->cappub * 2 : 16; /* per device: start small */
		char(*nk)[64] = realloc(d->pub_keys, nc * sizeof *nk);
		if (!nk)
			return false;
		d->pub_keys = nk;
		uint8_t *ncmp = realloc(d->pub_comp, nc);
		if (!ncmp)
			return false;
		d->pub_comp = ncmp;
		d->cappub = nc;
	}
	snprintf(d->pub_keys[d->npub], sizeof d->pub_keys[0], "%s", key);
	d->pub_comp[d->npub++] = comp;
	return true;
}

/* Publish discovery for entities not announced yet (all of them with force), and the
 * state document if it changed (or with force). */
/* A setting whose block this run has not read yet (its control would show null). */
static bool setting_unread(br_dev_t *d, const char *key)
{
	const blt_setting_t *s = blt_setting_find(key);
	return s && !blt_device_find(d->dev, s->block, s->field);
}

/* Keys of the previous run's state (d->seed) that doc lacks are added: with the old value
 * while the seed is fresh, else null; a control that is null only because its block has
 * not been read yet keeps the old value while fresh. Takes doc, returns the new one. */
static char *merge_seed(br_dev_t *d, char *doc)
{
	cJSON *o = cJSON_Parse(doc), *it;
	bool fresh = blt_now_ms() < d->seed_until, changed = false;
	char *out;

	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return doc;
	}
	cJSON_ArrayForEach(it, d->seed)
	{
		cJSON *cur = cJSON_GetObjectItemCaseSensitive(o, it->string);
		cJSON *val = fresh ? cJSON_Duplicate(it, 1) : cJSON_CreateNull();
		if (!val)
			continue;
		if (!cur) {
			cJSON_AddItemToObject(o, it->string, val);
			changed = true;
		} else if (fresh && cJSON_IsNull(cur) && !cJSON_IsNull(it) &&
		           setting_unread(d, it->string)) {
			cJSON_ReplaceItemInObjectCaseSensitive(o, it->string, val);
			changed = true;
		} else {
			cJSON_Delete(val);
		}
	}
	if (!changed) {
		cJSON_Delete(o);
		return doc;
	}
	out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!out)
		return doc;
	free(doc);
	return out;
}

/* The retained state of the previous run, delivered once after the subscription. */
static void on_seed(void *user, const char *topic, const uint8_t *payload, size_t len,
                    bool retained)
{
	br_dev_t *d = user;
	char *text;
	(void)topic;
	if (!retained || d->seed || d->last_state || len == 0 || len > 1u << 20)
		return;
	text = malloc(len + 1);
	if (!text)
		return;
	memcpy(text, payload, len);
	text[len] = '\0';
	d->seed = cJSON_Parse(text);
	free(text);
	if (d->seed && !cJSON_IsObject(d->seed)) {
		cJSON_Delete(d->seed);
		d->seed = NULL;
	}
	if (d->seed)
		br_log(BLT_LOG_DEBUG, "%s: previous state has %d keys; kept until read again",
		       d->cfg->id, cJSON_GetArraySize(d->seed));
}

static void publish_device(br_dev_t *d, bool force_disco, bool force_state)
{
	br_runtime_t *rt = d->rt;
	br_ha_ctx_t c;
	size_t n;
	char topic[300], *doc;
	char sw[200];

	if (!down_ok(rt))
		return;
	ctx_of(d, &c);
	n = br_entities(&c, rt->ents, BR_MAX_ENTITIES);
	br_sw_version(d->dev, sw, sizeof sw);
	if (strcmp(sw, d->sw) != 0) {
		/* The device block (sw_version) changed: announce every entity again. */
		snprintf(d->sw, sizeof d->sw, "%s", sw);
		force_disco = true;
	}
	if (rt->cfg->discovery) {
		size_t sent = 0;
		/* Power-station entities first: the pack sub-device refers to it (via_device). */
		for (int pass = 0; pass < 2; pass++) {
			for (size_t i = 0; i < n; i++) {
				const br_entity_t *e = &rt->ents[i];
				bool known = pub_known(d, e->key);
				if (e->sub != pass || (known && !force_disco))
					continue;
				if (br_discovery_topic(&c, e, topic, sizeof topic) != BLT_OK)
					continue;
				doc = br_discovery_doc(&c, e);
				if (!doc)
					continue;
				if (publish(rt, topic, doc, true) == BLT_OK) {
					sent++;
					if (!known)
						pub_add(d, e->key, e->component);
				}
				free(doc);
			}
		}
		if (sent)
			br_log(BLT_LOG_DEBUG, "%s: published %zu discovery documents", d->cfg->id,
			       sent);
	}
	/* State: the current entities plus null for any announced earlier but absent now
	 * (so no template ever sees a missing key). */
	doc = br_state_doc(&c, rt->ents, n);
	if (!doc)
		return;
	for (size_t i = 0; i < d->npub; i++) {
		bool present = false;
		for (size_t k = 0; k < n && !present; k++)
			present = !strcmp(rt->ents[k].key, d->pub_keys[i]);
		if (!present && strlen(doc) > 1) {
			/* splice ',"key":null' before the closing brace */
			size_t L = strlen(doc), kl = strlen(d->pub_keys[i]);
			char *nd = realloc(doc, L + kl + 10);
			if (!nd)
				break;
			doc = nd;
			snprintf(doc + L - 1, kl + 11, "%s\"%s\":null}", L > 2 ? "," : "",
			         d->pub_keys[i]);
		}
	}
	if (d->seed)
		doc = merge_seed(d, doc);
	if (!doc)
		return;
	if (force_state || !d->last_state || strcmp(doc, d->last_state) != 0) {
		br_device_topic(&c, "state", topic, sizeof topic);
		if (!d->last_state) /* the seed had its chance: our own states need no echo */
			blt_transport_unlisten_fn(rt->down, topic, on_seed, d);
		if (publish(rt, topic, doc, true) == BLT_OK) {
			free(d->last_state);
			d->last_state = doc;
			doc = NULL;
			d->dirty = false;
		}
	} else {
		d->dirty = false;
	}
	free(doc);
}

/* Clear everything a device announced (device removed at a reload). */
static void clear_device(br_dev_t *d)
{
	br_ha_ctx_t c;
	char topic[300];
	ctx_of(d, &c);
	for (size_t i = 0; i < d->npub; i++) {
		br_entity_t e;
		memset(&e, 0, sizeof e);
		snprintf(e.key, sizeof e.key, "%s", d->pub_keys[i]);
		e.component = d->pub_comp[i];
		if (br_discovery_topic(&c, &e, topic, sizeof topic) == BLT_OK)
			publish(d->rt, topic, "", true);
	}
	br_device_topic(&c, "state", topic, sizeof topic);
	publish(d->rt, topic, "", true);
	br_device_topic(&c, "availability", topic, sizeof topic);
	publish(d->rt, topic, "", true);
}

static void republish_all(br_runtime_t *rt)
{
	if (publish(rt, rt->bridge_topic, "online", true) != BLT_OK)
		return;
	for (size_t i = 0; i < rt->ndev; i++) {
		br_dev_t *d = &rt->devs[i];
		if (d->client) /* disabled devices (enabled = false) announce no entities */
			publish_device(d, true, true);
		publish_availability(d);
	}
	rt->down_fresh = false;
	rt->ha_birth = false;
	/* a flood of birth messages republishes at most every BIRTH_MIN_MS */
	rt->birth_at = blt_now_ms() + BIRTH_MIN_MS;
}

/* ---- availability -------------------------------------------------------------------- */

static void set_online(br_dev_t *d, bool online, const char *why)
{
	if (d->online == online && d->avail_sent)
		return;
	if (d->online != online) {
		if (online)
			br_log(BLT_LOG_INFO, "%s: online", d->cfg->id);
		else
			br_log(BLT_LOG_WARN, "%s: offline (%s)", d->cfg->id, why);
	}
	d->online = online;
	if (online) {
		d->backoff_ms = BACKOFF_MIN_MS;
		d->fails = 0;
	}
	publish_availability(d);
}

static void request_failed(br_dev_t *d, int err, const char *what, const char *detail)
{
	uint64_t now = blt_now_ms();
	d->fails++;
	br_log(d->online ? BLT_LOG_WARN : BLT_LOG_DEBUG, "%s: %s: %s: %s", d->cfg->id, what,
	       blt_strerror(err), detail);
	if (d->online && d->fails >= d->rt->cfg->offline_after) {
		char why[80];
		snprintf(why, sizeof why, "%d failed requests in a row", d->fails);
		set_online(d, false, why);
	}
	if (!d->online) {
		d->probe_at = now + (uint64_t)d->backoff_ms;
		br_log(BLT_LOG_DEBUG, "%s: next probe in %d ms", d->cfg->id, d->backoff_ms);
		d->backoff_ms *= 2;
		if (d->backoff_ms > d->rt->cfg->backoff_max_s * 1000)
			d->backoff_ms = d->rt->cfg->backoff_max_s * 1000;
	}
}

/* ---- statistics (--stats FILE) ------------------------------------------------------- */

/* Round-trip histogram: 50 us buckets below 20 ms, then 1 ms buckets up to ~5 s. */
#define RTT_FINE    400
#define RTT_BUCKETS (RTT_FINE + 5000)

typedef struct br_stats {
	uint64_t started_ms, reset_ms;
	uint64_t reads, replies, timeouts, exceptions, failed, groups;
	uint64_t rtt_n, rtt_max_us;
	uint32_t rtt[RTT_BUCKETS];
} br_stats_t;

static br_stats_t stats;
const char *br_stats_path;
volatile int br_stats_reset_requested;

static void stats_rtt(uint64_t us)
{
	size_t b = us < RTT_FINE * 50u ? (size_t)(us / 50u)
	                               : RTT_FINE + (size_t)((us - RTT_FINE * 50u) / 1000u);
	if (b >= RTT_BUCKETS)
		b = RTT_BUCKETS - 1;
	stats.rtt[b]++;
	stats.rtt_n++;
	if (us > stats.rtt_max_us)
		stats.rtt_max_us = us;
}

/* Upper edge of the bucket holding the p-th percentile, microseconds. */
static uint64_t stats_pct(double p)
{
	uint64_t want = (uint64_t)ceil(p / 100.0 * (double)stats.rtt_n), seen = 0;
	if (!stats.rtt_n)
		return 0;
	for (size_t b = 0; b < RTT_BUCKETS; b++) {
		seen += stats.rtt[b];
		if (seen >= want && seen)
			return b < RTT_FINE ? (uint64_t)(b + 1) * 50u
			                    : RTT_FINE * 50u + (uint64_t)(b - RTT_FINE + 1) * 1000u;
	}
	return stats.rtt_max_us;
}

/* A new temporary file next to path (same directory, so the rename is atomic): created
 * with O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600, under a name nobody could have planted a
 * symlink or file for in advance; NULL if none could be made. */
static FILE *stats_tmp(char *tmp, size_t cap)
{
	static unsigned seq;
	for (int attempt = 0; attempt < 8; attempt++) {
		int fd;
		FILE *f;
		snprintf(tmp, cap, "%s.%ld.%u.%08x.tmp", br_stats_path, (long)getpid(), seq++,
		         (unsigned)rand());
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			if (errno == EEXIST || errno == ELOOP)
				continue;
			return NULL;
		}
		f = fdopen(fd, "w");
		if (!f) {
			close(fd);
			unlink(tmp);
		}
		return f;
	}
	return NULL;
}

static void stats_write(br_runtime_t *rt)
{
	char tmp[BR_PATH + 64];
	size_t online = 0, busy = 0;
	cmd_counts_t cc = {0};
	FILE *f;
	if (!br_stats_path)
		return;
	for (size_t i = 0; i < rt->ndev; i++) {
		const br_dev_t *d = &rt->devs[i];
		online += d->online;
		busy += d->client && blt_client_busy(d->client);
		cc.received += d->cc.received;
		cc.coalesced += d->cc.coalesced;
		cc.skipped += d->cc.skipped;
		cc.written += d->cc.written;
		cc.failed += d->cc.failed;
		cc.refused += d->cc.refused;
		cc.dropped += d->cc.dropped;
	}
	f = stats_tmp(tmp, sizeof tmp);
	if (!f) {
		static uint64_t warned;
		if (blt_now_ms() >= warned) { /* once a minute at most */
			br_log(BLT_LOG_WARN, "--stats %s: cannot create a temporary file: %s",
			       br_stats_path, strerror(errno));
			warned = blt_now_ms() + 60000;
		}
		return;
	}
	/* Counters since the start; the histogram since the last reset (SIGUSR1). */
	fprintf(f,
	        "{\"uptime_ms\":%llu,\"window_ms\":%llu,\"devices\":%zu,\"online\":%zu,"
	        "\"in_flight\":%zu,\"reads\":%llu,\"replies\":%llu,\"timeouts\":%llu,"
	        "\"exceptions\":%llu,\"failed\":%llu,\"groups\":%llu,"
	        "\"rtt_us\":{\"n\":%llu,\"p50\":%llu,\"p90\":%llu,\"p99\":%llu,\"max\":%llu},",
	        (unsigned long long)(blt_now_ms() - stats.started_ms),
	        (unsigned long long)(blt_now_ms() - stats.reset_ms), rt->ndev, online, busy,
	        (unsigned long long)stats.reads, (unsigned long long)stats.replies,
	        (unsigned long long)stats.timeouts, (unsigned long long)stats.exceptions,
	        (unsigned long long)stats.failed, (unsigned long long)stats.groups,
	        (unsigned long long)stats.rtt_n, (unsigned long long)stats_pct(50),
	        (unsigned long long)stats_pct(90), (unsigned long long)stats_pct(99),
	        (unsigned long long)stats.rtt_max_us);
	fprintf(f,
	        "\"commands\":{\"received\":%llu,\"coalesced\":%llu,\"skipped\":%llu,"
	        "\"written\":%llu,\"failed\":%llu,\"refused\":%llu,\"dropped\":%llu},"
	        "\"outbox\":{\"queued\":%zu,\"superseded\":%llu,\"dropped\":%llu}}\n",
	        (unsigned long long)cc.received, (unsigned long long)cc.coalesced,
	        (unsigned long long)cc.skipped, (unsigned long long)cc.written,
	        (unsigned long long)cc.failed, (unsigned long long)cc.refused,
	        (unsigned long long)cc.dropped, rt->ob.n, (unsigned long long)rt->ob.superseded,
	        (unsigned long long)rt->ob.dropped);
	if (fclose(f) != 0 || rename(tmp, br_stats_path) != 0)
		unlink(tmp);
}

/* ---- polling ------------------------------------------------------------------------- */

static bool block_skipped(br_dev_t *d, uint16_t block, uint64_t now)
{
	for (size_t i = 0; i < MAX_SKIP; i++)
		if (d->skip[i].block == block && d->skip[i].until > now)
			return true;
	return false;
}

/* A block the device read: forget a skip (its refusal was not forever). */
static void unskip_block(br_dev_t *d, uint16_t block)
{
	for (size_t i = 0; i < MAX_SKIP; i++)
		if (d->skip[i].block == block)
			d->skip[i].until = 0;
}

static void skip_block(br_dev_t *d, uint16_t block, uint64_t now)
{
	size_t slot = 0;
	for (size_t i = 0; i < MAX_SKIP; i++) {
		if (d->skip[i].block == block || d->skip[i].until <= now) {
			slot = i;
			break;
		}
	}
	d->skip[slot].block = block;
	d->skip[slot].until = now + SKIP_BLOCK_MS;
}

/* The outcome of one read of block id (blocking or not): decode and store it, or account
 * for the failure. Returns err (BLT_OK if the reply was usable). */
static int block_result(br_dev_t *d, uint16_t id, int err, uint8_t exception,
                        const uint8_t *data, size_t nbytes, const char *detail)
{
	const blt_block_t *b = blt_catalog_find(id);
	blt_detail_t det = {{0}};
	blt_decode_opts_t dopts;
	char what[64];

	snprintf(what, sizeof what, "read block %u", id);
	if (err == BLT_E_EXCEPTION) {
		/* The device is alive. 01/02/03: it does not have this block (even the shortest
		 * read was refused): skip it for a while. 05/06 (busy) and others are transient:
		 * the client has sent the read again already; the next round tries again. */
		stats.exceptions++;
		d->fails = 0;
		if (!d->online)
			set_online(d, true, NULL);
		if (exception >= 1 && exception <= 3) {
			br_log(BLT_LOG_INFO, "%s: block %u refused (%s); skipping it for %d min",
			       d->cfg->id, id, detail, SKIP_BLOCK_MS / 60000);
			skip_block(d, id, blt_now_ms());
		} else {
			br_log(BLT_LOG_INFO, "%s: block %u: %s; trying again next round", d->cfg->id,
			       id, detail);
		}
		return err;
	}
	if (err) {
		if (err == BLT_E_TIMEOUT)
			stats.timeouts++;
		else
			stats.failed++;
		request_failed(d, err, what, detail);
		return err;
	}
	d->fails = 0;
	d->last_seen_unix_ms = unix_ms();
	if (!d->online)
		set_online(d, true, NULL);
	unskip_block(d, id);
	if (!b)
		return BLT_OK;
	blt_device_decode_opts(d->dev, &dopts);
	err = blt_decode(b, data, nbytes, &dopts, d->rt->decoded, &det);
	if (err && err != BLT_E_MISSING) {
		br_log(BLT_LOG_WARN, "%s: block %u (%zu bytes) not decodable: %s", d->cfg->id, id,
		       nbytes, det.text);
		return BLT_OK; /* the device answered: not an availability problem */
	}
	err = blt_device_update(d->dev, d->rt->decoded, blt_now_ms(), &det);
	if (err)
		br_log(BLT_LOG_WARN, "%s: block %u: %s", d->cfg->id, id, det.text);
	d->dirty = true;
	return BLT_OK;
}

/* Blocking read of one block (after a write, with the device idle). */
static int poll_block(br_dev_t *d, uint16_t id)
{
	const blt_block_t *b = blt_catalog_find(id);
	uint8_t data[BLT_RTU_MAX];
	size_t nbytes = 0;
	blt_detail_t det = {{0}};
	uint8_t exc = 0;
	int err;

	if (!b)
		return BLT_OK;
	stats.reads++;
	err = blt_client_read_block(d->client, b->id, blt_profile_block_regs(d->cfg->profile, b),
	                            blt_block_core_regs(b), data, sizeof data, &nbytes, &exc, &det);
	return block_result(d, id, err, exc, data, nbytes, det.text);
}

static void on_read(void *user, const blt_client_result_t *r);

/* Submit the read of block id; false if it could not be sent (accounted for). */
static bool submit_block(br_dev_t *d, uint16_t id)
{
	const blt_block_t *b = blt_catalog_find(id);
	blt_detail_t det = {{0}};
	int err;

	if (!b)
		return false;
	stats.reads++;
	d->cur_block = id;
	err = blt_client_submit_read_block(d->client, b->id,
	                                   blt_profile_block_regs(d->cfg->profile, b),
	                                   blt_block_core_regs(b), on_read, d, &det);
	if (err) {
		block_result(d, id, err, 0, NULL, 0, det.text);
		return false;
	}
	return true;
}

/* The pending command of d that may run now (its setting's and the device's minimum
 * intervals passed), the oldest-written setting first; NULL if none. */
static cmd_listener_t *cmd_due(br_dev_t *d, uint64_t now)
{
	cmd_listener_t *best = NULL;
	if (!d->npending || now < d->next_write)
		return NULL;
	for (size_t i = 0; i < d->ncmds; i++) {
		cmd_listener_t *l = &d->cmds[i];
		if (!l->pending || (l->last_run && now < l->last_run + WRITE_SETTING_MS))
			continue;
		if (!best || l->last_run < best->last_run)
			best = l;
	}
	return best;
}

static void group_done(br_dev_t *d)
{
	size_t g = (size_t)d->cur_group;
	uint64_t now = blt_now_ms();
	uint64_t next = d->group_start + (uint64_t)d->cfg->interval_s[g] * 1000u;
	/* Fixed cadence from the start of the group; a late group is not made up for. */
	d->due[g] = next > now ? next : now;
	d->cur_group = -1;
	stats.groups++;
	if (d->dirty)
		publish_device(d, false, false);
}

/* Send the next block of the group in progress; ends the group when there is none or
 * a command waits for this device (the group resumes after it). */
static void group_next(br_dev_t *d)
{
	const blt_group_t *gr = &d->cfg->profile->groups[d->cur_group];
	uint64_t now = blt_now_ms();
	if (cmd_due(d, now))
		return; /* paused: the scheduler resumes the group after the write */
	while (d->cur_idx < gr->nblocks) {
		uint16_t id = gr->blocks[d->cur_idx++];
		if (block_skipped(d, id, now))
			continue;
		if (submit_block(d, id))
			return;
		break; /* could not send: stop this round (do not queue up failures) */
	}
	group_done(d);
}

static void on_read(void *user, const blt_client_result_t *r)
{
	br_dev_t *d = user;
	int err;
	if (r->err == BLT_OK || r->err == BLT_E_EXCEPTION) {
		stats.replies++;
		stats_rtt(r->rtt_us);
	}
	err = block_result(d, r->reg, r->err, r->exception, r->data, r->nbytes, r->detail->text);
	if (d->probing) {
		/* An offline device answered (or not) its probe. */
		d->probing = false;
		if (err == BLT_OK) {
			uint64_t now = blt_now_ms();
			for (size_t k = 0; k < BR_MAX_GROUPS; k++)
				d->due[k] = now; /* back: refresh everything */
		}
		if (d->dirty)
			publish_device(d, false, false);
		return;
	}
	if (d->cur_group < 0)
		return;
	if (err && err != BLT_E_EXCEPTION) {
		group_done(d); /* stop at the first failure: do not queue up timeouts */
		return;
	}
	group_next(d);
}

/* An offline device: one read of the first block of its first enabled group. */
static void probe(br_dev_t *d)
{
	const blt_profile_t *p = d->cfg->profile;
	br_log(BLT_LOG_DEBUG, "%s: probing", d->cfg->id);
	for (size_t g = 0; g < p->ngroups && g < BR_MAX_GROUPS; g++) {
		if (!d->cfg->interval_s[g] || !p->groups[g].nblocks)
			continue;
		d->probing = true;
		if (!submit_block(d, p->groups[g].blocks[0]))
			d->probing = false;
		return;
	}
	d->probe_at = blt_now_ms() + (uint64_t)d->rt->cfg->backoff_max_s * 1000u;
}

/* ---- nodes: packs and hubs at their own slave addresses -------------------------------
 * Once the groups are done and the "cells" group's interval has passed, a round asks the
 * power station for its node list (the NODE_INFO query) and reads each node's blocks at
 * its slave address (batteries: 6100, 6300), feeding each node's own state. A unit that
 * refuses the query is not asked again for SKIP_BLOCK_MS; a node that refuses a block is
 * passed over; a timeout ends the round and counts like any failed read. */

static int nodes_interval_s(const br_dev_t *d)
{
	const blt_profile_t *p = d->cfg->profile;
	for (size_t g = 0; g < p->ngroups && g < BR_MAX_GROUPS; g++)
		if (!strcmp(p->groups[g].name, "cells"))
			return d->cfg->interval_s[g];
	return 0;
}

static void nodes_done(br_dev_t *d)
{
	d->node_phase = 0;
	d->nodes_due = blt_now_ms() + (uint64_t)nodes_interval_s(d) * 1000u;
	if (d->dirty)
		publish_device(d, false, false);
}

static void on_node_read(void *user, const blt_client_result_t *r);

static void nodes_next(br_dev_t *d)
{
	if (cmd_due(d, blt_now_ms()))
		return; /* paused: resumed after the write */
	while (d->node_idx < d->nnode_reads) {
		const blt_block_t *b;
		blt_detail_t det = {{0}};
		d->node_cur = d->node_idx++;
		b = blt_catalog_find(d->node_reads[d->node_cur].block);
		if (!b)
			continue;
		stats.reads++;
		int err = blt_client_submit_read_at(
		    d->client, d->node_reads[d->node_cur].slave, b->id,
		    blt_profile_block_regs(d->cfg->profile, b), on_node_read, d, &det);
		if (err == BLT_OK)
			return;
		request_failed(d, err, "read a node block", det.text);
		break;
	}
	nodes_done(d);
}

/* A node answered (or not): usable -> decoded into its own state. */
static bool node_result(br_dev_t *d, const blt_client_result_t *r, const char *what)
{
	if (r->err == BLT_OK || r->err == BLT_E_EXCEPTION) {
		stats.replies++;
		stats_rtt(r->rtt_us);
		d->fails = 0;
		d->last_seen_unix_ms = unix_ms();
		if (!d->online)
			set_online(d, true, NULL);
	}
	if (r->err == BLT_E_EXCEPTION)
		stats.exceptions++;
	else if (r->err == BLT_E_TIMEOUT)
		stats.timeouts++;
	else if (r->err)
		stats.failed++;
	if (r->err && r->err != BLT_E_EXCEPTION)
		request_failed(d, r->err, what, r->detail->text);
	return r->err == BLT_OK && r->data;
}

static void on_node_read(void *user, const blt_client_result_t *r)
{
	br_dev_t *d = user;
	uint8_t slave = d->node_reads[d->node_cur].slave;
	const blt_block_t *b = blt_catalog_find(r->reg);
	blt_detail_t det = {{0}};
	blt_decode_opts_t dopts;
	int err;

	if (!node_result(d, r, "read a node block")) {
		if (r->err == BLT_E_EXCEPTION) {
			br_log(BLT_LOG_DEBUG, "%s: node %u refused block %u (%s)", d->cfg->id,
			       slave, r->reg, r->detail->text);
			nodes_next(d);
		} else {
			nodes_done(d);
		}
		return;
	}
	blt_device_decode_opts(d->dev, &dopts);
	err = b ? blt_decode(b, r->data, r->nbytes, &dopts, d->rt->decoded, &det) : BLT_E_INVAL;
	if (err == BLT_OK || err == BLT_E_MISSING)
		err = blt_device_update_node(d->dev, slave, d->rt->decoded, blt_now_ms(), &det);
	if (err)
		br_log(BLT_LOG_WARN, "%s: node %u block %u: %s", d->cfg->id, slave, r->reg,
		       det.text);
	else
		d->dirty = true;
	nodes_next(d);
}

static void on_node_info(void *user, const blt_client_result_t *r)
{
	br_dev_t *d = user;
	const blt_block_t *b = blt_catalog_find(BLT_NODE_INFO_BLOCK);
	blt_detail_t det = {{0}};
	int err;

	if (!node_result(d, r, "query the node list")) {
		if (r->err == BLT_E_EXCEPTION) {
			br_log(BLT_LOG_INFO, "%s: no node list (%s); asking again in %d min",
			       d->cfg->id, r->detail->text, SKIP_BLOCK_MS / 60000);
			skip_block(d, BLT_NODE_INFO_BLOCK, blt_now_ms());
		}
		nodes_done(d);
		return;
	}
	err = blt_decode(b, r->data, r->nbytes, NULL, d->rt->decoded, &det);
	if (err == BLT_OK)
		err = blt_device_update(d->dev, d->rt->decoded, blt_now_ms(), &det);
	if (err) {
		br_log(BLT_LOG_WARN, "%s: node list (%zu bytes): %s", d->cfg->id, r->nbytes,
		       det.text);
		nodes_done(d);
		return;
	}
	d->dirty = true;
	d->nnode_reads = 0;
	for (size_t i = 0; i < blt_device_node_count(d->dev); i++) {
		const blt_node_t *x = blt_device_node_at(d->dev, i);
		size_t nb = 0;
		const uint16_t *blocks =
		    x->state ? blt_node_blocks((blt_node_kind_t)x->kind, &nb) : NULL;
		for (size_t k = 0; k < nb && d->nnode_reads < BR_NODE_READS; k++) {
			d->node_reads[d->nnode_reads].slave = x->slave;
			d->node_reads[d->nnode_reads++].block = blocks[k];
		}
	}
	br_log(BLT_LOG_DEBUG, "%s: %zu nodes, %zu node reads", d->cfg->id,
	       blt_device_node_count(d->dev), d->nnode_reads);
	d->node_phase = 2;
	d->node_idx = 0;
	nodes_next(d);
}

/* Idle device, no group due: start a node round if one is due. Returns when to look
 * again (UINT64_MAX: never). */
static uint64_t poll_nodes(br_dev_t *d, uint64_t now)
{
	blt_detail_t det = {{0}};
	int iv = nodes_interval_s(d);
	if (!iv || !d->online || block_skipped(d, BLT_NODE_INFO_BLOCK, now))
		return UINT64_MAX;
	if (d->nodes_due > now)
		return d->nodes_due;
	stats.reads++;
	int err = blt_client_submit_node_info(d->client, on_node_info, d, &det);
	if (err != BLT_OK) {
		request_failed(d, err, "query the node list", det.text);
		nodes_done(d);
		return d->nodes_due;
	}
	d->node_phase = 1;
	return blt_client_deadline(d->client);
}

/* Start (or resume) work on an idle device if some is due; returns the time this device
 * next needs attention (UINT64_MAX: none). */
static uint64_t device_work(br_dev_t *d, uint64_t now)
{
	const blt_profile_t *p = d->cfg->profile;
	uint64_t next = UINT64_MAX;
	if (!d->client)
		return next;
	choose_path(d);
	if (blt_client_busy(d->client)) {
		blt_client_check_timeouts(d->client, now);
		if (blt_client_busy(d->client))
			return blt_client_deadline(d->client);
	}
	if (cmd_due(d, now))
		return next; /* the command runs first */
	if (d->cur_group >= 0) {
		group_next(d); /* resume after a command */
		return blt_client_busy(d->client) ? blt_client_deadline(d->client) : now;
	}
	if (d->node_phase == 2) {
		nodes_next(d); /* resume after a command */
		return blt_client_busy(d->client) ? blt_client_deadline(d->client) : now;
	}
	if (!d->online && d->probe_at) {
		if (now < d->probe_at)
			return d->probe_at;
		probe(d);
		return blt_client_busy(d->client) ? blt_client_deadline(d->client) : d->probe_at;
	}
	size_t best = SIZE_MAX;
	for (size_t g = 0; g < p->ngroups && g < BR_MAX_GROUPS; g++) {
		if (!d->cfg->interval_s[g])
			continue;
		if (d->due[g] <= now && (best == SIZE_MAX || d->due[g] < d->due[best]))
			best = g;
		else if (d->due[g] < next)
			next = d->due[g];
	}
	if (best == SIZE_MAX) {
		uint64_t t = poll_nodes(d, now);
		return t < next ? t : next;
	}
	br_log(BLT_LOG_DEBUG, "%s: polling group %s", d->cfg->id, p->groups[best].name);
	d->cur_group = (int)best;
	d->cur_idx = 0;
	d->group_start = now;
	group_next(d);
	if (blt_client_busy(d->client))
		return blt_client_deadline(d->client);
	return now; /* nothing sent (all skipped or failed): look again soon */
}

static void cmd_log_flush(br_dev_t *d, uint64_t now);

/* Every device: timeouts, due groups, probes, pending availability and state. Sets
 * rt->next_scan. */
static void scan(br_runtime_t *rt)
{
	uint64_t now = blt_now_ms(), next = now + SCAN_MAX_MS;
	bool up = blt_transport_connected(rt->up);
	for (size_t i = 0; i < rt->ndev; i++) {
		br_dev_t *d = &rt->devs[i];
		cmd_log_flush(d, now);
		if (!d->avail_sent && down_ok(rt) && (d->online || d->probe_at || !d->client))
			publish_availability(d);
		if (d->dirty && (!d->client || !blt_client_busy(d->client)))
			publish_device(d, false, false);
		if (!up && !d->link) {
			/* Nothing can be sent; outstanding requests still time out. (A Bluetooth
			 * device reconnects from its own poll; its failed requests count.) */
			if (d->client)
				blt_client_check_timeouts(d->client, now);
			continue;
		}
		uint64_t t = device_work(d, now);
		if (t < next)
			next = t;
	}
	if (next < now + SCAN_MIN_MS)
		next = now + SCAN_MIN_MS;
	rt->next_scan = next;
}

/* ---- commands ------------------------------------------------------------------------ */

/* A refused or dropped command: counted by the caller; logged at once if this device
 * logged none in the last REFUSE_LOG_MS, else held and summed up in the next line
 * (cmd_log_flush), so a flood costs at most one line per device per interval. */
static void cmd_log(br_dev_t *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cmd_log(br_dev_t *d, const char *fmt, ...)
{
	uint64_t now = blt_now_ms();
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->cmd_log_last, sizeof d->cmd_log_last, fmt, ap);
	va_end(ap);
	if (now < d->cmd_log_at) {
		d->cmd_log_held++;
		return;
	}
	br_log(BLT_LOG_WARN, "%s: %s", d->cfg->id, d->cmd_log_last);
	d->cmd_log_at = now + REFUSE_LOG_MS;
}

/* The line for the commands held back in the last interval, once it is over. */
static void cmd_log_flush(br_dev_t *d, uint64_t now)
{
	if (!d->cmd_log_held || now < d->cmd_log_at)
		return;
	br_log(
	    BLT_LOG_WARN, "%s: %llu more command(s) refused or dropped in the last %d s (last: %s)",
	    d->cfg->id, (unsigned long long)d->cmd_log_held, REFUSE_LOG_MS / 1000, d->cmd_log_last);
	d->cmd_log_held = 0;
	d->cmd_log_at = now + REFUSE_LOG_MS;
}

static void on_command(void *user, const char *topic, const uint8_t *payload, size_t len,
                       bool retained)
{
	cmd_listener_t *l = user;
	br_runtime_t *rt = l->rt;
	br_dev_t *dev = l->dev;
	char text[80];
	int32_t value;
	blt_detail_t d = {{0}};
	(void)topic;
	/* Nothing here publishes or allocates: a refusal costs a counter (and, rate-limited,
	 * a log line); a valid value only replaces the setting's pending one. */
	if (retained) {
		/* A retained command would be replayed at every start: never act on one. */
		dev->cc.refused++;
		cmd_log(dev, "ignoring retained command on %s (publish commands without retain)",
		        l->topic);
		return;
	}
	if (len == 0)
		return; /* someone clearing a retained message: nothing to do */
	if (!br_command_text((const char *)payload, len, text, sizeof text)) {
		dev->cc.refused++;
		cmd_log(dev, "%s: unusable command payload (%zu bytes)", l->setting->name, len);
		return;
	}
	if (blt_setting_parse_value(l->setting, text, &value, &d) != BLT_OK) {
		dev->cc.refused++;
		cmd_log(dev, "%s: '%.24s' refused: %.80s", l->setting->name, text, d.text);
		return;
	}
	dev->cc.received++;
	if (!dev->online) {
		dev->cc.dropped++;
		cmd_log(dev, "%s: command not sent: the device is offline", l->setting->name);
		return;
	}
	/* Coalesce: a newer command for the same setting replaces the pending one. */
	if (l->pending) {
		dev->cc.coalesced++;
	} else {
		l->pending = true;
		dev->npending++;
		rt->npending++;
	}
	l->value = value;
}

static void audit_line(void *user, const blt_audit_rec_t *rec)
{
	(void)user;
	br_log(rec->err ? BLT_LOG_WARN : BLT_LOG_INFO, "audit: %s", rec->line);
}

/* Run one pending command of d (the device has no read in flight): read the setting; if
 * the device already holds the value, stop there; else the gated write. */
static void exec_command(br_dev_t *d, cmd_listener_t *l)
{
	br_runtime_t *rt = d->rt;
	const blt_setting_t *s = l->setting;
	int32_t value = l->value, cur = 0;
	blt_write_opts_t wo;
	blt_write_result_t res;
	blt_detail_t det = {{0}};
	char vtext[64];
	int err;

	l->pending = false;
	d->npending--;
	rt->npending--;
	blt_setting_format_value(s, value, vtext, sizeof vtext);
	if (!d->online) {
		d->cc.dropped++;
		cmd_log(d, "%s = %s not sent: the device is offline", s->name, vtext);
		return;
	}
	err = blt_setting_read(d->client, d->cfg->profile->id, s, &cur, &det);
	if (err == BLT_OK && cur == value) {
		d->cc.skipped++;
		br_log(BLT_LOG_INFO, "%s: %s = %s: the device already holds it; not written",
		       d->cfg->id, s->name, vtext);
		goto done;
	}
	if (err != BLT_OK) {
		d->cc.failed++;
		br_log(BLT_LOG_ERROR,
		       "%s: %s = %s not written: reading the current value failed: "
		       "%s: %s",
		       d->cfg->id, s->name, vtext, blt_strerror(err), det.text);
		if (err == BLT_E_TIMEOUT)
			request_failed(d, err, "read before write", det.text);
		goto done;
	}
	memset(&wo, 0, sizeof wo);
	wo.flags = d->cfg->allow_unverified ? BLT_WRITE_ALLOW_UNVERIFIED : 0;
	wo.wire = d->client == d->client_ble && d->client_cloud ? &d->copts_ble : &d->copts;
	wo.verify_reads = 3;
	wo.verify_interval_ms = 500;
	wo.audit = audit_line;
	br_log(BLT_LOG_INFO, "%s: setting %s = %s", d->cfg->id, s->name, vtext);
	err = blt_setting_write(d->client, d->cfg->profile->id, s, value, &wo, &res, &det);
	if (err == BLT_OK) {
		d->fails = 0;
		d->cc.written++;
	} else {
		d->cc.failed++;
		br_log(BLT_LOG_ERROR, "%s: %s = %s failed: %s: %s", d->cfg->id, s->name, vtext,
		       blt_strerror(err), det.text);
		if (err == BLT_E_TIMEOUT)
			request_failed(d, err, "write", det.text);
	}
	/* Re-read the setting's block so the state shows what the device now has, and
	 * publish at once; other values (outputs, power) follow with their groups soon. */
	if (d->online)
		poll_block(d, s->block);
	for (size_t g = 0; g < d->cfg->profile->ngroups && g < BR_MAX_GROUPS; g++) {
		const blt_group_t *gr = &d->cfg->profile->groups[g];
		if (!d->cfg->interval_s[g])
			continue;
		for (size_t b = 0; b < gr->nblocks; b++)
			if (gr->blocks[b] == 100 && d->due[g] > blt_now_ms() + 1000)
				d->due[g] = blt_now_ms() + 1000;
	}
	publish_device(d, false, true);
done:
	/* the intervals count from the end of the work */
	l->last_run = blt_now_ms();
	d->next_write = l->last_run + WRITE_DEVICE_MS;
	rt->next_scan = 0; /* other devices' deadlines passed meanwhile, maybe */
}

/* Run at most one due command (bounded work per loop iteration), devices in turn so a
 * flood on one cannot starve the others' commands; false if none could run. */
static bool run_command(br_runtime_t *rt)
{
	uint64_t now = blt_now_ms();
	for (size_t k = 0; k < rt->ndev; k++) {
		size_t i = (rt->cmd_rr + k) % rt->ndev;
		br_dev_t *d = &rt->devs[i];
		cmd_listener_t *l;
		if (!d->npending || !d->client)
			continue;
		choose_path(d);
		if (blt_client_busy(d->client) || !blt_transport_connected(dev_transport(d)))
			continue;
		if (!(l = cmd_due(d, now)))
			continue;
		rt->cmd_rr = i + 1;
		exec_command(d, l);
		return true;
	}
	return false;
}

/* ---- connections --------------------------------------------------------------------- */

static void on_down_conn(void *user, bool connected, int err)
{
	br_runtime_t *rt = user;
	if (connected) {
		br_log(BLT_LOG_INFO, "homeassistant broker: connected");
		rt->down_connects++;
		ob_clear(&rt->ob); /* stale: everything is republished now */
		rt->down_fresh = true;
		for (size_t i = 0; i < rt->ndev; i++)
			rt->devs[i].avail_sent = false;
	} else {
		rt->down_drops++;
		ob_clear(&rt->ob); /* nothing is kept for a dead connection */
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

static int make_transport(const br_mqtt_cfg_t *m, const char *will_topic, const char *client_id,
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
static bool permanent(int err)
{
	return err == BLT_E_AUTH || err == BLT_E_CERT || err == BLT_E_CERT_PASSWORD ||
	       err == BLT_E_HOSTNAME || err == BLT_E_TLS || err == BLT_E_CONFIG;
}

static void runtime_free(br_runtime_t *rt)
{
	if (!rt)
		return;
	for (size_t i = 0; i < rt->ndev; i++) {
		br_dev_t *d = &rt->devs[i];
		if (d->client_cloud) { /* auto: both clients; client is one of them */
			blt_client_free(d->client_cloud);
			blt_client_free(d->client_ble);
		} else {
			blt_client_free(d->client);
		}
		blt_transport_free(d->link);
		blt_device_free(d->dev);
		free(d->last_state);
		cJSON_Delete(d->seed);
		free(d->pub_keys);
		free(d->pub_comp);
		free(d->cmds);
	}
	free(rt->devs);
	ob_clear(&rt->ob);
	free(rt->ob.bucket);
	blt_transport_free(rt->up);
	blt_transport_free(rt->down);
	free(rt->ents);
	free(rt->decoded);
	free(rt->last_stats);
	free(rt);
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

static int runtime_new(const br_config_t *cfg, br_runtime_t **out)
{
	br_runtime_t *rt = calloc(1, sizeof *rt);
	blt_detail_t d = {{0}};
	int err;
	*out = NULL;
	if (!rt)
		return BLT_E_NOMEM;
	rt->cfg = cfg;
	rt->devs = calloc(cfg->ndev ? cfg->ndev : 1, sizeof *rt->devs);
	rt->ents = calloc(BR_MAX_ENTITIES, sizeof *rt->ents);
	rt->decoded = calloc(1, sizeof *rt->decoded);
	if (!rt->devs || !rt->ents || !rt->decoded) {
		runtime_free(rt);
		return BLT_E_NOMEM;
	}
	br_bridge_topic(cfg->base_topic, rt->bridge_topic, sizeof rt->bridge_topic);
	snprintf(rt->ha_status_topic, sizeof rt->ha_status_topic, "%s/status",
	         cfg->discovery_prefix);

	err = make_transport(&cfg->down, rt->bridge_topic, cfg->down.client_id, &rt->down, &d);
	if (err) {
		br_log(BLT_LOG_ERROR, "homeassistant broker %s:%d: %s: %s", cfg->down.host,
		       cfg->down.port, blt_strerror(err), d.text);
		runtime_free(rt);
		return err;
	}
	err = cfg->up.host[0] ? make_transport(&cfg->up, NULL, cfg->up.client_id, &rt->up, &d)
	                      : BLT_OK; /* every device over Bluetooth */
	if (err) {
		br_log(BLT_LOG_ERROR, "upstream broker %s:%d: %s: %s", cfg->up.host, cfg->up.port,
		       blt_strerror(err), d.text);
		runtime_free(rt);
		return err;
	}
	blt_transport_on_connection(rt->down, on_down_conn, rt);
	blt_transport_on_connection(rt->up, on_up_conn, rt);
	br_account_install(cfg, rt->up); /* account =: a fresh TOTP login per connection */

	for (size_t i = 0; i < cfg->ndev; i++) {
		const br_device_cfg_t *dc = &cfg->dev[i];
		br_dev_t *dv = &rt->devs[rt->ndev++];
		dv->cfg = dc;
		dv->rt = rt;
		dv->backoff_ms = BACKOFF_MIN_MS;
		err = blt_device_new(dc->profile, dc->model, dc->sn, &dv->dev, &d);
		if (err) {
			br_log(BLT_LOG_ERROR, "%s: %s", dc->id, d.text);
			runtime_free(rt);
			return err;
		}
		if (!dc->enabled)
			continue;
		dv->copts.model = dc->model;
		dv->copts.sn = dc->sn;
		dv->copts.preset = dc->preset;
		dv->copts.slave = dc->slave;
		dv->copts.envelope = -1;
		dv->copts.timeout_ms = dc->timeout_ms;
		dv->copts.retries = dc->retries;
		if (strcmp(dc->transport, "cloud") != 0) {
			err = br_ble_link(dc, &dv->link, &d);
			if (err) {
				br_log(BLT_LOG_ERROR, "%s: bluetooth %s: %s", dc->id, dc->address,
				       d.text);
				runtime_free(rt);
				return err;
			}
		}
		if (!strcmp(dc->transport, "auto")) {
			dv->copts_ble = dv->copts;
			dv->copts_ble.preset = "ble";
			dv->copts_ble.slave = -1;
			err = blt_client_new(rt->up, &dv->copts, &dv->client_cloud, &d);
			if (!err)
				err = blt_client_new(dv->link, &dv->copts_ble, &dv->client_ble, &d);
			/* known short replies (AP300 6100) are taken at once, on either path */
			if (!err)
				err = blt_client_use_profile(dv->client_cloud, dc->profile, &d);
			if (!err)
				err = blt_client_use_profile(dv->client_ble, dc->profile, &d);
			dv->client = dv->client_ble;
		} else {
			err = blt_client_new(dv->link ? dv->link : rt->up, &dv->copts, &dv->client,
			                     &d);
			if (!err) /* known short replies (AP300 6100) are taken at once */
				err = blt_client_use_profile(dv->client, dc->profile, &d);
		}
		if (err) {
			br_log(BLT_LOG_ERROR, "%s: %s", dc->id, d.text);
			runtime_free(rt);
			return err;
		}
	}
	*out = rt;
	return BLT_OK;
}

/* Connect both brokers (a temporary failure is retried by the poll loop), subscribe. */
static int runtime_start(br_runtime_t *rt)
{
	const br_config_t *cfg = rt->cfg;
	blt_detail_t d = {{0}};
	int err;

	err = blt_transport_connect(rt->down, &d);
	if (err) {
		br_log(permanent(err) ? BLT_LOG_ERROR : BLT_LOG_WARN,
		       "homeassistant broker %s:%d: %s: %s%s", cfg->down.host, cfg->down.port,
		       blt_strerror(err), d.text, permanent(err) ? "" : " (retrying)");
		if (permanent(err))
			return err;
	}
	err = blt_transport_listen(rt->down, rt->ha_status_topic, on_ha_status, rt, &d);
	if (err)
		br_log(BLT_LOG_WARN, "subscribe %s: %s", rt->ha_status_topic, d.text);
	/* The previous run's retained state: no partial state after a restart. Fresh for two
	 * of the device's longest poll intervals (at least a minute) after the start. */
	for (size_t i = 0; i < rt->ndev; i++) {
		br_dev_t *dv = &rt->devs[i];
		br_ha_ctx_t c;
		char topic[300];
		int longest = 30;
		for (size_t g = 0; g < BR_MAX_GROUPS; g++)
			if (dv->cfg->interval_s[g] > longest)
				longest = dv->cfg->interval_s[g];
		dv->seed_until = blt_now_ms() + 2000u * (uint64_t)longest;
		ctx_of(dv, &c);
		br_device_topic(&c, "state", topic, sizeof topic);
		if (blt_transport_listen(rt->down, topic, on_seed, dv, &d) != BLT_OK)
			br_log(BLT_LOG_WARN, "subscribe %s: %s", topic, d.text);
	}
	for (size_t i = 0; i < rt->ndev; i++) {
		br_dev_t *dv = &rt->devs[i];
		size_t n = 0;
		size_t nexp = 0;
		/* Only the exposed settings get a listener (~280 bytes each, per device). */
		for (size_t s = 0; dv->client && s < blt_setting_count(); s++)
			nexp += br_setting_exposed(dv->cfg, blt_setting_at(s));
		dv->cmds = calloc(nexp ? nexp : 1, sizeof *dv->cmds);
		if (!dv->cmds)
			return BLT_E_NOMEM;
		if (!dv->client)
			continue;
		for (size_t s = 0; s < blt_setting_count(); s++) {
			const blt_setting_t *st = blt_setting_at(s);
			cmd_listener_t *l = &dv->cmds[n];
			br_ha_ctx_t c;
			char leaf[96];
			if (!br_setting_exposed(dv->cfg, st))
				continue;
			ctx_of(dv, &c);
			snprintf(leaf, sizeof leaf, "set/%s", st->name);
			br_device_topic(&c, leaf, l->topic, sizeof l->topic);
			l->rt = rt;
			l->dev = dv;
			l->setting = st;
			err = blt_transport_listen(rt->down, l->topic, on_command, l, &d);
			if (err)
				br_log(BLT_LOG_WARN, "subscribe %s: %s", l->topic, d.text);
			else
				n++;
		}
		dv->ncmds = n;
	}

	err = rt->up ? blt_transport_connect(rt->up, &d) : BLT_OK;
	if (err) {
		br_log(permanent(err) ? BLT_LOG_ERROR : BLT_LOG_WARN,
		       "upstream broker %s:%d: %s: %s%s", cfg->up.host, cfg->up.port,
		       blt_strerror(err), d.text, permanent(err) ? "" : " (retrying)");
		if (permanent(err))
			return err;
	}
	for (size_t i = 0; i < rt->ndev; i++) {
		br_dev_t *dv = &rt->devs[i];
		if (!dv->client)
			continue;
		err = blt_client_start(dv->client_cloud ? dv->client_cloud : dv->client, &d);
		if (!err && dv->client_cloud)
			err = blt_client_start(dv->client_ble, &d);
		if (err)
			br_log(BLT_LOG_WARN, "%s: %s", dv->cfg->id, d.text);
		if (dv->link && (err = blt_transport_connect(dv->link, &d)) != BLT_OK)
			br_log(BLT_LOG_WARN, "%s: bluetooth %s: %s: %s (retrying)", dv->cfg->id,
			       dv->cfg->address, blt_strerror(err), d.text);
		/* First contact: poll everything soon; "offline" until something answers. Many
		 * devices start one per STAGGER_MS (spread over at most 5 s) instead of all at
		 * once, so their rounds stay spread out. */
		dv->online = false;
		dv->probe_at = 0;
		dv->cur_group = -1;
		uint64_t first = blt_now_ms() + (uint64_t)((i * STAGGER_MS) % 5000);
		for (size_t g = 0; g < BR_MAX_GROUPS; g++)
			dv->due[g] = first;
	}
	rt->next_scan = 0;
	if (!stats.started_ms)
		stats.started_ms = stats.reset_ms = blt_now_ms();
	rt->down_fresh = true;
	rt->up_was_connected = blt_transport_connected(rt->up);
	rt->up_down_since = rt->up_was_connected ? 0 : blt_now_ms();
	return BLT_OK;
}

/* Graceful end: devices and bridge offline, flushed, disconnected. */
static void runtime_stop(br_runtime_t *rt, bool announce_offline)
{
	if (announce_offline && down_ok(rt)) {
		/* The truth first: drop the unsent backlog (state, discovery: republished at the
		 * next start anyway), so the offline messages queue behind at most OUT_WINDOW
		 * messages already on their way. */
		if (rt->ob.n)
			br_log(BLT_LOG_INFO, "stopping: %zu unsent message(s) dropped", rt->ob.n);
		ob_clear(&rt->ob);
		for (size_t i = 0; i < rt->ndev; i++) {
			rt->devs[i].online = false;
			publish_availability(&rt->devs[i]);
		}
		publish(rt, rt->bridge_topic, "offline", true);
	}
	/* Wait (bounded) until everything queued is acknowledged, then DISCONNECT. */
	uint64_t end = blt_now_ms() + STOP_WAIT_MS;
	while (down_ok(rt) && (rt->ob.n || blt_transport_pending(rt->down)) && blt_now_ms() < end) {
		blt_transport_poll(rt->down, 20, NULL);
		ob_flush(rt);
	}
	if (down_ok(rt) && (rt->ob.n || blt_transport_pending(rt->down)))
		br_log(BLT_LOG_WARN,
		       "homeassistant broker: %zu message(s) not acknowledged after %d s; "
		       "disconnecting anyway",
		       rt->ob.n + blt_transport_pending(rt->down), STOP_WAIT_MS / 1000);
	blt_transport_disconnect(rt->down);
	blt_transport_disconnect(rt->up);
	for (size_t i = 0; i < rt->ndev; i++)
		blt_transport_disconnect(rt->devs[i].link);
}

static void upstream_watch(br_runtime_t *rt)
{
	bool up = blt_transport_connected(rt->up);
	uint64_t now = blt_now_ms();
	if (up) {
		if (!rt->up_was_connected) {
			/* Back: probe every offline device now. */
			for (size_t i = 0; i < rt->ndev; i++)
				if (!rt->devs[i].online && !rt->devs[i].link)
					rt->devs[i].probe_at = now;
		}
		rt->up_down_since = 0;
	} else if (!rt->up_down_since) {
		rt->up_down_since = now;
	} else if (now - rt->up_down_since >= UP_GRACE_MS) {
		for (size_t i = 0; i < rt->ndev; i++) {
			br_dev_t *d = &rt->devs[i];
			if (d->link)
				continue; /* Bluetooth: availability from its own requests */
			if (d->online || !d->avail_sent) {
				set_online(d, false, "upstream broker unreachable");
				d->probe_at = now + (uint64_t)d->backoff_ms;
			}
		}
	}
	rt->up_was_connected = up;
}

/* ---- counters ------------------------------------------------------------------------ */

#define STATS_EVERY_MS 5000

/* Retained "<base>/bridge/stats": connection counts and every device's client counters
 * (blt_client_stats), at most every STATS_EVERY_MS and only when something changed; also
 * logged at debug level. What the reliability tests and docs/reliability.md read. */
static void publish_stats(br_runtime_t *rt)
{
	char topic[200], *doc = NULL;
	size_t len = 0;
	uint64_t now = blt_now_ms();
	FILE *m;
	if (now < rt->stats_at || !down_ok(rt))
		return;
	rt->stats_at = now + STATS_EVERY_MS;
	m = open_memstream(&doc, &len);
	if (!m)
		return;
	fprintf(m,
	        "{\"upstream\":{\"connects\":%llu,\"drops\":%llu},"
	        "\"homeassistant\":{\"connects\":%llu,\"drops\":%llu},\"devices\":{",
	        (unsigned long long)rt->up_connects, (unsigned long long)rt->up_drops,
	        (unsigned long long)rt->down_connects, (unsigned long long)rt->down_drops);
	for (size_t i = 0; i < rt->ndev; i++) {
		const br_dev_t *d = &rt->devs[i];
		blt_client_stats_t st;
		memset(&st, 0, sizeof st);
		if (d->client)
			blt_client_stats(d->client, &st);
		fprintf(m,
		        "%s\"%s\":{\"online\":%s,\"requests\":%llu,\"replies\":%llu,"
		        "\"timeouts\":%llu,\"bad_frames\":%llu,\"unsolicited\":%llu,"
		        "\"exceptions\":%llu,\"last_rtt_ms\":%llu,",
		        i ? "," : "", d->cfg->id, d->online ? "true" : "false",
		        (unsigned long long)st.requests, (unsigned long long)st.replies,
		        (unsigned long long)st.timeouts, (unsigned long long)st.bad_frames,
		        (unsigned long long)st.unsolicited, (unsigned long long)st.exceptions,
		        (unsigned long long)st.last_rtt_ms);
		fprintf(m,
		        "\"commands\":{\"received\":%llu,\"coalesced\":%llu,\"skipped\":%llu,"
		        "\"written\":%llu,\"failed\":%llu,\"refused\":%llu,\"dropped\":%llu}}",
		        (unsigned long long)d->cc.received, (unsigned long long)d->cc.coalesced,
		        (unsigned long long)d->cc.skipped, (unsigned long long)d->cc.written,
		        (unsigned long long)d->cc.failed, (unsigned long long)d->cc.refused,
		        (unsigned long long)d->cc.dropped);
	}
	fprintf(m, "},\"outbox\":{\"queued\":%zu,\"superseded\":%llu,\"dropped\":%llu}}", rt->ob.n,
	        (unsigned long long)rt->ob.superseded, (unsigned long long)rt->ob.dropped);
	if (fclose(m) != 0 || !doc) {
		free(doc);
		return;
	}
	/* last_rtt_ms alone changes all the time: compare without it would be nicer, but a
	 * document every 5 s is cheap. */
	if (rt->last_stats && !strcmp(rt->last_stats, doc)) {
		free(doc);
		return;
	}
	snprintf(topic, sizeof topic, "%s/bridge/stats", rt->cfg->base_topic);
	br_log(BLT_LOG_DEBUG, "stats: %s", doc);
	if (publish(rt, topic, doc, true) == BLT_OK) {
		free(rt->last_stats);
		rt->last_stats = doc;
	} else {
		free(doc);
	}
}

static void loop(br_runtime_t *rt)
{
	while (!br_stop_requested && !br_reload_requested) {
		uint64_t now;
		int wait;
		if (rt->down_fresh || (rt->ha_birth && blt_now_ms() >= rt->birth_at)) {
			if (down_ok(rt))
				republish_all(rt);
		}
		upstream_watch(rt);
		if (br_stats_reset_requested) {
			br_stats_reset_requested = 0;
			memset(stats.rtt, 0, sizeof stats.rtt);
			stats.rtt_n = stats.rtt_max_us = 0;
			stats.reset_ms = blt_now_ms();
			rt->next_stats = 0;
		}
		/* At most one command per iteration; polling and publishing go on between. */
		if (rt->npending) /* each device waits for its own transport */
			run_command(rt);
		now = blt_now_ms();
		if (now >= rt->next_scan)
			scan(rt);
		publish_stats(rt);
		if (br_stats_path && now >= rt->next_stats) {
			stats_write(rt);
			rt->next_stats = now + STATS_FILE_MS;
		}
		/* Replies (upstream) are what the loop waits for; Home Assistant's commands
		 * wait at most one slice. */
		now = blt_now_ms();
		wait = rt->next_scan > now ? (int)(rt->next_scan - now) : 0;
		if (wait > 50)
			wait = 50;
		blt_transport_poll(rt->down, 0, NULL);
		ob_flush(rt);
		if (rt->npending && wait > 10)
			wait = 10; /* a command may come due */
		/* Bluetooth links: their notifications, keep-alives and reconnects (a reconnect
		 * attempt blocks for up to its connect timeout) */
		for (size_t i = 0; i < rt->ndev; i++)
			if (rt->devs[i].link)
				blt_transport_poll(rt->devs[i].link, rt->up ? 0 : wait, NULL);
		if (!rt->up)
			continue;
		if (blt_transport_connected(rt->up))
			blt_transport_poll(rt->up, wait, NULL);
		else
			blt_transport_poll(rt->up, wait < 50 ? 50 : wait, NULL);
	}
	stats_write(rt);
}

/* Clear what devices of old announced but new does not configure (by id). */
static void clear_removed(br_runtime_t *old, const br_config_t *ncfg)
{
	for (size_t i = 0; i < old->ndev; i++) {
		bool kept = false;
		for (size_t k = 0; k < ncfg->ndev && !kept; k++)
			kept = !strcmp(ncfg->dev[k].id, old->devs[i].cfg->id) &&
			       !strcmp(ncfg->dev[k].sn, old->devs[i].cfg->sn) &&
			       !strcmp(ncfg->base_topic, old->cfg->base_topic) &&
			       !strcmp(ncfg->discovery_prefix, old->cfg->discovery_prefix);
		if (!kept) {
			br_log(BLT_LOG_INFO,
			       "%s: removed from the configuration; clearing its "
			       "entities",
			       old->devs[i].cfg->id);
			clear_device(&old->devs[i]);
		}
	}
}

int br_run(const char *path, br_config_t *cfg, int cli_level)
{
	br_runtime_t *rt = NULL;

	for (;;) {
		br_config_t *ncfg = NULL;
		int err = runtime_new(cfg, &rt);
		if (!err)
			err = runtime_start(rt);
		if (err) {
			if (rt)
				runtime_stop(rt, false);
			runtime_free(rt);
			br_config_free(cfg);
			return 1;
		}
		if (cfg->up.host[0])
			br_log(BLT_LOG_INFO,
			       "bridging %zu device(s): %s:%d -> %s:%d (base topic %s)", cfg->ndev,
			       cfg->up.host, cfg->up.port, cfg->down.host, cfg->down.port,
			       cfg->base_topic);
		else
			br_log(BLT_LOG_INFO,
			       "bridging %zu device(s): bluetooth -> %s:%d (base topic %s)",
			       cfg->ndev, cfg->down.host, cfg->down.port, cfg->base_topic);
		for (;;) {
			br_errors_t errs;
			loop(rt);
			if (br_stop_requested) {
				br_log(BLT_LOG_INFO, "stopping");
				runtime_stop(rt, true);
				runtime_free(rt);
				br_config_free(cfg);
				return 0;
			}
			/* Reload: keep the running configuration unless the new one is valid. */
			br_reload_requested = 0;
			br_log(BLT_LOG_INFO, "reloading %s", path);
			if (br_config_load(path, true, &ncfg, &errs) == BLT_OK)
				break;
			for (size_t i = 0; i < errs.n; i++)
				br_log(BLT_LOG_ERROR, "%s", errs.msg[i]);
			br_log(BLT_LOG_ERROR, "reload failed: keeping the running configuration");
		}
		br_log_init(cli_level >= 0         ? cli_level
		            : ncfg->log_level >= 0 ? ncfg->log_level
		                                   : BLT_LOG_INFO);
		clear_removed(rt, ncfg);
		runtime_stop(rt, false);
		runtime_free(rt);
		rt = NULL;
		br_config_free(cfg);
		cfg = ncfg;
	}
}
