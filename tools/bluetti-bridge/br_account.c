/* [upstream] account = EMAIL (br_account.h): the account session of the library
 * (blt_cloud_session_*: the cached login of `bluetti login`, the TOTP key, token renewal,
 * the store) and the account's device list, resolved when the runtime starts (never while
 * the configuration is parsed: `--check-config` makes no network connection). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include <bluetti/bluetti.h>
#include <bluetti/cloud.h>

#include "br_account.h"
#include "bridge.h"

struct br_account {
	blt_cloud_session_t *s;
};

/* The account's session (no network I/O), checked against email. */
static int session_open(const char *email, blt_cloud_session_t **out, char *msg, size_t cap)
{
	blt_cloud_session_opts_t o;
	blt_detail_t d = {{0}};
	char dir[1024] = "";
	const char *pw = getenv("BLUETTI_PASSWORD");
	int err;
	memset(&o, 0, sizeof o);
	o.password = pw && pw[0] ? pw : NULL; /* re-login on 805 */
	(void)blt_cloud_store_dir(dir, sizeof dir, NULL);
	err = blt_cloud_session_open(&o, out, &d);
	if (err == BLT_E_NOT_FOUND) {
		snprintf(msg, cap,
		         "no cached login with a client certificate in %.200s: run `bluetti login "
		         "--email %.100s` as the user the bridge runs as",
		         dir, email);
		return BLT_E_CONFIG;
	}
	if (err) {
		snprintf(msg, cap, "%s", d.text);
		return BLT_E_CONFIG;
	}
	if (strcasecmp(blt_cloud_session_saved(*out)->email, email) != 0) {
		snprintf(msg, cap,
		         "the cached login in %.200s is for %.100s, not %.100s (run `bluetti login "
		         "--email %.100s`)",
		         blt_cloud_session_dir(*out), blt_cloud_session_saved(*out)->email, email,
		         email);
		blt_cloud_session_close(*out);
		*out = NULL;
		return BLT_E_CONFIG;
	}
	return BLT_OK;
}

int br_account_load_store(br_config_t *c, char *msg, size_t cap)
{
	blt_cloud_session_t *s = NULL;
	blt_detail_t d = {{0}};
	int err = session_open(c->account, &s, msg, cap);
	if (err)
		return err;
	err =
	    blt_cloud_session_certificate(s, &c->up.pfx, &c->up.pfx_len, &c->up.cert_password, &d);
	if (err == BLT_E_NOT_FOUND)
		snprintf(msg, cap,
		         "no cached login with a client certificate in %.200s: run `bluetti login "
		         "--email %.100s` as the user the bridge runs as",
		         blt_cloud_session_dir(s), c->account);
	else if (err)
		snprintf(msg, cap, "%s", d.text);
	if (!err) {
		snprintf(c->up.cert, sizeof c->up.cert, "%.400s/client.pfx",
		         blt_cloud_session_dir(s));
		snprintf(c->up.cert_password_src, sizeof c->up.cert_password_src,
		         "file %.400s/client.pass", blt_cloud_session_dir(s));
		/* user stays empty: the hook supplies tid:<token part 1> and the TOTP per attempt
		 */
		snprintf(c->up.password_src, sizeof c->up.password_src,
		         "account: user tid:<token> and a TOTP, fresh for every connection");
		c->up.tls = true;
		c->up.cloud = true; /* the account's broker: the Bluetti TLS preset */
	}
	blt_cloud_session_close(s);
	return err ? BLT_E_CONFIG : BLT_OK;
}

int br_account_open(const br_config_t *cfg, br_account_t **out, blt_detail_t *d)
{
	br_account_t *a = calloc(1, sizeof *a);
	char msg[400];
	int err;
	*out = NULL;
	if (!a)
		return blt_detail_set(d, BLT_E_NOMEM, "account: out of memory");
	err = session_open(cfg->account, &a->s, msg, sizeof msg);
	if (err) {
		free(a);
		return blt_detail_set(d, err, "%s", msg);
	}
	err = blt_cloud_session_check_key(a->s, d);
	if (err) {
		br_account_free(a);
		return err;
	}
	*out = a;
	return BLT_OK;
}

void br_account_install(br_account_t *a, blt_transport_t *t)
{
	if (a && t)
		blt_transport_on_credentials(t, blt_cloud_session_credentials_hook, a->s);
}

void br_account_free(br_account_t *a)
{
	if (!a)
		return;
	blt_cloud_session_close(a->s);
	free(a);
}

