/* Gated writes of settings (include/bluetti/control.h): the settings gate and deny list
 * first, then read old value -> FC06 with a byte-for-byte echo check -> read back.
 * Sources: PROTOCOL.md §1.5 (FC06 echo), §4.10 (settings blocks), §6 (writable registers,
 * deny list, "the change shows up in the next read of 2000/2200"). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <bluetti/bluetti.h>
#include <bluetti/catalog.h>
#include <bluetti/client.h>
#include <bluetti/modbus.h>
#include <bluetti/control.h>
#include <bluetti/settings.h>

#define DEFAULT_VERIFY_READS       3
#define DEFAULT_VERIFY_INTERVAL_MS 1000

/* ---- values ------------------------------------------------------------------------ */

/* The catalog row that shows setting s, or NULL. */
static const blt_field_t *setting_row(const blt_setting_t *s)
{
	const blt_block_t *b;

	if (s->row)
		return s->row;
	b = blt_catalog_find(s->block);
	for (size_t i = 0; b && s->field && i < b->nfields; i++)
		if (!b->fields[i].repeat && strcmp(b->fields[i].name, s->field) == 0)
			return &b->fields[i];
	return NULL;
}

void blt_setting_read_span(const blt_setting_t *s, uint16_t *start, uint16_t *count)
{
	const blt_block_t *b;
	unsigned n;

	if (!s) {
		*start = 0;
		*count = 0;
		return;
	}
	b = blt_catalog_find(s->block);
	n = (unsigned)(s->reg - s->block) + 1u;
	if (b && b->regs > n)
		n = b->regs;
	if (n > BLT_MAX_READ_REGS)
		n = (unsigned)(s->reg - s->block) + 1u; /* settings lie within 125 of the block */
	*start = s->block;
	*count = (uint16_t)n;
}

blt_err_t blt_setting_extract(const blt_setting_t *s, uint16_t start, const uint8_t *data,
                              size_t nbytes, int32_t *value, blt_detail_t *d)
{
	const blt_field_t *f;
	size_t off;

	if (!s || !data || !value)
		return blt_detail_set(d, BLT_E_INVAL, "no setting, data or value");
	if (s->reg < start)
		return blt_detail_set(d, BLT_E_MISSING, "%s: register %u is before the data at %u",
		                      s->name, s->reg, start);
	f = setting_row(s);
	if (f && 2L * s->block + f->offset >= 2L * start &&
	    (f->type == BLT_T_U8 || f->type == BLT_T_U16)) {
		/* The row says how much of the register the setting is (flags: low byte). */
		off = (size_t)(2L * s->block + f->offset - 2L * start);
		if (off + blt_type_size((blt_type_t)f->type) > nbytes)
			return blt_detail_set(d, BLT_E_MISSING,
			                      "%s: byte %zu is beyond the %zu bytes read", s->name,
			                      off, nbytes);
		*value =
		    f->type == BLT_T_U8 ? data[off] : (int32_t)(data[off] << 8 | data[off + 1]);
		if (s->kind == BLT_SK_SWITCH2 && f->mask) /* this switch's bits only */
			*value &= (int32_t)f->mask;
		return BLT_OK;
	}
	off = 2u * (size_t)(s->reg - start);
	if (off + 2 > nbytes)
		return blt_detail_set(d, BLT_E_MISSING,
		                      "%s: register %u is beyond the %zu registers read from %u",
		                      s->name, s->reg, nbytes / 2, start);
	*value = (int32_t)(data[off] << 8 | data[off + 1]);
	return BLT_OK;
}

void blt_setting_format_value(const blt_setting_t *s, int32_t value, char *buf, size_t cap)
{
	const char *name;
	if (!buf || cap == 0)
		return;
	name = blt_setting_value_name(s, value);
	if (name)
		snprintf(buf, cap, "%ld(%s)", (long)value, name);
	else
		snprintf(buf, cap, "%ld", (long)value);
}

/* ---- wire: the frame as the client will send it ------------------------------------ */

typedef struct wire {
	uint8_t slave;
	blt_envelope_t env;
	const char *pub_tmpl;
	const char *model, *sn;
	bool open_map; /* Modbus TCP: the frame names the setting's public alias (LOCAL.md §1.4) */
} wire_t;

