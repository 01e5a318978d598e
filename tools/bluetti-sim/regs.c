/* Register memory of a simulated device: regions per block, access by register number and
 * by catalog field name (through the library's encoder). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <bluetti/settings.h>

#include "sim.h"

double sim_rand(uint32_t *s)
{
	uint32_t x = *s ? *s : 0x9e3779b9u;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return (double)(x >> 8) / (double)(1u << 24);
}

static unsigned field_end_regs(const blt_block_t *b)
{
	unsigned end = 0;
	for (size_t i = 0; i < b->nfields; i++) {
		const blt_field_t *f = &b->fields[i];
		unsigned sz = f->size ? f->size : blt_type_size((blt_type_t)f->type);
		unsigned e = f->offset + sz;
		if (f->repeat && !f->repeat->base_field && f->repeat->max)
			e += (unsigned)f->repeat->stride * (f->repeat->max - 1u);
		if (e > end)
			end = e;
	}
	return (end + 1) / 2;
}

/* Registers a region for block id implements. */
static unsigned block_extent(const sim_device_t *dev, uint16_t id, const blt_block_t *b)
{
	unsigned n = 0;
	/* cell count, NTC count, cells, two NTC bytes per register, two reserved registers:
	 * 22 registers for 16 cells and 4 NTC like the live AP300 read (§7.1) */
	if (id == 6300)
		return 2 + dev->ncells + (dev->nntc + 1) / 2 + 2;
	if (b) {
		n = b->extent; /* the firmware's extent (catalog data), else the rows' */
		if (b->regs > n)
			n = b->regs;
		if (field_end_regs(b) > n)
			n = field_end_regs(b);
	}
	return n;
}

/* A block is writable when the settings table has a setting in it (2000, 2200, 7000, the
 * LAN switches of 13742). */
static bool block_has_settings(uint16_t id)
{
	for (size_t i = 0; i < blt_setting_count(); i++)
		if (blt_setting_at(i)->block == id)
			return true;
	return false;
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* Lay out the regions: ids sorted, each clamped so it does not overlap the next. */
int sim_regions_build(sim_device_t *dev, const uint16_t *ids_in, size_t nids, blt_detail_t *d)
{
	uint16_t ids[SIM_MAX_REGIONS];
	size_t n = 0;

	for (size_t i = 0; i < nids && n < SIM_MAX_REGIONS; i++) {
		bool dup = false;
		for (size_t j = 0; j < n; j++)
			dup = dup || ids[j] == ids_in[i];
		if (!dup)
			ids[n++] = ids_in[i];
	}
	qsort(ids, n, sizeof ids[0], cmp_u16);
	dev->nregions = 0;
	dev->arena_used = 0;
	for (size_t i = 0; i < n; i++) {
		const blt_block_t *b = blt_catalog_find(ids[i]);
		unsigned count = block_extent(dev, ids[i], b);
		sim_region_t *r;
		if (count == 0) {
			blt_log(BLT_LOG_WARN,
			        "block %u is neither in the catalog nor known: skipped", ids[i]);
			continue;
		}
		if (i + 1 < n && ids[i] + count > ids[i + 1])
			count = ids[i + 1] - ids[i];
		if ((unsigned long)ids[i] + count > 65536ul)
			count = 65536u - ids[i];
		if (dev->arena_used + 2u * count > SIM_MEM_BYTES)
			return blt_detail_set(d, BLT_E_NOMEM,
			                      "register memory full at block %u (%u registers)",
			                      ids[i], count);
		r = &dev->regions[dev->nregions++];
		r->start = ids[i];
		r->count = (uint16_t)count;
		r->block = b;
		r->writable = block_has_settings(ids[i]);
		r->bytes = dev->arena + dev->arena_used;
		memset(r->bytes, 0, 2u * count);
		dev->arena_used += 2u * count;
	}
	return BLT_OK;
}

sim_region_t *sim_find_region(sim_device_t *dev, uint16_t reg)
{
	for (size_t i = 0; i < dev->nregions; i++) {
		sim_region_t *r = &dev->regions[i];
		if (reg >= r->start && (unsigned)reg < (unsigned)r->start + r->count)
			return r;
	}
	return NULL;
}

int sim_reg_get(const sim_device_t *dev, uint16_t reg, uint16_t *val)
{
	for (size_t i = 0; i < dev->nregions; i++) {
		const sim_region_t *r = &dev->regions[i];
		if (reg >= r->start && (unsigned)reg < (unsigned)r->start + r->count) {
			const uint8_t *p = r->bytes + 2u * (reg - r->start);
			*val = (uint16_t)(p[0] << 8 | p[1]);
			return BLT_OK;
		}
	}
	return BLT_E_NOT_FOUND;
}

int sim_reg_set(sim_device_t *dev, uint16_t reg, uint16_t val)
{
	sim_region_t *r = sim_find_region(dev, reg);
	uint8_t *p;
	if (!r)
		return BLT_E_NOT_FOUND;
	p = r->bytes + 2u * (reg - r->start);
	p[0] = (uint8_t)(val >> 8);
	p[1] = (uint8_t)val;
	return BLT_OK;
}

/* A write as the firmware applies it: registers of 2-bit switches (13742, 13744: settings
 * of kind BLT_SK_SWITCH2) change only the fields written non-zero (0 = leave unchanged,
 * LOCAL.md §1.2, §2.2); every other register takes the value. */
int sim_reg_write(sim_device_t *dev, uint16_t reg, uint16_t val)
{
	const blt_setting_t *s = blt_setting_by_register(reg);
	uint16_t cur = 0;

	if (s && s->kind == BLT_SK_SWITCH2 && sim_reg_get(dev, reg, &cur) == BLT_OK) {
		for (unsigned sh = 0; sh < 16; sh += 2)
			if ((val >> sh) & 3u)
				cur = (uint16_t)((cur & ~(3u << sh)) | (val & (3u << sh)));
		val = cur;
	}
	return sim_reg_set(dev, reg, val);
}

/* Does row template tmpl ("phase_%u_power") expand to name? Sets *idx. */
static bool name_matches(const char *tmpl, const char *name, unsigned *idx)
{
	const char *pct = strstr(tmpl, "%u");
	const char *p;
	size_t pre;
	unsigned v = 0;

	if (!pct) {
		*idx = 0;
		return strcmp(tmpl, name) == 0;
	}
	pre = (size_t)(pct - tmpl);
	if (strncmp(tmpl, name, pre) != 0)
		return false;
	p = name + pre;
	if (!isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p)) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > 1000)
			return false;
		p++;
	}
	if (strcmp(p, pct + 2) != 0)
		return false;
	*idx = v;
	return true;
}

