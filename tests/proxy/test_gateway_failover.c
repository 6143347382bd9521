/*
 * Upstream failover in the real binary: two upstreams, the preferred one never answers the
 * OPTIONS health checks. Control: at first requests go to the preferred one. Once its checks
 * fail (interval 200 ms, timeout 100 ms, 2 failures) requests go to the second, which
 * answers; when it too stops answering, callers get 503 with Retry-After.
 * argv[1] is the pbxguard binary. Every wait is bounded.
 */
#include <sys/wait.h>

#include "gw_fixture.h"
#include "gw_util.h"
#include "test.h"

/* Reads one datagram from up1 or up2 within timeout_ms; *which = 1 or 2. */
static size_t recv_either(int up1, int up2, char *buf, size_t cap, int timeout_ms, int *which,
                          uint16_t *from)
{
    struct pollfd p[2] = {{.fd = up1, .events = POLLIN}, {.fd = up2, .events = POLLIN}};
    if (poll(p, 2, timeout_ms) <= 0)
        return 0;
    *which = (p[0].revents & POLLIN) ? 1 : 2;
    return recv_within(*which == 1 ? up1 : up2, buf, cap, 0, from);
}

int main(int argc, char **argv)
{
    static char buf[8192], got[8192], tmp[512];
    struct gw_fixture gw;
    uint16_t p1, p2, cp, gp;
    if (argc < 2)
        return 2;
    int up1 = udp_socket(&p1), up2 = udp_socket(&p2), cl = udp_socket(&cp);
    if (gw_free_port(SOCK_DGRAM, &gp) != 0 || gw_fixture_init(&gw, "fo-test") != 0)
        return 1;
    if (gw_fixture_write_config(&gw,
                                "events:\n  destination: \"off\"\n"
                                "gateway:\n"
                                "  upstreams:\n    - uri: udp:127.0.0.1:%u\n      priority: 1\n"
                                "    - uri: udp:127.0.0.1:%u\n      priority: 2\n"
                                "  health: {interval: 200ms, timeout: 100ms, failures_to_down: 2,"
                                " successes_to_up: 1}\n"
                                "  retry_after: 7s\n",
                                p1, p2) != 0)
        return 1;
    char l[64];
    snprintf(l, sizeof(l), "udp:127.0.0.1:%u", gp);
    gw_fixture_start(&gw, argv[1], (const char *const[]){"--listen", l, NULL});

    /* Phase 1 (control): requests reach the preferred upstream while it counts as up. */
    bool first = false;
    for (int i = 0; i < 30 && !first; i++) {
        options(buf, sizeof(buf), cp, "fo-first");
        send_to(cl, gp, buf);
        int which = 0;
        uint16_t from;
        for (int k = 0; k < 5; k++) {
            if (!recv_either(up1, up2, got, sizeof(got), 100, &which, &from))
                break;
            if (strstr(got, "fo-first")) {
                first = which == 1;
                break;
            }
            if (which == 2 && strstr(got, ";hc="))
                answer(up2, from, got); /* the second one answers its checks */
        }
    }
    CHECK(first);

    /* Phase 2: up1 stays silent; after its checks fail, requests go to up2. */
    bool moved = false;
    for (int i = 0; i < 40 && !moved; i++) {
        char cid[32];
        snprintf(cid, sizeof(cid), "fo-after-%d", i);
        options(buf, sizeof(buf), cp, cid);
        send_to(cl, gp, buf);
        int which = 0;
        uint16_t from;
        /* About 100 ms per attempt, answering up2's checks all along. */
        for (int k = 0; k < 10; k++) {
            if (!recv_either(up1, up2, got, sizeof(got), 10, &which, &from))
                continue;
            if (which == 2 && strstr(got, ";hc=")) {
                answer(up2, from, got);
                continue;
            }
            if (strstr(got, cid) && which == 2) {
                moved = true;
                answer(up2, from, got);
                break;
            }
        }
    }
    CHECK(moved);
    bool answered = false;
    for (int i = 0; i < 10 && !answered; i++)
        answered = recv_within(cl, got, sizeof(got), 200, NULL) && strstr(got, "fo-after-") &&
                   strncmp(got, "SIP/2.0 200 ", 12) == 0; /* banned-ok */
    CHECK(answered);

    /* Phase 3: nobody answers: 503 with Retry-After, from the gateway itself. */
    bool got503 = false;
    for (int i = 0; i < 40 && !got503; i++) {
        uint16_t from;
        int which;
        while (recv_either(up1, up2, got, sizeof(got), 0, &which, &from))
            ; /* swallow everything, answer nothing */
        options(buf, sizeof(buf), cp, "fo-none");
        send_to(cl, gp, buf);
        if (recv_within(cl, got, sizeof(got), 100, NULL) && strstr(got, "fo-none") &&
            strncmp(got, "SIP/2.0 503 ", 12) == 0) /* banned-ok */
            got503 = header(got, "Retry-After", 0, tmp, sizeof(tmp)) && strcmp(tmp, "7") == 0;
    }
    CHECK(got503);

    int status;
    CHECK(gw_fixture_stop(&gw, 8000, &status));
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    gw_fixture_remove(&gw);
    return test_finish();
}
