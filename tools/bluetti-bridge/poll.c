/* bluetti-bridge poll scheduler (runtime.h).
 *
 * Concurrency model (see bluetti-bridge(1), "POLLING"): every device has at most one read
 * in flight (blt_client_submit_read) and all devices' reads overlap; the loop drives the
 * transports, replies complete through on_read, which decodes the block and sends the
 * group's next block at once. br_scan walks the devices only when something is due (a
 * group, a probe, a request deadline; at most every SCAN_MIN_MS): it fails timed-out
 * requests (blt_client_check_timeouts) and starts due groups, each at its own interval
 * counted from the start of its previous round. A slow or dead device costs only its own
 * timeouts: after offline_after failures in a row it is offline and only probed with
 * exponential backoff up to backoff_max; a block it refuses is skipped for a while.
 * Commands (commands.c) run only while their device has no read in flight (a group in
 * progress pauses for them).
 *
 * Over Modbus TCP a block is read through the open map (LOCAL.md §1.4): the plan's
 * segments one at a time (submit_tcp_segment), the registers placed at their internal
 * positions with a bitmap of what the map delivered, then decoded like any block. */
#include <stdlib.h>
#include <string.h>

#include <bluetti/bluetti.h>
#include <bluetti/catalog.h>
#include <bluetti/client.h>
#include <bluetti/device.h>

#include "runtime.h"

const char *br_dev_path_name(const br_dev_t *d)
{
	if (d->client && d->client == d->client_cloud)
		return blt_transport_connected(d->rt->up) ? "cloud" : "none";
	return blt_transport_connected(d->link) ? "bluetooth" : "none";
}

/* The transport the device's requests go through. */
blt_transport_t *br_dev_transport(const br_dev_t *d)
{
	if (d->kind == BR_T_CLOUD || (d->client_cloud && d->client == d->client_cloud))
		return d->rt->up;
	if (d->kind == BR_T_LAN)
		return d->rt->lan;
	return d->link;
}

/* A device on a shared broker connection (cloud, local-mqtt): nothing can be sent while
 * that connection is down (availability then follows the connection, br_upstream_watch). */
static bool shared_link_down(const br_dev_t *d)
{
	return (d->kind == BR_T_CLOUD || d->kind == BR_T_LAN) &&
	       !blt_transport_connected(br_dev_transport(d));
}

/* transport = auto: Bluetooth while its link is up, the cloud otherwise. Swapped only
 * while the client in use is idle; the device model, its entities and discovery stay as
 * they are, only the state's "link" value changes. */
void br_choose_path(br_dev_t *d)
{
	blt_client_t *want;
	if (!d->client_cloud || !d->client_ble || blt_client_busy(d->client))
		return;
	want = blt_transport_connected(d->link) || !blt_transport_connected(d->rt->up)
	           ? d->client_ble
	           : d->client_cloud;
	if (want == d->client)
		return;
	d->client = want;
	br_log(BLT_LOG_INFO, "%s: now over %s", d->cfg->id,
	       want == d->client_ble ? "bluetooth" : "the cloud");
	d->dirty = true;
}

/* ---- availability -------------------------------------------------------------------- */

void br_set_online(br_dev_t *d, bool online, const char *why)
{
	if (d->online == online && d->avail_sent)
		return;
	if (d->online != online) {
		if (online)
			br_log(BLT_LOG_INFO, "%s: online", d->cfg->id);
		else
			br_log(BLT_LOG_WARN, "%s: offline (%s)", d->cfg->id, why);
	}
	d->online = online;
	if (online) {
		d->backoff_ms = BACKOFF_MIN_MS;
		d->fails = 0;
	}
	br_publish_availability(d);
}

/* A local-mqtt device whose block-11000 push (LOCAL.md §2.5, every report cycle + 1 s,
 * 60 s by default) came within LAN_PUSH_LIVE_MS. */
#define LAN_PUSH_LIVE_MS (3 * 61 * 1000)
static bool pushing(const br_dev_t *d, uint64_t now)
{
	uint64_t at = d->kind == BR_T_LAN && d->client ? blt_client_last_push(d->client) : 0;
	return at && now - at < LAN_PUSH_LIVE_MS;
}

