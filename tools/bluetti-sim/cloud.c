/* bluetti-sim --cloud: a simulated Bluetti account API (PROTOCOL.md §2) for tests and
 * demos. HTTPS (libmicrohttpd) on loopback with a server certificate issued by the test
 * CA; the same endpoints, request and answer shapes, signatures and codes as the real
 * gateway, and strict about what it checks:
 *   POST /accessToken                 SHA-256 password (+ passOpen, when sent, must decrypt
 *                                     to a password with that hash); 20003015 wrong
 *                                     password, 20003006 unknown account
 *   GET  /api/bluuc/uc/v1/basic/get   data.uid
 *   GET  .../group/v1/homeDevices     the --device list with iotSrvIp = --broker-address
 *   GET  .../v2/now/utc-time          data = server ms (string), X-Signature, x-iot-server
 *   POST .../cert/app/v1/pfx          x-app-resource must decrypt (TOTP + signature) to the
 *                                     PFX password; answers the account's PKCS#12
 *   GET  .../deviceRemoteSearch       the device's record (+ iotConnSecret with
 *                                     --conn-secret-file)
 * Every authenticated call checks x-app-key and the token: unknown -> code 401, expired
 * (--token-ttl) -> code 805. Data centres: --region-listen eu=HOST:PORT serves the same
 * API as another gateway of the same cloud (one sign-in, shared tokens); an account held
 * by another data centre (--account-region) gets 805 on every gateway but its own, as
 * the real cloud does (EVIDENCE.md §5). Faults for tests: --bad-signature,
 * --pfx-json-error N, --time-offset MS, --always-805. Logins are counted (the log and the
 * last line). Secrets are never printed. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <bluetti/bluetti.h>
#include <bluetti/cloud.h>

#include "cloud.h"
#include "common.h"

#define PROG         "bluetti-sim --cloud"
#define MAX_ACCOUNTS 16
#define MAX_DEVICES  64
#define MAX_TOKENS   256
#define BODY_CAP     65536

#define MAX_GATEWAYS 3

typedef struct account {
	char email[256];
	char region[16]; /* the data centre holding it: "global" (the --listen one), eu, us */
	char pw_hash[65];
	char uid[32];
	uint8_t *pfx; /* issued on first request, then the same */
	size_t pfx_len;
} account_t;

typedef struct token {
	char text[200];
	int account;
	int64_t expires_ms; /* server time */
} token_t;

typedef struct cloud {
	sim_ca_t ca;
	account_t acc[MAX_ACCOUNTS];
	size_t nacc;
	struct {
		char model[32], sn[64];
	} dev[MAX_DEVICES];
	char conn_secret[128]; /* iotConnSecret of every device record ("" none) */
	bool always_805;
	unsigned long logins;
	size_t ndev;
	char broker[300];
	char totp_key[BLT_CLOUD_TOTP_KEY_LEN + 1];
	char pfx_password[128];
	long token_ttl_s;
	int64_t time_offset_ms;
	bool bad_signature;
	long pfx_json_errors; /* remaining */
	token_t tok[MAX_TOKENS];
	size_t ntok, tok_next;
	int verbose;
	unsigned long requests;
} cloud_t;

/* One gateway (daemon): the cloud it serves and the data centre it is. */
typedef struct gw {
	cloud_t *c;
	char name[16];
	char listen[80];
	struct MHD_Daemon *daemon;
	unsigned port;
} gw_t;

typedef struct req {
	char *body;
	size_t len;
	bool too_big;
} req_t;

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "%s: ", PROG);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int64_t server_ms(const cloud_t *c)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + c->time_offset_ms;
}

static void random_hex(char *out, size_t nbytes)
{
	uint8_t b[64];
	if (nbytes > sizeof b)
		nbytes = sizeof b;
	if (RAND_bytes(b, (int)nbytes) != 1)
		memset(b, 0x5a, nbytes);
	blt_hex_encode(b, nbytes, out, 2 * nbytes + 1);
}

/* ---- answers ----------------------------------------------------------------------- */

static enum MHD_Result send_buf(struct MHD_Connection *conn, unsigned status, const char *type,
                                const void *buf, size_t len, const char *const *hdrs)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(len, (void *)buf, MHD_RESPMEM_MUST_COPY);
	enum MHD_Result ret;
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	for (size_t i = 0; hdrs && hdrs[i]; i += 2)
		MHD_add_response_header(r, hdrs[i], hdrs[i + 1]);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result send_json(struct MHD_Connection *conn, const char *json,
                                 const char *const *hdrs)
{
	return send_buf(conn, MHD_HTTP_OK, "application/json;charset=UTF-8", json, strlen(json),
	                hdrs);
}

static enum MHD_Result send_code(cloud_t *c, struct MHD_Connection *conn, const char *path,
                                 long code, const char *message)
{
	char j[512];
	snprintf(j, sizeof j, "{\"code\":%ld,\"msgCode\":%ld,\"message\":\"%s\",\"data\":null}",
	         code, code, message);
	say("%s -> code %ld (%s)", path, code, message);
	(void)c;
	return send_json(conn, j, NULL);
}

/* ---- helpers ------------------------------------------------------------------------ */

