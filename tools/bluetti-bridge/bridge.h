/* bridge.h - internals of bluetti-bridge: configuration (config.c: parse and validate,
 * secrets.c: the secrets from their files), the account (br_account.c), Home Assistant
 * entities, discovery and state documents (ha.c, pure functions of the device state), and
 * the runtime (runtime.h and its parts: runtime.c, br_dev.c, poll.c, publish.c,
 * commands.c, stats.c, outbox.c, log.c).
 *
 * Ownership: br_config_load allocates the config (free with br_config_free, which wipes
 * the secrets). Discovery and state documents are malloc'd strings (free()).
 */
#ifndef BLT_BRIDGE_H
#define BLT_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <bluetti/bluetti.h>
#include <bluetti/device.h>
#include <bluetti/settings.h>

#define BR_PROG        "bluetti-bridge"
#define BR_SUPPORT_URL "https://github.com/bluetti-c/bluetti-c" /* origin.support_url */
#define BR_MAX_DEVICES 10000 /* polled concurrently; see docs/performance.md */
#define BR_MAX_GROUPS  16
#define BR_PATH        512
#define BR_ID_MAX      65 /* topic segment: <= 64 characters + NUL */
#define BR_TCP_POLL_S  30 /* modbus-tcp: default (and shortest default) poll interval */

/* Secrets may come from the environment (documented in --help and the man page). */
#define BR_ENV_UP_CERT_PASSWORD "BLUETTI_CERT_PASSWORD"
#define BR_ENV_UP_PASSWORD      "BLUETTI_MQTT_PASSWORD"
#define BR_ENV_HA_PASSWORD      "BLUETTI_HA_PASSWORD"
#define BR_ENV_HA_CERT_PASSWORD "BLUETTI_HA_CERT_PASSWORD"

/* ---- configuration ------------------------------------------------------------------ */

typedef struct br_mqtt_cfg {
	char host[256];
	int port; /* 0 = default for the TLS setting */
	bool tls;
	char ca[BR_PATH];
	char cert[BR_PATH]; /* PKCS#12 client certificate + key */
	char cert_password_file[BR_PATH];
	char tls_name[256];
	bool insecure;
	/* OpenSSL cipher string for this broker only ("" = the preset: "DEFAULT:@SECLEVEL=0"
	 * for the Bluetti cloud, whose keys are RSA-1024 / SHA-1; OpenSSL's defaults else) */
	char ciphers[128];
	bool cloud; /* upstream is the Bluetti cloud (account = or a bluettipower.com host) */
	char user[256];
	char password_file[BR_PATH];
	char client_id[128];
	int keepalive_s;
	/* first reconnect wait after a drop, s (jittered between half and all of it; doubles
	 * on each failure up to 4x, at least 30 s); upstream default 90 (the Bluetti broker
	 * refuses a session sooner than ~45 s after the last one ended, PROTOCOL.md 1.10) */
	int reconnect_delay_s;
	/* resolved by br_config_load */
	uint8_t *pfx; /* certificate bytes (wiped on free) */
	size_t pfx_len;
	char *password, *cert_password;  /* NULL if none */
	char password_src[BR_PATH + 32]; /* "file X" / "environment NAME" / "none" */
	char cert_password_src[BR_PATH + 32];
} br_mqtt_cfg_t;

typedef struct br_poll_cfg {
	char group[32];
	int interval_s; /* 0 = group disabled */
	int line;
} br_poll_cfg_t;

