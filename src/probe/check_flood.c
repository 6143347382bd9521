/*
 * PRB-FLOOD-001: a bounded burst of PROBE_FLOOD_COUNT OPTIONS within PROBE_FLOOD_WINDOW_MS
 * (unpaced, evenly spread), then up to two seconds to collect answers. A service that
 * answers at least 90% of them without a single 503 is not rate-limiting.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pbxguard/sip/msg.h"

#include "probe_int.h"

#define COLLECT_MS 2000

struct flood {
    struct probe_req req[PROBE_FLOOD_COUNT];
    bool answered[PROBE_FLOOD_COUNT];
    unsigned ok, busy;
};

static void take(struct flood *f, const char *buf, size_t len)
{
    struct sip_msg *m = malloc(sizeof(*m));
    if (!m)
        return;
    if (sip_msg_parse(m, (const uint8_t *)buf, len, SIP_PARSE_DATAGRAM) == 0 && !m->is_request &&
        m->status >= 200) {
        for (unsigned i = 0; i < PROBE_FLOOD_COUNT; i++) {
            if (f->answered[i] || !slice_eq_cstr(m->call_id, f->req[i].call_id))
                continue;
            f->answered[i] = true;
            if (m->status == 503)
                f->busy++;
            else
                f->ok++;
            break;
        }
    }
    free(m);
}

static void drain(struct probe_ctx *pc, struct flood *f, int64_t until)
{
    char buf[PROBE_RBUF];
    for (;;) {
        int64_t left = until - probe_now_ms();
        int n = probe_conn_recv(pc->conn, buf, sizeof(buf), left > 0 ? (int)left : 0);
        if (n <= 0)
            return;
        take(f, buf, (size_t)n);
    }
}

int probe_check_flood(struct probe_ctx *pc, struct audit_report *r)
{
    struct flood *f = calloc(1, sizeof(*f));
    int rc = 0;
    if (!f)
        return -ENOMEM;
    int64_t start = probe_now_ms();
    unsigned sent = 0;
    for (unsigned i = 0; i < PROBE_FLOOD_COUNT; i++) {
        probe_req_init(pc, &f->req[i], "OPTIONS", NULL);
        int64_t due = start + (int64_t)i * PROBE_FLOOD_WINDOW_MS / PROBE_FLOOD_COUNT;
        drain(pc, f, due);
        rc = probe_send_request(pc, &f->req[i]);
        if (rc == -ECONNREFUSED || rc == -EPIPE)
            break; /* the service closed on us: that is rate limiting too */
        if (rc)
            goto out;
        sent++;
    }
    int64_t elapsed = probe_now_ms() - start;
    drain(pc, f, probe_now_ms() + COLLECT_MS);
    rc = 0;
    if (sent == PROBE_FLOOD_COUNT && f->busy == 0 && f->ok * 10 >= sent * 9)
        rc = audit_report_add(r, &prb_flood_001, NULL, 0,
                              "%u OPTIONS in %lld ms: %u answered, %u rejected with 503, %u "
                              "unanswered",
                              sent, (long long)elapsed, f->ok, f->busy, sent - f->ok - f->busy);
    if (pc->o->log)
        fprintf(pc->o->log, "probe: flood: %u sent in %lld ms, %u answered, %u x 503\n", sent,
                (long long)elapsed, f->ok, f->busy);
out:
    free(f);
    return rc;
}

const struct audit_check prb_flood_001 = {
    .id = "PRB-FLOOD-001",
    .severity = AUDIT_SEV_MEDIUM,
    .scope = AUDIT_SCOPE_PROBE,
    .title = "Request floods are not rate-limited",
    .why = "Without per-source limits a scanner guesses passwords at line rate and a small "
           "flood takes the service down.",
    .fix = "Rate-limit per source at the edge (pbxguard gateway, Kamailio pike/pipelimit, "
           "fail2ban on the PBX log) and answer floods with silence.",
    .run = NULL,
};
