/* bluetti-sim without a broker: the register memory, the physical model and the Modbus
 * request handler of tools/bluetti-sim (compiled into this test), checked frame by frame
 * against the rules of PROTOCOL.md §1 and decoded with the library's catalog. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bluetti/bluetti.h>

#include "sim.h"

#define SN 2434000112345ull

static sim_opts_t opts_for(const char *profile, const char *preset)
{
	sim_opts_t o;
	memset(&o, 0, sizeof o);
	o.profile = blt_profile_find(profile);
	o.preset = preset ? blt_wire_preset_find(preset) : NULL;
	o.slave = -1;
	o.speed = 1.0;
	o.seed = 42;
	return o;
}

static sim_device_t dev; /* large: keep it off the stack */
static sim_opts_t g_opts;

static void init_dev(const char *profile, const char *preset)
{
	blt_detail_t d = {{0}};
	g_opts = opts_for(profile, preset);
	assert_non_null(g_opts.profile);
	assert_int_equal(sim_device_init(&dev, &g_opts, SN, &d), BLT_OK);
}

/* Wrap an RTU request in an envelope and run it through the handler. */
static sim_action_t request(blt_envelope_t env, const uint8_t *rtu, size_t n, sim_reply_t *r)
{
	uint8_t payload[BLT_PAYLOAD_MAX];
	size_t len;
	assert_int_equal(blt_env_wrap(env, 0, 0, rtu, n, payload, sizeof payload, &len), BLT_OK);
	return sim_handle(&dev, payload, len, r);
}

static sim_action_t read_req(uint16_t start, uint16_t count, sim_reply_t *r)
{
	uint8_t rtu[BLT_RTU_MAX];
	size_t n;
	assert_int_equal(blt_rtu_build_read(dev.slave, start, count, rtu, sizeof rtu, &n), BLT_OK);
	return request((blt_envelope_t)dev.envelope, rtu, n, r);
}

/* Read a block and decode it; returns the number of registers answered. */
static size_t read_decode(uint16_t block, uint16_t count, blt_decoded_t *out)
{
	sim_reply_t r;
	blt_rtu_t rep;
	blt_detail_t d = {{0}};
	const blt_block_t *b = blt_catalog_find(block);
	int rc;

	assert_non_null(b);
	assert_int_equal(read_req(block, count, &r), SIM_REPLY);
	assert_int_equal(blt_rtu_parse(r.rtu, r.rtu_len, BLT_RTU_REPLY, &rep, &d), BLT_OK);
	assert_int_equal(rep.function, BLT_FC_READ);
	rc = blt_decode(b, rep.data, rep.nbytes, &dev.dopts, out, &d);
	if (rc != BLT_OK)
		fail_msg("block %u: %s: %s", block, blt_strerror(rc), d.text);
	return rep.nbytes / 2;
}

static double num(const blt_decoded_t *r, const char *name)
{
	double v;
	if (!blt_decoded_num(r, name, &v))
		fail_msg("block %u: no value %s", r->block->id, name);
	return v;
}

static const char *str(const blt_decoded_t *r, const char *name)
{
	const blt_value_t *v = blt_decoded_get(r, name);
	if (!v)
		fail_msg("block %u: no value %s", r->block->id, name);
	return v->str;
}

static blt_decoded_t dec; /* large */

static void test_regions(void **state)
{
	static const uint16_t want[] = {100, 1100, 1300, 1400, 1500, 2000, 2200, 6000, 6100, 6300};
	(void)state;
	init_dev("EL100V2", NULL);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		sim_region_t *r = sim_find_region(&dev, want[i]);
		assert_non_null(r);
		assert_int_equal(r->start, want[i]);
	}
	assert_int_equal(sim_find_region(&dev, 2000)->count, 100);
	assert_int_equal(sim_find_region(&dev, 2200)->count, 121);
	assert_int_equal(sim_find_region(&dev, 6300)->count, 22);
	assert_null(sim_find_region(&dev, 1355));
	assert_null(sim_find_region(&dev, 99));
	assert_string_equal(dev.req_topic, "SUB/EL100V2/2434000112345");
	assert_string_equal(dev.reply_topic, "PUB/EL100V2/2434000112345");
	assert_int_equal(dev.slave, 0);
	assert_int_equal(dev.envelope, BLT_ENV_V2);
	assert_int_equal(dev.ncells, 16);
}

static void test_seed_preset(void **state)
{
	(void)state;
	init_dev("EL100V2", "seed");
	assert_string_equal(dev.req_topic, "SUB/2434000112345");
	assert_string_equal(dev.reply_topic, "PUB/2434000112345");
	assert_int_equal(dev.slave, 1);
	assert_int_equal(dev.envelope, BLT_ENV_BARE);
}

