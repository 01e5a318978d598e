/* The account client (PROTOCOL.md §2): HTTPS through libcurl, every request with a
 * connect and a total timeout, answers parsed by json.c. Code 805 (token not honoured):
 * one re-login for a token that worked before, the other data centres' gateways for a
 * token the sign-in has just issued (EVIDENCE.md §5), never a loop. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>

#include <bluetti/cloud.h>

#include "cloud/cloud_internal.h"
#include "cloud/curl_dl.h" /* libcurl, loaded when the first blt_cloud_t is made */

#define BODY_MAX (4u << 20) /* no gateway answer (the PFX included) comes near this */
#define XSIG_MAX 2048

#define NREGIONS 3 /* global (gw), eu, us */

struct blt_cloud {
	char *gw, *gwpry, *ca_file, *app_key, *app_ver, *os;
	char *region_url[NREGIONS]; /* [0] = gw; NULL = no such gateway to probe */
	char *dc;                   /* the account's data-centre gateway (authenticated calls) */
	char region[16];            /* its name: global, eu, us, custom */
	bool region_auto;           /* probe the others on 805 for a fresh token */
	bool token_fresh;           /* issued by a login in this handle, not yet honoured */
	uint64_t token_at;          /* monotonic ms of that login */
	unsigned logins;
	char dead_msg[400];      /* why token_dead */
	char broker_secret[256]; /* iotConnSecret: password rmt:<secret> (venus) */
	char os_ver_hex[130];
	char device_id[65];
	char totp_key[BLT_CLOUD_TOTP_KEY_LEN + 1];
	int connect_timeout_ms, timeout_ms;
	CURL *curl;
	/* session */
	char token[2048];
	long ttl;
	char email[256];
	char pw_hash[65];
	char pass_open[1100];
	bool can_relogin;
	char uid[128];
	bool have_offset;
	int64_t offset_ms;  /* server - local wall clock */
	uint64_t offset_at; /* monotonic ms of the last server-time answer */
	bool token_dead;    /* 805 and no re-login possible: fresh credentials stop asking */
	blt_cloud_token_fn token_fn;
	void *token_user;
	char iot_server[256];
	char pfx_password[512];
	bool have_pfx_password;
	blt_cloud_error_t last;
};

typedef struct resp {
	char *body;
	size_t len, cap;
	bool too_big;
	long status;
	char xsig[XSIG_MAX];
	bool have_xsig, xsig_too_long;
	char iot[256];
} resp_t;

