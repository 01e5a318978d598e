/* The account client (include/bluetti/cloud.h) against the simulated cloud
 * (bluetti-sim --cloud, run through test_cloud_driver) over real HTTPS on loopback:
 * the full flow (login, uid, devices, server time + X-Signature, PFX issued by the test
 * CA, MQTT credentials in server time), and every failure with its specific kind: wrong
 * password, unknown account, network, timeout, TLS, HTTP status, bad signature, wrong
 * TOTP code, PFX fallback to the other gateway, token expiry renewed once (and only
 * once). Run through with_brokers.sh (BLT_IT_DIR, BLT_PKI). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pkcs12.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <bluetti/cloud.h>

#include "it_cloud.h"
#include "it_util.h"

static bool g_builtin_key; /* start the simulator without a key file: the shipped one */

static void sim_start(simc_t *s, const char *name, const char **extra)
{
	it_cloud_start(s, name, extra, g_builtin_key);
}

static simc_t *g_sim; /* stopped by teardown, even when a test fails */

static int teardown(void **st)
{
	(void)st;
	if (g_sim) {
		sim_stop(g_sim);
		free(g_sim);
		g_sim = NULL;
	}
	return 0;
}

static simc_t *start(const char *name, const char **extra)
{
	if (g_sim) { /* a second simulator in one test: the first is done */
		sim_stop(g_sim);
		free(g_sim);
	}
	g_sim = calloc(1, sizeof *g_sim);
	sim_start(g_sim, name, extra);
	return g_sim;
}

static blt_cloud_t *client(const char *gw, const char *gwpry, const char *key, int timeout_ms)
{
	static char ca[600];
	blt_cloud_opts_t o;
	blt_cloud_t *c = NULL;
	blt_detail_t d;
	memset(&o, 0, sizeof o);
	o.gw_url = gw;
	o.gwpry_url = gwpry;
	o.ca_file = it_path(ca, sizeof ca, "BLT_PKI", "ca.pem");
	o.totp_key = key;
	o.timeout_ms = timeout_ms ? timeout_ms : 10000;
	o.device_id = "it-device-0001";
	if (blt_cloud_new(&o, &c, &d) != BLT_OK)
		fail_msg("blt_cloud_new: %s", d.text);
	return c;
}

