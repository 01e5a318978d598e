/* The write gate (include/bluetti/control.h) without a network: the library client over an
 * in-process fake transport whose "device" answers like a V2 unit (register memory, FC03,
 * FC06 echo) or misbehaves on demand (silent, silent on writes, wrong echo, ignores writes,
 * exception). Every frame the client publishes is counted, so the tests can show that a
 * refused write never reaches the wire and that nothing is sent after a failure. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <bluetti/bluetti.h>
#include <bluetti/client.h>
#include <bluetti/control.h>
#include <bluetti/settings.h>

#include "unit/fake_transport.h"

#define SN "2434000112345"

/* ---- the fake device behind the shared fake transport (tests/unit/fake_transport.h) ---- */

typedef enum dev_mode {
	DEV_OK,            /* applies writes, echoes */
	DEV_SILENT,        /* answers nothing */
	DEV_SILENT_WRITES, /* answers reads, not writes */
	DEV_WRONG_ECHO,    /* echoes a different value (valid CRC) */
	DEV_IGNORE,        /* echoes but does not apply */
	DEV_EXCEPTION,     /* writes answer exception 04 */
} dev_mode_t;

typedef struct fake_dev {
	dev_mode_t mode;
	uint8_t slave;
	unsigned reads, writes; /* publishes: the transport's npub */
} fake_dev_t;

static uint16_t mem[65536];

static void reply(fake_transport_t *f, const uint8_t *rtu, size_t n)
{
	fake_queue_env(f, NULL, BLT_ENV_V2, 0, rtu, n, false);
}

/* The device: answers every request the client publishes (fake_transport_t.script). */
FAKE_SCRIPT(device)
{
	fake_dev_t *dev = f->ctx;
	blt_rtu_t req;
	uint8_t out[BLT_RTU_MAX], data[256];
	size_t n;

	assert_int_equal(blt_rtu_parse(req_rtu, req_len, BLT_RTU_REQUEST, &req, NULL), BLT_OK);
	assert_int_equal(req.slave, dev->slave);
	if (dev->mode == DEV_SILENT)
		return;
	if (req.function == BLT_FC_READ) {
		dev->reads++;
		for (unsigned i = 0; i < req.count; i++) {
			data[2 * i] = (uint8_t)(mem[req.reg + i] >> 8);
			data[2 * i + 1] = (uint8_t)mem[req.reg + i];
		}
		assert_int_equal(
		    blt_rtu_build_read_reply(dev->slave, data, 2u * req.count, out, sizeof out, &n),
		    BLT_OK);
		reply(f, out, n);
		return;
	}
	assert_int_equal(req.function, BLT_FC_WRITE1); /* the gate never uses FC10 */
	dev->writes++;
	switch (dev->mode) {
	case DEV_SILENT_WRITES:
	case DEV_SILENT: return;
	case DEV_EXCEPTION:
		assert_int_equal(
		    blt_rtu_build_exception(dev->slave, BLT_FC_WRITE1, 4, out, sizeof out, &n),
		    BLT_OK);
		reply(f, out, n);
		return;
	case DEV_WRONG_ECHO:
		assert_int_equal(blt_rtu_build_write1(dev->slave, req.reg,
		                                      (uint16_t)(req.value ^ 1), out, sizeof out,
		                                      &n),
		                 BLT_OK);
		reply(f, out, n);
		return;
	case DEV_OK: mem[req.reg] = req.value; /* fall through */
	case DEV_IGNORE: reply(f, req_rtu, req_len); return;
	}
}

/* ---- fixture ------------------------------------------------------------------------ */

typedef struct fx {
	fake_transport_t f;
	fake_dev_t dev;
	blt_client_opts_t co;
	blt_client_t *c;
	blt_write_opts_t wo;
	unsigned audits;
	char audit_line[BLT_AUDIT_MAX];
	blt_audit_rec_t last; /* pointers valid only in the callback: copy scalars */
	char last_result[32];
} fx_t;

static void on_audit(void *user, const blt_audit_rec_t *rec)
{
	fx_t *x = user;
	x->audits++;
	snprintf(x->audit_line, sizeof x->audit_line, "%s", rec->line);
	snprintf(x->last_result, sizeof x->last_result, "%s", rec->result);
	x->last = *rec;
	assert_null(strchr(rec->line, '\n'));
}

