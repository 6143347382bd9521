/* The gateway's guard: detection runtime, control socket, verdicts; see gateway_guard.h. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "daemon_common.h"
#include "gateway_fraud.h"
#include "gateway_guard.h"
#include "pbxguard/core/clock.h"
#include "pbxguard/core/config.h"
#include "pbxguard/core/general.h"
#include "pbxguard/core/log.h"
#include "pbxguard/ctl/ctl.h"
#include "pbxguard/detect/runtime.h"
#include "pbxguard/net/loop.h"
#include "pbxguard/sip/headers.h"

/* Ban expiry events and store commits: the store batches for 200 ms by default. */
#define GUARD_TICK_MS 200u

struct gw_guard {
    struct det_runtime *rt;
    struct ctl_server *ctl;
    struct net *net;
    struct net_loop *loop;
    struct proxy *px;
    struct cfg_snapshot *snap; /* the engine borrows strings from it */
    struct net_timer tick;
    gw_guard_reload_fn reload;
    void *reload_ctx;
    bool ctl_watched;
    struct gw_guard_stats st;
};

static struct gw_guard *active;

/* Large scratch objects; the gateway has one event-loop thread. */
static struct det_verdict verdict;
static struct sip_msg scratch_msg;
static uint8_t scratch_buf[SIP_MAX_MSG_SIZE];

struct gw_guard *gw_guard_get(void)
{
    return active;
}

struct det_engine *gw_guard_engine(struct gw_guard *g)
{
    return g && g->rt ? g->rt->engine : NULL;
}

void gw_guard_stats_get(const struct gw_guard *g, struct gw_guard_stats *out)
{
    *out = g->st;
}

/* ------------------------------------------------------------------------------------ */
/* Set-up */

/*
 * Per-source budgets of the gateway when the operator left the engine's defaults alone.
 * Behind the gateway, one source address is often a whole site behind NAT: a few hundred
 * phones re-registering together after a power cut send several hundred REGISTERs a second
 * (each challenged once), which the engine's generic defaults (tuned for one device per
 * address) would drop and ban. Floods from one source still trip these within a second;
 * floods spread over many spoofed sources are the global budget's job.
 */
static const unsigned edge_rate[5] = {600, 400, 100, 200, 200};
static const unsigned edge_burst[5] = {3000, 2000, 400, 1000, 1000};
#define EDGE_BAN_AFTER 1000u
#define EDGE_ADMIT_RATE 1500u
#define EDGE_ADMIT_BURST 6000u

static void edge_defaults(struct det_config *c)
{
    struct det_config d;
    det_config_defaults(&d);
    if (memcmp(c->flood_rate, d.flood_rate, sizeof(d.flood_rate)) != 0 ||
        memcmp(c->flood_burst, d.flood_burst, sizeof(d.flood_burst)) != 0 ||
        c->flood_ban_after != d.flood_ban_after || c->admit_rate != d.admit_rate ||
        c->admit_burst != d.admit_burst)
        return; /* tuned by the operator: theirs to keep */
    memcpy(c->flood_rate, edge_rate, sizeof(edge_rate));
    memcpy(c->flood_burst, edge_burst, sizeof(edge_burst));
    c->flood_ban_after = EDGE_BAN_AFTER;
    c->admit_rate = EDGE_ADMIT_RATE;
    c->admit_burst = EDGE_ADMIT_BURST;
}

static void detect_config_of(const struct cfg_snapshot *s, struct det_config *out)
{
    const struct det_config *dc = cfg_snapshot_section(s, "detect");
    const struct general_config *gen = general_config_get(s);
    if (dc)
        *out = *dc;
    else
        det_config_defaults(out);
    edge_defaults(out);
    /* general.shadow_mode is the operator's one switch for the whole product. */
    if (gen && gen->shadow_mode)
        out->shadow = true;
}

static bool has_net_admin(void)
{
    cap_flag_value_t v = CAP_CLEAR;
    cap_t caps = cap_get_proc();
    if (!caps)
        return false;
    if (cap_get_flag(caps, CAP_NET_ADMIN, CAP_EFFECTIVE, &v) < 0)
        v = CAP_CLEAR;
    cap_free(caps);
    return v == CAP_SET;
}

