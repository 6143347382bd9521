/*
 * `pbxguard gateway`: the inline SIP edge proxy daemon.
 *
 *   pbxguard gateway [-c FILE] [--listen URI]... [--upstream URI]... [--data-dir DIR]
 *                    [--foreground|--daemon] [--user USER] [--pid-file FILE]
 *
 * Start-up order matters: configuration, then binding (as root if needed), then the data
 * directory and flow key, then detaching and the pid file, then the privilege drop, then the
 * loop. SIGHUP reloads the configuration (proxy settings, upstreams, exposure, health,
 * listeners of the configuration file);
 * SIGTERM/SIGINT drain (no new input, queued output flushed, bounded time) and exit 0.
 * Exit codes: 0 normal exit, 1 runtime failure, 2 usage or configuration error.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "commands.h"
#include "config_sections.h"
#include "daemon_common.h"
#include "daemon_options.h"
#include "gateway_daemon.h"
#include "gateway_guard.h"
#include "gateway_fraud.h"
#include "gateway_hooks.h"
#include "pbxguard/core/addr.h"
#include "pbxguard/core/config.h"
#include "pbxguard/core/escape.h"
#include "pbxguard/core/event.h"
#include "pbxguard/core/general.h"
#include "pbxguard/core/log.h"
#include "pbxguard/net/loop.h"
#include "pbxguard/net/net.h"
#include "pbxguard/proxy/config.h"
#include "pbxguard/proxy/proxy.h"
#include "pbxguard/sip/headers.h"
#include "pbxguard/sip/msg.h"

struct gw_opts {
    const char *config;
    struct gateway_listen listen[GATEWAY_MAX_LISTEN];
    size_t n_listen;
    struct gateway_upstream ups[GATEWAY_MAX_UPSTREAMS];
    size_t n_ups;
    const char *data_dir;
    const char *user;
    const char *pid_file;
    bool daemon;
};

struct gw_stats {
    uint64_t rx, malformed, forwarded, replied, dropped, send_errors, hook_drops;
};

struct gw {
    struct gw_opts opt;
    struct cfg_live live;
    struct net *net;
    struct net_loop *loop;
    struct proxy *px;
    uint8_t hash_key[16];
    struct flow_key fkey;
    struct proxy_iface ifaces[PROXY_MAX_IFACES];
    unsigned n_ifaces;
    struct net_timer health_timer;
    struct net_timer ev_timer;
    struct net_timer health_timeout;
    int64_t health_interval_ms;
    int64_t health_timeout_ms;
    unsigned drain_ms;
    bool draining;
    struct gw_stats st;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: pbxguard gateway [-c FILE] [--listen URI]... [--upstream URI]...\n"
            "                        [--data-dir DIR] [--foreground|--daemon] [--user USER]\n"
            "                        [--pid-file FILE]\n"
            "\n"
            "  -c, --config FILE   configuration file (default: none, safe defaults)\n"
            "  --listen URI        listen endpoint, e.g. udp:0.0.0.0:5060, tls:[::]:5061;\n"
            "                      repeatable; replaces gateway.listen\n"
            "  --upstream URI      PBX endpoint, e.g. udp:10.0.0.5:5060; repeatable (the order\n"
            "                      gives the priority); replaces gateway.upstreams\n"
            "  --data-dir DIR      state directory (flow key, database, control socket)\n"
            "  --foreground        stay attached (default)\n"
            "  --daemon            detach from the terminal\n"
            "  --user USER         drop privileges to USER after binding\n"
            "  --pid-file FILE     write the process id to FILE\n"
            "\n"
            "Signals: HUP reloads the configuration, TERM/INT drain and exit.\n");
}

/* ------------------------------------------------------------------------------------ */
/* Message path */

static void send_action(struct gw *g, const struct proxy_action *a)
{
    int rc = net_send(g->net, &a->dest, a->buf, a->len);
    if (rc < 0) {
        char ab[PBX_ADDR_STRLEN];
        g->st.send_errors++;
        log_debug("gateway: send to %s:%s failed: %s", pbx_transport_name(a->dest.transport),
                  pbx_addr_fmt(&a->dest.addr, ab, sizeof(ab)), strerror(-rc));
    }
}