/* A valid starting value for every setting. */
static int32_t first_valid(const blt_setting_t *s)
{
	if (s->kind == BLT_SK_ENUM)
		return s->enums[0].value;
	return s->min;
}

static void init_mem(void)
{
	memset(mem, 0, sizeof mem);
	for (size_t i = 0; i < blt_setting_count(); i++) {
		const blt_setting_t *s = blt_setting_at(i);
		mem[s->reg] = (uint16_t)first_valid(s);
	}
	mem[2011] = 1; /* AC output on */
}

static int setup(void **state)
{
	fx_t *x = calloc(1, sizeof *x);
	blt_detail_t d = {{0}};
	assert_non_null(x);
	fake_transport_init(&x->f);
	x->f.idle_ms = 5;
	x->f.script = device;
	x->f.ctx = &x->dev;
	x->dev.slave = 0;
	x->co.model = "EL100V2";
	x->co.sn = SN;
	x->co.preset = "v2";
	x->co.slave = -1;
	x->co.envelope = -1;
	x->co.timeout_ms = 150;
	x->co.retries = 0;
	if (blt_client_new(&x->f.base, &x->co, &x->c, &d) != BLT_OK)
		fail_msg("client_new: %s", d.text);
	assert_int_equal(blt_client_start(x->c, &d), BLT_OK);
	x->wo.wire = &x->co;
	x->wo.verify_reads = 2;
	x->wo.verify_interval_ms = 10;
	x->wo.audit = on_audit;
	x->wo.audit_user = x;
	init_mem();
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	fx_t *x = *state;
	blt_client_free(x->c);
	free(x);
	return 0;
}

static const char *profile_for(const blt_setting_t *s)
{
	return s->profiles ? s->profiles[0] : "EL100V2";
}

/* ---- dry run -------------------------------------------------------------------------- */

/* §1.5: AC on over the V2 envelope, slave 0, exactly as battery-ha asserts it. Nothing is
 * published, with or without a client. */
static void test_dry_run_frame_v2(void **state)
{
	fx_t *x = *state;
	static const uint8_t want[] = {0x01, 0xf8, 0x0f, 0x07, 0xdb, 0x00, 0x00, 0x00, 0x00,
	                               0x00, 0x00, 0x06, 0x07, 0xdb, 0x00, 0x01, 0x38, 0x94};
	blt_write_result_t r;
	blt_detail_t d = {{0}};

	x->wo.dry_run = true;
	assert_int_equal(
	    blt_setting_write(x->c, "EL100V2", blt_setting_find("ac_output"), 1, &x->wo, &r, &d),
	    BLT_OK);
	assert_int_equal(r.payload_len, sizeof want);
	assert_memory_equal(r.payload, want, sizeof want);
	assert_int_equal(r.rtu_len, 8);
	assert_memory_equal(r.rtu, want + 10, 8);
	assert_string_equal(r.topic, "SUB/EL100V2/" SN);
	assert_false(r.write_sent);
	assert_int_equal(r.requests, 0);
	assert_int_equal(x->f.npub, 0);
	assert_int_equal(x->audits, 1);
	assert_string_equal(x->last_result, "dry-run");
	assert_non_null(strstr(x->audit_line, "ac_output reg=2011 old=? new=1(on) result=dry-run"));

	/* No client at all. */
	assert_int_equal(
	    blt_setting_write(NULL, "EL100V2", blt_setting_find("ac_output"), 1, &x->wo, &r, &d),
	    BLT_OK);
	assert_memory_equal(r.payload, want, sizeof want);
	assert_int_equal(x->f.npub, 0);
	assert_int_equal(x->audits, 2);
}

