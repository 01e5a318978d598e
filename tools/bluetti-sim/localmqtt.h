/* localmqtt.h - bluetti-sim as the device's "Open MQTT" client (LOCAL.md §2): the device
 * connects to its owner's broker and answers bare RTU frames there. */
#ifndef BLUETTI_SIM_LOCALMQTT_H
#define BLUETTI_SIM_LOCALMQTT_H

#include <stddef.h>
#include <stdint.h>

#include "sim.h"

/* The 209-byte FC16-shaped frame of the periodic push: registers 11000-11099 of dev
 * (registers the device does not implement are 0), slave 0 as in the firmware
 * (`00 10 2a f8 00 64 c8` + 200 data bytes + CRC). Pure. */
int sim_localmqtt_push_frame(const sim_device_t *dev, uint8_t *rtu, size_t cap, size_t *len);

/* `bluetti-sim --local-mqtt HOST[:PORT] ...`: run one simulated device as the MQTT client of
 * the broker at HOST:PORT. Returns the exit status. */
int sim_localmqtt_main(int argc, char **argv);

#endif
