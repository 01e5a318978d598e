/* Markdown register reference (docs/registers.md) generated from the catalog tables, the
 * settings and the deny list, so the documentation cannot drift from the code. */
#include <stdio.h>
#include <string.h>

#include <bluetti/settings.h>

/* Table cell text: '|' escaped, newlines flattened. */
static void cell(FILE *out, const char *s)
{
	if (!s || !*s) {
		fputs("–", out);
		return;
	}
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", out);
		else if (*s == '\n' || *s == '\r')
			fputc(' ', out);
		else
			fputc(*s, out);
	}
}

/* Row name with the repetition placeholder shown as {i}. */
static void row_name(FILE *out, const char *name)
{
	fputc('`', out);
	for (const char *p = name; p && *p; p++) {
		if (p[0] == '%' && p[1] == 'u') {
			fputs("{i}", out);
			p++;
		} else if (*p == '|') {
			fputs("\\|", out);
		} else {
			fputc(*p, out);
		}
	}
	fputc('`', out);
}

static unsigned row_size(const blt_field_t *f)
{
	unsigned sz = blt_type_size((blt_type_t)f->type);
	return f->size ? f->size : sz;
}

static void offsets(FILE *out, const blt_block_t *b, const blt_field_t *f)
{
	const blt_repeat_t *r = f->repeat;
	unsigned sz = row_size(f);
	unsigned off = f->offset + (r ? r->base_add : 0);
	unsigned reg = b->id + off / 2;
	unsigned last = b->id + (off + (sz ? sz : 1) - 1) / 2;

	/* byte column */
	fprintf(out, "%u", off);
	if (r && r->base_field)
		fprintf(out, " + %u·%s", r->base_mul, r->base_field);
	if (r)
		fprintf(out, " + %u·i", r->stride);
	fputs(" | ", out);
	/* register column */
	fprintf(out, "%u", reg);
	if (last > reg)
		fprintf(out, "–%u", last);
	else if (sz == 1)
		fputs(off & 1 ? " lo" : " hi", out);
	if (r && r->base_field)
		fprintf(out, " + %g·%s", r->base_mul / 2.0, r->base_field);
	if (r)
		fprintf(out, " + %g·i", r->stride / 2.0);
}

static void transform(FILE *out, const blt_field_t *f)
{
	int n = 0;
#define SEP() (n++ ? fputs("; ", out) : 0)
	if (f->repeat) {
		SEP();
		fprintf(out, "i < %s (max %u)",
		        f->repeat->count_field ? f->repeat->count_field : "?", f->repeat->max);
	}
	if (f->mask) {
		SEP();
		fprintf(out, "mask 0x%X", (unsigned)f->mask);
	}
	if (f->shift) {
		SEP();
		fprintf(out, ">> %u", f->shift);
	}
	if (f->flags & BLT_F_PACK_VSCALE) {
		SEP();
		fputs("× profile pack-voltage scale", out);
	} else if (f->scale != 0 && f->scale != 1) {
		SEP();
		fprintf(out, "× %g", f->scale);
	}
	if (f->add != 0) {
		SEP();
		fprintf(out, "%+g", f->add);
	}
	if (f->flags & BLT_F_ABS) {
		SEP();
		fputs("abs", out);
	}
	if (f->flags & BLT_F_CLAMP) {
		SEP();
		fprintf(out, "clamp %g..%g", f->clamp_lo, f->clamp_hi);
	}
	if (f->flags & BLT_F_ZERO_NA) {
		SEP();
		fputs("0 = not reported", out);
	}
	if (f->flags & BLT_F_SWAP_INDEX) {
		SEP();
		fputs("low byte first", out);
	}
	if (f->flags & BLT_F_COUNT) {
		SEP();
		fputs("count", out);
	}
	if (f->flags & BLT_F_REQUIRED) {
		SEP();
		fputs("required", out);
	}
	if (f->flags & BLT_F_SECRET) {
		SEP();
		fputs("**secret**", out);
	}
	if (f->min_pv) {
		SEP();
		fprintf(out, "protocol ≥ %u", f->min_pv);
	}
	if (f->enums) {
		SEP();
		fputs("enum:", out);
		for (const blt_enum_entry_t *e = f->enums; e->name; e++) {
			fprintf(out, " %d ", (int)e->value);
			cell(out, e->name);
		}
	}
	if (f->bits) {
		SEP();
		fputs("bits:", out);
		for (const blt_bit_name_t *e = f->bits; e->name; e++) {
			fprintf(out, " %u ", e->bit);
			cell(out, e->name);
		}
	}
	if (!n)
		fputs("–", out);
#undef SEP
}

