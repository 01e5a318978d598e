/* bluetti-bridge, Home Assistant side (runtime.h): discovery, state and availability of
 * every device. A discovery document is published once and again only when its content
 * changed (a hash per entity), after the device's first poll round (so it carries the
 * device's software version); state documents are built from the announced keys (every
 * key of every announced entity, null while unknown) and the previous run's retained
 * state (no partial state after a restart). */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include <bluetti/bluetti.h>
#include <bluetti/device.h>
#include <bluetti/settings.h>

#include "runtime.h"

bool br_down_ok(const br_runtime_t *rt)
{
	return rt->down && blt_transport_connected(rt->down);
}

/* Queue a message for the Home Assistant broker (sent by br_ob_flush, now if the window
 * allows). BLT_E_DISCONNECTED while the connection is down: nothing is kept for a dead
 * connection, everything is republished at the reconnect. */
int br_publish(br_runtime_t *rt, const char *topic, const char *payload, bool retain)
{
	int err;
	if (!br_down_ok(rt))
		return BLT_E_DISCONNECTED;
	err = br_ob_put(&rt->ob, topic, payload, retain);
	if (err) {
		br_log(BLT_LOG_WARN, "publish %s: %s", topic, blt_strerror(err));
		return err;
	}
	br_ob_flush(rt);
	return BLT_OK;
}

void br_ctx_of(br_dev_t *d, br_ha_ctx_t *c)
{
	const br_config_t *cfg = d->rt->cfg;
	blt_client_stats_t st;
	memset(c, 0, sizeof *c);
	c->base = cfg->base_topic;
	c->prefix = cfg->discovery_prefix;
	c->cfg = d->cfg;
	c->dev = d->dev;
	c->last_seen_unix_ms = d->last_seen_unix_ms;
	c->link = d->kind == BR_T_BLE || d->kind == BR_T_AUTO ? br_dev_path_name(d) : NULL;
	c->via_device = d->rt->bridge_id;
	if (d->client) {
		blt_client_stats(d->client, &st);
		if (st.last_rssi) {
			c->have_rssi = true;
			c->rssi = st.last_rssi;
		}
	}
}

void br_publish_availability(br_dev_t *d)
{
	char topic[256];
	br_ha_ctx_t c;
	br_ctx_of(d, &c);
	br_device_topic(&c, "availability", topic, sizeof topic);
	if (br_publish(d->rt, topic, d->online ? "online" : "offline", true) == BLT_OK)
		d->avail_sent = true;
}

/* ---- the announced entities: array + hash index --------------------------------------- */

static br_ann_t *anns_find(br_anns_t *a, const char *key)
{
	if (!a->icap)
		return NULL;
	for (size_t i = br_hash(key) & (a->icap - 1);; i = (i + 1) & (a->icap - 1)) {
		uint32_t x = a->idx[i];
		if (!x)
			return NULL;
		if (!strcmp(a->v[x - 1].key, key))
			return &a->v[x - 1];
	}
}

static void anns_index(br_anns_t *a, size_t pos)
{
	size_t i = br_hash(a->v[pos].key) & (a->icap - 1);
	while (a->idx[i])
		i = (i + 1) & (a->icap - 1);
	a->idx[i] = (uint32_t)pos + 1;
}

static br_ann_t *anns_add(br_anns_t *a, const char *key, uint8_t comp, uint32_t hash)
{
	if (a->n == a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 16; /* per device: start small */
		br_ann_t *nv = realloc(a->v, nc * sizeof *nv);
		if (!nv)
			return NULL;
		a->v = nv;
		a->cap = nc;
	}
	if (2 * (a->n + 1) >= a->icap) {
		size_t ni = a->icap ? a->icap * 2 : 64;
		uint32_t *nx = calloc(ni, sizeof *nx);
		if (!nx)
			return NULL;
		free(a->idx);
		a->idx = nx;
		a->icap = ni;
		for (size_t k = 0; k < a->n; k++)
			anns_index(a, k);
	}
	br_ann_t *e = &a->v[a->n];
	snprintf(e->key, sizeof e->key, "%s", key);
	e->component = comp;
	e->doc_hash = hash;
	anns_index(a, a->n++);
	return e;
}

void br_anns_free(br_anns_t *a)
{
	free(a->v);
	free(a->idx);
	memset(a, 0, sizeof *a);
}

/* ---- previous run's state ---------------------------------------------------------- */

/* A setting whose block this run has not read yet (its control would show null). */
static bool setting_unread(br_dev_t *d, const char *key)
{
	const blt_setting_t *s = blt_setting_find(key);
	return s && !blt_device_find(d->dev, s->block, s->field);
}

