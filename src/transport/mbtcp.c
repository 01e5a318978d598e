/* Modbus TCP transport (LOCAL.md §1.3, §1.5): one persistent TCP connection to a device's
 * Modbus TCP server, carrying the same RTU frames as the other transports. Frames handed
 * to publish() are converted to MBAP ADUs (blt_mbap_*), replies back to RTU frames for the
 * listeners, so the client, decoder and write gate work unchanged.
 *
 * What the device needs, enforced here rather than trusted to callers: one connection only
 * (a reconnect happens after the old socket is closed, with backoff), at least min_gap_ms
 * between two requests (bursts once left a device needing a factory reset), a clean close
 * (FIN) so the server's single client slot frees at once. Replies are matched by
 * transaction id: a late reply to an earlier request is dropped instead of being taken as
 * the answer to the current one (transaction id 0 is accepted: the firmware uses it for a
 * failed multi-register write, §1.8). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <bluetti/bluetti.h>
#include <bluetti/transport.h>

#include "transport/listeners.h"
#include "transport/transport_internal.h"

#define MB_QUEUE 8
#define MB_RX    (4 * BLT_MBAP_MAX)

typedef struct mbtcp {
	struct blt_transport base; /* first member */
	char *host;
	uint16_t port;
	int connect_timeout_ms;
	int min_gap_ms;
	int reconnect_min_ms, reconnect_max_ms;

	int fd;
	bool want; /* connect() called, no disconnect() */
	uint64_t next_attempt;
	int backoff_ms;

	uint16_t tid;       /* last transaction id sent */
	uint64_t last_sent; /* blt_now_ms() of the last request */
	struct {
		uint8_t adu[BLT_MBAP_MAX];
		size_t len;
	} q[MB_QUEUE];
	size_t qhead, qlen;

	uint8_t rx[MB_RX];
	size_t rxlen;
	blt_listeners_t ls;
	uint64_t stale; /* replies dropped for a wrong transaction id */
} mbtcp_t;

static void notify(mbtcp_t *m, bool up, int err)
{
	if (m->base.conn_fn)
		m->base.conn_fn(m->base.conn_user, up, err);
}

static void close_fd(mbtcp_t *m)
{
	if (m->fd >= 0) {
		shutdown(m->fd, SHUT_RDWR); /* FIN: the server's one client slot frees now */
		close(m->fd);
	}
	m->fd = -1;
	m->rxlen = 0;
}

static void lost(mbtcp_t *m, int err, const char *why)
{
	bool was_up = m->fd >= 0;

	close_fd(m);
	m->qlen = 0; /* requests queued for the old connection are void */
	if (!m->backoff_ms)
		m->backoff_ms = m->reconnect_min_ms;
	else if (m->backoff_ms < m->reconnect_max_ms)
		m->backoff_ms = m->backoff_ms * 2 > m->reconnect_max_ms ? m->reconnect_max_ms
		                                                        : m->backoff_ms * 2;
	m->next_attempt = blt_now_ms() + (uint64_t)m->backoff_ms;
	blt_log(BLT_LOG_WARN, "modbus-tcp %s:%u: %s; reconnecting in %d ms", m->host, m->port, why,
	        m->backoff_ms);
	if (was_up)
		notify(m, false, err);
}

