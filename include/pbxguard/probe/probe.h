/*
 * pbxguard probe: black-box assessment of one's own SIP service.
 *
 * Sends a bounded, rate-limited series of SIP requests to one target and turns what comes
 * back into findings (struct audit_report, see pbxguard/audit/audit.h) with PRB-* check
 * IDs: version leaks, OPTIONS answered to anyone, user enumeration by response code or
 * timing, unauthenticated INVITEs to outside numbers being routed (cancelled at once),
 * TLS versions/cipher/certificate, flood rate limiting, and, only with the explicit
 * ownership acknowledgement, weak passwords from a wordlist.
 *
 * Not thread-safe; one probe per thread.
 */
#ifndef PBXGUARD_PROBE_PROBE_H
#define PBXGUARD_PROBE_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "pbxguard/audit/audit.h"
#include "pbxguard/core/compiler.h"

enum probe_transport {
    PROBE_UDP,
    PROBE_TCP,
    PROBE_TLS,
};

#define PROBE_MAX_EXTENSIONS 1000
#define PROBE_DEFAULT_RATE 10 /* requests per second outside the flood test */
#define PROBE_MAX_RATE 100
#define PROBE_FLOOD_COUNT 200      /* OPTIONS in the flood test ... */
#define PROBE_FLOOD_WINDOW_MS 2000 /* ... sent within this window */
#define PROBE_MAX_WORDS 10000

struct probe_opts {
    const char *target; /* "host", "host:port", "[v6]:port" or "sip:host:port" */
    enum probe_transport transport;
    const char *extensions; /* "100-199" or "100,200-205"; NULL = "100-105,1000-1005" */
    const char *wordlist;   /* file, one password per line; needs owner_ack */
    bool owner_ack;         /* --i-own-this-target */
    unsigned rate;          /* requests per second; 0 = PROBE_DEFAULT_RATE */
    bool no_flood;          /* skip the flood test */
    const char *number;     /* outside number for the routing test */
    unsigned timeout_ms;    /* per transaction; 0 = 2000 */
    unsigned tls_port;      /* port tried for TLS when transport is not TLS; 0 = 5061 */
    FILE *log;              /* progress lines (may be NULL) */
};

/*
 * Parses an extension list ("100-199", "100,105,200-202") into out (up to cap values,
 * ascending as written). Returns 0, -EINVAL (syntax, range reversed, value > 10^9) or
 * -EMSGSIZE (more than cap values).
 */
PBX_WUR int probe_extensions_parse(const char *spec, unsigned *out, size_t cap, size_t *n);

/*
 * Runs every check against o->target and adds findings to r. Returns 0; -EINVAL for bad
 * options (wordlist without owner_ack, unparsable target or extensions); -EHOSTUNREACH
 * when the target answers nothing at all; -ENOMEM.
 */
PBX_WUR int probe_run(const struct probe_opts *o, struct audit_report *r);

/* The PRB-* check descriptors (for documentation and SARIF rules). */
const struct audit_check *const *probe_checks(size_t *n);

#endif
