/* Modbus request handling of a simulated device (no I/O).
 *
 * Behaviour, like a real V2 unit (PROTOCOL.md §1.3-§1.6, §4.9, §7.4):
 *  - any envelope is accepted (bare, 0x01 legacy, 01 F8 0F V2); frames with a bad CRC,
 *    truncated or malformed frames and frames for another slave address get no answer
 *    (a Modbus slave stays silent on a frame it cannot trust);
 *  - FC03: a read whose start lies inside an implemented block answers the registers that
 *    exist from there, i.e. fewer than asked when it runs past the block end (as the AP300
 *    does, §1.3); a start outside every block is exception 02; count 0 or > 125 is
 *    exception 03; switches: --max-read (a read past a shorter implemented end is
 *    exception 02, as on the Elite 200 V2), --reply-regs (a block read answered with at
 *    most N registers, as the AP300's 6100), --busy-once (exception 06 to the first read
 *    of each block);
 *  - FC06 / FC10 to a register of a block holding settings (the library's settings table:
 *    2000, 2200, 7000, 13742) are applied (sim_reg_write: 2-bit switches merge) and echoed
 *    (FC06 byte-identical, FC10 the 8-byte reply); writes to registers the device does not
 *    have, or to read-only telemetry blocks, are exception 02 and change nothing; an FC10
 *    must lie entirely inside one settings block;
 *  - any other function code is exception 01;
 *  - with nodes (--packs / --hub, nodes.c): a request for a node's slave address is
 *    answered by that node from its own memory (packs: 6100, 6300; the hub: exception 02
 *    to any read); the NODE_INFO query (FC10 of 1 to 21000) is answered by the power
 *    station with the node list as an FC10-shaped frame; an FC03 read of 21000 is
 *    exception 02.
 */
#include <stdio.h>
#include <string.h>

#include "sim.h"

static sim_action_t exception(sim_device_t *dev, uint8_t fc, uint8_t code, sim_reply_t *out)
{
	dev->exceptions++;
	if (blt_rtu_build_exception(dev->slave, fc, code, out->rtu, sizeof out->rtu,
	                            &out->rtu_len) != BLT_OK)
		return SIM_IGNORE;
	return SIM_REPLY;
}

/* --max-read / --reply-regs: the entry for the block region r, or 0. */
static unsigned block_len(const struct sim_block_len *v, unsigned nv, const sim_region_t *r)
{
	for (unsigned i = 0; i < nv; i++)
		if (v[i].block == r->start)
			return v[i].regs;
	return 0;
}

static sim_action_t do_read(sim_device_t *dev, const blt_rtu_t *req, sim_reply_t *out)
{
	sim_region_t *r = sim_find_region(dev, req->reg);
	const sim_opts_t *o = dev->opts;
	unsigned avail, n, lim;

	if (r && r->start == BLT_NODE_INFO_BLOCK) {
		snprintf(out->summary, sizeof out->summary,
		         "read %u x%u: NODE_INFO answers the FC10 query only -> exception 02",
		         req->reg, req->count);
		return exception(dev, BLT_FC_READ, 2, out);
	}
	if (!r) {
		snprintf(out->summary, sizeof out->summary,
		         "read %u x%u: no such register -> exception 02", req->reg, req->count);
		return exception(dev, BLT_FC_READ, 2, out);
	}
	if (o && o->busy_once && !dev->busy_done[r - dev->regions]) {
		dev->busy_done[r - dev->regions] = true;
		snprintf(out->summary, sizeof out->summary,
		         "read %u x%u: busy once (--busy-once) -> exception 06", req->reg,
		         req->count);
		return exception(dev, BLT_FC_READ, 6, out);
	}
	/* like the Elite 200 V2: a read past the implemented end is refused (EVIDENCE.md §3) */
	lim = o ? block_len(o->max_read, o->nmax_read, r) : 0;
	if (lim && (unsigned)req->reg + req->count > (unsigned)r->start + lim) {
		snprintf(out->summary, sizeof out->summary,
		         "read %u x%u: past register %u (--max-read) -> exception 02", req->reg,
		         req->count, r->start + lim - 1);
		return exception(dev, BLT_FC_READ, 2, out);
	}
	avail = (unsigned)r->start + r->count - req->reg;
	n = req->count < avail ? req->count : avail;
	/* like the AP300's 6100: fewer registers than asked, silently (PROTOCOL.md §1.3) */
	lim = o && req->reg == r->start ? block_len(o->reply_regs, o->nreply_regs, r) : 0;
	if (lim && n > lim)
		n = lim;
	if (o && o->short_replies && n > 1)
		n = (n + 1) / 2;
	if (blt_rtu_build_read_reply(dev->slave, r->bytes + 2u * (req->reg - r->start), 2u * n,
	                             out->rtu, sizeof out->rtu, &out->rtu_len) != BLT_OK)
		return SIM_IGNORE;
	snprintf(out->summary, sizeof out->summary, "read %u x%u -> %u registers%s", req->reg,
	         req->count, n, n < req->count ? " (short)" : "");
	return SIM_REPLY;
}