void br_request_failed(br_dev_t *d, int err, const char *what, const char *detail)
{
	uint64_t now = blt_now_ms();
	d->fails++;
	br_log(d->online ? BLT_LOG_WARN : BLT_LOG_DEBUG, "%s: %s: %s: %s", d->cfg->id, what,
	       blt_strerror(err), detail);
	br_note_error(d, "%s: %s", what, blt_strerror(err));
	if (d->online && d->fails >= d->rt->cfg->offline_after && pushing(d, now)) {
		/* local-mqtt: requests at QoS 0 may be lost; a device that pushes is alive */
		br_log(BLT_LOG_DEBUG, "%s: %d failed requests, but it pushed %llu s ago: online",
		       d->cfg->id, d->fails,
		       (unsigned long long)((now - blt_client_last_push(d->client)) / 1000));
	} else if (d->online && d->fails >= d->rt->cfg->offline_after) {
		char why[80];
		snprintf(why, sizeof why, "%d failed requests in a row", d->fails);
		br_set_online(d, false, why);
	}
	if (!d->online) {
		d->probe_at = now + (uint64_t)d->backoff_ms;
		br_log(BLT_LOG_DEBUG, "%s: next probe in %d ms", d->cfg->id, d->backoff_ms);
		d->backoff_ms *= 2;
		if (d->backoff_ms > d->rt->cfg->backoff_max_s * 1000)
			d->backoff_ms = d->rt->cfg->backoff_max_s * 1000;
	}
}

/* ---- polling ------------------------------------------------------------------------- */

static bool block_skipped(br_dev_t *d, uint16_t block, uint64_t now)
{
	for (size_t i = 0; i < MAX_SKIP; i++)
		if (d->skip[i].block == block && d->skip[i].until > now)
			return true;
	return false;
}

/* A block the device read: forget a skip (its refusal was not forever). */
static void unskip_block(br_dev_t *d, uint16_t block)
{
	for (size_t i = 0; i < MAX_SKIP; i++)
		if (d->skip[i].block == block)
			d->skip[i].until = 0;
}

static void skip_block(br_dev_t *d, uint16_t block, uint64_t now)
{
	size_t slot = 0;
	for (size_t i = 0; i < MAX_SKIP; i++) {
		if (d->skip[i].block == block || d->skip[i].until <= now) {
			slot = i;
			break;
		}
	}
	d->skip[slot].block = block;
	d->skip[slot].until = now + SKIP_BLOCK_MS;
}

/* The outcome of one read of block id (blocking or not): decode and store it, or account
 * for the failure. Returns err (BLT_OK if the reply was usable). */
static int block_result(br_dev_t *d, uint16_t id, int err, uint8_t exception, const uint8_t *data,
                        size_t nbytes, const char *detail)
{
	const blt_block_t *b = blt_catalog_find(id);
	blt_detail_t det = {{0}};
	blt_decode_opts_t dopts;
	char what[64];

	snprintf(what, sizeof what, "read block %u", id);
	if (err == BLT_E_EXCEPTION) {
		/* The device is alive. 01/02/03: it does not have this block (even the shortest
		 * read was refused): skip it for a while. 05/06 (busy) and others are transient:
		 * the client has sent the read again already; the next round tries again. */
		d->rt->stats.exceptions++;
		d->fails = 0;
		if (!d->online)
			br_set_online(d, true, NULL);
		if (exception >= 1 && exception <= 3) {
			br_log(BLT_LOG_INFO, "%s: block %u refused (%s); skipping it for %d min",
			       d->cfg->id, id, detail, SKIP_BLOCK_MS / 60000);
			skip_block(d, id, blt_now_ms());
		} else {
			br_log(BLT_LOG_INFO, "%s: block %u: %s; trying again next round",
			       d->cfg->id, id, detail);
		}
		return err;
	}
	if (err) {
		if (err == BLT_E_TIMEOUT)
			d->rt->stats.timeouts++;
		else
			d->rt->stats.failed++;
		br_request_failed(d, err, what, detail);
		return err;
	}
	d->fails = 0;
	d->last_seen_unix_ms = br_unix_ms();
	if (!d->online)
		br_set_online(d, true, NULL);
	unskip_block(d, id);
	if (!b)
		return BLT_OK;
	blt_device_decode_opts(d->dev, &dopts);
	if (d->kind == BR_T_TCP && d->tcp && d->tcp->block == id)
		dopts.present = d->tcp->present; /* fields outside the open map: unavailable */
	err = blt_decode(b, data, nbytes, &dopts, d->rt->decoded, &det);
	if (err && err != BLT_E_MISSING) {
		br_log(BLT_LOG_WARN, "%s: block %u (%zu bytes) not decodable: %s", d->cfg->id, id,
		       nbytes, det.text);
		return BLT_OK; /* the device answered: not an availability problem */
	}
	err = blt_device_update(d->dev, d->rt->decoded, blt_now_ms(), &det);
	if (err)
		br_log(BLT_LOG_WARN, "%s: block %u: %s", d->cfg->id, id, det.text);
	d->dirty = true;
	return BLT_OK;
}

