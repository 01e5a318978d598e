/* bluetti doctor: walk the whole chain from the configuration to a device's reply, one
 * line per step (PASS / FAIL / SKIP, with a hint), and optionally write the same as a
 * redacted JSON report (--report FILE) a user can attach to a bug report. Steps use the
 * library only (account API, transport facts, client, catalog); nothing secret is printed
 * or written: no password, token, TOTP, PFX, MQTT username; frames have the catalog's
 * secret rows masked. See docs/doctor.md. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <bluetti/bluetti.h>
#include <bluetti/client.h>
#include <bluetti/cloud.h>

#include "account.h"
#include "cli.h"
#include "common.h"
#include "conn.h"
#include "session.h"

#define PROG        "doctor"
#define MAX_STEPS   20
#define MAX_FRAMES  16
#define FRAME_BYTES 300

enum { OPT_REPORT = 0x4000, OPT_HELP, OPT_VERBOSE };
typedef enum { ST_PASS, ST_FAIL, ST_SKIP } st_t;
static const char *const st_name[] = {"PASS", "FAIL", "SKIP"};

typedef struct step {
	const char *key;
	st_t st;
	char detail[400];
	char hint[300];
} step_t;

typedef struct frame {
	bool out;           /* we sent it (as built), else received on the reply topic */
	uint64_t t_ms;      /* since the doctor started */
	size_t len;         /* payload length as seen */
	char envelope[8];   /* "v2", "legacy", "bare", "?" */
	int block;          /* the block read (our request / its matched reply); -1 unknown */
	const char *masked; /* NULL, or why bytes were masked */
	uint8_t bytes[FRAME_BYTES];
	size_t n; /* bytes kept (<= len) */
} frame_t;

typedef struct doctor {
	dev_args_t a;
	const char *report;
	int verbose;
	step_t steps[MAX_STEPS];
	int nsteps;
	frame_t frames[MAX_FRAMES];
	int nframes;
	bool frames_dropped;
	uint64_t t0;
	/* facts for the report */
	bool have_tls, have_pfx;
	blt_transport_info_t tls;
	blt_pfx_info_t pfx;
	char email_masked[128];
	char gateway[512];
	long long skew_ms;
	bool have_skew;
	char reply_topic[256], request_topic[256];
	int cur_block;                   /* block of the read in flight; -1 none */
	uint8_t last_reply[FRAME_BYTES]; /* the validated RTU reply of the last read */
	size_t last_reply_len;
	double rtt_ms[2];
	int nrtt;
} doctor_t;

static void step(doctor_t *x, const char *key, st_t st, const char *hint, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void step(doctor_t *x, const char *key, st_t st, const char *hint, const char *fmt, ...)
{
	step_t *s;
	va_list ap;

	if (x->nsteps >= MAX_STEPS)
		return;
	s = &x->steps[x->nsteps++];
	s->key = key;
	s->st = st;
	va_start(ap, fmt);
	vsnprintf(s->detail, sizeof s->detail, fmt, ap);
	va_end(ap);
	snprintf(s->hint, sizeof s->hint, "%s", hint ? hint : "");
	printf("%s  %-13s %s", st_name[st], key, s->detail);
	if (st != ST_PASS && s->hint[0])
		printf("  [hint: %s]", s->hint);
	printf("\n");
	fflush(stdout);
}

static bool failed(const doctor_t *x)
{
	for (int i = 0; i < x->nsteps; i++)
		if (x->steps[i].st == ST_FAIL)
			return true;
	return false;
}

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: bluetti doctor --sn SN [--profile MODEL | --account] [options]\n\n"
	        "Walk the whole chain and print one line per step (PASS / FAIL / SKIP, with a\n"
	        "hint): configuration and store permissions, TOTP key, gateway, clock skew,\n"
	        "token, device (the account steps need --account, else SKIP), certificate,\n"
	        "broker TCP, TLS handshake, MQTT CONNECT, subscription, reads of blocks 1 and\n"
	        "100, round trip. Exit status 0 only when no step failed.\n\n"
	        "      --report FILE         also write the results as a redacted JSON bundle\n"
	        "                            (new file, mode 0600; frames in hex, secret rows\n"
	        "                            masked; no password, token, TOTP or PFX)\n"
	        "  -v, --verbose             library log on stderr\n\n");
	dev_args_help(out, 0);
	fprintf(out, "\n");
	conn_args_help(out);
}

/* "o***@example.com": enough to recognise an account, not to spam it. */
static void mask_email(const char *e, char *out, size_t cap)
{
	const char *at = strchr(e, '@');
	if (!e[0])
		snprintf(out, cap, "?");
	else if (!at || at == e)
		snprintf(out, cap, "%c***", e[0]);
	else
		snprintf(out, cap, "%c***%s", e[0], at);
}

/* A file holding a secret must be ours and not readable by group/others. */
static bool private_file(const char *path, char *why, size_t cap)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		snprintf(why, cap, "%s: %s", path, strerror(errno));
		return false;
	}
	if (st.st_mode & 077) {
		snprintf(why, cap, "%s is readable by group/others (mode %03o)", path,
		         (unsigned)(st.st_mode & 0777));
		return false;
	}
	return true;
}

/* ---- account steps -------------------------------------------------------------------- */

