/* libFuzzer harness for the simulator's device side (tools/bluetti-sim: handle.c, regs.c,
 * model.c compiled in): a simulated device parses untrusted requests too. Each input is a
 * session with one device in the state sim_device_init leaves it:
 *   byte 0: profile (low 4 bits, modulo the profile count), 0x10 short replies,
 *           0x20 refuse writes, 0x40 ignore writes;
 *   then records [flags][len][len bytes]: flags bit 0 = the bytes are a whole MQTT payload
 *   (any envelope, any CRC); else an RTU frame without its CRC, which the harness
 *   completes and wraps in the envelope of bits 1-2, so mutations reach the handler;
 *   flags bit 7 = tick the physical model after the request (so written settings reach
 *   the model; at most MAX_TICKS per input: a tick re-encodes every block).
 * Checks: a reply is a well-formed reply frame (parses, right CRC) for the device's slave
 * that matches the request it answers (or is an exception), never longer than an RTU
 * frame; a request that is not a valid frame for this slave gets no answer; the summary
 * line is terminated; the counters add up. Aborts on any broken property; ASan/UBSan
 * catch the rest. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <bluetti/bluetti.h>

#include "sim.h"

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

#define MAX_PROFILES 16
#define MAX_REQUESTS 16
#define MAX_TICKS    1

/* One pristine device per profile, built once (sim_device_init encodes every block). */
static sim_device_t pristine[MAX_PROFILES];
static sim_opts_t popts[MAX_PROFILES];
static bool ready[MAX_PROFILES];
static size_t nprofiles;
static sim_device_t dev; /* the working copy */
static sim_opts_t opts;

static bool setup(size_t i)
{
	blt_detail_t d = {{0}};
	if (ready[i])
		return true;
	memset(&popts[i], 0, sizeof popts[i]);
	popts[i].profile = blt_profile_at(i);
	popts[i].slave = -1;
	popts[i].speed = 60.0;
	popts[i].seed = 42;
	if (sim_device_init(&pristine[i], &popts[i], 2434000112345ull, &d) != BLT_OK)
		return false;
	ready[i] = true;
	return true;
}

/* Copy the pristine device; region pointers point into the copy's own arena. */
static void fresh(size_t i)
{
	memcpy(&dev, &pristine[i], sizeof dev);
	for (size_t r = 0; r < dev.nregions; r++)
		dev.regions[r].bytes =
		    dev.arena + (pristine[i].regions[r].bytes - pristine[i].arena);
	opts = popts[i];
	dev.opts = &opts;
}

static void check_reply(const uint8_t *payload, size_t n, sim_action_t act, const sim_reply_t *out)
{
	blt_env_info_t env;
	blt_rtu_t req, rep;
	int qrc, rrc, mrc;

	CHECK(memchr(out->summary, '\0', sizeof out->summary) != NULL);
	CHECK(act == SIM_IGNORE || act == SIM_REPLY);
	qrc = blt_env_unwrap(payload, n, &env, NULL);
	if (qrc == BLT_OK)
		qrc = blt_rtu_parse(env.rtu, env.rtu_len, BLT_RTU_REQUEST, &req, NULL);
	if (act == SIM_IGNORE)
		return;
	CHECK(out->rtu_len >= 5 && out->rtu_len <= BLT_RTU_MAX);
	rrc = blt_rtu_parse(out->rtu, out->rtu_len, BLT_RTU_REPLY, &rep, NULL);
	CHECK(rrc == BLT_OK || rrc == BLT_E_EXCEPTION);
	CHECK(rep.slave == dev.slave);
	if (qrc == BLT_OK) {
		/* a valid request for us: the reply answers exactly it */
		CHECK(req.slave == dev.slave);
		mrc = blt_rtu_match(&req, &rep, NULL);
		CHECK(mrc == BLT_OK || (mrc == BLT_E_EXCEPTION && rrc == BLT_E_EXCEPTION));
	} else {
		/* only a structurally good request with a bad function or count is answered,
		 * and then with an exception */
		CHECK(rrc == BLT_E_EXCEPTION);
		CHECK(rep.exception == 1 || rep.exception == 3);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static sim_reply_t out;
	size_t p, i, nreq = 0, ticks = 0;
	uint64_t replies = 0, before;

	if (size < 1)
		return 0;
	if (!nprofiles) {
		nprofiles = blt_profile_count();
		if (nprofiles > MAX_PROFILES)
			nprofiles = MAX_PROFILES;
		if (!nprofiles)
			return 0;
	}
	i = (data[0] & 0x0f) % nprofiles;
	if (!setup(i))
		return 0;
	fresh(i);
	opts.short_replies = (data[0] & 0x10) != 0;
	opts.refuse_writes = (data[0] & 0x20) != 0;
	opts.ignore_writes = (data[0] & 0x40) != 0;
	before = dev.requests;

	for (p = 1; p + 2 <= size && nreq < MAX_REQUESTS; nreq++) {
		uint8_t flags = data[p], payload[BLT_PAYLOAD_MAX];
		size_t len = data[p + 1], n = 0;
		const uint8_t *rec = data + p + 2;
		sim_action_t act;
		if (len > size - p - 2)
			len = size - p - 2;
		p += 2 + len;
		if (flags & 1) {
			act = sim_handle(&dev, rec, len, &out);
			check_reply(rec, len, act, &out);
		} else {
			uint8_t rtu[BLT_RTU_MAX];
			uint16_t crc;
			blt_envelope_t env = (blt_envelope_t)((flags >> 1) % 3);
			if (len + 2 > sizeof rtu)
				continue;
			memcpy(rtu, rec, len);
			crc = blt_crc16(rtu, len);
			rtu[len] = (uint8_t)(crc & 0xff);
			rtu[len + 1] = (uint8_t)(crc >> 8);
			if (blt_env_wrap(env, 0, 0, rtu, len + 2, payload, sizeof payload, &n) !=
			    BLT_OK)
				continue;
			act = sim_handle(&dev, payload, n, &out);
			check_reply(payload, n, act, &out);
		}
		if (act == SIM_REPLY)
			replies++;
		if ((flags & 0x80) && ticks++ < MAX_TICKS)
			sim_device_tick(&dev, 1.0);
	}
	CHECK(dev.requests - before <= nreq);
	CHECK(replies <= dev.requests - before);
	return 0;
}