/* The PBX side must never be banned, whatever its responses look like to the engine. */
static void allow_upstreams(struct gw_guard *g)
{
    for (unsigned i = 0; i < g->px->n_ups; i++) {
        struct pbx_cidr c;
        memset(&c, 0, sizeof(c));
        c.base = g->px->ups[i].ep.addr;
        c.base.port = 0;
        c.prefix = c.base.family == AF_INET6 ? 128 : 32;
        if (ban_allowed(g->rt->bans, &c.base))
            continue;
        if (ban_allow_add(g->rt->bans, &c) < 0)
            log_warn("gateway: allow-list full: an upstream is not in it");
    }
}

static void on_tick(void *ctx, struct net_timer *t)
{
    struct gw_guard *g = ctx;
    (void)t;
    det_runtime_tick(g->rt, clock_wall_ms());
}

static void on_ctl(void *ctx, int fd, uint32_t events)
{
    struct gw_guard *g = ctx;
    int rc;
    (void)fd;
    (void)events;
    if ((rc = ctl_server_handle(g->ctl)) < 0)
        log_debug("gateway: control socket: %s", strerror(-rc));
}

static int ctl_reload(const struct ctl_req *req, struct ctl_out *out, void *ctx)
{
    struct gw_guard *g = ctx;
    (void)req;
    if (!g->reload) {
        ctl_printf(out, "reload is not available\n");
        return -ENOTSUP;
    }
    g->reload(g->reload_ctx);
    ctl_printf(out, "reload requested\n");
    return 0;
}

static int open_ctl(struct gw_guard *g, const char *data_dir, char *err, size_t errcap)
{
    int rc = ctl_server_open(data_dir, &g->ctl);
    if (rc < 0) {
        snprintf(err, errcap, "control socket under %s: %s", data_dir, strerror(-rc));
        return rc;
    }
    if ((rc = ctl_register_detect(g->ctl, g->rt->engine)) < 0 ||
        (rc = gw_fraud_ctl_register(g->ctl)) < 0 ||
        (rc = ctl_register(g->ctl, "reload", "reload the configuration (as SIGHUP)", ctl_reload,
                           g)) < 0) {
        snprintf(err, errcap, "control commands: %s", strerror(-rc));
        return rc;
    }
    if ((rc = net_loop_add_fd(g->loop, ctl_server_fd(g->ctl), EPOLLIN, on_ctl, g)) < 0) {
        snprintf(err, errcap, "control socket: cannot watch it: %s", strerror(-rc));
        return rc;
    }
    g->ctl_watched = true;
    return 0;
}

static void guard_free(struct gw_guard *g)
{
    if (!g)
        return;
    if (g->loop)
        net_timer_cancel(g->loop, &g->tick);
    if (g->ctl_watched)
        net_loop_del_fd(g->loop, ctl_server_fd(g->ctl));
    ctl_server_close(g->ctl);
    det_runtime_close(g->rt);
    if (g->snap)
        cfg_snapshot_unref(g->snap);
    free(g);
}