static const blt_setting_t *setting_of(const blt_block_t *b, const blt_field_t *f)
{
	for (size_t i = 0; i < blt_setting_count(); i++) {
		const blt_setting_t *s = blt_setting_at(i);
		if (s->block == b->id && !f->repeat && s->field && strcmp(s->field, f->name) == 0)
			return s;
	}
	return NULL;
}

static void writable(FILE *out, const blt_block_t *b, const blt_field_t *f)
{
	const blt_setting_t *s = setting_of(b, f);
	unsigned off = f->offset + (f->repeat ? f->repeat->base_add : 0);
	unsigned sz = row_size(f);
	unsigned first = b->id + off / 2, last = b->id + (off + (sz ? sz : 1) - 1) / 2;

	if (s) {
		fprintf(out, "`%s` (%s)", s->name,
		        blt_setting_status_name((blt_setting_status_t)s->status));
		return;
	}
	for (unsigned r = first; r <= last && r <= 0xFFFF; r++) {
		if (blt_register_denied((uint16_t)r, NULL)) {
			fputs("**denied**", out);
			return;
		}
	}
	fputs("–", out);
}

/* The Home Assistant entity of a row (profile-independent): key, class, unit, category,
 * or why it is not one. A row whose quantity another row publishes names that row (it
 * stands in only on a profile that does not read the primary's block). */
static void ha_entity(FILE *out, const blt_block_t *b, const blt_field_t *f)
{
	blt_field_t g = *f;
	blt_ha_info_t hi;
	char name[BLT_NAME_MAX + 8], key[96];
	const char *pct;
	if (f->repeat && (pct = strstr(f->name, "%u")) != NULL) { /* "phase_{i}_voltage" */
		snprintf(name, sizeof name, "%.*s{i}%s", (int)(pct - f->name), f->name, pct + 2);
		g.name = name;
		g.repeat = NULL;
	}
	blt_ha_field_info(NULL, b, f, &hi);
	if (!hi.published) {
		fprintf(out, "not published (%s)", hi.why);
		return;
	}
	if (f->ha.same_as)
		fprintf(out, "in `%s`; ", f->ha.same_as);
	if (blt_ha_field_key(b, &g, 0, NULL, key, sizeof key) == BLT_OK)
		fprintf(out, "`%s`", key);
	if (hi.device_class)
		fprintf(out, " %s", hi.device_class);
	if (hi.unit)
		fprintf(out, " %s", hi.unit);
	if (hi.state_class && strcmp(hi.state_class, "measurement"))
		fprintf(out, " %s", hi.state_class);
	if (hi.sub)
		fputs(", battery pack", out);
	if (hi.diagnostic)
		fputs(", diagnostic", out);
	if (!hi.enabled)
		fputs(", off by default", out);
}

