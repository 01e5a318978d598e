/* Planning reads through the Modbus TCP open map: merged where the public addresses are
 * contiguous, never across an unmapped address, one-register reads moved to a run start. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <bluetti/bluetti.h>
#include <bluetti/client.h>

/* Every register of every planned read is mapped (no silence), and the plan covers every
 * mapped register of the range. */
static void check_plan(uint16_t start, uint16_t count)
{
	blt_openmap_read_t plan[BLT_MAX_READ_REGS];
	size_t n = blt_openmap_plan(start, count, plan, BLT_MAX_READ_REGS);
	unsigned covered = 0, mapped = 0;

	for (size_t s = 0; s < n; s++) {
		const blt_tcp_run_t *r0 = blt_tcpmap_find_public(plan[s].pub);
		assert_non_null(r0);
		if (plan[s].count == 1 || plan[s].skip)
			assert_int_equal(r0->pub, plan[s].pub); /* a run start */
		for (uint16_t k = 0; k < plan[s].count; k++)
			assert_non_null(blt_tcpmap_find_public((uint16_t)(plan[s].pub + k)));
		covered += plan[s].count - plan[s].skip;
	}
	for (uint16_t i = 0; i < count; i++)
		if (blt_tcpmap_find_internal((uint16_t)(start + i)))
			mapped++;
	assert_int_equal(covered, mapped);
}

static void test_block_100_is_one_read(void **state)
{
	blt_openmap_read_t plan[8];

	(void)state;
	/* 120, 126-129, 133-137, 142-149, 152-159, 161-163, 165-166 sit at 50001-50031 */
	assert_int_equal(blt_openmap_plan(100, 70, plan, 8), 1);
	assert_int_equal(plan[0].pub, 50001);
	assert_int_equal(plan[0].count, 31);
	check_plan(100, 70);
}

static void test_grid_block(void **state)
{
	blt_openmap_read_t plan[8];
	size_t n;

	(void)state;
	n = blt_openmap_plan(1300, 30, plan, 8);
	/* 1300-1302 -> 50214-50216, 1303-1306 -> 50223-50226, 1312-1315 -> 50234-50237,
	 * 1319-1321 -> 50238-50240, 1325-1327 -> 50241-50243 */
	assert_int_equal(n, 3);
	assert_int_equal(plan[0].pub, 50214);
	assert_int_equal(plan[0].count, 3);
	assert_int_equal(plan[1].pub, 50223);
	assert_int_equal(plan[2].pub, 50234);
	assert_int_equal(plan[2].count, 10);
	check_plan(1300, 30);
}

static void test_single_register_inside_a_run(void **state)
{
	blt_openmap_read_t plan[4];

	(void)state;
	/* 145 alone is public 50005, inside the run 50002-50009 <- 142-149 */
	assert_int_equal(blt_openmap_plan(145, 1, plan, 4), 1);
	assert_int_equal(plan[0].pub, 50002);
	assert_int_equal(plan[0].count, 4);
	assert_int_equal(plan[0].skip, 3);
	check_plan(145, 1);
}

static void test_unmapped_and_every_block(void **state)
{
	blt_openmap_read_t plan[4];

	(void)state;
	assert_int_equal(blt_openmap_plan(100, 20, plan, 4), 0); /* 100-119: none mapped */
	assert_int_equal(blt_openmap_plan(6116, 8, plan, 4), 0); /* cells: compiled out */
	for (size_t i = 0; i < blt_catalog_count(); i++) {
		const blt_block_t *b = blt_catalog_at(i);
		check_plan(b->id, b->regs);
	}
}

static void test_write_targets(void **state)
{
	uint16_t pub = 0;

	(void)state;
	assert_int_equal(blt_openmap_write_target(2012, &pub, NULL), BLT_OK);
	assert_int_equal(pub, 57005);
	assert_int_equal(blt_openmap_write_target(1300, &pub, NULL), BLT_E_DENIED); /* RO */
	assert_int_equal(blt_openmap_write_target(2010, &pub, NULL), BLT_E_NOT_FOUND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_block_100_is_one_read),
	    cmocka_unit_test(test_grid_block),
	    cmocka_unit_test(test_single_register_inside_a_run),
	    cmocka_unit_test(test_unmapped_and_every_block),
	    cmocka_unit_test(test_write_targets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