static void resp_free(resp_t *r)
{
	if (r->body) {
		OPENSSL_cleanse(r->body, r->cap);
		free(r->body);
	}
	memset(r, 0, sizeof *r);
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static char *dupstr(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void clear_last(blt_cloud_t *c)
{
	memset(&c->last, 0, sizeof c->last);
}

static int fail(blt_cloud_t *c, blt_detail_t *d, blt_cloud_fail_t kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(blt_cloud_t *c, blt_detail_t *d, blt_cloud_fail_t kind, const char *fmt, ...)
{
	c->last.kind = kind;
	if (d) {
		va_list ap;
		va_start(ap, fmt);
		blt_detail_vset(d, 0, fmt, ap);
		va_end(ap);
	}
	return blt_cloud_fail_err(kind);
}

/* ---- handle ---------------------------------------------------------------------- */

static int trim_url(char **u)
{
	size_t n;
	if (!*u)
		return 0;
	n = strlen(*u);
	while (n && (*u)[n - 1] == '/')
		(*u)[--n] = '\0';
	return n ? 0 : -1;
}

static const char *const region_names[NREGIONS] = {"global", "eu", "us"};

bool blt_cloud_region_valid(const char *name)
{
	if (!name)
		return false;
	if (!strcmp(name, "auto"))
		return true;
	for (int i = 0; i < NREGIONS; i++)
		if (!strcmp(name, region_names[i]))
			return true;
	return false;
}

/* Only https: the login sends passOpen, which anyone who sees it can decrypt. */
static int check_https(const char *url, const char *what, blt_detail_t *d)
{
	if (!url || !strncasecmp(url, "https://", 8))
		return BLT_OK;
	return blt_detail_set(d, BLT_E_INVAL,
	                      "%s '%s' is not an https:// URL: the login sends the password in "
	                      "a reversibly encrypted form (passOpen), which plain HTTP would "
	                      "expose",
	                      what, url);
}

/* "eu=URL,us=URL" -> region_url[1..2]. */
static int parse_region_urls(blt_cloud_t *c, const char *spec, blt_detail_t *d)
{
	char *copy = strdup(spec), *save = NULL;
	int err = BLT_OK;
	if (!copy)
		return blt_detail_set(d, BLT_E_NOMEM, "out of memory");
	for (char *it = strtok_r(copy, ", ", &save); it; it = strtok_r(NULL, ", ", &save)) {
		char *eq = strchr(it, '=');
		int r = -1;
		if (eq) {
			*eq = '\0';
			for (int i = 1; i < NREGIONS; i++)
				if (!strcmp(it, region_names[i]))
					r = i;
		}
		if (r < 0 || !eq[1]) {
			err =
			    blt_detail_set(d, BLT_E_INVAL,
			                   "region gateways: expected eu=URL,us=URL, got '%s'", it);
			break;
		}
		if ((err = check_https(eq + 1, "region gateway", d)) != BLT_OK)
			break;
		free(c->region_url[r]);
		c->region_url[r] = strdup(eq + 1);
		if (!c->region_url[r] || trim_url(&c->region_url[r])) {
			err = blt_detail_set(d, BLT_E_INVAL, "region gateway: empty URL");
			break;
		}
	}
	free(copy);
	return err;
}

static void set_region_name(blt_cloud_t *c)
{
	snprintf(c->region, sizeof c->region, "custom");
	for (int i = 0; i < NREGIONS; i++)
		if (c->region_url[i] && !strcmp(c->dc, c->region_url[i])) {
			snprintf(c->region, sizeof c->region, "%s", region_names[i]);
			break;
		}
}

static int setup_regions(blt_cloud_t *c, const blt_cloud_opts_t *o, blt_detail_t *d)
{
	const char *want = o->region && o->region[0] ? o->region : "auto";
	int err;
	if (!blt_cloud_region_valid(want))
		return blt_detail_set(d, BLT_E_INVAL, "unknown region '%s' (auto, global, eu, us)",
		                      want);
	c->region_url[0] = strdup(c->gw);
	if (!c->region_url[0])
		return blt_detail_set(d, BLT_E_NOMEM, "out of memory");
	/* The regional gateways go with the default sign-in gateway (or an explicit region,
	 * or the override); a custom gateway has no known siblings to probe. */
	if (!o->gw_url || !strcmp(c->gw, BLT_CLOUD_GW_DEFAULT) || strcmp(want, "auto") != 0) {
		c->region_url[1] = strdup(BLT_CLOUD_GW_EU_DEFAULT);
		c->region_url[2] = strdup(BLT_CLOUD_GW_US_DEFAULT);
		if (!c->region_url[1] || !c->region_url[2])
			return blt_detail_set(d, BLT_E_NOMEM, "out of memory");
	}
	if (o->region_urls && o->region_urls[0] &&
	    (err = parse_region_urls(c, o->region_urls, d)) != BLT_OK)
		return err;
	c->region_auto = !strcmp(want, "auto");
	if (!c->region_auto) {
		for (int i = 0; i < NREGIONS; i++)
			if (!strcmp(want, region_names[i]))
				c->dc = strdup(c->region_url[i]);
	} else {
		if ((err = check_https(o->dc_url, "data-centre gateway", d)) != BLT_OK)
			return err;
		c->dc = strdup(o->dc_url && o->dc_url[0] ? o->dc_url : c->gw);
		if (c->dc && trim_url(&c->dc))
			return blt_detail_set(d, BLT_E_INVAL, "empty data-centre gateway URL");
	}
	if (!c->dc)
		return blt_detail_set(d, BLT_E_NOMEM, "out of memory");
	set_region_name(c);
	return BLT_OK;
}

blt_err_t blt_cloud_new(const blt_cloud_opts_t *o, blt_cloud_t **out, blt_detail_t *d)
{
	static const blt_cloud_opts_t defaults;
	blt_cloud_t *c;
	const char *key;
	int err;

	if (!out)
		return blt_detail_set(d, BLT_E_INVAL, "blt_cloud_new: out is NULL");
	*out = NULL;
	if (!o)
		o = &defaults;
	if ((err = blt_curl_load(d)) != BLT_OK)
		return err;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return blt_detail_set(d, BLT_E_NOMEM, "libcurl initialisation failed");
	c = calloc(1, sizeof *c);
	if (!c)
		return blt_detail_set(d, BLT_E_NOMEM, "out of memory");
	c->gw = strdup(o->gw_url ? o->gw_url : BLT_CLOUD_GW_DEFAULT);
	c->gwpry = strdup(o->gwpry_url ? o->gwpry_url
	                  : o->gw_url  ? o->gw_url
	                               : BLT_CLOUD_GWPRY_DEFAULT);
	c->ca_file = dupstr(o->ca_file);
	c->app_key = strdup(o->app_key ? o->app_key : BLT_CLOUD_APP_KEY);
	c->app_ver = strdup(o->app_ver ? o->app_ver : BLT_CLOUD_APP_VER);
	c->os = strdup(o->os ? o->os : BLT_CLOUD_OS);
	if (!c->gw || !c->gwpry || (o->ca_file && !c->ca_file) || !c->app_key || !c->app_ver ||
	    !c->os) {
		blt_cloud_free(c);
		return blt_detail_set(d, BLT_E_NOMEM, "out of memory");
	}
	if (trim_url(&c->gw) || trim_url(&c->gwpry)) {
		blt_cloud_free(c);
		return blt_detail_set(d, BLT_E_INVAL, "empty gateway URL");
	}
	if ((err = check_https(c->gw, "gateway", d)) != BLT_OK ||
	    (err = check_https(c->gwpry, "second gateway", d)) != BLT_OK ||
	    (err = setup_regions(c, o, d)) != BLT_OK) {
		blt_cloud_free(c);
		return err;
	}
	{
		const char *ov = o->os_ver ? o->os_ver : BLT_CLOUD_OS_VER;
		size_t n = strlen(ov);
		if (2 * n + 1 > sizeof c->os_ver_hex) {
			blt_cloud_free(c);
			return blt_detail_set(d, BLT_E_INVAL, "os_ver too long");
		}
		for (size_t i = 0; i < n; i++)
			snprintf(c->os_ver_hex + 2 * i, 3, "%02X", (unsigned char)ov[i]);
	}
	if (o->device_id) {
		if (!o->device_id[0] || strlen(o->device_id) >= sizeof c->device_id ||
		    strpbrk(o->device_id, "\r\n")) {
			blt_cloud_free(c);
			return blt_detail_set(d, BLT_E_INVAL, "device_id must be 1..64 characters");
		}
		snprintf(c->device_id, sizeof c->device_id, "%s", o->device_id);
	} else {
		uint8_t rnd[16];
		if (RAND_bytes(rnd, sizeof rnd) != 1) {
			blt_cloud_free(c);
			return blt_detail_set(d, BLT_E_NOMEM, "no random bytes for the device id");
		}
		blt_hex_encode(rnd, sizeof rnd, c->device_id, sizeof c->device_id);
	}
	key = o->totp_key ? o->totp_key : getenv(BLT_CLOUD_TOTP_KEY_ENV);
	if (!key || !key[0])
		key = BLT_CLOUD_TOTP_KEY_DEFAULT;
	{
		err = blt_cloud_check_totp_key(key,
		                               o->totp_key ? "the options" : "BLUETTI_TOTP_KEY", d);
		if (err) {
			blt_cloud_free(c);
			return err;
		}
		memcpy(c->totp_key, key, BLT_CLOUD_TOTP_KEY_LEN + 1);
	}
	c->connect_timeout_ms = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 10000;
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 30000;
	if (c->connect_timeout_ms > c->timeout_ms)
		c->connect_timeout_ms = c->timeout_ms;
	*out = c;
	return BLT_OK;
}

void blt_cloud_free(blt_cloud_t *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	free(c->gw);
	free(c->gwpry);
	free(c->dc);
	for (int i = 0; i < NREGIONS; i++)
		free(c->region_url[i]);
	free(c->ca_file);
	free(c->app_key);
	free(c->app_ver);
	free(c->os);
	OPENSSL_cleanse(c, sizeof *c);
	free(c);
}

const blt_cloud_error_t *blt_cloud_last_error(const blt_cloud_t *c)
{
	return c ? &c->last : NULL;
}

const char *blt_cloud_device_id(const blt_cloud_t *c)
{
	return c ? c->device_id : NULL;
}

const char *blt_cloud_gateway(const blt_cloud_t *c)
{
	return c ? c->dc : NULL;
}

const char *blt_cloud_region(const blt_cloud_t *c)
{
	return c ? c->region : NULL;
}

unsigned blt_cloud_login_count(const blt_cloud_t *c)
{
	return c ? c->logins : 0;
}

const char *blt_cloud_token(const blt_cloud_t *c)
{
	return c && c->token[0] ? c->token : NULL;
}

long blt_cloud_token_ttl(const blt_cloud_t *c)
{
	return c ? c->ttl : 0;
}

void blt_cloud_secret_free(void *p, size_t len)
{
	if (p) {
		OPENSSL_cleanse(p, len);
		free(p);
	}
}

/* ---- HTTP ------------------------------------------------------------------------ */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *user)
{
	resp_t *r = user;
	size_t n = size * nmemb;
	if (r->len + n + 1 > BODY_MAX) {
		r->too_big = true;
		return 0;
	}
	if (r->len + n + 1 > r->cap) {
		size_t nc = r->cap ? r->cap : 4096;
		while (nc < r->len + n + 1)
			nc *= 2;
		char *nb = malloc(nc);
		if (!nb)
			return 0;
		if (r->body) {
			memcpy(nb, r->body, r->len);
			OPENSSL_cleanse(r->body, r->cap);
			free(r->body);
		}
		r->body = nb;
		r->cap = nc;
	}
	memcpy(r->body + r->len, ptr, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

/* Header value of "Name: value\r\n" if the name matches (case-insensitive). */
static bool header_value(const char *line, size_t n, const char *name, const char **v, size_t *vl)
{
	size_t nl = strlen(name);
	if (n <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return false;
	const char *s = line + nl + 1, *e = line + n;
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' ' || e[-1] == '\t'))
		e--;
	*v = s;
	*vl = (size_t)(e - s);
	return true;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *user)
{
	resp_t *r = user;
	size_t n = size * nmemb;
	const char *v;
	size_t vl;
	if (header_value(ptr, n, "X-Signature", &v, &vl)) {
		if (vl + 1 > sizeof r->xsig) {
			r->xsig_too_long = true;
		} else {
			memcpy(r->xsig, v, vl);
			r->xsig[vl] = '\0';
			r->have_xsig = vl > 0;
		}
	} else if (header_value(ptr, n, "x-iot-server", &v, &vl) && vl + 1 <= sizeof r->iot) {
		memcpy(r->iot, v, vl);
		r->iot[vl] = '\0';
	}
	return n;
}

static blt_cloud_fail_t curl_kind(CURLcode rc)
{
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT: return BLT_CLOUD_TIMEOUT;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_SHUTDOWN_FAILED: return BLT_CLOUD_TLS;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_OUT_OF_MEMORY: return BLT_CLOUD_INTERNAL;
	default: return BLT_CLOUD_NETWORK;
	}
}

/* One request. xh: extra headers (NULL-terminated, may be NULL). form: POST body
 * (form-urlencoded) or NULL; method "POST" without form posts an empty body. */
static int http(blt_cloud_t *c, const char *base, const char *method, const char *path,
                const char *const *xh, const char *form, bool auth, resp_t *r, blt_detail_t *d)
{
	char url[1200], h[2400], errbuf[CURL_ERROR_SIZE];
	struct curl_slist *hl = NULL, *tmp;
	CURLcode rc;
	bool oom = false;
	int n;

	memset(r, 0, sizeof *r);
	if (auth && !c->token[0])
		return fail(c, d, BLT_CLOUD_NOT_LOGGED_IN, "not logged in (no token)");
	n = snprintf(url, sizeof url, "%s%s", base, path);
	if (n < 0 || (size_t)n >= sizeof url)
		return fail(c, d, BLT_CLOUD_INTERNAL, "URL too long");
	if (!c->curl && !(c->curl = curl_easy_init()))
		return fail(c, d, BLT_CLOUD_INTERNAL, "libcurl handle: out of memory");
	curl_easy_reset(c->curl);

#define ADDH(...)                                                                                  \
	do {                                                                                       \
		snprintf(h, sizeof h, __VA_ARGS__);                                                \
		tmp = curl_slist_append(hl, h);                                                    \
		if (!tmp)                                                                          \
			oom = true;                                                                \
		else                                                                               \
			hl = tmp;                                                                  \
	} while (0)
	ADDH("x-app-key: %s", c->app_key);
	ADDH("x-os: %s", c->os);
	ADDH("x-app-ver: %s", c->app_ver);
	ADDH("x-os-ver: %s", c->os_ver_hex);
	ADDH("x-device-id: %s", c->device_id);
	ADDH("Accept-Language: en-US");
	ADDH("Expect:");
	if (auth)
		ADDH("Authorization: %s", c->token);
	ADDH("Content-Type: %s",
	     form ? "application/x-www-form-urlencoded" : "application/json;charset=utf-8");
	for (size_t i = 0; xh && xh[i]; i++)
		ADDH("%s", xh[i]);
#undef ADDH
	OPENSSL_cleanse(h, sizeof h);
	if (oom) {
		curl_slist_free_all(hl);
		return fail(c, d, BLT_CLOUD_INTERNAL, "out of memory");
	}
	errbuf[0] = '\0';
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)c->connect_timeout_ms);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	curl_easy_setopt(c->curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c->curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "bluetti-c/" BLT_VERSION_STRING);
	if (c->ca_file)
		curl_easy_setopt(c->curl, CURLOPT_CAINFO, c->ca_file);
	if (!strcmp(method, "POST")) {
		curl_easy_setopt(c->curl, CURLOPT_POST, 1L);
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, form ? form : "");
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE, (long)(form ? strlen(form) : 0));
	}
	rc = curl_easy_perform(c->curl);
	curl_slist_free_all(hl); /* holds the token: curl_slist_free_all does not wipe */
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &r->status);
	c->last.http_status = r->status;
	blt_log(BLT_LOG_DEBUG, "cloud: %s %s -> %ld (%s)", method, path, r->status,
	        rc == CURLE_OK ? "ok" : curl_easy_strerror(rc));
	if (rc != CURLE_OK) {
		if (r->too_big)
			return fail(c, d, BLT_CLOUD_MALFORMED, "%s %s: answer larger than %u bytes",
			            method, path, BODY_MAX);
		blt_cloud_fail_t k = curl_kind(rc);
		return fail(c, d, k, "%s%s: %s", base, path,
		            errbuf[0] ? errbuf : curl_easy_strerror(rc));
	}
	if (r->status != 200) {
		/* A JSON envelope with 805 means an expired token whatever the status. */
		blt_cloud_error_t e = {0};
		blt_detail_t dd;
		if (r->len && r->body[0] == '{' &&
		    blt_cloud_parse_status(r->body, r->len, &e, &dd) != BLT_OK &&
		    e.kind == BLT_CLOUD_TOKEN_EXPIRED) {
			c->last.server_code = e.server_code;
			snprintf(c->last.server_message, sizeof c->last.server_message, "%s",
			         e.server_message);
			return fail(c, d, BLT_CLOUD_TOKEN_EXPIRED, "%s", dd.text);
		}
		return fail(c, d, BLT_CLOUD_HTTP_STATUS, "%s %s: HTTP status %ld", method, path,
		            r->status);
	}
	if (r->iot[0])
		snprintf(c->iot_server, sizeof c->iot_server, "%s", r->iot);
	return BLT_OK;
}

