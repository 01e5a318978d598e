/* bluetti-bridge commands from Home Assistant (runtime.h). Under abuse (bluetti-bridge(1),
 * "COMMANDS"; docs/reliability.md): a command only records the latest value per setting
 * (coalescing); at most one command runs per loop iteration, devices served in turn, each
 * setting at most once per WRITE_SETTING_MS and each device at most once per
 * WRITE_DEVICE_MS; a value the device already holds (fresh read) is not written. A refused
 * command costs a counter and, at most once per REFUSE_LOG_MS and device, a log line;
 * nothing is published for it. Commands (gated writes) stay blocking and run only while
 * their device has no read in flight; the other devices' replies are still taken. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <bluetti/bluetti.h>
#include <bluetti/control.h>
#include <bluetti/settings.h>

#include "runtime.h"

/* The pending command of d that may run now (its setting's and the device's minimum
 * intervals passed), the oldest-written setting first; NULL if none. */
cmd_listener_t *br_cmd_due(br_dev_t *d, uint64_t now)
{
	cmd_listener_t *best = NULL;
	if (!d->npending || now < d->next_write)
		return NULL;
	for (size_t i = 0; i < d->ncmds; i++) {
		cmd_listener_t *l = &d->cmds[i];
		if (!l->pending || (l->last_run && now < l->last_run + WRITE_SETTING_MS))
			continue;
		if (!best || l->last_run < best->last_run)
			best = l;
	}
	return best;
}

/* A refused or dropped command: counted by the caller; logged at once if this device
 * logged none in the last REFUSE_LOG_MS, else held and summed up in the next line
 * (cmd_log_flush), so a flood costs at most one line per device per interval. */
static void cmd_log(br_dev_t *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void cmd_log(br_dev_t *d, const char *fmt, ...)
{
	uint64_t now = blt_now_ms();
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->cmd_log_last, sizeof d->cmd_log_last, fmt, ap);
	va_end(ap);
	if (now < d->cmd_log_at) {
		d->cmd_log_held++;
		return;
	}
	br_log(BLT_LOG_WARN, "%s: %s", d->cfg->id, d->cmd_log_last);
	d->cmd_log_at = now + REFUSE_LOG_MS;
}

/* The line for the commands held back in the last interval, once it is over. */
void br_cmd_log_flush(br_dev_t *d, uint64_t now)
{
	if (!d->cmd_log_held || now < d->cmd_log_at)
		return;
	br_log(
	    BLT_LOG_WARN, "%s: %llu more command(s) refused or dropped in the last %d s (last: %s)",
	    d->cfg->id, (unsigned long long)d->cmd_log_held, REFUSE_LOG_MS / 1000, d->cmd_log_last);
	d->cmd_log_held = 0;
	d->cmd_log_at = now + REFUSE_LOG_MS;
}

void br_on_command(void *user, const char *topic, const uint8_t *payload, size_t len, bool retained)
{
	cmd_listener_t *l = user;
	br_runtime_t *rt = l->rt;
	br_dev_t *dev = l->dev;
	char text[80];
	int32_t value;
	blt_detail_t d = {{0}};
	(void)topic;
	/* Nothing here publishes or allocates: a refusal costs a counter (and, rate-limited,
	 * a log line); a valid value only replaces the setting's pending one. */
	if (retained) {
		/* A retained command would be replayed at every start: never act on one. */
		dev->cc.refused++;
		cmd_log(dev, "ignoring retained command on %s (publish commands without retain)",
		        l->topic);
		return;
	}
	if (len == 0)
		return; /* someone clearing a retained message: nothing to do */
	if (!br_command_text((const char *)payload, len, text, sizeof text)) {
		dev->cc.refused++;
		cmd_log(dev, "%s: unusable command payload (%zu bytes)", l->setting->name, len);
		return;
	}
	if (blt_setting_parse_value(l->setting, text, &value, &d) != BLT_OK) {
		dev->cc.refused++;
		cmd_log(dev, "%s: '%.24s' refused: %.80s", l->setting->name, text, d.text);
		return;
	}
	dev->cc.received++;
	if (!dev->online) {
		dev->cc.dropped++;
		cmd_log(dev, "%s: command not sent: the device is offline", l->setting->name);
		return;
	}
	/* Coalesce: a newer command for the same setting replaces the pending one. */
	if (l->pending) {
		dev->cc.coalesced++;
	} else {
		l->pending = true;
		dev->npending++;
		rt->npending++;
	}
	l->value = value;
}

