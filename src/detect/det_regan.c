/*
 * Registration anomalies (needs a geo database): on each successful REGISTER (2xx), the
 * source's country is compared with the account's history. A country not seen for
 * new_country_ms -> "new country"; two registrations whose locations are farther apart than
 * max_kmh allows in the time between them -> "geo-velocity" (impossible travel).
 */
#include <string.h>

#include "det_int.h"

void det_regan_response(struct det_msgctx *mc)
{
    struct det_engine *e = mc->e;
    const struct det_config *c = &e->cfg;
    const struct sip_msg *m = mc->m;
    struct geo_result g;
    struct det_acct *a;
    struct det_hit h;
    bool known = false, any = false;
    int slot = 0;

    if (!c->regan.enabled || !e->geo || m->cseq_method != SIP_METHOD_REGISTER || m->status < 200 ||
        m->status >= 300)
        return;
    if (geo_lookup(e->geo, &mc->ctx->src, &g) != 0)
        return;
    a = det_acct_get(e, det_target_user(m), mc->now, true);
    if (!a)
        return;
    /* Slot to write: the entry of this country if present, else a free one, else the
     * oldest. */
    int same = -1, free_slot = -1, oldest = 0;
    for (int i = 0; i < (int)DET_ACCT_CC; i++) {
        if (!a->cc[i][0]) {
            if (free_slot < 0)
                free_slot = i;
            continue;
        }
        any = true;
        if (strcmp(a->cc[i], g.cc) == 0) {
            same = i;
            known = mc->now - a->cc_ms[i] < c->new_country_ms;
        }
        if (a->cc_ms[i] < a->cc_ms[oldest] || !a->cc[oldest][0])
            oldest = i;
    }
    slot = same >= 0 ? same : free_slot >= 0 ? free_slot : oldest;
    if (any && g.has_loc && a->has_loc && strcmp(a->last_cc, g.cc) != 0) {
        double km = geo_distance_km(a->lat, a->lon, g.lat, g.lon);
        double hours = (double)(mc->now - a->loc_ms) / 3600000.0;
        if (hours < 1.0 / 60)
            hours = 1.0 / 60;
        if (km / hours > c->max_kmh) {
            det_hit_init(&h, "det.geo_velocity", "reg.geo_velocity", &c->regan, 80);
            h.reason = "impossible travel between registrations";
            h.sev = EV_SEV_HIGH;
            h.target = slice_cstr(a->name);
            h.ev[h.nev++] = EV_KV_S("from_country", slice_cstr(a->last_cc));
            h.ev[h.nev++] = EV_KV_S("country", slice_cstr(g.cc));
            h.ev[h.nev++] = EV_KV_I("km", (int64_t)km);
            h.ev[h.nev++] = EV_KV_I("minutes", (mc->now - a->loc_ms) / 60000);
            det_hit(mc, &h);
            known = true; /* one event for this registration */
        }
    }
    if (any && !known) {
        det_hit_init(&h, "det.new_country", "reg.new_country", &c->regan, 50);
        h.reason = "account registered from a new country";
        h.target = slice_cstr(a->name);
        h.ev[h.nev++] = EV_KV_S("country", slice_cstr(g.cc));
        det_hit(mc, &h);
    }
    memcpy(a->cc[slot], g.cc, 3);
    a->cc_ms[slot] = mc->now;
    memcpy(a->last_cc, g.cc, 3);
    if (g.has_loc) {
        a->has_loc = true;
        a->lat = g.lat;
        a->lon = g.lon;
        a->loc_ms = mc->now;
    }
}