/* ---- login ----------------------------------------------------------------------- */

static int do_login(blt_cloud_t *c, blt_detail_t *d)
{
	char *e_user = NULL, *e_po = NULL, *form = NULL;
	resp_t r;
	int err;
	size_t fl;

	e_user = curl_easy_escape(NULL, c->email, 0);
	e_po = curl_easy_escape(NULL, c->pass_open, 0);
	if (!e_user || !e_po) {
		err = fail(c, d, BLT_CLOUD_INTERNAL, "out of memory");
		goto out;
	}
	fl = strlen(e_user) + strlen(e_po) + 256;
	form = malloc(fl);
	if (!form) {
		err = fail(c, d, BLT_CLOUD_INTERNAL, "out of memory");
		goto out;
	}
	snprintf(form, fl,
	         "username=%s&password=%s&passOpen=%s&encryptedpwd=&authType=&phoneCountry=&"
	         "verifyCode=&country=",
	         e_user, c->pw_hash, e_po);
	c->logins++;
	err = http(c, c->gw, "POST", BLT_CLOUD_PATH_LOGIN, NULL, form, false, &r, d);
	if (!err) {
		char tok[sizeof c->token];
		long ttl = 0;
		err = blt_cloud_parse_login(r.body, r.len, tok, sizeof tok, &ttl, &c->last, d);
		if (!err) {
			memcpy(c->token, tok, sizeof tok);
			c->ttl = ttl;
			c->have_pfx_password = false; /* its key depends on the token */
			c->token_fresh = true;
			c->token_at = mono_ms();
			c->token_dead = false;
		}
		OPENSSL_cleanse(tok, sizeof tok);
	} else if (c->last.kind == BLT_CLOUD_HTTP_STATUS && r.len && r.body[0] == '{') {
		/* some gateways refuse a login with 4xx + the JSON envelope */
		char tok[8];
		blt_detail_t dd;
		int e2 = blt_cloud_parse_login(r.body, r.len, tok, sizeof tok, NULL, &c->last, &dd);
		if (e2 && (c->last.kind == BLT_CLOUD_WRONG_PASSWORD ||
		           c->last.kind == BLT_CLOUD_UNKNOWN_ACCOUNT)) {
			err = e2;
			if (d)
				*d = dd;
		} else {
			c->last.kind = BLT_CLOUD_HTTP_STATUS;
		}
	}
	resp_free(&r);
out:
	if (form) {
		OPENSSL_cleanse(form, strlen(form));
		free(form);
	}
	if (e_po) {
		OPENSSL_cleanse(e_po, strlen(e_po));
		curl_free(e_po);
	}
	curl_free(e_user);
	return err;
}

