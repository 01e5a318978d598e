/* Device state model: compact per-block value store + summary (see device.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bluetti/bluetti.h>
#include <bluetti/device.h>

typedef struct slot {
	uint16_t block;
	uint64_t time_ms;
	size_t n;
	blt_device_value_t *vals;
} slot_t;

/* One computed energy counter: the integral since blt_device_new, the seed, the last sample. */
typedef struct energy_state {
	double integral; /* kWh */
	double seed;     /* kWh */
	double last_w;
	uint64_t last_ms;
	bool have_last, started, seeded;
} energy_state_t;

struct blt_device {
	const blt_profile_t *profile;
	char model[24];
	char sn[24];
	slot_t *slots;
	size_t nslots;
	size_t total;
	bool grid_seen;     /* grid was present at some update (for the outage flag) */
	double last_freq;   /* last plausible grid frequency (NAN before one) */
	uint64_t grid_time; /* time of the 1300 update the flags below were taken from */
	unsigned freq_zero; /* consecutive 1300 updates with frequency 0 and no voltage */
	blt_device_summary_t sum;
	blt_node_t *nodes; /* from block 21000 */
	size_t nnodes;
	uint16_t energy_mask; /* bit e: the profile has no counter for blt_energy_t e */
	energy_state_t energy[BLT_EN__COUNT];
};

static void nodes_free(blt_node_t *nodes, size_t n);
static int nodes_apply(blt_device_t *dev, const blt_decoded_t *r, blt_detail_t *d);

blt_err_t blt_device_new(const blt_profile_t *profile, const char *model, const char *sn,
                         blt_device_t **out, blt_detail_t *d)
{
	blt_device_t *dev;
	if (!profile || !out)
		return blt_detail_set(d, BLT_E_INVAL, "no profile");
	dev = calloc(1, sizeof *dev);
	if (!dev)
		return blt_detail_set(d, BLT_E_NOMEM, "out of memory");
	dev->profile = profile;
	dev->last_freq = NAN;
	snprintf(dev->model, sizeof dev->model, "%s",
	         model ? model : (profile->model ? profile->model : ""));
	snprintf(dev->sn, sizeof dev->sn, "%s", sn ? sn : "");
	for (size_t i = 0; i < blt_derived_count(); i++) {
		const blt_derived_t *q = blt_derived_at(i);
		if (q->counter && q->energy < BLT_EN__COUNT && blt_derived_offered(profile, q))
			dev->energy_mask |= (uint16_t)(1u << q->energy);
	}
	*out = dev;
	blt_device_update(dev, NULL, 0, NULL); /* initialise the summary */
	return BLT_OK;
}

void blt_device_free(blt_device_t *dev)
{
	if (!dev)
		return;
	for (size_t i = 0; i < dev->nslots; i++)
		free(dev->slots[i].vals);
	free(dev->slots);
	nodes_free(dev->nodes, dev->nnodes);
	free(dev);
}

const blt_profile_t *blt_device_profile(const blt_device_t *dev)
{
	return dev->profile;
}

static slot_t *find_slot(const blt_device_t *dev, uint16_t block)
{
	for (size_t i = 0; i < dev->nslots; i++)
		if (dev->slots[i].block == block)
			return &dev->slots[i];
	return NULL;
}

int blt_device_value_name(const blt_device_value_t *v, char *buf, size_t cap)
{
	const char *t = v->field->name;
	const char *pct = v->field->repeat ? strstr(t, "%u") : NULL;
	int n;
	if (pct)
		n = snprintf(buf, cap, "%.*s%u%s", (int)(pct - t), t, v->index, pct + 2);
	else
		n = snprintf(buf, cap, "%s", t);
	return (n < 0 || (size_t)n >= cap) ? BLT_E_BUFSIZE : BLT_OK;
}

const blt_device_value_t *blt_device_find(const blt_device_t *dev, uint16_t block, const char *name)
{
	const slot_t *s = find_slot(dev, block);
	const char *now = blt_catalog_field_alias(name);
	char buf[BLT_NAME_MAX];
	for (size_t i = 0; s && i < s->n; i++)
		if (blt_device_value_name(&s->vals[i], buf, sizeof buf) == BLT_OK &&
		    (!strcmp(buf, name) || (now && !strcmp(buf, now))))
			return &s->vals[i];
	return NULL;
}