static blt_cloud_fail_t kind(const blt_cloud_t *c)
{
	return blt_cloud_last_error(c)->kind;
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the whole flow ----------------------------------------------------------------- */

static void test_full_flow(void **st)
{
	const char *extra[] = {"--time-offset", "3600000", NULL}; /* server clock +1 h */
	simc_t *s = start("flow", extra);
	blt_cloud_t *c = client(s->url, NULL, KEY, 0);
	blt_detail_t d = {{0}};
	char uid[64], pfxpw[256], user[256], pw[16];
	blt_cloud_device_t dv[4];
	size_t n = 0;
	int64_t t = 0;
	uint8_t *pfx = NULL;
	size_t pfx_len = 0;
	(void)st;

	if (blt_cloud_login(c, EMAIL, PASSWORD, &d) != BLT_OK)
		fail_msg("login: %s", d.text);
	assert_non_null(blt_cloud_token(c));
	assert_int_equal(blt_cloud_token_ttl(c), 2678400);
	assert_int_equal(blt_cloud_user_id(c, uid, sizeof uid, &d), BLT_OK);
	assert_string_equal(uid, "1000001");
	if (blt_cloud_devices(c, dv, 4, &n, &d) != BLT_OK)
		fail_msg("devices: %s", d.text);
	assert_int_equal(n, 2);
	assert_string_equal(dv[0].model, "EL100V2");
	assert_string_equal(dv[0].sn, "EL100V22434000112345");
	assert_string_equal(dv[0].sub_sn, "2434000112345");
	assert_true(dv[0].online);
	assert_string_equal(dv[0].broker_host, "localhost");
	assert_int_equal(dv[0].broker_port, 18999);
	assert_int_equal(dv[1].protocol_ver, 2015);
	blt_cloud_device_t one;
	assert_int_equal(blt_cloud_find_device(c, "2616113487436", &one, &d), BLT_OK);
	assert_string_equal(one.model, "AP300");
	assert_int_equal(blt_cloud_find_device(c, "NOPE", &one, &d), BLT_E_NOT_FOUND);
	assert_int_equal(kind(c), BLT_CLOUD_NOT_FOUND);
	assert_non_null(strstr(d.text, "EL100V22434000112345"));

	/* server time is the server's (+1 h), not ours */
	assert_int_equal(blt_cloud_server_time(c, &t, &d), BLT_OK);
	assert_true(llabs((long long)(t - wall_ms() - 3600000)) < 5000);

	/* PFX: a PKCS#12 that the password opens, with a client certificate from the test CA */
	if (blt_cloud_pfx(c, &pfx, &pfx_len, pfxpw, sizeof pfxpw, &d) != BLT_OK)
		fail_msg("pfx: %s", d.text);
	{
		const unsigned char *p = pfx;
		PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)pfx_len);
		EVP_PKEY *k = NULL;
		X509 *cert = NULL;
		char path[600];
		assert_non_null(p12);
		assert_int_equal(PKCS12_parse(p12, pfxpw, &k, &cert, NULL), 1);
		FILE *f = fopen(it_path(path, sizeof path, "BLT_PKI", "ca.pem"), "r");
		X509 *ca = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
		assert_int_equal(X509_verify(cert, X509_get0_pubkey(ca)), 1);
		X509_free(ca);
		X509_free(cert);
		EVP_PKEY_free(k);
		PKCS12_free(p12);
	}
	blt_cloud_secret_free(pfx, pfx_len);

	/* MQTT: tid:<part 1>, TOTP(part1, part0) of the *server* time */
	assert_int_equal(blt_cloud_mqtt_credentials(c, user, sizeof user, pw, sizeof pw, &d),
	                 BLT_OK);
	{
		const char *tok = blt_cloud_token(c), *dot = strchr(tok, '.');
		char p0[128], p1[128], want[3][9];
		snprintf(p0, sizeof p0, "%.*s", (int)(dot - tok), tok);
		snprintf(p1, sizeof p1, "%.*s", (int)strcspn(dot + 1, "."), dot + 1);
		assert_int_equal(strncmp(user, "tid:", 4), 0);
		assert_string_equal(user + 4, p1);
		int64_t now = wall_ms() + 3600000;
		for (int i = 0; i < 3; i++)
			blt_cloud_totp(p1, p0, now + (i - 1) * 30000, KEY, want[i]);
		if (strcmp(pw, want[0]) && strcmp(pw, want[1]) && strcmp(pw, want[2]))
			fail_msg("MQTT password is not the TOTP of the server time");
		char local[9];
		blt_cloud_totp(p1, p0, wall_ms(), KEY, local);
		assert_string_not_equal(pw, local); /* an hour apart: the local clock is not used */
	}
	blt_cloud_free(c);
}

/* ---- login failures ------------------------------------------------------------------ */

