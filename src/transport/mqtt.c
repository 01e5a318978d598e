/* MQTT transport on libmosquitto 2.0, single-threaded: all network I/O happens in
 * mosquitto_loop() called from connect / listen / poll on the caller's thread (no
 * mosquitto_loop_start). The connection is a small state machine DOWN -> CONNECTING -> UP;
 * a lost connection is re-established from poll with capped exponential backoff + jitter. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <mosquitto.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <bluetti/bluetti.h>
#include <bluetti/transport.h>

#include "core/core_internal.h"
#include "transport/listeners.h"
#include "transport/transport_internal.h"

enum mqtt_state { ST_DOWN, ST_CONNECTING, ST_UP };

typedef struct mqtt {
	struct blt_transport base; /* first member */
	struct mosquitto *mosq;
	SSL_CTX *ctx;
	blt_tls_diag_t diag;
	char *host;
	char *opt_user, *opt_pass; /* the options' credentials (wiped on free) */
	bool hook_creds;           /* mosquitto holds credentials from the hook */
	int port;
	int keepalive_s;
	int connect_timeout_ms;
	int reconnect_min_ms, reconnect_max_ms;
	bool use_tls;

	enum mqtt_state st;
	bool want; /* connection wanted: connect() called, no disconnect() */
	uint64_t attempt_deadline;
	uint64_t next_attempt; /* DOWN + want: earliest time of the next attempt */
	int backoff_ms;
	int connack_rc;    /* -1: none; else the CONNACK refusal code */
	int last_connack;  /* -1: none this attempt; else the CONNACK code (0 = accepted) */
	bool tcp_up;       /* this attempt's TCP connection was established */
	int lost_errno;    /* errno at the time libmosquitto reported a disconnect */
	char log_err[200]; /* last error line libmosquitto logged (OpenSSL reasons) */

	blt_listeners_t ls;

	int sub_mid;
	bool sub_done;
	int sub_granted;

	size_t unacked; /* publishes handed to libmosquitto, not yet completed (on_publish) */
} mqtt_t;

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;

static void lib_init_once(void)
{
	mosquitto_lib_init();
}

static void sleep_ms(int ms)
{
	if (ms > 0)
		poll(NULL, 0, ms);
}

static uint32_t rand32(void)
{
	uint32_t r;
	if (RAND_bytes((unsigned char *)&r, sizeof r) != 1)
		r = (uint32_t)blt_now_ms() * 2654435761u;
	return r;
}

static void notify(mqtt_t *m, bool up, int err)
{
	if (m->base.conn_fn)
		m->base.conn_fn(m->base.conn_user, up, err);
}

/* --- libmosquitto callbacks ------------------------------------------------------------- */

static void on_log(struct mosquitto *mosq, void *obj, int level, const char *str);

static void on_connect(struct mosquitto *mosq, void *obj, int rc)
{
	mqtt_t *m = obj;
	m->last_connack = rc;
	if (rc != 0) {
		m->connack_rc = rc;
		return;
	}
	m->st = ST_UP;
	m->backoff_ms = m->reconnect_min_ms;
	/* Connected: libmosquitto's per-packet lines are only worth formatting when they are
	 * logged; its error lines matter again while (re)connecting (on_disconnect). */
	if (!blt_log_active(BLT_LOG_DEBUG))
		mosquitto_log_callback_set(mosq, NULL);
	m->unacked = 0; /* a flow-control hint: start afresh with each session */
	/* Clean session: every (re)connect starts without subscriptions. */
	for (blt_listener_t *l = m->ls.head; l; l = l->next) {
		if (l->dead || blt_listeners_seen_before(&m->ls, l))
			continue;
		int src = mosquitto_subscribe(m->mosq, NULL, l->topic, 1);
		if (src != MOSQ_ERR_SUCCESS)
			blt_log(BLT_LOG_WARN, "mqtt: resubscribe to %s failed: %s", l->topic,
			        mosquitto_strerror(src));
	}
	blt_log(BLT_LOG_INFO, "mqtt: connected to %s:%d", m->host, m->port);
	notify(m, true, BLT_OK);
}

