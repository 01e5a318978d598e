/* test_bridge_checker.h - Home Assistant MQTT discovery rules, checked field by field.
 *
 * Written from Home Assistant's documented discovery rules (MQTT integration): topic
 * format <prefix>/<component>/[<node_id>/]<object_id>/config with ids of [a-zA-Z0-9_-];
 * required keys per component; unique_id unique; device block with identifiers;
 * availability entries with topics; the allowed units of each sensor device_class and the
 * state_class rules (energy: total/total_increasing, never measurement; enum and timestamp:
 * no unit, no state_class; enum: options). Sub-devices (a battery pack, the packs and hubs
 * of NODE_INFO): via_device names a device announced in the set and never the device
 * itself; every document of one device identifier carries the same name, model, serial
 * and via_device (HA merges them into one device entry; a mismatch flaps the registry).
 * Device-based discovery (HA 2024.11+, <prefix>/device/<node_id>/config): dev, o (origin
 * with a name; support_url an http(s) URL), cmps with each component's platform p; each
 * component, with the options it inherits from the document, obeys the per-entity rules.
 * A device document carries exactly one device, whose identifier is the topic's node id,
 * and no two documents describe one device: the power station's entities, its battery pack
 * and each NODE_INFO node have a document each (a sub-device's node id extends its
 * via_device's, and its components keep the unique_id of the per-entity form,
 * <via_device>_<key>); a unique_id is a component of at most one document.
 * Names: every entity of one device has a distinct name, no word twice in a row ("Grid
 * grid power"), and none begins with its device's name. Categories: sensors are never
 * config; enabled_by_default is a boolean, and the noisy values (last_seen, per-cell
 * voltages, per-sensor temperatures) start disabled unless the context says otherwise.
 * No payload_available / availability_topic beside an availability list.
 * A document that breaks a rule is reported with its topic and the rule; the checker
 * returns the number of problems.
 */
#ifndef TEST_BRIDGE_CHECKER_H
#define TEST_BRIDGE_CHECKER_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

typedef struct chk_doc {
	const char *topic;
	const char *payload; /* JSON text */
} chk_doc_t;

typedef struct chk_ctx {
	const char *prefix;    /* discovery prefix */
	const char *state_doc; /* the state document every state_topic should carry */
	const char *state_topic;
	const char *const *avail_topics; /* topics availability may name */
	size_t navail;
	const char *const *known_devices; /* devices announced elsewhere (the bridge's own) */
	size_t nknown;
	bool noise_enabled;   /* all_entities: the noisy values may start enabled */
	const char *uid_node; /* internal: node of the unique_ids while checking a device
	                         document's components (NULL: the topic's node id) */
	int problems;
	char last[512]; /* last problem, for the assertion message */
} chk_ctx_t;

/* Entity names seen, per device identifier (for the name rules). */
static struct chk_name {
	char dev[96], dev_name[128], name[128], topic[200];
} chk_names[4096];
static size_t chk_nnames;
/* Devices that have a device document (one each). */
static char chk_devdocs[64][96];
static size_t chk_ndevdocs;

