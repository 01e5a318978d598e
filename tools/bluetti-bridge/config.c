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
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <bluetti/ble.h>
#include <bluetti/bluetti.h>
#include <bluetti/cloud.h>
#include <bluetti/transport.h>

#include "bridge.h"
#include "common.h"
#include "config_internal.h"

#define LINE_MAX_LEN 1024

void add_error_at(br_errors_t *e, int line, const char *fmt, ...)
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

/* Report in file order (validation runs after parsing). Insertion sort: stable. */
void sort_errors(br_errors_t *e)
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
void perr(parser_t *ps, int line, const char *section, const char *key, const char *fmt, ...)
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

bool copy(char *dst, size_t cap, const char *v)
{
	size_t n = strlen(v);
	if (n >= cap)
		return false;
	memcpy(dst, v, n + 1);
	return true;
}

/* ---- keys ---------------------------------------------------------------------------- */

enum ktype { K_STR, K_BOOL, K_INT, K_LEVEL, K_DISCO };

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
    {"discovery", K_DISCO, CF(discovery), 0, 0,
     "device (one document per device, HA 2024.11+), entity (one per entity) or off"},
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
    {"transport", K_STR, DV(transport), 0, 0,
     "cloud (default), ble, auto, modbus-tcp or local-mqtt"},
    {"host", K_STR, DV(host), 0, 0, "Modbus TCP server: host or host:port (modbus-tcp)"},
    {"unit", K_INT, DV(unit), 0, 255, "Modbus TCP unit id (modbus-tcp; default 1)"},
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
	case K_DISCO: {
		/* device | entity | a boolean (true: the default form, false: none) */
		br_config_t *c = ps->c;
		bool on;
		if (!strcasecmp(value, "device") || !strcasecmp(value, "entity")) {
			c->discovery = true;
			c->discovery_form =
			    !strcasecmp(value, "device") ? BR_DISCO_DEVICE : BR_DISCO_ENTITY;
		} else if (parse_bool(value, &on)) {
			c->discovery = on;
		} else {
			perr(ps, ps->line, section, k->name,
			     "'%s' is not device, entity, or a boolean (off: no discovery)", value);
		}
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
	d->unit = -1;
}

/* A section header seen by the reader. */
/* ---- sections and their keys (hashed: 10000 device sections are allowed) ------------ */

static size_t name_hash(const char *s)
{
	size_t h = 2166136261u; /* FNV-1a of the lower-cased name */
	for (; *s; s++)
		h = (h ^ (unsigned char)tolower((unsigned char)*s)) * 16777619u;
	return h;
}

/* The first section named name, or NULL. */
static br_sect_t *sect_find(parser_t *ps, const char *name)
{
	if (!ps->nbucket)
		return NULL;
	for (size_t i = ps->bucket[name_hash(name) % ps->nbucket]; i != SIZE_MAX;
	     i = ps->sects[i].hnext)
		if (!strcasecmp(ps->sects[i].name, name))
			return &ps->sects[i];
	return NULL;
}

/* Record a section header; false if out of memory (or over the limit). */
static bool sect_add(parser_t *ps, const char *name)
{
	br_sect_t *s;
	size_t b;
	if (ps->nsects == ps->sectcap) {
		size_t ncap = ps->sectcap ? 2 * ps->sectcap : 16;
		br_sect_t *ns;
		if (ps->sectcap >= BR_MAX_DEVICES + 8)
			return false;
		ns = realloc(ps->sects, ncap * sizeof *ns);
		if (!ns)
			return false;
		ps->sects = ns;
		ps->sectcap = ncap;
	}
	if (!ps->nbucket) {
		ps->nbucket = 2 * (BR_MAX_DEVICES + 8) + 1;
		ps->bucket = malloc(ps->nbucket * sizeof *ps->bucket);
		if (!ps->bucket) {
			ps->nbucket = 0;
			return false;
		}
		memset(ps->bucket, 0xff, ps->nbucket * sizeof *ps->bucket); /* SIZE_MAX */
	}
	s = &ps->sects[ps->nsects];
	memset(s, 0, sizeof *s);
	snprintf(s->name, sizeof s->name, "%s", name);
	s->line = ps->line;
	b = name_hash(name) % ps->nbucket;
	if (sect_find(ps, name)) { /* a repeat: after the first, so lookups find the first */
		s->hnext = SIZE_MAX;
		br_sect_t *t = sect_find(ps, name);
		while (t->hnext != SIZE_MAX)
			t = &ps->sects[t->hnext];
		t->hnext = ps->nsects;
	} else {
		s->hnext = ps->bucket[b];
		ps->bucket[b] = ps->nsects;
	}
	ps->cur_sect = ps->nsects++;
	return true;
}