/* QoS 1: the PUBACK arrived; QoS 0: the message was written. */
static void on_publish(struct mosquitto *mosq, void *obj, int mid)
{
	mqtt_t *m = obj;
	(void)mosq;
	(void)mid;
	if (m->unacked)
		m->unacked--;
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc)
{
	mqtt_t *m = obj;
	m->lost_errno = errno;
	mosquitto_log_callback_set(mosq, on_log);
	if (m->st == ST_UP) {
		m->st = ST_DOWN;
		blt_log(rc ? BLT_LOG_WARN : BLT_LOG_INFO, "mqtt: disconnected from %s:%d (%s)",
		        m->host, m->port, rc ? mosquitto_strerror(rc) : "requested");
		notify(m, false, rc ? BLT_E_DISCONNECTED : BLT_OK);
	}
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg)
{
	mqtt_t *m = obj;
	(void)mosq;
	if (!msg || !msg->topic || msg->payloadlen < 0)
		return;
	blt_listeners_dispatch(&m->ls, msg->topic, msg->payload, (size_t)msg->payloadlen,
	                       msg->retain);
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int n, const int *granted)
{
	mqtt_t *m = obj;
	(void)mosq;
	if (mid == m->sub_mid) {
		m->sub_done = true;
		m->sub_granted = n > 0 && granted ? granted[0] : 0x80;
	}
}

static void on_log(struct mosquitto *mosq, void *obj, int level, const char *str)
{
	mqtt_t *m = obj;
	(void)mosq;
	if (!str)
		return;
	if (level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING))
		snprintf(m->log_err, sizeof m->log_err, "%s", str);
	/* libmosquitto's lines name packets and client ids, never credentials. */
	blt_log(BLT_LOG_DEBUG, "libmosquitto: %s", str);
}

/* --- connection state machine ----------------------------------------------------------- */

static int jittered(int ms)
{
	/* Between half and the full backoff, so a fleet of clients does not reconnect in step. */
	int half = ms / 2;
	return half + (int)(rand32() % (uint32_t)(half + 1));
}

static void schedule_retry(mqtt_t *m)
{
	m->next_attempt = blt_now_ms() + (uint64_t)jittered(m->backoff_ms);
	if (m->backoff_ms < m->reconnect_max_ms / 2)
		m->backoff_ms *= 2;
	else
		m->backoff_ms = m->reconnect_max_ms;
}

static int connack_error(mqtt_t *m, blt_detail_t *d)
{
	int rc = m->connack_rc;
	const char *s = mosquitto_connack_string(rc);
	switch (rc) {
	case 1:
		return blt_detail_set(d, BLT_E_PROTOCOL, "broker %s:%d refused the connection: %s",
		                      m->host, m->port, s);
	case 3:
		return blt_detail_set(d, BLT_E_CONNECT, "broker %s:%d refused the connection: %s",
		                      m->host, m->port, s);
	default:
		return blt_detail_set(d, BLT_E_AUTH,
		                      "broker %s:%d refused the connection: %s (CONNACK %d)",
		                      m->host, m->port, s, rc);
	}
}

/* Map a libmosquitto failure during connection setup to our error codes. */
static int setup_error(mqtt_t *m, int rc, int err_no, blt_detail_t *d)
{
	if (m->connack_rc > 0)
		return connack_error(m, d);
	if (rc == MOSQ_ERR_EAI)
		return blt_detail_set(d, BLT_E_CONNECT, "cannot resolve broker host '%s'", m->host);
	if (rc == MOSQ_ERR_ERRNO && !m->tcp_up &&
	    (err_no == ECONNREFUSED || err_no == EHOSTUNREACH || err_no == ENETUNREACH ||
	     err_no == ETIMEDOUT || err_no == EADDRNOTAVAIL || err_no == EAFNOSUPPORT))
		return blt_detail_set(d, BLT_E_CONNECT, "connect to %s:%d: %s", m->host, m->port,
		                      strerror(err_no));
	if (rc == MOSQ_ERR_CONN_REFUSED)
		return blt_detail_set(d, BLT_E_AUTH, "broker %s:%d refused the connection", m->host,
		                      m->port);
	/* Anything else that ends a TLS attempt before CONNACK is a TLS-level failure: a
	 * verify error, an alert, a broker hanging up on our certificate, a plain listener. */
	if (m->use_tls)
		return blt_tls_error(&m->diag, m->host, m->log_err, d);
	if (rc == MOSQ_ERR_ERRNO && err_no)
		return blt_detail_set(d, BLT_E_CONNECT, "connection to %s:%d failed: %s", m->host,
		                      m->port, strerror(err_no));
	return blt_detail_set(d, BLT_E_CONNECT, "connection to %s:%d closed before CONNACK (%s)",
	                      m->host, m->port, mosquitto_strerror(rc));
}

