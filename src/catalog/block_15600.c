/* Block 15600 - DC_DC_SETTINGS. PROTOCOL.md Appendix A.
 * Provenance: reference (word 0 switches, DC1/DC3 voltage/current set points), which agrees
 * with the firmware struct reg15600 (15601-15612: six {voltage, current} pairs), extended
 * with the firmware's later registers. Word 0 contains a factory-reset field, so register
 * 15600 is on the write deny list. 2-bit switch fields: mask/shift of the bits the
 * reference's hex_enable_list reads (that transform reverses the two bits). */
#include "catalog_internal.h"

#define CH(n, off)                                                                                 \
	U16("dc" #n "_voltage_set", off, BLT_PROV_FW, "DC" #n " voltage set point", .scale = 0.1,  \
	    .unit = "V"),                                                                          \
	    U16("dc" #n "_current_set", off + 2, BLT_PROV_FW, "DC" #n " current set point",        \
	        .scale = 0.1, .unit = "A")

static const blt_field_t fields[] = {
    U16("charger_set", 0, BLT_PROV_FW, "switch word (raw)"),
    FIELD2("dc_ctrl", 0, 14, BLT_PROV_APP, "DC output switch (bits 15-14)"),
    FIELD2("silent_mode", 0, 12, BLT_PROV_APP, "silent mode (bits 13-12)"),
    FIELD2("factory_set", 0, 10, BLT_PROV_APP, "factory reset field (bits 11-10; never written)"),
    FIELD2("self_adaption", 0, 8, BLT_PROV_APP, "self-adaption (bits 9-8)"),
    CH(1, 2),
    CH(2, 6),
    CH(3, 10),
    CH(4, 14),
    CH(5, 18),
    CH(6, 22),
    U16("memory_mode", 26, BLT_PROV_FW, "DC memory switch mode"),
    U16("charge_mode_2", 28, BLT_PROV_FW, "charge mode settings 2 (raw)"),
    U16("charge_mode_3", 30, BLT_PROV_FW, "charge mode settings 3 (raw)"),
    U32("battery_capacity", 32, BLT_PROV_FW, "lead-acid battery capacity (low word first)",
        .scale = 0.1, .unit = "Ah"),
    U16("battery_type", 36, BLT_PROV_FW, "battery type"),
    I16("dc1_power_set", 38, BLT_PROV_FW, "DC1 power set point (+ into DC, - out)", .unit = "W"),
    I16("dc2_power_set", 40, BLT_PROV_FW, "DC2 power set point", .unit = "W"),
    I16("dc3_power_set", 42, BLT_PROV_FW, "DC3 power set point", .unit = "W"),
    I16("dc4_power_set", 44, BLT_PROV_FW, "DC4 power set point", .unit = "W"),
    I16("dc5_power_set", 46, BLT_PROV_FW, "DC5 power set point", .unit = "W"),
    I16("total_power_set", 48, BLT_PROV_FW, "total DC power set point", .unit = "W"),
    U16("charge_mode_4", 50, BLT_PROV_FW, "charge mode settings 4 (raw)"),
};

const blt_block_t blt_block_15600 = {
    .id = 15600,
    .name = "DC_DC_SETTINGS",
    .title = "DC-DC settings",
    .regs = 26,
    .min_bytes = 0,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "reference layout = firmware reg15600, extended to 15625",
};