static void report_health(struct gw *g, unsigned idx, bool ok)
{
    if (proxy_health_result(g->px, idx, ok)) {
        char eb[PBX_ENDPOINT_STRLEN];
        bool up = g->px->ups[idx].up;
        struct ev_record r;
        pbx_endpoint_fmt(&g->px->ups[idx].ep, eb, sizeof(eb));
        log_warn("gateway: upstream %s is %s", eb, up ? "up" : "DOWN");
        /* Operators want to know when the PBX stops answering (failover, or 503s). */
        memset(&r, 0, sizeof(r));
        r.type = up ? "upstream.up" : "upstream.down";
        r.rule = "gateway.health";
        r.action = EV_ACT_ALERT;
        r.severity = up ? EV_SEV_INFO : EV_SEV_HIGH;
        r.component = "gateway";
        r.target = slice_cstr(eb);
        r.reason = up ? "health checks answered again" : "health checks failed";
        (void)ev_emit(&r);
    }
}

/* One security event per gateway decision that refuses a message (docs/events.md). */
static void gw_event(const struct net_msg *msg, const struct sip_msg *m, const char *type,
                     enum ev_action action, const char *reason)
{
    char src[PBX_ADDR_STRLEN];
    struct ev_record r;
    memset(&r, 0, sizeof(r));
    r.type = type;
    r.rule = "gateway.proxy";
    r.action = action;
    r.severity = EV_SEV_LOW;
    r.component = "gateway";
    pbx_addr_fmt(&msg->remote, src, sizeof(src));
    r.src = slice_cstr(src);
    r.transport = pbx_transport_name(msg->transport);
    if (m) {
        r.call_id = m->call_id;
        r.method = m->method_name;
        r.user_agent = sip_msg_user_agent(m);
    }
    r.reason = reason;
    r.raw = slice_make(msg->buf, msg->len);
    (void)ev_emit(&r);
}

static void on_ev_timer(void *ctx, struct net_timer *t)
{
    (void)ctx;
    (void)t;
    (void)ev_flush();
}

/* Applies the log and events sections (start-up and reload). */
static void apply_outputs(struct gw *g, const struct cfg_snapshot *s)
{
    const struct log_config *lc = cfg_snapshot_section(s, "log");
    const struct ev_config *ec = cfg_snapshot_section(s, "events");
    int rc;
    if (lc && (rc = log_configure(lc)) < 0)
        log_warn("gateway: log destination unusable (%s); keeping the previous one", strerror(-rc));
    if (ec && ec->dest != EV_DEST_OFF && (rc = ev_open(ec)) < 0)
        log_warn("gateway: event sink %s unusable (%s); events are not written",
                 ec->path ? ec->path : "stdout", strerror(-rc));
    if (ec && g->loop) {
        net_timer_cancel(g->loop, &g->ev_timer);
        if (ec->dest != EV_DEST_OFF && ec->flush_interval_ms > 0 &&
            net_timer_add(g->loop, &g->ev_timer, (uint32_t)ec->flush_interval_ms,
                          (uint32_t)ec->flush_interval_ms) < 0)
            log_warn("gateway: cannot arm the event flush timer");
    }
}

static bool initial_invite(const struct sip_msg *m)
{
    /* No To tag: not inside a dialog (RFC 3261 §12.2). */
    struct sip_name_addr to;
    return m->method == SIP_METHOD_INVITE && sip_msg_to(m, &to) == 0 && !to.tag.p;
}

