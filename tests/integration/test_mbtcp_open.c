/* Modbus TCP through the open map, every block and the write gate, end to end over a real
 * TCP socket: a simulated device (bluetti-sim's register memory, model and request
 * handlers, built in-process so both paths see the same state) served by a thread the way
 * `bluetti-sim --modbus-tcp` serves it (sim_mbtcp_handle), the real Modbus TCP transport and
 * client on the other side.
 *  - every block of every profile that the open map reaches: read through the map,
 *    decoded with the block rows, each delivered value equal to what the cloud path (an
 *    FC03 of the internal block answered by the same device) decodes; the device never
 *    met a multi-register read across a hole (no silent request);
 *  - a gated write (ac_output) over Modbus TCP: the public alias on the wire, the
 *    internal-address echo accepted, read back, the device's register changed;
 *  - denied: 57026 (the alias of 2013, power-off) and a setting outside the map are refused
 *    before a single request reaches the device;
 *  - busy: exception 06 to the first read and the first write: each sent once more after
 *    at least 1 s, and only once.
 * Run through with_brokers.sh (no broker needed). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cmocka.h>

#include <bluetti/bluetti.h>
#include <bluetti/client.h>
#include <bluetti/control.h>
#include <bluetti/transport.h>

#include "mbtcp.h"
#include "sim.h"

/* ---- the device side: one client at a time, as the firmware's server ------------------ */

typedef struct server {
	sim_device_t *dev;
	pthread_mutex_t mu; /* the device: the server thread or the test, never both */
	int lfd;
	uint16_t port;
	volatile int stop;
	pthread_t th;
	uint64_t requests, replies, silent, busy;
} server_t;

static void *serve(void *arg)
{
	server_t *s = arg;
	int one = 1;
	while (!s->stop) {
		struct pollfd p = {s->lfd, POLLIN, 0};
		uint8_t buf[4 * BLT_MBAP_MAX];
		size_t blen = 0;
		int fd;
		if (poll(&p, 1, 100) <= 0)
			continue;
		fd = accept(s->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* as the sim does */
		while (!s->stop) {
			struct pollfd q = {fd, POLLIN, 0};
			ssize_t r;
			if (poll(&q, 1, 100) <= 0)
				continue;
			r = recv(fd, buf + blen, sizeof buf - blen, 0);
			if (r <= 0)
				break;
			blen += (size_t)r;
			for (;;) {
				blt_mbap_t m;
				uint8_t out[BLT_MBAP_MAX];
				size_t olen = 0;
				mbtcp_action_t act;
				if (blt_mbap_parse(buf, blen, &m, NULL) != BLT_OK)
					break;
				pthread_mutex_lock(&s->mu);
				s->requests++;
				act = sim_mbtcp_handle(s->dev, buf, m.adu_len, out, sizeof out,
				                       &olen, NULL, 0);
				if (act == MBTCP_SILENT)
					s->silent++;
				if (act == MBTCP_REPLY && olen >= 9 && out[7] & 0x80 && out[8] == 6)
					s->busy++;
				pthread_mutex_unlock(&s->mu);
				memmove(buf, buf + m.adu_len, blen - m.adu_len);
				blen -= m.adu_len;
				if (act == MBTCP_REPLY &&
				    send(fd, out, olen, MSG_NOSIGNAL) == (ssize_t)olen)
					s->replies++;
			}
		}
		close(fd);
	}
	return NULL;
}

static void server_start(server_t *s, sim_device_t *dev)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	int one = 1;

	memset(s, 0, sizeof *s);
	s->dev = dev;
	pthread_mutex_init(&s->mu, NULL);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	s->lfd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s->lfd >= 0);
	setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(s->lfd, 4), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&sa, &sl), 0);
	s->port = ntohs(sa.sin_port);
	assert_int_equal(pthread_create(&s->th, NULL, serve, s), 0);
}

static void server_stop(server_t *s)
{
	s->stop = 1;
	pthread_join(s->th, NULL);
	close(s->lfd);
	pthread_mutex_destroy(&s->mu);
}

static uint64_t server_requests(server_t *s)
{
	uint64_t n;
	pthread_mutex_lock(&s->mu);
	n = s->requests;
	pthread_mutex_unlock(&s->mu);
	return n;
}

