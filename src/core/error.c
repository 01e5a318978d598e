/* Error names and detail buffers. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <bluetti/bluetti.h>

const char *blt_strerror(int err)
{
	switch (err) {
	case BLT_OK: return "success";
#define BLT_ERR_TEXT_(sym, val, name, text)                                                        \
	case sym: return text;
		BLT_ERRORS(BLT_ERR_TEXT_)
#undef BLT_ERR_TEXT_
	}
	return "unknown error";
}

const char *blt_err_name(int err)
{
	switch (err) {
	case BLT_OK: return "ok";
#define BLT_ERR_NAME_(sym, val, name, text)                                                        \
	case sym: return name;
		BLT_ERRORS(BLT_ERR_NAME_)
#undef BLT_ERR_NAME_
	}
	return "unknown";
}

/* Cut an over-long text at a word boundary: the last space that leaves room for "...",
 * or (one long word) the last UTF-8 character boundary. */
static void cut_words(char *t, size_t cap)
{
	const size_t ell = 3;
	size_t end = cap - 1 - ell, i = end;
	while (i > cap / 2 && t[i] != ' ')
		i--;
	if (t[i] == ' ') {
		while (i > 0 &&
		       (t[i - 1] == ' ' || t[i - 1] == ',' || t[i - 1] == ';' || t[i - 1] == ':'))
			i--;
	} else {
		i = end;
		while (i > 0 && ((unsigned char)t[i] & 0xC0) == 0x80)
			i--;
	}
	memcpy(t + i, "...", ell + 1);
}

int blt_detail_vset(blt_detail_t *d, int err, const char *fmt, va_list ap)
{
	if (d) {
		int n = vsnprintf(d->text, sizeof d->text, fmt, ap);
		if (n >= (int)sizeof d->text)
			cut_words(d->text, sizeof d->text);
	}
	return err;
}

int blt_detail_set(blt_detail_t *d, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	blt_detail_vset(d, err, fmt, ap);
	va_end(ap);
	return err;
}