/* Blocking read of one block (after a write, with the device idle). */
int br_poll_block(br_dev_t *d, uint16_t id)
{
	const blt_block_t *b = blt_catalog_find(id);
	uint8_t data[BLT_RTU_MAX];
	size_t nbytes = 0;
	blt_detail_t det = {{0}};
	uint8_t exc = 0;
	int err;

	if (!b)
		return BLT_OK;
	d->rt->stats.reads++;
	err = blt_client_read_block(d->client, b->id, blt_profile_block_regs(d->cfg->profile, b),
	                            blt_block_core_regs(b), data, sizeof data, &nbytes, &exc, &det);
	return block_result(d, id, err, exc, data, nbytes, det.text);
}

static void on_read(void *user, const blt_client_result_t *r);

/* Submit the read of block id; false if it could not be sent (accounted for). */
/* ---- Modbus TCP: a block through the open map, one segment at a time ----------------- */

static uint16_t block_regs(const br_dev_t *d, const blt_block_t *b)
{
	uint16_t n = blt_profile_block_regs(d->cfg->profile, b);
	return n > BLT_MAX_READ_REGS ? BLT_MAX_READ_REGS : n;
}

/* A block the device's transport can read (over Modbus TCP: one the open map has). */
static bool block_readable(const br_dev_t *d, uint16_t id)
{
	const blt_block_t *b = blt_catalog_find(id);
	if (!b)
		return false;
	return d->kind != BR_T_TCP || blt_openmap_plan(b->id, block_regs(d, b), NULL, 0) > 0;
}

static void on_tcp_read(void *user, const blt_client_result_t *r);

static int submit_tcp_segment(br_dev_t *d, blt_detail_t *det)
{
	const blt_openmap_read_t *s = &d->tcp->plan[d->tcp->seg];
	return blt_client_submit_read(d->client, s->pub, s->count, on_tcp_read, d, det);
}

static int submit_tcp_block(br_dev_t *d, const blt_block_t *b, blt_detail_t *det)
{
	br_tcp_read_t *t = d->tcp;
	size_t cap = sizeof t->plan / sizeof t->plan[0];
	t->block = b->id;
	t->count = block_regs(d, b);
	t->nplan = blt_openmap_plan(b->id, t->count, t->plan, cap);
	if (t->nplan > cap)
		t->nplan = cap;
	if (!t->nplan)
		return blt_detail_set(det, BLT_E_NOT_FOUND, "block %u is not in the open map",
		                      b->id);
	t->seg = 0;
	t->delivered = 0;
	memset(t->data, 0, sizeof t->data);
	memset(t->present, 0, sizeof t->present);
	return submit_tcp_segment(d, det);
}

/* A segment's registers at their internal positions (as blt_client_read_mapped). */
static void tcp_place(br_tcp_read_t *t, const uint8_t *buf, size_t nb)
{
	const blt_openmap_read_t *s = &t->plan[t->seg];
	for (uint16_t k = s->skip; k < s->count && 2u * k + 1 < nb; k++) {
		const blt_tcp_run_t *run = blt_tcpmap_find_public((uint16_t)(s->pub + k));
		unsigned reg, off;
		if (!run)
			continue;
		reg = run->internal + (unsigned)(s->pub + k - run->pub);
		if (reg < t->block || reg >= (unsigned)t->block + t->count)
			continue;
		off = reg - t->block;
		t->data[2 * off] = buf[2 * k];
		t->data[2 * off + 1] = buf[2 * k + 1];
		if (!(t->present[off / 8] & (1u << (off % 8))))
			t->delivered++;
		t->present[off / 8] |= (uint8_t)(1u << (off % 8));
	}
}

