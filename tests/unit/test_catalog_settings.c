/* Settings metadata and the write deny list (PROTOCOL.md §6): the deny list cannot be
 * bypassed, every setting points at an existing catalog row, every range check works. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <bluetti/bluetti.h>
#include <bluetti/settings.h>

static const blt_field_t *row(const blt_block_t *b, const char *name)
{
	for (size_t i = 0; i < b->nfields; i++)
		if (!b->fields[i].repeat && strcmp(b->fields[i].name, name) == 0)
			return &b->fields[i];
	return NULL;
}

/* The registers §4.10 / §6.2 call dangerous are denied, with a reason. */
static void test_deny_list_core(void **state)
{
	static const uint16_t must[] = {2013,  2206,  2233,  2006,  2200, 2203,
	                                12002, 12040, 15600, 15750, 7003};
	(void)state;
	for (size_t i = 0; i < sizeof must / sizeof must[0]; i++) {
		const char *why = NULL;
		assert_true(blt_register_denied(must[i], &why));
		assert_non_null(why);
		assert_true(strlen(why) > 5);
	}
	/* why may be NULL; neighbours of the dangerous registers are not denied by accident. */
	assert_true(blt_register_denied(2013, NULL));
	assert_false(blt_register_denied(2011, NULL));
	assert_false(blt_register_denied(2012, NULL));
	assert_false(blt_register_denied(2014, NULL));
	assert_false(blt_register_denied(2207, NULL));
	assert_false(blt_register_denied(0, NULL));
	assert_false(blt_register_denied(65535, NULL));
}

/* No path accepts a write to a denied register: no setting maps to one, the setting lookup
 * by register finds none, and every value of every override combination is refused. */
static void test_deny_list_cannot_be_bypassed(void **state)
{
	(void)state;
	for (uint32_t reg = 0; reg <= 0xFFFF; reg++) {
		const blt_setting_t *s;
		if (!blt_register_denied((uint16_t)reg, NULL))
			continue;
		s = blt_setting_by_register((uint16_t)reg);
		assert_null(s);
	}
	for (size_t i = 0; i < blt_setting_count(); i++)
		assert_false(blt_register_denied(blt_setting_at(i)->reg, NULL));

	/* A forged setting aimed at a denied register is refused by every check. */
	{
		blt_setting_t forged = *blt_setting_find("dc_output");
		blt_detail_t d = {{0}};
		forged.reg = 2013;
		forged.status = BLT_SS_LIVE;
		for (int32_t v = -1; v <= 2; v++) {
			assert_int_equal(blt_setting_check_value(&forged, v, &d), BLT_E_DENIED);
			assert_int_equal(blt_setting_check_write(&forged, "EL100V2", v,
			                                         BLT_WRITE_ALLOW_UNVERIFIED |
			                                             BLT_WRITE_ALLOW_PROFILE,
			                                         &d),
			                 BLT_E_DENIED);
		}
		assert_non_null(strstr(d.text, "2013"));
		assert_non_null(strstr(d.text, "never written"));
		forged.reg = 2206;
		assert_int_equal(blt_setting_check_value(&forged, 0, NULL), BLT_E_DENIED);
		forged.reg = 2233;
		assert_int_equal(blt_setting_check_value(&forged, 0, NULL), BLT_E_DENIED);
		forged.reg = 2006;
		assert_int_equal(blt_setting_check_value(&forged, 1, NULL), BLT_E_DENIED);
		{
			int32_t out = 7;
			assert_int_equal(blt_setting_parse_value(&forged, "on", &out, &d),
			                 BLT_E_DENIED);
			assert_int_equal(out, 7); /* untouched on failure */
		}
	}
}

static void test_deny_entries_well_formed(void **state)
{
	uint16_t prev_last = 0;
	(void)state;
	assert_true(blt_denied_count() >= 4);
	for (size_t i = 0; i < blt_denied_count(); i++) {
		uint16_t a = 0, z = 0;
		const char *why = NULL;
		assert_true(blt_denied_at(i, &a, &z, &why));
		assert_true(a <= z);
		assert_non_null(why);
		if (i)
			assert_true(a > prev_last); /* sorted, disjoint */
		prev_last = z;
	}
	assert_false(blt_denied_at(blt_denied_count(), NULL, NULL, NULL));
}