blt_err_t blt_cloud_login(blt_cloud_t *c, const char *email, const char *password, blt_detail_t *d)
{
	int err;
	if (!c || !email || !password)
		return blt_detail_set(d, BLT_E_INVAL, "blt_cloud_login: NULL argument");
	clear_last(c);
	if (!email[0] || strlen(email) >= sizeof c->email)
		return fail(c, d, BLT_CLOUD_INTERNAL, "e-mail address empty or too long");
	if (!password[0])
		return fail(c, d, BLT_CLOUD_INTERNAL, "empty password");
	snprintf(c->email, sizeof c->email, "%s", email);
	blt_cloud_password_hash(password, c->pw_hash);
	if (blt_cloud_pass_open(password, c->pass_open, sizeof c->pass_open) != BLT_OK)
		return fail(c, d, BLT_CLOUD_INTERNAL, "password too long (at most ~500 bytes)");
	c->token[0] = '\0';
	c->uid[0] = '\0';
	err = do_login(c, d);
	c->can_relogin = err == BLT_OK;
	if (err) {
		OPENSSL_cleanse(c->pw_hash, sizeof c->pw_hash);
		OPENSSL_cleanse(c->pass_open, sizeof c->pass_open);
	}
	return err;
}

blt_err_t blt_cloud_set_token(blt_cloud_t *c, const char *token, blt_detail_t *d)
{
	if (!c || !token)
		return blt_detail_set(d, BLT_E_INVAL, "blt_cloud_set_token: NULL argument");
	clear_last(c);
	if (strlen(token) >= sizeof c->token || strpbrk(token, "\r\n ") ||
	    blt_cloud_token_parts(token, NULL, 0, NULL, 0) != BLT_OK)
		return fail(c, d, BLT_CLOUD_INTERNAL,
		            "token is not two or more '.'-separated parts of printable text");
	snprintf(c->token, sizeof c->token, "%s", token);
	c->can_relogin = false;
	c->token_dead = false;
	c->token_fresh = false;
	c->have_pfx_password = false;
	OPENSSL_cleanse(c->pw_hash, sizeof c->pw_hash);
	OPENSSL_cleanse(c->pass_open, sizeof c->pass_open);
	return BLT_OK;
}

typedef int (*op_fn)(blt_cloud_t *c, void *arg, blt_detail_t *d);

static bool refused(const blt_cloud_t *c)
{
	return c->last.kind == BLT_CLOUD_TOKEN_EXPIRED;
}

