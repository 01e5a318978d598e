/* Block 3600 - CURR_YEAR_ENERGY (this year's energy per month and day). Appendix A.
 * Provenance: reference layout (type, year, total, months from byte 8), extended with the
 * firmware struct reg03600: 12 monthly u32 (3604-3627) and 31 daily u16 (3628-3658), all in
 * 0.1 kWh. 32-bit values are word-swapped (§3.3). */
#include "catalog_internal.h"

#define MONTH(m)                                                                                   \
	U32("month_" #m "_energy", 8 + 4 * (m - 1), BLT_PROV_FW, "energy of month " #m,            \
	    .scale = 0.1, .unit = "kWh")
#define DAY(d)                                                                                     \
	U16("day_" #d "_energy", 56 + 2 * (d - 1), BLT_PROV_FW, "energy of day " #d, .scale = 0.1, \
	    .unit = "kWh")

static const blt_field_t fields[] = {
    U8("energy_type", 1, BLT_PROV_APP, "energy kind selected with register 2027",
       .flags = BLT_F_REQUIRED),
    U16("year", 2, BLT_PROV_APP, "calendar year", .flags = BLT_F_REQUIRED),
    U32("total_year_energy", 4, BLT_PROV_APP, "energy so far this year", .scale = 0.1,
        .unit = "kWh", .flags = BLT_F_REQUIRED),
    MONTH(1),
    MONTH(2),
    MONTH(3),
    MONTH(4),
    MONTH(5),
    MONTH(6),
    MONTH(7),
    MONTH(8),
    MONTH(9),
    MONTH(10),
    MONTH(11),
    MONTH(12),
    DAY(1),
    DAY(2),
    DAY(3),
    DAY(4),
    DAY(5),
    DAY(6),
    DAY(7),
    DAY(8),
    DAY(9),
    DAY(10),
    DAY(11),
    DAY(12),
    DAY(13),
    DAY(14),
    DAY(15),
    DAY(16),
    DAY(17),
    DAY(18),
    DAY(19),
    DAY(20),
    DAY(21),
    DAY(22),
    DAY(23),
    DAY(24),
    DAY(25),
    DAY(26),
    DAY(27),
    DAY(28),
    DAY(29),
    DAY(30),
    DAY(31),
};

const blt_block_t blt_block_3600 = {
    .id = 3600,
    .name = "CURR_YEAR_ENERGY",
    .title = "energy this year",
    .regs = 59,
    .min_bytes = 8,
    .extent = 59, /* 3600-3658 */
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "reference layout + firmware reg03600 (12 months, 31 days); u32 word-swapped",
};
