/*
 * A TLS phone through the real `pbxguard gateway` to a UDP upstream (transport conversion):
 * REGISTER over TLS reaches the UDP upstream with a Path; the answer comes back over the
 * TLS connection; the PBX's INVITE routed by the Path goes out over that same TLS connection
 * with a double Record-Route (tls outside, udp inside). argv[1] is the pbxguard binary.
 * The certificate is made with the openssl command at run time. Every wait is bounded.
 */
#include <errno.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "gw_fixture.h"
#include "gw_util.h"
#include "test.h"

static SSL *tls_connect(SSL_CTX *ctx, uint16_t port, uint16_t *local_port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    socklen_t sl = sizeof(sa);
    struct timeval tv = {.tv_sec = 5};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return NULL;
    /* Blocking I/O bounded by socket timeouts. */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
        *local_port = ntohs(sa.sin_port);
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_connect(ssl) != 1) {
        ERR_print_errors_fp(stderr);
        SSL_free(ssl);
        close(fd);
        return NULL;
    }
    return ssl;
}

static size_t tls_recv_msg(SSL *ssl, char *buf, size_t cap)
{
    size_t n = 0;
    for (int i = 0; i < 64; i++) {
        const char *end = memmem(buf, n, "\r\n\r\n", 4);
        if (end) {
            const char *cl = strstr(buf, "\r\nContent-Length: ");
            size_t body = cl ? strtoul(cl + 18, NULL, 10) : 0;
            size_t total = (size_t)(end - buf) + 4 + body;
            if (n >= total) {
                buf[total] = '\0';
                return total;
            }
        }
        int r = SSL_read(ssl, buf + n, (int)(cap - 1 - n));
        if (r <= 0)
            return 0;
        n += (size_t)r;
        buf[n] = '\0';
    }
    return 0;
}

int main(int argc, char **argv)
{
    static char buf[16384], got[16384], tmp[2048], cmd[1024], want[256];
    struct gw_fixture gw;
    uint16_t up_port, cl_port, gwu_port = 0, gwt_port = 0, ph_port = 0;

    if (argc < 2)
        return 2;
    int up = udp_socket(&up_port);
    int cl = udp_socket(&cl_port);
    CHECK_INT(gw_free_port(SOCK_DGRAM, &gwu_port), 0);
    CHECK_INT(gw_free_port(SOCK_STREAM, &gwt_port), 0);
    if (gw_fixture_init(&gw, "tls-test") != 0)
        return 1;
    snprintf(cmd, sizeof(cmd),
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-keyout %s/key.pem -out %s/cert.pem -days 1 -subj /CN=localhost >/dev/null 2>&1",
             gw.dir, gw.dir);
    CHECK_INT(system(cmd), 0);
    if (gw_fixture_write_config(&gw,
                                "events:\n  destination: \"off\"\n"
                                "gateway:\n  upstreams: [udp:127.0.0.1:%u]\n"
                                "  tls: {cert: %s/cert.pem, key: %s/key.pem}\n",
                                up_port, gw.dir, gw.dir) != 0)
        return 1;

    char l1[64], l2[64];
    snprintf(l1, sizeof(l1), "udp:127.0.0.1:%u", gwu_port);
    snprintf(l2, sizeof(l2), "tls:127.0.0.1:%u", gwt_port);
    gw_fixture_start(&gw, argv[1], (const char *const[]){"--listen", l1, "--listen", l2, NULL});
    /* Readiness over UDP (listeners are all bound before the loop starts). */
    CHECK(gw_fixture_wait_ready(cl, cl_port, up, gwu_port));

    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL); /* self-signed test certificate */
    SSL *ssl = tls_connect(ctx, gwt_port, &ph_port);
    CHECK(ssl != NULL);
    if (ssl) {
        snprintf(buf, sizeof(buf),
                 "REGISTER sip:example.com SIP/2.0\r\n"
                 "Via: SIP/2.0/TLS 127.0.0.1:%u;branch=z9hG4bKtlsreg\r\n"
                 "Max-Forwards: 70\r\nFrom: <sip:400@example.com>;tag=tl\r\n"
                 "To: <sip:400@example.com>\r\nCall-ID: tls-reg\r\nCSeq: 1 REGISTER\r\n"
                 "Contact: <sip:400@10.9.9.9:5061;transport=tls>\r\n"
                 "User-Agent: tls-phone\r\nContent-Length: 0\r\n\r\n",
                 ph_port);
        CHECK(SSL_write(ssl, buf, (int)strlen(buf)) == (int)strlen(buf));
        CHECK(upstream_wait(up, gwu_port, "tls-reg", got, sizeof(got), 20, NULL, NULL));
        snprintf(want, sizeof(want), "SIP/2.0/UDP 127.0.0.1:%u;", gwu_port);
        CHECK(header(got, "Via", 0, tmp, sizeof(tmp)) &&
              strncmp(tmp, want, strlen(want)) == 0); /* banned-ok */
        CHECK(header(got, "Via", 1, tmp, sizeof(tmp)) && strstr(tmp, "SIP/2.0/TLS 127.0.0.1") &&
              strstr(tmp, ";received=127.0.0.1"));
        char path[512];
        CHECK(header(got, "Path", 0, path, sizeof(path)) != NULL);
        answer(up, gwu_port, got);
        CHECK(tls_recv_msg(ssl, got, sizeof(got)) > 0);
        CHECK(strncmp(got, "SIP/2.0 200 OK\r\n", 16) == 0 &&
              strstr(got, "tls-reg")); /* banned-ok */
        CHECK(header(got, "Server", 0, tmp, sizeof(tmp)) == NULL);

        snprintf(buf, sizeof(buf),
                 "INVITE sip:400@10.9.9.9:5061;transport=tls SIP/2.0\r\n"
                 "Via: SIP/2.0/UDP 127.0.0.1:%u;branch=z9hG4bKtlsinv\r\n"
                 "Max-Forwards: 70\r\nRoute: %s\r\n"
                 "From: <sip:100@example.com>;tag=pbx\r\nTo: <sip:400@example.com>\r\n"
                 "Call-ID: tls-invite\r\nCSeq: 1 INVITE\r\n"
                 "Contact: <sip:100@127.0.0.1:%u>\r\nContent-Length: 0\r\n\r\n",
                 up_port, path, up_port);
        send_to(up, gwu_port, buf);
        CHECK(tls_recv_msg(ssl, got, sizeof(got)) > 0);
        CHECK(strncmp(got, "INVITE sip:400@10.9.9.9:5061;transport=tls SIP/2.0\r\n", 51) ==
              0); /* banned-ok */
        snprintf(want, sizeof(want), "SIP/2.0/TLS 127.0.0.1:%u;", gwt_port);
        CHECK(header(got, "Via", 0, tmp, sizeof(tmp)) &&
              strncmp(tmp, want, strlen(want)) == 0); /* banned-ok */
        CHECK(header(got, "Record-Route", 0, tmp, sizeof(tmp)) &&
              strstr(tmp, ";transport=tls;lr>, <sip:127.0.0.1:") &&
              strstr(tmp, ";transport=udp;lr>"));
        SSL_shutdown(ssl);
        close(SSL_get_fd(ssl));
        SSL_free(ssl);
    }
    SSL_CTX_free(ctx);

    int status;
    CHECK(gw_fixture_stop(&gw, 8000, &status));
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_INT(gw_fixture_remove(&gw), 0);
    close(up);
    close(cl);
    return test_finish();
}
