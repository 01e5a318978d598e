/* Integration: broker TLS as the real Bluetti broker does it, through a real mosquitto
 * serving the weak PKI of scripts/pki.sh (RSA-1024 keys, SHA-1 signatures; the broker needs
 * `ciphers DEFAULT:@SECLEVEL=0` to load them). Proves: the Bluetti preset connects with
 * chain and host-name verification on (library options and the CLI's conn.c choice for a
 * cloud broker); a weak client key connects with the preset; OpenSSL's defaults refuse
 * both; an unknown CA fails with the key's fingerprint and the --pin-broker hint; a pin
 * recorded on first use is enforced, and a changed broker key is refused inside the
 * handshake (the broker never sees an MQTT CONNECT); an unsafe pin file is refused; the
 * host-name error names the name checked. Run through with_brokers.sh (it_util.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/x509_vfy.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bluetti/bluetti.h>
#include <bluetti/transport.h>

#include "conn.h"
#include "it_util.h"

#define WEAK_OPTS "--cert weak-broker --cafile weak-bundle --ciphers DEFAULT:@SECLEVEL=0"

static uint16_t port_weak; /* weak-broker.pem, changed to weak-broker2.pem by one test */
static char state_dir[600], pin_dir[700];

static int connect_with(blt_mqtt_opts_t *o, blt_transport_t **t, blt_detail_t *d)
{
	int rc = blt_mqtt_new(o, t, d);
	if (rc != BLT_OK)
		return rc;
	return blt_transport_connect(*t, d);
}

/* Lines in the broker's log that say an MQTT CONNECT was accepted. */
static int broker_connects(const char *name)
{
	char path[700];
	size_t n;
	int count = 0;
	snprintf(path, sizeof path, "%s/%s/mosquitto.log", it_env("BLT_IT_DIR"), name);
	char *log = (char *)it_read(path, &n);
	for (char *p = log; (p = strstr(p, "New client connected")) != NULL; p++)
		count++;
	free(log);
	return count;
}

static int group_setup(void **state)
{
	(void)state;
	port_weak = it_broker_start("weak", WEAK_OPTS);
	snprintf(state_dir, sizeof state_dir, "%s/state", it_env("BLT_IT_DIR"));
	snprintf(pin_dir, sizeof pin_dir, "%s/bluetti", state_dir);
	setenv("XDG_STATE_HOME", state_dir, 1);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	it_broker_stop("weak");
	return 0;
}

/* Options against the weak broker with PKI file pfx; CA: the one inside the PFX. */
static blt_mqtt_opts_t weak_opts(const char *pfx, uint8_t **buf)
{
	blt_mqtt_opts_t o = it_tls_opts("localhost", port_weak, pfx, buf);
	o.tls.ca_file = NULL;
	o.reconnect_min_ms = 100;
	return o;
}

static void test_preset_weak_broker_verified(void **state)
{
	blt_transport_t *t = NULL;
	blt_transport_info_t i;
	blt_detail_t d = {""};
	uint8_t *pfx;
	(void)state;

	/* OpenSSL's defaults: the RSA-1024 / SHA-1 chain is refused. */
	blt_mqtt_opts_t o = weak_opts("weakca-client.pfx", &pfx);
	assert_int_equal(connect_with(&o, &t, &d), BLT_E_TLS);
	assert_non_null(strstr(d.text, "too weak"));
	assert_non_null(strstr(d.text, BLT_TLS_CIPHERS_BLUETTI));
	assert_int_equal(blt_transport_info(t, &i), BLT_OK);
	assert_false(i.handshake_done);
	assert_int_not_equal(i.verify_result, 0);
	blt_transport_free(t);
	t = NULL;

	/* The Bluetti preset: connects, chain and name verified. */
	o.tls.ciphers = BLT_TLS_CIPHERS_BLUETTI;
	assert_int_equal(connect_with(&o, &t, &d), BLT_OK);
	assert_int_equal(blt_transport_info(t, &i), BLT_OK);
	assert_true(i.tls);
	assert_true(i.handshake_done);
	assert_false(i.insecure);
	assert_int_equal(i.verify_result, 0);
	assert_string_equal(i.verify_name, "localhost");
	assert_int_equal(i.security_level, 0);
	assert_string_equal(i.ciphers, BLT_TLS_CIPHERS_BLUETTI);
	assert_int_equal(i.connack, 0);
	assert_true(i.protocol[0] == 'T');
	assert_true(i.cipher[0] != '\0');
	assert_int_equal(i.chain_len, 2);
	assert_string_equal(i.chain[0].key_type, "RSA");
	assert_int_equal(i.chain[0].key_bits, 1024);
	assert_string_equal(i.chain[0].sig_alg, "sha1WithRSAEncryption");
	assert_non_null(strstr(i.chain[0].subject, "localhost"));
	assert_non_null(strstr(i.chain[1].subject, "weak test CA"));
	assert_int_equal(strlen(i.spki_sha256), 64);
	blt_transport_disconnect(t);
	blt_transport_free(t);
	free(pfx);
}

