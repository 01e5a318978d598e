/* it_util.h - the one helper of the integration tests (it_util.c, compiled once): brokers via
 * scripts/broker.sh, PKI files from scripts/pki.sh, child processes (spawn, wait, stop),
 * their logs, ready files and loopback ports. The tests run under
 * tests/integration/with_brokers.sh, which sets BLT_IT_DIR      scratch directory (brokers live in
 * BLT_IT_DIR/<name>/) BLT_PKI         PKI directory made by scripts/pki.sh BLT_SCRIPTS     the
 * repository's scripts/ directory and stops every broker under BLT_IT_DIR on exit, even when a test
 * crashes. */
#ifndef BLT_IT_UTIL_H
#define BLT_IT_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <bluetti/transport.h>

/* ---- environment, files, shell ------------------------------------------------------ */

/* The value of an environment variable set by with_brokers.sh; exits (status 2) if unset. */
const char *it_env(const char *name);
/* buf = "$dirvar/file"; returns buf. */
char *it_path(char *buf, size_t cap, const char *dirvar, const char *file);
/* Read a whole file into a malloc'd buffer (NUL-terminated too); exits on failure. */
uint8_t *it_read(const char *path, size_t *len);
/* Run a shell command; its exit status (-1 if it could not run, 128 if killed). */
int it_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- brokers and the test PKI --------------------------------------------------------- */

/* Start broker <name> with extra broker.sh options; returns its port (exits on failure). */
uint16_t it_broker_start(const char *name, const char *opts);
void it_broker_stop(const char *name);
int it_broker_restart(const char *name);
/* The test PKI's client password (client.pass), static buffer. */
const char *it_pfx_password(void);
/* Options for a mutual-TLS connection to 127.0.0.1/localhost:port with PKI file pfx. The
 * PFX bytes are kept in *pfx_buf (caller frees). */
blt_mqtt_opts_t it_tls_opts(const char *host, uint16_t port, const char *pfx, uint8_t **pfx_buf);
/* Poll until *flag becomes true or about budget_ms of polling elapsed. */
bool it_poll_until(blt_transport_t *t, volatile bool *flag, int budget_ms);

/* ---- argument vectors ----------------------------------------------------------------- */

#define IT_ARGV_MAX 64

/* An argument vector for it_spawn, built piece by piece; v stays NULL-terminated. The
 * strings that it_argv_tls formats live in it. */
typedef struct it_argv {
	const char *v[IT_ARGV_MAX];
	int n;
	char broker[64], cert[512], pass[512], ca[512];
} it_argv_t;

/* Append the strings up to the terminating NULL (exits when the vector is full). */
void it_argv_add(it_argv_t *a, ...) __attribute__((sentinel));
/* Append --broker localhost:PORT --cert --cert-password-file --ca of the test PKI (the
 * connection options of bluetti and bluetti-sim). */
void it_argv_tls(it_argv_t *a, uint16_t port);

/* ---- child processes ------------------------------------------------------------------ */

void it_sleep_ms(int ms);

/* What the waits below do with their time, in slices of about 20 ms: sleep (fn NULL, the
 * default), or run fn(ms) instead, e.g. to keep an MQTT client's loop going meanwhile. */
void it_set_idle(void (*fn)(int ms));

typedef struct it_spawn_opts {
	bool append;        /* append to the log (else it is truncated) */
	bool keep_stdout;   /* only stderr goes to the log; stdout stays the test's */
	bool valgrind;      /* prefix the words of $BLT_VALGRIND when it is set (make valgrind) */
	int death_signal;   /* sent to the child when the test dies; 0 = SIGKILL */
	const char *env[4]; /* "NAME=value" set in the child; NULL ends the list */
} it_spawn_opts_t;

/* Start argv[0] (a path) with argv, stdout and stderr to logpath (mode 0600); o may be NULL
 * (truncate, both streams, SIGKILL on death). Returns the pid (> 0) or -1. */
pid_t it_spawn(const char *const *argv, const char *logpath, const it_spawn_opts_t *o);

/* Wait up to ms for pid to exit: its exit status, 128 + the signal that killed it, or -1
 * when it is still running (or not our child). */
int it_wait_exit(pid_t pid, int ms);

/* Send sig, wait up to ms for the exit, then SIGKILL; *pid = 0. Returns the exit status as
 * it_wait_exit does, or -1 when sig was not enough (or *pid was not running). */
int it_stop(pid_t *pid, int sig, int ms);

/* Wait up to ms for path to exist; false when it does not, or when pid (if > 0) exited
 * first (its status then in *status if not NULL). */
bool it_wait_file(const char *path, pid_t pid, int ms, int *status);

/* Wait up to ms for a ready file whose first line is a port; 0 on timeout or when pid
 * exited first. */
uint16_t it_wait_port(const char *path, pid_t pid, int ms);

/* Print a log to stderr under a "---- path" line: its last `last` lines (0 = all). */
void it_show_log(const char *path, int last);

/* Lines of the file at path that contain needle (0 when it cannot be read). */
unsigned it_log_count(const char *path, const char *needle);

/* A TCP socket bound to 127.0.0.1 on a port the kernel chose (listening if listen_backlog
 * > 0), its port in *port; exits on failure. Without listen, connecting to it is refused. */
int it_loopback_socket(int listen_backlog, uint16_t *port);

#endif
