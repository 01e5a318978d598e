/* Home Assistant entities, MQTT discovery documents and the state document, generated from
 * the catalog rows of the values a device has reported (unit -> device_class and
 * state_class, enums -> options) and from the settings table (switch / select / number).
 * Pure functions of (configuration, device state): no I/O, so they are unit-testable. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include <bluetti/bluetti.h>
#include <bluetti/device.h>
#include <bluetti/settings.h>

#include "bridge.h"

const char *br_component_name(br_component_t c)
{
	switch (c) {
	case BR_C_SENSOR: return "sensor";
	case BR_C_BINARY_SENSOR: return "binary_sensor";
	case BR_C_SWITCH: return "switch";
	case BR_C_SELECT: return "select";
	case BR_C_NUMBER: return "number";
	}
	return "sensor";
}

/* Values of the link to the device, not of the device (the catalog's derived table has
 * those): offered per transport. */
static const struct link_value {
	const char *key, *name, *unit, *device_class, *state_class, *icon;
	br_derived_t which;
	int8_t decimals;
	bool noisy; /* changes every poll: off by default */
} link_values[] = {
    {"rssi", "Signal strength", "dBm", "signal_strength", "measurement", NULL, BR_D_RSSI, 0, false},
    {"last_seen", "Last seen", NULL, "timestamp", NULL, NULL, BR_D_LAST_SEEN, -1, true},
    {"link", "Connection", NULL, NULL, NULL, "mdi:bluetooth-connect", BR_D_LINK, -1, false},
};

/* "ac_load_power" -> "AC load power" */
static void humanize(const char *in, char *out, size_t cap)
{
	blt_humanize(in, out, cap);
}

static void unit_classes(const char *unit, br_entity_t *e)
{
	e->unit = unit;
	blt_unit_classes(unit, &e->device_class, &e->state_class);
}

/* Keys the bridge publishes beside the catalog rows (derived and link-level values): a row
 * key never takes one (blt_ha_field_key). */
static const char *const *reserved_keys(void)
{
	static const char *keys[64];
	if (!keys[0]) {
		size_t n = 0;
		for (size_t i = 0; i < blt_derived_count() && n + 1 < 64; i++)
			keys[n++] = blt_derived_at(i)->key;
		for (size_t i = 0; i < sizeof link_values / sizeof link_values[0] && n + 1 < 64;
		     i++)
			keys[n++] = link_values[i].key;
		keys[n] = NULL;
	}
	return keys;
}

/* ---- entity list ---------------------------------------------------------------------- */

typedef struct builder {
	br_entity_t *out;
	size_t cap, n;
} builder_t;

static bool key_taken(const builder_t *b, const char *key)
{
	for (size_t i = 0; i < b->n; i++)
		if (!strcmp(b->out[i].key, key))
			return true;
	return false;
}

static br_entity_t *add(builder_t *b, const char *key, br_component_t comp)
{
	br_entity_t *e;
	if (b->n >= b->cap || key_taken(b, key) || strlen(key) >= sizeof b->out[0].key)
		return NULL;
	e = &b->out[b->n++];
	memset(e, 0, sizeof *e);
	snprintf(e->key, sizeof e->key, "%s", key);
	e->component = (uint8_t)comp;
	e->decimals = -1;
	return e;
}

static void add_controls(const br_ha_ctx_t *c, builder_t *b)
{
	for (size_t i = 0; i < blt_setting_count(); i++) {
		const blt_setting_t *s = blt_setting_at(i);
		br_component_t comp;
		br_entity_t *e;
		const char *sc;
		if (!br_setting_exposed(c->cfg, s))
			continue;
		comp = s->kind == BLT_SK_SWITCH ? BR_C_SWITCH
		       : s->kind == BLT_SK_ENUM ? BR_C_SELECT
		                                : BR_C_NUMBER;
		e = add(b, s->name, comp);
		if (!e)
			continue;
		e->setting = s;
		humanize(s->name, e->name, sizeof e->name);
		if (comp == BR_C_NUMBER && s->unit) {
			e->unit = s->unit;
			blt_unit_classes(s->unit, &e->device_class, &sc);
		}
		if (comp == BR_C_SWITCH && s->primary) /* AC / DC output: outlets */
			e->device_class = "outlet";
	}
}