static int attempt_fail(mqtt_t *m, int err)
{
	m->st = ST_DOWN;
	schedule_retry(m);
	return err;
}

/* Fresh credentials from the hook for this attempt (e.g. a TOTP valid for 30 s). The
 * buffers live on the heap only for the call and are wiped: libmosquitto keeps its own
 * copy. Nothing here is logged. */
static int apply_credentials(mqtt_t *m, blt_detail_t *d)
{
	char *user, *pass;
	blt_detail_t hd = {{0}};
	int err, rc;

	user = calloc(1, BLT_CRED_USERNAME_MAX);
	pass = calloc(1, BLT_CRED_PASSWORD_MAX);
	if (!user || !pass) {
		free(user);
		free(pass);
		return blt_detail_set(d, BLT_E_NOMEM, "out of memory");
	}
	err = m->base.cred_fn(m->base.cred_user, user, BLT_CRED_USERNAME_MAX, pass,
	                      BLT_CRED_PASSWORD_MAX, &hd);
	if (err == BLT_OK &&
	    (!memchr(user, 0, BLT_CRED_USERNAME_MAX) || !memchr(pass, 0, BLT_CRED_PASSWORD_MAX)))
		err = blt_detail_set(&hd, BLT_E_INVAL,
		                     "credentials hook returned an unterminated string");
	if (err == BLT_OK && !user[0] && pass[0])
		err = blt_detail_set(&hd, BLT_E_CONFIG,
		                     "credentials hook returned a password without a username");
	if (err == BLT_OK) {
		rc = mosquitto_username_pw_set(m->mosq, user[0] ? user : NULL,
		                               user[0] && pass[0] ? pass : NULL);
		if (rc != MOSQ_ERR_SUCCESS)
			err = blt_detail_set(&hd, rc == MOSQ_ERR_NOMEM ? BLT_E_NOMEM : BLT_E_CONFIG,
			                     "MQTT username/password from the credentials hook "
			                     "rejected: %s",
			                     mosquitto_strerror(rc));
	} else if (err > 0) {
		err = BLT_E_INVAL; /* a hook must return a blt_err_t */
		blt_detail_set(&hd, err, "credentials hook returned a positive value");
	}
	OPENSSL_cleanse(user, BLT_CRED_USERNAME_MAX);
	OPENSSL_cleanse(pass, BLT_CRED_PASSWORD_MAX);
	free(user);
	free(pass);
	if (err != BLT_OK) {
		if (!hd.text[0])
			blt_detail_set(&hd, err, "%s", blt_strerror(err));
		return blt_detail_set(d, err, "credentials for %s:%d: %s", m->host, m->port,
		                      hd.text);
	}
	return BLT_OK;
}

