/* The outbox to the Home Assistant broker (runtime.h): one message per topic (a newer one
 * replaces the queued one), handed to libmosquitto at most OUT_WINDOW unacknowledged at a
 * time, so memory stays bounded whatever comes in. */
#include <stdlib.h>
#include <string.h>

#include <bluetti/bluetti.h>

#include "runtime.h"

uint32_t br_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

static void ob_unlink(outbox_t *ob, out_msg_t *m)
{
	out_msg_t **pp = &ob->bucket[m->hash & (ob->nbucket - 1)];
	while (*pp != m)
		pp = &(*pp)->hnext;
	*pp = m->hnext;
	if (m->prev)
		m->prev->next = m->next;
	else
		ob->head = m->next;
	if (m->next)
		m->next->prev = m->prev;
	else
		ob->tail = m->prev;
	ob->n--;
}

static void ob_free_msg(out_msg_t *m)
{
	free(m->payload);
	free(m);
}

/* Drop everything queued (counted in dropped). */
void br_ob_clear(outbox_t *ob)
{
	while (ob->head) {
		out_msg_t *m = ob->head;
		ob_unlink(ob, m);
		ob_free_msg(m);
		ob->dropped++;
	}
}

/* Queue payload for topic; a message still queued for the topic is replaced in place. */
int br_ob_put(outbox_t *ob, const char *topic, const char *payload, bool retain)
{
	uint32_t h = br_hash(topic);
	char *p = strdup(payload);
	out_msg_t *m;
	if (!p)
		return BLT_E_NOMEM;
	if (ob->n >= ob->nbucket) { /* grow (and rehash) at load factor 1 */
		size_t nb = ob->nbucket ? ob->nbucket * 2 : 256;
		out_msg_t **b = calloc(nb, sizeof *b);
		if (!b) {
			free(p);
			return BLT_E_NOMEM;
		}
		for (out_msg_t *x = ob->head; x; x = x->next) {
			x->hnext = b[x->hash & (nb - 1)];
			b[x->hash & (nb - 1)] = x;
		}
		free(ob->bucket);
		ob->bucket = b;
		ob->nbucket = nb;
	}
	for (m = ob->bucket[h & (ob->nbucket - 1)]; m; m = m->hnext) {
		if (m->hash == h && !strcmp(m->topic, topic)) {
			free(m->payload);
			m->payload = p;
			m->retain = retain;
			ob->superseded++;
			return BLT_OK;
		}
	}
	size_t tl = strlen(topic) + 1;
	m = malloc(sizeof *m + tl);
	if (!m) {
		free(p);
		return BLT_E_NOMEM;
	}
	memcpy(m->topic, topic, tl);
	m->payload = p;
	m->retain = retain;
	m->hash = h;
	m->hnext = ob->bucket[h & (ob->nbucket - 1)];
	ob->bucket[h & (ob->nbucket - 1)] = m;
	m->next = NULL;
	m->prev = ob->tail;
	if (ob->tail)
		ob->tail->next = m;
	else
		ob->head = m;
	ob->tail = m;
	ob->n++;
	return BLT_OK;
}

/* Hand queued messages to the connection while fewer than OUT_WINDOW are unacknowledged
 * (libmosquitto itself would queue without bound). */
void br_ob_flush(br_runtime_t *rt)
{
	outbox_t *ob = &rt->ob;
	while (ob->head && br_down_ok(rt) && blt_transport_pending(rt->down) < OUT_WINDOW) {
		out_msg_t *m = ob->head;
		blt_detail_t d = {{0}};
		ob_unlink(ob, m);
		int err = blt_transport_publish(rt->down, m->topic, m->payload, strlen(m->payload),
		                                1, m->retain, &d);
		if (err)
			br_log(BLT_LOG_WARN, "publish %s: %s", m->topic, d.text);
		ob_free_msg(m);
	}
}

void br_ob_free(outbox_t *ob)
{
	br_ob_clear(ob);
	free(ob->bucket);
	ob->bucket = NULL;
	ob->nbucket = 0;
}
