/* Credential store (src/cloud/store.c) and TOTP-key configuration (config.c): round trip,
 * permissions (0700 dir, 0600 files, refusal of anything group/other-accessible or a
 * symlink), logout, XDG paths, config-file parsing. Works in a scratch directory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bluetti/cloud.h>

static char root[256], dir[512];

static int setup(void **st)
{
	(void)st;
	snprintf(root, sizeof root, "/tmp/blt-store-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	snprintf(dir, sizeof dir, "%s/state/bluetti", root);
	return 0;
}

static int teardown(void **st)
{
	char cmd[600];
	(void)st;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void fill(blt_cloud_saved_t *s)
{
	memset(s, 0, sizeof *s);
	snprintf(s->email, sizeof s->email, "me@example.com");
	snprintf(s->token, sizeof s->token, "aa.bb.cc");
	snprintf(s->uid, sizeof s->uid, "42");
	snprintf(s->device_id, sizeof s->device_id, "0123abcd");
	snprintf(s->api, sizeof s->api, "https://127.0.0.1:4443");
	s->ttl = 3600;
}

static mode_t mode_of(const char *name)
{
	char p[700];
	struct stat st;
	snprintf(p, sizeof p, "%s%s%s", dir, name[0] ? "/" : "", name);
	if (stat(p, &st) != 0)
		return (mode_t)-1;
	return st.st_mode & 0777;
}

static void test_roundtrip_and_modes(void **st)
{
	blt_cloud_saved_t s, r;
	const uint8_t pfx[] = {0x30, 0x82, 0x00, 0x01, 0xff, 0x00, 0x7f};
	uint8_t *pb = NULL;
	size_t pl = 0;
	char *pw = NULL;
	blt_detail_t d;
	(void)st;
	fill(&s);
	umask(022); /* the store must not depend on a strict umask */
	assert_int_equal(blt_cloud_store_save(dir, &s, pfx, sizeof pfx, "pfx-secret", &d), BLT_OK);
	assert_int_equal(mode_of(""), 0700);
	assert_int_equal(mode_of("session"), 0600);
	assert_int_equal(mode_of("client.pfx"), 0600);
	assert_int_equal(mode_of("client.pass"), 0600);
	assert_int_equal(blt_cloud_store_load(dir, &r, &pb, &pl, &pw, &d), BLT_OK);
	assert_string_equal(r.email, "me@example.com");
	assert_string_equal(r.token, "aa.bb.cc");
	assert_string_equal(r.uid, "42");
	assert_string_equal(r.device_id, "0123abcd");
	assert_string_equal(r.api, "https://127.0.0.1:4443");
	assert_int_equal(r.ttl, 3600);
	assert_true(r.saved_at > 1600000000);
	assert_int_equal(pl, sizeof pfx);
	assert_memory_equal(pb, pfx, sizeof pfx);
	assert_string_equal(pw, "pfx-secret");
	blt_cloud_secret_free(pb, pl);
	blt_cloud_secret_free(pw, strlen(pw));
	/* session only (new token), PFX kept */
	snprintf(s.token, sizeof s.token, "dd.ee");
	assert_int_equal(blt_cloud_store_save(dir, &s, NULL, 0, NULL, &d), BLT_OK);
	assert_int_equal(blt_cloud_store_load(dir, &r, NULL, NULL, NULL, &d), BLT_OK);
	assert_string_equal(r.token, "dd.ee");
	assert_int_equal(blt_cloud_store_load(dir, &r, &pb, &pl, &pw, &d), BLT_OK);
	blt_cloud_secret_free(pb, pl);
	blt_cloud_secret_free(pw, strlen(pw));
}

