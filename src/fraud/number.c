/*
 * Dialled-number normalisation by a dialling plan (see pbxguard/fraud/number.h).
 * The input is attacker-controlled: every step works on a bounded local copy and every
 * loop is bounded by the copy's length.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "pbxguard/fraud/number.h"

static void set_str(char *dst, size_t cap, const char *src)
{
    slice_copy_cstr(slice_cstr(src), dst, cap);
}

void fraud_dialplan_init(struct fraud_dialplan *plan)
{
    static const char *const emergency[] = {"112", "911", "999", "000", "110", "118", "119"};

    memset(plan, 0, sizeof(*plan));
    set_str(plan->intl_prefixes[0], sizeof(plan->intl_prefixes[0]), "00");
    plan->n_intl_prefixes = 1;
    for (size_t i = 0; i < PBX_ARRAY_SIZE(emergency); i++)
        set_str(plan->emergency[i], sizeof(plan->emergency[i]), emergency[i]);
    plan->n_emergency = PBX_ARRAY_SIZE(emergency);
    plan->ext_min_len = 2;
    plan->ext_max_len = 6;
}

struct preset {
    const char *region, *cc, *np, *intl1, *intl2, *carrier;
    const char *emergency[4];
    unsigned ext_min, ext_max, nsn_min, nsn_max;
};

/* Emergency numbers per ITU-T E.161.1 and national regulators; 112 is kept everywhere
 * because GSM handsets route it on every network. */
static const struct preset presets[] = {
    {"US", "1", "1", "011", "", "1010xxx", {"911", "112", "933", NULL}, 2, 6, 10, 10},
    {"CA", "1", "1", "011", "", "1010xxx", {"911", "112", NULL, NULL}, 2, 6, 10, 10},
    {"GB", "44", "0", "00", "", "", {"999", "112", NULL, NULL}, 2, 6, 0, 0},
    {"DE", "49", "0", "00", "", "010xx", {"112", "110", NULL, NULL}, 2, 6, 0, 0},
    {"FR", "33", "0", "00", "", "", {"112", "15", "17", "18"}, 2, 6, 0, 0},
    {"AU", "61", "0", "0011", "", "", {"000", "112", "106", NULL}, 2, 6, 0, 0},
};

int fraud_dialplan_preset(struct fraud_dialplan *plan, const char *region)
{
    const struct preset *p = NULL;
    for (size_t i = 0; i < PBX_ARRAY_SIZE(presets); i++)
        if (strcmp(presets[i].region, region) == 0)
            p = &presets[i];
    if (!p)
        return -ENOENT;
    fraud_dialplan_init(plan);
    set_str(plan->region, sizeof(plan->region), p->region);
    set_str(plan->country_code, sizeof(plan->country_code), p->cc);
    set_str(plan->national_prefix, sizeof(plan->national_prefix), p->np);
    set_str(plan->intl_prefixes[0], sizeof(plan->intl_prefixes[0]), p->intl1);
    plan->n_intl_prefixes = 1;
    if (p->intl2[0]) {
        set_str(plan->intl_prefixes[1], sizeof(plan->intl_prefixes[1]), p->intl2);
        plan->n_intl_prefixes = 2;
    }
    plan->n_carrier_select = 0;
    if (p->carrier[0]) {
        set_str(plan->carrier_select[0], sizeof(plan->carrier_select[0]), p->carrier);
        plan->n_carrier_select = 1;
    }
    plan->n_emergency = 0;
    for (size_t i = 0; i < PBX_ARRAY_SIZE(p->emergency) && p->emergency[i]; i++)
        set_str(plan->emergency[plan->n_emergency++], FRAUD_PLAN_CODE_MAX, p->emergency[i]);
    plan->ext_min_len = p->ext_min;
    plan->ext_max_len = p->ext_max;
    plan->nsn_min_len = p->nsn_min;
    plan->nsn_max_len = p->nsn_max;
    return 0;
}

const char *fraud_num_kind_name(enum fraud_num_kind kind)
{
    switch (kind) {
    case FRAUD_NUM_E164:
        return "e164";
    case FRAUD_NUM_INTERNAL:
        return "internal";
    case FRAUD_NUM_EMERGENCY:
        return "emergency";
    case FRAUD_NUM_INVALID:
        break;
    }
    return "invalid";
}