static void errs_add(br_errors_t *e, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void errs_add(br_errors_t *e, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void errs_add(br_errors_t *e, int line, const char *fmt, ...)
{
	va_list ap;
	if (e->n >= BR_MAX_ERRORS) {
		e->dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(e->msg[e->n], sizeof e->msg[0], fmt, ap);
	va_end(ap);
	e->line[e->n++] = line;
}

/* The devices' full records: a static broker password rmt:<iotConnSecret> when the
 * bridged devices share one (one connection has one password); else the TOTP. */
static void broker_secret(br_account_t *a, const br_config_t *c, blt_cloud_device_t *devs, size_t n)
{
	char sec[256], common[256] = "";
	bool same = true, any = false;
	for (size_t i = 0; i < c->ndev && same; i++)
		for (size_t k = 0; k < n; k++) {
			blt_detail_t d2;
			if (strcmp(devs[k].sn, c->dev[i].sn) &&
			    strcmp(devs[k].sub_sn, c->dev[i].sn))
				continue;
			if (blt_cloud_device_remote(blt_cloud_session_cloud(a->s), &devs[k], sec,
			                            sizeof sec, &d2) != BLT_OK)
				sec[0] = '\0';
			if (!any)
				snprintf(common, sizeof common, "%s", sec);
			else if (strcmp(common, sec) != 0)
				same = false;
			any = true;
			break;
		}
	if (any && same && common[0])
		(void)blt_cloud_set_broker_secret(blt_cloud_session_cloud(a->s), common, NULL);
	else if (any && !same)
		blt_log(BLT_LOG_WARN,
		        "account: the bridged devices carry different broker secrets; "
		        "using the TOTP password");
	OPENSSL_cleanse(sec, sizeof sec);
	OPENSSL_cleanse(common, sizeof common);
}

/* One configured device against the account's list. */
static void resolve_device(br_config_t *c, br_device_cfg_t *dv, const blt_cloud_device_t *devs,
                           size_t n, br_errors_t *errs)
{
	const blt_cloud_device_t *m = NULL;
	char list[200] = "";
	size_t lo = 0;
	int port;
	if (!br_device_uses_upstream(dv))
		return; /* Bluetooth / LAN: not through the account's broker */
	for (size_t k = 0; k < n && !m; k++)
		if (!strcmp(devs[k].sn, dv->sn) || !strcmp(devs[k].sub_sn, dv->sn))
			m = &devs[k];
	if (!m) {
		for (size_t k = 0; k < n && lo < sizeof list; k++)
			lo += (size_t)snprintf(list + lo, sizeof list - lo, "%s%s", k ? ", " : "",
			                       devs[k].sn);
		errs_add(errs, dv->line,
		         "%s:%d: [device %s] sn: %s is not a device of the account %s (it has: %s)",
		         c->path, dv->line, dv->id, dv->sn, c->account, n ? list : "none");
		return;
	}
	if (!blt_topic_segment_ok(m->sub_sn) || (!dv->model[0] && !blt_topic_model_ok(m->model))) {
		errs_add(errs, dv->line,
		         "%s:%d: [device %s] sn: the account lists %s with a model or serial not "
		         "usable in topics",
		         c->path, dv->line, dv->id, dv->sn);
		return;
	}
	snprintf(dv->sn, sizeof dv->sn, "%s", m->sub_sn);
	if (!dv->profile) { /* sn only: model and profile from the account */
		snprintf(dv->model, sizeof dv->model, "%s", m->model);
		br_config_finish_device(c, dv, errs);
	}
	port = m->broker_port ? m->broker_port : BLT_CLOUD_BROKER_PORT;
	if (!c->up.host[0]) {
		snprintf(c->up.host, sizeof c->up.host, "%s", m->broker_host);
		c->up.port = port;
	} else if (strcmp(c->up.host, m->broker_host) != 0 || c->up.port != port) {
		errs_add(
		    errs, dv->line,
		    "%s:%d: [device %s] sn: %s is served by broker %s:%d, the other devices by "
		    "%s:%d (one bridge per broker)",
		    c->path, dv->line, dv->id, dv->sn, m->broker_host, port, c->up.host,
		    c->up.port);
	}
}

int br_account_resolve(br_account_t *a, br_config_t *c, br_errors_t *errs)
{
	blt_cloud_device_t *devs;
	blt_detail_t d = {{0}};
	size_t n = 0;
	int err;

	memset(errs, 0, sizeof *errs);
	devs = calloc(BR_MAX_DEVICES, sizeof *devs);
	if (!devs)
		return BLT_E_NOMEM;
	/* the session renews the token and remembers the data centre the list found */
	err = blt_cloud_session_devices(a->s, devs, BR_MAX_DEVICES, &n, &d);
	if (err && err != BLT_E_BUFSIZE) {
		errs_add(errs, c->account_line, "%s:%d: [upstream] account: device list: %s",
		         c->path, c->account_line, d.text);
		free(devs);
		return BLT_E_CONFIG;
	}
	if (n > BR_MAX_DEVICES)
		n = BR_MAX_DEVICES;
	c->up.host[0] = '\0';
	broker_secret(a, c, devs, n);
	for (size_t i = 0; i < c->ndev; i++)
		resolve_device(c, &c->dev[i], devs, n, errs);
	free(devs);
	if (!c->up.host[0]) {
		snprintf(c->up.host, sizeof c->up.host, "%s", BLT_CLOUD_BROKER_HOST);
		c->up.port = BLT_CLOUD_BROKER_PORT;
	}
	c->up.cloud = true;
	return errs->n || errs->dropped ? BLT_E_CONFIG : BLT_OK;
}
