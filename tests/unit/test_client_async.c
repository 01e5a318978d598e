/* Non-blocking client requests (blt_client_submit*) against a scripted in-memory transport
 * shared by several clients: replies through callbacks from poll, timeouts and retries from
 * blt_client_check_timeouts, the same matching rules as the blocking path, BUSY in both
 * directions, a silent device next to a healthy one, chaining from the callback, cancel. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <bluetti/bluetti.h>
#include <bluetti/client.h>
#include <bluetti/transport.h>

#include "unit/fake_transport.h"

/* --- the shared fake transport (tests/unit/fake_transport.h): several listeners, messages
 * routed by topic, time driven by the tests (idle_ms 0) --------------------------------- */

static char reply_topic[2][BLT_TOPIC_MAX];

static blt_client_t *make_client(fake_transport_t *f, const char *sn, int timeout_ms, int retries,
                                 int k)
{
	blt_client_t *c = fake_client(f, sn, NULL, timeout_ms, retries);
	snprintf(reply_topic[k], sizeof reply_topic[k], "%s", f->ls[f->nls - 1].topic);
	return c;
}

/* --- callback recorder ------------------------------------------------------------------- */

typedef struct rec {
	int calls;
	int err;
	uint8_t data[64];
	size_t nbytes;
	uint8_t exception;
	uint16_t reg;
	int attempts;
	uint64_t rtt_us;
	char detail[256];
	bool busy_in_cb;
	/* chaining: submit another read of this many registers from the callback */
	blt_client_t *chain_client;
	int chain_left;
} rec_t;

static void on_reply(void *user, const blt_client_result_t *r)
{
	rec_t *rc = user;
	rc->calls++;
	rc->err = r->err;
	rc->nbytes = r->nbytes;
	if (r->data && r->nbytes <= sizeof rc->data)
		memcpy(rc->data, r->data, r->nbytes);
	rc->exception = r->exception;
	rc->reg = r->reg;
	rc->attempts = r->attempts;
	rc->rtt_us = r->rtt_us;
	assert_non_null(r->detail);
	snprintf(rc->detail, sizeof rc->detail, "%s", r->detail->text);
	if (rc->chain_client) {
		rc->busy_in_cb = blt_client_busy(rc->chain_client);
		if (rc->chain_left > 0) {
			rc->chain_left--;
			assert_int_equal(
			    blt_client_submit_read(rc->chain_client, 100, 4, on_reply, rc, NULL),
			    BLT_OK);
		}
	}
}

/* scripts: the device with serial "1111111111111" answers reads, "2222222222222" is
 * silent */
static void s_answer_first(fake_transport_t *f, const char *topic, const uint8_t *rtu, size_t n)
{
	(void)rtu, (void)n;
	if (strstr(topic, "1111111111111"))
		fake_queue_read_reply(f, reply_topic[0], 0, 0x1000, 4, false);
}

static void s_silent(fake_transport_t *f, const char *topic, const uint8_t *rtu, size_t n)
{
	(void)f, (void)topic, (void)rtu, (void)n;
}

static void s_noise_then_good(fake_transport_t *f, const char *topic, const uint8_t *rtu, size_t n)
{
	(void)topic, (void)rtu, (void)n;
	fake_queue_read_reply(f, reply_topic[0], 0, 0x7777, 4, true);  /* retained: history */
	fake_queue_read_reply(f, reply_topic[0], 1, 0x5555, 4, false); /* other slave */
	fake_queue_read_reply(f, reply_topic[0], 0, 0x4444, 5, false); /* too many registers */
	fake_queue_read_reply(f, reply_topic[0], 0, 0x2000, 4, false);
	f->q[f->nq - 1].p[f->q[f->nq - 1].n - 1] ^= 0xFF; /* CRC broken */
	fake_queue_read_reply(f, reply_topic[0], 0, 0x1000, 4, false);
}

static void s_exception(fake_transport_t *f, const char *topic, const uint8_t *rtu, size_t n)
{
	uint8_t ex[8];
	size_t len;
	(void)topic, (void)rtu, (void)n;
	assert_int_equal(blt_rtu_build_exception(0, 0x03, 2, ex, sizeof ex, &len), BLT_OK);
	fake_queue_env(f, reply_topic[0], BLT_ENV_V2, 0, ex, len, false);
}

static int answer_from;
static void s_answer_from_nth(fake_transport_t *f, const char *topic, const uint8_t *rtu, size_t n)
{
	(void)topic, (void)rtu, (void)n;
	if (f->npub >= answer_from)
		fake_queue_read_reply(f, reply_topic[0], 0, 0x1000, 4, false);
}

/* --- tests ------------------------------------------------------------------------------- */

static void test_reply_through_callback(void **state)
{
	fake_transport_t f;
	rec_t r = {0};
	blt_client_stats_t st;
	blt_detail_t d = {""};
	(void)state;
	fake_transport_init(&f);
	f.script = s_answer_first;
	blt_client_t *c = make_client(&f, "1111111111111", 1000, 0, 0);
	assert_false(blt_client_busy(c));
	assert_int_equal(blt_client_deadline(c), 0);
	assert_int_equal(blt_client_submit_read(c, 100, 4, on_reply, &r, &d), BLT_OK);
	assert_int_equal(f.npub, 1);
	assert_true(blt_client_busy(c));
	assert_true(blt_client_deadline(c) >= blt_now_ms());
	assert_int_equal(r.calls, 0); /* nothing before the transport is driven */
	fake_transport_drain(&f);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.err, BLT_OK);
	assert_int_equal(r.nbytes, 8);
	assert_int_equal(r.data[0], 0x10);
	assert_int_equal(r.data[7], 0x03);
	assert_int_equal(r.reg, 100);
	assert_int_equal(r.attempts, 1);
	assert_false(blt_client_busy(c));
	assert_int_equal(blt_client_deadline(c), 0);
	/* nothing more happens at the deadline */
	assert_int_equal(blt_client_check_timeouts(c, blt_now_ms() + 100000), 0);
	assert_int_equal(r.calls, 1);
	blt_client_stats(c, &st);
	assert_int_equal(st.requests, 1);
	assert_int_equal(st.replies, 1);
	assert_int_equal(st.timeouts, 0);
	assert_int_equal(st.last_rssi, -60);
	blt_client_free(c);
}