typedef struct br_device_cfg {
	char id[BR_ID_MAX]; /* section name: topic segment and HA object id */
	char name[128];     /* friendly name (HA device name) */
	char profile_name[64];
	const blt_profile_t *profile;
	char sn[BR_ID_MAX];
	char model[BR_ID_MAX]; /* topic {model}; default the profile's */
	char preset[32];       /* wire preset; default the profile's */
	int slave;             /* -1 = preset's */
	int timeout_ms;        /* per request */
	int retries;
	bool controls;         /* expose switch/select/number entities */
	bool all_entities;     /* enable by default the noisy ones too (cells, sensors,
	                          last_seen); off: they exist but start disabled in HA */
	bool allow_unverified; /* let settings marked unverified be written */
	bool enabled;
	/* transport = cloud (default) | ble: Bluetooth LE to address | auto: Bluetooth when
	 * the link is up, the cloud otherwise (docs/bluetooth.md) | modbus-tcp: the device's
	 * Modbus TCP server at host:port, unit | local-mqtt: the device's own MQTT client on
	 * the [local-mqtt] broker (docs/local.md) */
	char transport[16];
	char host[256]; /* modbus-tcp: "H" or "H:PORT" as given */
	int tcp_port;   /* resolved from host; 502 by default */
	int unit;       /* modbus-tcp unit id (default 1) */
	char address[18];
	char adapter[17];
	char ble_test_key[BR_PATH]; /* TEST ONLY: a simulator's verify key file */
	br_poll_cfg_t poll[BR_MAX_GROUPS];
	size_t npoll;
	int interval_s[BR_MAX_GROUPS]; /* resolved, per profile group; 0 = off */
	int line;                      /* of the section header */
} br_device_cfg_t;

typedef struct br_config {
	char path[BR_PATH];
	int log_level;     /* blt_log_level_t; -1 = not set in the file */
	int offline_after; /* consecutive failed requests before a device is offline */
	int backoff_max_s; /* longest wait between probes of an offline device */
	br_mqtt_cfg_t up, down;
	char account[256];
	int account_line;
	/* [local-mqtt]: the broker the local-mqtt devices' own MQTT clients use (LOCAL.md §2);
	 * without the section, the [homeassistant] broker's settings */
	br_mqtt_cfg_t lan;
	bool lan_section;
	char base_topic[128];
	char discovery_prefix[128];
	bool discovery;       /* publish discovery documents at all */
	int discovery_form;   /* br_disco_form_t */
	br_device_cfg_t *dev; /* ndev entries (grown per [device] section), freed with the config */
	size_t ndev, devcap;
} br_config_t;

typedef enum br_disco_form {
	BR_DISCO_DEVICE = 0, /* one document per HA device with its components (HA 2024.11+) */
	BR_DISCO_ENTITY,     /* one document per entity (older Home Assistant) */
} br_disco_form_t;

#define BR_MAX_ERRORS 32
typedef struct br_errors {
	size_t n;
	size_t dropped;
	char msg[BR_MAX_ERRORS][320];
	int line[BR_MAX_ERRORS]; /* for sorting; 0 = no line */
} br_errors_t;

/* Parse and validate text (the content of a file named name); with load_secrets, also read
 * the certificate and the secrets from their files or environment variables. On error
 * returns BLT_E_CONFIG with one message per problem in errs ("name:line: [section] key:
 * what is wrong"); *out is NULL then. */
int br_config_parse(const char *text, size_t len, const char *name, bool load_secrets,
                    br_config_t **out, br_errors_t *errs);
/* Read path and br_config_parse it. */
int br_config_load(const char *path, bool load_secrets, br_config_t **out, br_errors_t *errs);
/* Read the certificates and secrets cfg names (files, environment, the account's cached
 * login; local files only, no network). Problems are added to errs; BLT_E_CONFIG then. */
int br_config_load_secrets(br_config_t *cfg, br_errors_t *errs);
/* Finish a device whose model and profile came from the account (br_account.c):
 * validates it as br_config_parse would; problems go to errs. */
