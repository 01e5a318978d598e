/* bluetti - command-line tool for Bluetti V2 power stations. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bluetti/bluetti.h>

#include "account.h"
#include "cli.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
} commands[] = {
    {"read", cmd_read, "read a block or a group of blocks from a device"},
    {"watch", cmd_watch, "read repeatedly at an interval (a line or a JSON object per read)"},
    {"dump", cmd_dump, "read a block and print the raw reply as hex"},
    {"check", cmd_check, "end-to-end check: connect, read grid block 1300, validate, time it"},
    {"doctor", cmd_doctor, "diagnose the chain step by step (PASS/FAIL/SKIP; --report FILE)"},
    {"nodes", cmd_nodes, "list the nodes of a system: power station, hubs, battery packs"},
    {"set", cmd_set, "change a setting (gated, verified, audited)"},
    {"get", cmd_get, "read the current value of settings"},
    {"settings", cmd_settings, "list the writable settings (and current values)"},
    {"write-register", cmd_write_register, "write a raw settings register (same gate)"},
    {"local", cmd_local, "local status: which LAN/Bluetooth paths the unit has, and if on"},
    {"login", cmd_login, "log in to the Bluetti account; caches certificate and token"},
    {"logout", cmd_logout, "remove the cached login, certificate and token"},
    {"devices", cmd_devices, "list the devices of the account"},
    {"decode", cmd_decode, "decode register data or a captured MQTT payload offline"},
    {"blocks", cmd_blocks, "list the register catalog, or the fields of one block"},
    {"profiles", cmd_profiles, "list the device profiles and wire presets"},
    {"scan", cmd_scan, "discover Bluetti devices over Bluetooth LE (name, address, RSSI, model)"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: bluetti <command> [options]\n\n"
	             "Talk to Bluetti V2 power stations (Elite 30/100/200 V2, AP300 ...) over the\n"
	             "Bluetti MQTT broker, or decode captured frames offline.\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-15s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nRun `bluetti <command> --help` for the options of a command.\n\n"
	             "global options (before the command):\n"
	             "  --api URL         Bluetti API gateway (default: the one saved at login;\n"
	             "                    env BLUETTI_API), e.g. a bluetti-sim --cloud address\n"
	             "  --api-ca FILE     CA bundle for the gateway (env BLUETTI_API_CA)\n"
	             "  --version         print the version\n");
}

int main(int argc, char **argv)
{
	const char *api = NULL, *api_ca = NULL;
	/* Global options before the command. */
	while (argc >= 3 && (!strcmp(argv[1], "--api") || !strcmp(argv[1], "--api-ca"))) {
		if (!strcmp(argv[1], "--api"))
			api = argv[2];
		else
			api_ca = argv[2];
		argv[2] = argv[0];
		argc -= 2;
		argv += 2;
	}
	if (argc >= 2 && (!strcmp(argv[1], "--api") || !strcmp(argv[1], "--api-ca"))) {
		fprintf(stderr, "bluetti: %s needs a value\n", argv[1]);
		return 2;
	}
	account_set_api(api, api_ca);
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("bluetti %s\n", blt_version());
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "bluetti: unknown command '%s' (see `bluetti --help`)\n", argv[1]);
	return 2;
}