/* Is [reg, reg+count) writable? */
static sim_region_t *writable(sim_device_t *dev, uint16_t reg, unsigned count)
{
	sim_region_t *r = sim_find_region(dev, reg);
	if (!r || !r->writable)
		return NULL;
	if ((unsigned)reg + count > (unsigned)r->start + r->count)
		return NULL;
	return r;
}

static sim_action_t do_write1(sim_device_t *dev, const blt_rtu_t *req, const uint8_t *rtu,
                              size_t rtu_len, sim_reply_t *out)
{
	if (!writable(dev, req->reg, 1)) {
		snprintf(out->summary, sizeof out->summary, "write %u = %u: %s -> exception 02",
		         req->reg, req->value,
		         sim_find_region(dev, req->reg) ? "read-only register"
		                                        : "no such register");
		return exception(dev, BLT_FC_WRITE1, 2, out);
	}
	if (dev->opts && dev->opts->refuse_writes) {
		snprintf(out->summary, sizeof out->summary,
		         "write %u = %u: refused -> exception 04", req->reg, req->value);
		return exception(dev, BLT_FC_WRITE1, 4, out);
	}
	if (!(dev->opts && dev->opts->ignore_writes)) {
		sim_reg_write(dev, req->reg, req->value);
		dev->writes++;
	}
	/* the reply is the request, byte for byte */
	memcpy(out->rtu, rtu, rtu_len);
	out->rtu_len = rtu_len;
	snprintf(out->summary, sizeof out->summary, "write %u = %u%s", req->reg, req->value,
	         dev->opts && dev->opts->ignore_writes ? " (echoed, not applied)" : "");
	return SIM_REPLY;
}

static sim_action_t do_writen(sim_device_t *dev, const blt_rtu_t *req, sim_reply_t *out)
{
	if (req->reg == BLT_NODE_INFO_BLOCK && req->count == 1 && req->nbytes == 2 &&
	    req->data[0] == 0 && req->data[1] == 1 && dev->nnodes)
		return sim_node_info(dev, req, out);
	if (!writable(dev, req->reg, req->count)) {
		snprintf(out->summary, sizeof out->summary,
		         "write %u x%u: not inside one settings block -> exception 02", req->reg,
		         req->count);
		return exception(dev, BLT_FC_WRITEN, 2, out);
	}
	if (dev->opts && dev->opts->refuse_writes) {
		snprintf(out->summary, sizeof out->summary, "write %u x%u: refused -> exception 04",
		         req->reg, req->count);
		return exception(dev, BLT_FC_WRITEN, 4, out);
	}
	if (!(dev->opts && dev->opts->ignore_writes)) {
		for (unsigned i = 0; i < req->count && 2u * i + 1 < req->nbytes; i++)
			sim_reg_write(dev, (uint16_t)(req->reg + i),
			              (uint16_t)(req->data[2 * i] << 8 | req->data[2 * i + 1]));
		dev->writes++;
	}
	if (blt_rtu_build_writen_reply(dev->slave, req->reg, req->count, out->rtu, sizeof out->rtu,
	                               &out->rtu_len) != BLT_OK)
		return SIM_IGNORE;
	snprintf(out->summary, sizeof out->summary, "write %u x%u%s", req->reg, req->count,
	         dev->opts && dev->opts->ignore_writes ? " (echoed, not applied)" : "");
	return SIM_REPLY;
}

static sim_action_t dispatch(sim_device_t *dev, const blt_rtu_t *r, const uint8_t *rtu,
                             size_t rtu_len, sim_reply_t *out);

