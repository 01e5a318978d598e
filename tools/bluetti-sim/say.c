/* say.c - the simulator's log on stderr (say.h). */
#include <stdarg.h>
#include <stdio.h>

#include "say.h"

const char *say_prog = "bluetti-sim";
int say_verbose;

void say(int level, const char *fmt, ...)
{
	static const char *tag[] = {"error: ", "warning: ", "", "", "debug: "};
	va_list ap;
	if (level > say_verbose + 2 || level < 0 || level > 4)
		return;
	fprintf(stderr, "%s: %s", say_prog, tag[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