/* True if name has the same word twice in a row. */
static bool chk_stutters(const char *name)
{
	char prev[64] = "", word[64];
	const char *p = name;
	while (*p) {
		size_t n = strcspn(p, " ");
		size_t wn = n < sizeof word - 1 ? n : sizeof word - 1;
		for (size_t i = 0; i < wn; i++)
			word[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
		word[wn] = '\0';
		if (wn && !strcmp(word, prev))
			return true;
		memcpy(prev, word, wn + 1);
		p += n;
		while (*p == ' ')
			p++;
	}
	return false;
}

/* Object ids of the values that change every poll or that few people chart. */
static bool chk_noisy(const char *object)
{
	const char *p;
	size_t n = strlen(object);
	if (n >= 9 && !strcmp(object + n - 9, "last_seen"))
		return true;
	/* ..._cell_<n>_voltage */
	if ((p = strstr(object, "cell_")) && p[5] >= '0' && p[5] <= '9') {
		p += 5;
		while (*p >= '0' && *p <= '9')
			p++;
		if (!strcmp(p, "_voltage"))
			return true;
	}
	/* ..._temp_<n> */
	if (n > 6) {
		const char *e = object + n;
		while (e > object && e[-1] >= '0' && e[-1] <= '9')
			e--;
		if (e < object + n && e - object >= 5 && !strncmp(e - 5, "temp_", 5))
			return true;
	}
	return false;
}

static void chk_fail(chk_ctx_t *c, const char *topic, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void chk_fail(chk_ctx_t *c, const char *topic, const char *fmt, ...)
{
	char msg[400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(c->last, sizeof c->last, "%s: %s", topic, msg);
	fprintf(stderr, "HA rule: %s\n", c->last);
	c->problems++;
}

static bool chk_id_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '_' || ch == '-'))
			return false;
	}
	return true;
}

static const char *chk_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Units HA accepts per sensor device_class (the subset relevant to power stations, plus
 * classes a generator could plausibly emit). NULL-terminated; "" = no unit. */
static const struct chk_units {
	const char *dc;
	const char *units[8];
} chk_unit_table[] = {
    {"power", {"W", "kW", "MW", "GW", "mW", "BTU/h", NULL}},
    {"energy", {"Wh", "kWh", "MWh", "GWh", "mWh", "MJ", "GJ", NULL}},
    {"voltage", {"V", "mV", "µV", "kV", "MV", NULL}},
    {"current", {"A", "mA", NULL}},
    {"frequency", {"Hz", "kHz", "MHz", "GHz", NULL}},
    {"battery", {"%", NULL}},
    {"temperature", {"°C", "°F", "K", NULL}},
    {"duration", {"d", "h", "min", "s", "ms", "µs", NULL}},
    {"apparent_power", {"VA", "kVA", NULL}},
    {"reactive_power", {"var", "kvar", NULL}},
    {"power_factor", {"%", "", NULL}},
    {"signal_strength", {"dB", "dBm", NULL}},
};

static const char *const chk_binary_classes[] = {"battery",
                                                 "battery_charging",
                                                 "carbon_monoxide",
                                                 "cold",
                                                 "connectivity",
                                                 "door",
                                                 "garage_door",
                                                 "gas",
                                                 "heat",
                                                 "light",
                                                 "lock",
                                                 "moisture",
                                                 "motion",
                                                 "moving",
                                                 "occupancy",
                                                 "opening",
                                                 "plug",
                                                 "power",
                                                 "presence",
                                                 "problem",
                                                 "running",
                                                 "safety",
                                                 "smoke",
                                                 "sound",
                                                 "tamper",
                                                 "update",
                                                 "vibration",
                                                 "window",
                                                 NULL};

static bool chk_in(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return true;
	return false;
}

/* "{{ value_json.KEY }}" -> KEY */
static bool chk_template_key(const char *t, char *key, size_t cap)
{
	const char *p = strstr(t ? t : "", "value_json.");
	size_t n = 0;
	if (!p)
		return false;
	p += strlen("value_json.");
	while (p[n] && chk_id_ok(p + n, 1) && n + 1 < cap)
		n++;
	memcpy(key, p, n);
	key[n] = '\0';
	return n > 0;
}

