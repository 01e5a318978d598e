/* bench_transport: MQTT over mutual TLS on loopback.
 *   - PKCS#12 parse + SSL_CTX build (blt_mqtt_new)
 *   - connect time: TCP + TLS handshake + CONNACK + SUBACK
 *   - request/reply round trip of blt_client_read (66 registers, V2 envelope) against a
 *     responder process with its own connection: median / p99 / max
 * Prints figures only. Uses BLT_BENCH_PORT + BLT_PKI (a running mutual-TLS broker and its
 * PKI) when set, else starts its own broker with scripts/broker.sh (BLT_SCRIPTS or the
 * source tree's scripts/). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bluetti/bluetti.h>
#include <bluetti/client.h>
#include <bluetti/transport.h>

#define MODEL "EL100V2"
#define SN    "BENCH0001"

static char pki[256], brokerdir[200], scripts[256];
static uint16_t port;
static int stock; /* BLT_BENCH_STOCK=1: broker without set_tcp_nodelay */
static uint8_t *pfx;
static size_t pfx_len;
static char pass[128];

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void stats(const char *what, double *v, int n, const char *unit)
{
	qsort(v, (size_t)n, sizeof *v, cmp_d);
	double sum = 0;
	for (int i = 0; i < n; i++)
		sum += v[i];
	printf("%-34s n=%-5d median %8.1f %s  p99 %8.1f %s  min %8.1f  max %8.1f  mean %8.1f\n",
	       what, n, v[n / 2], unit, v[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1], unit, v[0],
	       v[n - 1], sum / n);
}

static uint8_t *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b;
	long n;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = malloc((size_t)n + 1);
	if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(b);
		return NULL;
	}
	b[n] = 0;
	fclose(f);
	*len = (size_t)n;
	return b;
}