/* The seed preset: bare frame to slave 1 (§1.5 first example), topic SUB/<sn>. */
static void test_dry_run_frame_seed(void **state)
{
	fx_t *x = *state;
	static const uint8_t ac_off[] = {0x01, 0x06, 0x07, 0xdb, 0x00, 0x00, 0xf8, 0x85};
	static const uint8_t dc_on[] = {0x01, 0x06, 0x07, 0xdc, 0x00, 0x01, 0x88, 0x84};
	blt_client_opts_t seed = x->co;
	blt_write_result_t r;
	blt_detail_t d = {{0}};

	seed.preset = "seed";
	x->wo.wire = &seed;
	x->wo.dry_run = true;
	assert_int_equal(
	    blt_setting_write(NULL, "EL100V2", blt_setting_find("ac_output"), 0, &x->wo, &r, &d),
	    BLT_OK);
	assert_int_equal(r.payload_len, sizeof ac_off);
	assert_memory_equal(r.payload, ac_off, sizeof ac_off);
	assert_string_equal(r.topic, "SUB/" SN);
	assert_int_equal(blt_register_write(NULL, "EL100V2", 2012, 1, &x->wo, &r, &d), BLT_OK);
	assert_memory_equal(r.payload, dc_on, sizeof dc_on);
	assert_int_equal(x->f.npub, 0);

	/* Explicit slave / envelope overrides are honoured like the client honours them. */
	seed.slave = 5;
	seed.envelope = BLT_ENV_LEGACY;
	assert_int_equal(
	    blt_setting_write(NULL, "EL100V2", blt_setting_find("ac_output"), 0, &x->wo, &r, &d),
	    BLT_OK);
	assert_int_equal(r.payload_len, 9);
	assert_int_equal(r.payload[0], 0x01);
	assert_int_equal(r.payload[1], 5);
	assert_int_equal(blt_crc16(r.rtu, 6), (uint16_t)(r.rtu[6] | r.rtu[7] << 8));

	/* Without wire options there is no frame to build. */
	x->wo.wire = NULL;
	assert_int_equal(
	    blt_setting_write(NULL, "EL100V2", blt_setting_find("ac_output"), 0, &x->wo, &r, &d),
	    BLT_E_INVAL);
	assert_non_null(strstr(d.text, "wire"));
}

/* Modbus TCP (LOCAL.md §1.4): the frame names the setting's public alias; a setting the open
 * map does not carry writable is refused; every public alias of a denied register (57026 =
 * 2013, power-off) is refused on any wire, dry run or not, and nothing is published. */
static void test_open_map_frames_and_aliases(void **state)
{
	fx_t *x = *state;
	static const uint8_t ac_off[] = {0x01, 0x06, 0xde, 0xa9, 0x00, 0x00};
	blt_client_opts_t tcp = x->co;
	blt_write_result_t r;
	blt_detail_t d = {{0}};
	unsigned aliases = 0;

	tcp.preset = "modbus-tcp";
	x->wo.wire = &tcp;
	x->wo.dry_run = true;
	assert_int_equal(
	    blt_setting_write(NULL, "EL100V2", blt_setting_find("ac_output"), 0, &x->wo, &r, &d),
	    BLT_OK);
	assert_int_equal(r.rtu_len, 8);
	assert_memory_equal(r.rtu, ac_off, sizeof ac_off);
	assert_int_equal(r.reg, 2011); /* the gate and the audit speak of the internal register */
	assert_non_null(strstr(x->audit_line, "ac_output reg=2011"));
	/* a public address names its internal setting over Modbus TCP, and nowhere else */
	assert_int_equal(blt_register_write(NULL, "EL100V2", 57005, 1, &x->wo, &r, &d), BLT_OK);
	assert_int_equal(r.reg, 2012);
	assert_int_equal(r.rtu[2] << 8 | r.rtu[3], 57005);
	x->wo.wire = &x->co;
	assert_int_equal(blt_register_write(NULL, "EL100V2", 57005, 1, &x->wo, &r, &d),
	                 BLT_E_DENIED);
	x->wo.wire = &tcp;
	/* not writable over Modbus TCP: refused before a frame exists */
	x->wo.flags = BLT_WRITE_ALLOW_UNVERIFIED;
	assert_int_equal(
	    blt_setting_write(NULL, "EL100V2", blt_setting_find("led"), 1, &x->wo, &r, &d),
	    BLT_E_DENIED);
	assert_int_equal(r.rtu_len, 0);
	x->wo.flags = 0;

	for (size_t i = 0; blt_tcpmap_at(i); i++) {
		const blt_tcp_run_t *run = blt_tcpmap_at(i);
		for (uint16_t k = 0; k < run->count; k++) {
			uint16_t pub = (uint16_t)(run->pub + k);
			uint16_t reg = (uint16_t)(run->internal + k);
			if (!blt_register_denied(reg, NULL))
				continue;
			aliases++;
			for (int wire = 0; wire < 2; wire++)
				for (int dry = 0; dry < 2; dry++) {
					x->wo.wire = wire ? &tcp : &x->co;
					x->wo.dry_run = dry;
					x->wo.flags =
					    BLT_WRITE_ALLOW_UNVERIFIED | BLT_WRITE_ALLOW_PROFILE;
					assert_int_equal(blt_register_write(x->c, "EL100V2", pub, 1,
					                                    &x->wo, &r, &d),
					                 BLT_E_DENIED);
					assert_false(r.write_sent);
					assert_int_equal(r.requests, 0);
					assert_int_equal(r.rtu_len, 0);
					assert_string_equal(x->last_result, "denied");
				}
		}
	}
	assert_true(aliases >= 1); /* 57026 */
	assert_int_equal(x->f.npub, 0);
}