static void test_busy_both_ways(void **state)
{
	fake_transport_t f;
	rec_t r = {0}, r2 = {0};
	uint8_t buf[64], req[16];
	size_t n, rlen;
	blt_detail_t d = {""};
	(void)state;
	fake_transport_init(&f);
	f.script = s_silent;
	blt_client_t *c = make_client(&f, "1111111111111", 1000, 0, 0);
	assert_int_equal(blt_client_submit_read(c, 100, 4, on_reply, &r, &d), BLT_OK);
	assert_int_equal(blt_client_submit_read(c, 6000, 4, on_reply, &r2, &d), BLT_E_BUSY);
	assert_non_null(strstr(d.text, "already outstanding"));
	assert_int_equal(blt_client_read(c, 6000, 4, buf, sizeof buf, &n, &d), BLT_E_BUSY);
	assert_int_equal(blt_rtu_build_read(0, 6000, 4, req, sizeof req, &rlen), BLT_OK);
	assert_int_equal(blt_client_transact(c, req, rlen, buf, sizeof buf, &n, NULL, &d),
	                 BLT_E_BUSY);
	assert_int_equal(f.npub, 1); /* nothing else was sent */
	assert_int_equal(r2.calls, 0);
	/* the outstanding request is untouched: it still times out as itself */
	assert_int_equal(blt_client_check_timeouts(c, blt_now_ms() + 2000), 1);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.err, BLT_E_TIMEOUT);
	assert_int_equal(r.reg, 100);
	blt_client_free(c);
}

static void test_bad_arguments(void **state)
{
	fake_transport_t f;
	rec_t r = {0};
	uint8_t junk[4] = {0, 3, 0, 0};
	blt_detail_t d = {""};
	(void)state;
	fake_transport_init(&f);
	blt_client_t *c = make_client(&f, "1111111111111", 1000, 0, 0);
	assert_int_equal(blt_client_submit_read(c, 100, 4, NULL, &r, &d), BLT_E_INVAL);
	assert_int_equal(blt_client_submit_read(NULL, 100, 4, on_reply, &r, &d), BLT_E_INVAL);
	assert_int_not_equal(blt_client_submit(c, junk, sizeof junk, on_reply, &r, &d), BLT_OK);
	assert_int_equal(blt_client_submit_read(c, 100, 0, on_reply, &r, &d), BLT_E_RANGE);
	assert_int_equal(f.npub, 0);
	assert_false(blt_client_busy(c));
	assert_int_equal(blt_client_check_timeouts(NULL, 1), 0);
	/* a failed publish: error now, no callback, not busy */
	f.fail_publish = 1;
	assert_int_equal(blt_client_submit_read(c, 100, 4, on_reply, &r, &d), BLT_E_DISCONNECTED);
	assert_false(blt_client_busy(c));
	assert_int_equal(blt_client_check_timeouts(c, blt_now_ms() + 100000), 0);
	assert_int_equal(r.calls, 0);
	blt_client_free(c);
}

static void test_timeout_and_retries(void **state)
{
	fake_transport_t f;
	rec_t r = {0};
	blt_client_stats_t st;
	blt_detail_t d = {""};
	uint64_t dl;
	(void)state;
	fake_transport_init(&f);
	f.script = s_silent;
	blt_client_t *c = make_client(&f, "1111111111111", 500, 2, 0);
	assert_int_equal(blt_client_submit_read(c, 1300, 17, on_reply, &r, &d), BLT_OK);
	dl = blt_client_deadline(c);
	assert_int_equal(blt_client_check_timeouts(c, dl - 1), 0); /* not yet */
	assert_int_equal(f.npub, 1);
	assert_int_equal(blt_client_check_timeouts(c, dl), 0); /* retry 1 sent */
	assert_int_equal(f.npub, 2);
	assert_true(blt_client_busy(c));
	assert_int_equal(blt_client_check_timeouts(c, blt_client_deadline(c)), 0); /* retry 2 */
	assert_int_equal(f.npub, 3);
	assert_int_equal(r.calls, 0);
	assert_int_equal(blt_client_check_timeouts(c, blt_client_deadline(c)), 1);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.err, BLT_E_TIMEOUT);
	assert_int_equal(r.attempts, 3);
	assert_int_equal(r.reg, 1300);
	assert_non_null(strstr(r.detail, "no reply on"));
	assert_non_null(strstr(r.detail, "read of 17 registers at 1300"));
	assert_false(blt_client_busy(c));
	blt_client_stats(c, &st);
	assert_int_equal(st.requests, 3);
	assert_int_equal(st.timeouts, 3);
	/* the client is usable again */
	f.script = s_answer_first;
	assert_int_equal(blt_client_submit_read(c, 100, 4, on_reply, &r, &d), BLT_OK);
	fake_transport_drain(&f);
	assert_int_equal(r.calls, 2);
	assert_int_equal(r.err, BLT_OK);
	blt_client_free(c);
}

