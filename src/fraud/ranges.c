/* Destination classes and the range database (see pbxguard/fraud/ranges.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pbxguard/fraud/ranges.h"

/*
 * Default high-risk list: destinations commonly abused for International Revenue Share
 * Fraud. The NANP area codes are those of the FCC "one ring" scam advisory; the countries
 * recur in the CFCA Global Fraud Loss Surveys and carriers' IRSF advisories as short-stopped
 * or high-termination-rate destinations. Satellite and international-network codes are
 * classes of their own and need no entry here.
 */
const char *const fraud_default_high_risk[] = {
    "+1268", "+1284", "+1473", "+1649", "+1767", "+1809", "+1829", "+1849", "+1876",
    "CU",    "SO",    "LV",    "LT",    "GN",    "SL",    "GM",    "ST",    "PG",
    "CK",    "TV",    "NR",    "SB",    "VU",    "IO",    "FK",    "NU",    "TK",
    "KM",    "TD",    "GW",    "MR",    "MV",    "ER",    NULL,
};

static const char *const class_names[FRAUD_CLASS_COUNT] = {
    [FRAUD_CLASS_UNKNOWN] = "unknown",
    [FRAUD_CLASS_INTERNAL] = "internal",
    [FRAUD_CLASS_EMERGENCY] = "emergency",
    [FRAUD_CLASS_NATIONAL] = "national",
    [FRAUD_CLASS_MOBILE] = "mobile",
    [FRAUD_CLASS_TOLLFREE] = "tollfree",
    [FRAUD_CLASS_INTERNATIONAL] = "international",
    [FRAUD_CLASS_PREMIUM] = "premium",
    [FRAUD_CLASS_SHARED_COST] = "shared",
    [FRAUD_CLASS_NONGEO] = "nongeo",
    [FRAUD_CLASS_SATELLITE] = "satellite",
    [FRAUD_CLASS_HIGH_RISK] = "high_risk",
};

const char *fraud_class_name(enum fraud_class c)
{
    if ((unsigned)c >= FRAUD_CLASS_COUNT)
        return "unknown";
    return class_names[c];
}

int fraud_class_from_name(struct slice name)
{
    for (int i = 0; i < FRAUD_CLASS_COUNT; i++)
        if (slice_eq_cstr_ci(name, class_names[i]))
            return i;
    return -1;
}

int fraud_ranges_init(struct fraud_ranges *r)
{
    int rc;
    memset(r, 0, sizeof(*r));
    rc = fraud_trie_init(&r->cc);
    if (rc == 0)
        rc = fraud_trie_init(&r->ranges);
    if (rc == 0)
        rc = fraud_trie_init(&r->high_risk);
    if (rc < 0)
        fraud_ranges_fini(r);
    return rc;
}

void fraud_ranges_fini(struct fraud_ranges *r)
{
    fraud_trie_fini(&r->cc);
    fraud_trie_fini(&r->ranges);
    fraud_trie_fini(&r->high_risk);
    r->n_regions = 0;
}

static bool valid_region(const char *region)
{
    size_t n = strlen(region);
    if (n < 2 || n > 3)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = region[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return false;
    }
    return true;
}

static int region_index(struct fraud_ranges *r, const char *region, uint32_t *idx)
{
    for (size_t i = 0; i < r->n_regions; i++)
        if (strcmp(r->regions[i], region) == 0) {
            *idx = (uint32_t)i;
            return 0;
        }
    if (!valid_region(region))
        return -EINVAL;
    if (r->n_regions == FRAUD_REGIONS_MAX)
        return -EMSGSIZE;
    slice_copy_cstr(slice_cstr(region), r->regions[r->n_regions], sizeof(r->regions[0]));
    *idx = (uint32_t)r->n_regions++;
    return 0;
}

static int tag_class(const char *tag)
{
    static const struct {
        const char *tag;
        enum fraud_class c;
    } tags[] = {
        {"mobile", FRAUD_CLASS_MOBILE},     {"tollfree", FRAUD_CLASS_TOLLFREE},
        {"premium", FRAUD_CLASS_PREMIUM},   {"shared", FRAUD_CLASS_SHARED_COST},
        {"nongeo", FRAUD_CLASS_NONGEO},     {"satellite", FRAUD_CLASS_SATELLITE},
        {"national", FRAUD_CLASS_NATIONAL},
    };
    for (size_t i = 0; i < PBX_ARRAY_SIZE(tags); i++)
        if (strcmp(tags[i].tag, tag) == 0)
            return (int)tags[i].c;
    return -1;
}

int fraud_ranges_add(struct fraud_ranges *r, const char *prefix, const char *tag,
                     const char *region)
{
    uint32_t idx;
    int rc = region_index(r, region, &idx);
    if (rc < 0)
        return rc;
    if (strcmp(tag, "cc") == 0)
        return fraud_trie_insert(&r->cc, slice_cstr(prefix), idx);
    rc = tag_class(tag);
    if (rc < 0)
        return -EINVAL;
    return fraud_trie_insert(&r->ranges, slice_cstr(prefix), (uint32_t)rc << 16 | idx);
}

