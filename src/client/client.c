/* Modbus-over-MQTT client for one device: wraps requests in the wire preset's envelope,
 * publishes them (QoS 1) and waits for the matching reply while driving the transport.
 *
 * Correlation (PROTOCOL.md §1.10): one outstanding request; a message is the reply only if
 * it is not retained, unwraps, parses as a valid RTU reply and blt_rtu_match accepts it for
 * the request (slave, function, register / echo, length plausibility). Everything else
 * that parses is unsolicited (devices push FC10-shaped telemetry, other slaves answer);
 * what does not parse is counted as a bad frame and named in the timeout error.
 *
 * Blocking (transact) and non-blocking (submit) requests share everything but the wait:
 * prepare() validates and wraps, send_attempt() publishes, on_msg() matches, take_reply()
 * accounts for the reply and timed_out() for a timeout. A submitted request completes from
 * on_msg (reply) or blt_client_check_timeouts (deadline) through its callback. */
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include <bluetti/bluetti.h>
#include <bluetti/client.h>
#include <bluetti/transport.h>

#define TOPIC_MAX 192
#define LEARNED_MAX 32

struct blt_client {
	blt_transport_t *t;
	char sub_topic[TOPIC_MAX];
	char pub_topic[TOPIC_MAX];
	uint8_t slave;
	blt_envelope_t env;
	int timeout_ms;
	int retries;
	bool started;
	bool once; /* blt_client_transact_once: no retries, wrong write echoes are answers */
	bool node_query; /* the NODE_INFO query: the answer is an FC10-shaped frame (§1.6) */

	blt_unsolicited_fn unsol;
	void *unsol_user;

	/* the outstanding request */
	bool busy;
	uint8_t req[BLT_RTU_MAX];
	size_t req_len;
	blt_rtu_t req_rtu;
	bool have_reply;
	uint8_t reply[BLT_RTU_MAX];
	size_t reply_len;
	int8_t reply_rssi;
	unsigned bad_now; /* invalid frames during this request */
	int last_bad;     /* error code of the last invalid frame */
	uint64_t t0_us;   /* publish time of the current attempt */

	/* a submitted (non-blocking) request: busy && async */
	bool async;
	blt_reply_fn cb;
	void *cb_user;
	int attempt;                      /* 0-based attempt number */
	uint64_t deadline;                /* ms, blt_now_ms clock */
	uint8_t payload[BLT_PAYLOAD_MAX]; /* wrapped request, for re-sends */
	size_t plen;

	/* Stray-reply defence (FC03 replies carry no register, and the AP300 leaves the V2
	 * envelope's register at 0): reply lengths learned per read request, and the last
	 * accepted read reply. See classify_read(). */
	struct learned {
		uint16_t reg, count, nbytes;
		uint8_t slave; /* nodes answer at their own slave address (NODE_INFO) */
		bool candidate; /* a short length seen once, not confirmed yet */
	} learned[LEARNED_MAX];
	unsigned nlearned;
	unsigned stray_now; /* read replies rejected as stray during this request */
	uint16_t rejected_len; /* length of the last read reply rejected as stray */
	bool held;             /* a short reply of unknown length: taken at the deadline */
	uint8_t held_rtu[BLT_RTU_MAX];
	size_t held_len;
	int8_t held_rssi;
	uint16_t last_reg;  /* request register of the last accepted read reply */
	size_t last_len;
	uint8_t last[BLT_RTU_MAX];

	blt_client_stats_t st;
};

static void complete_reply(blt_client_t *c);

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)(ts.tv_nsec / 1000);
}

/* --- incoming messages --------------------------------------------------------------- */

static void bad_frame(blt_client_t *c, int err, const char *topic, const char *why)
{
	c->st.bad_frames++;
	if (c->busy) {
		c->bad_now++;
		c->last_bad = err;
	}
	blt_log(BLT_LOG_DEBUG, "client: invalid frame on %s: %s", topic, why);
}

static void deliver_unsolicited(blt_client_t *c, const blt_rtu_t *f, const uint8_t *payload,
                                size_t len)
{
	c->st.unsolicited++;
	if (c->unsol)
		c->unsol(c->unsol_user, f, payload, len);
}

static struct learned *learned_find(blt_client_t *c, uint16_t reg, uint16_t count)
{
	for (unsigned i = 0; i < c->nlearned; i++)
		if (c->learned[i].reg == reg && c->learned[i].count == count &&
		    c->learned[i].slave == c->req_rtu.slave)
			return &c->learned[i];
	return NULL;
}

