/* The account session (cloud.h, blt_cloud_session_*): the credential store, the TOTP key
 * and a blt_cloud_t in one object, so the CLI and the bridge do the same thing: the same
 * gateway/CA/region resolution (options, then the environment, then the store), the same
 * token renewal (the handle's: at most one re-login per operation) and the same writes
 * back to the store (a renewed token, a data centre found by an 805 probe). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include <bluetti/cloud.h>

struct blt_cloud_session {
	char dir[1024];
	blt_cloud_saved_t s; /* what the store holds (or will, after a login) */
	blt_cloud_t *c;
	char key[BLT_CLOUD_TOTP_KEY_LEN + 1]; /* "" = no usable key */
	blt_detail_t key_why;                 /* why not */
	bool remember_dc; /* save the handle's data centre (a login; auto on the store's gateway) */
	bool saved;       /* the store holds this login (opened, or logged in) */
};

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && v[0] ? v : NULL;
}

static const char *first(const char *a, const char *b, const char *c)
{
	return a && a[0] ? a : b && b[0] ? b : c && c[0] ? c : NULL;
}

static blt_err_t save(blt_cloud_session_t *s, const uint8_t *pfx, size_t pfx_len,
                      const char *pfx_pw, blt_detail_t *d)
{
	const char *tok = blt_cloud_token(s->c);
	if (tok)
		snprintf(s->s.token, sizeof s->s.token, "%s", tok);
	if (blt_cloud_token_ttl(s->c))
		s->s.ttl = blt_cloud_token_ttl(s->c);
	s->s.saved_at = 0; /* now */
	if (s->remember_dc) {
		snprintf(s->s.region, sizeof s->s.region, "%s", blt_cloud_region(s->c));
		snprintf(s->s.api_dc, sizeof s->s.api_dc, "%s", blt_cloud_gateway(s->c));
	}
	return (blt_err_t)blt_cloud_store_save(s->dir, &s->s, pfx, pfx_len, pfx_pw, d);
}

/* After an operation: keep a data centre the handle found (an 805 probe). */
static void sync_dc(blt_cloud_session_t *s)
{
	blt_detail_t d;
	if (!s->saved || !s->remember_dc || !strcmp(s->s.api_dc, blt_cloud_gateway(s->c)))
		return;
	if (save(s, NULL, 0, NULL, &d) != BLT_OK)
		blt_log(BLT_LOG_WARN, "cloud: the account's data centre not saved: %s", d.text);
	else
		blt_log(BLT_LOG_INFO,
		        "cloud: the account lives in the %s data centre (%s); saved in %s",
		        blt_cloud_region(s->c), blt_cloud_gateway(s->c), s->dir);
}

/* blt_cloud_on_token: an automatic re-login renewed the token. */
static void on_token(void *user, const char *token)
{
	blt_cloud_session_t *s = user;
	blt_detail_t d;
	(void)token; /* save() takes it from the handle */
	if (!s->saved)
		return;
	if (save(s, NULL, 0, NULL, &d) != BLT_OK)
		blt_log(BLT_LOG_WARN, "cloud: renewed token not saved: %s", d.text);
	else
		blt_log(BLT_LOG_INFO, "cloud: token renewed and saved in %s", s->dir);
}

