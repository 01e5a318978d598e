/* bluetti-sim --ble: one simulated V2 device over Bluetooth LE, served as a BlueZ
 * imitation (org.bluez on the bus DBUS_SYSTEM_BUS_ADDRESS names: Adapter1, Device1,
 * GattService1, GattCharacteristic1, ObjectManager) so that the real BLE transport runs
 * unchanged against it. The device side of the V2 handshake uses a key pair generated at
 * start (never the vendor's device key): clients accept it only with the test override
 * of the K2 verify key (--key-out writes it). */
#ifndef BLT_SIM_BLE_H
#define BLT_SIM_BLE_H

/* Entry point: `bluetti-sim --ble [options]`. Exit status 0 on SIGINT/SIGTERM, 1 runtime
 * failure, 2 bad options. */
int sim_ble_main(int argc, char **argv);

#endif
