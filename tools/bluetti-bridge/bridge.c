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
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <bluetti/bluetti.h>
#include <bluetti/client.h>
#include <bluetti/control.h>
#include <bluetti/device.h>
#include <bluetti/settings.h>
#include <bluetti/transport.h>

#include "br_account.h"
#include "bridge.h"

#define MAX_SKIP       16
#define MAX_CMDS       32
#define SKIP_BLOCK_MS  (10 * 60 * 1000)
#define UP_GRACE_MS    10000
#define BACKOFF_MIN_MS 2000
#define SCAN_MIN_MS    10   /* walk the device list at most this often */
#define SCAN_MAX_MS    200  /* ... and at least this often */
#define STAGGER_MS     5    /* first polls of many devices: one device per STAGGER_MS */
#define STATS_FILE_MS  1000 /* --stats FILE rewritten this often */

volatile int br_stop_requested;
volatile int br_reload_requested;

typedef struct br_dev br_dev_t;

typedef struct cmd_listener {
	br_runtime_t *rt;
	br_dev_t *dev;
	const blt_setting_t *setting;
	char topic[256];
} cmd_listener_t;

struct br_dev {
	const br_device_cfg_t *cfg;
	br_runtime_t *rt;
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
	char sw[200];     /* sw_version the discovery documents were published with */
	/* discovery topics published (for state null-fill and cleanup): "component\0key" */
	char (*pub_keys)[64];
	uint8_t *pub_comp;
	size_t npub, cappub;
	cmd_listener_t *cmds;
	size_t ncmds;
};

typedef struct cmd {
	br_dev_t *dev;
	const blt_setting_t *setting;
	int32_t value;
} cmd_t;

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
	cmd_t cmds[MAX_CMDS];
	size_t ncmds;
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

