/* Integration: blt_cloud_mqtt_credentials_fresh / blt_cloud_credentials_hook against the
 * simulated account API (bluetti-sim --cloud over HTTPS with the test PKI): the password is
 * the TOTP of the *server* time (the simulator's clock runs an hour ahead), the offset is
 * kept between calls and fetched again when old, an expired token (805) is renewed once
 * when the handle can log in again (and the new token reported), and fails cleanly — and
 * then without asking the gateway again — when it cannot. Run through with_brokers.sh. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bluetti/bluetti.h>
#include <bluetti/cloud.h>
#include <bluetti/transport.h>

#include "it_util.h"

#define EMAIL    "creds@example.com"
#define PASSWORD "battery staple"
#define KEY      "TESTKEY12345"
#define OFFSET   3600000 /* simulated server clock minus ours */

static pid_t g_sim;
static char g_api[128];

static pid_t start_cloud(const char *tag, const char *extra, char *api, size_t cap)
{
	char dir[512], ready[600], pw[600], key[600], ca[600], cakey[600], off[32], log[600];
	uint16_t port;
	pid_t pid;
	snprintf(dir, sizeof dir, "%s/%s", it_env("BLT_IT_DIR"), tag);
	it_sh("mkdir -p '%s'", dir);
	snprintf(ready, sizeof ready, "%s/ready", dir);
	snprintf(pw, sizeof pw, "%s/pw", dir);
	snprintf(key, sizeof key, "%s/key", dir);
	snprintf(ca, sizeof ca, "%s/ca.pem", it_env("BLT_PKI"));
	snprintf(cakey, sizeof cakey, "%s/ca.key", it_env("BLT_PKI"));
	snprintf(off, sizeof off, "%d", OFFSET);
	it_sh("printf '%%s\\n' '" PASSWORD "' >'%s'; printf '" KEY "\\n' >'%s'; rm -f '%s'", pw,
	      key, ready);
	snprintf(log, sizeof log, "%s/sim.log", dir);
	const char *argv[32] = {BLT_SIM_PATH,
	                        "--cloud",
	                        "--ca-cert",
	                        ca,
	                        "--ca-key",
	                        cakey,
	                        "--account",
	                        EMAIL,
	                        "--account-password-file",
	                        pw,
	                        "--device",
	                        "EL100V2:2434000112345",
	                        "--totp-key-file",
	                        key,
	                        "--time-offset",
	                        off,
	                        "--ready-file",
	                        ready,
	                        NULL};
	size_t n = 18;
	if (extra) {
		argv[n++] = "--token-ttl";
		argv[n++] = extra;
		argv[n] = NULL;
	}
	pid = it_spawn(argv, log, NULL);
	port = it_wait_port(ready, pid, 10000);
	if (port > 0) {
		snprintf(api, cap, "https://localhost:%u", port);
		return pid;
	}
	fprintf(stderr, "cloud simulator did not start\n");
	kill(pid, SIGTERM);
	exit(2);
}

static void stop_cloud(pid_t pid)
{
	it_stop(&pid, SIGTERM, 10000);
}

