/* probe_run(): the order of the checks, and option validation. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "probe_int.h"

static const struct audit_check *const registry[] = {
    &prb_enum_001, &prb_enum_002,  &prb_flood_001, &prb_opt_001, &prb_pass_001,
    &prb_reg_001,  &prb_route_001, &prb_tls_001,   &prb_tls_002, &prb_tls_003,
    &prb_tls_004,  &prb_tls_005,   &prb_ver_001,
};

const struct audit_check *const *probe_checks(size_t *n)
{
    *n = PBX_ARRAY_SIZE(registry);
    return registry;
}

static int parse_uint(const char **p, unsigned *out)
{
    unsigned long v = 0;
    const char *s = *p;
    if (*s < '0' || *s > '9')
        return -EINVAL;
    while (*s >= '0' && *s <= '9') {
        v = v * 10 + (unsigned long)(*s - '0');
        if (v > 1000000000ul)
            return -EINVAL;
        s++;
    }
    *out = (unsigned)v;
    *p = s;
    return 0;
}

int probe_extensions_parse(const char *spec, unsigned *out, size_t cap, size_t *n)
{
    const char *p = spec;
    *n = 0;
    if (!spec || !*spec)
        return -EINVAL;
    for (;;) {
        unsigned lo, hi;
        if (parse_uint(&p, &lo) != 0)
            return -EINVAL;
        hi = lo;
        if (*p == '-') {
            p++;
            if (parse_uint(&p, &hi) != 0 || hi < lo)
                return -EINVAL;
        }
        for (unsigned long v = lo; v <= hi; v++) {
            if (*n >= cap)
                return -EMSGSIZE;
            out[(*n)++] = (unsigned)v;
        }
        if (*p == '\0')
            return 0;
        if (*p != ',')
            return -EINVAL;
        p++;
    }
}

static void say(const struct probe_opts *o, const char *what)
{
    if (o->log)
        fprintf(o->log, "probe: %s\n", what);
}

int probe_run(const struct probe_opts *o, struct audit_report *r)
{
    struct probe_ctx pc;
    unsigned *ext = NULL;
    size_t next;
    int rc;

    if (o->wordlist && !o->owner_ack)
        return -EINVAL;
    memset(&pc, 0, sizeof(pc));
    pc.o = o;
    pc.timeout_ms = o->timeout_ms ? o->timeout_ms : 2000;
    pc.rate = o->rate ? o->rate : PROBE_DEFAULT_RATE;
    if (pc.rate > PROBE_MAX_RATE)
        return -EINVAL;
    ext = calloc(PROBE_MAX_EXTENSIONS, sizeof(*ext));
    pc.conn = calloc(1, sizeof(*pc.conn));
    if (!ext || !pc.conn) {
        rc = -ENOMEM;
        goto out;
    }
    rc = probe_extensions_parse(o->extensions ? o->extensions : "100-105,1000-1005", ext,
                                PROBE_MAX_EXTENSIONS, &next);
    if (rc) {
        rc = -EINVAL;
        goto out;
    }
    rc = probe_target_parse(o->target, o->transport, &pc.target);
    if (rc)
        goto out;
    rc = probe_conn_open(pc.conn, &pc.target, o->transport, pc.rate, 0, 0, pc.timeout_ms);
    if (rc) {
        rc = -EHOSTUNREACH;
        goto out;
    }
    say(o, "OPTIONS and version");
    rc = probe_check_options(&pc, r);
    if (rc == -ETIMEDOUT || rc == -ECONNREFUSED || rc == -EPIPE) {
        rc = -EHOSTUNREACH;
        goto out;
    }
    if (rc)
        goto out;
    say(o, "unauthenticated INVITE to an outside number");
    rc = probe_check_route(&pc, r);
    if (rc)
        goto out;
    say(o, "user enumeration (codes and timing)");
    rc = probe_check_enum(&pc, ext, next, r);
    if (rc)
        goto out;
    if (o->wordlist) {
        say(o, "passwords from the wordlist");
        rc = probe_check_passwords(&pc, ext, next, r);
        if (rc)
            goto out;
    }
    say(o, "TLS");
    rc = probe_check_tls(&pc, r);
    if (rc)
        goto out;
    /* Last: a service that rate-limits may block this source for a while afterwards. */
    if (!o->no_flood) {
        say(o, "flood");
        rc = probe_check_flood(&pc, r);
    }
out:
    if (pc.conn) {
        if (pc.conn->fd > 0)
            probe_conn_close(pc.conn);
        free(pc.conn);
    }
    free(ext);
    if (rc == 0)
        audit_report_sort(r);
    return rc;
}
