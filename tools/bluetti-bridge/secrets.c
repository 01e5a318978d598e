/* bluetti-bridge configuration, second step: the secrets the configuration names
 * (certificates, passwords from files or the environment, the account's cached login).
 * Local files only: nothing here touches the network (the account's device list is read
 * at the runtime's start, br_account.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include <bluetti/bluetti.h>

#include "br_account.h"
#include "bridge.h"
#include "common.h"
#include "config_internal.h"

static void load_secret(parser_t *ps, const char *section, const char *key, const char *file,
                        const char *env, char **out, char *src, size_t srccap)
{
	blt_detail_t d = {{0}};
	int err;
	snprintf(src, srccap, "none");
	if (!file[0] && !(env && getenv(env) && *getenv(env)))
		return;
	err = cli_secret(file[0] ? file : NULL, env, NULL, out, &d);
	if (err) {
		/* a path in the configuration file is no secret (on a command line it may be) */
		if (file[0])
			perr(ps, key_line(ps, section, key), section, key, "%s: %s", file, d.text);
		else
			perr(ps, key_line(ps, section, key), section, key, "%s", d.text);
		return;
	}
	if (file[0])
		snprintf(src, srccap, "file %s", file);
	else
		snprintf(src, srccap, "environment %s", env);
}

static void load_secrets(parser_t *ps, br_mqtt_cfg_t *m, const char *section, const char *pw_env,
                         const char *cert_pw_env)
{
	blt_detail_t d = {{0}};
	if (m->tls && m->cert[0]) {
		if (cli_read_file(m->cert, &m->pfx, &m->pfx_len, &d) != BLT_OK)
			perr(ps, key_line(ps, section, "cert"), section, "cert", "%s", d.text);
		else if (m->pfx_len == 0)
			perr(ps, key_line(ps, section, "cert"), section, "cert", "%s is empty",
			     m->cert);
		load_secret(ps, section, "cert_password_file", m->cert_password_file, cert_pw_env,
		            &m->cert_password, m->cert_password_src, sizeof m->cert_password_src);
	} else {
		snprintf(m->cert_password_src, sizeof m->cert_password_src, "none");
	}
	if (m->tls && m->ca[0]) {
		FILE *f = fopen(m->ca, "r");
		if (!f)
			perr(ps, key_line(ps, section, "ca"), section, "ca", "%s: %s", m->ca,
			     strerror(errno));
		else
			fclose(f);
	}
	load_secret(ps, section, "password_file", m->password_file, pw_env, &m->password,
	            m->password_src, sizeof m->password_src);
	if (m->password && !m->user[0])
		perr(ps,
		     key_line(ps, section, "password_file") ? key_line(ps, section, "password_file")
		                                            : section_line(ps, section),
		     section, "username", "a password is set (%s) but no username",
		     m->password_src);
}

/* A copy of a loaded secret (the [local-mqtt] broker defaults to the Home Assistant one). */
static char *secret_dup(const char *s)
{
	char *d;
	size_t n;
	if (!s)
		return NULL;
	n = strlen(s) + 1;
	d = malloc(n);
	if (d)
		memcpy(d, s, n);
	return d;
}

static void lan_from_down(parser_t *ps)
{
	br_config_t *c = ps->c;
	if (c->down.pfx_len) {
		c->lan.pfx = malloc(c->down.pfx_len);
		if (!c->lan.pfx) {
			add_error(ps->errs, "%s: out of memory", ps->name);
			return;
		}
		memcpy(c->lan.pfx, c->down.pfx, c->down.pfx_len);
		c->lan.pfx_len = c->down.pfx_len;
	}
	c->lan.password = secret_dup(c->down.password);
	c->lan.cert_password = secret_dup(c->down.cert_password);
	snprintf(c->lan.password_src, sizeof c->lan.password_src, "%s", c->down.password_src);
	snprintf(c->lan.cert_password_src, sizeof c->lan.cert_password_src, "%s",
	         c->down.cert_password_src);
}

void load_all_secrets(parser_t *ps)
{
	br_config_t *c = ps->c;
	if (c->account[0]) {
		char msg[300];
		/* the cached login's certificate (local files); the broker comes later */
		if (br_account_load_store(c, msg, sizeof msg) != BLT_OK)
			perr(ps, ps->account_line, "upstream", "account", "%s", msg);
	} else if (c->up.host[0]) {
		load_secrets(ps, &c->up, "upstream", BR_ENV_UP_PASSWORD, BR_ENV_UP_CERT_PASSWORD);
	}
	load_secrets(ps, &c->down, down_section(ps), BR_ENV_HA_PASSWORD, BR_ENV_HA_CERT_PASSWORD);
	if (c->lan_section)
		load_secrets(ps, &c->lan, "local-mqtt", NULL, NULL);
	else if (c->lan.host[0])
		lan_from_down(ps);
}
