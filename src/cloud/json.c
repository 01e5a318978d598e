/* Parsers of the gateway's JSON answers (PROTOCOL.md §2.3-§2.6). Untrusted input: every
 * field is type-checked and length-checked before it is copied. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include <bluetti/cloud.h>

#include "cloud/cloud_internal.h"

int blt_cloud_fail_err(blt_cloud_fail_t kind)
{
	switch (kind) {
	case BLT_CLOUD_OK: return BLT_OK;
	case BLT_CLOUD_WRONG_PASSWORD:
	case BLT_CLOUD_UNKNOWN_ACCOUNT:
	case BLT_CLOUD_LOGIN_REFUSED:
	case BLT_CLOUD_TOKEN_EXPIRED:
	case BLT_CLOUD_NOT_LOGGED_IN: return BLT_E_AUTH;
	case BLT_CLOUD_NETWORK: return BLT_E_CONNECT;
	case BLT_CLOUD_TIMEOUT: return BLT_E_TIMEOUT;
	case BLT_CLOUD_TLS: return BLT_E_TLS;
	case BLT_CLOUD_HTTP_STATUS:
	case BLT_CLOUD_SERVER_CODE:
	case BLT_CLOUD_MALFORMED:
	case BLT_CLOUD_BAD_SIGNATURE: return BLT_E_PROTOCOL;
	case BLT_CLOUD_NO_TOTP_KEY: return BLT_E_CONFIG;
	case BLT_CLOUD_BAD_CERT: return BLT_E_CERT;
	case BLT_CLOUD_NOT_FOUND: return BLT_E_NOT_FOUND;
	case BLT_CLOUD_INTERNAL: return BLT_E_INVAL;
	}
	return BLT_E_INVAL;
}

const char *blt_cloud_fail_name(blt_cloud_fail_t kind)
{
	switch (kind) {
	case BLT_CLOUD_OK: return "ok";
	case BLT_CLOUD_WRONG_PASSWORD: return "wrong password";
	case BLT_CLOUD_UNKNOWN_ACCOUNT: return "unknown account";
	case BLT_CLOUD_LOGIN_REFUSED: return "login refused";
	case BLT_CLOUD_TOKEN_EXPIRED: return "token expired";
	case BLT_CLOUD_NOT_LOGGED_IN: return "not logged in";
	case BLT_CLOUD_NETWORK: return "network error";
	case BLT_CLOUD_TIMEOUT: return "timeout";
	case BLT_CLOUD_TLS: return "TLS error";
	case BLT_CLOUD_HTTP_STATUS: return "HTTP error status";
	case BLT_CLOUD_SERVER_CODE: return "server error code";
	case BLT_CLOUD_MALFORMED: return "malformed answer";
	case BLT_CLOUD_BAD_SIGNATURE: return "bad signature";
	case BLT_CLOUD_NO_TOTP_KEY: return "TOTP key not configured";
	case BLT_CLOUD_BAD_CERT: return "unusable certificate";
	case BLT_CLOUD_NOT_FOUND: return "device not found";
	case BLT_CLOUD_INTERNAL: return "internal error";
	}
	return "unknown failure";
}

int blt_cloud_fail(blt_cloud_error_t *e, blt_detail_t *d, blt_cloud_fail_t kind, const char *fmt,
                   ...)
{
	if (e)
		e->kind = kind;
	if (d) {
		va_list ap;
		va_start(ap, fmt);
		blt_detail_vset(d, 0, fmt, ap);
		va_end(ap);
	}
	return blt_cloud_fail_err(kind);
}

/* Copy a server string: control characters become '?', truncated to cap-1. */
static void copy_clean(char *dst, size_t cap, const char *src)
{
	size_t i = 0;
	if (!cap)
		return;
	for (; src && src[i] && i + 1 < cap; i++) {
		unsigned char ch = (unsigned char)src[i];
		dst[i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	dst[i] = '\0';
}

/* A number or a numeric string as int64. */
static bool json_int(const cJSON *j, int64_t *out)
{
	if (cJSON_IsNumber(j)) {
		double v = j->valuedouble;
		if (v != v || v < -9.2e18 || v > 9.2e18)
			return false;
		*out = (int64_t)v;
		return true;
	}
	if (cJSON_IsString(j) && j->valuestring && j->valuestring[0]) {
		char *end;
		errno = 0;
		long long v = strtoll(j->valuestring, &end, 10);
		if (errno || *end)
			return false;
		*out = v;
		return true;
	}
	return false;
}

static cJSON *parse_root(const char *body, size_t len, blt_cloud_error_t *e, blt_detail_t *d,
                         int *err)
{
	cJSON *root;
	if (!body || !len) {
		*err = blt_cloud_fail(e, d, BLT_CLOUD_MALFORMED, "empty answer (expected JSON)");
		return NULL;
	}
	root = cJSON_ParseWithLength(body, len);
	if (!root) {
		*err = blt_cloud_fail(e, d, BLT_CLOUD_MALFORMED,
		                      "answer is not valid JSON (%zu bytes)", len);
		return NULL;
	}
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		*err =
		    blt_cloud_fail(e, d, BLT_CLOUD_MALFORMED, "answer is JSON but not an object");
		return NULL;
	}
	return root;
}

/* Check code/msgCode; fills e->server_code/message. 0 = success. */
static int envelope(cJSON *root, blt_cloud_error_t *e, blt_detail_t *d)
{
	const cJSON *jc = cJSON_GetObjectItemCaseSensitive(root, "code");
	const cJSON *jm = cJSON_GetObjectItemCaseSensitive(root, "msgCode");
	const cJSON *msg = cJSON_GetObjectItemCaseSensitive(root, "message");
	int64_t code = 0;
	bool have = false;
	if (jc && !cJSON_IsNull(jc)) {
		if (!json_int(jc, &code))
			return blt_cloud_fail(e, d, BLT_CLOUD_MALFORMED,
			                      "\"code\" is not a number");
		have = true;
	}
	if ((!have || code == 0) && jm && !cJSON_IsNull(jm)) {
		int64_t c2;
		if (!json_int(jm, &c2))
			return blt_cloud_fail(e, d, BLT_CLOUD_MALFORMED,
			                      "\"msgCode\" is not a number");
		if (!have || c2 != 0)
			code = c2;
		have = true;
	}
	if (!have)
		return blt_cloud_fail(e, d, BLT_CLOUD_MALFORMED,
		                      "answer has neither \"code\" nor \"msgCode\"");
	if (e) {
		e->server_code = (long)code;
		e->server_message[0] = '\0';
		if (cJSON_IsString(msg))
			copy_clean(e->server_message, sizeof e->server_message, msg->valuestring);
	}
	if (code == 0)
		return BLT_OK;
	char m[160] = "";
	if (cJSON_IsString(msg))
		copy_clean(m, sizeof m, msg->valuestring);
	if (code == BLT_CLOUD_CODE_TOKEN_EXPIRED)
		return blt_cloud_fail(e, d, BLT_CLOUD_TOKEN_EXPIRED,
		                      "token expired (server code 805%s%s)", m[0] ? ": " : "", m);
	return blt_cloud_fail(e, d, BLT_CLOUD_SERVER_CODE, "server code %" PRId64 "%s%s", code,
	                      m[0] ? ": " : "", m);
}

int blt_cloud_parse_status(const char *body, size_t len, blt_cloud_error_t *e, blt_detail_t *d)
{
	int err = 0;
	cJSON *root = parse_root(body, len, e, d, &err);
	if (!root)
		return err;
	err = envelope(root, e, d);
	cJSON_Delete(root);
	return err;
}

static bool contains_ci(const char *hay, const char *needle)
{
	return hay && strcasestr(hay, needle) != NULL;
}

int blt_cloud_parse_login(const char *body, size_t len, char *token, size_t token_cap, long *ttl,
                          blt_cloud_error_t *e, blt_detail_t *d)
{
	int err = 0;
	cJSON *root = parse_root(body, len, e, d, &err);
	if (!root)
		return err;
	err = envelope(root, e, d);
	if (err && (!e || e->kind == BLT_CLOUD_SERVER_CODE)) {
		blt_cloud_error_t tmp = {0};
		blt_cloud_error_t *x = e ? e : &tmp;
		const char *m = x->server_message;
		long c = x->server_code;
		if (c == BLT_CLOUD_CODE_NO_ACCOUNT || contains_ci(m, "not exist") ||
		    contains_ci(m, "not registered") || contains_ci(m, "no such account"))
			err = blt_cloud_fail(e, d, BLT_CLOUD_UNKNOWN_ACCOUNT,
			                     "account does not exist (server code %ld%s%s)", c,
			                     m[0] ? ": " : "", m);
		else if (c == BLT_CLOUD_CODE_WRONG_PASSWORD || contains_ci(m, "password") ||
		         contains_ci(m, "incorrect"))
			err = blt_cloud_fail(e, d, BLT_CLOUD_WRONG_PASSWORD,
			                     "wrong password (server code %ld%s%s)", c,
			                     m[0] ? ": " : "", m);
		else
			err = blt_cloud_fail(e, d, BLT_CLOUD_LOGIN_REFUSED,
			                     "login refused (server code %ld%s%s)", c,
			                     m[0] ? ": " : "", m);
	}
	if (err)
		goto out;
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
	const cJSON *tok = cJSON_GetObjectItemCaseSensitive(data, "token");
	const cJSON *jt = cJSON_GetObjectItemCaseSensitive(data, "ttl");
	if (!cJSON_IsObject(data)) {
		err = blt_cloud_fail(e, d, BLT_CLOUD_MALFORMED,
		                     "login answer has no \"data\" object");
		goto out;
	}
	if (!cJSON_IsString(tok) || !tok->valuestring[0]) {
		err = blt_cloud_fail(e, d, BLT_CLOUD_MALFORMED, "login answer has no data.token");
		goto out;
	}
	size_t tl = strlen(tok->valuestring);
	if (tl + 1 > token_cap) {
		err =
		    blt_cloud_fail(e, d, BLT_CLOUD_MALFORMED,
		                   "data.token is %zu characters (at most %zu)", tl, token_cap - 1);
		goto out;
	}
	char p0[8], p1[8];
	for (size_t i = 0; i < tl; i++) {
		unsigned char ch = (unsigned char)tok->valuestring[i];
		if (ch <= 0x20 || ch >= 0x7f) {
			err = blt_cloud_fail(e, d, BLT_CLOUD_MALFORMED,
			                     "data.token has a non-printable character");
			goto out;
		}
	}
	if (blt_cloud_token_parts(tok->valuestring, p0, 0, p1, 0) != BLT_OK) {
		err = blt_cloud_fail(e, d, BLT_CLOUD_MALFORMED,
		                     "data.token has fewer than two '.'-separated parts");
		goto out;
	}
	memcpy(token, tok->valuestring, tl + 1);
	if (ttl) {
		int64_t v = 0;
		*ttl = 2678400; /* battery-ha's default: 31 days */
		if (jt && json_int(jt, &v) && v > 0 && v < (int64_t)10 * 365 * 86400)
			*ttl = (long)v;
	}
out:
	cJSON_Delete(root);
	return err;
}

int blt_cloud_parse_uid(const char *body, size_t len, char *uid, size_t cap, blt_cloud_error_t *e,
                        blt_detail_t *d)
{
	int err = 0;
	cJSON *root = parse_root(body, len, e, d, &err);
	if (!root)
		return err;
	err = envelope(root, e, d);
	if (!err) {
		const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
		const cJSON *u = cJSON_GetObjectItemCaseSensitive(data, "uid");
		char num[32];
		const char *s = NULL;
		if (cJSON_IsString(u))
			s = u->valuestring;
		else if (cJSON_IsNumber(u) && u->valuedouble >= 0 && u->valuedouble < 9e18) {
			snprintf(num, sizeof num, "%" PRId64, (int64_t)u->valuedouble);
			s = num;
		}
		if (!s || !s[0])
			err = blt_cloud_fail(e, d, BLT_CLOUD_MALFORMED, "answer has no data.uid");
		else if (strlen(s) + 1 > cap)
			err = blt_cloud_fail(e, d, BLT_CLOUD_MALFORMED, "data.uid is too long");
		else
			copy_clean(uid, cap, s);
	}
	cJSON_Delete(root);
	return err;
}

int blt_cloud_parse_time(const char *body, size_t len, int64_t *ms, blt_cloud_error_t *e,
                         blt_detail_t *d)
{
	int err = 0;
	cJSON *root = parse_root(body, len, e, d, &err);
	if (!root)
		return err;
	err = envelope(root, e, d);
	if (!err) {
		const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
		int64_t v;
		/* 2001-09-09 .. 2286: rules out seconds-instead-of-ms and garbage */
		if (!json_int(data, &v))
			err = blt_cloud_fail(e, d, BLT_CLOUD_MALFORMED,
			                     "server time: data is not a number or numeric string");
		else if (v < 1000000000000LL || v > 9999999999999LL)
			err = blt_cloud_fail(
			    e, d, BLT_CLOUD_MALFORMED,
			    "server time %" PRId64 " is not a plausible time in ms", v);
		else
			*ms = v;
	}
	cJSON_Delete(root);
	return err;
}

int blt_cloud_parse_hostport(const char *s, char *host, size_t cap, uint16_t *port)
{
	const char *hs = s, *he, *colon = NULL;
	unsigned long p = BLT_CLOUD_BROKER_PORT;
	if (!s || !*s)
		return -1;
	if (!strncmp(s, "ssl://", 6) || !strncmp(s, "tls://", 6))
		hs = s += 6;
	if (*s == '[') {
		he = strchr(s, ']');
		if (!he)
			return -1;
		hs = s + 1;
		if (he[1] == ':')
			colon = he + 1;
		else if (he[1])
			return -1;
	} else {
		colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':'))
			return -1;
		he = colon ? colon : s + strlen(s);
	}
	if (colon) {
		char *end;
		errno = 0;
		p = strtoul(colon + 1, &end, 10);
		if (errno || *end || end == colon + 1 || p == 0 || p > 65535)
			return -1;
	}
	size_t hl = (size_t)(he - hs);
	if (hl == 0 || hl + 1 > cap)
		return -1;
	for (size_t i = 0; i < hl; i++)
		if (!isalnum((unsigned char)hs[i]) && !strchr(".-_:", hs[i]))
			return -1;
	memcpy(host, hs, hl);
	host[hl] = '\0';
	*port = (uint16_t)p;
	return 0;
}