static void on_msg(void *ctx, const struct net_msg *msg)
{
    static struct sip_msg m; /* large; one event-loop thread */
    struct gw *g = ctx;
    struct proxy_action act;
    struct gw_decision d = {GW_PASS, 0, NULL, NULL};
    char ab[PBX_ADDR_STRLEN];

    g->st.rx++;
    int rc = sip_msg_parse(&m, msg->buf, msg->len,
                           msg->transport == PBX_TP_UDP ? SIP_PARSE_DATAGRAM : SIP_PARSE_STREAM);
    if (rc < 0) {
        /* Nothing malformed is ever forwarded; no answer either (no reflection). */
        g->st.malformed++;
        gw_hook_malformed(g, msg, rc, &m);
        gw_event(msg, NULL, "sip.malformed", EV_ACT_DROP, m.err_reason ? m.err_reason : "parse");
        log_debug("gateway: malformed message from %s dropped: %s at %zu",
                  pbx_addr_fmt(&msg->remote, ab, sizeof(ab)), m.err_reason ? m.err_reason : "error",
                  m.err_off);
        return;
    }
    enum proxy_side from = proxy_side_of(g->px, msg);
    if (m.is_request) {
        gw_hook_request(g, msg, &m, from, &d);
        if (d.verdict == GW_PASS && from == PROXY_SIDE_OUTSIDE && initial_invite(&m))
            gw_hook_initial_invite(g, msg, &m, &d);
    } else if (from == PROXY_SIDE_INSIDE) {
        gw_hook_response_inside(g, msg, &m, &d);
    } else {
        gw_hook_response_outside(g, msg, &m, &d);
    }
    if (d.verdict == GW_DROP) {
        g->st.hook_drops++;
        return;
    }
    /* Each hook records its own events; the proxy's refusals are recorded below. */
    bool hook_reply = d.verdict == GW_REJECT && m.is_request;
    if (hook_reply) {
        proxy_reply_hdrs(g->px, msg, &m, d.status, d.reason ? d.reason : "Forbidden", d.extra,
                         &act);
    } else if (proxy_process(g->px, msg, &m, &act) < 0) {
        return;
    }
    switch (act.kind) {
    case PROXY_ACT_FORWARD:
        g->st.forwarded++;
        send_action(g, &act);
        break;
    case PROXY_ACT_REPLY:
        g->st.replied++;
        if (!hook_reply && (act.status == 403 || act.status == 482))
            gw_event(msg, &m, "proxy.reject", EV_ACT_REJECT, act.reason);
        send_action(g, &act);
        break;
    case PROXY_ACT_HEALTH:
        report_health(g, (unsigned)act.upstream, act.status < 500);
        break;
    case PROXY_ACT_DROP:
        g->st.dropped++;
        gw_event(msg, &m, "proxy.drop", EV_ACT_DROP, act.reason);
        if (log_enabled(LOG_LEVEL_DEBUG))
            log_debug("gateway: dropped message from %s: %s",
                      pbx_addr_fmt(&msg->remote, ab, sizeof(ab)), act.reason);
        break;
    }
}

/* ------------------------------------------------------------------------------------ */
/* Health checks */

static void on_health_timeout(void *ctx, struct net_timer *t)
{
    struct gw *g = ctx;
    (void)t;
    for (unsigned i = 0; i < g->px->n_ups; i++)
        if (g->px->ups[i].probe_seq != 0)
            report_health(g, i, false);
}

static void on_health_timer(void *ctx, struct net_timer *t)
{
    struct gw *g = ctx;
    struct proxy_action act;
    (void)t;
    if (g->draining)
        return;
    for (unsigned i = 0; i < g->px->n_ups; i++) {
        if (g->px->ups[i].probe_seq != 0)
            report_health(g, i, false);
        if (proxy_health_request(g->px, i, net_loop_now_ms(g->loop), &act) == 0)
            send_action(g, &act);
    }
    net_timer_cancel(g->loop, &g->health_timeout);
    if (net_timer_add(g->loop, &g->health_timeout, (uint32_t)g->health_timeout_ms, 0) < 0)
        log_warn("gateway: cannot arm the health-check timeout");
}

static void health_arm(struct gw *g)
{
    net_timer_cancel(g->loop, &g->health_timer);
    net_timer_cancel(g->loop, &g->health_timeout);
    if (g->health_interval_ms <= 0 || g->px->n_ups == 0)
        return;
    if (g->health_timeout_ms >= g->health_interval_ms)
        g->health_timeout_ms = g->health_interval_ms / 2 > 0 ? g->health_interval_ms / 2 : 1;
    if (net_timer_add(g->loop, &g->health_timer, 50, (uint32_t)g->health_interval_ms) < 0)
        log_warn("gateway: cannot arm health checks");
}

