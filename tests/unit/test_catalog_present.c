/* Presentation in the catalog (blt_ha_field_info / key / name):
 *  - precision: for every row of every block on every profile, the display precision is
 *    the decoder's own decimals (one formula, blt_field_decimals);
 *  - same_as links name an existing primary row (no chains), of the same kind of quantity;
 *  - quantity tags: repeated quantities on repeated rows only, plain ones on plain rows;
 *    every quantity the device model reads has a row;
 *  - row flags: alarm only on bitmaps, counters have no energy unit, labels fit;
 *  - names: the block title is not repeated ("PV" + "pv_power" -> "PV power"), the
 *    sub-device's rows go without it, labels win over the row name. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <bluetti/bluetti.h>

static blt_decoded_t dec;

static bool is_text(const blt_field_t *f)
{
	return f->type == BLT_T_STR || f->type == BLT_T_STR_SWAP || f->type == BLT_T_SN64;
}

/* Numbers decoded on each profile carry exactly the decimals the presentation announces. */
static void test_precision_is_the_decoders(void **state)
{
	uint8_t buf[256];
	size_t checked = 0;
	(void)state;
	for (size_t pi = 0; pi < blt_profile_count(); pi++) {
		const blt_profile_t *p = blt_profile_at(pi);
		blt_decode_opts_t o;
		blt_profile_decode_opts(p, &o);
		for (size_t bi = 0; bi < blt_catalog_count(); bi++) {
			const blt_block_t *b = blt_catalog_at(bi);
			size_t n = (size_t)b->regs * 2u;
			if (n > sizeof buf)
				n = sizeof buf;
			memset(buf, 0, sizeof buf);
			for (size_t i = 0; i < b->nfields; i++) /* one record of repeated rows */
				if (b->fields[i].flags & BLT_F_COUNT)
					blt_encode_num(b, &b->fields[i], 0, 1, &o, buf, n);
			for (size_t i = 0; i < b->nfields; i++)
				if (!is_text(&b->fields[i]) && !(b->fields[i].flags & BLT_F_COUNT))
					blt_encode_num(b, &b->fields[i], 0, 1, &o, buf, n);
			blt_decode(b, buf, n, &o, &dec, NULL);
			for (size_t i = 0; i < dec.count; i++) {
				const blt_value_t *v = &dec.values[i];
				blt_ha_info_t hi;
				if (v->status != BLT_VS_OK || v->kind == BLT_VK_STR)
					continue;
				blt_ha_field_info(p, b, v->field, &hi);
				if (hi.decimals < 0 || (v->field->ha.flags & BLT_P_COUNTER))
					continue;
				if (hi.decimals != (int)v->decimals)
					fail_msg("%s %u %s: presentation %d decimals, decoder %u",
					         p->id, b->id, v->field->name, hi.decimals,
					         v->decimals);
				checked++;
			}
		}
	}
	assert_true(checked > 1000);
}

static const blt_field_t *find_row(const blt_block_t *b, const char *name)
{
	for (size_t i = 0; b && i < b->nfields; i++)
		if (!strcmp(b->fields[i].name, name))
			return &b->fields[i];
	return NULL;
}

