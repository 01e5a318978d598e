/* Private to the bluetti program: the account commands (login, logout, devices) and the
 * helper the device commands call for --account. See docs/account.md. */
#ifndef BLUETTI_ACCOUNT_H
#define BLUETTI_ACCOUNT_H

#include <stddef.h>

#include <bluetti/bluetti.h>

#include <bluetti/cloud.h>
#include <bluetti/transport.h>

#include "conn.h"

int cmd_login(int argc, char **argv);
int cmd_logout(int argc, char **argv);
int cmd_devices(int argc, char **argv);

/* Global --api URL / --api-ca FILE (NULL = keep): override the gateway saved at login
 * (also env BLUETTI_API / BLUETTI_API_CA). Call before the commands run. */
void account_set_api(const char *api, const char *api_ca);

/* For `--account --sn SN`: load the cached login, look SN (full serial or sub-serial)
 * up in the account's device list and fill conn for conn_open(): broker host/port,
 * cert_file / cert_password_file = the cached PFX and its password (0600 files in the
 * store), username "tid:..." and password = the TOTP for now in server time (malloc'd
 * into conn->password, freed by conn_args_free; conn_open must use a pre-set
 * conn->password, see docs/account.md). model gets the cloud model code (e.g. EL100V2),
 * sub_sn the serial the topics use. A token that expired is renewed with
 * BLUETTI_PASSWORD when set (blt_cloud_session_*, which also saves it). Returns a
 * blt_err_t with a one-line detail. */
int account_connection(const char *sn, conn_args_t *conn, char *model, size_t model_cap,
                       char *sub_sn, size_t sub_sn_cap, blt_detail_t *d);

/* For long-running commands (`watch --account`): install on t a credentials hook that
 * gives every reconnect a fresh MQTT password (the TOTP for that moment in server time,
 * blt_cloud_credentials_hook) from a cloud handle opened on the cached login. With
 * BLUETTI_PASSWORD set, an expired token (805) is renewed and the new token saved in the
 * store. One live hook per process; account_live_close() (after the transport is freed)
 * wipes and frees it. Returns a blt_err_t with a one-line detail. */
int account_live_hook(blt_transport_t *t, blt_detail_t *d);
void account_live_close(void);

/* For `bluetti doctor`: the cached login as the account commands see it (--api, --api-ca,
 * the environment, the store), without token renewal, with timeout_ms per request. */
blt_err_t account_session_open(blt_cloud_session_t **out, int timeout_ms, blt_detail_t *d);

#endif