static void test_retry_then_reply(void **state)
{
	fake_transport_t f;
	rec_t r = {0};
	(void)state;
	fake_transport_init(&f);
	answer_from = 2;
	f.script = s_answer_from_nth;
	blt_client_t *c = make_client(&f, "1111111111111", 500, 1, 0);
	assert_int_equal(blt_client_submit_read(c, 100, 4, on_reply, &r, NULL), BLT_OK);
	fake_transport_drain(&f);
	assert_int_equal(r.calls, 0);
	assert_int_equal(blt_client_check_timeouts(c, blt_client_deadline(c)), 0);
	assert_int_equal(f.npub, 2);
	fake_transport_drain(&f);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.err, BLT_OK);
	assert_int_equal(r.attempts, 2);
	blt_client_free(c);
}

static void test_resend_fails(void **state)
{
	fake_transport_t f;
	rec_t r = {0};
	(void)state;
	fake_transport_init(&f);
	f.script = s_silent;
	blt_client_t *c = make_client(&f, "1111111111111", 500, 3, 0);
	assert_int_equal(blt_client_submit_read(c, 100, 4, on_reply, &r, NULL), BLT_OK);
	f.fail_publish = 1;
	assert_int_equal(blt_client_check_timeouts(c, blt_client_deadline(c)), 1);
	assert_int_equal(r.err, BLT_E_DISCONNECTED);
	assert_false(blt_client_busy(c));
	blt_client_free(c);
}

static void test_same_matching_rules(void **state)
{
	fake_transport_t f;
	rec_t r = {0};
	blt_client_stats_t st;
	(void)state;
	fake_transport_init(&f);
	f.script = s_noise_then_good;
	blt_client_t *c = make_client(&f, "1111111111111", 500, 0, 0);
	assert_int_equal(blt_client_submit_read(c, 100, 4, on_reply, &r, NULL), BLT_OK);
	fake_transport_drain(&f);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.err, BLT_OK);
	assert_int_equal(r.data[0], 0x10); /* the good one, not 0x77 / 0x55 / 0x44 / 0x20 */
	blt_client_stats(c, &st);
	assert_int_equal(st.bad_frames, 1);
	assert_int_equal(st.unsolicited, 2); /* other slave, too many registers */
	blt_client_free(c);
}

static void test_exception(void **state)
{
	fake_transport_t f;
	rec_t r = {0};
	(void)state;
	fake_transport_init(&f);
	f.script = s_exception;
	blt_client_t *c = make_client(&f, "1111111111111", 500, 0, 0);
	assert_int_equal(blt_client_submit_read(c, 100, 4, on_reply, &r, NULL), BLT_OK);
	fake_transport_drain(&f);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.err, BLT_E_EXCEPTION);
	assert_int_equal(r.exception, 2);
	assert_null(r.nbytes ? "data" : NULL);
	assert_non_null(strstr(r.detail, "exception 2"));
	blt_client_free(c);
}

/* One silent and one healthy device on one transport: the healthy one completes a chain
 * of requests (submitted from its callback) while the silent one's request is still
 * outstanding; the silent one then times out on its own. */
static void test_silent_device_does_not_block_other(void **state)
{
	fake_transport_t f;
	rec_t good = {0}, dead = {0};
	(void)state;
	fake_transport_init(&f);
	f.script = s_answer_first;
	blt_client_t *a = make_client(&f, "1111111111111", 500, 0, 0);
	blt_client_t *b = make_client(&f, "2222222222222", 500, 1, 1);
	good.chain_client = a;
	good.chain_left = 9;
	assert_int_equal(blt_client_submit_read(b, 100, 4, on_reply, &dead, NULL), BLT_OK);
	assert_int_equal(blt_client_submit_read(a, 100, 4, on_reply, &good, NULL), BLT_OK);
	fake_transport_drain(&f);
	assert_int_equal(good.calls, 10);
	assert_int_equal(good.err, BLT_OK);
	assert_false(good.busy_in_cb); /* idle when the callback runs */
	assert_int_equal(dead.calls, 0);
	assert_true(blt_client_busy(b));
	/* a's checks never touch b */
	assert_int_equal(blt_client_check_timeouts(a, blt_now_ms() + 100000), 0);
	assert_true(blt_client_busy(b));
	assert_int_equal(blt_client_check_timeouts(b, blt_client_deadline(b)), 0); /* retry */
	assert_int_equal(blt_client_check_timeouts(b, blt_client_deadline(b)), 1);
	assert_int_equal(dead.calls, 1);
	assert_int_equal(dead.err, BLT_E_TIMEOUT);
	assert_int_equal(dead.attempts, 2);
	assert_int_equal(good.calls, 10);
	blt_client_free(a);
	blt_client_free(b);
}

static void test_cancel(void **state)
{
	fake_transport_t f;
	rec_t r = {0};
	blt_client_stats_t st;
	(void)state;
	fake_transport_init(&f);
	f.script = s_answer_first;
	blt_client_t *c = make_client(&f, "1111111111111", 500, 0, 0);
	assert_int_equal(blt_client_submit_read(c, 100, 4, on_reply, &r, NULL), BLT_OK);
	blt_client_cancel(c);
	assert_false(blt_client_busy(c));
	fake_transport_drain(&f); /* the reply arrives late: not a reply to anything */
	assert_int_equal(r.calls, 0);
	assert_int_equal(blt_client_check_timeouts(c, blt_now_ms() + 100000), 0);
	blt_client_stats(c, &st);
	assert_int_equal(st.unsolicited, 1);
	/* and blocking requests work after async ones */
	uint8_t buf[16];
	size_t n;
	assert_int_equal(blt_client_read(c, 100, 4, buf, sizeof buf, &n, NULL), BLT_OK);
	assert_int_equal(n, 8);
	blt_client_free(c);
}