/* ---- the gate --------------------------------------------------------------------------- */

/* Every register on the deny list, every option combination, dry run or not, any value:
 * refused with BLT_E_DENIED, one audit line each, and not one frame published. */
static void test_deny_list_never_reaches_the_wire(void **state)
{
	fx_t *x = *state;
	static const uint32_t values[] = {0, 1, 2, 0xFFFF, 0x10000, 0xFFFFFFFFu};
	unsigned calls = 0;

	for (size_t i = 0; i < blt_denied_count(); i++) {
		uint16_t first, last;
		assert_true(blt_denied_at(i, &first, &last, NULL));
		for (uint32_t reg = first; reg <= last; reg++) {
			for (unsigned flags = 0; flags < 8; flags++) {
				for (int dry = 0; dry < 2; dry++) {
					for (size_t v = 0; v < sizeof values / sizeof values[0];
					     v++) {
						blt_write_result_t r;
						blt_detail_t d = {{0}};
						x->wo.flags = flags;
						x->wo.dry_run = dry;
						assert_int_equal(blt_register_write(
						                     x->c, "EL100V2", (uint16_t)reg,
						                     values[v], &x->wo, &r, &d),
						                 BLT_E_DENIED);
						assert_non_null(strstr(d.text, "never written"));
						assert_int_equal(r.rtu_len, 0);
						assert_int_equal(r.payload_len, 0);
						assert_false(r.write_sent);
						calls++;
						assert_int_equal(x->audits, calls);
						assert_string_equal(x->last_result, "denied");
					}
				}
			}
		}
	}
	assert_true(calls > 100);
	/* The registers §6 names, explicitly. */
	{
		static const uint16_t named[] = {2013, 2206, 2233, 2006};
		for (size_t i = 0; i < 4; i++) {
			x->wo.flags = ~0u;
			x->wo.dry_run = false;
			assert_int_equal(
			    blt_register_write(x->c, NULL, named[i], 0, &x->wo, NULL, NULL),
			    BLT_E_DENIED);
		}
	}
	/* A forged setting aimed at a denied register, whatever it claims. */
	{
		blt_setting_t forged = *blt_setting_find("ac_output");
		static const uint16_t regs[] = {2013, 2206, 2233, 2006, 2200, 12002};
		for (size_t i = 0; i < sizeof regs / sizeof regs[0]; i++) {
			blt_detail_t d = {{0}};
			forged.reg = regs[i];
			forged.status = BLT_SS_LIVE;
			forged.profiles = NULL;
			x->wo.flags = ~0u;
			assert_int_equal(
			    blt_setting_write(x->c, "EL100V2", &forged, 0, &x->wo, NULL, &d),
			    BLT_E_DENIED);
		}
	}
	assert_int_equal(x->f.npub, 0);
	assert_int_equal(x->dev.writes, 0);
}

/* A register that is neither denied nor a setting is refused too (allow list). Swept over
 * the whole register space with every override set: only setting registers ever publish. */
static void test_unknown_registers_refused(void **state)
{
	fx_t *x = *state;
	blt_detail_t d = {{0}};
	x->wo.flags = BLT_WRITE_ALLOW_UNVERIFIED | BLT_WRITE_ALLOW_PROFILE;
	x->wo.audit = NULL;
	for (uint32_t reg = 0; reg <= 0xFFFF; reg++) {
		if (blt_setting_by_register((uint16_t)reg))
			continue;
		assert_int_equal(
		    blt_register_write(x->c, "EL100V2", (uint16_t)reg, 1, &x->wo, NULL, &d),
		    BLT_E_DENIED);
	}
	assert_int_equal(x->f.npub, 0);
	assert_int_equal(blt_register_write(x->c, "EL100V2", 2002, 1, &x->wo, NULL, &d),
	                 BLT_E_DENIED);
	assert_non_null(strstr(d.text, "not a known writable setting"));
}

