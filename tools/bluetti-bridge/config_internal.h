/* config_internal.h - the parser state of bluetti-bridge's configuration, shared by
 * config.c (parsing, validation) and secrets.c (the secrets the configuration names). */
#ifndef BLT_BR_CONFIG_INTERNAL_H
#define BLT_BR_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "bridge.h"

/* A key given in a section (duplicates are refused per section). */
typedef struct br_seen_key {
	char key[64];
	int line;
} br_seen_key_t;

/* A section header and the keys given in it. */
typedef struct br_sect {
	char name[160];
	int line;
	br_seen_key_t *keys;
	size_t nkeys, capkeys;
	size_t hnext; /* next section in the same hash bucket, SIZE_MAX: none */
} br_sect_t;

typedef struct parser {
	br_config_t *c;
	br_errors_t *errs;
	const char *name; /* file name for messages */
	const char *p, *end;
	int line;             /* line last handed to inih */
	char section[160];    /* last section header seen by the reader */
	br_device_cfg_t *cur; /* device of the current section (NULL otherwise) */
	br_sect_t *sects;     /* grown per section, at most BR_MAX_DEVICES + 8 */
	size_t nsects, sectcap;
	size_t cur_sect; /* index of the section the handler is in, SIZE_MAX: none */
	size_t *bucket;  /* section name hash -> first index (SIZE_MAX: none) */
	size_t nbucket;
	int upstream_line, down_line, account_line, lan_line;
} parser_t;

/* "file:line: [section] key: message" */
void perr(parser_t *ps, int line, const char *section, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void add_error_at(br_errors_t *e, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define add_error(e, ...) add_error_at(e, 0, __VA_ARGS__)
void sort_errors(br_errors_t *e);
/* Line of a section header / of a key in a section; 0 if not given. */
int section_line(parser_t *ps, const char *name);
int key_line(parser_t *ps, const char *section, const char *key);
const char *down_section(parser_t *ps);
bool copy(char *dst, size_t cap, const char *v);
void validate_device(parser_t *ps, br_device_cfg_t *d);
/* secrets.c */
void load_all_secrets(parser_t *ps);

#endif