/* --- stray replies: duplicates and other blocks' answers (FC03 carries no register) ---- */

static int short_200;        /* when > 0, block 200 is answered with this many registers */
static bool dup_before;      /* queue a copy of the previous reply before the real one */
static bool other_len_first; /* queue a 6-register reply (block 100's length) first */
static int short_first;      /* when > 0, queue a reply of this many registers first */
static uint8_t prev_rtu[BLT_RTU_MAX];
static size_t prev_len;

static void s_device(fake_transport_t *f, const char *topic, const uint8_t *rtu, size_t n)
{
	blt_rtu_t q;
	uint8_t data[250], out[BLT_RTU_MAX];
	size_t len;
	(void)topic;
	assert_int_equal(blt_rtu_parse(rtu, n, BLT_RTU_REQUEST, &q, NULL), BLT_OK);
	int nregs = (q.reg == 200 && short_200) ? short_200 : q.count;
	for (int i = 0; i < nregs; i++) {
		data[2 * i] = (uint8_t)(q.reg >> 4); /* marks the block: 100 -> 0x06, 200 -> 0x0c */
		data[2 * i + 1] = (uint8_t)i;
	}
	if (dup_before && prev_len)
		fake_queue_env(f, reply_topic[0], BLT_ENV_V2, 0, prev_rtu, prev_len, false);
	if (short_first) {
		uint8_t sd[250], sx[BLT_RTU_MAX];
		size_t slen;
		memset(sd, 0x77, sizeof sd);
		assert_int_equal(
		    blt_rtu_build_read_reply(0, sd, 2 * (size_t)short_first, sx, sizeof sx, &slen),
		    BLT_OK);
		fake_queue_env(f, reply_topic[0], BLT_ENV_V2, 0, sx, slen, false);
	}
	if (other_len_first) {
		uint8_t other[12], orx[BLT_RTU_MAX];
		size_t olen;
		memset(other, 0x99, sizeof other);
		assert_int_equal(blt_rtu_build_read_reply(0, other, 12, orx, sizeof orx, &olen),
		                 BLT_OK);
		fake_queue_env(f, reply_topic[0], BLT_ENV_V2, 0, orx, olen, false);
	}
	assert_int_equal(
	    blt_rtu_build_read_reply(0, data, 2 * (size_t)nregs, out, sizeof out, &len), BLT_OK);
	fake_queue_env(f, reply_topic[0], BLT_ENV_V2, 0, out, len, false);
	memcpy(prev_rtu, out, len);
	prev_len = len;
}

static blt_client_t *stray_setup(fake_transport_t *f)
{
	fake_transport_init(f);
	f->script = s_device;
	short_200 = 0;
	dup_before = other_len_first = false;
	short_first = 0;
	prev_len = 0;
	return make_client(f, "1111111111111", 500, 0, 0);
}

static void read_ok(fake_transport_t *f, blt_client_t *c, uint16_t reg, uint16_t count, rec_t *r)
{
	int calls = r->calls;
	assert_int_equal(blt_client_submit_read(c, reg, count, on_reply, r, NULL), BLT_OK);
	fake_transport_drain(f);
	assert_int_equal(r->calls, calls + 1);
	assert_int_equal(r->err, BLT_OK);
}

static void test_stray_duplicate_rejected(void **state)
{
	fake_transport_t f;
	rec_t r = {0};
	blt_client_stats_t st;
	(void)state;
	blt_client_t *c = stray_setup(&f);
	read_ok(&f, c, 100, 6, &r);
	assert_int_equal(r.data[0], 0x06);
	/* the reply to 100 is delivered again while 200 is outstanding: not 200's answer */
	dup_before = true;
	read_ok(&f, c, 200, 6, &r);
	assert_int_equal(r.nbytes, 12);
	assert_int_equal(r.data[0], 0x0c);
	blt_client_stats(c, &st);
	assert_int_equal(st.stray, 1);
	assert_int_equal(st.unsolicited, 1);
	/* a duplicate of the same block's reply is the same data: harmless, accepted */
	blt_client_free(c);
}

static void test_stray_other_block_length_rejected(void **state)
{
	fake_transport_t f;
	rec_t r = {0};
	blt_client_stats_t st;
	(void)state;
	blt_client_t *c = stray_setup(&f);
	read_ok(&f, c, 100, 6, &r); /* 12 bytes learned for 100 */
	read_ok(&f, c, 200, 8, &r); /* 16 bytes learned for 200 */
	/* another client's read of 100 answered on the same topic before our reply */
	other_len_first = true;
	read_ok(&f, c, 200, 8, &r);
	assert_int_equal(r.nbytes, 16);
	assert_int_equal(r.data[0], 0x0c);
	blt_client_stats(c, &st);
	assert_int_equal(st.stray, 1);
	/* never-answered request: a short reply with another block's length is a stray too */
	read_ok(&f, c, 300, 10, &r);
	assert_int_equal(r.nbytes, 20);
	blt_client_stats(c, &st);
	assert_int_equal(st.stray, 2);
	blt_client_free(c);
}

