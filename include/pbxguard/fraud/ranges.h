/*
 * Destination classes: which kind of number an E.164 destination is (mobile, premium,
 * satellite...), which country it belongs to, and whether it is on the high-risk list.
 * The range database is loaded once from data/fraud/ranges.txt (generated from
 * libphonenumber's metadata by scripts/gen-fraud-ranges.py) and is read-only afterwards:
 * classification is thread-safe on a loaded database.
 */
#ifndef PBXGUARD_FRAUD_RANGES_H
#define PBXGUARD_FRAUD_RANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pbxguard/core/compiler.h"
#include "pbxguard/core/slice.h"
#include "pbxguard/fraud/number.h"
#include "pbxguard/fraud/trie.h"

enum fraud_class {
    FRAUD_CLASS_UNKNOWN = 0, /* not a number the plan understands */
    FRAUD_CLASS_INTERNAL,    /* extension or feature code */
    FRAUD_CLASS_EMERGENCY,   /* always allowed, whatever the policy or lock */
    FRAUD_CLASS_NATIONAL,    /* geographic number in the home country */
    FRAUD_CLASS_MOBILE,
    FRAUD_CLASS_TOLLFREE,
    FRAUD_CLASS_INTERNATIONAL, /* any number outside the home region */
    FRAUD_CLASS_PREMIUM,       /* premium rate (UK 09, +979...) */
    FRAUD_CLASS_SHARED_COST,   /* shared cost (UK 084, +808...) */
    FRAUD_CLASS_NONGEO,        /* personal, UAN, VoIP, international networks +882/+883 */
    FRAUD_CLASS_SATELLITE,     /* +870 Inmarsat, +881 GMSS */
    FRAUD_CLASS_HIGH_RISK,     /* on the configured high-risk list */
    FRAUD_CLASS_COUNT
};

#define FRAUD_CLASS_BIT(c) (1u << (unsigned)(c))
#define FRAUD_CLASS_ALL ((1u << FRAUD_CLASS_COUNT) - 1u)
#define FRAUD_REGIONS_MAX 512

/* Result of classifying one number. Strings are NUL-terminated. */
struct fraud_dest {
    enum fraud_class class; /* the most telling class (see docs/fraud.md) */
    uint32_t classes;       /* every class that applies, FRAUD_CLASS_BIT() */
    char region[4];         /* ISO 3166 region, "001" non-geographic, "" unknown */
    bool international;
    bool high_risk;
    size_t range_len; /* digits of the matched special range, 0 if none */
};

struct fraud_ranges {
    struct fraud_trie cc;        /* prefix -> region index */
    struct fraud_trie ranges;    /* prefix -> class << 16 | region index */
    struct fraud_trie high_risk; /* prefix -> 0 */
    char regions[FRAUD_REGIONS_MAX][4];
    bool region_high_risk[FRAUD_REGIONS_MAX];
    size_t n_regions;
};

/* Initialises an empty database. -ENOMEM. */
PBX_WUR int fraud_ranges_init(struct fraud_ranges *r);
void fraud_ranges_fini(struct fraud_ranges *r);

/*
 * Loads a ranges file ("<prefix> <tag> <region>" lines, '#' comments). On error returns
 * -errno (-ENOENT, -EBADMSG for a bad line, -EMSGSIZE for a cap) and writes
 * "path:line: reason" to err (NUL-terminated, truncated to err_cap; err may be NULL).
 */
PBX_WUR int fraud_ranges_load(struct fraud_ranges *r, const char *path, char *err, size_t err_cap);

/* Adds one range or country line programmatically; tag as in the file ("cc", "premium"...).
 * -EINVAL bad tag/prefix/region, -EMSGSIZE, -ENOMEM. */
PBX_WUR int fraud_ranges_add(struct fraud_ranges *r, const char *prefix, const char *tag,
                             const char *region);

/* Marks an entry high-risk: an ISO region ("CU") or a "+"-prefixed E.164 prefix
 * ("+1876"). -EINVAL on a malformed entry, -EMSGSIZE, -ENOMEM. */
PBX_WUR int fraud_ranges_add_high_risk(struct fraud_ranges *r, const char *entry);

/* The built-in high-risk list (docs/fraud.md states its sources), NULL-terminated. */
extern const char *const fraud_default_high_risk[];

/* Classifies a normalised number. Never fails: unknown input yields FRAUD_CLASS_UNKNOWN. */
void fraud_classify(const struct fraud_ranges *r, const struct fraud_dialplan *plan,
                    const struct fraud_number *num, struct fraud_dest *out);

/* Short names ("premium", "satellite"...) and back; -1 for an unknown name. */
const char *fraud_class_name(enum fraud_class c);
int fraud_class_from_name(struct slice name);

#endif
