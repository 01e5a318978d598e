/* bluetti-sim --modbus-tcp: one simulated device behind the firmware's Modbus TCP server
 * (LOCAL.md §1.3-§1.8). The request handler is pure (sim_mbtcp_handle); the server loop
 * below accepts one client at a time, as the firmware does, and owns all socket I/O.
 *
 * Fidelity notes. The map comes from the catalog (blt_tcpmap_*), one row per firmware run;
 * the firmware's table has finer entries (296) inside some runs, so this simulator is
 * stricter than a real unit about one-register reads (they must start a run). A client
 * that works here works there. */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bluetti/bluetti.h>
#include <bluetti/transport.h>

#include "common.h"
#include "mbtcp.h"
#include "sim.h"
#include "say.h"

#define PROG       "bluetti-sim"
#define EXIT_FAIL  1
#define EXIT_USAGE 2

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static mbtcp_action_t reply_pdu(const blt_mbap_t *m, uint16_t tid, const uint8_t *pdu, size_t len,
                                uint8_t *out, size_t cap, size_t *out_len)
{
	return blt_mbap_build(tid, m->unit, pdu, len, out, cap, out_len, NULL) == BLT_OK
	           ? MBTCP_REPLY
	           : MBTCP_SILENT;
}

static mbtcp_action_t exc(const blt_mbap_t *m, uint8_t code, uint8_t *out, size_t cap,
                          size_t *out_len)
{
	uint8_t pdu[2] = {(uint8_t)(m->pdu[0] | 0x80), code};
	return reply_pdu(m, m->tid, pdu, 2, out, cap, out_len);
}

/* Internal address of public address pub, or -1 if unmapped. */
static long to_internal(uint16_t pub, const blt_tcp_run_t **run)
{
	const blt_tcp_run_t *r = blt_tcpmap_find_public(pub);
	if (run)
		*run = r;
	return r ? (long)r->internal + (pub - r->pub) : -1;
}

/* Pass an internal RTU request to the device's own handler (the internal slave) and
 * return its reply PDU (function onwards, CRC dropped) in pdu[]. */
static int internal_request(sim_device_t *dev, const uint8_t *rtu, size_t n, uint8_t *pdu,
                            size_t *pdu_len)
{
	sim_reply_t r;

	if (sim_handle(dev, rtu, n, &r) != SIM_REPLY || r.rtu_len < 4)
		return -1;
	*pdu_len = r.rtu_len - 3;
	memcpy(pdu, r.rtu + 1, *pdu_len);
	return 0;
}

/* --busy-once: the first read and the first write reaching each internal block answer
 * exception 06 (busy), as units do now and then (LOCAL.md §1.5). */
static bool busy_once(sim_device_t *dev, uint16_t reg, bool write)
{
	sim_region_t *r = sim_find_region(dev, reg);
	bool *done;
	if (!dev->opts || !dev->opts->busy_once || !r)
		return false;
	done = write ? &dev->busy_write_done[r - dev->regions] : &dev->busy_done[r - dev->regions];
	if (*done)
		return false;
	*done = true;
	return true;
}