/* The §7.2 start scenario, decoded with the catalog. */
static void test_scenario_blocks(void **state)
{
	(void)state;
	init_dev("EL100V2", NULL);

	assert_int_equal(read_decode(1300, 31, &dec), 31);
	assert_float_equal(num(&dec, "frequency"), 50.0, 0.11);
	assert_float_equal(num(&dec, "phase_0_voltage"), 230.0, 2.0);
	assert_float_equal(num(&dec, "phase_count"), 1, 0);
	assert_float_equal(num(&dec, "phase_0_power"), 0, 0);
	assert_float_equal(num(&dec, "charge_energy"), 89.0, 0.05);

	assert_int_equal(read_decode(100, 98, &dec), 98);
	assert_string_equal(str(&dec, "device_model"), "EL100V2");
	assert_string_equal(str(&dec, "device_serial"), "2434000112345");
	assert_float_equal(num(&dec, "soc"), 76, 0);
	assert_float_equal(num(&dec, "pack_voltage"), 53.1, 0.3);
	assert_float_equal(num(&dec, "pack_current"), -2.9, 0.15);
	assert_float_equal(num(&dec, "ac_load_power"), 145, 0);
	assert_float_equal(num(&dec, "inverter_power"), 154, 0);
	assert_float_equal(num(&dec, "charging_status"), 2, 0);
	assert_float_equal(num(&dec, "ac_load_energy"), 123.4, 0.05);
	assert_true(num(&dec, "time_to_empty") > 100);

	assert_int_equal(read_decode(6000, 42, &dec), 42);
	assert_float_equal(num(&dec, "soc"), 76, 0);
	assert_float_equal(num(&dec, "soh"), 100, 0);
	assert_float_equal(num(&dec, "temp_avg"), 25, 1);
	assert_float_equal(num(&dec, "voltage"), 53.1, 0.3);

	assert_int_equal(read_decode(6300, 22, &dec), 22);
	assert_float_equal(num(&dec, "cell_count"), 16, 0);
	assert_float_equal(num(&dec, "ntc_count"), 4, 0);
	for (unsigned i = 0; i < 16; i++) {
		char name[32];
		snprintf(name, sizeof name, "cell_%u_voltage", i);
		assert_float_equal(num(&dec, name), 3.32, 0.01);
	}
	assert_float_equal(num(&dec, "temp_0"), 25, 1);

	assert_int_equal(read_decode(1100, 55, &dec), 55);
	assert_string_equal(str(&dec, "device_model"), "EL100V2");
	assert_string_equal(str(&dec, "device_serial"), "2434000112345");
	assert_float_equal(num(&dec, "software_count"), 4, 0);

	assert_int_equal(read_decode(6100, 104, &dec), 104);
	assert_float_equal(num(&dec, "cell_count"), 16, 0);
	assert_float_equal(num(&dec, "soc"), 76, 0);

	assert_int_equal(read_decode(1400, 48, &dec), 48);
	assert_float_equal(num(&dec, "phase_0_power"), 145, 0);
	assert_int_equal(read_decode(1500, 35, &dec), 35);
	assert_float_equal(num(&dec, "frequency"), 50.0, 0.11);
}

/* A read running past the end of a block answers what exists; a start outside is 02. */
static void test_read_bounds(void **state)
{
	sim_reply_t r;
	blt_rtu_t rep;
	/* slave 0, 0x83, code 2, CRC */
	uint8_t exc[5] = {0x00, 0x83, 0x02};
	uint16_t crc = blt_crc16(exc, 3);
	(void)state;
	exc[3] = (uint8_t)crc;
	exc[4] = (uint8_t)(crc >> 8);
	init_dev("EL100V2", NULL);

	assert_int_equal(read_req(6300, 50, &r), SIM_REPLY);
	assert_int_equal(blt_rtu_parse(r.rtu, r.rtu_len, BLT_RTU_REPLY, &rep, NULL), BLT_OK);
	assert_int_equal(rep.nbytes, 44);

	assert_int_equal(read_req(1350, 10, &r), SIM_REPLY); /* 1350-1354 exist */
	assert_int_equal(blt_rtu_parse(r.rtu, r.rtu_len, BLT_RTU_REPLY, &rep, NULL), BLT_OK);
	assert_int_equal(rep.nbytes, 10);

	assert_int_equal(read_req(1355, 10, &r), SIM_REPLY);
	assert_int_equal(r.rtu_len, 5);
	assert_memory_equal(r.rtu, exc, 5);
	assert_int_equal(read_req(5000, 1, &r), SIM_REPLY);
	assert_memory_equal(r.rtu, exc, 5);
	assert_int_equal(read_req(0, 1, &r), SIM_REPLY); /* block 1 starts at register 1 */
	assert_memory_equal(r.rtu, exc, 5);

	g_opts.short_replies = true;
	assert_int_equal(read_req(100, 62, &r), SIM_REPLY);
	assert_int_equal(blt_rtu_parse(r.rtu, r.rtu_len, BLT_RTU_REPLY, &rep, NULL), BLT_OK);
	assert_int_equal(rep.nbytes, 62);
	g_opts.short_replies = false;
}

