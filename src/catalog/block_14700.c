/* Block 14700 - SMART_PLUG_SETTINGS. PROTOCOL.md Appendix A.
 * Provenance: reference layout (agrees with firmware struct reg14700 at 0/12/14/16/18), with
 * the firmware's third enable word (14703) and its ten {days, action time} timer records
 * (14712-14731) in place of the reference's single raw u32 at 24. */
#include "catalog_internal.h"

#define TIMER(i)                                                                                   \
	U16("timer_" #i "_days", 24 + 4 * i, BLT_PROV_FW, "timer weekday label"),                  \
	    U16("timer_" #i "_action_time", 26 + 4 * i, BLT_PROV_FW, "timer action time (raw)")

static const blt_field_t fields[] = {
    U16("protection_enable", 0, BLT_PROV_APP, "protection enables"),
    U16("set_enable_1", 2, BLT_PROV_APP, "setting enables, word 1"),
    U16("set_enable_2", 4, BLT_PROV_APP, "setting enables, word 2"),
    U16("set_enable_3", 6, BLT_PROV_FW, "setting enables, word 3"),
    U32("time_set_enable", 8, BLT_PROV_APP, "timer enables (two registers)"),
    U16("overload_protection_power", 12, BLT_PROV_APP, "overload protection power", .unit = "W"),
    U16("underload_protection_power", 14, BLT_PROV_APP, "under-power protection power",
        .unit = "W"),
    U16("indicator_light", 16, BLT_PROV_APP, "indicator light brightness"),
    U32("timer_set", 18, BLT_PROV_APP, "countdown timer", .unit = "s"),
    U8("delay_hours", 22, BLT_PROV_APP, "action delay, hours", .unit = "h"),
    U8("delay_minutes", 23, BLT_PROV_APP, "action delay, minutes", .unit = "min"),
    TIMER(0),
    TIMER(1),
    TIMER(2),
    TIMER(3),
    TIMER(4),
    TIMER(5),
    TIMER(6),
    TIMER(7),
    TIMER(8),
    TIMER(9),
};

const blt_block_t blt_block_14700 = {
    .id = 14700,
    .name = "SMART_PLUG_SETTINGS",
    .title = "smart plug settings",
    .regs = 32,
    .min_bytes = 0,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "reference layout + firmware reg14700 timer records (14712-14731)",
};
