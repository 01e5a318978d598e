/* br_account.h - `[upstream] account = EMAIL` of bluetti-bridge (implemented in config.c):
 * the cached `bluetti login` (credential store) gives the broker, the client certificate
 * and, through a credentials hook, a fresh MQTT login for every (re)connect. */
#ifndef BLT_BR_ACCOUNT_H
#define BLT_BR_ACCOUNT_H

#include <bluetti/transport.h>

#include "bridge.h"

/* If cfg uses an account, install its credentials hook on the upstream transport t
 * (before the first connect). No-op otherwise. */
void br_account_install(const br_config_t *cfg, blt_transport_t *t);

#endif