int gw_guard_open(struct cfg_snapshot *s, const char *data_dir, struct net *net, struct proxy *px,
                  gw_guard_reload_fn reload, void *reload_ctx, char *err, size_t errcap)
{
    const struct ban_section *bs = cfg_snapshot_section(s, "ban");
    const struct store_config *sc = cfg_snapshot_section(s, "store");
    const struct geo_config *gc = cfg_snapshot_section(s, "geo");
    struct det_config dc;
    struct gw_guard *g;
    int rc;

    err[0] = '\0';
    if (active)
        return -EEXIST;
    g = calloc(1, sizeof(*g));
    if (!g)
        return -ENOMEM;
    g->snap = cfg_snapshot_ref(s);
    g->net = net;
    g->loop = net_get_loop(net);
    g->px = px;
    g->reload = reload;
    g->reload_ctx = reload_ctx;
    net_timer_init(&g->tick, on_tick, g);
    detect_config_of(s, &dc);

    bool kernel = (!bs || bs->nft) && has_net_admin();
    rc = det_runtime_open(&dc, bs, sc, gc, data_dir, kernel, clock_wall_ms(), err, errcap, &g->rt);
    if (rc == -EPERM && kernel) {
        /* Kernel enforcement is a second line; the in-process ban table still stops banned
         * sources before parsing, so refusing to start would be the worse outcome. */
        log_warn("gateway: nftables unavailable (%s); bans are enforced in-process only", err);
        kernel = false;
        rc = det_runtime_open(&dc, bs, sc, gc, data_dir, false, clock_wall_ms(), err, errcap,
                              &g->rt);
    }
    if (rc == -EIO && data_dir) {
        /* An unusable data directory must not take the edge down: detection and bans still
         * work in memory; they just do not survive a restart. */
        log_error("gateway: %s; bans and events are kept in memory only", err);
        rc =
            det_runtime_open(&dc, bs, NULL, gc, NULL, kernel, clock_wall_ms(), err, errcap, &g->rt);
    }
    if (rc < 0)
        goto out;
    allow_upstreams(g);
    if (data_dir && (rc = open_ctl(g, data_dir, err, errcap)) < 0) {
        log_error("gateway: %s; running without a control socket", err);
        if (g->ctl_watched)
            net_loop_del_fd(g->loop, ctl_server_fd(g->ctl));
        g->ctl_watched = false;
        ctl_server_close(g->ctl);
        g->ctl = NULL;
        err[0] = '\0';
    }
    if ((rc = net_timer_add(g->loop, &g->tick, GUARD_TICK_MS, GUARD_TICK_MS)) < 0) {
        snprintf(err, errcap, "cannot arm the detection timer");
        goto out;
    }
    log_info("gateway: detection on%s (%d bans restored, nftables %s, control socket %s)",
             det_shadow(g->rt->engine) ? " in shadow mode" : "", g->rt->restored,
             g->rt->nft ? "on" : "off", g->ctl ? ctl_server_path(g->ctl) : "none");
    active = g;
    return 0;
out:
    guard_free(g);
    return rc;
}

int gw_guard_reload(struct cfg_snapshot *s)
{
    struct gw_guard *g = active;
    struct det_config dc;
    char err[256];
    if (!g)
        return 0;
    detect_config_of(s, &dc);
    int rc = det_engine_reconfigure(g->rt->engine, &dc, err, sizeof(err));
    if (rc < 0) {
        log_error("gateway: reload: detect section refused (%s); the running one stays", err);
        return rc;
    }
    det_set_shadow(g->rt->engine, dc.shadow);
    reload_bans(g->rt, cfg_snapshot_section(g->snap, "ban"), cfg_snapshot_section(s, "ban"),
                "gateway");
    cfg_snapshot_unref(g->snap);
    g->snap = cfg_snapshot_ref(s);
    allow_upstreams(g);
    return 0;
}

void gw_guard_close(void)
{
    struct gw_guard *g = active;
    if (!g)
        return;
    active = NULL;
    guard_free(g);
}

/* ------------------------------------------------------------------------------------ */
/* Verdicts */

bool gw_guard_admit(struct gw_guard *g, const struct pbx_addr *remote, enum pbx_transport tp)
{
    if (det_admit(g->rt->engine, remote, tp, clock_wall_ms()))
        return true;
    g->st.admit_refused++;
    return false;
}

static void ctx_init(struct gw_guard *g, struct det_ctx *c, const struct pbx_addr *src,
                     enum pbx_transport tp, bool from_upstream)
{
    memset(c, 0, sizeof(*c));
    c->src = *src;
    c->tp = tp;
    c->from_upstream = from_upstream;
    c->trusted = from_upstream || ban_allowed(g->rt->bans, src);
}

/* Parses a message built by the guard into scratch_msg, as received on in. */
static int parse_copy(const struct net_msg *in, const uint8_t *buf, size_t len,
                      struct net_msg *copy)
{
    unsigned flags = in->transport == PBX_TP_UDP ? SIP_PARSE_DATAGRAM : SIP_PARSE_STREAM;
    *copy = *in;
    copy->buf = buf;
    copy->len = len;
    if (sip_msg_parse(&scratch_msg, buf, len, flags) < 0) {
        log_warn("gateway: a message rewritten by detection does not parse; dropped");
        return -EBADMSG;
    }
    return 0;
}