/* The token cannot be used: later calls fail at once with this message. */
static int mark_dead(blt_cloud_t *c, blt_detail_t *d, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int mark_dead(blt_cloud_t *c, blt_detail_t *d, const char *fmt, ...)
{
	blt_detail_t m;
	va_list ap;
	va_start(ap, fmt);
	blt_detail_vset(&m, 0, fmt, ap);
	va_end(ap);
	snprintf(c->dead_msg, sizeof c->dead_msg, "%s", m.text);
	c->token_dead = true;
	return fail(c, d, BLT_CLOUD_TOKEN_EXPIRED, "%s", m.text);
}

/* After op succeeded or failed for another reason than 805 on the current gateway. */
static int honoured(blt_cloud_t *c, int err)
{
	c->token_fresh = false;
	return err;
}

/* A token the sign-in has just issued was answered 805: the account lives in another data
 * centre (auto: ask the others, first one that honours it wins), or nowhere works. */
static int fresh_refused(blt_cloud_t *c, op_fn op, void *arg, blt_detail_t *d)
{
	char *home = c->dc, tried[600];
	char home_region[sizeof c->region];
	size_t tl;
	bool unreachable = false;
	int err;

	tl = (size_t)snprintf(tried, sizeof tried, "%s", home);
	if (!c->region_auto)
		return mark_dead(c, d,
		                 "the %s gateway %s refuses a token the sign-in just issued (code "
		                 "805): the account lives in another data centre (--region auto "
		                 "finds it)",
		                 c->region, home);
	snprintf(home_region, sizeof home_region, "%s", c->region);
	for (int i = 0; i < NREGIONS; i++) {
		const char *u = c->region_url[i];
		bool seen = !u || !strcmp(u, home);
		for (int k = 0; k < i && !seen; k++)
			seen = c->region_url[k] && !strcmp(c->region_url[k], u);
		if (seen)
			continue;
		blt_log(BLT_LOG_INFO,
		        "cloud: %s refused a fresh token (805); trying the %s data centre (%s)",
		        home, region_names[i], u);
		c->dc = c->region_url[i];
		snprintf(c->region, sizeof c->region, "%s", region_names[i]);
		clear_last(c);
		err = op(c, arg, d);
		if (!refused(c) && c->last.kind != BLT_CLOUD_NETWORK &&
		    c->last.kind != BLT_CLOUD_TIMEOUT && c->last.kind != BLT_CLOUD_TLS) {
			/* this data centre holds the account: use it from now on */
			char *mine = strdup(u);
			if (mine) {
				free(home);
				c->dc = mine;
			} else {
				c->dc = home; /* keep going with the old one */
				set_region_name(c);
			}
			blt_log(BLT_LOG_INFO, "cloud: the account lives in the %s data centre (%s)",
			        c->region, c->dc);
			return honoured(c, err);
		}
		if (!refused(c))
			unreachable = true;
		if (tl < sizeof tried)
			tl += (size_t)snprintf(tried + tl, sizeof tried - tl, ", %s", u);
	}
	c->dc = home;
	snprintf(c->region, sizeof c->region, "%s", home_region);
	return mark_dead(c, d,
	                 "no data centre accepts the token the sign-in just issued (code 805 "
	                 "from %s%s); see docs/account.md, regions",
	                 tried, unreachable ? "; some could not be reached" : "");
}

/* Run op; on 805 renew a token that worked before once (if we can), and look for the
 * account's data centre when a fresh token is refused. */
static int with_relogin(blt_cloud_t *c, op_fn op, void *arg, blt_detail_t *d)
{
	int err;
	clear_last(c);
	if (!c->token[0])
		return fail(c, d, BLT_CLOUD_NOT_LOGGED_IN, "not logged in: run `bluetti login`");
	if (c->token_dead)
		return fail(c, d, BLT_CLOUD_TOKEN_EXPIRED, "%s", c->dead_msg);
	err = op(c, arg, d);
	if (!refused(c))
		return honoured(c, err);
	/* a token past the lifetime its login announced has simply expired */
	if (c->token_fresh && c->ttl > 0 && mono_ms() - c->token_at >= (uint64_t)c->ttl * 1000u)
		c->token_fresh = false;
	if (!c->token_fresh) {
		if (!c->can_relogin)
			return fail(c, d, BLT_CLOUD_TOKEN_EXPIRED,
			            "the access token has expired (server code 805); log in again "
			            "(`bluetti login`)");
		blt_log(BLT_LOG_INFO, "cloud: token expired (805), logging in again");
		c->can_relogin = false; /* no second one while this one runs */
		err = do_login(c, d);
		if (err)
			return err;
		c->can_relogin = true;
		if (c->token_fn)
			c->token_fn(c->token_user, c->token);
		clear_last(c);
		err = op(c, arg, d);
		if (!refused(c))
			return honoured(c, err);
	}
	return fresh_refused(c, op, arg, d);
}

/* ---- user id, devices, time ------------------------------------------------------ */

static int op_uid(blt_cloud_t *c, void *arg, blt_detail_t *d)
{
	resp_t r;
	(void)arg;
	int err = http(c, c->dc, "GET", BLT_CLOUD_PATH_UID, NULL, NULL, true, &r, d);
	if (!err)
		err = blt_cloud_parse_uid(r.body, r.len, c->uid, sizeof c->uid, &c->last, d);
	resp_free(&r);
	return err;
}

blt_err_t blt_cloud_user_id(blt_cloud_t *c, char *out, size_t cap, blt_detail_t *d)
{
	int err = BLT_OK;
	if (!c || !out)
		return blt_detail_set(d, BLT_E_INVAL, "blt_cloud_user_id: NULL argument");
	clear_last(c);
	if (!c->uid[0])
		err = with_relogin(c, op_uid, NULL, d);
	if (err)
		return err;
	if (strlen(c->uid) + 1 > cap)
		return blt_detail_set(d, BLT_E_BUFSIZE, "user id needs %zu bytes",
		                      strlen(c->uid) + 1);
	memcpy(out, c->uid, strlen(c->uid) + 1);
	return BLT_OK;
}

static int op_time(blt_cloud_t *c, void *arg, blt_detail_t *d)
{
	int64_t *ms = arg, t0, t1, v = 0;
	resp_t r;
	int err;
	char sid[1024], p0[1024], key[33];

	t0 = wall_ms();
	err = http(c, c->dc, "GET", BLT_CLOUD_PATH_TIME, NULL, NULL, true, &r, d);
	t1 = wall_ms();
	if (!err)
		err = blt_cloud_parse_time(r.body, r.len, &v, &c->last, d);
	if (err)
		goto out;
	c->offset_ms = v - (t0 + (t1 - t0) / 2);
	c->have_offset = true;
	c->offset_at = mono_ms();
	*ms = v;
	/* X-Signature: the PFX password, AES with key sign(server time, this path) (§2.7). */
	c->have_pfx_password = false;
	if (r.xsig_too_long) {
		err = fail(c, d, BLT_CLOUD_BAD_SIGNATURE, "X-Signature header longer than %d",
		           XSIG_MAX);
		goto out;
	}
	if (!r.have_xsig) {
		err = fail(c, d, BLT_CLOUD_BAD_SIGNATURE,
		           "server time answer has no X-Signature header (PFX password)");
		goto out;
	}
	if (blt_cloud_token_parts(c->token, p0, sizeof p0, sid, sizeof sid) != BLT_OK ||
	    blt_cloud_sign((uint64_t)v, BLT_CLOUD_PATH_TIME, c->app_key, c->app_ver, c->os, sid,
	                   key) != BLT_OK) {
		err = fail(c, d, BLT_CLOUD_INTERNAL, "cannot derive the signature key");
		goto out;
	}
	{
		size_t n;
		blt_detail_t dd;
		uint8_t pw[sizeof c->pfx_password];
		int e2 = blt_cloud_aes_decrypt_hex(key, r.xsig, pw, sizeof pw, &n, &dd);
		if (e2) {
			err = fail(c, d, BLT_CLOUD_BAD_SIGNATURE, "X-Signature: %s", dd.text);
		} else if (n == 0 || memchr(pw, 0, n)) {
			err = fail(c, d, BLT_CLOUD_BAD_SIGNATURE,
			           "X-Signature decrypts to an empty or binary password");
		} else {
			memcpy(c->pfx_password, pw, n + 1);
			c->have_pfx_password = true;
		}
		OPENSSL_cleanse(pw, sizeof pw);
	}
out:
	OPENSSL_cleanse(key, sizeof key);
	OPENSSL_cleanse(p0, sizeof p0);
	resp_free(&r);
	return err;
}

blt_err_t blt_cloud_server_time(blt_cloud_t *c, int64_t *ms, blt_detail_t *d)
{
	int64_t v = 0;
	int err;
	if (!c)
		return blt_detail_set(d, BLT_E_INVAL, "blt_cloud_server_time: NULL handle");
	err = with_relogin(c, op_time, &v, d);
	if (!err && ms)
		*ms = v;
	return err;
}

typedef struct dev_arg {
	blt_cloud_device_t *out;
	size_t cap, *n;
} dev_arg_t;

static int op_devices(blt_cloud_t *c, void *arg, blt_detail_t *d)
{
	dev_arg_t *a = arg;
	resp_t r;
	int err = http(c, c->dc, "GET", BLT_CLOUD_PATH_DEVICES, NULL, NULL, true, &r, d);
	if (!err) {
		err = blt_cloud_parse_devices(r.body, r.len, a->out, a->cap, a->n,
		                              c->iot_server[0] ? c->iot_server : NULL, &c->last, d);
		if (err == BLT_E_BUFSIZE)
			c->last.kind = BLT_CLOUD_INTERNAL;
	}
	resp_free(&r);
	return err;
}

blt_err_t blt_cloud_devices(blt_cloud_t *c, blt_cloud_device_t *out, size_t cap, size_t *n,
                            blt_detail_t *d)
{
	size_t dummy;
	if (!c || (!out && cap))
		return blt_detail_set(d, BLT_E_INVAL, "blt_cloud_devices: NULL argument");
	if (!n)
		n = &dummy;
	*n = 0;
	/* The broker of devices without iotSrvIp comes from x-iot-server (§2.6). */
	if (!c->iot_server[0] && c->token[0]) {
		int64_t t;
		blt_detail_t dd;
		(void)blt_cloud_server_time(c, &t, &dd);
	}
	dev_arg_t a = {out, cap, n};
	return with_relogin(c, op_devices, &a, d);
}

blt_err_t blt_cloud_find_device(blt_cloud_t *c, const char *sn, blt_cloud_device_t *out,
                                blt_detail_t *d)
{
	blt_cloud_device_t devs[64];
	size_t n = 0;
	int err;
	if (!c || !sn || !out)
		return blt_detail_set(d, BLT_E_INVAL, "blt_cloud_find_device: NULL argument");
	err = blt_cloud_devices(c, devs, 64, &n, d);
	if (err && err != BLT_E_BUFSIZE)
		return err;
	if (n > 64)
		n = 64;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(devs[i].sn, sn) || !strcmp(devs[i].sub_sn, sn)) {
			*out = devs[i];
			clear_last(c);
			return BLT_OK;
		}
	char list[300] = "";
	size_t used = 0, shown = 0;
	for (size_t i = 0; i < n; i++) { /* whole serials only, then "and N more" */
		size_t need = strlen(devs[i].sn) + 2;
		if (used + need + 16 >= sizeof list)
			break;
		used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
		                         devs[i].sn);
		shown++;
	}
	if (shown < n)
		snprintf(list + used, sizeof list - used, " and %zu more", n - shown);
	fail(c, d, BLT_CLOUD_NOT_FOUND, "device %s is not in this account (%s%s)", sn,
	     n ? "it has: " : "it has no devices", list);
	return BLT_E_NOT_FOUND;
}