/* Keys of the previous run's state (d->seed) that o lacks are added: with the old value
 * while the seed is fresh, else null; a control that is null only because its block has
 * not been read yet keeps the old value while fresh. */
static void merge_seed(br_dev_t *d, cJSON *o)
{
	bool fresh = blt_now_ms() < d->seed_until;
	cJSON *it;
	cJSON_ArrayForEach(it, d->seed)
	{
		cJSON *cur = cJSON_GetObjectItemCaseSensitive(o, it->string);
		if (cur && !(fresh && cJSON_IsNull(cur) && !cJSON_IsNull(it) &&
		             setting_unread(d, it->string)))
			continue;
		cJSON *val = fresh ? cJSON_Duplicate(it, 1) : cJSON_CreateNull();
		if (!val)
			continue;
		if (!cur)
			cJSON_AddItemToObject(o, it->string, val);
		else
			cJSON_ReplaceItemInObjectCaseSensitive(o, it->string, val);
	}
}

/* The computed energy counters (profiles without the counter row) continue from the
 * previous run's published totals, so they never go back across a restart. */
static void seed_energy(br_dev_t *d)
{
	const cJSON *it;
	if (!d->dev)
		return;
	cJSON_ArrayForEach(it, d->seed)
	{
		const blt_derived_t *q = it->string ? blt_derived_find(it->string) : NULL;
		if (q && q->counter && cJSON_IsNumber(it))
			(void)blt_device_energy_seed(d->dev, it->string, it->valuedouble, NULL);
	}
}

/* The retained state of the previous run, delivered once after the subscription. */
void br_on_seed(void *user, const char *topic, const uint8_t *payload, size_t len, bool retained)
{
	br_dev_t *d = user;
	(void)topic;
	if (!retained || d->seed || d->last_state || len == 0 || len > 1u << 20)
		return;
	d->seed = cJSON_ParseWithLength((const char *)payload, len);
	if (d->seed && !cJSON_IsObject(d->seed)) {
		cJSON_Delete(d->seed);
		d->seed = NULL;
	}
	if (!d->seed)
		return;
	br_log(BLT_LOG_DEBUG, "%s: previous state has %d keys; kept until read again", d->cfg->id,
	       cJSON_GetArraySize(d->seed));
	seed_energy(d);
}

/* ---- discovery ------------------------------------------------------------------------ */

/* Discovery waits for the device's first round (every enabled group once: the documents
 * then carry its software version and are not published twice), at most DISCO_HOLD_MS. */
static bool disco_ready(br_dev_t *d)
{
	const blt_profile_t *p = d->cfg->profile;
	uint32_t want = 0;
	if (d->disco_ready)
		return true;
	for (size_t g = 0; g < p->ngroups && g < BR_MAX_GROUPS; g++)
		if (d->cfg->interval_s[g])
			want |= 1u << g;
	if ((d->groups_seen & want) == want || !d->client ||
	    blt_now_ms() >= d->started_ms + DISCO_HOLD_MS)
		d->disco_ready = true;
	return d->disco_ready;
}

/* One document per entity: published when new, when its content changed, or forced (a
 * new Home Assistant session). Documents are only built for entities not announced yet,
 * unless forced or the device block (sw_version, in every document) changed: then all
 * are built and those whose content is unchanged are not sent again. */
static void disco_entities(br_dev_t *d, const br_ha_ctx_t *c, size_t n, bool force, bool recheck)
{
	br_runtime_t *rt = d->rt;
	size_t sent = 0;
	char topic[300];
	/* Power-station entities first: the pack sub-device refers to it (via_device). */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < n; i++) {
			const br_entity_t *e = &rt->ents[i];
			br_ann_t *a;
			char *doc;
			uint32_t h;
			if (e->sub != pass)
				continue;
			a = anns_find(&d->ann, e->key);
			if (a && a->component == e->component && !force && !recheck)
				continue;
			if (br_discovery_topic(c, e, topic, sizeof topic) != BLT_OK)
				continue;
			doc = br_discovery_doc(c, e);
			if (!doc)
				continue;
			h = br_hash(doc);
			if (a && a->doc_hash == h && a->component == e->component && !force) {
				free(doc);
				continue;
			}
			if (br_publish(rt, topic, doc, true) == BLT_OK) {
				sent++;
				if (!a)
					anns_add(&d->ann, e->key, e->component, h);
				else {
					a->doc_hash = h;
					a->component = e->component;
				}
			}
			free(doc);
		}
	}
	if (sent)
		br_log(BLT_LOG_DEBUG, "%s: published %zu discovery documents", d->cfg->id, sent);
}

