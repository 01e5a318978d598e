/* Presentation of catalog rows: Home Assistant entity key, name, classes, precision and
 * category, from the row's unit and its optional hint (blt_present_t) and the block's
 * presentation (blt_block_present_t). Pure functions of the tables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bluetti/bluetti.h>
#include <bluetti/settings.h>

#include "catalog_internal.h"

void blt_humanize(const char *in, char *out, size_t cap)
{
	static const char *const upper[] = {"ac",  "dc",  "pv",  "soc", "soh", "usb", "bms",  "ntc",
	                                    "mcu", "led", "lcd", "eco", "tou", "ct",  "rssi", "iot",
	                                    "bcu", "bmu", "mos", "can", "ems", "rv",  "ats",  "dsp",
	                                    "arm", "hmi", "5v",  "12v", "24v", "dcdc"};
	size_t o = 0;
	bool first = true;
	const char *p = in;
	if (cap == 0)
		return;
	while (*p && o + 1 < cap) {
		char word[32];
		size_t n = strcspn(p, "_");
		size_t wn = n < sizeof word - 1 ? n : sizeof word - 1;
		bool up = false;
		memcpy(word, p, wn);
		word[wn] = '\0';
		for (size_t i = 0; i < sizeof upper / sizeof upper[0]; i++)
			if (!strcmp(word, upper[i]))
				up = true;
		if (!first && o + 1 < cap)
			out[o++] = ' ';
		if (!strcmp(word, "dcdc"))
			memcpy(word, "DC-DC", 6);
		for (size_t i = 0; word[i] && o + 1 < cap; i++) {
			char ch = word[i];
			if (up || (first && i == 0))
				ch = (char)(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
			out[o++] = ch;
		}
		first = false;
		p += n;
		if (*p == '_')
			p++;
	}
	out[o] = '\0';
}

void blt_unit_classes(const char *unit, const char **dc, const char **sc)
{
	static const struct {
		const char *unit, *dc, *sc;
	} map[] = {
	    {"W", "power", "measurement"},
	    {"kW", "power", "measurement"},
	    {"VA", "apparent_power", "measurement"},
	    {"var", "reactive_power", "measurement"},
	    {"V", "voltage", "measurement"},
	    {"A", "current", "measurement"},
	    {"Hz", "frequency", "measurement"},
	    {"kWh", "energy", "total_increasing"},
	    {"Wh", "energy", "total_increasing"},
	    {"°C", "temperature", "measurement"},
	    {"min", "duration", "measurement"},
	    {"h", "duration", "measurement"},
	    {"s", "duration", "measurement"},
	    {"ms", "duration", "measurement"},
	    {"dBm", "signal_strength", "measurement"},
	};
	*dc = NULL;
	*sc = NULL;
	for (size_t i = 0; unit && i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(map[i].unit, unit)) {
			*dc = map[i].dc;
			*sc = map[i].sc;
			return;
		}
	if (unit) /* a number without a class ("%", "mV"): still a measurement */
		*sc = "measurement";
}

bool blt_profile_reads_block(const blt_profile_t *p, uint16_t id)
{
	for (size_t g = 0; p && g < p->ngroups; g++)
		for (size_t k = 0; k < p->groups[g].nblocks; k++)
			if (p->groups[g].blocks[k] == id)
				return true;
	return false;
}

/* True if register reg reads a "not supported" filler on this profile. */
static bool filler_reg(const blt_profile_t *p, unsigned reg)
{
	for (size_t i = 0; i < p->nfillers; i++)
		if (reg >= p->fillers[i].first && reg <= p->fillers[i].last)
			return true;
	return false;
}

bool blt_profile_has_quantity(const blt_profile_t *p, blt_quantity_t q)
{
	for (size_t g = 0; p && q && g < p->ngroups; g++)
		for (size_t k = 0; k < p->groups[g].nblocks; k++) {
			const blt_block_t *b = blt_catalog_find(p->groups[g].blocks[k]);
			unsigned regs = b ? blt_profile_block_regs(p, b) : 0;
			unsigned reply = b ? blt_profile_block_reply(p, b) : 0;
			if (reply && reply < regs)
				regs = reply;
			for (size_t i = 0; b && i < b->nfields; i++) {
				const blt_field_t *f = &b->fields[i];
				unsigned size =
				    f->size ? f->size : blt_type_size((blt_type_t)f->type);
				unsigned off = f->offset + (f->repeat ? f->repeat->base_add : 0u);
				if (f->ha.quantity != q || off + size > regs * 2u)
					continue;
				if (f->min_pv && p->protocol_version &&
				    p->protocol_version < f->min_pv)
					continue;
				/* the decoder's rule: a filler at the row's first register */
				if (!filler_reg(p, b->id + off / 2u))
					return true;
			}
		}
	return false;
}

