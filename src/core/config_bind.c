/* Typed scalar parsers and table-driven binding; see pbxguard/core/config.h. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "config_internal.h"
#include "pbxguard/core/escape.h"

/* Every typed parser starts here: absent is -ENOENT, anything but a scalar is an error. */
static int want_scalar(const struct cfg_node *n, struct cfg_diag *d, const char *what)
{
    if (!n)
        return -ENOENT;
    if (n->kind != CFG_NODE_SCALAR) {
        cfg_error(d, n, "expected %s, got a %s", what, cfg_kind_name(n->kind));
        return -EINVAL;
    }
    return 0;
}

/* The one wording for a scalar of the right kind that does not parse: what was expected,
 * then the offending value quoted (capped and escaped by cfg_quote). Returns -EINVAL. */
static int reject_value(const struct cfg_node *n, struct cfg_diag *d, const char *expected)
{
    char q[96];
    cfg_error(d, n, "expected %s, got '%s'", expected, cfg_quote(n, q, sizeof(q)));
    return -EINVAL;
}

int cfg_parse_bool(const struct cfg_node *n, struct cfg_diag *d, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    int rc = want_scalar(n, d, "true or false");
    if (rc)
        return rc;
    for (size_t i = 0; i < PBX_ARRAY_SIZE(yes); i++) {
        if (strcmp(n->str, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcmp(n->str, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return reject_value(n, d, "true or false");
}

/* Decimal digits only; -ERANGE past int64. */
static int parse_i64(const char *s, size_t len, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    uint64_t v = 0;
    if (i < len && s[i] == '-') {
        neg = true;
        i++;
    }
    if (i == len)
        return -EINVAL;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -EINVAL;
        unsigned dgt = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - dgt) / 10)
            return -ERANGE;
        v = v * 10 + dgt;
    }
    if (!neg && v > (uint64_t)INT64_MAX)
        return -ERANGE;
    if (neg && v > (uint64_t)INT64_MAX + 1)
        return -ERANGE;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

int cfg_parse_int(const struct cfg_node *n, struct cfg_diag *d, int64_t min, int64_t max,
                  int64_t *out)
{
    char q[96];
    int64_t v;
    int rc = want_scalar(n, d, "an integer");
    if (rc)
        return rc;
    rc = parse_i64(n->str, n->len, &v);
    if (rc == -EINVAL) {
        return reject_value(n, d, "an integer");
    }
    if (rc || v < min || v > max) {
        cfg_error(d, n, "'%s' out of range [%lld, %lld]", cfg_quote(n, q, sizeof(q)),
                  (long long)min, (long long)max);
        return -EINVAL;
    }
    *out = v;
    return 0;
}

/* Splits "64M" into number and suffix; number must be a plain non-negative decimal. */
static int split_number(const char *s, size_t len, uint64_t *num, const char **suffix)
{
    size_t i = 0;
    uint64_t v = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9') {
        unsigned dgt = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - dgt) / 10)
            return -ERANGE;
        v = v * 10 + dgt;
        i++;
    }
    if (i == 0)
        return -EINVAL;
    *num = v;
    *suffix = s + i;
    return 0;
}

static const char *fmt_ms(int64_t ms, char *buf, size_t cap)
{
    if (ms % 86400000 == 0 && ms)
        snprintf(buf, cap, "%lldd", (long long)(ms / 86400000));
    else if (ms % 3600000 == 0 && ms)
        snprintf(buf, cap, "%lldh", (long long)(ms / 3600000));
    else if (ms % 60000 == 0 && ms)
        snprintf(buf, cap, "%lldm", (long long)(ms / 60000));
    else if (ms % 1000 == 0)
        snprintf(buf, cap, "%llds", (long long)(ms / 1000));
    else
        snprintf(buf, cap, "%lldms", (long long)ms);
    return buf;
}

/* A number with a unit suffix, and what one of the unit is worth in base units. */
struct unit {
    const char *suffix;
    uint64_t scale;
};

/* "<digits><suffix>" with a suffix from units, scaled to base units and within [min, max].
 * Returns 0, -EINVAL (no number, unknown suffix) or -ERANGE (overflow, out of bounds). */
