/* Block 21000 - NODE_INFO: the mesh nodes of a V2 system (the power station itself, hubs,
 * expansion batteries). PROTOCOL.md §1.6, EVIDENCE.md §4.
 * Provenance: battery-ha's real AP300 capture (tests/fixtures node_info_v1.hex, asserted:
 * inverter on slave 0 model 6, D1 hub on slave 11 model 3007, B300 on slave 51 model 4005)
 * and its reading of the app's NodeInfo layout: a 4-byte header ([0:2] version, [3] node
 * count, "numberOffset" in the app; 3 in the capture, which holds 3 records), then 16 bytes
 * per node. This block is not read with FC03: the client writes the version selector 1 to
 * 21000 with FC10 (blt_client_node_info) and the device answers with an FC10-shaped frame
 * at 21000 carrying these bytes. Model names: the app's DeviceModel / PackModel tables as
 * battery-ha restates them; 4000-4999 are battery packs. */
#include "catalog_internal.h"

static const blt_enum_entry_t models[] = {
    {6, "AP300"},        {8, "Elite 200 V2"}, {56, "AP500"},   {3007, "D1 hub"}, {3008, "A1 hub"},
    {3009, "SolarX 4K"}, {3012, "Edock"},     {4000, "B500"},  {4001, "HV800"},  {4002, "ENP500"},
    {4003, "B1210"},     {4004, "B4810"},     {4005, "B300"},  {4006, "B300K"},  {4007, "B300S"},
    {4008, "B1232"},     {4009, "lead acid"}, {4010, "LFP"},   {4012, "B500A"},  {4013, "BC200"},
    {4014, "B230"},      {4015, "B210"},      {4016, "B500K"}, {4017, "B900"},   {4018, "HB500"},
    {4019, "BC260"},     {4020, "IB900"},     {4021, "IB800"}, {0, NULL},
};

static const blt_bit_name_t status_bits[] = {
    {0, "online"}, {1, "upgrading"}, {2, "warning"}, {3, "error"}, {4, "dc_enabled"}, {0, NULL},
};

/* 15 records fill a 122-register reply (4 + 15 * 16 = 244 bytes). */
static const blt_repeat_t nodes = {
    .count_field = "node_count", .max = 15, .stride = 16, .base_add = 4};

static const blt_field_t fields[] = {
    U16("version", 0, BLT_PROV_LIVE, "node list version (1 = mesh node list)",
        .flags = BLT_F_REQUIRED),
    U8("node_count", 3, BLT_PROV_LIVE, "number of node records that follow",
       .flags = BLT_F_REQUIRED | BLT_F_COUNT),
    U8("node_%u_group", 0, BLT_PROV_LIVE, "node group number", .repeat = &nodes),
    U8("node_%u_slave", 1, BLT_PROV_LIVE, "Modbus slave address the node answers at",
       .repeat = &nodes),
    U8("node_%u_slave_group", 2, BLT_PROV_LIVE, "slave address group", .repeat = &nodes),
    U8("node_%u_parent", 3, BLT_PROV_LIVE, "parent node number", .repeat = &nodes),
    BITS16("node_%u_status", 4, BLT_PROV_LIVE, status_bits,
           "node status bits (mesh online, upgrading, warning, error, DC enabled)",
           .repeat = &nodes),
    ROW("node_%u_serial", 6, BLT_T_SN64, BLT_PROV_LIVE, "node serial number", .repeat = &nodes),
    U16("node_%u_model", 14, BLT_PROV_LIVE, "node model code (4000-4999: battery packs)",
        .enums = models, .repeat = &nodes),
};

const blt_block_t blt_block_21000 = {
    .id = 21000,
    .name = "NODE_INFO",
    .title = "nodes",
    .regs = 122,
    .min_bytes = 4,
    .fields = fields,
    .nfields = sizeof fields / sizeof fields[0],
    .source = "battery-ha real AP300 NODE_INFO capture (3 nodes asserted); FC10 query, not FC03",
};

/* Kinds of the known non-battery codes (PROTOCOL.md §1.6); batteries are a range. */
static const struct {
	uint16_t code;
	blt_node_kind_t kind;
} kinds[] = {
    {6, BLT_NODE_POWER_STATION}, {8, BLT_NODE_POWER_STATION}, {56, BLT_NODE_POWER_STATION},
    {3007, BLT_NODE_HUB},        {3008, BLT_NODE_HUB},        {3009, BLT_NODE_OTHER},
    {3012, BLT_NODE_OTHER},
};

blt_node_kind_t blt_node_kind(uint16_t model_code)
{
	if (model_code >= 4000 && model_code <= 4999)
		return BLT_NODE_BATTERY;
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (kinds[i].code == model_code)
			return kinds[i].kind;
	return BLT_NODE_OTHER;
}

const char *blt_node_kind_name(blt_node_kind_t k)
{
	switch (k) {
	case BLT_NODE_POWER_STATION: return "power_station";
	case BLT_NODE_HUB: return "hub";
	case BLT_NODE_BATTERY: return "battery";
	default: return "other";
	}
}

const char *blt_node_model_name(uint16_t model_code)
{
	return blt_enum_name(models, model_code);
}

/* Blocks read at a node's own slave address, per kind: a battery answers the pack record
 * and its cells there (battery-ha reads 6100 and 6300 at each battery node's slave, live).
 * Nothing is known of what a hub answers, so nothing is read from it. */
static const uint16_t pack_blocks[] = {6100, 6300};

const uint16_t *blt_node_blocks(blt_node_kind_t k, size_t *n)
{
	if (k == BLT_NODE_BATTERY) {
		*n = sizeof pack_blocks / sizeof pack_blocks[0];
		return pack_blocks;
	}
	*n = 0;
	return NULL;
}