static int wire_resolve(const blt_client_opts_t *o, wire_t *w, blt_detail_t *d)
{
	const char *pname = o && o->preset ? o->preset : "v2";
	const blt_wire_preset_t *p = blt_wire_preset_find(pname);

	if (!o)
		return blt_detail_set(d, BLT_E_INVAL,
		                      "write options name no device (opts->wire is required)");
	if (!p)
		return blt_detail_set(d, BLT_E_CONFIG, "unknown wire preset '%.40s'", pname);
	if (o->slave > 247 || o->envelope > (int)BLT_ENV_V2)
		return blt_detail_set(d, BLT_E_CONFIG, "slave %d / envelope %d out of range",
		                      o->slave, o->envelope);
	w->slave = o->slave >= 0 ? (uint8_t)o->slave : p->slave;
	w->env = o->envelope >= 0 ? (blt_envelope_t)o->envelope : (blt_envelope_t)p->envelope;
	w->pub_tmpl = o->pub_topic ? o->pub_topic : p->pub_topic;
	w->model = o->model;
	w->sn = o->sn;
	w->open_map = p->open_map;
	return BLT_OK;
}

/* A public Modbus TCP address whose internal register is on the deny list (57026 is 2013,
 * power-off): never written, whatever the transport. */
static bool alias_denied(uint16_t pub, uint16_t *internal, const char **why)
{
	const blt_tcp_run_t *run = blt_tcpmap_find_public(pub);
	uint16_t reg;
	if (!run)
		return false;
	reg = (uint16_t)(run->internal + (pub - run->pub));
	if (internal)
		*internal = reg;
	return blt_register_denied(reg, why);
}

static int build_frame(const wire_t *w, uint16_t reg, uint16_t value, blt_write_result_t *r,
                       blt_detail_t *d)
{
	int rc;
	if (w->open_map) {
		/* the setting's public alias; the device forwards it to reg and echoes reg */
		uint16_t pub, back = 0;
		blt_detail_t why = {{0}};
		rc = blt_openmap_write_target(reg, &pub, &why);
		if (rc != BLT_OK)
			return blt_detail_set(d, BLT_E_DENIED,
			                      "cannot be written over Modbus TCP: %s", why.text);
		if (alias_denied(pub, &back, NULL) || back != reg || blt_register_denied(pub, NULL))
			return blt_detail_set(d, BLT_E_DENIED,
			                      "Modbus TCP address %u is never written", pub);
		reg = pub;
	}
	rc = blt_rtu_build_write1(w->slave, reg, value, r->rtu, sizeof r->rtu, &r->rtu_len);
	if (rc == BLT_OK)
		rc = blt_env_wrap(w->env, reg, 0, r->rtu, r->rtu_len, r->payload, sizeof r->payload,
		                  &r->payload_len);
	if (rc != BLT_OK)
		return blt_detail_set(d, rc, "cannot build the write frame for register %u", reg);
	return blt_topic_expand(w->pub_tmpl, w->model, w->sn, r->topic, sizeof r->topic, d);
}

/* ---- audit --------------------------------------------------------------------------- */

static const char *result_name(int err, bool dry_run)
{
	if (err == BLT_OK)
		return dry_run ? "dry-run" : "ok";
	return blt_err_name(err); /* "denied", "range", "timeout", "mismatch", ... */
}

