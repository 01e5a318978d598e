/* cloud.h - the Bluetti account: login, device list, client certificate (PKCS#12) and
 * MQTT broker credentials, over the app's HTTPS gateway (PROTOCOL.md §2, libcurl).
 *
 * Programs use the account session (blt_cloud_session_*, at the end): the credential
 * store, the TOTP key, token renewal and the data centre in one object. Underneath, the
 * handle: blt_cloud_new -> blt_cloud_login (or blt_cloud_set_token with a cached token)
 * -> blt_cloud_devices / blt_cloud_pfx / blt_cloud_mqtt_credentials.
 *
 * Code 805 means "token not honoured here": expired, or issued for an account that another
 * data centre holds (EVIDENCE.md §5). Login goes to the sign-in gateway (gw_url); the
 * authenticated calls go to the account's data-centre gateway. On 805:
 *   - a token that has worked before (or a cached one) is renewed by one re-login, when
 *     the handle holds the credentials of a blt_cloud_login / blt_cloud_set_relogin;
 *   - a token the sign-in has just issued is never renewed (a new one would fare the same):
 *     with region "auto" the other data centres' gateways are asked in turn and the first
 *     that honours it is used from then on (blt_cloud_gateway says which); when none does
 *     the token is marked unusable and every later call fails at once (BLT_E_AUTH, kind
 *     TOKEN_EXPIRED) without asking the network, until blt_cloud_login / set_token.
 * So a gateway that answers 805 to everything costs exactly one login per handle.
 *
 * Errors: every call returns a blt_err_t (BLT_E_AUTH wrong password / unknown account /
 * expired token, BLT_E_CONNECT network, BLT_E_TIMEOUT, BLT_E_TLS, BLT_E_PROTOCOL HTTP
 * status / server code / malformed JSON / bad signature, BLT_E_CONFIG missing TOTP key,
 * BLT_E_CERT / BLT_E_CERT_PASSWORD unusable PKCS#12) and fills the optional detail with
 * one precise line; blt_cloud_last_error() says which kind of failure it was, with the
 * HTTP status and the server's code and message when there were any.
 *
 * Secrets: passwords, tokens, TOTPs and the PFX password are never logged; the handle
 * keeps the SHA-256 of the password (not the password) for re-login, and wipes it on
 * free. Timeouts (connect and total) apply to every request: nothing waits forever.
 * Threading: a handle is used by one thread at a time.
 */
#ifndef BLUETTI_CLOUD_H
#define BLUETTI_CLOUD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bluetti/bluetti.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BLT_CLOUD_GW_DEFAULT    "https://gw.bluettipower.com"
#define BLT_CLOUD_GWPRY_DEFAULT "https://gwpry.bluettipower.com"
/* Data centres (EVIDENCE.md §5; bluetti-home-assistant gateway.py): an account lives in one
 * and the other gateways answer its tokens with 805. "global" is gw_url. */
#define BLT_CLOUD_GW_EU_DEFAULT "https://gwde.bluettipower.com"
#define BLT_CLOUD_GW_US_DEFAULT "https://gwpry.bluettipower.com"
/* Test/advanced override of the regional gateways: "eu=URL,us=URL" (either may be left
 * out). Read by the account session (not by blt_cloud_new: there it is
 * opts.region_urls), as are the other settings of the programs: */
#define BLT_CLOUD_REGIONS_ENV "BLUETTI_API_REGIONS"
#define BLT_CLOUD_API_ENV     "BLUETTI_API"                 /* gateway URL */
#define BLT_CLOUD_API_CA_ENV  "BLUETTI_API_CA"              /* its CA bundle (PEM) */
#define BLT_CLOUD_REGION_ENV  "BLUETTI_REGION"              /* auto, global, eu, us */
#define BLT_CLOUD_APP_KEY     "1783AF460D4D0615365940C9D3A" /* §2.2, public app id */
#define BLT_CLOUD_APP_VER     "3.0.6"
#define BLT_CLOUD_OS          "android"
#define BLT_CLOUD_OS_VER      "13.0"
#define BLT_CLOUD_BROKER_HOST "iot.bluettipower.com"
#define BLT_CLOUD_BROKER_PORT 18760
/* The §2.8 shared TOTP key: 12 ASCII characters, the same for every user (the app's
 * SHARED_PRIVATE_KEY, PROTOCOL.md §2.8). Shipped as the default; opts.totp_key, env
 * BLUETTI_TOTP_KEY or `totp_key = ...` in the config file override it (for when the app
 * changes it). */
