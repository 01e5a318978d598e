/* The Modbus TCP open register map, public -> internal (LOCAL.md §1.4; firmware
 * modbus_addr_init(), FW:61951924125@c2417). One row per firmware run; "RO" rows answer a
 * write with exception 2, "RW" rows forward it to the internal register. Provenance: the
 * firmware table [FW]; AC500 / AC200L / EP500Pro / Balco answer at these addresses [LIVE,
 * LOCAL.md §1.1]; which V2 models carry the service is unknown (§1.7). Cell voltages
 * 6116-6123 (51225-51233) are compiled out in the firmware and absent here. */
#include <bluetti/bluetti.h>

#include "catalog/catalog_internal.h"

#define RO(p, i, n)                                                                                \
	{                                                                                          \
		(p), (i), (n), 0                                                                   \
	}
#define RW(p, i, n)                                                                                \
	{                                                                                          \
		(p), (i), (n), 1                                                                   \
	}

static const blt_tcp_run_t runs[] = {
    /* block 100 (dashboard) */
    RO(50001, 120, 1),
    RO(50002, 142, 8),
    RO(50010, 165, 2),
    RO(50012, 152, 8),
    RO(50020, 162, 2),
    RO(50022, 161, 1),
    RO(50023, 126, 4),
    RO(50027, 133, 5),
    /* 1100 inverter base info, 1300 grid, 1400 load, 1200 PV, 1500 inverter */
    RO(50200, 1101, 10),
    RO(50210, 1114, 2),
    RO(50212, 1117, 2),
    RO(50214, 1300, 3),
    RO(50217, 1420, 2),
    RO(50219, 1200, 2),
    RO(50221, 1204, 2),
    RO(50223, 1303, 4),
    RO(50227, 1422, 2),
    RO(50229, 1202, 2),
    RO(50231, 1206, 3),
    RO(50234, 1312, 4),
    RO(50238, 1319, 3),
    RO(50241, 1325, 3),
    RO(50244, 1429, 4),
    RO(50248, 1436, 3),
    RO(50251, 1442, 3),
    RO(50254, 1508, 5),
    RO(50259, 1516, 4),
    RO(50263, 1523, 4),
    RO(50267, 1209, 1),
    RO(50268, 1211, 4),
    RO(50272, 1219, 4),
    RO(50276, 1227, 4),
    RO(50280, 1235, 4),
    RO(50284, 1243, 4),
    /* 6000 pack aggregate, 6100 pack item */
    RO(51001, 6001, 1),
    RO(51002, 6003, 4),
    RO(51006, 6009, 1),
    RO(51007, 6017, 2),
    RO(51200, 6101, 10),
    RO(51210, 6173, 1),
    RO(51211, 6175, 2),
    RO(51213, 6178, 2),
    RO(51215, 6181, 2),
    RO(51217, 6184, 2),
    RO(51219, 6111, 4),
    RO(51223, 6143, 1),
    RO(51224, 6115, 1),
    RO(51234, 6152, 2),
    RO(51236, 6133, 4),
    RO(51240, 6144, 6),
    RO(51246, 6164, 2),
    RO(51248, 6150, 2),
    /* 15500 DC-DC */
    RO(51501, 15500, 10),
    RO(51511, 15581, 3),
    RO(51514, 15527, 54),
    /* 11000 IoT module */
    RO(53001, 11000, 10),
    RO(53011, 11014, 2),
    /* 14500 smart plug, 1700 meter */
    RO(55001, 14500, 30),
    RO(55101, 1700, 91),
    /* settings 2000 / 2200 */
    RW(57001, 2011, 1), /* AC output */
    RW(57005, 2012, 1), /* DC output */
    RW(57009, 2207, 2), /* grid charge, feed-in */
    RW(57011, 2214, 1),
    RW(57012, 2216, 1),
    RW(57013, 2212, 1),
    RW(57016, 2022, 2), /* SOC low / high */
    RW(57018, 2247, 2),
    RW(57020, 2005, 1), /* working mode */
    RW(57022, 2021, 1),
    RW(57023, 2020, 1),
    RW(57024, 2017, 1), /* AC ECO */
    RW(57025, 2014, 1), /* DC ECO */
    RW(57026, 2013, 1), /* system power-off: on the deny list like 2013 itself */
    /* 1900 meter configuration, 14700 smart plug settings */
    RW(59301, 1900, 7),
    RW(59323, 1922, 1),
    RW(59501, 14700, 10),
};

size_t blt_tcpmap_count(void)
{
	return sizeof runs / sizeof runs[0];
}

const blt_tcp_run_t *blt_tcpmap_at(size_t i)
{
	return i < blt_tcpmap_count() ? &runs[i] : NULL;
}

const blt_tcp_run_t *blt_tcpmap_find_public(uint16_t pub)
{
	size_t lo = 0, hi = blt_tcpmap_count();

	while (lo < hi) { /* runs are sorted by public address and do not overlap */
		size_t mid = lo + (hi - lo) / 2;
		const blt_tcp_run_t *r = &runs[mid];

		if (pub < r->pub)
			hi = mid;
		else if (pub >= r->pub + r->count)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

const blt_tcp_run_t *blt_tcpmap_find_internal(uint16_t reg)
{
	for (size_t i = 0; i < blt_tcpmap_count(); i++)
		if (reg >= runs[i].internal && reg < runs[i].internal + runs[i].count)
			return &runs[i];
	return NULL;
}

size_t blt_tcpmap_registers(void)
{
	size_t n = 0;

	for (size_t i = 0; i < blt_tcpmap_count(); i++)
		n += runs[i].count;
	return n;
}