static void test_preset_weak_client_key(void **state)
{
	blt_transport_t *t = NULL;
	blt_detail_t d = {""};
	uint8_t *pfx;
	(void)state;

	/* OpenSSL's defaults refuse the RSA-1024 client key before any connection. */
	blt_mqtt_opts_t o = weak_opts("weak-client.pfx", &pfx);
	assert_int_equal(blt_mqtt_new(&o, &t, &d), BLT_E_CERT);
	assert_non_null(strstr(d.text, "key too small"));
	assert_null(t);
	/* ... the preset accepts it (the level is set before the key is loaded). */
	o.tls.ciphers = BLT_TLS_CIPHERS_BLUETTI;
	assert_int_equal(connect_with(&o, &t, &d), BLT_OK);
	assert_true(blt_transport_connected(t));
	blt_transport_free(t);
	free(pfx);
}

/* The CLI's choice (tools/common/conn.c): a cloud broker gets the preset, a local one
 * OpenSSL's defaults, --tls-ciphers wins over both. */
static void test_cli_conn_preset(void **state)
{
	blt_transport_t *t = NULL;
	blt_detail_t d = {""};
	conn_args_t a;
	char cert[600], pass[600];
	(void)state;

	conn_args_init(&a);
	assert_string_equal(conn_ciphers(&a), BLT_TLS_CIPHERS_BLUETTI); /* iot.bluettipower.com */
	snprintf(a.host, sizeof a.host, "localhost");
	a.port = port_weak;
	a.cert_file = it_path(cert, sizeof cert, "BLT_PKI", "weak-client.pfx");
	a.cert_password_file = it_path(pass, sizeof pass, "BLT_PKI", "client.pass");
	assert_null(conn_ciphers(&a));
	assert_int_equal(conn_open(&a, "it", &t, &d), BLT_E_CERT);
	a.cloud = true; /* what --account sets */
	assert_int_equal(conn_open(&a, "it", &t, &d), BLT_OK);
	blt_transport_free(t);
	t = NULL;
	a.tls_ciphers = "DEFAULT"; /* an explicit string wins over the preset */
	assert_int_equal(conn_open(&a, "it", &t, &d), BLT_E_CERT);
	conn_args_free(&a);

	assert_true(blt_broker_is_bluetti("iot.bluettipower.com"));
	assert_true(blt_broker_is_bluetti("bluettipower.com."));
	assert_false(blt_broker_is_bluetti("evilbluettipower.com"));
	assert_false(blt_broker_is_bluetti("iot.bluettipower.com.example"));
	assert_false(blt_broker_is_bluetti("localhost"));
}

static void test_hostname_error_names_checked_name(void **state)
{
	blt_transport_t *t = NULL;
	blt_detail_t d = {""};
	uint8_t *pfx;
	(void)state;

	blt_mqtt_opts_t o = weak_opts("weakca-client.pfx", &pfx);
	o.tls.ciphers = BLT_TLS_CIPHERS_BLUETTI;
	o.tls.verify_host = "broker.example";
	assert_int_equal(connect_with(&o, &t, &d), BLT_E_HOSTNAME);
	assert_non_null(strstr(d.text, "'broker.example'"));
	assert_null(strstr(d.text, "'localhost'"));
	blt_transport_free(t);
	free(pfx);
}

/* Unknown CA, then trust on first use, then a changed key. Runs last: it swaps the
 * broker's key. */