static void account_steps(doctor_t *x)
{
	char key[BLT_CLOUD_TOTP_KEY_LEN + 1] = "", uid[128];
	blt_cloud_session_t *sess = NULL;
	const blt_cloud_saved_t *s;
	blt_cloud_t *c;
	blt_detail_t d = {{0}};
	int64_t server_ms;
	uint64_t t1;
	int err;

	if (account_session_open(&sess, 15000, &d) != BLT_OK) {
		step(x, "config", ST_FAIL,
		     strstr(d.text, "chmod")       ? "fix the permissions as the message says"
		     : strstr(d.text, "logged in") ? "run `bluetti login` first"
		                                   : "check --api / BLUETTI_API and the CA file",
		     "credential store: %s", d.text);
		goto skip_rest;
	}
	s = blt_cloud_session_saved(sess);
	c = blt_cloud_session_cloud(sess);
	mask_email(s->email, x->email_masked, sizeof x->email_masked);
	step(x, "config", ST_PASS, NULL, "credential store %s (private), logged in as %s",
	     blt_cloud_session_dir(sess), x->email_masked);

	err = blt_cloud_totp_key_load(NULL, key, &d);
	if (err != BLT_OK)
		step(x, "totp-key", ST_FAIL,
		     "set BLUETTI_TOTP_KEY or `totp_key =` in the config file (docs/account.md)",
		     "%s", d.text);
	else
		step(x, "totp-key", ST_PASS, NULL, "%s (%zu characters, not shown)",
		     strcmp(key, BLT_CLOUD_TOTP_KEY_DEFAULT) ? "configured" : "built-in",
		     strlen(key));
	OPENSSL_cleanse(key, sizeof key);

	snprintf(x->gateway, sizeof x->gateway, "%s (%s data centre)", blt_cloud_gateway(c),
	         blt_cloud_region(c));
	t1 = blt_now_ms();
	err = blt_cloud_server_time(c, &server_ms, &d);
	if (err != BLT_OK) {
		step(x, "gateway", ST_FAIL,
		     "check the network; EU accounts use gwde, US gwpry (--api URL)", "%s: %s",
		     x->gateway, d.text);
		goto skip_clock;
	}
	{
		struct timespec now;
		uint64_t rtt = blt_now_ms() - t1;
		clock_gettime(CLOCK_REALTIME, &now);
		/* the server's clock at the midpoint of the request */
		x->skew_ms = (long long)server_ms - ((long long)now.tv_sec * 1000 +
		                                     now.tv_nsec / 1000000 - (long long)rtt / 2);
		x->have_skew = true;
		step(x, "gateway", ST_PASS, NULL, "%s answered in %llu ms", x->gateway,
		     (unsigned long long)rtt);
		if (llabs(x->skew_ms) <= 30000)
			step(x, "clock", ST_PASS, NULL, "local clock %+lld ms from the server's",
			     x->skew_ms);
		else
			step(
			    x, "clock", ST_FAIL,
			    "set the clock (NTP): the MQTT password is a 30 s TOTP and certificate "
			    "validity uses the local clock",
			    "local clock %+lld s from the server's", x->skew_ms / 1000);
	}
	err = blt_cloud_user_id(c, uid, sizeof uid, &d);
	if (err != BLT_OK)
		step(x, "token", ST_FAIL, "run `bluetti login` again", "%s", d.text);
	else
		step(x, "token", ST_PASS, NULL, "accepted by the gateway (saved %lld h ago)",
		     s->saved_at ? (long long)(time(NULL) - s->saved_at) / 3600 : 0LL);
	OPENSSL_cleanse(uid, sizeof uid);
	goto device;

skip_clock:
	step(x, "clock", ST_SKIP, NULL, "no server time");
	step(x, "token", ST_SKIP, NULL, "gateway not reachable");
device:
	blt_cloud_session_close(sess); /* session_account opens its own */
	if (session_account(&x->a, &d) != BLT_OK) {
		step(x, "device", ST_FAIL, "`bluetti devices` lists the account's devices", "%s",
		     d.text);
		return;
	}
	step(x, "device", ST_PASS, NULL, "model %s, topic serial %s, broker %s:%u",
	     x->a.account_model[0] ? x->a.account_model : "?", x->a.sn, x->a.conn.host,
	     x->a.conn.port);
	return;

skip_rest:
	step(x, "totp-key", ST_SKIP, NULL, "no login");
	step(x, "gateway", ST_SKIP, NULL, "no login");
	step(x, "clock", ST_SKIP, NULL, "no login");
	step(x, "token", ST_SKIP, NULL, "no login");
	step(x, "device", ST_SKIP, NULL, "no login");
}

static void local_config_step(doctor_t *x)
{
	char why[600], dir[1024], extra[1100] = "";
	blt_detail_t d = {{0}};
	struct stat st;
	conn_args_t *c = &x->a.conn;

	if (!c->plain) {
		if (!c->cert_file) {
			step(x, "config", ST_FAIL, "give --cert FILE.pfx (or --account)",
			     "no client certificate");
			return;
		}
		if (!private_file(c->cert_file, why, sizeof why)) {
			step(x, "config", ST_FAIL, "chmod 600 the file: it holds the private key",
			     "%s", why);
			return;
		}
		if (c->cert_password_file &&
		    !private_file(c->cert_password_file, why, sizeof why)) {
			step(x, "config", ST_FAIL, "chmod 600 the password file", "%s", why);
			return;
		}
	}
	if (blt_cloud_store_dir(dir, sizeof dir, &d) == BLT_OK && lstat(dir, &st) == 0) {
		if (S_ISLNK(st.st_mode) || (st.st_mode & 077)) {
			step(x, "config", ST_FAIL, "chmod 700 it (it holds the login and the pins)",
			     "state directory %s is not private (mode %03o)", dir,
			     (unsigned)(st.st_mode & 0777));
			return;
		}
		snprintf(extra, sizeof extra, "; state directory %s private", dir);
	}
	if (c->plain)
		step(x, "config", ST_PASS, NULL, "plain MQTT (no TLS)%s", extra);
	else
		step(x, "config", ST_PASS, NULL, "certificate %s private%s", c->cert_file, extra);
	step(x, "totp-key", ST_SKIP, NULL, "account steps need --account");
	step(x, "gateway", ST_SKIP, NULL, "account steps need --account");
	step(x, "clock", ST_SKIP, NULL, "account steps need --account");
	step(x, "token", ST_SKIP, NULL, "account steps need --account");
	step(x, "device", ST_SKIP, NULL, "account steps need --account");
}