/* Printable, quote-free copy of a detail text for the one-line audit record. */
static void clean_detail(const char *in, char *out, size_t cap)
{
	size_t o = 0;
	for (; in && *in && o + 1 < cap; in++) {
		unsigned char ch = (unsigned char)*in;
		out[o++] = ch == '"' ? '\'' : (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch;
	}
	out[o] = '\0';
}

static const char *seg_or_unknown(const char *s)
{
	return s && blt_topic_segment_ok(s) ? s : "?";
}

static int audit(const blt_write_opts_t *o, const blt_setting_t *s, uint16_t reg, int32_t value,
                 int err, blt_write_result_t *r, const blt_detail_t *d)
{
	char ts[32], oldv[48], newv[48], det[sizeof d->text];
	struct tm tm;
	time_t now = time(NULL);
	blt_audit_rec_t rec;
	bool dry = o && o->dry_run;
	int n;

	if (!gmtime_r(&now, &tm) || strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(ts, sizeof ts, "%lld", (long long)now);
	if (r->have_old)
		blt_setting_format_value(s, r->old_value, oldv, sizeof oldv);
	else
		snprintf(oldv, sizeof oldv, "?");
	blt_setting_format_value(s, value, newv, sizeof newv);
	clean_detail(err == BLT_OK ? "" : d->text, det, sizeof det);

	memset(&rec, 0, sizeof rec);
	rec.time = ts;
	rec.model = seg_or_unknown(o && o->wire ? o->wire->model : NULL);
	rec.sn = seg_or_unknown(o && o->wire ? o->wire->sn : NULL);
	rec.setting = s ? s->name : "register";
	rec.reg = reg;
	rec.have_old = r->have_old;
	rec.old_value = r->old_value;
	rec.new_value = value;
	rec.err = err;
	rec.result = result_name(err, dry);
	rec.detail = det;
	n = snprintf(r->audit, sizeof r->audit, "%s %s %s %s reg=%u old=%s new=%s result=%s", ts,
	             rec.model, rec.sn, rec.setting, reg, oldv, newv, rec.result);
	if (err != BLT_OK && n > 0 && (size_t)n < sizeof r->audit)
		snprintf(r->audit + n, sizeof r->audit - (size_t)n, " detail=\"%s\"", det);
	rec.line = r->audit;
	if (o && o->audit)
		o->audit(o->audit_user, &rec);
	return err;
}

/* ---- the write ----------------------------------------------------------------------- */

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0)
		;
}

/* One FC03 read of the setting's block and extraction of its value. */
static int read_value(blt_client_t *c, const blt_setting_t *s, int32_t *v, unsigned *requests,
                      blt_detail_t *d)
{
	uint8_t data[2 * BLT_MAX_READ_REGS];
	uint16_t start, count;
	size_t n = 0;
	int rc;

	if (requests)
		(*requests)++;
	if (blt_client_open_map(c)) {
		/* Modbus TCP: the one register through the open map (a block read would touch
		 * unmapped addresses, which the device never answers) */
		uint8_t present[1] = {0};
		rc = blt_client_read_mapped(c, s->reg, 1, data, sizeof data, present,
		                            sizeof present, NULL, d);
		if (rc != BLT_OK)
			return rc;
		if (!(present[0] & 1))
			return blt_detail_set(d, BLT_E_MISSING,
			                      "%s: register %u was not delivered over Modbus TCP",
			                      s->name, s->reg);
		return blt_setting_extract(s, s->reg, data, 2, v, d);
	}
	blt_setting_read_span(s, &start, &count);
	rc = blt_client_read(c, start, count, data, sizeof data, &n, d);
	if (rc != BLT_OK)
		return rc;
	return blt_setting_extract(s, start, data, n, v, d);
}

/* The echo a Modbus TCP server gives for the FC06 in r: the same frame naming the
 * internal register (LOCAL.md §1.3: a write to 57005 is acknowledged as 2012). */
static bool internal_echo(const blt_setting_t *s, const blt_write_result_t *r, const uint8_t *reply,
                          size_t rlen)
{
	uint8_t want[BLT_RTU_MAX];
	size_t n = 0;
	if (r->rtu_len < 6 ||
	    blt_rtu_build_write1(r->rtu[0], s->reg, (uint16_t)(r->rtu[4] << 8 | r->rtu[5]), want,
	                         sizeof want, &n) != BLT_OK)
		return false;
	return rlen == n && memcmp(reply, want, n) == 0;
}

/* FC06 through the client; the echo must be the request, byte for byte (§1.5), or over
 * Modbus TCP the request naming the internal register. Over Modbus TCP exceptions 05/06
 * mean busy: wait 1 s and send it once more (LOCAL.md §1.5). */