static int hexv(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Value of key in a form-urlencoded body, decoded into out. 0 found, -1 not / too long. */
static int form_get(const char *body, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key);
	const char *p = body;
	while (p && *p) {
		const char *amp = strchr(p, '&');
		const char *end = amp ? amp : p + strlen(p);
		if ((size_t)(end - p) > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			size_t n = 0;
			for (const char *s = p + kl + 1; s < end; s++) {
				int ch = (unsigned char)*s;
				if (ch == '+')
					ch = ' ';
				else if (ch == '%' && s + 2 < end && hexv(s[1]) >= 0 &&
				         hexv(s[2]) >= 0) {
					ch = hexv(s[1]) << 4 | hexv(s[2]);
					s += 2;
				}
				if (n + 1 >= cap)
					return -1;
				out[n++] = (char)ch;
			}
			out[n] = 0;
			return 0;
		}
		p = amp ? amp + 1 : NULL;
	}
	return -1;
}

static const char *hdr(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

/* Authenticated request: returns the account index, or sends the error and returns -1. */
static int auth(cloud_t *c, const char *gw, struct MHD_Connection *conn, const char *path,
                enum MHD_Result *ret, const token_t **tok_out)
{
	const char *key = hdr(conn, "x-app-key"), *tok = hdr(conn, "Authorization");
	if (!key || strcmp(key, BLT_CLOUD_APP_KEY) != 0) {
		*ret = send_code(c, conn, path, 403, "invalid x-app-key");
		return -1;
	}
	if (!tok || !tok[0]) {
		*ret = send_code(c, conn, path, 401, "not logged in");
		return -1;
	}
	if (c->always_805) { /* a gateway that honours no token at all */
		*ret = send_code(c, conn, path, BLT_CLOUD_CODE_TOKEN_EXPIRED,
		                 "token rejected (--always-805)");
		return -1;
	}
	for (size_t i = 0; i < c->ntok; i++)
		if (!strcmp(c->tok[i].text, tok)) {
			if (server_ms(c) >= c->tok[i].expires_ms) {
				*ret = send_code(c, conn, path, BLT_CLOUD_CODE_TOKEN_EXPIRED,
				                 "token expired");
				return -1;
			}
			if (strcmp(c->acc[c->tok[i].account].region, gw) != 0) {
				*ret = send_code(c, conn, path, BLT_CLOUD_CODE_TOKEN_EXPIRED,
				                 "token not valid in this data centre");
				return -1;
			}
			if (tok_out)
				*tok_out = &c->tok[i];
			return c->tok[i].account;
		}
	*ret = send_code(c, conn, path, 401, "invalid token");
	return -1;
}

static void full_sn(const cloud_t *c, size_t i, char *out, size_t cap)
{
	size_t o = 0;
	for (const char *m = c->dev[i].model; *m && o + 1 < cap; m++)
		if (*m != ' ')
			out[o++] = *m;
	snprintf(out + o, cap - o, "%s", c->dev[i].sn);
}

/* The session id the app signs with: the token's second '.'-separated part (§2.7). */
static int token_sid(const char *token, char *sid, size_t cap)
{
	const char *p = strchr(token, '.');
	size_t n;
	if (!p || p == token)
		return -1;
	n = strcspn(++p, ".");
	if (!n || n >= cap)
		return -1;
	memcpy(sid, p, n);
	sid[n] = '\0';
	return 0;
}

/* The passOpen key (§2.3): uppercase hex MD5 of the password field. */
static int pass_open_key(const char *pw_field, char out[33])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int ml = 0;
	if (EVP_Digest(pw_field, strlen(pw_field), md, &ml, EVP_md5(), NULL) != 1 || ml != 16 ||
	    blt_hex_encode(md, ml, out, 33) < 0)
		return -1;
	for (char *q = out; *q; q++)
		if (*q >= 'a' && *q <= 'f')
			*q = (char)(*q - 'a' + 'A');
	return 0;
}

/* --broker-address HOST:PORT ([v6]:PORT): what the device records announce. */
static bool hostport_ok(const char *s)
{
	const char *colon = strrchr(s, ':');
	unsigned long port;
	return colon && colon != s && colon - s < 250 && !strpbrk(s, " \t\r\n\"") &&
	       cli_parse_ulong(colon + 1, 1, 65535, &port) == 0;
}

/* ---- endpoints ---------------------------------------------------------------------- */