static mbtcp_action_t do_read(sim_device_t *dev, const blt_mbap_t *m, uint8_t *out, size_t cap,
                              size_t *out_len, char *sum, size_t scap)
{
	uint8_t pdu[2 + 2 * BLT_MAX_READ_REGS];
	uint16_t start, count;
	const blt_tcp_run_t *run;

	if (m->pdu_len != 5) {
		snprintf(sum, scap, "read: PDU of %zu bytes -> exception 03", m->pdu_len);
		return exc(m, 3, out, cap, out_len);
	}
	start = be16(m->pdu + 1);
	count = be16(m->pdu + 3);
	if (count == 0) {
		snprintf(sum, scap, "read %u x0 -> exception 03", start);
		return exc(m, 3, out, cap, out_len);
	}
	for (uint32_t k = 0; k < count; k++) {
		if (start + k > 0xFFFF || to_internal((uint16_t)(start + k), NULL) < 0) {
			if (count == 1) {
				snprintf(sum, scap, "read %u x1: unmapped -> exception 02", start);
				return exc(m, 2, out, cap, out_len);
			}
			snprintf(sum, scap, "read %u x%u: %u unmapped -> no reply", start, count,
			         (unsigned)(start + k));
			return MBTCP_SILENT;
		}
	}
	if (count == 1 && (to_internal(start, &run), run->pub != start)) {
		snprintf(sum, scap, "read %u x1: not the start of a map entry -> exception 02",
		         start);
		return exc(m, 2, out, cap, out_len);
	}
	if (count > BLT_MAX_READ_REGS) { /* cannot happen: the longest run is 91 */
		snprintf(sum, scap, "read %u x%u -> no reply", start, count);
		return MBTCP_SILENT;
	}
	if (busy_once(dev, (uint16_t)to_internal(start, NULL), false)) {
		snprintf(sum, scap, "read %u x%u: busy once (--busy-once) -> exception 06", start,
		         count);
		return exc(m, 6, out, cap, out_len);
	}
	pdu[0] = BLT_FC_READ;
	pdu[1] = (uint8_t)(2 * count);
	for (uint16_t k = 0; k < count; k++) {
		uint16_t reg = (uint16_t)to_internal((uint16_t)(start + k), NULL), v;
		if (sim_reg_get(dev, reg, &v) != BLT_OK) {
			/* the internal slave has no such register: its exception passes through */
			snprintf(sum, scap,
			         "read %u x%u: internal %u not implemented -> exception 02", start,
			         count, reg);
			return exc(m, 2, out, cap, out_len);
		}
		put_be16(pdu + 2 + 2 * k, v);
	}
	snprintf(sum, scap, "read %u x%u (internal %ld..) -> %u registers", start, count,
	         to_internal(start, NULL), count);
	return reply_pdu(m, m->tid, pdu, 2 + 2u * count, out, cap, out_len);
}

/* FC06, or FC16 of one register: the single-register path (RO/RW checked, the reply is
 * the internal slave's, naming the internal address). */
static mbtcp_action_t do_write_single(sim_device_t *dev, const blt_mbap_t *m, uint16_t pub,
                                      uint16_t value, uint8_t *out, size_t cap, size_t *out_len,
                                      char *sum, size_t scap)
{
	const blt_tcp_run_t *run;
	long reg = to_internal(pub, &run);
	uint8_t rtu[BLT_RTU_MAX], pdu[BLT_RTU_MAX];
	size_t n, plen;
	int rc;

	if (reg < 0 || !run->writable) {
		snprintf(sum, scap, "write %u = %u: %s -> exception 02", pub, value,
		         reg < 0 ? "unmapped" : "read-only");
		return exc(m, 2, out, cap, out_len);
	}
	if (busy_once(dev, (uint16_t)reg, true)) {
		snprintf(sum, scap, "write %u = %u: busy once (--busy-once) -> exception 06", pub,
		         value);
		return exc(m, 6, out, cap, out_len);
	}
	if (m->pdu[0] == BLT_FC_WRITE1)
		rc = blt_rtu_build_write1(dev->slave, (uint16_t)reg, value, rtu, sizeof rtu, &n);
	else
		rc =
		    blt_rtu_build_writen(dev->slave, (uint16_t)reg, &value, 1, rtu, sizeof rtu, &n);
	if (rc != BLT_OK || internal_request(dev, rtu, n, pdu, &plen) != 0) {
		snprintf(sum, scap, "write %u = %u: internal slave silent -> no reply", pub, value);
		return MBTCP_SILENT;
	}
	snprintf(sum, scap, "write %u = %u -> internal %ld%s", pub, value, reg,
	         (pdu[0] & 0x80) ? " (exception)" : ", echo names the internal register");
	return reply_pdu(m, m->tid, pdu, plen, out, cap, out_len);
}

