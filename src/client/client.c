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

#define TOPIC_MAX   192
#define LEARNED_MAX 32

struct blt_client {
	blt_transport_t *t;
	char sub_topic[TOPIC_MAX];
	char pub_topic[TOPIC_MAX];
	uint8_t slave;
	blt_envelope_t env;
	int qos;       /* of requests: the preset's (0 for Open MQTT), else 1 */
	bool open_map; /* Modbus TCP open map: busy = wait 1 s, retry once (LOCAL.md §1.5) */
	int timeout_ms;
	int retries;
	bool started;
	bool once;       /* blt_client_transact_once: no retries, wrong write echoes are answers */
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
		uint8_t slave;  /* nodes answer at their own slave address (NODE_INFO) */
		bool candidate; /* a short length seen once, not confirmed yet */
	} learned[LEARNED_MAX];
	unsigned nlearned;
	unsigned stray_now;    /* read replies rejected as stray during this request */
	uint16_t rejected_len; /* length of the last read reply rejected as stray */
	bool held;             /* a short reply of unknown length: taken at the deadline */
	uint8_t held_rtu[BLT_RTU_MAX];
	size_t held_len;
	int8_t held_rssi;
	uint16_t last_reg; /* request register of the last accepted read reply */
	size_t last_len;
	uint8_t last[BLT_RTU_MAX];

	/* Bytes 3-4 of the V2 envelope: a correlation key only once the device has shown that
	 * it echoes the register there (see envelope_learn). */
	bool echo;             /* established */
	uint8_t echo_seen;     /* replies in a row that echoed the register (distinct regs) */
	uint16_t echo_reg;     /* the register of the last of them */
	unsigned env_rejected; /* replies rejected on the envelope register, this request */

	/* exceptions 05/06 to a read: sent again after a delay (busy_defer) */
	int busy_used;      /* re-sends for busy in this request */
	uint64_t resend_at; /* async: re-send due (ms); 0 = not waiting */

	/* what is known of the device's read lengths, per start register (blt_read_len_t) */
	blt_read_len_t lens[LEARNED_MAX];
	unsigned nlens;
	unsigned lens_gen;

	/* the block read in progress (blt_client_read_block / submit_read_block) */
	struct adaptive {
		bool on;
		uint16_t start, asked, core, n; /* n: registers of the request in flight */
		int requests, attempts;
		bool searched;    /* a refusal made this read search */
		bool was_settled; /* the length was settled when the read began */
		blt_reply_fn cb;
		void *user;
		uint8_t best[BLT_RTU_MAX]; /* the longest accepted reply's register bytes */
		size_t best_len;
		uint16_t best_n;
		bool have_best;
	} ad;

	blt_client_stats_t st;

	/* liveness: when the device last sent a frame that parses, and its last Open MQTT
	 * push of block 11000 (blt_now_ms clock; 0 = never) */
	uint64_t last_heard, last_push;
};

#define BUSY_RETRIES  2
#define BUSY_DELAY_MS 250 /* doubled for the second re-send */
/* Modbus TCP (LOCAL.md §1.5): exceptions 05/06 are transient; wait at least 1 s, retry once */
#define BUSY_RETRIES_OPEN_MAP  1
#define BUSY_DELAY_MS_OPEN_MAP 1000
#define SEARCH_MAX             12 /* requests one block read may cost while searching a length */

static void complete_reply(blt_client_t *c);

/* The internal register a Modbus TCP public address maps to, or -1. */
static long open_map_internal(uint16_t pub)
{
	const blt_tcp_run_t *r = blt_tcpmap_find_public(pub);
	return r ? (long)r->internal + (pub - r->pub) : -1;
}

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

/* An accepted V2 reply: does the device echo the request's register in bytes 3-4? Two
 * accepted replies in a row naming their requests' (different, non-zero) registers make it
 * a fact; a reply naming anything else before that resets the count. A counter cannot
 * match two different registers in a row by chance in practice. */