static void block_section(FILE *out, const blt_block_t *b)
{
	fprintf(out, "## Block %u — %s", b->id, b->name ? b->name : "?");
	if (b->title)
		fprintf(out, " (%s)", b->title);
	fprintf(out, "\n\nRegisters %u–%u (%u registers, %u bytes)", b->id,
	        b->id + (b->regs ? b->regs - 1 : 0), b->regs, 2u * b->regs);
	if (b->min_bytes)
		fprintf(out, "; a reply shorter than %u bytes is reported as short", b->min_bytes);
	fputs(".  \nSource: ", out);
	cell(out, b->source);
	fputs("\n\n| block | byte | register | name | type | unit | scale / transform | writable "
	      "| provenance | Home Assistant | description |\n"
	      "|---:|---:|---:|---|---|---|---|---|---|---|---|\n",
	      out);
	for (size_t i = 0; i < b->nfields; i++) {
		const blt_field_t *f = &b->fields[i];
		fprintf(out, "| %u | ", b->id);
		offsets(out, b, f);
		fputs(" | ", out);
		row_name(out, f->name);
		fprintf(out, " | %s", blt_type_name((blt_type_t)f->type));
		if (f->size)
			fprintf(out, "[%u]", f->size);
		fputs(" | ", out);
		cell(out, f->unit);
		fputs(" | ", out);
		transform(out, f);
		fputs(" | ", out);
		writable(out, b, f);
		fprintf(out, " | %s | ", blt_prov_name((blt_prov_t)f->prov));
		ha_entity(out, b, f);
		fputs(" | ", out);
		cell(out, f->desc);
		fputs(" |\n", out);
	}
	fputc('\n', out);
}

static void settings_section(FILE *out)
{
	fputs("## Writable settings\n\n"
	      "Written with FC 0x06, one register each. *live* = verified on a real device, "
	      "*client* = written by working third-party clients, *unverified* = firmware map "
	      "only (needs an explicit override). *LAN confirmation*: the write opens an "
	      "unauthenticated control surface on the LAN (Modbus TCP, Open MQTT) and needs an "
	      "explicit confirmation (`bluetti local enable`, docs/local.md).\n\n"
	      "| setting | register | block / byte | kind | values | status | profiles | "
	      "evidence |\n|---|---:|---|---|---|---|---|---|\n",
	      out);
	for (size_t i = 0; i < blt_setting_count(); i++) {
		const blt_setting_t *s = blt_setting_at(i);
		fprintf(out, "| `%s` | %u | %u / %u | %s | ", s->name, s->reg, s->block, s->offset,
		        blt_setting_kind_name((blt_setting_kind_t)s->kind));
		if (s->kind == BLT_SK_ENUM) {
			for (const blt_enum_entry_t *e = s->enums; e && e->name; e++) {
				fprintf(out, "%s%d ", e == s->enums ? "" : ", ", (int)e->value);
				cell(out, e->name);
			}
		} else if (s->kind == BLT_SK_SWITCH) {
			fputs("0 off, 1 on", out);
		} else if (s->kind == BLT_SK_SWITCH2 && s->row) {
			fprintf(out, "%lu on, %lu off (bits %u–%u; other fields 0 = unchanged)",
			        1ul << s->row->shift, 2ul << s->row->shift, s->row->shift,
			        s->row->shift + 1u);
		} else {
			fprintf(out, "%ld–%ld", (long)s->min, (long)s->max);
			if (s->unit)
				fprintf(out, " %s", s->unit);
			if (s->step > 1)
				fprintf(out, " step %ld", (long)s->step);
		}
		fprintf(out, " | %s%s | ", blt_setting_status_name((blt_setting_status_t)s->status),
		        s->lan_exposure ? ", LAN confirmation" : "");
		if (!s->profiles) {
			fputs("all V2", out);
		} else {
			for (const char *const *p = s->profiles; *p; p++)
				fprintf(out, "%s%s", p == s->profiles ? "" : ", ", *p);
		}
		fputs(" | ", out);
		cell(out, s->source);
		fputs(" |\n", out);
	}
	fputs("\n## Never written (deny list)\n\nThese registers are refused by the write "
	      "path whatever the options.\n\n| registers | reason |\n|---|---|\n",
	      out);
	for (size_t i = 0; i < blt_denied_count(); i++) {
		uint16_t a = 0, z = 0;
		const char *why = NULL;
		blt_denied_at(i, &a, &z, &why);
		if (a == z)
			fprintf(out, "| %u | ", a);
		else
			fprintf(out, "| %u–%u | ", a, z);
		cell(out, why);
		fputs(" |\n", out);
	}
}