static blt_err_t make(const blt_cloud_session_opts_t *o, bool load, blt_cloud_session_t **out,
                      blt_detail_t *d)
{
	static const blt_cloud_session_opts_t none;
	blt_cloud_session_t *s;
	blt_cloud_opts_t co;
	const char *api, *region;
	bool same_gw;
	blt_err_t err;

	if (!out)
		return (blt_err_t)blt_detail_set(d, BLT_E_INVAL, "blt_cloud_session: out is NULL");
	*out = NULL;
	if (!o)
		o = &none;
	s = calloc(1, sizeof *s);
	if (!s)
		return (blt_err_t)blt_detail_set(d, BLT_E_NOMEM, "out of memory");
	if (o->store_dir) {
		if (!o->store_dir[0] || strlen(o->store_dir) >= sizeof s->dir) {
			err = (blt_err_t)blt_detail_set(d, BLT_E_INVAL,
			                                "credential store path empty or too long");
			goto fail;
		}
		snprintf(s->dir, sizeof s->dir, "%s", o->store_dir);
	} else if ((err = (blt_err_t)blt_cloud_store_dir(s->dir, sizeof s->dir, d)) != BLT_OK) {
		goto fail;
	}
	if (load &&
	    (err = (blt_err_t)blt_cloud_store_load(s->dir, &s->s, NULL, NULL, NULL, d)) != BLT_OK)
		goto fail;
	s->saved = load;
	if (blt_cloud_totp_key_load(NULL, s->key, &s->key_why) != BLT_OK)
		s->key[0] = '\0';

	memset(&co, 0, sizeof co);
	api = first(o->api, env(BLT_CLOUD_API_ENV), s->s.api);
	/* the store's second gateway and data centre belong to the store's gateway */
	same_gw = !strcmp(api ? api : BLT_CLOUD_GW_DEFAULT,
	                  s->s.api[0] ? s->s.api : BLT_CLOUD_GW_DEFAULT);
	region = first(o->region, env(BLT_CLOUD_REGION_ENV), "auto");
	co.gw_url = api;
	co.gwpry_url = first(o->api_pry, same_gw ? s->s.api_pry : NULL, NULL);
	co.ca_file = first(o->api_ca, env(BLT_CLOUD_API_CA_ENV), s->s.api_ca);
	co.region = region;
	co.region_urls = first(o->region_urls, env(BLT_CLOUD_REGIONS_ENV), NULL);
	/* a login records where it went; later runs keep what an 805 probe finds, but not
	 * what a fixed region or another gateway given for this run says */
	s->remember_dc = !load || (!strcmp(region, "auto") && same_gw);
	co.dc_url = load && s->remember_dc && s->s.api_dc[0] ? s->s.api_dc : NULL;
	co.device_id = s->s.device_id[0] ? s->s.device_id : NULL;
	co.totp_key = s->key[0] ? s->key : NULL;
	co.timeout_ms = o->timeout_ms;
	co.connect_timeout_ms = o->connect_timeout_ms;
	if ((err = (blt_err_t)blt_cloud_new(&co, &s->c, d)) != BLT_OK)
		goto fail;
	if (load && (err = (blt_err_t)blt_cloud_set_token(s->c, s->s.token, d)) != BLT_OK)
		goto fail;
	if (load && o->password && o->password[0] && s->s.email[0] &&
	    (err = (blt_err_t)blt_cloud_set_relogin(s->c, s->s.email, o->password, d)) != BLT_OK)
		goto fail;
	if (!load) { /* what the login will save */
		snprintf(s->s.api, sizeof s->s.api, "%s", api ? api : "");
		snprintf(s->s.api_pry, sizeof s->s.api_pry, "%s", o->api_pry ? o->api_pry : "");
		if (co.ca_file) { /* later runs start in other directories */
			char *abs = realpath(co.ca_file, NULL);
			if (!abs) {
				err = (blt_err_t)blt_detail_set(d, BLT_E_CONFIG,
				                                "gateway CA '%s': %s", co.ca_file,
				                                strerror(errno));
				goto fail;
			}
			if (strlen(abs) >= sizeof s->s.api_ca) {
				free(abs);
				err = (blt_err_t)blt_detail_set(d, BLT_E_CONFIG,
				                                "gateway CA: path too long");
				goto fail;
			}
			snprintf(s->s.api_ca, sizeof s->s.api_ca, "%s", abs);
			free(abs);
		}
		snprintf(s->s.device_id, sizeof s->s.device_id, "%s", blt_cloud_device_id(s->c));
	}
	blt_cloud_on_token(s->c, on_token, s);
	*out = s;
	return BLT_OK;
fail:
	blt_cloud_session_close(s);
	return err;
}

blt_err_t blt_cloud_session_open(const blt_cloud_session_opts_t *o, blt_cloud_session_t **out,
                                 blt_detail_t *d)
{
	return make(o, true, out, d);
}

blt_err_t blt_cloud_session_new(const blt_cloud_session_opts_t *o, blt_cloud_session_t **out,
                                blt_detail_t *d)
{
	return make(o, false, out, d);
}

blt_err_t blt_cloud_session_login(blt_cloud_session_t *s, const char *email, const char *password,
                                  blt_detail_t *d)
{
	char uid[sizeof s->s.uid];
	blt_err_t err;
	if (!s || !email || !password)
		return (blt_err_t)blt_detail_set(d, BLT_E_INVAL,
		                                 "blt_cloud_session_login: NULL argument");
	if (strpbrk(email, "\r\n"))
		return (blt_err_t)blt_detail_set(d, BLT_E_INVAL, "e-mail address has a line break");
	if ((err = (blt_err_t)blt_cloud_login(s->c, email, password, d)) != BLT_OK)
		return err;
	if ((err = (blt_err_t)blt_cloud_user_id(s->c, uid, sizeof uid, d)) != BLT_OK)
		return err;
	snprintf(s->s.email, sizeof s->s.email, "%s", email);
	snprintf(s->s.uid, sizeof s->s.uid, "%s", uid);
	OPENSSL_cleanse(uid, sizeof uid);
	s->saved = true;
	return save(s, NULL, 0, NULL, d);
}

blt_err_t blt_cloud_session_check_key(const blt_cloud_session_t *s, blt_detail_t *d)
{
	if (!s)
		return (blt_err_t)blt_detail_set(d, BLT_E_INVAL, "no session");
	if (s->key[0])
		return BLT_OK;
	return (blt_err_t)blt_detail_set(d, BLT_E_CONFIG, "%s",
	                                 s->key_why.text[0] ? s->key_why.text
	                                                    : "no TOTP key (see docs/account.md)");
}