static void audit_line(void *user, const blt_audit_rec_t *rec)
{
	(void)user;
	br_log(rec->err ? BLT_LOG_WARN : BLT_LOG_INFO, "audit: %s", rec->line);
}

/* Run one pending command of d (the device has no read in flight): read the setting; if
 * the device already holds the value, stop there; else the gated write. */
static void exec_command(br_dev_t *d, cmd_listener_t *l)
{
	br_runtime_t *rt = d->rt;
	const blt_setting_t *s = l->setting;
	int32_t value = l->value, cur = 0;
	blt_write_opts_t wo;
	blt_write_result_t res;
	blt_detail_t det = {{0}};
	char vtext[64];
	int err;

	l->pending = false;
	d->npending--;
	rt->npending--;
	blt_setting_format_value(s, value, vtext, sizeof vtext);
	if (!d->online) {
		d->cc.dropped++;
		cmd_log(d, "%s = %s not sent: the device is offline", s->name, vtext);
		return;
	}
	err = blt_setting_read(d->client, d->cfg->profile->id, s, &cur, &det);
	if (err == BLT_OK && cur == value) {
		d->cc.skipped++;
		br_log(BLT_LOG_INFO, "%s: %s = %s: the device already holds it; not written",
		       d->cfg->id, s->name, vtext);
		goto done;
	}
	if (err != BLT_OK) {
		d->cc.failed++;
		br_log(BLT_LOG_ERROR,
		       "%s: %s = %s not written: reading the current value failed: "
		       "%s: %s",
		       d->cfg->id, s->name, vtext, blt_strerror(err), det.text);
		if (err == BLT_E_TIMEOUT)
			br_request_failed(d, err, "read before write", det.text);
		goto done;
	}
	memset(&wo, 0, sizeof wo);
	wo.flags = d->cfg->allow_unverified ? BLT_WRITE_ALLOW_UNVERIFIED : 0;
	wo.wire = d->client == d->client_ble && d->client_cloud ? &d->copts_ble : &d->copts;
	wo.verify_reads = 3;
	wo.verify_interval_ms = 500;
	wo.audit = audit_line;
	br_log(BLT_LOG_INFO, "%s: setting %s = %s", d->cfg->id, s->name, vtext);
	err = blt_setting_write(d->client, d->cfg->profile->id, s, value, &wo, &res, &det);
	if (err == BLT_OK) {
		d->fails = 0;
		d->cc.written++;
	} else {
		d->cc.failed++;
		br_log(BLT_LOG_ERROR, "%s: %s = %s failed: %s: %s", d->cfg->id, s->name, vtext,
		       blt_strerror(err), det.text);
		if (err == BLT_E_TIMEOUT)
			br_request_failed(d, err, "write", det.text);
	}
	/* Re-read the setting's block so the state shows what the device now has, and
	 * publish at once; other values (outputs, power) follow with their groups soon. */
	if (d->online)
		br_poll_block(d, s->block);
	for (size_t g = 0; g < d->cfg->profile->ngroups && g < BR_MAX_GROUPS; g++) {
		const blt_group_t *gr = &d->cfg->profile->groups[g];
		if (!d->cfg->interval_s[g])
			continue;
		for (size_t b = 0; b < gr->nblocks; b++)
			if (gr->blocks[b] == 100 && d->due[g] > blt_now_ms() + 1000)
				d->due[g] = blt_now_ms() + 1000;
	}
	br_publish_device(d, false, true);
done:
	/* the intervals count from the end of the work */
	l->last_run = blt_now_ms();
	d->next_write = l->last_run + WRITE_DEVICE_MS;
	rt->next_scan = 0; /* other devices' deadlines passed meanwhile, maybe */
	br_wake(d, blt_now_ms());
}

/* Run at most one due command (bounded work per loop iteration), devices in turn so a
 * flood on one cannot starve the others' commands; false if none could run. */
bool br_run_command(br_runtime_t *rt)
{
	uint64_t now = blt_now_ms();
	for (size_t k = 0; k < rt->ndev; k++) {
		size_t i = (rt->cmd_rr + k) % rt->ndev;
		br_dev_t *d = rt->devs[i];
		cmd_listener_t *l;
		if (!d->npending || !d->client)
			continue;
		br_choose_path(d);
		if (blt_client_busy(d->client) || !blt_transport_connected(br_dev_transport(d)))
			continue;
		if (!(l = br_cmd_due(d, now)))
			continue;
		rt->cmd_rr = i + 1;
		exec_command(d, l);
		return true;
	}
	return false;
}
