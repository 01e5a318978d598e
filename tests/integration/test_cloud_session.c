/* The account session (cloud.h, blt_cloud_session_*) against the simulated cloud
 * (bluetti-sim --cloud through test_cloud_driver: real HTTPS, a PKCS#12 issued by the
 * test CA): a login saved in a private store (0700/0600) and opened again from it alone;
 * BLUETTI_API / BLUETTI_API_CA honoured; an expired token renewed by exactly one re-login
 * and saved; an 805 from the sign-in gateway answered by finding the account's data centre
 * and remembering it (no 805 the next time), also when the store forgot it; a wrong
 * password and an unknown account refused clearly with nothing saved; a store others can
 * read refused. Every library log line of every test is captured: no password, token,
 * token part or certificate password may appear in it. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <sys/stat.h>

#include <bluetti/cloud.h>

#include "it_cloud.h"

/* ---- captured library log ------------------------------------------------------------ */

static char g_log[1 << 16];
static size_t g_log_len;

static void capture(blt_log_level_t level, const char *msg, void *user)
{
	(void)level;
	(void)user;
	int n = snprintf(g_log + g_log_len, sizeof g_log - g_log_len, "%s\n", msg);
	if (n > 0 && g_log_len + (size_t)n < sizeof g_log)
		g_log_len += (size_t)n;
}

/* The secret (and, for a token, each of its parts) never reached the log. */
static void no_secret(const char *what, const char *secret)
{
	char part[2048];
	assert_true(secret && strlen(secret) >= 6);
	if (strstr(g_log, secret))
		fail_msg("the %s reached the log", what);
	for (const char *p = secret; *p;) {
		size_t n = strcspn(p, ".");
		if (n >= 6 && n < sizeof part) {
			memcpy(part, p, n);
			part[n] = '\0';
			if (strstr(g_log, part))
				fail_msg("a part of the %s reached the log", what);
		}
		p += n + (p[n] == '.');
	}
}

/* ---- fixtures ------------------------------------------------------------------------ */

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
	g_sim = calloc(1, sizeof *g_sim);
	it_cloud_start(g_sim, name, extra, false);
	return g_sim;
}

/* A fresh (absent) store directory for one test. */
static const char *store(const char *name)
{
	static char dir[600];
	snprintf(dir, sizeof dir, "%s/store-%s", it_env("BLT_IT_DIR"), name);
	assert_int_equal(it_sh("rm -rf '%s'", dir), 0);
	return dir;
}

static const char *ca(void)
{
	static char buf[600];
	return it_path(buf, sizeof buf, "BLT_PKI", "ca.pem");
}

static unsigned mode_of(const char *dir, const char *file)
{
	char path[700];
	struct stat st;
	snprintf(path, sizeof path, "%s%s%s", dir, file ? "/" : "", file ? file : "");
	if (lstat(path, &st) != 0)
		fail_msg("%s: %s", path, strerror(errno));
	return (unsigned)(st.st_mode & 0777);
}

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

static blt_cloud_fail_t kind(blt_cloud_session_t *x)
{
	return blt_cloud_last_error(blt_cloud_session_cloud(x))->kind;
}

/* A new login into dir; the session stays open. */
static blt_cloud_session_t *login(const simc_t *s, const char *dir, const char *regions)
{
	blt_cloud_session_opts_t o = {0};
	blt_cloud_session_t *x = NULL;
	blt_detail_t d;
	o.store_dir = dir;
	o.api = s->url;
	o.api_ca = ca();
	o.region_urls = regions;
	if (blt_cloud_session_new(&o, &x, &d) != BLT_OK)
		fail_msg("session_new: %s", d.text);
	if (blt_cloud_session_login(x, EMAIL, PASSWORD, &d) != BLT_OK)
		fail_msg("login: %s", d.text);
	return x;
}

/* Open the saved login of dir (nothing else given but the re-login password and the
 * regional gateways, which the store does not keep). */
static blt_cloud_session_t *reopen(const char *dir, const char *password, const char *regions)
{
	blt_cloud_session_opts_t o = {0};
	blt_cloud_session_t *x = NULL;
	blt_detail_t d;
	o.store_dir = dir;
	o.password = password;
	o.region_urls = regions;
	if (blt_cloud_session_open(&o, &x, &d) != BLT_OK)
		fail_msg("session_open: %s", d.text);
	return x;
}

/* ---- tests --------------------------------------------------------------------------- */