void br_config_finish_device(br_config_t *cfg, br_device_cfg_t *d, br_errors_t *errs);
/* Section equality for a reload (secrets compared by content, line numbers ignored). */
bool br_mqtt_cfg_equal(const br_mqtt_cfg_t *a, const br_mqtt_cfg_t *b);
bool br_device_cfg_equal(const br_device_cfg_t *a, const br_device_cfg_t *b);
/* What a device's transport needs: the upstream (cloud) broker, the [local-mqtt] one. */
bool br_device_uses_upstream(const br_device_cfg_t *d);
bool br_device_uses_lan(const br_device_cfg_t *d);
/* The resolved setup, secrets never shown. */
void br_config_print(const br_config_t *c, FILE *out);
void br_config_free(br_config_t *c);
/* "error"/"warn"/"info"/"debug" (and a few aliases) -> blt_log_level_t; -1 if unknown. */
int br_log_level_parse(const char *s);
const char *br_log_level_name(int level);
/* True if t is a valid MQTT topic to publish under: non-empty, no wildcards, no empty
 * level, no leading or trailing '/', no control characters, at most 128 bytes. */
bool br_topic_ok(const char *t);

/* True if device d exposes setting s as a control: controls on, the profile supports it,
 * not denied, verified (or allow_unverified), and its block is polled by a profile group
 * that is not switched off (so its state is known). */
bool br_setting_exposed(const br_device_cfg_t *d, const blt_setting_t *s);
/* True if the device polls block id (a group containing it has a non-zero interval). */
bool br_device_polls_block(const br_device_cfg_t *d, uint16_t id);

/* ---- Home Assistant entities -------------------------------------------------------- */

typedef enum br_component {
	BR_C_SENSOR = 0,
	BR_C_BINARY_SENSOR,
	BR_C_SWITCH,
	BR_C_SELECT,
	BR_C_NUMBER,
} br_component_t;

const char *br_component_name(br_component_t c); /* "sensor", "binary_sensor", ... */

/* Values of the link to the device (the device's derived quantities are the library's
 * table: blt_derived_t). */
typedef enum br_derived {
	BR_D_NONE = 0,
	BR_D_RSSI,
	BR_D_LAST_SEEN,
	BR_D_LINK, /* transport = ble | auto: the path in use (bluetooth, cloud, none) */
} br_derived_t;

typedef struct br_entity {
	char key[64];  /* key in the state document; unique_id = bluetti_<sn>_<key> */
	char name[96]; /* entity name shown under the HA device */
	uint8_t component;
	uint8_t sub;     /* 0 = the power station, 1 = its battery pack (sub-device) */
	uint8_t derived; /* br_derived_t: a value of the link */
	int8_t decimals; /* suggested display precision; -1 none */
	const char *unit, *device_class, *state_class, *icon;
	bool diagnostic, disabled;
	const blt_device_value_t *v;  /* catalog value (valid until the next update) */
	const blt_setting_t *setting; /* switch / select / number */
	const blt_derived_t *dq;      /* a derived quantity of the device */
	/* a node of the system (NODE_INFO: pack, hub): its own HA device, via_device the
	 * power station; node_item is what of the node's state the entity shows */
	bool node;
	uint8_t node_slave, node_item, node_index;
} br_entity_t;

/* Everything the generators need to know about one configured device. */
typedef struct br_ha_ctx {
	const char *base;   /* base topic, "bluetti" */
	const char *prefix; /* discovery prefix, "homeassistant" */
	const br_device_cfg_t *cfg;
	const blt_device_t *dev;
	bool have_rssi;
	int rssi;
	uint64_t last_seen_unix_ms; /* 0 = never */
	const char *link;           /* "bluetooth", "cloud", "none"; NULL: no link entity */
	const char *via_device;     /* identifier of the bridge's own HA device; NULL = none */
} br_ha_ctx_t;

#define BR_MAX_ENTITIES 768

/* The entities of a device as its state is now: one per useful catalog value of the blocks
 * read so far (unit, enum or derived), the settings it can control, and diagnostics. The
 * order and keys depend only on the set of values, never on timing. Returns the count. */