static void test_envelopes_and_garbage(void **state)
{
	uint8_t rtu[BLT_RTU_MAX];
	size_t n;
	sim_reply_t r;
	(void)state;
	init_dev("EL100V2", NULL);
	assert_int_equal(blt_rtu_build_read(0, 1300, 31, rtu, sizeof rtu, &n), BLT_OK);
	assert_int_equal(request(BLT_ENV_BARE, rtu, n, &r), SIM_REPLY);
	assert_int_equal(r.req_env, BLT_ENV_BARE);
	assert_int_equal(request(BLT_ENV_LEGACY, rtu, n, &r), SIM_REPLY);
	assert_int_equal(request(BLT_ENV_V2, rtu, n, &r), SIM_REPLY);
	assert_int_equal(r.req_env, BLT_ENV_V2);
	assert_int_equal(r.rtu_len, 5 + 62);

	/* bad CRC: silence */
	rtu[n - 1] ^= 0xff;
	assert_int_equal(request(BLT_ENV_V2, rtu, n, &r), SIM_IGNORE);
	rtu[n - 1] ^= 0xff;
	/* truncated: silence, at every length */
	for (size_t k = 1; k < n; k++)
		assert_int_equal(sim_handle(&dev, rtu, k, &r), SIM_IGNORE);
	assert_int_equal(sim_handle(&dev, rtu, 0, &r), SIM_IGNORE);
	/* another slave: silence */
	assert_int_equal(blt_rtu_build_read(1, 1300, 31, rtu, sizeof rtu, &n), BLT_OK);
	assert_int_equal(request(BLT_ENV_V2, rtu, n, &r), SIM_IGNORE);
	/* a reply-shaped frame is not a request */
	{
		uint8_t data[4] = {0, 1, 0, 2};
		assert_int_equal(blt_rtu_build_read_reply(0, data, 4, rtu, sizeof rtu, &n), BLT_OK);
		assert_int_equal(request(BLT_ENV_V2, rtu, n, &r), SIM_IGNORE);
	}
}

static void test_exceptions(void **state)
{
	uint8_t rtu[16] = {0x00, 0x04, 0x05, 0x14, 0x00, 0x01};
	uint16_t crc = blt_crc16(rtu, 6);
	sim_reply_t r;
	blt_rtu_t rep;
	(void)state;
	init_dev("EL100V2", NULL);
	rtu[6] = (uint8_t)crc;
	rtu[7] = (uint8_t)(crc >> 8);
	/* FC04: illegal function */
	assert_int_equal(request(BLT_ENV_V2, rtu, 8, &r), SIM_REPLY);
	assert_int_equal(blt_rtu_parse(r.rtu, r.rtu_len, BLT_RTU_REPLY, &rep, NULL),
	                 BLT_E_EXCEPTION);
	assert_int_equal(rep.function, 0x84);
	assert_int_equal(rep.exception, 1);
	/* FC03 count 0 and 126: illegal data value */
	rtu[1] = 0x03;
	rtu[5] = 0;
	crc = blt_crc16(rtu, 6);
	rtu[6] = (uint8_t)crc;
	rtu[7] = (uint8_t)(crc >> 8);
	assert_int_equal(request(BLT_ENV_V2, rtu, 8, &r), SIM_REPLY);
	assert_int_equal(blt_rtu_parse(r.rtu, r.rtu_len, BLT_RTU_REPLY, &rep, NULL),
	                 BLT_E_EXCEPTION);
	assert_int_equal(rep.exception, 3);
	rtu[5] = 126;
	crc = blt_crc16(rtu, 6);
	rtu[6] = (uint8_t)crc;
	rtu[7] = (uint8_t)(crc >> 8);
	assert_int_equal(request(BLT_ENV_V2, rtu, 8, &r), SIM_REPLY);
	assert_int_equal(blt_rtu_parse(r.rtu, r.rtu_len, BLT_RTU_REPLY, &rep, NULL),
	                 BLT_E_EXCEPTION);
	assert_int_equal(rep.exception, 3);
}