/* ---- the client side ------------------------------------------------------------------ */

typedef struct link {
	blt_transport_t *t;
	blt_client_t *c;
	blt_client_opts_t o;
} link_t;

static void link_open(link_t *l, uint16_t port, const char *model)
{
	blt_mbtcp_opts_t to;
	blt_detail_t d = {{0}};

	memset(l, 0, sizeof *l);
	memset(&to, 0, sizeof to);
	to.host = "127.0.0.1";
	to.port = port;
	to.min_gap_ms = -1; /* a simulator: no pacing */
	assert_int_equal(blt_mbtcp_new(&to, &l->t, &d), BLT_OK);
	assert_int_equal(blt_transport_connect(l->t, &d), BLT_OK);
	l->o.model = model;
	l->o.sn = "127.0.0.1";
	l->o.preset = "modbus-tcp";
	l->o.slave = -1;
	l->o.envelope = -1;
	l->o.timeout_ms = 1500;
	if (blt_client_new(l->t, &l->o, &l->c, &d) != BLT_OK ||
	    blt_client_start(l->c, &d) != BLT_OK)
		fail_msg("client: %s", d.text);
	assert_true(blt_client_open_map(l->c));
}

static void link_close(link_t *l)
{
	blt_client_free(l->c);
	blt_transport_disconnect(l->t);
	blt_transport_free(l->t);
}

static int device_init(sim_device_t *dev, sim_opts_t *so, const blt_profile_t *p, bool busy)
{
	blt_detail_t d = {{0}};
	memset(so, 0, sizeof *so);
	so->profile = p;
	so->preset = blt_wire_preset_find("modbus-tcp");
	so->slave = -1;
	so->speed = 1.0;
	so->seed = 42;
	so->busy_once = busy;
	if (!p->model)
		so->model = "GENERIC";
	return sim_device_init(dev, so, 2434000112345ull, &d);
}

/* The cloud path: an FC03 of the internal block answered by the same device. */
static size_t cloud_read(server_t *s, uint16_t start, uint16_t count, uint8_t *data, size_t cap)
{
	uint8_t rtu[16];
	size_t n = 0;
	sim_reply_t r;
	blt_rtu_t f;

	assert_int_equal(blt_rtu_build_read(s->dev->slave, start, count, rtu, sizeof rtu, &n),
	                 BLT_OK);
	pthread_mutex_lock(&s->mu);
	assert_int_equal(sim_handle(s->dev, rtu, n, &r), SIM_REPLY);
	pthread_mutex_unlock(&s->mu);
	assert_int_equal(blt_rtu_parse(r.rtu, r.rtu_len, BLT_RTU_REPLY, &f, NULL), BLT_OK);
	assert_true(f.nbytes <= cap);
	memcpy(data, f.data, f.nbytes);
	return f.nbytes;
}

static bool same_value(const blt_value_t *a, const blt_value_t *b)
{
	if (a->status != b->status || a->kind != b->kind)
		return false;
	if (a->kind == BLT_VK_STR)
		return strcmp(a->str, b->str) == 0;
	return a->raw == b->raw && a->num == b->num;
}

