/* Test driver for the cloud integration tests: runs the simulated cloud and the account
 * commands without depending on the dispatch tables of bluetti-sim's and bluetti's main.c.
 *   test_cloud_driver sim-cloud [options]       = bluetti-sim --cloud [options]
 *   test_cloud_driver login|logout|devices ...  = bluetti login|logout|devices ...
 *   test_cloud_driver connect SN                account_connection() + conn_open(): what
 *                                               `--account --sn SN` does before a read */
#include <stdio.h>
#include <string.h>

#include <bluetti/transport.h>

#include "account.h"
#include "cloud.h"
#include "conn.h"

static int connect_sn(const char *sn)
{
	conn_args_t a;
	char model[32], sub[64];
	blt_detail_t d = {{0}};
	blt_transport_t *t = NULL;
	int err;
	conn_args_init(&a);
	err = account_connection(sn, &a, model, sizeof model, sub, sizeof sub, &d);
	if (err) {
		fprintf(stderr, "connect: %s: %s\n", blt_strerror(err), d.text);
		conn_args_free(&a);
		return 1;
	}
	err = conn_open(&a, "connect", &t, &d);
	if (!err)
		printf(
		    "connected to %s:%u with the account certificate; model %s, topic serial %s, "
		    "username %.4s..., %s password\n",
		    a.host, a.port, model, sub, a.username,
		    a.password && !strncmp(a.password, "rmt:", 4) ? "static rmt:" : "TOTP");
	blt_transport_free(t);
	conn_args_free(&a);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "sim-cloud"))
		return sim_cloud_main(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "login"))
		return cmd_login(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "logout"))
		return cmd_logout(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "devices"))
		return cmd_devices(argc - 1, argv + 1);
	if (argc == 3 && !strcmp(argv[1], "connect"))
		return connect_sn(argv[2]);
	fprintf(stderr, "usage: test_cloud_driver sim-cloud|login|logout|devices|connect ...\n");
	return 2;
}