/* Out-of-range values: BLT_E_RANGE, the detail states the range, nothing published. */
static void test_ranges(void **state)
{
	fx_t *x = *state;
	blt_write_result_t r;
	blt_detail_t d = {{0}};

	x->wo.flags = BLT_WRITE_ALLOW_UNVERIFIED | BLT_WRITE_ALLOW_PROFILE;
	for (size_t i = 0; i < blt_setting_count(); i++) {
		const blt_setting_t *s = blt_setting_at(i);
		int32_t bad[3];
		size_t nbad = 0;
		if (s->kind == BLT_SK_NUMBER) {
			bad[nbad++] = s->min - 1;
			bad[nbad++] = s->max + 1;
		} else if (s->kind == BLT_SK_SWITCH) {
			bad[nbad++] = 2;
			bad[nbad++] = -1;
		} else {
			bad[nbad++] = 99;
		}
		for (size_t k = 0; k < nbad; k++) {
			for (int dry = 0; dry < 2; dry++) {
				x->wo.dry_run = dry;
				assert_int_equal(blt_setting_write(x->c, profile_for(s), s, bad[k],
				                                   &x->wo, &r, &d),
				                 BLT_E_RANGE);
				assert_string_equal(x->last_result, "range");
				if (s->kind == BLT_SK_NUMBER) {
					char range[64];
					snprintf(range, sizeof range, "%ld..%ld", (long)s->min,
					         (long)s->max);
					assert_non_null(strstr(d.text, range));
				}
			}
		}
	}
	/* Named examples: charging mode 3 is the unused value, 5 W threshold bounds. */
	assert_int_equal(
	    blt_setting_write(x->c, "AP300", blt_setting_find("charging_mode"), 3, &x->wo, &r, &d),
	    BLT_E_RANGE);
	assert_non_null(strstr(d.text, "turbo"));
	assert_int_equal(blt_register_write(x->c, "AP300", 2016, 21, &x->wo, &r, &d), BLT_E_RANGE);
	assert_non_null(strstr(d.text, "5..20 W"));
	assert_int_equal(blt_register_write(x->c, "AP300", 2213, 0x10000, &x->wo, &r, &d),
	                 BLT_E_RANGE);
	assert_int_equal(x->f.npub, 0);
}

/* Unverified settings need ALLOW_UNVERIFIED; unsupported profiles ALLOW_PROFILE; no
 * profile at all is refused. */
static void test_unverified_and_profile(void **state)
{
	fx_t *x = *state;
	blt_detail_t d = {{0}};

	x->wo.dry_run = true;
	assert_int_equal(
	    blt_setting_write(NULL, "EL100V2", blt_setting_find("led"), 1, &x->wo, NULL, &d),
	    BLT_E_DENIED);
	assert_non_null(strstr(d.text, "unverified"));
	x->wo.flags = BLT_WRITE_ALLOW_UNVERIFIED;
	assert_int_equal(
	    blt_setting_write(NULL, "EL100V2", blt_setting_find("led"), 1, &x->wo, NULL, &d),
	    BLT_OK);
	x->wo.flags = 0;
	assert_int_equal(blt_setting_write(NULL, "EL100V2", blt_setting_find("grid_max_power"),
	                                   1000, &x->wo, NULL, &d),
	                 BLT_E_DENIED);
	assert_non_null(strstr(d.text, "EL100V2"));
	x->wo.flags = BLT_WRITE_ALLOW_PROFILE;
	assert_int_equal(blt_setting_write(NULL, "EL100V2", blt_setting_find("grid_max_power"),
	                                   1000, &x->wo, NULL, &d),
	                 BLT_OK);
	assert_int_equal(
	    blt_setting_write(NULL, NULL, blt_setting_find("ac_output"), 1, &x->wo, NULL, &d),
	    BLT_E_INVAL);
	assert_int_equal(blt_setting_write(NULL, "EL100V2", NULL, 1, &x->wo, NULL, &d),
	                 BLT_E_INVAL);
	assert_int_equal(x->f.npub, 0);
	assert_int_equal(x->audits, 6);
}

/* ---- the sequence against the fake device --------------------------------------------- */

