/* core_internal.h - helpers of the core layer that other layers of the library use.
 * Not installed; not part of the public API. */
#ifndef BLT_CORE_INTERNAL_H
#define BLT_CORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include <bluetti/bluetti.h>

/* mkdir -p: every missing component of dir created with mode 0700 (private state, pins).
 * 0, or -1 with a one-line reason in err. Existing components are left as they are. */
int blt_mkdir_private(const char *dir, char *err, size_t errcap);

/* True if a blt_log line of this level would reach the handler: callers skip the cost of
 * producing a line nobody reads (libmosquitto formats one for every packet). */
bool blt_log_active(blt_log_level_t level);

#endif
