/* bluetti-bridge configuration: INI file (libinih) -> br_config_t, validated as a whole.
 *
 * Every problem is reported with file, line, section and key; parsing goes on after an
 * error so one run lists them all. libinih does not pass line numbers to the handler, so
 * the file is fed to it line by line through our own reader, which counts the lines,
 * records section headers (duplicates, empty sections) and rejects over-long lines. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <bluetti/ble.h>
#include <bluetti/bluetti.h>
#include <bluetti/cloud.h>
#include <bluetti/transport.h>

#include "br_account.h"
#include "bridge.h"
#include "common.h"

#define LINE_MAX_LEN 1024

typedef struct parser {
	br_config_t *c;
	br_errors_t *errs;
	const char *name; /* file name for messages */
	const char *p, *end;
	int line;             /* line last handed to inih */
	char section[160];    /* last section header seen by the reader */
	br_device_cfg_t *cur; /* device of the current section (NULL otherwise) */
	/* keys seen per section, for duplicate detection: "section\0key" hashes are overkill
	 * for a few dozen keys; a flat list is enough */
	struct seen {
		char section[160];
		char key[64];
		int line;
	} seen[512];
	size_t nseen;
	struct sect {
		char name[160];
		int line;
	} * sects; /* grown per section, at most BR_MAX_DEVICES + 8 */
	size_t nsects, sectcap;
	int upstream_line, down_line, account_line;
} parser_t;

static void add_error_at(br_errors_t *e, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_error_at(br_errors_t *e, int line, const char *fmt, ...)
{
	va_list ap;
	if (!e)
		return;
	if (e->n >= BR_MAX_ERRORS) {
		e->dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(e->msg[e->n], sizeof e->msg[0], fmt, ap);
	va_end(ap);
	e->line[e->n++] = line;
}
#define add_error(e, ...) add_error_at(e, 0, __VA_ARGS__)

/* Report in file order (validation runs after parsing). Insertion sort: stable. */
static void sort_errors(br_errors_t *e)
{
	for (size_t i = 1; e && i < e->n; i++) {
		for (size_t k = i; k > 0 && e->line[k - 1] > e->line[k]; k--) {
			char tmp[sizeof e->msg[0]];
			int tl = e->line[k];
			memcpy(tmp, e->msg[k], sizeof tmp);
			memcpy(e->msg[k], e->msg[k - 1], sizeof tmp);
			memcpy(e->msg[k - 1], tmp, sizeof tmp);
			e->line[k] = e->line[k - 1];
			e->line[k - 1] = tl;
		}
	}
}

/* "file:line: [section] key: message" */
static void perr(parser_t *ps, int line, const char *section, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void perr(parser_t *ps, int line, const char *section, const char *key, const char *fmt, ...)
{
	char msg[240];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (key)
		add_error_at(ps->errs, line, "%s:%d: [%s] %s: %s", ps->name, line, section, key,
		             msg);
	else if (section)
		add_error_at(ps->errs, line, "%s:%d: [%s]: %s", ps->name, line, section, msg);
	else
		add_error_at(ps->errs, line, "%s:%d: %s", ps->name, line, msg);
}

int br_log_level_parse(const char *s)
{
	static const struct {
		const char *name;
		int level;
	} names[] = {
	    {"error", BLT_LOG_ERROR},  {"err", BLT_LOG_ERROR}, {"warn", BLT_LOG_WARN},
	    {"warning", BLT_LOG_WARN}, {"info", BLT_LOG_INFO}, {"notice", BLT_LOG_INFO},
	    {"debug", BLT_LOG_DEBUG},  {"0", BLT_LOG_ERROR},   {"1", BLT_LOG_WARN},
	    {"2", BLT_LOG_INFO},       {"3", BLT_LOG_DEBUG},
	};
	for (size_t i = 0; s && i < sizeof names / sizeof names[0]; i++)
		if (!strcasecmp(s, names[i].name))
			return names[i].level;
	return -1;
}

const char *br_log_level_name(int level)
{
	switch (level) {
	case BLT_LOG_ERROR: return "error";
	case BLT_LOG_WARN: return "warn";
	case BLT_LOG_INFO: return "info";
	case BLT_LOG_DEBUG: return "debug";
	}
	return "?";
}

bool br_topic_ok(const char *t)
{
	size_t n;
	/* '$' topics ($SYS/...) are the broker's: it drops what clients publish there. */
	if (!t || !*t || *t == '/' || *t == '$')
		return false;
	n = strlen(t);
	if (n > 128 || t[n - 1] == '/')
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)t[i];
		if (ch == '+' || ch == '#' || ch < 0x20 || ch == 0x7f)
			return false;
		if (ch == '/' && t[i + 1] == '/')
			return false;
	}
	return true;
}

/* ---- value parsers ------------------------------------------------------------------- */

static bool parse_bool(const char *v, bool *out)
{
	static const char *yes[] = {"true", "yes", "on", "1"}, *no[] = {"false", "no", "off", "0"};
	for (size_t i = 0; i < 4; i++) {
		if (!strcasecmp(v, yes[i])) {
			*out = true;
			return true;
		}
		if (!strcasecmp(v, no[i])) {
			*out = false;
			return true;
		}
	}
	return false;
}

static bool parse_int(const char *v, long lo, long hi, int *out)
{
	char *end;
	long n;
	if (!*v)
		return false;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end || n < lo || n > hi)
		return false;
	*out = (int)n;
	return true;
}

static bool copy(char *dst, size_t cap, const char *v)
{
	size_t n = strlen(v);
	if (n >= cap)
		return false;
	memcpy(dst, v, n + 1);
	return true;
}

/* ---- keys ---------------------------------------------------------------------------- */

enum ktype { K_STR, K_BOOL, K_INT, K_LEVEL };

typedef struct key {
	const char *name;
	enum ktype type;
	size_t off, size; /* K_STR: char array; K_BOOL: bool; K_INT/K_LEVEL: int */
	long lo, hi;
	const char *help;
} key_t_;

#define MQ(f) offsetof(br_mqtt_cfg_t, f), sizeof(((br_mqtt_cfg_t *)0)->f)
#define DV(f) offsetof(br_device_cfg_t, f), sizeof(((br_device_cfg_t *)0)->f)
#define CF(f) offsetof(br_config_t, f), sizeof(((br_config_t *)0)->f)

/* Keys shared by both broker sections (offsets into br_mqtt_cfg_t). */
static const key_t_ mqtt_keys[] = {
    {"host", K_STR, MQ(host), 0, 0, "broker host name or address"},
    {"port", K_INT, MQ(port), 1, 65535, "broker port"},
    {"tls", K_BOOL, MQ(tls), 0, 0, "use TLS"},
    {"ca", K_STR, MQ(ca), 0, 0, "CA bundle (PEM)"},
    {"cert", K_STR, MQ(cert), 0, 0, "client certificate and key (PKCS#12)"},
    {"cert_password_file", K_STR, MQ(cert_password_file), 0, 0, "PKCS#12 password file"},
    {"tls_name", K_STR, MQ(tls_name), 0, 0, "name expected in the server certificate"},
    {"insecure", K_BOOL, MQ(insecure), 0, 0, "do not verify the server"},
    {"ciphers", K_STR, MQ(ciphers), 0, 0,
     "OpenSSL cipher string for this broker (default: DEFAULT:@SECLEVEL=0 for the Bluetti "
     "cloud, OpenSSL's defaults otherwise)"},
    {"username", K_STR, MQ(user), 0, 0, "MQTT user name"},
    {"user", K_STR, MQ(user), 0, 0, "MQTT user name"},
    {"password_file", K_STR, MQ(password_file), 0, 0, "MQTT password file"},
    {"client_id", K_STR, MQ(client_id), 0, 0, "MQTT client id"},
    {"keepalive", K_INT, MQ(keepalive_s), 5, 3600, "MQTT keepalive (s)"},
    {"reconnect_delay", K_INT, MQ(reconnect_delay_s), 1, 3600,
     "wait before reconnecting after a drop (s, jittered between half and all)"},
};