#define BLT_CLOUD_TOTP_KEY_LEN     12
#define BLT_CLOUD_TOTP_KEY_ENV     "BLUETTI_TOTP_KEY"
#define BLT_CLOUD_TOTP_KEY_DEFAULT "ga3sa4hj6kfl"

/* The gateway's API (PROTOCOL.md §2): the paths the handle calls and the server codes it
 * interprets (blt_cloud_error_t.server_code), for a simulator or a proxy of the gateway. */
#define BLT_CLOUD_PATH_LOGIN          "/accessToken"
#define BLT_CLOUD_PATH_UID            "/api/bluuc/uc/v1/basic/get"
#define BLT_CLOUD_PATH_DEVICES        "/api/blusmartprod/device/group/v1/homeDevices"
#define BLT_CLOUD_PATH_TIME           "/api/midppkic/cert/app/v2/now/utc-time"
#define BLT_CLOUD_PATH_PFX            "/api/midppkic/cert/app/v1/pfx"
#define BLT_CLOUD_PATH_REMOTE         "/api/blusmartprod/device/basic/v1/deviceRemoteSearch"
#define BLT_CLOUD_CODE_TOKEN_EXPIRED  805       /* token not honoured here (see above) */
#define BLT_CLOUD_CODE_WRONG_PASSWORD 20003015L /* login: password incorrect */
#define BLT_CLOUD_CODE_NO_ACCOUNT     20003006L /* login: account does not exist */

typedef struct blt_cloud blt_cloud_t;

/* Gateway URLs must be https:// (the login sends passOpen, a reversible encryption of the
 * password: over plain HTTP it could be recovered); blt_cloud_new refuses others. */
typedef struct blt_cloud_opts {
	const char *gw_url;      /* sign-in (and default) gateway; NULL = BLT_CLOUD_GW_DEFAULT */
	const char *gwpry_url;   /* second gateway, tried first for the PFX (§2.9); NULL =
	                            BLT_CLOUD_GWPRY_DEFAULT when gw_url is NULL, else gw_url */
	const char *ca_file;     /* PEM bundle verifying the gateway; NULL = system CAs */
	int connect_timeout_ms;  /* per request; 0 = 10000 */
	int timeout_ms;          /* total per request; 0 = 30000 */
	const char *app_key;     /* NULL = BLT_CLOUD_APP_KEY */
	const char *app_ver;     /* NULL = BLT_CLOUD_APP_VER */
	const char *os;          /* NULL = BLT_CLOUD_OS ("android" or "ios") */
	const char *os_ver;      /* NULL = BLT_CLOUD_OS_VER (sent hex-encoded) */
	const char *device_id;   /* x-device-id; NULL = 32 random hex digits */
	const char *totp_key;    /* NULL = env BLUETTI_TOTP_KEY, else the built-in default */
	const char *region;      /* data centre: "auto" (NULL; probe on 805), "global" (gw_url),
	                            "eu", "us" (fixed: no probing) */
	const char *region_urls; /* "eu=URL,us=URL": override the regional gateways (tests) */
	const char *dc_url;      /* the data-centre gateway found before (from the store); NULL
	                            = gw_url, or the fixed region's */
} blt_cloud_opts_t;

