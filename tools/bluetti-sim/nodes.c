/* Nodes of a simulated V2 system (--packs N, --hub): the NODE_INFO list (block 21000, in
 * the power station's memory, encoded with the catalog rows) and the expansion packs and
 * hub at their own slave addresses, each a device with its own register memory.
 *
 * Layout as in the real AP300 capture (battery-ha, PROTOCOL.md §1.6): the power station
 * first (its own slave, group 0), a D1 hub at slave 11 (group 11), B300 packs at slaves
 * 51, 52, ... (group 32). A pack answers 6100 and 6300 at its slave, like the B300 that
 * battery-ha reads at slave 51; the hub answers no reads (exception 02: nothing is known of
 * what a real hub answers). The query is FC10 of 1 to 21000; the answer is an FC10-shaped
 * frame at 21000 carrying the list. An FC03 read of 21000 is exception 02 here, so a
 * client that does not send the query notices.
 *
 * Packs: B300, 3072 Wh, 16S LiFePO4. They sit in parallel with the unit's own pack and
 * take the battery power in proportion to their capacity (model.c), so P = V x I holds per
 * pack and the cell voltages sum to the pack voltage. Each starts a few % apart from the
 * unit so the packs are told apart. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define HUB_SLAVE   11
#define PACK_SLAVE0 51
#define PACK_GROUP  32
#define B300_CODE   4005
#define D1_HUB_CODE 3007
#define B300_WH     3072.0
#define B300_CELLS  16

static int node_new(sim_device_t *dev, uint8_t slave, uint8_t group, uint16_t code, uint64_t sn,
                    sim_device_t **out, blt_detail_t *d)
{
	sim_device_t *n = calloc(1, sizeof *n);
	if (!n)
		return blt_detail_set(d, BLT_E_NOMEM, "out of memory for a node");
	n->opts = dev->opts;
	n->profile = dev->profile;
	n->dopts = dev->dopts;
	n->slave = slave;
	n->envelope = dev->envelope;
	n->sn_num = sn;
	snprintf(n->sn, sizeof n->sn, "%llu", (unsigned long long)sn);
	snprintf(n->model, sizeof n->model, "%s",
	         blt_node_model_name(code) ? blt_node_model_name(code) : "node");
	n->node_model = code;
	n->node_group = group;
	n->rng = dev->rng ^ (uint32_t)(slave * 2654435761u);
	dev->nodes[dev->nnodes++] = n;
	*out = n;
	return BLT_OK;
}

double sim_nodes_capacity(const sim_device_t *dev)
{
	double wh = 0;
	for (size_t i = 0; i < dev->nnodes; i++)
		wh += dev->nodes[i]->capacity_wh;
	return wh;
}

sim_device_t *sim_node_find(sim_device_t *dev, uint8_t slave)
{
	for (size_t i = 0; i < dev->nnodes; i++)
		if (dev->nodes[i]->slave == slave)
			return dev->nodes[i];
	return NULL;
}

static void put_node_info(sim_device_t *dev)
{
	const blt_block_t *b = blt_catalog_find(BLT_NODE_INFO_BLOCK);
	sim_region_t *r = sim_find_region(dev, BLT_NODE_INFO_BLOCK);
	char name[BLT_NAME_MAX];
	if (!b || !r)
		return;
	sim_set_num(dev, BLT_NODE_INFO_BLOCK, "version", 1);
	sim_set_num(dev, BLT_NODE_INFO_BLOCK, "node_count", (double)(1 + dev->nnodes));
	for (size_t i = 0; i <= dev->nnodes; i++) {
		const sim_device_t *n = i == 0 ? dev : dev->nodes[i - 1];
#define SETN(what, v)                                                                              \
	do {                                                                                       \
		snprintf(name, sizeof name, "node_%zu_" what, i);                                  \
		sim_set_num(dev, BLT_NODE_INFO_BLOCK, name, (v));                                  \
	} while (0)
		SETN("group", n->node_group);
		SETN("slave", n->slave);
		SETN("slave_group", n->node_group);
		SETN("parent", 0);
		SETN("status", 1); /* mesh online */
		SETN("model", n->node_model);
#undef SETN
		snprintf(name, sizeof name, "node_%zu_serial", i);
		sim_set_str(dev, BLT_NODE_INFO_BLOCK, name, n->sn);
	}
}

