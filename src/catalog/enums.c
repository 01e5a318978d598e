/* Value-name tables shared by several blocks. */
#include "catalog_internal.h"

/* MCU types of the software lists in 1100 and 6100 (firmware map, PROTOCOL.md §4.2). */
const blt_enum_entry_t blt_enum_mcu_type[] = {
    {0, "iot"},      {1, "inverter_arm"}, {2, "inverter_dsp"}, {3, "bms"},     {4, "ba"},
    {5, "pack_bcu"}, {6, "pack_bmu"},     {7, "pack_bms"},     {8, "pack_m1"}, {9, "pack_safety"},
    {10, "pack_hv"}, {11, "hmi"},         {12, "hmi2"},        {13, "rf"},     {14, "dc_hub"},
    {15, "ac_hub"},  {16, "dc_dc"},       {0, NULL},
};