static void collect_alarms(const blt_device_t *dev, blt_device_summary_t *s)
{
	s->nalarms = 0;
	for (size_t k = 0; k < dev->nslots; k++) {
		const slot_t *sl = &dev->slots[k];
		for (size_t i = 0; i < sl->n; i++) {
			const blt_device_value_t *v = &sl->vals[i];
			const blt_field_t *f = v->field;
			uint64_t bits;
			if (!(f->flags & BLT_F_BITMAP) || !f->bits || v->status != BLT_VS_OK)
				continue;
			if (!(f->ha.flags & BLT_P_ALARM))
				continue;
			bits = (uint64_t)v->num;
			for (const blt_bit_name_t *b = f->bits; b->name; b++)
				if (b->bit < 64 && (bits >> b->bit & 1) &&
				    s->nalarms < sizeof s->alarms / sizeof s->alarms[0])
					s->alarms[s->nalarms++] = b->name;
		}
	}
}

/* The values of the rows tagged with a quantity (blt_present_t.quantity), per repetition
 * index: where several rows carry one quantity, the known value of the lowest block id. */
#define QMAX 48
typedef struct qtab {
	double v[BLT_Q__COUNT][QMAX];
	uint16_t blk[BLT_Q__COUNT][QMAX];
} qtab_t;

static void qtab_fill(const blt_device_t *dev, qtab_t *t)
{
	for (size_t q = 0; q < BLT_Q__COUNT; q++)
		for (size_t i = 0; i < QMAX; i++)
			t->v[q][i] = NAN;
	for (size_t k = 0; k < dev->nslots; k++) {
		const slot_t *sl = &dev->slots[k];
		for (size_t i = 0; i < sl->n; i++) {
			const blt_device_value_t *v = &sl->vals[i];
			unsigned q = v->field->ha.quantity;
			if (!q || q >= BLT_Q__COUNT || v->index >= QMAX || v->status != BLT_VS_OK)
				continue;
			if (isnan(t->v[q][v->index]) || v->block < t->blk[q][v->index]) {
				t->v[q][v->index] = v->num;
				t->blk[q][v->index] = v->block;
			}
		}
	}
}

static double qv(const qtab_t *t, blt_quantity_t q, unsigned i)
{
	return i < QMAX ? t->v[q][i] : NAN;
}

/* Read time of the block a quantity's value came from; 0 if not known. */
static uint64_t quantity_time(const blt_device_t *dev, const qtab_t *t, unsigned q)
{
	if (!q || q >= BLT_Q__COUNT || isnan(t->v[q][0]))
		return 0;
	return blt_device_block_time(dev, t->blk[q][0]);
}

/* Trapezoid integration of the computed energy counters: one sample per read of the
 * power's block (a recompute without a new read of it updates the sample's value only);
 * an unknown power or a gap longer than BLT_ENERGY_GAP_MS ends the run of samples. */
static void integrate(blt_device_t *dev, const qtab_t *t)
{
	blt_device_summary_t *s = &dev->sum;
	s->energy_computed = dev->energy_mask;
	for (size_t e = 0; e < BLT_EN__COUNT; e++)
		s->energy[e] = NAN;
	for (size_t i = 0; i < blt_derived_count(); i++) {
		const blt_derived_t *q = blt_derived_at(i);
		energy_state_t *st;
		uint64_t when = 0;
		double w;
		if (!q->counter || q->energy >= BLT_EN__COUNT || !q->power ||
		    !((dev->energy_mask >> q->energy) & 1u))
			continue;
		st = &dev->energy[q->energy];
		w = q->power(s);
		for (size_t k = 0; k < 2 && !when; k++)
			when = quantity_time(dev, t, q->power_time[k]);
		if (isnan(w) || !when) {
			st->have_last = false;
		} else if (st->have_last && when == st->last_ms) {
			st->last_w = w; /* the same read, seen again after another block's */
		} else {
			if (st->have_last && when > st->last_ms &&
			    when - st->last_ms <= BLT_ENERGY_GAP_MS)
				st->integral +=
				    (st->last_w + w) / 2.0 * (double)(when - st->last_ms) / 3.6e9;
			st->last_w = w;
			st->last_ms = when;
			st->have_last = st->started = true;
		}
		if (st->started || st->seeded)
			s->energy[q->energy] = st->seed + st->integral;
	}
}