static const key_t_ bridge_keys[] = {
    {"log_level", K_LEVEL, CF(log_level), 0, 0, "error, warn, info or debug"},
    {"offline_after", K_INT, CF(offline_after), 1, 100,
     "failed requests in a row before a device is offline"},
    {"backoff_max", K_INT, CF(backoff_max_s), 5, 3600, "longest wait between probes (s)"},
};

static const key_t_ ha_keys[] = {
    {"base_topic", K_STR, CF(base_topic), 0, 0, "base topic"},
    {"discovery_prefix", K_STR, CF(discovery_prefix), 0, 0, "discovery prefix"},
    {"discovery", K_BOOL, CF(discovery), 0, 0, "publish discovery documents"},
};

static const key_t_ device_keys[] = {
    {"name", K_STR, DV(name), 0, 0, "friendly name"},
    {"profile", K_STR, DV(profile_name), 0, 0, "device profile"},
    {"sn", K_STR, DV(sn), 0, 0, "serial number"},
    {"model", K_STR, DV(model), 0, 0, "model code in topics"},
    {"preset", K_STR, DV(preset), 0, 0, "wire preset"},
    {"slave", K_INT, DV(slave), 0, 247, "Modbus slave address"},
    {"timeout", K_INT, DV(timeout_ms), 100, 60000, "request timeout (ms)"},
    {"retries", K_INT, DV(retries), 0, 5, "extra attempts per request"},
    {"controls", K_BOOL, DV(controls), 0, 0, "expose switches, selects and numbers"},
    {"all_entities", K_BOOL, DV(all_entities), 0, 0,
     "enable per-cell, per-sensor and last_seen entities by default in Home Assistant"},
    {"allow_unverified", K_BOOL, DV(allow_unverified), 0, 0,
     "allow writes of settings marked unverified"},
    {"enabled", K_BOOL, DV(enabled), 0, 0, "poll this device"},
    {"transport", K_STR, DV(transport), 0, 0, "cloud (default) or ble"},
    {"address", K_STR, DV(address), 0, 0, "Bluetooth address (transport = ble)"},
    {"adapter", K_STR, DV(adapter), 0, 0, "Bluetooth adapter (default hci0)"},
    {"ble_test_key", K_STR, DV(ble_test_key), 0, 0,
     "TEST ONLY: a simulator's device verify key file"},
};

