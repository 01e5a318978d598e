/* Block 14700 - SMART_PLUG_SETTINGS. PROTOCOL.md Appendix A.
 * Provenance: reference layout (agrees with firmware struct reg14700 at 0/12/14/16/18), with
 * the firmware's third enable word (14703) and its ten {days, action time} timer records
 * (14712-14731) in place of the reference's single raw u32 at 24. */
#include "catalog_internal.h"

#define TIMER(i)                                                                             \
	{.name = "timer_" #i "_days", .offset = 24 + 4 * i, .type = BLT_T_U16,                  \
	 .prov = BLT_PROV_FW, .desc = "timer weekday label"},                                    \
	{.name = "timer_" #i "_action_time", .offset = 26 + 4 * i, .type = BLT_T_U16,           \
	 .prov = BLT_PROV_FW, .desc = "timer action time (raw)"}

static const blt_field_t fields[] = {
	{.name = "protection_enable", .offset = 0, .type = BLT_T_U16, .prov = BLT_PROV_APP,
	 .desc = "protection enables"},
	{.name = "set_enable_1", .offset = 2, .type = BLT_T_U16, .prov = BLT_PROV_APP,
	 .desc = "setting enables, word 1"},
	{.name = "set_enable_2", .offset = 4, .type = BLT_T_U16, .prov = BLT_PROV_APP,
	 .desc = "setting enables, word 2"},
	{.name = "set_enable_3", .offset = 6, .type = BLT_T_U16, .prov = BLT_PROV_FW,
	 .desc = "setting enables, word 3"},
	{.name = "time_set_enable", .offset = 8, .type = BLT_T_U32, .prov = BLT_PROV_APP,
	 .desc = "timer enables (two registers)"},
	{.name = "overload_protection_power", .offset = 12, .type = BLT_T_U16, .unit = "W",
	 .prov = BLT_PROV_APP, .desc = "overload protection power"},
	{.name = "underload_protection_power", .offset = 14, .type = BLT_T_U16, .unit = "W",
	 .prov = BLT_PROV_APP, .desc = "under-power protection power"},
	{.name = "indicator_light", .offset = 16, .type = BLT_T_U16, .prov = BLT_PROV_APP,
	 .desc = "indicator light brightness"},
	{.name = "timer_set", .offset = 18, .type = BLT_T_U32, .unit = "s", .prov = BLT_PROV_APP,
	 .desc = "countdown timer"},
	{.name = "delay_hours", .offset = 22, .type = BLT_T_U8, .unit = "h", .prov = BLT_PROV_APP,
	 .desc = "action delay, hours"},
	{.name = "delay_minutes", .offset = 23, .type = BLT_T_U8, .unit = "min",
	 .prov = BLT_PROV_APP, .desc = "action delay, minutes"},
	TIMER(0), TIMER(1), TIMER(2), TIMER(3), TIMER(4),
	TIMER(5), TIMER(6), TIMER(7), TIMER(8), TIMER(9),
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
