/*
 * PRB-OPT-001 (OPTIONS answered to anyone) and PRB-VER-001 (version in Server), from an
 * unauthenticated OPTIONS to the domain.
 */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "probe_int.h"

/* "5.6.3", "18.9.0", "16.0.33": digits, a dot, digits. */
static bool has_version(const char *s)
{
    for (const char *p = s; *p; p++)
        if (isdigit((unsigned char)p[0]) && p[1] == '.' && isdigit((unsigned char)p[2]))
            return true;
    return false;
}

int probe_check_options(struct probe_ctx *pc, struct audit_report *r)
{
    struct probe_req req;
    struct probe_resp resp;
    int rc;

    probe_req_init(pc, &req, "OPTIONS", NULL);
    rc = probe_transact(pc, &req, &resp, false);
    if (rc)
        return rc; /* the caller decides whether silence means unreachable */
    if (resp.status >= 200 && resp.status < 300) {
        rc = audit_report_add(r, &prb_opt_001, NULL, 0,
                              "OPTIONS %s without credentials answered %d %s", req.ruri,
                              resp.status, resp.reason);
        if (rc)
            return rc;
    }
    if (resp.server[0] && has_version(resp.server))
        return audit_report_add(r, &prb_ver_001, NULL, 0, "Server: %s (in a %d to OPTIONS)",
                                resp.server, resp.status);
    return 0;
}

const struct audit_check prb_opt_001 = {
    .id = "PRB-OPT-001",
    .severity = AUDIT_SEV_LOW,
    .scope = AUDIT_SCOPE_PROBE,
    .title = "OPTIONS answered to anyone",
    .why = "A 200 to an unauthenticated OPTIONS is how scanners (svmap) confirm a live SIP "
           "service and pick their next target.",
    .fix = "Answer OPTIONS only from known peers (or challenge them), and drop scanners at "
           "the edge.",
    .run = NULL,
};

const struct audit_check prb_ver_001 = {
    .id = "PRB-VER-001",
    .severity = AUDIT_SEV_LOW,
    .scope = AUDIT_SCOPE_PROBE,
    .title = "Server header reveals the software version",
    .why = "An exact product and version lets an attacker pick a matching exploit without "
           "any further probing.",
    .fix = "Remove or genericise Server/User-Agent (Kamailio server_signature=no, Asterisk "
           "useragent=, FreeSWITCH user-agent-string).",
    .run = NULL,
};
