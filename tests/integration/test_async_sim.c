/* Non-blocking client against a real mosquitto (mutual TLS) and real simulated devices:
 * one bluetti-sim --count 4 (healthy) and one bluetti-sim --silent (dead), five clients on
 * one transport, one loop. Every device is read every CADENCE_MS with at most one request
 * in flight; the silent device's requests time out (with a retry) while the healthy ones
 * keep their cadence: each gets its replies, with the right data, and the longest gap
 * between two replies of a healthy device stays within the cadence plus a generous margin
 * (behaviour, not speed: a poller waiting for the silent device would leave gaps of
 * timeout x 2). Runs under with_brokers.sh (BLT_IT_DIR, BLT_PKI). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <bluetti/bluetti.h>
#include <bluetti/client.h>
#include <bluetti/transport.h>

#include "it_util.h"

#ifndef BLT_SIM_PATH
#error "BLT_SIM_PATH must name the bluetti-sim binary"
#endif

#define SN_OK      2616113480000ull /* healthy: SN_OK .. SN_OK + 3 */
#define SN_DEAD    "2616113489999"
#define NHEALTHY   4
#define NDEV       (NHEALTHY + 1)
#define CADENCE_MS 300
#define TIMEOUT_MS 1200
#define RUN_MS     6000

typedef struct dev {
	blt_client_t *c;
	uint64_t next_at;
	uint64_t last_reply, max_gap;
	unsigned replies, timeouts, bad_data, other_err;
	bool dead;
} dev_t_;

static struct {
	pid_t sim_ok, sim_dead;
	uint16_t port;
	blt_transport_t *t;
	uint8_t *pfx;
	dev_t_ d[NDEV];
} W;

static pid_t spawn_sim(const char *sn, const char *count, bool silent, const char *name)
{
	char ready[600], logp[600];
	snprintf(ready, sizeof ready, "%s/%s.ready", it_env("BLT_IT_DIR"), name);
	snprintf(logp, sizeof logp, "%s/%s.log", it_env("BLT_IT_DIR"), name);
	unlink(ready);
	it_argv_t a = {0};
	it_argv_add(&a, BLT_SIM_PATH, NULL);
	it_argv_tls(&a, W.port);
	it_argv_add(&a, "--profile", "EL100V2", "--sn", sn, "--count", count, "--ready-file", ready,
	            NULL);
	if (silent)
		it_argv_add(&a, "--silent", NULL);
	pid_t pid = it_spawn(a.v, logp, NULL);
	return it_wait_file(ready, pid, 6000, NULL) ? pid : -1;
}

static int setup(void **state)
{
	blt_detail_t d = {""};
	char sn[32];
	(void)state;
	memset(&W, 0, sizeof W);
	W.port = it_broker_start("async", "");
	snprintf(sn, sizeof sn, "%llu", SN_OK);
	W.sim_ok = spawn_sim(sn, "4", false, "sim_ok");
	W.sim_dead = spawn_sim(SN_DEAD, "1", true, "sim_dead");
	if (W.sim_ok < 0 || W.sim_dead < 0)
		return -1;
	blt_mqtt_opts_t o = it_tls_opts("localhost", W.port, "client.pfx", &W.pfx);
	if (blt_mqtt_new(&o, &W.t, &d) != BLT_OK || blt_transport_connect(W.t, &d) != BLT_OK) {
		fprintf(stderr, "setup: %s\n", d.text);
		return -1;
	}
	for (int i = 0; i < NDEV; i++) {
		char s[32];
		if (i < NHEALTHY)
			snprintf(s, sizeof s, "%llu", SN_OK + (unsigned long long)i);
		else
			snprintf(s, sizeof s, "%s", SN_DEAD);
		blt_client_opts_t co = {.model = "EL100V2",
		                        .sn = s,
		                        .slave = -1,
		                        .envelope = -1,
		                        .timeout_ms = TIMEOUT_MS,
		                        .retries = 1};
		if (blt_client_new(W.t, &co, &W.d[i].c, &d) != BLT_OK ||
		    blt_client_start(W.d[i].c, &d) != BLT_OK) {
			fprintf(stderr, "setup: %s\n", d.text);
			return -1;
		}
		W.d[i].dead = i >= NHEALTHY;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int i = 0; i < NDEV; i++)
		blt_client_free(W.d[i].c);
	blt_transport_free(W.t);
	free(W.pfx);
	it_stop(&W.sim_ok, SIGTERM, 10000);
	it_stop(&W.sim_dead, SIGTERM, 10000);
	it_broker_stop("async");
	return 0;
}

static void on_reply(void *user, const blt_client_result_t *r)
{
	dev_t_ *v = user;
	uint64_t now = blt_now_ms();
	if (r->err == BLT_OK) {
		v->replies++;
		/* block 1300 is 17 registers */
		if (r->nbytes != 34 || !r->data || r->reg != 1300)
			v->bad_data++;
		if (v->last_reply && now - v->last_reply > v->max_gap)
			v->max_gap = now - v->last_reply;
		v->last_reply = now;
	} else if (r->err == BLT_E_TIMEOUT) {
		v->timeouts++;
		assert_int_equal(r->attempts, 2);
	} else {
		v->other_err++;
		fprintf(stderr, "unexpected: %s: %s\n", blt_strerror(r->err), r->detail->text);
	}
}

static void test_silent_device_does_not_stall_others(void **state)
{
	uint64_t start = blt_now_ms(), end = start + RUN_MS;
	blt_detail_t d = {""};
	(void)state;
	while (blt_now_ms() < end) {
		uint64_t now = blt_now_ms(), next = now + 50;
		for (int i = 0; i < NDEV; i++) {
			dev_t_ *v = &W.d[i];
			blt_client_check_timeouts(v->c, now);
			if (!blt_client_busy(v->c) && now >= v->next_at) {
				v->next_at = now + CADENCE_MS;
				assert_int_equal(
				    blt_client_submit_read(v->c, 1300, 17, on_reply, v, &d),
				    BLT_OK);
			}
			if (blt_client_busy(v->c) && blt_client_deadline(v->c) < next)
				next = blt_client_deadline(v->c);
			if (!blt_client_busy(v->c) && v->next_at < next)
				next = v->next_at;
		}
		now = blt_now_ms();
		blt_transport_poll(W.t, next > now ? (int)(next - now) : 0, NULL);
	}
	for (int i = 0; i < NDEV; i++) {
		dev_t_ *v = &W.d[i];
		blt_client_stats_t st;
		blt_client_stats(v->c, &st);
		fprintf(stderr,
		        "device %d%s: %u replies, %u timeouts, longest gap between replies %llu "
		        "ms\n",
		        i, v->dead ? " (silent)" : "", v->replies, v->timeouts,
		        (unsigned long long)v->max_gap);
		assert_int_equal(v->other_err, 0);
		assert_int_equal(v->bad_data, 0);
		if (v->dead) {
			assert_int_equal(v->replies, 0);
			/* 2 x 1.2 s per request: at least two full timeouts in 6 s */
			assert_true(v->timeouts >= 2);
			assert_true(st.timeouts >= 4);
		} else {
			assert_int_equal(v->timeouts, 0);
			/* ~20 rounds at 300 ms; half is plenty */
			assert_true(v->replies >= RUN_MS / CADENCE_MS / 2);
			assert_true(v->max_gap < CADENCE_MS + 1000);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_silent_device_does_not_stall_others, setup,
	                                    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