static void on_read(void *user, const blt_client_result_t *r);

static void on_tcp_read(void *user, const blt_client_result_t *r)
{
	br_dev_t *d = user;
	br_tcp_read_t *t = d->tcp;
	blt_client_result_t x = *r;
	blt_detail_t det = {{0}};
	x.reg = t->block; /* the block, not the public address */
	if (r->err == BLT_OK && !r->data) {
		x.err = blt_detail_set(&det, BLT_E_PROTOCOL, "reply without register data");
		x.detail = &det;
	} else if (r->err == BLT_OK) {
		tcp_place(t, r->data, r->nbytes);
		if (++t->seg < t->nplan) {
			int err = submit_tcp_segment(d, &det);
			if (err == BLT_OK)
				return;
			x.err = err;
			x.detail = &det;
		} else {
			x.data = t->data;
			x.nbytes = 2u * t->count;
		}
	}
	on_read(d, &x);
}

/* Submit the read of block id; false if it could not be sent (accounted for). */
static bool submit_block(br_dev_t *d, uint16_t id)
{
	const blt_block_t *b = blt_catalog_find(id);
	blt_detail_t det = {{0}};
	int err;

	if (!b)
		return false;
	d->rt->stats.reads++;
	d->cur_block = id;
	if (d->kind == BR_T_TCP)
		err = submit_tcp_block(d, b, &det);
	else
		err = blt_client_submit_read_block(d->client, b->id,
		                                   blt_profile_block_regs(d->cfg->profile, b),
		                                   blt_block_core_regs(b), on_read, d, &det);
	if (err) {
		block_result(d, id, err, 0, NULL, 0, det.text);
		return false;
	}
	return true;
}

static void group_done(br_dev_t *d)
{
	size_t g = (size_t)d->cur_group;
	uint64_t now = blt_now_ms();
	uint64_t next = d->group_start + (uint64_t)d->cfg->interval_s[g] * 1000u;
	/* Fixed cadence from the start of the group; a late group is not made up for. */
	d->due[g] = next > now ? next : now;
	d->cur_group = -1;
	d->groups_seen |= 1u << g;
	d->rt->stats.groups++;
	if (d->dirty)
		br_publish_device(d, false, false);
}

/* Send the next block of the group in progress; ends the group when there is none or
 * a command waits for this device (the group resumes after it). */
static void group_next(br_dev_t *d)
{
	const blt_group_t *gr = &d->cfg->profile->groups[d->cur_group];
	uint64_t now = blt_now_ms();
	if (br_cmd_due(d, now))
		return; /* paused: the scheduler resumes the group after the write */
	while (d->cur_idx < gr->nblocks) {
		uint16_t id = gr->blocks[d->cur_idx++];
		if (block_skipped(d, id, now) || !block_readable(d, id))
			continue;
		if (submit_block(d, id))
			return;
		break; /* could not send: stop this round (do not queue up failures) */
	}
	group_done(d);
}

static void on_read_done(void *user, const blt_client_result_t *r)
{
	br_dev_t *d = user;
	int err;
	if (r->err == BLT_OK || r->err == BLT_E_EXCEPTION) {
		d->rt->stats.replies++;
		br_stats_rtt(&d->rt->stats, r->rtt_us);
	}
	err = block_result(d, r->reg, r->err, r->exception, r->data, r->nbytes, r->detail->text);
	if (d->probing) {
		/* An offline device answered (or not) its probe. */
		d->probing = false;
		if (err == BLT_OK) {
			uint64_t now = blt_now_ms();
			for (size_t k = 0; k < BR_MAX_GROUPS; k++)
				d->due[k] = now; /* back: refresh everything */
		}
		if (d->dirty)
			br_publish_device(d, false, false);
		return;
	}
	if (d->cur_group < 0)
		return;
	if (err && err != BLT_E_EXCEPTION) {
		group_done(d); /* stop at the first failure: do not queue up timeouts */
		return;
	}
	group_next(d);
}

