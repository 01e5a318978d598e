/* fake_transport.c - the one in-memory transport of the unit tests (fake_transport.h). */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "fake_transport.h"

static int f_connect(blt_transport_t *t, blt_detail_t *d)
{
	(void)t, (void)d;
	return BLT_OK;
}

static int f_listen(blt_transport_t *t, const char *topic, blt_msg_fn fn, void *user,
                    blt_detail_t *d)
{
	fake_transport_t *f = (fake_transport_t *)t;
	(void)d;
	assert_true(f->nls < FAKE_LISTENERS);
	snprintf(f->ls[f->nls].topic, sizeof f->ls[0].topic, "%s", topic);
	f->ls[f->nls].fn = fn;
	f->ls[f->nls].user = user;
	f->nls++;
	return BLT_OK;
}

/* fn == NULL: every listener on topic (the vtable's contract). */
static void f_unlisten(blt_transport_t *t, const char *topic, blt_msg_fn fn, void *user)
{
	fake_transport_t *f = (fake_transport_t *)t;
	for (int i = 0; i < f->nls; i++) {
		if (!f->ls[i].fn || strcmp(f->ls[i].topic, topic) != 0)
			continue;
		if (fn && (f->ls[i].fn != fn || f->ls[i].user != user))
			continue;
		f->ls[i].fn = NULL;
		f->unlistened++;
	}
}

static int f_publish(blt_transport_t *t, const char *topic, const void *payload, size_t len,
                     int qos, bool retain, blt_detail_t *d)
{
	fake_transport_t *f = (fake_transport_t *)t;
	blt_env_info_t env;
	(void)retain;
	if (f->fail_publish > 0) {
		f->fail_publish--;
		return blt_detail_set(d, BLT_E_DISCONNECTED, "fake: not connected");
	}
	snprintf(f->pub_topic, sizeof f->pub_topic, "%s", topic);
	assert_true(len <= sizeof f->pub);
	memcpy(f->pub, payload, len);
	f->pub_len = len;
	f->pub_qos = qos;
	f->npub++;
	if (f->drop_on_publish)
		f->nq = f->qi = 0;
	assert_int_equal(blt_env_unwrap(f->pub, len, &env, NULL), BLT_OK);
	if (f->script)
		f->script(f, topic, env.rtu, env.rtu_len);
	return BLT_OK;
}

/* Deliver one queued message; with none, behave like a quiet network for idle_ms. */
static int f_poll(blt_transport_t *t, int timeout_ms, blt_detail_t *d)
{
	fake_transport_t *f = (fake_transport_t *)t;
	(void)d;
	if (f->qi < f->nq) {
		fake_msg_t m = f->q[f->qi++]; /* a copy: a listener may queue more */
		for (int i = 0; i < f->nls; i++)
			if (f->ls[i].fn && (!m.topic[0] || !strcmp(f->ls[i].topic, m.topic)))
				f->ls[i].fn(f->ls[i].user, f->ls[i].topic, m.p, m.n, m.retained);
		return BLT_OK;
	}
	if (f->idle_ms > 0 && timeout_ms > 0) {
		int ms = timeout_ms < f->idle_ms ? timeout_ms : f->idle_ms;
		struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
	}
	return BLT_OK;
}

static bool f_connected(const blt_transport_t *t)
{
	(void)t;
	return true;
}

static void f_noop(blt_transport_t *t)
{
	(void)t;
}

static const struct blt_transport_ops fake_ops = {
    .connect = f_connect,
    .listen = f_listen,
    .unlisten = f_unlisten,
    .publish = f_publish,
    .poll = f_poll,
    .connected = f_connected,
    .disconnect = f_noop,
    .destroy = f_noop,
};

void fake_transport_init(fake_transport_t *f)
{
	memset(f, 0, sizeof *f);
	f->base.ops = &fake_ops;
	f->rssi = -60;
}

void fake_transport_init_realtime(fake_transport_t *f)
{
	fake_transport_init(f);
	f->drop_on_publish = true;
	f->idle_ms = INT_MAX;
}

blt_client_t *fake_client(fake_transport_t *f, const char *sn, const char *preset, int timeout_ms,
                          int retries)
{
	blt_client_t *c = NULL;
	blt_detail_t d = {""};
	blt_client_opts_t o = {.model = FAKE_MODEL,
	                       .sn = sn ? sn : FAKE_SN,
	                       .preset = preset,
	                       .slave = -1,
	                       .envelope = -1,
	                       .timeout_ms = timeout_ms,
	                       .retries = retries};
	assert_int_equal(blt_client_new(&f->base, &o, &c, &d), BLT_OK);
	assert_int_equal(blt_client_start(c, &d), BLT_OK);
	return c;
}

void fake_queue_env(fake_transport_t *f, const char *topic, blt_envelope_t env, uint16_t reg,
                    const uint8_t *rtu, size_t n, bool retained)
{
	fake_msg_t *m;
	if (f->nq == FAKE_QUEUE && f->qi > 0) { /* compact */
		memmove(f->q, f->q + f->qi, (size_t)(f->nq - f->qi) * sizeof f->q[0]);
		f->nq -= f->qi;
		f->qi = 0;
	}
	assert_true(f->nq < FAKE_QUEUE);
	m = &f->q[f->nq++];
	snprintf(m->topic, sizeof m->topic, "%s", topic ? topic : "");
	assert_int_equal(blt_env_wrap(env, reg, f->rssi, rtu, n, m->p, sizeof m->p, &m->n), BLT_OK);
	m->retained = retained;
}

void fake_queue_read_reply(fake_transport_t *f, const char *topic, uint8_t slave, uint16_t first,
                           int nregs, bool retained)
{
	uint8_t data[250], rtu[BLT_RTU_MAX];
	size_t n;
	assert_true(nregs >= 0 && 2 * (size_t)nregs <= sizeof data);
	for (int i = 0; i < nregs; i++) {
		data[2 * i] = (uint8_t)((first + i) >> 8);
		data[2 * i + 1] = (uint8_t)(first + i);
	}
	assert_int_equal(
	    blt_rtu_build_read_reply(slave, data, 2 * (size_t)nregs, rtu, sizeof rtu, &n), BLT_OK);
	fake_queue_env(f, topic, BLT_ENV_V2, 0, rtu, n, retained);
}

void fake_transport_drain(fake_transport_t *f)
{
	while (f->qi < f->nq)
		blt_transport_poll(&f->base, 0, NULL);
}