static const key_t_ *find_key(const key_t_ *keys, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

static void set_key(parser_t *ps, const char *section, const key_t_ *k, void *base,
                    const char *value)
{
	char *dst = (char *)base + k->off;
	switch (k->type) {
	case K_STR:
		if (!copy(dst, k->size, value))
			perr(ps, ps->line, section, k->name,
			     "value too long (at most %zu characters)", k->size - 1);
		return;
	case K_BOOL:
		if (!parse_bool(value, (bool *)dst))
			perr(ps, ps->line, section, k->name,
			     "'%s' is not a boolean (true/false, yes/no, on/off, 1/0)", value);
		return;
	case K_INT: {
		int n;
		if (!parse_int(value, k->lo, k->hi, &n)) {
			perr(ps, ps->line, section, k->name, "'%s' is not an integer in %ld..%ld",
			     value, k->lo, k->hi);
			return;
		}
		*(int *)(void *)dst = n;
		return;
	}
	case K_LEVEL: {
		int lv = br_log_level_parse(value);
		if (lv < 0)
			perr(ps, ps->line, section, k->name,
			     "'%s' is not a log level (error, warn, info, debug)", value);
		else
			*(int *)(void *)dst = lv;
		return;
	}
	}
}

/* Section "device NAME" -> NAME (trimmed) or NULL. */
static const char *device_section(const char *section, char *buf, size_t cap)
{
	const char *p;
	size_t n;
	if (strncasecmp(section, "device", 6) != 0 || !isspace((unsigned char)section[6]))
		return NULL;
	p = section + 6;
	while (isspace((unsigned char)*p))
		p++;
	n = strlen(p);
	while (n && isspace((unsigned char)p[n - 1]))
		n--;
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

static bool is_ha_section(const char *s)
{
	return !strcasecmp(s, "homeassistant") || !strcasecmp(s, "downstream") ||
	       !strcasecmp(s, "mqtt");
}

static br_device_cfg_t *find_device(br_config_t *c, const char *id)
{
	for (size_t i = 0; i < c->ndev; i++)
		if (!strcmp(c->dev[i].id, id))
			return &c->dev[i];
	return NULL;
}

static void device_defaults(br_device_cfg_t *d)
{
	memset(d, 0, sizeof *d);
	d->slave = -1;
	d->timeout_ms = 3000;
	d->retries = 0;
	d->controls = true;
	d->enabled = true;
}

/* A section header seen by the reader. */
static void on_section(parser_t *ps, const char *name)
{
	char id[160];
	for (size_t i = 0; i < ps->nsects; i++) {
		if (!strcasecmp(ps->sects[i].name, name)) {
			perr(ps, ps->line, name, NULL, "section given twice (first at line %d)",
			     ps->sects[i].line);
			break;
		}
	}
	if (ps->nsects == ps->sectcap && ps->sectcap < BR_MAX_DEVICES + 8) {
		size_t ncap = ps->sectcap ? 2 * ps->sectcap : 16;
		struct sect *ns;
		if (ncap > BR_MAX_DEVICES + 8)
			ncap = BR_MAX_DEVICES + 8;
		ns = realloc(ps->sects, ncap * sizeof *ns);
		if (ns) {
			ps->sects = ns;
			ps->sectcap = ncap;
		}
	}
	if (ps->nsects < ps->sectcap) {
		snprintf(ps->sects[ps->nsects].name, sizeof ps->sects[0].name, "%s", name);
		ps->sects[ps->nsects++].line = ps->line;
	}
	if (device_section(name, id, sizeof id)) {
		br_device_cfg_t *d;
		if (!blt_topic_segment_ok(id) || !strcmp(id, "bridge")) {
			perr(ps, ps->line, name, NULL,
			     "device name '%s' must be 1-64 letters, digits, '.', '_' or '-' (used "
			     "in "
			     "topics) and not 'bridge'",
			     id);
			return;
		}
		if (find_device(ps->c, id))
			return; /* reported above */
		if (ps->c->ndev >= BR_MAX_DEVICES) {
			perr(ps, ps->line, name, NULL, "too many devices (at most %d)",
			     BR_MAX_DEVICES);
			return;
		}
		if (ps->c->ndev == ps->c->devcap) {
			size_t ncap = ps->c->devcap ? 2 * ps->c->devcap : 8;
			br_device_cfg_t *nd = realloc(ps->c->dev, ncap * sizeof *nd);
			if (!nd) {
				perr(ps, ps->line, name, NULL, "out of memory");
				return;
			}
			ps->c->dev = nd;
			ps->c->devcap = ncap;
		}
		d = &ps->c->dev[ps->c->ndev++];
		memset(d, 0, sizeof *d);
		device_defaults(d);
		copy(d->id, sizeof d->id, id); /* <= 64 characters: checked above */
		d->line = ps->line;
	} else if (!strcasecmp(name, "upstream")) {
		ps->upstream_line = ps->line;
	} else if (is_ha_section(name)) {
		ps->down_line = ps->line;
	} else if (strcasecmp(name, "bridge") != 0) {
		perr(ps, ps->line, name, NULL,
		     "unknown section (expected [bridge], [upstream], [homeassistant] or "
		     "[device NAME])");
	}
}

/* inih reader: one line per call, counting lines, seeing section headers. */
static char *reader(char *str, int num, void *stream)
{
	parser_t *ps = stream;
	const char *nl;
	size_t n, take;
	if (ps->p >= ps->end)
		return NULL;
	nl = memchr(ps->p, '\n', (size_t)(ps->end - ps->p));
	n = nl ? (size_t)(nl - ps->p) + 1 : (size_t)(ps->end - ps->p);
	ps->line++;
	take = n;
	/* characters of the line, without its "\n" / "\r\n" */
	size_t chars = n;
	if (chars && ps->p[chars - 1] == '\n')
		chars--;
	if (chars && ps->p[chars - 1] == '\r')
		chars--;
	if (memchr(ps->p, '\0', n)) {
		perr(ps, ps->line, NULL, NULL, "NUL byte in the file");
		take = 0;
	} else if (num < 4 || chars > (size_t)num - 3 || chars > LINE_MAX_LEN) {
		perr(ps, ps->line, NULL, NULL, "line too long (at most %d characters)",
		     num - 3 < LINE_MAX_LEN ? num - 3 : LINE_MAX_LEN);
		take = 0;
	}
	if (take) {
		/* Section header: "[name]" after optional blanks. */
		const char *s = ps->p, *e = ps->p + n;
		while (s < e && isspace((unsigned char)*s))
			s++;
		if (s < e && *s == '[') {
			const char *close = memchr(s, ']', (size_t)(e - s));
			if (close) {
				char name[160];
				size_t ln = (size_t)(close - s - 1);
				const char *b = s + 1;
				while (ln && isspace((unsigned char)*b)) {
					b++;
					ln--;
				}
				while (ln && isspace((unsigned char)b[ln - 1]))
					ln--;
				if (ln >= sizeof name)
					ln = sizeof name - 1;
				memcpy(name, b, ln);
				name[ln] = '\0';
				snprintf(ps->section, sizeof ps->section, "%s", name);
				on_section(ps, name);
			}
		}
		memcpy(str, ps->p, take);
		str[take] = '\0';
	} else {
		memcpy(str, "#\n", 3); /* reported; let inih skip it */
	}
	ps->p += n;
	return str;
}

static bool seen_before(parser_t *ps, const char *section, const char *key)
{
	for (size_t i = 0; i < ps->nseen; i++) {
		if (!strcasecmp(ps->seen[i].section, section) &&
		    !strcasecmp(ps->seen[i].key, key)) {
			perr(ps, ps->line, section, key, "given twice (first at line %d)",
			     ps->seen[i].line);
			return true;
		}
	}
	if (ps->nseen < sizeof ps->seen / sizeof ps->seen[0]) {
		snprintf(ps->seen[ps->nseen].section, sizeof ps->seen[0].section, "%s", section);
		snprintf(ps->seen[ps->nseen].key, sizeof ps->seen[0].key, "%s", key);
		ps->seen[ps->nseen++].line = ps->line;
	}
	return false;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	parser_t *ps = user;
	br_config_t *c = ps->c;
	const key_t_ *k;
	char id[160];

	if (!value)
		value = "";
	if (!*section) {
		perr(ps, ps->line, NULL, NULL, "'%s' outside of any section", name);
		return 1;
	}
	if (seen_before(ps, section, name))
		return 1;
	if (!strcasecmp(section, "bridge")) {
		k = find_key(bridge_keys, sizeof bridge_keys / sizeof bridge_keys[0], name);
		if (k) {
			set_key(ps, section, k, c, value);
			return 1;
		}
	} else if (!strcasecmp(section, "upstream")) {
		if (!strcasecmp(name, "account")) {
			ps->account_line = ps->line;
			if (!copy(c->account, sizeof c->account, value))
				perr(ps, ps->line, section, name, "value too long");
			return 1;
		}
		k = find_key(mqtt_keys, sizeof mqtt_keys / sizeof mqtt_keys[0], name);
		if (k) {
			set_key(ps, section, k, &c->up, value);
			return 1;
		}
	} else if (is_ha_section(section)) {
		k = find_key(ha_keys, sizeof ha_keys / sizeof ha_keys[0], name);
		if (k) {
			set_key(ps, section, k, c, value);
			return 1;
		}
		k = find_key(mqtt_keys, sizeof mqtt_keys / sizeof mqtt_keys[0], name);
		if (k) {
			set_key(ps, section, k, &c->down, value);
			return 1;
		}
	} else if (device_section(section, id, sizeof id)) {
		br_device_cfg_t *d = find_device(c, id);
		if (!d)
			return 1; /* bad section name, reported at the header */
		if (!strncasecmp(name, "poll_", 5)) {
			br_poll_cfg_t *pc;
			int n;
			if (d->npoll >= BR_MAX_GROUPS) {
				perr(ps, ps->line, section, name, "too many poll_ keys");
				return 1;
			}
			if (!parse_int(value, 0, 86400, &n)) {
				perr(ps, ps->line, section, name,
				     "'%s' is not an interval in seconds (1..86400, 0 = off)",
				     value);
				return 1;
			}
			pc = &d->poll[d->npoll++];
			snprintf(pc->group, sizeof pc->group, "%s", name + 5);
			pc->interval_s = n;
			pc->line = ps->line;
			return 1;
		}
		k = find_key(device_keys, sizeof device_keys / sizeof device_keys[0], name);
		if (k) {
			set_key(ps, section, k, d, value);
			return 1;
		}
	} else {
		return 1; /* unknown section: reported once at its header */
	}
	perr(ps, ps->line, section, name, "unknown key");
	return 1;
}

/* ---- validation ---------------------------------------------------------------------- */

static int section_line(parser_t *ps, const char *name)
{
	for (size_t i = 0; i < ps->nsects; i++)
		if (!strcasecmp(ps->sects[i].name, name))
			return ps->sects[i].line;
	return 0;
}

static int key_line(parser_t *ps, const char *section, const char *key)
{
	for (size_t i = 0; i < ps->nseen; i++)
		if (!strcasecmp(ps->seen[i].section, section) && !strcasecmp(ps->seen[i].key, key))
			return ps->seen[i].line;
	return 0;
}

static const char *down_section(parser_t *ps)
{
	static const char *names[] = {"homeassistant", "downstream", "mqtt"};
	for (size_t i = 0; i < 3; i++)
		if (section_line(ps, names[i]))
			return names[i];
	return "homeassistant";
}

static void validate_mqtt(parser_t *ps, br_mqtt_cfg_t *m, const char *section, bool upstream)
{
	int sl = section_line(ps, section);
	if (!m->host[0])
		perr(ps, sl, section, "host", "is required");
	if (m->port == 0)
		m->port = m->tls ? (upstream ? 18760 : 8883) : 1883;
	if (!m->tls) {
		static const char *tls_only[] = {"ca",       "cert",     "cert_password_file",
		                                 "tls_name", "insecure", "ciphers"};
		for (size_t i = 0; i < sizeof tls_only / sizeof tls_only[0]; i++) {
			int kl = key_line(ps, section, tls_only[i]);
			if (kl)
				perr(ps, kl, section, tls_only[i],
				     "only meaningful with tls = true");
		}
	}
	m->cloud = upstream && blt_broker_is_bluetti(m->host);
	if (m->tls && m->ciphers[0]) {
		/* the same check blt_mqtt_new makes, so --check-config catches a typo */
		SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
		if (ctx && SSL_CTX_set_cipher_list(ctx, m->ciphers) != 1)
			perr(ps, key_line(ps, section, "ciphers"), section, "ciphers",
			     "'%s' is not a cipher string OpenSSL accepts", m->ciphers);
		SSL_CTX_free(ctx);
		ERR_clear_error();
	}
	if (upstream && m->tls && !m->cert[0])
		perr(ps, sl, section, "cert",
		     "is required: the Bluetti broker needs a client certificate (PKCS#12)");
	if (m->client_id[0]) {
		for (const char *p = m->client_id; *p; p++)
			if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e) {
				perr(ps, key_line(ps, section, "client_id"), section, "client_id",
				     "only printable ASCII without spaces");
				break;
			}
	}
}

/* transport / address / adapter / ble_test_key of a device section. */
static void br_validate_transport(parser_t *ps, br_device_cfg_t *d, const char *section)
{
	bool ble = !strcmp(d->transport, "ble") || !strcmp(d->transport, "auto");
	if (!d->transport[0])
		snprintf(d->transport, sizeof d->transport, "cloud");
	if (!ble && strcmp(d->transport, "cloud") != 0)
		perr(ps, key_line(ps, section, "transport"), section, "transport",
		     "'%s' is not a transport (cloud, ble or auto)", d->transport);
	if (ble && !d->address[0])
		perr(ps, d->line, section, "address",
		     "is required with transport = %s (see `bluetti scan`)", d->transport);
	else if (d->address[0] && blt_ble_address_ok(d->address) != BLT_OK)
		perr(ps, key_line(ps, section, "address"), section, "address",
		     "'%s' is not a Bluetooth address (AA:BB:CC:DD:EE:FF)", d->address);
	if (!ble && (d->address[0] || d->adapter[0] || d->ble_test_key[0]))
		perr(ps, key_line(ps, section, d->address[0] ? "address" : "adapter"), section,
		     d->address[0] ? "address" : "adapter", "needs transport = ble or auto");
	if (d->adapter[0] && strchr(d->adapter, '/'))
		perr(ps, key_line(ps, section, "adapter"), section, "adapter",
		     "'%s' is not an adapter name (e.g. hci0)", d->adapter);
}

static void validate_device(parser_t *ps, br_device_cfg_t *d)
{
	char section[160];
	const blt_wire_preset_t *preset;
	snprintf(section, sizeof section, "device %s", d->id);

	if (!d->sn[0])
		perr(ps, d->line, section, "sn", "is required (the serial number in the topics)");
	else if (!blt_topic_segment_ok(d->sn))
		perr(ps, key_line(ps, section, "sn"), section, "sn",
		     "'%s' is not a valid serial (letters, digits, '.', '_', '-')", d->sn);
	if (d->profile_name[0]) {
		d->profile = blt_profile_find(d->profile_name);
		if (!d->profile) {
			char list[200] = "";
			size_t o = 0;
			for (size_t i = 0; i <= blt_profile_count() && o < sizeof list; i++) {
				const blt_profile_t *p = blt_profile_at(i);
				if (!p)
					break;
				o += (size_t)snprintf(list + o, sizeof list - o, "%s%s",
				                      o ? ", " : "", p->id);
			}
			perr(ps, key_line(ps, section, "profile"), section, "profile",
			     "unknown profile '%s' (known: %s)", d->profile_name, list);
		}
	} else if (d->model[0]) {
		d->profile = blt_profile_for_model(d->model); /* cloud code aliases, else generic */
	} else if (ps->c->account[0]) {
		return; /* model and profile from the account's device list (load_account) */
	} else {
		perr(ps, d->line, section, "profile",
		     "is required (e.g. EL100V2; or give model = for the generic profile)");
	}
	if (d->profile && !d->model[0]) {
		if (d->profile->model)
			snprintf(d->model, sizeof d->model, "%s", d->profile->model);
		else
			perr(ps, d->line, section, "model",
			     "is required with the generic profile (the model code in the topics)");
	}
	if (d->model[0] && !blt_topic_model_ok(d->model))
		perr(ps, key_line(ps, section, "model"), section, "model",
		     "'%s' is not a valid topic segment (printable, spaces inside allowed, no '/', "
		     "'+', '#')",
		     d->model);
	br_validate_transport(ps, d, section);
	if (!d->preset[0] && d->profile)
		snprintf(d->preset, sizeof d->preset, "%s",
		         !strcmp(d->transport, "ble") ? "ble"
		         : d->profile->preset         ? d->profile->preset
		                                      : "v2");
	preset = blt_wire_preset_find(d->preset);
	if (d->preset[0] && !preset)
		perr(ps, key_line(ps, section, "preset"), section, "preset",
		     "unknown wire preset '%s' (v2, seed, legacy)", d->preset);
	if (!d->name[0]) {
		if (d->profile && d->profile != blt_profile_generic())
			snprintf(d->name, sizeof d->name, "%s %s", d->profile->name, d->id);
		else
			snprintf(d->name, sizeof d->name, "Bluetti %s", d->id);
	}
	for (const char *p = d->name; *p; p++)
		if ((unsigned char)*p < 0x20) {
			perr(ps, key_line(ps, section, "name"), section, "name",
			     "control characters are not allowed");
			break;
		}
	if (!d->profile)
		return;
	/* Group intervals: the profile's, overridden by poll_<group>. */
	for (size_t g = 0; g < d->profile->ngroups && g < BR_MAX_GROUPS; g++)
		d->interval_s[g] = d->profile->groups[g].interval_s;
	for (size_t i = 0; i < d->npoll; i++) {
		size_t g;
		for (g = 0; g < d->profile->ngroups && g < BR_MAX_GROUPS; g++)
			if (!strcasecmp(d->profile->groups[g].name, d->poll[i].group))
				break;
		if (g < d->profile->ngroups && g < BR_MAX_GROUPS) {
			d->interval_s[g] = d->poll[i].interval_s;
		} else {
			char list[200] = "";
			size_t o = 0;
			for (size_t k = 0; k < d->profile->ngroups && o < sizeof list; k++)
				o += (size_t)snprintf(list + o, sizeof list - o, "%s%s",
				                      k ? ", " : "", d->profile->groups[k].name);
			char key[48];
			snprintf(key, sizeof key, "poll_%s", d->poll[i].group);
			perr(ps, d->poll[i].line, section, key,
			     "profile %s has no group '%s' (groups: %s)", d->profile->id,
			     d->poll[i].group, list);
		}
	}
}

/* Every device talks Bluetooth (transport = ble): the bridge needs no upstream broker. */
static bool br_all_ble(const br_config_t *c)
{
	for (size_t i = 0; i < c->ndev; i++)
		if (strcmp(c->dev[i].transport, "ble") != 0)
			return false;
	return c->ndev > 0;
}

static void validate(parser_t *ps)
{
	br_config_t *c = ps->c;
	const char *ds = down_section(ps);

	if (c->account[0]) {
		/* Broker, certificate and login come from the account's cached login. */
		static const char *from_account[] = {
		    "host",     "port", "tls",          "cert", "cert_password_file",
		    "username", "user", "password_file"};
		for (size_t i = 0; i < sizeof from_account / sizeof from_account[0]; i++) {
			int kl = key_line(ps, "upstream", from_account[i]);
			if (kl)
				perr(ps, kl, "upstream", from_account[i],
				     "comes from the account (account = at line %d); remove it",
				     ps->account_line);
		}
		if (!strchr(c->account, '@'))
			perr(ps, ps->account_line, "upstream", "account",
			     "'%s' is not an e-mail address (the account of `bluetti login`)",
			     c->account);
	} else if (!section_line(ps, "upstream") && br_all_ble(c)) {
		c->up.host[0] = '\0'; /* every device over Bluetooth: no broker needed */
	} else {
		validate_mqtt(ps, &c->up, "upstream", true);
	}
	if (!section_line(ps, "upstream") && !br_all_ble(c))
		perr(ps, 1, NULL, NULL,
		     "no [upstream] section (the Bluetti broker to poll through; only a "
		     "configuration whose devices all use transport = ble can do without)");
	validate_mqtt(ps, &c->down, ds, false);
	if (!br_topic_ok(c->base_topic))
		perr(ps, key_line(ps, ds, "base_topic"), ds, "base_topic",
		     "'%s' is not a valid topic (no wildcards, empty levels, leading/trailing "
		     "'/' or leading '$')",
		     c->base_topic);
	if (!br_topic_ok(c->discovery_prefix))
		perr(ps, key_line(ps, ds, "discovery_prefix"), ds, "discovery_prefix",
		     "'%s' is not a valid topic (no wildcards, empty levels, leading/trailing "
		     "'/' or leading '$')",
		     c->discovery_prefix);
	if (c->ndev == 0)
		perr(ps, ps->line ? ps->line : 1, NULL, NULL,
		     "no [device NAME] section: nothing to bridge");
	for (size_t i = 0; i < c->ndev; i++) {
		validate_device(ps, &c->dev[i]);
		for (size_t j = 0; j < i; j++) {
			if (c->dev[i].sn[0] && !strcmp(c->dev[i].sn, c->dev[j].sn) &&
			    !strcmp(c->dev[i].model, c->dev[j].model)) {
				char section[160];
				snprintf(section, sizeof section, "device %s", c->dev[i].id);
				perr(ps, key_line(ps, section, "sn"), section, "sn",
				     "serial %s is already used by [device %s]", c->dev[i].sn,
				     c->dev[j].id);
			}
		}
	}
}

/* ---- secrets ------------------------------------------------------------------------- */

static void load_secret(parser_t *ps, const char *section, const char *key, const char *file,
                        const char *env, char **out, char *src, size_t srccap)
{
	blt_detail_t d = {{0}};
	int err;
	snprintf(src, srccap, "none");
	if (!file[0] && !(env && getenv(env) && *getenv(env)))
		return;
	err = cli_secret(file[0] ? file : NULL, env, NULL, out, &d);
	if (err) {
		/* a path in the configuration file is no secret (on a command line it may be) */
		if (file[0])
			perr(ps, key_line(ps, section, key), section, key, "%s: %s", file, d.text);
		else
			perr(ps, key_line(ps, section, key), section, key, "%s", d.text);
		return;
	}
	if (file[0])
		snprintf(src, srccap, "file %s", file);
	else
		snprintf(src, srccap, "environment %s", env);
}

static void load_secrets(parser_t *ps, br_mqtt_cfg_t *m, const char *section, const char *pw_env,
                         const char *cert_pw_env)
{
	blt_detail_t d = {{0}};
	if (m->tls && m->cert[0]) {
		if (cli_read_file(m->cert, &m->pfx, &m->pfx_len, &d) != BLT_OK)
			perr(ps, key_line(ps, section, "cert"), section, "cert", "%s", d.text);
		else if (m->pfx_len == 0)
			perr(ps, key_line(ps, section, "cert"), section, "cert", "%s is empty",
			     m->cert);
		load_secret(ps, section, "cert_password_file", m->cert_password_file, cert_pw_env,
		            &m->cert_password, m->cert_password_src, sizeof m->cert_password_src);
	} else {
		snprintf(m->cert_password_src, sizeof m->cert_password_src, "none");
	}
	if (m->tls && m->ca[0]) {
		FILE *f = fopen(m->ca, "r");
		if (!f)
			perr(ps, key_line(ps, section, "ca"), section, "ca", "%s: %s", m->ca,
			     strerror(errno));
		else
			fclose(f);
	}
	load_secret(ps, section, "password_file", m->password_file, pw_env, &m->password,
	            m->password_src, sizeof m->password_src);
	if (m->password && !m->user[0])
		perr(ps,
		     key_line(ps, section, "password_file") ? key_line(ps, section, "password_file")
		                                            : section_line(ps, section),
		     section, "username", "a password is set (%s) but no username",
		     m->password_src);
}

/* ---- [upstream] account ------------------------------------------------------------- */

/* The cloud handle of each loaded configuration with an account (a reload has two alive
 * for a moment); the bridge is single-threaded. */
typedef struct acct {
	const br_config_t *cfg;
	blt_cloud_t *cloud;
	char dir[1024];
	blt_cloud_saved_t s;
} acct_t;
static acct_t *g_accts[4];

static acct_t *account_of(const br_config_t *c)
{
	for (size_t i = 0; i < sizeof g_accts / sizeof g_accts[0]; i++)
		if (g_accts[i] && g_accts[i]->cfg == c)
			return g_accts[i];
	return NULL;
}

static void account_release(const br_config_t *c)
{
	for (size_t i = 0; i < sizeof g_accts / sizeof g_accts[0]; i++) {
		acct_t *a = g_accts[i];
		if (a && a->cfg == c) {
			blt_cloud_free(a->cloud);
			OPENSSL_cleanse(a, sizeof *a);
			free(a);
			g_accts[i] = NULL;
		}
	}
}

/* After a re-login on 805 (BLUETTI_PASSWORD set): keep the store current. */
static void account_token(void *user, const char *token)
{
	acct_t *a = user;
	blt_detail_t d = {{0}};
	snprintf(a->s.token, sizeof a->s.token, "%s", token);
	if (blt_cloud_token_ttl(a->cloud))
		a->s.ttl = blt_cloud_token_ttl(a->cloud);
	a->s.saved_at = 0;
	if (blt_cloud_store_save(a->dir, &a->s, NULL, 0, NULL, &d) != BLT_OK)
		blt_log(BLT_LOG_WARN, "account: renewed token not saved: %s", d.text);
	else
		blt_log(BLT_LOG_INFO, "account: token renewed and saved in %s", a->dir);
}

void br_account_install(const br_config_t *cfg, blt_transport_t *t)
{
	acct_t *a = account_of(cfg);
	if (a && t)
		blt_transport_on_credentials(t, blt_cloud_credentials_hook, a->cloud);
}

/* The cached login: certificate, broker, the devices' model codes and topic serials. */
static void load_account(parser_t *ps, br_config_t *c)
{
	const int al = ps->account_line;
	blt_cloud_device_t *devs = NULL;
	blt_cloud_opts_t o;
	blt_detail_t d = {{0}};
	char key[BLT_CLOUD_TOTP_KEY_LEN + 1];
	char *pw = NULL;
	size_t n = 0, slot;
	acct_t *a;
	int err;

	for (slot = 0; slot < sizeof g_accts / sizeof g_accts[0] && g_accts[slot]; slot++)
		;
	a = slot < sizeof g_accts / sizeof g_accts[0] ? calloc(1, sizeof *a) : NULL;
	if (!a) {
		perr(ps, al, "upstream", "account", "out of memory");
		return;
	}
	a->cfg = c;
	g_accts[slot] = a;
	if (blt_cloud_store_dir(a->dir, sizeof a->dir, &d) != BLT_OK) {
		perr(ps, al, "upstream", "account", "%s", d.text);
		return;
	}
	err = blt_cloud_store_load(a->dir, &a->s, &c->up.pfx, &c->up.pfx_len, &c->up.cert_password,
	                           &d);
	if (err == BLT_E_NOT_FOUND) {
		perr(ps, al, "upstream", "account",
		     "no cached login with a client certificate in %s: run `bluetti login --email "
		     "%s` as the user the bridge runs as",
		     a->dir, c->account);
		return;
	}
	if (err) {
		perr(ps, al, "upstream", "account", "%s", d.text);
		return;
	}
	if (strcasecmp(a->s.email, c->account) != 0) {
		perr(ps, al, "upstream", "account",
		     "the cached login in %s is for %s, not %s (run `bluetti login --email %s`)",
		     a->dir, a->s.email, c->account, c->account);
		return;
	}
	{
		char buf[sizeof a->dir + 32];
		snprintf(buf, sizeof buf, "%s/client.pfx", a->dir);
		if (!copy(c->up.cert, sizeof c->up.cert, buf))
			snprintf(c->up.cert, sizeof c->up.cert, "client.pfx of the account store");
		snprintf(buf, sizeof buf, "file %s/client.pass", a->dir);
		if (!copy(c->up.cert_password_src, sizeof c->up.cert_password_src, buf))
			snprintf(c->up.cert_password_src, sizeof c->up.cert_password_src,
			         "client.pass of the account store");
	}
	/* user stays empty: the hook supplies tid:<token part 1> and the TOTP per attempt */
	snprintf(c->up.password_src, sizeof c->up.password_src,
	         "account: user tid:<token> and a TOTP, fresh for every connection");
	c->up.tls = true;
	if (blt_cloud_totp_key_load(NULL, key, &d) != BLT_OK) {
		perr(ps, al, "upstream", "account", "%s", d.text);
		return;
	}
	memset(&o, 0, sizeof o);
	o.gw_url = a->s.api[0] ? a->s.api : NULL;
	o.gwpry_url = a->s.api_pry[0] ? a->s.api_pry : NULL;
	o.ca_file = a->s.api_ca[0] ? a->s.api_ca : NULL;
	o.device_id = a->s.device_id[0] ? a->s.device_id : NULL;
	o.totp_key = key;
	/* the data centre `bluetti login` found (code 805 probe), else auto */
	o.dc_url = a->s.api_dc[0] ? a->s.api_dc : NULL;
	o.region_urls = getenv(BLT_CLOUD_REGIONS_ENV);
	err = blt_cloud_new(&o, &a->cloud, &d);
	OPENSSL_cleanse(key, sizeof key);
	if (!err)
		err = blt_cloud_set_token(a->cloud, a->s.token, &d);
	if (!err && (pw = getenv("BLUETTI_PASSWORD")) && pw[0])
		err = blt_cloud_set_relogin(a->cloud, a->s.email, pw, &d);
	if (err) {
		perr(ps, al, "upstream", "account", "%s", d.text);
		return;
	}
	blt_cloud_on_token(a->cloud, account_token, a);
	devs = calloc(BR_MAX_DEVICES, sizeof *devs);
	if (!devs) {
		perr(ps, al, "upstream", "account", "out of memory");
		return;
	}
	err = blt_cloud_devices(a->cloud, devs, BR_MAX_DEVICES, &n, &d);
	if (err && err != BLT_E_BUFSIZE) {
		perr(ps, al, "upstream", "account", "device list: %s", d.text);
		free(devs);
		return;
	}
	if (n > BR_MAX_DEVICES)
		n = BR_MAX_DEVICES;
	if (strcmp(a->s.api_dc, blt_cloud_gateway(a->cloud)) != 0) {
		/* the device list found the account's data centre: keep it for next time */
		snprintf(a->s.api_dc, sizeof a->s.api_dc, "%s", blt_cloud_gateway(a->cloud));
		snprintf(a->s.region, sizeof a->s.region, "%s", blt_cloud_region(a->cloud));
		if (blt_cloud_store_save(a->dir, &a->s, NULL, 0, NULL, &d) != BLT_OK)
			blt_log(BLT_LOG_WARN, "account: data centre not saved: %s", d.text);
	}
	c->up.host[0] = '\0';
	/* the devices' full records: a static broker password rmt:<iotConnSecret> when the
	 * bridged devices share one (one connection has one password); else the TOTP */
	{
		char sec[256], common[256] = "";
		bool same = true, any = false;
		for (size_t i = 0; i < c->ndev && same; i++)
			for (size_t k = 0; k < n; k++) {
				if (strcmp(devs[k].sn, c->dev[i].sn) && strcmp(devs[k].sub_sn, c->dev[i].sn))
					continue;
				blt_detail_t d2;
				if (blt_cloud_device_remote(a->cloud, &devs[k], sec, sizeof sec, &d2) !=
				    BLT_OK)
					sec[0] = '\0';
				if (!any)
					snprintf(common, sizeof common, "%s", sec);
				else if (strcmp(common, sec) != 0)
					same = false;
				any = true;
				break;
			}
		if (any && same && common[0])
			(void)blt_cloud_set_broker_secret(a->cloud, common, NULL);
		else if (any && !same)
			blt_log(BLT_LOG_WARN,
			        "account: the bridged devices carry different broker secrets; using "
			        "the TOTP password");
		OPENSSL_cleanse(sec, sizeof sec);
		OPENSSL_cleanse(common, sizeof common);
	}
	for (size_t i = 0; i < c->ndev; i++) {
		br_device_cfg_t *dv = &c->dev[i];
		const blt_cloud_device_t *m = NULL;
		char section[160], list[200] = "";
		size_t lo = 0;
		snprintf(section, sizeof section, "device %s", dv->id);
		for (size_t k = 0; k < n && !m; k++)
			if (!strcmp(devs[k].sn, dv->sn) || !strcmp(devs[k].sub_sn, dv->sn))
				m = &devs[k];
		if (!m) {
			for (size_t k = 0; k < n && lo < sizeof list; k++)
				lo += (size_t)snprintf(list + lo, sizeof list - lo, "%s%s",
				                       k ? ", " : "", devs[k].sn);
			perr(ps,
			     key_line(ps, section, "sn") ? key_line(ps, section, "sn") : dv->line,
			     section, "sn", "%s is not a device of the account %s (it has: %s)",
			     dv->sn, c->account, n ? list : "none");
			continue;
		}
		if (!blt_topic_segment_ok(m->sub_sn) ||
		    (!dv->model[0] && !blt_topic_model_ok(m->model))) {
			perr(ps, dv->line, section, "sn",
			     "the account lists %s with a model or serial not usable in topics",
			     dv->sn);
			continue;
		}
		snprintf(dv->sn, sizeof dv->sn, "%s", m->sub_sn);
		if (!dv->profile) { /* sn only: model and profile from the account */
			snprintf(dv->model, sizeof dv->model, "%s", m->model);
			validate_device(ps, dv);
		}
		if (!c->up.host[0]) {
			snprintf(c->up.host, sizeof c->up.host, "%s", m->broker_host);
			c->up.port = m->broker_port ? m->broker_port : BLT_CLOUD_BROKER_PORT;
		} else if (strcmp(c->up.host, m->broker_host) != 0 ||
		           c->up.port !=
		               (m->broker_port ? m->broker_port : BLT_CLOUD_BROKER_PORT)) {
			perr(ps, dv->line, section, "sn",
			     "%s is served by broker %s:%u, the other devices by %s:%d (one bridge "
			     "per broker)",
			     dv->sn, m->broker_host, m->broker_port, c->up.host, c->up.port);
		}
	}
	free(devs);
	if (!c->up.host[0]) {
		snprintf(c->up.host, sizeof c->up.host, "%s", BLT_CLOUD_BROKER_HOST);
		c->up.port = BLT_CLOUD_BROKER_PORT;
	}
	c->up.cloud = true; /* the account's broker: the Bluetti TLS preset */
}

/* ---- entry points -------------------------------------------------------------------- */

static void config_defaults(br_config_t *c)
{
	memset(c, 0, sizeof *c);
	c->log_level = -1;
	c->offline_after = 3;
	c->backoff_max_s = 300;
	snprintf(c->up.host, sizeof c->up.host, "%s", "iot.bluettipower.com");
	c->up.tls = true;
	c->up.reconnect_delay_s = 90;
	c->down.reconnect_delay_s = 1;
	snprintf(c->down.host, sizeof c->down.host, "%s", "localhost");
	c->down.tls = false;
	snprintf(c->down.client_id, sizeof c->down.client_id, "%s", "bluetti-bridge");
	snprintf(c->base_topic, sizeof c->base_topic, "%s", "bluetti");
	snprintf(c->discovery_prefix, sizeof c->discovery_prefix, "%s", "homeassistant");
	c->discovery = true;
}

int br_config_parse(const char *text, size_t len, const char *name, bool want_secrets,
                    br_config_t **out, br_errors_t *errs)
{
	parser_t *ps;
	br_config_t *c;
	int rc;

	*out = NULL;
	if (errs)
		memset(errs, 0, sizeof *errs);
	ps = calloc(1, sizeof *ps);
	c = calloc(1, sizeof *c);
	if (!ps || !c) {
		free(ps);
		free(c);
		add_error(errs, "%s: out of memory", name);
		return BLT_E_NOMEM;
	}
	config_defaults(c);
	snprintf(c->path, sizeof c->path, "%s", name);
	ps->c = c;
	ps->errs = errs;
	ps->name = name;
	ps->p = text;
	ps->end = text + len;

	/* libinih knobs (process-wide; the bridge is their only user): no continuation
	 * lines (an indented key is a key), heap line buffer long enough for paths. */
	ini_allow_multiline = false;
	ini_use_stack = false;
	/* Debian's libinih 55 sizes the heap buffer from ini_initial_alloc (default 200) and
	 * only grows it with ini_allow_realloc: set both, or lines over 197 characters fail. */
	ini_max_line = LINE_MAX_LEN + 3;
	ini_initial_alloc = LINE_MAX_LEN + 3;
	rc = ini_parse_stream(reader, ps, handler, ps);
	if (rc > 0) {
		/* inih's own syntax errors: the first one's line; ours were reported already. */
		bool known = false;
		for (size_t i = 0; errs && i < errs->n; i++) {
			char tag[32];
			snprintf(tag, sizeof tag, ":%d:", rc);
			if (strstr(errs->msg[i], tag))
				known = true;
		}
		if (!known)
			perr(ps, rc, NULL, NULL,
			     "syntax error: expected '[section]', 'key = value' or a comment");
	} else if (rc < 0) {
		add_error(errs, "%s: cannot parse (%s)", name,
		          rc == -2 ? "out of memory" : "I/O error");
	}
	validate(ps);
	if (c->account[0] && !want_secrets && (!errs || errs->n == 0))
		for (size_t i = 0; i < c->ndev; i++)
			if (!c->dev[i].profile)
				perr(
				    ps, c->dev[i].line, NULL, NULL,
				    "[device %s]: model and profile come from the account's device "
				    "list, which is only read with the secrets",
				    c->dev[i].id);
	if (want_secrets && (!errs || errs->n == 0) && c->account[0])
		load_account(ps, c);
	if (want_secrets && (!errs || errs->n == 0)) {
		if (!c->account[0] && c->up.host[0])
			load_secrets(ps, &c->up, "upstream", BR_ENV_UP_PASSWORD,
			             BR_ENV_UP_CERT_PASSWORD);
		load_secrets(ps, &c->down, down_section(ps), BR_ENV_HA_PASSWORD,
		             BR_ENV_HA_CERT_PASSWORD);
	}
	free(ps->sects);
	free(ps);
	sort_errors(errs);
	if (errs && (errs->n || errs->dropped)) {
		br_config_free(c);
		return BLT_E_CONFIG;
	}
	*out = c;
	return BLT_OK;
}

#define CONFIG_MAX_BYTES (4u << 20) /* 10000 device sections fit */

/* Read the configuration file: a regular file only. A FIFO, a device or a directory is
 * refused before anything is read (opened non-blocking, checked with fstat), so neither
 * the start nor a SIGHUP reload can hang on one. */
static int read_config_file(const char *path, uint8_t **buf, size_t *len, blt_detail_t *d)
{
	struct stat st;
	uint8_t *b;
	size_t n = 0;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return blt_detail_set(d, BLT_E_IO, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return blt_detail_set(d, BLT_E_CONFIG, "%s: not a regular file (a %s)", path,
		                      S_ISFIFO(st.st_mode)   ? "FIFO"
		                      : S_ISDIR(st.st_mode)  ? "directory"
		                      : S_ISSOCK(st.st_mode) ? "socket"
		                                             : "device");
	}
	if (st.st_size < 0 || (uint64_t)st.st_size > CONFIG_MAX_BYTES) {
		close(fd);
		return blt_detail_set(d, BLT_E_CONFIG,
		                      "%s: too large for a configuration file (%lld bytes)", path,
		                      (long long)st.st_size);
	}
	b = malloc((size_t)st.st_size + 1);
	if (!b) {
		close(fd);
		return blt_detail_set(d, BLT_E_NOMEM, "%s: out of memory", path);
	}
	/* the size is a hint (the file may change while read): read to the end, up to it */
	for (;;) {
		ssize_t r = read(fd, b + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			free(b);
			return blt_detail_set(d, BLT_E_IO, "%s: %s", path, strerror(e));
		}
		if (r == 0 || (n += (size_t)r) == (size_t)st.st_size)
			break;
	}
	close(fd);
	b[n] = '\0';
	*buf = b;
	*len = n;
	return BLT_OK;
}

int br_config_load(const char *path, bool want_secrets, br_config_t **out, br_errors_t *errs)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	blt_detail_t d = {{0}};
	int err;
	*out = NULL;
	if (errs)
		memset(errs, 0, sizeof *errs);
	err = read_config_file(path, &buf, &len, &d);
	if (err) {
		add_error(errs, "%s", d.text);
		return BLT_E_CONFIG;
	}
	err = br_config_parse((const char *)buf, len, path, want_secrets, out, errs);
	free(buf);
	return err;
}

