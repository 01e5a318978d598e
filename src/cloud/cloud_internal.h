/* Private to the cloud layer (and its unit tests): response parsers, helpers. */
#ifndef BLT_CLOUD_INTERNAL_H
#define BLT_CLOUD_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bluetti/cloud.h>

int blt_cloud_md5_upper(const void *in, size_t n, char out[33]);

/* Fill e and d; returns the blt_err_t that goes with kind. */
int blt_cloud_fail(blt_cloud_error_t *e, blt_detail_t *d, blt_cloud_fail_t kind, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));
/* The blt_err_t of a failure kind. */
int blt_cloud_fail_err(blt_cloud_fail_t kind);

/* Parsers of gateway answers. Each checks the envelope ({"code"|"msgCode": 0, ...});
 * a non-zero code gives SERVER_CODE (TOKEN_EXPIRED for 805; login: WRONG_PASSWORD /
 * UNKNOWN_ACCOUNT / LOGIN_REFUSED) with code and message in e; anything else that is not
 * the expected shape is MALFORMED with a detail naming what is wrong. */
int blt_cloud_parse_login(const char *body, size_t len, char *token, size_t token_cap, long *ttl,
                          blt_cloud_error_t *e, blt_detail_t *d);
int blt_cloud_parse_uid(const char *body, size_t len, char *uid, size_t cap, blt_cloud_error_t *e,
                        blt_detail_t *d);
int blt_cloud_parse_devices(const char *body, size_t len, blt_cloud_device_t *out, size_t cap,
                            size_t *n, const char *default_broker, blt_cloud_error_t *e,
                            blt_detail_t *d);
int blt_cloud_parse_time(const char *body, size_t len, int64_t *ms, blt_cloud_error_t *e,
                         blt_detail_t *d);
/* deviceRemoteSearch: data (an object) merged over dev (model, subSn, iotSrvIp when
 * present and usable); secret = iotConnSecret or "". */
int blt_cloud_parse_remote(const char *body, size_t len, blt_cloud_device_t *dev, char *secret,
                           size_t cap, blt_cloud_error_t *e, blt_detail_t *d);
/* Only the envelope (for error bodies of the PFX call). 0 if code == 0. */
int blt_cloud_parse_status(const char *body, size_t len, blt_cloud_error_t *e, blt_detail_t *d);
/* "host[:port]" / "[v6]:port"; port defaults to BLT_CLOUD_BROKER_PORT. -1 if unusable. */
int blt_cloud_parse_hostport(const char *s, char *host, size_t cap, uint16_t *port);
/* Split the token: part 0 and part 1 (copies). BLT_E_INVAL if fewer than two parts. */
int blt_cloud_token_parts(const char *token, char *p0, size_t c0, char *p1, size_t c1);
/* A §2.8 TOTP key: exactly BLT_CLOUD_TOTP_KEY_LEN printable characters; `from` names the
 * source in the error. */
int blt_cloud_check_totp_key(const char *k, const char *from, blt_detail_t *d);

#endif