static void chk_sensor(chk_ctx_t *c, const char *topic, const cJSON *o, const cJSON *value)
{
	const char *dc = chk_str(o, "device_class"), *unit = chk_str(o, "unit_of_measurement");
	const char *sc = chk_str(o, "state_class");
	if (sc && strcmp(sc, "measurement") && strcmp(sc, "total") &&
	    strcmp(sc, "total_increasing"))
		chk_fail(c, topic, "state_class '%s' unknown", sc);
	if (dc && !strcmp(dc, "enum")) {
		const cJSON *opts = cJSON_GetObjectItemCaseSensitive(o, "options");
		if (unit || sc)
			chk_fail(c, topic, "enum sensor with unit or state_class");
		if (!cJSON_IsArray(opts) || cJSON_GetArraySize(opts) == 0)
			chk_fail(c, topic, "enum sensor without options");
		if (value && !cJSON_IsNull(value)) {
			bool found = false;
			const cJSON *it;
			cJSON_ArrayForEach(it,
			                   opts) if (cJSON_IsString(it) && cJSON_IsString(value) &&
			                             !strcmp(it->valuestring, value->valuestring))
			    found = true;
			if (!found)
				chk_fail(c, topic, "state value is not one of the options");
		}
		return;
	}
	if (dc && !strcmp(dc, "timestamp")) {
		if (unit || sc)
			chk_fail(c, topic, "timestamp sensor with unit or state_class");
		if (value && !cJSON_IsNull(value) &&
		    (!cJSON_IsString(value) || strlen(value->valuestring) < 20 ||
		     value->valuestring[10] != 'T'))
			chk_fail(c, topic, "timestamp state is not ISO 8601");
		return;
	}
	if (dc) {
		const struct chk_units *u = NULL;
		for (size_t i = 0; i < sizeof chk_unit_table / sizeof chk_unit_table[0]; i++)
			if (!strcmp(chk_unit_table[i].dc, dc))
				u = &chk_unit_table[i];
		if (!u) {
			chk_fail(c, topic, "sensor device_class '%s' not expected here", dc);
		} else {
			bool ok = false;
			for (size_t i = 0; u->units[i]; i++)
				if (!strcmp(u->units[i], unit ? unit : ""))
					ok = true;
			if (!ok)
				chk_fail(c, topic, "unit '%s' not allowed for device_class %s",
				         unit ? unit : "(none)", dc);
		}
		if (!strcmp(dc, "energy") && (!sc || !strcmp(sc, "measurement")))
			chk_fail(c, topic, "energy needs state_class total or total_increasing");
	}
	if (sc && !strcmp(sc, "total_increasing") && dc && strcmp(dc, "energy") &&
	    strcmp(dc, "water") && strcmp(dc, "gas"))
		chk_fail(c, topic, "total_increasing on device_class %s", dc);
	/* Numeric sensors (unit or state_class) must carry numbers or null. */
	if ((unit || sc) && value && !cJSON_IsNull(value) && !cJSON_IsNumber(value))
		chk_fail(c, topic, "numeric sensor with a non-numeric state");
}

/* Check one discovery document; ids collects unique_ids (array owned by the caller,
 * nids in/out), devices collects device identifiers for via_device checks. */
/* What a device block says, per identifier, for the consistency rule. */
typedef struct chk_dev {
	char name[128], model[64], serial[32], via[96];
} chk_dev_t;

static void chk_dev_of(const cJSON *dev, chk_dev_t *out)
{
	const char *v;
	memset(out, 0, sizeof *out);
	if ((v = chk_str(dev, "name")))
		snprintf(out->name, sizeof out->name, "%s", v);
	if ((v = chk_str(dev, "model")))
		snprintf(out->model, sizeof out->model, "%s", v);
	if ((v = chk_str(dev, "serial_number")))
		snprintf(out->serial, sizeof out->serial, "%s", v);
	if ((v = chk_str(dev, "via_device")))
		snprintf(out->via, sizeof out->via, "%s", v);
}