static bool starts_with(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return n > 0 && len >= n && memcmp(s, prefix, n) == 0;
}

static bool all_digits(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static bool is_emergency(const struct fraud_dialplan *plan, const char *s, size_t len)
{
    for (size_t i = 0; i < plan->n_emergency; i++)
        if (strlen(plan->emergency[i]) == len && memcmp(plan->emergency[i], s, len) == 0)
            return true;
    return false;
}

/* Length of the longest international prefix `s` starts with, 0 if none. */
static size_t intl_prefix_len(const struct fraud_dialplan *plan, const char *s, size_t len)
{
    size_t best = 0;
    for (size_t i = 0; i < plan->n_intl_prefixes; i++) {
        size_t n = strlen(plan->intl_prefixes[i]);
        if (n > best && starts_with(s, len, plan->intl_prefixes[i]))
            best = n;
    }
    return best;
}

/* Length of the carrier-select code `s` starts with ('x' matches any digit), 0 if none. */
static size_t carrier_len(const struct fraud_dialplan *plan, const char *s, size_t len)
{
    for (size_t i = 0; i < plan->n_carrier_select; i++) {
        const char *pat = plan->carrier_select[i];
        size_t n = strlen(pat), k;
        if (n == 0 || len <= n)
            continue;
        for (k = 0; k < n; k++)
            if (!(pat[k] == 'x' ? (s[k] >= '0' && s[k] <= '9') : s[k] == pat[k]))
                break;
        if (k == n)
            return n;
    }
    return 0;
}

static bool is_nsn_len(const struct fraud_dialplan *plan, size_t len)
{
    return plan->nsn_min_len && len >= plan->nsn_min_len && len <= plan->nsn_max_len;
}

/* Copies the dialled bytes without visual separators (RFC 3966 §5.1.1) into buf. */
static int clean_input(struct slice in, char *buf, size_t *len_out, unsigned *flags)
{
    size_t n = 0;
    for (size_t i = 0; i < in.len; i++) {
        char c = in.p[i];
        if (c == ';')
            break; /* RFC 3966 parameters (;phone-context, ;isub) carry no digits to dial */
        if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')') {
            *flags |= FRAUD_NUMF_SEPARATORS;
            continue;
        }
        if (!((c >= '0' && c <= '9') || c == '+' || c == '*' || c == '#'))
            return -EINVAL;
        if (n >= FRAUD_DIALLED_MAX)
            return -EMSGSIZE;
        buf[n++] = c;
    }
    /* A trailing '#' is the "send" key on many phones. */
    while (n > 1 && buf[n - 1] == '#')
        n--;
    *len_out = n;
    return n ? 0 : -EINVAL;
}

static int finish(struct fraud_number *out, enum fraud_num_kind kind, const char *lead,
                  const char *s, size_t len)
{
    size_t l = strlen(lead);
    if (l + len > FRAUD_DIALLED_MAX)
        return -EMSGSIZE;
    memcpy(out->digits, lead, l);
    memcpy(out->digits + l, s, len);
    out->len = l + len;
    out->digits[out->len] = '\0';
    out->kind = kind;
    return 0;
}

static int finish_e164(const struct fraud_dialplan *plan, struct fraud_number *out, const char *cc,
                       const char *s, size_t len)
{
    size_t cl = strlen(cc);
    char tmp[FRAUD_DIALLED_MAX + 1];
    if (cl + len > FRAUD_E164_DIGITS_MAX || cl + len < 4 || !all_digits(s, len))
        return -EINVAL;
    memcpy(tmp, cc, cl);
    memcpy(tmp + cl, s, len);
    /* E.164: a country code never starts with 0. */
    if (tmp[0] == '0')
        return -EINVAL;
    if (plan->country_code[0] && !starts_with(tmp, cl + len, plan->country_code))
        out->flags |= FRAUD_NUMF_INTERNATIONAL;
    else if (!plan->country_code[0])
        out->flags |= FRAUD_NUMF_INTERNATIONAL;
    return finish(out, FRAUD_NUM_E164, "+", tmp, cl + len);
}

