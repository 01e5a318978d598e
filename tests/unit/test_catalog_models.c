/* Cloud model codes -> profiles (src/catalog/models.c) and model topic segments with
 * spaces (EVIDENCE.md §5: the Elite 200 V2 is "Elite 200 V2", the EP760 is "PBOX"). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <strings.h>

#include <bluetti/bluetti.h>

static void test_aliases_resolve(void **st)
{
	(void)st;
	assert_string_equal(blt_profile_for_model("Elite 200 V2")->id, "ELITE200V2");
	assert_string_equal(blt_profile_for_model("EL100V2")->id, "EL100V2");
	assert_string_equal(blt_profile_for_model("EL30V2")->id, "EL30V2");
	assert_string_equal(blt_profile_for_model("AP300")->id, "AP300");
	assert_string_equal(blt_profile_for_model("PBOX")->id, "EP760");
	assert_string_equal(blt_model_alias_find("PBOX")->product, "EP760");
	assert_string_equal(blt_profile_for_model("AORA 100")->id, "GENERIC");
	/* unknown codes: the generic profile, never NULL */
	assert_ptr_equal(blt_profile_for_model("ZZ9000"), blt_profile_generic());
	assert_ptr_equal(blt_profile_for_model(NULL), blt_profile_generic());
	/* a profile id still works as a model */
	assert_string_equal(blt_profile_for_model("elite200v2")->id, "ELITE200V2");
	/* the Elite 200 V2 profile's own topic code is the cloud's */
	assert_string_equal(blt_profile_find("ELITE200V2")->model, "Elite 200 V2");
}

static void test_table_consistent(void **st)
{
	(void)st;
	assert_true(blt_model_alias_count() >= 20);
	for (size_t i = 0; i < blt_model_alias_count(); i++) {
		const blt_model_alias_t *a = blt_model_alias_at(i);
		assert_non_null(blt_profile_find(a->profile)); /* names an existing profile */
		assert_true(blt_topic_model_ok(a->code));      /* usable in topics */
		assert_non_null(a->source);
		for (size_t k = 0; k < i; k++) /* no duplicates */
			assert_int_not_equal(strcasecmp(blt_model_alias_at(k)->code, a->code), 0);
		/* a profile's own model code maps back to it */
	}
	for (size_t i = 0; blt_profile_at(i); i++) {
		const blt_profile_t *p = blt_profile_at(i);
		if (p->model)
			assert_ptr_equal(blt_profile_for_model(p->model), p);
		/* a profile's own alias list agrees with the table */
		for (const char *const *al = p->aliases; al && *al; al++) {
			assert_non_null(blt_model_alias_find(*al));
			assert_ptr_equal(blt_profile_for_model(*al), p);
		}
	}
	assert_null(blt_model_alias_at(blt_model_alias_count()));
}

static void test_model_segments(void **st)
{
	char t[128];
	blt_detail_t d;
	(void)st;
	assert_true(blt_topic_model_ok("Elite 200 V2"));
	assert_true(blt_topic_model_ok("AORA 80"));
	assert_false(blt_topic_model_ok(""));
	assert_false(blt_topic_model_ok(NULL));
	assert_false(blt_topic_model_ok(" EL"));
	assert_false(blt_topic_model_ok("EL "));
	assert_false(blt_topic_model_ok("EL/100"));
	assert_false(blt_topic_model_ok("EL+"));
	assert_false(blt_topic_model_ok("EL#"));
	assert_false(blt_topic_model_ok("EL\n1"));
	assert_false(blt_topic_model_ok("EL\x7f"));
	assert_false(blt_topic_model_ok("\xc3\x9c"));
	assert_false(
	    blt_topic_model_ok("0123456789012345678901234567890123456789012345678901234567890"
	                       "1234"));
	assert_int_equal(
	    blt_topic_expand("PUB/{model}/{sn}", "Elite 200 V2", "2437000154321", t, sizeof t, &d),
	    BLT_OK);
	assert_string_equal(t, "PUB/Elite 200 V2/2437000154321");
	assert_int_equal(blt_topic_expand("PUB/{model}/{sn}", "EL/+", "1", t, sizeof t, &d),
	                 BLT_E_SERIAL);
	/* serials stay strict */
	assert_int_equal(blt_topic_expand("PUB/{model}/{sn}", "EL", "1 2", t, sizeof t, &d),
	                 BLT_E_SERIAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_aliases_resolve),
	    cmocka_unit_test(test_table_consistent),
	    cmocka_unit_test(test_model_segments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