static int send_write(blt_client_t *c, const blt_setting_t *s, blt_write_result_t *r,
                      blt_detail_t *d)
{
	uint8_t reply[BLT_RTU_MAX];
	size_t rlen = 0;
	uint8_t exc = 0;
	blt_detail_t cd = {{0}};
	char hex[2 * BLT_RTU_MAX + 1];
	bool open_map = blt_client_open_map(c);
	int rc;

	r->requests++;
	r->write_sent = true;
	rc = blt_client_transact_once(c, r->rtu, r->rtu_len, reply, sizeof reply, &rlen, &exc, &cd);
	if (rc == BLT_E_EXCEPTION && open_map && (exc == 5 || exc == 6)) {
		blt_log(BLT_LOG_INFO,
		        "%s: the write of register %u was answered with exception %u (%s); "
		        "sending it once more in 1 s",
		        s->name, s->reg, exc, blt_exception_name(exc));
		sleep_ms(1000);
		r->requests++;
		exc = 0;
		memset(&cd, 0, sizeof cd);
		rc = blt_client_transact_once(c, r->rtu, r->rtu_len, reply, sizeof reply, &rlen,
		                              &exc, &cd);
	}
	if (rc == BLT_E_EXCEPTION) {
		r->exception = exc;
		return blt_detail_set(d, rc,
		                      "%s: device answered the write of register %u with "
		                      "exception %u (%s)",
		                      s->name, s->reg, exc, blt_exception_name(exc));
	}
	if (rc == BLT_E_TIMEOUT)
		return blt_detail_set(d, rc, "%s: no echo of the write of register %u: %s", s->name,
		                      s->reg, cd.text);
	if (rc != BLT_OK)
		return blt_detail_set(d, rc, "%s: write of register %u: %s", s->name, s->reg,
		                      cd.text);
	if (open_map && internal_echo(s, r, reply, rlen))
		return BLT_OK;
	if (rlen != r->rtu_len || memcmp(reply, r->rtu, rlen) != 0) {
		blt_hex_encode(reply, rlen < sizeof reply ? rlen : sizeof reply, hex, sizeof hex);
		return blt_detail_set(d, BLT_E_MISMATCH,
		                      "%s: echo of the write of register %u differs from the "
		                      "request: got %.40s",
		                      s->name, s->reg, hex);
	}
	return BLT_OK;
}

blt_err_t blt_setting_write(blt_client_t *c, const char *profile_id, const blt_setting_t *s,
                            int32_t value, const blt_write_opts_t *o, blt_write_result_t *result,
                            blt_detail_t *d)
{
	static const blt_write_opts_t no_opts;
	blt_write_result_t local;
	blt_write_result_t *r = result ? result : &local;
	blt_detail_t dd = {{0}};
	wire_t w = {0};
	int reads, interval, rc;

	if (!d)
		d = &dd;
	if (!o)
		o = &no_opts;
	memset(r, 0, sizeof *r);
	r->setting = s;
	r->reg = s ? s->reg : 0;
	r->value = value;
	if (!s)
		return audit(o, NULL, 0, value, blt_detail_set(d, BLT_E_INVAL, "no setting given"),
		             r, d);
	if (!profile_id)
		return audit(o, s, s->reg, value,
		             blt_detail_set(d, BLT_E_INVAL,
		                            "%s: no device profile given (the gate checks it)",
		                            s->name),
		             r, d);

	/* The gate: deny list, value, verification status, profile. Nothing is sent yet. */
	rc = blt_setting_check_write(s, profile_id, value, o->flags, d);
	if (rc == BLT_OK && value > 0xFFFF)
		rc = blt_detail_set(d, BLT_E_RANGE, "%s: %ld does not fit a register", s->name,
		                    (long)value);
	if (rc != BLT_OK)
		return audit(o, s, s->reg, value, rc, r, d);
	/* Belt and braces: the deny list once more, right before anything is built. */
	if (blt_register_denied(s->reg, NULL))
		return audit(
		    o, s, s->reg, value,
		    blt_detail_set(d, BLT_E_DENIED, "register %u is never written", s->reg), r, d);

	rc = wire_resolve(o->wire, &w, d);
	if (rc == BLT_OK)
		rc = build_frame(&w, s->reg, (uint16_t)value, r, d);
	if (rc != BLT_OK || o->dry_run)
		return audit(o, s, s->reg, value, rc, r, d);
	if (!c)
		return audit(o, s, s->reg, value,
		             blt_detail_set(d, BLT_E_DISCONNECTED,
		                            "%s: no connection to the device, nothing sent",
		                            s->name),
		             r, d);

	/* 1. the old value */
	rc = read_value(c, s, &r->old_value, &r->requests, d);
	if (rc != BLT_OK) {
		char msg[sizeof d->text];
		snprintf(msg, sizeof msg, "%s", d->text);
		blt_detail_set(d, rc, "%s: reading the current value failed, nothing written: %s",
		               s->name, msg);
		return audit(o, s, s->reg, value, rc, r, d);
	}
	r->have_old = true;

	/* 2. the write */
	rc = send_write(c, s, r, d);
	if (rc != BLT_OK)
		return audit(o, s, s->reg, value, rc, r, d);

	/* 3. read back until the device shows the value */
	reads = o->verify_reads > 0 ? o->verify_reads : DEFAULT_VERIFY_READS;
	interval = o->verify_interval_ms > 0 ? o->verify_interval_ms : DEFAULT_VERIFY_INTERVAL_MS;
	for (int i = 0; i < reads; i++) {
		if (i > 0)
			sleep_ms(interval);
		rc = read_value(c, s, &r->readback, &r->requests, d);
		if (rc != BLT_OK) {
			char msg[sizeof d->text];
			snprintf(msg, sizeof msg, "%s", d->text);
			blt_detail_set(d, rc, "%s: write echoed, but reading it back failed: %s",
			               s->name, msg);
			return audit(o, s, s->reg, value, rc, r, d);
		}
		r->have_readback = true;
		if (r->readback == value)
			return audit(o, s, s->reg, value, BLT_OK, r, d);
	}
	{
		char got[48], want[48];
		blt_setting_format_value(s, r->readback, got, sizeof got);
		blt_setting_format_value(s, value, want, sizeof want);
		blt_detail_set(d, BLT_E_NOT_APPLIED,
		               "%s: device echoed the write but register %u still reads %s (wanted "
		               "%s) after %d read%s",
		               s->name, s->reg, got, want, reads, reads == 1 ? "" : "s");
	}
	return audit(o, s, s->reg, value, BLT_E_NOT_APPLIED, r, d);
}