static blt_cloud_t *new_handle(const char *api)
{
	static char ca[600];
	blt_cloud_opts_t o;
	blt_cloud_t *c = NULL;
	blt_detail_t d = {{0}};
	memset(&o, 0, sizeof o);
	o.gw_url = api;
	snprintf(ca, sizeof ca, "%s/ca.pem", it_env("BLT_PKI"));
	o.ca_file = ca;
	o.totp_key = KEY;
	assert_int_equal(blt_cloud_new(&o, &c, &d), BLT_OK);
	return c;
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The expected password for the token at server time (local + OFFSET); TOTP windows are
 * 30 s, so compute before and after and accept either (a boundary may fall between). */
static void expect_server_totp(const char *token, const char *user, const char *pw, int64_t t0,
                               int64_t t1)
{
	char p0[1024], p1[1024], a[9], b[9], want_user[1100];
	const char *dot = strchr(token, '.');
	assert_non_null(dot);
	snprintf(p0, sizeof p0, "%.*s", (int)(dot - token), token);
	snprintf(p1, sizeof p1, "%s", dot + 1);
	if (strchr(p1, '.'))
		*strchr(p1, '.') = 0;
	snprintf(want_user, sizeof want_user, "tid:%s", p1);
	assert_string_equal(user, want_user);
	assert_int_equal(blt_cloud_totp(p1, p0, t0 + OFFSET, KEY, a), BLT_OK);
	assert_int_equal(blt_cloud_totp(p1, p0, t1 + OFFSET, KEY, b), BLT_OK);
	assert_true(!strcmp(pw, a) || !strcmp(pw, b));
	/* and not the local-clock TOTP (an hour away: another window for sure) */
	assert_int_equal(blt_cloud_totp(p1, p0, t0, KEY, a), BLT_OK);
	assert_string_not_equal(pw, a);
}

static int group_setup(void **state)
{
	(void)state;
	g_sim = start_cloud("cloud-main", NULL, g_api, sizeof g_api);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	stop_cloud(g_sim);
	return 0;
}

static void test_hook_gives_server_time_totp(void **state)
{
	blt_cloud_t *c = new_handle(g_api);
	blt_detail_t d = {{0}};
	char user[BLT_CRED_USERNAME_MAX], pw[BLT_CRED_PASSWORD_MAX];
	(void)state;
	assert_int_equal(blt_cloud_login(c, EMAIL, PASSWORD, &d), BLT_OK);
	int64_t t0 = wall_ms();
	assert_int_equal(blt_cloud_credentials_hook(c, user, sizeof user, pw, sizeof pw, &d),
	                 BLT_OK);
	int64_t t1 = wall_ms();
	assert_int_equal(strlen(pw), 8);
	expect_server_totp(blt_cloud_token(c), user, pw, t0, t1);
	/* the hook signature fits the transport's */
	blt_cred_fn fn = blt_cloud_credentials_hook;
	assert_int_equal(fn(c, user, sizeof user, pw, sizeof pw, &d), BLT_OK);
	/* too small buffers: an error, not a truncated credential */
	assert_int_not_equal(blt_cloud_credentials_hook(c, user, 6, pw, sizeof pw, &d), BLT_OK);
	assert_int_equal(blt_cloud_credentials_hook(NULL, user, sizeof user, pw, sizeof pw, &d),
	                 BLT_E_INVAL);
	blt_cloud_free(c);
}

static void test_no_key_no_token(void **state)
{
	blt_cloud_opts_t o;
	blt_cloud_t *c = NULL;
	blt_detail_t d = {{0}};
	char user[256], pw[64];
	(void)state;
	c = new_handle(g_api);
	assert_int_equal(
	    blt_cloud_mqtt_credentials_fresh(c, 0, user, sizeof user, pw, sizeof pw, &d),
	    BLT_E_AUTH);
	assert_int_equal(blt_cloud_last_error(c)->kind, BLT_CLOUD_NOT_LOGGED_IN);
	blt_cloud_free(c);
	memset(&o, 0, sizeof o);
	o.gw_url = g_api;
	unsetenv(BLT_CLOUD_TOTP_KEY_ENV);
	assert_int_equal(blt_cloud_new(&o, &c, &d), BLT_OK);
	assert_int_equal(blt_cloud_set_token(c, "aaa.bbb.ccc", &d), BLT_OK);
	/* no key configured: the built-in one (PROTOCOL.md §2.8); what fails here is the
	 * made-up token, not a missing key */
	assert_int_not_equal(
	    blt_cloud_mqtt_credentials_fresh(c, 0, user, sizeof user, pw, sizeof pw, &d),
	    BLT_E_CONFIG);
	assert_int_not_equal(blt_cloud_last_error(c)->kind, BLT_CLOUD_NO_TOTP_KEY);
	blt_cloud_free(c);
}

typedef struct tok {
	int calls;
	char token[2048];
} tok_t;

static void on_token(void *user, const char *token)
{
	tok_t *t = user;
	t->calls++;
	snprintf(t->token, sizeof t->token, "%s", token);
}

/* Token lifetime 2 s: once it is expired, a refresh (max age 1 s) gets 805, the handle
 * logs in again (set_relogin on a cached token), reports the new token, and the
 * credentials are those of the new token. Without a re-login it fails, then stops asking. */
static void test_expired_token_renewed_or_refused(void **state)
{
	char api[128], user[BLT_CRED_USERNAME_MAX], pw[BLT_CRED_PASSWORD_MAX], first[2048];
	blt_detail_t d = {{0}};
	tok_t tk = {0};
	(void)state;
	pid_t sim = start_cloud("cloud-ttl", "2", api, sizeof api);

	/* a cached token, as the CLI and the bridge have it */
	blt_cloud_t *login = new_handle(api);
	assert_int_equal(blt_cloud_login(login, EMAIL, PASSWORD, &d), BLT_OK);
	snprintf(first, sizeof first, "%s", blt_cloud_token(login));
	blt_cloud_free(login);

	blt_cloud_t *c = new_handle(api);
	assert_int_equal(blt_cloud_set_token(c, first, &d), BLT_OK);
	blt_cloud_on_token(c, on_token, &tk);
	assert_int_equal(
	    blt_cloud_mqtt_credentials_fresh(c, 1, user, sizeof user, pw, sizeof pw, &d), BLT_OK);
	sleep(3);
	/* no re-login possible: refused, kind TOKEN_EXPIRED, nothing reported */
	assert_int_equal(
	    blt_cloud_mqtt_credentials_fresh(c, 1, user, sizeof user, pw, sizeof pw, &d),
	    BLT_E_AUTH);
	assert_int_equal(blt_cloud_last_error(c)->kind, BLT_CLOUD_TOKEN_EXPIRED);
	assert_non_null(strstr(d.text, "log in again"));
	assert_int_equal(tk.calls, 0);
	/* the gateway is not asked again: even with the simulator gone it is the same error */
	stop_cloud(sim);
	assert_int_equal(
	    blt_cloud_mqtt_credentials_fresh(c, 1, user, sizeof user, pw, sizeof pw, &d),
	    BLT_E_AUTH);
	assert_int_equal(blt_cloud_last_error(c)->kind, BLT_CLOUD_TOKEN_EXPIRED);

	sim = start_cloud("cloud-ttl2", "2", api, sizeof api);
	blt_cloud_free(c);
	c = new_handle(api);
	login = new_handle(api);
	assert_int_equal(blt_cloud_login(login, EMAIL, PASSWORD, &d), BLT_OK);
	snprintf(first, sizeof first, "%s", blt_cloud_token(login));
	blt_cloud_free(login);
	assert_int_equal(blt_cloud_set_token(c, first, &d), BLT_OK);
	assert_int_equal(blt_cloud_set_relogin(c, EMAIL, PASSWORD, &d), BLT_OK);
	blt_cloud_on_token(c, on_token, &tk);
	assert_int_equal(
	    blt_cloud_mqtt_credentials_fresh(c, 1, user, sizeof user, pw, sizeof pw, &d), BLT_OK);
	assert_int_equal(tk.calls, 0);
	sleep(3);
	int64_t t0 = wall_ms();
	assert_int_equal(
	    blt_cloud_mqtt_credentials_fresh(c, 1, user, sizeof user, pw, sizeof pw, &d), BLT_OK);
	int64_t t1 = wall_ms();
	assert_int_equal(tk.calls, 1);
	assert_string_equal(tk.token, blt_cloud_token(c));
	assert_string_not_equal(tk.token, first);
	expect_server_totp(tk.token, user, pw, t0, t1);
	/* within the max age: no request, same token */
	assert_int_equal(
	    blt_cloud_mqtt_credentials_fresh(c, 3600, user, sizeof user, pw, sizeof pw, &d),
	    BLT_OK);
	assert_int_equal(tk.calls, 1);
	/* bad arguments */
	assert_int_not_equal(blt_cloud_set_relogin(c, EMAIL, "", &d), BLT_OK);
	assert_int_equal(blt_cloud_set_relogin(NULL, EMAIL, PASSWORD, &d), BLT_E_INVAL);
	blt_cloud_free(c);
	stop_cloud(sim);
}

/* A network failure of the refresh keeps the known offset (the TOTP is still right). */
static void test_refresh_failure_keeps_offset(void **state)
{
	char api[128], user[BLT_CRED_USERNAME_MAX], pw[BLT_CRED_PASSWORD_MAX];
	blt_detail_t d = {{0}};
	(void)state;
	pid_t sim = start_cloud("cloud-gone", NULL, api, sizeof api);
	blt_cloud_t *c = new_handle(api);
	assert_int_equal(blt_cloud_login(c, EMAIL, PASSWORD, &d), BLT_OK);
	assert_int_equal(
	    blt_cloud_mqtt_credentials_fresh(c, 1, user, sizeof user, pw, sizeof pw, &d), BLT_OK);
	stop_cloud(sim);
	sleep(2);
	int64_t t0 = wall_ms();
	assert_int_equal(
	    blt_cloud_mqtt_credentials_fresh(c, 1, user, sizeof user, pw, sizeof pw, &d), BLT_OK);
	int64_t t1 = wall_ms();
	expect_server_totp(blt_cloud_token(c), user, pw, t0, t1);
	blt_cloud_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hook_gives_server_time_totp),
	    cmocka_unit_test(test_no_key_no_token),
	    cmocka_unit_test(test_expired_token_renewed_or_refused),
	    cmocka_unit_test(test_refresh_failure_keeps_offset),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
