/* bluetti login / logout / devices, and account_connection() for `--account`.
 * The login state lives in the credential store of the library (blt_cloud_store_*,
 * $XDG_STATE_HOME/bluetti, 0700/0600). Passwords come from a file, the environment or a
 * prompt, never from argv; nothing secret is printed. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <bluetti/bluetti.h>
#include <bluetti/cloud.h>

#include "account.h"
#include "cli.h"
#include "common.h"
#include "conn.h"

static const char *g_api, *g_api_ca, *g_region;
static char g_secret[256]; /* iotConnSecret of the --account device, for the live hook */

void account_set_api(const char *api, const char *api_ca)
{
	if (api)
		g_api = api;
	if (api_ca)
		g_api_ca = api_ca;
}

/* "bluetti <cmd>: <kind>: <detail>" (the kind only when the detail does not say it). */
static int report(const char *cmd, const blt_cloud_session_t *x, int err, const blt_detail_t *d)
{
	const blt_cloud_t *c = x ? blt_cloud_session_cloud((blt_cloud_session_t *)x) : NULL;
	const blt_cloud_error_t *e = c ? blt_cloud_last_error(c) : NULL;
	const char *kind = e && e->kind ? blt_cloud_fail_name(e->kind) : blt_strerror(err);
	if (d->text[0] && !strncasecmp(d->text, kind, strlen(kind)))
		fprintf(stderr, "bluetti %s: %s\n", cmd, d->text);
	else
		fprintf(stderr, "bluetti %s: %s: %s\n", cmd, kind, d->text[0] ? d->text : "failed");
	return EXIT_FAIL;
}

static int set_region_opt(const char *v, const char *cmd)
{
	if (!blt_cloud_region_valid(v)) {
		fprintf(stderr, "bluetti %s: --region '%s': auto, eu, us or global\n", cmd, v);
		return EXIT_USAGE;
	}
	g_region = v;
	return 0;
}

/* The session options of every account command: --api, --api-ca, --region, --timeout
 * (the library falls back to BLUETTI_API, BLUETTI_API_CA, BLUETTI_REGION and the store);
 * BLUETTI_PASSWORD renews an expired token. */
static void session_opts(blt_cloud_session_opts_t *o, unsigned long timeout_s)
{
	int ms = (int)timeout_s * 1000;
	memset(o, 0, sizeof *o);
	o->api = g_api;
	o->api_ca = g_api_ca;
	o->region = g_region;
	o->password = getenv("BLUETTI_PASSWORD");
	o->timeout_ms = ms;
	o->connect_timeout_ms = ms && ms < 10000 ? ms : 0;
}

/* Library messages (a renewed token saved, a data centre found) on stderr. */
static void log_stderr(blt_log_level_t level, const char *msg, void *user)
{
	(void)user;
	fprintf(stderr, "bluetti: %s%s\n", level <= BLT_LOG_WARN ? "warning: " : "", msg);
}

/* ---- login ----------------------------------------------------------------------- */

static void login_usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: bluetti login [--email ADDRESS] [--password-file F] [options]\n\n"
	    "Log in to the Bluetti account, fetch the client certificate (PKCS#12) and cache\n"
	    "token, certificate and its password in $XDG_STATE_HOME/bluetti (default\n"
	    "~/.local/state/bluetti, mode 0700/0600). See docs/account.md.\n\n"
	    "      --email ADDRESS       account e-mail (or env BLUETTI_EMAIL, or a prompt)\n"
	    "      --password-file F     password from a file (first line); or env\n"
	    "                            BLUETTI_PASSWORD; or a prompt (never on the command "
	    "line)\n"
	    "      --api URL             API gateway (default " BLT_CLOUD_GW_DEFAULT ";\n"
	    "                            a simulator: https://127.0.0.1:PORT)\n"
	    "      --api-pry URL         second gateway tried first for the certificate\n"
	    "      --api-ca FILE         CA bundle (PEM) that verifies the gateway (saved as an\n"
	    "                            absolute path)\n"
	    "      --region R            data centre: auto (default: find it on code 805), eu,\n"
	    "                            us or global (or env BLUETTI_REGION)\n"
	    "      --timeout SECONDS     per request (default 30)\n"
	    "\nGateways must be https:// (the login sends a reversibly encrypted password).\n"
	    "The certificate download uses the app's TOTP key (built in; env BLUETTI_TOTP_KEY\n"
	    "or `totp_key = ...` in ~/.config/bluetti/config override it; docs/account.md).\n");
}

enum {
	A_EMAIL = 0x3000,
	A_PWFILE,
	A_API,
	A_API_PRY,
	A_API_CA,
	A_TIMEOUT,
	A_JSON,
	A_HELP,
	A_REGION
};