static enum MHD_Result ep_login(cloud_t *c, struct MHD_Connection *conn, const req_t *r)
{
	char user[256], pw[128], po[1100], plain[600];
	const char *path = BLT_CLOUD_PATH_LOGIN;
	const char *key = hdr(conn, "x-app-key");
	enum MHD_Result ret;
	size_t n;
	if (!key || strcmp(key, BLT_CLOUD_APP_KEY) != 0)
		return send_code(c, conn, path, 403, "invalid x-app-key");
	if (!r->body || form_get(r->body, "username", user, sizeof user) ||
	    form_get(r->body, "password", pw, sizeof pw))
		return send_code(c, conn, path, 400, "username and password are required");
	int a = -1;
	for (size_t i = 0; i < c->nacc; i++)
		if (!strcasecmp(c->acc[i].email, user))
			a = (int)i;
	if (a < 0) {
		ret = send_code(c, conn, path, BLT_CLOUD_CODE_NO_ACCOUNT, "account does not exist");
		goto out;
	}
	if (strcmp(pw, c->acc[a].pw_hash) != 0) {
		ret = send_code(c, conn, path, BLT_CLOUD_CODE_WRONG_PASSWORD, "password incorrect");
		goto out;
	}
	/* passOpen, when sent, is AES(password) under MD5(password field) (§2.3) */
	if (!form_get(r->body, "passOpen", po, sizeof po) && po[0]) {
		char k[33], h[65];
		if (pass_open_key(pw, k) != 0 ||
		    blt_cloud_aes_decrypt_hex(k, po, (uint8_t *)plain, sizeof plain, &n, NULL) !=
		        0 ||
		    (blt_cloud_password_hash(plain, h), strcmp(h, pw) != 0)) {
			ret = send_code(c, conn, path, 20003001,
			                "passOpen does not match the password");
			goto out;
		}
	}
	{
		token_t *t = &c->tok[c->tok_next];
		char p0[41], p1[33], p2[17], json[600];
		random_hex(p0, 20);
		random_hex(p1, 16);
		random_hex(p2, 8);
		snprintf(t->text, sizeof t->text, "%s.%s.%s", p0, p1, p2);
		t->account = a;
		t->expires_ms = server_ms(c) + (int64_t)c->token_ttl_s * 1000;
		c->tok_next = (c->tok_next + 1) % MAX_TOKENS;
		if (c->ntok < MAX_TOKENS)
			c->ntok++;
		snprintf(json, sizeof json,
		         "{\"code\":0,\"msgCode\":0,\"message\":\"OK\",\"data\":{\"token\":\"%s\","
		         "\"refresh\":\"%s\",\"ttl\":%ld}}",
		         t->text, p2, c->token_ttl_s);
		c->logins++;
		say("%s -> code 0 (account %d, token ttl %ld s, login %lu)", path, a,
		    c->token_ttl_s, c->logins);
		ret = send_json(conn, json, NULL);
		OPENSSL_cleanse(json, sizeof json);
	}
out:
	OPENSSL_cleanse(pw, sizeof pw);
	OPENSSL_cleanse(plain, sizeof plain);
	return ret;
}

static enum MHD_Result ep_uid(cloud_t *c, const char *gw, struct MHD_Connection *conn)
{
	enum MHD_Result ret;
	char j[256];
	int a = auth(c, gw, conn, BLT_CLOUD_PATH_UID, &ret, NULL);
	if (a < 0)
		return ret;
	snprintf(j, sizeof j, "{\"code\":0,\"message\":\"OK\",\"data\":{\"uid\":\"%s\"}}",
	         c->acc[a].uid);
	say("%s -> code 0", BLT_CLOUD_PATH_UID);
	return send_json(conn, j, NULL);
}

static enum MHD_Result ep_devices(cloud_t *c, const char *gw, struct MHD_Connection *conn)
{
	enum MHD_Result ret;
	char *j;
	size_t cap = 512 + c->ndev * 700, n;
	int a = auth(c, gw, conn, BLT_CLOUD_PATH_DEVICES, &ret, NULL);
	if (a < 0)
		return ret;
	j = malloc(cap);
	if (!j)
		return MHD_NO;
	n = (size_t)snprintf(j, cap, "{\"code\":0,\"message\":\"OK\",\"data\":[");
	for (size_t i = 0; i < c->ndev; i++) {
		char iot[340] = "", full[128];
		if (c->broker[0])
			snprintf(iot, sizeof iot, ",\"iotSrvIp\":\"%s\"", c->broker);
		full_sn(c, i, full, sizeof full);
		/* a name with a non-ASCII letter, as users give them ("Küche") */
		n += (size_t)snprintf(
		    j + n, cap - n,
		    "%s{\"sn\":\"%s\",\"model\":\"%s\",\"subSn\":\"%s\","
		    "\"name\":\"Sim \u00dc %s\",\"factoryProtocolVer\":\"2015\","
		    "\"sessionState\":\"Online\",\"netStatus\":1,\"packNum\":1%s}",
		    i ? "," : "", full, c->dev[i].model, c->dev[i].sn, c->dev[i].model, iot);
	}
	snprintf(j + n, cap - n, "]}");
	say("%s -> code 0 (%zu devices)", BLT_CLOUD_PATH_DEVICES, c->ndev);
	ret = send_json(conn, j, NULL);
	free(j);
	return ret;
}

/* deviceRemoteSearch?deviceSn=<full serial> (venus): the record, with iotConnSecret when
 * the simulator has one. */
static enum MHD_Result ep_remote(cloud_t *c, const char *gw, struct MHD_Connection *conn)
{
	enum MHD_Result ret;
	const char *sn = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "deviceSn");
	int a = auth(c, gw, conn, BLT_CLOUD_PATH_REMOTE, &ret, NULL);
	if (a < 0)
		return ret;
	for (size_t i = 0; sn && i < c->ndev; i++) {
		char full[128], j[1200], iot[340] = "", sec[200] = "";
		full_sn(c, i, full, sizeof full);
		if (strcmp(full, sn) != 0)
			continue;
		if (c->broker[0])
			snprintf(iot, sizeof iot, ",\"iotSrvIp\":\"%s\"", c->broker);
		if (c->conn_secret[0])
			snprintf(sec, sizeof sec, ",\"iotConnSecret\":\"%s\"", c->conn_secret);
		snprintf(j, sizeof j,
		         "{\"code\":0,\"message\":\"OK\",\"data\":{\"sn\":\"%s\",\"model\":\"%s\","
		         "\"subSn\":\"%s\"%s%s}}",
		         full, c->dev[i].model, c->dev[i].sn, iot, sec);
		say("%s -> code 0 (%s%s)", BLT_CLOUD_PATH_REMOTE, full,
		    c->conn_secret[0] ? ", with iotConnSecret" : "");
		ret = send_json(conn, j, NULL);
		OPENSSL_cleanse(j, sizeof j);
		OPENSSL_cleanse(sec, sizeof sec);
		return ret;
	}
	return send_code(c, conn, BLT_CLOUD_PATH_REMOTE, 404, "device not found");
}