static void mqtt_free(br_mqtt_cfg_t *m)
{
	if (m->pfx) {
		OPENSSL_cleanse(m->pfx, m->pfx_len);
		free(m->pfx);
	}
	cli_secret_free(m->password);
	cli_secret_free(m->cert_password);
	m->pfx = NULL;
	m->password = m->cert_password = NULL;
}

void br_config_free(br_config_t *c)
{
	if (!c)
		return;
	account_release(c);
	mqtt_free(&c->up);
	mqtt_free(&c->down);
	free(c->dev);
	free(c);
}

static void print_mqtt(FILE *out, const char *what, const br_mqtt_cfg_t *m)
{
	fprintf(out, "%s: %s://%s:%d\n", what, m->tls ? "mqtts" : "mqtt", m->host, m->port);
	if (m->tls) {
		fprintf(out, "  certificate: %s (password: %s)\n", m->cert[0] ? m->cert : "none",
		        m->cert_password_src[0] ? m->cert_password_src : "not loaded");
		fprintf(out, "  ca: %s%s%s\n", m->ca[0] ? m->ca : "default",
		        m->tls_name[0] ? ", expected name " : "", m->tls_name);
		if (m->insecure)
			fprintf(out, "  WARNING: insecure: the server is not verified\n");
		fprintf(out, "  ciphers: %s\n",
		        m->ciphers[0] ? m->ciphers
		                      : (m->cloud ? BLT_TLS_CIPHERS_BLUETTI
		                             " (Bluetti cloud preset: its keys are "
		                             "RSA-1024/SHA-1)"
		                                  : "OpenSSL's defaults"));
	}
	fprintf(out, "  user: %s (password: %s)\n", m->user[0] ? m->user : "none",
	        m->password_src[0] ? m->password_src : "not loaded");
	fprintf(out, "  client id: %s\n", m->client_id[0] ? m->client_id : "random");
	fprintf(out, "  reconnect delay: %d s\n", m->reconnect_delay_s);
}

