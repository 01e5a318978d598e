/* Test driver for the cloud integration tests: runs the simulated cloud and the account
 * commands without depending on the dispatch tables of bluetti-sim's and bluetti's main.c.
 *   test_cloud_driver sim-cloud [options]       = bluetti-sim --cloud [options]
 *   test_cloud_driver login|logout|devices ...  = bluetti login|logout|devices ... */
#include <stdio.h>
#include <string.h>

#include "account.h"
#include "cloud.h"

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
	fprintf(stderr, "usage: test_cloud_driver sim-cloud|login|logout|devices [options]\n");
	return 2;
}
