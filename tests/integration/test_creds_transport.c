/* Integration: blt_transport_on_credentials against a real mosquitto whose password file
 * changes between connections (scripts/broker.sh --passwd, restarted on the same port).
 * Proves that a reconnect logs in with what the hook supplies at that moment, that
 * without a hook the options' credentials are used for every attempt (today's
 * behaviour), that a failing hook fails the attempt without a connection, and that no
 * credential reaches the log. Run through with_brokers.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <bluetti/bluetti.h>
#include <bluetti/transport.h>

#include "it_util.h"

#define USER  "creds-user"
#define PASS1 "Pw-one-7f3a91"
#define PASS2 "Pw-two-c04d5e"

typedef struct hook {
	int calls;
	const char *user, *pass;
	int fail; /* != 0: return this error */
	size_t ucap, pcap;
} hook_t;

static int cred_hook(void *user, char *u, size_t ucap, char *p, size_t pcap, blt_detail_t *d)
{
	hook_t *h = user;
	h->calls++;
	h->ucap = ucap;
	h->pcap = pcap;
	if (h->fail)
		return blt_detail_set(d, h->fail, "account token expired (test)");
	snprintf(u, ucap, "%s", h->user);
	snprintf(p, pcap, "%s", h->pass);
	return BLT_OK;
}

typedef struct conn_log {
	int ups, downs;
} conn_log_t;

static void on_conn(void *user, bool up, int err)
{
	conn_log_t *c = user;
	(void)err;
	if (up)
		c->ups++;
	else
		c->downs++;
}

/* Every log line, to prove no credential is ever written. */
static char g_log[64 * 1024];
static size_t g_log_len;

static void on_log(blt_log_level_t level, const char *msg, void *user)
{
	(void)level;
	(void)user;
	size_t n = strlen(msg);
	if (g_log_len + n + 2 < sizeof g_log) {
		memcpy(g_log + g_log_len, msg, n);
		g_log_len += n;
		g_log[g_log_len++] = '\n';
		g_log[g_log_len] = 0;
	}
}

static uint16_t broker_with_password(const char *name, const char *pass, uint16_t port)
{
	char opts[256];
	if (port)
		snprintf(opts, sizeof opts, "--plain --port %u --passwd '" USER ":%s'", port, pass);
	else
		snprintf(opts, sizeof opts, "--plain --passwd '" USER ":%s'", pass);
	return it_broker_start(name, opts);
}

static blt_mqtt_opts_t plain_opts(uint16_t port)
{
	blt_mqtt_opts_t o;
	memset(&o, 0, sizeof o);
	o.host = "127.0.0.1";
	o.port = port;
	o.connect_timeout_ms = 3000;
	o.reconnect_min_ms = 100;
	o.reconnect_max_ms = 400;
	return o;
}

/* Poll until connected again after a loss, or budget_ms. */
static bool poll_reconnected(blt_transport_t *t, conn_log_t *cl, int ups_before, int budget_ms)
{
	uint64_t end = blt_now_ms() + (uint64_t)budget_ms;
	while ((cl->ups <= ups_before || !blt_transport_connected(t)) && blt_now_ms() < end)
		blt_transport_poll(t, 50, NULL);
	return cl->ups > ups_before && blt_transport_connected(t);
}

static void poll_for(blt_transport_t *t, int ms)
{
	uint64_t end = blt_now_ms() + (uint64_t)ms;
	while (blt_now_ms() < end)
		blt_transport_poll(t, 50, NULL);
}

typedef struct rx {
	bool got;
	char payload[32];
} rx_t;

static void on_msg(void *user, const char *topic, const uint8_t *payload, size_t len, bool retained)
{
	rx_t *r = user;
	(void)topic;
	(void)retained;
	r->got = true;
	snprintf(r->payload, sizeof r->payload, "%.*s", (int)len, (const char *)payload);
}

static void roundtrip(blt_transport_t *t, rx_t *r, const char *what)
{
	blt_detail_t d = {{0}};
	for (int i = 0; i < 5; i++) /* the resubscribe's SUBACK */
		blt_transport_poll(t, 20, NULL);
	r->got = false;
	assert_int_equal(blt_transport_publish(t, "creds/test", what, strlen(what), 1, false, &d),
	                 BLT_OK);
	assert_true(it_poll_until(t, &r->got, 5000));
	assert_string_equal(r->payload, what);
}

/* The hook's new password is what the reconnect uses: the broker only accepts PASS2 after
 * the restart, and the session works (a message round trip) with it. */
static void test_reconnect_uses_fresh_credentials(void **state)
{
	blt_transport_t *t = NULL;
	blt_detail_t d = {{0}};
	hook_t h = {.user = USER, .pass = PASS1};
	conn_log_t cl = {0};
	rx_t r = {0};
	(void)state;

	uint16_t port = broker_with_password("fresh", PASS1, 0);
	blt_mqtt_opts_t o = plain_opts(port);
	o.username = USER; /* stale options: the hook must win */
	o.password = "stale-password";
	assert_int_equal(blt_mqtt_new(&o, &t, &d), BLT_OK);
	blt_transport_on_credentials(t, cred_hook, &h);
	blt_transport_on_connection(t, on_conn, &cl);
	assert_int_equal(blt_transport_connect(t, &d), BLT_OK);
	assert_int_equal(h.calls, 1);
	assert_int_equal(h.ucap, BLT_CRED_USERNAME_MAX);
	assert_int_equal(h.pcap, BLT_CRED_PASSWORD_MAX);
	assert_int_equal(blt_transport_listen(t, "creds/test", on_msg, &r, &d), BLT_OK);
	roundtrip(t, &r, "before");

	/* the broker comes back on the same port accepting only the new password */
	h.pass = PASS2;
	broker_with_password("fresh", PASS2, port);
	int calls = h.calls;
	assert_true(poll_reconnected(t, &cl, 1, 15000));
	assert_true(cl.downs >= 1);
	assert_true(h.calls > calls); /* asked again for the reconnect */
	roundtrip(t, &r, "after");

	blt_transport_disconnect(t);
	blt_transport_free(t);
	it_broker_stop("fresh");
}