/* ------------------------------------------------------------------------------------ */
/* Configuration */

static const struct gateway_config *gateway_section(const struct cfg_snapshot *s)
{
    return cfg_snapshot_section(s, "gateway");
}

/* Our source address towards each upstream, for headers when listening on a wildcard. */
static void learn_local(struct proxy_upstream *u)
{
    struct sockaddr_storage ss, local;
    socklen_t sl = pbx_addr_to_sockaddr(&u->ep.addr, &ss);
    socklen_t ll = sizeof(local);
    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    if (connect(fd, (struct sockaddr *)&ss, sl) == 0 &&
        getsockname(fd, (struct sockaddr *)&local, &ll) == 0) {
        struct pbx_addr a;
        if (pbx_addr_from_sockaddr((struct sockaddr *)&local, ll, &a) == 0) {
            a.port = 0;
            u->local = a;
        }
    }
    close(fd);
}

static unsigned build_upstreams(const struct gw *g, const struct gateway_config *gc,
                                struct proxy_upstream *ups)
{
    const struct gateway_upstream *src = g->opt.n_ups ? g->opt.ups : gc->upstreams;
    size_t n = g->opt.n_ups ? g->opt.n_ups : gc->n_upstreams;
    memset(ups, 0, sizeof(*ups) * PROXY_MAX_UPSTREAMS);
    for (size_t i = 0; i < n && i < PROXY_MAX_UPSTREAMS; i++) {
        ups[i].ep = src[i].ep;
        ups[i].priority = src[i].priority;
        ups[i].tcp_fallback = src[i].tcp_fallback;
        learn_local(&ups[i]);
    }
    return (unsigned)(n < PROXY_MAX_UPSTREAMS ? n : PROXY_MAX_UPSTREAMS);
}

/* (Re)initialises the proxy from a snapshot, keeping the keys and the health state of
 * upstreams that stay. */
static int apply_config(struct gw *g, const struct gateway_config *gc, bool first)
{
    struct proxy_upstream ups[PROXY_MAX_UPSTREAMS];
    struct proxy_upstream old[PROXY_MAX_UPSTREAMS];
    unsigned n_old = 0;
    unsigned n = build_upstreams(g, gc, ups);
    int bad = proxy_unreachable_upstream(g->ifaces, g->n_ifaces, ups, n);
    if (bad >= 0) {
        char eb[PBX_ENDPOINT_STRLEN];
        pbx_endpoint_fmt(&ups[bad].ep, eb, sizeof(eb));
        log_error("gateway: upstream %s cannot be reached: it needs a UDP listener of the same "
                  "address family serving the inside (gateway.listen with side inside or both)",
                  eb);
        return -ENETUNREACH;
    }
    if (!first) {
        n_old = g->px->n_ups;
        memcpy(old, g->px->ups, sizeof(old));
    }
    int rc = proxy_init(g->px, &gc->proxy, g->ifaces, g->n_ifaces, ups, n, g->hash_key, &g->fkey);
    if (rc < 0)
        return rc;
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < n_old; j++)
            if (old[j].ep.transport == ups[i].ep.transport &&
                pbx_addr_eq(&old[j].ep.addr, &ups[i].ep.addr, true)) {
                g->px->ups[i].up = old[j].up;
                g->px->ups[i].fails = old[j].fails;
                g->px->ups[i].oks = old[j].oks;
            }
    g->health_interval_ms = gc->health_interval_ms;
    g->health_timeout_ms = gc->health_timeout_ms;
    g->drain_ms = (unsigned)gc->drain_timeout_ms;
    return 0;
}

static void fill_limits(struct net_config *nc, const struct gateway_config *gc)
{
    nc->max_conns = (unsigned)gc->max_connections;
    nc->max_conns_per_source = (unsigned)gc->max_connections_per_source;
    nc->idle_timeout_ms = (unsigned)gc->idle_timeout_ms;
    nc->handshake_timeout_ms = (unsigned)gc->handshake_timeout_ms;
}