/* Blocking connect with a timeout (non-blocking socket + poll). */
static int open_socket(mbtcp_t *m, blt_detail_t *d)
{
	struct addrinfo hints, *res = NULL, *ai;
	char port[8];
	int rc, last_errno = 0;
	uint64_t deadline = blt_now_ms() + (uint64_t)m->connect_timeout_ms;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof port, "%u", m->port);
	rc = getaddrinfo(m->host, port, &hints, &res);
	if (rc != 0)
		return blt_detail_set(d, BLT_E_CONNECT, "modbus-tcp: cannot resolve %s: %s",
		                      m->host, gai_strerror(rc));
	for (ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		                ai->ai_protocol);
		int one = 1, soerr = 0;
		socklen_t sl = sizeof soerr;

		if (fd < 0) {
			last_errno = errno;
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
			last_errno = errno;
			close(fd);
			continue;
		}
		for (;;) {
			struct pollfd pf = {fd, POLLOUT, 0};
			int64_t left = (int64_t)deadline - (int64_t)blt_now_ms();
			int pr;

			if (left <= 0) {
				last_errno = ETIMEDOUT;
				break;
			}
			pr = poll(&pf, 1, (int)left);
			if (pr < 0 && errno == EINTR)
				continue;
			if (pr <= 0) {
				last_errno = pr == 0 ? ETIMEDOUT : errno;
				break;
			}
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0)
				soerr = errno;
			last_errno = soerr;
			break;
		}
		if (last_errno != 0) {
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		m->fd = fd;
		freeaddrinfo(res);
		return BLT_OK;
	}
	freeaddrinfo(res);
	if (last_errno == ETIMEDOUT)
		return blt_detail_set(d, BLT_E_TIMEOUT,
		                      "modbus-tcp: %s:%u did not accept within %d ms (Modbus TCP "
		                      "enabled on the device? another client connected?)",
		                      m->host, m->port, m->connect_timeout_ms);
	return blt_detail_set(
	    d, BLT_E_CONNECT, "modbus-tcp: %s:%u: %s%s", m->host, m->port, strerror(last_errno),
	    last_errno == ECONNREFUSED ? " (is Modbus TCP enabled on the device, on this port?)"
	                               : "");
}

static int mb_connect(blt_transport_t *t, blt_detail_t *d)
{
	mbtcp_t *m = (mbtcp_t *)t;
	int rc;

	m->want = true;
	if (m->fd >= 0)
		return BLT_OK;
	rc = open_socket(m, d);
	if (rc != BLT_OK)
		return rc;
	m->backoff_ms = 0;
	blt_log(BLT_LOG_INFO, "modbus-tcp: connected to %s:%u", m->host, m->port);
	notify(m, true, BLT_OK);
	return BLT_OK;
}

static void deliver(mbtcp_t *m, const uint8_t *rtu, size_t n)
{
	blt_listeners_dispatch(&m->ls, NULL, rtu, n, false);
}

/* Parse whatever complete ADUs are buffered. Returns BLT_OK, or an error when the stream
 * cannot be resynchronised (the connection is then dropped by the caller). */
static int drain_rx(mbtcp_t *m, blt_detail_t *d)
{
	while (m->rxlen > 0) {
		blt_mbap_t a;
		uint8_t rtu[BLT_RTU_MAX];
		size_t n;
		int rc = blt_mbap_parse(m->rx, m->rxlen, &a, d);

		if (rc == BLT_E_SHORT)
			return BLT_OK;
		if (rc != BLT_OK)
			return rc;
		if (a.tid != m->tid && a.tid != 0) {
			m->stale++;
			blt_log(BLT_LOG_DEBUG,
			        "modbus-tcp: reply with transaction id %u dropped (current %u): an "
			        "earlier request's late answer",
			        a.tid, m->tid);
		} else if (blt_mbap_to_rtu(&a, rtu, sizeof rtu, &n, NULL) == BLT_OK) {
			deliver(m, rtu, n);
		}
		memmove(m->rx, m->rx + a.adu_len, m->rxlen - a.adu_len);
		m->rxlen -= a.adu_len;
	}
	return BLT_OK;
}

