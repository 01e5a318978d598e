/* Every error code has a message and a distinct short name (both generated from the
 * BLT_ERRORS list); the values are contiguous from -1, so none was skipped or reused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <bluetti/bluetti.h>

static const int codes[] = {
#define X_(sym, val, name, text) sym,
    BLT_ERRORS(X_)
#undef X_
};

static void test_every_code_named(void **state)
{
	size_t n = sizeof codes / sizeof codes[0];

	(void)state;
	assert_true(n >= 40);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(codes[i], -(int)(i + 1)); /* contiguous, in order */
		assert_string_not_equal(blt_strerror(codes[i]), "unknown error");
		assert_string_not_equal(blt_err_name(codes[i]), "unknown");
		for (size_t k = 0; k < i; k++) {
			assert_string_not_equal(blt_err_name(codes[i]), blt_err_name(codes[k]));
			assert_string_not_equal(blt_strerror(codes[i]), blt_strerror(codes[k]));
		}
	}
	assert_string_equal(blt_err_name(BLT_OK), "ok");
	assert_string_equal(blt_strerror(BLT_OK), "success");
	assert_string_equal(blt_err_name(-(int)n - 1), "unknown");
	assert_string_equal(blt_strerror(12345), "unknown error");
	assert_string_equal(blt_err_name(BLT_E_NOT_APPLIED), "not-applied");
	assert_string_equal(blt_strerror(BLT_E_CRC), "CRC mismatch");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_code_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