static int attempt_start(mqtt_t *m, blt_detail_t *d)
{
	int rc;

	if (m->base.cred_fn) {
		if ((rc = apply_credentials(m, d)) != BLT_OK)
			return attempt_fail(m, rc);
		m->hook_creds = true;
	} else if (m->hook_creds) {
		/* hook removed: back to the options' username/password */
		rc = mosquitto_username_pw_set(m->mosq, m->opt_user, m->opt_pass);
		if (rc != MOSQ_ERR_SUCCESS)
			return attempt_fail(
			    m,
			    blt_detail_set(d, BLT_E_NOMEM, "cannot restore the MQTT credentials"));
		m->hook_creds = false;
	}
	if (m->use_tls)
		blt_tls_diag_reset(&m->diag);
	m->connack_rc = -1;
	m->last_connack = -1;
	m->tcp_up = false;
	m->log_err[0] = '\0';
	m->lost_errno = 0;
	m->attempt_deadline = blt_now_ms() + (uint64_t)m->connect_timeout_ms;
	errno = 0;
	rc = mosquitto_connect_async(m->mosq, m->host, m->port, m->keepalive_s);
	if (rc != MOSQ_ERR_SUCCESS)
		return attempt_fail(m, setup_error(m, rc, errno, d));
	m->st = ST_CONNECTING;
	return BLT_OK;
}

/* libmosquitto's non-blocking connect hides a refused / failed TCP connect: the pending
 * socket error is consumed by the first write of the TLS handshake (or CONNECT), which it
 * treats as "try again", so the attempt would spin until the timeout. Ask the kernel. */
static int tcp_failed(mqtt_t *m, blt_detail_t *d)
{
	int fd = mosquitto_socket(m->mosq), soerr = 0;
	struct tcp_info ti;
	socklen_t len = sizeof ti, elen = sizeof soerr;

	if (fd < 0)
		return BLT_OK; /* closed: the loop's return code tells why */
	memset(&ti, 0, sizeof ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
		return BLT_OK;
	if (ti.tcpi_state == TCP_ESTABLISHED)
		m->tcp_up = true;
	if (ti.tcpi_state != TCP_CLOSE)
		return BLT_OK;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &elen) != 0)
		soerr = 0;
	if (m->use_tls && (m->tcp_up || m->diag.handshake_done))
		return blt_tls_error(&m->diag, m->host, m->log_err, d);
	if (m->tcp_up)
		return blt_detail_set(d, BLT_E_CONNECT, "connection to %s:%d reset during %s setup",
		                      m->host, m->port, m->use_tls ? "TLS/MQTT" : "MQTT");
	return blt_detail_set(d, BLT_E_CONNECT, "connect to %s:%d: %s", m->host, m->port,
	                      strerror(soerr ? soerr : ECONNREFUSED));
}

/* Acknowledge what arrives at once instead of delaying the ACK (up to 40 ms on Linux).
 * A broker we do not configure (mosquitto's default, the Bluetti broker) keeps Nagle on:
 * it holds the reply we wait for until the small packet it sent before (a PUBACK) is
 * acknowledged, so with delayed ACKs every request/reply round trip costs ~40 ms. The
 * flag is not sticky, so it is set again before every round of I/O. */
static void quickack(mqtt_t *m)
{
#ifdef TCP_QUICKACK
	int fd = mosquitto_socket(m->mosq), one = 1;
	if (fd >= 0)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof one);
#else
	(void)m;
#endif
}

/* One round of network I/O. Returns BLT_OK, or the error that ended a connection attempt
 * (state DOWN), or BLT_E_DISCONNECTED when an established connection was lost. */
static int drive(mqtt_t *m, int timeout_ms, blt_detail_t *d)
{
	enum mqtt_state before = m->st;
	int rc, err_no;

	quickack(m);
	errno = 0;
	rc = mosquitto_loop(m->mosq, timeout_ms, 1);
	quickack(m);
	err_no = errno;
	if (before == ST_CONNECTING && m->st == ST_CONNECTING) {
		if (m->connack_rc > 0)
			return attempt_fail(m, connack_error(m, d));
		if (rc != MOSQ_ERR_SUCCESS)
			return attempt_fail(m,
			                    setup_error(m, rc, err_no ? err_no : m->lost_errno, d));
		if ((rc = tcp_failed(m, d)) != BLT_OK)
			return attempt_fail(m, rc);
		if (blt_now_ms() >= m->attempt_deadline)
			return attempt_fail(m, blt_detail_set(d, BLT_E_TIMEOUT,
			                                      "no CONNACK from %s:%d within %d ms",
			                                      m->host, m->port,
			                                      m->connect_timeout_ms));
		return BLT_OK;
	}
	if (rc == MOSQ_ERR_SUCCESS && m->st != ST_DOWN)
		return BLT_OK;
	/* Connection lost (libmosquitto may or may not have called on_disconnect). */
	if (m->st == ST_UP) {
		m->st = ST_DOWN;
		notify(m, false, BLT_E_DISCONNECTED);
	}
	m->st = ST_DOWN;
	if (m->want)
		schedule_retry(m);
	blt_log(BLT_LOG_WARN, "mqtt: connection to %s:%d lost (%s)", m->host, m->port,
	        mosquitto_strerror(rc));
	return blt_detail_set(d, BLT_E_DISCONNECTED, "connection to %s:%d lost (%s)", m->host,
	                      m->port, mosquitto_strerror(rc));
}

