/* testdata.c - captures and fixtures under tests/data for the unit tests (testdata.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <bluetti/bluetti.h>

#include "testdata.h"

#ifndef BLT_TEST_DATA
#error "BLT_TEST_DATA (the tests/data directory) must be defined by the build"
#endif

#define TEXT_MAX (64 * 1024)

/* Files read so far: a list that lives until exit (still reachable, not a leak). */
typedef struct loaded {
	struct loaded *next;
	char *rel;
	char *text;
} loaded_t;

static loaded_t *loaded;

static char *read_file(const char *rel)
{
	char path[1024];
	char *text;
	size_t n;
	FILE *fp;
	int w = snprintf(path, sizeof path, "%s/%s", BLT_TEST_DATA, rel);
	if (w < 0 || (size_t)w >= sizeof path)
		fail_msg("test data path too long: %s", rel);
	fp = fopen(path, "rb");
	if (!fp)
		fail_msg("cannot open %s", path);
	text = malloc(TEXT_MAX + 1);
	assert_non_null(text);
	n = fread(text, 1, TEXT_MAX + 1, fp);
	fclose(fp);
	if (n > TEXT_MAX)
		fail_msg("%s: larger than %d bytes", path, TEXT_MAX);
	text[n] = '\0';
	if (strlen(text) != n)
		fail_msg("%s: not text (NUL byte)", path);
	return text;
}

const char *test_data_text(const char *rel)
{
	loaded_t *l;
	for (l = loaded; l; l = l->next)
		if (!strcmp(l->rel, rel))
			return l->text;
	l = calloc(1, sizeof *l);
	assert_non_null(l);
	l->rel = strdup(rel);
	assert_non_null(l->rel);
	l->text = read_file(rel);
	l->next = loaded;
	loaded = l;
	return l->text;
}

size_t test_hex(const char *hex, uint8_t *out, size_t cap)
{
	size_t n = 0;
	assert_int_equal(blt_hex_decode(hex, out, cap, &n, NULL), BLT_OK);
	return n;
}

size_t test_data_hex(const char *rel, uint8_t *out, size_t cap)
{
	size_t n = 0;
	blt_detail_t d = {{0}};
	if (blt_hex_decode(test_data_text(rel), out, cap, &n, &d) != BLT_OK)
		fail_msg("%s: %s", rel, d.text);
	return n;
}