static enum MHD_Result ep_time(cloud_t *c, const char *gw, struct MHD_Connection *conn)
{
	enum MHD_Result ret;
	const token_t *t = NULL;
	char j[200], sid[200], key[33], sig[600], now[32];
	const char *ver = hdr(conn, "x-app-ver"), *os = hdr(conn, "x-os");
	int a = auth(c, gw, conn, BLT_CLOUD_PATH_TIME, &ret, &t);
	if (a < 0)
		return ret;
	int64_t ms = server_ms(c);
	snprintf(now, sizeof now, "%" PRId64, ms);
	snprintf(j, sizeof j, "{\"code\":0,\"message\":\"OK\",\"data\":\"%s\"}", now);
	if (!ver || !os || token_sid(t->text, sid, sizeof sid) != 0)
		return send_code(c, conn, BLT_CLOUD_PATH_TIME, 400,
		                 "x-app-ver and x-os are required");
	/* X-Signature: the PFX password under sign(server time, this path) (§2.7) */
	blt_cloud_sign((uint64_t)ms, BLT_CLOUD_PATH_TIME, BLT_CLOUD_APP_KEY, ver, os, sid, key);
	if (c->bad_signature)
		snprintf(sig, sizeof sig, "00112233445566778899aabbccddeeff");
	else
		blt_cloud_aes_encrypt_hex(key, (const uint8_t *)c->pfx_password,
		                          strlen(c->pfx_password), sig, sizeof sig);
	const char *h[] = {"X-Signature", sig, "x-iot-server",
	                   c->broker[0] ? c->broker : "iot.bluettipower.com:18760", NULL};
	say("%s -> code 0%s", BLT_CLOUD_PATH_TIME, c->bad_signature ? " (bad X-Signature)" : "");
	ret = send_json(conn, j, h);
	OPENSSL_cleanse(key, sizeof key);
	OPENSSL_cleanse(sig, sizeof sig);
	return ret;
}

/* x-app-resource check: decrypts to the PFX password for a TOTP of the current, the
 * previous or the next 30 s step. */
static bool resource_ok(cloud_t *c, const char *res, const char *uid, const char *devid,
                        const char *ver, const char *os, const char *sid)
{
	int64_t now = server_ms(c);
	for (int step = -1; step <= 1; step++) {
		char totp[9], k[33];
		uint8_t pw[256];
		size_t n;
		if (blt_cloud_totp(uid, devid, now + step * 30000, c->totp_key, totp) != 0)
			return false;
		blt_cloud_sign(strtoull(totp, NULL, 10), BLT_CLOUD_PATH_PFX, BLT_CLOUD_APP_KEY, ver,
		               os, sid, k);
		if (blt_cloud_aes_decrypt_hex(k, res, pw, sizeof pw, &n, NULL) == 0 &&
		    n == strlen(c->pfx_password) && !memcmp(pw, c->pfx_password, n)) {
			OPENSSL_cleanse(pw, sizeof pw);
			return true;
		}
		OPENSSL_cleanse(pw, sizeof pw);
	}
	return false;
}

