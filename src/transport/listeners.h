/* listeners.h - the listener list every transport keeps (blt_transport_listen/unlisten):
 * (topic, handler, user) entries, dispatch by topic, and removal that is safe from inside a
 * handler (an entry removed during a dispatch is marked and freed when the dispatch ends).
 * Not installed; used by mqtt.c, ble.c and mbtcp.c. */
#ifndef BLT_TRANSPORT_LISTENERS_H
#define BLT_TRANSPORT_LISTENERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bluetti/transport.h>

typedef struct blt_listener {
	struct blt_listener *next;
	char *topic;
	blt_msg_fn fn;
	void *user;
	bool dead; /* removed while dispatching; freed afterwards */
} blt_listener_t;

typedef struct blt_listeners {
	blt_listener_t *head;
	int dispatching; /* nesting depth of blt_listeners_dispatch */
	bool sweep;      /* dead entries wait for the dispatch to end */
} blt_listeners_t;

/* Append (topic, fn, user). Returns the entry, or NULL when out of memory. */
blt_listener_t *blt_listeners_add(blt_listeners_t *ls, const char *topic, blt_msg_fn fn,
                                  void *user);

/* Remove the entries on topic registered as (fn, user), or every entry on topic when fn is
 * NULL. Returns how many were removed; *left (if not NULL) tells whether live entries on
 * topic remain. */
int blt_listeners_remove(blt_listeners_t *ls, const char *topic, blt_msg_fn fn, void *user,
                         bool *left);

/* Remove one entry (e.g. one whose subscription failed). */
void blt_listeners_drop(blt_listeners_t *ls, blt_listener_t *l);

/* True when a live entry before l has l's topic (the topic is subscribed once). */
bool blt_listeners_seen_before(const blt_listeners_t *ls, const blt_listener_t *l);

/* Hand a message to every live entry on topic (topic NULL: every live entry); each handler
 * gets its own entry's topic. Handlers may add or remove entries meanwhile. */
void blt_listeners_dispatch(blt_listeners_t *ls, const char *topic, const uint8_t *payload,
                            size_t len, bool retained);

/* Free every entry; false (nothing freed) when called from inside a dispatch. */
bool blt_listeners_clear(blt_listeners_t *ls);

#endif