static void test_write_ok_sequence(void **state)
{
	fx_t *x = *state;
	blt_write_result_t r;
	blt_detail_t d = {{0}};
	int32_t v = -1;

	assert_int_equal(
	    blt_setting_write(x->c, "EL100V2", blt_setting_find("ac_output"), 0, &x->wo, &r, &d),
	    BLT_OK);
	assert_true(r.have_old);
	assert_int_equal(r.old_value, 1);
	assert_true(r.have_readback);
	assert_int_equal(r.readback, 0);
	assert_true(r.write_sent);
	assert_int_equal(r.requests, 3); /* read, write, read back */
	assert_int_equal(x->f.npub, 3);
	assert_int_equal(x->dev.reads, 2);
	assert_int_equal(x->dev.writes, 1);
	assert_int_equal(mem[2011], 0);
	assert_string_equal(x->f.pub_topic, "SUB/EL100V2/" SN);
	assert_non_null(strstr(x->audit_line, " EL100V2 " SN " ac_output reg=2011 old=1(on) "
	                                      "new=0(off) result=ok"));
	assert_null(strstr(x->audit_line, "detail="));
	assert_int_equal(x->audits, 1);
	/* ISO time first: 2025-01-31T12:00:00Z */
	assert_int_equal(x->audit_line[4], '-');
	assert_int_equal(x->audit_line[10], 'T');
	assert_int_equal(x->audit_line[19], 'Z');

	assert_int_equal(blt_setting_read(x->c, "EL100V2", blt_setting_find("ac_output"), &v, &d),
	                 BLT_OK);
	assert_int_equal(v, 0);
}

/* Every named setting, written to a new value and read back through the client. */
static void test_every_setting_written_and_read_back(void **state)
{
	fx_t *x = *state;
	x->wo.flags = BLT_WRITE_ALLOW_UNVERIFIED | BLT_WRITE_ALLOW_LAN_EXPOSURE;
	for (size_t i = 0; i < blt_setting_count(); i++) {
		const blt_setting_t *s = blt_setting_at(i);
		int32_t old = (int32_t)mem[s->reg], want, got = -1;
		blt_write_result_t r;
		blt_detail_t d = {{0}};
		unsigned before = x->f.npub;

		if (s->kind == BLT_SK_SWITCH2) { /* the switch's bits only, 1 on / 2 off */
			old &= (int32_t)s->row->mask;
			want = old == (int32_t)(1u << s->row->shift)
			           ? (int32_t)(2u << s->row->shift)
			           : (int32_t)(1u << s->row->shift);
		} else if (s->kind == BLT_SK_SWITCH)
			want = !old;
		else if (s->kind == BLT_SK_ENUM)
			want = s->enums[1].value;
		else
			want = old == s->max ? s->min : s->max;
		if (blt_setting_write(x->c, profile_for(s), s, want, &x->wo, &r, &d) != BLT_OK)
			fail_msg("%s = %d: %s", s->name, want, d.text);
		assert_int_equal(r.old_value, old);
		assert_int_equal(r.readback, want);
		assert_int_equal(x->f.npub - before, 3);
		assert_int_equal(mem[s->reg], (uint16_t)want);
		assert_int_equal(blt_setting_read(x->c, NULL, s, &got, &d), BLT_OK);
		assert_int_equal(got, want);
	}
}

/* Failures: each its own error, and not one frame after the failing step. */
static void check_failure(fx_t *x, dev_mode_t mode, int want_err, unsigned want_publishes,
                          const char *result, const char *detail_has)
{
	blt_write_result_t r;
	blt_detail_t d = {{0}};
	int rc;

	x->dev.mode = mode;
	x->f.npub = x->dev.reads = x->dev.writes = 0;
	rc = blt_setting_write(x->c, "EL100V2", blt_setting_find("ac_output"), 0, &x->wo, &r, &d);
	if (rc != want_err)
		fail_msg("mode %d: got %s (%s), want %s", mode, blt_strerror(rc), d.text,
		         blt_strerror(want_err));
	assert_int_equal(x->f.npub, want_publishes);
	assert_int_equal(r.requests, want_publishes);
	assert_string_equal(x->last_result, result);
	assert_non_null(strstr(x->audit_line, "detail=\""));
	if (!strstr(d.text, detail_has))
		fail_msg("detail '%s' lacks '%s'", d.text, detail_has);
	/* Nothing is sent later either (the client is idle): poll a while. */
	for (int i = 0; i < 10; i++)
		blt_transport_poll(&x->f.base, 5, NULL);
	assert_int_equal(x->f.npub, want_publishes);
}

