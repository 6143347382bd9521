/*
 * TLS listeners and outbound TLS, with a CA and certificates generated at test time by the
 * openssl command in a temporary directory: echo over v4 and v6, TLS 1.1 refused,
 * client certificates required and verified, handshake timeout, verified upstreams.
 */
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>

#include "net_test.h"
#include "test.h"

static const size_t msg_len = sizeof(test_msg) - 1;
static char dir[64];
static char path_buf[16][192];
static int path_next;

static const char *path(const char *name)
{
    char *p = path_buf[path_next++ % 16];
    snprintf(p, sizeof(path_buf[0]), "%s/%s", dir, name);
    return p;
}

static int run(const char *cmd)
{
    char full[2048];
    snprintf(full, sizeof(full), "cd '%s' && ( %s ) >/dev/null 2>&1", dir, cmd);
    return system(full);
}

#define EC "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"

/* Issues name.crt/name.key signed by ca (ca.crt/ca.key) with the given extensions. */
static int issue(const char *name, const char *ca, const char *ext)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd),
             "printf '%%s\\n' '%s' > %s.ext && "
             "openssl req -new " EC " -keyout %s.key -out %s.csr -subj /CN=%s && "
             "openssl x509 -req -in %s.csr -CA %s.crt -CAkey %s.key -CAcreateserial "
             "-out %s.crt -days 2 -extfile %s.ext",
             ext, name, name, name, name, name, ca, ca, name, name);
    return run(cmd);
}

static bool make_pki(void)
{
    snprintf(dir, sizeof(dir), "/tmp/pbxguard-net-tls-XXXXXX");
    if (!mkdtemp(dir))
        return false;
    return run("openssl req -x509 -new " EC " -keyout ca.key -out ca.crt -days 2 "
               "-subj /CN=pbxguard-test-ca") == 0 &&
           run("openssl req -x509 -new " EC " -keyout rogue.key -out rogue.crt -days 2 "
               "-subj /CN=pbxguard-rogue-ca") == 0 &&
           issue("srv", "ca", "subjectAltName=IP:127.0.0.1,IP:::1") == 0 &&
           issue("cli", "ca", "extendedKeyUsage=clientAuth") == 0 &&
           issue("rcli", "rogue", "extendedKeyUsage=clientAuth") == 0 &&
           issue("rsrv", "rogue", "subjectAltName=IP:127.0.0.1,IP:::1") == 0;
}

static SSL_CTX *client_ctx(int min_ver, int max_ver, const char *cert, const char *key)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return NULL;
    /* Let this client offer old versions, so a refusal is the server's doing. */
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
    SSL_CTX_set_min_proto_version(ctx, min_ver);
    SSL_CTX_set_max_proto_version(ctx, max_ver);
    SSL_CTX_load_verify_locations(ctx, path("ca.crt"), NULL);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    if (cert) {
        SSL_CTX_use_certificate_chain_file(ctx, cert);
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM);
    }
    return ctx;
}

/* Non-blocking handshake driven between turns of the server loop. */
static SSL *tls_connect(struct net *n, SSL_CTX *ctx, int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    SSL *ssl = SSL_new(ctx);
    SSL_set_fd(ssl, fd);
    int64_t end = clock_mono_ms() + 5000;
    while (clock_mono_ms() < end) {
        int r = SSL_connect(ssl);
        if (r == 1)
            return ssl;
        int e = SSL_get_error(ssl, r);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
            break;
        pump(n, 1);
    }
    ERR_clear_error();
    SSL_free(ssl);
    return NULL;
}

/* Writes then reads want bytes back. Returns bytes read, or -1 when the peer dropped us. */
static long tls_roundtrip(struct net *n, SSL *ssl, const void *out, size_t out_len, uint8_t *in,
                          size_t want)
{
    if (out_len) {
        int64_t end = clock_mono_ms() + 3000;
        int w;
        while ((w = SSL_write(ssl, out, (int)out_len)) <= 0) {
            int e = SSL_get_error(ssl, w);
            if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) || clock_mono_ms() > end)
                return -1;
            pump(n, 1);
        }
    }
    size_t got = 0;
    int64_t end = clock_mono_ms() + 3000;
    while (got < want && clock_mono_ms() < end) {
        int r = SSL_read(ssl, in + got, (int)(want - got));
        if (r > 0) {
            got += (size_t)r;
            continue;
        }
        int e = SSL_get_error(ssl, r);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
            ERR_clear_error();
            return -1;
        }
        pump(n, 1);
    }
    return (long)got;
}

