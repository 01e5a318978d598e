/* bluetti-bridge counters (runtime.h): the read round-trip histogram and the --stats FILE
 * line, the retained <base>/bridge/stats document, and the bridge's own Home Assistant
 * device (as zigbee2mqtt and OpenDTU publish one): version, the connection to the Bluetti
 * side per transport, devices online, reads per second, timeouts, stray replies and the
 * last error, under <base>/bridge/info; every power station names it as via_device. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include <bluetti/bluetti.h>
#include <bluetti/client.h>

#include "runtime.h"

void br_stats_rtt(br_stats_t *stats, uint64_t us)
{
	size_t b = us < RTT_FINE * 50u ? (size_t)(us / 50u)
	                               : RTT_FINE + (size_t)((us - RTT_FINE * 50u) / 1000u);
	if (b >= RTT_BUCKETS)
		b = RTT_BUCKETS - 1;
	stats->rtt[b]++;
	stats->rtt_n++;
	if (us > stats->rtt_max_us)
		stats->rtt_max_us = us;
}

/* Upper edge of the bucket holding the p-th percentile, microseconds. */
static uint64_t stats_pct(const br_stats_t *stats, double p)
{
	uint64_t want = (uint64_t)ceil(p / 100.0 * (double)stats->rtt_n), seen = 0;
	if (!stats->rtt_n)
		return 0;
	for (size_t b = 0; b < RTT_BUCKETS; b++) {
		seen += stats->rtt[b];
		if (seen >= want && seen)
			return b < RTT_FINE ? (uint64_t)(b + 1) * 50u
			                    : RTT_FINE * 50u + (uint64_t)(b - RTT_FINE + 1) * 1000u;
	}
	return stats->rtt_max_us;
}

/* A new temporary file next to path (same directory, so the rename is atomic): created
 * with O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600, under a name nobody could have planted a
 * symlink or file for in advance; NULL if none could be made. */