/* §1.5 / §1.6 example frames with the seed preset (slave 1). */
static void test_writes_seed_examples(void **state)
{
	static const uint8_t ac_on[] = {0x01, 0x06, 0x07, 0xdb, 0x00, 0x01, 0x39, 0x45};
	static const uint8_t ac_off[] = {0x01, 0x06, 0x07, 0xdb, 0x00, 0x00, 0xf8, 0x85};
	static const uint8_t w2[] = {0x01, 0x10, 0x07, 0xdb, 0x00, 0x02, 0x04,
	                             0x00, 0x01, 0x00, 0x01, 0x09, 0x70};
	static const uint8_t w2_reply[] = {0x01, 0x10, 0x07, 0xdb, 0x00, 0x02, 0x30, 0x87};
	sim_reply_t r;
	uint16_t v;
	(void)state;
	init_dev("EL100V2", "seed");

	assert_int_equal(request(BLT_ENV_BARE, ac_off, sizeof ac_off, &r), SIM_REPLY);
	assert_int_equal(r.rtu_len, sizeof ac_off);
	assert_memory_equal(r.rtu, ac_off, sizeof ac_off);
	assert_int_equal(sim_reg_get(&dev, 2011, &v), BLT_OK);
	assert_int_equal(v, 0);
	assert_int_equal(request(BLT_ENV_LEGACY, ac_on, sizeof ac_on, &r), SIM_REPLY);
	assert_memory_equal(r.rtu, ac_on, sizeof ac_on);
	assert_int_equal(sim_reg_get(&dev, 2011, &v), BLT_OK);
	assert_int_equal(v, 1);

	sim_reg_set(&dev, 2011, 0);
	sim_reg_set(&dev, 2012, 0);
	assert_int_equal(request(BLT_ENV_BARE, w2, sizeof w2, &r), SIM_REPLY);
	assert_int_equal(r.rtu_len, sizeof w2_reply);
	assert_memory_equal(r.rtu, w2_reply, sizeof w2_reply);
	assert_int_equal(sim_reg_get(&dev, 2011, &v), BLT_OK);
	assert_int_equal(v, 1);
	assert_int_equal(sim_reg_get(&dev, 2012, &v), BLT_OK);
	assert_int_equal(v, 1);
}

static void expect_exception(const uint8_t *rtu, size_t n, uint8_t fc, uint8_t code)
{
	sim_reply_t r;
	blt_rtu_t rep;
	assert_int_equal(request((blt_envelope_t)dev.envelope, rtu, n, &r), SIM_REPLY);
	assert_int_equal(blt_rtu_parse(r.rtu, r.rtu_len, BLT_RTU_REPLY, &rep, NULL),
	                 BLT_E_EXCEPTION);
	assert_int_equal(rep.function, fc | 0x80);
	assert_int_equal(rep.exception, code);
}

static void test_write_rules(void **state)
{
	uint8_t rtu[BLT_RTU_MAX], before[2 * 135];
	uint16_t vals[4] = {1, 2, 3, 4}, v;
	size_t n;
	sim_reply_t r;
	(void)state;
	init_dev("EL100V2", NULL);

	/* read-only telemetry and unknown registers: 02, nothing changes */
	memcpy(before, sim_find_region(&dev, 100)->bytes, sizeof before);
	assert_int_equal(blt_rtu_build_write1(0, 102, 5, rtu, sizeof rtu, &n), BLT_OK);
	expect_exception(rtu, n, 0x06, 2);
	assert_memory_equal(before, sim_find_region(&dev, 100)->bytes, sizeof before);
	assert_int_equal(blt_rtu_build_write1(0, 5000, 5, rtu, sizeof rtu, &n), BLT_OK);
	expect_exception(rtu, n, 0x06, 2);
	/* FC10 crossing the end of block 2000 (2098..2101): 02, nothing applied */
	assert_int_equal(blt_rtu_build_writen(0, 2098, vals, 4, rtu, sizeof rtu, &n), BLT_OK);
	expect_exception(rtu, n, 0x10, 2);
	assert_int_equal(sim_reg_get(&dev, 2098, &v), BLT_OK);
	assert_int_equal(v, 0);
	/* FC10 inside 2200 applied */
	assert_int_equal(blt_rtu_build_writen(0, 2213, vals, 3, rtu, sizeof rtu, &n), BLT_OK);
	assert_int_equal(request(BLT_ENV_V2, rtu, n, &r), SIM_REPLY);
	assert_int_equal(r.rtu_len, 8);
	assert_int_equal(sim_reg_get(&dev, 2215, &v), BLT_OK);
	assert_int_equal(v, 3);

	/* --refuse-writes: 04; --ignore-writes: echo, unchanged */
	g_opts.refuse_writes = true;
	assert_int_equal(blt_rtu_build_write1(0, 2011, 0, rtu, sizeof rtu, &n), BLT_OK);
	expect_exception(rtu, n, 0x06, 4);
	assert_int_equal(sim_reg_get(&dev, 2011, &v), BLT_OK);
	assert_int_equal(v, 1);
	g_opts.refuse_writes = false;
	g_opts.ignore_writes = true;
	assert_int_equal(request(BLT_ENV_V2, rtu, n, &r), SIM_REPLY);
	assert_memory_equal(r.rtu, rtu, n);
	assert_int_equal(sim_reg_get(&dev, 2011, &v), BLT_OK);
	assert_int_equal(v, 1);
	g_opts.ignore_writes = false;
}

/* The LAN switch registers (13742, 13744; --local-access): writable because the settings
 * table has settings there; a field written 0 is left unchanged, as the firmware does. */
