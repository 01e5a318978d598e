/* Generic transport entry points: argument checks, then the implementation's vtable. */
#include <string.h>
#include <strings.h>
#include <time.h>

#include <bluetti/bluetti.h>
#include <bluetti/transport.h>

#include "transport/transport_internal.h"

uint64_t blt_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

blt_err_t blt_transport_connect(blt_transport_t *t, blt_detail_t *d)
{
	if (!t)
		return blt_detail_set(d, BLT_E_INVAL, "no transport");
	return t->ops->connect(t, d);
}

blt_err_t blt_transport_listen(blt_transport_t *t, const char *topic, blt_msg_fn fn, void *user,
                               blt_detail_t *d)
{
	if (!t || !topic || !topic[0] || !fn)
		return blt_detail_set(d, BLT_E_INVAL,
		                      "listen needs a transport, a topic and a handler");
	return t->ops->listen(t, topic, fn, user, d);
}

void blt_transport_unlisten(blt_transport_t *t, const char *topic)
{
	if (t && topic)
		t->ops->unlisten(t, topic, NULL, NULL);
}

void blt_transport_unlisten_fn(blt_transport_t *t, const char *topic, blt_msg_fn fn, void *user)
{
	if (t && topic && fn)
		t->ops->unlisten(t, topic, fn, user);
}

blt_err_t blt_transport_publish(blt_transport_t *t, const char *topic, const void *payload,
                                size_t len, int qos, bool retain, blt_detail_t *d)
{
	if (!t || !topic || !topic[0] || (len && !payload))
		return blt_detail_set(d, BLT_E_INVAL,
		                      "publish needs a transport, a topic and a payload");
	if (qos < 0 || qos > 1)
		return blt_detail_set(d, BLT_E_INVAL, "QoS %d not supported (0 or 1)", qos);
	return t->ops->publish(t, topic, payload, len, qos, retain, d);
}

void blt_transport_on_connection(blt_transport_t *t, blt_conn_fn fn, void *user)
{
	if (t) {
		t->conn_fn = fn;
		t->conn_user = user;
	}
}

void blt_transport_on_credentials(blt_transport_t *t, blt_cred_fn fn, void *user)
{
	if (t) {
		t->cred_fn = fn;
		t->cred_user = fn ? user : NULL;
	}
}

blt_err_t blt_transport_poll(blt_transport_t *t, int timeout_ms, blt_detail_t *d)
{
	if (!t)
		return blt_detail_set(d, BLT_E_INVAL, "no transport");
	return t->ops->poll(t, timeout_ms < 0 ? 0 : timeout_ms, d);
}

size_t blt_transport_pending(const blt_transport_t *t)
{
	return t && t->ops->pending ? t->ops->pending(t) : 0;
}

bool blt_transport_connected(const blt_transport_t *t)
{
	return t && t->ops->connected(t);
}

void blt_transport_disconnect(blt_transport_t *t)
{
	if (t)
		t->ops->disconnect(t);
}

void blt_transport_free(blt_transport_t *t)
{
	if (t)
		t->ops->destroy(t);
}

int blt_transport_info(const blt_transport_t *t, blt_transport_info_t *out)
{
	if (!t || !out || !t->info)
		return BLT_E_INVAL;
	return t->info(t, out);
}

bool blt_broker_is_bluetti(const char *host)
{
	static const char dom[] = "bluettipower.com";
	size_t n, k = sizeof dom - 1;
	if (!host)
		return false;
	n = strlen(host);
	if (n && host[n - 1] == '.') /* fully qualified form */
		n--;
	if (n < k || strncasecmp(host + n - k, dom, k) != 0)
		return false;
	return n == k || host[n - k - 1] == '.';
}