/* Every setting lies inside a catalog block and names an existing row at the same offset
 * whose register is the setting's register. */
static void test_settings_match_catalog(void **state)
{
	(void)state;
	assert_true(blt_setting_count() >= 20);
	for (size_t i = 0; i < blt_setting_count(); i++) {
		const blt_setting_t *s = blt_setting_at(i);
		const blt_block_t *b = blt_catalog_find(s->block);
		const blt_field_t *f;
		unsigned sz;

		assert_non_null(s->name);
		if (!b)
			print_error("setting %s: block %u not in the catalog\n", s->name, s->block);
		assert_non_null(b);
		assert_true(s->reg >= b->id && s->reg < b->id + b->regs);
		assert_int_equal(s->block + s->offset / 2, s->reg);
		assert_non_null(s->field);
		assert_string_equal(s->field, s->name);
		f = row(b, s->field);
		if (!f)
			print_error("setting %s: no row '%s' in block %u\n", s->name, s->field,
			            b->id);
		assert_non_null(f);
		assert_int_equal(f->offset, s->offset);
		assert_false(f->flags & BLT_F_SECRET);
		sz = f->size ? f->size : blt_type_size((blt_type_t)f->type);
		assert_true(sz == 1 || sz == 2); /* one FC06 register */
		if (sz == 1)
			assert_true(s->offset & 1); /* flags live in the low byte */
		assert_ptr_equal(blt_setting_find(s->name), s);
		/* 13742 / 13744 hold several 2-bit switches: the register names one of them. */
		assert_non_null(blt_setting_by_register(s->reg));
		assert_int_equal(blt_setting_by_register(s->reg)->reg, s->reg);
		if (s->kind != BLT_SK_SWITCH2)
			assert_ptr_equal(blt_setting_by_register(s->reg), s);
		/* Register, offset, unit and value names are the row's, not copies. */
		assert_ptr_equal(s->row, f);
		assert_ptr_equal(s->unit, f->unit);
		if (s->kind == BLT_SK_SWITCH2) {
			assert_int_equal(f->type, BLT_T_U16);
			assert_int_equal(f->mask, 0x3u << f->shift);
			assert_true(s->lan_exposure);
		}
		/* Names unique. */
		for (size_t k = 0; k < i; k++)
			assert_string_not_equal(blt_setting_at(k)->name, s->name);
		/* Enum settings: the allowed values are the row's value names. */
		if (s->kind == BLT_SK_ENUM) {
			assert_non_null(f->enums);
			assert_ptr_equal(s->enums, f->enums);
		}
		/* Profiles exist. */
		for (const char *const *p = s->profiles; p && *p; p++) {
			if (!blt_profile_find(*p))
				print_error("setting %s: unknown profile %s\n", s->name, *p);
			assert_non_null(blt_profile_find(*p));
		}
	}
}

static void test_required_names(void **state)
{
	static const char *const names[] = {
	    "ac_output",
	    "dc_output",
	    "dc_eco",
	    "dc_eco_hours",
	    "dc_eco_watts",
	    "ac_eco",
	    "ac_eco_hours",
	    "ac_eco_watts",
	    "charging_mode",
	    "power_lifting",
	    "soc_low",
	    "soc_high",
	    "grid_charge",
	    "feed_in",
	    "grid_max_power",
	    "feed_in_max_power",
	    "working_mode",
	    "led",
	    "pv",
	    "inverter",
	};
	(void)state;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		assert_non_null(blt_setting_find(names[i]));
	assert_ptr_equal(blt_setting_find("AC_OUTPUT"), blt_setting_find("ac_output"));
	assert_null(blt_setting_find("factory_reset"));
	assert_null(blt_setting_find(NULL));
	assert_null(blt_setting_at(blt_setting_count()));
	assert_int_equal(blt_setting_find("ac_output")->reg, 2011);
	assert_int_equal(blt_setting_find("ac_output")->offset, 23);
	assert_int_equal(blt_setting_find("grid_charge")->reg, 2207);
	assert_int_equal(blt_setting_find("grid_charge")->offset, 15);
	assert_int_equal(blt_setting_find("feed_in")->offset, 17);
	assert_int_equal(blt_setting_find("ac_output")->status, BLT_SS_LIVE);
	assert_int_equal(blt_setting_find("led")->status, BLT_SS_UNVERIFIED);
}