static int publish(br_runtime_t *rt, const char *topic, const char *payload, bool retain)
{
	blt_detail_t d = {{0}};
	int err;
	if (!down_ok(rt))
		return BLT_E_DISCONNECTED;
	err = blt_transport_publish(rt->down, topic, payload, strlen(payload), 1, retain, &d);
	if (err)
		br_log(BLT_LOG_WARN, "publish %s: %s", topic, d.text);
	return err;
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
	if (force_state || !d->last_state || strcmp(doc, d->last_state) != 0) {
		br_device_topic(&c, "state", topic, sizeof topic);
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

static void stats_write(br_runtime_t *rt)
{
	char tmp[BR_PATH + 8];
	size_t online = 0, busy = 0;
	FILE *f;
	if (!br_stats_path)
		return;
	for (size_t i = 0; i < rt->ndev; i++) {
		online += rt->devs[i].online;
		busy += rt->devs[i].client && blt_client_busy(rt->devs[i].client);
	}
	snprintf(tmp, sizeof tmp, "%s.tmp", br_stats_path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	/* Counters since the start; the histogram since the last reset (SIGUSR1). */
	fprintf(f,
	        "{\"uptime_ms\":%llu,\"window_ms\":%llu,\"devices\":%zu,\"online\":%zu,"
	        "\"in_flight\":%zu,\"reads\":%llu,\"replies\":%llu,\"timeouts\":%llu,"
	        "\"exceptions\":%llu,\"failed\":%llu,\"groups\":%llu,"
	        "\"rtt_us\":{\"n\":%llu,\"p50\":%llu,\"p90\":%llu,\"p99\":%llu,\"max\":%llu}}\n",
	        (unsigned long long)(blt_now_ms() - stats.started_ms),
	        (unsigned long long)(blt_now_ms() - stats.reset_ms), rt->ndev, online, busy,
	        (unsigned long long)stats.reads, (unsigned long long)stats.replies,
	        (unsigned long long)stats.timeouts, (unsigned long long)stats.exceptions,
	        (unsigned long long)stats.failed, (unsigned long long)stats.groups,
	        (unsigned long long)stats.rtt_n, (unsigned long long)stats_pct(50),
	        (unsigned long long)stats_pct(90), (unsigned long long)stats_pct(99),
	        (unsigned long long)stats.rtt_max_us);
	if (fclose(f) == 0)
		rename(tmp, br_stats_path);
}

/* ---- polling ------------------------------------------------------------------------- */

static bool block_skipped(br_dev_t *d, uint16_t block, uint64_t now)
{
	for (size_t i = 0; i < MAX_SKIP; i++)
		if (d->skip[i].block == block && d->skip[i].until > now)
			return true;
	return false;
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
static int block_result(br_dev_t *d, uint16_t id, int err, const uint8_t *data, size_t nbytes,
                        const char *detail)
{
	const blt_block_t *b = blt_catalog_find(id);
	blt_detail_t det = {{0}};
	blt_decode_opts_t dopts;
	char what[64];

	snprintf(what, sizeof what, "read block %u", id);
	if (err == BLT_E_EXCEPTION) {
		/* The device is alive but refuses this block: skip it for a while. */
		stats.exceptions++;
		d->fails = 0;
		if (!d->online)
			set_online(d, true, NULL);
		br_log(BLT_LOG_INFO, "%s: block %u refused (%s); skipping it for %d min",
		       d->cfg->id, id, detail, SKIP_BLOCK_MS / 60000);
		skip_block(d, id, blt_now_ms());
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
	int err;

	if (!b)
		return BLT_OK;
	stats.reads++;
	err = blt_client_read(d->client, b->id, blt_profile_block_regs(d->cfg->profile, b), data,
	                      sizeof data, &nbytes, &det);
	return block_result(d, id, err, data, nbytes, det.text);
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
	err = blt_client_submit_read(d->client, b->id, blt_profile_block_regs(d->cfg->profile, b),
	                             on_read, d, &det);
	if (err) {
		block_result(d, id, err, NULL, 0, det.text);
		return false;
	}
	return true;
}

static bool cmd_pending(const br_runtime_t *rt, const br_dev_t *d)
{
	for (size_t i = 0; i < rt->ncmds; i++)
		if (rt->cmds[i].dev == d)
			return true;
	return false;
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
	if (cmd_pending(d->rt, d))
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
	err = block_result(d, r->reg, r->err, r->data, r->nbytes, r->detail->text);
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

/* Start (or resume) work on an idle device if some is due; returns the time this device
 * next needs attention (UINT64_MAX: none). */
static uint64_t device_work(br_dev_t *d, uint64_t now)
{
	const blt_profile_t *p = d->cfg->profile;
	uint64_t next = UINT64_MAX;
	if (!d->client)
		return next;
	if (blt_client_busy(d->client)) {
		blt_client_check_timeouts(d->client, now);
		if (blt_client_busy(d->client))
			return blt_client_deadline(d->client);
	}
	if (cmd_pending(d->rt, d))
		return next; /* the command runs first */
	if (d->cur_group >= 0) {
		group_next(d); /* resume after a command */
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
	if (best == SIZE_MAX)
		return next;
	br_log(BLT_LOG_DEBUG, "%s: polling group %s", d->cfg->id, p->groups[best].name);
	d->cur_group = (int)best;
	d->cur_idx = 0;
	d->group_start = now;
	group_next(d);
	if (blt_client_busy(d->client))
		return blt_client_deadline(d->client);
	return now; /* nothing sent (all skipped or failed): look again soon */
}

/* Every device: timeouts, due groups, probes, pending availability and state. Sets
 * rt->next_scan. */
static void scan(br_runtime_t *rt)
{
	uint64_t now = blt_now_ms(), next = now + SCAN_MAX_MS;
	bool up = blt_transport_connected(rt->up);
	for (size_t i = 0; i < rt->ndev; i++) {
		br_dev_t *d = &rt->devs[i];
		if (!d->avail_sent && down_ok(rt) && (d->online || d->probe_at || !d->client))
			publish_availability(d);
		if (d->dirty && (!d->client || !blt_client_busy(d->client)))
			publish_device(d, false, false);
		if (!up) {
			/* Nothing can be sent; outstanding requests still time out. */
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

static void on_command(void *user, const char *topic, const uint8_t *payload, size_t len,
                       bool retained)
{
	cmd_listener_t *l = user;
	br_runtime_t *rt = l->rt;
	char text[80];
	int32_t value;
	blt_detail_t d = {{0}};
	(void)topic;
	if (retained) {
		/* A retained command would be replayed at every start: never act on one. */
		br_log(BLT_LOG_WARN,
		       "%s: ignoring retained command on %s (publish commands "
		       "without retain)",
		       l->dev->cfg->id, l->topic);
		return;
	}
	if (len == 0)
		return; /* someone clearing a retained message: nothing to do */
	if (!br_command_text((const char *)payload, len, text, sizeof text)) {
		br_log(BLT_LOG_WARN, "%s: %s: unusable command payload (%zu bytes)",
		       l->dev->cfg->id, l->setting->name, len);
		return;
	}
	if (blt_setting_parse_value(l->setting, text, &value, &d) != BLT_OK) {
		br_log(BLT_LOG_WARN, "%s: %s: '%s' refused: %s", l->dev->cfg->id, l->setting->name,
		       text, d.text);
		publish_device(l->dev, false, true); /* let HA show the real state again */
		return;
	}
	/* Coalesce: a newer command for the same setting replaces a queued one. */
	for (size_t i = 0; i < rt->ncmds; i++) {
		if (rt->cmds[i].dev == l->dev && rt->cmds[i].setting == l->setting) {
			rt->cmds[i].value = value;
			return;
		}
	}
	if (rt->ncmds >= MAX_CMDS) {
		br_log(BLT_LOG_WARN, "%s: command queue full; %s dropped", l->dev->cfg->id,
		       l->setting->name);
		return;
	}
	rt->cmds[rt->ncmds++] = (cmd_t){.dev = l->dev, .setting = l->setting, .value = value};
}

static void audit_line(void *user, const blt_audit_rec_t *rec)
{
	(void)user;
	br_log(rec->err ? BLT_LOG_WARN : BLT_LOG_INFO, "audit: %s", rec->line);
}

/* Run the first queued command whose device has no read in flight (writes block and use
 * the device's client); false if none can run now. */
static bool run_command(br_runtime_t *rt)
{
	size_t k = 0;
	cmd_t c;
	br_dev_t *d;
	blt_write_opts_t wo;
	blt_write_result_t res;
	blt_detail_t det = {{0}};
	char vtext[64];
	int err;

	while (k < rt->ncmds && rt->cmds[k].dev->client && blt_client_busy(rt->cmds[k].dev->client))
		k++;
	if (k == rt->ncmds)
		return false;
	c = rt->cmds[k];
	d = c.dev;
	memmove(&rt->cmds[k], &rt->cmds[k + 1], (rt->ncmds - k - 1) * sizeof rt->cmds[0]);
	rt->ncmds--;
	blt_setting_format_value(c.setting, c.value, vtext, sizeof vtext);
	if (!d->online) {
		br_log(BLT_LOG_WARN, "%s: %s = %s not sent: the device is offline", d->cfg->id,
		       c.setting->name, vtext);
		publish_device(d, false, true);
		return true;
	}
	memset(&wo, 0, sizeof wo);
	wo.flags = d->cfg->allow_unverified ? BLT_WRITE_ALLOW_UNVERIFIED : 0;
	wo.wire = &d->copts;
	wo.verify_reads = 3;
	wo.verify_interval_ms = 500;
	wo.audit = audit_line;
	br_log(BLT_LOG_INFO, "%s: setting %s = %s", d->cfg->id, c.setting->name, vtext);
	err =
	    blt_setting_write(d->client, d->cfg->profile->id, c.setting, c.value, &wo, &res, &det);
	if (err == BLT_OK) {
		d->fails = 0;
	} else {
		br_log(BLT_LOG_ERROR, "%s: %s = %s failed: %s: %s", d->cfg->id, c.setting->name,
		       vtext, blt_strerror(err), det.text);
		if (err == BLT_E_TIMEOUT)
			request_failed(d, err, "write", det.text);
	}
	/* Re-read the setting's block so the state shows what the device now has, and
	 * publish at once; other values (outputs, power) follow with their groups soon. */
	if (d->online)
		poll_block(d, c.setting->block);
	for (size_t g = 0; g < d->cfg->profile->ngroups && g < BR_MAX_GROUPS; g++) {
		const blt_group_t *gr = &d->cfg->profile->groups[g];
		if (!d->cfg->interval_s[g])
			continue;
		for (size_t b = 0; b < gr->nblocks; b++)
			if (gr->blocks[b] == 100 && d->due[g] > blt_now_ms() + 1000)
				d->due[g] = blt_now_ms() + 1000;
	}
	publish_device(d, false, true);
	rt->next_scan = 0; /* other devices' deadlines passed meanwhile, maybe */
	return true;
}

/* ---- connections --------------------------------------------------------------------- */

static void on_down_conn(void *user, bool connected, int err)
{
	br_runtime_t *rt = user;
	if (connected) {
		br_log(BLT_LOG_INFO, "homeassistant broker: connected");
		rt->down_connects++;
		rt->down_fresh = true;
		for (size_t i = 0; i < rt->ndev; i++)
			rt->devs[i].avail_sent = false;
	} else {
		rt->down_drops++;
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
		blt_client_free(d->client);
		blt_device_free(d->dev);
		free(d->last_state);
		free(d->pub_keys);
		free(d->pub_comp);
		free(d->cmds);
	}
	free(rt->devs);
	blt_transport_free(rt->up);
	blt_transport_free(rt->down);
	free(rt->ents);
	free(rt->decoded);
	free(rt->last_stats);
	free(rt);
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
	err = make_transport(&cfg->up, NULL, cfg->up.client_id, &rt->up, &d);
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
		err = blt_client_new(rt->up, &dv->copts, &dv->client, &d);
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

	err = blt_transport_connect(rt->up, &d);
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
		err = blt_client_start(dv->client, &d);
		if (err)
			br_log(BLT_LOG_WARN, "%s: %s", dv->cfg->id, d.text);
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
		for (size_t i = 0; i < rt->ndev; i++) {
			rt->devs[i].online = false;
			publish_availability(&rt->devs[i]);
		}
		publish(rt, rt->bridge_topic, "offline", true);
	}
	/* Let queued QoS 1 messages go out before the DISCONNECT: libmosquitto keeps at most
	 * 20 in flight and sends the rest as PUBACKs arrive, so poll for a while (there is no
	 * "queue empty" signal to wait for). */
	uint64_t end = blt_now_ms() + 700;
	while (down_ok(rt) && blt_now_ms() < end)
		blt_transport_poll(rt->down, 20, NULL);
	blt_transport_disconnect(rt->down);
	blt_transport_disconnect(rt->up);
}

static void upstream_watch(br_runtime_t *rt)
{
	bool up = blt_transport_connected(rt->up);
	uint64_t now = blt_now_ms();
	if (up) {
		if (!rt->up_was_connected) {
			/* Back: probe every offline device now. */
			for (size_t i = 0; i < rt->ndev; i++)
				if (!rt->devs[i].online)
					rt->devs[i].probe_at = now;
		}
		rt->up_down_since = 0;
	} else if (!rt->up_down_since) {
		rt->up_down_since = now;
	} else if (now - rt->up_down_since >= UP_GRACE_MS) {
		for (size_t i = 0; i < rt->ndev; i++) {
			br_dev_t *d = &rt->devs[i];
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
		        "\"exceptions\":%llu,\"last_rtt_ms\":%llu}",
		        i ? "," : "", d->cfg->id, d->online ? "true" : "false",
		        (unsigned long long)st.requests, (unsigned long long)st.replies,
		        (unsigned long long)st.timeouts, (unsigned long long)st.bad_frames,
		        (unsigned long long)st.unsolicited, (unsigned long long)st.exceptions,
		        (unsigned long long)st.last_rtt_ms);
	}
	fprintf(m, "}}");
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
		if (rt->down_fresh || rt->ha_birth) {
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
		if (rt->ncmds && blt_transport_connected(rt->up) && run_command(rt)) {
			blt_transport_poll(rt->down, 0, NULL);
			continue;
		}
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
		br_log(BLT_LOG_INFO, "bridging %zu device(s): %s:%d -> %s:%d (base topic %s)",
		       cfg->ndev, cfg->up.host, cfg->up.port, cfg->down.host, cfg->down.port,
		       cfg->base_topic);
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
