/* Credential store: $XDG_STATE_HOME/bluetti (default ~/.local/state/bluetti), a 0700
 * directory with 0600 files: session (key=value lines), client.pfx, client.pass.
 * Everything is opened with O_NOFOLLOW and checked with fstat: not ours, a symlink, or
 * readable by group/others is refused with the chmod that fixes it. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include <bluetti/cloud.h>

#include "cloud/cloud_internal.h"
#include "core/core_internal.h"

#define F_SESSION      "session"
#define F_PFX          "client.pfx"
#define F_PASS         "client.pass"
#define STORE_FILE_MAX (1u << 20)

blt_err_t blt_cloud_store_dir(char *out, size_t cap, blt_detail_t *d)
{
	const char *x = getenv("XDG_STATE_HOME"), *h = getenv("HOME");
	int n;
	/* XDG: a relative XDG_STATE_HOME is invalid and must be ignored */
	if (x && x[0] == '/')
		n = snprintf(out, cap, "%s/bluetti", x);
	else if (h && h[0])
		n = snprintf(out, cap, "%s/.local/state/bluetti", h);
	else
		return blt_detail_set(d, BLT_E_CONFIG,
		                      "neither XDG_STATE_HOME nor HOME is set: no place for the "
		                      "credential store");
	if (n < 0 || (size_t)n >= cap)
		return blt_detail_set(d, BLT_E_BUFSIZE, "credential store path too long");
	return BLT_OK;
}

static int check_mode(const struct stat *st, const char *path, bool dir, blt_detail_t *d)
{
	if (dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode))
		return blt_detail_set(d, BLT_E_CONFIG, "%s is not a %s", path,
		                      dir ? "directory" : "regular file");
	if (st->st_uid != geteuid())
		return blt_detail_set(d, BLT_E_CONFIG,
		                      "%s belongs to another user (uid %u); refusing to use it",
		                      path, (unsigned)st->st_uid);
	if (st->st_mode & 077)
		return blt_detail_set(d, BLT_E_CONFIG,
		                      "%s is accessible by group/others (mode %03o); refusing to "
		                      "use it: run `chmod %s %s` (or `bluetti logout`)",
		                      path, (unsigned)(st->st_mode & 0777), dir ? "700" : "600",
		                      path);
	return BLT_OK;
}

static int check_dir(const char *dir, blt_detail_t *d)
{
	struct stat st;
	if (lstat(dir, &st) != 0) {
		if (errno == ENOENT)
			return blt_detail_set(
			    d, BLT_E_NOT_FOUND,
			    "not logged in (no credential store %s): run `bluetti "
			    "login`",
			    dir);
		return blt_detail_set(d, BLT_E_IO, "%s: %s", dir, strerror(errno));
	}
	if (S_ISLNK(st.st_mode))
		return blt_detail_set(d, BLT_E_CONFIG, "%s is a symbolic link; refusing to use it",
		                      dir);
	return check_mode(&st, dir, true, d);
}

/* mkdir -p; the last component 0700, parents 0700 too (XDG says so for ~/.local/state). */
static int make_dir(const char *dir, blt_detail_t *d)
{
	char err[1200];
	if (blt_mkdir_private(dir, err, sizeof err) != 0)
		return blt_detail_set(d, BLT_E_IO, "store directory: %s", err);
	return check_dir(dir, d);
}