/* An offline device: one read of the first block of its first enabled group. */
static void probe(br_dev_t *d)
{
	const blt_profile_t *p = d->cfg->profile;
	br_log(BLT_LOG_DEBUG, "%s: probing", d->cfg->id);
	for (size_t g = 0; g < p->ngroups && g < BR_MAX_GROUPS; g++) {
		if (!d->cfg->interval_s[g])
			continue;
		for (size_t k = 0; k < p->groups[g].nblocks; k++) {
			if (!block_readable(d, p->groups[g].blocks[k]))
				continue;
			d->probing = true;
			if (!submit_block(d, p->groups[g].blocks[k]))
				d->probing = false;
			return;
		}
	}
	d->probe_at = blt_now_ms() + (uint64_t)d->rt->cfg->backoff_max_s * 1000u;
}

/* ---- nodes: packs and hubs at their own slave addresses -------------------------------
 * Once the groups are done and the "cells" group's interval has passed, a round asks the
 * power station for its node list (the NODE_INFO query) and reads each node's blocks at
 * its slave address (batteries: 6100, 6300), feeding each node's own state. A unit that
 * refuses the query is not asked again for SKIP_BLOCK_MS; a node that refuses a block is
 * passed over; a timeout ends the round and counts like any failed read. */

static int nodes_interval_s(const br_dev_t *d)
{
	const blt_profile_t *p = d->cfg->profile;
	if (d->kind == BR_T_TCP)
		return 0; /* nodes answer at their own slave: not over Modbus TCP */
	for (size_t g = 0; g < p->ngroups && g < BR_MAX_GROUPS; g++)
		if (!strcmp(p->groups[g].name, "cells"))
			return d->cfg->interval_s[g];
	return 0;
}

static void nodes_done(br_dev_t *d)
{
	d->node_phase = 0;
	d->nodes_due = blt_now_ms() + (uint64_t)nodes_interval_s(d) * 1000u;
	if (d->dirty)
		br_publish_device(d, false, false);
}

static void on_node_read(void *user, const blt_client_result_t *r);

static void nodes_next(br_dev_t *d)
{
	if (br_cmd_due(d, blt_now_ms()))
		return; /* paused: resumed after the write */
	while (d->node_idx < d->nnode_reads) {
		const blt_block_t *b;
		blt_detail_t det = {{0}};
		d->node_cur = d->node_idx++;
		b = blt_catalog_find(d->node_reads[d->node_cur].block);
		if (!b)
			continue;
		d->rt->stats.reads++;
		int err = blt_client_submit_read_at(
		    d->client, d->node_reads[d->node_cur].slave, b->id,
		    blt_profile_block_regs(d->cfg->profile, b), on_node_read, d, &det);
		if (err == BLT_OK)
			return;
		br_request_failed(d, err, "read a node block", det.text);
		break;
	}
	nodes_done(d);
}

/* A node answered (or not): usable -> decoded into its own state. */
static bool node_result(br_dev_t *d, const blt_client_result_t *r, const char *what)
{
	if (r->err == BLT_OK || r->err == BLT_E_EXCEPTION) {
		d->rt->stats.replies++;
		br_stats_rtt(&d->rt->stats, r->rtt_us);
		d->fails = 0;
		d->last_seen_unix_ms = br_unix_ms();
		if (!d->online)
			br_set_online(d, true, NULL);
	}
	if (r->err == BLT_E_EXCEPTION)
		d->rt->stats.exceptions++;
	else if (r->err == BLT_E_TIMEOUT)
		d->rt->stats.timeouts++;
	else if (r->err)
		d->rt->stats.failed++;
	if (r->err && r->err != BLT_E_EXCEPTION)
		br_request_failed(d, r->err, what, r->detail->text);
	return r->err == BLT_OK && r->data;
}

static void on_node_read_done(void *user, const blt_client_result_t *r)
{
	br_dev_t *d = user;
	uint8_t slave = d->node_reads[d->node_cur].slave;
	const blt_block_t *b = blt_catalog_find(r->reg);
	blt_detail_t det = {{0}};
	blt_decode_opts_t dopts;
	int err;

	if (!node_result(d, r, "read a node block")) {
		if (r->err == BLT_E_EXCEPTION) {
			br_log(BLT_LOG_DEBUG, "%s: node %u refused block %u (%s)", d->cfg->id,
			       slave, r->reg, r->detail->text);
			nodes_next(d);
		} else {
			nodes_done(d);
		}
		return;
	}
	blt_device_decode_opts(d->dev, &dopts);
	err = b ? blt_decode(b, r->data, r->nbytes, &dopts, d->rt->decoded, &det) : BLT_E_INVAL;
	if (err == BLT_OK || err == BLT_E_MISSING)
		err = blt_device_update_node(d->dev, slave, d->rt->decoded, blt_now_ms(), &det);
	if (err)
		br_log(BLT_LOG_WARN, "%s: node %u block %u: %s", d->cfg->id, slave, r->reg,
		       det.text);
	else
		d->dirty = true;
	nodes_next(d);
}