int fraud_number_normalise(const struct fraud_dialplan *plan, struct slice dialled,
                           struct fraud_number *out)
{
    char buf[FRAUD_DIALLED_MAX + 1];
    size_t len = 0;
    const char *s = buf;
    bool intl = false;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = clean_input(dialled, buf, &len, &out->flags);
    if (rc < 0)
        goto out;
    if (buf[0] == '*' || buf[0] == '#') {
        /* Feature codes (*97 voicemail, *72 forwarding) stay inside the PBX. */
        rc = finish(out, FRAUD_NUM_INTERNAL, "", s, len);
        goto out;
    }
    if (is_emergency(plan, s, len)) {
        rc = finish(out, FRAUD_NUM_EMERGENCY, "", s, len);
        goto out;
    }
    /* Each pass strips one layer of prefix; the input shrinks every pass, so this ends. */
    for (unsigned pass = 0; pass < FRAUD_DIALLED_MAX && len > 0; pass++) {
        size_t n;
        if (s[0] == '+') {
            if (intl || (out->flags & FRAUD_NUMF_PLUS))
                out->flags |= FRAUD_NUMF_MANGLED; /* "++44", "00+44", "011+44" */
            out->flags |= FRAUD_NUMF_PLUS;
            intl = true;
            s++, len--;
            continue;
        }
        if (intl) {
            /* "+00 44", "011 011 44": a second international prefix is a trick. */
            n = intl_prefix_len(plan, s, len);
            if (n && len > n) {
                out->flags |= FRAUD_NUMF_MANGLED;
                s += n, len -= n;
                continue;
            }
            break;
        }
        if (plan->outside_line[0] && starts_with(s, len, plan->outside_line) &&
            !(out->flags & FRAUD_NUMF_OUTSIDE_LINE)) {
            size_t ol = strlen(plan->outside_line);
            const char *r = s + ol;
            size_t rl = len - ol;
            if (is_emergency(plan, r, rl)) {
                out->flags |= FRAUD_NUMF_OUTSIDE_LINE;
                rc = finish(out, FRAUD_NUM_EMERGENCY, "", r, rl);
                goto out;
            }
            /* Strip only when the whole input is not itself a plain national number or
             * an extension: "9175551234" in NANP is area code 917, not 9 + 175551234. */
            if (!is_nsn_len(plan, len) && !(len >= plan->ext_min_len && len <= plan->ext_max_len)) {
                out->flags |= FRAUD_NUMF_OUTSIDE_LINE;
                s = r, len = rl;
                continue;
            }
        }
        n = carrier_len(plan, s, len);
        if (n) {
            out->flags |= FRAUD_NUMF_CARRIER_SELECT;
            s += n, len -= n;
            continue;
        }
        n = strlen(plan->national_prefix);
        if (n && len > n && starts_with(s, len, plan->national_prefix) && s[n] == '+') {
            out->flags |= FRAUD_NUMF_MANGLED; /* "0+44": national prefix glued to '+' */
            s += n, len -= n;
            continue;
        }
        n = intl_prefix_len(plan, s, len);
        if (n && len > n) {
            out->flags |= FRAUD_NUMF_INTL_PREFIX;
            intl = true;
            s += n, len -= n;
            continue;
        }
        break;
    }
    if (len == 0 || !all_digits(s, len)) {
        rc = -EINVAL;
        goto out;
    }
    if (intl) {
        rc = finish_e164(plan, out, "", s, len);
        goto out;
    }
    if (is_emergency(plan, s, len)) {
        rc = finish(out, FRAUD_NUM_EMERGENCY, "", s, len);
        goto out;
    }
    {
        size_t np = strlen(plan->national_prefix);
        if (np && plan->country_code[0] && starts_with(s, len, plan->national_prefix) &&
            (plan->nsn_min_len ? is_nsn_len(plan, len - np) : len - np > plan->ext_max_len)) {
            out->flags |= FRAUD_NUMF_NATIONAL_PREFIX;
            rc = finish_e164(plan, out, plan->country_code, s + np, len - np);
            goto out;
        }
    }
    if (plan->country_code[0] && is_nsn_len(plan, len)) {
        rc = finish_e164(plan, out, plan->country_code, s, len);
        goto out;
    }
    if (len >= plan->ext_min_len && len <= plan->ext_max_len) {
        rc = finish(out, FRAUD_NUM_INTERNAL, "", s, len);
        goto out;
    }
    rc = -EINVAL;
out:
    if (rc < 0) {
        unsigned flags = out->flags;
        memset(out, 0, sizeof(*out));
        out->flags = flags;
        out->kind = FRAUD_NUM_INVALID;
    }
    return rc;
}
