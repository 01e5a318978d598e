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

static const char *api_url(const blt_cloud_session_t *s)
{
	if (g_api)
		return g_api;
	if (getenv("BLUETTI_API") && getenv("BLUETTI_API")[0])
		return getenv("BLUETTI_API");
	return s && s->api[0] ? s->api : NULL;
}

static const char *api_ca(const blt_cloud_session_t *s)
{
	if (g_api_ca)
		return g_api_ca;
	if (getenv("BLUETTI_API_CA") && getenv("BLUETTI_API_CA")[0])
		return getenv("BLUETTI_API_CA");
	return s && s->api_ca[0] ? s->api_ca : NULL;
}

/* "bluetti <cmd>: <kind>: <detail>" (the kind only when the detail does not say it). */
static int report(const char *cmd, const blt_cloud_t *c, int err, const blt_detail_t *d)
{
	const blt_cloud_error_t *e = c ? blt_cloud_last_error(c) : NULL;
	const char *kind = e && e->kind ? blt_cloud_fail_name(e->kind) : blt_strerror(err);
	if (d->text[0] && !strncasecmp(d->text, kind, strlen(kind)))
		fprintf(stderr, "bluetti %s: %s\n", cmd, d->text);
	else
		fprintf(stderr, "bluetti %s: %s: %s\n", cmd, kind, d->text[0] ? d->text : "failed");
	return EXIT_FAIL;
}