static void stop_broker(void)
{
	char cmd[1024];
	if (!brokerdir[0])
		return;
	snprintf(cmd, sizeof cmd, "'%s/broker.sh' stop '%s' && rm -rf '%s'", scripts, brokerdir,
	         brokerdir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench: could not stop the broker in %s\n", brokerdir);
}

static int setup_broker(void)
{
	const char *p = getenv("BLT_BENCH_PORT"), *k = getenv("BLT_PKI"),
	           *s = getenv("BLT_SCRIPTS");
	char cmd[1024], path[600];
	size_t n;

	if (s)
		snprintf(scripts, sizeof scripts, "%s", s);
	else {
		snprintf(scripts, sizeof scripts, "%s", __FILE__);
		char *slash = strrchr(scripts, '/');
		if (slash)
			snprintf(slash, sizeof scripts - (size_t)(slash - scripts), "/../scripts");
		else
			snprintf(scripts, sizeof scripts, "scripts");
	}
	if (p && k) {
		port = (uint16_t)atoi(p);
		snprintf(pki, sizeof pki, "%s", k);
	} else {
		snprintf(brokerdir, sizeof brokerdir, "/tmp/blt-bench.XXXXXX");
		if (!mkdtemp(brokerdir)) {
			perror("mkdtemp");
			return -1;
		}
		snprintf(pki, sizeof pki, "%s/pki", brokerdir);
		snprintf(cmd, sizeof cmd, "'%s/broker.sh' start '%s' --pki '%s'%s", scripts,
		         brokerdir, pki, stock ? " --stock" : "");
		if (system(cmd) != 0) {
			fprintf(stderr, "bench: cannot start a broker (%s)\n", cmd);
			brokerdir[0] = 0;
			return -1;
		}
		atexit(stop_broker);
		snprintf(path, sizeof path, "%s/port", brokerdir);
		uint8_t *b = slurp(path, &n);
		if (!b)
			return -1;
		port = (uint16_t)atoi((char *)b);
		free(b);
	}
	snprintf(path, sizeof path, "%s/client.pfx", pki);
	pfx = slurp(path, &pfx_len);
	snprintf(path, sizeof path, "%s/client.pass", pki);
	uint8_t *pw = slurp(path, &n);
	if (!pfx || !pw) {
		fprintf(stderr, "bench: no client.pfx / client.pass in %s\n", pki);
		free(pw);
		return -1;
	}
	snprintf(pass, sizeof pass, "%s", (char *)pw);
	free(pw);
	return 0;
}

static blt_mqtt_opts_t opts(void)
{
	static char ca[600];
	blt_mqtt_opts_t o;
	memset(&o, 0, sizeof o);
	snprintf(ca, sizeof ca, "%s/ca.pem", pki);
	o.host = "localhost";
	o.port = port;
	o.use_tls = true;
	o.tls.pfx = pfx;
	o.tls.pfx_len = pfx_len;
	o.tls.pfx_password = pass;
	o.tls.ca_file = ca;
	o.connect_timeout_ms = 5000;
	return o;
}

static void nop(void *u, const char *t, const uint8_t *p, size_t n, bool r)
{
	(void)u, (void)t, (void)p, (void)n, (void)r;
}

/* Responder: answers every FC03 on SUB/<model>/<sn> with count registers (V2 envelope). */
static void respond(void *user, const char *topic, const uint8_t *payload, size_t len,
                    bool retained)
{
	blt_transport_t *t = user;
	blt_env_info_t env;
	blt_rtu_t req;
	uint8_t data[250] = {0}, rtu[BLT_RTU_MAX], out[BLT_PAYLOAD_MAX];
	size_t n, olen;
	(void)topic;
	if (retained || blt_env_unwrap(payload, len, &env, NULL) != BLT_OK ||
	    blt_rtu_parse(env.rtu, env.rtu_len, BLT_RTU_REQUEST, &req, NULL) != BLT_OK ||
	    req.function != BLT_FC_READ)
		return;
	if (blt_rtu_build_read_reply(req.slave, data, 2 * (size_t)req.count, rtu, sizeof rtu, &n) ||
	    blt_env_wrap(BLT_ENV_V2, req.reg, -60, rtu, n, out, sizeof out, &olen))
		return;
	blt_transport_publish(t, "PUB/" MODEL "/" SN, out, olen, 1, false, NULL);
}

static void responder_main(int ready_fd)
{
	blt_transport_t *t = NULL;
	blt_detail_t d = {""};
	blt_mqtt_opts_t o = opts();
	char ok = 1;
	if (blt_mqtt_new(&o, &t, &d) || blt_transport_connect(t, &d) ||
	    blt_transport_listen(t, "SUB/" MODEL "/" SN, respond, t, &d)) {
		fprintf(stderr, "responder: %s\n", d.text);
		_exit(1);
	}
	if (write(ready_fd, &ok, 1) != 1)
		_exit(1);
	for (;;)
		blt_transport_poll(t, 1000, NULL);
}

int main(int argc, char **argv)
{
	int iters = argc > 1 ? atoi(argv[1]) : 500;
	enum { CONNECTS = 20 };
	double newt[CONNECTS], conn[CONNECTS], *rtt;
	blt_detail_t d = {""};
	int fds[2];
	pid_t pid;

	if (iters < 10)
		iters = 10;
	stock = getenv("BLT_BENCH_STOCK") && atoi(getenv("BLT_BENCH_STOCK")) == 1;
	if (setup_broker() != 0)
		return 1;
	printf("bench_transport: broker 127.0.0.1:%u (mutual TLS%s), %d round trips\n", port,
	       stock ? ", stock configuration: no set_tcp_nodelay" : ", set_tcp_nodelay", iters);

	for (int i = 0; i < CONNECTS; i++) {
		blt_transport_t *t = NULL;
		blt_mqtt_opts_t o = opts();
		double t0 = now_us();
		if (blt_mqtt_new(&o, &t, &d) != BLT_OK) {
			fprintf(stderr, "blt_mqtt_new: %s\n", d.text);
			return 1;
		}
		double t1 = now_us();
		if (blt_transport_connect(t, &d) != BLT_OK ||
		    blt_transport_listen(t, "bench/connect", nop, NULL, &d) != BLT_OK) {
			fprintf(stderr, "connect: %s\n", d.text);
			return 1;
		}
		double t2 = now_us();
		newt[i] = (t1 - t0) / 1000.0;
		conn[i] = (t2 - t1) / 1000.0;
		blt_transport_free(t);
	}
	stats("PFX parse + SSL_CTX (blt_mqtt_new)", newt, CONNECTS, "ms");
	stats("TLS + CONNACK + SUBACK", conn, CONNECTS, "ms");

	if (pipe(fds) != 0)
		return 1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		responder_main(fds[1]);
	}
	close(fds[1]);
	char ok = 0;
	if (pid < 0 || read(fds[0], &ok, 1) != 1 || !ok) {
		fprintf(stderr, "responder did not start\n");
		if (pid > 0)
			kill(pid, SIGTERM);
		return 1;
	}

	blt_transport_t *t = NULL;
	blt_client_t *c = NULL;
	blt_mqtt_opts_t o = opts();
	blt_client_opts_t co = {.model = MODEL, .sn = SN, .slave = -1, .envelope = -1};
	int rc = blt_mqtt_new(&o, &t, &d);
	if (!rc)
		rc = blt_transport_connect(t, &d);
	if (!rc)
		rc = blt_client_new(t, &co, &c, &d);
	if (!rc)
		rc = blt_client_start(c, &d);
	rtt = calloc((size_t)iters, sizeof *rtt);
	for (int i = 0; !rc && i < iters; i++) {
		uint8_t data[256];
		size_t n;
		double t0 = now_us();
		rc = blt_client_read(c, 100, 66, data, sizeof data, &n, &d);
		rtt[i] = now_us() - t0;
	}
	if (rc)
		fprintf(stderr, "round trip failed: %s (%s)\n", blt_strerror(rc), d.text);
	else
		stats("read 66 regs round trip", rtt, iters, "us");
	blt_client_stats_t st;
	blt_client_stats(c, &st);
	printf("client stats: requests %llu replies %llu timeouts %llu bad %llu unsolicited %llu\n",
	       (unsigned long long)st.requests, (unsigned long long)st.replies,
	       (unsigned long long)st.timeouts, (unsigned long long)st.bad_frames,
	       (unsigned long long)st.unsolicited);
	blt_client_free(c);
	blt_transport_free(t);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	free(rtt);
	free(pfx);
	return rc ? 1 : 0;
}