/* The derived quantities of the library's table that apply to the device's state. */
static void add_derived_all(const br_ha_ctx_t *c, builder_t *b)
{
	const blt_device_summary_t *s = blt_device_summary(c->dev);
	const blt_wire_preset_t *preset = blt_wire_preset_find(c->cfg->preset);
	for (size_t i = 0; i < blt_derived_count(); i++) {
		const blt_derived_t *q = blt_derived_at(i);
		br_entity_t *e;
		if (q->applies && !q->applies(s))
			continue;
		e = add(b, q->key, q->kind == BLT_DK_FLAG ? BR_C_BINARY_SENSOR : BR_C_SENSOR);
		if (!e)
			continue;
		snprintf(e->name, sizeof e->name, "%s", q->name);
		e->dq = q;
		e->unit = q->unit;
		e->device_class = q->device_class;
		e->state_class = q->state_class;
		e->icon = q->icon;
		e->decimals = q->decimals;
		e->diagnostic = q->diagnostic;
		e->sub = q->sub;
	}
	for (size_t i = 0; i < sizeof link_values / sizeof link_values[0]; i++) {
		const struct link_value *l = &link_values[i];
		br_entity_t *e;
		if (l->which == BR_D_RSSI && !(preset && preset->envelope == BLT_ENV_V2))
			continue;
		if (l->which == BR_D_LINK && !c->link)
			continue;
		e = add(b, l->key, BR_C_SENSOR);
		if (!e)
			continue;
		snprintf(e->name, sizeof e->name, "%s", l->name);
		e->derived = (uint8_t)l->which;
		e->unit = l->unit;
		e->device_class = l->device_class;
		e->state_class = l->state_class;
		e->icon = l->icon;
		e->decimals = l->decimals;
		e->diagnostic = true;
		e->disabled = l->noisy && !(c->cfg && c->cfg->all_entities);
	}
}

/* One entity per published catalog row of the blocks read (blt_ha_field_info decides). */
static void add_values(const br_ha_ctx_t *c, builder_t *b)
{
	size_t n = blt_device_value_count(c->dev);
	const blt_profile_t *prof = blt_device_profile(c->dev);
	for (size_t i = 0; i < n; i++) {
		const blt_device_value_t *v = blt_device_value_at(c->dev, i);
		const blt_field_t *f = v ? v->field : NULL;
		const blt_block_t *blk = v ? blt_catalog_find(v->block) : NULL;
		char key[80];
		blt_ha_info_t hi;
		br_entity_t *e;

		if (!f || !blk)
			continue;
		if (v->status == BLT_VS_MISSING || v->status == BLT_VS_GATED ||
		    v->status == BLT_VS_HIDDEN)
			continue;
		blt_ha_field_info(prof, blk, f, &hi);
		if (!hi.published)
			continue;
		if (blt_ha_field_key(blk, f, v->index, reserved_keys(), key, sizeof key) != BLT_OK)
			continue;
		e = add(b, key, BR_C_SENSOR);
		if (!e)
			continue;
		if (blt_ha_field_name(blk, f, v->index, e->name, sizeof e->name) != BLT_OK) {
			b->n--;
			continue;
		}
		e->v = v;
		e->sub = hi.sub;
		e->diagnostic = hi.diagnostic;
		e->disabled = !hi.enabled && !(c->cfg && c->cfg->all_entities);
		e->unit = hi.unit;
		e->device_class = hi.device_class;
		e->state_class = hi.state_class;
		e->icon = hi.icon;
		e->decimals = (int8_t)hi.decimals;
	}
}

/* ---- nodes (NODE_INFO: packs and hubs as sub-devices) ------------------------------- */

enum {
	NI_ONLINE = 1,
	NI_PROBLEM,
	NI_SOC,
	NI_VOLTAGE,
	NI_CURRENT,
	NI_POWER,
	NI_TEMP_AVG,
	NI_TEMP,
	NI_CELL,
	NI_CELL_DELTA,
};

/* Key prefix of a node: "pack51", "hub11", "node<slave>" (stable: part of unique_id). */
static void node_prefix(const blt_node_t *x, char *out, size_t cap)
{
	const char *k = x->kind == BLT_NODE_BATTERY ? "pack"
	                : x->kind == BLT_NODE_HUB   ? "hub"
	                                            : "node";
	snprintf(out, cap, "%s%u", k, x->slave);
}