static void test_same_as_names_a_primary(void **state)
{
	size_t links = 0;
	(void)state;
	for (size_t bi = 0; bi < blt_catalog_count(); bi++) {
		const blt_block_t *b = blt_catalog_at(bi);
		for (size_t i = 0; i < b->nfields; i++) {
			const blt_field_t *f = &b->fields[i], *t;
			const blt_block_t *tb;
			const char *dc, *sc, *tdc, *tsc;
			char *end;
			unsigned long id;
			if (!f->ha.same_as)
				continue;
			id = strtoul(f->ha.same_as, &end, 10);
			assert_true(*end == ':');
			tb = blt_catalog_find((uint16_t)id);
			t = find_row(tb, end + 1);
			if (!t)
				fail_msg("%u %s: same_as %s names no row", b->id, f->name,
				         f->ha.same_as);
			if (t->ha.same_as)
				fail_msg("%u %s: same_as %s is itself a copy", b->id, f->name,
				         f->ha.same_as);
			assert_true(tb->id != b->id);
			/* the same kind of quantity (Wh and kWh are both energy) */
			blt_unit_classes(f->unit, &dc, &sc);
			blt_unit_classes(t->unit, &tdc, &tsc);
			if ((dc || tdc) && (!dc || !tdc || strcmp(dc, tdc)))
				fail_msg("%u %s (%s) vs %s (%s): not one quantity", b->id, f->name,
				         f->unit ? f->unit : "-", f->ha.same_as,
				         t->unit ? t->unit : "-");
			if ((f->enums != NULL) != (t->enums != NULL))
				fail_msg("%u %s: enum vs number", b->id, f->name);
			links++;
		}
	}
	assert_true(links >= 20);
	/* on a profile reading the primary's block the copy is not an entity; the primary is */
	{
		const blt_profile_t *p = blt_profile_find("AP300");
		const blt_block_t *b6000 = blt_catalog_find(6000), *b100 = blt_catalog_find(100);
		blt_ha_info_t hi;
		blt_ha_field_info(p, b6000, find_row(b6000, "soc"), &hi);
		assert_false(hi.published);
		assert_string_equal(hi.why, "100:soc");
		blt_ha_field_info(p, b100, find_row(b100, "soc"), &hi);
		assert_true(hi.published);
		assert_string_equal(hi.device_class, "battery");
		assert_string_equal(hi.unit, "%");
		/* without a profile (nothing known to be read) the copy stands */
		blt_ha_field_info(NULL, b6000, find_row(b6000, "soc"), &hi);
		assert_true(hi.published);
	}
}

static void test_quantities_and_flags(void **state)
{
	bool seen[BLT_Q__COUNT] = {false};
	(void)state;
	for (size_t bi = 0; bi < blt_catalog_count(); bi++) {
		const blt_block_t *b = blt_catalog_at(bi);
		for (size_t i = 0; i < b->nfields; i++) {
			const blt_field_t *f = &b->fields[i];
			unsigned q = f->ha.quantity;
			bool rep_q = q == BLT_Q_GRID_PHASE_VOLTAGE ||
			             q == BLT_Q_GRID_PHASE_CURRENT || q == BLT_Q_GRID_PHASE_POWER ||
			             q == BLT_Q_CELL_VOLTAGE || q == BLT_Q_TEMP;
			assert_true(q < BLT_Q__COUNT);
			seen[q] = true;
			if (q && rep_q != (f->repeat != NULL))
				fail_msg("%u %s: quantity %u on a %s row", b->id, f->name, q,
				         f->repeat ? "repeated" : "plain");
			if (q == BLT_Q_MODEL || q == BLT_Q_SERIAL)
				assert_true(is_text(f));
			else if (q)
				assert_false(is_text(f));
			if ((f->ha.flags & BLT_P_ALARM) && !(f->flags & BLT_F_BITMAP))
				fail_msg("%u %s: alarm flag on a row that is not a bitmap", b->id,
				         f->name);
			if (f->ha.label && strlen(f->ha.label) > 60)
				fail_msg("%u %s: label too long", b->id, f->name);
		}
	}
	for (unsigned q = 1; q < BLT_Q__COUNT; q++)
		if (!seen[q])
			fail_msg("quantity %u has no row", q);
}

static const blt_repeat_t three = {.max = 3, .stride = 2};