static void sects_free(parser_t *ps)
{
	for (size_t i = 0; i < ps->nsects; i++)
		free(ps->sects[i].keys);
	free(ps->sects);
	free(ps->bucket);
}

static void on_section(parser_t *ps, const char *name)
{
	char id[160];
	br_sect_t *first = sect_find(ps, name);
	if (first)
		perr(ps, ps->line, name, NULL, "section given twice (first at line %d)",
		     first->line);
	if (!sect_add(ps, name))
		ps->cur_sect = SIZE_MAX;
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
	} else if (!strcasecmp(name, "local-mqtt")) {
		ps->lan_line = ps->line;
		ps->c->lan_section = true;
	} else if (strcasecmp(name, "bridge") != 0) {
		perr(ps, ps->line, name, NULL,
		     "unknown section (expected [bridge], [upstream], [homeassistant], "
		     "[local-mqtt] or [device NAME])");
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

/* A key given twice in its section is refused (the keys are tracked per section, so any
 * number of sections is checked). */
static bool seen_before(parser_t *ps, const char *section, const char *key)
{
	br_sect_t *s;
	if (ps->cur_sect == SIZE_MAX) {
		perr(ps, ps->line, section, key, "cannot be checked (out of memory)");
		return true;
	}
	s = &ps->sects[ps->cur_sect];
	for (size_t i = 0; i < s->nkeys; i++) {
		if (!strcasecmp(s->keys[i].key, key)) {
			perr(ps, ps->line, section, key, "given twice (first at line %d)",
			     s->keys[i].line);
			return true;
		}
	}
	if (s->nkeys == s->capkeys) {
		size_t nc = s->capkeys ? 2 * s->capkeys : 8;
		br_seen_key_t *nk = realloc(s->keys, nc * sizeof *nk);
		if (!nk) {
			perr(ps, ps->line, section, key, "out of memory");
			return true;
		}
		s->keys = nk;
		s->capkeys = nc;
	}
	snprintf(s->keys[s->nkeys].key, sizeof s->keys[0].key, "%s", key);
	s->keys[s->nkeys++].line = ps->line;
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
	} else if (!strcasecmp(section, "local-mqtt")) {
		k = find_key(mqtt_keys, sizeof mqtt_keys / sizeof mqtt_keys[0], name);
		if (k) {
			set_key(ps, section, k, &c->lan, value);
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

int section_line(parser_t *ps, const char *name)
{
	br_sect_t *s = sect_find(ps, name);
	return s ? s->line : 0;
}

/* The line of key in the first section named section (where a value counts). */
int key_line(parser_t *ps, const char *section, const char *key)
{
	br_sect_t *s = sect_find(ps, section);
	for (size_t i = 0; s && i < s->nkeys; i++)
		if (!strcasecmp(s->keys[i].key, key))
			return s->keys[i].line;
	return 0;
}

const char *down_section(parser_t *ps)
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
/* host = H[:PORT] of a modbus-tcp device -> host (without the port) and tcp_port. */
static void validate_tcp_host(parser_t *ps, br_device_cfg_t *d, const char *section)
{
	char *colon = strrchr(d->host, ':');
	int port = 502;
	if (!d->host[0]) {
		perr(ps, d->line, section, "host",
		     "is required with transport = modbus-tcp (the device's address, H or H:PORT)");
		return;
	}
	if (colon && strchr(d->host, ':') == colon) { /* one ':': a port (not an IPv6 address) */
		char *end;
		long n = strtol(colon + 1, &end, 10);
		if (colon == d->host || *end || n < 1 || n > 65535) {
			perr(ps, key_line(ps, section, "host"), section, "host",
			     "'%s' is not H or H:PORT (port 1-65535)", d->host);
			return;
		}
		port = (int)n;
		*colon = '\0';
	}
	for (const char *p = d->host; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == '/') {
			perr(ps, key_line(ps, section, "host"), section, "host",
			     "'%s' is not a host name or address", d->host);
			return;
		}
	d->tcp_port = port;
}

/* transport and what belongs to it (address / adapter / ble_test_key, host / unit). */
static void br_validate_transport(parser_t *ps, br_device_cfg_t *d, const char *section)
{
	bool ble = !strcmp(d->transport, "ble") || !strcmp(d->transport, "auto");
	bool tcp = !strcmp(d->transport, "modbus-tcp");
	if (!d->transport[0])
		snprintf(d->transport, sizeof d->transport, "cloud");
	if (!ble && !tcp && strcmp(d->transport, "cloud") != 0 &&
	    strcmp(d->transport, "local-mqtt") != 0)
		perr(ps, key_line(ps, section, "transport"), section, "transport",
		     "'%s' is not a transport (cloud, ble, auto, modbus-tcp or local-mqtt)",
		     d->transport);
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
	if (!tcp && (d->host[0] || d->unit >= 0))
		perr(ps, key_line(ps, section, d->host[0] ? "host" : "unit"), section,
		     d->host[0] ? "host" : "unit", "needs transport = modbus-tcp");
	if (!tcp)
		return;
	validate_tcp_host(ps, d, section);
	if (d->unit < 0)
		d->unit = 1;
	if (d->slave < 0)
		d->slave = d->unit;
	/* the gate's echo check and the settings' registers are the internal map's; writes
	 * through the open map are not supported yet (docs/local.md) */
	if (key_line(ps, section, "controls") && d->controls)
		perr(ps, key_line(ps, section, "controls"), section, "controls",
		     "settings over Modbus TCP are not supported yet (use the cloud or ble)");
	d->controls = false;
}

void validate_device(parser_t *ps, br_device_cfg_t *d)
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
		         !strcmp(d->transport, "ble")          ? "ble"
		         : !strcmp(d->transport, "modbus-tcp") ? "modbus-tcp"
		         : !strcmp(d->transport, "local-mqtt") ? "local-mqtt"
		         : d->profile->preset                  ? d->profile->preset
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
	/* Group intervals: the profile's (over Modbus TCP at least BR_TCP_POLL_S: the
	 * community's field lesson), overridden by poll_<group>. */
	for (size_t g = 0; g < d->profile->ngroups && g < BR_MAX_GROUPS; g++) {
		d->interval_s[g] = d->profile->groups[g].interval_s;
		if (!strcmp(d->transport, "modbus-tcp") && d->interval_s[g] &&
		    d->interval_s[g] < BR_TCP_POLL_S)
			d->interval_s[g] = BR_TCP_POLL_S;
	}
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

bool br_device_uses_upstream(const br_device_cfg_t *d)
{
	return !strcmp(d->transport, "cloud") || !strcmp(d->transport, "auto") || !d->transport[0];
}

bool br_device_uses_lan(const br_device_cfg_t *d)
{
	return !strcmp(d->transport, "local-mqtt");
}

/* No device goes through the Bluetti cloud: the bridge needs no upstream broker. */
static bool br_no_upstream(const br_config_t *c)
{
	for (size_t i = 0; i < c->ndev; i++)
		if (br_device_uses_upstream(&c->dev[i]))
			return false;
	return c->ndev > 0;
}

/* [local-mqtt]: its own section, else the Home Assistant broker's settings (its own
 * client id); only needed when a device uses it. */
static void validate_lan(parser_t *ps)
{
	br_config_t *c = ps->c;
	bool used = false;
	for (size_t i = 0; i < c->ndev; i++)
		used |= br_device_uses_lan(&c->dev[i]);
	if (c->lan_section) {
		validate_mqtt(ps, &c->lan, "local-mqtt", false);
		if (!used)
			perr(ps, ps->lan_line, "local-mqtt", NULL,
			     "no device uses it (transport = local-mqtt)");
		return;
	}
	if (!used)
		return;
	c->lan = c->down;
	c->lan.pfx = NULL;
	c->lan.password = c->lan.cert_password = NULL;
	snprintf(c->lan.client_id, sizeof c->lan.client_id, "%.100s-lan",
	         c->down.client_id[0] ? c->down.client_id : BR_PROG);
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
		c->up.host[0] = '\0'; /* the account's broker: from its device list at the start */
		c->up.tls = true;
		c->up.cloud = true;
	} else if (!section_line(ps, "upstream") && br_no_upstream(c)) {
		c->up.host[0] = '\0'; /* no device through the cloud: no broker needed */
	} else {
		validate_mqtt(ps, &c->up, "upstream", true);
	}
	if (!section_line(ps, "upstream") && !br_no_upstream(c))
		perr(ps, 1, NULL, NULL,
		     "no [upstream] section (the Bluetti broker to poll through; only a "
		     "configuration without cloud devices can do without)");
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
	for (size_t i = 0; i < c->ndev; i++)
		validate_device(ps, &c->dev[i]);
	validate_lan(ps);
	for (size_t i = 0; i < c->ndev; i++) {
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
	if (ps)
		ps->cur_sect = SIZE_MAX;
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
	c->account_line = ps->account_line;
	/* Local files only (certificates, passwords, the account's cached login): the
	 * account's device list is read from the network at the runtime's start, never here. */
	if (want_secrets && (!errs || errs->n == 0))
		load_all_secrets(ps);
	sects_free(ps);
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
	mqtt_free(&c->up);
	mqtt_free(&c->down);
	mqtt_free(&c->lan);
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

static void print_groups(FILE *out, const br_device_cfg_t *d)
{
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
		return;
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

static void print_device(FILE *out, const br_config_t *c, const br_device_cfg_t *d)
{
	const blt_wire_preset_t *p = blt_wire_preset_find(d->preset);
	char sub[200] = "?", pub[200] = "?";
	fprintf(out, "device %s: \"%s\"%s\n", d->id, d->name, d->enabled ? "" : " (disabled)");
	if (!d->profile) { /* [upstream] account = with sn only */
		fprintf(out,
		        "  sn %s: model, profile and topic serial from the account's device list "
		        "at the start (not read by --check-config: no network)\n",
		        d->sn);
		return;
	}
	if (p) {
		blt_topic_expand(p->sub_topic, d->model, d->sn, sub, sizeof sub, NULL);
		blt_topic_expand(p->pub_topic, d->model, d->sn, pub, sizeof pub, NULL);
	}
	fprintf(out, "  profile %s (%s), model %s, sn %s\n", d->profile->id, d->profile->name,
	        d->model, d->sn);
	fprintf(out, "  transport %s, preset %s, slave %d, timeout %d ms, retries %d\n",
	        d->transport, d->preset, d->slave >= 0 ? d->slave : (p ? p->slave : 0),
	        d->timeout_ms, d->retries);
	if (!strcmp(d->transport, "ble") || !strcmp(d->transport, "auto"))
		fprintf(out, "  bluetooth: %s on %s%s%s\n", d->address,
		        d->adapter[0] ? d->adapter : "hci0",
		        d->ble_test_key[0] ? " (TEST verify key)" : "",
		        !strcmp(d->transport, "auto") ? ", cloud when out of range" : "");
	if (!strcmp(d->transport, "modbus-tcp"))
		fprintf(out,
		        "  modbus tcp: %s:%d unit %d (one connection, >= 1 s between requests)\n",
		        d->host, d->tcp_port, d->unit);
	else if (!strcmp(d->transport, "local-mqtt"))
		fprintf(out, "  local mqtt on %s:%d: requests -> %s, replies <- %s\n", c->lan.host,
		        c->lan.port, pub, sub);
	else if (strcmp(d->transport, "ble") != 0)
		fprintf(out, "  upstream topics: requests -> %s, replies <- %s\n", pub, sub);
	fprintf(out, "  state: %s/%s/state, availability: %s/%s/availability\n", c->base_topic,
	        d->id, c->base_topic, d->id);
	print_groups(out, d);
}

void br_config_print(const br_config_t *c, FILE *out)
{
	fprintf(out, "config: %s\n", c->path);
	fprintf(out, "log level: %s\n",
	        c->log_level >= 0 ? br_log_level_name(c->log_level) : "info (default)");
	if (c->up.host[0])
		print_mqtt(out, "upstream", &c->up);
	else if (c->account[0])
		fprintf(out,
		        "upstream: the account's broker (from its device list at the start)\n");
	else
		fprintf(out, "upstream: none (no device goes through the cloud)\n");
	if (c->account[0])
		fprintf(out,
		        "  account: %s (broker, certificate and a fresh MQTT login for every "
		        "connection from its cached login)\n",
		        c->account);
	print_mqtt(out, "homeassistant", &c->down);
	fprintf(out, "  base topic: %s, discovery: %s (prefix %s)\n", c->base_topic,
	        !c->discovery                          ? "off"
	        : c->discovery_form == BR_DISCO_ENTITY ? "per entity"
	                                               : "per device",
	        c->discovery_prefix);
	fprintf(out, "  bridge availability: %s/bridge/state (retained, last will 'offline')\n",
	        c->base_topic);
	if (c->lan.host[0])
		print_mqtt(out,
		           c->lan_section ? "local-mqtt" : "local-mqtt (the homeassistant broker)",
		           &c->lan);
	fprintf(out,
	        "devices: %zu (offline after %d failed requests in a row; probes back off "
	        "up to %d s)\n",
	        c->ndev, c->offline_after, c->backoff_max_s);
	for (size_t i = 0; i < c->ndev; i++)
		print_device(out, c, &c->dev[i]);
}

void br_config_finish_device(br_config_t *cfg, br_device_cfg_t *d, br_errors_t *errs)
{
	parser_t ps;
	memset(&ps, 0, sizeof ps);
	ps.c = cfg;
	ps.errs = errs;
	ps.name = cfg->path;
	ps.cur_sect = SIZE_MAX;
	validate_device(&ps, d);
}

/* ---- reload: which sections changed ------------------------------------------------- */

static bool secret_equal(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

bool br_mqtt_cfg_equal(const br_mqtt_cfg_t *a, const br_mqtt_cfg_t *b)
{
	return !strcmp(a->host, b->host) && a->port == b->port && a->tls == b->tls &&
	       !strcmp(a->ca, b->ca) && !strcmp(a->cert, b->cert) &&
	       !strcmp(a->cert_password_file, b->cert_password_file) &&
	       !strcmp(a->tls_name, b->tls_name) && a->insecure == b->insecure &&
	       !strcmp(a->ciphers, b->ciphers) && a->cloud == b->cloud &&
	       !strcmp(a->user, b->user) && !strcmp(a->password_file, b->password_file) &&
	       !strcmp(a->client_id, b->client_id) && a->keepalive_s == b->keepalive_s &&
	       a->reconnect_delay_s == b->reconnect_delay_s && a->pfx_len == b->pfx_len &&
	       (!a->pfx_len || !memcmp(a->pfx, b->pfx, a->pfx_len)) &&
	       secret_equal(a->password, b->password) &&
	       secret_equal(a->cert_password, b->cert_password);
}

bool br_device_cfg_equal(const br_device_cfg_t *a, const br_device_cfg_t *b)
{
	/* field by field (where a key was given is no change; poll_ keys count through the
	 * resolved interval_s) */
	return !strcmp(a->id, b->id) && !strcmp(a->name, b->name) && a->profile == b->profile &&
	       !strcmp(a->sn, b->sn) && !strcmp(a->model, b->model) &&
	       !strcmp(a->preset, b->preset) && a->slave == b->slave &&
	       a->timeout_ms == b->timeout_ms && a->retries == b->retries &&
	       a->controls == b->controls && a->all_entities == b->all_entities &&
	       a->allow_unverified == b->allow_unverified && a->enabled == b->enabled &&
	       !strcmp(a->transport, b->transport) && !strcmp(a->host, b->host) &&
	       a->tcp_port == b->tcp_port && a->unit == b->unit &&
	       !strcmp(a->address, b->address) && !strcmp(a->adapter, b->adapter) &&
	       !strcmp(a->ble_test_key, b->ble_test_key) &&
	       !memcmp(a->interval_s, b->interval_s, sizeof a->interval_s);
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