/* The Modbus TCP open map (LOCAL.md §1.4), with the catalog block each run lands in. */
static void tcpmap_section(FILE *out)
{
	fprintf(out,
	        "\n## Modbus TCP open map (public → internal)\n\n"
	        "The Modbus TCP server of Bluetti's IoT firmware (LOCAL.md §1) does not serve the "
	        "registers above: it translates its own public addresses, register by register, "
	        "onto them. %zu public registers in %zu runs; a multi-register read touching an "
	        "unmapped address gets no reply at all, a one-register access must start a run. "
	        "RW rows forward FC06 to the internal register, and the reply echoes the internal "
	        "address. Writes go through the same gate and deny list as the internal "
	        "register (57026 is 2013, power-off: never written).\n\n"
	        "| public | internal | registers | block | access |\n|---|---|---:|---|---|\n",
	        blt_tcpmap_registers(), blt_tcpmap_count());
	for (size_t i = 0; i < blt_tcpmap_count(); i++) {
		const blt_tcp_run_t *r = blt_tcpmap_at(i);
		const blt_block_t *blk = NULL;

		for (size_t k = 0; k < blt_catalog_count(); k++) {
			const blt_block_t *b = blt_catalog_at(k);
			if (r->internal >= b->id && r->internal < b->id + b->regs)
				blk = b;
		}
		if (r->count == 1)
			fprintf(out, "| %u | %u | 1 | ", r->pub, r->internal);
		else
			fprintf(out, "| %u–%u | %u–%u | %u | ", r->pub, r->pub + r->count - 1,
			        r->internal, r->internal + r->count - 1, r->count);
		if (blk)
			fprintf(out, "%u %s", blk->id, blk->name ? blk->name : "");
		else
			fputs("—", out);
		fprintf(out, " | %s%s |\n", r->writable ? "RW" : "RO",
		        r->writable && blt_register_denied(r->internal, NULL) ? ", denied" : "");
	}
}

int blt_catalog_write_markdown(FILE *out)
{
	if (!out)
		return BLT_E_INVAL;
	fputs("# Register reference\n\n"
	      "Generated from the register catalog (`src/catalog/`) by "
	      "`bluetti blocks --markdown`; do not edit by hand.\n\n"
	      "A block is read with FC 0x03 at register = block id. Byte offset *o* of a field "
	      "= 2 × (register − block id); 8-bit fields at odd offsets are the low byte (*lo*) "
	      "of their register. `u32`/`i32` are two registers, low register first; `str_swap` "
	      "is ASCII with the bytes of each register swapped; `sn64` is a u64 serial, low "
	      "register first, shown in decimal. Provenance: *live* = verified against captures "
	      "of real devices, *firmware* = firmware register map, *app* = reference / app "
	      "tables only. Repeated records use *i* from 0. *Home Assistant*: the entity "
	      "bluetti-bridge publishes for the row (key, device class, unit; the full list per "
	      "profile is docs/ha-entities.md), or why none does; *in `B:row`*: the same "
	      "quantity is published from that row, this one stands in only on a profile that "
	      "does not read block B.\n\n",
	      out);
	fputs("| block | name | title | registers |\n|---:|---|---|---:|\n", out);
	for (size_t i = 0; i < blt_catalog_count(); i++) {
		const blt_block_t *b = blt_catalog_at(i);
		fprintf(out, "| %u | %s | ", b->id, b->name ? b->name : "?");
		cell(out, b->title);
		fprintf(out, " | %u |\n", b->regs);
	}
	fputc('\n', out);
	for (size_t i = 0; i < blt_catalog_count(); i++)
		block_section(out, blt_catalog_at(i));
	settings_section(out);
	tcpmap_section(out);
	fflush(out);
	return ferror(out) ? BLT_E_IO : BLT_OK;
}