static void on_node_info_done(void *user, const blt_client_result_t *r)
{
	br_dev_t *d = user;
	const blt_block_t *b = blt_catalog_find(BLT_NODE_INFO_BLOCK);
	blt_detail_t det = {{0}};
	int err;

	if (!node_result(d, r, "query the node list")) {
		if (r->err == BLT_E_EXCEPTION) {
			br_log(BLT_LOG_INFO, "%s: no node list (%s); asking again in %d min",
			       d->cfg->id, r->detail->text, SKIP_BLOCK_MS / 60000);
			skip_block(d, BLT_NODE_INFO_BLOCK, blt_now_ms());
		}
		nodes_done(d);
		return;
	}
	err = blt_decode(b, r->data, r->nbytes, NULL, d->rt->decoded, &det);
	if (err == BLT_OK)
		err = blt_device_update(d->dev, d->rt->decoded, blt_now_ms(), &det);
	if (err) {
		br_log(BLT_LOG_WARN, "%s: node list (%zu bytes): %s", d->cfg->id, r->nbytes,
		       det.text);
		nodes_done(d);
		return;
	}
	d->dirty = true;
	d->nnode_reads = 0;
	for (size_t i = 0; i < blt_device_node_count(d->dev); i++) {
		const blt_node_t *x = blt_device_node_at(d->dev, i);
		size_t nb = 0;
		const uint16_t *blocks =
		    x->state ? blt_node_blocks((blt_node_kind_t)x->kind, &nb) : NULL;
		for (size_t k = 0; k < nb && d->nnode_reads < BR_NODE_READS; k++) {
			d->node_reads[d->nnode_reads].slave = x->slave;
			d->node_reads[d->nnode_reads++].block = blocks[k];
		}
	}
	br_log(BLT_LOG_DEBUG, "%s: %zu nodes, %zu node reads", d->cfg->id,
	       blt_device_node_count(d->dev), d->nnode_reads);
	d->node_phase = 2;
	d->node_idx = 0;
	nodes_next(d);
}

/* The replies: the device's state changed, it may have work now (br_wake). */
static void on_read(void *user, const blt_client_result_t *r)
{
	on_read_done(user, r);
	br_wake(user, blt_now_ms());
}

static void on_node_read(void *user, const blt_client_result_t *r)
{
	on_node_read_done(user, r);
	br_wake(user, blt_now_ms());
}

static void on_node_info(void *user, const blt_client_result_t *r)
{
	on_node_info_done(user, r);
	br_wake(user, blt_now_ms());
}

/* Idle device, no group due: start a node round if one is due. Returns when to look
 * again (UINT64_MAX: never). */
static uint64_t poll_nodes(br_dev_t *d, uint64_t now)
{
	blt_detail_t det = {{0}};
	int iv = nodes_interval_s(d);
	if (!iv || !d->online || block_skipped(d, BLT_NODE_INFO_BLOCK, now))
		return UINT64_MAX;
	if (d->nodes_due > now)
		return d->nodes_due;
	d->rt->stats.reads++;
	int err = blt_client_submit_node_info(d->client, on_node_info, d, &det);
	if (err != BLT_OK) {
		br_request_failed(d, err, "query the node list", det.text);
		nodes_done(d);
		return d->nodes_due;
	}
	d->node_phase = 1;
	return blt_client_deadline(d->client);
}

/* Start (or resume) work on an idle device if some is due; returns the time this device
 * next needs attention (UINT64_MAX: none). */
