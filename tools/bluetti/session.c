/* Device options and session setup shared by the device commands (factored out of
 * cmd_read.c; messages unchanged). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bluetti/bluetti.h>
#include <bluetti/client.h>
#include <bluetti/cloud.h>

#include "cli.h"
#include "common.h"
#include "account.h"
#include "session.h"

#include <time.h>

void dev_args_init(dev_args_t *a, int default_retries)
{
	memset(a, 0, sizeof *a);
	conn_args_init(&a->conn);
	ble_args_init(&a->ble);
	a->slave = -1;
	a->envelope = -1;
	a->retries = default_retries;
}

int dev_args_handle(dev_args_t *a, int opt, const char *arg, const char *prog)
{
	unsigned long v;
	char progname[48];
	int r;

	snprintf(progname, sizeof progname, "bluetti %s", prog);
	r = conn_args_handle(&a->conn, opt, arg, progname);
	if (r == 0)
		r = ble_args_handle(&a->ble, opt, arg, progname);
	if (r != 0)
		return r;
	switch (opt) {
	case 'p':
	case DEV_OPT_PROFILE: a->profile = arg; return 1;
	case 's':
	case DEV_OPT_SN: a->sn = arg; return 1;
	case DEV_OPT_MODEL: a->model = arg; return 1;
	case DEV_OPT_PRESET: a->preset = arg; return 1;
	case DEV_OPT_SLAVE:
		if (cli_parse_ulong(arg, 0, 247, &v) != 0) {
			fprintf(stderr, "bluetti %s: --slave must be 0-247\n", prog);
			return -1;
		}
		a->slave = (int)v;
		return 1;
	case DEV_OPT_ENVELOPE: {
		blt_envelope_t e;
		if (blt_envelope_from_name(arg, &e) != BLT_OK) {
			fprintf(stderr, "bluetti %s: --envelope must be bare, legacy or v2\n",
			        prog);
			return -1;
		}
		a->envelope = (int)e;
		return 1;
	}
	case DEV_OPT_SUB_TOPIC: a->sub_topic = arg; return 1;
	case DEV_OPT_PUB_TOPIC: a->pub_topic = arg; return 1;
	case DEV_OPT_TIMEOUT:
		if (cli_parse_ulong(arg, 1, 600000, &v) != 0) {
			fprintf(stderr, "bluetti %s: --timeout must be 1-600000 ms\n", prog);
			return -1;
		}
		a->timeout_ms = (int)v;
		return 1;
	case DEV_OPT_ACCOUNT: a->account = true; return 1;
	case DEV_OPT_RETRIES:
		if (cli_parse_ulong(arg, 0, 10, &v) != 0) {
			fprintf(stderr, "bluetti %s: --retries must be 0-10\n", prog);
			return -1;
		}
		a->retries = (int)v;
		a->retries_set = true;
		return 1;
	}
	return 0;
}

void dev_args_help(FILE *out, int default_retries)
{
	fprintf(
	    out,
	    "device:\n"
	    "  -p, --profile MODEL       device profile (EL30V2, EL100V2, ELITE200V2, AP300,\n"
	    "                            GENERIC); see `bluetti profiles`\n"
	    "  -s, --sn SN               device serial (the topic segment, e.g. the subSn)\n"
	    "      --model CODE          model code in topics (default: the profile's; spaces\n"
	    "                            allowed: --model 'Elite 200 V2')\n"
	    "      --preset NAME         wire preset: v2 (default), seed, ble (set by\n"
	    "                            --transport ble)\n"
	    "      --slave N             override the Modbus slave address\n"
	    "      --envelope E          override the request envelope: bare, legacy, v2\n"
	    "      --sub-topic T         override the reply topic (template: {model} {sn})\n"
	    "      --pub-topic T         override the request topic\n"
	    "      --timeout MS          reply timeout per request (default 5000)\n"
	    "      --retries N           extra attempts after a timeout (default %d)\n"
	    "      --account             use the cached `bluetti login`: broker, certificate,\n"
	    "                            credentials and model come from the account (then\n"
	    "                            --profile is optional and --sn may be the full serial)\n",
	    default_retries);
	ble_args_help(out);
}

int dev_args_require(dev_args_t *a, const char *prog)
{
	char progname[48];
	snprintf(progname, sizeof progname, "bluetti %s", prog);
	if (ble_args_check(&a->ble, progname) != 0)
		return EXIT_USAGE;
	if (!a->sn && (a->ble.ble || a->ble.mbtcp)) /* only a local name on these links */
		a->sn = a->ble.sn_from_address;
	if (a->ble.lmqtt) {
		/* the device's Open MQTT client on the owner's broker (LOCAL.md §2.3): plain MQTT
		 * on 1883 unless told otherwise; QoS 0, so retries are ours */
		if (!a->conn.broker_given || a->account) {
			fprintf(
			    stderr,
			    "bluetti %s: --transport local-mqtt needs --broker HOST[:PORT], the "
			    "broker the device connects to (not --account)\n",
			    prog);
			return EXIT_USAGE;
		}
		if (!a->conn.port_given)
			a->conn.port = 1883;
		if (!a->conn.cert_file)
			a->conn.plain = true;
		if (!a->retries_set && a->retries < 2)
			a->retries = 2;
	}
	if (!a->sn) {
		fprintf(stderr, "bluetti %s: --sn SN is required\n", prog);
		return EXIT_USAGE;
	}
	if (!a->profile && !a->account) {
		fprintf(stderr,
		        "bluetti %s: --profile MODEL is required (see `bluetti profiles`)\n", prog);
		return EXIT_USAGE;
	}
	return 0;
}