void gw_guard_send(struct gw_guard *g, const struct net_msg *in, const struct sip_msg *m,
                   int reject_status, const char *reason, const char *extra)
{
    struct proxy_action act;
    if (reject_status)
        proxy_reply_hdrs(g->px, in, m, reject_status, reason ? reason : "Forbidden", extra, &act);
    else if (proxy_process(g->px, in, m, &act) < 0)
        return;
    if (act.kind != PROXY_ACT_FORWARD && act.kind != PROXY_ACT_REPLY)
        return;
    int rc = net_send(g->net, &act.dest, act.buf, act.len);
    if (rc < 0)
        log_debug("gateway: send of a rewritten message failed: %s", strerror(-rc));
}

static bool identity_header(const struct sip_hdr *h)
{
    return h->id == SIP_HDR_P_ASSERTED_IDENTITY || h->id == SIP_HDR_P_PREFERRED_IDENTITY ||
           slice_eq_cstr_ci(h->name, "Remote-Party-ID");
}

/* End of the header line holding h: after the line terminator following its value. */
static size_t line_end(const struct sip_msg *m, const struct sip_hdr *h)
{
    size_t i = (size_t)((const uint8_t *)h->value.p - m->buf) + h->value.len;
    while (i < m->hdr_len && m->buf[i] != '\n')
        i++;
    return i < m->hdr_len ? i + 1 : m->hdr_len;
}

/*
 * Copies m without its identity headers into scratch_buf. Input bytes are never modified:
 * the copy is what gets parsed again and forwarded. Returns its length, or 0 when nothing
 * had to be removed or it would not fit.
 */
static size_t strip_identity(const struct sip_msg *m)
{
    size_t w = 0, from = 0;
    bool any = false;
    if (m->msg_len > sizeof(scratch_buf))
        return 0;
    for (unsigned i = 0; i < m->nhdrs; i++) {
        const struct sip_hdr *h = &m->hdrs[i];
        if (!identity_header(h))
            continue;
        size_t start = h->off, end = line_end(m, h);
        memcpy(scratch_buf + w, m->buf + from, start - from);
        w += start - from;
        from = end;
        any = true;
    }
    if (!any)
        return 0;
    memcpy(scratch_buf + w, m->buf + from, m->msg_len - from);
    return w + (m->msg_len - from);
}

/*
 * Overload answers carry Retry-After (RFC 3261 §21.5.4: a 503 may say when to come back), so
 * clients back off instead of retrying at once. The proxy builds the reply; the header is
 * added before its blank line in a copy. Returns false when the reply could not be built.
 */
static bool reply_retry_after(struct gw_guard *g, const struct net_msg *in, const struct sip_msg *m,
                              int status, const char *reason, int retry_after_s)
{
    struct proxy_action act;
    char hdr[40];
    proxy_reply(g->px, in, m, status, reason, &act);
    if (act.kind != PROXY_ACT_REPLY || act.len < 4)
        return false;
    int n = snprintf(hdr, sizeof(hdr), "Retry-After: %d\r\n", retry_after_s);
    /* The reply the proxy built has no body: it ends with the blank line. */
    if (memcmp(act.buf + act.len - 4, "\r\n\r\n", 4) != 0 ||
        act.len + (size_t)n > sizeof(scratch_buf))
        return false;
    size_t head = act.len - 2;
    memcpy(scratch_buf, act.buf, head);
    memcpy(scratch_buf + head, hdr, (size_t)n);
    memcpy(scratch_buf + head + (size_t)n, "\r\n", 2);
    int rc = net_send(g->net, &act.dest, scratch_buf, head + (size_t)n + 2);
    if (rc < 0)
        log_debug("gateway: send of a 503 failed: %s", strerror(-rc));
    return true;
}

