/* Test-time certificate generation (OpenSSL 3) for the HOST-TLS checks. */
#ifndef PBXGUARD_TEST_AUDIT_CERTS_H
#define PBXGUARD_TEST_AUDIT_CERTS_H

#include <stdbool.h>

/*
 * Writes a PEM certificate for cn to path with an RSA key of bits, valid between the
 * ASN.1 times not_before and not_after ("YYYYMMDDHHMMSSZ"). When ca_cert/ca_key (PEM
 * paths) are NULL the certificate is self-signed; key_out (may be NULL) receives the key.
 * Returns 0 on success.
 */
int test_make_cert(const char *path, const char *key_out, const char *cn, int bits,
                   const char *not_before, const char *not_after, const char *ca_cert,
                   const char *ca_key);

#endif