static void test_login_failures(void **st)
{
	simc_t *s = start("login", NULL);
	blt_cloud_t *c = client(s->url, NULL, KEY, 0);
	blt_detail_t d;
	(void)st;
	assert_int_equal(blt_cloud_login(c, EMAIL, "wrong", &d), BLT_E_AUTH);
	assert_int_equal(kind(c), BLT_CLOUD_WRONG_PASSWORD);
	assert_int_equal(blt_cloud_last_error(c)->server_code, 20003015);
	assert_non_null(strstr(d.text, "wrong password"));
	assert_null(blt_cloud_token(c));
	assert_int_equal(blt_cloud_login(c, "nobody@example.com", PASSWORD, &d), BLT_E_AUTH);
	assert_int_equal(kind(c), BLT_CLOUD_UNKNOWN_ACCOUNT);
	assert_non_null(strstr(d.text, "does not exist"));
	/* not logged in */
	char uid[32];
	assert_int_equal(blt_cloud_user_id(c, uid, sizeof uid, &d), BLT_E_AUTH);
	assert_int_equal(kind(c), BLT_CLOUD_NOT_LOGGED_IN);
	/* a made-up token */
	assert_int_equal(blt_cloud_set_token(c, "made.up.token", &d), BLT_OK);
	assert_int_equal(blt_cloud_user_id(c, uid, sizeof uid, &d), BLT_E_PROTOCOL);
	assert_int_equal(kind(c), BLT_CLOUD_SERVER_CODE);
	assert_int_equal(blt_cloud_last_error(c)->server_code, 401);
	blt_cloud_free(c);
}

/* ---- transport failures ---------------------------------------------------------------- */

static void test_network_timeout_tls_http(void **st)
{
	blt_detail_t d;
	char url[128];
	(void)st;
	/* closed port: network error */
	uint16_t port;
	int fd = it_loopback_socket(0, &port);
	snprintf(url, sizeof url, "https://127.0.0.1:%u", port);
	blt_cloud_t *c = client(url, NULL, KEY, 0);
	assert_int_equal(blt_cloud_login(c, EMAIL, PASSWORD, &d), BLT_E_CONNECT);
	assert_int_equal(kind(c), BLT_CLOUD_NETWORK);
	blt_cloud_free(c);
	/* listening but never answering: timeout, not a hang */
	assert_int_equal(listen(fd, 4), 0);
	c = client(url, NULL, KEY, 700);
	assert_int_equal(blt_cloud_login(c, EMAIL, PASSWORD, &d), BLT_E_TIMEOUT);
	assert_int_equal(kind(c), BLT_CLOUD_TIMEOUT);
	blt_cloud_free(c);
	close(fd);

	simc_t *s = start("tls", NULL);
	/* a CA that did not issue the gateway certificate: TLS error */
	blt_cloud_opts_t o;
	char other[600];
	memset(&o, 0, sizeof o);
	o.gw_url = s->url;
	o.ca_file = it_path(other, sizeof other, "BLT_PKI", "other-ca.pem");
	assert_int_equal(blt_cloud_new(&o, &c, &d), BLT_OK);
	assert_int_equal(blt_cloud_login(c, EMAIL, PASSWORD, &d), BLT_E_TLS);
	assert_int_equal(kind(c), BLT_CLOUD_TLS);
	blt_cloud_free(c);
	/* wrong path prefix: HTTP 404 */
	snprintf(url, sizeof url, "%s/nothing-here", s->url);
	c = client(url, NULL, KEY, 0);
	assert_int_equal(blt_cloud_login(c, EMAIL, PASSWORD, &d), BLT_E_PROTOCOL);
	assert_int_equal(kind(c), BLT_CLOUD_HTTP_STATUS);
	assert_int_equal(blt_cloud_last_error(c)->http_status, 404);
	assert_non_null(strstr(d.text, "404"));
	blt_cloud_free(c);
}

/* ---- signature, TOTP code, PFX fallback ------------------------------------------------ */

static void test_bad_signature(void **st)
{
	const char *extra[] = {"--bad-signature", NULL};
	simc_t *s = start("badsig", extra);
	blt_cloud_t *c = client(s->url, NULL, KEY, 0);
	blt_detail_t d;
	int64_t t;
	uint8_t *pfx;
	size_t n;
	char pw[128];
	(void)st;
	assert_int_equal(blt_cloud_login(c, EMAIL, PASSWORD, &d), BLT_OK);
	assert_int_equal(blt_cloud_server_time(c, &t, &d), BLT_E_PROTOCOL);
	assert_int_equal(kind(c), BLT_CLOUD_BAD_SIGNATURE);
	assert_non_null(strstr(d.text, "X-Signature"));
	assert_int_equal(blt_cloud_pfx(c, &pfx, &n, pw, sizeof pw, &d), BLT_E_PROTOCOL);
	assert_int_equal(kind(c), BLT_CLOUD_BAD_SIGNATURE);
	assert_null(pfx);
	blt_cloud_free(c);
}

