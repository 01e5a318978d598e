/* A program of a library user: built against an installed libbluetti through pkg-config
 * (tests/install/install_destdir.sh, scripts/pkg-test.sh). Checks that the headers, the
 * library and its exported API work together: version, CRC, a decode of catalog block 1300. */
#include <stdio.h>
#include <string.h>

#include <bluetti/bluetti.h>

int main(void)
{
	/* The CRC-16/MODBUS check value: "123456789" -> 0x4B37. */
	if (blt_crc16((const uint8_t *)"123456789", 9) != 0x4B37) {
		fprintf(stderr, "tiny: crc16 wrong\n");
		return 1;
	}
	if (strncmp(blt_version(), BLT_VERSION_STRING, strlen(BLT_VERSION_STRING)) != 0) {
		fprintf(stderr, "tiny: library %s, headers %s\n", blt_version(),
		        BLT_VERSION_STRING);
		return 1;
	}
	const blt_block_t *b = blt_catalog_find(1300);
	if (!b) {
		fprintf(stderr, "tiny: block 1300 not in the catalog\n");
		return 1;
	}
	printf("libbluetti %s (headers %s): block 1300 is %s; %s\n", blt_version(),
	       BLT_VERSION_STRING, b->name, blt_strerror(BLT_E_CRC));
	return 0;
}
