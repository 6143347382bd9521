/*
 * Dialled-number normalisation: turns what a phone sent in the Request-URI user part into
 * an E.164 number (+CC NSN), an internal extension, or an emergency number, by a
 * configured dialling plan. Attackers dial through a PBX with mangled forms ("++44",
 * "0+44", "9011+44", carrier-select "1010222" + "011..."), hoping a prefix-based policy
 * misses them; every such form is normalised here and flagged.
 * All functions are pure and thread-safe.
 */
#ifndef PBXGUARD_FRAUD_NUMBER_H
#define PBXGUARD_FRAUD_NUMBER_H

#include <stddef.h>
#include <stdint.h>

#include "pbxguard/core/compiler.h"
#include "pbxguard/core/slice.h"

/* E.164 §6: at most 15 digits. Dialled input longer than FRAUD_DIALLED_MAX is refused. */
#define FRAUD_E164_DIGITS_MAX 15
#define FRAUD_DIALLED_MAX 64
#define FRAUD_PLAN_INTL_MAX 4
#define FRAUD_PLAN_CARRIER_MAX 4
#define FRAUD_PLAN_EMERGENCY_MAX 12
#define FRAUD_PLAN_CODE_MAX 8

/*
 * A dialling plan. Strings are NUL-terminated digit strings. Carrier-select patterns use
 * 'x' for any digit ("1010xxx" is the North American 101XXXX form).
 */
struct fraud_dialplan {
    char region[4];                                               /* home ISO region, "US" */
    char country_code[4];                                         /* "1", "44", "49" */
    char national_prefix[4];                                      /* "0"; "1" in NANP; "" none */
    char intl_prefixes[FRAUD_PLAN_INTL_MAX][FRAUD_PLAN_CODE_MAX]; /* "00", "011" */
    size_t n_intl_prefixes;
    char outside_line[4]; /* "9" or "0"; "" none */
    char carrier_select[FRAUD_PLAN_CARRIER_MAX][FRAUD_PLAN_CODE_MAX];
    size_t n_carrier_select;
    char emergency[FRAUD_PLAN_EMERGENCY_MAX][FRAUD_PLAN_CODE_MAX];
    size_t n_emergency;
    /* Internal extensions: numbers of this many digits with no prefix. */
    unsigned ext_min_len, ext_max_len;
    /* National significant number length dialled without any prefix (NANP 10 digits). */
    unsigned nsn_min_len, nsn_max_len;
};

enum fraud_num_kind {
    FRAUD_NUM_INVALID = 0, /* not a number the plan understands */
    FRAUD_NUM_E164,        /* digits holds "+CCNSN" */
    FRAUD_NUM_INTERNAL,    /* digits holds the extension (may start with '*' or '#') */
    FRAUD_NUM_EMERGENCY,   /* digits holds the emergency code as dialled after prefixes */
};

/* Bits of fraud_number.flags: what was stripped or repaired on the way. */
#define FRAUD_NUMF_PLUS 0x01u            /* started with '+' */
#define FRAUD_NUMF_INTL_PREFIX 0x02u     /* an international prefix (00, 011) was used */
#define FRAUD_NUMF_NATIONAL_PREFIX 0x04u /* national prefix (0) replaced by the country code */
#define FRAUD_NUMF_OUTSIDE_LINE 0x08u    /* outside-line digit stripped */
#define FRAUD_NUMF_CARRIER_SELECT 0x10u  /* carrier-select code stripped */
#define FRAUD_NUMF_MANGLED 0x20u         /* a form no honest phone sends: ++, 0+, 00+, 011011 */
#define FRAUD_NUMF_SEPARATORS 0x40u      /* visual separators (space - . ( )) removed */
#define FRAUD_NUMF_INTERNATIONAL 0x80u   /* E.164 number outside the plan's country code */

struct fraud_number {
    enum fraud_num_kind kind;
    unsigned flags;
    /* NUL-terminated; "+" and up to FRAUD_E164_DIGITS_MAX digits, or an extension. */
    char digits[FRAUD_DIALLED_MAX + 1];
    size_t len;
};

/* Fills a plan with neutral defaults: no country, intl "00", extensions 2..6 digits,
 * emergency 112, 911, 999, 000, 110, 118, 119, 999. */
void fraud_dialplan_init(struct fraud_dialplan *plan);

/* Convenience presets, named by the ISO region: "US" (NANP), "GB", "DE", "FR", "AU".
 * Returns -ENOENT for an unknown name (plan untouched). */
PBX_WUR int fraud_dialplan_preset(struct fraud_dialplan *plan, const char *region);

/*
 * Normalises `dialled` (borrowed, any bytes, need not be NUL-terminated). Always writes
 * *out; returns 0 when out->kind is E164, INTERNAL or EMERGENCY, -EINVAL when the input is
 * not a number (out->kind INVALID: letters, empty, impossible E.164), -EMSGSIZE when
 * longer than FRAUD_DIALLED_MAX.
 */
PBX_WUR int fraud_number_normalise(const struct fraud_dialplan *plan, struct slice dialled,
                                   struct fraud_number *out);

/* Text name of a kind ("e164", "internal", "emergency", "invalid"). Never NULL. */
const char *fraud_num_kind_name(enum fraud_num_kind kind);

#endif