static uint64_t device_work(br_dev_t *d, uint64_t now)
{
	const blt_profile_t *p = d->cfg->profile;
	uint64_t next = UINT64_MAX;
	if (!d->client)
		return next;
	br_choose_path(d);
	if (blt_client_busy(d->client)) {
		blt_client_check_timeouts(d->client, now);
		if (blt_client_busy(d->client))
			return blt_client_deadline(d->client);
	}
	if (br_cmd_due(d, now))
		return next; /* the command runs first */
	if (d->cur_group >= 0) {
		group_next(d); /* resume after a command */
		return blt_client_busy(d->client) ? blt_client_deadline(d->client) : now;
	}
	if (d->node_phase == 2) {
		nodes_next(d); /* resume after a command */
		return blt_client_busy(d->client) ? blt_client_deadline(d->client) : now;
	}
	if (!d->online && d->probe_at) {
		if (now < d->probe_at)
			return d->probe_at;
		probe(d);
		return blt_client_busy(d->client) ? blt_client_deadline(d->client) : d->probe_at;
	}
	size_t best = SIZE_MAX;
	for (size_t g = 0; g < p->ngroups && g < BR_MAX_GROUPS; g++) {
		if (!d->cfg->interval_s[g])
			continue;
		if (d->due[g] <= now && (best == SIZE_MAX || d->due[g] < d->due[best]))
			best = g;
		else if (d->due[g] < next)
			next = d->due[g];
	}
	if (best == SIZE_MAX) {
		uint64_t t = poll_nodes(d, now);
		return t < next ? t : next;
	}
	br_log(BLT_LOG_DEBUG, "%s: polling group %s", d->cfg->id, p->groups[best].name);
	d->cur_group = (int)best;
	d->cur_idx = 0;
	d->group_start = now;
	group_next(d);
	if (blt_client_busy(d->client))
		return blt_client_deadline(d->client);
	return now; /* nothing sent (all skipped or failed): look again soon */
}

/* ---- the timer heap ---------------------------------------------------------------
 * Every device sits in a min-heap keyed by when it next needs a look (a request deadline,
 * a group or probe due, at most DEV_MAX_MS away): br_scan visits only the devices whose
 * time has come instead of walking the whole list. A reply (the callbacks below), a
 * command and the connection watchers wake a device (br_wake) when its state changed. */

static void heap_swap(br_runtime_t *rt, size_t a, size_t b)
{
	br_dev_t *t = rt->heap[a];
	rt->heap[a] = rt->heap[b];
	rt->heap[b] = t;
	rt->heap[a]->heap_pos = a;
	rt->heap[b]->heap_pos = b;
}

