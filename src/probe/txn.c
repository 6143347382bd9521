/* Probe requests and client transactions; see txn.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "pbxguard/core/escape.h"
#include "pbxguard/sip/auth.h"
#include "pbxguard/sip/headers.h"
#include "pbxguard/sip/msg.h"

#include "txn.h"

#define T1_MS 500

void probe_random_hex(char *out, size_t cap, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[64];
    if (n >= cap)
        n = cap - 1;
    if (n > sizeof(raw))
        n = sizeof(raw);
    if (getrandom(raw, n, 0) != (ssize_t)n) {
        for (size_t i = 0; i < n; i++)
            raw[i] = (unsigned char)rand();
    }
    for (size_t i = 0; i < n; i++)
        out[i] = hex[raw[i] & 15];
    out[n] = '\0';
}

static const char *tr_name(enum probe_transport t)
{
    return t == PROBE_UDP ? "UDP" : t == PROBE_TCP ? "TCP" : "TLS";
}

static void host_fmt(const char *host, char *out, size_t cap)
{
    snprintf(out, cap, strchr(host, ':') ? "[%s]" : "%s", host);
}

void probe_req_init(struct probe_ctx *pc, struct probe_req *req, const char *method,
                    const char *user)
{
    char h[300];
    memset(req, 0, sizeof(*req));
    req->method = method;
    host_fmt(pc->target.host, h, sizeof(h));
    const char *tp = pc->conn->transport == PROBE_TCP   ? ";transport=tcp"
                     : pc->conn->transport == PROBE_TLS ? ";transport=tls"
                                                        : "";
    if (user)
        snprintf(req->ruri, sizeof(req->ruri), "sip:%.60s@%.280s:%u%s", user, h, pc->target.port,
                 tp);
    else
        snprintf(req->ruri, sizeof(req->ruri), "sip:%.280s:%u%s", h, pc->target.port, tp);
    snprintf(req->to_user, sizeof(req->to_user), "%s", user ? user : "probe");
    snprintf(req->from_user, sizeof(req->from_user), "%s", user ? user : "probe");
    probe_random_hex(req->call_id, sizeof(req->call_id), 24);
    probe_random_hex(req->from_tag, sizeof(req->from_tag), 12);
    char b[24];
    probe_random_hex(b, sizeof(b), 16);
    snprintf(req->branch, sizeof(req->branch), "z9hG4bK-pbxg-%s", b);
    req->cseq = 1;
}

static int req_fmt(struct probe_ctx *pc, const struct probe_req *req, const char *method,
                   const char *to_tag, const char *ruri, const char *routes, char *buf, size_t cap)
{
    char h[300], lh[80], body[512] = "";
    host_fmt(pc->target.host, h, sizeof(h));
    host_fmt(pc->conn->local_ip, lh, sizeof(lh));
    if (req->with_sdp && strcmp(method, "INVITE") == 0) {
        bool v6 = strchr(pc->conn->local_ip, ':') != NULL;
        snprintf(body, sizeof(body),
                 "v=0\r\no=probe 1 1 IN %s %s\r\ns=-\r\nc=IN %s %s\r\nt=0 0\r\n"
                 "m=audio 9 RTP/AVP 0 8\r\na=sendrecv\r\n",
                 v6 ? "IP6" : "IP4", pc->conn->local_ip, v6 ? "IP6" : "IP4", pc->conn->local_ip);
    }
    const char *cseq_method = strcmp(method, "ACK") == 0 && !ruri ? "ACK" : method;
    int n = snprintf(buf, cap,
                     "%s %s SIP/2.0\r\n"
                     "Via: SIP/2.0/%s %s:%u;branch=%s;rport\r\n"
                     "%s"
                     "Max-Forwards: 70\r\n"
                     "From: <sip:%s@%s>;tag=%s\r\n"
                     "To: <sip:%s@%s>%s%s\r\n"
                     "Call-ID: %s\r\n"
                     "CSeq: %u %s\r\n"
                     "Contact: <sip:probe@%s:%u%s>\r\n"
                     "User-Agent: pbxguard-probe/%s\r\n"
                     "%s"
                     "%s"
                     "Content-Length: %zu\r\n\r\n%s",
                     method, ruri ? ruri : req->ruri, tr_name(pc->conn->transport), lh,
                     pc->conn->local_port, req->branch, routes ? routes : "", req->from_user, h,
                     req->from_tag, req->to_user, h, to_tag ? ";tag=" : "", to_tag ? to_tag : "",
                     req->call_id, req->cseq, cseq_method, lh, pc->conn->local_port,
                     pc->conn->transport == PROBE_TCP   ? ";transport=tcp"
                     : pc->conn->transport == PROBE_TLS ? ";transport=tls"
                                                        : "",
                     PBX_VERSION, req->extra, body[0] ? "Content-Type: application/sdp\r\n" : "",
                     strlen(body), body);
    if (n < 0 || (size_t)n >= cap)
        return -EMSGSIZE;
    return n;
}

/* Response text is attacker-controlled: unfold, then the project's escape helper. */
static void clean_copy(char *dst, size_t cap, struct slice s)
{
    char raw[512];
    size_t n = sip_value_unfold(s, raw, sizeof(raw));
    esc_untrusted(dst, cap, raw, n, cap - ESC_MIN_CAP, ESC_TEXT);
}