/* Is a read reply that blt_rtu_match accepted really the answer to the outstanding
 * request? FC03 replies carry no register, and the AP300 leaves the V2 envelope register
 * at 0, so a duplicated delivery or the answer to another client's read of another block
 * on the same topic looks like an answer. Decided from what the client has seen:
 *  STRAY: a byte-identical copy of the last accepted reply, which answered another
 *         register; a length other than the one confirmed for this request (register,
 *         count); a short reply whose length is confirmed for another request (unless it
 *         is this request's candidate, see timed_out);
 *  TAKE:  the confirmed length, or the full length;
 *  HOLD:  any other short reply: a device may answer fewer registers than asked (the
 *         AP300 gives 90 of 104 of 6100), but so does a stray; it is taken at the
 *         deadline if no better answer came. */
enum { TAKE, STRAY, HOLD };

static int classify_read(blt_client_t *c, const uint8_t *rtu, size_t rtu_len, const blt_rtu_t *f)
{
	const blt_rtu_t *q = &c->req_rtu;
	struct learned *mine;

	if (q->function != BLT_FC_READ || f->function != BLT_FC_READ)
		return TAKE;
	if (c->last_len && c->last_reg != q->reg && rtu_len == c->last_len &&
	    memcmp(rtu, c->last, rtu_len) == 0)
		return STRAY;
	mine = learned_find(c, q->reg, q->count);
	if (mine && !mine->candidate)
		return f->nbytes == mine->nbytes ? TAKE : STRAY;
	if (f->nbytes == 2u * q->count || (mine && mine->nbytes == f->nbytes))
		return TAKE;
	for (unsigned i = 0; i < c->nlearned; i++) /* replies come from the slave asked */
		if (!c->learned[i].candidate && c->learned[i].nbytes == f->nbytes &&
		    c->learned[i].slave == q->slave)
			return STRAY;
	return HOLD;
}

/* Deadline reached with a held short reply: it is the answer after all. */
static bool take_held(blt_client_t *c);

/* Remember an accepted read reply (its length per request, and its bytes). */
static void learn_read(blt_client_t *c, const uint8_t *rtu, size_t rtu_len, const blt_rtu_t *f)
{
	const blt_rtu_t *q = &c->req_rtu;
	struct learned *l;
	if (q->function != BLT_FC_READ || f->function != BLT_FC_READ)
		return;
	l = learned_find(c, q->reg, q->count);
	if (!l) {
		if (c->nlearned == LEARNED_MAX) /* forget the oldest */
			memmove(&c->learned[0], &c->learned[1],
			        (LEARNED_MAX - 1) * sizeof c->learned[0]);
		else
			c->nlearned++;
		l = &c->learned[c->nlearned - 1];
		l->reg = q->reg;
		l->count = q->count;
		l->slave = q->slave;
	}
	l->nbytes = (uint16_t)f->nbytes;
	l->candidate = false;
	c->last_reg = q->reg;
	c->last_len = rtu_len;
	memcpy(c->last, rtu, rtu_len);
}

static bool take_held(blt_client_t *c)
{
	blt_rtu_t f;
	if (!c->held || c->have_reply)
		return false;
	c->held = false;
	if (blt_rtu_parse(c->held_rtu, c->held_len, BLT_RTU_REPLY, &f, NULL) != BLT_OK)
		return false;
	learn_read(c, c->held_rtu, c->held_len, &f);
	memcpy(c->reply, c->held_rtu, c->held_len);
	c->reply_len = c->held_len;
	c->reply_rssi = c->held_rssi;
	c->have_reply = true;
	return true;
}

/* The answer to the NODE_INFO query is shaped like an FC10 request (start 21000, byte
 * count, data) from the slave asked; a plain FC10 acknowledgement is not the answer. */
static bool node_answer(blt_client_t *c, const blt_rtu_t *f, const uint8_t *rtu, size_t n,
                        int8_t rssi)
{
	if (!c->busy || !c->node_query || c->have_reply || f->function != BLT_FC_WRITEN ||
	    f->slave != c->req_rtu.slave || f->reg != c->req_rtu.reg || f->nbytes < 4)
		return false;
	memcpy(c->reply, rtu, n);
	c->reply_len = n;
	c->reply_rssi = rssi;
	c->have_reply = true;
	if (c->async)
		complete_reply(c);
	return true;
}