static int parse_scaled(const char *s, size_t len, const struct unit *units, size_t nunits,
                        uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t num;
    const char *suffix;
    int rc = split_number(s, len, &num, &suffix);
    if (rc)
        return rc;
    for (size_t i = 0; i < nunits; i++) {
        if (strcmp(suffix, units[i].suffix) != 0)
            continue;
        if (num > UINT64_MAX / units[i].scale)
            return -ERANGE;
        uint64_t v = num * units[i].scale;
        if (v < min || v > max)
            return -ERANGE;
        *out = v;
        return 0;
    }
    return -EINVAL;
}

int cfg_parse_duration_ms(const struct cfg_node *n, struct cfg_diag *d, int64_t min_ms,
                          int64_t max_ms, int64_t *out_ms)
{
    static const struct unit units[] = {{"", 1000},         {"ms", 1},      {"s", 1000},
                                        {"m", 60000},       {"h", 3600000}, {"d", 86400000},
                                        {"w", 604800000ull}};
    char q[96], a[32], b[32];
    uint64_t ms;
    int rc = want_scalar(n, d, "a duration");
    if (rc)
        return rc;
    /* No duration is negative, so a negative maximum leaves an empty range. */
    uint64_t lo = min_ms > 0 ? (uint64_t)min_ms : 0, hi = (uint64_t)max_ms;
    if (max_ms < 0) {
        lo = 1;
        hi = 0;
    }
    rc = parse_scaled(n->str, n->len, units, PBX_ARRAY_SIZE(units), lo, hi, &ms);
    if (rc == 0) {
        *out_ms = (int64_t)ms;
        return 0;
    }
    if (rc != -ERANGE)
        return reject_value(n, d, "a duration like 30s, 10m, 1h, 7d or 250ms");
    cfg_error(d, n, "duration '%s' out of range [%s, %s]", cfg_quote(n, q, sizeof(q)),
              fmt_ms(min_ms, a, sizeof(a)), fmt_ms(max_ms, b, sizeof(b)));
    return -EINVAL;
}

int cfg_parse_size(const struct cfg_node *n, struct cfg_diag *d, uint64_t min, uint64_t max,
                   uint64_t *out)
{
    static const struct unit units[] = {{"", 1},
                                        {"B", 1},
                                        {"K", 1ull << 10},
                                        {"KB", 1ull << 10},
                                        {"KiB", 1ull << 10},
                                        {"k", 1ull << 10},
                                        {"M", 1ull << 20},
                                        {"MB", 1ull << 20},
                                        {"MiB", 1ull << 20},
                                        {"G", 1ull << 30},
                                        {"GB", 1ull << 30},
                                        {"GiB", 1ull << 30}};
    char q[96];
    int rc = want_scalar(n, d, "a size");
    if (rc)
        return rc;
    rc = parse_scaled(n->str, n->len, units, PBX_ARRAY_SIZE(units), min, max, out);
    if (rc == 0)
        return 0;
    if (rc != -ERANGE)
        return reject_value(n, d, "a size like 512K, 64M or 1G");
    cfg_error(d, n, "size '%s' out of range [%llu, %llu] bytes", cfg_quote(n, q, sizeof(q)),
              (unsigned long long)min, (unsigned long long)max);
    return -EINVAL;
}

int cfg_parse_enum(const struct cfg_node *n, struct cfg_diag *d, const char *const *words, int *out)
{
    char q[96], list[256];
    size_t off = 0;
    int rc = want_scalar(n, d, "a word");
    if (rc)
        return rc;
    for (int i = 0; words[i]; i++) {
        if (strcmp(n->str, words[i]) == 0) {
            *out = i;
            return 0;
        }
    }
    list[0] = '\0';
    for (int i = 0; words[i] && off < sizeof(list); i++) {
        int m = snprintf(list + off, sizeof(list) - off, "%s%s", i ? ", " : "", words[i]);
        if (m < 0)
            break;
        off += (size_t)m;
    }
    cfg_error(d, n, "unknown value '%s' (expected one of: %s)", cfg_quote(n, q, sizeof(q)), list);
    return -EINVAL;
}

int cfg_parse_string(const struct cfg_node *n, struct cfg_diag *d, size_t max_len, const char **out)
{
    int rc = want_scalar(n, d, "a string");
    if (rc)
        return rc;
    if (max_len == 0)
        max_len = CFG_MAX_SCALAR;
    if (n->len == 0) {
        cfg_error(d, n, "must not be empty");
        return -EINVAL;
    }
    if (n->len > max_len) {
        cfg_error(d, n, "too long (%zu bytes, limit %zu)", n->len, max_len);
        return -EINVAL;
    }
    *out = n->str;
    return 0;
}