static void test_refuses_open_permissions(void **st)
{
	blt_cloud_saved_t s, r;
	char p[700];
	blt_detail_t d;
	uint8_t *pb;
	size_t pl;
	char *pw;
	(void)st;
	fill(&s);
	assert_int_equal(blt_cloud_store_save(dir, &s, (const uint8_t *)"x", 1, "pw", &d), BLT_OK);
	/* directory readable by group */
	assert_int_equal(chmod(dir, 0750), 0);
	assert_int_equal(blt_cloud_store_load(dir, &r, NULL, NULL, NULL, &d), BLT_E_CONFIG);
	assert_non_null(strstr(d.text, "chmod 700"));
	assert_string_equal(r.token, ""); /* nothing handed out */
	/* saving into it is refused too */
	assert_int_equal(blt_cloud_store_save(dir, &s, NULL, 0, NULL, &d), BLT_E_CONFIG);
	assert_int_equal(chmod(dir, 0700), 0);
	/* session readable by others */
	snprintf(p, sizeof p, "%s/session", dir);
	assert_int_equal(chmod(p, 0604), 0);
	assert_int_equal(blt_cloud_store_load(dir, &r, NULL, NULL, NULL, &d), BLT_E_CONFIG);
	assert_non_null(strstr(d.text, "chmod 600"));
	assert_non_null(strstr(d.text, "session"));
	assert_int_equal(chmod(p, 0600), 0);
	/* PFX password readable by group */
	snprintf(p, sizeof p, "%s/client.pass", dir);
	assert_int_equal(chmod(p, 0640), 0);
	assert_int_equal(blt_cloud_store_load(dir, &r, &pb, &pl, &pw, &d), BLT_E_CONFIG);
	assert_non_null(strstr(d.text, "client.pass"));
	assert_int_equal(chmod(p, 0600), 0);
	/* a symlinked PFX is refused */
	char target[700];
	snprintf(p, sizeof p, "%s/client.pfx", dir);
	snprintf(target, sizeof target, "%s/elsewhere.pfx", root);
	assert_int_equal(rename(p, target), 0);
	assert_int_equal(symlink(target, p), 0);
	assert_int_equal(blt_cloud_store_load(dir, &r, &pb, &pl, &pw, &d), BLT_E_CONFIG);
	assert_non_null(strstr(d.text, "symbolic link"));
}

static void test_not_logged_in_and_logout(void **st)
{
	blt_cloud_saved_t s, r;
	blt_detail_t d;
	(void)st;
	assert_int_equal(blt_cloud_store_load(dir, &r, NULL, NULL, NULL, &d), BLT_E_NOT_FOUND);
	assert_non_null(strstr(d.text, "bluetti login"));
	fill(&s);
	assert_int_equal(blt_cloud_store_save(dir, &s, (const uint8_t *)"x", 1, "pw", &d), BLT_OK);
	assert_int_equal(blt_cloud_store_remove(dir, &d), BLT_OK);
	assert_int_equal(access(dir, F_OK), -1);
	assert_int_equal(blt_cloud_store_load(dir, &r, NULL, NULL, NULL, &d), BLT_E_NOT_FOUND);
	/* removing twice is fine */
	assert_int_equal(blt_cloud_store_remove(dir, &d), BLT_OK);
}

static void test_damaged_and_bad_values(void **st)
{
	blt_cloud_saved_t s, r;
	blt_detail_t d;
	char p[700];
	FILE *f;
	(void)st;
	fill(&s);
	snprintf(s.email, sizeof s.email, "a\nb");
	assert_int_equal(blt_cloud_store_save(dir, &s, NULL, 0, NULL, &d), BLT_E_INVAL);
	fill(&s);
	assert_int_equal(blt_cloud_store_save(dir, &s, NULL, 0, NULL, &d), BLT_OK);
	snprintf(p, sizeof p, "%s/session", dir);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs("email=x\n", f); /* no token */
	fclose(f);
	assert_int_equal(blt_cloud_store_load(dir, &r, NULL, NULL, NULL, &d), BLT_E_CONFIG);
	assert_non_null(strstr(d.text, "damaged"));
}