static int start_tls_srv(struct srv *s, const char *listen, bool verify_client, unsigned hs_ms)
{
    struct net_listener_config lc[] = {{.ep = ep_of(listen),
                                        .tls = {.cert_file = path("srv.crt"),
                                                .key_file = path("srv.key"),
                                                .ca_file = path("ca.crt"),
                                                .verify_client = verify_client}}};
    struct net_config cfg = {.listeners = lc, .n_listeners = 1, .handshake_timeout_ms = hs_ms};
    return srv_start(s, &cfg);
}

static void test_tls_echo(const char *listen)
{
    struct srv s;
    CHECK_INT(start_tls_srv(&s, listen, false, 0), 0);
    if (!s.n)
        return;
    struct pbx_addr la = listener_addr(s.n, 0);
    SSL_CTX *ctx = client_ctx(TLS1_2_VERSION, 0, NULL, NULL);
    int fd = client_socket(SOCK_STREAM, NULL, &la);
    SSL *ssl = tls_connect(s.n, ctx, fd);
    CHECK(ssl != NULL);
    if (ssl) {
        uint8_t buf[2048];
        CHECK_INT(tls_roundtrip(s.n, ssl, test_msg, msg_len, buf, msg_len), (long)msg_len);
        CHECK(memcmp(buf, test_msg, msg_len) == 0);
        CHECK_INT(s.last.transport, PBX_TP_TLS);
        CHECK(!s.last.tls_peer_verified); /* no client certificate presented */
        CHECK(s.last.conn_id != 0);
        /* Keep-alive over TLS. */
        CHECK_INT(tls_roundtrip(s.n, ssl, "\r\n\r\n", 4, buf, 2), 2);
        CHECK(memcmp(buf, "\r\n", 2) == 0);
        /* Byte-split message over TLS. */
        unsigned before = s.msgs;
        for (size_t i = 0; i < msg_len; i += 7) {
            size_t k = msg_len - i < 7 ? msg_len - i : 7;
            CHECK_INT(tls_roundtrip(s.n, ssl, test_msg + i, k, buf, 0), 0);
            pump(s.n, 1);
        }
        CHECK(pump_until(s.n, &s.msgs, before + 1, 2000));
        CHECK_INT(s.last.len, msg_len);
        CHECK_INT(tls_roundtrip(s.n, ssl, NULL, 0, buf, msg_len), (long)msg_len);
        /* A 40 KB body: many TLS records each way, partial writes on the server side. */
        static uint8_t big[48000], back[48000];
        int hdr = snprintf((char *)big, sizeof(big),
                           "MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 40000\r\n\r\n");
        memset(big + hdr, 'z', 40000);
        size_t big_len = (size_t)hdr + 40000;
        CHECK_INT(tls_roundtrip(s.n, ssl, big, big_len, back, big_len), (long)big_len);
        CHECK(memcmp(big, back, big_len) == 0);
        SSL_free(ssl);
    }
    close(fd);
    SSL_CTX_free(ctx);
    net_free(s.n);
}

static void test_tls11_refused(void)
{
    struct srv s;
    CHECK_INT(start_tls_srv(&s, "tls:127.0.0.1:0", false, 0), 0);
    if (!s.n)
        return;
    struct pbx_addr la = listener_addr(s.n, 0);
    SSL_CTX *old = client_ctx(TLS1_1_VERSION, TLS1_1_VERSION, NULL, NULL);
    SSL_CTX *v12 = client_ctx(TLS1_2_VERSION, TLS1_2_VERSION, NULL, NULL);
    int fd = client_socket(SOCK_STREAM, NULL, &la);
    SSL *ssl = tls_connect(s.n, old, fd);
    CHECK(ssl == NULL);
    SSL_free(ssl);
    close(fd);
    /* Control: the same client settings with TLS 1.2 get through. */
    fd = client_socket(SOCK_STREAM, NULL, &la);
    ssl = tls_connect(s.n, v12, fd);
    CHECK(ssl != NULL);
    if (ssl) {
        uint8_t buf[2048];
        CHECK_INT(tls_roundtrip(s.n, ssl, test_msg, msg_len, buf, msg_len), (long)msg_len);
        CHECK_STR(SSL_get_version(ssl), "TLSv1.2");
        /* TLS 1.2 uses an AEAD suite. */
        const char *cipher = SSL_get_cipher_name(ssl);
        CHECK(cipher && (strstr(cipher, "GCM") || strstr(cipher, "CHACHA20")));
        SSL_free(ssl);
    }
    close(fd);
    struct net_stats st;
    net_stats_get(s.n, &st);
    CHECK(st.tls_handshake_failures >= 1);
    SSL_CTX_free(old);
    SSL_CTX_free(v12);
    net_free(s.n);
}