/* The Elite 200 V2 alternates 500 and 0 at 1300 between reads with the grid present
 * (nlimper): a 0 with a plausible phase voltage is not a reading, and a 0 without a
 * voltage counts as "no grid" only on the second update in a row. */
static void filter_grid_frequency(blt_device_t *dev, const qtab_t *t, blt_device_summary_t *s)
{
	const slot_t *gs = find_slot(dev, 1300);
	double v0 = qv(t, BLT_Q_GRID_PHASE_VOLTAGE, 0);
	bool fresh = gs && gs->time_ms != dev->grid_time;
	if (gs)
		dev->grid_time = gs->time_ms;
	if (!isnan(s->grid_frequency) && s->grid_frequency >= 40 && s->grid_frequency <= 70) {
		dev->last_freq = s->grid_frequency;
		dev->freq_zero = 0;
	} else if (!isnan(s->grid_frequency) && s->grid_frequency == 0) {
		if (!isnan(v0) && v0 >= 80)
			s->grid_frequency = dev->last_freq; /* unknown, not 0 */
		else if (fresh)
			dev->freq_zero++;
	}
}

/* Net grid power, positive for import. Block 1300's sign is a profile fact (firmware:
 * negative = grid -> device; the Elite 200 V2 shows import positive). 1301 reads 0 on
 * units that fill only the phase records (nlimper: 1313 ~ 250 with 1301 0), so the
 * phase sum stands in for a zero total. Block 100's 146 is import-positive. */
static double net_grid_power(const blt_device_t *dev, const qtab_t *t, double grid_power)
{
	double g = grid_power, sum = NAN;
	double pc = qv(t, BLT_Q_GRID_PHASE_COUNT, 0);
	for (unsigned i = 0; !isnan(pc) && i < (unsigned)pc && i < 3; i++) {
		double p = qv(t, BLT_Q_GRID_PHASE_POWER, i);
		if (!isnan(p))
			sum = isnan(sum) ? p : sum + p;
	}
	if ((isnan(g) || g == 0) && !isnan(sum) && sum != 0)
		g = sum;
	return isnan(g) ? qv(t, BLT_Q_GRID_POWER_IMPORT, 0)
	                : g * blt_profile_grid_import_sign(dev->profile);
}

/* Cell voltages with their minimum, maximum and spread; the temperature sensors. */
static void cells_and_temps(const qtab_t *t, blt_device_summary_t *s)
{
	double cc = qv(t, BLT_Q_CELL_COUNT, 0);
	s->cell_min = s->cell_max = s->cell_delta = NAN;
	if (!isnan(cc)) {
		unsigned n = cc > 32 ? 32 : (unsigned)cc;
		s->cell_count = n;
		for (unsigned i = 0; i < n; i++) {
			s->cell_voltage[i] = qv(t, BLT_Q_CELL_VOLTAGE, i);
			if (isnan(s->cell_voltage[i]))
				continue;
			if (isnan(s->cell_min) || s->cell_voltage[i] < s->cell_min)
				s->cell_min = s->cell_voltage[i];
			if (isnan(s->cell_max) || s->cell_voltage[i] > s->cell_max)
				s->cell_max = s->cell_voltage[i];
		}
		s->cell_delta = s->cell_max - s->cell_min;
	}
	double tc = qv(t, BLT_Q_TEMP_COUNT, 0);
	if (!isnan(tc)) {
		unsigned n = tc > 8 ? 8 : (unsigned)tc;
		s->temp_count = n;
		for (unsigned j = 0; j < n; j++)
			s->temp[j] = qv(t, BLT_Q_TEMP, j);
	}
}