/* What went wrong in the last failed call (BLT_CLOUD_OK after a success). */
typedef enum blt_cloud_fail {
	BLT_CLOUD_OK = 0,
	BLT_CLOUD_WRONG_PASSWORD,  /* login refused: password incorrect */
	BLT_CLOUD_UNKNOWN_ACCOUNT, /* login refused: account does not exist */
	BLT_CLOUD_LOGIN_REFUSED,   /* login refused for another reason (server code) */
	BLT_CLOUD_TOKEN_EXPIRED,   /* code 805 and no (successful) re-login */
	BLT_CLOUD_NOT_LOGGED_IN,   /* no token */
	BLT_CLOUD_NETWORK,         /* DNS, connect, reset */
	BLT_CLOUD_TIMEOUT,         /* connect or total timeout */
	BLT_CLOUD_TLS,             /* TLS handshake or gateway certificate */
	BLT_CLOUD_HTTP_STATUS,     /* HTTP status other than 200 */
	BLT_CLOUD_SERVER_CODE,     /* JSON code != 0 (code + message in last_error) */
	BLT_CLOUD_MALFORMED,       /* body not the JSON (or PKCS#12) the call expects */
	BLT_CLOUD_BAD_SIGNATURE,   /* X-Signature missing or does not decrypt */
	BLT_CLOUD_NO_TOTP_KEY,     /* the §2.8 key is not configured */
	BLT_CLOUD_BAD_CERT,        /* PFX unusable (not PKCS#12, password does not open it) */
	BLT_CLOUD_NOT_FOUND,       /* device not in the account's list */
	BLT_CLOUD_INTERNAL,        /* argument, buffer size, out of memory */
} blt_cloud_fail_t;

typedef struct blt_cloud_error {
	blt_cloud_fail_t kind;
	long http_status;         /* 0 if no HTTP answer */
	long server_code;         /* code/msgCode of the JSON answer; 0 if none */
	char server_message[160]; /* the JSON message, sanitised; "" if none */
} blt_cloud_error_t;

/* Static English name of a failure kind ("wrong password"); never NULL. */
BLT_API const char *blt_cloud_fail_name(blt_cloud_fail_t kind);

/* Create a handle (no network I/O). The options' strings are copied. */
BLT_API blt_err_t blt_cloud_new(const blt_cloud_opts_t *o, blt_cloud_t **out, blt_detail_t *d);
/* Wipes the secrets it holds and frees; NULL is a no-op. */
BLT_API void blt_cloud_free(blt_cloud_t *c);
BLT_API const blt_cloud_error_t *blt_cloud_last_error(const blt_cloud_t *c);
/* The x-device-id this handle sends (given or generated). */
BLT_API const char *blt_cloud_device_id(const blt_cloud_t *c);
/* The gateway the authenticated calls go to (the account's data centre) and its region
 * name ("global", "eu", "us", or "custom" for a dc_url that is none of them); owned by the
 * handle. They change when an 805 probe finds the account's data centre: save them. */
BLT_API const char *blt_cloud_gateway(const blt_cloud_t *c);
BLT_API const char *blt_cloud_region(const blt_cloud_t *c);
/* Logins this handle has sent (blt_cloud_login and automatic re-logins). */
BLT_API unsigned blt_cloud_login_count(const blt_cloud_t *c);
/* A region name is one of "auto", "global", "eu", "us". */
BLT_API bool blt_cloud_region_valid(const char *name);

/* POST /accessToken (§2.3). Keeps the token and, for one re-login on code 805, the
 * password's SHA-256 and passOpen (never the password itself). Errors: BLT_E_AUTH with
 * kind WRONG_PASSWORD / UNKNOWN_ACCOUNT / LOGIN_REFUSED, network and protocol errors. */
BLT_API blt_err_t blt_cloud_login(blt_cloud_t *c, const char *email, const char *password,
                                  blt_detail_t *d);
/* Use a cached token (at least two '.'-separated parts). No re-login on 805 then. */
BLT_API blt_err_t blt_cloud_set_token(blt_cloud_t *c, const char *token, blt_detail_t *d);
/* The current token (changes after a re-login) or NULL; owned by the handle. */
BLT_API const char *blt_cloud_token(const blt_cloud_t *c);
/* Token lifetime in seconds the server announced at login (0 if unknown). */
BLT_API long blt_cloud_token_ttl(const blt_cloud_t *c);

/* GET /api/bluuc/uc/v1/basic/get (§2.4): data.uid, cached in the handle. */
BLT_API blt_err_t blt_cloud_user_id(blt_cloud_t *c, char *out, size_t cap, blt_detail_t *d);