static void heap_up(br_runtime_t *rt, size_t i)
{
	while (i && rt->heap[(i - 1) / 2]->wake_at > rt->heap[i]->wake_at) {
		heap_swap(rt, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(br_runtime_t *rt, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < rt->nheap && rt->heap[l]->wake_at < rt->heap[m]->wake_at)
			m = l;
		if (r < rt->nheap && rt->heap[r]->wake_at < rt->heap[m]->wake_at)
			m = r;
		if (m == i)
			return;
		heap_swap(rt, i, m);
		i = m;
	}
}

int br_heap_build(br_runtime_t *rt)
{
	br_dev_t **h = realloc(rt->heap, (rt->ndev ? rt->ndev : 1) * sizeof *h);
	uint64_t now = blt_now_ms();
	if (!h)
		return BLT_E_NOMEM;
	rt->heap = h;
	rt->nheap = rt->ndev;
	for (size_t i = 0; i < rt->ndev; i++) { /* all due now: equal keys are a heap */
		h[i] = rt->devs[i];
		h[i]->heap_pos = i;
		h[i]->wake_at = now;
		h[i]->in_visit = false;
	}
	rt->next_scan = 0;
	return BLT_OK;
}

void br_wake(br_dev_t *d, uint64_t t)
{
	br_runtime_t *rt = d->rt;
	if (d->in_visit) { /* being looked at: taken into account when the visit ends */
		if (t < d->wake_req)
			d->wake_req = t;
		return;
	}
	if (d->heap_pos >= rt->nheap || rt->heap[d->heap_pos] != d || t >= d->wake_at)
		return;
	d->wake_at = t;
	heap_up(rt, d->heap_pos);
	if (t < rt->next_scan)
		rt->next_scan = t;
}

void br_wake_all(br_runtime_t *rt)
{
	uint64_t now = blt_now_ms();
	for (size_t i = 0; i < rt->nheap; i++)
		rt->heap[i]->wake_at = now; /* all equal: still a heap */
	rt->next_scan = 0;
}

/* One device: pending availability and state, timeouts, due groups and probes. Returns
 * when it next needs a look. */
static uint64_t visit(br_runtime_t *rt, br_dev_t *d, uint64_t now)
{
	br_cmd_log_flush(d, now);
	if (!d->avail_sent && br_down_ok(rt) && (d->online || d->probe_at || !d->client))
		br_publish_availability(d);
	if (d->dirty && (!d->client || !blt_client_busy(d->client)))
		br_publish_device(d, false, false);
	if (!d->disco_ready && d->client && now >= d->started_ms + DISCO_HOLD_MS)
		d->dirty = true; /* the discovery hold is over: announce */
	if (shared_link_down(d)) {
		/* Nothing can be sent; outstanding requests still time out. (A Bluetooth or
		 * Modbus TCP device reconnects from its own poll; its failed requests count.) */
		if (d->client)
			blt_client_check_timeouts(d->client, now);
		return now + SCAN_MAX_MS;
	}
	return device_work(d, now);
}

/* The devices whose time has come (each at most once per call). Sets rt->next_scan. */
void br_scan(br_runtime_t *rt)
{
	uint64_t now = blt_now_ms();
	for (size_t budget = rt->nheap; budget && rt->nheap && rt->heap[0]->wake_at <= now;
	     budget--) {
		br_dev_t *d = rt->heap[0];
		uint64_t t;
		d->in_visit = true;
		d->wake_req = UINT64_MAX;
		t = visit(rt, d, now);
		d->in_visit = false;
		if (d->dirty && br_down_ok(rt) && t > now + SCAN_MAX_MS)
			t = now + SCAN_MAX_MS; /* a state to publish once the device is idle */
		if (d->wake_req < t)
			t = d->wake_req;
		if (t > now + DEV_MAX_MS)
			t = now + DEV_MAX_MS;
		if (t < now + SCAN_MIN_MS)
			t = now + SCAN_MIN_MS;
		d->wake_at = t;
		heap_down(rt, 0);
	}
	rt->next_scan = rt->nheap ? rt->heap[0]->wake_at : now + SCAN_MAX_MS;
	if (rt->next_scan < now + SCAN_MIN_MS)
		rt->next_scan = now + SCAN_MIN_MS;
	if (rt->next_scan > now + SCAN_MAX_MS)
		rt->next_scan = now + SCAN_MAX_MS;
}

/* A shared broker connection (kind: BR_T_CLOUD on rt->up, BR_T_LAN on rt->lan): when it
 * comes back, its offline devices are probed at once; after UP_GRACE_MS down, its
 * devices are offline. */
static void shared_watch(br_runtime_t *rt, blt_transport_t *t, br_tkind_t kind, bool *was,
                         uint64_t *since)
{
	bool up = blt_transport_connected(t);
	uint64_t now = blt_now_ms();
	if (!t)
		return;
	if (up) {
		if (!*was) /* back: probe every offline device now */
			for (size_t i = 0; i < rt->ndev; i++)
				if (!rt->devs[i]->online && rt->devs[i]->kind == kind) {
					rt->devs[i]->probe_at = now;
					br_wake(rt->devs[i], now);
				}
		*since = 0;
	} else if (!*since) {
		*since = now;
	} else if (now - *since >= UP_GRACE_MS) {
		for (size_t i = 0; i < rt->ndev; i++) {
			br_dev_t *d = rt->devs[i];
			if (d->kind != kind)
				continue; /* Bluetooth, Modbus TCP: availability from their requests
				           */
			if (d->online || !d->avail_sent) {
				br_set_online(d, false,
				              kind == BR_T_LAN ? "local-mqtt broker unreachable"
				                               : "upstream broker unreachable");
				d->probe_at = now + (uint64_t)d->backoff_ms;
			}
		}
	}
	*was = up;
}

void br_upstream_watch(br_runtime_t *rt)
{
	shared_watch(rt, rt->up, BR_T_CLOUD, &rt->up_was_connected, &rt->up_down_since);
	shared_watch(rt, rt->lan, BR_T_LAN, &rt->lan_was_connected, &rt->lan_down_since);
}