/* Grid present, on battery, outage: from the voltage, else the (filtered) frequency. */
static void grid_state(blt_device_t *dev, blt_device_summary_t *s)
{
	s->have_grid = find_slot(dev, 1300) != NULL;
	s->have_core = find_slot(dev, 100) != NULL;
	if (!isnan(s->grid_voltage) && s->grid_voltage >= 80)
		s->grid_present = true; /* a voltage is the better witness */
	else if (!isnan(s->grid_voltage))
		s->grid_present = false;
	else
		s->grid_present = (!isnan(s->grid_frequency) && s->grid_frequency >= 40 &&
		                   s->grid_frequency <= 70) ||
		                  (dev->freq_zero == 1 && dev->grid_seen);
	if (s->grid_present)
		dev->grid_seen = true;
	bool discharging = !isnan(s->pack_current) && s->pack_current < 0;
	s->on_battery = s->have_grid && !s->grid_present && discharging;
	s->grid_outage = s->have_grid && !s->grid_present && dev->grid_seen;
}

static void recompute(blt_device_t *dev)
{
	blt_device_summary_t *s = &dev->sum;
	const blt_device_summary_t prev = *s;
	static _Thread_local qtab_t qt; /* 14 KB: not on the stack */
	const qtab_t *t = &qt;

	qtab_fill(dev, &qt);
	memset(s, 0, sizeof *s);
	snprintf(s->model, sizeof s->model, "%s", prev.model[0] ? prev.model : dev->model);
	snprintf(s->serial, sizeof s->serial, "%s", prev.serial[0] ? prev.serial : dev->sn);

	s->grid_frequency = qv(t, BLT_Q_GRID_FREQUENCY, 0);
	filter_grid_frequency(dev, t, s);
	s->grid_voltage = qv(t, BLT_Q_GRID_PHASE_VOLTAGE, 0);
	s->grid_current = qv(t, BLT_Q_GRID_PHASE_CURRENT, 0);
	s->grid_power = qv(t, BLT_Q_GRID_POWER, 0);
	s->grid_import_energy = qv(t, BLT_Q_GRID_IMPORT_ENERGY, 0);
	s->grid_export_energy = qv(t, BLT_Q_GRID_EXPORT_ENERGY, 0);

	/* block 100 before 6000 before 6100 (one pack's record: all a pack node has) */
	s->soc = qv(t, BLT_Q_SOC, 0);
	s->soh = qv(t, BLT_Q_SOH, 0);
	s->pack_voltage = qv(t, BLT_Q_PACK_VOLTAGE, 0);
	s->pack_current = qv(t, BLT_Q_PACK_CURRENT, 0);
	s->battery_power = s->pack_voltage * s->pack_current;
	s->pack_temp_avg = qv(t, BLT_Q_PACK_TEMP_AVG, 0);
	s->time_to_full = qv(t, BLT_Q_TIME_TO_FULL, 0);
	s->time_to_empty = qv(t, BLT_Q_TIME_TO_EMPTY, 0);
	s->battery_charge_energy = qv(t, BLT_Q_BATTERY_CHARGE_ENERGY, 0);
	s->battery_discharge_energy = qv(t, BLT_Q_BATTERY_DISCHARGE_ENERGY, 0);

	s->ac_load_power = qv(t, BLT_Q_AC_LOAD_POWER, 0);
	s->dc_load_power = qv(t, BLT_Q_DC_LOAD_POWER, 0);
	s->pv_power = qv(t, BLT_Q_PV_POWER, 0);
	s->inverter_power = qv(t, BLT_Q_INVERTER_POWER, 0);
	s->net_grid_power = net_grid_power(dev, t, s->grid_power);
	cells_and_temps(t, s);

	s->protocol_version = dev->profile->protocol_version;
	if (!s->protocol_version) {
		double pv = qv(t, BLT_Q_PROTOCOL_VERSION, 0);
		if (!isnan(pv) && pv > 0 && pv < 65536)
			s->protocol_version = (uint16_t)pv;
	}
	grid_state(dev, s);
	collect_alarms(dev, s);
	integrate(dev, t);
}

