/* Block 3500 - TOTAL_ENERGY_INFO (lifetime energy per year). PROTOCOL.md Appendix A.
 * Provenance: reference layout, which agrees with the firmware struct reg03500 (3500 energy
 * type, 3501-3502 total, then 15 records {u16 year, u32 energy} from 3503). 32-bit values
 * are word-swapped (§3.3). All 15 year records of the firmware are listed. */
#include "catalog_internal.h"

#define YEAR(i)                                                                                    \
	U16("year_" #i "_year", 6 + 6 * i, BLT_PROV_FW, "calendar year of record " #i),            \
	    U32("year_" #i "_energy", 8 + 6 * i, BLT_PROV_FW, "energy of that year", .scale = 0.1, \
	        .unit = "kWh")

static const blt_field_t fields[] = {
    U8("energy_type", 1, BLT_PROV_APP, "energy kind selected with register 2026",
       .flags = BLT_F_REQUIRED),
    U32("total_energy", 2, BLT_PROV_APP, "lifetime total", .scale = 0.1, .unit = "kWh",
        .flags = BLT_F_REQUIRED),
    YEAR(0),
    YEAR(1),
    YEAR(2),
    YEAR(3),
    YEAR(4),
    YEAR(5),
    YEAR(6),
    YEAR(7),
    YEAR(8),
    YEAR(9),
    YEAR(10),
    YEAR(11),
    YEAR(12),
    YEAR(13),
    YEAR(14),
};

const blt_block_t blt_block_3500 = {
    .id = 3500,
    .name = "TOTAL_ENERGY_INFO",
    .title = "energy per year",
    .regs = 48,
    .min_bytes = 6,
    .extent = 48, /* 3500-3547 */
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "reference layout = firmware reg03500; 15 year records; u32 word-swapped",
};
