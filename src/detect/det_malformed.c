/*
 * Malformed traffic per source: parser rejections count 1, tolerated-but-suspicious
 * anomalies (detect.malformed.anomalies) count 1 too. The first reject_after rejections in a
 * window are answered 400 (a broken client learns why); after that they are dropped
 * silently (no amplification); at ban_after the configured action (default ban) applies.
 * Learned trust multiplies both thresholds.
 */
#include "det_int.h"

static void count(struct det_msgctx *mc, bool parse_error, const char *why)
{
    const struct det_config *c = &mc->e->cfg;
    unsigned f = det_factor(mc);
    uint32_t n = det_window_add(&mc->src->malformed, mc->now, c->malformed_window_ms, 1);
    struct det_hit h;

    det_note(mc);
    if (n >= c->malformed_ban * f) {
        det_hit_init(&h, "det.malformed", "malformed.source", &c->malformed, 80);
        h.reason = why;
        h.ev[h.nev++] = EV_KV_I("malformed", n);
        det_hit(mc, &h);
        return;
    }
    if (!parse_error)
        return;
    det_hit_init(&h, "det.malformed", "malformed.message", NULL, 20);
    h.sev = EV_SEV_LOW;
    h.reason = why;
    h.ev[h.nev++] = EV_KV_I("malformed", n);
    if (n <= c->malformed_reject * f) {
        h.action = DET_REJECT;
        h.status = 400;
    } else {
        h.action = DET_DROP;
    }
    det_hit(mc, &h);
}

void det_malformed_request(struct det_msgctx *mc)
{
    const struct det_config *c = &mc->e->cfg;

    if (!c->malformed.enabled || !(mc->m->anomalies & c->anomaly_mask))
        return;
    count(mc, false, "suspicious anomalies");
}

void det_malformed_parse_error(struct det_msgctx *mc, int err)
{
    const struct det_config *c = &mc->e->cfg;
    const char *why = mc->m && mc->m->err_reason ? mc->m->err_reason : "Bad Request";

    (void)err;
    if (!c->malformed.enabled)
        return;
    count(mc, true, why);
}