static void test_stray_guess_heals(void **state)
{
	fake_transport_t f;
	rec_t r = {0};
	uint64_t dl;
	blt_client_stats_t st;
	(void)state;
	blt_client_t *c = stray_setup(&f);
	read_ok(&f, c, 100, 6, &r); /* 12 bytes */
	/* this device really answers 200 with 6 registers (fewer than asked, the length of
	 * 100's reply): taken for a stray once, then trusted after the timeout */
	short_200 = 6;
	assert_int_equal(blt_client_submit_read(c, 200, 8, on_reply, &r, NULL), BLT_OK);
	fake_transport_drain(&f);
	assert_int_equal(r.calls, 1);
	dl = blt_client_deadline(c);
	assert_int_equal(blt_client_check_timeouts(c, dl), 1);
	assert_int_equal(r.calls, 2);
	assert_int_equal(r.err, BLT_E_TIMEOUT);
	read_ok(&f, c, 200, 8, &r);
	assert_int_equal(r.nbytes, 12);
	assert_int_equal(r.data[0], 0x0c);
	read_ok(&f, c, 200, 8, &r); /* and from now on its length is known */
	blt_client_stats(c, &st);
	assert_int_equal(st.stray, 1);
	blt_client_free(c);
}

static void test_short_first_reply_held(void **state)
{
	fake_transport_t f;
	rec_t r = {0};
	blt_client_stats_t st;
	(void)state;
	blt_client_t *c = stray_setup(&f);
	/* a short reply of unknown length arrives first, then the full answer: the full one */
	short_first = 4;
	read_ok(&f, c, 400, 10, &r);
	assert_int_equal(r.nbytes, 20);
	assert_int_equal(r.data[0], 0x19);
	blt_client_stats(c, &st);
	assert_int_equal(st.stray, 1);
	/* a device that answers short (AP300 6100: 90 of 104 registers): held, taken at the
	 * deadline, and from then on its length is known */
	short_first = 0;
	short_200 = 6;
	assert_int_equal(blt_client_submit_read(c, 200, 8, on_reply, &r, NULL), BLT_OK);
	fake_transport_drain(&f);
	assert_int_equal(r.calls, 1);
	assert_int_equal(blt_client_check_timeouts(c, blt_client_deadline(c)), 1);
	assert_int_equal(r.calls, 2);
	assert_int_equal(r.err, BLT_OK);
	assert_int_equal(r.nbytes, 12);
	assert_int_equal(r.data[0], 0x0c);
	read_ok(&f, c, 200, 8, &r); /* confirmed */
	assert_int_equal(r.nbytes, 12);
	/* a stray of another length is no longer taken */
	short_first = 5;
	read_ok(&f, c, 200, 8, &r);
	assert_int_equal(r.nbytes, 12);
	assert_int_equal(r.data[0], 0x0c);
	blt_client_stats(c, &st);
	assert_int_equal(st.timeouts, 0);
	blt_client_free(c);
}

/* --- reads that real units accept: length search, known short replies, busy, the
 * envelope register (a scripted unit) ----------------------------------------------------- */

static struct unit {
	uint16_t limit_block, limit;  /* a read in limit_block past limit registers: exc 02 */
	uint16_t lacks;               /* a block the unit does not have at all: exc 02 */
	uint16_t short_block, answer; /* short_block is answered with at most answer regs */
	int busy;                     /* answer this many reads with exception 06 first */
	int env;                      /* bytes 3-4: 0 zero, 1 the register, 2 a cycle counter */
	uint16_t cycle;
	int reads;           /* read requests seen */
	uint16_t counts[32]; /* their lengths, in order */
	bool stray_first;    /* queue another block's reply naming register 4242 first */
} U;

static void queue_env_reg(fake_transport_t *f, uint16_t reg, const uint8_t *rtu, size_t n)
{
	fake_queue_env(f, reply_topic[0], BLT_ENV_V2, 0, rtu, n, false);
	f->q[f->nq - 1].p[3] = (uint8_t)(reg >> 8);
	f->q[f->nq - 1].p[4] = (uint8_t)reg;
}

static uint16_t unit_env(uint16_t reg)
{
	if (U.env == 1)
		return reg;
	if (U.env == 2) { /* little-endian counter, as blt_env_unwrap reads it big-endian */
		U.cycle++;
		return (uint16_t)(U.cycle << 8 | U.cycle >> 8);
	}
	return 0;
}

static void s_unit(fake_transport_t *f, const char *topic, const uint8_t *rtu, size_t n)
{
	blt_rtu_t q;
	uint8_t data[250], out[BLT_RTU_MAX];
	size_t len;
	unsigned nregs;
	(void)topic;
	assert_int_equal(blt_rtu_parse(rtu, n, BLT_RTU_REQUEST, &q, NULL), BLT_OK);
	if (q.function != BLT_FC_READ) { /* writes: busy too, else echoed */
		if (U.busy > 0) {
			U.busy--;
			assert_int_equal(
			    blt_rtu_build_exception(0, q.function, 6, out, sizeof out, &len),
			    BLT_OK);
			queue_env_reg(f, unit_env(q.reg), out, len);
		} else {
			queue_env_reg(f, unit_env(q.reg), rtu, n);
		}
		return;
	}
	if (U.reads < 32)
		U.counts[U.reads] = q.count;
	U.reads++;
	if (U.busy > 0) {
		U.busy--;
		assert_int_equal(blt_rtu_build_exception(0, 0x03, 6, out, sizeof out, &len),
		                 BLT_OK);
		queue_env_reg(f, unit_env(q.reg), out, len);
		return;
	}
	if (q.reg == U.lacks || (q.reg == U.limit_block && q.count > U.limit)) {
		assert_int_equal(blt_rtu_build_exception(0, 0x03, 2, out, sizeof out, &len),
		                 BLT_OK);
		queue_env_reg(f, unit_env(q.reg), out, len);
		return;
	}
	nregs = q.count;
	if (q.reg == U.short_block && U.answer && nregs > U.answer)
		nregs = U.answer;
	for (unsigned i = 0; i < nregs; i++) {
		data[2 * i] = (uint8_t)(q.reg >> 4);
		data[2 * i + 1] = (uint8_t)i;
	}
	if (U.stray_first) { /* another request's answer, naming its own register */
		uint8_t other[8] = {0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42};
		U.stray_first = false;
		assert_int_equal(blt_rtu_build_read_reply(0, other,
		                                          2u * (nregs < 4 ? nregs : 4) > 8
		                                              ? 8
		                                              : 2u * (nregs < 4 ? nregs : 4),
		                                          out, sizeof out, &len),
		                 BLT_OK);
		queue_env_reg(f, 4242, out, len);
	}
	assert_int_equal(blt_rtu_build_read_reply(0, data, 2u * nregs, out, sizeof out, &len),
	                 BLT_OK);
	queue_env_reg(f, unit_env(q.reg), out, len);
}