typedef struct blt_cloud_device {
	char name[128];
	char model[32];        /* cloud model code, e.g. "AP300", "EL100V2" */
	char sn[64];           /* full serial, e.g. "AP3002616113487436" */
	char sub_sn[64];       /* topic serial, e.g. "2616113487436" */
	bool online;           /* sessionState "Online" */
	char broker_host[256]; /* iotSrvIp, else x-iot-server, else the default */
	uint16_t broker_port;
	unsigned protocol_ver; /* factoryProtocolVer, 0 if absent */
} blt_cloud_device_t;

/* GET .../homeDevices (§2.5). Fills up to cap entries, *n = how many the account has;
 * BLT_E_BUFSIZE (entries 0..cap-1 valid) when *n > cap. */
BLT_API blt_err_t blt_cloud_devices(blt_cloud_t *c, blt_cloud_device_t *out, size_t cap, size_t *n,
                                    blt_detail_t *d);
/* Find a device by full serial or sub-serial (one devices call). BLT_E_NOT_FOUND if
 * absent (the detail lists what the account has). */
BLT_API blt_err_t blt_cloud_find_device(blt_cloud_t *c, const char *sn, blt_cloud_device_t *out,
                                        blt_detail_t *d);

/* GET .../now/utc-time (§2.6): server time in ms; also takes the X-Signature (PFX
 * password, §2.7) and x-iot-server headers and remembers the server-minus-local offset. */
BLT_API blt_err_t blt_cloud_server_time(blt_cloud_t *c, int64_t *ms, blt_detail_t *d);

/* POST .../cert/app/v1/pfx (§2.9), the second gateway first, then the first. *pfx is
 * malloc'd (free with blt_cloud_secret_free(pfx, len)); password gets the PFX password
 * (NUL-terminated; BLT_E_BUFSIZE if it does not fit). The MAC is checked with the
 * password before returning. Needs the TOTP key. */
BLT_API blt_err_t blt_cloud_pfx(blt_cloud_t *c, uint8_t **pfx, size_t *pfx_len, char *password,
                                size_t password_cap, blt_detail_t *d);

/* GET .../device/basic/v1/deviceRemoteSearch?deviceSn=<dev->sn> (§2.5, what the Venus
 * gateway does): the device's full record. Its model, subSn and iotSrvIp replace dev's
 * when present; secret gets iotConnSecret ("" when the record has none), the static
 * broker password some records carry (secret material: wipe it). */
BLT_API blt_err_t blt_cloud_device_remote(blt_cloud_t *c, blt_cloud_device_t *dev, char *secret,
                                          size_t secret_cap, blt_detail_t *d);
/* Broker password "rmt:<secret>" from now on instead of the TOTP (venus-gateway); NULL or
 * "" goes back to the TOTP. Copied and wiped on free. */
BLT_API blt_err_t blt_cloud_set_broker_secret(blt_cloud_t *c, const char *secret, blt_detail_t *d);

/* MQTT username "tid:<token part 1>" and password totp(part1, part0, server now) (§2.10),
 * or "rmt:<secret>" after blt_cloud_set_broker_secret; fetches the server time if not
 * known (not for rmt:). */
BLT_API blt_err_t blt_cloud_mqtt_credentials(blt_cloud_t *c, char *user, size_t user_cap,
                                             char *password, size_t password_cap, blt_detail_t *d);

/* ---- long-running clients (a bridge, `watch`): fresh broker credentials --------------
 * The broker password is a TOTP of the server time (30 s step), so a client that
 * reconnects hours later needs a new one: install blt_cloud_credentials_hook with
 * blt_transport_on_credentials (transport.h), user = the handle. */

/* The server time (and with it the token, §2.6) is fetched again when the last fetch is
 * older than this, as the Venus gateway rebuilds its login context after 3300 s. */
#define BLT_CLOUD_CONTEXT_MAX_AGE_S 3300

/* Let a handle with a cached token (blt_cloud_set_token) log in again once on code 805,
 * as after blt_cloud_login: keeps the e-mail, the password's SHA-256 and passOpen (not the
 * password). No network I/O. */
BLT_API blt_err_t blt_cloud_set_relogin(blt_cloud_t *c, const char *email, const char *password,
                                        blt_detail_t *d);