static void test_store_dir(void **st)
{
	char out[512];
	blt_detail_t d;
	(void)st;
	setenv("XDG_STATE_HOME", "/x/state", 1);
	assert_int_equal(blt_cloud_store_dir(out, sizeof out, &d), BLT_OK);
	assert_string_equal(out, "/x/state/bluetti");
	setenv("XDG_STATE_HOME", "relative", 1); /* invalid per XDG: ignored */
	setenv("HOME", "/home/u", 1);
	assert_int_equal(blt_cloud_store_dir(out, sizeof out, &d), BLT_OK);
	assert_string_equal(out, "/home/u/.local/state/bluetti");
	unsetenv("XDG_STATE_HOME");
	unsetenv("HOME");
	assert_int_equal(blt_cloud_store_dir(out, sizeof out, &d), BLT_E_CONFIG);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_totp_key_config(void **st)
{
	char key[13], cfg[600];
	blt_detail_t d;
	(void)st;
	snprintf(cfg, sizeof cfg, "%s/config", root);
	unsetenv("BLUETTI_TOTP_KEY");
	/* absent: the built-in key of PROTOCOL.md §2.8 */
	assert_int_equal(blt_cloud_totp_key_load(cfg, key, &d), BLT_OK);
	assert_string_equal(key, BLT_CLOUD_TOTP_KEY_DEFAULT);
	write_text(cfg, "# comment\n[cloud]\napi = x\n  totp_key = \"ABCDEF123456\"  \n");
	assert_int_equal(blt_cloud_totp_key_load(cfg, key, &d), BLT_OK);
	assert_string_equal(key, "ABCDEF123456");
	write_text(cfg, "totp_key=short\n");
	assert_int_equal(blt_cloud_totp_key_load(cfg, key, &d), BLT_E_CONFIG);
	assert_non_null(strstr(d.text, "exactly 12"));
	/* the environment wins */
	setenv("BLUETTI_TOTP_KEY", "ZYXWVUTSRQPO", 1);
	assert_int_equal(blt_cloud_totp_key_load(cfg, key, &d), BLT_OK);
	assert_string_equal(key, "ZYXWVUTSRQPO");
	setenv("BLUETTI_TOTP_KEY", "has space 12", 1);
	assert_int_equal(blt_cloud_totp_key_load(cfg, key, &d), BLT_E_CONFIG);
	unsetenv("BLUETTI_TOTP_KEY");
	/* a handle with no key configured uses the built-in one: MQTT credentials work
	 * (a cached token, the clock offset not known yet: the server time is asked for,
	 * which fails here on a closed port, but not for lack of a key) */
	blt_cloud_t *c = NULL;
	blt_cloud_opts_t o;
	memset(&o, 0, sizeof o);
	o.gw_url = "https://127.0.0.1:1";
	assert_int_equal(blt_cloud_new(&o, &c, &d), BLT_OK);
	assert_int_equal(blt_cloud_set_token(c, "a.b.c", &d), BLT_OK);
	char u[64], pw[600];
	assert_int_equal(blt_cloud_mqtt_credentials(c, u, sizeof u, pw, sizeof pw, &d),
	                 BLT_E_CONNECT);
	assert_int_not_equal(blt_cloud_last_error(c)->kind, BLT_CLOUD_NO_TOTP_KEY);
	/* the static password of a device record needs no clock and no key */
	assert_int_equal(blt_cloud_set_broker_secret(c, "s3cret", &d), BLT_OK);
	assert_int_equal(blt_cloud_mqtt_credentials(c, u, sizeof u, pw, sizeof pw, &d), BLT_OK);
	assert_string_equal(u, "tid:b");
	assert_string_equal(pw, "rmt:s3cret");
	assert_int_equal(blt_cloud_set_broker_secret(c, NULL, &d), BLT_OK);
	assert_int_equal(blt_cloud_mqtt_credentials(c, u, sizeof u, pw, sizeof pw, &d),
	                 BLT_E_CONNECT);
	blt_cloud_free(c);
	/* plain http gateways are refused: the login would expose the password */
	o.gw_url = "http://127.0.0.1:1";
	assert_int_equal(blt_cloud_new(&o, &c, &d), BLT_E_INVAL);
	assert_null(c);
	assert_non_null(strstr(d.text, "https://"));
	o.gw_url = "https://127.0.0.1:1";
	o.region_urls = "eu=http://127.0.0.1:2";
	assert_int_equal(blt_cloud_new(&o, &c, &d), BLT_E_INVAL);
	o.region_urls = "mars=https://127.0.0.1:2";
	assert_int_equal(blt_cloud_new(&o, &c, &d), BLT_E_INVAL);
	o.region_urls = NULL;
	o.region = "moon";
	assert_int_equal(blt_cloud_new(&o, &c, &d), BLT_E_INVAL);
	/* regions: a fixed one selects its gateway; auto starts on the stored one */
	o.region = "eu";
	o.region_urls = "eu=https://127.0.0.2:3/,us=https://127.0.0.3:4";
	assert_int_equal(blt_cloud_new(&o, &c, &d), BLT_OK);
	assert_string_equal(blt_cloud_gateway(c), "https://127.0.0.2:3");
	assert_string_equal(blt_cloud_region(c), "eu");
	blt_cloud_free(c);
	o.region = NULL;
	o.dc_url = "https://127.0.0.3:4";
	assert_int_equal(blt_cloud_new(&o, &c, &d), BLT_OK);
	assert_string_equal(blt_cloud_region(c), "us");
	blt_cloud_free(c);
	o.dc_url = NULL;
	o.region_urls = NULL;
	assert_int_equal(blt_cloud_new(&o, &c, &d), BLT_OK);
	assert_string_equal(blt_cloud_gateway(c), "https://127.0.0.1:1");
	assert_string_equal(blt_cloud_region(c), "global");
	blt_cloud_free(c);
	o.totp_key = "tooshort";
	assert_int_equal(blt_cloud_new(&o, &c, &d), BLT_E_CONFIG);
	assert_null(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_roundtrip_and_modes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuses_open_permissions, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_logged_in_and_logout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_damaged_and_bad_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_store_dir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_totp_key_config, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