static void test_wrong_totp_code(void **st)
{
	simc_t *s = start("code", NULL);
	blt_cloud_t *c = client(s->url, NULL, "WRONGKEY1234", 0);
	blt_detail_t d;
	uint8_t *pfx;
	size_t n;
	char pw[128];
	(void)st;
	assert_int_equal(blt_cloud_login(c, EMAIL, PASSWORD, &d), BLT_OK);
	assert_int_equal(blt_cloud_pfx(c, &pfx, &n, pw, sizeof pw, &d), BLT_E_PROTOCOL);
	assert_int_equal(kind(c), BLT_CLOUD_SERVER_CODE);
	assert_int_equal(blt_cloud_last_error(c)->server_code, 40001);
	assert_non_null(strstr(d.text, "wrong code"));
	blt_cloud_free(c);
	/* no key configured: the built-in one, which this simulator (another key) refuses:
	 * the error names the TOTP key and how to override it */
	unsetenv("BLUETTI_TOTP_KEY");
	c = client(s->url, NULL, NULL, 0);
	assert_int_equal(blt_cloud_login(c, EMAIL, PASSWORD, &d), BLT_OK);
	assert_int_equal(blt_cloud_pfx(c, &pfx, &n, pw, sizeof pw, &d), BLT_E_PROTOCOL);
	assert_int_equal(kind(c), BLT_CLOUD_SERVER_CODE);
	assert_non_null(strstr(d.text, "TOTP key"));
	assert_non_null(strstr(d.text, "BLUETTI_TOTP_KEY"));
	blt_cloud_free(c);
}

static void test_pfx_fallback(void **st)
{
	const char *extra[] = {"--pfx-json-error", "1", NULL};
	simc_t *s = start("fallback", extra);
	blt_detail_t d;
	uint8_t *pfx = NULL;
	size_t n = 0;
	char pw[128];
	(void)st;
	/* second gateway (localhost) answers JSON, the first (127.0.0.1) the PKCS#12 */
	blt_cloud_t *c = client(s->url2, s->url, KEY, 0);
	assert_int_equal(blt_cloud_login(c, EMAIL, PASSWORD, &d), BLT_OK);
	if (blt_cloud_pfx(c, &pfx, &n, pw, sizeof pw, &d) != BLT_OK)
		fail_msg("pfx with fallback: %s", d.text);
	assert_true(n > 100);
	blt_cloud_secret_free(pfx, n);
	blt_cloud_free(c);
	/* second gateway unreachable: the first one still serves */
	c = client(s->url2, "https://127.0.0.1:1", KEY, 3000);
	assert_int_equal(blt_cloud_login(c, EMAIL, PASSWORD, &d), BLT_OK);
	if (blt_cloud_pfx(c, &pfx, &n, pw, sizeof pw, &d) != BLT_OK)
		fail_msg("pfx with unreachable second gateway: %s", d.text);
	blt_cloud_secret_free(pfx, n);
	blt_cloud_free(c);
}

static void test_pfx_both_fail(void **st)
{
	const char *extra[] = {"--pfx-json-error", "2", NULL};
	simc_t *s = start("bothfail", extra);
	blt_detail_t d;
	uint8_t *pfx = NULL;
	size_t n = 0;
	char pw[128];
	(void)st;
	blt_cloud_t *c = client(s->url2, s->url, KEY, 0);
	assert_int_equal(blt_cloud_login(c, EMAIL, PASSWORD, &d), BLT_OK);
	assert_int_equal(blt_cloud_pfx(c, &pfx, &n, pw, sizeof pw, &d), BLT_E_PROTOCOL);
	assert_int_equal(kind(c), BLT_CLOUD_SERVER_CODE);
	assert_int_equal(blt_cloud_last_error(c)->server_code, 500);
	assert_null(pfx);
	blt_cloud_free(c);
}