static void test_write_switch2(void **state)
{
	uint8_t rtu[BLT_RTU_MAX];
	uint16_t v, vals[2] = {0x0040, 60};
	size_t n;
	sim_reply_t r;
	blt_detail_t d = {{0}};
	(void)state;

	g_opts = opts_for("EL100V2", NULL);
	g_opts.local_access = SIM_LOCAL_OFF;
	assert_int_equal(sim_device_init(&dev, &g_opts, SN, &d), BLT_OK);
	assert_int_equal(sim_reg_get(&dev, 13744, &v), BLT_OK);
	assert_int_equal(v, 0x000A); /* server off, TLS off */
	/* server on: only bits 0-1 change */
	assert_int_equal(blt_rtu_build_write1(0, 13744, 0x0001, rtu, sizeof rtu, &n), BLT_OK);
	assert_int_equal(request(BLT_ENV_V2, rtu, n, &r), SIM_REPLY);
	assert_memory_equal(r.rtu, rtu, n);
	assert_int_equal(sim_reg_get(&dev, 13744, &v), BLT_OK);
	assert_int_equal(v, 0x0009);
	/* TLS on: only bits 2-3 */
	assert_int_equal(blt_rtu_build_write1(0, 13744, 0x0004, rtu, sizeof rtu, &n), BLT_OK);
	assert_int_equal(request(BLT_ENV_V2, rtu, n, &r), SIM_REPLY);
	assert_int_equal(sim_reg_get(&dev, 13744, &v), BLT_OK);
	assert_int_equal(v, 0x0005);
	/* 0 = nothing changes */
	assert_int_equal(blt_rtu_build_write1(0, 13744, 0, rtu, sizeof rtu, &n), BLT_OK);
	assert_int_equal(request(BLT_ENV_V2, rtu, n, &r), SIM_REPLY);
	assert_int_equal(sim_reg_get(&dev, 13744, &v), BLT_OK);
	assert_int_equal(v, 0x0005);
	/* FC10 over 13742-13743: 13742 merged (push on), 13743 plain */
	assert_int_equal(blt_rtu_build_writen(0, 13742, vals, 2, rtu, sizeof rtu, &n), BLT_OK);
	assert_int_equal(request(BLT_ENV_V2, rtu, n, &r), SIM_REPLY);
	assert_int_equal(sim_reg_get(&dev, 13742, &v), BLT_OK);
	assert_int_equal(v, 0x006A); /* 0x00AA with bits 6-7 = 1 */
	assert_int_equal(sim_reg_get(&dev, 13743, &v), BLT_OK);
	assert_int_equal(v, 60);
	/* the port is a plain register */
	assert_int_equal(blt_rtu_build_write1(0, 13745, 1502, rtu, sizeof rtu, &n), BLT_OK);
	assert_int_equal(request(BLT_ENV_V2, rtu, n, &r), SIM_REPLY);
	assert_int_equal(sim_reg_get(&dev, 13745, &v), BLT_OK);
	assert_int_equal(v, 1502);
	/* 22005 (the server address) holds no setting: read-only */
	assert_int_equal(blt_rtu_build_write1(0, 22005, 0x4141, rtu, sizeof rtu, &n), BLT_OK);
	expect_exception(rtu, n, 0x06, 2);
}

/* 2011 off: the AC load drops to 0 in blocks 100 and 1400 on the next tick; 2000 shows it. */
static void test_ac_off(void **state)
{
	uint8_t rtu[BLT_RTU_MAX];
	size_t n;
	sim_reply_t r;
	blt_rtu_t rep;
	(void)state;
	init_dev("EL100V2", NULL);
	assert_int_equal(blt_rtu_build_write1(0, 2011, 0, rtu, sizeof rtu, &n), BLT_OK);
	assert_int_equal(request(BLT_ENV_V2, rtu, n, &r), SIM_REPLY);
	assert_memory_equal(r.rtu, rtu, n);
	assert_int_equal(read_req(2000, 30, &r), SIM_REPLY);
	assert_int_equal(blt_rtu_parse(r.rtu, r.rtu_len, BLT_RTU_REPLY, &rep, NULL), BLT_OK);
	assert_int_equal(rep.nbytes, 60);
	assert_int_equal(rep.data[23], 0);
	read_decode(100, 98, &dec);
	assert_float_equal(num(&dec, "ac_load_power"), 145, 0); /* not before the tick */
	sim_device_tick(&dev, 1.0);
	read_decode(100, 98, &dec);
	assert_float_equal(num(&dec, "ac_load_power"), 0, 0);
	assert_float_equal(num(&dec, "inverter_power"), 0, 0);
	read_decode(1400, 48, &dec);
	assert_float_equal(num(&dec, "ac_load_power"), 0, 0);
	assert_float_equal(num(&dec, "phase_0_power"), 0, 0);
}