static void test_login_saved_and_reopened(void **st)
{
	simc_t *s = start("sess", NULL);
	const char *dir = store("login");
	blt_cloud_session_opts_t o = {0};
	blt_cloud_session_t *x;
	blt_cloud_device_t dv[4], dev;
	blt_detail_t d;
	char token[2048], user[BLT_CRED_USERNAME_MAX], pw[BLT_CRED_PASSWORD_MAX], sec[64];
	char *pfx_pw = NULL, abs_ca[PATH_MAX];
	uint8_t *pfx = NULL;
	size_t n = 0, len = 0, got = 0;
	(void)st;

	x = login(s, dir, NULL);
	if (blt_cloud_session_fetch_certificate(x, &len, &d) != BLT_OK)
		fail_msg("certificate: %s", d.text);
	assert_true(len > 100);
	assert_string_equal(blt_cloud_session_saved(x)->email, EMAIL);
	assert_string_equal(blt_cloud_session_saved(x)->uid, "1000001");
	snprintf(token, sizeof token, "%s", blt_cloud_session_saved(x)->token);
	blt_cloud_session_close(x);
	/* private: directory 0700, every file 0600 */
	assert_int_equal(mode_of(dir, NULL), 0700);
	assert_int_equal(mode_of(dir, "session"), 0600);
	assert_int_equal(mode_of(dir, "client.pfx"), 0600);
	assert_int_equal(mode_of(dir, "client.pass"), 0600);
	assert_int_equal(count_in(s->log, "/accessToken -> code 0"), 1);

	/* the store alone is enough: gateway, CA (absolute), token, device id */
	x = reopen(dir, NULL, NULL);
	assert_non_null(realpath(ca(), abs_ca));
	assert_string_equal(blt_cloud_session_saved(x)->api_ca, abs_ca);
	assert_string_equal(blt_cloud_session_saved(x)->api, s->url);
	assert_string_equal(blt_cloud_gateway(blt_cloud_session_cloud(x)), s->url);
	if (blt_cloud_session_devices(x, dv, 4, &n, &d) != BLT_OK)
		fail_msg("devices: %s", d.text);
	assert_int_equal(n, 2);
	if (blt_cloud_session_certificate(x, &pfx, &got, &pfx_pw, &d) != BLT_OK)
		fail_msg("cached certificate: %s", d.text);
	assert_int_equal(got, len);
	assert_true(strlen(pfx_pw) >= 6);
	if (blt_cloud_session_find_device(x, "2616113487436", &dev, sec, sizeof sec, &d) != BLT_OK)
		fail_msg("find_device: %s", d.text);
	assert_string_equal(dev.model, "AP300");
	assert_int_equal(blt_cloud_session_check_key(x, &d), BLT_OK);
	/* the credentials hook: tid:<token part 1> and a TOTP */
	if (blt_cloud_session_credentials_hook(x, user, sizeof user, pw, sizeof pw, &d) != BLT_OK)
		fail_msg("credentials hook: %s", d.text);
	assert_memory_equal(user, "tid:", 4);
	assert_int_equal(strlen(pw), 8);
	assert_int_equal(count_in(s->log, "/accessToken -> code 0"), 1); /* no new login */
	blt_cloud_session_close(x);

	/* a store others can read is refused, with the fix in the message */
	char path[700];
	snprintf(path, sizeof path, "%s/session", dir);
	assert_int_equal(chmod(path, 0644), 0);
	o.store_dir = dir;
	x = (blt_cloud_session_t *)&o; /* must be reset to NULL */
	assert_int_equal(blt_cloud_session_open(&o, &x, &d), BLT_E_CONFIG);
	assert_null(x);
	assert_non_null(strstr(d.text, "chmod 600"));
	assert_int_equal(chmod(path, 0600), 0);
	/* an empty store: not logged in */
	o.store_dir = store("empty");
	assert_int_equal(blt_cloud_session_open(&o, &x, &d), BLT_E_NOT_FOUND);

	no_secret("password", PASSWORD);
	no_secret("token", token);
	no_secret("certificate password", pfx_pw);
	no_secret("TOTP key", KEY);
	blt_cloud_secret_free(pfx, got);
	blt_cloud_secret_free(pfx_pw, strlen(pfx_pw));
}