static blt_client_t *unit_setup(fake_transport_t *f, int timeout_ms)
{
	fake_transport_init(f);
	f->script = s_unit;
	memset(&U, 0, sizeof U);
	return make_client(f, "1111111111111", timeout_ms, 0, 0);
}

static const blt_read_len_t *len_of(blt_client_t *c, uint16_t start)
{
	static blt_read_len_t lens[32];
	size_t n = blt_client_read_lens(c, lens, 32);
	for (size_t i = 0; i < n && i < 32; i++)
		if (lens[i].start == start)
			return &lens[i];
	return NULL;
}

/* The Elite 200 V2 case (EVIDENCE.md §3): 98 registers of 100 refused, 90 accepted. The
 * longest length that works is found (98 refused, the core, then a bisection: 9 requests),
 * remembered, and every later read is one request of that length. */
static void test_block_read_search(void **state)
{
	fake_transport_t f;
	uint8_t data[256];
	size_t n = 0;
	uint8_t exc = 0xff;
	blt_detail_t d = {""};
	blt_client_stats_t st;
	const blt_read_len_t *l;
	static const uint16_t seq[] = {98, 3, 50, 74, 86, 92, 89, 90, 91};
	(void)state;
	blt_client_t *c = unit_setup(&f, 500);
	U.limit_block = 100;
	U.limit = 90;
	assert_int_equal(blt_client_read_block(c, 100, 98, 3, data, sizeof data, &n, &exc, &d),
	                 BLT_OK);
	assert_int_equal(n, 180);
	assert_int_equal(data[0], 0x06);
	assert_int_equal(data[179], 89);
	assert_int_equal(U.reads, 9);
	for (unsigned i = 0; i < 9; i++)
		assert_int_equal(U.counts[i], seq[i]);
	l = len_of(c, 100);
	assert_non_null(l);
	assert_int_equal(l->ok, 90);
	assert_int_equal(l->refused, 91);
	assert_int_equal(l->origin, BLT_RL_LEARNED);
	assert_int_equal(l->requests, 9);
	assert_true(blt_read_len_settled(l));
	assert_int_equal(blt_read_len_use(l, 98), 90);
	assert_int_equal(blt_read_len_use(l, 40), 40);
	blt_client_stats(c, &st);
	assert_int_equal(st.shortened, 8);
	/* from now on: one request of 90 */
	assert_int_equal(blt_client_read_block(c, 100, 98, 3, data, sizeof data, &n, NULL, &d),
	                 BLT_OK);
	assert_int_equal(U.reads, 10);
	assert_int_equal(U.counts[9], 90);
	assert_int_equal(n, 180);
	/* a block the unit lacks: the full read, the core, and the exception */
	U.lacks = 2000;
	assert_int_equal(blt_client_read_block(c, 2000, 95, 24, data, sizeof data, &n, &exc, &d),
	                 BLT_E_EXCEPTION);
	assert_int_equal(exc, 2);
	assert_int_equal(U.reads, 12);
	assert_int_equal(U.counts[11], 24);
	blt_client_free(c);
}

/* The same through the non-blocking path: one callback after all the requests. */
static void test_block_read_search_async(void **state)
{
	fake_transport_t f;
	rec_t r = {0};
	(void)state;
	blt_client_t *c = unit_setup(&f, 500);
	U.limit_block = 2000;
	U.limit = 90;
	assert_int_equal(blt_client_submit_read_block(c, 2000, 95, 24, on_reply, &r, NULL), BLT_OK);
	fake_transport_drain(&f);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.err, BLT_OK);
	assert_int_equal(r.reg, 2000);
	assert_int_equal(r.nbytes, 180);
	/* 95 refused, 24, 59, 77, 86, 90, 92 refused, 91 refused */
	assert_int_equal(r.attempts, U.reads);
	assert_int_equal(U.reads, 8);
	assert_int_equal(U.counts[5], 90);
	assert_int_equal(U.counts[7], 91);
	assert_false(blt_client_busy(c));
	assert_int_equal(blt_client_submit_read_block(c, 2000, 95, 24, on_reply, &r, NULL), BLT_OK);
	fake_transport_drain(&f);
	assert_int_equal(r.calls, 2);
	assert_int_equal(r.attempts, 1);
	assert_int_equal(U.counts[8], 90);
	/* a unit whose firmware shrank the block: 90 refused now, searched again */
	U.limit = 60;
	assert_int_equal(blt_client_submit_read_block(c, 2000, 95, 24, on_reply, &r, NULL), BLT_OK);
	fake_transport_drain(&f);
	assert_int_equal(r.calls, 3);
	assert_int_equal(r.err, BLT_OK);
	assert_int_equal(r.nbytes, 120);
	assert_int_equal(len_of(c, 2000)->ok, 60);
	assert_int_equal(len_of(c, 2000)->refused, 61);
	blt_client_free(c);
}