static sim_region_t *block_region(sim_device_t *dev, uint16_t block)
{
	for (size_t i = 0; i < dev->nregions; i++)
		if (dev->regions[i].start == block && dev->regions[i].block)
			return &dev->regions[i];
	return NULL;
}

static const blt_field_t *find_field(const blt_block_t *b, const char *name, unsigned *idx)
{
	for (size_t i = 0; i < b->nfields; i++) {
		const blt_field_t *f = &b->fields[i];
		if (!name_matches(f->name, name, idx))
			continue;
		if (f->repeat && *idx >= f->repeat->max)
			return NULL;
		if (!f->repeat && strstr(f->name, "%u"))
			return NULL;
		return f;
	}
	return NULL;
}

static void note_missing(sim_device_t *dev, uint16_t block, const char *name, int rc)
{
	if (!dev->warned)
		blt_log(BLT_LOG_DEBUG, "sim: block %u field %s not set: %s", block, name,
		        blt_strerror(rc));
}

int sim_set_num(sim_device_t *dev, uint16_t block, const char *name, double v)
{
	sim_region_t *r = block_region(dev, block);
	const blt_field_t *f;
	unsigned idx = 0;
	int rc;

	if (!r)
		return BLT_E_NOT_FOUND;
	f = find_field(r->block, name, &idx);
	if (!f) {
		note_missing(dev, block, name, BLT_E_NOT_FOUND);
		return BLT_E_NOT_FOUND;
	}
	rc = blt_encode_num(r->block, f, idx, v, &dev->dopts, r->bytes, 2u * r->count);
	if (rc)
		note_missing(dev, block, name, rc);
	return rc;
}

int sim_set_str(sim_device_t *dev, uint16_t block, const char *name, const char *s)
{
	sim_region_t *r = block_region(dev, block);
	const blt_field_t *f;
	unsigned idx = 0;
	int rc;

	if (!r)
		return BLT_E_NOT_FOUND;
	f = find_field(r->block, name, &idx);
	if (!f) {
		note_missing(dev, block, name, BLT_E_NOT_FOUND);
		return BLT_E_NOT_FOUND;
	}
	rc = blt_encode_str(r->block, f, idx, s, r->bytes, 2u * r->count);
	if (rc)
		note_missing(dev, block, name, rc);
	return rc;
}