/* One document per Home Assistant device (HA 2024.11+): the power station, its battery
 * pack, each node (br_device_docs), each published when new or changed (a hash per
 * document, kept under "\001<node>" among the announced keys). Migration: the per-entity
 * documents (an earlier run in entity form) of the entities announced here are cleared
 * once. */
static void disco_device(br_dev_t *d, const br_ha_ctx_t *c, size_t n, bool force, bool recheck)
{
	br_runtime_t *rt = d->rt;
	br_devdoc_t docs[BR_MAX_DEVDOCS];
	size_t nd;
	bool fresh = false;
	char topic[300];
	for (size_t i = 0; i < n && !fresh; i++) /* a new entity: a document changes */
		fresh = !anns_find(&d->ann, rt->ents[i].key);
	if (!force && !recheck && !fresh)
		return;
	nd = br_device_docs(c, rt->ents, n, docs, BR_MAX_DEVDOCS);
	for (size_t k = 0; k < nd; k++) {
		char key[sizeof d->ann.v[0].key];
		uint32_t h = br_hash(docs[k].doc);
		br_ann_t *a;
		snprintf(key, sizeof key, "\001%.60s", docs[k].node);
		a = anns_find(&d->ann, key);
		if (!force && a && a->doc_hash == h)
			continue;
		if (br_publish(rt, docs[k].topic, docs[k].doc, true) != BLT_OK)
			continue;
		if (!a)
			a = anns_add(&d->ann, key, 0, h);
		if (a)
			a->doc_hash = h;
		br_log(BLT_LOG_DEBUG, "%s: published the device document %s", d->cfg->id,
		       docs[k].topic);
	}
	br_devdocs_free(docs, nd);
	for (size_t i = 0; i < n; i++) { /* the state's keys; migration from entity form */
		const br_entity_t *e = &rt->ents[i];
		if (anns_find(&d->ann, e->key))
			continue;
		anns_add(&d->ann, e->key, e->component, 0);
		if (br_discovery_topic(c, e, topic, sizeof topic) == BLT_OK)
			br_publish(rt, topic, "", true);
	}
}

static void publish_discovery(br_dev_t *d, const br_ha_ctx_t *c, size_t n, bool force)
{
	char sw[sizeof d->sw];
	bool recheck;
	br_sw_version(d->dev, sw, sizeof sw);
	recheck = strcmp(sw, d->sw) != 0; /* in every document: build them all again */
	if (recheck)
		memcpy(d->sw, sw, sizeof sw);
	if (d->rt->cfg->discovery_form == BR_DISCO_DEVICE) {
		disco_device(d, c, n, force, recheck);
		return;
	}
	if (!d->disco_form_cleared) { /* migration from device form: its document goes */
		char topic[300];
		if (br_device_discovery_topic(c, topic, sizeof topic) == BLT_OK)
			br_publish(d->rt, topic, "", true);
		d->disco_form_cleared = true;
	}
	disco_entities(d, c, n, force, recheck);
}

/* ---- state ------------------------------------------------------------------------------ */

/* The state document: the current entities' values, null for every entity announced
 * earlier but absent now (so no template ever sees a missing key), the previous run's
 * keys. Printed into the runtime's reused buffer; NULL on failure. */
/* True if every announced key is among the current entities (then the generated state
 * document carries all of them as it is: the usual case, no JSON to merge). */
static bool anns_covered(br_dev_t *d, size_t n)
{
	size_t want = 0, have = 0;
	for (size_t i = 0; i < d->ann.n; i++)
		want += d->ann.v[i].key[0] != '\x01';
	for (size_t i = 0; i < n && have < want; i++)
		have += anns_find(&d->ann, d->rt->ents[i].key) != NULL;
	return have == want;
}

/* doc (taken) into the runtime's reused buffer. */
static const char *keep_text(br_runtime_t *rt, char *doc)
{
	size_t len = strlen(doc) + 1;
	if (len > rt->state_cap) {
		char *nb = realloc(rt->state_buf, len);
		if (!nb) {
			free(doc);
			return NULL;
		}
		rt->state_buf = nb;
		rt->state_cap = len;
	}
	memcpy(rt->state_buf, doc, len);
	free(doc);
	return rt->state_buf;
}