/* A length stored by an earlier run is used at once; one that does not fit is refused. */
static void test_block_read_stored(void **state)
{
	fake_transport_t f;
	uint8_t data[256];
	size_t n = 0;
	blt_detail_t d = {""};
	blt_read_len_t l = {
	    .start = 100, .asked = 98, .ok = 90, .refused = 91, .origin = BLT_RL_STORED};
	blt_read_len_t bad = {.start = 100, .ok = 91, .refused = 90};
	unsigned gen;
	(void)state;
	blt_client_t *c = unit_setup(&f, 500);
	U.limit_block = 100;
	U.limit = 90;
	assert_int_equal(blt_client_read_len_set(c, &bad, &d), BLT_E_RANGE);
	bad.ok = 0;
	bad.refused = 0;
	bad.reply = 20;
	bad.reply_to = 10;
	assert_int_equal(blt_client_read_len_set(c, &bad, &d), BLT_E_RANGE);
	assert_int_equal(blt_client_read_len_set(c, &l, &d), BLT_OK);
	gen = blt_client_read_lens_gen(c);
	assert_int_equal(blt_client_read_block(c, 100, 98, 3, data, sizeof data, &n, NULL, &d),
	                 BLT_OK);
	assert_int_equal(U.reads, 1);
	assert_int_equal(U.counts[0], 90);
	assert_int_equal(n, 180);
	assert_int_equal(blt_client_read_lens_gen(c), gen); /* nothing new to save */
	assert_int_equal(len_of(c, 100)->origin, BLT_RL_STORED);
	blt_client_free(c);
}

/* AP300 block 6100: 90 of 104 registers. Unknown, the short reply is held to the deadline
 * (it might be a stray) and then remembered; known from the profile (or an earlier run) it
 * is taken at once. */
static void test_known_short_reply(void **state)
{
	fake_transport_t f;
	rec_t r = {0};
	blt_detail_t d = {""};
	const blt_read_len_t *l;
	(void)state;
	blt_client_t *c = unit_setup(&f, 500);
	U.short_block = 6100;
	U.answer = 90;
	assert_int_equal(blt_client_submit_read_block(c, 6100, 104, 12, on_reply, &r, NULL),
	                 BLT_OK);
	fake_transport_drain(&f);
	assert_int_equal(r.calls, 0); /* held */
	assert_int_equal(blt_client_check_timeouts(c, blt_client_deadline(c)), 1);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.err, BLT_OK);
	assert_int_equal(r.nbytes, 180);
	l = len_of(c, 6100);
	assert_non_null(l);
	assert_int_equal(l->reply, 90);
	assert_int_equal(l->reply_to, 104);
	assert_int_equal(l->origin, BLT_RL_LEARNED);
	blt_client_free(c);

	/* the profile says so: taken at once, from the first read */
	c = unit_setup(&f, 500);
	U.short_block = 6100;
	U.answer = 90;
	assert_int_equal(blt_client_use_profile(c, blt_profile_find("AP300"), &d), BLT_OK);
	l = len_of(c, 6100);
	assert_non_null(l);
	assert_int_equal(l->origin, BLT_RL_PROFILE);
	assert_int_equal(l->reply, 90);
	r.calls = 0;
	assert_int_equal(blt_client_submit_read_block(c, 6100, 104, 12, on_reply, &r, NULL),
	                 BLT_OK);
	fake_transport_drain(&f);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.err, BLT_OK);
	assert_int_equal(r.nbytes, 180);
	/* a unit that answers all 104 after all: the confirmed length holds for one read (the
	 * stray rules), then the full reply is taken */
	U.answer = 0;
	assert_int_equal(blt_client_submit_read_block(c, 6100, 104, 12, on_reply, &r, NULL),
	                 BLT_OK);
	fake_transport_drain(&f);
	assert_int_equal(blt_client_check_timeouts(c, blt_client_deadline(c)), 1);
	assert_int_equal(r.err, BLT_E_TIMEOUT);
	read_ok(&f, c, 6100, 104, &r);
	assert_int_equal(r.nbytes, 208);
	blt_client_free(c);
}

/* Exceptions 05/06 are transient (PROTOCOL.md §1.4): a read is sent again after a short
 * delay, up to twice; a write never. */
static void test_busy_resent(void **state)
{
	fake_transport_t f;
	rec_t r = {0};
	blt_client_stats_t st;
	uint8_t data[64];
	size_t n = 0;
	uint64_t t0;
	blt_detail_t d = {""};
	(void)state;
	blt_client_t *c = unit_setup(&f, 500);
	U.busy = 1;
	assert_int_equal(blt_client_submit_read_block(c, 1300, 4, 4, on_reply, &r, NULL), BLT_OK);
	fake_transport_drain(&f);
	assert_int_equal(r.calls, 0); /* waiting to send again */
	assert_true(blt_client_busy(c));
	t0 = blt_client_deadline(c);
	assert_true(t0 > 0);
	assert_int_equal(blt_client_check_timeouts(c, t0 - 1), 0);
	assert_int_equal(U.reads, 1);
	assert_int_equal(blt_client_check_timeouts(c, t0), 0); /* sent again */
	assert_int_equal(U.reads, 2);
	fake_transport_drain(&f);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.err, BLT_OK);
	assert_int_equal(r.nbytes, 8);
	blt_client_stats(c, &st);
	assert_int_equal(st.busy, 1);
	assert_int_equal(st.timeouts, 0);
	/* blocking: the same, the wait serving the transport */
	U.busy = 2;
	t0 = blt_now_ms();
	assert_int_equal(blt_client_read(c, 1300, 4, data, sizeof data, &n, &d), BLT_OK);
	assert_true(blt_now_ms() - t0 >= 250 + 500);
	assert_int_equal(U.reads, 5);
	/* busy three times in a row: the exception is the answer */
	U.busy = 3;
	assert_int_equal(blt_client_read(c, 1300, 4, data, sizeof data, &n, &d), BLT_E_EXCEPTION);
	assert_non_null(strstr(d.text, "busy"));
	assert_int_equal(U.reads, 8);
	/* a write is never sent twice */
	U.busy = 1;
	f.npub = 0;
	assert_int_equal(blt_client_write1_raw(c, 2011, 1, &d), BLT_E_EXCEPTION);
	assert_int_equal(f.npub, 1);
	blt_client_free(c);
}

