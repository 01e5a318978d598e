/* The Bluetooth LE transport (bluetti/ble.h): one persistent link to one device, the V2
 * session on top (ble_session.c, pure), the BlueZ I/O underneath (ble_link.h, one file).
 * States DOWN -> HANDSHAKE -> UP. Notifications are queued by the link callback and
 * processed after the bus dispatch returns, so a listener may publish from its handler
 * without re-entering the D-Bus library. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <bluetti/ble.h>
#include <bluetti/bluetti.h>

#include "transport/ble_link.h"
#include "transport/ble_session.h"
#include "transport/listeners.h"
#include "transport/transport_internal.h"

enum ble_state { ST_DOWN, ST_HANDSHAKE, ST_UP };

#define RXQ_N        64
#define RXQ_FRAG     520
#define KEEPALIVE_MS 8000 /* the device drops a session without a write 11 s after type 6 */

typedef struct ble {
	struct blt_transport base; /* first member */
	char address[18];
	char adapter[32];
	uint8_t verify[64];
	bool has_verify;
	int connect_timeout_ms, step_ms, attempts, first_reply_ms, rmin, rmax;

	ble_link_t *link;
	blt_ble_session_t sess;
	enum ble_state st;
	bool want, link_lost;
	int backoff_ms;
	uint64_t next_attempt, step_deadline, hs_start, est_ms;
	int hs_err;
	blt_detail_t hs_detail;

	/* first request of a session (short-secret defect detection, §3.8 / §3.14.1) */
	bool fresh, sent_any, awaiting, resent;
	uint64_t req_ms;
	uint8_t pending[BLT_BLE_PLAIN_MAX];
	size_t pending_len;

	/* notifications queued by the link callback */
	uint8_t rxq[RXQ_N][RXQ_FRAG];
	size_t rxq_len[RXQ_N];
	int rxq_head, rxq_count;
	uint64_t rxq_dropped;

	blt_listeners_t ls;
	blt_ble_stats_t stats;
} ble_t;

static const struct blt_transport_ops ble_ops;

static void notify_conn(ble_t *b, bool up, int err)
{
	if (b->base.conn_fn)
		b->base.conn_fn(b->base.conn_user, up, err);
}

/* --- link callbacks ---------------------------------------------------------------------- */

static void on_notify(void *user, const uint8_t *p, size_t n)
{
	ble_t *b = user;
	int slot;
	if (n > RXQ_FRAG || b->rxq_count == RXQ_N) {
		b->rxq_dropped++;
		return;
	}
	slot = (b->rxq_head + b->rxq_count) % RXQ_N;
	memcpy(b->rxq[slot], p, n);
	b->rxq_len[slot] = n;
	b->rxq_count++;
}

static void on_down(void *user, const char *why)
{
	ble_t *b = user;
	(void)why;
	b->link_lost = true;
}

/* --- session I/O ------------------------------------------------------------------------- */

static void deliver(ble_t *b, const uint8_t *p, size_t n)
{
	blt_listeners_dispatch(&b->ls, NULL, p, n, false);
}

static int send_out(ble_t *b, const blt_ble_out_t *o, blt_detail_t *d)
{
	for (int i = 0; i < o->nsend; i++) {
		int rc = ble_link_write(b->link, o->send[i], o->send_len[i], d);
		if (rc != BLT_OK)
			return rc;
		b->stats.tx_messages++;
	}
	return BLT_OK;
}