static void on_msg(void *user, const char *topic, const uint8_t *payload, size_t len, bool retained)
{
	blt_client_t *c = user;
	blt_env_info_t env;
	blt_rtu_t f;
	blt_detail_t d;
	int rc;

	/* A retained message is history (possibly from another session): never a reply. */
	if (retained) {
		blt_log(BLT_LOG_DEBUG, "client: ignoring retained message on %s", topic);
		return;
	}
	rc = blt_env_unwrap(payload, len, &env, &d);
	if (rc != BLT_OK) {
		bad_frame(c, rc, topic, d.text);
		return;
	}
	rc = blt_rtu_parse(env.rtu, env.rtu_len, BLT_RTU_REPLY, &f, &d);
	if (rc == BLT_OK || rc == BLT_E_EXCEPTION) {
		/* A V2 envelope naming another register answers another request (e.g. a late
		 * reply to one that timed out). Zero means "not filled in" (AP300 captures). */
		bool reg_ok = env.envelope != BLT_ENV_V2 || env.reg == 0 || !c->busy ||
		              env.reg == c->req_rtu.reg;
		if (c->busy && !c->have_reply && reg_ok && !(c->node_query && rc == BLT_OK)) {
			int m = blt_rtu_match(&c->req_rtu, &f, NULL);
			/* transact_once: a write echo for the same register with other data is
			 * the device's (wrong) answer, for the caller's echo check. */
			bool wrong_echo = c->once && m == BLT_E_MISMATCH &&
			                  c->req_rtu.function != BLT_FC_READ &&
			                  f.reg == c->req_rtu.reg;
			int kind = m == BLT_OK ? classify_read(c, env.rtu, env.rtu_len, &f) : TAKE;
			if (kind == HOLD && !c->held) {
				c->held = true;
				memcpy(c->held_rtu, env.rtu, env.rtu_len);
				c->held_len = env.rtu_len;
				c->held_rssi = env.rssi;
				return;
			}
			if (kind != TAKE) {
				c->stray_now++;
				c->rejected_len = (uint16_t)f.nbytes;
				c->st.stray++;
				blt_log(BLT_LOG_DEBUG,
				        "client: %s: ignoring a %zu-byte reply that may answer "
				        "another request (duplicate or another block)",
				        topic, f.nbytes);
				deliver_unsolicited(c, &f, payload, len);
				return;
			}
			if (m == BLT_OK) {
				if (c->held) { /* a better answer came: what was held was a stray */
					c->held = false;
					c->st.stray++;
				}
				learn_read(c, env.rtu, env.rtu_len, &f);
			}
			if (m == BLT_OK || m == BLT_E_EXCEPTION || wrong_echo) {
				memcpy(c->reply, env.rtu, env.rtu_len);
				c->reply_len = env.rtu_len;
				c->reply_rssi = env.rssi;
				c->have_reply = true;
				if (c->async)
					complete_reply(c);
				return;
			}
		}
		deliver_unsolicited(c, &f, payload, len);
		return;
	}
	/* Not a reply: maybe a request-shaped push (FC10 telemetry, §1.6). */
	blt_detail_t d2;
	if (blt_rtu_parse(env.rtu, env.rtu_len, BLT_RTU_REQUEST, &f, &d2) == BLT_OK) {
		if (node_answer(c, &f, env.rtu, env.rtu_len, env.rssi))
			return;
		deliver_unsolicited(c, &f, payload, len);
		return;
	}
	bad_frame(c, rc, topic, d.text);
}

/* --- construction ------------------------------------------------------------------------ */

static int expand(const char *tmpl, const char *model, const char *sn, char *out, blt_detail_t *d)
{
	int rc = blt_topic_expand(tmpl, model, sn, out, TOPIC_MAX, d);
	if (rc != BLT_OK)
		return rc;
	if (strchr(out, '+') || strchr(out, '#') || !out[0])
		return blt_detail_set(d, BLT_E_CONFIG, "topic '%s' must not contain wildcards",
		                      out);
	return BLT_OK;
}

int blt_client_new(blt_transport_t *t, const blt_client_opts_t *o, blt_client_t **out,
                   blt_detail_t *d)
{
	const blt_wire_preset_t *p;
	blt_client_t *c;
	int rc;

	if (!out)
		return blt_detail_set(d, BLT_E_INVAL, "no output pointer");
	*out = NULL;
	if (!t || !o)
		return blt_detail_set(d, BLT_E_INVAL, "client needs a transport and options");
	p = blt_wire_preset_find(o->preset ? o->preset : "v2");
	if (!p)
		return blt_detail_set(d, BLT_E_NOT_FOUND, "unknown wire preset '%s'", o->preset);
	if (!blt_topic_segment_ok(o->sn))
		return blt_detail_set(d, BLT_E_SERIAL,
		                      "serial number '%s' is not a valid topic segment (letters, "
		                      "digits, '.', '_', '-'; at most 64)",
		                      o->sn ? o->sn : "");
	if (o->slave < -1 || o->slave > 255)
		return blt_detail_set(d, BLT_E_CONFIG, "slave address %d out of range 0..255",
		                      o->slave);
	if (o->envelope < -1 || o->envelope > BLT_ENV_V2)
		return blt_detail_set(d, BLT_E_CONFIG, "unknown envelope %d", o->envelope);
	if (o->timeout_ms < 0 || o->retries < 0 || o->retries > 100)
		return blt_detail_set(d, BLT_E_CONFIG, "bad timeout (%d ms) or retries (%d)",
		                      o->timeout_ms, o->retries);

	c = calloc(1, sizeof *c);
	if (!c)
		return blt_detail_set(d, BLT_E_NOMEM, "out of memory");
	c->t = t;
	c->slave = o->slave >= 0 ? (uint8_t)o->slave : p->slave;
	c->env = o->envelope >= 0 ? (blt_envelope_t)o->envelope : (blt_envelope_t)p->envelope;
	c->timeout_ms = o->timeout_ms ? o->timeout_ms : 5000;
	c->retries = o->retries;
	rc = expand(o->sub_topic ? o->sub_topic : p->sub_topic, o->model, o->sn, c->sub_topic, d);
	if (rc == BLT_OK)
		rc = expand(o->pub_topic ? o->pub_topic : p->pub_topic, o->model, o->sn,
		            c->pub_topic, d);
	/* Listening where we publish would take our own FC06 request for its echo. */
	if (rc == BLT_OK && strcmp(c->sub_topic, c->pub_topic) == 0)
		rc =
		    blt_detail_set(d, BLT_E_CONFIG,
		                   "reply topic and request topic are the same (%s)", c->sub_topic);
	if (rc != BLT_OK) {
		free(c);
		return rc;
	}
	*out = c;
	return BLT_OK;
}