int session_account(dev_args_t *a, blt_detail_t *d)
{
	int err = account_connection(a->sn, &a->conn, a->account_model, sizeof a->account_model,
	                             a->account_sn, sizeof a->account_sn, d);
	if (err)
		return err;
	a->conn.cloud = true; /* the account's broker: the Bluetti TLS preset */
	if (!a->model && a->account_model[0])
		a->model = a->account_model;
	if (!a->profile) /* the cloud code's profile (models.c), else the generic one */
		a->profile = blt_profile_for_model(a->model)->id;
	if (a->account_sn[0])
		a->sn = a->account_sn;
	a->account_resolved = true; /* session_prepare does not ask again */
	return BLT_OK;
}

/* --account: fill the connection from the cached login and pick the profile from the
 * account's model code (generic V2 profile for a model we do not know). */
static int account_prepare(dev_args_t *a, const char *prog)
{
	blt_detail_t d = {{0}};
	if (session_account(a, &d) != BLT_OK) {
		fprintf(stderr, "bluetti %s: --account: %s\n", prog, d.text);
		return EXIT_FAIL;
	}
	return 0;
}

int session_prepare(dev_args_t *a, const char *prog, session_t *s)
{
	memset(s, 0, sizeof *s);
	if (a->account && !a->account_resolved) {
		int rc = account_prepare(a, prog);
		if (rc)
			return rc;
	}
	s->p = blt_profile_find(a->profile);
	if (!s->p) {
		fprintf(stderr, "bluetti %s: unknown profile '%s' (see `bluetti profiles`)\n", prog,
		        a->profile);
		return EXIT_USAGE;
	}
	if (!s->p->model && !a->model) {
		fprintf(stderr,
		        "bluetti %s: profile %s needs --model CODE (the model in the "
		        "device's topics)\n",
		        prog, s->p->id);
		return EXIT_USAGE;
	}
	blt_profile_decode_opts(s->p, &s->dopts);
	if (a->model && !blt_topic_model_ok(a->model)) {
		fprintf(stderr,
		        "bluetti %s: model code '%s' is not usable in topics (printable, no '/', "
		        "'+', '#')\n",
		        prog, a->model);
		return EXIT_USAGE;
	}
	if (!blt_topic_segment_ok(a->sn)) {
		fprintf(stderr,
		        "bluetti %s: serial number '%s' is not valid (letters, digits, '.', "
		        "'_', '-' only)\n",
		        prog, a->sn);
		return EXIT_USAGE;
	}
	s->co.model = a->model ? a->model : s->p->model;
	s->co.sn = a->sn;
	s->co.preset = a->preset      ? a->preset
	               : a->ble.ble   ? "ble"
	               : a->ble.mbtcp ? "modbus-tcp"
	               : a->ble.lmqtt ? "local-mqtt"
	                              : s->p->preset;
	s->lmqtt = a->ble.lmqtt || (a->preset && strcmp(a->preset, "local-mqtt") == 0);
	s->mbtcp = a->ble.mbtcp;
	s->co.slave = a->slave;
	s->co.envelope = a->envelope;
	s->co.sub_topic = a->sub_topic;
	s->co.pub_topic = a->pub_topic;
	s->co.timeout_ms = a->timeout_ms;
	s->co.retries = a->retries;
	return 0;
}