static void check_phase(uint16_t block, uint16_t regs)
{
	double p, v, i;
	read_decode(block, regs, &dec);
	p = num(&dec, "phase_0_power");
	v = num(&dec, "phase_0_voltage");
	i = num(&dec, "phase_0_current");
	assert_true(fabs(i) <= 20);
	if (fabs(v * i) < 5 && fabs(p) < 5)
		return;
	if (fabs(fabs(p) - fabs(v * i)) > 0.10 * fabs(v * i))
		fail_msg("block %u: P %.0f W vs V x I = %.1f x %.1f", block, p, v, i);
	/* power and current of the same sign; apparent power never below the active, and a
	 * power factor (P / S) in (0.9, 1] when power flows */
	if (fabs(p) >= 5 && (p > 0) != (i > 0))
		fail_msg("block %u: P %.0f W with I %.1f A", block, p, i);
	double va;
	if (blt_decoded_num(&dec, "phase_0_apparent", &va) && fabs(p) >= 5 &&
	    !(va >= fabs(p) && fabs(p) / va > 0.9))
		fail_msg("block %u: apparent %.0f VA vs active %.0f W", block, va, p);
}

/* Hours of simulated time (speed 60): ranges hold on every tick, counters never go back,
 * the SOC falls, grid charging starts below 70 % and stops at 80 %. */
static void test_evolution(void **state)
{
	double last_e = 0, last_imp = 0, last_out = 0, min_soc = 100, v, f;
	bool charged = false, saw_stop = false;
	(void)state;
	init_dev("EL100V2", NULL);
	g_opts.speed = 60;
	for (int t = 0; t < 4 * 3600 / 60; t++) { /* 4 simulated hours, a tick per minute */
		sim_device_tick(&dev, 1.0);
		read_decode(1300, 31, &dec);
		f = num(&dec, "frequency");
		v = num(&dec, "phase_0_voltage");
		assert_true(f >= 49.9 && f <= 50.1);
		assert_true(v >= 228 && v <= 232);
		assert_true(num(&dec, "charge_energy") >= last_imp);
		last_imp = num(&dec, "charge_energy");
		check_phase(1300, 31);
		check_phase(1400, 48);
		check_phase(1500, 35);
		read_decode(100, 98, &dec);
		assert_true(num(&dec, "ac_load_energy") >= last_e);
		last_e = num(&dec, "ac_load_energy");
		assert_true(num(&dec, "ac_load_power") >= 130 && num(&dec, "ac_load_power") <= 220);
		read_decode(1500, 35, &dec);
		assert_true(num(&dec, "output_energy") >= last_out);
		last_out = num(&dec, "output_energy");
		read_decode(6000, 42, &dec);
		if (num(&dec, "soc") < min_soc)
			min_soc = num(&dec, "soc");
		if (dev.st.charging) {
			charged = true;
			assert_true(num(&dec, "current") > 0);
			assert_float_equal(num(&dec, "charging_status"), 1, 0);
		} else if (charged) {
			saw_stop = true;
		}
	}
	assert_true(min_soc <= 70);
	assert_true(min_soc >= 68);
	assert_true(charged);
	assert_true(saw_stop);
	assert_true(last_e > 123.4 + 0.4); /* ~150 W for 4 h */
	g_opts.speed = 1;
}

static void test_push_frames(void **state)
{
	uint8_t rtu[BLT_RTU_MAX];
	size_t n;
	uint16_t start;
	blt_rtu_t f;
	(void)state;
	init_dev("EL100V2", NULL);
	assert_int_equal(sim_build_push(&dev, rtu, sizeof rtu, &n, &start), BLT_OK);
	assert_int_equal(start, 1300);
	assert_int_equal(blt_rtu_parse(rtu, n, BLT_RTU_REQUEST, &f, NULL), BLT_OK);
	assert_int_equal(f.function, 0x10);
	assert_int_equal(f.reg, 1300);
	assert_int_equal(f.count, blt_catalog_find(1300)->regs); /* the block's default read */
	assert_memory_equal(f.data, sim_find_region(&dev, 1300)->bytes,
	                    2u * blt_catalog_find(1300)->regs);
	assert_int_equal(sim_build_push(&dev, rtu, sizeof rtu, &n, &start), BLT_OK);
	assert_int_equal(start, 100);
	assert_int_equal(blt_rtu_parse(rtu, n, BLT_RTU_REQUEST, &f, NULL), BLT_OK);
	assert_int_equal(f.reg, 100);
}