static int send_due(mbtcp_t *m, blt_detail_t *d)
{
	while (m->qlen > 0 && m->fd >= 0) {
		uint64_t now = blt_now_ms();
		ssize_t w;

		if (m->last_sent && now < m->last_sent + (uint64_t)m->min_gap_ms)
			return BLT_OK;
		w = send(m->fd, m->q[m->qhead].adu, m->q[m->qhead].len, MSG_NOSIGNAL);
		if (w != (ssize_t)m->q[m->qhead].len) {
			/* an ADU is at most 260 bytes: a short write on a fresh socket means the
			 * connection is gone */
			int e = w < 0 ? errno : EIO;
			blt_detail_set(d, BLT_E_DISCONNECTED, "modbus-tcp: send: %s", strerror(e));
			lost(m, BLT_E_DISCONNECTED, "send failed");
			return BLT_E_DISCONNECTED;
		}
		m->tid = (uint16_t)((m->q[m->qhead].adu[0] << 8) | m->q[m->qhead].adu[1]);
		m->last_sent = now;
		m->qhead = (m->qhead + 1) % MB_QUEUE;
		m->qlen--;
	}
	return BLT_OK;
}

static int mb_poll(blt_transport_t *t, int timeout_ms, blt_detail_t *d)
{
	mbtcp_t *m = (mbtcp_t *)t;
	uint64_t end = blt_now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		uint64_t now = blt_now_ms();
		int wait = (int)(end > now ? end - now : 0);
		struct pollfd pf;
		int pr;

		if (m->fd < 0) {
			if (!m->want)
				return blt_detail_set(d, BLT_E_DISCONNECTED,
				                      "modbus-tcp: not connected");
			if (now >= m->next_attempt) {
				blt_detail_t cd = {{0}};
				if (mb_connect(t, &cd) != BLT_OK)
					lost(m, BLT_E_CONNECT, cd.text);
			}
			if (m->fd < 0) {
				uint64_t until = m->next_attempt < end ? m->next_attempt : end;
				if (until > now)
					poll(NULL, 0, (int)(until - now));
				if (blt_now_ms() >= end)
					return blt_detail_set(d, BLT_E_DISCONNECTED,
					                      "modbus-tcp: %s:%u unreachable",
					                      m->host, m->port);
				continue;
			}
		}
		if (send_due(m, d) != BLT_OK)
			continue;
		if (m->qlen > 0) { /* wake up when the next request may go */
			uint64_t due = m->last_sent + (uint64_t)m->min_gap_ms;
			if (due > now && (int)(due - now) < wait)
				wait = (int)(due - now);
		}
		pf.fd = m->fd;
		pf.events = POLLIN;
		pf.revents = 0;
		pr = poll(&pf, 1, wait);
		if (pr < 0 && errno != EINTR)
			return blt_detail_set(d, BLT_E_IO, "modbus-tcp: poll: %s", strerror(errno));
		if (pr > 0) {
			ssize_t r = recv(m->fd, m->rx + m->rxlen, sizeof m->rx - m->rxlen, 0);
			if (r <= 0) {
				lost(m, BLT_E_DISCONNECTED,
				     r == 0 ? "closed by the device" : strerror(errno));
				continue;
			}
			m->rxlen += (size_t)r;
			if (drain_rx(m, d) != BLT_OK || m->rxlen == sizeof m->rx) {
				lost(m, BLT_E_PROTOCOL, "unparsable reply stream");
				continue;
			}
			/* bytes arrived (a reply delivered, or part of one): hand control back
			 * at once, as mosquitto_loop does, so the caller's next request does
			 * not wait for the rest of this timeout */
			return BLT_OK;
		}
		if (blt_now_ms() >= end)
			return BLT_OK;
	}
}

static int mb_listen(blt_transport_t *t, const char *topic, blt_msg_fn fn, void *user,
                     blt_detail_t *d)
{
	mbtcp_t *m = (mbtcp_t *)t;

	if (!topic || !fn)
		return blt_detail_set(d, BLT_E_INVAL, "modbus-tcp: bad listener");
	if (!blt_listeners_add(&m->ls, topic, fn, user))
		return blt_detail_set(d, BLT_E_NOMEM, "modbus-tcp: out of memory");
	return BLT_OK;
}