static FILE *stats_tmp(br_runtime_t *rt, char *tmp, size_t cap)
{
	for (int attempt = 0; attempt < 8; attempt++) {
		int fd;
		FILE *f;
		snprintf(tmp, cap, "%s.%ld.%u.%08x.tmp", rt->stats_path, (long)getpid(),
		         rt->stats.tmp_seq++, (unsigned)rand());
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

void br_stats_write(br_runtime_t *rt)
{
	const br_stats_t *stats = &rt->stats;
	char tmp[BR_PATH + 64];
	size_t online = 0, busy = 0;
	cmd_counts_t cc = {0};
	FILE *f;
	if (!rt->stats_path)
		return;
	for (size_t i = 0; i < rt->ndev; i++) {
		const br_dev_t *d = rt->devs[i];
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
	f = stats_tmp(rt, tmp, sizeof tmp);
	if (!f) {
		if (blt_now_ms() >= rt->stats.warned_at) { /* once a minute at most */
			br_log(BLT_LOG_WARN, "--stats %s: cannot create a temporary file: %s",
			       rt->stats_path, strerror(errno));
			rt->stats.warned_at = blt_now_ms() + 60000;
		}
		return;
	}
	/* Counters since the start; the histogram since the last reset (SIGUSR1). */
	fprintf(f,
	        "{\"uptime_ms\":%llu,\"window_ms\":%llu,\"devices\":%zu,\"online\":%zu,"
	        "\"in_flight\":%zu,\"reads\":%llu,\"replies\":%llu,\"timeouts\":%llu,"
	        "\"exceptions\":%llu,\"failed\":%llu,\"groups\":%llu,"
	        "\"rtt_us\":{\"n\":%llu,\"p50\":%llu,\"p90\":%llu,\"p99\":%llu,\"max\":%llu},",
	        (unsigned long long)(blt_now_ms() - stats->started_ms),
	        (unsigned long long)(blt_now_ms() - stats->reset_ms), rt->ndev, online, busy,
	        (unsigned long long)stats->reads, (unsigned long long)stats->replies,
	        (unsigned long long)stats->timeouts, (unsigned long long)stats->exceptions,
	        (unsigned long long)stats->failed, (unsigned long long)stats->groups,
	        (unsigned long long)stats->rtt_n, (unsigned long long)stats_pct(stats, 50),
	        (unsigned long long)stats_pct(stats, 90), (unsigned long long)stats_pct(stats, 99),
	        (unsigned long long)stats->rtt_max_us);
	fprintf(f,
	        "\"commands\":{\"received\":%llu,\"coalesced\":%llu,\"skipped\":%llu,"
	        "\"written\":%llu,\"failed\":%llu,\"refused\":%llu,\"dropped\":%llu},"
	        "\"outbox\":{\"queued\":%zu,\"superseded\":%llu,\"dropped\":%llu}}\n",
	        (unsigned long long)cc.received, (unsigned long long)cc.coalesced,
	        (unsigned long long)cc.skipped, (unsigned long long)cc.written,
	        (unsigned long long)cc.failed, (unsigned long long)cc.refused,
	        (unsigned long long)cc.dropped, rt->ob.n, (unsigned long long)rt->ob.superseded,
	        (unsigned long long)rt->ob.dropped);
	if (fclose(f) != 0 || rename(tmp, rt->stats_path) != 0)
		unlink(tmp);
}

#define STATS_EVERY_MS 5000

/* Retained "<base>/bridge/stats": connection counts and every device's client counters
 * (blt_client_stats), at most every STATS_EVERY_MS and only when something changed; also
 * logged at debug level. What the reliability tests and docs/reliability.md read. */
void br_publish_stats(br_runtime_t *rt)
{
	char topic[200], *doc = NULL;
	size_t len = 0;
	uint64_t now = blt_now_ms();
	FILE *m;
	if (now < rt->stats_at || !br_down_ok(rt))
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
		const br_dev_t *d = rt->devs[i];
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
	if (br_publish(rt, topic, doc, true) == BLT_OK) {
		free(rt->last_stats);
		rt->last_stats = doc;
	} else {
		free(doc);
	}
}

void br_stats_reset(br_runtime_t *rt)
{
	memset(rt->stats.rtt, 0, sizeof rt->stats.rtt);
	rt->stats.rtt_n = rt->stats.rtt_max_us = 0;
	rt->stats.reset_ms = blt_now_ms();
	rt->next_stats = 0;
}

void br_note_error(br_dev_t *d, const char *fmt, ...)
{
	char msg[160];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(d->last_error, sizeof d->last_error, "%s", msg);
	snprintf(d->rt->stats.last_error, sizeof d->rt->stats.last_error, "%.64s: %.160s",
	         d->cfg->id, msg);
}

/* ---- the bridge's own Home Assistant device ------------------------------------------ */

/* "bluetti_bridge_<base topic>" ('/' and other non-id characters as '_'). */
void br_bridge_device_id(const br_runtime_t *rt, char *out, size_t cap)
{
	size_t o = (size_t)snprintf(out, cap, "bluetti_bridge_");
	for (const char *p = rt->cfg->base_topic; *p && o + 1 < cap; p++)
		out[o++] = (isalnum((unsigned char)*p) || *p == '-') ? *p : '_';
	if (o < cap)
		out[o] = '\0';
}

/* The transports of the Bluetti side, as the bridge device shows them. */
static const struct {
	const char *key, *name;
	br_tkind_t kind;
} link_kinds[] = {
    {"cloud", "Cloud connection", BR_T_CLOUD},
    {"ble", "Bluetooth connections", BR_T_BLE},
    {"modbus_tcp", "Modbus TCP connections", BR_T_TCP},
    {"local_mqtt", "Local MQTT connection", BR_T_LAN},
};

/* Devices of kind k (auto counts as Bluetooth and cloud); *up: all their links connected. */
static size_t kind_count(const br_runtime_t *rt, br_tkind_t k, bool *up)
{
	size_t n = 0;
	*up = true;
	for (size_t i = 0; i < rt->ndev; i++) {
		const br_dev_t *d = rt->devs[i];
		bool match =
		    d->kind == k || (d->kind == BR_T_AUTO && (k == BR_T_BLE || k == BR_T_CLOUD));
		if (!match || !d->client)
			continue;
		n++;
		if (k == BR_T_CLOUD)
			*up &= blt_transport_connected(rt->up);
		else if (k == BR_T_LAN)
			*up &= blt_transport_connected(rt->lan);
		else
			*up &= blt_transport_connected(d->link);
	}
	return n;
}

static void bridge_entity(br_runtime_t *rt, const char *comp, const char *key, const char *name,
                          const char *extra_json)
{
	char topic[400], id[200], buf[300];
	cJSON *o = extra_json ? cJSON_Parse(extra_json) : cJSON_CreateObject(), *dev, *ids, *org;
	cJSON *av, *a;
	char *doc;
	if (!o)
		return;
	br_bridge_device_id(rt, id, sizeof id);
	cJSON_AddStringToObject(o, "name", name);
	snprintf(buf, sizeof buf, "%s_%s", id, key);
	cJSON_AddStringToObject(o, "unique_id", buf);
	snprintf(buf, sizeof buf, "%s/bridge/info", rt->cfg->base_topic);
	cJSON_AddStringToObject(o, "state_topic", buf);
	snprintf(buf, sizeof buf, "{{ value_json.%s }}", key);
	cJSON_AddStringToObject(o, "value_template", buf);
	av = cJSON_AddArrayToObject(o, "availability");
	cJSON_AddItemToArray(av, a = cJSON_CreateObject());
	cJSON_AddStringToObject(a, "topic", rt->bridge_topic);
	cJSON_AddStringToObject(o, "entity_category", "diagnostic");
	dev = cJSON_AddObjectToObject(o, "device");
	ids = cJSON_AddArrayToObject(dev, "identifiers");
	cJSON_AddItemToArray(ids, cJSON_CreateString(id));
	cJSON_AddStringToObject(dev, "name", "Bluetti bridge");
	cJSON_AddStringToObject(dev, "manufacturer", "bluetti-c");
	cJSON_AddStringToObject(dev, "model", BR_PROG);
	cJSON_AddStringToObject(dev, "sw_version", blt_version());
	org = cJSON_AddObjectToObject(o, "origin");
	cJSON_AddStringToObject(org, "name", BR_PROG);
	cJSON_AddStringToObject(org, "sw_version", blt_version());
	doc = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!doc)
		return;
	snprintf(topic, sizeof topic, "%s/%s/%s/%s/config", rt->cfg->discovery_prefix, comp, id,
	         key);
	br_publish(rt, topic, doc, true);
	free(doc);
}

static void bridge_discovery(br_runtime_t *rt)
{
	bridge_entity(rt, "sensor", "version", "Version", NULL);
	for (size_t i = 0; i < sizeof link_kinds / sizeof link_kinds[0]; i++) {
		bool up;
		if (!kind_count(rt, link_kinds[i].kind, &up)) {
			/* a transport no longer used (a reload): its entity goes */
			char topic[400], id[200];
			br_bridge_device_id(rt, id, sizeof id);
			snprintf(topic, sizeof topic, "%s/binary_sensor/%s/%s/config",
			         rt->cfg->discovery_prefix, id, link_kinds[i].key);
			br_publish(rt, topic, "", true);
			continue;
		}
		bridge_entity(rt, "binary_sensor", link_kinds[i].key, link_kinds[i].name,
		              "{\"device_class\":\"connectivity\",\"payload_on\":\"ON\","
		              "\"payload_off\":\"OFF\"}");
	}
	bridge_entity(rt, "sensor", "devices_online", "Devices online",
	              "{\"state_class\":\"measurement\",\"icon\":\"mdi:devices\"}");
	bridge_entity(rt, "sensor", "reads_per_s", "Reads per second",
	              "{\"state_class\":\"measurement\",\"unit_of_measurement\":\"reads/s\","
	              "\"suggested_display_precision\":2}");
	bridge_entity(rt, "sensor", "timeouts", "Timeouts",
	              "{\"state_class\":\"total_increasing\"}");
	bridge_entity(rt, "sensor", "stray_replies", "Stray replies",
	              "{\"state_class\":\"total_increasing\"}");
	bridge_entity(rt, "sensor", "last_error", "Last error", "{\"icon\":\"mdi:alert\"}");
	rt->bridge_announced = true;
}

static char *bridge_state(br_runtime_t *rt)
{
	cJSON *o = cJSON_CreateObject();
	uint64_t stray = 0, timeouts = 0, now = blt_now_ms();
	size_t online = 0;
	char *doc;
	if (!o)
		return NULL;
	for (size_t i = 0; i < rt->ndev; i++) {
		const br_dev_t *d = rt->devs[i];
		blt_client_stats_t st;
		online += d->online;
		if (!d->client)
			continue;
		blt_client_stats(d->client, &st);
		stray += st.stray; /* not the pushes (unsolicited): those are expected */
		timeouts += st.timeouts;
		if (d->kind == BR_T_TCP)
			stray += blt_mbtcp_stale_replies(d->link);
	}
	if (now >= rt->stats.rate_at + 1000) { /* reads per second since the last sample */
		if (rt->stats.rate_at)
			rt->stats.reads_per_s = (double)(rt->stats.reads - rt->stats.rate_reads) *
			                        1000.0 / (double)(now - rt->stats.rate_at);
		rt->stats.rate_reads = rt->stats.reads;
		rt->stats.rate_at = now;
	}
	cJSON_AddStringToObject(o, "version", blt_version());
	for (size_t i = 0; i < sizeof link_kinds / sizeof link_kinds[0]; i++) {
		bool up;
		if (kind_count(rt, link_kinds[i].kind, &up))
			cJSON_AddStringToObject(o, link_kinds[i].key, up ? "ON" : "OFF");
	}
	cJSON_AddNumberToObject(o, "devices_online", (double)online);
	cJSON_AddNumberToObject(o, "devices", (double)rt->ndev);
	cJSON_AddNumberToObject(o, "reads_per_s", round(rt->stats.reads_per_s * 100.0) / 100.0);
	cJSON_AddNumberToObject(o, "timeouts", (double)timeouts);
	cJSON_AddNumberToObject(o, "stray_replies", (double)stray);
	if (rt->stats.last_error[0])
		cJSON_AddStringToObject(o, "last_error", rt->stats.last_error);
	else
		cJSON_AddNullToObject(o, "last_error");
	doc = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return doc;
}

/* Discovery (with force, or not announced yet) and, at most every STATS_EVERY_MS and only
 * when it changed, the state <base>/bridge/info. */
void br_bridge_device_publish(br_runtime_t *rt, bool force)
{
	char topic[300], *doc;
	uint64_t now = blt_now_ms();
	if (!br_down_ok(rt))
		return;
	if (rt->cfg->discovery && (force || !rt->bridge_announced))
		bridge_discovery(rt);
	if (!force && now < rt->bridge_state_at)
		return;
	rt->bridge_state_at = now + STATS_EVERY_MS;
	doc = bridge_state(rt);
	if (!doc)
		return;
	if (!force && rt->bridge_state_last && !strcmp(doc, rt->bridge_state_last)) {
		free(doc);
		return;
	}
	snprintf(topic, sizeof topic, "%s/bridge/info", rt->cfg->base_topic);
	if (br_publish(rt, topic, doc, true) == BLT_OK) {
		free(rt->bridge_state_last);
		rt->bridge_state_last = doc;
	} else {
		free(doc);
	}
}