static void test_every_mapped_block(void **state)
{
	static sim_device_t dev;
	static blt_decoded_t tcp, cloud;
	unsigned blocks = 0, values = 0;

	(void)state;
	for (size_t pi = 0; blt_profile_at(pi); pi++) {
		const blt_profile_t *p = blt_profile_at(pi);
		sim_opts_t so;
		server_t srv;
		link_t l;
		unsigned pblocks = 0;

		if (device_init(&dev, &so, p, false) != BLT_OK)
			fail_msg("device for profile %s", p->id);
		server_start(&srv, &dev);
		link_open(&l, srv.port, dev.model);
		for (size_t ri = 0; ri < dev.nregions; ri++) {
			const sim_region_t *g = &dev.regions[ri];
			const blt_block_t *b = g->block;
			uint8_t data[2 * BLT_MAX_READ_REGS], cdata[2 * BLT_MAX_READ_REGS],
			    present[16];
			blt_openmap_read_t plan[BLT_MAX_READ_REGS];
			blt_decode_opts_t o = dev.dopts;
			unsigned got = 0, n, same = 0;
			size_t cn;
			blt_detail_t d = {{0}};
			int rc;

			if (!b || g->start != b->id)
				continue;
			n = b->regs < g->count ? b->regs : g->count;
			if (n > BLT_MAX_READ_REGS)
				n = BLT_MAX_READ_REGS;
			if (blt_openmap_plan(b->id, (uint16_t)n, plan, BLT_MAX_READ_REGS) == 0)
				continue; /* the map does not reach this block */
			rc = blt_client_read_mapped(l.c, b->id, (uint16_t)n, data, sizeof data,
			                            present, sizeof present, &got, &d);
			if (rc != BLT_OK)
				fail_msg("%s block %u over Modbus TCP: %s: %s", p->id, b->id,
				         blt_strerror(rc), d.text);
			assert_true(got > 0);
			o.present = present;
			blt_decode(b, data, 2u * n, &o, &tcp, NULL);
			cn = cloud_read(&srv, b->id, (uint16_t)n, cdata, sizeof cdata);
			blt_decode(b, cdata, cn, &dev.dopts, &cloud, NULL);
			for (size_t i = 0; i < tcp.count; i++) {
				const blt_value_t *v = &tcp.values[i], *w;
				if (v->status == BLT_VS_UNAVAILABLE &&
				    v->reason == BLT_VR_NOT_DELIVERED)
					continue;
				w = blt_decoded_get(&cloud, v->name);
				if (!w || !same_value(v, w))
					fail_msg(
					    "%s block %u %s: Modbus TCP %g '%s' (status %u), cloud "
					    "%g '%s' (status %u)",
					    p->id, b->id, v->name, v->num, v->str, v->status,
					    w ? w->num : -1, w ? w->str : "", w ? w->status : 99);
				same++;
			}
			assert_true(same > 0);
			values += same;
			pblocks++;
		}
		printf("%-12s %u blocks through the open map\n", p->id, pblocks);
		blocks += pblocks;
		link_close(&l);
		server_stop(&srv);
		/* the client never sent a multi-register read across a hole */
		assert_int_equal(srv.silent, 0);
		assert_true(srv.requests > 0);
		sim_nodes_free(&dev);
	}
	printf("%u blocks, %u values equal to the cloud path's\n", blocks, values);
	assert_true(blocks >= 10);
}

static void on_audit(void *user, const blt_audit_rec_t *rec)
{
	snprintf((char *)user, BLT_AUDIT_MAX, "%s", rec->line);
}

static void write_opts(blt_write_opts_t *wo, link_t *l, char *audit)
{
	memset(wo, 0, sizeof *wo);
	wo->wire = &l->o;
	wo->verify_interval_ms = 100;
	wo->audit = on_audit;
	wo->audit_user = audit;
}