/* --region, else env BLUETTI_REGION, else "auto". */
static const char *region_choice(void)
{
	const char *e = getenv("BLUETTI_REGION");
	if (g_region)
		return g_region;
	return e && e[0] ? e : "auto";
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

typedef struct sess {
	char dir[1024];
	blt_cloud_session_t s;
	blt_cloud_t *c;
	char key[BLT_CLOUD_TOTP_KEY_LEN + 1];
	blt_detail_t key_detail; /* why there is no key, if there is none */
	int timeout_ms;
} sess_t;

static int new_handle(sess_t *x, const char *device_id, blt_detail_t *d)
{
	blt_cloud_opts_t o;
	memset(&o, 0, sizeof o);
	o.gw_url = api_url(&x->s);
	o.gwpry_url = x->s.api_pry[0] && !g_api ? x->s.api_pry : NULL;
	o.ca_file = api_ca(&x->s);
	o.region = region_choice();
	o.region_urls = getenv(BLT_CLOUD_REGIONS_ENV);
	/* the data centre a login found before, unless told otherwise */
	if (!strcmp(o.region, "auto") && !g_api && x->s.api_dc[0])
		o.dc_url = x->s.api_dc;
	o.device_id = device_id && device_id[0] ? device_id : NULL;
	o.totp_key = x->key[0] ? x->key : NULL;
	o.timeout_ms = x->timeout_ms;
	o.connect_timeout_ms = x->timeout_ms && x->timeout_ms < 10000 ? x->timeout_ms : 0;
	return blt_cloud_new(&o, &x->c, d);
}

static void load_key(sess_t *x)
{
	x->key_detail.text[0] = 0;
	if (blt_cloud_totp_key_load(NULL, x->key, &x->key_detail) != BLT_OK)
		x->key[0] = 0;
}

/* Cached login -> handle with the token. */
static int sess_open(sess_t *x, blt_detail_t *d)
{
	int err;
	memset(x, 0, sizeof *x);
	if ((err = blt_cloud_store_dir(x->dir, sizeof x->dir, d)) != BLT_OK)
		return err;
	if ((err = blt_cloud_store_load(x->dir, &x->s, NULL, NULL, NULL, d)) != BLT_OK)
		return err;
	load_key(x);
	if ((err = new_handle(x, x->s.device_id, d)) != BLT_OK)
		return err;
	return blt_cloud_set_token(x->c, x->s.token, d);
}

static int save_session(sess_t *x, const uint8_t *pfx, size_t pfx_len, const char *pfx_pw,
                        blt_detail_t *d);

/* Remember a data centre found by this command (an 805 probe) in the store. */
static void keep_gateway(sess_t *x)
{
	blt_detail_t d;
	if (!x->c || !x->dir[0] || !strcmp(x->s.api_dc, blt_cloud_gateway(x->c)))
		return;
	fprintf(stderr, "bluetti: the account lives in the %s data centre (%s); remembered\n",
	        blt_cloud_region(x->c), blt_cloud_gateway(x->c));
	if (save_session(x, NULL, 0, NULL, &d) != BLT_OK)
		fprintf(stderr, "bluetti: warning: data centre not saved: %s\n", d.text);
}

static void sess_close(sess_t *x)
{
	blt_cloud_free(x->c);
	OPENSSL_cleanse(x, sizeof *x);
}

static int save_session(sess_t *x, const uint8_t *pfx, size_t pfx_len, const char *pfx_pw,
                        blt_detail_t *d)
{
	const char *tok = blt_cloud_token(x->c);
	if (tok)
		snprintf(x->s.token, sizeof x->s.token, "%s", tok);
	x->s.ttl = blt_cloud_token_ttl(x->c) ? blt_cloud_token_ttl(x->c) : x->s.ttl;
	x->s.saved_at = 0;
	snprintf(x->s.region, sizeof x->s.region, "%s", blt_cloud_region(x->c));
	snprintf(x->s.api_dc, sizeof x->s.api_dc, "%s", blt_cloud_gateway(x->c));
	return blt_cloud_store_save(x->dir, &x->s, pfx, pfx_len, pfx_pw, d);
}

/* After a failure: if the token expired and BLUETTI_PASSWORD is set, log in again, save
 * the new token and return 1 (the caller retries once). */
static int renew(sess_t *x, blt_detail_t *d)
{
	const blt_cloud_error_t *e = blt_cloud_last_error(x->c);
	const char *pw = getenv("BLUETTI_PASSWORD");
	blt_detail_t d2;
	if (!e || e->kind != BLT_CLOUD_TOKEN_EXPIRED || !pw || !pw[0] || !x->s.email[0])
		return 0;
	if (blt_cloud_login(x->c, x->s.email, pw, &d2) != BLT_OK) {
		*d = d2;
		return 0;
	}
	if (save_session(x, NULL, 0, NULL, &d2) != BLT_OK)
		fprintf(stderr, "bluetti: warning: new token not saved: %s\n", d2.text);
	return 1;
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
	char *email = NULL, *pw = NULL, pfx_pw[512] = "", uid[128];
	uint8_t *pfx = NULL;
	size_t pfx_len = 0;
	unsigned long tmo = 0;
	blt_detail_t d = {{0}};
	sess_t x;
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
	memset(&x, 0, sizeof x);
	x.timeout_ms = (int)tmo * 1000;
	if (blt_cloud_store_dir(x.dir, sizeof x.dir, &d) != BLT_OK) {
		fprintf(stderr, "bluetti login: %s\n", d.text);
		return EXIT_FAIL;
	}
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
	snprintf(x.s.email, sizeof x.s.email, "%s", email);
	snprintf(x.s.api, sizeof x.s.api, "%s", g_api ? g_api : "");
	snprintf(x.s.api_pry, sizeof x.s.api_pry, "%s", pry ? pry : "");
	if (g_api_ca) { /* later commands run from other directories */
		char *abs = realpath(g_api_ca, NULL);
		if (!abs) {
			fprintf(stderr, "bluetti login: --api-ca '%s': %s\n", g_api_ca,
			        strerror(errno));
			goto out_usage;
		}
		if (strlen(abs) >= sizeof x.s.api_ca) {
			fprintf(stderr, "bluetti login: --api-ca: path too long\n");
			free(abs);
			goto out_usage;
		}
		snprintf(x.s.api_ca, sizeof x.s.api_ca, "%s", abs);
		free(abs);
	}
	load_key(&x);
	if ((err = new_handle(&x, NULL, &d)) != BLT_OK) {
		rc = report("login", NULL, err, &d);
		goto out;
	}
	if (pry) { /* an explicit second gateway (the handle took the default rule) */
		blt_cloud_free(x.c);
		x.c = NULL;
		blt_cloud_opts_t o;
		memset(&o, 0, sizeof o);
		o.gw_url = api_url(NULL);
		o.gwpry_url = pry;
		o.ca_file = api_ca(NULL);
		o.region = region_choice();
		o.region_urls = getenv(BLT_CLOUD_REGIONS_ENV);
		o.totp_key = x.key[0] ? x.key : NULL;
		o.timeout_ms = x.timeout_ms;
		if ((err = blt_cloud_new(&o, &x.c, &d)) != BLT_OK) {
			rc = report("login", NULL, err, &d);
			goto out;
		}
	}
	snprintf(x.s.device_id, sizeof x.s.device_id, "%s", blt_cloud_device_id(x.c));
	err = blt_cloud_login(x.c, email, pw, &d);
	cli_secret_free(pw);
	pw = NULL;
	if (err) {
		rc = report("login", x.c, err, &d);
		goto out;
	}
	if ((err = blt_cloud_user_id(x.c, uid, sizeof uid, &d)) != BLT_OK) {
		rc = report("login", x.c, err, &d);
		goto out;
	}
	snprintf(x.s.uid, sizeof x.s.uid, "%s", uid);
	if (!x.key[0]) {
		/* keep the token (devices works), but say what is missing for the broker */
		if ((err = save_session(&x, NULL, 0, NULL, &d)) != BLT_OK) {
			rc = report("login", NULL, err, &d);
			goto out;
		}
		fprintf(stderr, "bluetti login: logged in as %s, but no client certificate: %s\n",
		        email, x.key_detail.text);
		goto out;
	}
	err = blt_cloud_pfx(x.c, &pfx, &pfx_len, pfx_pw, sizeof pfx_pw, &d);
	if (err) {
		blt_detail_t d2;
		(void)save_session(&x, NULL, 0, NULL, &d2);
		fprintf(stderr,
		        "bluetti login: logged in as %s, but the client certificate "
		        "failed:\n",
		        email);
		rc = report("login", x.c, err, &d);
		goto out;
	}
	if ((err = save_session(&x, pfx, pfx_len, pfx_pw, &d)) != BLT_OK) {
		rc = report("login", NULL, err, &d);
		goto out;
	}
	printf("logged in as %s (user id %s, %s data centre); token, client certificate (%zu "
	       "bytes) and its password stored in %s\n",
	       email, uid, blt_cloud_region(x.c), pfx_len, x.dir);
	rc = 0;
	goto out;
out_usage:
	rc = EXIT_USAGE;
out:
	cli_secret_free(pw);
	free(email);
	blt_cloud_secret_free(pfx, pfx_len);
	OPENSSL_cleanse(pfx_pw, sizeof pfx_pw);
	sess_close(&x);
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
	sess_t x;
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
	if ((err = sess_open(&x, &d)) != BLT_OK) {
		int rc = report("devices", x.c, err, &d);
		sess_close(&x);
		return rc;
	}
	x.timeout_ms = (int)tmo * 1000;
	err = blt_cloud_devices(x.c, devs, 64, &n, &d);
	if (err && renew(&x, &d))
		err = blt_cloud_devices(x.c, devs, 64, &n, &d);
	if (err && err != BLT_E_BUFSIZE) {
		int rc = report("devices", x.c, err, &d);
		sess_close(&x);
		return rc;
	}
	keep_gateway(&x);
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
	sess_close(&x);
	return 0;
}

/* ---- --account ------------------------------------------------------------------- */

int account_connection(const char *sn, conn_args_t *conn, char *model, size_t model_cap,
                       char *sub_sn, size_t sub_sn_cap, blt_detail_t *d)
{
	static char user[1100], pfx_path[1100], pass_path[1100];
	blt_cloud_device_t dev;
	char pw[300], secret[256] = "";
	uint8_t *pfx = NULL;
	size_t pfx_len = 0;
	char *pfx_pw = NULL;
	sess_t x;
	int err;

	if (!sn || !conn)
		return blt_detail_set(d, BLT_E_INVAL, "--account needs --sn SN");
	if ((err = sess_open(&x, d)) != BLT_OK)
		goto out;
	/* the cached certificate must be there (and private) */
	{
		blt_cloud_session_t tmp;
		err = blt_cloud_store_load(x.dir, &tmp, &pfx, &pfx_len, &pfx_pw, d);
		OPENSSL_cleanse(&tmp, sizeof tmp);
		if (err == BLT_E_NOT_FOUND) {
			blt_detail_set(d, err,
			               "no client certificate cached: run `bluetti login` with "
			               "the TOTP key configured (%s)",
			               x.key_detail.text[0] ? x.key_detail.text
			                                    : "see docs/account.md");
			goto out;
		}
		if (err)
			goto out;
	}
	if (!x.key[0]) {
		err = blt_detail_set(d, BLT_E_CONFIG, "%s", x.key_detail.text);
		goto out;
	}
	err = blt_cloud_find_device(x.c, sn, &dev, d);
	if (err && renew(&x, d))
		err = blt_cloud_find_device(x.c, sn, &dev, d);
	if (err)
		goto out;
	/* the full record: a static broker password (rmt:<iotConnSecret>) when it has one;
	 * an account whose gateway does not offer the call keeps the TOTP */
	{
		blt_detail_t d2;
		if (blt_cloud_device_remote(x.c, &dev, secret, sizeof secret, &d2) == BLT_OK) {
			if (secret[0])
				(void)blt_cloud_set_broker_secret(x.c, secret, &d2);
		} else if (blt_cloud_last_error(x.c)->kind == BLT_CLOUD_TOKEN_EXPIRED) {
			err = blt_detail_set(d, BLT_E_AUTH, "%s", d2.text);
			goto out;
		} else {
			blt_log(BLT_LOG_DEBUG, "cloud: deviceRemoteSearch: %s (using the TOTP)",
			        d2.text);
		}
	}
	snprintf(g_secret, sizeof g_secret, "%s", secret);
	err = blt_cloud_mqtt_credentials(x.c, user, sizeof user, pw, sizeof pw, d);
	if (err)
		goto out;
	snprintf(conn->host, sizeof conn->host, "%s", dev.broker_host);
	conn->port = dev.broker_port;
	snprintf(pfx_path, sizeof pfx_path, "%s/client.pfx", x.dir);
	snprintf(pass_path, sizeof pass_path, "%s/client.pass", x.dir);
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
	keep_gateway(&x);
	err = BLT_OK;
out:
	OPENSSL_cleanse(pw, sizeof pw);
	OPENSSL_cleanse(secret, sizeof secret);
	blt_cloud_secret_free(pfx, pfx_len);
	if (pfx_pw)
		blt_cloud_secret_free(pfx_pw, strlen(pfx_pw));
	sess_close(&x);
	return err;
}

/* ---- live credentials for long-running commands ---------------------------------- */

static sess_t *g_live;

static void live_token(void *user, const char *token)
{
	sess_t *x = user;
	blt_detail_t d = {{0}};
	(void)token; /* save_session takes it from the handle */
	if (save_session(x, NULL, 0, NULL, &d) != BLT_OK)
		fprintf(stderr, "bluetti: warning: renewed token not saved: %s\n", d.text);
}

int account_live_hook(blt_transport_t *t, blt_detail_t *d)
{
	const char *pw = getenv("BLUETTI_PASSWORD");
	int err;
	if (!t)
		return blt_detail_set(d, BLT_E_INVAL, "no transport");
	account_live_close();
	g_live = calloc(1, sizeof *g_live);
	if (!g_live)
		return blt_detail_set(d, BLT_E_NOMEM, "out of memory");
	if ((err = sess_open(g_live, d)) != BLT_OK) {
		account_live_close();
		return err;
	}
	if (!g_live->key[0]) {
		err = blt_detail_set(d, BLT_E_CONFIG, "%s", g_live->key_detail.text);
		account_live_close();
		return err;
	}
	if (pw && pw[0] && g_live->s.email[0] &&
	    (err = blt_cloud_set_relogin(g_live->c, g_live->s.email, pw, d)) != BLT_OK) {
		account_live_close();
		return err;
	}
	if (g_secret[0] && (err = blt_cloud_set_broker_secret(g_live->c, g_secret, d)) != BLT_OK) {
		account_live_close();
		return err;
	}
	blt_cloud_on_token(g_live->c, live_token, g_live);
	blt_transport_on_credentials(t, blt_cloud_credentials_hook, g_live->c);
	return BLT_OK;
}

void account_live_close(void)
{
	if (g_live) {
		sess_close(g_live);
		free(g_live);
		g_live = NULL;
	}
}

void account_gateway(const blt_cloud_session_t *s, const char **url, const char **ca)
{
	*url = api_url(s);
	*ca = api_ca(s);
}