static br_entity_t *add_node_item(builder_t *b, const blt_node_t *x, const char *leaf,
                                  const char *name, br_component_t comp, int item, unsigned index)
{
	char key[64], pfx[16];
	br_entity_t *e;
	node_prefix(x, pfx, sizeof pfx);
	snprintf(key, sizeof key, "%s_%s", pfx, leaf);
	e = add(b, key, comp);
	if (!e)
		return NULL;
	snprintf(e->name, sizeof e->name, "%s", name);
	e->node = true;
	e->sub = 1; /* announced after the power station it refers to */
	e->node_slave = x->slave;
	e->node_item = (uint8_t)item;
	e->node_index = (uint8_t)index;
	return e;
}

static void node_sensor(br_entity_t *e, const char *unit, int decimals, bool diagnostic)
{
	if (!e)
		return;
	unit_classes(unit, e);
	if (!e->state_class)
		e->state_class = "measurement";
	e->decimals = (int8_t)decimals;
	e->diagnostic = diagnostic;
}

static void add_nodes(const br_ha_ctx_t *c, builder_t *b)
{
	for (size_t i = 0; i < blt_device_node_count(c->dev); i++) {
		const blt_node_t *x = blt_device_node_at(c->dev, i);
		const blt_device_summary_t *s;
		char leaf[48], name[64];
		br_entity_t *e;
		if (!x->state) /* the power station itself */
			continue;
		e = add_node_item(b, x, "online", "Online", BR_C_BINARY_SENSOR, NI_ONLINE, 0);
		if (e) {
			e->device_class = "connectivity";
			e->diagnostic = true;
		}
		e = add_node_item(b, x, "problem", "Problem", BR_C_BINARY_SENSOR, NI_PROBLEM, 0);
		if (e)
			e->device_class = "problem";
		if (x->kind != BLT_NODE_BATTERY)
			continue;
		e = add_node_item(b, x, "soc", "Battery", BR_C_SENSOR, NI_SOC, 0);
		node_sensor(e, "%", 0, false);
		if (e)
			e->device_class = "battery";
		node_sensor(add_node_item(b, x, "voltage", "Voltage", BR_C_SENSOR, NI_VOLTAGE, 0),
		            "V", 2, false);
		node_sensor(add_node_item(b, x, "current", "Current", BR_C_SENSOR, NI_CURRENT, 0),
		            "A", 1, false);
		node_sensor(add_node_item(b, x, "power", "Power", BR_C_SENSOR, NI_POWER, 0), "W", 0,
		            false);
		node_sensor(add_node_item(b, x, "temp", "Temperature", BR_C_SENSOR, NI_TEMP_AVG, 0),
		            "°C", 0, false);
		s = blt_device_summary(x->state);
		for (unsigned j = 0; j < s->temp_count; j++) {
			snprintf(leaf, sizeof leaf, "temp_%u", j);
			snprintf(name, sizeof name, "Temperature %u", j);
			e = add_node_item(b, x, leaf, name, BR_C_SENSOR, NI_TEMP, j);
			node_sensor(e, "°C", 0, true);
			if (e)
				e->disabled = !(c->cfg && c->cfg->all_entities);
		}
		if (s->cell_count > 0)
			node_sensor(add_node_item(b, x, "cell_voltage_delta", "Cell voltage spread",
			                          BR_C_SENSOR, NI_CELL_DELTA, 0),
			            "V", 3, true);
		for (unsigned j = 0; j < s->cell_count; j++) {
			snprintf(leaf, sizeof leaf, "cell_%u_voltage", j);
			snprintf(name, sizeof name, "Cell %u voltage", j);
			e = add_node_item(b, x, leaf, name, BR_C_SENSOR, NI_CELL, j);
			node_sensor(e, "V", 3, true);
			if (e)
				e->disabled = !(c->cfg && c->cfg->all_entities);
		}
	}
}

size_t br_entities(const br_ha_ctx_t *c, br_entity_t *out, size_t cap)
{
	builder_t b = {.out = out, .cap = cap, .n = 0};
	if (!c || !c->cfg || !c->dev || !out)
		return 0;
	/* Reserve the keys in priority order: controls, derived, then catalog values (a
	 * block-100 "charging_mode" sensor is dropped in favour of the select). */
	add_controls(c, &b);
	add_derived_all(c, &b);
	add_values(c, &b);
	add_nodes(c, &b);
	return b.n;
}

/* ---- topics -------------------------------------------------------------------------- */

/* HA allows [a-zA-Z0-9_-] in node and object ids; serials may contain '.'. */
static void node_id(const char *sn, char *out, size_t cap)
{
	size_t o = 0;
	for (const char *p = sn; *p && o + 1 < cap; p++)
		out[o++] = (*p == '.') ? '_' : *p;
	out[o] = '\0';
}

