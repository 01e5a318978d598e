/* libcurl loaded at run time for the account API (see curl_dl.h for why). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cloud/curl_dl.h"

/* Sonames tried in order: Debian's libcurl4 (OpenSSL), then libcurl3-gnutls (same API). */
static const char *const sonames[] = {"libcurl.so.4", "libcurl-gnutls.so.4"};

static struct {
	CURLcode (*global_init)(long);
	CURL *(*easy_init)(void);
	void (*easy_cleanup)(CURL *);
	void (*easy_reset)(CURL *);
	CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode (*easy_perform)(CURL *);
	CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
	const char *(*easy_strerror)(CURLcode);
	char *(*easy_escape)(CURL *, const char *, int);
	void (*free)(void *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void (*slist_free_all)(struct curl_slist *);
} fn;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int loaded;           /* written once, under `once` */
static char load_error[240]; /* why not, when !loaded */

static void load(void)
{
	void *lib = NULL;
	const char *why = "";

	for (size_t i = 0; i < sizeof sonames / sizeof sonames[0] && !lib; i++) {
		lib = dlopen(sonames[i], RTLD_NOW | RTLD_LOCAL);
		if (!lib && i == 0) {
			const char *e = dlerror();
			why = e ? e : "not found";
			snprintf(load_error, sizeof load_error, "%s", why);
		}
	}
	if (!lib)
		return;
		/* dlsym returns void *; POSIX guarantees it converts to a function pointer. */
#define SYM(field, name)                                                                           \
	do {                                                                                       \
		*(void **)(&fn.field) = dlsym(lib, name);                                          \
		if (!fn.field) {                                                                   \
			snprintf(load_error, sizeof load_error, "libcurl has no %s", name);        \
			dlclose(lib);                                                              \
			memset(&fn, 0, sizeof fn);                                                 \
			return;                                                                    \
		}                                                                                  \
	} while (0)
	SYM(global_init, "curl_global_init");
	SYM(easy_init, "curl_easy_init");
	SYM(easy_cleanup, "curl_easy_cleanup");
	SYM(easy_reset, "curl_easy_reset");
	SYM(easy_setopt, "curl_easy_setopt");
	SYM(easy_perform, "curl_easy_perform");
	SYM(easy_getinfo, "curl_easy_getinfo");
	SYM(easy_strerror, "curl_easy_strerror");
	SYM(easy_escape, "curl_easy_escape");
	SYM(free, "curl_free");
	SYM(slist_append, "curl_slist_append");
	SYM(slist_free_all, "curl_slist_free_all");
#undef SYM
	loaded = 1; /* the library stays loaded for the life of the process */
}

int blt_curl_load(blt_detail_t *d)
{
	pthread_once(&once, load);
	if (loaded)
		return BLT_OK;
	return blt_detail_set(d, BLT_E_NOT_FOUND,
	                      "the Bluetti account needs libcurl, which could not be loaded (%s); "
	                      "install it (Debian: apt install libcurl4)",
	                      load_error);
}

CURLcode blt_curl_global_init(long flags)
{
	return loaded ? fn.global_init(flags) : CURLE_FAILED_INIT;
}

CURL *blt_curl_easy_init(void)
{
	return loaded ? fn.easy_init() : NULL;
}

void blt_curl_easy_cleanup(CURL *h)
{
	if (loaded)
		fn.easy_cleanup(h);
}

void blt_curl_easy_reset(CURL *h)
{
	if (loaded)
		fn.easy_reset(h);
}

/* curl_easy_setopt takes one argument whose type follows from the option's number range
 * (curl.h: CURLOPTTYPE_*): long, an object or string pointer, a function pointer, a
 * curl_off_t or a struct curl_blob pointer. Forward it with the same type. */
CURLcode blt_curl_easy_setopt(CURL *h, CURLoption opt, ...)
{
	va_list ap;
	CURLcode rc;

	if (!loaded)
		return CURLE_FAILED_INIT;
	va_start(ap, opt);
	if (opt < CURLOPTTYPE_OBJECTPOINT) {
		long v = va_arg(ap, long);
		rc = fn.easy_setopt(h, opt, v);
	} else if (opt < CURLOPTTYPE_FUNCTIONPOINT) {
		void *v = va_arg(ap, void *);
		rc = fn.easy_setopt(h, opt, v);
	} else if (opt < CURLOPTTYPE_OFF_T) {
		void (*v)(void) = va_arg(ap, void (*)(void));
		rc = fn.easy_setopt(h, opt, v);
	} else if (opt < CURLOPTTYPE_BLOB) {
		curl_off_t v = va_arg(ap, curl_off_t);
		rc = fn.easy_setopt(h, opt, v);
	} else {
		void *v = va_arg(ap, void *);
		rc = fn.easy_setopt(h, opt, v);
	}
	va_end(ap);
	return rc;
}

CURLcode blt_curl_easy_perform(CURL *h)
{
	return loaded ? fn.easy_perform(h) : CURLE_FAILED_INIT;
}

/* Every CURLINFO_* takes one pointer (long *, char **, double *, curl_off_t *, ...). */
CURLcode blt_curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
	va_list ap;
	void *p;

	if (!loaded)
		return CURLE_FAILED_INIT;
	va_start(ap, info);
	p = va_arg(ap, void *);
	va_end(ap);
	return fn.easy_getinfo(h, info, p);
}

const char *blt_curl_easy_strerror(CURLcode rc)
{
	return loaded ? fn.easy_strerror(rc) : "libcurl not loaded";
}

char *blt_curl_easy_escape(CURL *h, const char *s, int len)
{
	return loaded ? fn.easy_escape(h, s, len) : NULL;
}

void blt_curl_free(void *p)
{
	if (loaded)
		fn.free(p);
}

struct curl_slist *blt_curl_slist_append(struct curl_slist *l, const char *s)
{
	return loaded ? fn.slist_append(l, s) : NULL;
}

void blt_curl_slist_free_all(struct curl_slist *l)
{
	if (loaded)
		fn.slist_free_all(l);
}
