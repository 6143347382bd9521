/*
 * PRB-TLS-*: TLS on the target (the probe's TLS port when the transport is not TLS):
 * versions 1.0 and 1.1 tried one by one, the negotiated cipher, and the certificate
 * (expiry against the current time, self-signed, key size).
 */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "probe_int.h"

static bool weak_cipher(const char *name)
{
    static const char *const bad[] = {"RC4", "DES", "NULL", "EXP", "MD5", "anon"};
    for (size_t i = 0; i < PBX_ARRAY_SIZE(bad); i++)
        if (strstr(name, bad[i]))
            return true;
    return false;
}

int probe_check_tls(struct probe_ctx *pc, struct audit_report *r)
{
    struct probe_target t = pc->target;
    struct probe_conn *c = calloc(1, sizeof(*c));
    int rc = 0;
    if (!c)
        return -ENOMEM;
    if (pc->conn->transport != PROBE_TLS) {
        unsigned port = pc->o->tls_port ? pc->o->tls_port : 5061;
        if (t.addr.ss_family == AF_INET6)
            ((struct sockaddr_in6 *)&t.addr)->sin6_port = htons((uint16_t)port);
        else
            ((struct sockaddr_in *)&t.addr)->sin_port = htons((uint16_t)port);
        t.port = port;
    }
    if (probe_conn_open(c, &t, PROBE_TLS, 0, 0, 0, pc->timeout_ms) != 0) {
        rc = audit_report_add(r, &prb_tls_005, NULL, 0, "no TLS handshake on %s port %u", t.host,
                              t.port);
        goto out;
    }
    char cipher[128], version[32];
    snprintf(cipher, sizeof(cipher), "%s", SSL_get_cipher_name(c->ssl));
    snprintf(version, sizeof(version), "%s", SSL_get_version(c->ssl));
    X509 *x = SSL_get1_peer_certificate(c->ssl);
    if (x) {
        char cn[128] = "";
        X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
        if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0)
            rc = audit_report_add(r, &prb_tls_002, NULL, 0, "port %u: certificate CN=%s expired",
                                  t.port, cn);
        if (rc == 0 && X509_NAME_cmp(X509_get_subject_name(x), X509_get_issuer_name(x)) == 0)
            rc = audit_report_add(r, &prb_tls_003, NULL, 0,
                                  "port %u: certificate CN=%s is self-signed", t.port, cn);
        EVP_PKEY *pk = X509_get0_pubkey(x);
        int bits = pk ? EVP_PKEY_get_bits(pk) : 0;
        bool rsa = pk && EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA;
        if (rc == 0 && ((rsa && bits < 2048) || weak_cipher(cipher)))
            rc = audit_report_add(r, &prb_tls_004, NULL, 0, "port %u: %s %s, key of %d bits",
                                  t.port, version, cipher, bits);
        X509_free(x);
    }
    probe_conn_close(c);
    if (rc)
        goto out;

    static const struct {
        int ver;
        const char *name;
    } old[] = {{TLS1_VERSION, "TLSv1.0"}, {TLS1_1_VERSION, "TLSv1.1"}};
    char accepted[64] = "";
    for (size_t i = 0; i < PBX_ARRAY_SIZE(old); i++) {
        if (probe_conn_open(c, &t, PROBE_TLS, 0, old[i].ver, old[i].ver, pc->timeout_ms) == 0) {
            size_t off = strlen(accepted);
            snprintf(accepted + off, sizeof(accepted) - off, "%s%s", off ? ", " : "", old[i].name);
            probe_conn_close(c);
        }
    }
    if (accepted[0])
        rc = audit_report_add(r, &prb_tls_001, NULL, 0,
                              "port %u accepts %s (default handshake: %s %s)", t.port, accepted,
                              version, cipher);
    else if (pc->o->log)
        fprintf(pc->o->log, "probe: TLS on port %u: %s %s\n", t.port, version, cipher);
out:
    free(c);
    return rc;
}

const struct audit_check prb_tls_001 = {
    .id = "PRB-TLS-001",
    .severity = AUDIT_SEV_MEDIUM,
    .scope = AUDIT_SCOPE_PROBE,
    .title = "TLS 1.0 or 1.1 accepted",
    .why = "TLS 1.0 and 1.1 are deprecated (RFC 8996) and allow downgrade attacks on SIP "
           "signalling.",
    .fix = "Accept TLS 1.2 and 1.3 only (Asterisk method=tlsv1_2, Kamailio tls_method "
           "TLSv1.2+).",
    .run = NULL,
};

const struct audit_check prb_tls_002 = {
    .id = "PRB-TLS-002",
    .severity = AUDIT_SEV_HIGH,
    .scope = AUDIT_SCOPE_PROBE,
    .title = "TLS certificate expired",
    .why = "Clients either fail or have been configured to ignore certificate errors, which "
           "voids TLS.",
    .fix = "Renew the certificate and automate renewal.",
    .run = NULL,
};

const struct audit_check prb_tls_003 = {
    .id = "PRB-TLS-003",
    .severity = AUDIT_SEV_LOW,
    .scope = AUDIT_SCOPE_PROBE,
    .title = "Self-signed TLS certificate",
    .why = "Phones can only trust it by pinning or by disabling verification.",
    .fix = "Use a certificate from a CA the phones and trunks verify.",
    .run = NULL,
};

const struct audit_check prb_tls_004 = {
    .id = "PRB-TLS-004",
    .severity = AUDIT_SEV_MEDIUM,
    .scope = AUDIT_SCOPE_PROBE,
    .title = "Weak TLS key or cipher",
    .why = "RSA keys under 2048 bits and RC4/DES/NULL/export ciphers are breakable.",
    .fix = "Use RSA 3072 or ECDSA P-256 keys and modern AEAD cipher suites only.",
    .run = NULL,
};

const struct audit_check prb_tls_005 = {
    .id = "PRB-TLS-005",
    .severity = AUDIT_SEV_INFO,
    .scope = AUDIT_SCOPE_PROBE,
    .title = "No SIP over TLS offered",
    .why = "Without TLS, credentials exchanges and call metadata travel in clear text.",
    .fix = "Offer SIP over TLS (5061) for phones and trunks.",
    .run = NULL,
};