static int mqtt_connect(blt_transport_t *t, blt_detail_t *d)
{
	mqtt_t *m = (mqtt_t *)t;
	int rc;

	if (m->st == ST_UP)
		return BLT_OK;
	m->want = true;
	if (m->st == ST_DOWN) {
		rc = attempt_start(m, d);
		if (rc != BLT_OK)
			return rc;
	}
	while (m->st == ST_CONNECTING) {
		uint64_t now = blt_now_ms();
		int left = m->attempt_deadline > now ? (int)(m->attempt_deadline - now) : 0;
		rc = drive(m, left < 100 ? left : 100, d);
		if (rc != BLT_OK)
			return rc;
	}
	if (m->st != ST_UP)
		return blt_detail_set(d, BLT_E_CONNECT, "connection to %s:%d dropped during setup",
		                      m->host, m->port);
	return BLT_OK;
}

static int mqtt_poll(blt_transport_t *t, int timeout_ms, blt_detail_t *d)
{
	mqtt_t *m = (mqtt_t *)t;
	uint64_t now = blt_now_ms();
	blt_detail_t local;
	int rc;

	if (!d) /* the reason of a failed reconnect goes to the log even then */
		d = &local;
	if (m->st == ST_DOWN) {
		if (!m->want) {
			sleep_ms(timeout_ms);
			return blt_detail_set(d, BLT_E_DISCONNECTED, "not connected");
		}
		if (now < m->next_attempt) {
			uint64_t wait = m->next_attempt - now;
			sleep_ms(wait < (uint64_t)timeout_ms ? (int)wait : timeout_ms);
			if (blt_now_ms() < m->next_attempt)
				return blt_detail_set(
				    d, BLT_E_DISCONNECTED, "disconnected; next attempt in %llu ms",
				    (unsigned long long)(m->next_attempt - blt_now_ms()));
		}
		blt_log(BLT_LOG_INFO, "mqtt: reconnecting to %s:%d", m->host, m->port);
		rc = attempt_start(m, d);
		if (rc != BLT_OK) {
			blt_log(BLT_LOG_WARN, "mqtt: reconnect failed: %s",
			        d ? d->text : blt_strerror(rc));
			return BLT_E_DISCONNECTED;
		}
		now = blt_now_ms();
		timeout_ms =
		    0; /* let the attempt progress without overrunning the caller's slice */
	}
	rc = drive(m, timeout_ms, d);
	if (m->st == ST_UP)
		return BLT_OK;
	if (rc != BLT_OK && rc != BLT_E_DISCONNECTED)
		blt_log(BLT_LOG_WARN, "mqtt: reconnect failed: %s", d ? d->text : blt_strerror(rc));
	if (m->st == ST_CONNECTING)
		blt_detail_set(d, BLT_E_DISCONNECTED, "reconnecting to %s:%d", m->host, m->port);
	(void)now;
	return BLT_E_DISCONNECTED;
}