static void test_gated_writes(void **state)
{
	static sim_device_t dev;
	sim_opts_t so;
	server_t srv;
	link_t l;
	blt_write_opts_t wo;
	blt_write_result_t r;
	blt_detail_t d = {{0}};
	char audit[BLT_AUDIT_MAX] = "";
	uint16_t v = 0;
	uint64_t before;
	int32_t now = -1;

	(void)state;
	assert_int_equal(device_init(&dev, &so, blt_profile_find("EL100V2"), false), BLT_OK);
	server_start(&srv, &dev);
	link_open(&l, srv.port, dev.model);
	write_opts(&wo, &l, audit);

	/* a gated write: public alias 57001 on the wire, echo 2011, read back */
	assert_int_equal(sim_reg_get(&dev, 2011, &v), BLT_OK);
	assert_int_equal(v, 1);
	if (blt_setting_write(l.c, "EL100V2", blt_setting_find("ac_output"), 0, &wo, &r, &d) !=
	    BLT_OK)
		fail_msg("ac_output off over Modbus TCP: %s", d.text);
	assert_int_equal(r.rtu[2] << 8 | r.rtu[3], 57001);
	assert_true(r.have_old && r.old_value == 1 && r.have_readback && r.readback == 0);
	assert_non_null(strstr(audit, "ac_output reg=2011 old=1(on) new=0(off) result=ok"));
	pthread_mutex_lock(&srv.mu);
	assert_int_equal(sim_reg_get(&dev, 2011, &v), BLT_OK);
	pthread_mutex_unlock(&srv.mu);
	assert_int_equal(v, 0);
	assert_int_equal(blt_setting_read(l.c, "EL100V2", blt_setting_find("ac_output"), &now, &d),
	                 BLT_OK);
	assert_int_equal(now, 0);
	/* a public address names its internal setting over Modbus TCP */
	assert_int_equal(blt_register_write(l.c, "EL100V2", 57001, 1, &wo, &r, &d), BLT_OK);
	assert_int_equal(r.reg, 2011);

	/* denied: the power-off alias and a setting the map does not carry; nothing sent */
	before = server_requests(&srv);
	assert_int_equal(blt_register_write(l.c, "EL100V2", 57026, 1, &wo, &r, &d), BLT_E_DENIED);
	assert_false(r.write_sent);
	assert_int_equal(r.requests, 0);
	assert_non_null(strstr(d.text, "alias of 2013"));
	assert_non_null(strstr(audit, "reg=57026"));
	assert_non_null(strstr(audit, "result=denied"));
	assert_int_equal(blt_register_write(l.c, "EL100V2", 2013, 1, &wo, &r, &d), BLT_E_DENIED);
	{
		/* a known setting without a public alias (the map has none for 2007): refused
		 * even with the unverified flag, since the device has no address for it */
		const blt_setting_t *led = blt_setting_find("led");
		assert_non_null(led);
		assert_int_not_equal(blt_openmap_write_target(led->reg, NULL, NULL), BLT_OK);
		wo.flags = BLT_WRITE_ALLOW_UNVERIFIED;
		assert_int_equal(blt_setting_write(l.c, "EL100V2", led, 1, &wo, &r, &d),
		                 BLT_E_DENIED);
		wo.flags = 0;
		assert_false(r.write_sent);
		assert_non_null(strstr(d.text, "Modbus TCP"));
	}
	assert_int_equal(server_requests(&srv), before);
	pthread_mutex_lock(&srv.mu);
	assert_int_equal(sim_reg_get(&dev, 2013, &v), BLT_OK);
	pthread_mutex_unlock(&srv.mu);
	assert_int_equal(v, 0);

	link_close(&l);
	server_stop(&srv);
	assert_int_equal(srv.silent, 0);
	sim_nodes_free(&dev);
}

static void test_busy(void **state)
{
	static sim_device_t dev;
	sim_opts_t so;
	server_t srv;
	link_t l;
	blt_write_opts_t wo;
	blt_write_result_t r;
	blt_detail_t d = {{0}};
	char audit[BLT_AUDIT_MAX] = "";
	uint64_t t0, t1;
	uint16_t v = 1;

	(void)state;
	assert_int_equal(device_init(&dev, &so, blt_profile_find("EL100V2"), true), BLT_OK);
	server_start(&srv, &dev);
	link_open(&l, srv.port, dev.model);
	write_opts(&wo, &l, audit);
	t0 = blt_now_ms();
	if (blt_setting_write(l.c, "EL100V2", blt_setting_find("dc_output"), 1, &wo, &r, &d) !=
	    BLT_OK)
		fail_msg("dc_output on with a busy device: %s", d.text);
	t1 = blt_now_ms();
	/* read old (busy, again), write (busy, again), read back */
	assert_int_equal(srv.busy, 2);
	assert_int_equal(server_requests(&srv), 5);
	assert_true(t1 - t0 >= 2000);    /* at least 1 s before each second attempt */
	assert_int_equal(r.requests, 4); /* old, write twice, read back */
	pthread_mutex_lock(&srv.mu);
	assert_int_equal(sim_reg_get(&dev, 2012, &v), BLT_OK);
	pthread_mutex_unlock(&srv.mu);
	assert_int_equal(v, 1);
	link_close(&l);
	server_stop(&srv);
	sim_nodes_free(&dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_mapped_block),
	    cmocka_unit_test(test_gated_writes),
	    cmocka_unit_test(test_busy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