/* ---- token expiry ------------------------------------------------------------------ */

static void test_token_expiry_renewed_once(void **st)
{
	const char *extra[] = {"--token-ttl", "1", NULL};
	simc_t *s = start("ttl", extra);
	blt_detail_t d;
	blt_cloud_device_t dv[4];
	size_t n;
	char first[256];
	(void)st;
	blt_cloud_t *c = client(s->url, NULL, KEY, 0);
	assert_int_equal(blt_cloud_login(c, EMAIL, PASSWORD, &d), BLT_OK);
	snprintf(first, sizeof first, "%s", blt_cloud_token(c));
	it_sleep_ms(1300); /* the token expires mid-run */
	if (blt_cloud_devices(c, dv, 4, &n, &d) != BLT_OK)
		fail_msg("devices after expiry: %s", d.text);
	assert_int_equal(n, 2);
	assert_string_not_equal(blt_cloud_token(c), first); /* renewed */
	blt_cloud_free(c);

	/* a cached token without credentials: a clear expiry error, no re-login */
	c = client(s->url, NULL, KEY, 0);
	assert_int_equal(blt_cloud_set_token(c, first, &d), BLT_OK);
	assert_int_equal(blt_cloud_devices(c, dv, 4, &n, &d), BLT_E_AUTH);
	assert_int_equal(kind(c), BLT_CLOUD_TOKEN_EXPIRED);
	assert_non_null(strstr(d.text, "log in again"));
	blt_cloud_free(c);
}

static void test_token_always_expired(void **st)
{
	const char *extra[] = {"--token-ttl", "0", NULL};
	simc_t *s = start("ttl0", extra);
	blt_detail_t d;
	char uid[64];
	(void)st;
	blt_cloud_t *c = client(s->url, NULL, KEY, 0);
	assert_int_equal(blt_cloud_login(c, EMAIL, PASSWORD, &d), BLT_OK);
	/* a token the sign-in has just issued is refused: no re-login (a new one would fare
	 * the same), no loop; a custom gateway has no data centres to ask */
	assert_int_equal(blt_cloud_user_id(c, uid, sizeof uid, &d), BLT_E_AUTH);
	assert_int_equal(kind(c), BLT_CLOUD_TOKEN_EXPIRED);
	assert_non_null(strstr(d.text, "805"));
	assert_int_equal(blt_cloud_user_id(c, uid, sizeof uid, &d), BLT_E_AUTH); /* no request */
	assert_int_equal(blt_cloud_login_count(c), 1);
	blt_cloud_free(c);
	/* the simulator saw exactly: login, uid */
	sim_stop(s);
	size_t len;
	uint8_t *log = it_read(s->log, &len);
	int logins = 0, uids = 0;
	for (char *p = (char *)log; (p = strstr(p, "/accessToken -> code 0")); p++)
		logins++;
	for (char *p = (char *)log; (p = strstr(p, "/basic/get -> code 805")); p++)
		uids++;
	free(log);
	assert_int_equal(logins, 1);
	assert_int_equal(uids, 1);
}

/* ---- data centres (EVIDENCE.md §5) ------------------------------------------------- */

static int count_in(const char *path, const char *what)
{
	size_t len;
	int n = 0;
	uint8_t *log = it_read(path, &len);
	for (char *p = (char *)log; p && (p = strstr(p, what)); p++)
		n++;
	free(log);
	return n;
}