/* Parses buf; fills resp when it answers req (Call-ID and CSeq method match). */
static bool match_resp(const char *buf, size_t len, const struct probe_req *req, const char *method,
                       struct probe_resp *resp)
{
    struct sip_msg *m = malloc(sizeof(*m));
    bool ok = false;
    if (!m)
        return false;
    if (sip_msg_parse(m, (const uint8_t *)buf, len, SIP_PARSE_DATAGRAM) != 0 || m->is_request)
        goto out;
    if (!slice_eq_cstr(m->call_id, req->call_id) || !slice_eq_cstr_ci(m->cseq_method_name, method))
        goto out;
    memset(resp, 0, sizeof(*resp));
    resp->status = m->status;
    clean_copy(resp->reason, sizeof(resp->reason), m->reason);
    struct slice server = sip_msg_server(m);
    if (slice_present(server))
        clean_copy(resp->server, sizeof(resp->server), server);
    struct sip_name_addr na;
    if (sip_msg_to(m, &na) == 0 && slice_present(na.tag))
        slice_copy_cstr(na.tag, resp->to_tag, sizeof(resp->to_tag));
    if (sip_msg_contact(m, 0, &na) == 0)
        slice_copy_cstr(na.uri_raw, resp->contact, sizeof(resp->contact));
    for (unsigned i = 0; i < 4; i++) {
        struct slice item;
        if (sip_msg_value(m, SIP_HDR_RECORD_ROUTE, i, &item) != 0)
            break;
        slice_copy_cstr(item, resp->rr[resp->nrr++], sizeof(resp->rr[0]));
    }
    struct slice ch = sip_msg_hdr_value(m, SIP_HDR_WWW_AUTHENTICATE, 0);
    if (!slice_present(ch)) {
        ch = sip_msg_hdr_value(m, SIP_HDR_PROXY_AUTHENTICATE, 0);
        resp->proxy_auth = slice_present(ch);
    }
    if (slice_present(ch))
        sip_value_unfold(ch, resp->challenge, sizeof(resp->challenge));
    ok = true;
out:
    free(m);
    return ok;
}

/* Waits for any response to req/method until deadline; 1 got one, 0 timeout, <0 error. */
static int wait_resp(struct probe_ctx *pc, const struct probe_req *req, const char *method,
                     int64_t deadline, struct probe_resp *resp)
{
    char buf[PROBE_RBUF];
    for (;;) {
        int64_t left = deadline - probe_now_ms();
        if (left <= 0)
            return 0;
        int n = probe_conn_recv(pc->conn, buf, sizeof(buf), (int)left);
        if (n <= 0)
            return n;
        struct probe_resp tmp;
        if (match_resp(buf, (size_t)n, req, method, &tmp)) {
            *resp = tmp;
            pc->last_any = tmp;
            return 1;
        }
    }
}

int probe_transact(struct probe_ctx *pc, struct probe_req *req, struct probe_resp *resp,
                   bool unpaced)
{
    char buf[4096];
    int n = req_fmt(pc, req, req->method, NULL, NULL, NULL, buf, sizeof(buf));
    if (n < 0)
        return n;
    int64_t start = probe_now_ms();
    int64_t deadline = start + pc->timeout_ms;
    int64_t interval = T1_MS;
    int64_t next = start + interval;
    int rc = probe_conn_send(pc->conn, buf, (size_t)n, unpaced);
    if (rc)
        return rc;
    start = probe_now_ms(); /* after pacing */
    deadline = start + pc->timeout_ms;
    next = start + interval;
    for (;;) {
        int64_t until = pc->conn->transport == PROBE_UDP && next < deadline ? next : deadline;
        struct probe_resp r;
        rc = wait_resp(pc, req, req->method, until, &r);
        if (rc < 0)
            return rc;
        if (rc == 1 && r.status >= 200) {
            r.rtt_ms = probe_now_ms() - start;
            *resp = r;
            return 0;
        }
        if (rc == 1)
            continue; /* provisional: keep waiting (no more retransmissions needed) */
        if (probe_now_ms() >= deadline)
            return -ETIMEDOUT;
        /* RFC 3261 §17.1.2.2: retransmit at T1, 2*T1, ... over unreliable transports. */
        rc = probe_conn_send(pc->conn, buf, (size_t)n, true);
        if (rc)
            return rc;
        interval *= 2;
        next = probe_now_ms() + interval;
    }
}

