/* Block 15750 - DC_HUB_SETTINGS. PROTOCOL.md Appendix A.
 * Provenance: reference (enable word + voltage byte at 0), which agrees with the firmware
 * struct reg15750; extended with the AC hub word (15751). Both words hold a 2-bit factory
 * reset field, so 15750-15751 are on the write deny list. */
#include "catalog_internal.h"

static const blt_field_t fields[] = {
    U16("enable_flags", 0, BLT_PROV_APP, "DC hub setting word (raw)"),
    FIELD2("dc_switch", 0, 0, BLT_PROV_FW, "DC hub output switch (bits 0-1)"),
    FIELD2("dc_memory_switch", 0, 2, BLT_PROV_FW, "DC hub remember switch state (bits 2-3)"),
    FIELD2("dc_factory_reset", 0, 4, BLT_PROV_FW, "DC hub factory reset (bits 4-5; never written)"),
    U8("dc_voltage_set", 0, BLT_PROV_APP, "DC hub voltage setting (high byte)"),
    U16("ac_hub_flags", 2, BLT_PROV_FW, "AC hub setting word (raw)"),
    FIELD2("ac_switch", 2, 0, BLT_PROV_FW, "AC hub switch (bits 0-1)"),
    FIELD2("ac_memory_switch", 2, 2, BLT_PROV_FW, "AC hub remember switch state (bits 2-3)"),
    FIELD2("ac_factory_reset", 2, 4, BLT_PROV_FW, "AC hub factory reset (bits 4-5; never written)"),
};

const blt_block_t blt_block_15750 = {
    .id = 15750,
    .name = "DC_HUB_SETTINGS",
    .title = "DC hub settings",
    .regs = 2,
    .min_bytes = 0,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "reference layout + firmware reg15750 (AC hub word)",
};
