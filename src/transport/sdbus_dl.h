/* sdbus_dl.h - sd-bus (libsystemd), loaded at run time for the BlueZ link (sdbus_dl.c).
 *
 * Only the Bluetooth LE transport talks D-Bus, and libsystemd brings six more shared
 * libraries (libgcrypt, libgpg-error, libzstd, liblzma, liblz4, libcap): ~0.9 MB of
 * resident memory and their relocations in every process that links it, BLE or not
 * (docs/performance.md, "Footprint"). So libbluetti does not link it: ble_bluez.c
 * includes this header after <systemd/sd-bus.h>, and its sd_bus_* calls go to the
 * functions of libsystemd.so.0 looked up by blt_sdbus_load() when the first BLE link is
 * opened. A process that never uses BLE never maps libsystemd; without it (a system
 * without systemd), opening a BLE link fails with BLT_E_NOT_FOUND saying so.
 */
#ifndef BLT_TRANSPORT_SDBUS_DL_H
#define BLT_TRANSPORT_SDBUS_DL_H

#include <systemd/sd-bus.h>

#include <bluetti/bluetti.h>

/* Load libsystemd.so.0 and look up the functions below, once per process (thread-safe).
 * BLT_OK, or BLT_E_NOT_FOUND with the loader's message in d. */
int blt_sdbus_load(blt_detail_t *d);

/* The sd-bus functions ble_bluez.c calls: name, return type, parameters, arguments and
 * what a call returns before a successful blt_sdbus_load() (never a crash). */
#define BLT_SDBUS_FUNCS(X)                                                                         \
	X(int, sd_bus_open_system, (sd_bus * *ret), (ret), -ENOSYS)                                \
	X(sd_bus *, sd_bus_flush_close_unref, (sd_bus * bus), (bus), NULL)                         \
	X(int, sd_bus_process, (sd_bus * bus, sd_bus_message * *r), (bus, r), -ENOSYS)             \
	X(int, sd_bus_wait, (sd_bus * bus, uint64_t usec), (bus, usec), -ENOSYS)                   \
	X(int, sd_bus_call,                                                                        \
	  (sd_bus * bus, sd_bus_message * m, uint64_t usec, sd_bus_error * e,                      \
	   sd_bus_message * *reply),                                                               \
	  (bus, m, usec, e, reply), -ENOSYS)                                                       \
	X(int, sd_bus_call_async,                                                                  \
	  (sd_bus * bus, sd_bus_slot * *slot, sd_bus_message * m, sd_bus_message_handler_t cb,     \
	   void *user, uint64_t usec),                                                             \
	  (bus, slot, m, cb, user, usec), -ENOSYS)                                                 \
	X(int, sd_bus_call_methodv,                                                                \
	  (sd_bus * bus, const char *dest, const char *path, const char *iface,                    \
	   const char *member, sd_bus_error *e, sd_bus_message **reply, const char *types,         \
	   va_list ap),                                                                            \
	  (bus, dest, path, iface, member, e, reply, types, ap), -ENOSYS)                          \
	X(int, sd_bus_error_has_name, (const sd_bus_error *e, const char *name), (e, name), 0)     \
	X(int, sd_bus_get_property_string,                                                         \
	  (sd_bus * bus, const char *dest, const char *path, const char *iface,                    \
	   const char *member, sd_bus_error *e, char **ret),                                       \
	  (bus, dest, path, iface, member, e, ret), -ENOSYS)                                       \
	X(int, sd_bus_get_property_trivial,                                                        \
	  (sd_bus * bus, const char *dest, const char *path, const char *iface,                    \
	   const char *member, sd_bus_error *e, char type, void *ret),                             \
	  (bus, dest, path, iface, member, e, type, ret), -ENOSYS)                                 \
	X(int, sd_bus_match_signal,                                                                \
	  (sd_bus * bus, sd_bus_slot * *ret, const char *sender, const char *path,                 \
	   const char *iface, const char *member, sd_bus_message_handler_t cb, void *user),        \
	  (bus, ret, sender, path, iface, member, cb, user), -ENOSYS)                              \
	X(int, sd_bus_message_new_method_call,                                                     \
	  (sd_bus * bus, sd_bus_message * *m, const char *dest, const char *path,                  \
	   const char *iface, const char *member),                                                 \
	  (bus, m, dest, path, iface, member), -ENOSYS)                                            \
	X(int, sd_bus_message_appendv, (sd_bus_message * m, const char *types, va_list ap),        \
	  (m, types, ap), -ENOSYS)                                                                 \
	X(int, sd_bus_message_append_array,                                                        \
	  (sd_bus_message * m, char type, const void *ptr, size_t size), (m, type, ptr, size),     \
	  -ENOSYS)                                                                                 \
	X(int, sd_bus_message_readv, (sd_bus_message * m, const char *types, va_list ap),          \
	  (m, types, ap), -ENOSYS)                                                                 \
	X(int, sd_bus_message_read_array,                                                          \
	  (sd_bus_message * m, char type, const void **ptr, size_t *size), (m, type, ptr, size),   \
	  -ENOSYS)                                                                                 \
	X(int, sd_bus_message_skip, (sd_bus_message * m, const char *types), (m, types), -ENOSYS)  \
	X(int, sd_bus_message_enter_container, (sd_bus_message * m, char type, const char *c),     \
	  (m, type, c), -ENOSYS)                                                                   \
	X(int, sd_bus_message_exit_container, (sd_bus_message * m), (m), -ENOSYS)                  \
	X(const sd_bus_error *, sd_bus_message_get_error, (sd_bus_message * m), (m), NULL)         \
	X(sd_bus_message *, sd_bus_message_unref, (sd_bus_message * m), (m), NULL)                 \
	X(sd_bus_slot *, sd_bus_slot_unref, (sd_bus_slot * s), (s), NULL)