/* The TLS material of the configuration, for a TLS listener. */
static struct net_tls_config listen_tls(const struct gateway_config *gc)
{
    struct net_tls_config tls = {.cert_file = gc->tls_cert,
                                 .key_file = gc->tls_key,
                                 .ca_file = gc->tls_ca,
                                 .verify_client = gc->tls_verify_client};
    return tls;
}

/*
 * Reload of the sockets: connection limits and timeouts, TLS certificates (renewals), each
 * listener's side and advertised address, and the set of listeners itself. New listeners
 * are bound before removed ones are closed, so an address never goes unserved; kept ones
 * keep their sockets and connections, and a removed one's connections live on until they
 * close. A listener that cannot be bound (port below 1024 after the privilege drop, address
 * in use) is reported and skipped: it needs a restart.
 */
static void reload_listeners(struct gw *g, const struct gateway_config *gc)
{
    struct proxy_iface next[PROXY_MAX_IFACES];
    bool kept[PROXY_MAX_IFACES] = {false};
    unsigned n_next = 0;
    struct net_config nc;
    char eb[PBX_ENDPOINT_STRLEN];
    int rc;
    memset(&nc, 0, sizeof(nc));
    fill_limits(&nc, gc);
    if ((rc = net_update_limits(g->net, &nc)) < 0)
        log_warn("gateway: reload: new connection limits not applied (%s)", strerror(-rc));
    if (g->opt.n_listen)
        return; /* listeners come from the command line */
    for (size_t i = 0; i < gc->n_listen && n_next < PROXY_MAX_IFACES; i++) {
        const struct gateway_listen *l = &gc->listen[i];
        struct proxy_iface *f = &next[n_next];
        unsigned j = 0;
        while (j < g->n_ifaces &&
               (kept[j] || l->ep.transport != g->ifaces[j].transport ||
                !pbx_addr_eq(&l->ep.addr, &g->ifaces[j].addr, l->ep.addr.port != 0)))
            j++;
        if (j < g->n_ifaces) {
            kept[j] = true;
            *f = g->ifaces[j];
            if (f->transport == PBX_TP_TLS) {
                struct net_tls_config tls = listen_tls(gc);
                if ((rc = net_listener_set_tls(g->net, f->listener_id, &tls)) < 0)
                    log_warn("gateway: reload: TLS material of listener %u kept (%s)",
                             f->listener_id, strerror(-rc));
            }
        } else {
            struct net_listener_config lc = {.ep = l->ep, .tls = listen_tls(gc)};
            struct pbx_endpoint ep;
            unsigned id;
            if ((rc = net_listener_add(g->net, &lc, &id)) < 0) {
                log_warn("gateway: reload: cannot listen on %s (%s); restart to add it",
                         pbx_endpoint_fmt(&l->ep, eb, sizeof(eb)), strerror(-rc));
                continue;
            }
            if (net_listener_endpoint(g->net, id, &ep) < 0)
                ep = l->ep;
            memset(f, 0, sizeof(*f));
            f->listener_id = id;
            f->transport = ep.transport;
            f->addr = ep.addr;
            log_info("gateway: listening on %s", pbx_endpoint_fmt(&ep, eb, sizeof(eb)));
        }
        f->sides = l->sides ? l->sides : PROXY_SIDE_BOTH;
        f->advertise = l->advertise;
        n_next++;
    }
    if (n_next == 0) {
        log_warn("gateway: reload: no listener left; the current ones stay");
        return;
    }
    for (unsigned j = 0; j < g->n_ifaces; j++) {
        if (kept[j])
            continue;
        struct pbx_endpoint ep = {.transport = g->ifaces[j].transport, .addr = g->ifaces[j].addr};
        if (net_listener_remove(g->net, g->ifaces[j].listener_id) == 0)
            log_info("gateway: stopped listening on %s (its connections stay)",
                     pbx_endpoint_fmt(&ep, eb, sizeof(eb)));
    }
    memcpy(g->ifaces, next, n_next * sizeof(next[0]));
    g->n_ifaces = n_next;
}

