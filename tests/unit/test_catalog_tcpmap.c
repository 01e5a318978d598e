/* The Modbus TCP open map as data: the firmware table's size (LOCAL.md §1.8: 403 public
 * registers in 76 runs), ordering, lookups both ways, the spec's examples, and the deny
 * list reaching the TCP alias of a denied register. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <bluetti/bluetti.h>
#include <bluetti/settings.h>

static void test_size_and_order(void **state)
{
	uint32_t end = 0;
	uint16_t longest = 0;

	(void)state;
	assert_int_equal(blt_tcpmap_count(), 76);
	assert_int_equal(blt_tcpmap_registers(), 403);
	for (size_t i = 0; i < blt_tcpmap_count(); i++) {
		const blt_tcp_run_t *r = blt_tcpmap_at(i);
		assert_true(r->count > 0);
		assert_true(r->pub >= end); /* sorted, no overlap */
		assert_true(r->pub >= 50001 && r->pub + r->count - 1 <= 59510);
		end = (uint32_t)r->pub + r->count;
		if (r->count > longest)
			longest = r->count;
	}
	assert_int_equal(longest, 91); /* §1.8: any longer read meets silence */
	assert_null(blt_tcpmap_at(blt_tcpmap_count()));
}

static void test_lookups(void **state)
{
	const blt_tcp_run_t *r;

	(void)state;
	r = blt_tcpmap_find_public(50001);
	assert_non_null(r);
	assert_int_equal(r->internal, 120);
	r = blt_tcpmap_find_public(50005);
	assert_int_equal(r->internal + (50005 - r->pub), 145);
	r = blt_tcpmap_find_public(57005); /* DC output, RW */
	assert_int_equal(r->internal, 2012);
	assert_true(r->writable);
	assert_false(blt_tcpmap_find_public(50214)->writable);
	assert_null(blt_tcpmap_find_public(50032)); /* holes named in §1.4 */
	assert_null(blt_tcpmap_find_public(57002));
	assert_null(blt_tcpmap_find_public(57021));
	assert_null(blt_tcpmap_find_public(51231)); /* cells compiled out */
	assert_null(blt_tcpmap_find_public(0));
	assert_null(blt_tcpmap_find_public(65535));
	r = blt_tcpmap_find_internal(1302);
	assert_non_null(r);
	assert_int_equal(r->pub + (1302 - r->internal), 50216);
	assert_null(blt_tcpmap_find_internal(6116)); /* cell voltages: not over TCP */
	assert_null(blt_tcpmap_find_internal(100));

	/* Every mapped public address round-trips through the internal lookup. */
	for (size_t i = 0; i < blt_tcpmap_count(); i++) {
		const blt_tcp_run_t *a = blt_tcpmap_at(i);
		for (uint16_t k = 0; k < a->count; k++) {
			assert_ptr_equal(blt_tcpmap_find_public((uint16_t)(a->pub + k)), a);
			assert_non_null(blt_tcpmap_find_internal((uint16_t)(a->internal + k)));
		}
	}
}

/* 57026 is a writable alias of 2013 (system power-off): the internal register is on the
 * deny list, so a gate that checks the internal register refuses the alias too. */
static void test_denied_alias(void **state)
{
	const blt_tcp_run_t *r = blt_tcpmap_find_public(57026);
	const char *why = NULL;

	(void)state;
	assert_non_null(r);
	assert_true(r->writable);
	assert_int_equal(r->internal, 2013);
	assert_true(blt_register_denied(r->internal, &why));
	assert_non_null(why);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_size_and_order),
	    cmocka_unit_test(test_lookups),
	    cmocka_unit_test(test_denied_alias),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
