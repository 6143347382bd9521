/*
 * The real `pbxguard gateway` binary on loopback, listeners from the configuration file:
 * SIGHUP adds a listener (it forwards at once) and removes one (its port stops answering)
 * while the one kept serves throughout. Bounded retries while the signal is handled; no
 * sleeps.
 */
#include <signal.h>
#include <sys/wait.h>

#include "gw_fixture.h"
#include "gw_util.h"
#include "test.h"

static int write_config(const struct gw_fixture *gw, uint16_t up_port, const uint16_t *ports,
                        unsigned n)
{
    char list[256] = "";
    size_t off = 0;
    for (unsigned i = 0; i < n && off < sizeof(list); i++)
        off += (size_t)snprintf(list + off, sizeof(list) - off, "    - uri: udp:127.0.0.1:%u\n",
                                ports[i]);
    return gw_fixture_write_config(gw,
                                   "events:\n  destination: \"off\"\ngateway:\n"
                                   "  upstreams: [udp:127.0.0.1:%u]\n  listen:\n%s",
                                   up_port, list);
}

/* Retries round_trip (fresh Call-IDs) until it gives want, at most 20 times. */
static bool eventually(int cl, int up, uint16_t cl_port, uint16_t gw_port, const char *tag,
                       bool want)
{
    for (int i = 0; i < 20; i++) {
        char cid[48];
        snprintf(cid, sizeof(cid), "%s-%d", tag, i);
        if (round_trip(cl, up, cl_port, gw_port, cid, 5, NULL) == want)
            return true;
    }
    return false;
}

int main(int argc, char **argv)
{
    uint16_t up_port, cl_port, ports[2];
    struct gw_fixture gw;
    int status = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s PBXGUARD\n", argv[0]);
        return 2;
    }
    int up = udp_socket(&up_port);
    int cl = udp_socket(&cl_port);
    CHECK_INT(gw_free_port(SOCK_DGRAM, &ports[0]), 0);
    CHECK_INT(gw_free_port(SOCK_DGRAM, &ports[1]), 0);
    if (gw_fixture_init(&gw, "gw-reload") != 0 || write_config(&gw, up_port, ports, 1) != 0)
        return 1;
    pid_t pid = gw_fixture_start(&gw, argv[1], (const char *const[]){"--foreground", NULL});
    CHECK(pid > 0);
    if (pid <= 0)
        return test_finish();

    /* Readiness, then control: the second port is not served before the reload. */
    CHECK(eventually(cl, up, cl_port, ports[0], "ready", true));
    CHECK(!round_trip(cl, up, cl_port, ports[1], "not-yet", 5, NULL));

    /* Add the second listener. */
    CHECK_INT(write_config(&gw, up_port, ports, 2), 0);
    kill(pid, SIGHUP);
    CHECK(eventually(cl, up, cl_port, ports[1], "added", true));
    CHECK(round_trip(cl, up, cl_port, ports[0], "kept-1", 5, NULL));

    /* Remove the first one: the second keeps serving, the first stops. */
    CHECK_INT(write_config(&gw, up_port, ports + 1, 1), 0);
    kill(pid, SIGHUP);
    CHECK(eventually(cl, up, cl_port, ports[0], "removed", false));
    CHECK(round_trip(cl, up, cl_port, ports[1], "kept-2", 5, NULL));

    CHECK(gw_fixture_stop(&gw, 8000, &status));
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(up);
    close(cl);
    gw_fixture_remove(&gw);
    return test_finish();
}
