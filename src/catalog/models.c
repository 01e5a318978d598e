/* Cloud model codes -> device profiles: pure data (DESIGN.md: "a profile names ... cloud
 * model codes and aliases"). The code is what the account's device record says in
 * "model" and what the device puts in its topics (PUB/<code>/<subSn>); it is used as
 * given, spaces included. Sources: EVIDENCE.md §5 and LOCAL.md §5 item 1 (firmware type
 * strings; the official integration's fixtures; the Venus gateway on an EP760).
 * A code maps to a specific profile only where the evidence ties the unit to it; the
 * other V2-era codes use the generic profile (core groups, protocol version from block 1)
 * until a profile for them exists. */
#include <string.h>
#include <strings.h>

#include <bluetti/bluetti.h>

#define SRC_FW   "firmware type list (EVIDENCE.md §5, LOCAL.md §5)"
#define SRC_LIVE "live captures (PROTOCOL.md §7.1)"

static const blt_model_alias_t aliases[] = {
    {"EL30V2", "EL30V2", "Elite 30 V2", SRC_FW},
    {"EL100V2", "EL100V2", "Elite 100 V2", SRC_FW},
    /* firmware SN_TYPE_INV_ELITE200_V2_ASCII; BLE name and Wi-Fi SSID agree */
    {"Elite 200 V2", "ELITE200V2", "Elite 200 V2", SRC_FW},
    {"AP300", "AP300", "Apex 300", SRC_LIVE},
    /* V2-era codes without a profile of their own yet */
    {"AP300V2", "GENERIC", NULL, SRC_FW},
    {"AP200", "GENERIC", NULL, SRC_FW},
    {"PR30V2", "GENERIC", NULL, SRC_FW},
    {"PR100V2", "GENERIC", NULL, SRC_FW},
    {"PR200V2", "GENERIC", NULL, SRC_FW},
    {"PR150V3", "GENERIC", NULL, SRC_FW},
    {"AORA30V2", "GENERIC", "AORA 30 V2", SRC_FW},
    {"AORA100V2", "GENERIC", "AORA 100 V2", SRC_FW},
    {"AORA200", "GENERIC", "AORA 200", SRC_FW},
    {"AORA200V2", "GENERIC", "AORA 200 V2", SRC_FW},
    {"AORA 80", "GENERIC", "AORA 80", SRC_FW},
    {"AORA 100", "GENERIC", "AORA 100", SRC_FW},
    {"EL10", "GENERIC", NULL, SRC_FW},
    {"EL80V2", "GENERIC", NULL, SRC_FW},
    {"EL100V3", "GENERIC", NULL, SRC_FW},
    {"EL200V3", "GENERIC", NULL, SRC_FW},
    {"EL300", "GENERIC", NULL, SRC_FW},
    {"EL320", "GENERIC", NULL, SRC_FW},
    {"EL400", "GENERIC", NULL, SRC_FW},
    /* the EP760's cloud model (type 3003; venus-gateway, live on an EP760) */
    {"PBOX", "EP760", "EP760", "firmware type 3003; venus-gateway (EVIDENCE.md §5)"},
    {"EP760", "EP760", "EP760", "Patrick762/bluetti-bt-lib PR #88 (EVIDENCE.md)"},
    {"EP600", "EP600", "EP600", "Patrick762/bluetti-bt-lib #74 (EVIDENCE.md)"},
};

size_t blt_model_alias_count(void)
{
	return sizeof aliases / sizeof aliases[0];
}

const blt_model_alias_t *blt_model_alias_at(size_t i)
{
	return i < blt_model_alias_count() ? &aliases[i] : NULL;
}

const blt_model_alias_t *blt_model_alias_find(const char *code)
{
	if (!code)
		return NULL;
	/* exact first (the code is a topic segment), then ignoring case */
	for (size_t i = 0; i < blt_model_alias_count(); i++)
		if (!strcmp(aliases[i].code, code))
			return &aliases[i];
	for (size_t i = 0; i < blt_model_alias_count(); i++)
		if (!strcasecmp(aliases[i].code, code))
			return &aliases[i];
	return NULL;
}

const blt_profile_t *blt_profile_for_model(const char *code)
{
	const blt_model_alias_t *a = blt_model_alias_find(code);
	const blt_profile_t *p = a ? blt_profile_find(a->profile) : blt_profile_find(code);
	return p ? p : blt_profile_generic();
}

int blt_topic_model_ok(const char *s)
{
	size_t n;
	if (!s || !*s)
		return 0;
	n = strlen(s);
	if (n > 64 || s[0] == ' ' || s[n - 1] == ' ')
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || c == '+' || c == '#' || c == '/')
			return 0;
	}
	return 1;
}