static blt_cloud_t *client_region(const simc_t *s, const char *region)
{
	static char ca[600];
	blt_cloud_opts_t o;
	blt_cloud_t *c = NULL;
	blt_detail_t d;
	memset(&o, 0, sizeof o);
	o.gw_url = s->url;
	o.ca_file = it_path(ca, sizeof ca, "BLT_PKI", "ca.pem");
	o.totp_key = KEY;
	o.timeout_ms = 10000;
	o.device_id = "it-device-0001";
	o.region = region;
	o.region_urls = s->regions;
	if (blt_cloud_new(&o, &c, &d) != BLT_OK)
		fail_msg("blt_cloud_new: %s", d.text);
	return c;
}

static void test_region_eu_found(void **st)
{
	const char *extra[] = {
	    "--account-region", "eu", "--region-listen", "us=127.0.0.1:0", "--region-listen",
	    "eu=127.0.0.1:0",   NULL};
	simc_t *s = start("eu", extra);
	blt_detail_t d;
	char uid[64], pfxpw[256], url[80];
	blt_cloud_device_t dv[4];
	size_t n = 0;
	uint8_t *pfx = NULL;
	size_t pfx_len = 0;
	(void)st;
	assert_true(s->eu_port && s->us_port);
	/* auto: gw answers 805 to the fresh token, the EU gateway serves the account */
	blt_cloud_t *c = client_region(s, NULL);
	assert_string_equal(blt_cloud_region(c), "global");
	assert_int_equal(blt_cloud_login(c, EMAIL, PASSWORD, &d), BLT_OK);
	if (blt_cloud_user_id(c, uid, sizeof uid, &d) != BLT_OK)
		fail_msg("uid via the EU gateway: %s", d.text);
	assert_string_equal(blt_cloud_region(c), "eu");
	snprintf(url, sizeof url, "https://localhost:%u", s->eu_port);
	assert_string_equal(blt_cloud_gateway(c), url);
	assert_int_equal(blt_cloud_devices(c, dv, 4, &n, &d), BLT_OK);
	assert_int_equal(n, 2);
	if (blt_cloud_pfx(c, &pfx, &pfx_len, pfxpw, sizeof pfxpw, &d) != BLT_OK)
		fail_msg("pfx from the EU gateway: %s", d.text);
	blt_cloud_secret_free(pfx, pfx_len);
	assert_int_equal(blt_cloud_login_count(c), 1);
	blt_cloud_free(c);
	/* the data centre remembered (dc_url): no 805 at all the next time */
	blt_cloud_opts_t o;
	char ca[600];
	memset(&o, 0, sizeof o);
	o.gw_url = s->url;
	o.ca_file = it_path(ca, sizeof ca, "BLT_PKI", "ca.pem");
	o.region_urls = s->regions;
	o.dc_url = url;
	assert_int_equal(blt_cloud_new(&o, &c, &d), BLT_OK);
	assert_int_equal(blt_cloud_login(c, EMAIL, PASSWORD, &d), BLT_OK);
	int refused_before = count_in(s->log, "code 805");
	assert_int_equal(blt_cloud_user_id(c, uid, sizeof uid, &d), BLT_OK);
	assert_string_equal(blt_cloud_region(c), "eu");
	blt_cloud_free(c);
	/* a fixed wrong region: a clear error naming the way out, one login, no probing */
	c = client_region(s, "us");
	assert_int_equal(blt_cloud_login(c, EMAIL, PASSWORD, &d), BLT_OK);
	assert_int_equal(blt_cloud_user_id(c, uid, sizeof uid, &d), BLT_E_AUTH);
	assert_int_equal(kind(c), BLT_CLOUD_TOKEN_EXPIRED);
	assert_non_null(strstr(d.text, "--region auto"));
	assert_int_equal(blt_cloud_login_count(c), 1);
	blt_cloud_free(c);
	sim_stop(s);
	/* one 805 from gw in the first run, none in the second, one from us in the third */
	assert_int_equal(refused_before, 1);
	assert_int_equal(count_in(s->log, "code 805"), 2);
}