/* ---- PFX and MQTT credentials ---------------------------------------------------- */

static int need_key(blt_cloud_t *c, blt_detail_t *d)
{
	if (c->totp_key[0])
		return BLT_OK;
	return fail(c, d, BLT_CLOUD_NO_TOTP_KEY,
	            "the 12-character TOTP key (PROTOCOL.md §2.8) is not configured: set "
	            "BLUETTI_TOTP_KEY or put `totp_key = ...` in ~/.config/bluetti/config "
	            "(see docs/account.md)");
}

typedef struct pfx_arg {
	uint8_t *pfx;
	size_t len;
} pfx_arg_t;

static int check_pfx(blt_cloud_t *c, const uint8_t *b, size_t n, blt_detail_t *d)
{
	const unsigned char *p = b;
	PKCS12 *p12;
	int err = BLT_OK;
	if (n > 0x7fffffff)
		return fail(c, d, BLT_CLOUD_BAD_CERT, "PFX too large");
	p12 = d2i_PKCS12(NULL, &p, (long)n);
	if (!p12)
		return fail(c, d, BLT_CLOUD_BAD_CERT,
		            "the PFX answer (%zu bytes) is not a PKCS#12 structure", n);
	if (PKCS12_mac_present(p12) &&
	    !PKCS12_verify_mac(p12, c->pfx_password, (int)strlen(c->pfx_password))) {
		fail(c, d, BLT_CLOUD_BAD_CERT,
		     "the PFX password from X-Signature does not open the certificate (MAC check)");
		err = BLT_E_CERT_PASSWORD;
	}
	PKCS12_free(p12);
	return err;
}

