/* br_account.h - `[upstream] account = EMAIL` of bluetti-bridge: the cached `bluetti
 * login` (credential store) gives the certificate, and at the runtime's start the
 * account's device list gives the broker, the devices' model codes and topic serials;
 * a credentials hook gives a fresh MQTT login for every (re)connect.
 *
 * The narrow interface the runtime uses; everything about the cloud session (store, TOTP
 * key, token, re-login, saving a renewed token) stays behind it. */
#ifndef BLT_BR_ACCOUNT_H
#define BLT_BR_ACCOUNT_H

#include <stddef.h>

#include <bluetti/transport.h>

#include "bridge.h"

typedef struct br_account br_account_t;

/* Configuration step (local files only): the cached login of cfg->account must exist and
 * be for that account; its certificate and password go to cfg->up. On error a message
 * (no secret in it) in msg[cap]. */
int br_account_load_store(br_config_t *cfg, char *msg, size_t cap);
/* Runtime start: the account's cloud session (store, TOTP key, token; no request yet). */
int br_account_open(const br_config_t *cfg, br_account_t **out, blt_detail_t *d);
/* The account's device list (HTTPS): each device's topic serial, model and profile (for
 * devices given by sn only), the upstream broker, the broker secret the devices share.
 * Problems go to errs (BLT_E_CONFIG then). */
int br_account_resolve(br_account_t *a, br_config_t *cfg, br_errors_t *errs);
/* Install the account's credentials hook on the upstream transport t (before its first
 * connect). */
void br_account_install(br_account_t *a, blt_transport_t *t);
void br_account_free(br_account_t *a);

#endif