static void test_region_persistent_805(void **st)
{
	const char *extra[] = {"--always-805",    "--region-listen", "eu=127.0.0.1:0",
	                       "--region-listen", "us=127.0.0.1:0",  NULL};
	simc_t *s = start("always805", extra);
	blt_detail_t d;
	char uid[64], pw[128];
	blt_cloud_device_t dv[4];
	size_t n;
	uint8_t *pfx = NULL;
	size_t pfx_len = 0;
	(void)st;
	blt_cloud_t *c = client_region(s, NULL);
	assert_int_equal(blt_cloud_login(c, EMAIL, PASSWORD, &d), BLT_OK);
	assert_int_equal(blt_cloud_user_id(c, uid, sizeof uid, &d), BLT_E_AUTH);
	assert_int_equal(kind(c), BLT_CLOUD_TOKEN_EXPIRED);
	assert_non_null(strstr(d.text, "no data centre accepts"));
	/* every later call fails at once, no further login */
	assert_int_equal(blt_cloud_devices(c, dv, 4, &n, &d), BLT_E_AUTH);
	assert_int_equal(blt_cloud_pfx(c, &pfx, &pfx_len, pw, sizeof pw, &d), BLT_E_AUTH);
	assert_int_equal(blt_cloud_mqtt_credentials(c, pw, sizeof pw, uid, sizeof uid, &d),
	                 BLT_E_AUTH);
	assert_int_equal(blt_cloud_login_count(c), 1);
	/* a cached token with the password (a bridge): one re-login, then the same end */
	char tok[256];
	snprintf(tok, sizeof tok, "%s", blt_cloud_token(c));
	blt_cloud_free(c);
	c = client_region(s, NULL);
	assert_int_equal(blt_cloud_set_token(c, tok, &d), BLT_OK);
	assert_int_equal(blt_cloud_set_relogin(c, EMAIL, PASSWORD, &d), BLT_OK);
	assert_int_equal(blt_cloud_devices(c, dv, 4, &n, &d), BLT_E_AUTH);
	assert_int_equal(blt_cloud_devices(c, dv, 4, &n, &d), BLT_E_AUTH);
	assert_int_equal(blt_cloud_login_count(c), 1);
	blt_cloud_free(c);
	sim_stop(s);
	assert_int_equal(count_in(s->log, "/accessToken -> code 0"), 2); /* one per handle */
}

/* ---- static broker password, https only, the built-in TOTP key ---------------------- */

static void test_rmt_password(void **st)
{
	char sf[600];
	snprintf(sf, sizeof sf, "%s/conn.secret", it_env("BLT_IT_DIR"));
	FILE *f = fopen(sf, "w");
	fputs("S3cretFromRecord\n", f);
	fclose(f);
	const char *extra[] = {"--conn-secret-file", sf, NULL};
	simc_t *s = start("rmt", extra);
	blt_detail_t d;
	blt_cloud_device_t dev;
	char secret[128], user[256], pw[256];
	(void)st;
	blt_cloud_t *c = client(s->url, NULL, KEY, 0);
	assert_int_equal(blt_cloud_login(c, EMAIL, PASSWORD, &d), BLT_OK);
	assert_int_equal(blt_cloud_find_device(c, "2434000112345", &dev, &d), BLT_OK);
	if (blt_cloud_device_remote(c, &dev, secret, sizeof secret, &d) != BLT_OK)
		fail_msg("deviceRemoteSearch: %s", d.text);
	assert_string_equal(secret, "S3cretFromRecord");
	assert_string_equal(dev.model, "EL100V2");
	assert_string_equal(dev.broker_host, "localhost");
	assert_int_equal(blt_cloud_set_broker_secret(c, secret, &d), BLT_OK);
	assert_int_equal(
	    blt_cloud_mqtt_credentials_fresh(c, 0, user, sizeof user, pw, sizeof pw, &d), BLT_OK);
	assert_string_equal(pw, "rmt:S3cretFromRecord");
	assert_int_equal(strncmp(user, "tid:", 4), 0);
	blt_cloud_free(c);
	sim_stop(s);
	/* without a secret in the record: "" and the TOTP stays */
	s = start("normt", NULL);
	c = client(s->url, NULL, KEY, 0);
	assert_int_equal(blt_cloud_login(c, EMAIL, PASSWORD, &d), BLT_OK);
	assert_int_equal(blt_cloud_find_device(c, "2434000112345", &dev, &d), BLT_OK);
	assert_int_equal(blt_cloud_device_remote(c, &dev, secret, sizeof secret, &d), BLT_OK);
	assert_string_equal(secret, "");
	assert_int_equal(blt_cloud_mqtt_credentials(c, user, sizeof user, pw, sizeof pw, &d),
	                 BLT_OK);
	assert_int_equal(strlen(pw), 8);
	blt_cloud_free(c);
}