static enum MHD_Result ep_pfx(cloud_t *c, const char *gw, struct MHD_Connection *conn)
{
	enum MHD_Result ret;
	const token_t *t = NULL;
	char sid[200], err[256];
	const char *res = hdr(conn, "x-app-resource"), *dev = hdr(conn, "x-device-id");
	const char *ver = hdr(conn, "x-app-ver"), *os = hdr(conn, "x-os");
	int a = auth(c, gw, conn, BLT_CLOUD_PATH_PFX, &ret, &t);
	if (a < 0)
		return ret;
	if (c->pfx_json_errors > 0) {
		c->pfx_json_errors--;
		return send_code(c, conn, BLT_CLOUD_PATH_PFX, 500,
		                 "certificate service unavailable");
	}
	if (!res || !dev || !ver || !os)
		return send_code(c, conn, BLT_CLOUD_PATH_PFX, 400,
		                 "x-app-resource, x-device-id, x-app-ver and x-os are required");
	if (token_sid(t->text, sid, sizeof sid) != 0 ||
	    !resource_ok(c, res, c->acc[a].uid, dev, ver, os, sid))
		return send_code(c, conn, BLT_CLOUD_PATH_PFX, 40001,
		                 "x-app-resource check failed (wrong code)");
	account_t *acc = &c->acc[a];
	if (!acc->pfx) {
		char cn[300];
		snprintf(cn, sizeof cn, "bluetti-cloud-user-%s", acc->uid);
		if (sim_client_pfx(&c->ca, cn, c->pfx_password, &acc->pfx, &acc->pfx_len, err,
		                   sizeof err) != 0) {
			say("%s", err);
			return send_code(c, conn, BLT_CLOUD_PATH_PFX, 500,
			                 "certificate issue failed");
		}
	}
	say("%s -> PKCS#12 (%zu bytes) for account %d", BLT_CLOUD_PATH_PFX, acc->pfx_len, a);
	return send_buf(conn, MHD_HTTP_OK, "application/octet-stream", acc->pfx, acc->pfx_len,
	                NULL);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
	gw_t *g = cls;
	cloud_t *c = g->c;
	req_t *r = *con_cls;
	(void)version;
	if (!r) {
		r = calloc(1, sizeof *r);
		if (!r)
			return MHD_NO;
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_size) {
		if (!r->too_big && r->len + *upload_size < BODY_CAP) {
			char *nb = realloc(r->body, r->len + *upload_size + 1);
			if (!nb)
				return MHD_NO;
			r->body = nb;
			memcpy(r->body + r->len, upload, *upload_size);
			r->len += *upload_size;
			r->body[r->len] = 0;
		} else {
			r->too_big = true;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	c->requests++;
	if (r->too_big)
		return send_code(c, conn, url, 413, "request body too large");
	bool get = !strcmp(method, "GET"), post = !strcmp(method, "POST");
	if (post && !strcmp(url, BLT_CLOUD_PATH_LOGIN))
		return ep_login(c, conn, r);
	if (get && !strcmp(url, BLT_CLOUD_PATH_UID))
		return ep_uid(c, g->name, conn);
	if (get && !strcmp(url, BLT_CLOUD_PATH_DEVICES))
		return ep_devices(c, g->name, conn);
	if (get && !strcmp(url, BLT_CLOUD_PATH_TIME))
		return ep_time(c, g->name, conn);
	if (post && !strcmp(url, BLT_CLOUD_PATH_PFX))
		return ep_pfx(c, g->name, conn);
	if (get && !strcmp(url, BLT_CLOUD_PATH_REMOTE))
		return ep_remote(c, g->name, conn);
	say("%s %s -> 404", method, url);
	return send_buf(conn, MHD_HTTP_NOT_FOUND, "application/json",
	                "{\"code\":404,\"message\":\"not found\"}", 35, NULL);
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
	req_t *r = *con_cls;
	(void)cls, (void)conn, (void)toe;
	if (r) {
		if (r->body) {
			OPENSSL_cleanse(r->body, r->len);
			free(r->body);
		}
		free(r);
		*con_cls = NULL;
	}
}

/* ---- options -------------------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: bluetti-sim --cloud --ca-cert CA.pem --ca-key CA.key --account EMAIL\n"
	    "                   --account-password-file F [options]\n\n"
	    "A simulated Bluetti account API (PROTOCOL.md §2) over HTTPS on loopback.\n\n"
	    "      --listen HOST:PORT        address (default 127.0.0.1:0 = a free port)\n"
	    "      --ca-cert F, --ca-key F   CA issuing the HTTPS and client certificates (the\n"
	    "                                CA the test broker trusts: scripts/pki.sh)\n"
	    "      --account EMAIL           an account (repeatable); its password comes from\n"
	    "      --account-password-file F the next --account-password-file (first line)\n"
	    "      --device MODEL:SN         a device of every account (repeatable); its serial\n"
	    "                                is MODEL+SN, its topic serial (subSn) SN\n"
	    "      --broker-address H:P      broker named in iotSrvIp and x-iot-server\n"
	    "      --account-region NAME     the data centre holding the last --account: global\n"
	    "                                (default, the --listen gateway), eu or us; the other\n"
	    "                                gateways answer its tokens with code 805\n"
	    "      --region-listen NAME=H:P  also serve as the NAME (eu, us) gateway on H:P\n"
	    "                                (test/advanced: point BLUETTI_API_REGIONS at it)\n"
	    "      --conn-secret-file F      device records carry iotConnSecret (first line of "
	    "F):\n"
	    "                                the static broker password rmt:<secret>\n"
	    "      --always-805              answer every authenticated call with code 805\n"
	    "      --totp-key-file F         the 12-character §2.8 key (default: env\n"
	    "                                BLUETTI_TOTP_KEY, else the app's public constant)\n"
	    "      --pfx-password-file F     PFX password (default: random per run)\n"
	    "      --token-ttl SECONDS       token lifetime (default 2678400); expired -> 805\n"
	    "      --time-offset MS          server clock minus local clock (default 0)\n"
	    "      --bad-signature           send an X-Signature that does not decrypt\n"
	    "      --pfx-json-error N        answer the first N PFX requests with a JSON error\n"
	    "      --ready-file F            write the port to F once listening (then one line\n"
	    "                                \"NAME PORT\" per --region-listen)\n"
	    "  -h, --help\n");
}

enum {
	O_LISTEN = 0x2000,
	O_CA_CERT,
	O_CA_KEY,
	O_ACCOUNT,
	O_ACCOUNT_PW,
	O_DEVICE,
	O_BROKER,
	O_TOTP_FILE,
	O_PFX_PW_FILE,
	O_TTL,
	O_OFFSET,
	O_BAD_SIG,
	O_PFX_ERR,
	O_READY,
	O_CLOUD,
	O_ACC_REGION,
	O_REGION_LISTEN,
	O_CONN_SECRET,
	O_ALWAYS_805,
};

/* "IPv4:PORT" -> sockaddr. */
static int parse_listen(const char *listen_s, struct sockaddr_in *sa)
{
	char h[64];
	const char *colon = strrchr(listen_s, ':');
	unsigned long port;
	size_t hl = colon ? (size_t)(colon - listen_s) : 0;
	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	if (!colon || hl == 0 || hl >= sizeof h || cli_parse_ulong(colon + 1, 0, 65535, &port))
		return -1;
	memcpy(h, listen_s, hl);
	h[hl] = 0;
	if (!strcmp(h, "localhost"))
		snprintf(h, sizeof h, "127.0.0.1");
	if (inet_pton(AF_INET, h, &sa->sin_addr) != 1)
		return -1;
	sa->sin_port = htons((uint16_t)port);
	return 0;
}

static int read_line_file(const char *path, char *out, size_t cap)
{
	char *s = NULL;
	blt_detail_t d;
	if (cli_secret(path, NULL, NULL, &s, &d) != 0 || !s) {
		say("%s: %s", path, d.text);
		return -1;
	}
	if (strlen(s) + 1 > cap || !s[0]) {
		say("%s: empty or too long", path);
		cli_secret_free(s);
		return -1;
	}
	snprintf(out, cap, "%s", s);
	cli_secret_free(s);
	return 0;
}

/* Command-line settings that configure the program rather than the served cloud. */
typedef struct cloud_args {
	const char *ca_cert, *ca_key, *ready, *listen_s;
	size_t pw_given; /* --account-password-file options seen so far */
	gw_t *gws;       /* gws[0] is the global gateway, then one per --region-listen */
	size_t ngw;
} cloud_args_t;

static int opt_account(cloud_t *c, const char *arg)
{
	if (c->nacc == MAX_ACCOUNTS || strlen(arg) >= sizeof c->acc[0].email || !strchr(arg, '@') ||
	    strpbrk(arg, "\"\\")) {
		say("--account '%s': not an e-mail address (or too many accounts)", arg);
		return 2;
	}
	snprintf(c->acc[c->nacc].email, sizeof c->acc[0].email, "%s", arg);
	snprintf(c->acc[c->nacc].uid, sizeof c->acc[0].uid, "%zu", 1000001 + c->nacc);
	snprintf(c->acc[c->nacc].region, sizeof c->acc[0].region, "global");
	c->nacc++;
	return 0;
}

static int opt_account_password(cloud_t *c, cloud_args_t *a, const char *path)
{
	char pw[256];
	if (a->pw_given >= c->nacc) {
		say("--account-password-file must follow its --account");
		return 2;
	}
	if (read_line_file(path, pw, sizeof pw))
		return 2;
	blt_cloud_password_hash(pw, c->acc[a->pw_given++].pw_hash);
	OPENSSL_cleanse(pw, sizeof pw);
	return 0;
}

static int opt_device(cloud_t *c, const char *arg)
{
	const char *colon = strchr(arg, ':');
	size_t ml = colon ? (size_t)(colon - arg) : 0;
	if (c->ndev == MAX_DEVICES || !colon || ml == 0 || ml >= sizeof c->dev[0].model ||
	    !colon[1] || strlen(colon + 1) >= sizeof c->dev[0].sn || strpbrk(arg, "\"\\/#+") ||
	    arg[0] == ' ' || colon[-1] == ' ') {
		say("--device '%s': expected MODEL:SN", arg);
		return 2;
	}
	memcpy(c->dev[c->ndev].model, arg, ml);
	snprintf(c->dev[c->ndev].sn, sizeof c->dev[0].sn, "%s", colon + 1);
	c->ndev++;
	return 0;
}

static int opt_time_offset(cloud_t *c, const char *arg)
{
	char *end;
	errno = 0;
	long long o = strtoll(arg, &end, 10);
	if (errno || *end || !*arg || o < -100000000000LL || o > 100000000000LL) {
		say("--time-offset '%s': expected milliseconds", arg);
		return 2;
	}
	c->time_offset_ms = o;
	return 0;
}

static int opt_account_region(cloud_t *c, const char *arg)
{
	if (!c->nacc || (strcmp(arg, "global") && strcmp(arg, "eu") && strcmp(arg, "us"))) {
		say("--account-region '%s': global, eu or us, after its --account", arg);
		return 2;
	}
	snprintf(c->acc[c->nacc - 1].region, sizeof c->acc[0].region, "%s", arg);
	return 0;
}

static int opt_region_listen(cloud_args_t *a, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct sockaddr_in tmp;
	if (a->ngw == MAX_GATEWAYS || !eq || (strncmp(arg, "eu=", 3) && strncmp(arg, "us=", 3)) ||
	    parse_listen(eq + 1, &tmp) != 0) {
		say("--region-listen '%s': expected eu=IPv4:PORT or us=IPv4:PORT", arg);
		return 2;
	}
	snprintf(a->gws[a->ngw].name, sizeof a->gws[0].name, "%.2s", arg);
	snprintf(a->gws[a->ngw].listen, sizeof a->gws[0].listen, "%s", eq + 1);
	a->ngw++;
	return 0;
}

static int opt_conn_secret(cloud_t *c, const char *path)
{
	if (read_line_file(path, c->conn_secret, sizeof c->conn_secret))
		return 2;
	if (strpbrk(c->conn_secret, "\"\\")) {
		say("--conn-secret-file: no quotes or backslashes, please");
		return 2;
	}
	return 0;
}

static int opt_bounded_long(const char *name, const char *what, const char *arg, unsigned long max,
                            long *out)
{
	unsigned long v;
	if (cli_parse_ulong(arg, 0, max, &v)) {
		say("--%s '%s': expected %s", name, arg, what);
		return 2;
	}
	*out = (long)v;
	return 0;
}

/* Applies one option: -1 to go on, otherwise the exit status (0 after --help). */
static int cloud_option(int opt, const char *arg, cloud_t *c, cloud_args_t *a)
{
	int bad = 0;
	switch (opt) {
	case O_LISTEN: a->listen_s = arg; break;
	case O_CA_CERT: a->ca_cert = arg; break;
	case O_CA_KEY: a->ca_key = arg; break;
	case O_ACCOUNT: bad = opt_account(c, arg); break;
	case O_ACCOUNT_PW: bad = opt_account_password(c, a, arg); break;
	case O_DEVICE: bad = opt_device(c, arg); break;
	case O_BROKER:
		if (!hostport_ok(arg)) {
			say("--broker-address '%s': expected HOST:PORT", arg);
			return 2;
		}
		snprintf(c->broker, sizeof c->broker, "%s", arg);
		break;
	case O_TOTP_FILE: bad = read_line_file(arg, c->totp_key, sizeof c->totp_key); break;
	case O_PFX_PW_FILE:
		bad = read_line_file(arg, c->pfx_password, sizeof c->pfx_password);
		break;
	case O_TTL:
		bad = opt_bounded_long("token-ttl", "seconds", arg, 100000000, &c->token_ttl_s);
		break;
	case O_OFFSET: bad = opt_time_offset(c, arg); break;
	case O_BAD_SIG: c->bad_signature = true; break;
	case O_PFX_ERR:
		bad = opt_bounded_long("pfx-json-error", "a count", arg, 1000000,
		                       &c->pfx_json_errors);
		break;
	case O_READY: a->ready = arg; break;
	case O_ACC_REGION: bad = opt_account_region(c, arg); break;
	case O_REGION_LISTEN: bad = opt_region_listen(a, arg); break;
	case O_CONN_SECRET: bad = opt_conn_secret(c, arg); break;
	case O_ALWAYS_805: c->always_805 = true; break;
	case O_CLOUD: break;
	case 'v': c->verbose++; break;
	case 'h': usage(stdout); return 0;
	default: usage(stderr); return 2;
	}
	return bad ? 2 : -1;
}

/* Parses the command line: -1 to go on, otherwise the exit status. */
static int cloud_parse_args(int argc, char **argv, cloud_t *c, cloud_args_t *a)
{
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, O_LISTEN},
	    {"ca-cert", required_argument, NULL, O_CA_CERT},
	    {"ca-key", required_argument, NULL, O_CA_KEY},
	    {"account", required_argument, NULL, O_ACCOUNT},
	    {"account-password-file", required_argument, NULL, O_ACCOUNT_PW},
	    {"device", required_argument, NULL, O_DEVICE},
	    {"broker-address", required_argument, NULL, O_BROKER},
	    {"totp-key-file", required_argument, NULL, O_TOTP_FILE},
	    {"pfx-password-file", required_argument, NULL, O_PFX_PW_FILE},
	    {"token-ttl", required_argument, NULL, O_TTL},
	    {"time-offset", required_argument, NULL, O_OFFSET},
	    {"bad-signature", no_argument, NULL, O_BAD_SIG},
	    {"pfx-json-error", required_argument, NULL, O_PFX_ERR},
	    {"ready-file", required_argument, NULL, O_READY},
	    {"account-region", required_argument, NULL, O_ACC_REGION},
	    {"region-listen", required_argument, NULL, O_REGION_LISTEN},
	    {"conn-secret-file", required_argument, NULL, O_CONN_SECRET},
	    {"always-805", no_argument, NULL, O_ALWAYS_805},
	    {"cloud", no_argument, NULL, O_CLOUD},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int opt, rc;

	optind = 1;
	opterr = 1;
	while ((opt = cli_getopt_long(argc, argv, "vh", opts, NULL)) != -1)
		if ((rc = cloud_option(opt, optarg, c, a)) >= 0)
			return rc;
	if (optind < argc) {
		say("unexpected argument '%s'", argv[optind]);
		return 2;
	}
	return -1;
}

/* Checks the options together and fills in defaults: -1 to go on, otherwise 2. */
static int cloud_check_args(cloud_t *c, cloud_args_t *a)
{
	if (!a->ca_cert || !a->ca_key) {
		say("--ca-cert and --ca-key are required (the test CA of scripts/pki.sh)");
		return 2;
	}
	if (!c->nacc || a->pw_given != c->nacc) {
		say("every --account needs an --account-password-file");
		return 2;
	}
	if (!c->totp_key[0]) {
		const char *k = getenv(BLT_CLOUD_TOTP_KEY_ENV);
		snprintf(c->totp_key, sizeof c->totp_key, "%s",
		         k && k[0] ? k : BLT_CLOUD_TOTP_KEY_DEFAULT);
	}
	if (strlen(c->totp_key) != BLT_CLOUD_TOTP_KEY_LEN) {
		say("the TOTP key must have 12 characters (--totp-key-file F or env "
		    "BLUETTI_TOTP_KEY)");
		return 2;
	}
	if (!c->pfx_password[0])
		random_hex(c->pfx_password, 12);

	snprintf(a->gws[0].name, sizeof a->gws[0].name, "global");
	snprintf(a->gws[0].listen, sizeof a->gws[0].listen, "%s", a->listen_s);
	for (size_t i = 0; i < a->ngw; i++) {
		struct sockaddr_in tmp;
		a->gws[i].c = c;
		if (parse_listen(a->gws[i].listen, &tmp) != 0) {
			say("--listen '%s': expected IPv4:PORT", a->gws[i].listen);
			return 2;
		}
	}
	return -1;
}

/* Starts one HTTPS daemon per gateway and records its bound port. */
static int start_gateways(cloud_t *c, cloud_args_t *a, const char *cert_pem, const char *key_pem)
{
	for (size_t i = 0; i < a->ngw; i++) {
		gw_t *g = &a->gws[i];
		struct sockaddr_in sa;
		parse_listen(g->listen, &sa);
		g->daemon = MHD_start_daemon(
		    MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_TLS | MHD_USE_ERROR_LOG, 0, NULL,
		    NULL, handler, g, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_HTTPS_MEM_KEY, key_pem,
		    MHD_OPTION_HTTPS_MEM_CERT, cert_pem, MHD_OPTION_NOTIFY_COMPLETED, completed, c,
		    MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
		if (!g->daemon) {
			say("cannot listen on %s", g->listen);
			return -1;
		}
		const union MHD_DaemonInfo *info =
		    MHD_get_daemon_info(g->daemon, MHD_DAEMON_INFO_BIND_PORT);
		g->port = info ? info->port : 0;
		say("%s gateway listening on https://127.0.0.1:%u", g->name, g->port);
	}
	return 0;
}

/* Writes the ports (global first, then "NAME PORT" per region) atomically. */
static int write_ready_file(const cloud_args_t *a)
{
	char tmp[4096];
	FILE *f;
	if (!a->ready)
		return 0;
	snprintf(tmp, sizeof tmp, "%s.tmp", a->ready);
	f = fopen(tmp, "w");
	bool wok = f && fprintf(f, "%u\n", a->gws[0].port) >= 0;
	for (size_t i = 1; wok && i < a->ngw; i++)
		wok = fprintf(f, "%s %u\n", a->gws[i].name, a->gws[i].port) >= 0;
	if (!f || !wok || fclose(f) != 0 || rename(tmp, a->ready) != 0) {
		say("--ready-file '%s': %s", a->ready, strerror(errno));
		return -1;
	}
	return 0;
}

static void cloud_teardown(cloud_t *c, const cloud_args_t *a, char *cert_pem, char *key_pem, int rc)
{
	for (size_t i = 0; i < a->ngw; i++)
		if (a->gws[i].daemon)
			MHD_stop_daemon(a->gws[i].daemon);
	if (a->ready && rc == 0)
		unlink(a->ready);
	for (size_t i = 0; i < c->nacc; i++)
		blt_cloud_secret_free(c->acc[i].pfx, c->acc[i].pfx_len);
	if (key_pem)
		blt_cloud_secret_free(key_pem, strlen(key_pem));
	free(cert_pem);
	sim_ca_free(&c->ca);
	OPENSSL_cleanse(c, sizeof *c);
}

int sim_cloud_main(int argc, char **argv)
{
	static cloud_t cl; /* large */
	static gw_t gws[MAX_GATEWAYS];
	cloud_t *c = &cl;
	cloud_args_t a = {.listen_s = "127.0.0.1:0", .gws = gws, .ngw = 1};
	char err[300];
	char *cert_pem = NULL, *key_pem = NULL;
	int rc;

	memset(c, 0, sizeof *c);
	memset(gws, 0, sizeof gws);
	c->token_ttl_s = 2678400;
	if ((rc = cloud_parse_args(argc, argv, c, &a)) >= 0 || (rc = cloud_check_args(c, &a)) >= 0)
		return rc;
	if (!MHD_is_feature_supported(MHD_FEATURE_TLS)) {
		say("this libmicrohttpd has no TLS support");
		return 1;
	}
	rc = 1;
	if (sim_ca_load(&c->ca, a.ca_cert, a.ca_key, err, sizeof err) != 0 ||
	    sim_server_cert(&c->ca, &cert_pem, &key_pem, err, sizeof err) != 0) {
		say("%s", err);
		goto out;
	}
	if (start_gateways(c, &a, cert_pem, key_pem) != 0)
		goto out;
	say("%zu account(s), %zu device(s), token ttl %ld s%s", c->nacc, c->ndev, c->token_ttl_s,
	    c->always_805 ? ", every token refused (805)" : "");
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (write_ready_file(&a) != 0)
		goto out;
	while (!stop_signal) {
		struct timespec ts = {0, 100 * 1000000L};
		nanosleep(&ts, NULL);
	}
	say("stopping after %lu request(s), %lu login(s)", c->requests, c->logins);
	rc = 0;
out:
	cloud_teardown(c, &a, cert_pem, key_pem, rc);
	return rc;
}
