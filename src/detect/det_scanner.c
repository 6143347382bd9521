/*
 * Scanner fingerprints, scored: a shipped signature file (User-Agent, SDP) plus structural
 * marks of SIPVicious and friends that survive a changed User-Agent, plus behaviour (sweeps
 * over many users). One mark alone may be weak (a SIPp branch also has a hyphen); the score
 * decides. See docs/detection.md for the weights.
 */
#include <string.h>

#include "det_int.h"
#include "pbxguard/sip/headers.h"
#include "pbxguard/sip/sdp.h"

#define W_FIXED_TAG 100 /* SIPVicious' constant From tag */
#define W_HEX_TAG 80    /* From tag hex-encoding "host:port" or credentials */
#define W_BRANCH_HYPHEN 20
#define W_SVMAP_SHAPE 60 /* sip:100@1.1.1.1 */
#define W_SWEEP 50       /* + W_SWEEP_EACH per distinct user past the threshold */
#define W_SWEEP_EACH 5
#define W_NUMERIC_SWEEP 20

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/*
 * SIPVicious builds From tags as hex(text) + random digits, where text is the target
 * "host:port" or the extension/password tried. A tag whose leading hex run decodes to at
 * least 6 printable bytes including ':' '.' or '@' is that shape; random hex tags from real
 * phones decode to binary.
 */
static bool hex_encoded_tag(struct slice tag)
{
    size_t n = 0, printable = 0;
    bool sep = false;

    while (n + 1 < tag.len && hexval(tag.p[n]) >= 0 && hexval(tag.p[n + 1]) >= 0) {
        int c = hexval(tag.p[n]) * 16 + hexval(tag.p[n + 1]);
        if (c < 0x20 || c > 0x7e)
            break;
        printable++;
        if (c == ':' || c == '.' || c == '@')
            sep = true;
        n += 2;
    }
    return printable >= 6 && sep;
}

void det_scanner_request(struct det_msgctx *mc)
{
    struct det_engine *e = mc->e;
    const struct det_config *c = &e->cfg;
    const struct sip_msg *m = mc->m;
    struct sip_name_addr from_buf, to_buf;
    const struct sip_name_addr *from, *to;
    const struct sip_via *via;
    struct sip_via via_buf;
    struct det_hit h;
    const char *tool = NULL;
    int score = 0, s;
    struct ev_kv marks[4];
    size_t nm = 0;

    if (!c->scanner.enabled)
        return;
    if (e->sigs) {
        struct slice ua = sip_msg_user_agent(m);
        if (ua.len && (s = det_sigs_ua(e->sigs, ua, &tool)) > 0) {
            score += s;
            marks[nm++] = EV_KV_S("user_agent_sig", slice_cstr(tool));
        }
    }
    /* Borrow what the parser kept; parse (into local storage) only when it kept nothing, so
     * the values, and the score, are those of sip_msg_from/to/via either way. */
    from = sip_msg_from_get(m);
    if (!from && sip_msg_from(m, &from_buf) == 0)
        from = &from_buf;
    to = sip_msg_to_get(m);
    if (!to && sip_msg_to(m, &to_buf) == 0)
        to = &to_buf;
    via = sip_msg_via0_get(m);
    if (!via && sip_msg_via(m, 0, &via_buf) == 0)
        via = &via_buf;
    if (from) {
        if (slice_eq_cstr(from->tag, "3206210844")) {
            score += W_FIXED_TAG;
            marks[nm++] = EV_KV_B("fixed_tag", 1);
        } else if (from->tag.len && hex_encoded_tag(from->tag)) {
            score += W_HEX_TAG;
            marks[nm++] = EV_KV_B("hex_tag", 1);
        }
        if (slice_eq_cstr(from->uri.host, "1.1.1.1") && slice_eq_cstr(from->uri.user, "100"))
            score += W_SVMAP_SHAPE;
    }
    if (to && slice_eq_cstr(to->uri.host, "1.1.1.1") && slice_eq_cstr(to->uri.user, "100"))
        score += W_SVMAP_SHAPE;
    if (via && slice_starts_with_ci(via->branch, "z9hG4bK-"))
        score += W_BRANCH_HYPHEN;
    if (e->sigs && m->body.len) {
        struct sip_sdp sdp;
        if (sip_sdp_parse(&sdp, m->body) == 0 &&
            (s = det_sigs_sdp(e->sigs, sdp.session_name, sdp.o_username, &tool)) > 0) {
            score += s;
            if (nm < PBX_ARRAY_SIZE(marks))
                marks[nm++] = EV_KV_S("sdp_sig", slice_cstr(tool));
        }
    }
    /* Behaviour: many distinct users probed by OPTIONS or INVITE from one source in a window.
     * REGISTER is left out on purpose: 50 phones booting behind one NAT register 50 users
     * at once; REGISTER sweeps are caught by enumeration (404s) and blinded by shielding. */
    if (m->method == SIP_METHOD_OPTIONS || m->method == SIP_METHOD_INVITE) {
        struct slice u = det_target_user(m);
        struct det_src *src = mc->src;
        if (u.len) {
            if (mc->now - src->sweep_win.start >= c->enum_window_ms) {
                src->sweep_win.start = mc->now;
                src->n_sweep_users = 0;
            }
            unsigned n = det_set_add(src->sweep_users, &src->n_sweep_users, DET_MAX_TARGETS,
                                     det_hash32(e, u));
            /* Users registering from behind one NAT are many distinct users too, so a sweep
             * only counts when it is not answered by successful logins (learned trust). */
            if (n >= c->sweep_targets && !mc->learned_trust) {
                score += W_SWEEP + W_SWEEP_EACH * (int)(n - c->sweep_targets);
                if (det_user_numeric(u))
                    score += W_NUMERIC_SWEEP;
                if (nm < PBX_ARRAY_SIZE(marks))
                    marks[nm++] = EV_KV_I("distinct_users", n);
            }
        }
    }
    mc->src->score = (int16_t)(score > 1000 ? 1000 : score);
    if (score > 0)
        det_note(mc);
    if (score < c->scanner_threshold)
        return;
    det_hit_init(&h, "det.scanner", "scan.fingerprint", &c->scanner, score);
    h.reason = "SIP scanner fingerprint";
    memcpy(h.ev, marks, nm * sizeof(marks[0]));
    h.nev = nm;
    h.target = det_target_user(m);
    det_hit(mc, &h);
}