/* Without a hook (today's behaviour) every attempt sends the options' password: against
 * the changed password file the reconnect is refused, until the old password is back. */
static void test_no_hook_keeps_option_credentials(void **state)
{
	blt_transport_t *t = NULL;
	blt_detail_t d = {{0}};
	conn_log_t cl = {0};
	rx_t r = {0};
	(void)state;

	uint16_t port = broker_with_password("nohook", PASS1, 0);
	blt_mqtt_opts_t o = plain_opts(port);
	o.username = USER;
	o.password = PASS1;
	assert_int_equal(blt_mqtt_new(&o, &t, &d), BLT_OK);
	blt_transport_on_connection(t, on_conn, &cl);
	assert_int_equal(blt_transport_connect(t, &d), BLT_OK);
	assert_int_equal(blt_transport_listen(t, "creds/test", on_msg, &r, &d), BLT_OK);

	broker_with_password("nohook", PASS2, port);
	poll_for(t, 2500);
	assert_false(blt_transport_connected(t));
	assert_int_equal(cl.ups, 1);

	broker_with_password("nohook", PASS1, port);
	assert_true(poll_reconnected(t, &cl, 1, 15000));
	roundtrip(t, &r, "same");
	blt_transport_disconnect(t);
	blt_transport_free(t);
	it_broker_stop("nohook");
}

/* A failing hook: connect returns its error and detail, no connection is made; poll
 * retries (asking the hook again) and connects once the hook succeeds. Removing the hook
 * restores the options' credentials. */
static void test_hook_failure_and_removal(void **state)
{
	blt_transport_t *t = NULL;
	blt_detail_t d = {{0}};
	hook_t h = {.user = USER, .pass = PASS2, .fail = BLT_E_AUTH};
	conn_log_t cl = {0};
	(void)state;

	uint16_t port = broker_with_password("fail", PASS2, 0);
	blt_mqtt_opts_t o = plain_opts(port);
	o.username = USER;
	o.password = PASS1;
	assert_int_equal(blt_mqtt_new(&o, &t, &d), BLT_OK);
	blt_transport_on_credentials(t, cred_hook, &h);
	blt_transport_on_connection(t, on_conn, &cl);
	assert_int_equal(blt_transport_connect(t, &d), BLT_E_AUTH);
	assert_non_null(strstr(d.text, "account token expired (test)"));
	assert_int_equal(h.calls, 1);
	assert_false(blt_transport_connected(t));
	poll_for(t, 600);
	assert_true(h.calls >= 2); /* retried with backoff, asking each time */
	assert_int_equal(cl.ups, 0);

	h.fail = 0;
	assert_true(poll_reconnected(t, &cl, 0, 10000));

	/* hook removed: the options' PASS1 again, which this broker refuses */
	blt_transport_on_credentials(t, NULL, NULL);
	{
		int calls = h.calls;
		broker_with_password("fail", PASS1, port);
		assert_true(poll_reconnected(t, &cl, 1, 15000));
		assert_int_equal(h.calls, calls);
	}
	blt_transport_disconnect(t);
	blt_transport_free(t);
	it_broker_stop("fail");
}

/* A hook that returns a password without a username, or garbage, is refused cleanly. */
static int bad_hook(void *user, char *u, size_t ucap, char *p, size_t pcap, blt_detail_t *d)
{
	(void)user;
	(void)d;
	(void)ucap;
	u[0] = 0;
	snprintf(p, pcap, "%s", PASS1);
	return BLT_OK;
}

static void test_hook_bad_values(void **state)
{
	blt_transport_t *t = NULL;
	blt_detail_t d = {{0}};
	(void)state;
	blt_mqtt_opts_t o = plain_opts(1); /* never reached */
	assert_int_equal(blt_mqtt_new(&o, &t, &d), BLT_OK);
	blt_transport_on_credentials(t, bad_hook, NULL);
	assert_int_equal(blt_transport_connect(t, &d), BLT_E_CONFIG);
	assert_non_null(strstr(d.text, "without a username"));
	assert_null(strstr(d.text, PASS1));
	blt_transport_free(t);
	/* NULL transport: no crash */
	blt_transport_on_credentials(NULL, cred_hook, NULL);
}

static void test_no_secret_in_log(void **state)
{
	(void)state;
	assert_true(g_log_len > 0); /* the tests above did log (connects, losses) */
	assert_null(strstr(g_log, PASS1));
	assert_null(strstr(g_log, PASS2));
	assert_null(strstr(g_log, "stale-password"));
}

int main(void)
{
	blt_log_set_handler(on_log, NULL, BLT_LOG_DEBUG);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_reconnect_uses_fresh_credentials),
	    cmocka_unit_test(test_no_hook_keeps_option_credentials),
	    cmocka_unit_test(test_hook_failure_and_removal),
	    cmocka_unit_test(test_hook_bad_values),
	    cmocka_unit_test(test_no_secret_in_log),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
