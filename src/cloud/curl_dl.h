/* curl_dl.h - libcurl, loaded at run time (curl_dl.c).
 *
 * The account API is the only user of libcurl, and libcurl brings ~25 shared libraries
 * (gnutls, krb5, ldap, ssh2, p11-kit ...) and ~4 MB of resident memory into every process
 * that links it. So libbluetti does not link it: cloud.c includes this header instead of
 * <curl/curl.h>, and its curl_* calls go to the functions of libcurl.so.4 looked up by
 * blt_curl_load() when the first blt_cloud_t is created. A process that never uses the
 * account never maps libcurl. Without libcurl installed, blt_cloud_new() fails with
 * BLT_E_NOT_FOUND and a detail saying which package to install.
 */
#ifndef BLT_CLOUD_CURL_DL_H
#define BLT_CLOUD_CURL_DL_H

/* The type-checking wrappers of curl/typecheck-gcc.h are function-like macros named like
 * the functions; they cannot be combined with the renames below. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#include <bluetti/bluetti.h>

/* Load libcurl.so.4 (or libcurl-gnutls.so.4) and look up the functions below, once per
 * process (thread-safe). BLT_OK, or BLT_E_NOT_FOUND with the loader's message in d. */
int blt_curl_load(blt_detail_t *d);

/* The libcurl functions cloud.c calls, through the loaded library. Calling one before a
 * successful blt_curl_load() returns an error value (CURLE_FAILED_INIT, NULL) instead of
 * crashing. */
CURLcode blt_curl_global_init(long flags);
CURL *blt_curl_easy_init(void);
void blt_curl_easy_cleanup(CURL *h);
void blt_curl_easy_reset(CURL *h);
CURLcode blt_curl_easy_setopt(CURL *h, CURLoption opt, ...);
CURLcode blt_curl_easy_perform(CURL *h);
CURLcode blt_curl_easy_getinfo(CURL *h, CURLINFO info, ...);
const char *blt_curl_easy_strerror(CURLcode rc);
char *blt_curl_easy_escape(CURL *h, const char *s, int len);
void blt_curl_free(void *p);
struct curl_slist *blt_curl_slist_append(struct curl_slist *l, const char *s);
void blt_curl_slist_free_all(struct curl_slist *l);

/* curl.h wraps these two in macros that check the argument count */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_global_init    blt_curl_global_init
#define curl_easy_init      blt_curl_easy_init
#define curl_easy_cleanup   blt_curl_easy_cleanup
#define curl_easy_reset     blt_curl_easy_reset
#define curl_easy_setopt    blt_curl_easy_setopt
#define curl_easy_perform   blt_curl_easy_perform
#define curl_easy_getinfo   blt_curl_easy_getinfo
#define curl_easy_strerror  blt_curl_easy_strerror
#define curl_easy_escape    blt_curl_easy_escape
#define curl_free           blt_curl_free
#define curl_slist_append   blt_curl_slist_append
#define curl_slist_free_all blt_curl_slist_free_all

#endif