blt_err_t blt_device_update(blt_device_t *dev, const blt_decoded_t *r, uint64_t now_ms,
                            blt_detail_t *d)
{
	if (!dev)
		return blt_detail_set(d, BLT_E_INVAL, "no device");
	if (r && r->block && r->block->id == BLT_NODE_INFO_BLOCK) {
		int rc = nodes_apply(dev, r, d);
		if (rc != BLT_OK)
			return rc;
	}
	if (r && r->block) {
		slot_t *s = find_slot(dev, r->block->id);
		blt_device_value_t *vals = NULL;
		if (r->count) {
			vals = malloc(r->count * sizeof *vals);
			if (!vals)
				return blt_detail_set(d, BLT_E_NOMEM, "out of memory");
		}
		if (!s) {
			slot_t *ns = realloc(dev->slots, (dev->nslots + 1) * sizeof *ns);
			if (!ns) {
				free(vals);
				return blt_detail_set(d, BLT_E_NOMEM, "out of memory");
			}
			dev->slots = ns;
			s = &dev->slots[dev->nslots++];
			memset(s, 0, sizeof *s);
			s->block = r->block->id;
		}
		dev->total -= s->n;
		free(s->vals);
		s->vals = vals;
		s->n = r->count;
		s->time_ms = now_ms;
		dev->total += s->n;
		for (size_t i = 0; i < r->count; i++) {
			const blt_value_t *v = &r->values[i];
			vals[i].field = v->field;
			vals[i].block = r->block->id;
			vals[i].index = v->index;
			vals[i].status = v->status;
			vals[i].num = v->num;
			/* Identity strings go to the summary. */
			if (v->status == BLT_VS_OK && v->kind == BLT_VK_STR && v->str[0]) {
				if (v->field->ha.quantity == BLT_Q_MODEL)
					snprintf(dev->sum.model, sizeof dev->sum.model, "%.23s",
					         v->str);
				else if (v->field->ha.quantity == BLT_Q_SERIAL)
					snprintf(dev->sum.serial, sizeof dev->sum.serial, "%.23s",
					         v->str);
			}
		}
	}
	recompute(dev);
	return BLT_OK;
}

const blt_device_summary_t *blt_device_summary(const blt_device_t *dev)
{
	return &dev->sum;
}

blt_err_t blt_device_energy_seed(blt_device_t *dev, const char *key, double kwh, blt_detail_t *d)
{
	const blt_derived_t *q = blt_derived_find(key);
	energy_state_t *st;
	if (!dev || !key)
		return blt_detail_set(d, BLT_E_INVAL, "no device or key");
	if (!q || !q->counter || q->energy >= BLT_EN__COUNT ||
	    !((dev->energy_mask >> q->energy) & 1u))
		return blt_detail_set(d, BLT_E_NOT_FOUND,
		                      "%s is not a computed energy counter of %s", key,
		                      dev->profile->id);
	if (!isfinite(kwh) || kwh < 0)
		return blt_detail_set(d, BLT_E_RANGE, "%s seed %g kWh: not a counter value", key,
		                      kwh);
	st = &dev->energy[q->energy];
	if (!st->seeded || kwh > st->seed) /* never back */
		st->seed = kwh;
	st->seeded = true;
	dev->sum.energy[q->energy] = st->seed + st->integral;
	return BLT_OK;
}

void blt_device_decode_opts(const blt_device_t *dev, blt_decode_opts_t *out)
{
	blt_profile_decode_opts(dev->profile, out);
	if (!out->protocol_version)
		out->protocol_version = dev->sum.protocol_version;
}

uint64_t blt_device_block_time(const blt_device_t *dev, uint16_t block)
{
	const slot_t *s = find_slot(dev, block);
	return s ? s->time_ms : 0;
}

size_t blt_device_value_count(const blt_device_t *dev)
{
	return dev->total;
}

const blt_device_value_t *blt_device_value_at(const blt_device_t *dev, size_t i)
{
	for (size_t k = 0; k < dev->nslots; k++) {
		if (i < dev->slots[k].n)
			return &dev->slots[k].vals[i];
		i -= dev->slots[k].n;
	}
	return NULL;
}

/* --- nodes ---------------------------------------------------------------------------- */

static void nodes_free(blt_node_t *nodes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		blt_device_free(nodes[i].state);
	free(nodes);
}

static bool node_num(const blt_decoded_t *r, unsigned i, const char *what, double *out)
{
	char name[BLT_NAME_MAX];
	snprintf(name, sizeof name, "node_%u_%s", i, what);
	return blt_decoded_num(r, name, out);
}

/* Rebuild the node list from a decoded block 21000. A truncated reply (records missing)
 * does not replace a known list, so no node is lost to a short answer; the first list may
 * come from one (its complete records only). */