static int mqtt_listen(blt_transport_t *t, const char *topic, blt_msg_fn fn, void *user,
                       blt_detail_t *d)
{
	mqtt_t *m = (mqtt_t *)t;
	blt_listener_t *l;
	bool first;
	int mid = 0, rc;

	if (strchr(topic, '+') || strchr(topic, '#') ||
	    mosquitto_sub_topic_check(topic) != MOSQ_ERR_SUCCESS)
		return blt_detail_set(d, BLT_E_INVAL,
		                      "listen needs an exact topic (no wildcards): '%s'", topic);
	l = blt_listeners_add(&m->ls, topic, fn, user);
	if (!l)
		return blt_detail_set(d, BLT_E_NOMEM, "out of memory");
	first = !blt_listeners_seen_before(&m->ls, l);
	if (m->st != ST_UP || !first)
		return BLT_OK; /* subscribed on (re)connect, or already subscribed */

	rc = mosquitto_subscribe(m->mosq, &mid, topic, 1);
	if (rc == MOSQ_ERR_NO_CONN || rc == MOSQ_ERR_CONN_LOST)
		return BLT_OK; /* connection dropping: on_connect subscribes again */
	if (rc != MOSQ_ERR_SUCCESS) {
		blt_listeners_drop(&m->ls, l);
		return blt_detail_set(d, BLT_E_INVAL, "subscribe to %s: %s", topic,
		                      mosquitto_strerror(rc));
	}
	m->sub_mid = mid;
	m->sub_done = false;
	uint64_t deadline = blt_now_ms() + (uint64_t)m->connect_timeout_ms;
	while (!m->sub_done) {
		uint64_t now = blt_now_ms();
		if (now >= deadline)
			return blt_detail_set(d, BLT_E_TIMEOUT, "no SUBACK for %s within %d ms",
			                      topic, m->connect_timeout_ms);
		rc = drive(m, (int)(deadline - now < 100 ? deadline - now : 100), d);
		if (m->st != ST_UP)
			return blt_detail_set(d, BLT_E_DISCONNECTED,
			                      "connection lost while subscribing to %s (it is "
			                      "subscribed again on reconnect)",
			                      topic);
	}
	m->sub_mid = 0;
	if (m->sub_granted >= 0x80) {
		blt_listeners_drop(&m->ls, l);
		return blt_detail_set(d, BLT_E_AUTH, "broker refused the subscription to %s",
		                      topic);
	}
	return BLT_OK;
}

static void mqtt_unlisten(blt_transport_t *t, const char *topic, blt_msg_fn fn, void *user)
{
	mqtt_t *m = (mqtt_t *)t;
	bool left = false;

	if (!blt_listeners_remove(&m->ls, topic, fn, user, &left))
		return;
	if (!left && m->st == ST_UP)
		mosquitto_unsubscribe(m->mosq, NULL, topic);
}

static int mqtt_publish(blt_transport_t *t, const char *topic, const void *payload, size_t len,
                        int qos, bool retain, blt_detail_t *d)
{
	mqtt_t *m = (mqtt_t *)t;
	int rc;

	if (m->st != ST_UP)
		return blt_detail_set(d, BLT_E_DISCONNECTED, "not connected: cannot publish to %s",
		                      topic);
	if (len > (size_t)INT_MAX)
		return blt_detail_set(d, BLT_E_INVAL, "payload too large");
	rc = mosquitto_publish(m->mosq, NULL, topic, (int)len, payload, qos, retain);
	switch (rc) {
	case MOSQ_ERR_SUCCESS: m->unacked++; return BLT_OK;
	case MOSQ_ERR_INVAL:
	case MOSQ_ERR_MALFORMED_UTF8:
		return blt_detail_set(d, BLT_E_INVAL, "cannot publish to '%s': invalid topic",
		                      topic);
	case MOSQ_ERR_PAYLOAD_SIZE:
	case MOSQ_ERR_OVERSIZE_PACKET:
		return blt_detail_set(d, BLT_E_INVAL, "payload of %zu bytes too large", len);
	case MOSQ_ERR_NO_CONN:
	case MOSQ_ERR_CONN_LOST:
		return blt_detail_set(d, BLT_E_DISCONNECTED, "connection lost publishing to %s",
		                      topic);
	case MOSQ_ERR_NOMEM: return blt_detail_set(d, BLT_E_NOMEM, "out of memory");
	default:
		return blt_detail_set(d, BLT_E_IO, "publish to %s: %s", topic,
		                      mosquitto_strerror(rc));
	}
}

