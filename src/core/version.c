/* The version string of the running library (cmake/version.cmake). */
#include <bluetti/bluetti.h>

#include "blt_build_version.h" /* generated at build time: BLT_BUILD_VERSION */

const char *blt_version(void)
{
	return BLT_BUILD_VERSION;
}
