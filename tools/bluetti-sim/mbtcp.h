/* mbtcp.h - bluetti-sim as a Modbus TCP device (LOCAL.md §1): the firmware's "open"
 * register map served from a simulated device's register memory. */
#ifndef BLUETTI_SIM_MBTCP_H
#define BLUETTI_SIM_MBTCP_H

#include <stddef.h>
#include <stdint.h>

#include "sim.h"

typedef enum mbtcp_action {
	MBTCP_SILENT = 0, /* no reply; the connection stays up (LOCAL.md §1.5) */
	MBTCP_REPLY = 1,  /* out holds a reply ADU */
	MBTCP_CLOSE = 2,  /* unparsable stream: close the connection */
} mbtcp_action_t;

/* Handle one request ADU (exactly one, as blt_mbap_parse delimits it) for dev, the way
 * the firmware's TCP slave does: public -> internal translation through the catalog's
 * map, silence for a multi-register read touching an unmapped address, exception 2 for a
 * one-register access that does not start a map entry, writes forwarded to the internal
 * register with the internal address echoed, exception 1 for other function codes on a
 * mapped address. Units 1, 0 and 100 reach the device; others are ignored. Pure: no I/O.
 * summary (may be NULL) gets one line for the -v log. */
mbtcp_action_t sim_mbtcp_handle(sim_device_t *dev, const uint8_t *adu, size_t n, uint8_t *out,
                                size_t cap, size_t *out_len, char *summary, size_t scap);

/* `bluetti-sim --modbus-tcp PORT ...`: run one simulated device as a Modbus TCP server
 * (one client at a time). Returns the exit status. */
int sim_mbtcp_main(int argc, char **argv);

#endif