/* Run every queued fragment through the session. */
static void drain(ble_t *b)
{
	blt_ble_out_t *o = malloc(sizeof *o);
	blt_detail_t d = {{0}};

	if (!o)
		return;
	while (b->rxq_count && !b->link_lost) {
		int slot = b->rxq_head, rc;
		b->rxq_head = (b->rxq_head + 1) % RXQ_N;
		b->rxq_count--;
		if (b->st == ST_DOWN)
			continue;
		rc = blt_ble_feed(&b->sess, b->rxq[slot], b->rxq_len[slot], o, &d);
		while (rc != 0) {
			if (rc < 0) {
				if (b->st == ST_HANDSHAKE || b->sess.state == BLT_BLE_FAILED) {
					b->hs_err = rc;
					b->hs_detail = d;
					break;
				}
				b->stats.bad_messages++;
				blt_log(BLT_LOG_DEBUG, "ble: dropped a message from %s: %s",
				        b->address, d.text);
				break;
			}
			b->stats.rx_messages++;
			if (o->restarted && b->st == ST_UP) {
				/* the device restarted the handshake (notify re-enabled, §3.14.6)
				 */
				blt_log(BLT_LOG_WARN, "ble: %s restarted the handshake",
				        b->address);
				b->st = ST_HANDSHAKE;
				b->hs_start = blt_now_ms();
				notify_conn(b, false, BLT_E_DISCONNECTED);
			}
			if (o->nsend && (rc = send_out(b, o, &d)) != BLT_OK) {
				b->hs_err = rc;
				b->hs_detail = d;
				break;
			}
			if (b->st == ST_HANDSHAKE)
				b->step_deadline = blt_now_ms() + (uint64_t)b->step_ms;
			if (o->established) {
				uint64_t now = blt_now_ms();
				b->st = ST_UP;
				b->est_ms = now;
				b->stats.handshakes++;
				b->stats.last_handshake_us = (now - b->hs_start) * 1000u;
				b->fresh = true;
				b->sent_any = b->awaiting = false;
			}
			if (o->has_plain) {
				b->fresh = b->awaiting = false;
				deliver(b, o->plain, o->plain_len);
			}
			rc = blt_ble_feed(&b->sess, NULL, 0, o, &d);
		}
	}
	OPENSSL_cleanse(o, sizeof *o);
	free(o);
}

static int drive(ble_t *b, int timeout_ms, blt_detail_t *d)
{
	/* notifications queued while a write waited for its answer: no waiting for more */
	int rc = ble_link_process(b->link, b->rxq_count ? 0 : timeout_ms, d);
	drain(b);
	return rc;
}

static const char *step_name(const blt_ble_session_t *s)
{
	switch (s->state) {
	case BLT_BLE_IDLE: return "no challenge (type 1) after enabling notifications";
	case BLT_BLE_WAIT_3: return "no challenge result (type 3)";
	case BLT_BLE_WAIT_4: return "no device key (type 4)";
	case BLT_BLE_WAIT_6: return "no key result (type 6)";
	default: return "handshake stalled";
	}
}

/* One connection + handshake. Returns BLT_OK with st == ST_UP, else the link is down. */
static int one_attempt(ble_t *b, blt_detail_t *d)
{
	blt_ble_config_t cfg = {.role = BLT_BLE_CLIENT,
	                        .verify_pub = b->has_verify ? b->verify : NULL};
	int rc;

	b->link_lost = false;
	b->rxq_count = 0;
	b->hs_err = BLT_OK;
	rc = ble_link_connect(b->link, b->address, b->connect_timeout_ms, d);
	if (rc != BLT_OK)
		return rc;
	b->stats.connects++;
	if ((rc = blt_ble_init(&b->sess, &cfg, d)) != BLT_OK)
		return rc;
	b->st = ST_HANDSHAKE;
	b->hs_start = blt_now_ms();
	b->step_deadline = b->hs_start + (uint64_t)b->step_ms;
	if ((rc = ble_link_start_notify(b->link, d)) != BLT_OK)
		return rc;
	while (b->st == ST_HANDSHAKE) {
		uint64_t now = blt_now_ms();
		if (b->hs_err != BLT_OK) {
			if (d)
				*d = b->hs_detail;
			return b->hs_err;
		}
		if (b->link_lost)
			return blt_detail_set(d, BLT_E_DISCONNECTED,
			                      "device disconnected during the handshake (%s)",
			                      step_name(&b->sess));
		if (now >= b->step_deadline)
			return blt_detail_set(d, BLT_E_TIMEOUT, "%s within %d ms",
			                      step_name(&b->sess), b->step_ms);
		rc =
		    drive(b, (int)(b->step_deadline - now < 100 ? b->step_deadline - now : 100), d);
		if (rc != BLT_OK)
			return rc;
	}
	return b->st == ST_UP ? BLT_OK : blt_detail_set(d, BLT_E_PROTOCOL, "handshake ended");
}