blt_err_t blt_cloud_session_fetch_certificate(blt_cloud_session_t *s, size_t *pfx_len,
                                              blt_detail_t *d)
{
	char pw[512];
	uint8_t *pfx = NULL;
	size_t len = 0;
	blt_err_t err;
	if (!s || !s->saved)
		return (blt_err_t)blt_detail_set(d, BLT_E_INVAL, "fetch_certificate: log in first");
	if ((err = blt_cloud_session_check_key(s, d)) != BLT_OK)
		return err;
	err = (blt_err_t)blt_cloud_pfx(s->c, &pfx, &len, pw, sizeof pw, d);
	sync_dc(s);
	if (!err)
		err = save(s, pfx, len, pw, d);
	if (!err && pfx_len)
		*pfx_len = len;
	blt_cloud_secret_free(pfx, len);
	OPENSSL_cleanse(pw, sizeof pw);
	return err;
}

blt_err_t blt_cloud_session_certificate(blt_cloud_session_t *s, uint8_t **pfx, size_t *pfx_len,
                                        char **password, blt_detail_t *d)
{
	blt_cloud_saved_t tmp;
	char *pw = NULL;
	blt_err_t err;
	if (!s || !pfx || !pfx_len)
		return (blt_err_t)blt_detail_set(d, BLT_E_INVAL,
		                                 "session_certificate: NULL argument");
	err = (blt_err_t)blt_cloud_store_load(s->dir, &tmp, pfx, pfx_len, &pw, d);
	OPENSSL_cleanse(&tmp, sizeof tmp);
	if (err == BLT_E_NOT_FOUND)
		return (blt_err_t)blt_detail_set(
		    d, err,
		    "no client certificate cached in %s: run `bluetti login` with the TOTP key "
		    "configured (%s)",
		    s->dir, s->key[0] ? "it is now" : s->key_why.text);
	if (err)
		return err;
	if (password)
		*password = pw;
	else
		blt_cloud_secret_free(pw, strlen(pw));
	return BLT_OK;
}

blt_err_t blt_cloud_session_devices(blt_cloud_session_t *s, blt_cloud_device_t *out, size_t cap,
                                    size_t *n, blt_detail_t *d)
{
	blt_err_t err;
	if (!s)
		return (blt_err_t)blt_detail_set(d, BLT_E_INVAL, "no session");
	err = (blt_err_t)blt_cloud_devices(s->c, out, cap, n, d);
	sync_dc(s);
	return err;
}

blt_err_t blt_cloud_session_find_device(blt_cloud_session_t *s, const char *sn,
                                        blt_cloud_device_t *dev, char *secret, size_t secret_cap,
                                        blt_detail_t *d)
{
	char sec[256] = "";
	blt_detail_t d2;
	blt_err_t err;
	if (!s || !sn || !dev)
		return (blt_err_t)blt_detail_set(d, BLT_E_INVAL, "find_device: NULL argument");
	if (secret && secret_cap)
		secret[0] = '\0';
	err = (blt_err_t)blt_cloud_find_device(s->c, sn, dev, d);
	sync_dc(s);
	if (err)
		return err;
	/* the full record: a static broker password (rmt:<iotConnSecret>) when it has one;
	 * a gateway that does not offer the call keeps the TOTP */
	if (blt_cloud_device_remote(s->c, dev, sec, sizeof sec, &d2) == BLT_OK) {
		if (sec[0] &&
		    (err = (blt_err_t)blt_cloud_set_broker_secret(s->c, sec, d)) != BLT_OK)
			goto out;
		if (secret && secret_cap && strlen(sec) >= secret_cap) {
			err = (blt_err_t)blt_detail_set(d, BLT_E_BUFSIZE, "broker secret too long");
			goto out;
		}
		if (secret && secret_cap)
			memcpy(secret, sec, strlen(sec) + 1);
	} else if (blt_cloud_last_error(s->c)->kind == BLT_CLOUD_TOKEN_EXPIRED) {
		err = (blt_err_t)blt_detail_set(d, BLT_E_AUTH, "%s", d2.text);
	} else {
		blt_log(BLT_LOG_DEBUG, "cloud: deviceRemoteSearch: %s (using the TOTP)", d2.text);
	}
out:
	OPENSSL_cleanse(sec, sizeof sec);
	return err;
}

int blt_cloud_session_credentials_hook(void *session, char *user, size_t user_cap, char *password,
                                       size_t password_cap, blt_detail_t *d)
{
	blt_cloud_session_t *s = session;
	int err;
	if (!s)
		return blt_detail_set(d, BLT_E_INVAL, "no session");
	err = blt_cloud_mqtt_credentials_fresh(s->c, 0, user, user_cap, password, password_cap, d);
	sync_dc(s);
	return err;
}

blt_cloud_t *blt_cloud_session_cloud(blt_cloud_session_t *s)
{
	return s ? s->c : NULL;
}

const blt_cloud_saved_t *blt_cloud_session_saved(const blt_cloud_session_t *s)
{
	return s ? &s->s : NULL;
}

const char *blt_cloud_session_dir(const blt_cloud_session_t *s)
{
	return s ? s->dir : NULL;
}

void blt_cloud_session_close(blt_cloud_session_t *s)
{
	if (!s)
		return;
	blt_cloud_free(s->c);
	OPENSSL_cleanse(s, sizeof *s);
	free(s);
}
