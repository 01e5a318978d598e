/* Integration: the MQTT transport against a real mosquitto with mutual TLS on loopback.
 * Run through with_brokers.sh (see it_util.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bluetti/bluetti.h>
#include <bluetti/transport.h>

#include "it_util.h"

static uint16_t port_main; /* mutual TLS, broker.pem (localhost + 127.0.0.1) */

typedef struct rx {
	bool got;
	int count;
	char topic[128];
	uint8_t payload[256];
	size_t len;
	bool retained;
} rx_t;

static void on_msg(void *user, const char *topic, const uint8_t *payload, size_t len, bool retained)
{
	rx_t *r = user;
	r->got = true;
	r->count++;
	snprintf(r->topic, sizeof r->topic, "%s", topic);
	r->len = len < sizeof r->payload ? len : sizeof r->payload;
	memcpy(r->payload, payload, r->len);
	r->retained = retained;
}

static int connect_with(blt_mqtt_opts_t *o, blt_transport_t **t, blt_detail_t *d)
{
	int rc = blt_mqtt_new(o, t, d);
	if (rc != BLT_OK)
		return rc;
	return blt_transport_connect(*t, d);
}

static int group_setup(void **state)
{
	(void)state;
	port_main = it_broker_start("main", "");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	it_broker_stop("main");
	return 0;
}

static void test_roundtrip_mutual_tls(void **state)
{
	blt_transport_t *t = NULL;
	blt_detail_t d = {""};
	uint8_t *pfx;
	rx_t a = {0}, b = {0};
	const uint8_t msg[] = {0x01, 0xf8, 0x0f, 0x00, 0x00, 0x00, 0x00, 0xb9, 0, 0, 0x00, 0x03};
	(void)state;

	blt_mqtt_opts_t o = it_tls_opts("localhost", port_main, "client.pfx", &pfx);
	assert_int_equal(connect_with(&o, &t, &d), BLT_OK);
	assert_true(blt_transport_connected(t));
	assert_int_equal(blt_transport_listen(t, "PUB/EL100V2/A", on_msg, &a, &d), BLT_OK);
	assert_int_equal(blt_transport_listen(t, "PUB/EL100V2/B", on_msg, &b, &d), BLT_OK);
	assert_int_equal(blt_transport_publish(t, "PUB/EL100V2/A", msg, sizeof msg, 1, false, &d),
	                 BLT_OK);
	assert_true(it_poll_until(t, &a.got, 5000));
	assert_string_equal(a.topic, "PUB/EL100V2/A");
	assert_int_equal(a.len, sizeof msg);
	assert_memory_equal(a.payload, msg, sizeof msg);
	assert_false(a.retained);
	/* exact-topic routing: B saw nothing */
	assert_false(b.got);
	/* wildcard listens are refused */
	assert_int_equal(blt_transport_listen(t, "PUB/#", on_msg, &a, &d), BLT_E_INVAL);
	blt_transport_disconnect(t);
	assert_false(blt_transport_connected(t));
	blt_transport_free(t);
	free(pfx);
}

static void test_ca_from_pfx_and_ip_literal(void **state)
{
	blt_transport_t *t = NULL;
	blt_detail_t d = {""};
	uint8_t *pfx;
	(void)state;

	/* no ca_file: the CA inside client.pfx verifies the broker; IP SAN checked */
	blt_mqtt_opts_t o = it_tls_opts("127.0.0.1", port_main, "client.pfx", &pfx);
	o.tls.ca_file = NULL;
	assert_int_equal(connect_with(&o, &t, &d), BLT_OK);
	blt_transport_free(t);
	free(pfx);
}

static void test_wrong_password(void **state)
{
	blt_transport_t *t = NULL;
	blt_detail_t d = {""};
	uint8_t *pfx;
	(void)state;

	blt_mqtt_opts_t o = it_tls_opts("localhost", port_main, "client.pfx", &pfx);
	o.tls.pfx_password = "not-the-password";
	assert_int_equal(blt_mqtt_new(&o, &t, &d), BLT_E_CERT_PASSWORD);
	assert_null(t);
	assert_non_null(strstr(d.text, "password"));
	free(pfx);
}