static void link_reset(ble_t *b)
{
	ble_link_disconnect(b->link);
	blt_ble_clear(&b->sess);
	b->st = ST_DOWN;
	b->rxq_count = 0;
}

/* Connect and handshake, retrying on a new connection (the firmware defects, timers). */
static int establish(ble_t *b, blt_detail_t *d)
{
	blt_detail_t ld = {{0}};
	int rc = BLT_E_CONNECT;

	if (!b->link) {
		ble_link_cbs_t cbs = {.notify = on_notify, .down = on_down, .user = b};
		if ((rc = ble_link_open(b->adapter, &cbs, &b->link, d)) != BLT_OK)
			return rc;
	}
	for (int i = 0; i < b->attempts; i++) {
		if (i)
			b->stats.retries++;
		rc = one_attempt(b, &ld);
		if (rc == BLT_OK) {
			b->backoff_ms = b->rmin;
			blt_log(BLT_LOG_INFO, "ble: %s connected, session established in %llu ms",
			        b->address,
			        (unsigned long long)(b->stats.last_handshake_us / 1000));
			return BLT_OK;
		}
		blt_log(BLT_LOG_WARN, "ble: %s attempt %d/%d: %s: %s", b->address, i + 1,
		        b->attempts, blt_strerror(rc), ld.text);
		link_reset(b);
		if (rc == BLT_E_NOT_FOUND || rc == BLT_E_NOMEM)
			break; /* out of range: retrying now will not help */
		/* the device regenerates its keys after a disconnect (§3.8): give it a moment */
		if (i + 1 < b->attempts)
			ble_link_process(b->link, 300, NULL);
	}
	return blt_detail_set(d, rc, "%s: %s", b->address, ld.text);
}

static void schedule_retry(ble_t *b)
{
	uint32_t r = 0;
	int half = b->backoff_ms / 2;
	RAND_bytes((unsigned char *)&r, sizeof r);
	b->next_attempt = blt_now_ms() + (uint64_t)(half + (int)(r % (uint32_t)(half + 1)));
	b->backoff_ms = b->backoff_ms < b->rmax / 2 ? b->backoff_ms * 2 : b->rmax;
}

/* --- transport ops ---------------------------------------------------------------------- */

static int ble_connect(blt_transport_t *t, blt_detail_t *d)
{
	ble_t *b = (ble_t *)t;
	int rc;

	if (b->st == ST_UP)
		return BLT_OK;
	b->want = true;
	rc = establish(b, d);
	if (rc != BLT_OK) {
		schedule_retry(b);
		return rc;
	}
	notify_conn(b, true, BLT_OK);
	return BLT_OK;
}

static void lost(ble_t *b, const char *why)
{
	bool was_up = b->st == ST_UP;
	blt_log(BLT_LOG_WARN, "ble: connection to %s lost (%s)", b->address, why);
	link_reset(b);
	if (b->want)
		schedule_retry(b);
	if (was_up)
		notify_conn(b, false, BLT_E_DISCONNECTED);
}

static int resend_pending(ble_t *b, blt_detail_t *d);