/* With verify_client, only a certificate from the configured CA gets a message through. */
static void test_client_cert(void)
{
    struct srv s;
    CHECK_INT(start_tls_srv(&s, "tls:[::1]:0", true, 0), 0);
    if (!s.n)
        return;
    struct pbx_addr la = listener_addr(s.n, 0);
    struct {
        const char *cert, *key;
        bool ok;
    } cases[] = {
        {NULL, NULL, false},
        {path("rcli.crt"), path("rcli.key"), false},
        {path("cli.crt"), path("cli.key"), true},
    };
    for (size_t i = 0; i < PBX_ARRAY_SIZE(cases); i++) {
        SSL_CTX *ctx = client_ctx(TLS1_2_VERSION, 0, cases[i].cert, cases[i].key);
        int fd = client_socket(SOCK_STREAM, NULL, &la);
        unsigned before = s.msgs;
        SSL *ssl = tls_connect(s.n, ctx, fd);
        long got = -1;
        uint8_t buf[2048];
        /* TLS 1.3 clients finish before the server has checked their certificate, so the
         * verdict shows in whether the message comes back. */
        if (ssl)
            got = tls_roundtrip(s.n, ssl, test_msg, msg_len, buf, msg_len);
        if (cases[i].ok) {
            CHECK_INT(got, (long)msg_len);
            CHECK_INT(s.msgs, before + 1);
            CHECK(s.last.tls_peer_verified);
        } else {
            CHECK(got != (long)msg_len);
            CHECK_INT(s.msgs, before);
        }
        SSL_free(ssl);
        close(fd);
        SSL_CTX_free(ctx);
    }
    net_free(s.n);
}

static void test_handshake_timeout(void)
{
    struct srv s;
    CHECK_INT(start_tls_srv(&s, "tls:127.0.0.1:0", false, 250), 0);
    if (!s.n)
        return;
    struct pbx_addr la = listener_addr(s.n, 0);
    int64_t t0 = clock_mono_ms();
    int silent = client_socket(SOCK_STREAM, NULL, &la);
    CHECK(client_wait_eof(s.n, silent, 3000));
    int64_t dt = clock_mono_ms() - t0;
    CHECK(dt >= 240 && dt < 3000);
    struct net_stats st;
    net_stats_get(s.n, &st);
    CHECK_INT(st.handshake_timeouts, 1);
    /* Control: a client that completes its handshake stays past that deadline. */
    SSL_CTX *ctx = client_ctx(TLS1_2_VERSION, 0, NULL, NULL);
    int fd = client_socket(SOCK_STREAM, NULL, &la);
    SSL *ssl = tls_connect(s.n, ctx, fd);
    CHECK(ssl != NULL);
    int64_t t1 = clock_mono_ms();
    while (clock_mono_ms() - t1 < 400)
        pump(s.n, 10);
    if (ssl) {
        uint8_t buf[2048];
        CHECK_INT(tls_roundtrip(s.n, ssl, test_msg, msg_len, buf, msg_len), (long)msg_len);
        SSL_free(ssl);
    }
    close(fd);
    close(silent);
    SSL_CTX_free(ctx);
    net_free(s.n);
}

/* Two nets on two loops, pumped in turn. */
static void pump2(struct net *a, struct net *b)
{
    pump(a, 0);
    pump(b, 1);
}