static void test_no_echo(void **state)
{
	fx_t *x = *state;
	check_failure(x, DEV_SILENT_WRITES, BLT_E_TIMEOUT, 2, "timeout", "no echo");
	assert_int_equal(mem[2011], 1);
}

/* A client configured with retries still sends the write exactly once. */
static void test_no_echo_write_not_retried(void **state)
{
	fx_t *x = *state;
	blt_detail_t d = {{0}};
	blt_client_free(x->c);
	x->co.retries = 2;
	assert_int_equal(blt_client_new(&x->f.base, &x->co, &x->c, &d), BLT_OK);
	check_failure(x, DEV_SILENT_WRITES, BLT_E_TIMEOUT, 2, "timeout", "no echo");
	assert_int_equal(x->dev.writes, 1);
}

static void test_no_reply_at_all(void **state)
{
	fx_t *x = *state;
	check_failure(x, DEV_SILENT, BLT_E_TIMEOUT, 1, "timeout", "nothing written");
	assert_int_equal(x->dev.writes, 0);
}

static void test_wrong_echo(void **state)
{
	fx_t *x = *state;
	check_failure(x, DEV_WRONG_ECHO, BLT_E_MISMATCH, 2, "mismatch", "echo");
}

static void test_not_applied(void **state)
{
	fx_t *x = *state;
	/* read, write, then verify_reads (2) read-backs, all showing the old value */
	check_failure(x, DEV_IGNORE, BLT_E_NOT_APPLIED, 4, "not-applied", "still reads 1(on)");
	assert_int_equal(mem[2011], 1);
}

static void test_exception(void **state)
{
	fx_t *x = *state;
	check_failure(x, DEV_EXCEPTION, BLT_E_EXCEPTION, 2, "exception", "slave device failure");
}

/* ---- helpers ------------------------------------------------------------------------------ */

static void test_extract_and_format(void **state)
{
	const blt_setting_t *ac = blt_setting_find("ac_output");
	const blt_setting_t *gp = blt_setting_find("grid_max_power");
	uint8_t data[200];
	uint16_t start, count;
	int32_t v = -1;
	char buf[48];
	blt_detail_t d = {{0}};
	(void)state;

	memset(data, 0, sizeof data);
	data[22] = 0x7f; /* high byte of 2011: not part of the flag */
	data[23] = 1;
	assert_int_equal(blt_setting_extract(ac, 2000, data, sizeof data, &v, &d), BLT_OK);
	assert_int_equal(v, 1);
	assert_int_equal(blt_setting_extract(ac, 2000, data, 23, &v, &d), BLT_E_MISSING);
	/* data read from the register itself (start = reg): still only the low byte */
	data[0] = 0x55;
	data[1] = 0;
	assert_int_equal(blt_setting_extract(ac, 2011, data, 2, &v, &d), BLT_OK);
	assert_int_equal(v, 0);
	assert_int_equal(blt_setting_extract(ac, 2011, data, 1, &v, &d), BLT_E_MISSING);
	assert_int_equal(blt_setting_extract(ac, 2012, data, 2, &v, &d), BLT_E_MISSING);
	data[26] = 0x0b;
	data[27] = 0xb8;
	assert_int_equal(blt_setting_extract(gp, 2200, data, 28, &v, &d), BLT_OK);
	assert_int_equal(v, 3000);
	blt_setting_read_span(ac, &start, &count);
	assert_int_equal(start, 2000);
	assert_true(count >= 12 && count <= BLT_MAX_READ_REGS);

	blt_setting_format_value(ac, 0, buf, sizeof buf);
	assert_string_equal(buf, "0(off)");
	blt_setting_format_value(blt_setting_find("charging_mode"), 2, buf, sizeof buf);
	assert_string_equal(buf, "2(turbo)");
	blt_setting_format_value(gp, 300, buf, sizeof buf);
	assert_string_equal(buf, "300");
	blt_setting_format_value(NULL, 7, buf, sizeof buf);
	assert_string_equal(buf, "7");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_dry_run_frame_v2, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_dry_run_frame_seed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_open_map_frames_and_aliases, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deny_list_never_reaches_the_wire, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unknown_registers_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ranges, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unverified_and_profile, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_write_ok_sequence, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_every_setting_written_and_read_back, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_no_echo, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_echo_write_not_retried, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_reply_at_all, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_echo, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_not_applied, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exception, setup, teardown),
	    cmocka_unit_test(test_extract_and_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
