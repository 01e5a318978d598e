/* Error names and detail buffers. */
#include <stdarg.h>
#include <stdio.h>

#include <bluetti/bluetti.h>

const char *blt_strerror(int err)
{
	switch (err) {
	case BLT_OK: return "success";
	case BLT_E_INVAL: return "invalid argument";
	case BLT_E_NOMEM: return "out of memory";
	case BLT_E_BUFSIZE: return "buffer too small";
	case BLT_E_CRC: return "CRC mismatch";
	case BLT_E_SHORT: return "truncated";
	case BLT_E_TRAILING: return "trailing bytes after frame";
	case BLT_E_BYTECOUNT: return "bad byte count";
	case BLT_E_EXCEPTION: return "Modbus exception";
	case BLT_E_FUNCTION: return "unexpected function code";
	case BLT_E_SLAVE: return "wrong slave address";
	case BLT_E_RANGE: return "out of range";
	case BLT_E_UNKNOWN_BLOCK: return "unknown block";
	case BLT_E_MISSING: return "required field missing";
	case BLT_E_HEX: return "malformed hex";
	case BLT_E_ENVELOPE: return "malformed envelope";
	case BLT_E_NOT_FOUND: return "not found";
	case BLT_E_TIMEOUT: return "timed out";
	case BLT_E_CONNECT: return "connection failed";
	case BLT_E_TLS: return "TLS failure";
	case BLT_E_CERT: return "certificate unusable";
	case BLT_E_CERT_PASSWORD: return "wrong certificate password";
	case BLT_E_HOSTNAME: return "server certificate does not match host name";
	case BLT_E_AUTH: return "authentication refused";
	case BLT_E_PROTOCOL: return "protocol violation";
	case BLT_E_IO: return "I/O error";
	case BLT_E_SERIAL: return "invalid serial number";
	case BLT_E_DENIED: return "write denied";
	case BLT_E_BUSY: return "busy";
	case BLT_E_DISCONNECTED: return "disconnected";
	case BLT_E_CONFIG: return "configuration error";
	case BLT_E_MISMATCH: return "reply does not match request";
	case BLT_E_NOT_APPLIED: return "device did not apply the write";
	case BLT_E_PIN_MISMATCH: return "broker key does not match the pinned key";
	case BLT_E_BLE_MAGIC: return "BLE frame magic missing";
	case BLT_E_BLE_CHECKSUM: return "BLE frame checksum mismatch";
	case BLT_E_BLE_LENGTH: return "BLE message length invalid";
	case BLT_E_BLE_ALIGN: return "BLE ciphertext not block aligned";
	case BLT_E_BLE_SIGNATURE: return "BLE signature does not verify";
	case BLT_E_BLE_SEQUENCE: return "BLE handshake out of order";
	case BLT_E_BLE_OVERSIZE: return "BLE message too large";
	case BLT_E_BLE_REJECTED: return "BLE handshake rejected by peer";
	case BLT_E_BLE_KEY: return "BLE public key invalid";
	}
	return "unknown error";
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
