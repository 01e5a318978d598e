/* Block 18300 - EPAD_SETTINGS. PROTOCOL.md Appendix A.
 * Provenance: reference layout only: three liquid sensors (7 words each from byte 2), their
 * alarm settings (9 words each from byte 44), three temperature sensors (5 words each from
 * byte 98) and the LCD active time at 150. */
#include "catalog_internal.h"

#define LIQ(i, b)                                                                                  \
	U16("liquid_" #i "_sensor_spec", b + 0, BLT_PROV_APP,                                      \
	    "liquid sensor " #i " specification"),                                                 \
	    U16("liquid_" #i "_fluid_type", b + 2, BLT_PROV_APP,                                   \
	        "liquid sensor " #i " fluid type"),                                                \
	    U16("liquid_" #i "_volume_unit", b + 4, BLT_PROV_APP,                                  \
	        "liquid sensor " #i " volume unit"),                                               \
	    U16("liquid_" #i "_volume_total", b + 6, BLT_PROV_APP,                                 \
	        "liquid sensor " #i " tank volume"),                                               \
	    U16("liquid_" #i "_sampling_period", b + 8, BLT_PROV_APP,                              \
	        "liquid sensor " #i " sampling period"),                                           \
	    U16("liquid_" #i "_calibration_empty", b + 10, BLT_PROV_APP,                           \
	        "liquid sensor " #i " empty calibration"),                                         \
	    U16("liquid_" #i "_calibration_full", b + 12, BLT_PROV_APP,                            \
	        "liquid sensor " #i " full calibration")
#define ALARM(i, b)                                                                                \
	U16("liquid_" #i "_alarm_enable", b + 0, BLT_PROV_APP, "liquid " #i " alarm enable"),      \
	    U16("liquid_" #i "_alarm_value_high", b + 2, BLT_PROV_APP,                             \
	        "liquid " #i " high alarm value"),                                                 \
	    U16("liquid_" #i "_alarm_clean_value_high", b + 4, BLT_PROV_APP,                       \
	        "liquid " #i " high alarm clear value"),                                           \
	    U16("liquid_" #i "_alarm_delay_high", b + 6, BLT_PROV_APP,                             \
	        "liquid " #i " high alarm delay"),                                                 \
	    U16("liquid_" #i "_alarm_clean_delay_high", b + 8, BLT_PROV_APP,                       \
	        "liquid " #i " high alarm clear delay"),                                           \
	    U16("liquid_" #i "_alarm_value_low", b + 10, BLT_PROV_APP,                             \
	        "liquid " #i " low alarm value"),                                                  \
	    U16("liquid_" #i "_alarm_clean_value_low", b + 12, BLT_PROV_APP,                       \
	        "liquid " #i " low alarm clear value"),                                            \
	    U16("liquid_" #i "_alarm_delay_low", b + 14, BLT_PROV_APP,                             \
	        "liquid " #i " low alarm delay"),                                                  \
	    U16("liquid_" #i "_alarm_clean_delay_low", b + 16, BLT_PROV_APP,                       \
	        "liquid " #i " low alarm clear delay")
#define TEMP(i, b)                                                                                 \
	I16("temp_" #i "_calibration_offset", b, BLT_PROV_APP,                                     \
	    "temperature sensor " #i " calibration offset"),                                       \
	    U16("temp_" #i "_calibration_ratio", b + 2, BLT_PROV_APP,                              \
	        "temperature sensor " #i " calibration ratio"),                                    \
	    U16("temp_" #i "_temp_unit", b + 4, BLT_PROV_APP, "temperature sensor " #i " unit"),   \
	    U16("temp_" #i "_nominal_resistance", b + 6, BLT_PROV_APP,                             \
	        "temperature sensor " #i " nominal resistance"),                                   \
	    U16("temp_" #i "_beta", b + 8, BLT_PROV_APP, "temperature sensor " #i " beta value")

static const blt_field_t fields[] = {
    U16("sensor_type", 0, BLT_PROV_APP, "sensor type"),
    LIQ(1, 2),
    LIQ(2, 16),
    LIQ(3, 30),
    ALARM(1, 44),
    ALARM(2, 62),
    ALARM(3, 80),
    TEMP(1, 98),
    TEMP(2, 108),
    TEMP(3, 118),
    U16("lcd_active_time", 150, BLT_PROV_APP, "LCD active time"),
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