static size_t mqtt_pending(const blt_transport_t *t)
{
	return ((const mqtt_t *)t)->unacked;
}

static bool mqtt_connected(const blt_transport_t *t)
{
	return ((const mqtt_t *)t)->st == ST_UP;
}

static void mqtt_disconnect(blt_transport_t *t)
{
	mqtt_t *m = (mqtt_t *)t;

	m->want = false;
	if (m->st == ST_UP) {
		mosquitto_disconnect(m->mosq);
		/* Flush the DISCONNECT (libmosquitto closes the socket once it is written). */
		for (int i = 0; i < 5 && m->st == ST_UP; i++)
			mosquitto_loop(m->mosq, 10, 1);
		if (m->st == ST_UP) {
			m->st = ST_DOWN;
			notify(m, false, BLT_OK);
		}
	}
	m->st = ST_DOWN;
}

static void mqtt_destroy(blt_transport_t *t)
{
	mqtt_t *m = (mqtt_t *)t;

	if (!blt_listeners_clear(&m->ls)) /* freeing from inside a handler would pull the rug */
		return;
	if (m->mosq)
		mosquitto_destroy(m->mosq); /* closes the socket, drops its SSL_CTX reference */
	SSL_CTX_free(m->ctx);
	free(m->host);
	if (m->opt_user)
		OPENSSL_cleanse(m->opt_user, strlen(m->opt_user));
	if (m->opt_pass)
		OPENSSL_cleanse(m->opt_pass, strlen(m->opt_pass));
	free(m->opt_user);
	free(m->opt_pass);
	OPENSSL_cleanse(m, sizeof *m);
	free(m);
}

static int mqtt_info(const blt_transport_t *t, blt_transport_info_t *out)
{
	const mqtt_t *m = (const mqtt_t *)t;

	if (m->use_tls) {
		*out = m->diag.info;
	} else {
		memset(out, 0, sizeof *out);
		out->pin_state = BLT_PIN_OFF;
	}
	out->tls = m->use_tls;
	out->connack = m->last_connack;
	out->tcp_connected =
	    m->tcp_up || out->handshake_done || out->chain_len > 0 || m->last_connack >= 0;
	return BLT_OK;
}

static const struct blt_transport_ops mqtt_ops = {
    .connect = mqtt_connect,
    .listen = mqtt_listen,
    .unlisten = mqtt_unlisten,
    .publish = mqtt_publish,
    .poll = mqtt_poll,
    .connected = mqtt_connected,
    .disconnect = mqtt_disconnect,
    .destroy = mqtt_destroy,
    .pending = mqtt_pending,
};

/* --- construction ----------------------------------------------------------------------- */

static int mosq_opt_error(mqtt_t *m, const char *what, int rc, blt_detail_t *d)
{
	mqtt_destroy(&m->base);
	return blt_detail_set(d, rc == MOSQ_ERR_NOMEM ? BLT_E_NOMEM : BLT_E_CONFIG, "%s: %s", what,
	                      mosquitto_strerror(rc));
}