static int ble_poll(blt_transport_t *t, int timeout_ms, blt_detail_t *d)
{
	ble_t *b = (ble_t *)t;
	uint64_t now = blt_now_ms(), end = now + (uint64_t)timeout_ms, rx_before;
	blt_detail_t local;
	int rc;

	if (!d)
		d = &local;
	if (b->st != ST_UP) {
		if (!b->want || now < b->next_attempt) {
			uint64_t wait = b->want ? b->next_attempt - now : (uint64_t)timeout_ms;
			if (wait > (uint64_t)timeout_ms)
				wait = (uint64_t)timeout_ms;
			if (b->link)
				ble_link_process(b->link, (int)wait, NULL);
			else if (wait)
				poll(NULL, 0, (int)wait);
			return blt_detail_set(d, BLT_E_DISCONNECTED, "not connected to %s",
			                      b->address);
		}
		blt_log(BLT_LOG_INFO, "ble: reconnecting to %s", b->address);
		rc = establish(b, d);
		if (rc != BLT_OK) {
			schedule_retry(b);
			blt_log(BLT_LOG_WARN, "ble: reconnect failed: %s", d->text);
			return BLT_E_DISCONNECTED;
		}
		notify_conn(b, true, BLT_OK);
		return BLT_OK;
	}
	rx_before = b->stats.rx_messages;
	for (;;) {
		now = blt_now_ms();
		rc = drive(b, end > now ? (int)(end - now < 50 ? end - now : 50) : 0, d);
		now = blt_now_ms();
		if (b->link_lost || rc != BLT_OK) {
			lost(b, b->link_lost ? "device disconnected" : d->text);
			return blt_detail_set(d, BLT_E_DISCONNECTED, "connection to %s lost",
			                      b->address);
		}
		if (b->hs_err != BLT_OK && b->st != ST_UP) {
			lost(b, b->hs_detail.text);
			return blt_detail_set(d, BLT_E_DISCONNECTED, "handshake with %s failed",
			                      b->address);
		}
		if (b->st == ST_UP && !b->sent_any && now - b->est_ms >= KEEPALIVE_MS) {
			/* any write ends the device's 11 s wait (§3.14.7); one zero byte decrypts
			 * to a frame the device drops */
			static const uint8_t zero = 0;
			uint8_t w[32];
			size_t wn;
			if (blt_ble_encrypt(&b->sess, &zero, 1, w, sizeof w, &wn, NULL) == BLT_OK &&
			    ble_link_write(b->link, w, wn, NULL) == BLT_OK)
				b->sent_any = true;
		}
		if (b->st == ST_UP && b->fresh && b->awaiting && !b->resent &&
		    now - b->req_ms >= (uint64_t)b->first_reply_ms) {
			/* §3.8 / §3.14.1: mismatched session keys leave the first request
			 * unanswered; a new handshake cures it */
			blt_log(
			    BLT_LOG_WARN,
			    "ble: no reply from %s to the first request of the session within %d "
			    "ms (the short-secret defect); new handshake",
			    b->address, b->first_reply_ms);
			b->stats.retries++;
			link_reset(b);
			rc = establish(b, d);
			if (rc != BLT_OK) {
				if (b->want)
					schedule_retry(b);
				notify_conn(b, false, BLT_E_DISCONNECTED);
				return BLT_E_DISCONNECTED;
			}
			if ((rc = resend_pending(b, d)) != BLT_OK) {
				lost(b, d->text);
				return BLT_E_DISCONNECTED;
			}
		}
		if (b->st == ST_HANDSHAKE && now >= b->step_deadline) {
			lost(b, step_name(&b->sess));
			return BLT_E_DISCONNECTED;
		}
		/* return once something was delivered, like a socket poll would */
		if (now >= end || b->stats.rx_messages != rx_before)
			break;
	}
	return b->st == ST_UP ? BLT_OK : BLT_E_DISCONNECTED;
}

static int write_plain(ble_t *b, const uint8_t *p, size_t n, blt_detail_t *d)
{
	uint8_t w[BLT_BLE_MSG_MAX];
	size_t wn;
	int rc = blt_ble_encrypt(&b->sess, p, n, w, sizeof w, &wn, d);
	if (rc != BLT_OK)
		return rc;
	rc = ble_link_write(b->link, w, wn, d);
	if (rc != BLT_OK)
		return rc;
	b->stats.tx_messages++;
	b->sent_any = true;
	return BLT_OK;
}

static int resend_pending(ble_t *b, blt_detail_t *d)
{
	b->resent = true;
	if (!b->pending_len)
		return BLT_OK;
	b->awaiting = true;
	b->req_ms = blt_now_ms();
	return write_plain(b, b->pending, b->pending_len, d);
}

static int ble_publish(blt_transport_t *t, const char *topic, const void *payload, size_t len,
                       int qos, bool retain, blt_detail_t *d)
{
	ble_t *b = (ble_t *)t;
	int rc;
	(void)topic;
	(void)qos;
	(void)retain;

	if (b->st != ST_UP)
		return blt_detail_set(d, BLT_E_DISCONNECTED, "not connected to %s", b->address);
	if (len == 0 || len > BLT_BLE_PLAIN_MAX - 15)
		return blt_detail_set(d, BLT_E_INVAL,
		                      "frame of %zu bytes does not fit a BLE message", len);
	if (b->fresh && !b->awaiting) {
		memcpy(b->pending, payload, len);
		b->pending_len = len;
		b->awaiting = true;
		b->resent = false;
		b->req_ms = blt_now_ms();
	}
	rc = write_plain(b, payload, len, d);
	if (rc == BLT_E_DISCONNECTED || rc == BLT_E_IO) {
		lost(b, d ? d->text : "write failed");
		return BLT_E_DISCONNECTED;
	}
	return rc;
}

