/* fs.c - file-system helpers of the library (core_internal.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/core_internal.h"

int blt_mkdir_private(const char *dir, char *err, size_t errcap)
{
	char p[1024];
	size_t n = strlen(dir);

	if (n == 0 || n >= sizeof p) {
		snprintf(err, errcap, "bad directory path (empty or over %zu bytes)", sizeof p - 1);
		return -1;
	}
	memcpy(p, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		char save = p[i];
		p[i] = '\0';
		if (mkdir(p, 0700) != 0 && errno != EEXIST) {
			snprintf(err, errcap, "cannot create %s: %s", p, strerror(errno));
			return -1;
		}
		p[i] = save;
	}
	return 0;
}
