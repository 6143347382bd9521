/* Certificates found in the PBX's usual TLS directories under the host root. */
#ifndef PBXGUARD_AUDIT_HOST_TLS_H
#define PBXGUARD_AUDIT_HOST_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct audit_ctx;

struct host_cert {
    char file[1100];
    char subject[128]; /* CN, or the one-line subject */
    int64_t not_after; /* days since the epoch */
    int bits;          /* public key size */
    bool rsa_like;     /* RSA/DSA/DH: size judged against 2048 */
    bool self_signed;  /* issuer == subject and the signature verifies with its own key */
    bool issues_other; /* some other scanned certificate names it as issuer (a CA) */
};

#define HOST_MAX_CERTS 64

/*
 * Scans etc/asterisk/keys, etc/kamailio(/tls), etc/freeswitch/tls, etc/pbxguard/tls and
 * etc/letsencrypt/live/<name> for *.pem, *.crt and *.cert files; fills up to cap
 * certificates and returns the count.
 */
size_t host_certs(const struct audit_ctx *ctx, struct host_cert *v, size_t cap);

#endif