int blt_client_start(blt_client_t *c, blt_detail_t *d)
{
	int rc;
	if (!c)
		return blt_detail_set(d, BLT_E_INVAL, "no client");
	if (c->started)
		return BLT_OK;
	rc = blt_transport_listen(c->t, c->sub_topic, on_msg, c, d);
	/* DISCONNECTED: the listener is registered and subscribed again on reconnect. */
	if (rc == BLT_OK || rc == BLT_E_DISCONNECTED)
		c->started = true;
	return rc;
}

void blt_client_on_unsolicited(blt_client_t *c, blt_unsolicited_fn fn, void *user)
{
	if (c) {
		c->unsol = fn;
		c->unsol_user = user;
	}
}

void blt_client_stats(const blt_client_t *c, blt_client_stats_t *out)
{
	if (c && out)
		*out = c->st;
	else if (out)
		memset(out, 0, sizeof *out);
}

void blt_client_free(blt_client_t *c)
{
	if (!c)
		return;
	if (c->started)
		blt_transport_unlisten_fn(c->t, c->sub_topic, on_msg, c);
	free(c);
}

/* --- requests --------------------------------------------------------------------------- */

static void describe(const blt_rtu_t *r, char *out, size_t cap)
{
	switch (r->function) {
	case BLT_FC_READ:
		snprintf(out, cap, "read of %u registers at %u (slave %u)", r->count, r->reg,
		         r->slave);
		break;
	case BLT_FC_WRITE1:
		snprintf(out, cap, "write of register %u (slave %u)", r->reg, r->slave);
		break;
	case BLT_FC_WRITEN:
		snprintf(out, cap, "write of %u registers at %u (slave %u)", r->count, r->reg,
		         r->slave);
		break;
	default:
		snprintf(out, cap, "function 0x%02x at %u (slave %u)", r->function, r->reg,
		         r->slave);
	}
}

/* Validate req, keep it as the outstanding request's description and wrap it into
 * payload[cap] (*plen bytes). Starts the client if needed. Nothing is sent. */
static int prepare(blt_client_t *c, const uint8_t *req, size_t req_len, uint8_t *payload,
                   size_t cap, size_t *plen, blt_detail_t *d)
{
	int rc;

	if (c->busy)
		return blt_detail_set(d, BLT_E_BUSY,
		                      "a request to %s is already outstanding (register %u)",
		                      c->pub_topic, c->req_rtu.reg);
	if (req_len > sizeof c->req)
		return blt_detail_set(d, BLT_E_RANGE, "request of %zu bytes too long", req_len);
	memcpy(c->req, req, req_len);
	c->req_len = req_len;
	rc = blt_rtu_parse(c->req, req_len, BLT_RTU_REQUEST, &c->req_rtu, d);
	if (rc != BLT_OK)
		return rc == BLT_E_EXCEPTION ? blt_detail_set(d, BLT_E_INVAL, "not a request") : rc;
	rc = blt_env_wrap(c->env, c->req_rtu.reg, 0, c->req, req_len, payload, cap, plen);
	if (rc != BLT_OK)
		return blt_detail_set(d, rc, "cannot wrap the request: %s", blt_strerror(rc));
	if (!c->started) {
		rc = blt_client_start(c, d);
		if (rc != BLT_OK)
			return rc;
	}
	return BLT_OK;
}

/* Publish one attempt of the prepared request; the client is busy until it completes. */
static int send_attempt(blt_client_t *c, const uint8_t *payload, size_t plen, blt_detail_t *d)
{
	int rc;
	c->busy = true;
	c->have_reply = false;
	c->bad_now = 0;
	c->last_bad = 0;
	c->stray_now = 0;
	c->held = false;
	c->st.requests++;
	c->t0_us = now_us();
	rc = blt_transport_publish(c->t, c->pub_topic, payload, plen, 1, false, d);
	if (rc != BLT_OK)
		c->busy = false;
	return rc;
}