int cfg_parse_endpoint(const struct cfg_node *n, struct cfg_diag *d, struct pbx_endpoint *out)
{
    struct pbx_endpoint ep;
    int rc = want_scalar(n, d, "an endpoint like udp:0.0.0.0:5060");
    if (rc)
        return rc;
    const char *colon = memchr(n->str, ':', n->len);
    bool word = colon && colon > n->str;
    for (const char *p = n->str; word && p < colon; p++)
        word = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z');
    /* "sctp:..." names a transport we lack; "10.0.0.1:5060" simply has none */
    if (word) {
        enum pbx_transport tp;
        if (pbx_transport_parse(n->str, (size_t)(colon - n->str), &tp) != 0) {
            char tb[64];
            esc_untrusted(tb, sizeof(tb), n->str, (size_t)(colon - n->str), 16, ESC_TEXT);
            cfg_error(d, n, "unknown transport '%s'", tb);
            return -EINVAL;
        }
    }
    if (!colon || pbx_endpoint_parse(n->str, n->len, &ep) != 0) {
        return reject_value(n, d, "an endpoint like udp:0.0.0.0:5060 or tls:[::1]:5061");
    }
    *out = ep;
    return 0;
}

int cfg_parse_cidr(const struct cfg_node *n, struct cfg_diag *d, struct pbx_cidr *out)
{
    struct pbx_cidr c;
    int rc = want_scalar(n, d, "an address or CIDR range");
    if (rc)
        return rc;
    if (pbx_cidr_parse(n->str, n->len, &c) != 0) {
        return reject_value(n, d, "an address or CIDR range like 192.0.2.0/24");
    }
    *out = c;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Binding */

static int run_check(const struct cfg_field *f, const struct cfg_node *n, struct cfg_diag *d)
{
    char why[200];
    if (!f->check)
        return 0;
    why[0] = '\0';
    if (f->check(n->str, why, sizeof(why)) == 0)
        return 0;
    cfg_error(d, n, "%s", why[0] ? why : "invalid value");
    return -EINVAL;
}

/* Sequence items bound one by one; returns the count stored or -EINVAL. */
static int bind_list(const struct cfg_field *f, const struct cfg_node *n, struct cfg_diag *d,
                     void *dst)
{
    if (n->kind != CFG_NODE_SEQ) {
        cfg_error(d, n, "expected a list, got a %s", cfg_kind_name(n->kind));
        return -EINVAL;
    }
    if (f->max > 0 && n->count > (uint64_t)f->max) {
        cfg_error(d, n, "too many items (%zu, limit %lld)", n->count, (long long)f->max);
        return -EINVAL;
    }
    if ((f->flags & CFG_NONEMPTY) && n->count == 0) {
        cfg_error(d, n, "must have at least one item");
        return -EINVAL;
    }
    size_t elem = f->type == CFG_T_STRLIST     ? sizeof(const char *)
                  : f->type == CFG_T_ENDPOINTS ? sizeof(struct pbx_endpoint)
                                               : sizeof(struct pbx_cidr);
    char *arr = n->count ? cfg_alloc(n, n->count * elem) : NULL;
    if (n->count && !arr)
        return -ENOMEM;
    int bad = 0;
    for (size_t i = 0; i < n->count; i++) {
        const struct cfg_node *it = n->items[i];
        int rc;
        if (f->type == CFG_T_STRLIST) {
            const char *s = NULL;
            rc = cfg_parse_string(it, d, 0, &s);
            if (rc == 0)
                rc = run_check(f, it, d);
            if (rc == 0)
                memcpy(arr + i * elem, &s, elem);
        } else if (f->type == CFG_T_ENDPOINTS) {
            rc = cfg_parse_endpoint(it, d, (struct pbx_endpoint *)(void *)(arr + i * elem));
        } else {
            rc = cfg_parse_cidr(it, d, (struct pbx_cidr *)(void *)(arr + i * elem));
        }
        if (rc == -ENOENT) {
            cfg_error(d, it, "empty list item");
            rc = -EINVAL;
        }
        if (rc)
            bad = rc;
    }
    if (bad)
        return bad;
    /* All three list structs are {pointer, count}; write through the right type. */
    if (f->type == CFG_T_STRLIST) {
        struct cfg_strlist *l = dst;
        l->items = (const char *const *)(void *)arr;
        l->count = n->count;
    } else if (f->type == CFG_T_ENDPOINTS) {
        struct cfg_endpoints *l = dst;
        l->items = (const struct pbx_endpoint *)(void *)arr;
        l->count = n->count;
    } else {
        struct cfg_cidrlist *l = dst;
        l->items = (const struct pbx_cidr *)(void *)arr;
        l->count = n->count;
    }
    return 0;
}

static int bind_one(const struct cfg_field *f, const struct cfg_node *n, struct cfg_diag *d,
                    void *dst)
{
    int rc;
    switch (f->type) {
    case CFG_T_STRING: {
        const char *s;
        size_t max = f->max > 0 ? (size_t)f->max : 0;
        rc = cfg_parse_string(n, d, max, &s);
        if (rc == 0)
            rc = run_check(f, n, d);
        if (rc == 0)
            memcpy(dst, &s, sizeof(s));
        return rc;
    }
    case CFG_T_BOOL:
        return cfg_parse_bool(n, d, dst);
    case CFG_T_INT:
        return cfg_parse_int(n, d, f->min, f->max, dst);
    case CFG_T_DURATION:
        return cfg_parse_duration_ms(n, d, f->min, f->max, dst);
    case CFG_T_SIZE:
        return cfg_parse_size(n, d, (uint64_t)f->min, (uint64_t)f->max, dst);
    case CFG_T_ENUM:
        return cfg_parse_enum(n, d, f->words, dst);
    case CFG_T_STRLIST:
    case CFG_T_ENDPOINTS:
    case CFG_T_CIDRLIST:
        return bind_list(f, n, d, dst);
    case CFG_T_ENDPOINT:
        return cfg_parse_endpoint(n, d, dst);
    case CFG_T_MAP:
    case CFG_T_SEQ: {
        enum cfg_kind want = f->type == CFG_T_MAP ? CFG_NODE_MAP : CFG_NODE_SEQ;
        if (n->kind != want) {
            cfg_error(d, n, "expected a %s, got a %s", cfg_kind_name(want), cfg_kind_name(n->kind));
            return -EINVAL;
        }
        memcpy(dst, &n, sizeof(n));
        return 0;
    }
    case CFG_T_CUSTOM:
        if (!f->custom)
            return -EINVAL;
        return f->custom(n, d, dst);
    }
    return -EINVAL;
}

int cfg_bind(const struct cfg_node *map, const struct cfg_field *fields, size_t nfields, void *dst,
             struct cfg_diag *d)
{
    int result = 0;

    if (map && map->kind == CFG_NODE_NULL)
        map = NULL; /* "section:" with nothing under it means defaults */
    if (map && map->kind != CFG_NODE_MAP) {
        cfg_error(d, map, "expected a map, got a %s", cfg_kind_name(map->kind));
        return -EINVAL;
    }
    /* Unknown keys first, in file order, so a typo is reported where it is. */
    for (size_t i = 0; map && i < map->count; i++) {
        bool known = false;
        for (size_t j = 0; j < nfields && !known; j++)
            known = strcmp(map->keys[i]->str, fields[j].key) == 0;
        if (!known) {
            cfg_error(d, map->keys[i], "unknown key");
            result = -EINVAL;
        }
    }
    for (size_t j = 0; j < nfields; j++) {
        const struct cfg_field *f = &fields[j];
        const struct cfg_node *n = cfg_map_get(map, f->key);
        if (!n || n->kind == CFG_NODE_NULL) {
            if (f->flags & CFG_REQUIRED) {
                if (n)
                    cfg_error(d, n, "a value is required");
                else if (map)
                    cfg_error(d, map, "missing required key '%s'", f->key);
                else
                    cfg_error(d, NULL, "missing required key '%s'", f->key);
                result = -EINVAL;
            }
            continue;
        }
        int rc = bind_one(f, n, d, (char *)dst + f->offset);
        if (rc == -ENOMEM)
            return rc;
        if (rc)
            result = -EINVAL;
    }
    return result;
}
