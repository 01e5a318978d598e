/* bench_ble: the Bluetooth LE transport against the simulator (no radio).
 *   - V2 handshake crypto alone: a client and a device session in memory (P-256 keygen,
 *     two ECDSA signatures and verifications, ECDH, AES): the CPU floor of a handshake
 *   - over D-Bus: a private dbus-daemon, bluetti-sim --ble as BlueZ, the real transport:
 *     connect (find + Connect + services) and handshake (StartNotify -> type 6) times
 *   - one block read round trip over an established link (blt_client_read, "ble" preset):
 *     block 1300 (31 registers, one notification) and block 100 (its full read, split
 *     into two notifications at MTU 247)
 * Prints figures only. A real radio adds the BLE connection interval (7.5-50 ms per
 * exchange) that D-Bus on loopback does not have: these are the software's costs. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bluetti/ble.h>
#include <bluetti/bluetti.h>
#include <bluetti/client.h>
#include <bluetti/transport.h>

#include "transport/ble_session.h"

#define ADDR "C0:FF:EE:00:00:42"

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
	double sum = 0;
	if (n <= 0) {
		printf("%-40s no samples\n", what);
		return;
	}
	qsort(v, (size_t)n, sizeof *v, cmp_d);
	for (int i = 0; i < n; i++)
		sum += v[i];
	printf("%-40s n=%-4d median %8.2f %s  p99 %8.2f  min %8.2f  max %8.2f  mean %8.2f\n", what,
	       n, v[n / 2], unit, v[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1], v[0], v[n - 1],
	       sum / n);
}

static void crypto_only(void)
{
	enum { N = 100 };
	static double t[N];
	uint8_t priv[32], pub[64];
	int ok = 0;

	blt_ble_keygen(priv, pub, NULL);
	for (int i = 0; i < N; i++) {
		blt_ble_session_t c, dv;
		blt_ble_config_t cc = {.role = BLT_BLE_CLIENT, .verify_pub = pub};
		blt_ble_config_t dc = {.role = BLT_BLE_DEVICE, .sign_priv = priv};
		blt_ble_out_t o, o2;
		double t0 = now_us();
		blt_ble_init(&c, &cc, NULL);
		blt_ble_init(&dv, &dc, NULL);
		blt_ble_device_start(&dv, &o, NULL);
		blt_ble_receive(&c, o.send[0], o.send_len[0], &o2, NULL);   /* 1 -> 2 */
		blt_ble_receive(&dv, o2.send[0], o2.send_len[0], &o, NULL); /* 2 -> 3,4 */
		blt_ble_receive(&c, o.send[0], o.send_len[0], &o2, NULL);   /* 3 */
		blt_ble_receive(&c, o.send[1], o.send_len[1], &o2, NULL);   /* 4 -> 5 */
		blt_ble_receive(&dv, o2.send[0], o2.send_len[0], &o, NULL); /* 5 -> 6 */
		if (blt_ble_receive(&c, o.send[0], o.send_len[0], &o2, NULL) == BLT_OK &&
		    o2.established)
			ok++;
		t[i] = (now_us() - t0) / 1000.0;
	}
	stats("handshake crypto, both sides, in memory", t, N, "ms");
	if (ok != N)
		printf("  (%d of %d handshakes failed)\n", N - ok, N);
}

static pid_t spawn(char *const argv[], const char *log)
{
	pid_t p = fork();
	if (p == 0) {
		FILE *f = freopen(log, "w", stderr);
		(void)f;
		execv(argv[0], argv);
		_exit(127);
	}
	return p;
}

static void stop(pid_t p)
{
	if (p > 0) {
		kill(p, SIGTERM);
		waitpid(p, NULL, 0);
	}
}

static int wait_file(const char *path, int ms)
{
	struct stat st;
	for (int i = 0; i < ms / 20; i++) {
		if (stat(path, &st) == 0)
			return 0;
		usleep(20000);
	}
	return -1;
}

static int read_key(const char *path, uint8_t key[64])
{
	char buf[200] = {0};
	size_t n = 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof buf, f))
		buf[0] = 0;
	fclose(f);
	return blt_hex_decode(buf, key, 64, &n, NULL) == BLT_OK && n == 64 ? 0 : -1;
}