/* Account for the reply held in c->reply (the client is idle again): BLT_OK or
 * BLT_E_EXCEPTION (code in *exception, detail set). *rtt_us gets the round trip. */
static int take_reply(blt_client_t *c, uint8_t *exception, uint64_t *rtt_us, blt_detail_t *d)
{
	char what[96];
	blt_rtu_t f;
	uint64_t rtt = now_us() - c->t0_us;
	int rc;

	c->busy = false;
	c->st.replies++;
	c->st.last_rtt_ms = rtt / 1000u;
	if (rtt_us)
		*rtt_us = rtt;
	if (c->env == BLT_ENV_V2 || c->reply_rssi)
		c->st.last_rssi = c->reply_rssi;
	rc = blt_rtu_parse(c->reply, c->reply_len, BLT_RTU_REPLY, &f, NULL);
	if (rc == BLT_E_EXCEPTION) {
		c->st.exceptions++;
		if (exception)
			*exception = f.exception;
		describe(&c->req_rtu, what, sizeof what);
		return blt_detail_set(d, BLT_E_EXCEPTION,
		                      "device answered %s with exception %u (%s)", what,
		                      f.exception, blt_exception_name(f.exception));
	}
	return BLT_OK;
}

/* The current attempt got no valid reply in time: count it, say why. */
static int timed_out(blt_client_t *c, blt_detail_t *d)
{
	char what[96];
	c->busy = false;
	c->st.timeouts++;
	if (c->stray_now && c->req_rtu.function == BLT_FC_READ) {
		/* What was rejected may have been the real answer: forget a confirmed length
		 * (it may have come from a stray), or take the short length seen as the
		 * candidate for the next attempt. */
		struct learned *l = learned_find(c, c->req_rtu.reg, c->req_rtu.count);
		if (l && !l->candidate) {
			*l = c->learned[--c->nlearned];
		} else {
			if (!l && c->nlearned < LEARNED_MAX) {
				l = &c->learned[c->nlearned++];
				l->reg = c->req_rtu.reg;
				l->count = c->req_rtu.count;
				l->slave = c->req_rtu.slave;
			}
			if (l) {
				l->nbytes = c->rejected_len;
				l->candidate = true;
			}
		}
	}
	describe(&c->req_rtu, what, sizeof what);
	if (c->bad_now)
		return blt_detail_set(d, BLT_E_TIMEOUT,
		                      "no valid reply on %s to %s within %d ms; %u invalid frames "
		                      "received (last: %s)",
		                      c->sub_topic, what, c->timeout_ms, c->bad_now,
		                      blt_strerror(c->last_bad));
	return blt_detail_set(d, BLT_E_TIMEOUT, "no reply on %s to %s within %d ms", c->sub_topic,
	                      what, c->timeout_ms);
}

static int transact(blt_client_t *c, const uint8_t *req, size_t req_len, uint8_t *reply, size_t cap,
                    size_t *reply_len, uint8_t *exception, int retries, blt_detail_t *d)
{
	uint8_t payload[BLT_PAYLOAD_MAX];
	size_t plen;
	int rc;

	if (!c || !req || !reply_len || (cap && !reply))
		return blt_detail_set(d, BLT_E_INVAL,
		                      "transact needs a client, a request and output");
	rc = prepare(c, req, req_len, payload, sizeof payload, &plen, d);
	if (rc != BLT_OK)
		return rc;

	for (int attempt = 0; attempt <= retries; attempt++) {
		uint64_t deadline, now;

		rc = send_attempt(c, payload, plen, d);
		if (rc != BLT_OK)
			return rc;
		deadline = c->t0_us / 1000u + (uint64_t)c->timeout_ms;
		while (!c->have_reply && (now = blt_now_ms()) < deadline) {
			uint64_t left = deadline - now;
			blt_transport_poll(c->t, left < 100 ? (int)left : 100, NULL);
		}
		take_held(c);
		if (c->have_reply) {
			rc = take_reply(c, exception, NULL, d);
			if (rc != BLT_OK)
				return rc;
			if (c->reply_len > cap)
				return blt_detail_set(d, BLT_E_BUFSIZE,
				                      "reply of %zu bytes, buffer holds %zu",
				                      c->reply_len, cap);
			memcpy(reply, c->reply, c->reply_len);
			*reply_len = c->reply_len;
			return BLT_OK;
		}
		timed_out(c, d);
		if (attempt < retries)
			blt_log(BLT_LOG_INFO, "client: %s; retrying (%d of %d)",
			        d ? d->text : "timeout", attempt + 1, retries);
	}
	return BLT_E_TIMEOUT;
}