/* Called with the new token after an automatic re-login (e.g. to save it in the store);
 * fn = NULL removes it. The token string is owned by the handle. */
typedef void (*blt_cloud_token_fn)(void *user, const char *token);
BLT_API void blt_cloud_on_token(blt_cloud_t *c, blt_cloud_token_fn fn, void *user);

/* blt_cloud_mqtt_credentials for "now" in server time, for every broker (re)connect of a
 * long-running client: keeps the server-minus-local offset and fetches the server time
 * again when it is older than max_age_s (0 = BLT_CLOUD_CONTEXT_MAX_AGE_S); that request
 * also finds an expired token (805: one re-login when the handle can, see
 * blt_cloud_set_relogin). A network failure of that refresh keeps the known offset (logged
 * as a warning); an expired token that cannot be renewed fails with BLT_E_AUTH (kind
 * TOKEN_EXPIRED), and later calls fail the same way without asking the gateway again
 * until blt_cloud_set_token / blt_cloud_set_relogin. */
BLT_API blt_err_t blt_cloud_mqtt_credentials_fresh(blt_cloud_t *c, int max_age_s, char *user,
                                                   size_t user_cap, char *password,
                                                   size_t password_cap, blt_detail_t *d);

/* A blt_cred_fn (transport.h) for blt_transport_on_credentials: cloud is the blt_cloud_t *
 * (used by that transport's thread only); blt_cloud_mqtt_credentials_fresh(cloud, 0, ...). */
BLT_API int blt_cloud_credentials_hook(void *cloud, char *user, size_t user_cap, char *password,
                                       size_t password_cap, blt_detail_t *d);

/* OPENSSL_cleanse + free. */
BLT_API void blt_cloud_secret_free(void *p, size_t len);

/* ---- algorithms (§2.3, §2.7, §2.8), exposed for the simulator and tests ------------- */

/* §2.7: uppercase hex MD5 of the canonical string; out gets 32 chars + NUL. */
BLT_API int blt_cloud_sign(uint64_t t, const char *path, const char *app_key, const char *app_ver,
                           const char *os, const char *sid, char out[33]);
/* §2.8: 8 digits + NUL. key is the 12-character shared key. */
BLT_API int blt_cloud_totp(const char *a, const char *b, int64_t t_ms, const char *key,
                           char out[9]);
/* AES-256-ECB, PKCS#7, key = 32 ASCII bytes (e.g. a sign() result); hex out lowercase.
 * decrypt: BLT_E_HEX bad hex, BLT_E_PROTOCOL bad length or padding. */
BLT_API int blt_cloud_aes_encrypt_hex(const char key[32], const uint8_t *in, size_t n, char *hex,
                                      size_t hex_cap);
BLT_API blt_err_t blt_cloud_aes_decrypt_hex(const char key[32], const char *hex, uint8_t *out,
                                            size_t cap, size_t *out_len, blt_detail_t *d);
/* §2.3: password field (uppercase SHA-256 hex, 64 + NUL) and passOpen (lowercase hex). */
BLT_API void blt_cloud_password_hash(const char *password, char out[65]);
BLT_API int blt_cloud_pass_open(const char *password, char *out, size_t cap);

/* The TOTP key from env BLUETTI_TOTP_KEY, else `totp_key = ...` in config_path (NULL =
 * $XDG_CONFIG_HOME/bluetti/config, default ~/.config/bluetti/config). BLT_E_CONFIG with
 * a detail saying where to put it when absent or not 12 printable characters. */
BLT_API blt_err_t blt_cloud_totp_key_load(const char *config_path, char out[13], blt_detail_t *d);

/* ---- credential store ($XDG_STATE_HOME/bluetti, default ~/.local/state/bluetti) ------
 * Files: session (email, token, uid, device id, gateway; 0600), client.pfx (0600),
 * client.pass (0600); the directory is 0700. Loading refuses (BLT_E_CONFIG, detail
 * naming the file and the chmod that fixes it) a directory or file that group or others
 * can access, that is not ours, or that is a symlink. Writes are atomic (temp + rename). */