void blt_block_prefix(const blt_block_t *b, char *prefix, size_t pcap, char *title, size_t tcap)
{
	if (b->ha.prefix) {
		snprintf(prefix, pcap, "%s", b->ha.prefix);
		snprintf(title, tcap, "%s", b->ha.title ? b->ha.title : b->ha.prefix);
	} else {
		snprintf(prefix, pcap, "b%u", (unsigned)b->id);
		snprintf(title, tcap, "%s", prefix);
	}
}

static bool settings_block(uint16_t id)
{
	for (size_t i = 0; i < blt_setting_count(); i++)
		if (blt_setting_at(i)->block == id)
			return true;
	return false;
}

static bool is_text(const blt_field_t *f)
{
	return f->type == BLT_T_STR || f->type == BLT_T_STR_SWAP || f->type == BLT_T_SN64;
}

void blt_ha_field_info(const blt_profile_t *p, const blt_block_t *b, const blt_field_t *f,
                       blt_ha_info_t *out)
{
	const blt_present_t *h = &f->ha;
	blt_decode_opts_t o;
	memset(out, 0, sizeof *out);
	out->decimals = -1;
	out->enabled = !(f->flags & BLT_F_DETAIL);
	out->sub = b->ha.sub;
	out->diagnostic = (h->flags & BLT_P_DIAG) || (!b->ha.prefix || b->ha.diag);
	if (h->flags & BLT_P_PRIMARY)
		out->diagnostic = false;
	out->icon = h->icon;
	out->published = true;
	if (settings_block(b->id))
		out->why = "setting (shown by its control)";
	else if (f->flags & BLT_F_SECRET)
		out->why = "secret";
	else if (f->flags & BLT_F_BITMAP)
		out->why = (h->flags & BLT_P_ALARM) ? "alarm bits (in alarms)" : "bitmap";
	else if (is_text(f))
		out->why = "text";
	else if (f->enums && f->repeat)
		out->why = "identity";
	else if (h->flags & BLT_P_HIDE)
		out->why = "not shown";
	else if (!f->unit && !f->enums && !(h->flags & BLT_P_COUNTER))
		out->why = "no unit";
	else if (h->same_as && p) {
		char blk[8];
		size_t n = strcspn(h->same_as, ":");
		if (n < sizeof blk) {
			memcpy(blk, h->same_as, n);
			blk[n] = '\0';
			if (blt_profile_reads_block(p, (uint16_t)strtoul(blk, NULL, 10)))
				out->why = h->same_as;
		}
	}
	if (out->why)
		out->published = false;
	if (f->enums) {
		out->device_class = "enum";
		return;
	}
	if (h->flags & BLT_P_COUNTER) {
		out->unit = f->unit;
		out->device_class = h->device_class;
		out->state_class = "total_increasing";
		out->decimals = 0;
		return;
	}
	out->unit = blt_profile_field_unit(p, b->id, f);
	blt_unit_classes(out->unit, &out->device_class, &out->state_class);
	if (!out->state_class)
		out->state_class = "measurement";
	if (h->device_class)
		out->device_class = h->device_class;
	if (h->state_class)
		out->state_class = h->state_class;
	blt_profile_decode_opts(p, &o);
	out->decimals = (int)blt_field_decimals(f, &o);
}

static bool expand(const char *tmpl, bool rep, unsigned index, char *out, size_t cap)
{
	const char *pct = rep ? strstr(tmpl, "%u") : NULL;
	int n = pct ? snprintf(out, cap, "%.*s%u%s", (int)(pct - tmpl), tmpl, index, pct + 2)
	            : snprintf(out, cap, "%s", tmpl);
	return n >= 0 && (size_t)n < cap;
}

static bool key_reserved(const char *key, const char *const *reserved)
{
	const blt_block_t *b = blt_catalog_find(100);
	for (size_t i = 0; b && i < b->nfields; i++)
		if (!strcmp(b->fields[i].name, key))
			return true;
	for (size_t i = 0; reserved && reserved[i]; i++)
		if (!strcmp(reserved[i], key))
			return true;
	return blt_setting_find(key) != NULL;
}

