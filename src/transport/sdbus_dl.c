/* libsystemd's sd-bus loaded at run time for the BlueZ link (see sdbus_dl.h for why). */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "transport/sdbus_dl.h"

#define FN_FIELD(ret, name, params, args, fail) ret(*name) params;
static struct {
	BLT_SDBUS_FUNCS(FN_FIELD)
	void (*sd_bus_error_free)(sd_bus_error *e);
} fn;
#undef FN_FIELD

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int loaded;           /* written once, under `once` */
static char load_error[240]; /* why not, when !loaded */

static void load(void)
{
	void *lib = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);

	if (!lib) {
		const char *e = dlerror();
		snprintf(load_error, sizeof load_error, "%s", e ? e : "not found");
		return;
	}
	/* dlsym returns void *; POSIX guarantees it converts to a function pointer. */
#define SYM(ret, name, params, args, fail)                                                         \
	if (!(*(void **)(&fn.name) = dlsym(lib, #name))) {                                         \
		snprintf(load_error, sizeof load_error, "libsystemd has no %s", #name);            \
		dlclose(lib);                                                                      \
		memset(&fn, 0, sizeof fn);                                                         \
		return;                                                                            \
	}
	BLT_SDBUS_FUNCS(SYM)
	SYM(void, sd_bus_error_free, , , )
#undef SYM
	loaded = 1; /* the library stays loaded for the life of the process */
}

int blt_sdbus_load(blt_detail_t *d)
{
	pthread_once(&once, load);
	if (loaded)
		return BLT_OK;
	return blt_detail_set(
	    d, BLT_E_NOT_FOUND,
	    "Bluetooth LE needs sd-bus from libsystemd, which could not be loaded "
	    "(%s); install it (Debian: apt install libsystemd0)",
	    load_error);
}

#define WRAP(ret, name, params, args, fail)                                                        \
	ret blt_##name params                                                                      \
	{                                                                                          \
		if (!loaded)                                                                       \
			return fail;                                                               \
		return fn.name args;                                                               \
	}
BLT_SDBUS_FUNCS(WRAP)
#undef WRAP

void blt_sd_bus_error_free(sd_bus_error *e)
{
	if (loaded)
		fn.sd_bus_error_free(e);
}

int blt_sd_bus_call_method(sd_bus *bus, const char *dest, const char *path, const char *iface,
                           const char *member, sd_bus_error *e, sd_bus_message **reply,
                           const char *types, ...)
{
	va_list ap;
	int r;

	va_start(ap, types);
	r = blt_sd_bus_call_methodv(bus, dest, path, iface, member, e, reply, types, ap);
	va_end(ap);
	return r;
}

int blt_sd_bus_message_append(sd_bus_message *m, const char *types, ...)
{
	va_list ap;
	int r;

	va_start(ap, types);
	r = blt_sd_bus_message_appendv(m, types, ap);
	va_end(ap);
	return r;
}

int blt_sd_bus_message_read(sd_bus_message *m, const char *types, ...)
{
	va_list ap;
	int r;

	va_start(ap, types);
	r = blt_sd_bus_message_readv(m, types, ap);
	va_end(ap);
	return r;
}