/* BLUETTI_API and BLUETTI_API_CA are the session's, so every program honours them. */
static void test_environment(void **st)
{
	simc_t *s = start("sess-env", NULL);
	const char *dir = store("env");
	blt_cloud_session_opts_t o = {0};
	blt_cloud_session_t *x = NULL;
	blt_detail_t d;
	(void)st;
	setenv("BLUETTI_API", s->url, 1);
	setenv("BLUETTI_API_CA", ca(), 1);
	o.store_dir = dir;
	assert_int_equal(blt_cloud_session_new(&o, &x, &d), BLT_OK);
	if (blt_cloud_session_login(x, EMAIL, PASSWORD, &d) != BLT_OK)
		fail_msg("login through BLUETTI_API: %s", d.text);
	assert_string_equal(blt_cloud_session_saved(x)->api, s->url);
	blt_cloud_session_close(x);
	/* an override for one run: the environment wins over the store */
	setenv("BLUETTI_API", "http://127.0.0.1:1", 1);
	assert_int_equal(blt_cloud_session_open(&o, &x, &d), BLT_E_INVAL);
	assert_non_null(strstr(d.text, "https://"));
	/* and an option wins over the environment */
	o.api = s->url;
	assert_int_equal(blt_cloud_session_open(&o, &x, &d), BLT_OK);
	blt_cloud_session_close(x);
	unsetenv("BLUETTI_API");
	unsetenv("BLUETTI_API_CA");
	/* without the CA the gateway's certificate is not trusted: the store's CA was used */
	o.api = NULL;
	x = reopen(dir, NULL, NULL);
	blt_cloud_device_t dv[4];
	size_t n;
	assert_int_equal(blt_cloud_session_devices(x, dv, 4, &n, &d), BLT_OK);
	blt_cloud_session_close(x);
	no_secret("password", PASSWORD);
}

static void test_token_expiry_one_relogin(void **st)
{
	/* 2 s: the renewed token must outlive the retry of the operation even on a loaded
	 * machine (a renewed token refused again would count as a second login) */
	const char *extra[] = {"--token-ttl", "2", NULL};
	simc_t *s = start("sess-ttl", extra);
	const char *dir = store("ttl");
	blt_cloud_session_t *x;
	blt_cloud_device_t dv[4];
	blt_cloud_saved_t rec;
	blt_detail_t d;
	char first[2048], second[2048];
	size_t n;
	(void)st;

	x = login(s, dir, NULL);
	snprintf(first, sizeof first, "%s", blt_cloud_session_saved(x)->token);
	blt_cloud_session_close(x);
	it_sleep_ms(2300); /* the saved token expires */

	/* no password: a clear error, no login */
	x = reopen(dir, NULL, NULL);
	assert_int_equal(blt_cloud_session_devices(x, dv, 4, &n, &d), BLT_E_AUTH);
	assert_int_equal(kind(x), BLT_CLOUD_TOKEN_EXPIRED);
	assert_non_null(strstr(d.text, "log in again"));
	assert_int_equal(blt_cloud_login_count(blt_cloud_session_cloud(x)), 0);
	blt_cloud_session_close(x);

	/* with the password: exactly one re-login, the new token saved (still 0600) */
	x = reopen(dir, PASSWORD, NULL);
	if (blt_cloud_session_devices(x, dv, 4, &n, &d) != BLT_OK)
		fail_msg("devices after expiry: %s", d.text);
	assert_int_equal(n, 2);
	assert_int_equal(blt_cloud_login_count(blt_cloud_session_cloud(x)), 1);
	snprintf(second, sizeof second, "%s", blt_cloud_session_saved(x)->token);
	assert_string_not_equal(second, first);
	blt_cloud_session_close(x);
	assert_int_equal(blt_cloud_store_load(dir, &rec, NULL, NULL, NULL, &d), BLT_OK);
	assert_string_equal(rec.token, second);
	assert_int_equal(mode_of(dir, "session"), 0600);
	assert_non_null(strstr(g_log, "token renewed and saved"));

	sim_stop(s);
	assert_int_equal(count_in(s->log, "/accessToken -> code 0"), 2); /* login + 1 renewal */
	no_secret("password", PASSWORD);
	no_secret("first token", first);
	no_secret("renewed token", second);
}