static void test_outbound_tls(void)
{
    struct srv up;
    CHECK_INT(start_tls_srv(&up, "tls:127.0.0.1:0", false, 0), 0);
    if (!up.n)
        return;
    struct pbx_addr ua = listener_addr(up.n, 0);
    const char *cas[] = {path("ca.crt"), path("rogue.crt")};
    for (int i = 0; i < 2; i++) {
        struct srv gw;
        struct net_config cfg = {.client_tls = {.ca_file = cas[i]}};
        CHECK_INT(srv_start(&gw, &cfg), 0);
        if (!gw.n)
            continue;
        gw.echo = false;
        unsigned before = up.msgs;
        struct net_dest d = {.transport = PBX_TP_TLS, .addr = ua};
        CHECK_INT(net_send(gw.n, &d, (const uint8_t *)test_msg, msg_len), 0);
        int64_t end = clock_mono_ms() + 3000;
        while (clock_mono_ms() < end && gw.msgs == 0 && gw.closes == 0)
            pump2(gw.n, up.n);
        if (i == 0) {
            /* Trusted upstream: the message arrives and the echo comes back. */
            CHECK_INT(up.msgs, before + 1);
            CHECK_INT(gw.msgs, 1);
            CHECK_INT(gw.last.transport, PBX_TP_TLS);
            CHECK(gw.last.tls_peer_verified);
            CHECK_INT(gw.last.listener_id, NET_ANY_LISTENER);
        } else {
            /* Upstream certificate not from the configured CA: nothing is sent. */
            CHECK_INT(gw.closes, 1);
            CHECK_INT(gw.last_close_reason, -EPROTO);
            for (int k = 0; k < 20; k++)
                pump2(gw.n, up.n);
            CHECK_INT(up.msgs, before);
        }
        net_free(gw.n);
    }
    net_free(up.n);
}

/* Reload: swapping a listener's certificate takes effect for the next handshake. */
static void test_set_tls(void)
{
    struct srv s;
    CHECK_INT(start_tls_srv(&s, "tls:127.0.0.1:0", false, 0), 0);
    if (!s.n)
        return;
    struct pbx_addr la = listener_addr(s.n, 0);
    SSL_CTX *ctx = client_ctx(TLS1_2_VERSION, 0, NULL, NULL); /* trusts ca.crt only */
    int fd = client_socket(SOCK_STREAM, NULL, &la);
    SSL *ssl = tls_connect(s.n, ctx, fd);
    CHECK(ssl != NULL); /* control: the original certificate verifies */
    SSL_free(ssl);
    close(fd);
    struct net_tls_config rogue = {.cert_file = path("rsrv.crt"), .key_file = path("rsrv.key")};
    CHECK_INT(net_listener_set_tls(s.n, 0, &rogue), 0);
    fd = client_socket(SOCK_STREAM, NULL, &la);
    ssl = tls_connect(s.n, ctx, fd);
    CHECK(ssl == NULL);
    SSL_free(ssl);
    close(fd);
    struct net_tls_config broken = {.cert_file = path("srv.crt"), .key_file = path("rsrv.key")};
    CHECK_INT(net_listener_set_tls(s.n, 0, &broken), -EPROTO);
    CHECK_INT(net_listener_set_tls(s.n, 1, &rogue), -ENOENT);
    SSL_CTX_free(ctx);
    net_free(s.n);
}

static void test_bad_material(void)
{
    struct srv s;
    struct net_listener_config lc[] = {
        {.ep = ep_of("tls:127.0.0.1:0"),
         .tls = {.cert_file = path("srv.crt"), .key_file = path("cli.key")}}};
    struct net_config cfg = {.listeners = lc, .n_listeners = 1};
    /* Key does not match the certificate. */
    CHECK_INT(srv_start(&s, &cfg), -EPROTO);
    lc[0].tls.key_file = path("srv.key");
    lc[0].tls.verify_client = true; /* without a CA to verify against */
    CHECK_INT(srv_start(&s, &cfg), -EINVAL);
}

int main(void)
{
    if (!make_pki()) {
        fprintf(stderr, "cannot create test certificates with the openssl command\n");
        return 1;
    }
    test_tls_echo("tls:127.0.0.1:0");
    test_tls_echo("tls:[::1]:0");
    test_tls11_refused();
    test_client_cert();
    test_handshake_timeout();
    test_outbound_tls();
    test_set_tls();
    test_bad_material();
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return test_finish();
}