static mbtcp_action_t do_write_multi(sim_device_t *dev, const blt_mbap_t *m, uint8_t *out,
                                     size_t cap, size_t *out_len, char *sum, size_t scap)
{
	uint16_t start, count, vals[BLT_MAX_WRITE_REGS];
	uint8_t rtu[BLT_RTU_MAX], pdu[BLT_RTU_MAX];
	size_t n, plen = 0;

	if (m->pdu_len < 6 || m->pdu[5] != m->pdu_len - 6 || (m->pdu_len - 6) % 2) {
		snprintf(sum, scap, "write multiple: byte count mismatch -> exception 03");
		return exc(m, 3, out, cap, out_len);
	}
	start = be16(m->pdu + 1);
	count = be16(m->pdu + 3);
	if (count == 0 || count > BLT_MAX_WRITE_REGS || 2u * count != m->pdu_len - 6) {
		snprintf(sum, scap, "write multiple %u x%u -> exception 03", start, count);
		return exc(m, 3, out, cap, out_len);
	}
	if (count == 1)
		return do_write_single(dev, m, start, be16(m->pdu + 6), out, cap, out_len, sum,
		                       scap);
	for (uint32_t k = 0; k < count; k++) {
		if (start + k > 0xFFFF || to_internal((uint16_t)(start + k), NULL) < 0) {
			snprintf(sum, scap, "write %u x%u: %u unmapped -> no reply", start, count,
			         (unsigned)(start + k));
			return MBTCP_SILENT;
		}
		vals[k] = be16(m->pdu + 6 + 2 * k);
	}
	/* one internal write per run of consecutive internal registers */
	for (uint16_t k = 0; k < count;) {
		uint16_t reg = (uint16_t)to_internal((uint16_t)(start + k), NULL), seg = 1;
		while (k + seg < count &&
		       to_internal((uint16_t)(start + k + seg), NULL) == (long)reg + seg)
			seg++;
		if (blt_rtu_build_writen(dev->slave, reg, vals + k, seg, rtu, sizeof rtu, &n) !=
		        BLT_OK ||
		    internal_request(dev, rtu, n, pdu, &plen) != 0 || (pdu[0] & 0x80)) {
			/* the firmware answers a failed internal write with transaction id 0
			 * (LOCAL.md §1.8) */
			uint8_t e[2] = {BLT_FC_WRITEN | 0x80, plen >= 2 ? pdu[1] : 4};
			snprintf(
			    sum, scap,
			    "write %u x%u: internal %u x%u failed -> exception, transaction id 0",
			    start, count, reg, seg);
			return reply_pdu(m, 0, e, 2, out, cap, out_len);
		}
		k = (uint16_t)(k + seg);
	}
	pdu[0] = BLT_FC_WRITEN;
	put_be16(pdu + 1, start);
	put_be16(pdu + 3, count);
	snprintf(sum, scap, "write %u x%u -> ok", start, count);
	return reply_pdu(m, m->tid, pdu, 5, out, cap, out_len);
}

mbtcp_action_t sim_mbtcp_handle(sim_device_t *dev, const uint8_t *adu, size_t n, uint8_t *out,
                                size_t cap, size_t *out_len, char *summary, size_t scap)
{
	blt_mbap_t m;
	blt_detail_t d = {{0}};
	char dummy[8];

	if (!summary || !scap) {
		summary = dummy;
		scap = sizeof dummy;
	}
	summary[0] = '\0';
	if (blt_mbap_parse(adu, n, &m, &d) != BLT_OK || m.adu_len != n) {
		snprintf(summary, scap, "bad ADU: %s", d.text[0] ? d.text : "trailing bytes");
		return MBTCP_CLOSE;
	}
	if (m.unit != 1 && m.unit != 0 && m.unit != 100) {
		snprintf(summary, scap, "unit %u: not this device -> no reply", m.unit);
		return MBTCP_SILENT;
	}
	switch (m.pdu[0]) {
	case BLT_FC_READ: return do_read(dev, &m, out, cap, out_len, summary, scap);
	case BLT_FC_WRITE1:
		if (m.pdu_len != 5) {
			snprintf(summary, scap, "write: PDU of %zu bytes -> exception 03",
			         m.pdu_len);
			return exc(&m, 3, out, cap, out_len);
		}
		return do_write_single(dev, &m, be16(m.pdu + 1), be16(m.pdu + 3), out, cap, out_len,
		                       summary, scap);
	case BLT_FC_WRITEN: return do_write_multi(dev, &m, out, cap, out_len, summary, scap);
	default:
		/* the address is checked first (LOCAL.md §1.8) */
		if (m.pdu_len >= 3 && to_internal(be16(m.pdu + 1), NULL) < 0) {
			snprintf(summary, scap, "function %02x at unmapped %u -> exception 02",
			         m.pdu[0], be16(m.pdu + 1));
			return exc(&m, 2, out, cap, out_len);
		}
		snprintf(summary, scap, "function %02x -> exception 01", m.pdu[0]);
		return exc(&m, 1, out, cap, out_len);
	}
}

