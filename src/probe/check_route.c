/* PRB-ROUTE-001: an unauthenticated INVITE to an outside number is routed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "probe_int.h"

int probe_check_route(struct probe_ctx *pc, struct audit_report *r)
{
    struct probe_req req;
    struct probe_resp resp;
    int ringing = 0;
    const char *number = pc->o->number ? pc->o->number : "011442079460000";

    probe_req_init(pc, &req, "INVITE", number);
    snprintf(req.from_user, sizeof(req.from_user), "anonymous");
    memset(&resp, 0, sizeof(resp));
    int rc = probe_invite(pc, &req, &resp, &ringing);
    if (rc == -ETIMEDOUT && !ringing)
        return 0; /* silence: not routed as far as we can see */
    if (rc && rc != -ETIMEDOUT)
        return rc;
    bool answered = resp.status >= 200 && resp.status < 300;
    if (!ringing && !answered)
        return 0;
    return audit_report_add(r, &prb_route_001, NULL, 0,
                            "INVITE to %s without credentials: %s%d, final %d %s%s", number,
                            ringing ? "progress " : "", ringing ? ringing : resp.status,
                            resp.status, resp.status ? resp.reason : "(none in time)",
                            answered ? " (answered: ACK and BYE sent)" : " (CANCEL sent at once)");
}

const struct audit_check prb_route_001 = {
    .id = "PRB-ROUTE-001",
    .severity = AUDIT_SEV_CRITICAL,
    .scope = AUDIT_SCOPE_PROBE,
    .title = "Unauthenticated INVITE to an outside number is routed",
    .why = "The service forwards calls from strangers to an international destination: "
           "toll fraud needs nothing more.",
    .fix = "Challenge every INVITE from untrusted sources before routing, and never route "
           "outside numbers from unauthenticated or guest contexts.",
    .run = NULL,
};