static int pfx_from(blt_cloud_t *c, const char *base, pfx_arg_t *a, blt_detail_t *d)
{
	char uid[128], p0[1024], sid[1024], totp[9], k[33], res[1100], h1[1200];
	const char *xh[6];
	int64_t t = 0;
	resp_t r;
	int err;

	memset(&r, 0, sizeof r);
	if (!c->uid[0] && (err = op_uid(c, NULL, d)) != BLT_OK)
		return err;
	snprintf(uid, sizeof uid, "%s", c->uid);
	/* fresh server time (and PFX password) right before the request */
	if ((err = op_time(c, &t, d)) != BLT_OK)
		return err;
	if (blt_cloud_token_parts(c->token, p0, sizeof p0, sid, sizeof sid) != BLT_OK)
		return fail(c, d, BLT_CLOUD_INTERNAL, "token has no second part");
	if (blt_cloud_totp(uid, c->device_id, t, c->totp_key, totp) != BLT_OK ||
	    blt_cloud_sign(strtoull(totp, NULL, 10), BLT_CLOUD_PATH_PFX, c->app_key, c->app_ver,
	                   c->os, sid, k) != BLT_OK ||
	    blt_cloud_aes_encrypt_hex(k, (const uint8_t *)c->pfx_password, strlen(c->pfx_password),
	                              res, sizeof res) != BLT_OK) {
		err = fail(c, d, BLT_CLOUD_INTERNAL, "cannot build x-app-resource");
		goto out;
	}
	snprintf(h1, sizeof h1, "x-app-resource: %s", res);
	char h2[64], h3[80];
	snprintf(h2, sizeof h2, "currentutctime: %" PRIx64, (uint64_t)strtoull(totp, NULL, 10));
	snprintf(h3, sizeof h3, "url: %s", BLT_CLOUD_PATH_PFX);
	xh[0] = h1;
	xh[1] = h2;
	xh[2] = h3;
	xh[3] = "range: bytes=0-";
	xh[4] = NULL;
	err = http(c, base, "POST", BLT_CLOUD_PATH_PFX, xh, NULL, true, &r, d);
	if (err)
		goto out;
	if (r.len && r.body[0] == '{') {
		/* JSON instead of PKCS#12: an error (§2.9) */
		err = blt_cloud_parse_status(r.body, r.len, &c->last, d);
		if (!err)
			err = fail(c, d, BLT_CLOUD_MALFORMED,
			           "the PFX request was answered with JSON code 0 instead of a "
			           "certificate");
		else if (c->last.kind == BLT_CLOUD_SERVER_CODE) {
			/* the request's proof is the TOTP: a wrong key is the usual reason */
			char m[sizeof d->text];
			bool builtin = !strcmp(c->totp_key, BLT_CLOUD_TOTP_KEY_DEFAULT);
			snprintf(m, sizeof m, "%s", d ? d->text : "");
			fail(c, d, BLT_CLOUD_SERVER_CODE,
			     "certificate refused by %s: %s; likely cause: the TOTP key (%s)", base,
			     m,
			     builtin
			         ? "the built-in one; set BLUETTI_TOTP_KEY if the app changed it"
			         : "a configured one; unset BLUETTI_TOTP_KEY / totp_key = to use "
			           "the "
			           "built-in one");
		}
		goto out;
	}
	if (r.len == 0) {
		err = fail(c, d, BLT_CLOUD_MALFORMED, "empty PFX answer from %s", base);
		goto out;
	}
	err = check_pfx(c, (const uint8_t *)r.body, r.len, d);
	if (err)
		goto out;
	a->pfx = malloc(r.len);
	if (!a->pfx) {
		err = fail(c, d, BLT_CLOUD_INTERNAL, "out of memory");
		goto out;
	}
	memcpy(a->pfx, r.body, r.len);
	a->len = r.len;
out:
	OPENSSL_cleanse(p0, sizeof p0);
	OPENSSL_cleanse(totp, sizeof totp);
	OPENSSL_cleanse(k, sizeof k);
	OPENSSL_cleanse(res, sizeof res);
	OPENSSL_cleanse(h1, sizeof h1);
	resp_free(&r);
	return err;
}

/* The data-centre gateway; on the global one the second gateway first (battery-ha). */
static int op_pfx(blt_cloud_t *c, void *arg, blt_detail_t *d)
{
	pfx_arg_t *a = arg;
	blt_detail_t first;
	int err;
	if (strcmp(c->dc, c->gw) != 0 || !strcmp(c->gwpry, c->gw))
		return pfx_from(c, c->dc, a, d);
	err = pfx_from(c, c->gwpry, a, &first);
	if (!err) {
		if (d)
			*d = first;
		return err;
	}
	blt_log(BLT_LOG_INFO, "cloud: PFX from the second gateway failed (%s), trying %s",
	        first.text, c->dc);
	clear_last(c);
	return pfx_from(c, c->dc, a, d);
}

blt_err_t blt_cloud_pfx(blt_cloud_t *c, uint8_t **pfx, size_t *pfx_len, char *password,
                        size_t password_cap, blt_detail_t *d)
{
	pfx_arg_t a = {NULL, 0};
	int err;
	if (!c || !pfx || !pfx_len || !password)
		return blt_detail_set(d, BLT_E_INVAL, "blt_cloud_pfx: NULL argument");
	*pfx = NULL;
	*pfx_len = 0;
	clear_last(c);
	if ((err = need_key(c, d)) != BLT_OK)
		return err;
	err = with_relogin(c, op_pfx, &a, d);
	if (err)
		return err;
	if (strlen(c->pfx_password) + 1 > password_cap) {
		blt_cloud_secret_free(a.pfx, a.len);
		return fail(c, d, BLT_CLOUD_INTERNAL, "PFX password needs %zu bytes",
		            strlen(c->pfx_password) + 1);
	}
	memcpy(password, c->pfx_password, strlen(c->pfx_password) + 1);
	*pfx = a.pfx;
	*pfx_len = a.len;
	return BLT_OK;
}

blt_err_t blt_cloud_mqtt_credentials(blt_cloud_t *c, char *user, size_t user_cap, char *password,
                                     size_t password_cap, blt_detail_t *d)
{
	char p0[1024], p1[1024], totp[9];
	int err;
	if (!c || !user || !password)
		return blt_detail_set(d, BLT_E_INVAL, "blt_cloud_mqtt_credentials: NULL argument");
	clear_last(c);
	if ((err = need_key(c, d)) != BLT_OK)
		return err;
	if (!c->token[0])
		return fail(c, d, BLT_CLOUD_NOT_LOGGED_IN, "not logged in: run `bluetti login`");
	if (c->broker_secret[0]) {
		/* venus-gateway: "rmt:" + iotConnSecret instead of the TOTP */
		if (blt_cloud_token_parts(c->token, p0, sizeof p0, p1, sizeof p1) != BLT_OK)
			return fail(c, d, BLT_CLOUD_INTERNAL, "token has no second part");
		OPENSSL_cleanse(p0, sizeof p0);
		if (strlen(p1) + 5 > user_cap || strlen(c->broker_secret) + 5 > password_cap)
			return fail(c, d, BLT_CLOUD_INTERNAL, "credential buffers too small");
		snprintf(user, user_cap, "tid:%s", p1);
		snprintf(password, password_cap, "rmt:%s", c->broker_secret);
		return BLT_OK;
	}
	if (!c->have_offset) {
		int64_t t;
		if ((err = blt_cloud_server_time(c, &t, d)) != BLT_OK &&
		    c->last.kind != BLT_CLOUD_BAD_SIGNATURE)
			return err;
		if (!c->have_offset)
			return err;
	}
	if (blt_cloud_token_parts(c->token, p0, sizeof p0, p1, sizeof p1) != BLT_OK)
		return fail(c, d, BLT_CLOUD_INTERNAL, "token has no second part");
	err = blt_cloud_totp(p1, p0, wall_ms() + c->offset_ms, c->totp_key, totp);
	if (!err && (strlen(p1) + 5 > user_cap || password_cap < 9))
		err = fail(c, d, BLT_CLOUD_INTERNAL, "credential buffers too small");
	else if (err)
		err = fail(c, d, BLT_CLOUD_INTERNAL, "TOTP computation failed");
	else {
		snprintf(user, user_cap, "tid:%s", p1);
		memcpy(password, totp, 9);
		clear_last(c);
	}
	OPENSSL_cleanse(p0, sizeof p0);
	OPENSSL_cleanse(totp, sizeof totp);
	return err;
}