/* The name rules, against the names seen before for the same device. */
static void chk_name(chk_ctx_t *c, const char *topic, const cJSON *o)
{
	const cJSON *dev = cJSON_GetObjectItemCaseSensitive(o, "device");
	const cJSON *idl = cJSON_GetObjectItemCaseSensitive(dev, "identifiers");
	const char *name = chk_str(o, "name"), *dn = chk_str(dev, "name");
	const char *id0 = cJSON_IsString(cJSON_GetArrayItem(idl, 0))
	                      ? cJSON_GetArrayItem(idl, 0)->valuestring
	                      : "";
	size_t dl = dn ? strlen(dn) : 0;
	struct chk_name *nm;
	if (chk_stutters(name))
		chk_fail(c, topic, "name '%s' repeats a word", name);
	if (dl && !strncasecmp(name, dn, dl))
		chk_fail(c, topic, "name '%s' begins with its device's name", name);
	for (size_t k = 0; k < chk_nnames; k++)
		if (!strcmp(id0, chk_names[k].dev) && !strcasecmp(name, chk_names[k].name))
			chk_fail(c, topic, "name '%s' already used in %s", name,
			         chk_names[k].topic);
	if (chk_nnames >= sizeof chk_names / sizeof chk_names[0])
		return;
	nm = &chk_names[chk_nnames++];
	snprintf(nm->dev, sizeof nm->dev, "%s", id0);
	snprintf(nm->dev_name, sizeof nm->dev_name, "%s", dn ? dn : "");
	snprintf(nm->name, sizeof nm->name, "%s", name);
	snprintf(nm->topic, sizeof nm->topic, "%s", topic);
}