static void on_sighup(void *ctx, int signo)
{
    struct gw *g = ctx;
    struct cfg_diag d;
    (void)signo;
    if (!g->opt.config) {
        log_info("gateway: SIGHUP without a configuration file: nothing to reload");
        return;
    }
    cfg_diag_init(&d);
    int rc = app_config_reload(&g->live, g->opt.config, &d);
    if (rc < 0) {
        log_error("gateway: reload of %s refused (%u errors); the running configuration stays",
                  g->opt.config, cfg_diag_errors(&d));
        cfg_diag_print(&d, stderr);
        cfg_diag_fini(&d);
        return;
    }
    cfg_diag_fini(&d);
    struct cfg_snapshot *s = cfg_live_acquire(&g->live);
    const struct gateway_config *gc = s ? gateway_section(s) : NULL;
    if (s)
        apply_outputs(g, s);
    if (gc) {
        reload_listeners(g, gc);
        if (apply_config(g, gc, false) < 0)
            log_error("gateway: reload: proxy settings rejected");
        if (gw_fraud_reload(s) < 0)
            log_error("gateway: reload: fraud policy rejected");
        health_arm(g);
        log_info("gateway: configuration reloaded (generation %llu)",
                 (unsigned long long)cfg_snapshot_generation(s));
    }
    if (s && gw_guard_reload(s) < 0)
        log_error("gateway: reload: detection settings rejected");
    if (s)
        cfg_snapshot_unref(s);
}

/* The control command "reload" takes the same path as SIGHUP. */
static void ctl_reload(void *ctx)
{
    on_sighup(ctx, SIGHUP);
}

static void on_sigterm(void *ctx, int signo)
{
    struct gw *g = ctx;
    if (g->draining) {
        net_stop(g->net);
        return;
    }
    g->draining = true;
    log_info("gateway: signal %d: draining (at most %u ms)", signo, g->drain_ms);
    net_timer_cancel(g->loop, &g->health_timer);
    net_timer_cancel(g->loop, &g->health_timeout);
    net_drain(g->net, g->drain_ms);
}

/* ------------------------------------------------------------------------------------ */
/* Command line */

enum { O_LISTEN = DAEMON_OPT_OWN, O_UPSTREAM, O_FOREGROUND, O_DAEMON, O_USER, O_PID };

static int gateway_opt(int val, const char *arg, void *ctx)
{
    struct gw_opts *o = ctx;
    switch (val) {
    case O_LISTEN:
        if (o->n_listen >= GATEWAY_MAX_LISTEN ||
            pbx_endpoint_parse(arg, strlen(arg), &o->listen[o->n_listen].ep) < 0) {
            fprintf(stderr, "pbxguard gateway: bad or too many --listen '%s'\n", arg);
            return -EINVAL;
        }
        o->listen[o->n_listen++].sides = PROXY_SIDE_BOTH;
        return 0;
    case O_UPSTREAM:
        if (o->n_ups >= GATEWAY_MAX_UPSTREAMS ||
            pbx_endpoint_parse(arg, strlen(arg), &o->ups[o->n_ups].ep) < 0 ||
            o->ups[o->n_ups].ep.addr.port == 0) {
            fprintf(stderr, "pbxguard gateway: bad or too many --upstream '%s'\n", arg);
            return -EINVAL;
        }
        o->ups[o->n_ups].priority = (int)o->n_ups + 1;
        o->n_ups++;
        return 0;
    case O_FOREGROUND:
        o->daemon = false;
        return 0;
    case O_DAEMON:
        o->daemon = true;
        return 0;
    case O_USER:
        o->user = arg;
        return 0;
    case O_PID:
        o->pid_file = arg;
        return 0;
    default:
        return -EINVAL; /* not in the table */
    }
}

/* -c, --data-dir and --help are parsed by daemon_opts_parse. */
static int parse_args(int argc, char **argv, struct gw_opts *o)
{
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, O_LISTEN},
        {"upstream", required_argument, NULL, O_UPSTREAM},
        {"foreground", no_argument, NULL, O_FOREGROUND},
        {"daemon", no_argument, NULL, O_DAEMON},
        {"user", required_argument, NULL, O_USER},
        {"pid-file", required_argument, NULL, O_PID},
        {NULL, 0, NULL, 0},
    };
    const struct daemon_cmdline cl = {"gateway", "", longopts, gateway_opt, usage, o};
    struct daemon_opts common;
    int rc = daemon_opts_parse(&cl, argc, argv, &common);

    if (rc)
        return rc;
    o->config = common.config;
    o->data_dir = common.data_dir;
    return 0;
}