/* ---- certificate, TCP, TLS, MQTT -------------------------------------------------------- */

static bool certificate_step(doctor_t *x)
{
	conn_args_t *c = &x->a.conn;
	blt_detail_t d = {{0}};
	int err;

	if (c->plain) {
		step(x, "certificate", ST_SKIP, NULL, "--plain");
		return true;
	}
	if (!c->pfx && (err = cli_read_file(c->cert_file, &c->pfx, &c->pfx_len, &d)) != BLT_OK) {
		step(x, "certificate", ST_FAIL, NULL, "%s", d.text);
		return false;
	}
	if (!c->cert_password &&
	    (err = cli_secret(c->cert_password_file, "BLUETTI_CERT_PASSWORD",
	                      "Certificate (PFX) password: ", &c->cert_password, &d)) != BLT_OK) {
		step(x, "certificate", ST_FAIL, "--cert-password-file F or BLUETTI_CERT_PASSWORD",
		     "password: %s", d.text);
		return false;
	}
	err = blt_tls_pfx_info(c->pfx, c->pfx_len, c->cert_password ? c->cert_password : "",
	                       &x->pfx, &d);
	if (err != BLT_OK) {
		step(x, "certificate", ST_FAIL,
		     err == BLT_E_CERT_PASSWORD ? "wrong PFX password"
		                                : "not a usable PKCS#12 file",
		     "%s", d.text);
		return false;
	}
	x->have_pfx = true;
	const blt_tls_cert_info_t *ci = &x->pfx.cert;
	char cas[300] = "";
	for (int i = 0; i < x->pfx.ca_count && i < BLT_TLS_CHAIN_MAX; i++) {
		size_t l = strlen(cas);
		snprintf(cas + l, sizeof cas - l, "%s%s (%s-%d)", i ? ", " : "",
		         x->pfx.ca[i].subject, x->pfx.ca[i].key_type, x->pfx.ca[i].key_bits);
	}
	if (!x->pfx.valid_now) {
		step(x, "certificate", ST_FAIL, "renew it: `bluetti login` fetches a new one",
		     "%s not valid now (%s .. %s)", ci->subject, x->pfx.not_before, ci->not_after);
		return false;
	}
	step(x, "certificate", ST_PASS, NULL,
	     "%s, %s-%d, %s, valid until %s (%ld days); CA inside: %s", ci->subject, ci->key_type,
	     ci->key_bits, ci->sig_alg, ci->not_after, x->pfx.days_left,
	     x->pfx.ca_count ? cas : "none");
	return true;
}

static bool tcp_step(doctor_t *x)
{
	conn_args_t *c = &x->a.conn;
	struct addrinfo hints, *res = NULL, *ai;
	char port[8], addr[NI_MAXHOST] = "?";
	uint64_t t1 = blt_now_ms();
	int rc, last = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof port, "%u", c->port);
	rc = getaddrinfo(c->host, port, &hints, &res);
	if (rc != 0) {
		step(x, "broker-tcp", ST_FAIL, "check the host name and DNS", "%s: %s", c->host,
		     gai_strerror(rc));
		return false;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		                ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno == EINPROGRESS) {
			struct pollfd p = {.fd = fd, .events = POLLOUT};
			socklen_t l = sizeof last;
			if (poll(&p, 1, 5000) == 1) {
				last = 0;
				getsockopt(fd, SOL_SOCKET, SO_ERROR, &last, &l);
			} else {
				last = ETIMEDOUT;
			}
		} else {
			last = errno == EINPROGRESS ? 0 : (errno ? errno : 0);
		}
		if (!last)
			getnameinfo(ai->ai_addr, ai->ai_addrlen, addr, sizeof addr, NULL, 0,
			            NI_NUMERICHOST);
		close(fd);
		if (!last)
			break;
	}
	freeaddrinfo(res);
	if (!ai) {
		step(x, "broker-tcp", ST_FAIL, "is the broker up, the port right, a firewall open?",
		     "%s:%u: %s", c->host, c->port, strerror(last ? last : ECONNREFUSED));
		return false;
	}
	step(x, "broker-tcp", ST_PASS, NULL, "%s:%u (%s) accepts connections (%llu ms)", c->host,
	     c->port, addr, (unsigned long long)(blt_now_ms() - t1));
	return true;
}

static const char *pin_name(blt_pin_state_t p)
{
	switch (p) {
	case BLT_PIN_OFF: return "off";
	case BLT_PIN_NONE: return "none";
	case BLT_PIN_MATCH: return "match";
	case BLT_PIN_RECORDED: return "recorded";
	case BLT_PIN_MISMATCH: return "MISMATCH";
	case BLT_PIN_ERROR: return "error";
	}
	return "?";
}

