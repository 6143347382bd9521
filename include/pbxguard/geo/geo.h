/*
 * Country lookup in a MaxMind DB file (GeoLite2-Country / -City or any MMDB with
 * country.iso_code; location.latitude/longitude used when present) and country policy.
 * The database is memory-mapped once by geo_open; lookups allocate nothing.
 * Thread-safety: lookups on one struct geo may run concurrently (libmaxminddb is read-only
 * after open); open/close are owner-only.
 */
#ifndef PBXGUARD_GEO_GEO_H
#define PBXGUARD_GEO_GEO_H

#include <stdbool.h>
#include <stddef.h>

#include "pbxguard/core/addr.h"
#include "pbxguard/core/compiler.h"

struct geo;

struct geo_result {
    char cc[3]; /* ISO 3166-1 alpha-2, upper case, NUL-terminated */
    bool has_loc;
    double lat, lon;
};

/* Opens the database (mmap). 0, -ENOENT, -EINVAL (not an MMDB / corrupt), -ENOMEM. */
PBX_WUR int geo_open(const char *path, struct geo **out);
void geo_close(struct geo *g);

/* Country of a. 0, -ENOENT (not in the database or no country), -EIO (corrupt entry). */
PBX_WUR int geo_lookup(const struct geo *g, const struct pbx_addr *a, struct geo_result *out);

/* Great-circle distance in km (haversine). */
double geo_distance_km(double lat1, double lon1, double lat2, double lon2);

#define GEO_MAX_COUNTRIES 64u

/*
 * Country policy. With a non-empty allow list only those countries pass; otherwise every
 * country not in deny passes. Sources with no country pass unless unknown_deny.
 */
struct geo_policy {
    char allow[GEO_MAX_COUNTRIES][3];
    size_t nallow;
    char deny[GEO_MAX_COUNTRIES][3];
    size_t ndeny;
    bool unknown_deny;
};

/* Adds "FR" (2 letters, case-insensitive) to the allow or deny list. 0, -EINVAL, -ENOSPC. */
PBX_WUR int geo_policy_add(struct geo_policy *p, bool allow, const char *cc);
/* cc NULL or "" = unknown. */
bool geo_policy_permits(const struct geo_policy *p, const char *cc);

/* The "geo" configuration section: the database path (NULL = no geo). */
struct geo_config {
    const char *database;
};
struct cfg_node;
struct cfg_diag;
PBX_WUR int geo_config_load(const struct cfg_node *section, struct cfg_diag *d, void **out);
void geo_config_free(void *obj);

#endif