/* A unit that fills bytes 3-4 with the firmware's cycle counter: every reply is taken
 * (before, each was a "stray" and every read timed out). */
static void test_envelope_cycle_counter(void **state)
{
	fake_transport_t f;
	rec_t r = {0};
	blt_client_stats_t st;
	(void)state;
	blt_client_t *c = unit_setup(&f, 500);
	U.env = 2;
	for (int i = 0; i < 20; i++) {
		read_ok(&f, c, (uint16_t)(100 + 1200 * (i % 3)), 4, &r);
		assert_int_equal(r.nbytes, 8);
	}
	assert_false(blt_client_envelope_echoes(c));
	blt_client_stats(c, &st);
	assert_int_equal(st.timeouts, 0);
	assert_int_equal(st.stray, 0);
	blt_client_free(c);
}

/* A unit that echoes the register: learned from two replies for two registers; then a
 * reply naming another register is not taken; if the unit stops echoing, the first
 * timeout ends the rule. */
static void test_envelope_echo_learned(void **state)
{
	fake_transport_t f;
	rec_t r = {0};
	blt_client_stats_t st;
	(void)state;
	blt_client_t *c = unit_setup(&f, 500);
	U.env = 1;
	U.stray_first = true; /* before anything is known: taken (it is all we have) */
	read_ok(&f, c, 100, 4, &r);
	assert_int_equal(r.data[0], 0x42);
	assert_false(blt_client_envelope_echoes(c));
	read_ok(&f, c, 100, 4, &r);
	assert_false(blt_client_envelope_echoes(c)); /* one register only so far */
	read_ok(&f, c, 1300, 4, &r);
	assert_true(blt_client_envelope_echoes(c));
	U.stray_first = true;
	read_ok(&f, c, 100, 4, &r);
	assert_int_equal(r.data[0], 0x06); /* the real one, not 0x42 */
	blt_client_stats(c, &st);
	assert_int_equal(st.stray, 1);
	/* firmware update: a counter now. One timeout, then replies are taken again. */
	U.env = 2;
	assert_int_equal(blt_client_submit_read(c, 100, 4, on_reply, &r, NULL), BLT_OK);
	fake_transport_drain(&f);
	assert_int_equal(blt_client_check_timeouts(c, blt_client_deadline(c)), 1);
	assert_int_equal(r.err, BLT_E_TIMEOUT);
	assert_false(blt_client_envelope_echoes(c));
	read_ok(&f, c, 100, 4, &r);
	assert_int_equal(r.data[0], 0x06);
	blt_client_free(c);
}

/* Length discipline (issue 18): a read reply with more registers than asked is refused like
 * any other length mismatch, in both paths, also for block reads. */
static void test_longer_reply_refused(void **state)
{
	fake_transport_t f;
	rec_t r = {0};
	uint8_t data[64];
	size_t n = 0;
	blt_client_stats_t st;
	blt_detail_t d = {""};
	(void)state;
	fake_transport_init(&f);
	f.script = NULL;
	blt_client_t *c = make_client(&f, "1111111111111", 200, 0, 0);
	assert_int_equal(blt_client_submit_read_block(c, 100, 4, 4, on_reply, &r, NULL), BLT_OK);
	fake_queue_read_reply(&f, reply_topic[0], 0, 0x4444, 5, false);
	fake_transport_drain(&f);
	assert_int_equal(r.calls, 0);
	assert_int_equal(blt_client_check_timeouts(c, blt_client_deadline(c)), 1);
	assert_int_equal(r.err, BLT_E_TIMEOUT);
	fake_queue_read_reply(&f, reply_topic[0], 0, 0x4444, 5, false);
	assert_int_equal(blt_client_read(c, 100, 4, data, sizeof data, &n, &d), BLT_E_TIMEOUT);
	blt_client_stats(c, &st);
	assert_int_equal(st.replies, 0);
	assert_int_equal(st.unsolicited, 2);
	blt_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reply_through_callback),
	    cmocka_unit_test(test_busy_both_ways),
	    cmocka_unit_test(test_bad_arguments),
	    cmocka_unit_test(test_timeout_and_retries),
	    cmocka_unit_test(test_retry_then_reply),
	    cmocka_unit_test(test_resend_fails),
	    cmocka_unit_test(test_same_matching_rules),
	    cmocka_unit_test(test_exception),
	    cmocka_unit_test(test_silent_device_does_not_block_other),
	    cmocka_unit_test(test_cancel),
	    cmocka_unit_test(test_stray_duplicate_rejected),
	    cmocka_unit_test(test_stray_other_block_length_rejected),
	    cmocka_unit_test(test_stray_guess_heals),
	    cmocka_unit_test(test_short_first_reply_held),
	    cmocka_unit_test(test_block_read_search),
	    cmocka_unit_test(test_block_read_search_async),
	    cmocka_unit_test(test_block_read_stored),
	    cmocka_unit_test(test_known_short_reply),
	    cmocka_unit_test(test_busy_resent),
	    cmocka_unit_test(test_envelope_cycle_counter),
	    cmocka_unit_test(test_envelope_echo_learned),
	    cmocka_unit_test(test_longer_reply_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