static const char *tls_hint(const blt_transport_info_t *i, int err)
{
	if (i->pin_state == BLT_PIN_MISMATCH)
		return "the broker's key changed since it was pinned: if legitimately, remove the "
		       "pin file and run once with --pin-broker";
	if (i->ca_unknown)
		return "give the broker's CA with --ca FILE, or trust its key on first use with "
		       "--pin-broker";
	if (err == BLT_E_HOSTNAME)
		return "--tls-name NAME if the certificate names the broker differently";
	if (strstr(i->verify_text, "too weak") || strstr(i->verify_text, "too small"))
		return "--tls-ciphers 'DEFAULT:@SECLEVEL=0' (the Bluetti cloud preset)";
	return "run with -v for OpenSSL's reasons";
}

static blt_transport_t *connect_steps(doctor_t *x)
{
	conn_args_t *c = &x->a.conn;
	blt_transport_t *t = NULL;
	blt_detail_t d = {{0}};
	char chain[400] = "";
	uint64_t t1;
	int err;

	err = conn_new(c, "bluetti " PROG, true, &t, &d);
	if (err != BLT_OK) {
		step(x, "tls", ST_FAIL,
		     strstr(d.text, "too small") ? "--tls-ciphers 'DEFAULT:@SECLEVEL=0'" : NULL,
		     "%s", d.text[0] ? d.text : blt_strerror(err));
		step(x, "mqtt-connect", ST_SKIP, NULL, "no transport");
		return NULL;
	}
	t1 = blt_now_ms();
	err = blt_transport_connect(t, &d);
	if (blt_transport_info(t, &x->tls) == BLT_OK)
		x->have_tls = x->tls.tls;
	const blt_transport_info_t *i = &x->tls;
	if (c->plain) {
		step(x, "tls", ST_SKIP, NULL, "--plain");
	} else if (!i->handshake_done) {
		step(x, "tls", ST_FAIL, tls_hint(i, err), "%s", d.text);
		step(x, "mqtt-connect", ST_SKIP, NULL, "no TLS session");
		blt_transport_free(t);
		return NULL;
	} else {
		for (int k = 0; k < i->chain_len && k < BLT_TLS_CHAIN_MAX; k++) {
			size_t l = strlen(chain);
			snprintf(chain + l, sizeof chain - l, "%s%s %s-%d %s", k ? " <- " : "",
			         i->chain[k].subject, i->chain[k].key_type, i->chain[k].key_bits,
			         i->chain[k].sig_alg);
		}
		step(x, "tls", ST_PASS, NULL, "%s %s, level %d (%s); chain: %s; %s; pin: %s",
		     i->protocol, i->cipher, i->security_level,
		     i->ciphers[0] ? i->ciphers : "OpenSSL defaults", chain,
		     i->insecure ? "NOT VERIFIED (--insecure)"
		     : i->pin_state == BLT_PIN_MATCH && i->ca_unknown
		         ? "chain CA unknown, key pinned"
		         : "verified",
		     pin_name(i->pin_state));
	}
	if (err != BLT_OK) {
		const char *hint = "the broker closed the connection: is the client certificate "
		                   "one it accepts?";
		if (i->connack == 4 || i->connack == 5)
			hint =
			    "MQTT login refused: with --account check the clock and the TOTP key; "
			    "else --username / --password-file";
		if (i->connack > 0)
			step(x, "mqtt-connect", ST_FAIL, hint, "CONNACK %d: %s", i->connack,
			     d.text);
		else
			step(x, "mqtt-connect", ST_FAIL, hint, "%s", d.text);
		blt_transport_free(t);
		return NULL;
	}
	step(x, "mqtt-connect", ST_PASS, NULL, "CONNACK 0 (accepted) in %llu ms",
	     (unsigned long long)(blt_now_ms() - t1));
	return t;
}

/* ---- frames and reads ------------------------------------------------------------------- */

static frame_t *frame_add(doctor_t *x, bool out, const uint8_t *p, size_t n)
{
	frame_t *f;
	blt_env_info_t ei;

	if (x->nframes >= MAX_FRAMES) {
		x->frames_dropped = true;
		return NULL;
	}
	f = &x->frames[x->nframes++];
	memset(f, 0, sizeof *f);
	f->out = out;
	f->t_ms = blt_now_ms() - x->t0;
	f->len = n;
	f->block = -1;
	f->n = n < FRAME_BYTES ? n : FRAME_BYTES;
	memcpy(f->bytes, p, f->n);
	if (blt_env_unwrap(p, n, &ei, NULL) == BLT_OK)
		snprintf(f->envelope, sizeof f->envelope, "%s", blt_envelope_name(ei.envelope));
	else
		snprintf(f->envelope, sizeof f->envelope, "?");
	return f;
}

/* Every payload on the reply topic, as seen. Replies are masked once matched (below);
 * anything else (another client's reply, a push) may carry any block: its data is hidden. */
static void on_raw(void *user, const char *topic, const uint8_t *payload, size_t len, bool ret)
{
	doctor_t *x = user;
	frame_t *f;
	blt_env_info_t ei;
	(void)topic;
	(void)ret;
	f = frame_add(x, false, payload, len);
	if (!f)
		return;
	f->masked = "data hidden until matched to a request";
	if (blt_env_unwrap(f->bytes, f->n, &ei, NULL) == BLT_OK && ei.rtu_len > 3) {
		size_t off = (size_t)(ei.rtu - f->bytes);
		memset(f->bytes + off + 3, 0xff, f->n - off - 3);
	} else {
		memset(f->bytes, 0xff, f->n);
	}
}

