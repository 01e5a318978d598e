/* it_util.h - helpers for the integration tests: brokers via scripts/broker.sh, PKI files
 * from scripts/pki.sh. The tests run under tests/integration/with_brokers.sh, which sets
 *   BLT_IT_DIR      scratch directory (brokers live in BLT_IT_DIR/<name>/)
 *   BLT_PKI         PKI directory made by scripts/pki.sh
 *   BLT_SCRIPTS     the repository's scripts/ directory
 * and stops every broker under BLT_IT_DIR on exit, even when a test crashes. */
#ifndef BLT_IT_UTIL_H
#define BLT_IT_UTIL_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <bluetti/transport.h>

static inline const char *it_env(const char *name)
{
	const char *v = getenv(name);
	if (!v || !v[0]) {
		fprintf(stderr, "%s not set: run this test through with_brokers.sh\n", name);
		exit(2);
	}
	return v;
}

static inline char *it_path(char *buf, size_t cap, const char *dirvar, const char *file)
{
	snprintf(buf, cap, "%s/%s", it_env(dirvar), file);
	return buf;
}

/* Read a whole file into a malloc'd buffer (NUL-terminated too); exits on failure. */
static inline uint8_t *it_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long n;
	if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(2);
	}
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(2);
	}
	buf[n] = 0;
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static inline int it_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int it_sh(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int st;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* Start broker <name> with extra broker.sh options; returns its port (exits on failure). */
static inline uint16_t it_broker_start(const char *name, const char *opts)
{
	char dir[512], pf[600];
	size_t n;
	uint8_t *p;
	long port;
	snprintf(dir, sizeof dir, "%s/%s", it_env("BLT_IT_DIR"), name);
	if (it_sh("'%s/broker.sh' start '%s' --pki '%s' %s", it_env("BLT_SCRIPTS"), dir,
	          it_env("BLT_PKI"), opts ? opts : "") != 0) {
		fprintf(stderr, "broker %s did not start\n", name);
		exit(2);
	}
	snprintf(pf, sizeof pf, "%s/port", dir);
	p = it_read(pf, &n);
	port = strtol((char *)p, NULL, 10);
	free(p);
	return (uint16_t)port;
}

static inline void it_broker_stop(const char *name)
{
	it_sh("'%s/broker.sh' stop '%s/%s'", it_env("BLT_SCRIPTS"), it_env("BLT_IT_DIR"), name);
}

static inline int it_broker_restart(const char *name)
{
	return it_sh("'%s/broker.sh' restart '%s/%s'", it_env("BLT_SCRIPTS"), it_env("BLT_IT_DIR"),
	             name);
}

/* The test PKI's client password (client.pass), static buffer. */
static inline const char *it_pfx_password(void)
{
	static char pass[128];
	char path[512];
	size_t n;
	uint8_t *p = it_read(it_path(path, sizeof path, "BLT_PKI", "client.pass"), &n);
	snprintf(pass, sizeof pass, "%s", (char *)p);
	free(p);
	return pass;
}

/* Options for a mutual-TLS connection to 127.0.0.1/localhost:port with PKI file pfx. The
 * PFX bytes are kept in *pfx_buf (caller frees). */
static inline blt_mqtt_opts_t it_tls_opts(const char *host, uint16_t port, const char *pfx,
                                          uint8_t **pfx_buf)
{
	static char ca[512];
	char path[512];
	blt_mqtt_opts_t o;
	size_t n;
	memset(&o, 0, sizeof o);
	*pfx_buf = it_read(it_path(path, sizeof path, "BLT_PKI", pfx), &n);
	o.host = host;
	o.port = port;
	o.use_tls = true;
	o.tls.pfx = *pfx_buf;
	o.tls.pfx_len = n;
	o.tls.pfx_password = it_pfx_password();
	o.tls.ca_file = it_path(ca, sizeof ca, "BLT_PKI", "ca.pem");
	o.connect_timeout_ms = 5000;
	o.reconnect_min_ms = 100;
	o.reconnect_max_ms = 800;
	return o;
}

/* Poll until *flag becomes true or about budget_ms of polling elapsed. */
static inline bool it_poll_until(blt_transport_t *t, volatile bool *flag, int budget_ms)
{
	uint64_t end = blt_now_ms() + (uint64_t)budget_ms;
	while (!*flag && blt_now_ms() < end)
		blt_transport_poll(t, 50, NULL);
	return *flag;
}

#endif