static void mb_unlisten(blt_transport_t *t, const char *topic, blt_msg_fn fn, void *user)
{
	blt_listeners_remove(&((mbtcp_t *)t)->ls, topic, fn, user, NULL);
}

/* The payload is an RTU frame (bare envelope); the topic names the device and is ignored:
 * a Modbus TCP connection reaches exactly one device. */
static int mb_publish(blt_transport_t *t, const char *topic, const void *payload, size_t len,
                      int qos, bool retain, blt_detail_t *d)
{
	mbtcp_t *m = (mbtcp_t *)t;
	size_t slot;
	uint16_t tid;
	int rc;

	(void)topic;
	(void)qos;
	(void)retain;
	if (m->fd < 0)
		return blt_detail_set(d, BLT_E_DISCONNECTED, "modbus-tcp: not connected");
	if (m->qlen == MB_QUEUE)
		return blt_detail_set(d, BLT_E_BUSY, "modbus-tcp: %d requests already queued",
		                      MB_QUEUE);
	slot = (m->qhead + m->qlen) % MB_QUEUE;
	/* transaction ids run 1..65535: 0 is what the device uses for failed writes */
	tid = (uint16_t)(m->tid + 1 + m->qlen);
	if (tid == 0)
		tid = 1;
	rc = blt_mbap_from_rtu(tid, payload, len, m->q[slot].adu, sizeof m->q[slot].adu,
	                       &m->q[slot].len, d);
	if (rc != BLT_OK)
		return rc;
	m->qlen++;
	return send_due(m, d);
}

static bool mb_connected(const blt_transport_t *t)
{
	return ((const mbtcp_t *)t)->fd >= 0;
}

static void mb_disconnect(blt_transport_t *t)
{
	mbtcp_t *m = (mbtcp_t *)t;
	bool was_up = m->fd >= 0;

	m->want = false;
	close_fd(m);
	m->qlen = 0;
	if (was_up)
		notify(m, false, BLT_OK);
}

static void mb_destroy(blt_transport_t *t)
{
	mbtcp_t *m = (mbtcp_t *)t;

	if (!blt_listeners_clear(&m->ls))
		return; /* called from a handler: freeing now would pull the rug */
	close_fd(m);
	free(m->host);
	free(m);
}

static const struct blt_transport_ops mb_ops = {
    .connect = mb_connect,
    .listen = mb_listen,
    .unlisten = mb_unlisten,
    .publish = mb_publish,
    .poll = mb_poll,
    .connected = mb_connected,
    .disconnect = mb_disconnect,
    .destroy = mb_destroy,
};

blt_err_t blt_mbtcp_new(const blt_mbtcp_opts_t *o, blt_transport_t **out, blt_detail_t *d)
{
	mbtcp_t *m;

	if (!o || !out || !o->host || !*o->host)
		return blt_detail_set(d, BLT_E_INVAL, "modbus-tcp: no host");
	m = calloc(1, sizeof *m);
	if (!m || !(m->host = strdup(o->host))) {
		free(m);
		return blt_detail_set(d, BLT_E_NOMEM, "modbus-tcp: out of memory");
	}
	m->base.ops = &mb_ops;
	m->fd = -1;
	m->port = o->port ? o->port : 502;
	m->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 5000;
	m->min_gap_ms = o->min_gap_ms < 0 ? 0 : o->min_gap_ms ? o->min_gap_ms : 1000;
	m->reconnect_min_ms = o->reconnect_min_ms > 0 ? o->reconnect_min_ms : 2000;
	m->reconnect_max_ms = o->reconnect_max_ms > 0 ? o->reconnect_max_ms : 60000;
	if (m->reconnect_max_ms < m->reconnect_min_ms)
		m->reconnect_max_ms = m->reconnect_min_ms;
	*out = &m->base;
	return BLT_OK;
}

uint64_t blt_mbtcp_stale_replies(const blt_transport_t *t)
{
	return t && t->ops == &mb_ops ? ((const mbtcp_t *)t)->stale : 0;
}
