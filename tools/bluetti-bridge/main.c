/* bluetti-bridge - Bluetti V2 power stations in Home Assistant over MQTT.
 *
 * Exit status: 0 after SIGTERM/SIGINT (or --check-config OK), 1 runtime failure (broker
 * refused the credentials, certificate unusable ...), 2 bad options or configuration. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bluetti/bluetti.h>

#include "bridge.h"
#include "common.h"

#define DEFAULT_CONFIG "/etc/bluetti/bridge.ini"

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		br_reload_requested = 1;
	else if (sig == SIGUSR1)
		br_stats_reset_requested = 1;
	else
		br_stop_requested = 1;
}

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: " BR_PROG " [-c FILE] [--check-config] [-v | --log-level LEVEL]\n"
	    "\n"
	    "Polls Bluetti V2 power stations through the Bluetti MQTT broker, Bluetooth, their\n"
	    "Modbus TCP server or their own MQTT client on a local broker (per device)\n"
	    "and publishes them to an MQTT broker for Home Assistant: one retained JSON state\n"
	    "document per device (<base>/<device>/state), MQTT discovery for every useful\n"
	    "value, availability per device and for the bridge (<base>/bridge/state, last\n"
	    "will), and switches / selects / numbers for the settings the profile supports,\n"
	    "written through the library's gated write path.\n"
	    "\n"
	    "options:\n"
	    "  -c, --config FILE      configuration (INI; default " DEFAULT_CONFIG ")\n"
	    "      --check-config     validate the configuration, print the resolved setup\n"
	    "                         and exit (no network connection is made: devices of\n"
	    "                         an account are resolved when the bridge starts)\n"
	    "  -v, --verbose          more log output (-v info, -vv debug)\n"
	    "  -q, --quiet            errors only\n"
	    "      --log-level LEVEL  error, warn, info (default) or debug; overrides the file\n"
	    "      --stats FILE       write counters and read round-trip percentiles (JSON)\n"
	    "                         to FILE every second (SIGUSR1 restarts the histogram)\n"
	    "  -V, --version          print the version\n"
	    "  -h, --help             this help\n"
	    "\n"
	    "secrets from the environment (used when the matching *_file key is not set):\n"
	    "  " BR_ENV_UP_CERT_PASSWORD "       [upstream] PKCS#12 certificate password\n"
	    "  " BR_ENV_UP_PASSWORD "       [upstream] MQTT password\n"
	    "  " BR_ENV_HA_PASSWORD "         [homeassistant] MQTT password\n"
	    "  " BR_ENV_HA_CERT_PASSWORD "    [homeassistant] PKCS#12 certificate password\n"
	    "\n"
	    "signals: SIGTERM/SIGINT stop (devices and bridge published offline), SIGHUP\n"
	    "reloads the configuration (an invalid file is reported and ignored; connections\n"
	    "whose sections did not change are kept), SIGUSR1\n"
	    "restarts the --stats round-trip histogram.\n"
	    "See bluetti-bridge(1) and packaging/bridge.example.ini.\n");
}

int main(int argc, char **argv)
{
	enum { OPT_CHECK = 0x100, OPT_LEVEL, OPT_STATS };
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check-config", no_argument, NULL, OPT_CHECK},
	    {"verbose", no_argument, NULL, 'v'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"log-level", required_argument, NULL, OPT_LEVEL},
	    {"stats", required_argument, NULL, OPT_STATS},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *path = DEFAULT_CONFIG, *stats_path = NULL;
	bool check = false;
	int cli_level = -1, verbose = 0, opt;
	br_config_t *cfg = NULL;
	br_errors_t errs;
	struct sigaction sa;

	while ((opt = cli_getopt_long(argc, argv, "c:vqVh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': path = optarg; break;
		case OPT_CHECK: check = true; break;
		case OPT_STATS: stats_path = optarg; break;
		case 'v':
			verbose++;
			cli_level = verbose >= 2 ? BLT_LOG_DEBUG : BLT_LOG_INFO;
			break;
		case 'q': cli_level = BLT_LOG_ERROR; break;
		case OPT_LEVEL:
			cli_level = br_log_level_parse(optarg);
			if (cli_level < 0) {
				fprintf(stderr,
				        BR_PROG ": --log-level '%s': expected error, warn, info or "
				                "debug\n",
				        optarg);
				return 2;
			}
			break;
		case 'V': printf(BR_PROG " %s\n", blt_version()); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, BR_PROG ": unexpected argument '%s' (see --help)\n", argv[optind]);
		return 2;
	}

	if (br_config_load(path, true, &cfg, &errs) != BLT_OK) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, BR_PROG ": %s\n", errs.msg[i]);
		if (errs.dropped)
			fprintf(stderr, BR_PROG ": ... and %zu more errors\n", errs.dropped);
		fprintf(stderr, BR_PROG ": %s: configuration not valid\n", path);
		return 2;
	}
	if (check) {
		br_config_print(cfg, stdout);
		printf("configuration OK\n");
		br_config_free(cfg);
		return 0;
	}

	br_log_init(cli_level >= 0        ? cli_level
	            : cfg->log_level >= 0 ? cfg->log_level
	                                  : BLT_LOG_INFO);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	return br_run(path, cfg, cli_level, stats_path);
}
