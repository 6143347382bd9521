/*
 * Reload of the ban section into a running detection runtime: escalation steps apply to the
 * next ban, allow-list networks follow the file while those added at run time stay, and
 * what only a restart can change is reported, not silently ignored.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pbxguard/detect/runtime.h"
#include "test.h"

#define MIN (60 * 1000LL)

static struct pbx_cidr cidr(const char *a, unsigned prefix)
{
    struct pbx_cidr c;
    memset(&c, 0, sizeof(c));
    if (pbx_addr_parse(a, strlen(a), &c.base) != 0)
        abort();
    c.prefix = (uint8_t)prefix;
    return c;
}

static struct pbx_addr ip(const char *s)
{
    struct pbx_addr a;
    if (pbx_addr_parse(s, strlen(s), &a) != 0)
        abort();
    return a;
}

static void section(struct ban_section *bs, const struct pbx_cidr *allow, size_t nallow)
{
    memset(bs, 0, sizeof(*bs));
    ban_config_defaults(&bs->cfg);
    bs->allow = allow;
    bs->nallow = nallow;
    bs->nft = false;
}

static void test_reload_bans(void)
{
    char err[256], note[128];
    struct det_runtime *r = NULL;
    struct det_config dc;
    struct ban_entry e;
    const struct pbx_cidr office = cidr("198.51.100.0", 24), trunk = cidr("203.0.113.7", 32);
    const struct pbx_cidr before[] = {office, trunk};
    const struct pbx_cidr after[] = {trunk};
    struct ban_section old, next;

    det_config_defaults(&dc);
    dc.memory_max = 2u << 20;
    section(&old, before, 2);
    CHECK_INT(det_runtime_open(&dc, &old, NULL, NULL, NULL, false, 1000, err, sizeof(err), &r), 0);
    if (!r)
        return;
    struct pbx_cidr by_ctl = cidr("192.0.2.9", 32);
    CHECK_INT(ban_allow_add(r->bans, &by_ctl), 0);
    CHECK(ban_allowed(r->bans, &office.base));

    /* The office leaves the file; the first ban now lasts 2 minutes. */
    section(&next, after, 1);
    next.cfg.steps_ms[0] = 2 * MIN;
    CHECK_INT(det_runtime_reload_bans(r, &old, &next, note, sizeof(note)), 0);
    CHECK_STR(note, "");
    struct pbx_addr office_host = ip("198.51.100.20");
    CHECK(!ban_allowed(r->bans, &office_host));
    CHECK(ban_allowed(r->bans, &trunk.base));
    CHECK(ban_allowed(r->bans, &by_ctl.base)); /* run-time additions are not the file's */
    struct pbx_addr a = ip("198.51.100.66");
    CHECK_INT(ban_add(r->bans, &a, 0, 0, "r", "x", 5000, &e, NULL), 0);
    CHECK_INT(e.expires_ms - 5000, 2 * MIN);

    /* A new capacity or nftables setting needs a restart, and says so. */
    struct ban_section big = next;
    big.cfg.capacity = next.cfg.capacity * 2;
    big.nft = true;
    CHECK_INT(det_runtime_reload_bans(r, &next, &big, note, sizeof(note)), 1);
    CHECK_STR(note, "ban.capacity, ban.nftables");
    CHECK_INT(ban_add(r->bans, &a, 0, 0, "r", "x", 5000 + 3 * MIN, &e, NULL), 0);
    CHECK_INT(e.level, 2); /* history kept across reloads: the repeat offence escalates */

    /* Back to the defaults (no ban section, so nftables on): the file's trunk goes, the ctl
     * entry stays. */
    CHECK_INT(det_runtime_reload_bans(r, &next, NULL, note, sizeof(note)), 1);
    CHECK_STR(note, "ban.nftables");
    CHECK(!ban_allowed(r->bans, &trunk.base));
    CHECK(ban_allowed(r->bans, &by_ctl.base));
    det_runtime_close(r);
}

int main(void)
{
    test_reload_bans();
    return test_finish();
}