/* Ranges of §6.2: each boundary accepted, one past it refused with BLT_E_RANGE. */
static void test_value_ranges(void **state)
{
	static const struct {
		const char *name;
		int32_t lo, hi;
	} num[] = {
	    {"dc_eco_watts", 5, 20}, {"ac_eco_watts", 10, 40},      {"dc_eco_hours", 1, 4},
	    {"ac_eco_hours", 1, 4},  {"grid_max_power", 300, 6000}, {"feed_in_max_power", 0, 6000},
	    {"soc_high", 1, 100},    {"soc_low", 0, 100},
	};
	blt_detail_t d = {{0}};
	(void)state;
	for (size_t i = 0; i < sizeof num / sizeof num[0]; i++) {
		const blt_setting_t *s = blt_setting_find(num[i].name);
		assert_non_null(s);
		assert_int_equal(s->kind, BLT_SK_NUMBER);
		assert_int_equal(blt_setting_check_value(s, num[i].lo, &d), BLT_OK);
		assert_int_equal(blt_setting_check_value(s, num[i].hi, &d), BLT_OK);
		assert_int_equal(blt_setting_check_value(s, num[i].lo - 1, &d), BLT_E_RANGE);
		assert_non_null(strstr(d.text, num[i].name));
		assert_int_equal(blt_setting_check_value(s, num[i].hi + 1, &d), BLT_E_RANGE);
		assert_int_equal(blt_setting_check_value(s, INT32_MIN, &d), BLT_E_RANGE);
		assert_int_equal(blt_setting_check_value(s, INT32_MAX, &d), BLT_E_RANGE);
	}
	assert_int_equal(blt_setting_check_value(blt_setting_find("dc_eco_watts"), 21, &d),
	                 BLT_E_RANGE);
	assert_string_equal(d.text, "dc_eco_watts: 21 is outside 5..20 W");

	/* Switches: 0 and 1 only. */
	for (size_t i = 0; i < blt_setting_count(); i++) {
		const blt_setting_t *s = blt_setting_at(i);
		if (s->kind != BLT_SK_SWITCH)
			continue;
		assert_int_equal(blt_setting_check_value(s, 0, NULL), BLT_OK);
		assert_int_equal(blt_setting_check_value(s, 1, NULL), BLT_OK);
		assert_int_equal(blt_setting_check_value(s, 2, NULL), BLT_E_RANGE);
		assert_int_equal(blt_setting_check_value(s, -1, NULL), BLT_E_RANGE);
		assert_int_equal(blt_setting_check_value(s, 256, NULL), BLT_E_RANGE);
	}

	/* charging_mode: 0/1/2/4, never 3. */
	{
		const blt_setting_t *s = blt_setting_find("charging_mode");
		assert_int_equal(blt_setting_check_value(s, 0, NULL), BLT_OK);
		assert_int_equal(blt_setting_check_value(s, 2, NULL), BLT_OK);
		assert_int_equal(blt_setting_check_value(s, 4, NULL), BLT_OK);
		assert_int_equal(blt_setting_check_value(s, 3, &d), BLT_E_RANGE);
		assert_non_null(strstr(d.text, "4 custom"));
		assert_int_equal(blt_setting_check_value(s, 5, NULL), BLT_E_RANGE);
	}
	assert_int_equal(blt_setting_check_value(blt_setting_find("working_mode"), 6, NULL),
	                 BLT_OK);
	assert_int_equal(blt_setting_check_value(blt_setting_find("working_mode"), 7, NULL),
	                 BLT_E_RANGE);
	assert_int_equal(blt_setting_check_value(NULL, 0, &d), BLT_E_INVAL);
}