static int ble_listen(blt_transport_t *t, const char *topic, blt_msg_fn fn, void *user,
                      blt_detail_t *d)
{
	ble_t *b = (ble_t *)t;

	if (!blt_listeners_add(&b->ls, topic, fn, user))
		return blt_detail_set(d, BLT_E_NOMEM, "out of memory");
	return BLT_OK;
}

static void ble_unlisten(blt_transport_t *t, const char *topic, blt_msg_fn fn, void *user)
{
	blt_listeners_remove(&((ble_t *)t)->ls, topic, fn, user, NULL);
}

static bool ble_connected(const blt_transport_t *t)
{
	return ((const ble_t *)t)->st == ST_UP;
}

static void ble_disconnect(blt_transport_t *t)
{
	ble_t *b = (ble_t *)t;
	bool was_up = b->st == ST_UP;
	b->want = false;
	if (b->link)
		link_reset(b);
	if (was_up)
		notify_conn(b, false, BLT_OK);
}

static void ble_destroy(blt_transport_t *t)
{
	ble_t *b = (ble_t *)t;
	if (!blt_listeners_clear(&b->ls))
		return; /* called from a handler: freeing now would pull the rug */
	if (b->link) {
		link_reset(b);
		ble_link_close(b->link);
	}
	OPENSSL_cleanse(b, sizeof *b);
	free(b);
}

static const struct blt_transport_ops ble_ops = {
    .connect = ble_connect,
    .listen = ble_listen,
    .unlisten = ble_unlisten,
    .publish = ble_publish,
    .poll = ble_poll,
    .connected = ble_connected,
    .disconnect = ble_disconnect,
    .destroy = ble_destroy,
};

/* --- construction, helpers -------------------------------------------------------------- */

int blt_ble_address_ok(const char *a)
{
	static const char hexd[] = "0123456789abcdefABCDEF";
	if (!a || strlen(a) != 17)
		return BLT_E_INVAL;
	for (int i = 0; i < 17; i++) {
		if (i % 3 == 2 ? a[i] != ':' : !strchr(hexd, a[i]) || !a[i])
			return BLT_E_INVAL;
	}
	return BLT_OK;
}

blt_err_t blt_ble_new(const blt_ble_opts_t *o, blt_transport_t **out, blt_detail_t *d)
{
	ble_t *b;

	if (!out)
		return blt_detail_set(d, BLT_E_INVAL, "no output pointer");
	*out = NULL;
	if (!o || blt_ble_address_ok(o->address) != BLT_OK)
		return blt_detail_set(d, BLT_E_INVAL,
		                      "Bluetooth address '%s' is not of the form AA:BB:CC:DD:EE:FF",
		                      o && o->address ? o->address : "");
	if (o->adapter && (!o->adapter[0] || strlen(o->adapter) > 16 || strchr(o->adapter, '/')))
		return blt_detail_set(d, BLT_E_INVAL, "adapter name '%s' is not valid (e.g. hci0)",
		                      o->adapter);
	if (o->connect_timeout_ms < 0 || o->step_timeout_ms < 0 || o->handshake_attempts < 0 ||
	    o->first_reply_ms < 0 || o->reconnect_min_ms < 0 || o->reconnect_max_ms < 0)
		return blt_detail_set(d, BLT_E_CONFIG, "negative BLE timing option");
	b = calloc(1, sizeof *b);
	if (!b)
		return blt_detail_set(d, BLT_E_NOMEM, "out of memory");
	b->base.ops = &ble_ops;
	snprintf(b->address, sizeof b->address, "%s", o->address);
	for (char *c = b->address; *c; c++)
		if (*c >= 'a' && *c <= 'f')
			*c = (char)(*c - 'a' + 'A');
	snprintf(b->adapter, sizeof b->adapter, "%s", o->adapter ? o->adapter : "hci0");
	if (o->test_verify_key) {
		blt_ble_session_t probe;
		blt_ble_config_t cfg = {.role = BLT_BLE_CLIENT, .verify_pub = o->test_verify_key};
		int rc = blt_ble_init(&probe, &cfg, d);
		blt_ble_clear(&probe);
		if (rc != BLT_OK) {
			free(b);
			return rc;
		}
		memcpy(b->verify, o->test_verify_key, 64);
		b->has_verify = true;
		blt_log(BLT_LOG_WARN,
		        "ble: TEST verify key in use: only a simulator will be accepted");
	}
	b->connect_timeout_ms = o->connect_timeout_ms ? o->connect_timeout_ms : 30000;
	b->step_ms = o->step_timeout_ms ? o->step_timeout_ms : 5000;
	b->attempts = o->handshake_attempts ? o->handshake_attempts : 3;
	b->first_reply_ms = o->first_reply_ms ? o->first_reply_ms : 2500;
	b->rmin = o->reconnect_min_ms ? o->reconnect_min_ms : 5000;
	b->rmax = o->reconnect_max_ms ? o->reconnect_max_ms : 60000;
	if (b->rmax < b->rmin)
		b->rmax = b->rmin;
	b->backoff_ms = b->rmin;
	*out = &b->base;
	return BLT_OK;
}