static void test_untrusted_ca(void **state)
{
	blt_transport_t *t = NULL;
	blt_detail_t d = {""};
	char ca[512];
	uint8_t *pfx;
	(void)state;

	blt_mqtt_opts_t o = it_tls_opts("localhost", port_main, "client.pfx", &pfx);
	o.tls.ca_file = it_path(ca, sizeof ca, "BLT_PKI", "other-ca.pem");
	assert_int_equal(blt_mqtt_new(&o, &t, &d), BLT_OK);
	assert_int_equal(blt_transport_connect(t, &d), BLT_E_TLS);
	assert_non_null(strstr(d.text, "not trusted"));
	assert_false(blt_transport_connected(t));
	blt_transport_free(t);
	free(pfx);
}

static void test_hostname_mismatch(void **state)
{
	blt_transport_t *t = NULL;
	blt_detail_t d = {""};
	uint8_t *pfx;
	uint16_t port = it_broker_start("wronghost", "--cert wronghost");
	(void)state;

	blt_mqtt_opts_t o = it_tls_opts("localhost", port, "client.pfx", &pfx);
	assert_int_equal(connect_with(&o, &t, &d), BLT_E_HOSTNAME);
	assert_non_null(strstr(d.text, "localhost"));
	blt_transport_free(t);
	t = NULL;

	/* IP literal against a certificate without that IP */
	o.host = "127.0.0.1";
	assert_int_equal(connect_with(&o, &t, &d), BLT_E_HOSTNAME);
	blt_transport_free(t);
	t = NULL;

	/* verify_host naming the certificate's name: trusted and matching */
	o.host = "localhost";
	o.tls.verify_host = "not-this-host.example";
	assert_int_equal(connect_with(&o, &t, &d), BLT_OK);
	blt_transport_free(t);
	t = NULL;

	/* insecure: no verification at all, connects */
	o.tls.verify_host = NULL;
	o.tls.insecure = true;
	assert_int_equal(connect_with(&o, &t, &d), BLT_OK);
	blt_transport_free(t);
	it_broker_stop("wronghost");
	free(pfx);
}

static void test_expired_client_cert(void **state)
{
	blt_transport_t *t = NULL;
	blt_detail_t d = {""};
	uint8_t *pfx;
	(void)state;

	blt_mqtt_opts_t o = it_tls_opts("localhost", port_main, "expired.pfx", &pfx);
	assert_int_equal(blt_mqtt_new(&o, &t, &d), BLT_E_CERT);
	assert_null(t);
	assert_non_null(strstr(d.text, "expired"));
	assert_non_null(strstr(d.text, "2021-01-01"));
	free(pfx);
}

static void test_legacy_pfx(void **state)
{
	blt_transport_t *t = NULL;
	blt_detail_t d = {""};
	uint8_t *pfx;
	(void)state;

	blt_mqtt_opts_t o = it_tls_opts("localhost", port_main, "legacy.pfx", &pfx);
	assert_int_equal(connect_with(&o, &t, &d), BLT_OK);
	blt_transport_free(t);
	free(pfx);
}

static void test_broker_rejects_client_cert(void **state)
{
	blt_transport_t *t = NULL;
	blt_detail_t d = {""};
	uint8_t *pfx;
	rx_t r = {0};
	(void)state;

	blt_mqtt_opts_t o = it_tls_opts("localhost", port_main, "other-client.pfx", &pfx);
	int rc = connect_with(&o, &t, &d);
	print_message("client certificate from another CA: %s (%s)\n", blt_strerror(rc), d.text);
	assert_int_equal(rc, BLT_E_TLS);
	assert_non_null(strstr(d.text, "client certificate"));
	(void)r;
	blt_transport_free(t);
	free(pfx);
}

