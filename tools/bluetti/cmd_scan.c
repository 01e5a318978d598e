/* bluetti scan: discover Bluetti devices over Bluetooth LE (BlueZ) and print name,
 * address, RSSI, whether the V2 encryption is on, and a model / profile guess. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bluetti/ble.h>
#include <bluetti/bluetti.h>

#include "cli.h"
#include "common.h"

#define SCAN_MAX 256

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: bluetti scan [--adapter hci0] [--duration S] [--all] [--json]\n"
	        "Discover Bluetti devices over Bluetooth LE (docs/bluetooth.md). Bluetti units\n"
	        "are recognised by manufacturer data 0x4C42 \"BLUETT?\" (\"BLUETTF\": V2\n"
	        "encryption on) or by a name of a known model followed by the serial.\n"
	        "      --adapter NAME   local adapter (default hci0)\n"
	        "      --duration S     how long to listen (1-120 s, default 8)\n"
	        "      --all            list every device seen, not only Bluetti units\n"
	        "      --json           one JSON array\n");
}

int cmd_scan(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"adapter", required_argument, NULL, 'a'}, {"duration", required_argument, NULL, 'd'},
	    {"all", no_argument, NULL, 'A'},           {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
	blt_ble_device_info_t *devs;
	blt_detail_t d = {{0}};
	const char *adapter = "hci0";
	unsigned long secs = 8;
	bool all = false, json = false, first = true;
	size_t n = 0, shown = 0;
	int c, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': adapter = optarg; break;
		case 'd':
			if (cli_parse_ulong(optarg, 1, 120, &secs) != 0) {
				fprintf(stderr, "bluetti scan: --duration must be 1-120 s\n");
				return EXIT_USAGE;
			}
			break;
		case 'A': all = true; break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		default:
			fprintf(stderr, "bluetti scan: bad option '%s' (see --help)\n",
			        argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bluetti scan: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	devs = calloc(SCAN_MAX, sizeof *devs);
	if (!devs)
		return EXIT_FAIL;
	rc = blt_ble_scan(adapter, (int)secs * 1000, devs, SCAN_MAX, &n, &d);
	if (rc) {
		fprintf(stderr, "bluetti scan: %s: %s\n", blt_strerror(rc), d.text);
		free(devs);
		return rc == BLT_E_INVAL ? EXIT_USAGE : EXIT_FAIL;
	}
	if (json)
		printf("[");
	else
		printf("%-17s %5s  %-4s  %-14s %-10s %s\n", "ADDRESS", "RSSI", "ENC", "MODEL",
		       "PROFILE", "NAME");
	for (size_t i = 0; i < n; i++) {
		const blt_ble_device_info_t *x = &devs[i];
		const blt_profile_t *p = x->model[0] ? blt_profile_find(x->model) : NULL;
		if (!all && !x->bluetti)
			continue;
		shown++;
		if (json) {
			printf("%s\n  {\"address\": ", first ? "" : ",");
			cli_json_str(stdout, x->address);
			printf(", \"name\": ");
			cli_json_str(stdout, x->name);
			if (x->has_rssi)
				printf(", \"rssi\": %d", x->rssi);
			else
				printf(", \"rssi\": null");
			printf(", \"bluetti\": %s, \"encrypted\": %s, \"model\": ",
			       x->bluetti ? "true" : "false", x->encrypted ? "true" : "false");
			cli_json_str(stdout, x->model[0] ? x->model : NULL);
			printf(", \"profile\": ");
			cli_json_str(stdout, p ? p->id : NULL);
			printf("}");
			first = false;
		} else {
			char rssi[8] = "-";
			if (x->has_rssi)
				snprintf(rssi, sizeof rssi, "%d", x->rssi);
			printf("%-17s %5s  %-4s  %-14s %-10s %s\n", x->address, rssi,
			       x->encrypted ? "yes"
			       : x->bluetti ? "no"
			                    : "-",
			       x->model[0] ? x->model : "-", p ? p->id : "-", x->name);
		}
	}
	if (json)
		printf("%s]\n", shown ? "\n" : "");
	else if (!shown)
		fprintf(stderr, "bluetti scan: no Bluetti device seen in %lu s on %s%s\n", secs,
		        adapter, all ? "" : " (--all lists every device)");
	free(devs);
	return 0;
}
