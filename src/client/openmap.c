/* Reads through the Modbus TCP open map (LOCAL.md §1.4-§1.8): a read of internal registers
 * is planned as reads of the public addresses that map onto them, merged where the public
 * addresses are contiguous (the firmware splits such a read into internal segments
 * itself), never touching an unmapped address (the device would stay silent), and never a
 * one-register read that does not start a map run (exception 02). The registers come back
 * at their internal positions with a bitmap of which ones the map delivered, so the block
 * rows decode them unchanged and fields outside the map are reported as unavailable. */
#include <stdlib.h>
#include <string.h>

#include <bluetti/bluetti.h>
#include <bluetti/catalog.h>
#include <bluetti/client.h>

/* Public address of internal register reg, or -1. */
static long public_of(uint16_t reg)
{
	const blt_tcp_run_t *r = blt_tcpmap_find_internal(reg);
	return r ? (long)r->pub + (reg - r->internal) : -1;
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

size_t blt_openmap_plan(uint16_t start, uint16_t count, blt_openmap_read_t *out, size_t cap)
{
	uint16_t pubs[BLT_MAX_READ_REGS];
	size_t np = 0, nseg = 0;

	if (count > BLT_MAX_READ_REGS)
		count = BLT_MAX_READ_REGS;
	for (uint16_t i = 0; i < count; i++) {
		long p = public_of((uint16_t)(start + i));
		if (p >= 0)
			pubs[np++] = (uint16_t)p;
	}
	qsort(pubs, np, sizeof pubs[0], cmp_u16);
	for (size_t i = 0; i < np;) {
		size_t j = i + 1;
		while (j < np && pubs[j] == pubs[j - 1] + 1 && j - i < BLT_MAX_READ_REGS)
			j++;
		if (nseg < cap) {
			blt_openmap_read_t *s = &out[nseg];
			s->pub = pubs[i];
			s->count = (uint16_t)(j - i);
			s->skip = 0;
			if (s->count == 1) {
				/* a one-register access must start a map run: read from the run's
				 * start and keep only the last register */
				const blt_tcp_run_t *r = blt_tcpmap_find_public(s->pub);
				s->skip = (uint16_t)(s->pub - r->pub);
				s->pub = r->pub;
				s->count = (uint16_t)(s->skip + 1);
			}
		}
		nseg++;
		i = j;
	}
	return nseg;
}

blt_err_t blt_client_read_mapped(blt_client_t *c, uint16_t start, uint16_t count, uint8_t *data,
                                 size_t cap, uint8_t *present, size_t present_cap,
                                 unsigned *delivered, blt_detail_t *d)
{
	blt_openmap_read_t plan[BLT_MAX_READ_REGS];
	size_t nseg;
	unsigned got = 0;

	if (!c || !data || !present || count == 0 || count > BLT_MAX_READ_REGS)
		return blt_detail_set(d, BLT_E_INVAL, "mapped read needs 1-%d registers and output",
		                      BLT_MAX_READ_REGS);
	if (cap < 2u * count || present_cap < (count + 7u) / 8u)
		return blt_detail_set(d, BLT_E_BUFSIZE,
		                      "mapped read of %u registers: buffer too small", count);
	memset(data, 0, 2u * count);
	memset(present, 0, (count + 7u) / 8u);
	nseg = blt_openmap_plan(start, count, plan, BLT_MAX_READ_REGS);
	if (nseg == 0)
		return blt_detail_set(
		    d, BLT_E_NOT_FOUND,
		    "registers %u-%u are not reachable over Modbus TCP (the open map "
		    "has none of them)",
		    start, start + count - 1);
	for (size_t s = 0; s < nseg; s++) {
		uint8_t buf[2 * BLT_MAX_READ_REGS];
		size_t nb = 0;
		int rc = blt_client_read(c, plan[s].pub, plan[s].count, buf, sizeof buf, &nb, d);

		if (rc != BLT_OK)
			return rc;
		for (uint16_t k = plan[s].skip; k < plan[s].count && 2u * k + 1 < nb; k++) {
			const blt_tcp_run_t *r =
			    blt_tcpmap_find_public((uint16_t)(plan[s].pub + k));
			unsigned reg, off;

			if (!r)
				continue;
			reg = r->internal + (unsigned)(plan[s].pub + k - r->pub);
			if (reg < start || reg >= (unsigned)start + count)
				continue;
			off = reg - start;
			data[2 * off] = buf[2 * k];
			data[2 * off + 1] = buf[2 * k + 1];
			if (!(present[off / 8] & (1u << (off % 8))))
				got++;
			present[off / 8] |= (uint8_t)(1u << (off % 8));
		}
	}
	if (delivered)
		*delivered = got;
	return BLT_OK;
}

blt_err_t blt_openmap_write_target(uint16_t reg, uint16_t *pub, blt_detail_t *d)
{
	const blt_tcp_run_t *r = blt_tcpmap_find_internal(reg);

	if (!r)
		return blt_detail_set(d, BLT_E_NOT_FOUND,
		                      "register %u has no Modbus TCP address (not in the open map)",
		                      reg);
	if (!r->writable)
		return blt_detail_set(d, BLT_E_DENIED,
		                      "register %u is read-only over Modbus TCP (public %u)", reg,
		                      r->pub + (reg - r->internal));
	if (pub)
		*pub = (uint16_t)(r->pub + (reg - r->internal));
	return BLT_OK;
}
