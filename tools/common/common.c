/* Helpers shared by the programs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <bluetti/settings.h>

#include "common.h"

int cli_parse_ulong(const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;
	unsigned long v;
	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int cli_profile_opts(const char *profile, blt_decode_opts_t *out)
{
	memset(out, 0, sizeof *out);
	out->pack_voltage_scale = 0.01;
	if (!profile)
		return 0;
	const blt_profile_t *p = blt_profile_find(profile);
	if (!p) {
		fprintf(stderr, "unknown profile '%s' (see `bluetti profiles`)\n", profile);
		return -1;
	}
	blt_profile_decode_opts(p, out);
	return 0;
}

int cli_frame_data(const uint8_t *payload, size_t n, const uint8_t **data, size_t *nbytes,
                   blt_detail_t *d)
{
	blt_env_info_t env;
	blt_rtu_t rtu;
	blt_detail_t sub = {{0}};
	int err = blt_env_unwrap(payload, n, &env, &sub);
	if (err)
		return blt_detail_set(d, err, "bad envelope (%s): %s", blt_strerror(err), sub.text);
	err = blt_rtu_parse(env.rtu, env.rtu_len, BLT_RTU_REPLY, &rtu, &sub);
	if (err == BLT_E_EXCEPTION)
		return blt_detail_set(
		    d, err, "device answered exception %u (%s) to function 0x%02x", rtu.exception,
		    blt_exception_name(rtu.exception), rtu.function & 0x7f);
	if (err)
		return blt_detail_set(d, err, "%s: %s", blt_strerror(err), sub.text);
	if (rtu.function != BLT_FC_READ)
		return blt_detail_set(d, BLT_E_FUNCTION,
		                      "frame is function 0x%02x, not a read reply (0x03)",
		                      rtu.function);
	*data = rtu.data;
	*nbytes = rtu.nbytes;
	return BLT_OK;
}

int cli_print_decoded(const blt_block_t *b, const uint8_t *data, size_t n,
                      const blt_decode_opts_t *opts, int json, int all)
{
	static blt_decoded_t out; /* large; not reentrant, programs are single-threaded */
	blt_detail_t d = {{0}};
	int err = blt_decode(b, data, n, opts, &out, &d);
	if (err && err != BLT_E_MISSING) {
		fprintf(stderr, "error: block %u: %s: %s\n", b->id, blt_strerror(err), d.text);
		return -1;
	}
	if (json)
		blt_format_json(&out, all ? BLT_FMT_ALL : 0, stdout);
	else
		blt_format_text(&out, all ? BLT_FMT_ALL : 0, stdout);
	fflush(stdout);
	if (err == BLT_E_MISSING) {
		fprintf(stderr, "error: block %u truncated: %s\n", b->id, d.text);
		return -1;
	}
	return 0;
}