static int load_snapshot(struct gw *g)
{
    struct cfg_snapshot *s = NULL;
    int rc = daemon_config_load("gateway", g->opt.config, &s);

    if (rc < 0)
        return rc;
    cfg_live_publish(&g->live, s);
    return 0;
}

static int open_net(struct gw *g, const struct gateway_config *gc)
{
    struct net_listener_config lc[GATEWAY_MAX_LISTEN];
    const struct gateway_listen *ls = g->opt.n_listen ? g->opt.listen : gc->listen;
    size_t n = g->opt.n_listen ? g->opt.n_listen : gc->n_listen;
    struct net_config nc;
    struct net_handlers h = {.on_msg = on_msg, .admit = gw_hook_admit, .ctx = g};

    memset(lc, 0, sizeof(lc));
    memset(&nc, 0, sizeof(nc));
    for (size_t i = 0; i < n; i++) {
        lc[i].ep = ls[i].ep;
        lc[i].tls.cert_file = gc->tls_cert;
        lc[i].tls.key_file = gc->tls_key;
        lc[i].tls.ca_file = gc->tls_ca;
        lc[i].tls.verify_client = gc->tls_verify_client;
    }
    nc.listeners = lc;
    nc.n_listeners = n;
    nc.client_tls.ca_file = gc->tls_ca;
    fill_limits(&nc, gc);
    int rc = net_new(&nc, &h, &g->net);
    if (rc < 0)
        return rc;
    g->loop = net_get_loop(g->net);
    g->n_ifaces = 0;
    for (size_t i = 0; i < n && i < PROXY_MAX_IFACES; i++) {
        struct pbx_endpoint ep;
        char eb[PBX_ENDPOINT_STRLEN];
        if (net_listener_endpoint(g->net, (unsigned)i, &ep) < 0)
            ep = ls[i].ep;
        struct proxy_iface *f = &g->ifaces[g->n_ifaces++];
        memset(f, 0, sizeof(*f));
        f->listener_id = (unsigned)i;
        f->transport = ep.transport;
        f->addr = ep.addr;
        f->advertise = ls[i].advertise;
        f->sides = ls[i].sides ? ls[i].sides : PROXY_SIDE_BOTH;
        log_info("gateway: listening on %s", pbx_endpoint_fmt(&ep, eb, sizeof(eb)));
    }
    return 0;
}