/* ---- the server --------------------------------------------------------------------- */

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: " PROG " --modbus-tcp PORT [--bind ADDR] [--profile P] [--sn SN]\n"
	    "                   [--soc PCT] [--seed N] [--fragile N] [--busy-once]\n"
	    "                   [--ready-file F] [-v]\n"
	    "\n"
	    "One simulated device behind the Modbus TCP server of Bluetti's IoT firmware\n"
	    "(LOCAL.md §1): the \"open\" register map 50001-59510 translated onto the internal\n"
	    "registers, one client at a time, no broker needed.\n"
	    "\n"
	    "  --modbus-tcp PORT   listen on PORT (0: any free port; the port is logged and\n"
	    "                      written to --ready-file)\n"
	    "  --bind ADDR         IPv4 address to listen on (default 127.0.0.1)\n"
	    "  --profile P, --sn SN, --soc PCT, --seed N   as for the MQTT device\n"
	    "  --fragile N         after more than N connections within 60 s, stop answering\n"
	    "                      until restarted (the field failure of LOCAL.md §1.5)\n"
	    "  --ready-file F      write the listening port to F once listening\n"
	    "  --busy-once         the first read and the first write reaching each internal\n"
	    "                      block answer exception 06 (busy)\n"
	    "  -v, --verbose       one line per request\n"
	    "  -h, --help          this help\n"
	    "\n"
	    "Behaviour (LOCAL.md §1.3-§1.8): units 1, 0 and 100 answer, others are ignored;\n"
	    "FC03 inside the map answers the internal registers' values; a multi-register\n"
	    "read touching an unmapped address gets no reply (the connection stays up); a\n"
	    "one-register read must start a map run (else exception 02); FC06 to a RW\n"
	    "address writes the internal register and the echo names the internal address;\n"
	    "RO or unmapped writes: exception 02; other function codes: exception 01.\n");
}

enum {
	OPT_TCP = 0x3000,
	OPT_BIND,
	OPT_PROFILE,
	OPT_SN,
	OPT_SOC,
	OPT_SEED,
	OPT_FRAGILE,
	OPT_READY,
	OPT_BUSY_ONCE,
};

