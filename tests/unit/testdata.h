/* testdata.h - captures and fixtures under tests/data for the unit tests.
 *
 * Captures live in tests/data (frames/, payloads/: hex text, see their README.md), not
 * pasted into the tests, so that one file is the source of every test that reads it.
 * Every function fails the running test (cmocka) when the file is missing or malformed.
 * Compiled once (CMake object library blt_unit_data) and linked into every unit test. */
#ifndef BLT_TEST_TESTDATA_H
#define BLT_TEST_TESTDATA_H

#include <stddef.h>
#include <stdint.h>

/* The text of tests/data/<rel>, NUL-terminated. Loaded once per path and kept until the
 * process exits, so the pointer can be used like a string literal. */
const char *test_data_text(const char *rel);

/* tests/data/<rel> decoded as hex text (blt_hex_decode: whitespace between groups) into
 * out[cap]; returns the byte count. */
size_t test_data_hex(const char *rel, uint8_t *out, size_t cap);

/* Hex text (whitespace between groups allowed) decoded into out[cap]; the byte count. */
size_t test_hex(const char *hex, uint8_t *out, size_t cap);

#endif