void blt_ble_stats(const blt_transport_t *t, blt_ble_stats_t *out)
{
	memset(out, 0, sizeof *out);
	if (t && t->ops == &ble_ops)
		*out = ((const ble_t *)t)->stats;
}

static const char *const name_prefixes[] = {"AC", "AP", "EB",          "EL",        "Elite",
                                            "EP", "PR", "FridgePower", "Handsfree", "B"};

void blt_ble_classify(blt_ble_device_info_t *i, const uint8_t *mfr, size_t mfr_len, bool has_mfr)
{
	size_t n = strlen(i->name), digits = 0, cut;

	i->bluetti = has_mfr && mfr_len >= 6 && !memcmp(mfr, "BLUETT", 6);
	i->encrypted = has_mfr && mfr_len == 7 && !memcmp(mfr, "BLUETTF", 7);
	while (digits < n && i->name[n - 1 - digits] >= '0' && i->name[n - 1 - digits] <= '9')
		digits++;
	i->model[0] = '\0';
	if (digits < 12 || digits == n)
		return;
	/* GAP name = model + serial (13 digits on V2 units, 12 on some older ones) */
	cut = digits >= 13 ? 13 : 12;
	snprintf(i->model, sizeof i->model, "%.*s", (int)(n - cut), i->name);
	for (size_t k = strlen(i->model); k && i->model[k - 1] == ' '; k--)
		i->model[k - 1] = '\0';
	if (!i->bluetti)
		for (size_t p = 0; p < sizeof name_prefixes / sizeof name_prefixes[0]; p++)
			if (!strncmp(i->model, name_prefixes[p], strlen(name_prefixes[p])))
				i->bluetti = true;
	if (!i->bluetti)
		i->model[0] = '\0';
}

static int cmp_dev(const void *a, const void *b)
{
	const blt_ble_device_info_t *x = a, *y = b;
	if (x->bluetti != y->bluetti)
		return x->bluetti ? -1 : 1;
	if (x->has_rssi != y->has_rssi)
		return x->has_rssi ? -1 : 1;
	if (x->rssi != y->rssi)
		return y->rssi - x->rssi;
	return strcmp(x->address, y->address);
}

blt_err_t blt_ble_scan(const char *adapter, int duration_ms, blt_ble_device_info_t *out, size_t cap,
                       size_t *n, blt_detail_t *d)
{
	int rc;
	if (!out || !n || duration_ms < 0)
		return blt_detail_set(d, BLT_E_INVAL, "scan: bad arguments");
	if (!adapter)
		adapter = "hci0";
	if (!adapter[0] || strlen(adapter) > 16 || strchr(adapter, '/'))
		return blt_detail_set(d, BLT_E_INVAL, "adapter name '%s' is not valid", adapter);
	rc = ble_link_scan(adapter, duration_ms, out, cap, n, d);
	if (rc == BLT_OK)
		qsort(out, *n, sizeof *out, cmp_dev);
	return rc;
}