static void envelope_learn(blt_client_t *c, uint16_t env_reg)
{
	uint16_t reg = c->req_rtu.reg;
	if (c->echo)
		return;
	if (env_reg != reg || reg == 0) {
		c->echo_seen = 0;
		return;
	}
	if (c->echo_seen && c->echo_reg == reg)
		return;
	c->echo_reg = reg;
	if (++c->echo_seen >= 2) {
		c->echo = true;
		blt_log(BLT_LOG_INFO,
		        "client: %s echoes the request register in the V2 envelope; using it "
		        "to match replies",
		        c->sub_topic);
	}
}

/* The reply in c->reply is exception 05/06 to a read with re-sends left: account for it
 * and wait (the client stays busy). Returns the delay in ms, 0 if the reply stands. */
static int busy_delay(blt_client_t *c)
{
	blt_rtu_t f;
	int ms;
	if (c->once || c->req_rtu.function != BLT_FC_READ ||
	    c->busy_used >= (c->open_map ? BUSY_RETRIES_OPEN_MAP : BUSY_RETRIES))
		return 0;
	if (blt_rtu_parse(c->reply, c->reply_len, BLT_RTU_REPLY, &f, NULL) != BLT_E_EXCEPTION ||
	    (f.exception != 5 && f.exception != 6))
		return 0;
	c->st.replies++;
	c->st.exceptions++;
	c->st.busy++;
	c->have_reply = false;
	c->held = false;
	ms = c->open_map ? BUSY_DELAY_MS_OPEN_MAP : BUSY_DELAY_MS << c->busy_used;
	c->busy_used++;
	blt_log(BLT_LOG_INFO,
	        "client: %s: read of %u registers at %u answered with exception %u "
	        "(%s); sending it again in %d ms",
	        c->sub_topic, c->req_rtu.count, c->req_rtu.reg, f.exception,
	        blt_exception_name(f.exception), ms);
	return ms;
}