int cmd_gateway(int argc, char **argv)
{
    static struct gw gw; /* holds the proxy pointer and large option arrays */
    struct gw *g = &gw;
    int rc, exit_code = 1;
    struct cfg_snapshot *snap = NULL;
    long uid = -1, gid = -1;

    memset(g, 0, sizeof(*g));
    cfg_live_init(&g->live);
    rc = parse_args(argc, argv, &g->opt);
    if (rc)
        return rc > 0 ? 0 : 2;
    if (load_snapshot(g) < 0) {
        exit_code = 2;
        goto out;
    }
    snap = cfg_live_acquire(&g->live);
    const struct gateway_config *gc = gateway_section(snap);
    const struct general_config *gen = general_config_get(snap);
    if (!gc) {
        fprintf(stderr, "pbxguard gateway: no gateway section in the configuration table\n");
        goto out;
    }
    if (!g->opt.n_ups && gc->n_upstreams == 0) {
        fprintf(stderr, "pbxguard gateway: no upstream: give --upstream URI or "
                        "gateway.upstreams (the PBX to protect)\n");
        exit_code = 2;
        goto out;
    }
    const char *data_dir = g->opt.data_dir ? g->opt.data_dir : gen ? gen->data_dir : NULL;
    const char *user = g->opt.user ? g->opt.user : gen ? gen->user : NULL;
    const char *pid_file = g->opt.pid_file ? g->opt.pid_file : gc->pid_file;
    if (user && gw_lookup_account(user, gen && !g->opt.user ? gen->group : NULL, &uid, &gid)) {
        fprintf(stderr, "pbxguard gateway: unknown user or group '%s'\n", user);
        exit_code = 2;
        goto out;
    }

    signal(SIGPIPE, SIG_IGN);
    g->px = calloc(1, sizeof(*g->px));
    if (!g->px)
        goto out;
    rc = open_net(g, gc);
    if (rc < 0) {
        fprintf(stderr, "pbxguard gateway: cannot open listeners: %s\n", strerror(-rc));
        goto out;
    }
    /* Log and event files are opened while still privileged (they may be root-owned). */
    net_timer_init(&g->ev_timer, on_ev_timer, g);
    apply_outputs(g, snap);
    bool persistent = false;
    if (data_dir && gw_datadir_prepare(data_dir, uid, gid) < 0)
        log_warn("gateway: data directory %s unusable; flow tokens will not survive a restart",
                 data_dir);
    if (gw_flow_key_load(data_dir, uid, gid, &g->fkey, &persistent) < 0 ||
        getrandom(g->hash_key, sizeof(g->hash_key), 0) != (ssize_t)sizeof(g->hash_key)) {
        fprintf(stderr, "pbxguard gateway: no randomness for keys\n");
        goto out;
    }
    if (g->opt.daemon && gw_daemonize() < 0) {
        fprintf(stderr, "pbxguard gateway: cannot detach\n");
        goto out;
    }
    if (pid_file && gw_pidfile_write(pid_file) < 0)
        log_warn("gateway: cannot write pid file %s", pid_file);
    if (user && (rc = gw_drop_privileges(uid, gid)) < 0) {
        log_error("gateway: privilege drop to %s failed: %s", user, strerror(-rc));
        goto out;
    }
    if ((rc = apply_config(g, gc, true)) < 0) {
        log_error("gateway: proxy set-up failed");
        if (rc == -ENETUNREACH)
            exit_code = 2; /* a configuration error, like any other */
        goto out;
    }
    char ferr[256];
    if ((rc = gw_fraud_open(snap, data_dir, g->net, g->px, ferr, sizeof(ferr))) < 0) {
        log_error("gateway: %s", ferr[0] ? ferr : strerror(-rc));
        exit_code = 2;
        goto out;
    }
    char gerr[256];
    if ((rc = gw_guard_open(snap, data_dir, g->net, g->px, ctl_reload, g, gerr, sizeof(gerr))) <
        0) {
        log_error("gateway: detection set-up failed: %s", gerr[0] ? gerr : strerror(-rc));
        goto out;
    }
    net_timer_init(&g->health_timer, on_health_timer, g);
    net_timer_init(&g->health_timeout, on_health_timeout, g);
    health_arm(g);
    if (net_loop_signal(g->loop, SIGHUP, on_sighup, g) < 0 ||
        net_loop_signal(g->loop, SIGTERM, on_sigterm, g) < 0 ||
        net_loop_signal(g->loop, SIGINT, on_sigterm, g) < 0) {
        log_error("gateway: cannot install signal handlers");
        goto out;
    }
    log_info("gateway: ready (%u listeners, %u upstreams, flow key %s)", g->n_ifaces, g->px->n_ups,
             persistent ? "persistent" : "ephemeral");
    (void)gw_notify("READY=1");
    rc = net_run(g->net);
    (void)gw_notify("STOPPING=1");
    log_info("gateway: stopped: %llu received, %llu forwarded, %llu replied, %llu dropped, "
             "%llu malformed, %llu send errors",
             (unsigned long long)g->st.rx, (unsigned long long)g->st.forwarded,
             (unsigned long long)g->st.replied, (unsigned long long)g->st.dropped,
             (unsigned long long)g->st.malformed, (unsigned long long)g->st.send_errors);
    exit_code = rc < 0 ? 1 : 0;
    if (pid_file)
        (void)unlink(pid_file);
out:
    gw_guard_close();
    gw_fraud_close();
    if (snap)
        cfg_snapshot_unref(snap);
    net_free(g->net);
    ev_close();
    free(g->px);
    cfg_live_fini(&g->live);
    return exit_code;
}
