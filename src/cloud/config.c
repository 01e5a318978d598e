/* The §2.8 TOTP key: env BLUETTI_TOTP_KEY, else `totp_key = ...` in the config file
 * (INI-style: key = value lines, [sections] and # ; comments ignored), else the app's
 * public constant BLT_CLOUD_TOTP_KEY_DEFAULT. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include <bluetti/cloud.h>

#include "cloud/cloud_internal.h"

int blt_cloud_check_totp_key(const char *k, const char *from, blt_detail_t *d)
{
	size_t n = strlen(k);
	if (n != BLT_CLOUD_TOTP_KEY_LEN)
		return blt_detail_set(d, BLT_E_CONFIG,
		                      "totp_key from %s has %zu characters; it must be exactly %d "
		                      "(see docs/account.md)",
		                      from, n, BLT_CLOUD_TOTP_KEY_LEN);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)k[i] <= 0x20 || (unsigned char)k[i] >= 0x7f)
			return blt_detail_set(
			    d, BLT_E_CONFIG,
			    "totp_key from %s has a space or non-printable character", from);
	return BLT_OK;
}

static int validate(const char *k, const char *from, char out[13], blt_detail_t *d)
{
	int err = blt_cloud_check_totp_key(k, from, d);
	if (!err)
		memcpy(out, k, BLT_CLOUD_TOTP_KEY_LEN + 1);
	return err;
}

static char *trim(char *s)
{
	char *e;
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

blt_err_t blt_cloud_totp_key_load(const char *config_path, char out[13], blt_detail_t *d)
{
	char def[1024], line[1024];
	const char *env = getenv(BLT_CLOUD_TOTP_KEY_ENV);
	FILE *f;
	int err = BLT_E_CONFIG;
	bool found = false;

	if (!out)
		return blt_detail_set(d, BLT_E_INVAL, "totp_key_load: NULL out");
	out[0] = '\0';
	if (env && env[0])
		return validate(env, "BLUETTI_TOTP_KEY", out, d);
	if (!config_path) {
		const char *x = getenv("XDG_CONFIG_HOME"), *h = getenv("HOME");
		if (x && x[0] == '/')
			snprintf(def, sizeof def, "%s/bluetti/config", x);
		else if (h && h[0])
			snprintf(def, sizeof def, "%s/.config/bluetti/config", h);
		else
			snprintf(def, sizeof def, "~/.config/bluetti/config");
		config_path = def;
	}
	f = fopen(config_path, "r");
	if (f) {
		while (fgets(line, sizeof line, f)) {
			char *s = trim(line), *eq;
			if (!*s || *s == '#' || *s == ';' || *s == '[')
				continue;
			eq = strchr(s, '=');
			if (!eq)
				continue;
			*eq = '\0';
			if (strcmp(trim(s), "totp_key") != 0)
				continue;
			char *v = trim(eq + 1);
			size_t n = strlen(v);
			if (n >= 2 && ((v[0] == '"' && v[n - 1] == '"') ||
			               (v[0] == '\'' && v[n - 1] == '\''))) {
				v[n - 1] = '\0';
				v++;
			}
			char from[1100];
			snprintf(from, sizeof from, "%s", config_path);
			err = validate(v, from, out, d);
			found = true;
			break;
		}
		OPENSSL_cleanse(line, sizeof line);
		fclose(f);
		if (found)
			return err;
	} else if (errno != ENOENT) {
		return blt_detail_set(d, BLT_E_CONFIG, "cannot read %s: %s", config_path,
		                      strerror(errno));
	}
	/* not configured: the app's public constant (PROTOCOL.md §2.8) */
	memcpy(out, BLT_CLOUD_TOTP_KEY_DEFAULT, BLT_CLOUD_TOTP_KEY_LEN + 1);
	return BLT_OK;
}