static int send_ack(struct probe_ctx *pc, struct probe_req *req, const struct probe_resp *r)
{
    char buf[4096], routes[1200] = "";
    int n;
    if (r->status >= 300) {
        /* §17.1.1.3: ACK for a non-2xx final is part of the INVITE transaction. */
        n = req_fmt(pc, req, "ACK", r->to_tag, NULL, NULL, buf, sizeof(buf));
    } else {
        /* §13.2.2.4: the 2xx ACK is a new transaction along the route set. */
        size_t off = 0;
        for (int i = r->nrr - 1; i >= 0 && off < sizeof(routes); i--)
            off += (size_t)snprintf(routes + off, sizeof(routes) - off, "Route: %s\r\n", r->rr[i]);
        char b[24];
        probe_random_hex(b, sizeof(b), 16);
        snprintf(req->branch, sizeof(req->branch), "z9hG4bK-pbxg-%s", b);
        n = req_fmt(pc, req, "ACK", r->to_tag, r->contact[0] ? r->contact : NULL, routes, buf,
                    sizeof(buf));
    }
    if (n < 0)
        return n;
    return probe_conn_send(pc->conn, buf, (size_t)n, true);
}

static void send_bye(struct probe_ctx *pc, struct probe_req *req, const struct probe_resp *r)
{
    char buf[4096], routes[1200] = "";
    size_t off = 0;
    for (int i = r->nrr - 1; i >= 0 && off < sizeof(routes); i--)
        off += (size_t)snprintf(routes + off, sizeof(routes) - off, "Route: %s\r\n", r->rr[i]);
    char b[24];
    probe_random_hex(b, sizeof(b), 16);
    snprintf(req->branch, sizeof(req->branch), "z9hG4bK-pbxg-%s", b);
    req->cseq++;
    int n = req_fmt(pc, req, "BYE", r->to_tag, r->contact[0] ? r->contact : NULL, routes, buf,
                    sizeof(buf));
    if (n > 0 && probe_conn_send(pc->conn, buf, (size_t)n, true) == 0) {
        struct probe_resp br;
        (void)wait_resp(pc, req, "BYE", probe_now_ms() + pc->timeout_ms, &br);
    }
}

int probe_invite(struct probe_ctx *pc, struct probe_req *req, struct probe_resp *resp, int *ringing)
{
    char buf[4096], cancel[4096];
    *ringing = 0;
    req->with_sdp = true;
    int n = req_fmt(pc, req, "INVITE", NULL, NULL, NULL, buf, sizeof(buf));
    if (n < 0)
        return n;
    /* CANCEL: same Request-URI, Call-ID, From, To, CSeq number and branch (§9.1). */
    struct probe_req creq = *req;
    creq.with_sdp = false;
    int cn = req_fmt(pc, &creq, "CANCEL", NULL, NULL, NULL, cancel, sizeof(cancel));
    if (cn < 0)
        return cn;
    int rc = probe_conn_send(pc->conn, buf, (size_t)n, false);
    if (rc)
        return rc;
    int64_t start = probe_now_ms();
    int64_t deadline = start + pc->timeout_ms;
    int64_t interval = T1_MS, next = start + interval;
    bool provisional = false, cancelled = false;
    for (;;) {
        int64_t until = deadline;
        if (pc->conn->transport == PROBE_UDP && !provisional && next < deadline)
            until = next;
        struct probe_resp r;
        rc = wait_resp(pc, req, "INVITE", until, &r);
        if (rc < 0)
            return rc;
        if (rc == 1 && r.status < 200) {
            provisional = true;
            if (r.status > 100 && !*ringing)
                *ringing = r.status;
            if (r.status > 100 && !cancelled) {
                /* Never let a probe call ring through or get answered. */
                rc = probe_conn_send(pc->conn, cancel, (size_t)cn, true);
                if (rc)
                    return rc;
                cancelled = true;
                deadline = probe_now_ms() + pc->timeout_ms;
            }
            continue;
        }
        if (rc == 1) {
            r.rtt_ms = probe_now_ms() - start;
            *resp = r;
            rc = send_ack(pc, req, &r);
            if (rc == 0 && r.status < 300)
                send_bye(pc, req, &r);
            return rc;
        }
        if (probe_now_ms() >= deadline)
            return -ETIMEDOUT;
        if (!provisional) {
            rc = probe_conn_send(pc->conn, buf, (size_t)n, true);
            if (rc)
                return rc;
            interval *= 2;
            next = probe_now_ms() + interval;
        }
    }
}

int probe_send_request(struct probe_ctx *pc, const struct probe_req *req)
{
    char buf[4096];
    int n = req_fmt(pc, req, req->method, NULL, NULL, NULL, buf, sizeof(buf));
    if (n < 0)
        return n;
    return probe_conn_send(pc->conn, buf, (size_t)n, true);
}
