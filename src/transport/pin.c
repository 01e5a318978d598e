/* Broker key pins (trust on first use): one small file per broker host:port in a private
 * directory, holding the SHA-256 of the broker's SubjectPublicKeyInfo in hex. The files
 * are opened with O_NOFOLLOW and checked with fstat like the credential store: not ours,
 * or accessible by group/others, is refused (a pin others can write is no pin). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bluetti/bluetti.h>

#include "core/core_internal.h"
#include "transport/transport_internal.h"

#define PIN_FILE_MAX 512

static bool host_ok(const char *host)
{
	if (!host || !host[0] || strlen(host) > 253 || host[0] == '.')
		return false;
	for (const char *p = host; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_' || *p == ':'))
			return false;
	return true;
}

int blt_pin_path(const char *dir, const char *host, int port, char *out, size_t cap, char *err,
                 size_t errcap)
{
	int n;
	if (!host_ok(host)) {
		snprintf(err, errcap, "broker host '%.60s' cannot name a pin file",
		         host ? host : "");
		return -1;
	}
	n = snprintf(out, cap, "%s/broker-%s_%d.pin", dir, host, port);
	if (n < 0 || (size_t)n >= cap) {
		snprintf(err, errcap, "pin file path too long");
		return -1;
	}
	return 0;
}

static int check_private(const struct stat *st, const char *path, bool dir, char *err,
                         size_t errcap)
{
	if (dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode)) {
		snprintf(err, errcap, "%s is not a %s", path, dir ? "directory" : "regular file");
		return -1;
	}
	if (st->st_uid != geteuid()) {
		snprintf(err, errcap, "%s belongs to another user (uid %u)", path,
		         (unsigned)st->st_uid);
		return -1;
	}
	if (st->st_mode & 077) {
		snprintf(err, errcap, "%s is accessible by group/others (mode %03o): chmod %s it",
		         path, (unsigned)(st->st_mode & 0777), dir ? "700" : "600");
		return -1;
	}
	return 0;
}

static bool is_hex64(const char *s)
{
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int blt_pin_load(const char *dir, const char *path, char out[65], char *err, size_t errcap)
{
	struct stat st;
	char buf[PIN_FILE_MAX + 1], *p;
	ssize_t n;
	int fd;

	out[0] = '\0';
	if (lstat(dir, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errcap, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (S_ISLNK(st.st_mode)) {
		snprintf(err, errcap, "%s is a symbolic link", dir);
		return -1;
	}
	if (check_private(&st, dir, true, err, errcap) != 0)
		return -1;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errcap, "cannot open %s: %s", path,
		         errno == ELOOP ? "it is a symbolic link" : strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || check_private(&st, path, false, err, errcap) != 0) {
		if (!err[0])
			snprintf(err, errcap, "cannot stat %s", path);
		close(fd);
		return -1;
	}
	n = read(fd, buf, PIN_FILE_MAX);
	close(fd);
	if (n < 0) {
		snprintf(err, errcap, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	buf[n] = '\0';
	/* "sha256 <64 lowercase hex> host:port" */
	p = buf;
	if (strncmp(p, "sha256 ", 7) != 0 || (size_t)n < 7 + 64 || !is_hex64(p + 7)) {
		snprintf(err, errcap, "%s is not a pin file (expected \"sha256 <64 hex>\")", path);
		return -1;
	}
	memcpy(out, p + 7, 64);
	out[64] = '\0';
	return 0;
}

/* mkdir -p with 0700 components, then the same checks as a load. */
static int make_dir(const char *dir, char *err, size_t errcap)
{
	struct stat st;

	if (blt_mkdir_private(dir, err, errcap) != 0)
		return -1;
	if (lstat(dir, &st) != 0 || S_ISLNK(st.st_mode)) {
		snprintf(err, errcap, "%s: not a usable directory", dir);
		return -1;
	}
	return check_private(&st, dir, true, err, errcap);
}

int blt_pin_save(const char *dir, const char *path, const char *hex, const char *host, int port,
                 char *err, size_t errcap)
{
	char tmp[1100], buf[PIN_FILE_MAX];
	int fd, n;

	if (make_dir(dir, err, errcap) != 0)
		return -1;
	n = snprintf(buf, sizeof buf, "sha256 %s %s:%d\n", hex, host, port);
	if (n < 0 || (size_t)n >= sizeof buf) {
		snprintf(err, errcap, "pin line too long");
		return -1;
	}
	snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
	unlink(tmp);
	/* O_EXCL: never write through a file or link someone else put there. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errcap, "cannot create %s: %s", tmp, strerror(errno));
		return -1;
	}
	if (fchmod(fd, 0600) != 0 || write(fd, buf, (size_t)n) != n || fsync(fd) != 0) {
		snprintf(err, errcap, "cannot write %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		snprintf(err, errcap, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