static int nodes_apply(blt_device_t *dev, const blt_decoded_t *r, blt_detail_t *d)
{
	double cnt = 0;
	blt_node_t *nn = NULL;
	size_t n = 0;

	if (r->missing && dev->nnodes)
		return BLT_OK;

	if (blt_decoded_num(r, "node_count", &cnt) && cnt > 0) {
		nn = calloc((size_t)cnt, sizeof *nn);
		if (!nn)
			return blt_detail_set(d, BLT_E_NOMEM, "out of memory");
	}
	for (unsigned i = 0; nn && i < (unsigned)cnt; i++) {
		double slave, model, status = 0, v;
		char name[BLT_NAME_MAX];
		const blt_value_t *sn;
		blt_node_t *x = &nn[n];
		if (!node_num(r, i, "slave", &slave) || !node_num(r, i, "model", &model))
			continue;
		node_num(r, i, "status", &status);
		x->slave = (uint8_t)slave;
		x->model_code = (uint16_t)model;
		x->status = (uint16_t)status;
		x->group = node_num(r, i, "group", &v) ? (uint8_t)v : 0;
		x->slave_group = node_num(r, i, "slave_group", &v) ? (uint8_t)v : 0;
		x->parent = node_num(r, i, "parent", &v) ? (uint8_t)v : 0;
		x->kind = (uint8_t)blt_node_kind(x->model_code);
		if (blt_node_model_name(x->model_code))
			snprintf(x->model, sizeof x->model, "%s",
			         blt_node_model_name(x->model_code));
		else
			snprintf(x->model, sizeof x->model, "model %u", x->model_code);
		snprintf(name, sizeof name, "node_%u_serial", i);
		sn = blt_decoded_get(r, name);
		if (sn && sn->status == BLT_VS_OK)
			snprintf(x->serial, sizeof x->serial, "%.23s", sn->str);
		/* a slave address names one node: a repeated one is not a second node */
		bool dup = false;
		for (size_t k = 0; k < n; k++)
			dup = dup || nn[k].slave == x->slave;
		if (dup)
			continue;
		n++;
	}
	/* keep the state of a node that is still there (same slave, same serial) */
	for (size_t k = 0; k < n; k++) {
		blt_node_t *x = &nn[k];
		if (x->kind == BLT_NODE_POWER_STATION)
			continue;
		for (size_t j = 0; j < dev->nnodes; j++) {
			blt_node_t *o = &dev->nodes[j];
			if (o->state && o->slave == x->slave && !strcmp(o->serial, x->serial) &&
			    o->model_code == x->model_code) {
				x->state = o->state;
				o->state = NULL;
				break;
			}
		}
		if (!x->state) {
			int rc = blt_device_new(dev->profile, x->model, x->serial, &x->state, d);
			if (rc != BLT_OK) {
				nodes_free(nn, n);
				return rc;
			}
		}
	}
	nodes_free(dev->nodes, dev->nnodes);
	dev->nodes = nn;
	dev->nnodes = n;
	return BLT_OK;
}

size_t blt_device_node_count(const blt_device_t *dev)
{
	return dev ? dev->nnodes : 0;
}

const blt_node_t *blt_device_node_at(const blt_device_t *dev, size_t i)
{
	return dev && i < dev->nnodes ? &dev->nodes[i] : NULL;
}

const blt_node_t *blt_device_node_find(const blt_device_t *dev, uint8_t slave)
{
	for (size_t i = 0; dev && i < dev->nnodes; i++)
		if (dev->nodes[i].slave == slave)
			return &dev->nodes[i];
	return NULL;
}

blt_err_t blt_device_update_node(blt_device_t *dev, uint8_t slave, const blt_decoded_t *r,
                                 uint64_t now_ms, blt_detail_t *d)
{
	const blt_node_t *x = blt_device_node_find(dev, slave);
	if (!x)
		return blt_detail_set(d, BLT_E_NOT_FOUND, "no node at slave %u", slave);
	if (!x->state)
		return blt_detail_set(d, BLT_E_INVAL,
		                      "node at slave %u is the power station itself", slave);
	if (r && r->block && r->block->id == BLT_NODE_INFO_BLOCK)
		return blt_detail_set(d, BLT_E_INVAL, "a node has no nodes of its own");
	return blt_device_update(x->state, r, now_ms, d);
}