static void test_region_found_and_remembered(void **st)
{
	const char *extra[] = {
	    "--account-region", "eu", "--region-listen", "us=127.0.0.1:0", "--region-listen",
	    "eu=127.0.0.1:0",   NULL};
	simc_t *s = start("sess-eu", extra);
	const char *dir = store("eu");
	blt_cloud_session_t *x;
	blt_cloud_device_t dv[4];
	blt_cloud_saved_t rec;
	blt_detail_t d;
	char eu[80];
	size_t n;
	int refused;
	(void)st;
	assert_true(s->eu_port && s->us_port);
	snprintf(eu, sizeof eu, "https://localhost:%u", s->eu_port);

	/* the login's first call is refused (805) by gw; the EU gateway serves the account */
	x = login(s, dir, s->regions);
	assert_string_equal(blt_cloud_region(blt_cloud_session_cloud(x)), "eu");
	assert_string_equal(blt_cloud_session_saved(x)->region, "eu");
	assert_string_equal(blt_cloud_session_saved(x)->api_dc, eu);
	blt_cloud_session_close(x);
	refused = count_in(s->log, "code 805");
	assert_int_equal(refused, 1);

	/* the next run goes straight there: no 805 at all */
	x = reopen(dir, NULL, s->regions);
	assert_string_equal(blt_cloud_gateway(blt_cloud_session_cloud(x)), eu);
	assert_int_equal(blt_cloud_session_devices(x, dv, 4, &n, &d), BLT_OK);
	blt_cloud_session_close(x);
	assert_int_equal(count_in(s->log, "code 805"), refused);

	/* a store that forgot it: one re-login, the probe finds EU again, and it is saved */
	assert_int_equal(blt_cloud_store_load(dir, &rec, NULL, NULL, NULL, &d), BLT_OK);
	rec.api_dc[0] = rec.region[0] = '\0';
	assert_int_equal(blt_cloud_store_save(dir, &rec, NULL, 0, NULL, &d), BLT_OK);
	x = reopen(dir, PASSWORD, s->regions);
	assert_string_equal(blt_cloud_region(blt_cloud_session_cloud(x)), "global");
	if (blt_cloud_session_devices(x, dv, 4, &n, &d) != BLT_OK)
		fail_msg("devices with the data centre forgotten: %s", d.text);
	assert_int_equal(blt_cloud_login_count(blt_cloud_session_cloud(x)), 1);
	blt_cloud_session_close(x);
	assert_int_equal(blt_cloud_store_load(dir, &rec, NULL, NULL, NULL, &d), BLT_OK);
	assert_string_equal(rec.region, "eu");
	assert_string_equal(rec.api_dc, eu);
	assert_int_equal(mode_of(dir, "session"), 0600);
	assert_non_null(strstr(g_log, "lives in the eu data centre"));

	/* a fixed region for one run is not remembered */
	blt_cloud_session_opts_t o = {0};
	o.store_dir = dir;
	o.region = "us";
	o.region_urls = s->regions;
	assert_int_equal(blt_cloud_session_open(&o, &x, &d), BLT_OK);
	assert_int_equal(blt_cloud_session_devices(x, dv, 4, &n, &d), BLT_E_AUTH);
	blt_cloud_session_close(x);
	assert_int_equal(blt_cloud_store_load(dir, &rec, NULL, NULL, NULL, &d), BLT_OK);
	assert_string_equal(rec.region, "eu");
	no_secret("password", PASSWORD);
	no_secret("token", rec.token);
}

static void test_wrong_password(void **st)
{
	simc_t *s = start("sess-pw", NULL);
	const char *dir = store("pw");
	blt_cloud_session_opts_t o = {0};
	blt_cloud_session_t *x = NULL;
	blt_detail_t d;
	struct stat sb;
	(void)st;
	o.store_dir = dir;
	o.api = s->url;
	o.api_ca = ca();
	assert_int_equal(blt_cloud_session_new(&o, &x, &d), BLT_OK);
	assert_int_equal(blt_cloud_session_login(x, EMAIL, "wrong horse battery", &d), BLT_E_AUTH);
	assert_int_equal(kind(x), BLT_CLOUD_WRONG_PASSWORD);
	assert_non_null(strstr(d.text, "password"));
	assert_int_equal(blt_cloud_session_login(x, "nobody@example.com", PASSWORD, &d),
	                 BLT_E_AUTH);
	assert_int_equal(kind(x), BLT_CLOUD_UNKNOWN_ACCOUNT);
	/* no certificate without a login */
	assert_int_equal(blt_cloud_session_fetch_certificate(x, NULL, &d), BLT_E_INVAL);
	blt_cloud_session_close(x);
	/* nothing saved */
	assert_int_equal(lstat(dir, &sb), -1);
	assert_int_equal(errno, ENOENT);
	no_secret("wrong password", "wrong horse battery");
	no_secret("password", PASSWORD);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_login_saved_and_reopened, teardown),
	    cmocka_unit_test_teardown(test_environment, teardown),
	    cmocka_unit_test_teardown(test_token_expiry_one_relogin, teardown),
	    cmocka_unit_test_teardown(test_region_found_and_remembered, teardown),
	    cmocka_unit_test_teardown(test_wrong_password, teardown),
	};
	/* the session reads these; the test sets what it means */
	unsetenv("BLUETTI_API");
	unsetenv("BLUETTI_API_CA");
	unsetenv("BLUETTI_REGION");
	unsetenv(BLT_CLOUD_REGIONS_ENV);
	setenv("BLUETTI_TOTP_KEY", KEY, 1);
	blt_log_set_handler(capture, NULL, BLT_LOG_DEBUG);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
