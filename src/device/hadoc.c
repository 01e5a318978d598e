/* docs/ha-entities.md: the Home Assistant entities bluetti-bridge publishes for each
 * profile, generated from the catalog (rows and their presentation, settings) and the
 * derived table, so the list cannot drift from the code. */
#include <stdio.h>
#include <string.h>

#include <bluetti/bluetti.h>
#include <bluetti/device.h>
#include <bluetti/settings.h>

#define MAX_KEYS 1024

typedef struct keys {
	char k[MAX_KEYS][96];
	size_t n;
} keys_t;

/* True (and remembered) if key is new: the bridge keeps the first entity of a key
 * (controls, then derived quantities, then rows). */
static bool key_new(keys_t *ks, const char *key)
{
	for (size_t i = 0; i < ks->n; i++)
		if (!strcmp(ks->k[i], key))
			return false;
	if (ks->n < MAX_KEYS)
		snprintf(ks->k[ks->n++], sizeof ks->k[0], "%s", key);
	return true;
}

static void classes(FILE *out, const char *dc, const char *unit, const char *sc)
{
	int n = 0;
	if (dc)
		n += fprintf(out, "%s", dc);
	if (unit)
		n += fprintf(out, "%s%s", n ? " " : "", unit);
	if (sc && strcmp(sc, "measurement"))
		n += fprintf(out, "%s%s", n ? " " : "", sc);
	if (!n)
		fputs("–", out);
}

/* "phase_%u_voltage" -> "phase_{i}_voltage" (and a label's "%u" likewise) */
static const char *braces(const char *t, char *buf, size_t cap)
{
	const char *pct = t ? strstr(t, "%u") : NULL;
	if (!pct)
		return t;
	snprintf(buf, cap, "%.*s{i}%s", (int)(pct - t), t, pct + 2);
	return buf;
}

static void rows(FILE *out, const blt_profile_t *p, const blt_block_t *b, keys_t *ks)
{
	for (size_t i = 0; i < b->nfields; i++) {
		const blt_field_t *f = &b->fields[i];
		blt_field_t g = *f;
		blt_ha_info_t hi;
		char nb[BLT_NAME_MAX + 8], lb[96], key[96], name[128];
		blt_ha_field_info(p, b, f, &hi);
		if (!hi.published)
			continue;
		if (f->repeat) { /* one line for all records */
			g.name = braces(f->name, nb, sizeof nb);
			g.ha.label = braces(f->ha.label, lb, sizeof lb);
			g.repeat = NULL;
		}
		if (blt_ha_field_key(b, &g, 0, NULL, key, sizeof key) != BLT_OK ||
		    blt_ha_field_name(b, &g, 0, name, sizeof name) != BLT_OK || !key_new(ks, key))
			continue;
		fprintf(out, "| `%s` | %s | sensor | ", key, name);
		classes(out, hi.device_class, hi.unit, hi.state_class);
		fprintf(out, " | %s%s%s | block %u `%s`", hi.sub ? "battery pack" : "station",
		        hi.diagnostic ? ", diagnostic" : "", hi.enabled ? "" : ", off by default",
		        b->id, braces(f->name, nb, sizeof nb));
		if (f->repeat)
			fprintf(out, " (i < %s, at most %u)", f->repeat->count_field,
			        f->repeat->max);
		fputs(" |\n", out);
	}
}

static void profile_section(FILE *out, const blt_profile_t *p)
{
	static keys_t ks;
	uint16_t seen[64];
	size_t nseen = 0;
	ks.n = 0;
	fprintf(out, "## %s (`%s`)\n\n", p->name, p->id);
	fputs("| key | name | platform | class / unit | device, category | from |\n"
	      "|---|---|---|---|---|---|\n",
	      out);
	for (size_t i = 0; i < blt_setting_count(); i++) {
		const blt_setting_t *s = blt_setting_at(i);
		char name[96];
		if (s->lan_exposure || !blt_setting_supports_profile(s, p->id) ||
		    !blt_profile_reads_block(p, s->block) || !key_new(&ks, s->name))
			continue;
		blt_humanize(s->name, name, sizeof name);
		fprintf(out, "| `%s` | %s | %s | %s | station%s%s | register %u |\n", s->name, name,
		        s->kind == BLT_SK_SWITCH ? "switch"
		        : s->kind == BLT_SK_ENUM ? "select"
		                                 : "number",
		        s->unit ? s->unit : "–", s->primary ? "" : ", config",
		        s->status == BLT_SS_UNVERIFIED ? ", only with allow_unverified" : "",
		        s->reg);
	}
	for (size_t i = 0; i < blt_derived_count(); i++) {
		const blt_derived_t *q = blt_derived_at(i);
		if (!blt_derived_offered(p, q) || !key_new(&ks, q->key))
			continue;
		fprintf(out, "| `%s` | %s | %s | ", q->key, q->name,
		        q->kind == BLT_DK_FLAG ? "binary_sensor" : "sensor");
		classes(out, q->device_class, q->unit, q->state_class);
		fprintf(out, " | %s%s | computed: %s |\n", q->sub ? "battery pack" : "station",
		        q->diagnostic ? ", diagnostic" : "", q->source);
	}
	for (size_t g = 0; g < p->ngroups; g++)
		for (size_t k = 0; k < p->groups[g].nblocks; k++) {
			uint16_t id = p->groups[g].blocks[k];
			const blt_block_t *b = blt_catalog_find(id);
			bool dup = false;
			for (size_t j = 0; j < nseen; j++)
				dup = dup || seen[j] == id;
			if (dup || !b || id == BLT_NODE_INFO_BLOCK)
				continue;
			if (nseen < sizeof seen / sizeof seen[0])
				seen[nseen++] = id;
			rows(out, p, b, &ks);
		}
	fputc('\n', out);
}

blt_err_t blt_ha_write_entities_markdown(FILE *out)
{
	if (!out)
		return BLT_E_INVAL;
	fputs("# Home Assistant entities per profile\n\n"
	      "Generated from the catalog (`src/catalog/`: rows, their presentation, settings) "
	      "and the derived quantities (`src/device/derived.c`) by `bluetti blocks "
	      "--ha-entities`; do not edit by hand. See docs/home-assistant.md for setup and "
	      "use.\n\n"
	      "Every entity's unique_id is `bluetti_<serial>_<key>`; its value is "
	      "`value_json.<key>` of the state topic `<base>/<device>/state`. A row appears once "
	      "its block has been read (values the unit does not fill stay unknown); `{i}` rows "
	      "repeat per record (phase, input, cell, sensor). Controls need `controls = true` "
	      "(the default) and a polled settings group. *off by default*: the entity exists "
	      "but starts disabled (`all_entities = true` enables it). Besides these, the "
	      "bridge adds per device: `last_seen` (timestamp, off by default), `rssi` (signal "
	      "strength, cloud V2 preset) and `link` (transport in use, `transport = ble | "
	      "auto`); and for each pack or hub listed in NODE_INFO (block 21000) a device of "
	      "its own with online, problem and, for packs, battery, voltage, current, power, "
	      "temperatures and cell voltages.\n\n",
	      out);
	for (size_t i = 0; i < blt_profile_count(); i++)
		profile_section(out, blt_profile_at(i));
	fflush(out);
	return ferror(out) ? BLT_E_IO : BLT_OK;
}
