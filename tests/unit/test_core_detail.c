/* blt_detail_set: a text longer than the buffer is cut at a word boundary and marked with
 * "...", never in the middle of a word or a UTF-8 character. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include <bluetti/bluetti.h>

static void test_short_text_unchanged(void **st)
{
	blt_detail_t d;
	(void)st;
	assert_int_equal(blt_detail_set(&d, BLT_E_CONFIG, "a %s b", "word"), BLT_E_CONFIG);
	assert_string_equal(d.text, "a word b");
	assert_int_equal(blt_detail_set(NULL, BLT_E_IO, "x"), BLT_E_IO);
}

static void test_long_text_cut_between_words(void **st)
{
	blt_detail_t d;
	char words[2000] = "";
	(void)st;
	/* words of 7 letters: a byte cut would almost surely land inside one */
	for (int i = 0; i < 200; i++)
		strcat(words, i ? " abcdefg" : "abcdefg");
	blt_detail_set(&d, BLT_E_CONFIG, "%s", words);
	size_t n = strlen(d.text);
	assert_true(n < sizeof d.text);
	assert_true(n > sizeof d.text / 2);
	assert_string_equal(d.text + n - 3, "...");
	/* what precedes "..." is a whole word */
	assert_memory_equal(d.text + n - 10, "abcdefg...", 10);
	assert_true(d.text[n - 11] == ' ');
}

static void test_long_word_cut_at_utf8_boundary(void **st)
{
	blt_detail_t d;
	char big[1200] = "";
	(void)st;
	for (int i = 0; i < 300; i++)
		strcat(big, "\xc3\x9c"); /* U+00DC, two bytes, no spaces */
	blt_detail_set(&d, BLT_E_CONFIG, "%s", big);
	size_t n = strlen(d.text);
	assert_string_equal(d.text + n - 3, "...");
	assert_int_equal((n - 3) % 2, 0); /* whole characters only */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_short_text_unchanged),
	    cmocka_unit_test(test_long_text_cut_between_words),
	    cmocka_unit_test(test_long_word_cut_at_utf8_boundary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