static void test_unknown_ca_pin_then_changed_key(void **state)
{
	blt_transport_t *t = NULL;
	blt_transport_info_t i;
	blt_detail_t d = {""};
	char pin_file[1100], cert[600], pass[600], cmd[1500];
	struct stat st;
	conn_args_t a;
	uint8_t *pfx;
	int before;
	(void)state;

	/* client.pfx carries the test CA, not the broker's weak CA. */
	blt_mqtt_opts_t o = weak_opts("client.pfx", &pfx);
	o.tls.ciphers = BLT_TLS_CIPHERS_BLUETTI;
	o.tls.pin_dir = pin_dir;
	assert_int_equal(connect_with(&o, &t, &d), BLT_E_TLS);
	assert_non_null(strstr(d.text, "CA is unknown"));
	assert_int_equal(blt_transport_info(t, &i), BLT_OK);
	assert_true(i.ca_unknown);
	assert_int_equal(i.pin_state, BLT_PIN_NONE);
	assert_non_null(strstr(d.text, i.spki_sha256));
	snprintf(pin_file, sizeof pin_file, "%s", i.pin_file);
	assert_int_not_equal(stat(pin_file, &st), 0); /* nothing pinned silently */
	blt_transport_free(t);
	t = NULL;

	/* The CLI's words: what to do, naming --pin-broker. */
	conn_args_init(&a);
	snprintf(a.host, sizeof a.host, "localhost");
	a.port = port_weak;
	a.cloud = true;
	a.cert_file = it_path(cert, sizeof cert, "BLT_PKI", "client.pfx");
	a.cert_password_file = it_path(pass, sizeof pass, "BLT_PKI", "client.pass");
	fflush(stderr);
	int saved = dup(2);
	char errf[700];
	snprintf(errf, sizeof errf, "%s/conn.err", it_env("BLT_IT_DIR"));
	assert_non_null(freopen(errf, "w", stderr));
	int rc = conn_open(&a, "it", &t, &d);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	assert_int_equal(rc, BLT_E_TLS);
	size_t n;
	char *msg = (char *)it_read(errf, &n);
	assert_non_null(strstr(msg, "--pin-broker"));
	assert_non_null(strstr(msg, "--ca FILE"));
	free(msg);

	/* --pin-broker: recorded on this connection, 0600 in a 0700 directory. */
	a.pin_broker = true;
	assert_int_equal(conn_open(&a, "it", &t, &d), BLT_OK);
	assert_int_equal(blt_transport_info(t, &i), BLT_OK);
	assert_int_equal(i.pin_state, BLT_PIN_RECORDED);
	assert_string_equal(i.pin_file, pin_file);
	blt_transport_free(t);
	t = NULL;
	assert_int_equal(stat(pin_file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(pin_dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	/* Later connections: the pin stands in for the unknown CA. */
	a.pin_broker = false;
	assert_int_equal(conn_open(&a, "it", &t, &d), BLT_OK);
	assert_int_equal(blt_transport_info(t, &i), BLT_OK);
	assert_int_equal(i.pin_state, BLT_PIN_MATCH);
	blt_transport_free(t);
	t = NULL;

	/* A pin file others can read is refused. */
	chmod(pin_file, 0644);
	assert_int_equal(conn_open(&a, "it", &t, &d), BLT_E_CONFIG);
	assert_non_null(strstr(d.text, "chmod 600"));
	chmod(pin_file, 0600);

	/* The broker's key changes (same names, same CA): refused even though the chain
	 * verifies, and no MQTT CONNECT reaches the broker. */
	snprintf(cmd, sizeof cmd,
	         "sed -i 's/weak-broker\\./weak-broker2./' '%s/weak/mosquitto.conf'",
	         it_env("BLT_IT_DIR"));
	assert_int_equal(it_sh("%s", cmd), 0);
	assert_int_equal(it_broker_restart("weak"), 0);
	before = broker_connects("weak");
	free(pfx);
	o = weak_opts("weakca-client.pfx", &pfx);
	o.tls.ciphers = BLT_TLS_CIPHERS_BLUETTI;
	o.tls.pin_dir = pin_dir;
	o.tls.pin_record = true; /* --pin-broker does not overwrite a pin either */
	assert_int_equal(connect_with(&o, &t, &d), BLT_E_PIN_MISMATCH);
	assert_int_equal(blt_transport_info(t, &i), BLT_OK);
	assert_int_equal(i.pin_state, BLT_PIN_MISMATCH);
	assert_string_not_equal(i.pinned, i.spki_sha256);
	assert_non_null(strstr(d.text, i.pinned));
	assert_non_null(strstr(d.text, i.spki_sha256));
	assert_int_equal(i.verify_result, X509_V_ERR_APPLICATION_VERIFICATION);
	blt_transport_free(t);
	t = NULL;
	assert_int_equal(broker_connects("weak"), before);

	/* Re-pin as the message says: remove the file, connect once with --pin-broker. */
	assert_int_equal(unlink(pin_file), 0);
	assert_int_equal(connect_with(&o, &t, &d), BLT_OK);
	assert_int_equal(blt_transport_info(t, &i), BLT_OK);
	assert_int_equal(i.pin_state, BLT_PIN_RECORDED);
	blt_transport_free(t);
	conn_args_free(&a);
	free(pfx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_preset_weak_broker_verified),
	    cmocka_unit_test(test_preset_weak_client_key),
	    cmocka_unit_test(test_cli_conn_preset),
	    cmocka_unit_test(test_hostname_error_names_checked_name),
	    cmocka_unit_test(test_unknown_ca_pin_then_changed_key),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