int blt_client_transact(blt_client_t *c, const uint8_t *req, size_t req_len, uint8_t *reply,
                        size_t cap, size_t *reply_len, uint8_t *exception, blt_detail_t *d)
{
	if (!c)
		return blt_detail_set(d, BLT_E_INVAL,
		                      "transact needs a client, a request and output");
	return transact(c, req, req_len, reply, cap, reply_len, exception, c->retries, d);
}

int blt_client_transact_once(blt_client_t *c, const uint8_t *req, size_t req_len, uint8_t *reply,
                             size_t cap, size_t *reply_len, uint8_t *exception, blt_detail_t *d)
{
	int rc;
	if (!c)
		return blt_detail_set(d, BLT_E_INVAL,
		                      "transact needs a client, a request and output");
	if (c->busy) /* BUSY; leave the outstanding request's mode alone */
		return transact(c, req, req_len, reply, cap, reply_len, exception, 0, d);
	c->once = true;
	rc = transact(c, req, req_len, reply, cap, reply_len, exception, 0, d);
	c->once = false;
	return rc;
}

int blt_client_read(blt_client_t *c, uint16_t start, uint16_t count, uint8_t *data, size_t cap,
                    size_t *nbytes, blt_detail_t *d)
{
	uint8_t req[16], reply[BLT_RTU_MAX];
	size_t rlen, n;
	blt_rtu_t f;
	int rc;

	if (!c || !nbytes || (cap && !data))
		return blt_detail_set(d, BLT_E_INVAL, "read needs a client and output");
	rc = blt_rtu_build_read(c->slave, start, count, req, sizeof req, &rlen);
	if (rc != BLT_OK)
		return blt_detail_set(d, rc, "cannot build a read of %u registers at %u: %s", count,
		                      start, blt_strerror(rc));
	rc = blt_client_transact(c, req, rlen, reply, sizeof reply, &n, NULL, d);
	if (rc != BLT_OK)
		return rc;
	rc = blt_rtu_parse(reply, n, BLT_RTU_REPLY, &f, d);
	if (rc != BLT_OK)
		return rc;
	if (f.nbytes > cap)
		return blt_detail_set(d, BLT_E_BUFSIZE, "%zu register bytes, buffer holds %zu",
		                      f.nbytes, cap);
	memcpy(data, f.data, f.nbytes);
	*nbytes = f.nbytes;
	return BLT_OK;
}

/* The first cmp bytes of the reply must equal the request's and the reply be expect_len
 * bytes long. */
static int check_echo(const uint8_t *req, size_t cmp, const uint8_t *reply, size_t n,
                      size_t expect_len, blt_detail_t *d)
{
	char a[2 * 16 + 1], b[2 * 16 + 1];
	if (n == expect_len && memcmp(req, reply, cmp) == 0)
		return BLT_OK;
	blt_hex_encode(req, cmp < 16 ? cmp : 16, a, sizeof a);
	blt_hex_encode(reply, n < 16 ? n : 16, b, sizeof b);
	return blt_detail_set(d, BLT_E_MISMATCH, "write reply %s does not echo the request %s", b,
	                      a);
}

int blt_client_write1_raw(blt_client_t *c, uint16_t reg, uint16_t value, blt_detail_t *d)
{
	uint8_t req[16], reply[BLT_RTU_MAX];
	size_t rlen, n;
	int rc;

	if (!c)
		return blt_detail_set(d, BLT_E_INVAL, "no client");
	rc = blt_rtu_build_write1(c->slave, reg, value, req, sizeof req, &rlen);
	if (rc != BLT_OK)
		return blt_detail_set(d, rc, "cannot build a write of register %u", reg);
	rc = blt_client_transact(c, req, rlen, reply, sizeof reply, &n, NULL, d);
	if (rc != BLT_OK)
		return rc;
	/* FC06: the device echoes the identical frame. */
	return check_echo(req, rlen, reply, n, rlen, d);
}

int blt_client_writen_raw(blt_client_t *c, uint16_t start, const uint16_t *values, uint16_t count,
                          blt_detail_t *d)
{
	uint8_t req[BLT_RTU_MAX], reply[BLT_RTU_MAX];
	size_t rlen, n;
	int rc;

	if (!c || (count && !values))
		return blt_detail_set(d, BLT_E_INVAL, "write needs a client and values");
	rc = blt_rtu_build_writen(c->slave, start, values, count, req, sizeof req, &rlen);
	if (rc != BLT_OK)
		return blt_detail_set(d, rc, "cannot build a write of %u registers at %u: %s",
		                      count, start, blt_strerror(rc));
	rc = blt_client_transact(c, req, rlen, reply, sizeof reply, &n, NULL, d);
	if (rc != BLT_OK)
		return rc;
	/* FC10 reply: address, function, start and quantity as sent (+ its own CRC). */
	return check_echo(req, 6, reply, n, 8, d);
}