#define BLT_SDBUS_DECL(ret, name, params, args, fail) ret blt_##name params;
BLT_SDBUS_FUNCS(BLT_SDBUS_DECL)
#undef BLT_SDBUS_DECL
/* The variadic three, over their va_list forms, and sd_bus_error_free (void). */
void blt_sd_bus_error_free(sd_bus_error *e);
int blt_sd_bus_call_method(sd_bus *bus, const char *dest, const char *path, const char *iface,
                           const char *member, sd_bus_error *e, sd_bus_message **reply,
                           const char *types, ...);
int blt_sd_bus_message_append(sd_bus_message *m, const char *types, ...);
int blt_sd_bus_message_read(sd_bus_message *m, const char *types, ...);

#define sd_bus_open_system             blt_sd_bus_open_system
#define sd_bus_flush_close_unref       blt_sd_bus_flush_close_unref
#define sd_bus_process                 blt_sd_bus_process
#define sd_bus_wait                    blt_sd_bus_wait
#define sd_bus_call                    blt_sd_bus_call
#define sd_bus_call_async              blt_sd_bus_call_async
#define sd_bus_call_method             blt_sd_bus_call_method
#define sd_bus_error_free              blt_sd_bus_error_free
#define sd_bus_error_has_name          blt_sd_bus_error_has_name
#define sd_bus_get_property_string     blt_sd_bus_get_property_string
#define sd_bus_get_property_trivial    blt_sd_bus_get_property_trivial
#define sd_bus_match_signal            blt_sd_bus_match_signal
#define sd_bus_message_new_method_call blt_sd_bus_message_new_method_call
#define sd_bus_message_append          blt_sd_bus_message_append
#define sd_bus_message_append_array    blt_sd_bus_message_append_array
#define sd_bus_message_read            blt_sd_bus_message_read
#define sd_bus_message_read_array      blt_sd_bus_message_read_array
#define sd_bus_message_skip            blt_sd_bus_message_skip
#define sd_bus_message_enter_container blt_sd_bus_message_enter_container
#define sd_bus_message_exit_container  blt_sd_bus_message_exit_container
#define sd_bus_message_get_error       blt_sd_bus_message_get_error
#define sd_bus_message_unref           blt_sd_bus_message_unref
#define sd_bus_slot_unref              blt_sd_bus_slot_unref

#endif
