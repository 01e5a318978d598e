/* Private to the bluetti program: one function per command. */
#ifndef BLUETTI_CLI_H
#define BLUETTI_CLI_H

/* Exit status: 0 ok, 1 failure (device, data, network, failed check), 2 usage error. */
#define EXIT_FAIL  1
#define EXIT_USAGE 2

int cmd_read(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_nodes(int argc, char **argv);
int cmd_decode(int argc, char **argv);
int cmd_blocks(int argc, char **argv);
int cmd_profiles(int argc, char **argv);
/* cmd_doctor.c: step-by-step diagnosis of the whole chain (docs/doctor.md) */
int cmd_doctor(int argc, char **argv);
/* cmd_settings.c: gated writes and settings (include/bluetti/control.h) */
int cmd_set(int argc, char **argv);
int cmd_get(int argc, char **argv);
int cmd_settings(int argc, char **argv);
int cmd_write_register(int argc, char **argv);
/* cmd_local.c: which local paths the unit has (LOCAL.md §4.1); enable/disable in
 * cmd_local_enable.c (LOCAL.md §4.3, through the write gate) */
int cmd_local(int argc, char **argv);
/* The local status (cmd_local.c) in one line over a started session (session.h), for
 * `bluetti doctor`: 0 and the words in out, or EXIT_FAIL when the device did not answer. */
struct session;
int local_status_line(struct session *s, char *out, size_t cap);
int cmd_local_enable(int argc, char **argv);

/* audit.c: audit lines of gated writes, to stderr and to an append-only 0600 file
 * (path, else $BLUETTI_AUDIT_LOG, else none). */
struct blt_audit_rec;
typedef struct cli_audit {
	int fd;
	const char *path;
	int failed; /* a line could not be written to the file */
} cli_audit_t;
/* 0, or EXIT_FAIL (message printed) if the file cannot be opened. */
int cli_audit_open(const char *prog, const char *path, cli_audit_t *sink);
/* A blt_audit_fn: user is the cli_audit_t. */
void cli_audit_line(void *user, const struct blt_audit_rec *rec);
/* Close the file; nonzero if any line failed. */
int cli_audit_close(cli_audit_t *sink);
/* cmd_scan.c: Bluetooth LE discovery */
int cmd_scan(int argc, char **argv);

#endif
