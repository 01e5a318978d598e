/* listeners.c - the listener list every transport keeps (listeners.h). */
#include <stdlib.h>
#include <string.h>

#include "transport/listeners.h"

static void sweep(blt_listeners_t *ls)
{
	blt_listener_t **pp = &ls->head;
	if (ls->dispatching) {
		ls->sweep = true;
		return;
	}
	while (*pp) {
		blt_listener_t *l = *pp;
		if (l->dead) {
			*pp = l->next;
			free(l->topic);
			free(l);
		} else {
			pp = &l->next;
		}
	}
	ls->sweep = false;
}

blt_listener_t *blt_listeners_add(blt_listeners_t *ls, const char *topic, blt_msg_fn fn, void *user)
{
	blt_listener_t *l = calloc(1, sizeof *l), **pp;
	if (!l || !(l->topic = strdup(topic))) {
		free(l);
		return NULL;
	}
	l->fn = fn;
	l->user = user;
	for (pp = &ls->head; *pp; pp = &(*pp)->next)
		;
	*pp = l;
	return l;
}

int blt_listeners_remove(blt_listeners_t *ls, const char *topic, blt_msg_fn fn, void *user,
                         bool *left)
{
	int removed = 0;
	bool others = false;
	for (blt_listener_t *l = ls->head; l; l = l->next) {
		if (l->dead || strcmp(l->topic, topic) != 0)
			continue;
		if (!fn || (l->fn == fn && l->user == user)) {
			l->dead = true;
			removed++;
		} else {
			others = true;
		}
	}
	if (left)
		*left = others;
	if (removed)
		sweep(ls);
	return removed;
}

void blt_listeners_drop(blt_listeners_t *ls, blt_listener_t *l)
{
	l->dead = true;
	sweep(ls);
}

bool blt_listeners_seen_before(const blt_listeners_t *ls, const blt_listener_t *l)
{
	for (const blt_listener_t *o = ls->head; o && o != l; o = o->next)
		if (!o->dead && strcmp(o->topic, l->topic) == 0)
			return true;
	return false;
}

void blt_listeners_dispatch(blt_listeners_t *ls, const char *topic, const uint8_t *payload,
                            size_t len, bool retained)
{
	ls->dispatching++;
	for (blt_listener_t *l = ls->head; l; l = l->next)
		if (!l->dead && (!topic || strcmp(l->topic, topic) == 0))
			l->fn(l->user, l->topic, payload, len, retained);
	ls->dispatching--;
	if (!ls->dispatching && ls->sweep)
		sweep(ls);
}

bool blt_listeners_clear(blt_listeners_t *ls)
{
	if (ls->dispatching)
		return false;
	for (blt_listener_t *l = ls->head; l; l = l->next)
		l->dead = true;
	sweep(ls);
	return true;
}