typedef struct blt_cloud_saved {
	char email[256];
	char token[2048];
	char uid[128];
	char device_id[65];
	char api[512];     /* gateway URL used at login ("" = default) */
	char api_pry[512]; /* second gateway ("" = default rule) */
	char api_ca[1024]; /* CA file for the gateway ("" = system), an absolute path */
	char region[16];   /* the account's data centre: "global", "eu", "us" ("" unknown) */
	char api_dc[512];  /* its gateway URL ("" = api) */
	int64_t saved_at;  /* unix seconds */
	long ttl;          /* token ttl seconds (0 unknown) */
} blt_cloud_saved_t;

/* The store directory path (not created). BLT_E_CONFIG if neither XDG_STATE_HOME nor
 * HOME is set. */
BLT_API blt_err_t blt_cloud_store_dir(char *out, size_t cap, blt_detail_t *d);
/* Create dir (0700) if needed and write the session, and the PFX + password if pfx !=
 * NULL. */
BLT_API blt_err_t blt_cloud_store_save(const char *dir, const blt_cloud_saved_t *s,
                                       const uint8_t *pfx, size_t pfx_len, const char *pfx_password,
                                       blt_detail_t *d);
/* Load the session; BLT_E_NOT_FOUND "not logged in" if there is none. With pfx != NULL
 * also the PFX (malloc'd; blt_cloud_secret_free) and its password (malloc'd string). */
BLT_API blt_err_t blt_cloud_store_load(const char *dir, blt_cloud_saved_t *s, uint8_t **pfx,
                                       size_t *pfx_len, char **pfx_password, blt_detail_t *d);
/* Remove the files (and the directory if empty). Absent files are fine. */
BLT_API blt_err_t blt_cloud_store_remove(const char *dir, blt_detail_t *d);

/* ---- account session: the store + the handle, as the programs use it ----------------
 * One object does the whole account dance the CLI and the bridge need: it reads the
 * credential store (the saved login), resolves the gateway, its CA and the region, loads
 * the TOTP key, and keeps a blt_cloud_t with the saved token. Every operation renews an
 * expired token at most once (code 805, when a re-login password was given), finds the
 * account's data centre when the sign-in gateway does not serve it (region "auto"), and
 * writes what changed (the new token, the data centre) back to the store (0600, atomic).
 * Nothing secret is logged: the log says what happened ("token renewed and saved in
 * DIR"), never the token, password or TOTP.
 *
 * Where each setting comes from (first that is set wins):
 *   gateway:     opts.api, env BLUETTI_API, the store's (login's), BLT_CLOUD_GW_DEFAULT
 *   gateway CA:  opts.api_ca, env BLUETTI_API_CA, the store's, the system CAs
 *   region:      opts.region, env BLUETTI_REGION, "auto" (then the store's data centre
 *                is used, unless the gateway was overridden)
 *   regions:     opts.region_urls, env BLT_CLOUD_REGIONS_ENV (BLUETTI_API_REGIONS)
 *   TOTP key:    blt_cloud_totp_key_load (env BLUETTI_TOTP_KEY, config file, built-in)
 * A session is used by one thread at a time (the credentials hook included). */
typedef struct blt_cloud_session blt_cloud_session_t;

typedef struct blt_cloud_session_opts {
	const char *store_dir;   /* NULL = blt_cloud_store_dir() */
	const char *api;         /* gateway URL override (see above); NULL = none */
	const char *api_pry;     /* blt_cloud_session_new: second gateway for the PFX */
	const char *api_ca;      /* CA file (PEM) override; saved as an absolute path */
	const char *region;      /* "auto", "global", "eu", "us"; NULL = see above */
	const char *region_urls; /* "eu=URL,us=URL"; NULL = env */
	const char *password;    /* re-login on 805 (e.g. env BLUETTI_PASSWORD); NULL = none.
	                            Only its SHA-256 and passOpen are kept */
	int timeout_ms;          /* per request; 0 = the handle's default (30 s) */
	int connect_timeout_ms;  /* 0 = the handle's default (10 s, at most timeout_ms) */
} blt_cloud_session_opts_t;

/* Open the saved login of the store (no network I/O). BLT_E_NOT_FOUND "not logged in"
 * when there is none, BLT_E_CONFIG for a store others can read (the detail names the
 * chmod); o may be NULL. *out is NULL on failure. */