int fraud_ranges_add_high_risk(struct fraud_ranges *r, const char *entry)
{
    uint32_t idx;
    int rc;
    if (entry[0] == '+')
        return fraud_trie_insert(&r->high_risk, slice_cstr(entry), 0);
    rc = region_index(r, entry, &idx);
    if (rc < 0)
        return rc;
    r->region_high_risk[idx] = true;
    return 0;
}

/* Splits the next space-separated field of a line; returns its length (0 at the end). */
static size_t next_field(char **cur, char **field)
{
    char *s = *cur;
    size_t n = 0;
    while (*s == ' ' || *s == '\t')
        s++;
    *field = s;
    while (s[n] && s[n] != ' ' && s[n] != '\t' && s[n] != '\n' && s[n] != '\r')
        n++;
    *cur = s + n + (s[n] ? 1 : 0);
    if (s[n])
        s[n] = '\0';
    return n;
}

int fraud_ranges_load(struct fraud_ranges *r, const char *path, char *err, size_t err_cap)
{
    char line[256];
    unsigned lineno = 0;
    int rc = 0;
    FILE *f = fopen(path, "r");

    if (!f) {
        rc = -errno;
        if (err)
            snprintf(err, err_cap, "%s: %s", path, strerror(errno));
        return rc;
    }
    while (fgets(line, sizeof(line), f)) {
        char *cur = line, *prefix, *tag, *region, *extra;
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            rc = -EMSGSIZE;
            if (err)
                snprintf(err, err_cap, "%s:%u: line too long", path, lineno);
            goto out;
        }
        if (!next_field(&cur, &prefix) || prefix[0] == '#')
            continue;
        if (!next_field(&cur, &tag) || !next_field(&cur, &region) || next_field(&cur, &extra)) {
            rc = -EBADMSG;
            if (err)
                snprintf(err, err_cap, "%s:%u: expected '<prefix> <tag> <region>'", path, lineno);
            goto out;
        }
        rc = fraud_ranges_add(r, prefix, tag, region);
        if (rc < 0) {
            if (err)
                snprintf(err, err_cap, "%s:%u: bad entry '%s %s %s'", path, lineno, prefix, tag,
                         region);
            if (rc == -EINVAL)
                rc = -EBADMSG;
            goto out;
        }
    }
    if (ferror(f)) {
        rc = -EIO;
        if (err)
            snprintf(err, err_cap, "%s: read error", path);
    }
out:
    fclose(f);
    return rc;
}

void fraud_classify(const struct fraud_ranges *r, const struct fraud_dialplan *plan,
                    const struct fraud_number *num, struct fraud_dest *out)
{
    struct slice d = slice_make(num->digits, num->len);
    uint32_t v;
    size_t mlen;
    enum fraud_class range_class = FRAUD_CLASS_NATIONAL;

    memset(out, 0, sizeof(*out));
    switch (num->kind) {
    case FRAUD_NUM_INTERNAL:
        out->class = FRAUD_CLASS_INTERNAL;
        out->classes = FRAUD_CLASS_BIT(out->class);
        return;
    case FRAUD_NUM_EMERGENCY:
        out->class = FRAUD_CLASS_EMERGENCY;
        out->classes = FRAUD_CLASS_BIT(out->class);
        return;
    case FRAUD_NUM_INVALID:
        out->class = FRAUD_CLASS_UNKNOWN;
        out->classes = FRAUD_CLASS_BIT(out->class);
        return;
    case FRAUD_NUM_E164:
        break;
    }
    if (fraud_trie_lookup(&r->cc, d, &v, NULL) == 0 && v < r->n_regions) {
        memcpy(out->region, r->regions[v], sizeof(out->region));
        out->high_risk = r->region_high_risk[v];
    }
    if (fraud_trie_lookup(&r->ranges, d, &v, &mlen) == 0) {
        range_class = (enum fraud_class)(v >> 16);
        out->range_len = mlen;
        if (!out->region[0] && (v & 0xffff) < r->n_regions)
            memcpy(out->region, r->regions[v & 0xffff], sizeof(out->region));
    }
    if (fraud_trie_lookup(&r->high_risk, d, &v, NULL) == 0)
        out->high_risk = true;
    /* NANP shares +1 among many countries: "international" follows the region, and only
     * falls back to the country code when the region is unknown. */
    if (plan->region[0] && out->region[0])
        out->international = strcmp(plan->region, out->region) != 0;
    else
        out->international = !plan->country_code[0] || strncmp(num->digits + 1, plan->country_code,
                                                               strlen(plan->country_code)) != 0;

    /* Abroad, a geographic number is simply international: "national" never applies. */
    out->classes = out->international && range_class == FRAUD_CLASS_NATIONAL
                       ? 0
                       : FRAUD_CLASS_BIT(range_class);
    if (out->international)
        out->classes |= FRAUD_CLASS_BIT(FRAUD_CLASS_INTERNATIONAL);
    if (out->high_risk)
        out->classes |= FRAUD_CLASS_BIT(FRAUD_CLASS_HIGH_RISK);
    /* The primary class is the costliest thing that applies. */
    if (range_class != FRAUD_CLASS_NATIONAL && range_class != FRAUD_CLASS_MOBILE)
        out->class = range_class;
    else if (out->high_risk)
        out->class = FRAUD_CLASS_HIGH_RISK;
    else if (out->international)
        out->class = FRAUD_CLASS_INTERNATIONAL;
    else
        out->class = range_class;
}