static int fmt_topic(char *topic, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fmt_topic(char *topic, size_t cap, const char *fmt, ...)
{
	va_list ap;
	int n;
	va_start(ap, fmt);
	n = vsnprintf(topic, cap, fmt, ap);
	va_end(ap);
	return (n < 0 || (size_t)n >= cap) ? BLT_E_BUFSIZE : BLT_OK;
}

int br_discovery_topic(const br_ha_ctx_t *c, const br_entity_t *e, char *topic, size_t cap)
{
	char node[BR_ID_MAX];
	node_id(c->cfg->sn, node, sizeof node);
	return fmt_topic(topic, cap, "%s/%s/bluetti_%s/%s/config", c->prefix,
	                 br_component_name((br_component_t)e->component), node, e->key);
}

int br_device_topic(const br_ha_ctx_t *c, const char *leaf, char *topic, size_t cap)
{
	return fmt_topic(topic, cap, "%s/%s/%s", c->base, c->cfg->id, leaf);
}

int br_bridge_topic(const char *base, char *topic, size_t cap)
{
	return fmt_topic(topic, cap, "%s/bridge/state", base);
}

/* ---- discovery documents ------------------------------------------------------------- */

void br_sw_version(const blt_device_t *dev, char *out, size_t cap)
{
	size_t o = 0;
	out[0] = '\0';
	for (unsigned i = 0; i < 6 && o + 1 < cap; i++) {
		char tn[32], vn[32];
		const blt_device_value_t *t, *v;
		const char *type = NULL;
		snprintf(tn, sizeof tn, "software_%u_type", i);
		snprintf(vn, sizeof vn, "software_%u_version", i);
		t = blt_device_find(dev, 1100, tn);
		v = blt_device_find(dev, 1100, vn);
		if (!t || !v || t->status != BLT_VS_OK || v->status != BLT_VS_OK)
			continue;
		type = blt_enum_name(t->field->enums, (int32_t)t->num);
		int n = type ? snprintf(out + o, cap - o, "%s%s %.0f", o ? ", " : "", type, v->num)
		             : snprintf(out + o, cap - o, "%smcu%.0f %.0f", o ? ", " : "", t->num,
		                        v->num);
		if (n < 0 || (size_t)n >= cap - o) {
			out[o] = '\0';
			break;
		}
		o += (size_t)n;
	}
}

static cJSON *device_block(const br_ha_ctx_t *c, const br_entity_t *e)
{
	cJSON *d = cJSON_CreateObject(), *ids;
	const blt_profile_t *p = c->cfg->profile;
	char node[BR_ID_MAX], id[BR_ID_MAX + 32], sw[200], name[200];
	if (!d)
		return NULL;
	node_id(c->cfg->sn, node, sizeof node);
	ids = cJSON_AddArrayToObject(d, "identifiers");
	if (e->node) {
		/* a pack or hub of the system: its own device, under the power station */
		const blt_node_t *x = blt_device_node_find(c->dev, e->node_slave);
		char pfx[16];
		if (x)
			node_prefix(x, pfx, sizeof pfx);
		else
			snprintf(pfx, sizeof pfx, "node%u", e->node_slave);
		snprintf(id, sizeof id, "bluetti_%s_%s", node, pfx);
		cJSON_AddItemToArray(ids, cJSON_CreateString(id));
		snprintf(name, sizeof name, "%s %s (slave %u)", c->cfg->name, x ? x->model : "node",
		         e->node_slave);
		cJSON_AddStringToObject(d, "name", name);
		cJSON_AddStringToObject(d, "manufacturer", "Bluetti");
		cJSON_AddStringToObject(d, "model", x ? x->model : "node");
		if (x && x->serial[0])
			cJSON_AddStringToObject(d, "serial_number", x->serial);
		snprintf(id, sizeof id, "bluetti_%s", node);
		cJSON_AddStringToObject(d, "via_device", id);
		return d;
	}
	if (e->sub) {
		snprintf(id, sizeof id, "bluetti_%s_pack", node);
		cJSON_AddItemToArray(ids, cJSON_CreateString(id));
		snprintf(name, sizeof name, "%s battery pack", c->cfg->name);
		cJSON_AddStringToObject(d, "name", name);
		cJSON_AddStringToObject(d, "manufacturer", "Bluetti");
		cJSON_AddStringToObject(d, "model", "Battery pack");
		snprintf(id, sizeof id, "bluetti_%s", node);
		cJSON_AddStringToObject(d, "via_device", id);
		return d;
	}
	snprintf(id, sizeof id, "bluetti_%s", node);
	cJSON_AddItemToArray(ids, cJSON_CreateString(id));
	cJSON_AddStringToObject(d, "name", c->cfg->name);
	if (c->via_device && c->via_device[0]) /* the bridge's own device */
		cJSON_AddStringToObject(d, "via_device", c->via_device);
	cJSON_AddStringToObject(d, "manufacturer", "Bluetti");
	if (p && p != blt_profile_generic()) {
		cJSON_AddStringToObject(d, "model", p->name);
		cJSON_AddStringToObject(d, "model_id", p->id);
	} else {
		cJSON_AddStringToObject(d, "model", c->cfg->model);
	}
	cJSON_AddStringToObject(d, "serial_number", c->cfg->sn);
	br_sw_version(c->dev, sw, sizeof sw);
	if (sw[0])
		cJSON_AddStringToObject(d, "sw_version", sw);
	return d;
}

/* The keys that describe one entity (shared by the per-entity and the device document):
 * name, unique_id, value_template, classes, options, command topic, category, defaults. */
static void entity_fields(const br_ha_ctx_t *c, const br_entity_t *e, cJSON *o)
{
	char node[BR_ID_MAX], buf[256], tmpl[120];
	node_id(c->cfg->sn, node, sizeof node);
	cJSON_AddStringToObject(o, "name", e->name);
	snprintf(buf, sizeof buf, "bluetti_%s_%s", node, e->key);
	cJSON_AddStringToObject(o, "unique_id", buf);
	snprintf(tmpl, sizeof tmpl, "{{ value_json.%s }}", e->key);
	cJSON_AddStringToObject(o, "value_template", tmpl);

	switch ((br_component_t)e->component) {
	case BR_C_SENSOR:
		if (e->device_class)
			cJSON_AddStringToObject(o, "device_class", e->device_class);
		if (e->device_class && !strcmp(e->device_class, "enum")) {
			cJSON *opts = cJSON_AddArrayToObject(o, "options");
			for (const blt_enum_entry_t *en = e->v->field->enums; en && en->name; en++)
				cJSON_AddItemToArray(opts, cJSON_CreateString(en->name));
			break;
		}
		if (e->unit)
			cJSON_AddStringToObject(o, "unit_of_measurement", e->unit);
		if (e->state_class)
			cJSON_AddStringToObject(o, "state_class", e->state_class);
		if (e->decimals >= 0)
			cJSON_AddNumberToObject(o, "suggested_display_precision", e->decimals);
		break;
	case BR_C_BINARY_SENSOR:
		if (e->device_class)
			cJSON_AddStringToObject(o, "device_class", e->device_class);
		cJSON_AddStringToObject(o, "payload_on", "ON");
		cJSON_AddStringToObject(o, "payload_off", "OFF");
		break;
	case BR_C_SWITCH:
	case BR_C_SELECT:
	case BR_C_NUMBER: {
		char cmd[200], leaf[96];
		const blt_setting_t *s = e->setting;
		snprintf(leaf, sizeof leaf, "set/%s", s->name);
		br_device_topic(c, leaf, cmd, sizeof cmd);
		cJSON_AddStringToObject(o, "command_topic", cmd);
		if (!s->primary) /* AC / DC output are primary controls, the rest configuration */
			cJSON_AddStringToObject(o, "entity_category", "config");
		if (e->device_class)
			cJSON_AddStringToObject(o, "device_class", e->device_class);
		if (e->component == BR_C_SWITCH) {
			cJSON_AddStringToObject(o, "payload_on", "ON");
			cJSON_AddStringToObject(o, "payload_off", "OFF");
		} else if (e->component == BR_C_SELECT) {
			cJSON *opts = cJSON_AddArrayToObject(o, "options");
			for (const blt_enum_entry_t *en = s->enums; en && en->name; en++)
				cJSON_AddItemToArray(opts, cJSON_CreateString(en->name));
		} else {
			cJSON_AddNumberToObject(o, "min", s->min);
			cJSON_AddNumberToObject(o, "max", s->max);
			cJSON_AddNumberToObject(o, "step", s->step > 0 ? s->step : 1);
			cJSON_AddStringToObject(o, "mode", "box");
			if (e->unit)
				cJSON_AddStringToObject(o, "unit_of_measurement", e->unit);
		}
		break;
	}
	}
	if (e->icon)
		cJSON_AddStringToObject(o, "icon", e->icon);
	if (e->diagnostic && !e->setting)
		cJSON_AddStringToObject(o, "entity_category", "diagnostic");
	if (e->disabled)
		cJSON_AddFalseToObject(o, "enabled_by_default");
}

/* State topic and availability: available only when the bridge is up AND the device
 * answers ("online" / "offline" are Home Assistant's defaults: no payload keys). */
static void topics_fields(const br_ha_ctx_t *c, cJSON *o)
{
	char buf[256];
	cJSON *av, *a;
	br_device_topic(c, "state", buf, sizeof buf);
	cJSON_AddStringToObject(o, "state_topic", buf);
	av = cJSON_AddArrayToObject(o, "availability");
	a = cJSON_CreateObject();
	br_bridge_topic(c->base, buf, sizeof buf);
	cJSON_AddStringToObject(a, "topic", buf);
	cJSON_AddItemToArray(av, a);
	a = cJSON_CreateObject();
	br_device_topic(c, "availability", buf, sizeof buf);
	cJSON_AddStringToObject(a, "topic", buf);
	cJSON_AddItemToArray(av, a);
	cJSON_AddStringToObject(o, "availability_mode", "all");
}

static cJSON *origin(void)
{
	cJSON *org = cJSON_CreateObject();
	if (!org)
		return NULL;
	cJSON_AddStringToObject(org, "name", BR_PROG);
	cJSON_AddStringToObject(org, "sw_version", blt_version());
	cJSON_AddStringToObject(org, "support_url", BR_SUPPORT_URL);
	return org;
}

char *br_discovery_doc(const br_ha_ctx_t *c, const br_entity_t *e)
{
	cJSON *o = cJSON_CreateObject();
	char *json;
	if (!o)
		return NULL;
	entity_fields(c, e, o);
	topics_fields(c, o);
	cJSON_AddItemToObject(o, "device", device_block(c, e));
	cJSON_AddItemToObject(o, "origin", origin());
	json = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return json;
}

int br_device_discovery_topic(const br_ha_ctx_t *c, char *topic, size_t cap)
{
	char node[BR_ID_MAX];
	node_id(c->cfg->sn, node, sizeof node);
	return fmt_topic(topic, cap, "%s/device/bluetti_%s/config", c->prefix, node);
}

/* Which HA device an entity belongs to: 0 the power station, 1 its battery pack, 2 + slave a
 * node of NODE_INFO. */
static unsigned owner_of(const br_entity_t *e)
{
	return e->node ? 2u + e->node_slave : e->sub ? 1u : 0u;
}

/* The device document of owner (see owner_of) from the entities of ents it owns; NULL on
 * allocation failure. rep: one entity of that owner (the station's may be NULL). */
static char *device_doc(const br_ha_ctx_t *c, const br_entity_t *ents, size_t n, unsigned owner,
                        const br_entity_t *rep)
{
	cJSON *o = cJSON_CreateObject(), *cmps;
	br_entity_t none;
	char *json;
	if (!o)
		return NULL;
	if (!rep) { /* no entity yet: the power station alone */
		memset(&none, 0, sizeof none);
		rep = &none;
	}
	cJSON_AddItemToObject(o, "dev", device_block(c, rep));
	cJSON_AddItemToObject(o, "o", origin());
	topics_fields(c, o); /* inherited by every component */
	cmps = cJSON_AddObjectToObject(o, "cmps");
	for (size_t i = 0; cmps && i < n; i++) {
		const br_entity_t *e = &ents[i];
		cJSON *x;
		if (owner_of(e) != owner) /* another device: its own document */
			continue;
		x = cJSON_CreateObject();
		if (!x)
			break;
		cJSON_AddStringToObject(x, "p", br_component_name((br_component_t)e->component));
		entity_fields(c, e, x);
		cJSON_AddItemToObject(cmps, e->key, x);
	}
	json = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return json;
}

char *br_device_discovery_doc(const br_ha_ctx_t *c, const br_entity_t *ents, size_t n)
{
	const br_entity_t *rep = NULL;
	for (size_t i = 0; i < n && !rep; i++)
		if (owner_of(&ents[i]) == 0)
			rep = &ents[i];
	return device_doc(c, ents, n, 0, rep);
}

/* Node id of a sub-device's document: the identifier of its device block. */
static int sub_node_id(const br_ha_ctx_t *c, const br_entity_t *e, char *out, size_t cap)
{
	char node[BR_ID_MAX], pfx[16];
	node_id(c->cfg->sn, node, sizeof node);
	if (e->node) {
		const blt_node_t *x = blt_device_node_find(c->dev, e->node_slave);
		if (x)
			node_prefix(x, pfx, sizeof pfx);
		else
			snprintf(pfx, sizeof pfx, "node%u", e->node_slave);
	} else {
		snprintf(pfx, sizeof pfx, "pack");
	}
	return fmt_topic(out, cap, "bluetti_%s_%s", node, pfx);
}

size_t br_device_docs(const br_ha_ctx_t *c, const br_entity_t *ents, size_t n, br_devdoc_t *out,
                      size_t cap)
{
	size_t nd = 0;
	if (!c || !c->cfg || !c->dev || !out || cap == 0)
		return 0;
	/* the power station first: the others name it as via_device */
	if (br_device_discovery_topic(c, out[0].topic, sizeof out[0].topic) != BLT_OK)
		return 0;
	out[0].doc = br_device_discovery_doc(c, ents, n);
	if (!out[0].doc)
		return 0;
	snprintf(out[0].node, sizeof out[0].node, "bluetti_");
	node_id(c->cfg->sn, out[0].node + 8, sizeof out[0].node - 8);
	nd = 1;
	/* then one document per sub-device, in the order of its first entity */
	for (size_t i = 0; i < n; i++) {
		unsigned owner = owner_of(&ents[i]);
		bool done = owner == 0;
		for (size_t k = 0; k < i && !done; k++)
			done = owner_of(&ents[k]) == owner;
		if (done)
			continue;
		if (nd >= cap)
			break;
		if (sub_node_id(c, &ents[i], out[nd].node, sizeof out[nd].node) != BLT_OK ||
		    fmt_topic(out[nd].topic, sizeof out[nd].topic, "%s/device/%s/config", c->prefix,
		              out[nd].node) != BLT_OK)
			continue;
		out[nd].doc = device_doc(c, ents, n, owner, &ents[i]);
		if (!out[nd].doc) {
			br_devdocs_free(out, nd);
			return 0;
		}
		nd++;
	}
	return nd;
}

void br_devdocs_free(br_devdoc_t *docs, size_t n)
{
	for (size_t i = 0; docs && i < n; i++) {
		free(docs[i].doc);
		docs[i].doc = NULL;
	}
}

/* ---- state document ------------------------------------------------------------------ */

static void add_num(cJSON *o, const char *key, double v, int decimals)
{
	char buf[64];
	if (!isfinite(v)) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	if (decimals < 0)
		decimals = (v == floor(v)) ? 0 : 3;
	snprintf(buf, sizeof buf, "%.*f", decimals, v);
	if (strspn(buf, "-0.") == strlen(buf)) /* "-0.0" -> "0" */
		snprintf(buf, sizeof buf, "0");
	cJSON_AddRawToObject(o, key, buf);
}

static void add_onoff(cJSON *o, const char *key, bool known, bool on)
{
	if (!known)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddStringToObject(o, key, on ? "ON" : "OFF");
}

static const char *enum_name(const blt_enum_entry_t *en, double v)
{
	for (; en && en->name; en++)
		if ((double)en->value == v)
			return en->name;
	return NULL;
}

static void add_derived_value(const br_ha_ctx_t *c, cJSON *o, const br_entity_t *e)
{
	if (e->dq) {
		blt_derived_value_t dv;
		blt_derived_get(c->dev, e->dq, &dv);
		if (!dv.known)
			cJSON_AddNullToObject(o, e->key);
		else if (e->dq->kind == BLT_DK_FLAG)
			add_onoff(o, e->key, true, dv.on);
		else if (e->dq->kind == BLT_DK_TEXT)
			cJSON_AddStringToObject(o, e->key, dv.text);
		else
			add_num(o, e->key, dv.num, e->decimals);
		return;
	}
	switch ((br_derived_t)e->derived) {
	case BR_D_LINK:
		if (c->link)
			cJSON_AddStringToObject(o, e->key, c->link);
		else
			cJSON_AddNullToObject(o, e->key);
		return;
	case BR_D_RSSI:
		if (c->have_rssi)
			add_num(o, e->key, c->rssi, 0);
		else
			cJSON_AddNullToObject(o, e->key);
		return;
	case BR_D_LAST_SEEN: {
		char buf[40];
		time_t t = (time_t)(c->last_seen_unix_ms / 1000);
		struct tm tm;
		if (!c->last_seen_unix_ms || !gmtime_r(&t, &tm)) {
			cJSON_AddNullToObject(o, e->key);
			return;
		}
		strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
		cJSON_AddStringToObject(o, e->key, buf);
		return;
	}
	case BR_D_NONE: break;
	}
	cJSON_AddNullToObject(o, e->key);
}

static void add_node_value(const br_ha_ctx_t *c, cJSON *o, const br_entity_t *e)
{
	const blt_node_t *x = blt_device_node_find(c->dev, e->node_slave);
	const blt_device_summary_t *s = x && x->state ? blt_device_summary(x->state) : NULL;
	if (!s) {
		cJSON_AddNullToObject(o, e->key);
		return;
	}
	switch (e->node_item) {
	case NI_ONLINE: add_onoff(o, e->key, true, x->status & 1u); return;
	case NI_PROBLEM: add_onoff(o, e->key, true, (x->status & 0xcu) != 0); return;
	case NI_SOC: add_num(o, e->key, s->soc, e->decimals); return;
	case NI_VOLTAGE: add_num(o, e->key, s->pack_voltage, e->decimals); return;
	case NI_CURRENT: add_num(o, e->key, s->pack_current, e->decimals); return;
	case NI_POWER: add_num(o, e->key, s->battery_power, e->decimals); return;
	case NI_TEMP_AVG: add_num(o, e->key, s->pack_temp_avg, e->decimals); return;
	case NI_TEMP:
		add_num(o, e->key, e->node_index < s->temp_count ? s->temp[e->node_index] : NAN,
		        e->decimals);
		return;
	case NI_CELL:
		add_num(o, e->key,
		        e->node_index < s->cell_count ? s->cell_voltage[e->node_index] : NAN,
		        e->decimals);
		return;
	case NI_CELL_DELTA: add_num(o, e->key, s->cell_delta, e->decimals); return;
	}
	cJSON_AddNullToObject(o, e->key);
}

char *br_state_doc(const br_ha_ctx_t *c, const br_entity_t *ents, size_t n)
{
	cJSON *o = cJSON_CreateObject();
	char *json;
	if (!o)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		const br_entity_t *e = &ents[i];
		const blt_device_value_t *v = e->v;
		if (e->setting) {
			const blt_setting_t *s = e->setting;
			v = blt_device_find(c->dev, s->block, s->field);
			bool ok = v && v->status == BLT_VS_OK;
			if (e->component == BR_C_SWITCH)
				add_onoff(o, e->key, ok, ok && v->num != 0);
			else if (e->component == BR_C_SELECT) {
				const char *nm = ok ? enum_name(s->enums, v->num) : NULL;
				if (nm)
					cJSON_AddStringToObject(o, e->key, nm);
				else
					cJSON_AddNullToObject(o, e->key);
			} else {
				add_num(o, e->key, ok ? v->num : NAN, 0);
			}
			continue;
		}
		if (e->derived || e->dq) {
			add_derived_value(c, o, e);
			continue;
		}
		if (e->node) {
			add_node_value(c, o, e);
			continue;
		}
		if (!v || v->status != BLT_VS_OK) {
			cJSON_AddNullToObject(o, e->key);
			continue;
		}
		if (v->field->enums) {
			const char *nm = enum_name(v->field->enums, v->num);
			if (nm)
				cJSON_AddStringToObject(o, e->key, nm);
			else
				cJSON_AddNullToObject(o, e->key);
			continue;
		}
		add_num(o, e->key, v->num, e->decimals);
	}
	json = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return json;
}

/* ---- commands ------------------------------------------------------------------------ */

bool br_command_text(const char *payload, size_t len, char *out, size_t cap)
{
	size_t b = 0, e = len, n;
	char *end;
	double v;
	if (!payload || cap < 2)
		return false;
	while (b < e && (payload[b] == ' ' || payload[b] == '\t' || payload[b] == '\r' ||
	                 payload[b] == '\n'))
		b++;
	while (e > b && (payload[e - 1] == ' ' || payload[e - 1] == '\t' ||
	                 payload[e - 1] == '\r' || payload[e - 1] == '\n'))
		e--;
	n = e - b;
	if (n == 0 || n >= cap || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)payload[b + i];
		if (ch < 0x20 || ch > 0x7e)
			return false;
		out[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
	}
	out[n] = '\0';
	/* HA numbers may come as "5.0": integral values become "5". */
	v = strtod(out, &end);
	if (end != out && *end == '\0' && isfinite(v) && v == floor(v) && fabs(v) < 1e9 &&
	    strchr(out, '.'))
		snprintf(out, cap, "%.0f", v);
	return true;
}