static void test_profiles(void **state)
{
	blt_detail_t d = {{0}};
	(void)state;
	for (size_t i = 0; blt_profile_at(i); i++) {
		const blt_profile_t *p = blt_profile_at(i);
		g_opts = opts_for(p->id, NULL);
		if (!p->model)
			g_opts.model = "EL999V2";
		assert_int_equal(sim_device_init(&dev, &g_opts, SN + i, &d), BLT_OK);
		assert_non_null(sim_find_region(&dev, 100));
		read_decode(100, 62, &dec);
		assert_string_equal(str(&dec, "device_model"), p->model ? p->model : "EL999V2");
		if (sim_find_region(&dev, 6300)) {
			read_decode(6300, 50, &dec);
			assert_float_equal(num(&dec, "cell_count"), dev.ncells, 0);
		}
	}
	/* the pack comes from the profile's fields: ELITE200V2 12S 2073.6 Wh; unknown 16S */
	g_opts = opts_for("ELITE200V2", NULL);
	assert_int_equal(sim_device_init(&dev, &g_opts, SN, &d), BLT_OK);
	assert_int_equal(dev.ncells, 12);
	assert_float_equal(dev.capacity_wh, 2073.6, 1e-9);
	g_opts = opts_for("EL30V2", NULL);
	assert_int_equal(sim_device_init(&dev, &g_opts, SN, &d), BLT_OK);
	assert_int_equal(dev.ncells, 16);
	assert_float_equal(dev.capacity_wh, 288, 1e-9);
	g_opts = opts_for("AP300", NULL);
	assert_int_equal(sim_device_init(&dev, &g_opts, SN, &d), BLT_OK);
	assert_int_equal(dev.ncells, 16);
	assert_float_equal(dev.capacity_wh, 16 * 3.2 * 20.0, 1e-9);
}

static void test_two_serials(void **state)
{
	static sim_device_t other;
	blt_detail_t d = {{0}};
	(void)state;
	init_dev("EL100V2", NULL);
	assert_int_equal(sim_device_init(&other, &g_opts, SN + 1, &d), BLT_OK);
	assert_string_equal(other.req_topic, "SUB/EL100V2/2434000112346");
	assert_string_not_equal(other.req_topic, dev.req_topic);
}

/* --- nodes (--packs 2 --hub) ------------------------------------------------------------ */

static void init_nodes(unsigned packs, bool hub, double soc)
{
	blt_detail_t d = {{0}};
	sim_nodes_free(&dev);
	g_opts = opts_for("AP300", NULL);
	g_opts.packs = packs;
	g_opts.hub = hub;
	g_opts.start_soc = soc;
	assert_int_equal(sim_device_init(&dev, &g_opts, SN, &d), BLT_OK);
}

static sim_action_t node_query(sim_reply_t *r)
{
	static const uint16_t one = 1;
	uint8_t rtu[BLT_RTU_MAX];
	size_t n;
	assert_int_equal(blt_rtu_build_writen(dev.slave, 21000, &one, 1, rtu, sizeof rtu, &n),
	                 BLT_OK);
	return request((blt_envelope_t)dev.envelope, rtu, n, r);
}

static size_t read_at(uint8_t slave, uint16_t block, uint16_t count, blt_decoded_t *out,
                      uint8_t *exc)
{
	uint8_t rtu[BLT_RTU_MAX];
	size_t n;
	sim_reply_t r;
	blt_rtu_t rep;
	blt_detail_t d = {{0}};
	assert_int_equal(blt_rtu_build_read(slave, block, count, rtu, sizeof rtu, &n), BLT_OK);
	assert_int_equal(request((blt_envelope_t)dev.envelope, rtu, n, &r), SIM_REPLY);
	int rc = blt_rtu_parse(r.rtu, r.rtu_len, BLT_RTU_REPLY, &rep, &d);
	assert_int_equal(rep.slave, slave);
	if (rc == BLT_E_EXCEPTION) {
		*exc = rep.exception;
		return 0;
	}
	assert_int_equal(rc, BLT_OK);
	*exc = 0;
	rc = blt_decode(blt_catalog_find(block), rep.data, rep.nbytes, &dev.dopts, out, &d);
	assert_true(rc == BLT_OK);
	return rep.nbytes / 2;
}

static void check_pack(uint8_t slave, const char *model)
{
	blt_decoded_t *p = calloc(1, sizeof *p), *c = calloc(1, sizeof *c);
	uint8_t exc;
	char name[32];
	assert_int_equal(read_at(slave, 6100, 104, p, &exc), 104);
	assert_string_equal(str(p, "pack_model"), model);
	double v = num(p, "voltage"), i = num(p, "current");
	assert_int_equal(read_at(slave, 6300, 22, c, &exc), 22);
	assert_true(num(c, "cell_count") == 16);
	double sum = 0;
	for (unsigned k = 0; k < 16; k++) {
		snprintf(name, sizeof name, "cell_%u_voltage", k);
		sum += num(c, name);
	}
	/* cells sum to the pack voltage (0.01 V resolution of 6100) */
	assert_true(fabs(sum - v) < 0.011);
	/* discharging at the §7.2 load: a pack carries its share, negative current */
	assert_true(i < 0 && i > -5);
	assert_true(num(p, "soc") > 0 && num(p, "soc") <= 100);
	free(p);
	free(c);
}