int main(void)
{
	enum { NCONN = 20, NREAD = 200 };
	static double tc[NCONN], th[NCONN], rt1[NREAD], rt2[NREAD];
	char dir[] = "/tmp/blt-bench-ble.XXXXXX", bus[128], addr[160], key[128], ready[128],
	     conf[512], sim[512], log1[128], log2[128];
	pid_t busp, simp;
	uint8_t vkey[64], data[512];
	int nc = 0, nr1 = 0, nr2 = 0;

	crypto_only();
	if (!mkdtemp(dir))
		return 1;
	snprintf(bus, sizeof bus, "%s/bus", dir);
	snprintf(addr, sizeof addr, "unix:path=%s", bus);
	snprintf(key, sizeof key, "%s/key", dir);
	snprintf(ready, sizeof ready, "%s/ready", dir);
	snprintf(log1, sizeof log1, "%s/bus.log", dir);
	snprintf(log2, sizeof log2, "%s/sim.log", dir);
	snprintf(conf, sizeof conf, "%s/tests/integration/ble_bus.conf", BLT_SRC_DIR);
	snprintf(sim, sizeof sim, "%s/bluetti-sim", BLT_BIN_DIR);
	{
		char a1[200], a2[600];
		snprintf(a1, sizeof a1, "--address=%s", addr);
		snprintf(a2, sizeof a2, "--config-file=%s", conf);
		char *argv[] = {"/usr/bin/dbus-daemon", a2, a1, "--nofork", NULL};
		busp = spawn(argv, log1);
	}
	if (wait_file(bus, 5000)) {
		printf("dbus-daemon did not start (%s): skipping the D-Bus figures\n", log1);
		stop(busp);
		return 0;
	}
	setenv("DBUS_SYSTEM_BUS_ADDRESS", addr, 1);
	{
		char *argv[] = {sim, "--ble",        "--address", ADDR, "--key-out",
		                key, "--ready-file", ready,       NULL};
		simp = spawn(argv, log2);
	}
	if (wait_file(ready, 5000) || read_key(key, vkey)) {
		printf("bluetti-sim --ble did not start (%s)\n", log2);
		stop(simp);
		stop(busp);
		return 1;
	}
	blt_ble_opts_t o = {.address = ADDR, .test_verify_key = vkey};
	for (int i = 0; i < NCONN; i++) {
		blt_transport_t *t = NULL;
		blt_ble_stats_t st;
		blt_detail_t d;
		double t0 = now_us();
		if (blt_ble_new(&o, &t, &d) || blt_transport_connect(t, &d)) {
			printf("connect %d: %s\n", i, d.text);
			blt_transport_free(t);
			continue;
		}
		blt_ble_stats(t, &st);
		th[nc] = (double)st.last_handshake_us / 1000.0;
		tc[nc] = (now_us() - t0) / 1000.0 - th[nc];
		nc++;
		blt_transport_disconnect(t);
		blt_transport_free(t);
	}
	stats("connect (find, Connect, services), D-Bus", tc, nc, "ms");
	stats("handshake (StartNotify -> type 6), D-Bus", th, nc, "ms");
	{
		blt_transport_t *t = NULL;
		blt_client_t *c = NULL;
		blt_client_opts_t co = {.model = "EL100V2",
		                        .sn = "BENCH",
		                        .preset = "ble",
		                        .slave = -1,
		                        .envelope = -1};
		blt_detail_t d;
		size_t nb;
		if (blt_ble_new(&o, &t, &d) || blt_transport_connect(t, &d) ||
		    blt_client_new(t, &co, &c, &d) || blt_client_start(c, &d)) {
			printf("read setup: %s\n", d.text);
		} else {
			for (int i = 0; i < NREAD; i++) {
				double t0 = now_us();
				if (blt_client_read(c, 1300, 31, data, sizeof data, &nb, &d) ==
				    BLT_OK)
					rt1[nr1++] = (now_us() - t0) / 1000.0;
				t0 = now_us();
				if (blt_client_read(c, 100, 120, data, sizeof data, &nb, &d) ==
				    BLT_OK)
					rt2[nr2++] = (now_us() - t0) / 1000.0;
			}
			stats("read 1300 x31 round trip (1 notification)", rt1, nr1, "ms");
			stats("read 100 x120 round trip (2 notifications)", rt2, nr2, "ms");
		}
		blt_client_free(c);
		if (t)
			blt_transport_disconnect(t);
		blt_transport_free(t);
	}
	stop(simp);
	stop(busp);
	unlink(key);
	unlink(log1);
	unlink(log2);
	unlink(ready);
	rmdir(dir);
	return 0;
}