static const char *state_text(br_dev_t *d, const br_ha_ctx_t *c, size_t n)
{
	br_runtime_t *rt = d->rt;
	char *doc = br_state_doc(c, rt->ents, n);
	cJSON *o;
	if (doc && !d->seed && anns_covered(d, n))
		return keep_text(rt, doc);
	o = doc ? cJSON_Parse(doc) : NULL;
	free(doc);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		return NULL;
	}
	for (size_t i = 0; i < d->ann.n; i++)
		if (d->ann.v[i].key[0] != '\x01' &&
		    !cJSON_GetObjectItemCaseSensitive(o, d->ann.v[i].key))
			cJSON_AddNullToObject(o, d->ann.v[i].key);
	if (d->seed)
		merge_seed(d, o);
	for (;;) {
		if (rt->state_cap &&
		    cJSON_PrintPreallocated(o, rt->state_buf, (int)rt->state_cap, false))
			break;
		size_t nc = rt->state_cap ? rt->state_cap * 2 : 16384;
		char *nb = nc < (64u << 20) ? realloc(rt->state_buf, nc) : NULL;
		if (!nb) {
			cJSON_Delete(o);
			return NULL;
		}
		rt->state_buf = nb;
		rt->state_cap = nc;
	}
	cJSON_Delete(o);
	return rt->state_buf;
}

static void publish_state(br_dev_t *d, const br_ha_ctx_t *c, size_t n, bool force)
{
	br_runtime_t *rt = d->rt;
	const char *doc = state_text(d, c, n);
	char topic[300];
	if (!doc)
		return;
	if (!force && d->last_state && !strcmp(doc, d->last_state)) {
		d->dirty = false;
		return;
	}
	br_device_topic(c, "state", topic, sizeof topic);
	if (!d->last_state) /* the seed had its chance: our own states need no echo */
		blt_transport_unlisten_fn(rt->down, topic, br_on_seed, d);
	if (br_publish(rt, topic, doc, true) == BLT_OK) {
		size_t len = strlen(doc) + 1;
		char *keep = realloc(d->last_state, len);
		if (keep) {
			memcpy(keep, doc, len);
			d->last_state = keep;
		}
		d->dirty = false;
	}
}

/* Publish discovery for entities not announced yet or changed (all of them with force),
 * and the state document if it changed (or with force). */
void br_publish_device(br_dev_t *d, bool force_disco, bool force_state)
{
	br_runtime_t *rt = d->rt;
	br_ha_ctx_t c;
	size_t n;
	if (!br_down_ok(rt))
		return;
	br_ctx_of(d, &c);
	n = br_entities(&c, rt->ents, BR_MAX_ENTITIES);
	if (rt->cfg->discovery && disco_ready(d))
		publish_discovery(d, &c, n, force_disco);
	publish_state(d, &c, n, force_state);
}

/* Clear everything a device announced (device removed at a reload). */
void br_clear_device(br_dev_t *d)
{
	br_ha_ctx_t c;
	char topic[300];
	br_ctx_of(d, &c);
	for (size_t i = 0; i < d->ann.n; i++) {
		br_entity_t e;
		if (d->ann.v[i].key[0] == '\x01')
			continue;
		memset(&e, 0, sizeof e);
		snprintf(e.key, sizeof e.key, "%s", d->ann.v[i].key);
		e.component = d->ann.v[i].component;
		if (br_discovery_topic(&c, &e, topic, sizeof topic) == BLT_OK)
			br_publish(d->rt, topic, "", true);
	}
	for (size_t i = 0; i < d->ann.n; i++) /* device documents: "\001<node>" */
		if (d->ann.v[i].key[0] == '\001') {
			snprintf(topic, sizeof topic, "%s/device/%s/config", c.prefix,
			         d->ann.v[i].key + 1);
			br_publish(d->rt, topic, "", true);
		}
	if (br_device_discovery_topic(&c, topic, sizeof topic) == BLT_OK)
		br_publish(d->rt, topic, "", true);
	br_device_topic(&c, "state", topic, sizeof topic);
	br_publish(d->rt, topic, "", true);
	br_device_topic(&c, "availability", topic, sizeof topic);
	br_publish(d->rt, topic, "", true);
}

void br_republish_all(br_runtime_t *rt)
{
	if (br_publish(rt, rt->bridge_topic, "online", true) != BLT_OK)
		return;
	br_bridge_device_publish(rt, true);
	for (size_t i = 0; i < rt->ndev; i++) {
		br_dev_t *d = rt->devs[i];
		if (d->client) /* disabled devices (enabled = false) announce no entities */
			br_publish_device(d, true, true);
		br_publish_availability(d);
	}
	rt->down_fresh = false;
	rt->ha_birth = false;
	/* a flood of birth messages republishes at most every BIRTH_MIN_MS */
	rt->birth_at = blt_now_ms() + BIRTH_MIN_MS;
}
