/* Private to src/modbus: helpers shared by crc.c, rtu.c and envelope.c. */
#ifndef BLT_MODBUS_INTERNAL_H
#define BLT_MODBUS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* 1 if p[0..n-2) has a CRC equal to the little-endian word in its last two bytes
 * (n >= 3), else 0. */
int blt_crc_ok(const uint8_t *p, size_t n);
/* Append the CRC of p[0..n) at p[n], p[n+1] (low byte first); p must hold n + 2 bytes. */
void blt_crc_append(uint8_t *p, size_t n);

#endif