/* ---- long-running clients: re-login setup, fresh MQTT credentials ----------------- */

blt_err_t blt_cloud_set_relogin(blt_cloud_t *c, const char *email, const char *password,
                                blt_detail_t *d)
{
	if (!c || !email || !password)
		return blt_detail_set(d, BLT_E_INVAL, "blt_cloud_set_relogin: NULL argument");
	clear_last(c);
	if (!email[0] || strlen(email) >= sizeof c->email)
		return fail(c, d, BLT_CLOUD_INTERNAL, "e-mail address empty or too long");
	if (!password[0])
		return fail(c, d, BLT_CLOUD_INTERNAL, "empty password");
	snprintf(c->email, sizeof c->email, "%s", email);
	blt_cloud_password_hash(password, c->pw_hash);
	if (blt_cloud_pass_open(password, c->pass_open, sizeof c->pass_open) != BLT_OK) {
		OPENSSL_cleanse(c->pw_hash, sizeof c->pw_hash);
		return fail(c, d, BLT_CLOUD_INTERNAL, "password too long (at most ~500 bytes)");
	}
	c->can_relogin = true;
	c->token_dead = false;
	return BLT_OK;
}

void blt_cloud_on_token(blt_cloud_t *c, blt_cloud_token_fn fn, void *user)
{
	if (c) {
		c->token_fn = fn;
		c->token_user = fn ? user : NULL;
	}
}

blt_err_t blt_cloud_mqtt_credentials_fresh(blt_cloud_t *c, int max_age_s, char *user,
                                           size_t user_cap, char *password, size_t password_cap,
                                           blt_detail_t *d)
{
	uint64_t max_ms;
	int err;
	if (!c || !user || !password || max_age_s < 0)
		return blt_detail_set(d, BLT_E_INVAL,
		                      "blt_cloud_mqtt_credentials_fresh: bad argument");
	clear_last(c);
	if ((err = need_key(c, d)) != BLT_OK)
		return err;
	if (!c->token[0])
		return fail(c, d, BLT_CLOUD_NOT_LOGGED_IN, "not logged in: run `bluetti login`");
	if (c->token_dead)
		return fail(c, d, BLT_CLOUD_TOKEN_EXPIRED, "%s", c->dead_msg);
	if (c->broker_secret[0]) /* static password: no clock needed */
		return blt_cloud_mqtt_credentials(c, user, user_cap, password, password_cap, d);
	max_ms = (uint64_t)(max_age_s ? max_age_s : BLT_CLOUD_CONTEXT_MAX_AGE_S) * 1000u;
	if (!c->have_offset || mono_ms() - c->offset_at >= max_ms) {
		int64_t t;
		err = blt_cloud_server_time(c, &t, d);
		if (err) {
			blt_cloud_fail_t kind = c->last.kind;
			if (kind == BLT_CLOUD_TOKEN_EXPIRED) {
				if (!c->token_dead && !c->can_relogin)
					return mark_dead(
					    c, d,
					    "the access token has expired (server code "
					    "805); log in again (`bluetti login`)");
				return err;
			}
			if (kind == BLT_CLOUD_NOT_LOGGED_IN)
				return err;
			if (!c->have_offset)
				return err;
			/* A bad X-Signature still gave the time; a network failure keeps the
			 * offset we have (clocks drift slowly; the step is 30 s). */
			if (kind != BLT_CLOUD_BAD_SIGNATURE)
				blt_log(BLT_LOG_WARN,
				        "cloud: server time refresh failed (%s); using the clock "
				        "offset from %llu s ago",
				        blt_cloud_fail_name(kind),
				        (unsigned long long)((mono_ms() - c->offset_at) / 1000u));
		}
	}
	return blt_cloud_mqtt_credentials(c, user, user_cap, password, password_cap, d);
}

int blt_cloud_credentials_hook(void *cloud, char *user, size_t user_cap, char *password,
                               size_t password_cap, blt_detail_t *d)
{
	return blt_cloud_mqtt_credentials_fresh(cloud, 0, user, user_cap, password, password_cap,
	                                        d);
}

/* ---- deviceRemoteSearch and the static broker password ----------------------------- */

typedef struct remote_arg {
	blt_cloud_device_t *dev;
	char *secret;
	size_t cap;
} remote_arg_t;

static int op_remote(blt_cloud_t *c, void *arg, blt_detail_t *d)
{
	remote_arg_t *a = arg;
	char path[300], *esc;
	resp_t r;
	int err;
	esc = curl_easy_escape(NULL, a->dev->sn, 0);
	if (!esc)
		return fail(c, d, BLT_CLOUD_INTERNAL, "out of memory");
	snprintf(path, sizeof path, "%s?deviceSn=%s", BLT_CLOUD_PATH_REMOTE, esc);
	curl_free(esc);
	err = http(c, c->dc, "GET", path, NULL, NULL, true, &r, d);
	if (!err)
		err = blt_cloud_parse_remote(r.body, r.len, a->dev, a->secret, a->cap, &c->last, d);
	resp_free(&r);
	return err;
}

blt_err_t blt_cloud_device_remote(blt_cloud_t *c, blt_cloud_device_t *dev, char *secret,
                                  size_t secret_cap, blt_detail_t *d)
{
	if (!c || !dev || !secret || !secret_cap)
		return blt_detail_set(d, BLT_E_INVAL, "blt_cloud_device_remote: NULL argument");
	secret[0] = '\0';
	if (!dev->sn[0])
		return fail(c, d, BLT_CLOUD_INTERNAL, "device without a serial");
	remote_arg_t a = {dev, secret, secret_cap};
	return with_relogin(c, op_remote, &a, d);
}

blt_err_t blt_cloud_set_broker_secret(blt_cloud_t *c, const char *secret, blt_detail_t *d)
{
	if (!c)
		return blt_detail_set(d, BLT_E_INVAL, "blt_cloud_set_broker_secret: NULL handle");
	if (secret && (strlen(secret) >= sizeof c->broker_secret || strpbrk(secret, "\r\n")))
		return blt_detail_set(d, BLT_E_INVAL, "broker secret too long or not one line");
	OPENSSL_cleanse(c->broker_secret, sizeof c->broker_secret);
	if (secret)
		snprintf(c->broker_secret, sizeof c->broker_secret, "%s", secret);
	return BLT_OK;
}
