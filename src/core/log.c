/* Library logging: everything goes through the installed callback (none by default). */
#include <stdarg.h>
#include <stdio.h>

#include <bluetti/bluetti.h>

#include "core/core_internal.h"

static blt_log_fn log_fn;
static void *log_user;
static blt_log_level_t log_max = BLT_LOG_WARN;

void blt_log_set_handler(blt_log_fn fn, void *user, blt_log_level_t max_level)
{
	log_fn = fn;
	log_user = user;
	log_max = max_level;
}

void blt_log(blt_log_level_t level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (!log_fn || level > log_max)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	log_fn(level, buf, log_user);
}

bool blt_log_active(blt_log_level_t level)
{
	return log_fn && level <= log_max;
}