static void test_not_running(void **state)
{
	blt_transport_t *t = NULL;
	blt_detail_t d = {""};
	uint8_t *pfx;
	uint16_t port = it_broker_start("gone", "");
	(void)state;

	it_broker_stop("gone"); /* a port that was just free and is closed again */
	blt_mqtt_opts_t o = it_tls_opts("localhost", port, "client.pfx", &pfx);
	uint64_t t0 = blt_now_ms();
	assert_int_equal(connect_with(&o, &t, &d), BLT_E_CONNECT);
	print_message("broker not running: BLT_E_CONNECT after %llu ms (%s)\n",
	              (unsigned long long)(blt_now_ms() - t0), d.text);
	/* poll while down: no busy loop, reports disconnected */
	assert_int_equal(blt_transport_poll(t, 20, &d), BLT_E_DISCONNECTED);
	blt_transport_free(t);
	free(pfx);
}

static void test_connect_timeout(void **state)
{
	blt_transport_t *t = NULL;
	blt_detail_t d = {""};
	uint8_t *pfx;
	uint16_t port;
	(void)state;

	/* A listener that never accepts: TCP completes, the TLS handshake never does. */
	int s = it_loopback_socket(4, &port);
	blt_mqtt_opts_t o = it_tls_opts("localhost", port, "client.pfx", &pfx);
	o.connect_timeout_ms = 400;
	assert_int_equal(connect_with(&o, &t, &d), BLT_E_TIMEOUT);
	assert_non_null(strstr(d.text, "400 ms"));
	blt_transport_free(t);
	close(s);
	free(pfx);
}

static void test_auth(void **state)
{
	blt_transport_t *t = NULL;
	blt_detail_t d = {""};
	uint8_t *pfx;
	uint16_t port = it_broker_start("auth", "--passwd tid:s3cret");
	(void)state;

	blt_mqtt_opts_t o = it_tls_opts("localhost", port, "client.pfx", &pfx);
	o.username = "tid";
	o.password = "wrong";
	assert_int_equal(connect_with(&o, &t, &d), BLT_E_AUTH);
	assert_null(strstr(d.text, "wrong")); /* the password never appears in messages */
	blt_transport_free(t);
	t = NULL;
	o.username = NULL;
	o.password = NULL;
	assert_int_equal(connect_with(&o, &t, &d), BLT_E_AUTH);
	blt_transport_free(t);
	t = NULL;
	o.username = "tid";
	o.password = "s3cret";
	assert_int_equal(connect_with(&o, &t, &d), BLT_OK);
	blt_transport_free(t);
	it_broker_stop("auth");
	free(pfx);
}