static void chk_doc(chk_ctx_t *c, const chk_doc_t *doc, const cJSON *state, char ids[][96],
                    size_t *nids, size_t idcap, char devs[][96], chk_dev_t *devinfo, size_t *ndevs,
                    size_t devcap, char vias[][96], size_t *nvias)
{
	char comp[32], node[96], object[96], key[96];
	const char *p = doc->topic, *q;
	size_t pl = strlen(c->prefix);
	cJSON *o;
	const char *s;
	const cJSON *dev, *av, *value = NULL;

	/* <prefix>/<component>/<node_id>/<object_id>/config */
	if (strncmp(p, c->prefix, pl) || p[pl] != '/') {
		chk_fail(c, doc->topic, "not under the discovery prefix");
		return;
	}
	p += pl + 1;
	q = strchr(p, '/');
	if (!q || (size_t)(q - p) >= sizeof comp) {
		chk_fail(c, doc->topic, "no component");
		return;
	}
	memcpy(comp, p, (size_t)(q - p));
	comp[q - p] = '\0';
	p = q + 1;
	q = strchr(p, '/');
	if (!q || (size_t)(q - p) >= sizeof node || !chk_id_ok(p, (size_t)(q - p))) {
		chk_fail(c, doc->topic, "bad node_id");
		return;
	}
	memcpy(node, p, (size_t)(q - p));
	node[q - p] = '\0';
	p = q + 1;
	q = strchr(p, '/');
	if (!q || strcmp(q, "/config") || (size_t)(q - p) >= sizeof object ||
	    !chk_id_ok(p, (size_t)(q - p))) {
		chk_fail(c, doc->topic, "bad object_id or not .../config");
		return;
	}
	memcpy(object, p, (size_t)(q - p));
	object[q - p] = '\0';
	if (strcmp(comp, "sensor") && strcmp(comp, "binary_sensor") && strcmp(comp, "switch") &&
	    strcmp(comp, "select") && strcmp(comp, "number")) {
		chk_fail(c, doc->topic, "unexpected component %s", comp);
		return;
	}

	o = cJSON_Parse(doc->payload);
	if (!cJSON_IsObject(o)) {
		cJSON_Delete(o);
		{
			chk_fail(c, doc->topic, "payload is not a JSON object");
			return;
		}
	}
	/* unique_id: present, unique, bluetti_<node>... */
	s = chk_str(o, "unique_id");
	if (!s || !*s) {
		chk_fail(c, doc->topic, "no unique_id");
	} else {
		char want[200];
		snprintf(want, sizeof want, "%s_%s", c->uid_node ? c->uid_node : node, object);
		if (strcmp(s, want))
			chk_fail(c, doc->topic, "unique_id %s, expected %s", s, want);
		for (size_t i = 0; i < *nids; i++)
			if (!strcmp(ids[i], s))
				chk_fail(c, doc->topic, "unique_id %s used twice", s);
		if (*nids < idcap)
			snprintf(ids[(*nids)++], 96, "%s", s);
	}
	if (!chk_str(o, "name"))
		chk_fail(c, doc->topic, "no name");
	else
		chk_name(c, doc->topic, o);
	if (cJSON_GetObjectItemCaseSensitive(o, "availability") &&
	    (cJSON_GetObjectItemCaseSensitive(o, "availability_topic") ||
	     cJSON_GetObjectItemCaseSensitive(o, "payload_available") ||
	     cJSON_GetObjectItemCaseSensitive(o, "payload_not_available")))
		chk_fail(c, doc->topic, "redundant availability keys beside the availability list");
	{
		const cJSON *en = cJSON_GetObjectItemCaseSensitive(o, "enabled_by_default");
		const char *cat = chk_str(o, "entity_category");
		if (en && !cJSON_IsBool(en))
			chk_fail(c, doc->topic, "enabled_by_default is not a boolean");
		if (!c->noise_enabled && chk_noisy(object) && !cJSON_IsFalse(en))
			chk_fail(c, doc->topic,
			         "%s changes often or is rarely charted: it must start "
			         "disabled",
			         object);
		if (cat && !strcmp(cat, "config") &&
		    (!strcmp(comp, "sensor") || !strcmp(comp, "binary_sensor")))
			chk_fail(c, doc->topic, "a %s cannot be entity_category config", comp);
	}
	/* state_topic + value_template into the state document */
	s = chk_str(o, "state_topic");
	if (!s)
		chk_fail(c, doc->topic, "no state_topic");
	else if (c->state_topic && strcmp(s, c->state_topic))
		chk_fail(c, doc->topic, "state_topic %s, expected %s", s, c->state_topic);
	if (!chk_template_key(chk_str(o, "value_template"), key, sizeof key)) {
		chk_fail(c, doc->topic, "value_template does not read value_json.<key>");
	} else if (strcmp(key, object)) {
		chk_fail(c, doc->topic, "value_template reads %s, object id is %s", key, object);
	} else if (state) {
		value = cJSON_GetObjectItemCaseSensitive(state, key);
		if (!value)
			chk_fail(c, doc->topic, "key %s missing from the state document", key);
	}
	/* per component */
	if (!strcmp(comp, "sensor")) {
		chk_sensor(c, doc->topic, o, value);
	} else if (!strcmp(comp, "binary_sensor")) {
		s = chk_str(o, "device_class");
		if (s && !chk_in(s, chk_binary_classes))
			chk_fail(c, doc->topic, "binary_sensor device_class %s unknown", s);
		if (value && !cJSON_IsNull(value) &&
		    (!cJSON_IsString(value) ||
		     (strcmp(value->valuestring, "ON") && strcmp(value->valuestring, "OFF"))))
			chk_fail(c, doc->topic, "binary state is not ON/OFF/null");
	} else {
		const char *cmd = chk_str(o, "command_topic");
		if (!cmd || !*cmd || strchr(cmd, '+') || strchr(cmd, '#'))
			chk_fail(c, doc->topic, "%s without a usable command_topic", comp);
		if (!strcmp(comp, "switch")) {
			s = chk_str(o, "device_class");
			if (s && strcmp(s, "outlet") && strcmp(s, "switch"))
				chk_fail(c, doc->topic, "switch device_class %s", s);
			if (value && !cJSON_IsNull(value) &&
			    (!cJSON_IsString(value) || (strcmp(value->valuestring, "ON") &&
			                                strcmp(value->valuestring, "OFF"))))
				chk_fail(c, doc->topic, "switch state is not ON/OFF/null");
		} else if (!strcmp(comp, "select")) {
			const cJSON *opts = cJSON_GetObjectItemCaseSensitive(o, "options");
			if (!cJSON_IsArray(opts) || cJSON_GetArraySize(opts) == 0)
				chk_fail(c, doc->topic, "select without options");
		} else {
			const cJSON *mn = cJSON_GetObjectItemCaseSensitive(o, "min");
			const cJSON *mx = cJSON_GetObjectItemCaseSensitive(o, "max");
			const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "step");
			if (!cJSON_IsNumber(mn) || !cJSON_IsNumber(mx) ||
			    mn->valuedouble >= mx->valuedouble)
				chk_fail(c, doc->topic, "number needs min < max");
			if (st && (!cJSON_IsNumber(st) || st->valuedouble <= 0))
				chk_fail(c, doc->topic, "number step must be > 0");
		}
		s = chk_str(o, "entity_category");
		if (s && strcmp(s, "config"))
			chk_fail(c, doc->topic, "controls belong to entity_category config");
		/* the project's rule: the main switches are primary controls (voice assistants
		 * and area actions do not reach config entities) */
		if (s && (!strcmp(object, "ac_output") || !strcmp(object, "dc_output")))
			chk_fail(c, doc->topic, "%s must be a primary control, not %s", object, s);
	}
	s = chk_str(o, "entity_category");
	if (s && strcmp(s, "config") && strcmp(s, "diagnostic"))
		chk_fail(c, doc->topic, "entity_category %s unknown", s);
	/* availability */
	av = cJSON_GetObjectItemCaseSensitive(o, "availability");
	if (!cJSON_IsArray(av) || cJSON_GetArraySize(av) == 0) {
		chk_fail(c, doc->topic, "no availability list");
	} else {
		const cJSON *a;
		cJSON_ArrayForEach(a, av)
		{
			const char *t = chk_str(a, "topic");
			bool known = false;
			for (size_t i = 0; t && i < c->navail; i++)
				if (!strcmp(c->avail_topics[i], t))
					known = true;
			if (!t || !known)
				chk_fail(c, doc->topic, "availability topic %s not published",
				         t ? t : "(none)");
		}
		s = chk_str(o, "availability_mode");
		if (s && strcmp(s, "all") && strcmp(s, "any") && strcmp(s, "latest"))
			chk_fail(c, doc->topic, "availability_mode %s", s);
	}
	/* device */
	dev = cJSON_GetObjectItemCaseSensitive(o, "device");
	if (!cJSON_IsObject(dev)) {
		chk_fail(c, doc->topic, "no device block");
	} else {
		const cJSON *idl = cJSON_GetObjectItemCaseSensitive(dev, "identifiers");
		const char *via = chk_str(dev, "via_device");
		if (!cJSON_IsArray(idl) || cJSON_GetArraySize(idl) == 0 ||
		    !cJSON_IsString(cJSON_GetArrayItem(idl, 0)))
			chk_fail(c, doc->topic, "device without identifiers");
		else {
			const char *id0 = cJSON_GetArrayItem(idl, 0)->valuestring;
			chk_dev_t now;
			bool seen = false;
			chk_dev_of(dev, &now);
			if (via && !strcmp(via, id0))
				chk_fail(c, doc->topic, "device %s is its own via_device", id0);
			for (size_t i = 0; i < *ndevs; i++) {
				if (strcmp(devs[i], id0))
					continue;
				seen = true;
				if (strcmp(devinfo[i].name, now.name) ||
				    strcmp(devinfo[i].model, now.model) ||
				    strcmp(devinfo[i].serial, now.serial) ||
				    strcmp(devinfo[i].via, now.via))
					chk_fail(c, doc->topic,
					         "device %s described differently than in another "
					         "document (name '%s' vs '%s', via '%s' vs '%s')",
					         id0, now.name, devinfo[i].name, now.via,
					         devinfo[i].via);
			}
			if (!seen && *ndevs < devcap) {
				devinfo[*ndevs] = now;
				snprintf(devs[(*ndevs)++], 96, "%s", id0);
			}
		}
		const cJSON *id0j =
		    cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(dev, "identifiers"), 0);
		bool bridge =
		    cJSON_IsString(id0j) && !strncmp(id0j->valuestring, "bluetti_bridge_", 15);
		if (bridge) {
			/* the bridge's own device (issue 14): the program, not a Bluetti product */
			if (!chk_str(dev, "name") || !chk_str(dev, "model") ||
			    !chk_str(dev, "sw_version") || via)
				chk_fail(
				    c, doc->topic,
				    "bridge device needs name, model, sw_version, no via_device");
		} else if (!chk_str(dev, "name") || !chk_str(dev, "manufacturer") ||
		           strcmp(chk_str(dev, "manufacturer"), "Bluetti"))
			chk_fail(c, doc->topic, "device needs name and manufacturer Bluetti");
		if (!via && !bridge && (!chk_str(dev, "model") || !chk_str(dev, "serial_number")))
			chk_fail(c, doc->topic,
			         "power station device needs model and serial_number");
		if (via && *nvias < devcap)
			snprintf(vias[(*nvias)++], 96, "%s", via);
	}
	cJSON_Delete(o);
}