static void test_http_refused_and_builtin_key(void **st)
{
	blt_detail_t d;
	blt_cloud_t *c = NULL;
	blt_cloud_opts_t o;
	uint8_t *pfx = NULL;
	size_t n = 0;
	char pw[128], url[80];
	(void)st;
	g_builtin_key = true;
	unsetenv("BLUETTI_TOTP_KEY");
	simc_t *s = start("builtin", NULL);
	g_builtin_key = false;
	memset(&o, 0, sizeof o);
	snprintf(url, sizeof url, "http://localhost:%u", s->port);
	o.gw_url = url;
	assert_int_equal(blt_cloud_new(&o, &c, &d), BLT_E_INVAL);
	assert_null(c);
	assert_non_null(strstr(d.text, "passOpen"));
	/* no key configured anywhere: the shipped one works end to end */
	c = client(s->url, NULL, NULL, 0);
	assert_int_equal(blt_cloud_login(c, EMAIL, PASSWORD, &d), BLT_OK);
	if (blt_cloud_pfx(c, &pfx, &n, pw, sizeof pw, &d) != BLT_OK)
		fail_msg("pfx with the built-in key: %s", d.text);
	blt_cloud_secret_free(pfx, n);
	blt_cloud_free(c);
	/* a wrong configured key: the refusal names the TOTP key */
	c = client(s->url, NULL, "WRONGKEY1234", 0);
	assert_int_equal(blt_cloud_login(c, EMAIL, PASSWORD, &d), BLT_OK);
	assert_int_equal(blt_cloud_pfx(c, &pfx, &n, pw, sizeof pw, &d), BLT_E_PROTOCOL);
	assert_non_null(strstr(d.text, "TOTP key"));
	assert_non_null(strstr(d.text, "configured"));
	blt_cloud_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_full_flow, teardown),
	    cmocka_unit_test_teardown(test_login_failures, teardown),
	    cmocka_unit_test_teardown(test_network_timeout_tls_http, teardown),
	    cmocka_unit_test_teardown(test_bad_signature, teardown),
	    cmocka_unit_test_teardown(test_wrong_totp_code, teardown),
	    cmocka_unit_test_teardown(test_pfx_fallback, teardown),
	    cmocka_unit_test_teardown(test_pfx_both_fail, teardown),
	    cmocka_unit_test_teardown(test_token_expiry_renewed_once, teardown),
	    cmocka_unit_test_teardown(test_token_always_expired, teardown),
	    cmocka_unit_test_teardown(test_region_eu_found, teardown),
	    cmocka_unit_test_teardown(test_region_persistent_805, teardown),
	    cmocka_unit_test_teardown(test_rmt_password, teardown),
	    cmocka_unit_test_teardown(test_http_refused_and_builtin_key, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
