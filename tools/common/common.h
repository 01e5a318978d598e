/* Helpers shared by the programs (bluetti, bluetti-sim, bluetti-bridge): argument
 * parsing, secrets from files/env/prompt, connection options. Output formats of decoded
 * data live in the library (blt_format_text/json), not here. */
#ifndef BLT_TOOLS_COMMON_H
#define BLT_TOOLS_COMMON_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <bluetti/bluetti.h>

/* Strict unsigned parse (decimal or 0x hex) within [lo, hi]; 0 ok, -1 error. */
int cli_parse_ulong(const char *s, unsigned long lo, unsigned long hi, unsigned long *out);
/* Decode options from a profile name (NULL = defaults). Prints an error, returns -1 on an
 * unknown profile. */
int cli_profile_opts(const char *profile, blt_decode_opts_t *out);
/* Strip the envelope of an MQTT payload, parse the FC03 reply and return its data.
 * Errors come with a one-line message in d naming the problem. */
int cli_frame_data(const uint8_t *payload, size_t n, const uint8_t **data, size_t *nbytes,
                   blt_detail_t *d);
/* Decode and print (text or JSON); 0 ok, -1 if decoding failed (message on stderr). */
int cli_print_decoded(const blt_block_t *b, const uint8_t *data, size_t n,
                      const blt_decode_opts_t *opts, int json, int all);
/* JSON string literal (or null). */
void cli_json_str(FILE *out, const char *s);
int cli_catalog_markdown(FILE *out);

/* Read a whole file into a malloc'd buffer (NUL-terminated, *len excludes the NUL). */
int cli_read_file(const char *path, uint8_t **buf, size_t *len, blt_detail_t *d);
/* A secret: from file (first line, trailing newline stripped), else from environment
 * variable env, else (if prompt != NULL and stdin is a terminal) asked without echo.
 * *out is malloc'd (NULL if none of the sources gave one). */
int cli_secret(const char *file, const char *env, const char *prompt, char **out, blt_detail_t *d);
void cli_secret_free(char *s);

/* getopt_long with two rules on top (every program uses it for every option table):
 *  - a secret-bearing option (its name contains "pass", "secret", "key" or "token") is
 *    only taken when spelled in full: "--password SECRET" is never "--password-file";
 *  - an unknown, ambiguous or refused long option is reported by name only, never with
 *    its "=value" or the next argument (which may be a secret).
 * At the start of a parse (optind <= 1) the whole argv is checked before getopt sees it;
 * on a violation a one-line message goes to stderr and '?' is returned (the caller's
 * usage error path). Otherwise exactly getopt_long. */
int cli_getopt_long(int argc, char *const argv[], const char *shortopts,
                    const struct option *longopts, int *longindex);
/* Set when cli_getopt_long returned '?' after printing its own message. */
extern bool cli_getopt_reported;
/* True if a long option of this name must be given in full (see above). */
bool cli_option_sensitive(const char *name, size_t len);

#endif
