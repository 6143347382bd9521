/* MaxMind DB lookups through libmaxminddb (see include/pbxguard/geo/geo.h). */
#include <errno.h>
#include <math.h>
#include <maxminddb.h>
#include <stdlib.h>
#include <string.h>

#include "pbxguard/geo/geo.h"

struct geo {
    MMDB_s db;
};

int geo_open(const char *path, struct geo **out)
{
    struct geo *g = calloc(1, sizeof(*g));
    int rc;

    if (!g)
        return -ENOMEM;
    rc = MMDB_open(path, MMDB_MODE_MMAP, &g->db);
    if (rc != MMDB_SUCCESS) {
        free(g);
        if (rc == MMDB_FILE_OPEN_ERROR)
            return -ENOENT;
        return rc == MMDB_OUT_OF_MEMORY_ERROR ? -ENOMEM : -EINVAL;
    }
    *out = g;
    return 0;
}

void geo_close(struct geo *g)
{
    if (!g)
        return;
    MMDB_close(&g->db);
    free(g);
}

int geo_lookup(const struct geo *g, const struct pbx_addr *a, struct geo_result *out)
{
    struct sockaddr_storage ss;
    struct pbx_addr x = pbx_addr_is_v4mapped(a) ? pbx_addr_unmap(a) : *a;
    MMDB_lookup_result_s r;
    MMDB_entry_data_s d;
    int err = 0;

    if (pbx_addr_to_sockaddr(&x, &ss) == 0)
        return -EINVAL;
    /* libmaxminddb takes a non-const handle but does not modify it on lookup. */
    r = MMDB_lookup_sockaddr((MMDB_s *)&g->db, (const struct sockaddr *)&ss, &err);
    if (err != MMDB_SUCCESS)
        return -EIO;
    if (!r.found_entry)
        return -ENOENT;
    memset(out, 0, sizeof(*out));
    if (MMDB_get_value(&r.entry, &d, "country", "iso_code", NULL) != MMDB_SUCCESS || !d.has_data ||
        d.type != MMDB_DATA_TYPE_UTF8_STRING || d.data_size != 2) {
        /* Registered country is the fallback for anycast / satellite ranges. */
        if (MMDB_get_value(&r.entry, &d, "registered_country", "iso_code", NULL) != MMDB_SUCCESS ||
            !d.has_data || d.type != MMDB_DATA_TYPE_UTF8_STRING || d.data_size != 2)
            return -ENOENT;
    }
    out->cc[0] = (char)(d.utf8_string[0] & ~0x20);
    out->cc[1] = (char)(d.utf8_string[1] & ~0x20);
    out->cc[2] = '\0';
    if (MMDB_get_value(&r.entry, &d, "location", "latitude", NULL) == MMDB_SUCCESS && d.has_data &&
        d.type == MMDB_DATA_TYPE_DOUBLE) {
        out->lat = d.double_value;
        if (MMDB_get_value(&r.entry, &d, "location", "longitude", NULL) == MMDB_SUCCESS &&
            d.has_data && d.type == MMDB_DATA_TYPE_DOUBLE) {
            out->lon = d.double_value;
            out->has_loc = true;
        }
    }
    return 0;
}

double geo_distance_km(double lat1, double lon1, double lat2, double lon2)
{
    const double r = 6371.0, rad = M_PI / 180.0;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double h = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * r * asin(sqrt(h < 1 ? h : 1));
}

static bool cc_ok(const char *cc)
{
    return cc && strlen(cc) == 2 && ((cc[0] | 0x20) >= 'a' && (cc[0] | 0x20) <= 'z') &&
           ((cc[1] | 0x20) >= 'a' && (cc[1] | 0x20) <= 'z');
}

int geo_policy_add(struct geo_policy *p, bool allow, const char *cc)
{
    char(*list)[3] = allow ? p->allow : p->deny;
    size_t *n = allow ? &p->nallow : &p->ndeny;

    if (!cc_ok(cc))
        return -EINVAL;
    if (*n >= GEO_MAX_COUNTRIES)
        return -ENOSPC;
    list[*n][0] = (char)(cc[0] & ~0x20);
    list[*n][1] = (char)(cc[1] & ~0x20);
    list[*n][2] = '\0';
    (*n)++;
    return 0;
}

static bool in_list(const char (*list)[3], size_t n, const char *cc)
{
    for (size_t i = 0; i < n; i++)
        if ((list[i][0] == (cc[0] & ~0x20)) && (list[i][1] == (cc[1] & ~0x20)))
            return true;
    return false;
}

bool geo_policy_permits(const struct geo_policy *p, const char *cc)
{
    if (!cc || !cc[0])
        return !p->unknown_deny;
    if (p->nallow)
        return in_list(p->allow, p->nallow, cc);
    return !in_list(p->deny, p->ndeny, cc);
}