/* Read one block with the client, record the request as built and the matched reply with
 * the catalog's secret rows masked. Returns BLT_OK and the register data. */
static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int read_block(doctor_t *x, blt_client_t *cl, const blt_wire_preset_t *pr, uint16_t id,
                      uint16_t regs, uint8_t *data, size_t *nbytes, double *rtt_ms, blt_detail_t *d)
{
	uint8_t req[16], wrapped[64], reply[FRAME_BYTES];
	size_t req_len = 0, wl = 0, rl = 0;
	uint8_t exc = 0;
	blt_envelope_t env = x->a.envelope >= 0 ? (blt_envelope_t)x->a.envelope : pr->envelope;
	uint8_t slave = (uint8_t)(x->a.slave >= 0 ? x->a.slave : pr->slave);
	int first, err;
	uint64_t t1;

	err = blt_rtu_build_read(slave, id, regs, req, sizeof req, &req_len);
	if (err != BLT_OK)
		return blt_detail_set(d, err, "cannot build the read of block %u", id);
	if (blt_env_wrap(env, id, 0, req, req_len, wrapped, sizeof wrapped, &wl) == BLT_OK) {
		frame_t *f = frame_add(x, true, wrapped, wl);
		if (f)
			f->block = id;
	}
	first = x->nframes;
	t1 = now_us();
	err = blt_client_transact(cl, req, req_len, reply, sizeof reply, &rl, &exc, d);
	*rtt_ms = (double)(now_us() - t1) / 1000.0;
	if (err != BLT_OK)
		return err;
	/* Find the matched reply among what arrived, and show it with secrets masked. */
	size_t nb = rl > 5 ? reply[2] : 0;
	if (nb > rl - 5)
		nb = rl - 5;
	for (int k = first; k < x->nframes; k++) {
		frame_t *f = &x->frames[k];
		blt_env_info_t ei;
		if (f->out || f->block >= 0)
			continue;
		/* the stored copy is already masked: compare with the original length + header */
		if (f->len < rl || f->n < rl)
			continue;
		if (blt_env_unwrap(f->bytes, f->n, &ei, NULL) != BLT_OK || ei.rtu_len != rl ||
		    memcmp(ei.rtu, reply, 3) != 0)
			continue;
		size_t off = (size_t)(ei.rtu - f->bytes);
		uint8_t masked[FRAME_BYTES];
		memcpy(masked, reply, rl);
		blt_mask_secrets(blt_catalog_find(id), masked + 3, nb);
		memcpy(f->bytes + off, masked, rl);
		f->block = id;
		f->masked =
		    memcmp(masked, reply, rl) ? "secret rows masked (ff); CRC then differs" : NULL;
		break;
	}
	memcpy(data, reply + 3, nb);
	*nbytes = nb;
	return BLT_OK;
}

static const char *vstr(const blt_decoded_t *r, const char *name, char *buf, size_t cap)
{
	const blt_value_t *v = blt_decoded_get(r, name);
	if (!v || v->status != BLT_VS_OK)
		return "?";
	if (v->kind == BLT_VK_STR)
		snprintf(buf, cap, "%s", v->str);
	else if (v->str[0])
		snprintf(buf, cap, "%s", v->str);
	else
		snprintf(buf, cap, "%lld", (long long)v->raw);
	return buf;
}

/* The envelope and length of the frame matched for block id, as seen. */
static void seen(const doctor_t *x, uint16_t id, char *out, size_t cap)
{
	snprintf(out, cap, "reply not captured");
	for (int k = 0; k < x->nframes; k++) {
		const frame_t *f = &x->frames[k];
		if (!f->out && f->block == id) {
			snprintf(out, cap, "%zu-byte payload, envelope %s", f->len, f->envelope);
			return;
		}
	}
}