static void str_field(const cJSON *o, const char *name, char *dst, size_t cap)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);
	dst[0] = '\0';
	if (cJSON_IsString(j))
		copy_clean(dst, cap, j->valuestring);
	else if (cJSON_IsNumber(j))
		snprintf(dst, cap, "%.0f", j->valuedouble);
}

int blt_cloud_parse_devices(const char *body, size_t len, blt_cloud_device_t *out, size_t cap,
                            size_t *n, const char *default_broker, blt_cloud_error_t *e,
                            blt_detail_t *d)
{
	int err = 0;
	size_t count = 0, i = 0;
	cJSON *root = parse_root(body, len, e, d, &err);
	if (!root)
		return err;
	*n = 0;
	err = envelope(root, e, d);
	if (err)
		goto out;
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
	if (cJSON_IsObject(data)) /* the findDevicePage shape */
		data = cJSON_GetObjectItemCaseSensitive(data, "deviceList");
	if (!cJSON_IsArray(data)) {
		err =
		    blt_cloud_fail(e, d, BLT_CLOUD_MALFORMED, "device list: data is not an array");
		goto out;
	}
	const cJSON *it;
	cJSON_ArrayForEach(it, data)
	{
		blt_cloud_device_t dv;
		char tmp[256];
		if (!cJSON_IsObject(it)) {
			err = blt_cloud_fail(e, d, BLT_CLOUD_MALFORMED,
			                     "device list: entry %zu is not an object", i);
			goto out;
		}
		memset(&dv, 0, sizeof dv);
		str_field(it, "sn", dv.sn, sizeof dv.sn);
		str_field(it, "model", dv.model, sizeof dv.model);
		str_field(it, "subSn", dv.sub_sn, sizeof dv.sub_sn);
		str_field(it, "name", dv.name, sizeof dv.name);
		if (!dv.sn[0] || !dv.model[0]) {
			err = blt_cloud_fail(e, d, BLT_CLOUD_MALFORMED,
			                     "device list: entry %zu lacks \"sn\" or \"model\"", i);
			goto out;
		}
		/* subSn absent: the serial is model + subSn (§2.10 example) */
		if (!dv.sub_sn[0]) {
			size_t ml = strlen(dv.model);
			snprintf(dv.sub_sn, sizeof dv.sub_sn, "%s",
			         !strncmp(dv.sn, dv.model, ml) && dv.sn[ml] ? dv.sn + ml : dv.sn);
		}
		str_field(it, "sessionState", tmp, sizeof tmp);
		dv.online = !strcasecmp(tmp, "online");
		str_field(it, "factoryProtocolVer", tmp, sizeof tmp);
		if (!tmp[0])
			str_field(it, "protocolVer", tmp, sizeof tmp);
		dv.protocol_ver = (unsigned)strtoul(tmp, NULL, 10);
		str_field(it, "iotSrvIp", tmp, sizeof tmp);
		if (!tmp[0] || blt_cloud_parse_hostport(tmp, dv.broker_host, sizeof dv.broker_host,
		                                        &dv.broker_port) != 0) {
			if (!default_broker ||
			    blt_cloud_parse_hostport(default_broker, dv.broker_host,
			                             sizeof dv.broker_host, &dv.broker_port) != 0) {
				snprintf(dv.broker_host, sizeof dv.broker_host, "%s",
				         BLT_CLOUD_BROKER_HOST);
				dv.broker_port = BLT_CLOUD_BROKER_PORT;
			}
		}
		if (count < cap)
			out[count] = dv;
		count++;
		i++;
	}
	*n = count;
	if (count > cap)
		err = blt_cloud_fail(e, d, BLT_CLOUD_INTERNAL,
		                     "the account lists %zu devices, room for %zu", count, cap);
out:
	cJSON_Delete(root);
	if (err == BLT_E_INVAL && count > cap)
		err = BLT_E_BUFSIZE;
	return err;
}