/* --- non-blocking requests -------------------------------------------------------------- */

/* Finish the submitted request with result r (the client is idle when the callback runs,
 * so it may submit the next request). */
static void complete(blt_client_t *c, blt_client_result_t *r)
{
	blt_reply_fn cb = c->cb;
	void *user = c->cb_user;
	c->async = false;
	c->busy = false;
	c->node_query = false;
	c->cb = NULL;
	c->cb_user = NULL;
	r->reg = c->req_rtu.reg;
	r->attempts = c->attempt + 1;
	if (cb)
		cb(user, r);
}

/* on_msg took the reply of a submitted request. */
static void complete_reply(blt_client_t *c)
{
	uint8_t reply[BLT_RTU_MAX];
	blt_detail_t det = {{0}};
	blt_client_result_t r;
	blt_rtu_t f;

	memset(&r, 0, sizeof r);
	r.detail = &det;
	r.err = take_reply(c, &r.exception, &r.rtt_us, &det);
	/* A copy: the callback may submit again and a new reply must not change this one. */
	memcpy(reply, c->reply, c->reply_len);
	r.reply = reply;
	r.reply_len = c->reply_len;
	if (r.err == BLT_OK && c->req_rtu.function == BLT_FC_READ &&
	    blt_rtu_parse(reply, r.reply_len, BLT_RTU_REPLY, &f, &det) == BLT_OK) {
		r.data = f.data;
		r.nbytes = f.nbytes;
	}
	if (r.err == BLT_OK && c->node_query &&
	    blt_rtu_parse(reply, r.reply_len, BLT_RTU_REQUEST, &f, &det) == BLT_OK) {
		r.data = f.data;
		r.nbytes = f.nbytes;
	}
	complete(c, &r);
}

int blt_client_submit(blt_client_t *c, const uint8_t *req, size_t req_len, blt_reply_fn cb,
                      void *user, blt_detail_t *d)
{
	int rc;
	if (!c || !req || !cb)
		return blt_detail_set(d, BLT_E_INVAL,
		                      "submit needs a client, a request and a callback");
	rc = prepare(c, req, req_len, c->payload, sizeof c->payload, &c->plen, d);
	if (rc != BLT_OK)
		return rc;
	rc = send_attempt(c, c->payload, c->plen, d);
	if (rc != BLT_OK)
		return rc;
	c->async = true;
	c->cb = cb;
	c->cb_user = user;
	c->attempt = 0;
	c->deadline = c->t0_us / 1000u + (uint64_t)c->timeout_ms;
	return BLT_OK;
}

int blt_client_submit_read(blt_client_t *c, uint16_t start, uint16_t count, blt_reply_fn cb,
                           void *user, blt_detail_t *d)
{
	uint8_t req[16];
	size_t rlen;
	int rc;
	if (!c)
		return blt_detail_set(d, BLT_E_INVAL, "read needs a client");
	rc = blt_rtu_build_read(c->slave, start, count, req, sizeof req, &rlen);
	if (rc != BLT_OK)
		return blt_detail_set(d, rc, "cannot build a read of %u registers at %u: %s", count,
		                      start, blt_strerror(rc));
	return blt_client_submit(c, req, rlen, cb, user, d);
}

int blt_client_check_timeouts(blt_client_t *c, uint64_t now_ms)
{
	blt_detail_t det = {{0}};
	blt_client_result_t r;
	int rc;

	if (!c || !c->async || now_ms < c->deadline)
		return 0;
	if (take_held(c)) {
		complete_reply(c);
		return 1;
	}
	memset(&r, 0, sizeof r);
	r.detail = &det;
	r.err = timed_out(c, &det);
	if (c->attempt < c->retries) {
		blt_log(BLT_LOG_INFO, "client: %s; retrying (%d of %d)", det.text, c->attempt + 1,
		        c->retries);
		c->attempt++;
		rc = send_attempt(c, c->payload, c->plen, &det);
		if (rc == BLT_OK) {
			c->deadline = c->t0_us / 1000u + (uint64_t)c->timeout_ms;
			return 0;
		}
		r.err = rc;
	}
	complete(c, &r);
	return 1;
}

bool blt_client_busy(const blt_client_t *c)
{
	return c && c->busy;
}

uint64_t blt_client_deadline(const blt_client_t *c)
{
	return c && c->async ? c->deadline : 0;
}

void blt_client_cancel(blt_client_t *c)
{
	if (c && c->async) {
		c->async = false;
		c->busy = false;
		c->cb = NULL;
		c->cb_user = NULL;
	}
}

/* --- nodes (NODE_INFO, PROTOCOL.md §1.6): requests at another slave address ----------- */

