/* bluetti-bridge logging: stderr with a timestamp, or systemd journal priorities when
 * JOURNAL_STREAM is set. The level and the journal flag are the process's log settings
 * (set once at the start and at a reload); the library's log goes through here too. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

#include <bluetti/bluetti.h>

#include "runtime.h"

static struct {
	int level;
	bool journal;
} log_settings = {BLT_LOG_INFO, false};

static void lib_log(blt_log_level_t level, const char *msg, void *user)
{
	(void)user;
	br_log((int)level, "%s", msg);
}

void br_log_init(int level)
{
	log_settings.level = level;
	log_settings.journal = getenv("JOURNAL_STREAM") != NULL;
	blt_log_set_handler(lib_log, NULL, (blt_log_level_t)level);
}

void br_log(int level, const char *fmt, ...)
{
	static const char *names[] = {"error", "warning", "info", "debug"};
	static const int prio[] = {3, 4, 6, 7}; /* syslog priorities for the journal */
	char msg[1024];
	va_list ap;
	if (level > log_settings.level || level < 0 || level > 3)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (log_settings.journal) {
		fprintf(stderr, "<%d>%s\n", prio[level], msg);
	} else {
		struct timeval tv;
		struct tm tm;
		char ts[32];
		gettimeofday(&tv, NULL);
		localtime_r(&tv.tv_sec, &tm);
		strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld " BR_PROG " %s: %s\n", ts, (long)(tv.tv_usec / 1000),
		        names[level], msg);
	}
	fflush(stderr);
}

uint64_t br_unix_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)(ts.tv_nsec / 1000000);
}