/* Every number setting's range fits one 16-bit register. */
static void test_ranges_fit_register(void **state)
{
	(void)state;
	for (size_t i = 0; i < blt_setting_count(); i++) {
		const blt_setting_t *s = blt_setting_at(i);
		if (s->kind != BLT_SK_NUMBER)
			continue;
		assert_true(s->min <= s->max);
		assert_true(s->min >= 0 && s->max <= 0xFFFF);
		assert_true(s->step >= 1);
	}
}

static void test_write_gate(void **state)
{
	blt_detail_t d = {{0}};
	const blt_setting_t *led = blt_setting_find("led");
	const blt_setting_t *ac = blt_setting_find("ac_output");
	const blt_setting_t *feed = blt_setting_find("feed_in");
	(void)state;

	/* Unverified needs the override. */
	assert_int_equal(blt_setting_check_write(led, NULL, 1, 0, &d), BLT_E_DENIED);
	assert_non_null(strstr(d.text, "unverified"));
	assert_int_equal(blt_setting_check_write(led, NULL, 1, BLT_WRITE_ALLOW_UNVERIFIED, &d),
	                 BLT_OK);
	/* The override does not widen ranges. */
	assert_int_equal(blt_setting_check_write(led, NULL, 2, BLT_WRITE_ALLOW_UNVERIFIED, &d),
	                 BLT_E_RANGE);
	/* Live settings on every profile. */
	assert_int_equal(blt_setting_check_write(ac, "EL100V2", 1, 0, &d), BLT_OK);
	assert_int_equal(blt_setting_check_write(ac, "ELITE200V2", 0, 0, &d), BLT_OK);
	assert_true(blt_setting_supports_profile(ac, "generic"));
	/* Profile-specific settings. */
	assert_true(blt_setting_supports_profile(feed, "ap300"));
	assert_false(blt_setting_supports_profile(feed, "EL30V2"));
	assert_int_equal(blt_setting_check_write(feed, "EL30V2", 1, 0, &d), BLT_E_DENIED);
	assert_non_null(strstr(d.text, "EL30V2"));
	assert_int_equal(blt_setting_check_write(feed, "EL30V2", 1, BLT_WRITE_ALLOW_PROFILE, &d),
	                 BLT_OK);
	assert_int_equal(blt_setting_check_write(feed, "AP300", 1, 0, &d), BLT_OK);
	assert_false(blt_setting_supports_profile(NULL, "AP300"));
}

/* The LAN switches (13742, 13744): 1 or 2 at the switch's bits, 0 elsewhere; never
 * written without the LAN exposure confirmation, whatever else is allowed. */