/* Async: a busy reply schedules the re-send (blt_client_check_timeouts sends it). */
static bool busy_defer(blt_client_t *c)
{
	int ms = busy_delay(c);
	if (!ms)
		return false;
	c->resend_at = blt_now_ms() + (uint64_t)ms;
	c->deadline = c->resend_at;
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
		c->last_heard = blt_now_ms();
		/* Bytes 3-4 of a device's V2 envelope are a cycle counter in the firmware
		 * (LOCAL.md §5 item 4) and 0 on the AP300: they say which request a reply
		 * answers only on a device that has shown it echoes the register there. */
		bool reg_ok =
		    env.envelope != BLT_ENV_V2 || !c->echo || !c->busy || env.reg == c->req_rtu.reg;
		if (c->busy && !c->have_reply && !c->resend_at && !reg_ok) {
			c->env_rejected++;
			c->st.stray++;
			blt_log(BLT_LOG_DEBUG,
			        "client: %s: ignoring a reply whose envelope names register %u "
			        "(request: %u)",
			        topic, env.reg, c->req_rtu.reg);
		}
		if (c->busy && !c->have_reply && !c->resend_at && reg_ok &&
		    !(c->node_query && rc == BLT_OK)) {
			int m = blt_rtu_match(&c->req_rtu, &f, NULL);
			/* transact_once: a write echo for the same register with other data is
			 * the device's (wrong) answer, for the caller's echo check. */
			bool wrong_echo = c->once && m == BLT_E_MISMATCH &&
			                  c->req_rtu.function != BLT_FC_READ &&
			                  f.reg == c->req_rtu.reg;
			/* Modbus TCP: the echo of an FC06 to a public address names the internal
			 * register it maps to (LOCAL.md §1.3); the caller checks it */
			bool alias_echo = c->open_map && m == BLT_E_MISMATCH &&
			                  c->req_rtu.function == BLT_FC_WRITE1 &&
			                  f.function == BLT_FC_WRITE1 &&
			                  f.value == c->req_rtu.value &&
			                  open_map_internal(c->req_rtu.reg) == (long)f.reg;
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
			if (m == BLT_OK || m == BLT_E_EXCEPTION || wrong_echo || alias_echo) {
				if (env.envelope == BLT_ENV_V2)
					envelope_learn(c, env.reg);
				memcpy(c->reply, env.rtu, env.rtu_len);
				c->reply_len = env.rtu_len;
				c->reply_rssi = env.rssi;
				c->have_reply = true;
				if (c->async && !busy_defer(c))
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
		c->last_heard = blt_now_ms();
		if (blt_client_is_iot_push(&f)) {
			c->last_push = c->last_heard;
			blt_log(BLT_LOG_DEBUG, "client: %s: the device's periodic push of block %u",
			        topic, BLT_IOT_PUSH_BLOCK);
		}
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

blt_err_t blt_client_new(blt_transport_t *t, const blt_client_opts_t *o, blt_client_t **out,
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
	c->qos = p->qos0 ? 0 : 1; /* QoS 0 has no redelivery: the timeout and retries cover it */
	c->open_map = p->open_map;
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

blt_err_t blt_client_start(blt_client_t *c, blt_detail_t *d)
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
	c->busy_used = 0;
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
	c->env_rejected = 0;
	c->held = false;
	c->resend_at = 0;
	c->st.requests++;
	c->t0_us = now_us();
	rc = blt_transport_publish(c->t, c->pub_topic, payload, plen, c->qos, false, d);
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
	if (c->env_rejected && c->echo) {
		/* what the envelope rule rejected may have been the answer: stop trusting it */
		c->echo = false;
		c->echo_seen = 0;
		blt_log(BLT_LOG_INFO,
		        "client: %s: no reply with the request register in the envelope; no "
		        "longer matching replies by it",
		        c->sub_topic);
	}
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
			int ms = busy_delay(c);
			if (ms) {
				/* busy: wait (serving the transport), then the same attempt again
				 */
				uint64_t until = blt_now_ms() + (uint64_t)ms;
				c->resend_at = until;
				while ((now = blt_now_ms()) < until) {
					uint64_t left = until - now;
					blt_transport_poll(c->t, left < 100 ? (int)left : 100,
					                   NULL);
				}
				c->resend_at = 0;
				attempt--;
				continue;
			}
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

blt_err_t blt_client_transact(blt_client_t *c, const uint8_t *req, size_t req_len, uint8_t *reply,
                              size_t cap, size_t *reply_len, uint8_t *exception, blt_detail_t *d)
{
	if (!c)
		return blt_detail_set(d, BLT_E_INVAL,
		                      "transact needs a client, a request and output");
	return transact(c, req, req_len, reply, cap, reply_len, exception, c->retries, d);
}

blt_err_t blt_client_transact_once(blt_client_t *c, const uint8_t *req, size_t req_len,
                                   uint8_t *reply, size_t cap, size_t *reply_len,
                                   uint8_t *exception, blt_detail_t *d)
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

blt_err_t blt_client_read(blt_client_t *c, uint16_t start, uint16_t count, uint8_t *data,
                          size_t cap, size_t *nbytes, blt_detail_t *d)
{
	if (!c)
		return blt_detail_set(d, BLT_E_INVAL, "read needs a client and output");
	return blt_client_read_at(c, c->slave, start, count, data, cap, nbytes, d);
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

blt_err_t blt_client_write1_raw(blt_client_t *c, uint16_t reg, uint16_t value, blt_detail_t *d)
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

blt_err_t blt_client_writen_raw(blt_client_t *c, uint16_t start, const uint16_t *values,
                                uint16_t count, blt_detail_t *d)
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

blt_err_t blt_client_submit(blt_client_t *c, const uint8_t *req, size_t req_len, blt_reply_fn cb,
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

blt_err_t blt_client_submit_read(blt_client_t *c, uint16_t start, uint16_t count, blt_reply_fn cb,
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
	if (c->resend_at) { /* busy: the same attempt again */
		c->resend_at = 0;
		rc = send_attempt(c, c->payload, c->plen, &det);
		if (rc == BLT_OK) {
			c->deadline = c->t0_us / 1000u + (uint64_t)c->timeout_ms;
			return 0;
		}
		memset(&r, 0, sizeof r);
		r.detail = &det;
		r.err = rc;
		c->busy = false;
		complete(c, &r);
		return 1;
	}
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
		c->resend_at = 0;
		c->cb = NULL;
		c->cb_user = NULL;
		c->ad.on = false;
	}
}

/* --- block reads that real units accept -------------------------------------------------- */

bool blt_client_envelope_echoes(const blt_client_t *c)
{
	return c && c->echo;
}

uint16_t blt_read_len_use(const blt_read_len_t *l, uint16_t asked)
{
	if (!l || !l->refused || asked < l->refused || !l->ok)
		return asked;
	return l->ok;
}

bool blt_read_len_settled(const blt_read_len_t *l)
{
	return l && l->refused && l->ok && l->refused - l->ok <= 1;
}

static blt_read_len_t *lens_find(blt_client_t *c, uint16_t start)
{
	for (unsigned i = 0; i < c->nlens; i++)
		if (c->lens[i].start == start)
			return &c->lens[i];
	return NULL;
}

static blt_read_len_t *lens_get(blt_client_t *c, uint16_t start)
{
	blt_read_len_t *l = lens_find(c, start);
	if (l)
		return l;
	if (c->nlens == LEARNED_MAX)
		return NULL;
	l = &c->lens[c->nlens++];
	memset(l, 0, sizeof *l);
	l->start = start;
	return l;
}

/* A known short reply: let the stray rules take it at once (a candidate length: the full
 * length is still taken too, and other requests' replies of that length are not refused). */
static void seed_reply(blt_client_t *c, uint16_t start, uint16_t count, uint16_t reply)
{
	struct learned *l = learned_find(c, start, count);
	if (l && !l->candidate)
		return; /* confirmed by this device already */
	if (!l) {
		if (c->nlearned == LEARNED_MAX)
			return;
		l = &c->learned[c->nlearned++];
		l->reg = start;
		l->count = count;
	}
	l->nbytes = (uint16_t)(2u * reply);
	l->candidate = true;
}

size_t blt_client_read_lens(const blt_client_t *c, blt_read_len_t *out, size_t cap)
{
	if (!c)
		return 0;
	for (size_t i = 0; out && i < c->nlens && i < cap; i++)
		out[i] = c->lens[i];
	return c->nlens;
}

unsigned blt_client_read_lens_gen(const blt_client_t *c)
{
	return c ? c->lens_gen : 0;
}

blt_err_t blt_client_read_len_set(blt_client_t *c, const blt_read_len_t *in, blt_detail_t *d)
{
	blt_read_len_t *l;
	if (!c || !in)
		return blt_detail_set(d, BLT_E_INVAL, "no client or no read length");
	if (in->asked > BLT_MAX_READ_REGS || in->ok > BLT_MAX_READ_REGS ||
	    in->refused > BLT_MAX_READ_REGS || in->reply_to > BLT_MAX_READ_REGS ||
	    (in->ok && in->refused && in->ok >= in->refused) || in->reply > in->reply_to ||
	    (in->reply && !in->reply_to))
		return blt_detail_set(d, BLT_E_RANGE,
		                      "read lengths of block %u out of range (asked %u, accepted "
		                      "%u, refused %u, reply %u of %u)",
		                      in->start, in->asked, in->ok, in->refused, in->reply,
		                      in->reply_to);
	l = lens_get(c, in->start);
	if (!l)
		return blt_detail_set(d, BLT_E_NOMEM, "read length table full (%d blocks)",
		                      LEARNED_MAX);
	*l = *in;
	if (l->reply && l->reply < l->reply_to)
		seed_reply(c, l->start, l->reply_to, l->reply);
	else
		l->reply = l->reply_to = 0;
	return BLT_OK;
}

blt_err_t blt_client_use_profile(blt_client_t *c, const blt_profile_t *p, blt_detail_t *d)
{
	if (!c || !p)
		return blt_detail_set(d, BLT_E_INVAL, "no client or no profile");
	for (size_t i = 0; i < p->nread_regs; i++) {
		const blt_block_t *b = blt_catalog_find(p->read_regs[i].block);
		uint16_t reply = blt_profile_block_reply(p, b);
		blt_read_len_t l;
		int rc;
		if (!b || !reply)
			continue;
		memset(&l, 0, sizeof l);
		l.start = b->id;
		l.asked = blt_profile_block_regs(p, b);
		l.reply = reply;
		l.reply_to = l.asked;
		l.origin = BLT_RL_PROFILE;
		if (lens_find(c, l.start))
			continue; /* what this device showed (or a stored fact) wins */
		if ((rc = blt_client_read_len_set(c, &l, d)) != BLT_OK)
			return rc;
	}
	return BLT_OK;
}

/* The length to ask next for the block read in progress (0: none left to try). After a
 * refusal: the core first (a device refusing it lacks the block), then bisect between the
 * longest accepted and the shortest refused length. */
static uint16_t adapt_pick(const blt_client_t *c, const blt_read_len_t *l)
{
	const struct adaptive *a = &c->ad;
	if (!l || !l->refused || a->asked < l->refused)
		return a->asked;
	if (!l->ok)
		return a->core < l->refused ? a->core : 0;
	if (l->refused - l->ok <= 1)
		return l->ok;
	return (uint16_t)(l->ok + (l->refused - l->ok) / 2);
}

static uint16_t adapt_begin(blt_client_t *c, uint16_t start, uint16_t count, uint16_t core)
{
	struct adaptive *a = &c->ad;
	memset(a, 0, sizeof *a);
	a->on = true;
	a->start = start;
	a->asked = count;
	a->core = core && core < count ? core : count;
	a->was_settled = blt_read_len_settled(lens_find(c, start));
	a->n = adapt_pick(c, lens_find(c, start));
	if (!a->n) /* only the core is known, and refused: ask it again */
		a->n = a->core;
	return a->n;
}

/* One request of the block read is over (err, exception code, register bytes): learn from
 * it and return the next length to ask, or 0 when the read is over. */
static uint16_t adapt_after(blt_client_t *c, int err, uint8_t exc, const uint8_t *data,
                            size_t nbytes)
{
	struct adaptive *a = &c->ad;
	blt_read_len_t *l = lens_find(c, a->start), before;
	uint16_t n = a->n, next;

	a->requests++;
	memset(&before, 0, sizeof before);
	if (l)
		before = *l;
	if (err == BLT_OK && data) {
		if (nbytes <= sizeof a->best && (!a->have_best || n >= a->best_n)) {
			memcpy(a->best, data, nbytes);
			a->best_len = nbytes;
			a->best_n = n;
			a->have_best = true;
		}
		if (!l && nbytes < 2u * n)
			l = lens_get(c, a->start);
		if (l) {
			if (n > l->ok && (l->refused || a->searched))
				l->ok = n;
			if (l->refused && n >= l->refused)
				l->refused = 0; /* it takes more now (firmware update) */
			if (nbytes < 2u * n) {
				l->reply = (uint16_t)(nbytes / 2u);
				l->reply_to = n;
			} else if (l->reply_to == n) {
				l->reply = l->reply_to = 0;
			}
		}
	} else if (err == BLT_E_EXCEPTION && exc == 2 && n > 0) {
		l = lens_get(c, a->start);
		if (l) {
			a->searched = true;
			if (!l->refused || n < l->refused)
				l->refused = n;
			if (l->ok >= l->refused)
				l->ok = 0; /* it takes less now: search again */
		}
	} else {
		l = NULL; /* a timeout or another error says nothing about lengths */
	}
	if (l) {
		l->asked = a->asked;
		if (a->searched || (before.refused && !blt_read_len_settled(&before)))
			l->requests++;
		if (memcmp(&before, l, sizeof before) != 0) {
			l->origin = BLT_RL_LEARNED;
			c->lens_gen++;
		}
	}
	if (!l || (err != BLT_OK && !(err == BLT_E_EXCEPTION && exc == 2)))
		return 0;
	if (err == BLT_OK && n >= a->asked)
		return 0;
	if (a->requests >= SEARCH_MAX)
		return 0;
	next = adapt_pick(c, l);
	if (next == 0 || next == n || (a->have_best && next <= a->best_n))
		return 0;
	if (err != BLT_OK && n <= a->core)
		return 0; /* the core itself is refused: the device lacks the block */
	c->st.shortened++;
	a->n = next;
	return next;
}

/* The read is over: the longest accepted reply, or the last error. Logs what was learned. */
static int adapt_finish(blt_client_t *c, int err, const blt_detail_t *last, blt_detail_t *d)
{
	struct adaptive *a = &c->ad;
	const blt_read_len_t *l = lens_find(c, a->start);
	a->on = false;
	if (l && a->have_best && (a->searched || (!a->was_settled && blt_read_len_settled(l))))
		blt_log(BLT_LOG_INFO,
		        "client: %s: block %u: the device refuses reads of %u registers (exception "
		        "02) and accepts %u%s; %s (%d requests so far)",
		        c->sub_topic, a->start, l->refused, l->ok,
		        blt_read_len_settled(l) ? " (the longest that works)" : "",
		        blt_read_len_settled(l) ? "reading that from now on"
		                                : "the search goes on at the next read",
		        l->requests);
	if (a->have_best)
		return BLT_OK;
	if (d && last && d != last)
		*d = *last;
	return err;
}

blt_err_t blt_client_read_block(blt_client_t *c, uint16_t start, uint16_t count, uint16_t core,
                                uint8_t *data, size_t cap, size_t *nbytes, uint8_t *exception,
                                blt_detail_t *d)
{
	uint8_t exc = 0;
	uint8_t req[16], reply[BLT_RTU_MAX];
	blt_detail_t det = {{0}};
	uint16_t n;
	int rc = BLT_OK;

	if (!c || !nbytes || (cap && !data))
		return blt_detail_set(d, BLT_E_INVAL, "read needs a client and output");
	if (c->busy)
		return blt_detail_set(d, BLT_E_BUSY,
		                      "a request to %s is already outstanding (register %u)",
		                      c->pub_topic, c->req_rtu.reg);
	n = adapt_begin(c, start, count, core);
	while (n) {
		size_t rlen, m = 0;
		blt_rtu_t f;
		exc = 0;
		memset(&det, 0, sizeof det);
		rc = blt_rtu_build_read(c->slave, start, n, req, sizeof req, &rlen);
		if (rc != BLT_OK) {
			blt_detail_set(&det, rc, "cannot build a read of %u registers at %u: %s", n,
			               start, blt_strerror(rc));
			break;
		}
		rc = transact(c, req, rlen, reply, sizeof reply, &m, &exc, c->retries, &det);
		if (rc == BLT_OK)
			rc = blt_rtu_parse(reply, m, BLT_RTU_REPLY, &f, &det);
		n = adapt_after(c, rc, exc, rc == BLT_OK ? f.data : NULL,
		                rc == BLT_OK ? f.nbytes : 0);
	}
	rc = adapt_finish(c, rc, &det, d);
	if (rc != BLT_OK) {
		if (exception && rc == BLT_E_EXCEPTION)
			*exception = exc;
		return rc;
	}
	if (c->ad.best_len > cap)
		return blt_detail_set(d, BLT_E_BUFSIZE, "%zu register bytes, buffer holds %zu",
		                      c->ad.best_len, cap);
	memcpy(data, c->ad.best, c->ad.best_len);
	*nbytes = c->ad.best_len;
	return BLT_OK;
}

static void adapt_cb(void *user, const blt_client_result_t *r)
{
	blt_client_t *c = user;
	struct adaptive *a = &c->ad;
	blt_client_result_t out = *r;
	uint8_t best[BLT_RTU_MAX];
	blt_detail_t det = {{0}};
	blt_reply_fn cb;
	void *cb_user;
	uint16_t next;
	int rc;

	a->attempts += r->attempts;
	next = adapt_after(c, r->err, r->exception, r->err == BLT_OK ? r->data : NULL,
	                   r->err == BLT_OK ? r->nbytes : 0);
	if (next) {
		rc = blt_client_submit_read(c, a->start, next, adapt_cb, c, &det);
		if (rc == BLT_OK)
			return;
		out.err = rc;
		out.detail = &det;
	}
	cb = a->cb;
	cb_user = a->user;
	rc = adapt_finish(c, out.err, out.detail, NULL);
	out.reg = a->start;
	out.attempts = a->attempts;
	if (rc == BLT_OK) {
		/* a copy: the callback may start the next block read on this client */
		memcpy(best, a->best, a->best_len);
		out.err = BLT_OK;
		out.exception = 0;
		out.data = best;
		out.nbytes = a->best_len;
	}
	cb(cb_user, &out);
}

blt_err_t blt_client_submit_read_block(blt_client_t *c, uint16_t start, uint16_t count,
                                       uint16_t core, blt_reply_fn cb, void *user, blt_detail_t *d)
{
	uint16_t n;
	int rc;
	if (!c || !cb)
		return blt_detail_set(d, BLT_E_INVAL, "submit needs a client and a callback");
	if (c->busy)
		return blt_detail_set(d, BLT_E_BUSY,
		                      "a request to %s is already outstanding (register %u)",
		                      c->pub_topic, c->req_rtu.reg);
	n = adapt_begin(c, start, count, core);
	c->ad.cb = cb;
	c->ad.user = user;
	rc = blt_client_submit_read(c, start, n, adapt_cb, c, d);
	if (rc != BLT_OK)
		c->ad.on = false;
	return rc;
}

/* --- nodes (NODE_INFO, PROTOCOL.md §1.6): requests at another slave address ----------- */

uint8_t blt_client_slave(const blt_client_t *c)
{
	return c ? c->slave : 0;
}

bool blt_client_open_map(const blt_client_t *c)
{
	return c && c->open_map;
}

bool blt_client_is_iot_push(const blt_rtu_t *f)
{
	/* `00 10 2a f8 00 64 c8` + 200 bytes: FC16-shaped, registers 11000-11099 (LOCAL.md
	 * §2.5); the start and the function say it, the length may differ by firmware */
	return f && f->function == BLT_FC_WRITEN && f->reg == BLT_IOT_PUSH_BLOCK && f->count > 0 &&
	       f->data && f->nbytes == 2u * f->count;
}

uint64_t blt_client_last_heard(const blt_client_t *c)
{
	return c ? c->last_heard : 0;
}

uint64_t blt_client_last_push(const blt_client_t *c)
{
	return c ? c->last_push : 0;
}

blt_err_t blt_client_read_at(blt_client_t *c, uint8_t slave, uint16_t start, uint16_t count,
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

blt_err_t blt_client_submit_read_at(blt_client_t *c, uint8_t slave, uint16_t start, uint16_t count,
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

blt_err_t blt_client_node_info(blt_client_t *c, uint8_t *data, size_t cap, size_t *nbytes,
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

blt_err_t blt_client_submit_node_info(blt_client_t *c, blt_reply_fn cb, void *user, blt_detail_t *d)
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