static void test_nodes(void **state)
{
	sim_reply_t r;
	blt_rtu_t rep;
	blt_detail_t d = {{0}};
	blt_decoded_t *nl = calloc(1, sizeof *nl), *h = calloc(1, sizeof *h);
	uint8_t exc;
	(void)state;

	init_nodes(2, true, 76);
	/* the query: an FC10-shaped answer at 21000 carrying the node list */
	assert_int_equal(node_query(&r), SIM_REPLY);
	assert_int_equal(blt_rtu_parse(r.rtu, r.rtu_len, BLT_RTU_REQUEST, &rep, &d), BLT_OK);
	assert_int_equal(rep.function, BLT_FC_WRITEN);
	assert_int_equal(rep.reg, 21000);
	assert_int_equal(blt_decode(blt_catalog_find(21000), rep.data, rep.nbytes, NULL, nl, &d),
	                 BLT_OK);
	assert_true(num(nl, "node_count") == 4);
	assert_true(num(nl, "node_0_slave") == 0);
	assert_true(num(nl, "node_0_model") == 6); /* AP300 type id */
	assert_true(num(nl, "node_1_slave") == 11);
	assert_true(num(nl, "node_1_model") == 3007);
	assert_true(num(nl, "node_2_slave") == 51);
	assert_true(num(nl, "node_3_slave") == 52);
	assert_string_equal(str(nl, "node_3_model"), "B300");
	assert_string_equal(str(nl, "node_2_serial"), "2434000112396");
	/* an FC03 read of 21000 is refused: only the query answers */
	assert_int_equal(read_at(0, 21000, 34, nl, &exc), 0);
	assert_int_equal(exc, 2);
	/* each pack answers at its own slave, consistently */
	check_pack(51, "B300");
	check_pack(52, "B300");
	/* the hub answers no reads; an unknown slave gets nothing */
	assert_int_equal(read_at(11, 6100, 104, h, &exc), 0);
	assert_int_equal(exc, 2);
	{
		uint8_t rtu[BLT_RTU_MAX];
		size_t n;
		assert_int_equal(blt_rtu_build_read(53, 6100, 104, rtu, sizeof rtu, &n), BLT_OK);
		assert_int_equal(request((blt_envelope_t)dev.envelope, rtu, n, &r), SIM_IGNORE);
	}
	/* the unit's 100 reports the whole battery: 3 packs, capacity-weighted SOC */
	blt_decoded_t *core = calloc(1, sizeof *core);
	read_decode(100, 62, core);
	assert_true(num(core, "pack_count") == 3);
	double cap = dev.capacity_wh + 2 * 3072.0;
	double want = (dev.capacity_wh * dev.st.soc + 3072.0 * dev.nodes[1]->st.soc +
	               3072.0 * dev.nodes[2]->st.soc) /
	              cap;
	assert_true(fabs(num(core, "soc") - want) <= 0.5);
	/* power conservation: the packs' shares and the unit's own share add up */
	double shares = dev.st.own_w + dev.nodes[1]->st.pack_w + dev.nodes[2]->st.pack_w;
	assert_true(fabs(shares - dev.st.pack_w) < 1e-6);
	/* time: packs evolve with the unit */
	double soc51 = dev.nodes[1]->st.soc;
	g_opts.speed = 3600;
	sim_device_tick(&dev, 10);
	assert_true(dev.nodes[1]->st.soc < soc51);
	check_pack(51, "B300");
	free(core);
	free(nl);
	free(h);
	sim_nodes_free(&dev);
}

static void test_no_nodes_without_options(void **state)
{
	sim_reply_t r;
	blt_rtu_t rep;
	(void)state;
	init_dev("AP300", NULL);
	assert_int_equal(node_query(&r), SIM_REPLY);
	assert_int_equal(blt_rtu_parse(r.rtu, r.rtu_len, BLT_RTU_REPLY, &rep, NULL),
	                 BLT_E_EXCEPTION);
	assert_int_equal(rep.exception, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_regions),
	    cmocka_unit_test(test_seed_preset),
	    cmocka_unit_test(test_scenario_blocks),
	    cmocka_unit_test(test_read_bounds),
	    cmocka_unit_test(test_envelopes_and_garbage),
	    cmocka_unit_test(test_exceptions),
	    cmocka_unit_test(test_writes_seed_examples),
	    cmocka_unit_test(test_write_rules),
	    cmocka_unit_test(test_write_switch2),
	    cmocka_unit_test(test_ac_off),
	    cmocka_unit_test(test_evolution),
	    cmocka_unit_test(test_push_frames),
	    cmocka_unit_test(test_profiles),
	    cmocka_unit_test(test_two_serials),
	    cmocka_unit_test(test_nodes),
	    cmocka_unit_test(test_no_nodes_without_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