static void test_lan_switches(void **state)
{
	blt_detail_t d = {{0}};
	const blt_setting_t *tcp = blt_setting_find("modbus_tcp");
	const blt_setting_t *tls = blt_setting_find("modbus_tcp_tls");
	const blt_setting_t *mq = blt_setting_find("open_mqtt");
	const blt_setting_t *rep = blt_setting_find("open_mqtt_report");
	const blt_setting_t *port = blt_setting_find("modbus_tcp_port");
	const unsigned all = BLT_WRITE_ALLOW_UNVERIFIED | BLT_WRITE_ALLOW_PROFILE;
	int32_t v = -1;
	(void)state;

	assert_non_null(tcp);
	assert_non_null(tls);
	assert_non_null(mq);
	assert_non_null(rep);
	assert_non_null(port);
	assert_int_equal(tcp->reg, 13744);
	assert_int_equal(tls->reg, 13744);
	assert_int_equal(mq->reg, 13742);
	assert_int_equal(rep->reg, 13742);
	assert_int_equal(port->reg, 13745);
	assert_int_equal(blt_setting_find("open_mqtt_report_cycle")->reg, 13743);
	assert_int_equal(tcp->kind, BLT_SK_SWITCH2);
	assert_string_equal(blt_setting_kind_name(BLT_SK_SWITCH2), "switch2");

	/* values: 1 on / 2 off at the bits, nothing else */
	assert_int_equal(blt_setting_check_value(tcp, 1, &d), BLT_OK);
	assert_int_equal(blt_setting_check_value(tcp, 2, &d), BLT_OK);
	assert_int_equal(blt_setting_check_value(tcp, 0, &d), BLT_E_RANGE);
	assert_int_equal(blt_setting_check_value(tcp, 3, &d), BLT_E_RANGE);
	assert_int_equal(blt_setting_check_value(tcp, 9, &d), BLT_E_RANGE); /* two fields */
	assert_int_equal(blt_setting_check_value(tls, 4, &d), BLT_OK);
	assert_int_equal(blt_setting_check_value(tls, 8, &d), BLT_OK);
	assert_int_equal(blt_setting_check_value(tls, 1, &d), BLT_E_RANGE);
	assert_int_equal(blt_setting_check_value(rep, 0x40, &d), BLT_OK);
	assert_int_equal(blt_setting_check_value(rep, 0x51, &d), BLT_E_RANGE);
	assert_non_null(strstr(d.text, "bits 6-7"));
	assert_int_equal(blt_setting_parse_value(tls, "on", &v, &d), BLT_OK);
	assert_int_equal(v, 4);
	assert_int_equal(blt_setting_parse_value(tls, "off", &v, &d), BLT_OK);
	assert_int_equal(v, 8);
	assert_int_equal(blt_setting_parse_value(mq, "ON", &v, &d), BLT_OK);
	assert_int_equal(v, 1);
	assert_int_equal(blt_setting_parse_value(mq, "maybe", &v, &d), BLT_E_RANGE);
	assert_string_equal(blt_setting_value_name(tls, 8), "off");
	assert_string_equal(blt_setting_value_name(tls, 4), "on");
	assert_string_equal(blt_setting_value_name(tls, 0), "unset");
	assert_null(blt_setting_value_name(tls, 9));
	assert_int_equal(blt_setting_check_value(port, 502, &d), BLT_OK);
	assert_int_equal(blt_setting_check_value(port, 0, &d), BLT_E_RANGE);

	/* the confirmation: no other override lifts it */
	assert_int_equal(blt_setting_check_write(tcp, "EL100V2", 1, all, &d), BLT_E_DENIED);
	assert_non_null(strstr(d.text, "unauthenticated"));
	assert_int_equal(blt_setting_check_write(port, "EL100V2", 502, all, &d), BLT_E_DENIED);
	assert_int_equal(
	    blt_setting_check_write(tcp, "EL100V2", 1, all | BLT_WRITE_ALLOW_LAN_EXPOSURE, &d),
	    BLT_OK);
	/* unverified first: the confirmation alone is not enough */
	assert_int_equal(
	    blt_setting_check_write(tcp, "EL100V2", 1, BLT_WRITE_ALLOW_LAN_EXPOSURE, &d),
	    BLT_E_DENIED);
	assert_non_null(strstr(d.text, "unverified"));
	/* no other setting needs it */
	assert_false(blt_setting_find("ac_output")->lan_exposure);
}

static void test_enum_name(void **state)
{
	static const blt_enum_entry_t e[] = {{0, "zero"}, {-3, "minus"}, {7, "seven"}, {0, NULL}};
	(void)state;
	assert_string_equal(blt_enum_name(e, 0), "zero");
	assert_string_equal(blt_enum_name(e, -3), "minus");
	assert_string_equal(blt_enum_name(e, 7), "seven");
	assert_null(blt_enum_name(e, 1));
	assert_null(blt_enum_name(NULL, 0));
	assert_string_equal(blt_node_model_name(4001), "HV800");
	assert_null(blt_node_model_name(1));
	assert_string_equal(blt_setting_value_name(blt_setting_find("charging_mode"), 2), "turbo");
	assert_null(blt_setting_value_name(blt_setting_find("charging_mode"), 3));
	assert_string_equal(blt_setting_value_name(blt_setting_find("ac_output"), 0), "off");
	assert_null(blt_setting_value_name(blt_setting_find("soc_low"), 0));
}