/* A device-based document: check its own keys, then each component as the per-entity
 * document it stands for (with the options it inherits). */
static void chk_device_doc(chk_ctx_t *c, const chk_doc_t *doc, const cJSON *state, char ids[][96],
                           size_t *nids, size_t idcap, char devs[][96], chk_dev_t *devinfo,
                           size_t *ndevs, size_t devcap, char vias[][96], size_t *nvias)
{
	static const char *const inherit[] = {"state_topic", "availability", "availability_mode",
	                                      "origin", NULL};
	static const char *const platforms[] = {"sensor", "binary_sensor", "switch",
	                                        "select", "number",        NULL};
	char node[96];
	const char *uid_node = NULL;
	const char *p = doc->topic + strlen(c->prefix) + strlen("/device/");
	const char *q = strchr(p, '/');
	cJSON *o, *dev, *org, *cmps, *x;
	const char *url;
	if (!q || strcmp(q, "/config") || (size_t)(q - p) >= sizeof node ||
	    !chk_id_ok(p, (size_t)(q - p))) {
		chk_fail(c, doc->topic, "bad node_id or not .../config");
		return;
	}
	memcpy(node, p, (size_t)(q - p));
	node[q - p] = '\0';
	o = cJSON_Parse(doc->payload);
	if (!cJSON_IsObject(o)) {
		chk_fail(c, doc->topic, "payload is not a JSON object");
		cJSON_Delete(o);
		return;
	}
	dev = cJSON_GetObjectItemCaseSensitive(o, "dev");
	org = cJSON_GetObjectItemCaseSensitive(o, "o");
	cmps = cJSON_GetObjectItemCaseSensitive(o, "cmps");
	if (!cJSON_IsObject(dev)) {
		chk_fail(c, doc->topic, "device document without dev");
	} else {
		const cJSON *idl = cJSON_GetObjectItemCaseSensitive(dev, "identifiers");
		const char *via = chk_str(dev, "via_device");
		const char *id0 = cJSON_IsArray(idl) && cJSON_GetArraySize(idl) == 1 &&
		                          cJSON_IsString(cJSON_GetArrayItem(idl, 0))
		                      ? cJSON_GetArrayItem(idl, 0)->valuestring
		                      : NULL;
		size_t vl = via ? strlen(via) : 0;
		if (!id0)
			chk_fail(c, doc->topic, "dev is not exactly one device (one identifier)");
		else if (strcmp(id0, node))
			chk_fail(c, doc->topic, "dev %s is not the device of node id %s", id0,
			         node);
		for (size_t i = 0; id0 && i < chk_ndevdocs; i++)
			if (!strcmp(chk_devdocs[i], id0))
				chk_fail(c, doc->topic, "device %s has a second device document",
				         id0);
		if (id0 && chk_ndevdocs < sizeof chk_devdocs / sizeof chk_devdocs[0])
			snprintf(chk_devdocs[chk_ndevdocs++], sizeof chk_devdocs[0], "%s", id0);
		/* a sub-device (its id extends its via_device's): the per-entity unique_ids */
		if (via && !strncmp(node, via, vl) && node[vl] == '_')
			uid_node = via;
	}
	if (!cJSON_IsObject(org) || !chk_str(org, "name"))
		chk_fail(c, doc->topic, "device document without o (origin) and its name");
	else if ((url = chk_str(org, "support_url")) && strncmp(url, "https://", 8) &&
	         strncmp(url, "http://", 7))
		chk_fail(c, doc->topic, "origin support_url %s is not a URL", url);
	if (!cJSON_IsObject(cmps) || !cmps->child) {
		chk_fail(c, doc->topic, "device document without components (cmps)");
		cJSON_Delete(o);
		return;
	}
	cJSON_ArrayForEach(x, cmps)
	{
		const char *plat = chk_str(x, "p");
		char topic[300], *payload;
		cJSON *e;
		chk_doc_t one;
		if (!plat || !chk_in(plat, platforms)) {
			chk_fail(c, doc->topic, "component %s without a known platform p",
			         x->string);
			continue;
		}
		if (cJSON_GetObjectItemCaseSensitive(x, "device"))
			chk_fail(c, doc->topic, "component %s repeats the device", x->string);
		e = cJSON_Duplicate(x, 1);
		cJSON_DeleteItemFromObjectCaseSensitive(e, "p");
		for (size_t i = 0; inherit[i]; i++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, inherit[i]);
			if (v && !cJSON_GetObjectItemCaseSensitive(e, inherit[i]))
				cJSON_AddItemToObject(e, inherit[i], cJSON_Duplicate(v, 1));
		}
		if (cJSON_IsObject(dev))
			cJSON_AddItemToObject(e, "device", cJSON_Duplicate(dev, 1));
		payload = cJSON_PrintUnformatted(e);
		cJSON_Delete(e);
		snprintf(topic, sizeof topic, "%s/%s/%s/%s/config", c->prefix, plat, node,
		         x->string);
		one.topic = topic;
		one.payload = payload;
		c->uid_node = uid_node;
		chk_doc(c, &one, state, ids, nids, idcap, devs, devinfo, ndevs, devcap, vias,
		        nvias);
		c->uid_node = NULL;
		free(payload);
	}
	cJSON_Delete(o);
}

