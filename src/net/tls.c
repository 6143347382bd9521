/*
 * OpenSSL 3 contexts for TLS listeners and outbound TLS.
 *
 * Policy (docs/internals/net.md): TLS 1.2 and 1.3 only; TLS 1.2 restricted to ECDHE with
 * AEAD ciphers (AES-GCM, ChaCha20-Poly1305); TLS 1.3 keeps OpenSSL's suites, all AEAD; no
 * compression; no renegotiation; no session tickets (so no long-lived ticket key to rotate
 * or leak). TLS 1.2 session-ID resumption uses a small bounded in-memory cache.
 */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>

#include "net_internal.h"

static const char tls12_ciphers[] = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                                    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                                    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
static const char tls_groups[] = "X25519:P-256:P-384";
static const unsigned char session_id_ctx[] = "pbxguard-sip";

void net_tls_log_errors(const char *what)
{
    unsigned long e;
    char buf[256];
    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        fprintf(stderr, "pbxguard: net: %s: %s\n", what, buf);
    }
}

static int apply_policy(SSL_CTX *ctx)
{
    if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION))
        return -EPROTO;
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_TICKET);
    if (!SSL_CTX_set_cipher_list(ctx, tls12_ciphers))
        return -EPROTO;
    if (!SSL_CTX_set1_groups_list(ctx, tls_groups))
        return -EPROTO;
    /* TLS 1.3 would otherwise send tickets even with SSL_OP_NO_TICKET (stateful ones). */
    SSL_CTX_set_num_tickets(ctx, 0);
    /* Writes may complete partially and be retried from a moved buffer (write queues). */
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    return 0;
}

int net_tls_server_ctx(const struct net_tls_config *cfg, SSL_CTX **out)
{
    int rc = -EPROTO;
    if (!cfg->cert_file || !cfg->key_file || (cfg->verify_client && !cfg->ca_file))
        return -EINVAL;
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx)
        return -ENOMEM;
    if ((rc = apply_policy(ctx)) < 0)
        goto out;
    rc = -EPROTO;
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, cfg->key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1)
        goto out;
    SSL_CTX_set_session_id_context(ctx, session_id_ctx, sizeof(session_id_ctx) - 1);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(ctx, 1024);
    if (cfg->ca_file) {
        if (SSL_CTX_load_verify_locations(ctx, cfg->ca_file, NULL) != 1)
            goto out;
        if (cfg->verify_client) {
            STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(cfg->ca_file);
            if (names)
                SSL_CTX_set_client_CA_list(ctx, names);
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
            SSL_CTX_set_verify_depth(ctx, 8);
        }
    }
    *out = ctx;
    return 0;
out:
    net_tls_log_errors("TLS server setup");
    SSL_CTX_free(ctx);
    return rc;
}

int net_tls_client_ctx(const struct net_tls_config *cfg, SSL_CTX **out)
{
    int rc = -EPROTO;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
        return -ENOMEM;
    if ((rc = apply_policy(ctx)) < 0)
        goto out;
    rc = -EPROTO;
    if (cfg->ca_file) {
        if (SSL_CTX_load_verify_locations(ctx, cfg->ca_file, NULL) != 1)
            goto out;
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        goto out;
    }
    if (cfg->cert_file || cfg->key_file) {
        if (!cfg->cert_file || !cfg->key_file ||
            SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, cfg->key_file, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1)
            goto out;
    }
    /* Upstreams are always verified; the IP address is checked per connection. */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    *out = ctx;
    return 0;
out:
    net_tls_log_errors("TLS client setup");
    SSL_CTX_free(ctx);
    return rc;
}