uint8_t blt_client_slave(const blt_client_t *c)
{
	return c ? c->slave : 0;
}

int blt_client_read_at(blt_client_t *c, uint8_t slave, uint16_t start, uint16_t count,
                       uint8_t *data, size_t cap, size_t *nbytes, blt_detail_t *d)
{
	uint8_t req[16], reply[BLT_RTU_MAX];
	size_t rlen, n;
	blt_rtu_t f;
	int rc;

	if (!c || !nbytes || (cap && !data))
		return blt_detail_set(d, BLT_E_INVAL, "read needs a client and output");
	rc = blt_rtu_build_read(slave, start, count, req, sizeof req, &rlen);
	if (rc != BLT_OK)
		return blt_detail_set(d, rc, "cannot build a read of %u registers at %u: %s", count,
		                      start, blt_strerror(rc));
	rc = blt_client_transact(c, req, rlen, reply, sizeof reply, &n, NULL, d);
	if (rc != BLT_OK)
		return rc;
	rc = blt_rtu_parse(reply, n, BLT_RTU_REPLY, &f, d);
	if (rc != BLT_OK)
		return rc;
	if (f.nbytes > cap)
		return blt_detail_set(d, BLT_E_BUFSIZE, "%zu register bytes, buffer holds %zu",
		                      f.nbytes, cap);
	memcpy(data, f.data, f.nbytes);
	*nbytes = f.nbytes;
	return BLT_OK;
}

int blt_client_submit_read_at(blt_client_t *c, uint8_t slave, uint16_t start, uint16_t count,
                              blt_reply_fn cb, void *user, blt_detail_t *d)
{
	uint8_t req[16];
	size_t rlen;
	int rc;
	if (!c)
		return blt_detail_set(d, BLT_E_INVAL, "read needs a client");
	rc = blt_rtu_build_read(slave, start, count, req, sizeof req, &rlen);
	if (rc != BLT_OK)
		return blt_detail_set(d, rc, "cannot build a read of %u registers at %u: %s", count,
		                      start, blt_strerror(rc));
	return blt_client_submit(c, req, rlen, cb, user, d);
}

/* The query itself: FC10 of the version selector 1 to 21000 at the client's slave, as the
 * app and battery-ha send it (PROTOCOL.md §1.6). It selects what the device reports and
 * changes no setting. */
static int node_query_frame(blt_client_t *c, uint8_t *req, size_t cap, size_t *rlen,
                            blt_detail_t *d)
{
	static const uint16_t version = 1;
	int rc = blt_rtu_build_writen(c->slave, 21000, &version, 1, req, cap, rlen);
	if (rc != BLT_OK)
		return blt_detail_set(d, rc, "cannot build the NODE_INFO query: %s",
		                      blt_strerror(rc));
	return BLT_OK;
}

int blt_client_node_info(blt_client_t *c, uint8_t *data, size_t cap, size_t *nbytes,
                         blt_detail_t *d)
{
	uint8_t req[16], reply[BLT_RTU_MAX];
	size_t rlen, n;
	blt_rtu_t f;
	int rc;

	if (!c || !nbytes || (cap && !data))
		return blt_detail_set(d, BLT_E_INVAL, "node query needs a client and output");
	rc = node_query_frame(c, req, sizeof req, &rlen, d);
	if (rc != BLT_OK)
		return rc;
	if (c->busy) /* BUSY; leave the outstanding request's mode alone */
		return transact(c, req, rlen, reply, sizeof reply, &n, NULL, c->retries, d);
	c->node_query = true;
	rc = transact(c, req, rlen, reply, sizeof reply, &n, NULL, c->retries, d);
	c->node_query = false;
	if (rc != BLT_OK)
		return rc;
	rc = blt_rtu_parse(reply, n, BLT_RTU_REQUEST, &f, d);
	if (rc != BLT_OK)
		return rc;
	if (f.nbytes > cap)
		return blt_detail_set(d, BLT_E_BUFSIZE, "%zu node bytes, buffer holds %zu",
		                      f.nbytes, cap);
	memcpy(data, f.data, f.nbytes);
	*nbytes = f.nbytes;
	return BLT_OK;
}

int blt_client_submit_node_info(blt_client_t *c, blt_reply_fn cb, void *user, blt_detail_t *d)
{
	uint8_t req[16];
	size_t rlen;
	int rc;
	if (!c)
		return blt_detail_set(d, BLT_E_INVAL, "node query needs a client");
	rc = node_query_frame(c, req, sizeof req, &rlen, d);
	if (rc != BLT_OK)
		return rc;
	if (c->busy)
		return blt_client_submit(c, req, rlen, cb, user, d); /* BUSY */
	c->node_query = true;
	rc = blt_client_submit(c, req, rlen, cb, user, d);
	if (rc != BLT_OK)
		c->node_query = false;
	return rc;
}