int session_connect(dev_args_t *a, const char *prog, session_t *s)
{
	blt_detail_t d = {{0}};
	struct timespec t0, t1;
	char progname[48];
	int err;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	snprintf(progname, sizeof progname, "bluetti %s", prog);
	err = a->ble.ble     ? ble_open(&a->ble, progname, &s->t, &d)
	      : a->ble.mbtcp ? mbtcp_open(&a->ble, progname, &s->t, &d)
	                     : conn_open(&a->conn, progname, &s->t, &d);
	if (err)
		return EXIT_FAIL;
	err = blt_client_new(s->t, &s->co, &s->c, &d);
	if (!err)
		err = blt_client_start(s->c, &d);
	if (err) {
		fprintf(stderr, "bluetti %s: %s: %s\n", prog, blt_strerror(err), d.text);
		return EXIT_FAIL;
	}
	/* known reply lengths: the profile's, then what this device showed in earlier runs */
	if (blt_client_use_profile(s->c, s->p, &d) != BLT_OK)
		blt_log(BLT_LOG_INFO, "profile read lengths: %s", d.text);
	if (session_lens_load(s, &d) != BLT_OK)
		blt_log(BLT_LOG_INFO, "stored read lengths not used: %s", d.text);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s->t_connect_us = (uint64_t)((int64_t)(t1.tv_sec - t0.tv_sec) * 1000000 +
	                             (int64_t)(t1.tv_nsec - t0.tv_nsec) / 1000);
	return 0;
}

void session_close(session_t *s)
{
	blt_detail_t d = {{0}};
	if (s->c && s->lens_loaded && blt_client_read_lens_gen(s->c) != s->lens_gen &&
	    session_lens_save(s, &d) != BLT_OK)
		blt_log(BLT_LOG_WARN, "read lengths learned from %s not saved: %s", s->co.sn,
		        d.text);
	blt_client_free(s->c);
	if (s->t) {
		blt_transport_disconnect(s->t);
		blt_transport_free(s->t);
	}
	s->c = NULL;
	s->t = NULL;
}

/* ---- read lengths kept between runs ---------------------------------------------------- */

#define LENS_FILE     "read-lengths"
#define LENS_FILE_MAX (256u * 1024u)
#define LENS_MAX      64

int session_lens_path(char *out, size_t cap, blt_detail_t *d)
{
	char dir[900];
	int rc = blt_cloud_store_dir(dir, sizeof dir, d);
	if (rc != BLT_OK)
		return rc;
	if ((size_t)snprintf(out, cap, "%s/%s", dir, LENS_FILE) >= cap)
		return blt_detail_set(d, BLT_E_BUFSIZE, "state path too long");
	return BLT_OK;
}

/* The whole file (NUL-terminated, malloc'd) or NULL with *len 0 if there is none. */
static int lens_read(const char *path, char **out, blt_detail_t *d)
{
	struct stat st;
	char *buf;
	size_t n = 0;
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	*out = NULL;
	if (fd < 0) {
		if (errno == ENOENT)
			return BLT_OK;
		return blt_detail_set(d, BLT_E_IO, "%s: %s", path,
		                      errno == ELOOP ? "a symbolic link" : strerror(errno));
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (uint64_t)st.st_size > LENS_FILE_MAX) {
		close(fd);
		return blt_detail_set(d, BLT_E_CONFIG,
		                      "%s is not a regular file of ours under %u KiB", path,
		                      LENS_FILE_MAX / 1024u);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return blt_detail_set(d, BLT_E_NOMEM, "out of memory");
	}
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	*out = buf;
	return BLT_OK;
}

/* One line: serial and the fact, or false if it is not one (comments, other formats). */
static bool lens_parse(const char *line, char *sn, size_t sncap, blt_read_len_t *l)
{
	unsigned v[7];
	char serial[80];
	if (sscanf(line, "%79s %u %u %u %u %u %u %u", serial, &v[0], &v[1], &v[2], &v[3], &v[4],
	           &v[5], &v[6]) != 8 ||
	    serial[0] == '#')
		return false;
	for (int i = 0; i < 7; i++)
		if (v[i] > 65535)
			return false;
	memset(l, 0, sizeof *l);
	l->start = (uint16_t)v[0];
	l->asked = (uint16_t)v[1];
	l->ok = (uint16_t)v[2];
	l->refused = (uint16_t)v[3];
	l->reply = (uint16_t)v[4];
	l->reply_to = (uint16_t)v[5];
	l->requests = (uint16_t)v[6];
	l->origin = BLT_RL_STORED;
	snprintf(sn, sncap, "%s", serial);
	return true;
}