int sim_nodes_init(sim_device_t *dev, blt_detail_t *d)
{
	const sim_opts_t *o = dev->opts;
	sim_device_t *n;
	int rc;

	dev->nnodes = 0;
	dev->node_model = dev->profile->type_id ? (uint16_t)atoi(dev->profile->type_id) : 0;
	if (!o || (!o->packs && !o->hub))
		return BLT_OK;
	if (o->packs > SIM_MAX_PACKS)
		return blt_detail_set(d, BLT_E_RANGE, "at most %d packs", SIM_MAX_PACKS);
	if (o->hub) {
		rc = node_new(dev, HUB_SLAVE, HUB_SLAVE, D1_HUB_CODE, dev->sn_num + 11, &n, d);
		if (rc)
			goto fail;
	}
	for (unsigned i = 0; i < o->packs; i++) {
		static const uint16_t ids[] = {6100, 6300};
		rc = node_new(dev, (uint8_t)(PACK_SLAVE0 + i), PACK_GROUP, B300_CODE,
		              dev->sn_num + 51 + i, &n, d);
		if (rc)
			goto fail;
		n->capacity_wh = B300_WH;
		n->ncells = B300_CELLS;
		n->nntc = 4;
		rc = sim_regions_build(n, ids, 2, d);
		if (rc)
			goto fail;
		n->st.soc = fmin(100, fmax(5, dev->st.soc + (i % 2 ? 3.0 : -4.0) * (1 + i / 2)));
		n->st.temp_c = dev->st.temp_c - 1;
		n->st.e_pack_chg_wh = 20000 + 1000.0 * i;
		n->st.e_pack_dis_wh = 18000 + 900.0 * i;
		sim_set_str(n, 6100, "pack_model", n->model);
		sim_set_str(n, 6100, "pack_serial", n->sn);
	}
	put_node_info(dev);
	return BLT_OK;
fail:
	sim_nodes_free(dev);
	return rc;
}

void sim_nodes_free(sim_device_t *dev)
{
	for (size_t i = 0; i < dev->nnodes; i++)
		free(dev->nodes[i]);
	dev->nnodes = 0;
}

void sim_nodes_tick(sim_device_t *dev, double sdt, double cap_total)
{
	const sim_state_t *u = &dev->st;
	double h = sdt / 3600.0;
	for (size_t i = 0; i < dev->nnodes; i++) {
		sim_device_t *n = dev->nodes[i];
		sim_state_t *s = &n->st;
		if (n->capacity_wh <= 0)
			continue;
		s->pack_w = u->pack_w * n->capacity_wh / cap_total;
		s->own_w = s->pack_w;
		s->soc = fmin(100, fmax(0, s->soc + s->pack_w * h / n->capacity_wh * 100.0));
		if (s->pack_w > 0)
			s->e_pack_chg_wh += s->pack_w * h;
		else
			s->e_pack_dis_wh -= s->pack_w * h;
		s->cycles = s->e_pack_dis_wh / n->capacity_wh;
		sim_pack_cells(n, s->pack_w);
		s->pack_a = s->own_a = s->pack_w / s->pack_v;
		s->temp_c += (24.0 + fabs(s->pack_w) / 250.0 - s->temp_c) * fmin(0.02 * sdt, 1);
		sim_put_pack(n);
		n->warned = true;
	}
}

/* The answer to the NODE_INFO query: an FC10-shaped frame at 21000 with the list. */
sim_action_t sim_node_info(sim_device_t *dev, const blt_rtu_t *req, sim_reply_t *out)
{
	sim_region_t *r = sim_find_region(dev, BLT_NODE_INFO_BLOCK);
	uint16_t vals[BLT_MAX_WRITE_REGS];
	unsigned nregs = 2 + 8 * (unsigned)(1 + dev->nnodes);

	(void)req;
	if (!r || r->start != BLT_NODE_INFO_BLOCK || nregs > r->count)
		return SIM_IGNORE;
	for (unsigned i = 0; i < nregs; i++)
		vals[i] = (uint16_t)(r->bytes[2 * i] << 8 | r->bytes[2 * i + 1]);
	if (blt_rtu_build_writen(dev->slave, BLT_NODE_INFO_BLOCK, vals, (uint16_t)nregs, out->rtu,
	                         sizeof out->rtu, &out->rtu_len) != BLT_OK)
		return SIM_IGNORE;
	snprintf(out->summary, sizeof out->summary, "node info query -> %zu nodes (%u registers)",
	         1 + dev->nnodes, nregs);
	return SIM_REPLY;
}