bool gw_guard_request(struct gw_guard *g, const struct net_msg *in, const struct sip_msg *m,
                      bool from_upstream, int *reject_status, const char **reason,
                      struct net_msg *stripped_in, const struct sip_msg **stripped)
{
    struct det_ctx c;
    *reject_status = 0;
    *reason = NULL;
    *stripped = NULL;
    ctx_init(g, &c, &in->remote, in->transport, from_upstream);
    det_on_request(g->rt->engine, &c, m, clock_wall_ms(), &verdict);
    switch (verdict.action) {
    case DET_DROP:
    case DET_BAN:
        g->st.req_dropped++;
        return true;
    case DET_REJECT:
        if (m->method == SIP_METHOD_ACK) {
            g->st.req_dropped++;
            return true;
        }
        g->st.req_rejected++;
        *reject_status = verdict.status >= 400 && verdict.status <= 699 ? verdict.status : 403;
        *reason = verdict.reason ? verdict.reason : "Forbidden";
        if (verdict.retry_after_s > 0 &&
            reply_retry_after(g, in, m, *reject_status, *reason, verdict.retry_after_s))
            return true;
        return false;
    case DET_PASS:
    case DET_ALERT:
        break;
    }
    if ((verdict.flags & DET_F_STRIP_IDENTITY) && !from_upstream) {
        size_t len = strip_identity(m);
        if (len > 0) {
            g->st.identity_strips++;
            if (parse_copy(in, scratch_buf, len, stripped_in) < 0)
                return true; /* dropped: never forward what was not inspected */
            *stripped = &scratch_msg;
        }
    }
    return false;
}

/* Via transport token to our enum; the proxy only writes UDP, TCP and TLS. */
static enum pbx_transport via_transport(struct slice t, enum pbx_transport dflt)
{
    if (slice_eq_cstr_ci(t, "UDP"))
        return PBX_TP_UDP;
    if (slice_eq_cstr_ci(t, "TCP"))
        return PBX_TP_TCP;
    if (slice_eq_cstr_ci(t, "TLS"))
        return PBX_TP_TLS;
    return dflt;
}

/*
 * The client of the original request: the second Via (the first is ours) as the proxy
 * rewrote it on the way in, with received= and rport= holding the real source (RFC 3261
 * §18.2.1, RFC 3581 §4). Returns 0 or -ENOENT when it cannot be recovered.
 */
static int response_client(const struct sip_msg *m, struct det_ctx *c)
{
    struct sip_via v;
    struct pbx_addr a;
    if (sip_msg_via(m, 1, &v) < 0)
        return -ENOENT;
    struct slice host = v.received.p ? v.received : v.host;
    if (pbx_addr_parse(host.p, host.len, &a) < 0)
        return -ENOENT;
    a.port = v.has_rport && v.rport ? v.rport : v.port ? v.port : 5060;
    c->src = a;
    c->tp = via_transport(v.transport, PBX_TP_UDP);
    return 0;
}

bool gw_guard_response(struct gw_guard *g, const struct net_msg *in, const struct sip_msg *m)
{
    struct det_ctx c;
    memset(&c, 0, sizeof(c));
    /* Our own health checks and responses without a client Via concern no client. */
    if (response_client(m, &c) < 0)
        return false;
    c.trusted = ban_allowed(g->rt->bans, &c.src);
    det_on_response(g->rt->engine, &c, m, clock_wall_ms(), &verdict);
    if (verdict.action == DET_DROP || verdict.action == DET_BAN) {
        g->st.resp_dropped++;
        return true;
    }
    if ((verdict.flags & DET_F_REWRITE) && verdict.rewrite_len > 0 &&
        verdict.rewrite_len <= sizeof(verdict.rewrite)) {
        struct net_msg copy;
        g->st.resp_rewritten++;
        memcpy(scratch_buf, verdict.rewrite, verdict.rewrite_len);
        if (parse_copy(in, scratch_buf, verdict.rewrite_len, &copy) == 0)
            gw_guard_send(g, &copy, &scratch_msg, 0, NULL, NULL);
        return true;
    }
    return false;
}

void gw_guard_malformed(struct gw_guard *g, const struct net_msg *in, int err,
                        const struct sip_msg *m)
{
    struct det_ctx c;
    g->st.malformed++;
    ctx_init(g, &c, &in->remote, in->transport, false);
    /* The verdict may say 400, but nothing is ever answered to a message that did not parse
     * (no reflection towards a spoofed source); bans take effect through the ban table. */
    det_on_malformed(g->rt->engine, &c, err, m, clock_wall_ms(), &verdict);
}
