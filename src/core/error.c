/* Error names and detail buffers. */
#include <stdarg.h>
#include <stdio.h>

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

int blt_detail_set(blt_detail_t *d, int err, const char *fmt, ...)
{
	if (d) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(d->text, sizeof d->text, fmt, ap);
		va_end(ap);
	}
	return err;
}