int session_lens_load(session_t *s, blt_detail_t *d)
{
	char path[1000], *buf = NULL;
	int rc, bad = 0;
	s->lens_loaded = true; /* even without a file: what is learned now gets saved */
	s->lens_gen = blt_client_read_lens_gen(s->c);
	if ((rc = session_lens_path(path, sizeof path, d)) != BLT_OK ||
	    (rc = lens_read(path, &buf, d)) != BLT_OK || !buf)
		return rc;
	for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char sn[80];
		blt_read_len_t l;
		blt_detail_t sub = {{0}};
		if (!lens_parse(line, sn, sizeof sn, &l) || strcmp(sn, s->co.sn) != 0)
			continue;
		if (blt_client_read_len_set(s->c, &l, &sub) != BLT_OK)
			bad++;
		else
			blt_log(BLT_LOG_INFO,
			        "block %u: stored read lengths of %s: accepted %u, refused %u, "
			        "reply %u of %u",
			        l.start, sn, l.ok, l.refused, l.reply, l.reply_to);
	}
	free(buf);
	s->lens_gen = blt_client_read_lens_gen(s->c);
	if (bad)
		return blt_detail_set(d, BLT_E_RANGE, "%s: %d unusable lines for %s", path, bad,
		                      s->co.sn);
	return BLT_OK;
}

int session_lens_save(session_t *s, blt_detail_t *d)
{
	char path[1000], tmp[1100], dir[900], *old = NULL;
	blt_read_len_t lens[LENS_MAX];
	size_t n = blt_client_read_lens(s->c, lens, LENS_MAX);
	FILE *f;
	int rc, fd;

	if ((rc = blt_cloud_store_dir(dir, sizeof dir, d)) != BLT_OK ||
	    (rc = session_lens_path(path, sizeof path, d)) != BLT_OK)
		return rc;
	/* the state directory as `bluetti login` makes it: 0700, parents too */
	for (char *p = dir + 1;; p++) {
		if (*p == '/' || !*p) {
			char c = *p;
			*p = '\0';
			if (mkdir(dir, 0700) != 0 && errno != EEXIST)
				return blt_detail_set(d, BLT_E_IO, "cannot create %s: %s", dir,
				                      strerror(errno));
			*p = c;
			if (!c)
				break;
		}
	}
	if ((rc = lens_read(path, &old, d)) != BLT_OK)
		return rc;
	snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		free(old);
		return blt_detail_set(d, BLT_E_IO, "cannot create %s: %s", tmp, strerror(e));
	}
	fprintf(f, "# bluetti: read lengths learned per device (serial start asked accepted "
	           "refused reply reply_to requests)\n");
	/* other devices' lines stay as they were */
	for (char *save = NULL, *line = old ? strtok_r(old, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char sn[80];
		blt_read_len_t l;
		if (lens_parse(line, sn, sizeof sn, &l) && strcmp(sn, s->co.sn) != 0)
			fprintf(f, "%s\n", line);
	}
	free(old);
	for (size_t i = 0; i < n && i < LENS_MAX; i++) {
		const blt_read_len_t *l = &lens[i];
		if (l->origin == BLT_RL_PROFILE)
			continue; /* the profile says it every time */
		if (!l->ok && !l->reply)
			continue; /* nothing that helps the next run */
		fprintf(f, "%s %u %u %u %u %u %u %u\n", s->co.sn, l->start, l->asked, l->ok,
		        l->refused, l->reply, l->reply_to, l->requests);
	}
	{
		bool werr = fflush(f) != 0 || fsync(fileno(f)) != 0;
		int e = errno;
		if (fclose(f) != 0 && !werr) {
			werr = true;
			e = errno;
		}
		if (!werr && rename(tmp, path) != 0) {
			werr = true;
			e = errno;
		}
		if (werr) {
			unlink(tmp);
			return blt_detail_set(d, BLT_E_IO, "cannot write %s: %s", path,
			                      strerror(e));
		}
	}
	s->lens_gen = blt_client_read_lens_gen(s->c);
	return BLT_OK;
}