static void device_steps(doctor_t *x, blt_transport_t *t, session_t *s)
{
	blt_detail_t d = {{0}};
	const blt_wire_preset_t *pr = blt_wire_preset_find(s->co.preset ? s->co.preset : "v2");
	uint8_t data[256];
	size_t nb;
	double rtt;
	char b1[80], b2[80], how[320], shorter[200] = "";
	blt_decoded_t *r = malloc(sizeof *r);
	int err;
	static const char *const silent_hint =
	    "device offline, or not this --sn/--model/broker? (`bluetti devices --account` "
	    "shows the online state)";

	if (!r || !pr) {
		step(x, "subscribe", ST_FAIL, NULL, "%s", !r ? "out of memory" : "unknown preset");
		free(r);
		return;
	}
	s->t = t;
	err = blt_client_new(t, &s->co, &s->c, &d);
	if (err == BLT_OK)
		err = blt_client_start(s->c, &d);
	if (err == BLT_OK)
		err =
		    blt_topic_expand(s->co.sub_topic ? s->co.sub_topic : pr->sub_topic, s->co.model,
		                     s->co.sn, x->reply_topic, sizeof x->reply_topic, &d);
	if (err == BLT_OK)
		err =
		    blt_topic_expand(s->co.pub_topic ? s->co.pub_topic : pr->pub_topic, s->co.model,
		                     s->co.sn, x->request_topic, sizeof x->request_topic, &d);
	if (err == BLT_OK)
		err = blt_transport_listen(t, x->reply_topic, on_raw, x, &d);
	if (err != BLT_OK) {
		step(x, "subscribe", ST_FAIL,
		     err == BLT_E_AUTH ? "the broker does not let this login read the topic: "
		                         "right model code and serial?"
		                       : NULL,
		     "%s", d.text);
		step(x, "read-1", ST_SKIP, NULL, "not subscribed");
		step(x, "read-100", ST_SKIP, NULL, "not subscribed");
		step(x, "round-trip", ST_SKIP, NULL, "no reads");
		free(r);
		return;
	}
	step(x, "subscribe", ST_PASS, NULL, "SUBACK for %s (requests go to %s)", x->reply_topic,
	     x->request_topic);

	err = read_block(x, s->c, pr, 1, blt_catalog_find(1)->regs, data, &nb, &rtt, &d);
	shorter[0] = '\0';
	if (err == BLT_OK) {
		x->rtt_ms[x->nrtt++] = rtt;
		blt_decode(blt_catalog_find(1), data, nb, &s->dopts, r, NULL);
		seen(x, 1, how, sizeof how);
		step(x, "read-1", ST_PASS, NULL,
		     "protocol version %s, IoT Modbus version %s; %zu "
		     "register bytes, %s",
		     vstr(r, "protocol_version", b1, sizeof b1),
		     vstr(r, "iot_modbus_version", b2, sizeof b2), nb, how);
	} else {
		step(x, "read-1", ST_FAIL, err == BLT_E_TIMEOUT ? silent_hint : NULL, "%s", d.text);
	}
	{
		const blt_block_t *b100 = blt_catalog_find(100);
		uint16_t asked = blt_profile_block_regs(s->p, b100);

		err = read_block(x, s->c, pr, 100, asked, data, &nb, &rtt, &d);
		if (err == BLT_E_EXCEPTION) {
			/* A unit that refuses the full length (Elite 200 V2, EVIDENCE.md §3) is
			 * read the way `bluetti read` does: the longest length that works. */
			uint64_t t1 = now_us();
			blt_detail_t d2 = {{0}};
			if (blt_client_read_block(s->c, 100, asked, blt_block_core_regs(b100), data,
			                          sizeof data, &nb, NULL, &d2) == BLT_OK) {
				rtt = (double)(now_us() - t1) / 1000.0;
				snprintf(shorter, sizeof shorter,
				         "; refused %u registers (%.100s), answers %zu (found by "
				         "shortening the read)",
				         asked, d.text, nb / 2);
				err = BLT_OK;
			}
		}
	}
	if (err == BLT_OK) {
		x->rtt_ms[x->nrtt++] = rtt;
		blt_decode(blt_catalog_find(100), data, nb, &s->dopts, r, NULL);
		seen(x, 100, how, sizeof how);
		if (shorter[0] && strlen(how) + strlen(shorter) < sizeof how)
			strcat(how, shorter);
		step(x, "read-100", ST_PASS, NULL,
		     "model %s, serial %s as the device reports them; "
		     "%zu register bytes, %s",
		     vstr(r, "device_model", b1, sizeof b1),
		     vstr(r, "device_serial", b2, sizeof b2), nb, how);
	} else {
		step(x, "read-100", ST_FAIL, err == BLT_E_TIMEOUT ? silent_hint : NULL, "%s",
		     d.text);
	}
	if (x->nrtt == 0)
		step(x, "round-trip", ST_SKIP, NULL, "no reply");
	else if (x->nrtt == 1)
		step(x, "round-trip", ST_PASS, NULL, "%.1f ms (one read)", x->rtt_ms[0]);
	else
		step(x, "round-trip", ST_PASS, NULL, "%.1f ms and %.1f ms (publish to reply)",
		     x->rtt_ms[0], x->rtt_ms[1]);
	blt_transport_unlisten_fn(t, x->reply_topic, on_raw, x);
	free(r);
}

/* Which local paths the unit's firmware has and whether they are on (`bluetti local
 * status`, LOCAL.md §4.1): read-only, no credential register. */
static void local_step(doctor_t *x, session_t *s)
{
	char line[480];
	if (!s->c || x->nrtt == 0) {
		step(x, "local-access", ST_SKIP, NULL, "%s",
		     s->c ? "no reply to the reads above" : "no client");
		return;
	}
	if (local_status_line(s, line, sizeof line) != 0)
		step(x, "local-access", ST_SKIP, NULL, "%s", line);
	else
		step(x, "local-access", ST_PASS, NULL, "%s", line);
}

/* ---- the report ------------------------------------------------------------------------ */

static void jstr(FILE *f, const char *k, const char *v, bool comma)
{
	fprintf(f, "\"%s\":", k);
	cli_json_str(f, v ? v : "");
	if (comma)
		fputc(',', f);
}

static void jcert(FILE *f, const blt_tls_cert_info_t *c)
{
	fputc('{', f);
	jstr(f, "subject", c->subject, true);
	jstr(f, "issuer", c->issuer, true);
	jstr(f, "key_type", c->key_type, true);
	fprintf(f, "\"key_bits\":%d,", c->key_bits);
	jstr(f, "signature", c->sig_alg, true);
	jstr(f, "not_after", c->not_after, false);
	fputc('}', f);
}