static void test_retained_flag(void **state)
{
	blt_transport_t *pub = NULL, *sub = NULL;
	blt_detail_t d = {""};
	uint8_t *pfx;
	rx_t r = {0};
	(void)state;

	blt_mqtt_opts_t o = it_tls_opts("localhost", port_main, "client.pfx", &pfx);
	assert_int_equal(connect_with(&o, &pub, &d), BLT_OK);
	assert_int_equal(blt_transport_publish(pub, "PUB/RET/1", "old", 3, 1, true, &d), BLT_OK);
	for (int i = 0; i < 5; i++) /* let the PUBACK arrive */
		blt_transport_poll(pub, 20, NULL);
	assert_int_equal(connect_with(&o, &sub, &d), BLT_OK);
	assert_int_equal(blt_transport_listen(sub, "PUB/RET/1", on_msg, &r, &d), BLT_OK);
	assert_true(it_poll_until(sub, &r.got, 5000));
	assert_true(r.retained);
	assert_memory_equal(r.payload, "old", 3);
	/* clear the retained message */
	assert_int_equal(blt_transport_publish(pub, "PUB/RET/1", NULL, 0, 1, true, &d), BLT_OK);
	for (int i = 0; i < 5; i++)
		blt_transport_poll(pub, 20, NULL);
	blt_transport_free(pub);
	blt_transport_free(sub);
	free(pfx);
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

static void test_reconnect_resubscribe(void **state)
{
	blt_transport_t *t = NULL;
	blt_detail_t d = {""};
	uint8_t *pfx;
	rx_t r = {0};
	conn_log_t cl = {0};
	uint16_t port = it_broker_start("restart", "");
	(void)state;

	blt_mqtt_opts_t o = it_tls_opts("localhost", port, "client.pfx", &pfx);
	assert_int_equal(blt_mqtt_new(&o, &t, &d), BLT_OK);
	blt_transport_on_connection(t, on_conn, &cl);
	assert_int_equal(blt_transport_connect(t, &d), BLT_OK);
	assert_int_equal(cl.ups, 1);
	assert_int_equal(blt_transport_listen(t, "PUB/X/1", on_msg, &r, &d), BLT_OK);
	assert_int_equal(blt_transport_publish(t, "PUB/X/1", "one", 3, 1, false, &d), BLT_OK);
	assert_true(it_poll_until(t, &r.got, 5000));

	assert_int_equal(it_broker_restart("restart"), 0);
	/* poll until the loss is noticed and the connection is back (bounded) */
	uint64_t end = blt_now_ms() + 15000;
	while ((cl.downs == 0 || !blt_transport_connected(t)) && blt_now_ms() < end)
		blt_transport_poll(t, 50, NULL);
	assert_true(cl.downs >= 1);
	assert_true(blt_transport_connected(t));
	assert_true(cl.ups >= 2);
	/* give the resubscribe's SUBACK a moment, then the second round trip */
	for (int i = 0; i < 5; i++)
		blt_transport_poll(t, 20, NULL);
	r.got = false;
	assert_int_equal(blt_transport_publish(t, "PUB/X/1", "two", 3, 1, false, &d), BLT_OK);
	assert_true(it_poll_until(t, &r.got, 5000));
	assert_memory_equal(r.payload, "two", 3);
	blt_transport_free(t);
	it_broker_stop("restart");
	free(pfx);
}

static void test_plain(void **state)
{
	blt_transport_t *t = NULL;
	blt_detail_t d = {""};
	rx_t r = {0};
	uint16_t port = it_broker_start("plain", "--plain");
	(void)state;

	blt_mqtt_opts_t o = {.host = "127.0.0.1", .port = port, .connect_timeout_ms = 3000};
	assert_int_equal(connect_with(&o, &t, &d), BLT_OK);
	assert_int_equal(blt_transport_listen(t, "bluetti/x", on_msg, &r, &d), BLT_OK);
	assert_int_equal(blt_transport_publish(t, "bluetti/x", "hi", 2, 0, false, &d), BLT_OK);
	assert_true(it_poll_until(t, &r.got, 5000));
	blt_transport_free(t);
	t = NULL;

	/* TLS client against a plain listener: a clear failure, not a hang */
	uint8_t *pfx;
	blt_mqtt_opts_t ot = it_tls_opts("localhost", port, "client.pfx", &pfx);
	ot.connect_timeout_ms = 2000;
	int rc = connect_with(&ot, &t, &d);
	print_message("TLS against a plain listener: %s (%s)\n", blt_strerror(rc), d.text);
	assert_true(rc == BLT_E_TLS || rc == BLT_E_CONNECT);
	blt_transport_free(t);
	it_broker_stop("plain");
	free(pfx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_roundtrip_mutual_tls),
	    cmocka_unit_test(test_ca_from_pfx_and_ip_literal),
	    cmocka_unit_test(test_wrong_password),
	    cmocka_unit_test(test_untrusted_ca),
	    cmocka_unit_test(test_hostname_mismatch),
	    cmocka_unit_test(test_expired_client_cert),
	    cmocka_unit_test(test_legacy_pfx),
	    cmocka_unit_test(test_broker_rejects_client_cert),
	    cmocka_unit_test(test_not_running),
	    cmocka_unit_test(test_connect_timeout),
	    cmocka_unit_test(test_auth),
	    cmocka_unit_test(test_retained_flag),
	    cmocka_unit_test(test_reconnect_resubscribe),
	    cmocka_unit_test(test_plain),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
