/* The simulated cloud (bluetti-sim --cloud through test_cloud_driver) for the account
 * tests: a real HTTPS server with the test CA, started and stopped by the test. Needs
 * BLT_CLOUD_DRIVER (the driver's path), BLT_IT_DIR and BLT_PKI (with_brokers.sh). */
#ifndef BLT_IT_CLOUD_H
#define BLT_IT_CLOUD_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "it_util.h"

#ifndef BLT_CLOUD_DRIVER
#error "BLT_CLOUD_DRIVER must name the test driver"
#endif

#define KEY      "TESTKEY12345"
#define EMAIL    "owner@example.com"
#define PASSWORD "correct horse"

typedef struct simc {
	pid_t pid;
	unsigned port, eu_port, us_port;
	char url[64], url2[64], log[600], regions[160];
} simc_t;

/* Start the simulated cloud (test_cloud_driver sim-cloud: the account EMAIL with PASSWORD,
 * the TOTP key KEY unless builtin_key, two devices) with extra options (NULL-terminated);
 * sim_stop (or the test's teardown) ends it. A cmocka test (assert_true, fail_msg). */
static inline void it_cloud_start(simc_t *s, const char *name, const char **extra, bool builtin_key)
{
	static int seq;
	char ready[600], pwf[600], keyf[600], ca[600], cakey[600];
	const char *argv[64];
	int n = 0, st = -1;
	snprintf(ready, sizeof ready, "%s/cloud-%s-%d.ready", it_env("BLT_IT_DIR"), name, ++seq);
	snprintf(s->log, sizeof s->log, "%s/cloud-%s-%d.log", it_env("BLT_IT_DIR"), name, seq);
	snprintf(pwf, sizeof pwf, "%s/cloud.pw", it_env("BLT_IT_DIR"));
	snprintf(keyf, sizeof keyf, "%s/cloud.key", it_env("BLT_IT_DIR"));
	FILE *f = fopen(pwf, "w");
	fputs(PASSWORD "\n", f);
	fclose(f);
	f = fopen(keyf, "w");
	fputs(KEY "\n", f);
	fclose(f);
	argv[n++] = BLT_CLOUD_DRIVER;
	argv[n++] = "sim-cloud";
	argv[n++] = "--ca-cert";
	argv[n++] = it_path(ca, sizeof ca, "BLT_PKI", "ca.pem");
	argv[n++] = "--ca-key";
	argv[n++] = it_path(cakey, sizeof cakey, "BLT_PKI", "ca.key");
	argv[n++] = "--account";
	argv[n++] = EMAIL;
	argv[n++] = "--account-password-file";
	argv[n++] = pwf;
	if (!builtin_key) {
		argv[n++] = "--totp-key-file";
		argv[n++] = keyf;
	}
	argv[n++] = "--device";
	argv[n++] = "EL100V2:2434000112345";
	argv[n++] = "--device";
	argv[n++] = "AP300:2616113487436";
	argv[n++] = "--broker-address";
	argv[n++] = "localhost:18999";
	argv[n++] = "--ready-file";
	argv[n++] = ready;
	for (int i = 0; extra && extra[i]; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	unlink(ready);
	s->pid = it_spawn(argv, s->log, &(it_spawn_opts_t){.death_signal = SIGTERM});
	assert_true(s->pid > 0);
	if (!it_wait_file(ready, s->pid, 10000, &st)) {
		if (st >= 0)
			s->pid = 0;
		it_show_log(s->log, 0);
		fail_msg("cloud simulator exited before it was ready, or not ready after 10 s");
	}
	size_t len;
	uint8_t *p = it_read(ready, &len);
	s->port = (unsigned)strtoul((char *)p, NULL, 10);
	for (char *l = strchr((char *)p, '\n'); l && l[1]; l = strchr(l + 1, '\n')) {
		if (!strncmp(l + 1, "eu ", 3))
			s->eu_port = (unsigned)strtoul(l + 4, NULL, 10);
		if (!strncmp(l + 1, "us ", 3))
			s->us_port = (unsigned)strtoul(l + 4, NULL, 10);
	}
	free(p);
	snprintf(s->regions, sizeof s->regions, "eu=https://localhost:%u,us=https://localhost:%u",
	         s->eu_port, s->us_port);
	snprintf(s->url, sizeof s->url, "https://localhost:%u", s->port);
	snprintf(s->url2, sizeof s->url2, "https://127.0.0.1:%u", s->port);
}

static inline void sim_stop(simc_t *s)
{
	it_stop(&s->pid, SIGTERM, 5000);
}

#endif