static void test_parse_value(void **state)
{
	blt_detail_t d = {{0}};
	int32_t v = -5;
	const blt_setting_t *ac = blt_setting_find("ac_output");
	const blt_setting_t *cm = blt_setting_find("charging_mode");
	const blt_setting_t *gm = blt_setting_find("grid_max_power");
	(void)state;

	assert_int_equal(blt_setting_parse_value(ac, "on", &v, &d), BLT_OK);
	assert_int_equal(v, 1);
	assert_int_equal(blt_setting_parse_value(ac, "OFF", &v, &d), BLT_OK);
	assert_int_equal(v, 0);
	assert_int_equal(blt_setting_parse_value(ac, "true", &v, &d), BLT_OK);
	assert_int_equal(v, 1);
	assert_int_equal(blt_setting_parse_value(ac, "2", &v, &d), BLT_E_RANGE);
	assert_int_equal(blt_setting_parse_value(ac, "", &v, &d), BLT_E_RANGE);

	assert_int_equal(blt_setting_parse_value(cm, "turbo", &v, &d), BLT_OK);
	assert_int_equal(v, 2);
	assert_int_equal(blt_setting_parse_value(cm, "Custom", &v, &d), BLT_OK);
	assert_int_equal(v, 4);
	assert_int_equal(blt_setting_parse_value(cm, "1", &v, &d), BLT_OK);
	assert_int_equal(v, 1);
	assert_int_equal(blt_setting_parse_value(cm, "3", &v, &d), BLT_E_RANGE);
	assert_int_equal(blt_setting_parse_value(cm, "fast", &v, &d), BLT_E_RANGE);
	assert_non_null(strstr(d.text, "standard"));

	assert_int_equal(blt_setting_parse_value(gm, "1500", &v, &d), BLT_OK);
	assert_int_equal(v, 1500);
	v = 42;
	assert_int_equal(blt_setting_parse_value(gm, "299", &v, &d), BLT_E_RANGE);
	assert_int_equal(v, 42);
	assert_int_equal(blt_setting_parse_value(gm, "15x", &v, &d), BLT_E_INVAL);
	assert_int_equal(blt_setting_parse_value(gm, "-", &v, &d), BLT_E_INVAL);
	assert_int_equal(blt_setting_parse_value(gm, "99999999999999", &v, &d), BLT_E_INVAL);
	assert_int_equal(blt_setting_parse_value(gm, "-300", &v, &d), BLT_E_RANGE);
	assert_int_equal(blt_setting_parse_value(gm, NULL, &v, &d), BLT_E_INVAL);
	assert_int_equal(blt_setting_parse_value(NULL, "1", &v, &d), BLT_E_INVAL);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(blt_setting_kind_name(BLT_SK_SWITCH), "switch");
	assert_string_equal(blt_setting_kind_name(BLT_SK_NUMBER), "number");
	assert_string_equal(blt_setting_status_name(BLT_SS_UNVERIFIED), "unverified");
	assert_string_equal(blt_setting_kind_name((blt_setting_kind_t)9), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_deny_list_core),
	    cmocka_unit_test(test_deny_list_cannot_be_bypassed),
	    cmocka_unit_test(test_deny_entries_well_formed),
	    cmocka_unit_test(test_settings_match_catalog),
	    cmocka_unit_test(test_required_names),
	    cmocka_unit_test(test_value_ranges),
	    cmocka_unit_test(test_ranges_fit_register),
	    cmocka_unit_test(test_write_gate),
	    cmocka_unit_test(test_parse_value),
	    cmocka_unit_test(test_lan_switches),
	    cmocka_unit_test(test_enum_name),
	    cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