void cli_json_str(FILE *out, const char *s)
{
	if (!s) {
		fputs("null", out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

int cli_catalog_markdown(FILE *out)
{
	int err = blt_catalog_write_markdown(out);
	if (err)
		fprintf(stderr, "bluetti blocks --markdown: %s\n", blt_strerror(err));
	return err ? -1 : 0;
}

int cli_read_file(const char *path, uint8_t **buf, size_t *len, blt_detail_t *d)
{
	FILE *f = fopen(path, "rb");
	uint8_t *b = NULL;
	size_t n = 0, cap = 0;
	if (!f)
		return blt_detail_set(d, BLT_E_IO, "%s: %s", path, strerror(errno));
	for (;;) {
		if (n + 4096 + 1 > cap) {
			size_t ncap = cap ? cap * 2 : 8192;
			uint8_t *nb;
			if (ncap > (64u << 20)) {
				fclose(f);
				free(b);
				return blt_detail_set(d, BLT_E_IO, "%s: file too large", path);
			}
			nb = realloc(b, ncap);
			if (!nb) {
				fclose(f);
				free(b);
				return blt_detail_set(d, BLT_E_NOMEM, "%s: out of memory", path);
			}
			b = nb;
			cap = ncap;
		}
		size_t r = fread(b + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		fclose(f);
		free(b);
		return blt_detail_set(d, BLT_E_IO, "%s: read error", path);
	}
	fclose(f);
	if (!b) {
		b = malloc(1);
		if (!b)
			return blt_detail_set(d, BLT_E_NOMEM, "out of memory");
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return BLT_OK;
}

static char *prompt_noecho(const char *prompt)
{
	struct termios old, noecho;
	char line[512];
	FILE *tty = fopen("/dev/tty", "r+");
	if (!tty)
		return NULL;
	if (tcgetattr(fileno(tty), &old) != 0) {
		fclose(tty);
		return NULL;
	}
	noecho = old;
	noecho.c_lflag &= ~(tcflag_t)ECHO;
	fprintf(tty, "%s", prompt);
	fflush(tty);
	tcsetattr(fileno(tty), TCSAFLUSH, &noecho);
	char *r = fgets(line, sizeof line, tty);
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fprintf(tty, "\n");
	fclose(tty);
	if (!r)
		return NULL;
	line[strcspn(line, "\r\n")] = '\0';
	char *s = strdup(line);
	OPENSSL_cleanse(line, sizeof line);
	return s;
}

int cli_secret(const char *file, const char *env, const char *prompt, char **out, blt_detail_t *d)
{
	*out = NULL;
	if (file) {
		uint8_t *buf;
		size_t len;
		int err, e;
		errno = 0;
		err = cli_read_file(file, &buf, &len, d);
		e = errno;
		if (err) {
			/* The detail named the path: the argument of a password option is never
			 * echoed (it may be the password itself, given by mistake). */
			return blt_detail_set(d, err, "the password file cannot be read (%s)",
			                      err == BLT_E_NOMEM ? "out of memory"
			                      : e                ? strerror(e)
			                                         : "read error or too large");
		}
		buf[strcspn((char *)buf, "\r\n")] = '\0';
		*out = (char *)buf;
		return BLT_OK;
	}
	if (env && getenv(env)) {
		*out = strdup(getenv(env));
		return *out ? BLT_OK : blt_detail_set(d, BLT_E_NOMEM, "out of memory");
	}
	if (prompt && isatty(STDIN_FILENO))
		*out = prompt_noecho(prompt);
	return BLT_OK;
}

bool cli_option_sensitive(const char *name, size_t len)
{
	static const char *const words[] = {"pass", "secret", "key", "token"};
	for (size_t w = 0; w < sizeof words / sizeof words[0]; w++) {
		size_t wl = strlen(words[w]);
		for (size_t i = 0; i + wl <= len; i++)
			if (!strncasecmp(name + i, words[w], wl))
				return true;
	}
	return false;
}

bool cli_getopt_reported;

/* 0 if argv is acceptable (see cli_getopt_long), else -1 after one line on stderr. */
static int check_long_options(int argc, char *const argv[], const char *shortopts,
                              const struct option *lo)
{
	const char *prog = program_invocation_short_name;
	const char *so = shortopts ? shortopts : "";
	while (*so == '+' || *so == '-' || *so == ':')
		so++;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!a || a[0] != '-' || !a[1])
			continue; /* an operand (getopt permutes) or "-" */
		if (!strcmp(a, "--"))
			break;
		if (a[1] != '-') {
			/* short options: skip the next argument if the last one takes a value */
			for (const char *p = a + 1; *p; p++) {
				const char *o = strchr(so, *p);
				if (!o || *p == ':' || o[1] != ':')
					continue;
				if (o[2] != ':' && !p[1])
					i++;
				break;
			}
			continue;
		}
		const char *name = a + 2, *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);
		const struct option *exact = NULL, *match = NULL;
		size_t nmatch = 0;
		bool sensitive = cli_option_sensitive(name, len);
		for (const struct option *o = lo; o && o->name; o++) {
			if (strlen(o->name) == len && !strncmp(o->name, name, len)) {
				exact = o;
				break;
			}
			if (!strncmp(o->name, name, len)) {
				nmatch++;
				match = o;
				sensitive |= cli_option_sensitive(o->name, strlen(o->name));
			}
		}
		if (exact) {
			if (exact->has_arg == required_argument && !eq)
				i++;
			continue;
		}
		if (nmatch == 1 && !sensitive) {
			if (match->has_arg == required_argument && !eq)
				i++;
			continue; /* an unambiguous abbreviation of a harmless option */
		}
		if (nmatch && sensitive)
			fprintf(stderr,
			        "%s: option '--%.*s' not accepted: options that carry or name a "
			        "secret must be spelled in full (see --help)\n",
			        prog, (int)(len > 64 ? 64 : len), name);
		else
			fprintf(stderr, "%s: %s option '--%.*s' (see --help)\n", prog,
			        nmatch ? "ambiguous" : "unknown", (int)(len > 64 ? 64 : len), name);
		return -1;
	}
	return 0;
}

int cli_getopt_long(int argc, char *const argv[], const char *shortopts,
                    const struct option *longopts, int *longindex)
{
	if (optind <= 1)
		cli_getopt_reported = false;
	if (optind <= 1 && check_long_options(argc, argv, shortopts, longopts) != 0) {
		cli_getopt_reported = true;
		return '?';
	}
	return getopt_long(argc, argv, shortopts, longopts, longindex);
}

void cli_secret_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}
