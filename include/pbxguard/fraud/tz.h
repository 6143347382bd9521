/*
 * Per-object time zones for schedules and CDR timestamps. The process-wide TZ variable and
 * localtime_r cannot give two engines two zones, so pbxguard reads the zone's TZif file
 * (RFC 8536) from the system zoneinfo directory itself: the transition table, then the
 * POSIX TZ rule in the footer for instants after the last transition. A loaded zone is
 * read-only; every function below is thread-safe on it.
 */
#ifndef PBXGUARD_FRAUD_TZ_H
#define PBXGUARD_FRAUD_TZ_H

#include <stdbool.h>
#include <stdint.h>

#include "pbxguard/core/compiler.h"

#define FRAUD_TZ_TRANSITIONS_MAX 4096
#define FRAUD_TZ_NAME_MAX 64

struct fraud_tz_rule {
    unsigned month, week, wday; /* POSIX "Mm.w.d" */
    int32_t secs;               /* local time of day of the change */
};

struct fraud_tz {
    char name[FRAUD_TZ_NAME_MAX];
    int64_t *trans;   /* owned: UTC seconds of each transition, ascending */
    int32_t *offsets; /* owned: UTC offset (s) in force from trans[i] */
    uint32_t n_trans;
    int32_t initial_offset; /* before the first transition */
    bool has_rule;          /* footer rule usable after the last transition */
    int32_t std_offset, dst_offset;
    bool has_dst;
    struct fraud_tz_rule start, end;
};

/* Broken-down local time. */
struct fraud_local {
    int year;
    unsigned month, day; /* 1-based */
    unsigned wday;       /* 0 = Sunday */
    unsigned minute;     /* minute of the day, 0..1439 */
    unsigned second;     /* second of the minute */
    int32_t offset;      /* UTC offset in seconds */
};

/*
 * Loads a zone: "UTC", a fixed offset "+02:00" / "-0530", or an IANA name
 * ("Europe/London") read from $TZDIR or /usr/share/zoneinfo. Names with ".." or a leading
 * '/' are refused (-EINVAL). -ENOENT unknown zone, -EBADMSG malformed file, -ENOMEM.
 * On failure *tz is left empty (UTC) and safe to fini.
 */
PBX_WUR int fraud_tz_load(struct fraud_tz *tz, const char *name);
void fraud_tz_fini(struct fraud_tz *tz);

/* UTC offset in seconds at the UTC instant t (seconds since the epoch). */
int32_t fraud_tz_offset(const struct fraud_tz *tz, int64_t t);
/* Local civil time of the UTC instant t_ms. */
void fraud_tz_local(const struct fraud_tz *tz, int64_t t_ms, struct fraud_local *out);
/* UTC seconds of a local wall-clock time given as seconds since the epoch "as if UTC".
 * Ambiguous times (DST fall-back) resolve to the earlier instant; skipped ones shift. */
int64_t fraud_tz_to_utc(const struct fraud_tz *tz, int64_t local_s);

/* Proleptic Gregorian calendar helpers (days since 1970-01-01). */
int64_t fraud_days_from_civil(int64_t y, unsigned m, unsigned d);
void fraud_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);

#endif