static int write_file(const char *dir, const char *name, const void *buf, size_t n, blt_detail_t *d)
{
	char path[1100], tmp[1200];
	int fd;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	snprintf(tmp, sizeof tmp, "%s/.%s.tmp%ld", dir, name, (long)getpid());
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return blt_detail_set(d, BLT_E_IO, "cannot create %s: %s", tmp, strerror(errno));
	if (fchmod(fd, 0600) != 0)
		goto fail;
	for (size_t off = 0; off < n;) {
		ssize_t w = write(fd, (const char *)buf + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		off += (size_t)w;
	}
	if (fsync(fd) != 0)
		goto fail;
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	if (rename(tmp, path) != 0) {
		fd = -1;
		goto fail;
	}
	return BLT_OK;
fail : {
	int e = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return blt_detail_set(d, BLT_E_IO, "cannot write %s: %s", path, strerror(e));
}
}

/* Read a whole store file (checked); *out malloc'd + NUL-terminated. */
static int read_file(const char *dir, const char *name, uint8_t **out, size_t *len, blt_detail_t *d)
{
	char path[1100];
	struct stat st;
	uint8_t *b;
	int fd, err;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return blt_detail_set(d, BLT_E_NOT_FOUND,
			                      "not logged in (%s missing): run `bluetti login`",
			                      path);
		if (errno == ELOOP)
			return blt_detail_set(d, BLT_E_CONFIG,
			                      "%s is a symbolic link; refusing to use it", path);
		return blt_detail_set(d, BLT_E_IO, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, &st) != 0) {
		close(fd);
		return blt_detail_set(d, BLT_E_IO, "%s: %s", path, strerror(errno));
	}
	if ((err = check_mode(&st, path, false, d)) != BLT_OK) {
		close(fd);
		return err;
	}
	if ((uint64_t)st.st_size > STORE_FILE_MAX) {
		close(fd);
		return blt_detail_set(d, BLT_E_CONFIG, "%s is too large", path);
	}
	b = malloc((size_t)st.st_size + 1);
	if (!b) {
		close(fd);
		return blt_detail_set(d, BLT_E_NOMEM, "out of memory");
	}
	size_t n = 0;
	while (n < (size_t)st.st_size) {
		ssize_t r = read(fd, b + n, (size_t)st.st_size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (n != (size_t)st.st_size) {
		blt_cloud_secret_free(b, (size_t)st.st_size + 1);
		return blt_detail_set(d, BLT_E_IO, "%s: short read", path);
	}
	b[n] = 0;
	*out = b;
	*len = n;
	return BLT_OK;
}

static bool clean_value(const char *s)
{
	return !strpbrk(s, "\r\n");
}

blt_err_t blt_cloud_store_save(const char *dir, const blt_cloud_saved_t *s, const uint8_t *pfx,
                               size_t pfx_len, const char *pfx_password, blt_detail_t *d)
{
	char buf[8192];
	int n, err;
	if (!dir || !s)
		return blt_detail_set(d, BLT_E_INVAL, "store_save: NULL argument");
	if (!clean_value(s->email) || !clean_value(s->token) || !clean_value(s->uid) ||
	    !clean_value(s->device_id) || !clean_value(s->api) || !clean_value(s->api_pry) ||
	    !clean_value(s->api_ca) || !clean_value(s->region) || !clean_value(s->api_dc) ||
	    (pfx_password && !clean_value(pfx_password)))
		return blt_detail_set(d, BLT_E_INVAL, "store_save: a value contains a line break");
	if ((err = make_dir(dir, d)) != BLT_OK)
		return err;
	n = snprintf(buf, sizeof buf,
	             "# bluetti-c credential store (secret: keep 0600)\n"
	             "email=%s\ntoken=%s\nuid=%s\ndevice_id=%s\napi=%s\napi_pry=%s\napi_ca=%s\n"
	             "region=%s\napi_dc=%s\nsaved_at=%" PRId64 "\nttl=%ld\n",
	             s->email, s->token, s->uid, s->device_id, s->api, s->api_pry, s->api_ca,
	             s->region, s->api_dc, s->saved_at ? s->saved_at : (int64_t)time(NULL), s->ttl);
	if (n < 0 || (size_t)n >= sizeof buf)
		return blt_detail_set(d, BLT_E_BUFSIZE, "session too large");
	if (pfx) {
		if (!pfx_password)
			return blt_detail_set(d, BLT_E_INVAL, "store_save: PFX without password");
		if ((err = write_file(dir, F_PFX, pfx, pfx_len, d)) != BLT_OK ||
		    (err = write_file(dir, F_PASS, pfx_password, strlen(pfx_password), d)) !=
		        BLT_OK)
			goto out;
	}
	err = write_file(dir, F_SESSION, buf, (size_t)n, d);
out:
	OPENSSL_cleanse(buf, sizeof buf);
	return err;
}

static void set_field(char *dst, size_t cap, const char *v, bool *ok)
{
	if (strlen(v) + 1 > cap)
		*ok = false;
	else
		memcpy(dst, v, strlen(v) + 1);
}

blt_err_t blt_cloud_store_load(const char *dir, blt_cloud_saved_t *s, uint8_t **pfx,
                               size_t *pfx_len, char **pfx_password, blt_detail_t *d)
{
	uint8_t *b = NULL, *pb = NULL, *pw = NULL;
	size_t n = 0, pn = 0, pwn = 0;
	int err;
	bool ok = true;
	if (!dir || !s)
		return blt_detail_set(d, BLT_E_INVAL, "store_load: NULL argument");
	memset(s, 0, sizeof *s);
	if (pfx)
		*pfx = NULL;
	if (pfx_password)
		*pfx_password = NULL;
	if ((err = check_dir(dir, d)) != BLT_OK)
		return err;
	if ((err = read_file(dir, F_SESSION, &b, &n, d)) != BLT_OK)
		return err;
	for (char *save = NULL, *line = strtok_r((char *)b, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');
		if (line[0] == '#' || !eq)
			continue;
		*eq = '\0';
		const char *k = line, *v = eq + 1;
		if (!strcmp(k, "email"))
			set_field(s->email, sizeof s->email, v, &ok);
		else if (!strcmp(k, "token"))
			set_field(s->token, sizeof s->token, v, &ok);
		else if (!strcmp(k, "uid"))
			set_field(s->uid, sizeof s->uid, v, &ok);
		else if (!strcmp(k, "device_id"))
			set_field(s->device_id, sizeof s->device_id, v, &ok);
		else if (!strcmp(k, "api"))
			set_field(s->api, sizeof s->api, v, &ok);
		else if (!strcmp(k, "api_pry"))
			set_field(s->api_pry, sizeof s->api_pry, v, &ok);
		else if (!strcmp(k, "api_ca"))
			set_field(s->api_ca, sizeof s->api_ca, v, &ok);
		else if (!strcmp(k, "region"))
			set_field(s->region, sizeof s->region, v, &ok);
		else if (!strcmp(k, "api_dc"))
			set_field(s->api_dc, sizeof s->api_dc, v, &ok);
		else if (!strcmp(k, "saved_at"))
			s->saved_at = strtoll(v, NULL, 10);
		else if (!strcmp(k, "ttl"))
			s->ttl = strtol(v, NULL, 10);
	}
	blt_cloud_secret_free(b, n + 1);
	if (!ok || !s->token[0]) {
		memset(s, 0, sizeof *s);
		return blt_detail_set(d, BLT_E_CONFIG,
		                      "%s/%s is damaged (no token or an over-long value): run "
		                      "`bluetti login` again",
		                      dir, F_SESSION);
	}
	if (!pfx)
		return BLT_OK;
	if ((err = read_file(dir, F_PFX, &pb, &pn, d)) != BLT_OK ||
	    (err = read_file(dir, F_PASS, &pw, &pwn, d)) != BLT_OK) {
		blt_cloud_secret_free(pb, pn + 1);
		return err;
	}
	pw[strcspn((char *)pw, "\r\n")] = '\0';
	*pfx = pb;
	*pfx_len = pn;
	if (pfx_password)
		*pfx_password = (char *)pw;
	else
		blt_cloud_secret_free(pw, pwn + 1);
	return BLT_OK;
}

blt_err_t blt_cloud_store_remove(const char *dir, blt_detail_t *d)
{
	static const char *const files[] = {F_SESSION, F_PFX, F_PASS};
	char path[1100];
	int err = BLT_OK;
	if (!dir)
		return blt_detail_set(d, BLT_E_INVAL, "store_remove: NULL argument");
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		if (unlink(path) != 0 && errno != ENOENT)
			err = blt_detail_set(d, BLT_E_IO, "cannot remove %s: %s", path,
			                     strerror(errno));
	}
	if (!err && rmdir(dir) != 0 && errno != ENOENT && errno != ENOTEMPTY && errno != EEXIST)
		err = blt_detail_set(d, BLT_E_IO, "cannot remove %s: %s", dir, strerror(errno));
	return err;
}