static void test_names_and_keys(void **state)
{
	static const blt_field_t pv = {.name = "pv_input_power", .unit = "W"};
	static const blt_field_t rep = {.name = "phase_%u_voltage", .unit = "V", .repeat = &three};
	static const blt_field_t lab = {
	    .name = "temp_%u", .unit = "°C", .repeat = &three, .ha = {.label = "Temperature %u"}};
	static const blt_block_t b_pv = {.id = 1200, .ha = {.prefix = "pv", .title = "PV"}};
	static const blt_block_t b_grid = {.id = 1300, .ha = {.prefix = "grid", .title = "Grid"}};
	static const blt_block_t b_pack = {
	    .id = 6300, .ha = {.prefix = "battery_pack", .title = "Battery pack", .sub = 1}};
	static const blt_block_t b_x = {.id = 7777};
	static const char *const none[] = {NULL};
	char out[96];
	(void)state;
	assert_int_equal(blt_ha_field_name(&b_pv, &pv, 0, out, sizeof out), BLT_OK);
	assert_string_equal(out, "PV input power");
	assert_int_equal(blt_ha_field_key(&b_pv, &pv, 0, none, out, sizeof out), BLT_OK);
	assert_string_equal(out, "pv_input_power");
	assert_int_equal(blt_ha_field_name(&b_grid, &rep, 2, out, sizeof out), BLT_OK);
	assert_string_equal(out, "Grid phase 2 voltage");
	assert_int_equal(blt_ha_field_key(&b_grid, &rep, 2, none, out, sizeof out), BLT_OK);
	assert_string_equal(out, "grid_phase_2_voltage");
	assert_int_equal(blt_ha_field_name(&b_pack, &lab, 1, out, sizeof out), BLT_OK);
	assert_string_equal(out, "Temperature 1");
	assert_int_equal(blt_ha_field_key(&b_pack, &lab, 1, none, out, sizeof out), BLT_OK);
	assert_string_equal(out, "battery_pack_temp_1");
	/* an unknown block: b<id> prefix, diagnostic */
	assert_int_equal(blt_ha_field_key(&b_x, &pv, 0, none, out, sizeof out), BLT_OK);
	assert_string_equal(out, "b7777_pv_input_power");
	{
		blt_ha_info_t hi;
		blt_ha_field_info(NULL, &b_x, &pv, &hi);
		assert_true(hi.diagnostic);
		assert_true(hi.published);
		assert_string_equal(hi.device_class, "power");
		assert_string_equal(hi.state_class, "measurement");
		assert_int_equal(hi.decimals, 0);
	}
	/* a reserved key is not taken: the prefix stays */
	{
		static const char *const res[] = {"pv_input_power", NULL};
		assert_int_equal(blt_ha_field_key(&b_pv, &pv, 0, res, out, sizeof out), BLT_OK);
		assert_string_equal(out, "pv_pv_input_power");
	}
	/* too small a buffer is an error, not a cut name */
	assert_int_equal(blt_ha_field_name(&b_grid, &rep, 2, out, 8), BLT_E_BUFSIZE);
	blt_humanize("pv_dcdc_max_temp", out, sizeof out);
	assert_string_equal(out, "PV DC-DC max temp");
}

static void test_counter_and_text_rows(void **state)
{
	const blt_block_t *b6000 = blt_catalog_find(6000);
	const blt_block_t *b100 = blt_catalog_find(100);
	blt_ha_info_t hi;
	(void)state;
	blt_ha_field_info(blt_profile_find("AP300"), b6000, find_row(b6000, "cycle_count"), &hi);
	assert_true(hi.published);
	assert_string_equal(hi.state_class, "total_increasing");
	assert_null(hi.device_class);
	assert_int_equal(hi.decimals, 0);
	blt_ha_field_info(blt_profile_find("AP300"), b100, find_row(b100, "device_model"), &hi);
	assert_false(hi.published);
	assert_string_equal(hi.why, "text");
	/* the model's unit: the Elite 200 V2 reports apparent power in VA */
	blt_ha_field_info(blt_profile_find("ELITE200V2"), b100, find_row(b100, "ac_load_power"),
	                  &hi);
	assert_string_equal(hi.unit, "VA");
	assert_string_equal(hi.device_class, "apparent_power");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_precision_is_the_decoders),
	    cmocka_unit_test(test_same_as_names_a_primary),
	    cmocka_unit_test(test_quantities_and_flags),
	    cmocka_unit_test(test_names_and_keys),
	    cmocka_unit_test(test_counter_and_text_rows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
