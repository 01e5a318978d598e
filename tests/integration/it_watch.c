/* it_watch.c - an MQTT watcher for the integration tests (it_watch.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include <bluetti/bluetti.h>
#include <bluetti/transport.h> /* blt_now_ms */

#include "it_watch.h"

it_msg_t *it_watch_find(it_watch_t *w, const char *topic)
{
	for (size_t i = 0; i < w->n; i++)
		if (!strcmp(w->msgs[i].topic, topic))
			return &w->msgs[i];
	return NULL;
}

static void on_message(struct mosquitto *m, void *u, const struct mosquitto_message *mm)
{
	it_watch_t *w = u;
	it_msg_t *x = it_watch_find(w, mm->topic);
	char *p;
	(void)m;
	if (!x) {
		if (w->n >= IT_WATCH_MAX || strlen(mm->topic) >= sizeof x->topic)
			return;
		x = &w->msgs[w->n++];
		memset(x, 0, sizeof *x);
		snprintf(x->topic, sizeof x->topic, "%s", mm->topic);
	}
	p = malloc((size_t)mm->payloadlen + 1);
	if (!p)
		return;
	if (mm->payloadlen > 0)
		memcpy(p, mm->payload, (size_t)mm->payloadlen);
	p[mm->payloadlen] = '\0';
	free(x->payload);
	x->payload = p;
	x->count++;
	uint64_t now = blt_now_ms();
	if (x->at && now - x->at > x->max_gap)
		x->max_gap = now - x->at;
	x->at = now;
	if (w->on_msg)
		w->on_msg(x, w->user);
}

int it_watch_start(it_watch_t *w, const char *client_id, uint16_t port, const char *const *topics)
{
	static const char *const all[] = {"#", NULL};
	w->msgs = calloc(IT_WATCH_MAX, sizeof *w->msgs);
	w->n = 0;
	w->m = w->msgs ? mosquitto_new(client_id, true, w) : NULL;
	if (!w->m)
		goto fail;
	mosquitto_message_callback_set(w->m, on_message);
	if (mosquitto_connect(w->m, "127.0.0.1", port, 30) != MOSQ_ERR_SUCCESS)
		goto fail;
	for (const char *const *t = topics ? topics : all; *t; t++)
		if (mosquitto_subscribe(w->m, NULL, *t, 1) != MOSQ_ERR_SUCCESS)
			goto fail;
	return 0;
fail:
	fprintf(stderr, "watcher %s: cannot connect to 127.0.0.1:%u and subscribe\n", client_id,
	        port);
	it_watch_stop(w);
	return -1;
}

void it_watch_stop(it_watch_t *w)
{
	if (w->m) {
		mosquitto_disconnect(w->m);
		mosquitto_destroy(w->m);
		w->m = NULL;
	}
	for (size_t i = 0; i < w->n; i++)
		free(w->msgs[i].payload);
	free(w->msgs);
	w->msgs = NULL;
	w->n = 0;
}

const char *it_watch_payload(it_watch_t *w, const char *topic)
{
	it_msg_t *x = it_watch_find(w, topic);
	return x ? x->payload : NULL;
}

unsigned it_watch_count(it_watch_t *w, const char *topic)
{
	it_msg_t *x = it_watch_find(w, topic);
	return x ? x->count : 0;
}

void it_watch_pump(it_watch_t *w, int ms)
{
	uint64_t end = blt_now_ms() + (uint64_t)ms;
	while (blt_now_ms() < end)
		mosquitto_loop(w->m, 20, 1);
}

bool it_watch_wait_payload(it_watch_t *w, const char *topic, const char *want, int ms)
{
	uint64_t end = blt_now_ms() + (uint64_t)ms;
	do {
		const char *p = it_watch_payload(w, topic);
		if (p && !strcmp(p, want))
			return true;
		mosquitto_loop(w->m, 50, 1);
	} while (blt_now_ms() < end);
	return false;
}

bool it_watch_state_value(it_watch_t *w, const char *id, const char *key, char *out, size_t cap)
{
	char topic[128];
	const char *doc;
	cJSON *o, *v;
	snprintf(topic, sizeof topic, "bluetti/%s/state", id);
	doc = it_watch_payload(w, topic);
	o = cJSON_Parse(doc ? doc : "");
	v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
	if (!v) {
		cJSON_Delete(o);
		return false;
	}
	if (cJSON_IsString(v))
		snprintf(out, cap, "%s", v->valuestring);
	else if (cJSON_IsNumber(v))
		snprintf(out, cap, "%g", v->valuedouble);
	else
		snprintf(out, cap, "null");
	cJSON_Delete(o);
	return true;
}

bool it_watch_wait_state(it_watch_t *w, const char *id, const char *key, const char *want, int ms)
{
	uint64_t end = blt_now_ms() + (uint64_t)ms;
	char v[128];
	do {
		if (it_watch_state_value(w, id, key, v, sizeof v) &&
		    (!want ? strcmp(v, "null") : !strcmp(v, want)))
			return true;
		mosquitto_loop(w->m, 50, 1);
	} while (blt_now_ms() < end);
	return false;
}
