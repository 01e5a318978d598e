/* say.h - the simulator's log on stderr, one line a message:
 *   "<say_prog>: [error: |warning: |debug: ]<text>"
 * Levels: 0 error, 1 warning, 2 info (shown by default), 3 per request (-v), 4 debug (-vv).
 * Every mode of bluetti-sim (broker, --modbus-tcp, --ble) logs through it. */
#ifndef BLT_SIM_SAY_H
#define BLT_SIM_SAY_H

extern const char *say_prog; /* the line prefix; default "bluetti-sim" */
extern int say_verbose;      /* -v count: levels up to 2 + say_verbose are shown */

void say(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
