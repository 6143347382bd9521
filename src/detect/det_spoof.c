/*
 * Spoofing: identity headers (P-Asserted-Identity, P-Preferred-Identity, Remote-Party-ID)
 * are only meaningful from the trust domain (RFC 3325 §5): from anyone else the proxy strips
 * them (verdict flag). A request whose top Via claims a PBX-side address but arrives from a
 * client is refused. A REGISTER whose From and To users differ is logged (third-party
 * registration is legal but rare; it is how a stolen account registers a foreign contact).
 */
#include <string.h>

#include "det_int.h"
#include "pbxguard/sip/headers.h"

void det_spoof_request(struct det_msgctx *mc)
{
    const struct det_config *c = &mc->e->cfg;
    const struct sip_msg *m = mc->m;
    struct sip_via via;
    struct sip_name_addr from, to;
    struct det_hit h;

    if (!c->spoof.enabled)
        return;
    if (c->strip_identity && (sip_msg_hdr_count(m, SIP_HDR_P_ASSERTED_IDENTITY) ||
                              sip_msg_hdr_count(m, SIP_HDR_P_PREFERRED_IDENTITY) ||
                              sip_msg_hdr_by_name(m, SLICE_LIT("Remote-Party-ID"), 0)))
        mc->v->flags |= DET_F_STRIP_IDENTITY;
    if (c->npbx_nets && sip_msg_via(m, 0, &via) == 0 &&
        (via.host_type == SIP_HOST_IPV4 || via.host_type == SIP_HOST_IPV6)) {
        struct pbx_addr a;
        if (pbx_addr_parse(via.host.p, via.host.len, &a) == 0) {
            for (size_t i = 0; i < c->npbx_nets; i++) {
                if (pbx_cidr_contains(&c->pbx_nets[i], &a)) {
                    det_hit_init(&h, "det.spoof_origin", "spoof.pbx_origin", &c->spoof, 80);
                    h.reason = "Forbidden";
                    h.ev[h.nev++] = EV_KV_S("via_host", via.host);
                    det_hit(mc, &h);
                    break;
                }
            }
        }
    }
    if (m->method == SIP_METHOD_REGISTER && sip_msg_from(m, &from) == 0 &&
        sip_msg_to(m, &to) == 0 && from.uri.user.len && to.uri.user.len &&
        !slice_eq(from.uri.user, to.uri.user)) {
        det_hit_init(&h, "det.spoof_from_to", "spoof.from_to", NULL, 20);
        h.action = DET_PASS;
        h.sev = EV_SEV_LOW;
        h.reason = "REGISTER From user differs from To user";
        h.target = to.uri.user;
        h.ev[h.nev++] = EV_KV_S("from_user", from.uri.user);
        det_hit(mc, &h);
    }
}