static int write_report(doctor_t *x, int fd)
{
	FILE *f = fdopen(fd, "w");
	char when[40], hex[2 * FRAME_BYTES + 1];
	time_t now = time(NULL);
	struct tm tm;
	int pass = 0, fail = 0, skip = 0;
	const conn_args_t *c = &x->a.conn;

	if (!f) {
		close(fd);
		return -1;
	}
	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(f, "{\"bluetti_doctor\":1,");
	jstr(f, "version", blt_version(), true);
	jstr(f, "time", when, true);
	fprintf(f, "\"options\":{\"account\":%s,", x->a.account ? "true" : "false");
	if (x->email_masked[0])
		jstr(f, "account_email", x->email_masked, true);
	if (x->gateway[0])
		jstr(f, "gateway", x->gateway, true);
	fprintf(f, "\"broker_host\":");
	cli_json_str(f, c->host);
	fprintf(f, ",\"broker_port\":%u,\"tls\":%s,", c->port, c->plain ? "false" : "true");
	jstr(f, "tls_ciphers", conn_ciphers(c) ? conn_ciphers(c) : "", true);
	jstr(f, "ca", c->ca_file ? c->ca_file : "", true);
	jstr(f, "tls_name", c->tls_name ? c->tls_name : "", true);
	fprintf(f, "\"insecure\":%s,\"pin_broker\":%s,", c->insecure ? "true" : "false",
	        c->pin_broker ? "true" : "false");
	jstr(f, "profile", x->a.profile, true);
	jstr(f, "model", x->a.model ? x->a.model : "", true);
	jstr(f, "sn", x->a.sn, false);
	fprintf(f, "},");
	if (x->have_skew)
		fprintf(f, "\"clock_skew_ms\":%lld,", x->skew_ms);
	fprintf(f, "\"steps\":[");
	for (int i = 0; i < x->nsteps; i++) {
		const step_t *s = &x->steps[i];
		pass += s->st == ST_PASS;
		fail += s->st == ST_FAIL;
		skip += s->st == ST_SKIP;
		fprintf(f, "%s{", i ? "," : "");
		jstr(f, "step", s->key, true);
		jstr(f, "status", st_name[s->st], true);
		jstr(f, "detail", s->detail, true);
		jstr(f, "hint", s->hint, false);
		fputc('}', f);
	}
	fprintf(f, "],");
	if (x->have_pfx) {
		fprintf(f, "\"certificate\":{\"client\":");
		jcert(f, &x->pfx.cert);
		fprintf(f, ",\"days_left\":%ld,\"valid_now\":%s,\"ca_inside\":[", x->pfx.days_left,
		        x->pfx.valid_now ? "true" : "false");
		for (int i = 0; i < x->pfx.ca_count && i < BLT_TLS_CHAIN_MAX; i++) {
			if (i)
				fputc(',', f);
			jcert(f, &x->pfx.ca[i]);
		}
		fprintf(f, "]},");
	}
	if (x->have_tls) {
		const blt_transport_info_t *i = &x->tls;
		fprintf(f, "\"tls\":{\"handshake_done\":%s,", i->handshake_done ? "true" : "false");
		jstr(f, "protocol", i->protocol, true);
		jstr(f, "cipher", i->cipher, true);
		jstr(f, "cipher_string", i->ciphers, true);
		fprintf(f, "\"security_level\":%d,\"insecure\":%s,", i->security_level,
		        i->insecure ? "true" : "false");
		jstr(f, "verify_name", i->verify_name, true);
		fprintf(f, "\"verify_result\":%ld,", i->verify_result);
		jstr(f, "verify_text", i->verify_text, true);
		fprintf(f, "\"ca_unknown\":%s,\"chain\":[", i->ca_unknown ? "true" : "false");
		for (int k = 0; k < i->chain_len && k < BLT_TLS_CHAIN_MAX; k++) {
			if (k)
				fputc(',', f);
			jcert(f, &i->chain[k]);
		}
		fprintf(f, "],");
		jstr(f, "broker_key_sha256", i->spki_sha256, true);
		jstr(f, "pin", pin_name(i->pin_state), true);
		jstr(f, "pinned_sha256", i->pinned, true);
		fprintf(f, "\"connack\":%d},", i->connack);
	}
	fprintf(f, "\"topics\":{");
	jstr(f, "reply", x->reply_topic, true);
	jstr(f, "request", x->request_topic, false);
	fprintf(f, "},\"frames\":[");
	for (int k = 0; k < x->nframes; k++) {
		const frame_t *fr = &x->frames[k];
		blt_hex_encode(fr->bytes, fr->n, hex, sizeof hex);
		fprintf(f, "%s{\"dir\":\"%s\",\"t_ms\":%llu,\"len\":%zu,", k ? "," : "",
		        fr->out ? "out" : "in", (unsigned long long)fr->t_ms, fr->len);
		jstr(f, "envelope", fr->envelope, true);
		if (fr->block >= 0)
			fprintf(f, "\"block\":%d,", fr->block);
		if (fr->masked)
			jstr(f, "masked", fr->masked, true);
		if (fr->n < fr->len)
			fprintf(f, "\"truncated\":true,");
		jstr(f, "hex", hex, false);
		fputc('}', f);
	}
	fprintf(f, "],\"frames_dropped\":%s,", x->frames_dropped ? "true" : "false");
	fprintf(f, "\"summary\":{\"pass\":%d,\"fail\":%d,\"skip\":%d}}\n", pass, fail, skip);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		fclose(f);
		return -1;
	}
	return fclose(f) == 0 ? 0 : -1;
}