static int write_port_file(const char *path, unsigned port)
{
	char tmp[4096];
	FILE *f;

	if (!path)
		return 0;
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%u\n", port) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
		say(0, "--ready-file '%s': %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

typedef struct server {
	int lfd, cfd;
	uint8_t buf[4 * BLT_MBAP_MAX];
	size_t blen;
	uint64_t accepts[64]; /* accept times for --fragile (ring) */
	unsigned naccepts;
	unsigned long fragile;
	int broken; /* fragile limit hit: accept but never answer */
	uint64_t requests, replies, silent;
} server_t;

static void client_close(server_t *s, const char *why)
{
	if (s->cfd >= 0) {
		say(3, "client closed (%s)", why);
		close(s->cfd);
	}
	s->cfd = -1;
	s->blen = 0;
}

static void on_accept(server_t *s)
{
	struct sockaddr_in peer;
	socklen_t pl = sizeof peer;
	int fd = accept(s->lfd, (struct sockaddr *)&peer, &pl), one = 1;
	uint64_t now = blt_now_ms();
	unsigned recent = 0;

	if (fd < 0)
		return;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	s->cfd = fd;
	s->blen = 0;
	s->accepts[s->naccepts++ % 64] = now;
	for (unsigned i = 0; i < 64 && i < s->naccepts; i++)
		if (now - s->accepts[i] <= 60000)
			recent++;
	if (s->fragile && recent > s->fragile && !s->broken) {
		s->broken = 1;
		say(1, "--fragile %lu: %u connections within 60 s; no longer answering", s->fragile,
		    recent);
	}
	say(3, "client %s:%u connected", inet_ntoa(peer.sin_addr), ntohs(peer.sin_port));
}

static void on_data(server_t *s, sim_device_t *dev)
{
	ssize_t r = recv(s->cfd, s->buf + s->blen, sizeof s->buf - s->blen, 0);

	if (r <= 0) {
		client_close(s, r == 0 ? "by the client" : strerror(errno));
		return;
	}
	s->blen += (size_t)r;
	while (s->blen > 0 && s->cfd >= 0) {
		blt_mbap_t m;
		blt_detail_t d = {{0}};
		uint8_t out[BLT_MBAP_MAX];
		size_t olen = 0;
		char sum[200];
		int rc = blt_mbap_parse(s->buf, s->blen, &m, &d);
		mbtcp_action_t act;

		if (rc == BLT_E_SHORT)
			break;
		if (rc != BLT_OK) {
			say(1, "client sent garbage: %s", d.text);
			client_close(s, "unparsable stream");
			return;
		}
		s->requests++;
		act = sim_mbtcp_handle(dev, s->buf, m.adu_len, out, sizeof out, &olen, sum,
		                       sizeof sum);
		if (s->broken)
			act = MBTCP_SILENT;
		say(3, "tid %u unit %u: %s%s", m.tid, m.unit, sum,
		    s->broken ? " [fragile: dead]" : "");
		memmove(s->buf, s->buf + m.adu_len, s->blen - m.adu_len);
		s->blen -= m.adu_len;
		if (act == MBTCP_CLOSE) {
			client_close(s, "bad request");
			return;
		}
		if (act == MBTCP_SILENT) {
			s->silent++;
			continue;
		}
		if (send(s->cfd, out, olen, MSG_NOSIGNAL) != (ssize_t)olen) {
			client_close(s, "send failed");
			return;
		}
		s->replies++;
	}
	if (s->blen == sizeof s->buf) /* cannot happen with valid ADUs (length <= 260) */
		client_close(s, "request too long");
}

static int parse_sn(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 19)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* The options of --modbus-tcp mode. */
typedef struct mb_args {
	const char *bind_addr, *profile, *sn_text, *ready;
	unsigned long port;
} mb_args_t;

/* Parse the options into a, so and srv (--fragile). Returns -1 to go on, else the exit
 * status (0 after --help). */
static int parse_args(int argc, char **argv, mb_args_t *a, sim_opts_t *so, server_t *srv)
{
	static const struct option longopts[] = {
	    {"modbus-tcp", required_argument, NULL, OPT_TCP},
	    {"bind", required_argument, NULL, OPT_BIND},
	    {"profile", required_argument, NULL, OPT_PROFILE},
	    {"sn", required_argument, NULL, OPT_SN},
	    {"soc", required_argument, NULL, OPT_SOC},
	    {"seed", required_argument, NULL, OPT_SEED},
	    {"fragile", required_argument, NULL, OPT_FRAGILE},
	    {"ready-file", required_argument, NULL, OPT_READY},
	    {"busy-once", no_argument, NULL, OPT_BUSY_ONCE},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	unsigned long v;
	int c;

	opterr = 0;
	optind = 1;
	while ((c = cli_getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_TCP:
			if (cli_parse_ulong(optarg, 0, 65535, &a->port)) {
				say(0, "--modbus-tcp '%s': expected a port 0-65535", optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_BIND: a->bind_addr = optarg; break;
		case OPT_PROFILE: a->profile = optarg; break;
		case OPT_SN: a->sn_text = optarg; break;
		case OPT_SOC:
			if (cli_parse_ulong(optarg, 1, 100, &v)) {
				say(0, "--soc '%s': expected 1-100", optarg);
				return EXIT_USAGE;
			}
			so->start_soc = (double)v;
			break;
		case OPT_SEED:
			if (cli_parse_ulong(optarg, 0, 0xFFFFFFFFul, &v)) {
				say(0, "--seed '%s': expected a whole number", optarg);
				return EXIT_USAGE;
			}
			so->seed = (uint32_t)v;
			break;
		case OPT_FRAGILE:
			if (cli_parse_ulong(optarg, 1, 63, &srv->fragile)) {
				say(0, "--fragile '%s': expected 1-63 connections", optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_READY: a->ready = optarg; break;
		case OPT_BUSY_ONCE: so->busy_once = true; break;
		case 'v': say_verbose++; break;
		case 'h': usage(stdout); return 0;
		case ':': say(0, "%s needs an argument", argv[optind - 1]); return EXIT_USAGE;
		default:
			if (cli_getopt_reported)
				return EXIT_USAGE; /* said already */
			/* named by the option only: a value glued to it may be a secret */
			say(0, "unknown option '%.*s' with --modbus-tcp (see --modbus-tcp --help)",
			    (int)strcspn(argv[optind - 1], "="), argv[optind - 1]);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		say(0, "unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	return -1;
}

/* The listening socket on a->bind_addr:a->port in srv->lfd, the bound address in sa.
 * Returns -1 to go on, else the exit status. */
static int open_listener(server_t *srv, const mb_args_t *a, struct sockaddr_in *sa)
{
	socklen_t sl = sizeof *sa;
	int one = 1;

	memset(sa, 0, sizeof *sa);
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)a->port);
	if (inet_pton(AF_INET, a->bind_addr, &sa->sin_addr) != 1) {
		say(0, "--bind '%s': expected an IPv4 address", a->bind_addr);
		return EXIT_USAGE;
	}
	srv->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (srv->lfd < 0 || setsockopt(srv->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
	    bind(srv->lfd, (struct sockaddr *)sa, sizeof *sa) || listen(srv->lfd, 4) ||
	    getsockname(srv->lfd, (struct sockaddr *)sa, &sl)) {
		say(0, "listen on %s:%lu: %s", a->bind_addr, a->port, strerror(errno));
		return EXIT_FAIL;
	}
	return -1;
}

/* Serve one client at a time until SIGINT/SIGTERM; the device ticks once a second. */
static void serve(server_t *srv, sim_device_t *dev)
{
	uint64_t last = blt_now_ms();
	while (!stop_signal) {
		struct pollfd pf;
		uint64_t now;
		/* one client at a time: the listening socket is watched only when idle */
		pf.fd = srv->cfd >= 0 ? srv->cfd : srv->lfd;
		pf.events = POLLIN;
		pf.revents = 0;
		if (poll(&pf, 1, 200) > 0) {
			if (srv->cfd >= 0)
				on_data(srv, dev);
			else
				on_accept(srv);
		}
		now = blt_now_ms();
		if (now - last >= 1000) {
			sim_device_tick(dev, (double)(now - last) / 1000.0);
			last = now;
		}
	}
}

int sim_mbtcp_main(int argc, char **argv)
{
	static sim_device_t dev;
	static server_t srv;
	mb_args_t a = {.bind_addr = "127.0.0.1", .profile = "EL100V2", .sn_text = "2434000112345"};
	sim_opts_t so;
	uint64_t sn;
	struct sockaddr_in sa;
	struct sigaction sig;
	blt_detail_t d = {{0}};
	int rc;

	memset(&so, 0, sizeof so);
	so.slave = -1;
	so.speed = 1.0;
	so.seed = (uint32_t)time(NULL) ^ (uint32_t)getpid() << 16;
	srv.cfd = srv.lfd = -1;
	if ((rc = parse_args(argc, argv, &a, &so, &srv)) >= 0)
		return rc;
	so.profile = blt_profile_find(a.profile);
	if (!so.profile) {
		say(0, "--profile '%s': unknown (see --list-profiles)", a.profile);
		return EXIT_USAGE;
	}
	if (parse_sn(a.sn_text, &sn)) {
		say(0, "--sn '%s': expected 1-19 decimal digits", a.sn_text);
		return EXIT_USAGE;
	}
	rc = sim_device_init(&dev, &so, sn, &d);
	if (rc) {
		say(0, "device: %s: %s", blt_strerror(rc), d.text);
		return EXIT_FAIL;
	}
	if ((rc = open_listener(&srv, &a, &sa)) >= 0)
		return rc;
	memset(&sig, 0, sizeof sig);
	sig.sa_handler = on_signal;
	sigemptyset(&sig.sa_mask);
	sigaction(SIGINT, &sig, NULL);
	sigaction(SIGTERM, &sig, NULL);
	signal(SIGPIPE, SIG_IGN);
	say(2, "%s %s on Modbus TCP %s:%u (unit 1; one client at a time)", so.profile->id, dev.sn,
	    a.bind_addr, ntohs(sa.sin_port));
	if (write_port_file(a.ready, ntohs(sa.sin_port)))
		return EXIT_FAIL;
	serve(&srv, &dev);
	say(2, "signal %d: stopping (%llu requests, %llu replies, %llu unanswered)",
	    (int)stop_signal, (unsigned long long)srv.requests, (unsigned long long)srv.replies,
	    (unsigned long long)srv.silent);
	client_close(&srv, "shutdown");
	close(srv.lfd);
	if (a.ready)
		unlink(a.ready);
	return 0;
}