blt_err_t blt_register_write(blt_client_t *c, const char *profile_id, uint16_t reg, uint32_t value,
                             const blt_write_opts_t *o, blt_write_result_t *result, blt_detail_t *d)
{
	const blt_setting_t *s;
	blt_write_result_t local;
	blt_write_result_t *r = result ? result : &local;
	blt_detail_t dd = {{0}};
	const char *why = NULL;
	int32_t v = value > (uint32_t)INT32_MAX ? INT32_MAX : (int32_t)value;

	if (!d)
		d = &dd;
	{
		/* a Modbus TCP public address: refused if it is an alias of a denied register
		 * (57026 = 2013, power-off); over Modbus TCP it names its internal register's
		 * setting, elsewhere it is no register at all */
		uint16_t internal = 0;
		const blt_wire_preset_t *p =
		    blt_wire_preset_find(o && o->wire && o->wire->preset ? o->wire->preset : "v2");
		if (alias_denied(reg, &internal, &why)) {
			memset(r, 0, sizeof *r);
			r->reg = reg;
			r->value = v;
			r->setting = blt_setting_by_register(internal);
			return audit(
			    o, r->setting, reg, v,
			    blt_detail_set(d, BLT_E_DENIED,
			                   "register %u is the Modbus TCP alias of %u, which "
			                   "is never written: %s",
			                   reg, internal, why),
			    r, d);
		}
		if (internal && p && p->open_map)
			reg = internal;
	}
	if (blt_register_denied(reg, &why)) {
		memset(r, 0, sizeof *r);
		r->reg = reg;
		r->value = v;
		r->setting = blt_setting_by_register(reg);
		return audit(
		    o, r->setting, reg, v,
		    blt_detail_set(d, BLT_E_DENIED, "register %u is never written: %s", reg, why),
		    r, d);
	}
	s = blt_setting_by_register(reg);
	if (!s) {
		memset(r, 0, sizeof *r);
		r->reg = reg;
		r->value = v;
		return audit(o, NULL, reg, v,
		             blt_detail_set(d, BLT_E_DENIED,
		                            "register %u is not a known writable setting (see "
		                            "`bluetti settings`)",
		                            reg),
		             r, d);
	}
	if (value > 0xFFFF) {
		memset(r, 0, sizeof *r);
		r->setting = s;
		r->reg = reg;
		r->value = v;
		return audit(o, s, reg, v,
		             blt_detail_set(d, BLT_E_RANGE, "%s: %lu does not fit a register",
		                            s->name, (unsigned long)value),
		             r, d);
	}
	return blt_setting_write(c, profile_id, s, (int32_t)value, o, result, d);
}

blt_err_t blt_setting_read(blt_client_t *c, const char *profile_id, const blt_setting_t *s,
                           int32_t *value, blt_detail_t *d)
{
	(void)profile_id; /* reading is harmless on any profile */
	if (!c || !s || !value)
		return blt_detail_set(d, BLT_E_INVAL, "read needs a client, a setting and a value");
	return read_value(c, s, value, NULL, d);
}