/* ---- entry ------------------------------------------------------------------------------ */

static void log_to_stderr(blt_log_level_t level, const char *msg, void *user)
{
	(void)user;
	(void)level;
	fprintf(stderr, "bluetti doctor: %s\n", msg);
}

static int parse(doctor_t *x, int argc, char **argv)
{
	static const struct option opts[] = {
	    DEV_LONG_OPTIONS,
	    {"report", required_argument, NULL, OPT_REPORT},
	    {"verbose", no_argument, NULL, OPT_VERBOSE},
	    {"help", no_argument, NULL, OPT_HELP},
	    {NULL, 0, NULL, 0},
	};
	int c;

	dev_args_init(&x->a, 0);
	optind = 0;
	while ((c = getopt_long(argc, argv, "p:s:vh", opts, NULL)) != -1) {
		int r = dev_args_handle(&x->a, c, optarg, PROG);
		if (r < 0)
			return EXIT_USAGE;
		if (r > 0)
			continue;
		switch (c) {
		case OPT_REPORT: x->report = optarg; break;
		case 'v':
		case OPT_VERBOSE: x->verbose = 1; break;
		case 'h':
		case OPT_HELP: usage(stdout); return -1;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bluetti doctor: unexpected argument '%s'\n", argv[optind]);
		return EXIT_USAGE;
	}
	if (x->a.ble.mbtcp) {
		fprintf(stderr,
		        "bluetti doctor: diagnoses the cloud path only; over Modbus TCP use "
		        "`bluetti check --transport modbus-tcp` (docs/local.md)\n");
		return EXIT_USAGE;
	}
	if (x->a.ble.ble) {
		/* the steps below are the cloud chain (DNS, TCP, TLS, MQTT); not Bluetooth's */
		fprintf(stderr, "bluetti doctor: diagnoses the cloud path only; over Bluetooth use "
		                "`bluetti check --transport ble` (docs/bluetooth.md)\n");
		return EXIT_USAGE;
	}
	return dev_args_require(&x->a, PROG);
}

int cmd_doctor(int argc, char **argv)
{
	doctor_t *x = calloc(1, sizeof *x);
	blt_transport_t *t = NULL;
	session_t s;
	int rc, fd = -1;

	if (!x)
		return EXIT_FAIL;
	x->t0 = blt_now_ms();
	x->cur_block = -1;
	rc = parse(x, argc, argv);
	if (rc) {
		free(x);
		return rc < 0 ? 0 : rc;
	}
	blt_log_set_handler(log_to_stderr, NULL, x->verbose ? BLT_LOG_DEBUG : BLT_LOG_ERROR);
	if (x->report) {
		/* a new file only: never through a link, never over something that exists */
		fd = open(x->report, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			fprintf(stderr, "bluetti doctor: --report %s: %s%s\n", x->report,
			        strerror(errno), errno == EEXIST ? " (give a new file name)" : "");
			free(x);
			return EXIT_FAIL;
		}
	}

	memset(&s, 0, sizeof s);
	if (x->a.account)
		account_steps(x);
	else
		local_config_step(x);
	if (failed(x) && x->a.account && !x->a.account_resolved) {
		/* no broker to talk to without the account */
		static const char *const rest[] = {"certificate",  "broker-tcp", "tls",
		                                   "mqtt-connect", "subscribe",  "read-1",
		                                   "read-100",     "round-trip", "local-access"};
		for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++)
			step(x, rest[i], ST_SKIP, NULL, "needs the account");
		goto done;
	}
	if (session_prepare(&x->a, PROG, &s) != 0) {
		rc = EXIT_USAGE;
		goto done;
	}
	bool cert_ok = certificate_step(x);
	bool tcp_ok = tcp_step(x);
	if (cert_ok && tcp_ok)
		t = connect_steps(x);
	else {
		step(x, "tls", ST_SKIP, NULL, "%s",
		     cert_ok ? "broker not reachable" : "no certificate");
		step(x, "mqtt-connect", ST_SKIP, NULL, "no TLS session");
	}
	if (t) {
		device_steps(x, t, &s);
		local_step(x, &s);
	} else {
		step(x, "subscribe", ST_SKIP, NULL, "not connected");
		step(x, "read-1", ST_SKIP, NULL, "not connected");
		step(x, "read-100", ST_SKIP, NULL, "not connected");
		step(x, "round-trip", ST_SKIP, NULL, "not connected");
		step(x, "local-access", ST_SKIP, NULL, "not connected");
	}

done:
	session_close(&s); /* frees the client and the transport */
	{
		int pass = 0, fail = 0, skip = 0;
		for (int i = 0; i < x->nsteps; i++) {
			pass += x->steps[i].st == ST_PASS;
			fail += x->steps[i].st == ST_FAIL;
			skip += x->steps[i].st == ST_SKIP;
		}
		printf("\ndoctor: %d passed, %d failed, %d skipped%s\n", pass, fail, skip,
		       fail ? "" : " - all steps that ran passed");
	}
	if (fd >= 0) {
		if (write_report(x, fd) != 0) {
			fprintf(stderr, "bluetti doctor: --report %s: write failed\n", x->report);
			rc = EXIT_FAIL;
		} else {
			printf("report: %s (redacted; attach it to a bug report)\n", x->report);
		}
	}
	if (!rc && failed(x))
		rc = EXIT_FAIL;
	conn_args_free(&x->a.conn);
	OPENSSL_cleanse(x, sizeof *x);
	free(x);
	return rc;
}