BLT_API blt_err_t blt_cloud_session_open(const blt_cloud_session_opts_t *o,
                                         blt_cloud_session_t **out, blt_detail_t *d);
/* A session for a new login (the store is not read; no network I/O). */
BLT_API blt_err_t blt_cloud_session_new(const blt_cloud_session_opts_t *o,
                                        blt_cloud_session_t **out, blt_detail_t *d);
/* Log in (POST /accessToken), fetch the user id and save the login in the store (e-mail,
 * token, user id, device id, gateways, absolute CA path, data centre). Errors as
 * blt_cloud_login; blt_cloud_last_error(blt_cloud_session_cloud(s)) says which kind. */
BLT_API blt_err_t blt_cloud_session_login(blt_cloud_session_t *s, const char *email,
                                          const char *password, blt_detail_t *d);
/* Fetch the client certificate (blt_cloud_pfx) and save it and its password in the store;
 * *pfx_len (may be NULL) gets its size. BLT_E_CONFIG when there is no usable TOTP key. */
BLT_API blt_err_t blt_cloud_session_fetch_certificate(blt_cloud_session_t *s, size_t *pfx_len,
                                                      blt_detail_t *d);
/* The cached certificate: *pfx (free with blt_cloud_secret_free(*pfx, *pfx_len)) and its
 * password (NUL-terminated; blt_cloud_secret_free(pw, strlen(pw))); password may be NULL.
 * BLT_E_NOT_FOUND with a detail saying how to get one when the store has none. */
BLT_API blt_err_t blt_cloud_session_certificate(blt_cloud_session_t *s, uint8_t **pfx,
                                                size_t *pfx_len, char **password, blt_detail_t *d);
/* BLT_OK if the session has a usable TOTP key (the broker password and the certificate
 * need one), else BLT_E_CONFIG with a detail saying why and where to set it. */
BLT_API blt_err_t blt_cloud_session_check_key(const blt_cloud_session_t *s, blt_detail_t *d);
/* blt_cloud_devices through the session (token renewal, data centre remembered). */
BLT_API blt_err_t blt_cloud_session_devices(blt_cloud_session_t *s, blt_cloud_device_t *out,
                                            size_t cap, size_t *n, blt_detail_t *d);
/* Find a device by full serial or sub-serial and read its full record
 * (blt_cloud_device_remote): when the record carries a static broker secret it becomes
 * the session's MQTT password (rmt:) and is copied to secret ("" otherwise; secret may be
 * NULL). A gateway without the record call keeps the TOTP; an expired token that cannot
 * be renewed fails (BLT_E_AUTH). BLT_E_NOT_FOUND lists what the account has. */
BLT_API blt_err_t blt_cloud_session_find_device(blt_cloud_session_t *s, const char *sn,
                                                blt_cloud_device_t *dev, char *secret,
                                                size_t secret_cap, blt_detail_t *d);
/* A blt_cred_fn (transport.h) giving every broker (re)connect fresh credentials:
 * blt_transport_on_credentials(t, blt_cloud_session_credentials_hook, session). A
 * renewed token is saved in the store. */
BLT_API int blt_cloud_session_credentials_hook(void *session, char *user, size_t user_cap,
                                               char *password, size_t password_cap,
                                               blt_detail_t *d);
/* The handle (owned by the session): blt_cloud_last_error, blt_cloud_region, the calls
 * the session does not wrap (they renew the token too; a renewed token is saved). */
BLT_API blt_cloud_t *blt_cloud_session_cloud(blt_cloud_session_t *s);
/* What the store holds (kept current by the session; secrets inside: never print the
 * token) and the store directory. Owned by the session. */
BLT_API const blt_cloud_saved_t *blt_cloud_session_saved(const blt_cloud_session_t *s);
BLT_API const char *blt_cloud_session_dir(const blt_cloud_session_t *s);
/* Wipe the secrets and free; NULL is a no-op. */
BLT_API void blt_cloud_session_close(blt_cloud_session_t *s);

#ifdef __cplusplus
}
#endif

#endif
