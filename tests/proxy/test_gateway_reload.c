/*
 * The real `pbxguard gateway` binary on loopback, listeners from the configuration file:
 * SIGHUP adds a listener (it forwards at once) and removes one (its port stops answering)
 * while the one kept serves throughout. Bounded retries while the signal is handled; no
 * sleeps.
 */
#include <signal.h>
#include <sys/wait.h>

#include "gw_util.h"
#include "test.h"

static void write_config(const char *path, uint16_t up_port, const uint16_t *ports, unsigned n)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror("config");
        exit(1);
    }
    fprintf(f,
            "events:\n  destination: \"off\"\ngateway:\n  upstreams: [udp:127.0.0.1:%u]\n"
            "  listen:\n",
            up_port);
    for (unsigned i = 0; i < n; i++)
        fprintf(f, "    - uri: udp:127.0.0.1:%u\n", ports[i]);
    fclose(f);
}

/* OPTIONS call_id to gateway port gw_port: true when the upstream sees it and the answer
 * comes back to the client. */
static bool round_trip(int cl, int up, uint16_t cl_port, uint16_t gw_port, const char *call_id)
{
    static char buf[16384], got[16384];
    options(buf, sizeof(buf), cl_port, call_id);
    send_to(cl, gw_port, buf);
    if (!upstream_wait(up, gw_port, call_id, got, sizeof(got), 5, NULL, NULL))
        return false;
    answer(up, gw_port, got);
    for (int i = 0; i < 10; i++) {
        if (!recv_within(cl, got, sizeof(got), 250, NULL))
            return false;
        if (strstr(got, call_id))
            return true;
    }
    return false;
}

/* Retries round_trip (fresh Call-IDs) until it gives want, at most 20 times. */
static bool eventually(int cl, int up, uint16_t cl_port, uint16_t gw_port, const char *tag,
                       bool want)
{
    for (int i = 0; i < 20; i++) {
        char cid[48];
        snprintf(cid, sizeof(cid), "%s-%d", tag, i);
        if (round_trip(cl, up, cl_port, gw_port, cid) == want)
            return true;
    }
    return false;
}

static uint16_t free_udp_port(void)
{
    uint16_t p;
    int fd = udp_socket(&p);
    close(fd);
    return p;
}

int main(int argc, char **argv)
{
    uint16_t up_port, cl_port, ports[2];
    char dir[] = "/tmp/pbxguard-gw-reload-XXXXXX", conf[128];
    int status = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s PBXGUARD\n", argv[0]);
        return 2;
    }
    int up = udp_socket(&up_port);
    int cl = udp_socket(&cl_port);
    ports[0] = free_udp_port();
    ports[1] = free_udp_port();
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(conf, sizeof(conf), "%s/pbxguard.yaml", dir);
    write_config(conf, up_port, ports, 1);
    pid_t pid = fork();
    if (pid == 0) {
        execl(argv[1], argv[1], "gateway", "-c", conf, "--data-dir", dir, "--foreground",
              (char *)NULL);
        _exit(127);
    }
    CHECK(pid > 0);
    if (pid <= 0)
        return test_finish();

    /* Readiness, then control: the second port is not served before the reload. */
    CHECK(eventually(cl, up, cl_port, ports[0], "ready", true));
    CHECK(!round_trip(cl, up, cl_port, ports[1], "not-yet"));

    /* Add the second listener. */
    write_config(conf, up_port, ports, 2);
    kill(pid, SIGHUP);
    CHECK(eventually(cl, up, cl_port, ports[1], "added", true));
    CHECK(round_trip(cl, up, cl_port, ports[0], "kept-1"));

    /* Remove the first one: the second keeps serving, the first stops. */
    write_config(conf, up_port, ports + 1, 1);
    kill(pid, SIGHUP);
    CHECK(eventually(cl, up, cl_port, ports[0], "removed", false));
    CHECK(round_trip(cl, up, cl_port, ports[1], "kept-2"));

    kill(pid, SIGTERM);
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(up);
    close(cl);
    char path[192];
    snprintf(path, sizeof(path), "%s/pbxguard.yaml", dir);
    unlink(path);
    return test_finish();
}