int blt_cloud_token_parts(const char *token, char *p0, size_t c0, char *p1, size_t c1)
{
	const char *dot, *dot2;
	size_t l0, l1;
	if (!token)
		return BLT_E_INVAL;
	dot = strchr(token, '.');
	if (!dot || dot == token)
		return BLT_E_INVAL;
	dot2 = strchr(dot + 1, '.');
	l0 = (size_t)(dot - token);
	l1 = dot2 ? (size_t)(dot2 - dot - 1) : strlen(dot + 1);
	if (l1 == 0)
		return BLT_E_INVAL;
	if (c0 == 0 && c1 == 0)
		return BLT_OK; /* validation only */
	if (l0 + 1 > c0 || l1 + 1 > c1)
		return BLT_E_BUFSIZE;
	memcpy(p0, token, l0);
	p0[l0] = '\0';
	memcpy(p1, dot + 1, l1);
	p1[l1] = '\0';
	return BLT_OK;
}

int blt_cloud_parse_remote(const char *body, size_t len, blt_cloud_device_t *dev, char *secret,
                           size_t cap, blt_cloud_error_t *e, blt_detail_t *d)
{
	int err = 0;
	char tmp[256];
	cJSON *root;
	if (cap)
		secret[0] = '\0';
	root = parse_root(body, len, e, d, &err);
	if (!root)
		return err;
	err = envelope(root, e, d);
	if (err)
		goto out;
	const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data");
	if (!cJSON_IsObject(data)) {
		err = blt_cloud_fail(e, d, BLT_CLOUD_MALFORMED,
		                     "deviceRemoteSearch: data is not an object");
		goto out;
	}
	str_field(data, "model", tmp, sizeof tmp);
	if (tmp[0] && strlen(tmp) < sizeof dev->model) /* checked: copy with the NUL */
		memcpy(dev->model, tmp, strlen(tmp) + 1);
	str_field(data, "subSn", tmp, sizeof tmp);
	if (tmp[0] && strlen(tmp) < sizeof dev->sub_sn)
		memcpy(dev->sub_sn, tmp, strlen(tmp) + 1);
	str_field(data, "iotSrvIp", tmp, sizeof tmp);
	{
		char h[sizeof dev->broker_host];
		uint16_t p;
		if (tmp[0] && blt_cloud_parse_hostport(tmp, h, sizeof h, &p) == 0) {
			snprintf(dev->broker_host, sizeof dev->broker_host, "%s", h);
			dev->broker_port = p;
		}
	}
	const cJSON *sec = cJSON_GetObjectItemCaseSensitive(data, "iotConnSecret");
	if (cJSON_IsString(sec) && sec->valuestring && sec->valuestring[0]) {
		size_t n = strlen(sec->valuestring);
		bool ok = n < cap;
		for (size_t i = 0; ok && i < n; i++)
			ok = (unsigned char)sec->valuestring[i] > 0x20 &&
			     (unsigned char)sec->valuestring[i] < 0x7f;
		if (!ok) {
			err = blt_cloud_fail(e, d, BLT_CLOUD_MALFORMED,
			                     "deviceRemoteSearch: iotConnSecret is too long or not "
			                     "printable");
			goto out;
		}
		memcpy(secret, sec->valuestring, n + 1);
	}
out:
	cJSON_Delete(root);
	return err;
}
