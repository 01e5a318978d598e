/* Block 18300 - EPAD_SETTINGS. PROTOCOL.md Appendix A.
 * Provenance: reference layout only: three liquid sensors (7 words each from byte 2), their
 * alarm settings (9 words each from byte 44), three temperature sensors (5 words each from
 * byte 98) and the LCD active time at 150. */
#include "catalog_internal.h"

#define W(n, off, what) \
	{.name = n, .offset = off, .type = BLT_T_U16, .prov = BLT_PROV_APP, .desc = what}
#define LIQ(i, b)                                                                            \
	W("liquid_" #i "_sensor_spec", b + 0, "liquid sensor " #i " specification"),             \
	W("liquid_" #i "_fluid_type", b + 2, "liquid sensor " #i " fluid type"),                 \
	W("liquid_" #i "_volume_unit", b + 4, "liquid sensor " #i " volume unit"),               \
	W("liquid_" #i "_volume_total", b + 6, "liquid sensor " #i " tank volume"),              \
	W("liquid_" #i "_sampling_period", b + 8, "liquid sensor " #i " sampling period"),       \
	W("liquid_" #i "_calibration_empty", b + 10, "liquid sensor " #i " empty calibration"),  \
	W("liquid_" #i "_calibration_full", b + 12, "liquid sensor " #i " full calibration")
#define ALARM(i, b)                                                                          \
	W("liquid_" #i "_alarm_enable", b + 0, "liquid " #i " alarm enable"),                    \
	W("liquid_" #i "_alarm_value_high", b + 2, "liquid " #i " high alarm value"),            \
	W("liquid_" #i "_alarm_clean_value_high", b + 4, "liquid " #i " high alarm clear value"), \
	W("liquid_" #i "_alarm_delay_high", b + 6, "liquid " #i " high alarm delay"),            \
	W("liquid_" #i "_alarm_clean_delay_high", b + 8, "liquid " #i " high alarm clear delay"), \
	W("liquid_" #i "_alarm_value_low", b + 10, "liquid " #i " low alarm value"),             \
	W("liquid_" #i "_alarm_clean_value_low", b + 12, "liquid " #i " low alarm clear value"), \
	W("liquid_" #i "_alarm_delay_low", b + 14, "liquid " #i " low alarm delay"),             \
	W("liquid_" #i "_alarm_clean_delay_low", b + 16, "liquid " #i " low alarm clear delay")
#define TEMP(i, b)                                                                           \
	{.name = "temp_" #i "_calibration_offset", .offset = b, .type = BLT_T_I16,              \
	 .prov = BLT_PROV_APP, .desc = "temperature sensor " #i " calibration offset"},          \
	W("temp_" #i "_calibration_ratio", b + 2, "temperature sensor " #i " calibration ratio"), \
	W("temp_" #i "_temp_unit", b + 4, "temperature sensor " #i " unit"),                     \
	W("temp_" #i "_nominal_resistance", b + 6, "temperature sensor " #i " nominal resistance"), \
	W("temp_" #i "_beta", b + 8, "temperature sensor " #i " beta value")

static const blt_field_t fields[] = {
	W("sensor_type", 0, "sensor type"),
	LIQ(1, 2),
	LIQ(2, 16),
	LIQ(3, 30),
	ALARM(1, 44),
	ALARM(2, 62),
	ALARM(3, 80),
	TEMP(1, 98),
	TEMP(2, 108),
	TEMP(3, 118),
	W("lcd_active_time", 150, "LCD active time"),
};

const blt_block_t blt_block_18300 = {
	.id = 18300,
	.name = "EPAD_SETTINGS",
	.title = "EPAD settings",
	.regs = 76,
	.min_bytes = 0,
	.fields = fields,
	.nfields = sizeof fields / sizeof fields[0],
	.source = "reference layout only",
};