blt_err_t blt_ha_field_key(const blt_block_t *b, const blt_field_t *f, unsigned index,
                           const char *const *reserved, char *key, size_t cap)
{
	char name[BLT_NAME_MAX], prefix[24], title[48];
	size_t pl;
	int n;
	if (!expand(f->name, f->repeat != NULL, index, name, sizeof name))
		return BLT_E_BUFSIZE;
	blt_block_prefix(b, prefix, sizeof prefix, title, sizeof title);
	pl = strlen(prefix);
	if (!pl)
		n = snprintf(key, cap, "%s", name);
	else if (!strncmp(name, prefix, pl) && name[pl] == '_' && !key_reserved(name, reserved))
		n = snprintf(key, cap, "%s", name);
	else
		n = snprintf(key, cap, "%s_%s", prefix, name);
	return n > 0 && (size_t)n < cap ? BLT_OK : BLT_E_BUFSIZE;
}

static bool word_eq(const char *a, size_t an, const char *b, size_t bn)
{
	if (an != bn)
		return false;
	for (size_t i = 0; i < an; i++) {
		char x = a[i], y = b[i];
		x = (char)(x >= 'A' && x <= 'Z' ? x + 32 : x);
		y = (char)(y >= 'A' && y <= 'Z' ? y + 32 : y);
		if (x != y)
			return false;
	}
	return true;
}

/* Length of the longest run of title's last words that begins base ("Battery pack" +
 * "Pack voltage" -> "Pack"): that part of base is left out. */
static size_t overlap(const char *title, const char *base)
{
	size_t tl = strlen(title), best = 0;
	for (size_t s = 0; s < tl; s++) {
		size_t rest;
		if (s && title[s - 1] != ' ')
			continue;
		rest = tl - s;
		if (strlen(base) >= rest && (base[rest] == ' ' || base[rest] == '\0')) {
			bool same = true;
			for (size_t i = 0; i < rest && same; i++) {
				size_t wa = strcspn(title + s + i, " "),
				       wb = strcspn(base + i, " ");
				same = word_eq(title + s + i, wa, base + i, wb);
				i += wa;
			}
			if (same) {
				best = rest;
				break; /* the longest suffix comes first */
			}
		}
	}
	return best;
}

blt_err_t blt_ha_field_name(const blt_block_t *b, const blt_field_t *f, unsigned index, char *out,
                            size_t cap)
{
	char raw[BLT_NAME_MAX + 16], base[96], prefix[24], title[48];
	const char *rest;
	size_t skip;
	int n;
	if (f->ha.label) {
		if (!expand(f->ha.label, f->repeat != NULL, index, base, sizeof base))
			return BLT_E_BUFSIZE;
	} else {
		if (!expand(f->name, f->repeat != NULL, index, raw, sizeof raw))
			return BLT_E_BUFSIZE;
		blt_humanize(raw, base, sizeof base);
	}
	blt_block_prefix(b, prefix, sizeof prefix, title, sizeof title);
	if (b->ha.sub || !title[0]) /* the sub-device's own name is the title */
		title[0] = '\0';
	skip = title[0] ? overlap(title, base) : 0;
	rest = base + skip;
	while (*rest == ' ')
		rest++;
	if (!*rest) /* the whole name is the title ("Grid" + "grid"): keep it */
		rest = base;
	if (!title[0] || rest == base + 0 || !*rest) {
		if (title[0])
			n = snprintf(out, cap, "%s %c%s", title,
			             rest[0] >= 'A' && rest[0] <= 'Z' && rest[1] >= 'a' &&
			                     rest[1] <= 'z'
			                 ? rest[0] + 32
			                 : rest[0],
			             rest + (rest[0] ? 1 : 0));
		else
			n = snprintf(out, cap, "%c%s",
			             rest[0] >= 'a' && rest[0] <= 'z' ? rest[0] - 32 : rest[0],
			             rest + (rest[0] ? 1 : 0));
	} else { /* title + what follows the overlap, as written */
		n = snprintf(out, cap, "%s %s", title, rest);
	}
	return n > 0 && (size_t)n < cap ? BLT_OK : BLT_E_BUFSIZE;
}