blt_err_t blt_mqtt_new(const blt_mqtt_opts_t *o, blt_transport_t **out, blt_detail_t *d)
{
	char client_id[32];
	mqtt_t *m;
	int rc;

	if (!out)
		return blt_detail_set(d, BLT_E_INVAL, "no output pointer");
	*out = NULL;
	if (!o || !o->host || !o->host[0])
		return blt_detail_set(d, BLT_E_INVAL, "MQTT options need a broker host");
	if (o->password && !o->username)
		return blt_detail_set(d, BLT_E_CONFIG, "MQTT password given without a username");
	if (o->keepalive_s < 0 || o->connect_timeout_ms < 0 || o->reconnect_min_ms < 0 ||
	    o->reconnect_max_ms < 0)
		return blt_detail_set(d, BLT_E_CONFIG, "negative MQTT timing option");
	if (o->use_tls && o->tls.pfx && !o->tls.pfx_len)
		return blt_detail_set(d, BLT_E_CERT, "PKCS#12 data is empty");
	pthread_once(&lib_once, lib_init_once);

	m = calloc(1, sizeof *m);
	if (!m)
		return blt_detail_set(d, BLT_E_NOMEM, "out of memory");
	m->base.ops = &mqtt_ops;
	m->base.info = mqtt_info;
	m->host = strdup(o->host);
	m->port = o->port ? o->port : (o->use_tls ? 18760 : 1883);
	m->keepalive_s = o->keepalive_s ? o->keepalive_s : 60;
	m->connect_timeout_ms = o->connect_timeout_ms ? o->connect_timeout_ms : 10000;
	m->reconnect_min_ms = o->reconnect_min_ms ? o->reconnect_min_ms : 1000;
	m->reconnect_max_ms = o->reconnect_max_ms ? o->reconnect_max_ms : 60000;
	if (m->reconnect_max_ms < m->reconnect_min_ms)
		m->reconnect_max_ms = m->reconnect_min_ms;
	m->backoff_ms = m->reconnect_min_ms;
	m->use_tls = o->use_tls;
	m->connack_rc = -1;
	m->last_connack = -1;
	if (!m->host) {
		mqtt_destroy(&m->base);
		return blt_detail_set(d, BLT_E_NOMEM, "out of memory");
	}

	if (o->use_tls) {
		rc = blt_tls_ctx_new(&o->tls, o->host, m->port, &m->diag, &m->ctx, d);
		if (rc != BLT_OK) {
			mqtt_destroy(&m->base);
			return rc;
		}
	}

	snprintf(client_id, sizeof client_id, "bluetti-c-%08x%08x", rand32(), rand32());
	m->mosq = mosquitto_new(o->client_id ? o->client_id : client_id, true, m);
	if (!m->mosq) {
		int e = errno;
		mqtt_destroy(&m->base);
		return blt_detail_set(d, e == EINVAL ? BLT_E_CONFIG : BLT_E_NOMEM,
		                      "mosquitto_new failed (%s)",
		                      e == EINVAL ? "invalid client id" : "out of memory");
	}
	mosquitto_int_option(m->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
	mosquitto_int_option(m->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_connect_callback_set(m->mosq, on_connect);
	mosquitto_disconnect_callback_set(m->mosq, on_disconnect);
	mosquitto_publish_callback_set(m->mosq, on_publish);
	mosquitto_message_callback_set(m->mosq, on_message);
	mosquitto_subscribe_callback_set(m->mosq, on_subscribe);
	mosquitto_log_callback_set(m->mosq, on_log);
	if (m->ctx) {
		/* Our SSL_CTX as is: libmosquitto must not apply its defaults (they would need
		 * a CA file path and would replace our verify setup). */
		rc = mosquitto_int_option(m->mosq, MOSQ_OPT_SSL_CTX_WITH_DEFAULTS, 0);
		if (rc == MOSQ_ERR_SUCCESS)
			rc = mosquitto_void_option(m->mosq, MOSQ_OPT_SSL_CTX, m->ctx);
		if (rc != MOSQ_ERR_SUCCESS)
			return mosq_opt_error(m, "cannot hand the TLS context to libmosquitto", rc,
			                      d);
	}
	if (o->username) {
		m->opt_user = strdup(o->username);
		m->opt_pass = o->password ? strdup(o->password) : NULL;
		if (!m->opt_user || (o->password && !m->opt_pass))
			return mosq_opt_error(m, "MQTT username/password", MOSQ_ERR_NOMEM, d);
		rc = mosquitto_username_pw_set(m->mosq, o->username, o->password);
		if (rc != MOSQ_ERR_SUCCESS)
			return mosq_opt_error(m, "MQTT username/password rejected", rc, d);
	}
	if (o->will_topic) {
		const char *wp = o->will_payload ? o->will_payload : "";
		rc = mosquitto_will_set(m->mosq, o->will_topic, (int)strlen(wp), wp, 1,
		                        o->will_retain);
		if (rc != MOSQ_ERR_SUCCESS)
			return mosq_opt_error(m, "bad last-will topic", rc, d);
	}
	*out = &m->base;
	return BLT_OK;
}
