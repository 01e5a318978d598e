/* it_util.c - the one helper of the integration tests (it_util.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include "it_util.h"

const char *it_env(const char *name)
{
	const char *v = getenv(name);
	if (!v || !v[0]) {
		fprintf(stderr, "%s not set: run this test through with_brokers.sh\n", name);
		exit(2);
	}
	return v;
}

char *it_path(char *buf, size_t cap, const char *dirvar, const char *file)
{
	snprintf(buf, cap, "%s/%s", it_env(dirvar), file);
	return buf;
}

/* Read a whole file into a malloc'd buffer (NUL-terminated too); exits on failure. */
uint8_t *it_read(const char *path, size_t *len)
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

int it_sh(const char *fmt, ...)
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
uint16_t it_broker_start(const char *name, const char *opts)
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

void it_broker_stop(const char *name)
{
	it_sh("'%s/broker.sh' stop '%s/%s'", it_env("BLT_SCRIPTS"), it_env("BLT_IT_DIR"), name);
}

int it_broker_restart(const char *name)
{
	return it_sh("'%s/broker.sh' restart '%s/%s'", it_env("BLT_SCRIPTS"), it_env("BLT_IT_DIR"),
	             name);
}

/* The test PKI's client password (client.pass), static buffer. */
const char *it_pfx_password(void)
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
blt_mqtt_opts_t it_tls_opts(const char *host, uint16_t port, const char *pfx, uint8_t **pfx_buf)
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
bool it_poll_until(blt_transport_t *t, volatile bool *flag, int budget_ms)
{
	uint64_t end = blt_now_ms() + (uint64_t)budget_ms;
	while (!*flag && blt_now_ms() < end)
		blt_transport_poll(t, 50, NULL);
	return *flag;
}

/* ---- argument vectors ----------------------------------------------------------------- */

void it_argv_add(it_argv_t *a, ...)
{
	va_list ap;
	const char *s;
	va_start(ap, a);
	while ((s = va_arg(ap, const char *)) != NULL) {
		if (a->n >= IT_ARGV_MAX - 1) {
			fprintf(stderr, "it_argv_add: more than %d arguments\n", IT_ARGV_MAX - 1);
			exit(2);
		}
		a->v[a->n++] = s;
	}
	va_end(ap);
	a->v[a->n] = NULL;
}

void it_argv_tls(it_argv_t *a, uint16_t port)
{
	snprintf(a->broker, sizeof a->broker, "localhost:%u", port);
	it_argv_add(a, "--broker", a->broker, "--cert",
	            it_path(a->cert, sizeof a->cert, "BLT_PKI", "client.pfx"),
	            "--cert-password-file",
	            it_path(a->pass, sizeof a->pass, "BLT_PKI", "client.pass"), "--ca",
	            it_path(a->ca, sizeof a->ca, "BLT_PKI", "ca.pem"), NULL);
}

/* ---- child processes ------------------------------------------------------------------ */

#define SLICE_MS 20

static void (*idle_fn)(int ms);

void it_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void it_set_idle(void (*fn)(int ms))
{
	idle_fn = fn;
}

static void idle(int ms)
{
	if (idle_fn)
		idle_fn(ms);
	else
		it_sleep_ms(ms);
}

pid_t it_spawn(const char *const *argv, const char *logpath, const it_spawn_opts_t *o)
{
	static const it_spawn_opts_t defaults;
	pid_t pid;
	if (!o)
		o = &defaults;
	pid = fork();
	if (pid != 0)
		return pid;
	/* the child */
	const char *full[64];
	char vgbuf[512];
	size_t n = 0;
	int fd = open(logpath, O_WRONLY | O_CREAT | (o->append ? O_APPEND : O_TRUNC), 0600);
	prctl(PR_SET_PDEATHSIG, o->death_signal ? o->death_signal : SIGKILL);
	if (fd >= 0) {
		if (!o->keep_stdout)
			dup2(fd, 1);
		dup2(fd, 2);
		close(fd);
	}
	for (size_t i = 0; i < sizeof o->env / sizeof o->env[0] && o->env[i]; i++)
		putenv((char *)o->env[i]);
	const char *vg = o->valgrind ? getenv("BLT_VALGRIND") : NULL;
	if (vg && vg[0]) {
		snprintf(vgbuf, sizeof vgbuf, "%s", vg);
		for (char *save = NULL, *w = strtok_r(vgbuf, " ", &save); w && n < 16;
		     w = strtok_r(NULL, " ", &save))
			full[n++] = w;
	}
	for (size_t i = 0; argv[i] && n < 63; i++)
		full[n++] = argv[i];
	full[n] = NULL;
	execvp(full[0], (char *const *)full);
	_exit(127);
}

int it_wait_exit(pid_t pid, int ms)
{
	int st;
	for (int waited = 0;; waited += SLICE_MS) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (r < 0 || waited >= ms)
			return -1;
		idle(SLICE_MS);
	}
}

int it_stop(pid_t *pid, int sig, int ms)
{
	int rc = -1;
	if (*pid > 0) {
		kill(*pid, sig);
		rc = it_wait_exit(*pid, ms);
		if (rc < 0) {
			kill(*pid, SIGKILL);
			it_wait_exit(*pid, 2000);
		}
	}
	*pid = 0;
	return rc;
}

bool it_wait_file(const char *path, pid_t pid, int ms, int *status)
{
	for (int waited = 0;; waited += SLICE_MS) {
		if (access(path, F_OK) == 0)
			return true;
		if (pid > 0) {
			int st = it_wait_exit(pid, 0);
			if (st >= 0) {
				if (status)
					*status = st;
				return false;
			}
		}
		if (waited >= ms)
			return false;
		idle(SLICE_MS);
	}
}

uint16_t it_wait_port(const char *path, pid_t pid, int ms)
{
	for (int waited = 0;; waited += SLICE_MS) {
		FILE *f = fopen(path, "r");
		unsigned p = 0;
		if (f) {
			int ok = fscanf(f, "%u", &p) == 1;
			fclose(f);
			if (ok && p > 0 && p < 65536)
				return (uint16_t)p;
		}
		if ((pid > 0 && it_wait_exit(pid, 0) >= 0) || waited >= ms)
			return 0;
		idle(SLICE_MS);
	}
}

void it_show_log(const char *path, int last)
{
	char line[1024];
	long n = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	fprintf(stderr, "---- %s%s\n", path, last > 0 ? " (last lines)" : "");
	if (last > 0) {
		while (fgets(line, sizeof line, f))
			n++;
		rewind(f);
	}
	for (long i = 0; fgets(line, sizeof line, f); i++)
		if (last <= 0 || i >= n - last)
			fputs(line, stderr);
	fclose(f);
}

unsigned it_log_count(const char *path, const char *needle)
{
	char line[1024];
	unsigned n = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof line, f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

int it_loopback_socket(int listen_backlog, uint16_t *port)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
	    (listen_backlog > 0 && listen(fd, listen_backlog) != 0) ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
		fprintf(stderr, "loopback socket: %s\n", strerror(errno));
		exit(2);
	}
	*port = ntohs(sa.sin_port);
	return fd;
}
