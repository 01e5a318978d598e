/* The audit lines of gated writes (include/bluetti/control.h): on stderr always, and
 * appended to a file (created 0600) when one is configured. Shared by `set`,
 * `write-register` and `local enable|disable`. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bluetti/control.h>

#include "cli.h"

void cli_audit_line(void *user, const blt_audit_rec_t *rec)
{
	cli_audit_t *a = user;
	fprintf(stderr, "audit: %s\n", rec->line);
	if (a && a->fd >= 0) {
		char line[BLT_AUDIT_MAX + 2];
		int n = snprintf(line, sizeof line, "%s\n", rec->line);
		/* One write(2) per line: O_APPEND keeps concurrent writers' lines whole. */
		if (n < 0 || write(a->fd, line, (size_t)n) != (ssize_t)n) {
			fprintf(stderr, "bluetti: audit log %s: write failed: %s\n", a->path,
			        strerror(errno));
			a->failed = 1;
		}
	}
}

int cli_audit_open(const char *prog, const char *path, cli_audit_t *sink)
{
	sink->fd = -1;
	sink->failed = 0;
	sink->path = path;
	if (!sink->path) {
		const char *env = getenv("BLUETTI_AUDIT_LOG");
		sink->path = env && *env ? env : NULL;
	}
	if (!sink->path)
		return 0;
	sink->fd = open(sink->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (sink->fd < 0) {
		fprintf(stderr, "bluetti %s: audit log %s: %s (nothing written)\n", prog,
		        sink->path, strerror(errno));
		return EXIT_FAIL;
	}
	return 0;
}

int cli_audit_close(cli_audit_t *sink)
{
	if (sink->fd >= 0 && close(sink->fd) != 0)
		sink->failed = 1;
	sink->fd = -1;
	return sink->failed;
}
