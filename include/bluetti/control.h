/* control.h - gated writes of device settings (PROTOCOL.md §1.5, §4.10, §6).
 *
 * The only sanctioned way to change a device: every write passes the settings gate
 * (settings.h: the register must be a known setting, the value in its allowed set or range,
 * the profile known to support it, unverified settings only with an explicit flag) and the
 * deny list (power-off 2013, factory reset 2206, battery aging 2233, one-shot clears 2006,
 * credentials, grid protection ...), which no option can lift. A refused write sends
 * nothing at all.
 *
 * Sequence of an accepted write (each step only if the previous one succeeded; after any
 * failure nothing further is sent):
 *   1. FC03 read of the setting's block: the current (old) value;
 *   2. FC06 write of the one register, echo compared byte for byte with the request;
 *   3. FC03 read of the block again until the new value shows (opts->verify_reads reads,
 *      opts->verify_interval_ms apart).
 * Errors: BLT_E_DENIED (deny list, unknown register, unverified, wrong profile),
 * BLT_E_RANGE (value not allowed; the detail states the range), BLT_E_TIMEOUT (no reply /
 * no echo), BLT_E_MISMATCH (echo differs from the request), BLT_E_EXCEPTION (the detail
 * names the exception), BLT_E_NOT_APPLIED (echoed, but the read-back still shows another
 * value), BLT_E_DISCONNECTED (no client outside a dry run: nothing sent), or the client's
 * transport errors. No setting spans several registers today, so
 * FC10 is never used here.
 *
 * Every call of blt_setting_write / blt_register_write (accepted, refused, dry run or
 * failed) produces exactly one audit line, delivered to opts->audit:
 *   2025-01-31T12:00:00Z EL100V2 2434000112345 ac_output reg=2011 old=1(on) new=0(off)
 *   result=ok
 * (one line; failures add detail="..."). Library code never prints or opens files: the
 * program writes the line where it wants (stderr, an O_APPEND 0600 audit file).
 *
 * Ownership: nothing allocates; results live in caller memory. The client is borrowed.
 */
#ifndef BLUETTI_CONTROL_H
#define BLUETTI_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bluetti/bluetti.h>
#include <bluetti/client.h>
#include <bluetti/settings.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BLT_AUDIT_MAX 512
#define BLT_TOPIC_MAX 192

/* One audit record; line is the formatted one-line form (no newline). Pointers are valid
 * during the callback only. */
typedef struct blt_audit_rec {
	const char *time;    /* ISO 8601 UTC, "2025-01-31T12:00:00Z" */
	const char *model;   /* "?" if unknown */
	const char *sn;      /* "?" if unknown */
	const char *setting; /* setting name, or "register" for an unknown register */
	uint16_t reg;
	bool have_old;
	int32_t old_value;
	int32_t new_value;
	int err;            /* BLT_OK or the error returned */
	const char *result; /* "ok", "dry-run", "denied", "range", "timeout", "mismatch",
	                       "not-applied", "exception", "error" */
	const char *detail; /* "" on success */
	const char *line;
} blt_audit_rec_t;

typedef void (*blt_audit_fn)(void *user, const blt_audit_rec_t *rec);

typedef struct blt_write_opts {
	/* BLT_WRITE_ALLOW_UNVERIFIED (settings known from the firmware map only) and
	 * BLT_WRITE_ALLOW_PROFILE (a setting not known on this profile), from settings.h.
	 * Nothing lifts the deny list. */
	unsigned flags;
	/* Build the frame, fill the result, audit, send nothing (client may be NULL). */
	bool dry_run;
	/* How the client addresses the device: the options the client was (or would be)
	 * created with. Required: the slave address, envelope and topic of the frame come
	 * from here (same defaults as blt_client_new: preset NULL = "v2", slave/envelope -1 =
	 * the preset's), and model/sn name the device in the audit line. */
	const blt_client_opts_t *wire;
	int verify_reads;       /* read-backs before BLT_E_NOT_APPLIED; 0 = 3 */
	int verify_interval_ms; /* pause before each read-back after the first; 0 = 1000 */
	blt_audit_fn audit;     /* optional */
	void *audit_user;
} blt_write_opts_t;

typedef struct blt_write_result {
	const blt_setting_t *setting; /* NULL if the register is no known setting */
	uint16_t reg;
	int32_t value; /* the value asked for */
	bool have_old; /* old_value read from the device */
	int32_t old_value;
	bool have_readback; /* readback read from the device after the write */
	int32_t readback;
	bool write_sent;   /* the FC06 frame was handed to the client */
	uint8_t exception; /* Modbus exception code of the reply, 0 if none */
	unsigned requests; /* requests this call handed to the client (reads + write) */
	/* The write exactly as built: RTU frame, the MQTT payload with its envelope, the
	 * topic it is published on. Filled once the gate has accepted the write. */
	uint8_t rtu[BLT_RTU_MAX];
	size_t rtu_len;
	uint8_t payload[BLT_PAYLOAD_MAX];
	size_t payload_len;
	char topic[BLT_TOPIC_MAX];
	char audit[BLT_AUDIT_MAX]; /* the audit line */
} blt_write_result_t;

/* Write a named setting (see blt_setting_find / blt_setting_parse_value). profile_id is the
 * device profile ("EL100V2"); NULL is refused (BLT_E_INVAL): the profile check is part of the
 * gate. result and d may be NULL. */
BLT_API blt_err_t blt_setting_write(blt_client_t *c, const char *profile_id, const blt_setting_t *s,
                                    int32_t value, const blt_write_opts_t *o,
                                    blt_write_result_t *result, blt_detail_t *d);

/* Write register reg: allowed only if reg is a known setting (then exactly as
 * blt_setting_write), never if it is on the deny list; any other register is BLT_E_DENIED. */
BLT_API blt_err_t blt_register_write(blt_client_t *c, const char *profile_id, uint16_t reg,
                                     uint32_t value, const blt_write_opts_t *o,
                                     blt_write_result_t *result, blt_detail_t *d);

/* Read the current value of a setting: one FC03 read of its block. Reading is never gated
 * (profile_id may be NULL); the value is the register as the catalog row shows it (flags:
 * the low byte). */
BLT_API blt_err_t blt_setting_read(blt_client_t *c, const char *profile_id, const blt_setting_t *s,
                                   int32_t *value, blt_detail_t *d);

/* Registers to read for setting s: the start (its block) and count (enough to cover the
 * register, at least the catalog block's default). */
BLT_API void blt_setting_read_span(const blt_setting_t *s, uint16_t *start, uint16_t *count);

/* Extract the value of s from register data read at start (nbytes bytes). BLT_E_MISSING
 * if the data does not reach the register. */
BLT_API blt_err_t blt_setting_extract(const blt_setting_t *s, uint16_t start, const uint8_t *data,
                                      size_t nbytes, int32_t *value, blt_detail_t *d);

/* Format a value for people: "0(off)", "2(turbo)", "300" (enum/switch names added). */
BLT_API void blt_setting_format_value(const blt_setting_t *s, int32_t value, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