/* Check a whole set of discovery documents against one state document. */
static int chk_all(chk_ctx_t *c, const chk_doc_t *docs, size_t n)
{
	static char ids[4096][96], devs[64][96], vias[4096][96];
	static chk_dev_t devinfo[64];
	size_t nids = 0, ndevs = 0, nvias = 0, pl = strlen(c->prefix);
	cJSON *state = c->state_doc ? cJSON_Parse(c->state_doc) : NULL;
	chk_nnames = 0;
	chk_ndevdocs = 0;
	if (c->state_doc && !cJSON_IsObject(state))
		chk_fail(c, c->state_topic ? c->state_topic : "state",
		         "state is not a JSON object");
	for (size_t i = 0; i < n; i++) {
		if (!strncmp(docs[i].topic, c->prefix, pl) &&
		    !strncmp(docs[i].topic + pl, "/device/", 8))
			chk_device_doc(c, &docs[i], state, ids, &nids, 4096, devs, devinfo, &ndevs,
			               64, vias, &nvias);
		else
			chk_doc(c, &docs[i], state, ids, &nids, 4096, devs, devinfo, &ndevs, 64,
			        vias, &nvias);
	}
	for (size_t i = 0; i < nvias; i++) {
		/* the bridge's own device is announced beside the stations' documents */
		bool found = !strncmp(vias[i], "bluetti_bridge_", 15);
		for (size_t k = 0; k < ndevs; k++)
			if (!strcmp(devs[k], vias[i]))
				found = true;
		for (size_t k = 0; k < c->nknown; k++)
			if (!strcmp(c->known_devices[k], vias[i]))
				found = true;
		if (!found)
			chk_fail(c, vias[i], "via_device names no announced device");
	}
	cJSON_Delete(state);
	return c->problems;
}

#endif