sim_action_t sim_handle(sim_device_t *dev, const uint8_t *payload, size_t n, sim_reply_t *out)
{
	blt_env_info_t env;
	blt_rtu_t req;
	blt_detail_t d = {{0}};
	int rc;

	memset(out, 0, sizeof *out);
	dev->requests++;
	rc = blt_env_unwrap(payload, n, &env, &d);
	if (rc) {
		snprintf(out->summary, sizeof out->summary, "ignored: %s", d.text);
		dev->ignored++;
		return SIM_IGNORE;
	}
	out->req_env = env.envelope;
	out->reg = env.reg;
	rc = blt_rtu_parse(env.rtu, env.rtu_len, BLT_RTU_REQUEST, &req, &d);
	if (rc == BLT_E_FUNCTION || rc == BLT_E_RANGE) {
		/* structurally a request with a good CRC, but a function or a count the device
		 * does not accept: answer with an exception (only if the CRC holds) */
		size_t m = env.rtu_len;
		if (m >= 4 && env.rtu[0] == dev->slave &&
		    blt_crc16(env.rtu, m - 2) == (uint16_t)(env.rtu[m - 2] | env.rtu[m - 1] << 8)) {
			uint8_t fc = env.rtu[1] & 0x7f;
			uint8_t code = rc == BLT_E_FUNCTION ? 1 : 3;
			snprintf(out->summary, sizeof out->summary,
			         "function 0x%02x: %s -> exception %02u", env.rtu[1], d.text, code);
			return exception(dev, fc, code, out);
		}
	}
	if (rc) {
		snprintf(out->summary, sizeof out->summary, "ignored: %s",
		         d.text[0] ? d.text : blt_strerror(rc));
		dev->ignored++;
		return SIM_IGNORE;
	}
	if (req.slave != dev->slave) {
		sim_device_t *node = sim_node_find(dev, req.slave);
		sim_action_t act;
		if (!node) {
			snprintf(out->summary, sizeof out->summary,
			         "ignored: frame for slave %u (we are %u)", req.slave, dev->slave);
			dev->ignored++;
			return SIM_IGNORE;
		}
		out->reg = req.reg;
		node->requests++;
		act = dispatch(node, &req, env.rtu, env.rtu_len, out);
		if (act == SIM_REPLY) {
			size_t m = strlen(out->summary);
			snprintf(out->summary + m, sizeof out->summary - m,
			         " (node %s at slave %u)", node->model, node->slave);
		}
		dev->exceptions += node->exceptions;
		node->exceptions = 0;
		return act;
	}
	out->reg = req.reg;
	return dispatch(dev, &req, env.rtu, env.rtu_len, out);
}

static sim_action_t dispatch(sim_device_t *dev, const blt_rtu_t *r, const uint8_t *rtu,
                             size_t rtu_len, sim_reply_t *out)
{
	blt_rtu_t req = *r;
	switch (req.function) {
	case BLT_FC_READ: return do_read(dev, &req, out);
	case BLT_FC_WRITE1: return do_write1(dev, &req, rtu, rtu_len, out);
	case BLT_FC_WRITEN: return do_writen(dev, &req, out);
	default:
		snprintf(out->summary, sizeof out->summary, "function 0x%02x -> exception 01",
		         req.function);
		return exception(dev, req.function & 0x7f, 1, out);
	}
}

int sim_build_push(sim_device_t *dev, uint8_t *rtu, size_t cap, size_t *len, uint16_t *start)
{
	static const uint16_t pushes[] = {1300, 100};
	for (unsigned k = 0; k < 2; k++) {
		uint16_t id = pushes[(dev->push_index + k) % 2];
		sim_region_t *r = sim_find_region(dev, id);
		const blt_block_t *b;
		uint16_t vals[BLT_MAX_WRITE_REGS];
		unsigned n;
		if (!r || r->start != id)
			continue;
		b = r->block;
		n = b && b->regs ? b->regs : r->count;
		if (n > r->count)
			n = r->count;
		if (n > BLT_MAX_WRITE_REGS)
			n = BLT_MAX_WRITE_REGS;
		for (unsigned i = 0; i < n; i++)
			vals[i] = (uint16_t)(r->bytes[2 * i] << 8 | r->bytes[2 * i + 1]);
		dev->push_index = (dev->push_index + k + 1) % 2;
		*start = id;
		return blt_rtu_build_writen(dev->slave, id, vals, (uint16_t)n, rtu, cap, len);
	}
	return BLT_E_NOT_FOUND;
}