void br_config_print(const br_config_t *c, FILE *out)
{
	fprintf(out, "config: %s\n", c->path);
	fprintf(out, "log level: %s\n",
	        c->log_level >= 0 ? br_log_level_name(c->log_level) : "info (default)");
	if (c->up.host[0])
		print_mqtt(out, "upstream", &c->up);
	else
		fprintf(out, "upstream: none (every device uses Bluetooth)\n");
	if (c->account[0])
		fprintf(out,
		        "  account: %s (broker, certificate and a fresh MQTT login for every "
		        "connection from its cached login)\n",
		        c->account);
	print_mqtt(out, "homeassistant", &c->down);
	fprintf(out, "  base topic: %s, discovery: %s (prefix %s)\n", c->base_topic,
	        c->discovery ? "on" : "off", c->discovery_prefix);
	fprintf(out, "  bridge availability: %s/bridge/state (retained, last will 'offline')\n",
	        c->base_topic);
	fprintf(out,
	        "devices: %zu (offline after %d failed requests in a row; probes back off "
	        "up to %d s)\n",
	        c->ndev, c->offline_after, c->backoff_max_s);
	for (size_t i = 0; i < c->ndev; i++) {
		const br_device_cfg_t *d = &c->dev[i];
		const blt_wire_preset_t *p = blt_wire_preset_find(d->preset);
		char sub[200] = "?", pub[200] = "?";
		if (p) {
			blt_topic_expand(p->sub_topic, d->model, d->sn, sub, sizeof sub, NULL);
			blt_topic_expand(p->pub_topic, d->model, d->sn, pub, sizeof pub, NULL);
		}
		fprintf(out, "device %s: \"%s\"%s\n", d->id, d->name,
		        d->enabled ? "" : " (disabled)");
		fprintf(out, "  profile %s (%s), model %s, sn %s\n", d->profile->id,
		        d->profile->name, d->model, d->sn);
		fprintf(out, "  preset %s, slave %d, timeout %d ms, retries %d\n", d->preset,
		        d->slave >= 0 ? d->slave : (p ? p->slave : 0), d->timeout_ms, d->retries);
		if (strcmp(d->transport, "cloud") != 0)
			fprintf(out, "  bluetooth: %s on %s%s%s\n", d->address,
			        d->adapter[0] ? d->adapter : "hci0",
			        d->ble_test_key[0] ? " (TEST verify key)" : "",
			        !strcmp(d->transport, "auto") ? ", cloud when out of range" : "");
		if (strcmp(d->transport, "ble") != 0)
			fprintf(out, "  upstream topics: requests -> %s, replies <- %s\n", pub,
			        sub);
		fprintf(out, "  state: %s/%s/state, availability: %s/%s/availability\n",
		        c->base_topic, d->id, c->base_topic, d->id);
		fprintf(out, "  groups:");
		for (size_t g = 0; g < d->profile->ngroups && g < BR_MAX_GROUPS; g++) {
			const blt_group_t *gr = &d->profile->groups[g];
			fprintf(out, "%s %s ", g ? "," : "", gr->name);
			if (d->interval_s[g])
				fprintf(out, "every %d s", d->interval_s[g]);
			else
				fprintf(out, "off");
			fprintf(out, " (blocks");
			for (size_t b = 0; b < gr->nblocks; b++)
				fprintf(out, " %u", gr->blocks[b]);
			fprintf(out, ")");
		}
		fprintf(out, "\n  controls:");
		if (!d->controls) {
			fprintf(out, " off\n");
			continue;
		}
		size_t shown = 0;
		for (size_t s = 0; s < blt_setting_count(); s++) {
			const blt_setting_t *st = blt_setting_at(s);
			if (!br_setting_exposed(d, st))
				continue;
			fprintf(out, "%s %s (%s)", shown++ ? "," : "", st->name,
			        blt_setting_kind_name((blt_setting_kind_t)st->kind));
		}
		fprintf(out, "%s\n", shown ? "" : " none for this profile");
	}
}

bool br_device_polls_block(const br_device_cfg_t *d, uint16_t id)
{
	if (!d->profile)
		return false;
	for (size_t g = 0; g < d->profile->ngroups && g < BR_MAX_GROUPS; g++) {
		if (!d->interval_s[g])
			continue;
		for (size_t b = 0; b < d->profile->groups[g].nblocks; b++)
			if (d->profile->groups[g].blocks[b] == id)
				return true;
	}
	return false;
}

bool br_setting_exposed(const br_device_cfg_t *d, const blt_setting_t *s)
{
	if (!d->controls || !d->profile || !s)
		return false;
	if (!blt_setting_supports_profile(s, d->profile->id))
		return false;
	if (s->status == BLT_SS_UNVERIFIED && !d->allow_unverified)
		return false;
	if (s->lan_exposure) /* LAN paths: `bluetti local enable` only, never a control */
		return false;
	if (blt_register_denied(s->reg, NULL))
		return false;
	return br_device_polls_block(d, s->block);
}