size_t br_entities(const br_ha_ctx_t *c, br_entity_t *out, size_t cap);
/* Discovery topic "<prefix>/<component>/bluetti_<sn>/<key>/config" into topic[cap]. */
int br_discovery_topic(const br_ha_ctx_t *c, const br_entity_t *e, char *topic, size_t cap);
/* The discovery document (JSON) of one entity; NULL on allocation failure. */
char *br_discovery_doc(const br_ha_ctx_t *c, const br_entity_t *e);
/* Device-based discovery (HA 2024.11+): one document per HA device. The power station's
 * topic is "<prefix>/device/bluetti_<sn>/config"; its document holds the device (dev), the
 * origin (o) and every entity of the station as a component (cmps, keyed by the entity
 * key, each with its platform p). NULL on allocation failure. */
int br_device_discovery_topic(const br_ha_ctx_t *c, char *topic, size_t cap);
char *br_device_discovery_doc(const br_ha_ctx_t *c, const br_entity_t *ents, size_t n);

/* One device document: topic, the node id in it (the device's identifier) and the JSON
 * (malloc'd; br_devdocs_free). */
typedef struct br_devdoc {
	char topic[300];
	char node[BR_ID_MAX + 32];
	char *doc;
} br_devdoc_t;

/* 1 power station + 1 battery pack + the nodes of NODE_INFO (block 21000: at most 15) */
#define BR_MAX_DEVDOCS 17

/* Every device document a device needs, the power station first (the others name it as
 * via_device): then its battery pack ("<prefix>/device/bluetti_<sn>_pack/config") and
 * each NODE_INFO node ("bluetti_<sn>_pack51", "..._hub11"), each with exactly the
 * entities of ents it owns; a sub-device without entities gets none. Every entity of ents
 * is a component of exactly one document, with the unique_id of the per-entity form.
 * Returns the count (0 on allocation failure, nothing to free then). */
size_t br_device_docs(const br_ha_ctx_t *c, const br_entity_t *ents, size_t n, br_devdoc_t *out,
                      size_t cap);
void br_devdocs_free(br_devdoc_t *docs, size_t n);
/* The state document: every entity's key with its value (null if unknown). */
char *br_state_doc(const br_ha_ctx_t *c, const br_entity_t *e, size_t n);
/* Topics of a device: "<base>/<id>/state", ".../availability", ".../set/<setting>". */
int br_device_topic(const br_ha_ctx_t *c, const char *leaf, char *topic, size_t cap);
/* "<base>/bridge/state" */
int br_bridge_topic(const char *base, char *topic, size_t cap);
/* Normalise an HA command payload for blt_setting_parse_value ("ON" -> "on", "5.0" -> "5")
 * into out[cap]; false if it cannot be a value at all. */
bool br_command_text(const char *payload, size_t len, char *out, size_t cap);
/* Software versions of block 1100 as one sw_version string ("inverter_arm 220415, ...");
 * empty if unknown. */
void br_sw_version(const blt_device_t *dev, char *out, size_t cap);

/* ---- runtime ------------------------------------------------------------------------ */

typedef struct br_runtime br_runtime_t;

/* Flags the signal handlers set; the loop polls them (the only mutable file-scope state
 * of the bridge besides the log settings). */
extern volatile int br_stop_requested;
extern volatile int br_reload_requested;
extern volatile int br_stats_reset_requested;

/* Run the bridge with cfg (loaded from path; br_run owns and frees it) until a stop
 * request; a reload request re-reads path and, if valid, applies the difference: every
 * connection whose section did not change is kept, only changed, added and removed
 * devices are touched (removed ones get their entities cleared); an invalid file keeps
 * the running configuration. cli_level >= 0 overrides the file's log_level. stats_path
 * (--stats FILE, NULL = off): a JSON line of counters and read round-trip percentiles,
 * rewritten every second (SIGUSR1 restarts the histogram). Returns the exit status:
 * 0 after a stop, 1 on a fatal error (logged). */
int br_run(const char *path, br_config_t *cfg, int cli_level, const char *stats_path);

/* Logging (stderr; systemd journal priorities when JOURNAL_STREAM is set). */
void br_log_init(int level);
void br_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