static char *prompt_line(const char *prompt)
{
	char line[512];
	FILE *tty = fopen("/dev/tty", "r+");
	if (!tty)
		return NULL;
	fputs(prompt, tty);
	fflush(tty);
	char *r = fgets(line, sizeof line, tty);
	fclose(tty);
	if (!r)
		return NULL;
	line[strcspn(line, "\r\n")] = 0;
	return line[0] ? strdup(line) : NULL;
}

int cmd_login(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"email", required_argument, NULL, A_EMAIL},
	    {"password-file", required_argument, NULL, A_PWFILE},
	    {"api", required_argument, NULL, A_API},
	    {"api-pry", required_argument, NULL, A_API_PRY},
	    {"api-ca", required_argument, NULL, A_API_CA},
	    {"timeout", required_argument, NULL, A_TIMEOUT},
	    {"region", required_argument, NULL, A_REGION},
	    {"help", no_argument, NULL, A_HELP},
	    {NULL, 0, NULL, 0},
	};
	const char *email_opt = NULL, *pwfile = NULL, *pry = NULL;
	char *email = NULL, *pw = NULL;
	size_t pfx_len = 0;
	unsigned long tmo = 0;
	blt_detail_t d = {{0}};
	blt_cloud_session_opts_t o;
	blt_cloud_session_t *x = NULL;
	int opt, err, rc = EXIT_FAIL;

	optind = 1;
	while ((opt = cli_getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (opt) {
		case A_EMAIL: email_opt = optarg; break;
		case A_PWFILE: pwfile = optarg; break;
		case A_API: g_api = optarg; break;
		case A_API_PRY: pry = optarg; break;
		case A_API_CA: g_api_ca = optarg; break;
		case A_REGION:
			if (set_region_opt(optarg, "login"))
				return EXIT_USAGE;
			break;
		case A_TIMEOUT:
			if (cli_parse_ulong(optarg, 1, 600, &tmo)) {
				fprintf(stderr, "bluetti login: --timeout '%s': 1..600 seconds\n",
				        optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
		case A_HELP: login_usage(stdout); return 0;
		default: login_usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		/* not echoed: it may well be a password */
		fprintf(stderr, "bluetti login: unexpected argument (passwords are read from "
		                "--password-file, BLUETTI_PASSWORD or a prompt, never the command "
		                "line)\n");
		return EXIT_USAGE;
	}
	session_opts(&o, tmo);
	o.api_pry = pry;
	o.password = NULL; /* a new login, not a renewal */
	blt_log_set_handler(log_stderr, NULL, BLT_LOG_INFO);
	if (email_opt)
		email = strdup(email_opt);
	else if (getenv("BLUETTI_EMAIL") && getenv("BLUETTI_EMAIL")[0])
		email = strdup(getenv("BLUETTI_EMAIL"));
	else if (isatty(STDIN_FILENO))
		email = prompt_line("Bluetti account e-mail: ");
	if (!email || !email[0] || strpbrk(email, "\r\n")) {
		fprintf(stderr, "bluetti login: no e-mail address (--email or BLUETTI_EMAIL)\n");
		goto out_usage;
	}
	err = cli_secret(pwfile, "BLUETTI_PASSWORD", "Bluetti account password: ", &pw, &d);
	if (err || !pw || !pw[0]) {
		fprintf(stderr, "bluetti login: no password (%s)\n",
		        err ? d.text
		            : "--password-file F, env BLUETTI_PASSWORD or a terminal prompt");
		goto out_usage;
	}
	if ((err = blt_cloud_session_new(&o, &x, &d)) != BLT_OK) {
		rc = report("login", NULL, err, &d);
		goto out;
	}
	err = blt_cloud_session_login(x, email, pw, &d);
	cli_secret_free(pw);
	pw = NULL;
	if (err) {
		rc = report("login", x, err, &d);
		goto out;
	}
	if (blt_cloud_session_check_key(x, &d) != BLT_OK) {
		/* the token is kept (devices works), but say what is missing for the broker */
		fprintf(stderr, "bluetti login: logged in as %s, but no client certificate: %s\n",
		        email, d.text);
		goto out;
	}
	if ((err = blt_cloud_session_fetch_certificate(x, &pfx_len, &d)) != BLT_OK) {
		fprintf(stderr,
		        "bluetti login: logged in as %s, but the client certificate "
		        "failed:\n",
		        email);
		rc = report("login", x, err, &d);
		goto out;
	}
	printf("logged in as %s (user id %s, %s data centre); token, client certificate (%zu "
	       "bytes) and its password stored in %s\n",
	       email, blt_cloud_session_saved(x)->uid, blt_cloud_region(blt_cloud_session_cloud(x)),
	       pfx_len, blt_cloud_session_dir(x));
	rc = 0;
	goto out;
out_usage:
	rc = EXIT_USAGE;
out:
	cli_secret_free(pw);
	free(email);
	blt_cloud_session_close(x);
	return rc;
}

/* ---- logout ---------------------------------------------------------------------- */

int cmd_logout(int argc, char **argv)
{
	char dir[1024];
	blt_detail_t d = {{0}};
	if (argc > 1) {
		bool help = !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h");
		fprintf(
		    help ? stdout : stderr,
		    "usage: bluetti logout\n\nRemove the cached token, client certificate and its "
		    "password (the credential store).\n");
		return help ? 0 : EXIT_USAGE;
	}
	if (blt_cloud_store_dir(dir, sizeof dir, &d) != BLT_OK) {
		fprintf(stderr, "bluetti logout: %s\n", d.text);
		return EXIT_FAIL;
	}
	{
		struct stat st;
		if (lstat(dir, &st) != 0 && errno == ENOENT) {
			printf("not logged in (no credentials in %s): nothing to remove\n", dir);
			return 0;
		}
	}
	if (blt_cloud_store_remove(dir, &d) != BLT_OK) {
		fprintf(stderr, "bluetti logout: %s\n", d.text);
		return EXIT_FAIL;
	}
	printf("logged out (removed the credentials in %s)\n", dir);
	return 0;
}

/* ---- devices --------------------------------------------------------------------- */

/* Print s left-aligned in a column of w characters (UTF-8 aware) plus one space. */
static void cell(const char *s, int w)
{
	int chars = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p & 0xC0) != 0x80)
			chars++;
	fputs(s, stdout);
	for (; chars < w; chars++)
		putchar(' ');
	putchar(' ');
}

int cmd_devices(int argc, char **argv)
{
	static const struct option lo[] = {
	    {"json", no_argument, NULL, A_JSON},
	    {"api", required_argument, NULL, A_API},
	    {"api-ca", required_argument, NULL, A_API_CA},
	    {"timeout", required_argument, NULL, A_TIMEOUT},
	    {"region", required_argument, NULL, A_REGION},
	    {"help", no_argument, NULL, A_HELP},
	    {NULL, 0, NULL, 0},
	};
	blt_cloud_device_t devs[64];
	size_t n = 0;
	bool json = false;
	unsigned long tmo = 0;
	blt_detail_t d = {{0}};
	blt_cloud_session_opts_t o;
	blt_cloud_session_t *x = NULL;
	int opt, err;

	optind = 1;
	while ((opt = cli_getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (opt) {
		case A_JSON: json = true; break;
		case A_API: g_api = optarg; break;
		case A_API_CA: g_api_ca = optarg; break;
		case A_REGION:
			if (set_region_opt(optarg, "devices"))
				return EXIT_USAGE;
			break;
		case A_TIMEOUT:
			if (cli_parse_ulong(optarg, 1, 600, &tmo)) {
				fprintf(stderr, "bluetti devices: --timeout '%s': 1..600 seconds\n",
				        optarg);
				return EXIT_USAGE;
			}
			break;
		case 'h':
		case A_HELP:
			printf(
			    "usage: bluetti devices [--json] [--api URL] [--api-ca FILE] [--region "
			    "R]\n\n"
			    "List the devices of the logged-in account (see `bluetti login`).\n");
			return 0;
		default: return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bluetti devices: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	session_opts(&o, tmo);
	blt_log_set_handler(log_stderr, NULL, BLT_LOG_INFO);
	if ((err = blt_cloud_session_open(&o, &x, &d)) == BLT_OK)
		err = blt_cloud_session_devices(x, devs, 64, &n, &d);
	if (err && err != BLT_E_BUFSIZE) {
		int rc = report("devices", x, err, &d);
		blt_cloud_session_close(x);
		return rc;
	}
	if (err == BLT_E_BUFSIZE) {
		fprintf(stderr, "bluetti devices: warning: showing 64 of %zu devices\n", n);
		n = 64;
	}
	if (json) {
		printf("[");
		for (size_t i = 0; i < n; i++) {
			char broker[300];
			snprintf(broker, sizeof broker, "%s:%u", devs[i].broker_host,
			         devs[i].broker_port);
			printf("%s\n  {\"name\": ", i ? "," : "");
			cli_json_str(stdout, devs[i].name);
			printf(", \"model\": ");
			cli_json_str(stdout, devs[i].model);
			printf(", \"sn\": ");
			cli_json_str(stdout, devs[i].sn);
			printf(", \"sub_sn\": ");
			cli_json_str(stdout, devs[i].sub_sn);
			printf(", \"online\": %s, \"broker\": ", devs[i].online ? "true" : "false");
			cli_json_str(stdout, broker);
			printf(", \"protocol_ver\": %u}", devs[i].protocol_ver);
		}
		printf("%s]\n", n ? "\n" : "");
	} else if (n == 0) {
		printf("no devices in this account\n");
	} else {
		/* columns by characters, not bytes: names like "Küche" */
		cell("NAME", 24);
		cell("MODEL", 12);
		cell("SN", 22);
		cell("SUB-SN", 16);
		cell("ONLINE", 7);
		printf("BROKER\n");
		for (size_t i = 0; i < n; i++) {
			cell(devs[i].name[0] ? devs[i].name : "-", 24);
			cell(devs[i].model, 12);
			cell(devs[i].sn, 22);
			cell(devs[i].sub_sn, 16);
			cell(devs[i].online ? "yes" : "no", 7);
			printf("%s:%u\n", devs[i].broker_host, devs[i].broker_port);
		}
	}
	blt_cloud_session_close(x);
	return 0;
}

/* ---- --account ------------------------------------------------------------------- */

int account_connection(const char *sn, conn_args_t *conn, char *model, size_t model_cap,
                       char *sub_sn, size_t sub_sn_cap, blt_detail_t *d)
{
	static char user[1100], pfx_path[1100], pass_path[1100];
	blt_cloud_device_t dev;
	blt_cloud_session_opts_t o;
	blt_cloud_session_t *x = NULL;
	char pw[300];
	uint8_t *pfx = NULL;
	size_t pfx_len = 0;
	int err;

	if (!sn || !conn)
		return blt_detail_set(d, BLT_E_INVAL, "--account needs --sn SN");
	session_opts(&o, 0);
	if ((err = blt_cloud_session_open(&o, &x, d)) != BLT_OK)
		goto out;
	/* the cached certificate must be there (and private) */
	if ((err = blt_cloud_session_certificate(x, &pfx, &pfx_len, NULL, d)) != BLT_OK ||
	    (err = blt_cloud_session_check_key(x, d)) != BLT_OK ||
	    (err = blt_cloud_session_find_device(x, sn, &dev, g_secret, sizeof g_secret, d)) !=
	        BLT_OK ||
	    (err = blt_cloud_mqtt_credentials(blt_cloud_session_cloud(x), user, sizeof user, pw,
	                                      sizeof pw, d)) != BLT_OK)
		goto out;
	snprintf(conn->host, sizeof conn->host, "%s", dev.broker_host);
	conn->port = dev.broker_port;
	snprintf(pfx_path, sizeof pfx_path, "%s/client.pfx", blt_cloud_session_dir(x));
	snprintf(pass_path, sizeof pass_path, "%s/client.pass", blt_cloud_session_dir(x));
	conn->cert_file = pfx_path;
	conn->cert_password_file = pass_path;
	conn->username = user;
	cli_secret_free(conn->password);
	conn->password = strdup(pw);
	if (!conn->password) {
		err = blt_detail_set(d, BLT_E_NOMEM, "out of memory");
		goto out;
	}
	if (model)
		snprintf(model, model_cap, "%s", dev.model);
	if (sub_sn)
		snprintf(sub_sn, sub_sn_cap, "%s", dev.sub_sn);
	err = BLT_OK;
out:
	OPENSSL_cleanse(pw, sizeof pw);
	blt_cloud_secret_free(pfx, pfx_len);
	blt_cloud_session_close(x);
	return err;
}

/* ---- live credentials for long-running commands ---------------------------------- */

static blt_cloud_session_t *g_live;

int account_live_hook(blt_transport_t *t, blt_detail_t *d)
{
	blt_cloud_session_opts_t o;
	int err;
	if (!t)
		return blt_detail_set(d, BLT_E_INVAL, "no transport");
	account_live_close();
	session_opts(&o, 0);
	if ((err = blt_cloud_session_open(&o, &g_live, d)) != BLT_OK ||
	    (err = blt_cloud_session_check_key(g_live, d)) != BLT_OK ||
	    (g_secret[0] && (err = blt_cloud_set_broker_secret(blt_cloud_session_cloud(g_live),
	                                                       g_secret, d)) != BLT_OK)) {
		account_live_close();
		return err;
	}
	blt_transport_on_credentials(t, blt_cloud_session_credentials_hook, g_live);
	return BLT_OK;
}

void account_live_close(void)
{
	blt_cloud_session_close(g_live);
	g_live = NULL;
}

blt_err_t account_session_open(blt_cloud_session_t **out, int timeout_ms, blt_detail_t *d)
{
	blt_cloud_session_opts_t o;
	session_opts(&o, 0);
	o.password = NULL; /* a diagnosis, not a renewal */
	o.timeout_ms = timeout_ms;
	o.connect_timeout_ms = timeout_ms / 3;
	return blt_cloud_session_open(&o, out, d);
}
